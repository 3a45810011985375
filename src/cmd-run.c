/*
 * cmd-run.c - `golive run start PLAN`: create the run in a state store;
 * `golive run amend PLAN`: take a new version of the plan into it.
 */
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "golive/amend.h"
#include "cmd.h"
#include "util/buf.h"

int cli_run_start(const char *plan_path, const char *state, int rehearsal,
                  const char *as, int json)
{
    struct gl_plan *plan = NULL;
    struct gl_buf text = GL_BUF_INIT;
    struct gl_run_info info;
    struct gl_actor who;
    struct gl_err err;
    gl_store *s = NULL;
    char abs[PATH_MAX];
    int rc;

    memset(&info, 0, sizeof(info));
    gl_err_clear(&err);
    /* the plan must validate (warnings allowed) before a run may start */
    rc = cli_load_plan(plan_path, 0, 2, &plan);
    if (rc == EXIT_NO)
        cli_error("plan '%s' has errors; fix them before starting a run",
                  plan_path);
    if (rc)
        goto out;
    if (cli_actor(as, plan, &who, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    /* the text the run keeps is the exact bytes that were validated */
    if (gl_buf_read_file(&text, plan_path, 0)) {
        cli_error("cannot read plan '%s'", plan_path);
        rc = EXIT_ERROR;
        goto out;
    }
    if (!realpath(plan_path, abs))
        snprintf(abs, sizeof(abs), "%s", plan_path);
    if ((rc = cli_store_open(state, GL_STORE_CREATE, &s, &err)) ||
        (rc = gl_run_start(s, plan, gl_buf_str(&text), text.len, abs, rehearsal,
                           &who, &info, &err))) {
        rc = cli_fail(&err);
        goto out;
    }
    if (json) {
        json_t *j =
            json_pack("{s:s, s:s, s:b, s:s, s:s, s:i, s:I, s:s}", "run_id",
                      info.run_id, "cutover", info.cutover, "rehearsal",
                      info.rehearsal, "state", state, "plan_sha256",
                      info.plan_sha256, "plan_version", info.plan_version,
                      "tasks", (json_int_t)plan->n_tasks, "actor", who.person);
        char *out = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
        printf("%s\n", out ? out : "{}");
        free(out);
        json_decref(j);
    } else {
        printf("started %s run %s of '%s' in %s\n",
               info.rehearsal ? "rehearsal" : "live", info.run_id, info.cutover,
               state);
        printf("plan %s (sha256 %.16s…), %zu task%s, as %s\n", plan_path,
               info.plan_sha256, plan->n_tasks, cli_s((long long)plan->n_tasks),
               who.person);
    }
    rc = EXIT_OK;
out:
    gl_run_info_release(&info);
    gl_store_close(s);
    gl_buf_release(&text);
    gl_plan_free(plan);
    return rc;
}

/* run start PLAN */
static int run_start(const char *plan, const struct cli_opts *op, int rehearsal)
{
    char path[4096];

    return cli_run_start(plan,
                         cli_state_path(op->state, plan, path, sizeof(path)),
                         rehearsal, op->as, op->json);
}

/* Print the difference of an amendment, one line per change. */
static void print_diff(json_t *d)
{
    json_t *lines = gl_amend_lines(d), *x;
    size_t i;

    if (!lines)
        cli_error("out of memory");
    json_array_foreach(lines, i, x) printf("  %s\n", json_string_value(x));
    json_decref(lines);
}

/* run amend PLAN */
static int run_amend(const char *plan, const struct cli_opts *op)
{
    struct gl_buf text = GL_BUF_INIT;
    struct gl_plan *next = NULL;
    struct cli_run r;
    struct gl_err err;
    char abs[PATH_MAX];
    json_t *diff = NULL;
    int rc, version = 0;

    memset(&r, 0, sizeof(r));
    rc = cli_load_plan(plan, 0, 2, &next);
    if (rc == EXIT_NO)
        cli_error("plan '%s' has errors; fix them before taking it into the "
                  "run",
                  plan);
    if (rc)
        goto out;
    if (gl_buf_read_file(&text, plan, 0)) {
        cli_error("cannot read plan '%s'", plan);
        rc = EXIT_ERROR;
        goto out;
    }
    if (!realpath(plan, abs))
        snprintf(abs, sizeof(abs), "%s", plan);
    if ((rc = cli_run_open(&r, op->state, plan, op->as, 1)))
        goto out;
    gl_err_clear(&err);
    if (gl_run_amend(r.s, r.plan, next, gl_buf_str(&text), text.len, abs,
                     &r.who, &diff, &version, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (op->json) {
        cli_print_json(json_pack("{s:i, s:s, s:O}", "plan_version", version,
                                 "as", r.who.person, "diff", diff),
                       1);
    } else {
        printf("plan version %d taken into the run (%s)\n", version,
               r.who.person);
        print_diff(diff);
    }
out:
    json_decref(diff);
    cli_run_close(&r);
    gl_buf_release(&text);
    gl_plan_free(next);
    return rc;
}

static int run(int argc, char **argv)
{
    struct cli_opts op;
    int rehearsal = 0, rc;
    static const struct po_sub subs[] = {{"start", 1, 1, "one plan file"},
                                         {"amend", 1, 1, "one plan file"},
                                         {NULL, 0, 0, NULL}};
    struct po_option opts[] = {
        OPT_FLAG("rehearsal", 0, &rehearsal,
                 "start: mark the run as a rehearsal, not the live night"),
        OPT_AS(&op.as),
        OPT_STATE(&op.state),
        OPT_JSON(&op.json, "print the new run, or the amendment, as JSON"),
        OPT_SUBCOMMANDS(subs),
    };

    memset(&op, 0, sizeof(op));
    if ((rc = cli_parse(&cmd_run, opts, argc, argv)) >= 0)
        return rc;
    if (!strcmp(argv[optind], "start"))
        return run_start(argv[optind + 1], &op, rehearsal);
    if (rehearsal)
        return cli_usage("run", "--rehearsal goes with 'run start'");
    return run_amend(argv[optind + 1], &op);
}

const struct gl_cmd cmd_run = {
    "run",
    "start a run of a plan; take a new version of the plan into it",
    "usage: golive run start PLAN [--rehearsal] [--state FILE] [--as PERSON]"
    " [--json]\n"
    "       golive run amend PLAN --as LEAD [--state FILE] [--json]\n"
    "\n"
    "Validate the plan, then create its run in the state store: the plan's\n"
    "text and SHA-256, every task (pending) and a 'run.start' event, in one\n"
    "transaction.  One store holds one run; a rehearsal is another file.\n"
    "\n"
    "'amend' (the lead) takes a new version of the plan into the run when\n"
    "the night changes: new tasks come in pending, dropped pending ones go,\n"
    "owners and times follow the plan.  It refuses a plan that contradicts\n"
    "what already happened (another cutover, a moved switch: that is\n"
    "'golive shift'; a started task or a scenario with a result left out; a\n"
    "started task depending on one not checked; a person who acted left\n"
    "out), naming each contradiction.  It prints what changed, one line\n"
    "each: ids added or removed, the fields of each task, scenario or\n"
    "person that changed, and every other section of the plan whose text\n"
    "changed (comments and blank lines aside).  The 'run.amend' event\n"
    "holds the difference; the report lists it per amendment.\n"
    "\n",
    "exit: 0 started / taken, 1 the plan has errors, 2 usage or I/O error,\n"
    "      3 refused (the store already holds a run, an unknown person, not\n"
    "      the lead, or a contradiction)\n",
    run,
};
