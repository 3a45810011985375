/*
 * cmd-scenario.c - `golive scenario samples ID`: legacy records to verify a
 * scenario with.  (The rest of the scenario commands come with the
 * runbook.)
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "cmd.h"
#include "golive/flow.h"
#include "golive/scenario.h"
#include "util/buf.h"
#include "util/clock.h"

/* The plan: --plan, else the run's own copy (kept open in r). */
static struct gl_plan *plan_of(const char *plan_path, const char *state_opt,
                               struct cli_run *r, int *rc)
{
    struct gl_plan *plan = NULL;

    if (plan_path) {
        *rc = cli_load_plan(plan_path, 0, 1, &plan);
        return plan;
    }
    *rc = cli_run_open(r, state_opt, NULL, NULL, 0);
    return *rc ? NULL : r->plan;
}

/* gl_flow_samples's records: JSON, or a table for people. */
static void print_samples(json_t *o, int json)
{
    json_t *e;
    size_t x;

    if (json) {
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s ? s : "{}");
        free(s);
        return;
    }
    printf("%-10s %-8s %-10s %-18s %s\n", "old key", "old", "new key",
           "new state", "flag");
    json_array_foreach(json_object_get(o, "samples"), x, e)
    {
        const char *ns = json_string_value(json_object_get(e, "new_state"));
        const char *why = json_string_value(json_object_get(e, "why"));
        printf("%-10s %-8s %-10s %-18s %s\n",
               json_string_value(json_object_get(e, "old_key")),
               json_string_value(json_object_get(e, "old_state")),
               json_string_value(json_object_get(e, "new_key")), ns ? ns : "-",
               why ? why : "");
    }
}

static int samples(int argc, char **argv, const char *plan_path,
                   const char *state, int limit, int json)
{
    struct gl_plan *plan;
    json_t *out = NULL;
    struct cli_run r;
    struct gl_err err;
    size_t i;
    int rc;

    (void)argc; /* 2: counted by cli_parse */
    memset(&r, 0, sizeof(r));
    plan = plan_of(plan_path, state, &r, &rc);
    if (!plan || rc) {
        if (plan != r.plan)
            gl_plan_free(plan);
        cli_run_close(&r);
        return rc ? rc : EXIT_ERROR;
    }
    for (i = 0; i < plan->n_scenarios; i++)
        if (!strcmp(plan->scenarios[i].id.id, argv[1]))
            break;
    if (i == plan->n_scenarios) {
        if (plan != r.plan)
            gl_plan_free(plan);
        cli_run_close(&r);
        return cli_usage("scenario", "no scenario '%s' in the plan", argv[1]);
    }
    gl_err_clear(&err);
    rc = gl_flow_samples(plan, &plan->scenarios[i], limit, &out, &err);
    if (rc)
        rc = cli_fail(&err);
    else
        print_samples(out, json);
    json_decref(out);
    if (plan != r.plan)
        gl_plan_free(plan);
    cli_run_close(&r);
    return rc;
}

/* `scenario progress`: the library's JSON text js as it is, or per
 * tester and per area for people. */
static void print_progress(const char *js, int json)
{
    static const char *const states[] = {"pending", "running", "passed",
                                         "failed",  "blocked", NULL};
    static const char *const groups[] = {"testers", "areas", NULL};
    json_t *o, *m, *e;
    const char *k;
    size_t gi, si;

    if (json) {
        printf("%s\n", js);
        return;
    }
    o = json_loads(js, 0, NULL);
    for (gi = 0; groups[gi]; gi++) {
        printf("%s%s\n", gi ? "\n" : "", gi ? "by area:" : "by tester:");
        m = json_object_get(o, groups[gi]);
        if (!json_object_size(m))
            printf("  none\n");
        json_object_foreach(m, k, e)
        {
            int any = 0;
            printf("  %-12s", k);
            for (si = 0; states[si]; si++) {
                json_t *c = json_object_get(e, states[si]);
                if (!c)
                    continue;
                printf("%s%" JSON_INTEGER_FORMAT " %s", any++ ? ", " : "",
                       json_integer_value(c), states[si]);
            }
            printf("\n");
        }
    }
    json_decref(o);
}

/* progress: the scenario counts by tester and by area. */
static int progress(struct cli_run *r, int json)
{
    struct gl_err err;
    char *js;

    gl_err_clear(&err);
    if (!(js = gl_scenario_progress(r->s, r->plan, &err)))
        return cli_fail(&err);
    print_progress(js, json);
    free(js);
    return EXIT_OK;
}

/* next / pass / fail / block / progress: on the run, as a person. */
static int on_run(int argc, char **argv, const char *state_opt, const char *as,
                  const char *note, int json)
{
    const char *sub = argv[0];
    struct cli_run r;
    struct gl_err err;
    char id[256];
    int rc = EXIT_OK;

    (void)argc; /* counted by cli_parse */
    gl_err_clear(&err);
    if ((rc = cli_run_open(&r, state_opt, NULL, as,
                           strcmp(sub, "progress") != 0)))
        goto out;
    if (!strcmp(sub, "progress")) {
        rc = progress(&r, json);
        goto out;
    }
    if (!strcmp(sub, "next")) {
        int64_t since;
        char at[40];
        if (gl_scenario_next(r.s, r.plan, &r.who, id, sizeof(id), &since,
                             &err)) {
            rc = err.code == GL_ENOTFOUND ? EXIT_NO : cli_fail(&err);
            if (err.code == GL_ENOTFOUND)
                printf("%s\n", err.msg);
            goto out;
        }
        gl_time_format(since, r.plan->switch_offset, at);
        if (json)
            printf("{\"scenario\":\"%s\",\"tester\":\"%s\"}\n", id,
                   r.who.person);
        else if (since)
            printf("%s: already yours since %.5s; record its result first\n",
                   id, at + 11);
        else
            printf("%s: yours, %s\n", id, r.who.person);
    } else {
        const char *result = !strcmp(sub, "pass")   ? "passed"
                             : !strcmp(sub, "fail") ? "failed"
                                                    : "blocked";
        if (gl_scenario_result(r.s, r.plan, &r.who, argv[1], result, note,
                               &err)) {
            rc = cli_fail(&err);
            goto out;
        }
        printf("%s: %s (%s)\n", argv[1], result, r.who.person);
    }
out:
    cli_run_close(&r);
    return rc;
}

/* next / pass / fail / block through a server: POST /scenarios/..., the
 * same lines as on the store. */
static int on_server(const char *server, int argc, char **argv, const char *as,
                     const char *note, int json)
{
    const char *sub = argv[0];
    json_t *body = json_object(), *o = NULL;
    char path[600], esc[400];
    struct client c;
    int rc;

    (void)argc; /* counted by cli_parse */
    if ((rc = client_open(&c, server, strcmp(sub, "progress") ? as : NULL)))
        goto out;
    if (!strcmp(sub, "progress")) {
        /* the library's text: indented, keys sorted */
        char *js;
        if ((rc = client_call(&c, "GET", "/scenarios?view=progress", NULL, &o)))
            goto out;
        js = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
        print_progress(js ? js : "{}", json);
        free(js);
        goto out;
    }
    if (!strcmp(sub, "next")) {
        const char *id, *since;
        if ((rc = client_call(&c, "POST", "/scenarios/next", NULL, &o)))
            goto out;
        if (!json_is_object(json_object_get(o, "scenario"))) {
            printf("%s\n", json_string_value(json_object_get(o, "message")));
            rc = EXIT_NO;
            goto out;
        }
        id = json_string_value(
            json_object_get(json_object_get(o, "scenario"), "id"));
        since = json_string_value(json_object_get(o, "since"));
        if (json)
            printf("{\"scenario\":\"%s\",\"tester\":\"%s\"}\n", id, c.person);
        else if (since && strlen(since) > 11)
            printf("%s: already yours since %.5s; record its result first\n",
                   id, since + 11);
        else
            printf("%s: yours, %s\n", id, c.person);
    } else {
        const char *result = !strcmp(sub, "pass")   ? "passed"
                             : !strcmp(sub, "fail") ? "failed"
                                                    : "blocked";
        if (note)
            json_object_set_new(body, "note", json_string(note));
        snprintf(path, sizeof(path), "/scenarios/%s/%s",
                 client_escape(argv[1], esc, sizeof(esc)), sub);
        if ((rc = client_call(&c, "POST", path, body, &o)))
            goto out;
        printf("%s: %s (%s)\n", argv[1], result, c.person);
    }
out:
    json_decref(body);
    json_decref(o);
    client_close(&c);
    return rc;
}

static int run(int argc, char **argv)
{
    const char *plan = NULL, *state = NULL, *as = NULL, *note = NULL,
               *server = NULL;
    int json = 0, limit = 10, rc;
    static const struct po_sub subs[] = {
        {"next", 0, 0, "no id"},
        {"pass", 1, 1, "a scenario id"},
        {"fail", 1, 1, "a scenario id"},
        {"block", 1, 1, "a scenario id"},
        {"progress", 0, 0, "no id"},
        {"samples", 1, 1, "a scenario id"},
        {NULL, 0, 0, NULL},
    };
    struct po_option opts[] = {
        OPT_INT("limit", 0, &limit, 1, 500, "N",
                "samples: how many (default 10)"),
        OPT_STRING("plan", 0, &plan, "PLAN",
                   "samples: the plan (default: the run's own copy)"),
        OPT_AS(&as),
        OPT_NOTE(&note, "pass, fail, block: what the tester saw"),
        OPT_STATE(&state),
        OPT_SERVER(&server),
        OPT_JSON(&json, "samples: {scenario, workflow, samples: [{old_key, "
                        "old_state, new_key, new_state, flagged, why}]}; "
                        "the others: their outcome as JSON"),
        OPT_SUBCOMMANDS(subs),
    };

    if ((rc = cli_parse(&cmd_scenario, opts, argc, argv)) >= 0)
        return rc;
    if (!strcmp(argv[optind], "samples"))
        return samples(argc - optind, argv + optind, plan, state, limit, json);
    if ((server = client_server(server, state)))
        return on_server(server, argc - optind, argv + optind, as, note, json);
    return on_run(argc - optind, argv + optind, state, as, note, json);
}

const struct gl_cmd cmd_scenario = {
    "scenario",
    "the verification list: take, record, follow scenarios; legacy samples",
    "usage: golive scenario next --as TESTER [--state FILE] [--json]\n"
    "       golive scenario pass|fail|block ID --as TESTER [--note TEXT]\n"
    "       golive scenario progress [--state FILE] [--json]\n"
    "       golive scenario samples ID [--limit N] [--json]\n"
    "                                  [--plan PLAN | --state FILE]\n"
    "\n"
    "'next' hands a tester the riskiest scenario not yet run (theirs or\n"
    "nobody's first, highest risk, then P0 first), one at a time: while\n"
    "they hold a running one, 'next' answers with it and records nothing;\n"
    "'pass', 'fail' and 'block' record a result (the scenario's current\n"
    "result again is refused; another one is a re-run, e.g. 'pass' after\n"
    "'fail' once its defect is fixed); 'progress' counts scenarios by state "
    "per\n"
    "tester and per area (--json: {testers: {NAME: {STATE: N}}, areas:\n"
    "{AREA: {STATE: N}}}).  Only testers take and record scenarios;\n"
    "every change is an event of the run.\n"
    "\n"
    "'samples':\n"
    "Pick records the old system created for scenario ID: the keys its\n"
    "'samples' query returns on the old system: first, always, those the\n"
    "flow check would flag (an unknown or dead-end state, no way back from\n"
    "a rejection, a required field missing, not migrated), then the\n"
    "others, each group spread across their old states, with their keys\n"
    "and states in both systems.  The plan is --plan, else the run's own\n"
    "copy.\n"
    "\n",
    "exit: 0 done, 1 no scenario left for 'next', 2 usage, no samples\n"
    "      query, or a database error, 3 refused (not a tester, or the\n"
    "      same result again)\n",
    run,
};
