/*
 * cmd-status.c - `golive status`: the run at a glance.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "cmd.h"
#include "golive/audit.h"
#include "golive/status.h"
#include "util/buf.h"
#include "util/clock.h"

/* Warn when the plan on disk is no longer the version the run holds.
 * Returns 1 when it differs, 0 when equal or unreadable. */
static int plan_changed(const char *path, const struct gl_run_info *info)
{
    if (!gl_status_plan_differs(path, info))
        return 0;
    cli_warn("plan '%s' changed on disk since the run took version %d; "
             "this status uses the run's copy ('golive run amend' takes "
             "a new version)",
             path, info->plan_version);
    return 1;
}

static void print_rel(const char *label, json_t *t, const struct cli_run *r)
{
    char rel[32], abs[40];

    if (!json_is_integer(t)) {
        printf("%s -", label);
        return;
    }
    gl_reltime_format(json_integer_value(t) - r->info.switch_at, rel);
    gl_time_format(json_integer_value(t), r->info.switch_offset, abs);
    printf("%s %s (%s)", label, rel, abs);
}

/* A chain of task ids; a long one shows its start and its end. */
static void print_chain(json_t *chain)
{
    size_t i, n = json_array_size(chain);
    json_t *x;

    json_array_foreach(chain, i, x)
    {
        if (n > 12 && i == 3)
            printf(" -> ... (%zu more)", n - 8);
        if (n > 12 && i >= 3 && i < n - 5)
            continue;
        printf("%s%s", i ? " -> " : "", json_string_value(x));
    }
    if (!n)
        printf("-");
}

/* "ETA T+1h (01:00), planned T+30m, 30m late; chain: a -> b" of a stage,
 * or when it is done, when it ended. */
static void print_end(json_t *x, const struct cli_run *r)
{
    json_t *late = json_object_get(x, "late");
    json_int_t l = json_integer_value(late);
    char rel[32], d[24];

    if (json_is_true(json_object_get(x, "done")))
        print_rel("done", json_object_get(x, "ended"), r);
    else
        print_rel("ETA", json_object_get(x, "eta"), r);
    if (json_is_integer(json_object_get(x, "planned_end"))) {
        gl_reltime_format(
            json_integer_value(json_object_get(x, "planned_end")) -
                r->info.switch_at,
            rel);
        gl_duration_format(l, d);
        printf(", planned %s, %s%s", rel, l ? d : "on time",
               l > 0   ? " late"
               : l < 0 ? " early"
                       : "");
    }
    if (json_is_string(json_object_get(x, "set_by")) &&
        !strcmp(json_string_value(json_object_get(x, "set_by")), "forecast"))
        printf("; set by the verification forecast (scenarios, fixes, "
               "re-verification)");
    else if (!json_is_true(json_object_get(x, "done"))) {
        printf("; chain: ");
        print_chain(json_object_get(x, "chain"));
    }
}

static void print_decision(json_t *x, const struct cli_run *r)
{
    json_int_t sl = json_integer_value(json_object_get(x, "start_late"));
    const char *state;
    char d[24];

    if (!json_is_object(x))
        return;
    state = json_string_value(json_object_get(x, "state"));
    printf("go/no-go:  %s%s, %s", json_string_value(json_object_get(x, "task")),
           json_is_true(json_object_get(x, "marked"))
               ? " (decides: go)"
               : " (the last verify task)",
           state);
    if (json_is_integer(json_object_get(x, "started")))
        print_rel(", started", json_object_get(x, "started"), r);
    else
        print_rel(", expected to start", json_object_get(x, "expected_start"),
                  r);
    gl_duration_format(sl, d);
    if (json_is_integer(json_object_get(x, "planned_start"))) {
        char rel[32];
        gl_reltime_format(
            json_integer_value(json_object_get(x, "planned_start")) -
                r->info.switch_at,
            rel);
        printf(" (planned %s, %s%s)", rel, sl ? d : "on time",
               sl > 0   ? " late"
               : sl < 0 ? " early"
                        : "");
    }
    printf("\n           ");
    print_end(x, r);
    printf("\n");
}

/* "T+8h10m (2026-03-14T08:10:00+08:00)", or "unknown". */
static void print_at(json_t *t, const struct cli_run *r)
{
    if (json_is_integer(t))
        print_rel("", t, r);
    else
        printf(" unknown");
}

/* The verification forecast as a person says it: testing done at (who
 * sets it), everything verified at (which defect sets it), per tester. */
/* The forecast's line per tester. */
static void print_testers(json_t *fc, const struct cli_run *r)
{
    json_t *x;
    char d[24];
    size_t i;

    json_array_foreach(json_object_get(fc, "testers"), i, x)
    {
        printf("           %s: ", json_string_value(json_object_get(x, "id")));
        if (json_is_true(json_object_get(x, "off"))) {
            printf("off (handed over)\n");
            continue;
        }
        gl_duration_format(json_integer_value(json_object_get(x, "pace")), d);
        printf("%" JSON_INTEGER_FORMAT " left, pace %s",
               json_integer_value(json_object_get(x, "left")), d);
        if (json_integer_value(json_object_get(x, "timed")))
            printf(" (median of %" JSON_INTEGER_FORMAT ")",
                   json_integer_value(json_object_get(x, "timed")));
        else
            printf(" (planned)");
        if (json_is_integer(json_object_get(x, "done_at")))
            print_rel(", done at", json_object_get(x, "done_at"), r);
        printf("\n");
    }
}

/* The forecast's line per counted defect. */
static void print_fixes(json_t *fc, const struct cli_run *r)
{
    json_t *x;
    size_t i;

    json_array_foreach(json_object_get(fc, "defects"), i, x)
    {
        printf("           %s (%s, %s%s%s): fix in at",
               json_string_value(json_object_get(x, "id")),
               json_string_value(json_object_get(x, "severity")),
               json_string_value(json_object_get(x, "state")),
               json_is_string(json_object_get(x, "fixer")) ? "; fixer " : "",
               json_is_string(json_object_get(x, "fixer"))
                   ? json_string_value(json_object_get(x, "fixer"))
                   : "");
        print_at(json_object_get(x, "fix_end"), r);
        printf(", re-verified");
        if (json_is_string(json_object_get(x, "reverify_by")))
            printf(" by %s",
                   json_string_value(json_object_get(x, "reverify_by")));
        printf(" at");
        print_at(json_object_get(x, "verified_eta"), r);
        printf("\n");
    }
}

static void print_forecast(json_t *fc, const struct cli_run *r)
{
    json_t *te = json_object_get(fc, "testing"),
           *ve = json_object_get(fc, "verified");
    char d[24];

    if (!json_is_true(json_object_get(fc, "applies")))
        return;
    printf("testing:   ");
    if (json_is_true(json_object_get(te, "done"))) {
        printf("every scenario passed");
        if (json_is_integer(json_object_get(te, "at")))
            print_rel(", the last at", json_object_get(te, "at"), r);
    } else {
        printf("testing done at");
        print_at(json_object_get(te, "at"), r);
        if (json_is_string(json_object_get(te, "by")))
            printf(", %s sets it",
                   json_string_value(json_object_get(te, "by")));
        printf("; %" JSON_INTEGER_FORMAT " scenario%s left",
               json_integer_value(json_object_get(te, "left")),
               json_integer_value(json_object_get(te, "left")) == 1 ? "" : "s");
        if (json_integer_value(json_object_get(te, "unplaced")))
            printf(", %" JSON_INTEGER_FORMAT " with no tester to take them",
                   json_integer_value(json_object_get(te, "unplaced")));
    }
    printf("\n");
    print_testers(fc, r);
    printf("verified:  ");
    if (json_is_true(json_object_get(ve, "done"))) {
        printf("everything verified");
        if (json_is_integer(json_object_get(ve, "at")))
            print_rel(" at", json_object_get(ve, "at"), r);
        printf("\n");
        return;
    }
    printf("everything verified at");
    print_at(json_object_get(ve, "at"), r);
    if (json_is_string(json_object_get(ve, "by")))
        printf(", %s sets it", json_string_value(json_object_get(ve, "by")));
    else if (json_is_integer(json_object_get(ve, "at")))
        printf(", when testing is done");
    gl_duration_format(json_integer_value(json_object_get(
                           json_object_get(fc, "fix"), "seconds")),
                       d);
    printf("; a fix takes %s (%s)\n", d,
           !strcmp(json_string_value(
                       json_object_get(json_object_get(fc, "fix"), "basis")),
                   "median")
               ? "the median of the night's fixes"
               : "fix_duration");
    print_fixes(fc, r);
}

/* The late tasks, the most late first; the first ten. */
static void print_late(json_t *late, const struct cli_run *r)
{
    size_t i, n = json_array_size(late);
    json_t *x;

    printf("late:      %s", n ? "" : "nothing\n");
    json_array_foreach(late, i, x)
    {
        char rel[32], d[24];
        if (i == 10) {
            printf("           and %zu more ('golive status --json' lists "
                   "them all)\n",
                   n - 10);
            break;
        }
        gl_reltime_format(json_integer_value(json_object_get(x, "planned")) -
                              r->info.switch_at,
                          rel);
        gl_duration_format(json_integer_value(json_object_get(x, "by")), d);
        printf("%s%s (%s, %s): %s %s past its planned %s %s\n",
               i ? "           " : "",
               json_string_value(json_object_get(x, "id")),
               json_string_value(json_object_get(x, "stage")),
               json_string_value(json_object_get(x, "owner")),
               strcmp(json_string_value(json_object_get(x, "late")), "end")
                   ? "not started,"
                   : "running",
               d,
               strcmp(json_string_value(json_object_get(x, "late")), "end")
                   ? "start"
                   : "end",
               rel);
    }
}

/* The run, the clock, the last decision and the audit line. */
static void print_head(const struct cli_run *r, json_t *st, int changed)
{
    char t_now[40], t_switch[40], rel[32];

    gl_time_format(r->now, r->info.switch_offset, t_now);
    gl_time_format(r->info.switch_at, r->info.switch_offset, t_switch);
    gl_reltime_format(r->now - r->info.switch_at, rel);
    printf("%s: %s run %s, plan version %d (sha256 %.12s)%s\n", r->info.cutover,
           r->info.rehearsal ? "rehearsal" : "live", r->info.run_id,
           r->info.plan_version, r->info.plan_sha256,
           changed ? "; the plan file differs" : "");
    printf("switch at %s; now %s (%s); %" PRId64 " event%s%s\n", t_switch,
           t_now, rel, r->info.events, cli_s(r->info.events),
           json_is_true(json_object_get(st, "rolled_back")) ? "; ROLLED BACK"
           : json_is_true(json_object_get(st, "rollback"))  ? "; ROLLING BACK"
                                                            : "");
    {
        json_t *dd = json_object_get(st, "decided");
        if (json_is_object(dd)) {
            char when[40] = "?", wrel[32] = "";
            json_t *at = json_object_get(dd, "at");
            if (json_is_integer(at)) {
                gl_time_format(json_integer_value(at), r->info.switch_offset,
                               when);
                gl_reltime_format(json_integer_value(at) - r->info.switch_at,
                                  wrel);
            }
            printf("decision: %s by %s at %s (%s): %s\n",
                   json_string_value(json_object_get(dd, "decision")),
                   json_string_value(json_object_get(dd, "actor")), when, wrel,
                   json_string_value(json_object_get(dd, "note")));
        } else {
            printf("decision: none yet\n");
        }
    }
    {
        json_t *a = json_object_get(st, "audit"),
               *v = json_object_get(a, "verified");
        printf("audit: head %s; %s%s\n\n",
               json_string_value(json_object_get(a, "head")),
               json_is_false(v) ? "THE STORE DOES NOT VERIFY: " : "",
               json_string_value(json_object_get(a, "detail")));
    }
}

/* Tasks per stage and state. */
static void print_counts(json_t *st)
{
    static const char *const states[] = {"pending", "ready",  "running",
                                         "lost",    "done",   "checked",
                                         "failed",  "skipped"};
    json_t *counts = json_object_get(st, "counts"), *x;
    const char *stage;
    size_t k;

    printf("%-10s", "stage");
    for (k = 0; k < 8; k++)
        printf(" %8s", states[k]);
    printf(" %8s\n", "total");
    json_object_foreach(counts, stage, x)
    {
        json_int_t row = 0;
        for (k = 0; k < 8; k++)
            row += json_integer_value(json_object_get(x, states[k]));
        if (!row)
            continue;
        printf("%-10s", stage);
        for (k = 0; k < 8; k++)
            printf(" %8" JSON_INTEGER_FORMAT,
                   json_integer_value(json_object_get(x, states[k])));
        printf(" %8" JSON_INTEGER_FORMAT "\n", row);
    }
    printf("%-10s", "total");
    for (k = 0; k < 8; k++)
        printf(" %8" JSON_INTEGER_FORMAT,
               json_integer_value(
                   json_object_get(json_object_get(st, "totals"), states[k])));
    printf(" %8" JSON_INTEGER_FORMAT "\n\n",
           json_integer_value(
               json_object_get(json_object_get(st, "totals"), "all")));
}

/* What runs, what is ready, what blocks, the scenarios. */
static void print_now(const struct cli_run *r, json_t *st)
{
    json_t *x, *sc;
    const char *stage;
    char rel[32];
    size_t i;

    printf("running:   ");
    json_array_foreach(json_object_get(st, "running"), i, x)
    {
        json_t *since = json_object_get(x, "since");
        gl_reltime_format(json_integer_value(since) - r->info.switch_at, rel);
        printf("%s%s (%s, since %s%s)", i ? ", " : "",
               json_string_value(json_object_get(x, "id")),
               json_string_value(json_object_get(x, "owner")), rel,
               json_is_true(json_object_get(x, "lost")) ? ", LOST" : "");
    }
    printf("%s\nready:     ",
           json_array_size(json_object_get(st, "running")) ? "" : "nothing");
    json_array_foreach(json_object_get(st, "ready"), i, x)
        printf("%s%s (%s%s)", i ? ", " : "",
               json_string_value(json_object_get(x, "id")),
               json_string_value(json_object_get(x, "owner")),
               json_is_true(json_object_get(x, "sync_resumable"))
                   ? "; its sync can resume: start --resume"
                   : "");
    printf("%s\nblockers:  ",
           json_array_size(json_object_get(st, "ready")) ? "" : "nothing");
    json_array_foreach(json_object_get(st, "blockers"), i, x)
        printf("%s%s: %s", i ? "\n           " : "",
               json_string_value(json_object_get(x, "id")),
               json_string_value(json_object_get(x, "detail")));
    printf("%s\n",
           json_array_size(json_object_get(st, "blockers")) ? "" : "none");
    sc = json_object_get(st, "scenarios");
    printf("scenarios: %" JSON_INTEGER_FORMAT " in the plan",
           json_integer_value(json_object_get(sc, "all")));
    json_object_foreach(json_object_get(sc, "states"), stage, x)
        printf(", %" JSON_INTEGER_FORMAT " %s", json_integer_value(x), stage);
    printf(
        "; P0 %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT " passed\n",
        json_integer_value(
            json_object_get(json_object_get(sc, "p0"), "passed")),
        json_integer_value(json_object_get(json_object_get(sc, "p0"), "all")));
}

/* The cutover's ETA (or end), how late, the overrun and what sets it. */
static void print_cutover(const struct cli_run *r, json_t *st)
{
    json_int_t late = json_integer_value(json_object_get(st, "late"));
    char rel[32], d[24];
    json_t *x;

    if (json_is_integer(json_object_get(st, "eta")))
        print_rel("ETA:      ", json_object_get(st, "eta"), r);
    else
        print_rel("ended:    ", json_object_get(st, "ended"), r);
    gl_duration_format(late < 0 ? -late : late, d);
    printf("; planned end %s",
           json_is_integer(json_object_get(st, "planned_end")) ? "" : "-");
    if (json_is_integer(json_object_get(st, "planned_end"))) {
        gl_reltime_format(
            json_integer_value(json_object_get(st, "planned_end")) -
                r->info.switch_at,
            rel);
        printf("%s, %s%s", rel, late ? d : "on time",
               late > 0   ? " late"
               : late < 0 ? " early"
                          : "");
    }
    x = json_object_get(st, "overrun_basis");
    printf("; overrun x%.2f", json_real_value(json_object_get(st, "overrun")));
    if (json_integer_value(json_object_get(x, "tasks"))) {
        char a[24], pl[24];
        gl_duration_format(json_integer_value(json_object_get(x, "actual")), a);
        gl_duration_format(json_integer_value(json_object_get(x, "planned")),
                           pl);
        printf(" (%" JSON_INTEGER_FORMAT " finished task%s: %s against %s "
               "planned%s)",
               json_integer_value(json_object_get(x, "tasks")),
               json_integer_value(json_object_get(x, "tasks")) == 1 ? "" : "s",
               a, pl,
               /* ahead of plan: what remains is never planned shorter */
               json_real_value(json_object_get(st, "overrun")) < 1.0
                   ? "; under x1, the rest keeps its planned durations"
                   : "");
    }
    if (!strcmp(json_string_value(json_object_get(st, "eta_set_by")),
                "forecast"))
        printf("\n           set by the verification forecast (scenarios, "
               "fixes, re-verification)\n");
    else {
        printf("\n           chain: ");
        print_chain(json_object_get(st, "chain"));
        printf("\n");
    }
}

static void print_text(const struct cli_run *r, json_t *st, int changed)
{
    json_t *x;
    size_t i;

    print_head(r, st, changed);
    print_counts(st);
    print_now(r, st);
    if (!json_is_true(json_object_get(st, "rollback")))
        print_forecast(json_object_get(st, "forecast"), r);
    print_decision(json_object_get(st, "decision"), r);
    json_array_foreach(json_object_get(st, "stages"), i, x)
    {
        printf("%s%-9s ", i ? "           " : "stages:    ",
               json_string_value(json_object_get(x, "stage")));
        print_end(x, r);
        printf("\n");
    }
    print_cutover(r, st);
    print_late(json_object_get(st, "late_tasks"), r);
}

/* A JSON string's value, "" when it is not one. */
static const char *jstr(json_t *x)
{
    const char *s = json_string_value(x);

    return s ? s : "";
}

/* `status` through a server: the same text from the same evaluation
 * (GET /status?view=cli), or the same document (GET /status). */
static int status_remote(const char *server, int json)
{
    struct cli_run r;
    struct client c;
    json_t *v = NULL;
    int rc;

    memset(&r, 0, sizeof(r));
    if ((rc = client_open(&c, server, NULL)))
        goto out;
    if (json) {
        if (!(rc = client_call(&c, "GET", "/status", NULL, &v)))
            cli_print_json(json_incref(v), 1);
        goto out;
    }
    if ((rc = client_call(&c, "GET", "/status?view=cli", NULL, &v)))
        goto out;
    snprintf(r.info.run_id, sizeof(r.info.run_id), "%s",
             jstr(json_object_get(v, "run_id")));
    snprintf(r.info.cutover, sizeof(r.info.cutover), "%s",
             jstr(json_object_get(v, "cutover")));
    r.info.rehearsal = json_is_true(json_object_get(v, "rehearsal"));
    r.info.plan_version =
        (int)json_integer_value(json_object_get(v, "plan_version"));
    snprintf(r.info.plan_sha256, sizeof(r.info.plan_sha256), "%s",
             jstr(json_object_get(v, "plan_sha256")));
    r.info.events = json_integer_value(json_object_get(v, "events"));
    r.now = json_integer_value(json_object_get(v, "now"));
    r.info.switch_at = json_integer_value(json_object_get(v, "switch_at"));
    r.info.switch_offset =
        (int)json_integer_value(json_object_get(v, "switch_offset"));
    print_text(&r, json_object_get(v, "status"),
               json_is_true(json_object_get(v, "plan_changed")));
out:
    json_decref(v);
    client_close(&c);
    return rc;
}

static int run(int argc, char **argv)
{
    const char *plan_arg = NULL, *server = NULL;
    struct cli_opts op;
    struct cli_run r;
    struct gl_err err;
    json_t *st = NULL;
    int rc, changed;
    struct po_option opts[] = {
        OPT_STATE(&op.state),
        OPT_SERVER(&server),
        OPT_JSON(&op.json, "the same as JSON, for a dashboard"),
        OPT_ARGS(0, 1, "at most one plan file"),
    };

    memset(&op, 0, sizeof(op));
    if ((rc = cli_parse(&cmd_status, opts, argc, argv)) >= 0)
        return rc;
    if ((server = client_server(server, op.state)))
        return status_remote(server, op.json);
    if (argc - optind == 1)
        plan_arg = argv[optind];
    gl_err_clear(&err);
    if ((rc = cli_run_open(&r, op.state, plan_arg, NULL, 0)))
        goto out;
    if (gl_status_eval(r.s, r.plan, r.info.switch_at, r.now,
                       op.json ? GL_STATUS_TASKS : 0, &st, &err) ||
        gl_status_audit(r.s, st, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    changed = plan_changed(plan_arg ? plan_arg : r.info.plan_path, &r.info);
    if (!op.json) {
        print_text(&r, st, changed);
        goto out;
    }
    cli_print_json(gl_status_document(&r.info, r.now, st, changed), 1);
out:
    json_decref(st);
    cli_run_close(&r);
    return rc;
}

const struct gl_cmd cmd_status = {
    "status",
    "where the run stands: time against the plan, tasks by stage and state",
    "usage: golive status [PLAN] [--state FILE] [--json]\n"
    "\n"
    "Show the run at a glance, for the lead: the switch time and now\n"
    "(T-relative); the tasks per stage and state (ready: waiting for its\n"
    "owner; lost: left running by a process that died); what runs and who\n"
    "holds it; the blockers (open blocker defects, failed tasks, failed\n"
    "checks, blocked scenarios, lost tasks); scenario progress; when the\n"
    "go / no-go is decided (the task with 'decides: go', else the verify\n"
    "task planned to end last) and when each stage but hypercare ends,\n"
    "each ETA with the chain of tasks that sets it; the ETA of the cutover\n"
    "(every stage but hypercare); the overrun factor; and the late tasks.\n"
    "\n"
    "The verification forecast: when testing is done (who sets it) and when\n"
    "everything is verified (which defect sets it), per tester the\n"
    "scenarios left, their pace and when they are done.  A tester's pace is\n"
    "the median of their own scenario times ('scenario next', or the\n"
    "handover to them, to result; before one, the scenario's duration or\n"
    "scenario_duration); what is not passed (nor failed with all of its\n"
    "defects verified or deferred) is laid out over the testers not off\n"
    "(handed over all of their work), riskiest first, each to the tester\n"
    "who would finish it first (ties: the plan's order); each open blocker\n"
    "(and each defect a max_open_defects gate counts) is fixed (the median\n"
    "open -> fixed time, else fix_duration) and then re-verified by a\n"
    "tester who did not fix it.  The verify stage's ETA and the go / no-go\n"
    "ETA are no earlier than everything verified.\n"
    "\n"
    "A task is planned at its 'at', or when its dependencies are planned\n"
    "to end; a shift moves what has not started, and a task's planned\n"
    "times are fixed when it starts.  Late: past its planned start and not\n"
    "started, or running past its planned end.  The overrun factor is\n"
    "actual / planned time summed over the finished tasks.  The ETA is a\n"
    "critical-path pass over what remains: planned durations times the\n"
    "factor (when above 1), no task before its 'at' or its dependencies,\n"
    "nothing before now.  During a rollback, only the rollback's tasks\n"
    "count.  docs/plan.md has the details.\n"
    "\n"
    "The audit line: the head (the last event as N:HASH; keep it elsewhere\n"
    "for 'golive audit verify --head') and whether the store verifies, from\n"
    "the last 'golive audit verify' and a check of the chain of the events\n"
    "since (a table edited since is caught by the next full verify).\n"
    "\n"
    "The run's own copy of the plan is used; a warning says when the plan\n"
    "file on disk differs from it.\n"
    "\n",
    "GOLIVE_NOW (ISO 8601) replaces the clock, to replay a night.\n"
    "\n"
    "exit: 0 shown, 2 no store, no run, or the store cannot be read\n",
    run,
};
