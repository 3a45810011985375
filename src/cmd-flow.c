/*
 * cmd-flow.c - `golive flow PLAN [WORKFLOW...]`: can every migrated record
 * go on in the new system's workflow?  And `golive flow trace`: one record.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cmd.h"
#include "golive/flow.h"
#include "util/buf.h"

static const struct gl_workflow *find_wf(const struct gl_plan *p,
                                         const char *name)
{
    size_t i;

    for (i = 0; i < p->n_workflows; i++)
        if (!strcmp(p->workflows[i].name.id, name))
            return &p->workflows[i];
    return NULL;
}

static json_t *report_json(const struct gl_plan *p,
                           const struct gl_flow_report *r)
{
    json_t *o = json_object(), *probs = json_array(), *states = json_object();
    size_t i, k;

    for (i = 0; i < r->nstates; i++)
        json_object_set_new(states, r->states[i] ? r->states[i] : "NULL",
                            json_integer(r->state_counts[i]));
    for (i = 0; i < r->n; i++) {
        const struct gl_flow_problem *x = &r->v[i];
        json_t *s = json_array();
        for (k = 0; k < x->nsamples; k++)
            json_array_append_new(s, json_string(x->samples[k]));
        json_array_append_new(
            probs,
            json_pack("{s:s, s:s, s:s?, s:I, s:o, s:s?, s:s, s:i, s:i, s:s}",
                      "kind", x->kind, "state", x->state, "detail",
                      x->detail[0] ? x->detail : NULL, "count",
                      (json_int_t)x->count, "samples", s, "sql", x->sql, "file",
                      p->file, "line", x->pos.line, "col", x->pos.col,
                      "message", x->message));
    }
    json_object_set_new(o, "workflow", json_string(r->workflow));
    json_object_set_new(o, "records", json_integer(r->records));
    json_object_set_new(o, "states", states);
    json_object_set_new(o, "problems", probs);
    return o;
}

static void record(const struct gl_plan *plan, const char *state,
                   const char *as, json_t *all)
{
    struct gl_actor who;
    struct gl_err err;
    gl_store *store = NULL;
    struct stat sb;
    json_t *summary = json_array(), *w;
    size_t i, k;
    char *payload;

    if (stat(state, &sb) != 0) {
        fprintf(stderr,
                "golive: no run at '%s': this check is not recorded "
                "('golive run start PLAN' starts one)\n",
                state);
        json_decref(summary);
        return;
    }
    gl_err_clear(&err);
    /* the event keeps counts, not the sample keys */
    json_array_foreach(all, i, w)
    {
        json_t *probs = json_array(), *x;
        json_array_foreach(json_object_get(w, "problems"), k, x)
            json_array_append_new(
                probs, json_pack("{s:O, s:O, s:O, s:O}", "kind",
                                 json_object_get(x, "kind"), "state",
                                 json_object_get(x, "state"), "detail",
                                 json_object_get(x, "detail"), "count",
                                 json_object_get(x, "count")));
        json_array_append_new(summary, json_pack("{s:O, s:O, s:o}", "workflow",
                                                 json_object_get(w, "workflow"),
                                                 "records",
                                                 json_object_get(w, "records"),
                                                 "problems", probs));
    }
    {
        json_t *o = json_pack("{s:o}", "workflows", summary);
        payload = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(o);
    }
    if (cli_actor(as, plan, &who, &err) ||
        cli_store_open(state, 0, &store, &err) ||
        gl_store_append(store, &who, "flow.check", payload ? payload : "{}",
                        &err))
        cli_warn("flow check not recorded: %s", err.msg);
    gl_store_close(store);
    free(payload);
}

/* A workflow's flow check, for people: each problem at its place in the
 * plan, with sample keys and the SQL that lists them all. */
static void print_report(const struct gl_plan *plan,
                         const struct gl_workflow *w,
                         const struct gl_flow_report *r)
{
    size_t p, s;

    printf("workflow %s: %lld record%s in %zu state%s, %zu "
           "problem%s\n",
           w->name.id, (long long)r->records, cli_s(r->records), r->nstates,
           cli_s((long long)r->nstates), r->n, cli_s((long long)r->n));
    for (p = 0; p < r->n; p++) {
        const struct gl_flow_problem *x = &r->v[p];
        printf("%s:%d:%d: %s: %s\n", plan->file, x->pos.line, x->pos.col,
               x->kind, x->message);
        if (x->nsamples) {
            printf("  sample keys:");
            for (s = 0; s < x->nsamples; s++)
                printf(" %s", x->samples[s]);
            printf("\n");
        }
        if (x->sql)
            printf("  all of them: %s\n", x->sql);
    }
}

static int check(int argc, char **argv, int json, int samples,
                 const char *state_opt, const char *as)
{
    struct gl_plan *plan = NULL;
    const char *plan_path = argv[0];
    json_t *all = json_array();
    char state[4096];
    int rc, any = 0, failed = 0, i;
    size_t k;

    if ((rc = cli_load_plan(plan_path, 0, 1, &plan))) {
        if (rc == EXIT_NO)
            cli_error("plan '%s' has errors; 'golive validate' shows them",
                      plan_path);
        gl_plan_free(plan);
        json_decref(all);
        return rc;
    }
    for (i = 1; i < argc; i++)
        if (!find_wf(plan, argv[i])) {
            rc = cli_usage("flow", "no workflow '%s' in the plan", argv[i]);
            goto out;
        }
    for (k = 0; k < plan->n_workflows; k++) {
        const struct gl_workflow *w = &plan->workflows[k];
        struct gl_flow_report r;
        struct gl_err err;
        int pick = argc == 1;

        for (i = 1; i < argc; i++)
            pick |= !strcmp(argv[i], w->name.id);
        if (!pick)
            continue;
        if (argc == 1 && !w->table.table)
            continue; /* unbound workflows are only checked when named */
        gl_err_clear(&err);
        if (gl_flow_check(plan, w, samples, &r, &err)) {
            cli_error("workflow '%s': %s", w->name.id, err.msg);
            failed = cli_exit_code(err.code);
            gl_flow_report_release(&r);
            continue;
        }
        any += (int)r.n;
        json_array_append_new(all, report_json(plan, &r));
        if (!json)
            print_report(plan, w, &r);
        gl_flow_report_release(&r);
    }
    if (json) {
        json_t *o = json_pack("{s:O}", "workflows", all);
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s ? s : "{}");
        free(s);
        json_decref(o);
    }
    cli_state_path(state_opt, plan_path, state, sizeof(state));
    record(plan, state, as, all);
    rc = failed ? failed : any ? EXIT_NO : EXIT_OK;
out:
    json_decref(all);
    gl_plan_free(plan);
    return rc;
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s ? s : "";
}

/* A record's state in words: whether it can go on. */
static const char *state_words(json_t *j)
{
    json_t *v;
    size_t n;

    if (!json_is_true(json_object_get(j, "known")))
        return " (not a state of the workflow)";
    if (json_is_true(json_object_get(j, "terminal")))
        return " (terminal)";
    json_array_foreach(
        json_object_get(j, "ways_out"), n,
        v) if (json_is_true(json_object_get(v, "leads_to_end"))) return "";
    return " (a dead end)";
}

/* One way out of the record's state: open, or what blocks it. */
static void print_way_out(json_t *v)
{
    json_t *b = json_object_get(v, "blocked_by"), *x;
    const char *act = json_string_value(json_object_get(v, "action"));
    size_t m;

    printf("  %s -> %s: ", act ? act : "(no action)", jstr(v, "to"));
    if (!json_array_size(b))
        fputs("open", stdout);
    else {
        fputs("blocked, lacks", stdout);
        json_array_foreach(b, m, x) printf(" %s", json_string_value(x));
    }
    putchar('\n');
}

/* gl_flow_trace's record, for people. */
static void print_trace(json_t *j)
{
    json_t *arr, *v, *x;
    size_t n, m;

    printf("%s %s: state '%s'%s\n", jstr(j, "workflow"), jstr(j, "key"),
           jstr(j, "state"), state_words(j));
    arr = json_object_get(j, "missing");
    if (json_array_size(arr)) {
        fputs("lacks, though its state requires:", stdout);
        json_array_foreach(arr, n, v) printf(" %s", json_string_value(v));
        putchar('\n');
    }
    arr = json_object_get(j, "ways_out");
    fputs(json_array_size(arr) ? "ways out:\n" : "no way out\n", stdout);
    json_array_foreach(arr, n, v) print_way_out(v);
    arr = json_object_get(j, "paths");
    fputs(json_array_size(arr) ? "paths to a terminal state:\n"
                               : "no path to a terminal state\n",
          stdout);
    json_array_foreach(arr, n, v)
    {
        fputs(" ", stdout);
        json_array_foreach(v, m, x)
            printf("%s %s", m ? " ->" : "", json_string_value(x));
        putchar('\n');
    }
}

static int trace(int argc, char **argv, int json)
{
    struct gl_plan *plan = NULL;
    const struct gl_workflow *w;
    json_t *out = NULL;
    struct gl_err err;
    int rc;

    if (argc != 4)
        return cli_usage("flow", "flow trace takes PLAN WORKFLOW KEY");
    if ((rc = cli_load_plan(argv[1], 0, 1, &plan))) {
        gl_plan_free(plan);
        return rc;
    }
    if (!(w = find_wf(plan, argv[2]))) {
        rc = cli_usage("flow", "no workflow '%s' in the plan", argv[2]);
        gl_plan_free(plan);
        return rc;
    }
    gl_err_clear(&err);
    rc = gl_flow_trace(plan, w, argv[3], &out, &err);
    if (rc)
        rc = cli_fail(&err);
    else if (json) {
        char *s = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s ? s : "{}");
        free(s);
    } else {
        print_trace(out);
    }
    json_decref(out);
    gl_plan_free(plan);
    return rc;
}

static int run(int argc, char **argv)
{
    const char *state = NULL, *as = NULL;
    int json = 0, samples = 5, rc;
    struct po_option opts[] = {
        OPT_INT("samples", 0, &samples, 0, 1000, "N",
                "sample keys per problem (default 5)"),
        OPT_JSON(&json, "one JSON object with every workflow's problems"),
        OPT_STATE(&state),
        OPT_AS(&as),
        OPT_ARGS(1, -1, "a plan file"),
    };

    if ((rc = cli_parse(&cmd_flow, opts, argc, argv)) >= 0)
        return rc;
    if (!strcmp(argv[optind], "trace"))
        return trace(argc - optind, argv + optind, json);
    return check(argc - optind, argv + optind, json, samples, state, as);
}

const struct gl_cmd cmd_flow = {
    "flow",
    "can every migrated record go on in the new system's workflow?",
    "usage: golive flow PLAN [WORKFLOW...] [--samples N] [--json]\n"
    "                   [--state FILE] [--as PERSON]\n"
    "       golive flow trace PLAN WORKFLOW KEY [--json]\n"
    "\n"
    "Check the migrated records of each workflow bound to a table\n"
    "('table', 'key', 'state_column') in the new system, with GROUP BY and\n"
    "filtered counts only: values that are no state of the workflow;\n"
    "records in a state with no way to a terminal state; records lacking a\n"
    "field their state requires, or that every way out of it requires;\n"
    "rejected records with no way back to an editable state, or lacking\n"
    "the rejection data their state requires; and entries of the sync\n"
    "job's value map that send records into any of these.  Each problem\n"
    "comes with its count, sample keys and the SQL that lists them all.\n"
    "The check is recorded in the run when the state store exists.\n"
    "\n"
    "'flow trace' shows one record: its state, what it lacks, each way out\n"
    "and what blocks it, and the paths to a terminal state.  KEY is the\n"
    "key value (comma-separated for a composite key).\n"
    "\n",
    "exit: 0 no problem, 1 problems found, 2 usage or connection error\n",
    run,
};
