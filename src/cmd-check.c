/*
 * cmd-check.c - `golive check PLAN [CHECK...]`: run the plan's checks,
 * print a summary, record each result into the run.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cmd.h"
#include "golive/check.h"
#include "util/suggest.h"

/* What one `golive check` holds. */
struct checking {
    struct gl_plan *plan;
    gl_store *store; /* the run's (NULL: not recorded) */
    struct gl_actor who;
    char plan_sha[65]; /* --plan-changed: the file's SHA-256 */
    json_t *all;
    int json, samples, jobs, failed, errors;
};

/* The run's store, when there is one, to record each result in. */
static int open_record(struct checking *C, const char *plan_path,
                       const char *state_opt, const char *as, int plan_changed)
{
    char state[4096];
    struct gl_err err;
    struct stat sb;
    int rc;

    gl_err_clear(&err);
    cli_state_path(state_opt, plan_path, state, sizeof(state));
    if ((rc =
             cli_plan_matches_run(plan_path, state, plan_changed, C->plan_sha)))
        return rc;
    if (stat(state, &sb) == 0) {
        if (cli_actor(as, C->plan, &C->who, &err) ||
            cli_store_open(state, 0, &C->store, &err))
            return cli_fail(&err);
    } else {
        fprintf(stderr,
                "golive: no run at '%s': these results are not "
                "recorded ('golive run start PLAN' starts one)\n",
                state);
    }
    return EXIT_OK;
}

/* Run one check, record its result, print it (or keep it for JSON). */
static void check_one(struct checking *C, const struct gl_check *ck)
{
    struct gl_check_record rec = {C->samples, C->jobs, C->store, &C->who,
                                  C->plan_sha};
    struct gl_check_result r;
    struct gl_err err, unrecorded;
    const char *msg;
    json_t *j;
    size_t s;
    int bad;

    gl_err_clear(&err);
    bad = gl_check_run_recorded(C->plan, ck, &rec, &r, &j, &err, &unrecorded) !=
          GL_OK;
    msg = bad ? err.msg : r.message;
    C->errors += bad;
    C->failed += !bad && !r.passed;
    if (unrecorded.code)
        cli_warn("check '%s' not recorded: %s", ck->id.id, unrecorded.msg);
    if (C->json) {
        json_array_append_new(C->all, j);
    } else {
        printf("%-22s %-9s %-7s %s\n", r.id, r.type,
               bad        ? "error"
               : r.passed ? "passed"
                          : "FAILED",
               msg);
        for (s = 0; s < r.nsamples; s++)
            printf("%-22s %-9s %-7s   %s\n", "", "", "", r.samples[s]);
        json_decref(j);
    }
    gl_check_result_release(&r);
}

/* Every check named is in the plan. */
static int known_checks(struct checking *C, int argc, char **argv)
{
    size_t k;
    int i;

    for (i = 0; i < argc; i++) {
        for (k = 0; k < C->plan->n_checks; k++)
            if (!strcmp(C->plan->checks[k].id.id, argv[i]))
                break;
        if (k == C->plan->n_checks)
            return cli_usage("check", "no check '%s' in the plan", argv[i]);
    }
    return EXIT_OK;
}

/* The checks named (all when none is), in plan order. */
static int run_checks(struct checking *C, int argc, char **argv)
{
    size_t k;
    int i;

    if (!C->json)
        printf("%-22s %-9s %-7s %s\n", "check", "type", "outcome", "detail");
    for (k = 0; k < C->plan->n_checks; k++) {
        int pick = argc == 0;
        for (i = 0; i < argc; i++)
            pick |= !strcmp(argv[i], C->plan->checks[k].id.id);
        if (pick)
            check_one(C, &C->plan->checks[k]);
    }
    if (C->json) {
        json_t *o = json_pack("{s:O}", "checks", C->all);
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s ? s : "{}");
        free(s);
        json_decref(o);
    }
    return C->errors ? EXIT_ERROR : C->failed ? EXIT_NO : EXIT_OK;
}

/* After the options: PLAN [CHECK...]. */
static int check_plan(int argc, char **argv, const char *state_opt,
                      const char *as, int json, int samples, int jobs,
                      int plan_changed)
{
    struct checking C;
    const char *plan_path = argv[0];
    int rc;

    memset(&C, 0, sizeof(C));
    C.json = json;
    C.samples = samples;
    C.jobs = jobs;
    if (!strcmp(plan_path, CLI_RUN_PLAN) && state_opt)
        setenv("GOLIVE_STATE", state_opt, 1); /* @run: the run in --state */
    C.all = json_array();
    if ((rc = cli_load_plan(plan_path, 0, 1, &C.plan))) {
        if (rc == EXIT_NO)
            cli_error("plan '%s' has errors; 'golive validate' shows them",
                      plan_path);
        goto out;
    }
    if (!(rc = known_checks(&C, argc - 1, argv + 1)) &&
        !(rc = open_record(&C, plan_path, state_opt, as, plan_changed)))
        rc = run_checks(&C, argc - 1, argv + 1);
out:
    gl_store_close(C.store);
    json_decref(C.all);
    gl_plan_free(C.plan);
    return rc;
}

static int run(int argc, char **argv)
{
    const char *state_opt = NULL, *as = NULL;
    int json = 0, samples = 5, jobs = 0, rc;
    int plan_changed = 0;
    struct po_option opts[] = {
        OPT_INT("samples", 0, &samples, 0, 1000, "N",
                "keys of differing rows shown per check (default 5)"),
        OPT_INT("jobs", 0, &jobs, 1, 64, "N",
                "a diff check: cut the key range into N segments compared at "
                "once (default 1; with more, which differing rows are shown "
                "as samples may vary from run to run)"),
        OPT_JSON(&json, "{\"checks\": [{check, type, outcome, source, "
                        "target, missing, extra, changed, message, samples, "
                        "seconds}]}"),
        OPT_STATE(&state_opt),
        OPT_AS(&as),
        OPT_PLAN_CHANGED(&plan_changed),
        OPT_ARGS(1, -1, "a plan file"),
    };

    if ((rc = cli_parse(&cmd_check, opts, argc, argv)) >= 0)
        return rc;
    return check_plan(argc - optind, argv + optind, state_opt, as, json,
                      samples, jobs, plan_changed);
}

const struct gl_cmd cmd_check = {
    "check",
    "run the plan's checks: counts, aggregates, row diffs, SQL",
    "usage: golive check PLAN [CHECK...] [--samples N] [--jobs N] [--json]\n"
    "                    [--state FILE] [--as PERSON] [--plan-changed]\n"
    "\n" CLI_HELP_RUN_PLAN "\n"
    "Run the plan's checks (all, or those named): count compares the\n"
    "source's rows (the check's where, by default the job's) with the\n"
    "target's within a tolerance and names the rows that differ;\n"
    "aggregate compares sums, minimums, maximums, NULL counts and distinct\n"
    "counts pushed down to each database; diff compares the job's tables\n"
    "row by row with its mapping applied to the source; sql compares a\n"
    "query's value with 'expect' or with the same query elsewhere.  Each\n"
    "result is recorded in the run when the state store exists.\n"
    "\n",
    "exit: 0 every check passed, 1 a check failed, 2 a check could not run,\n"
    "      3 refused (the plan file is not the run's)\n",
    run,
};
