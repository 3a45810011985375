/*
 * cmd-status.c - `golive status`: the run at a glance.
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "golive/audit.h"
#include "golive/status.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/sha256.h"

/* Warn when the plan on disk is no longer the version the run holds.
 * Returns 1 when it differs, 0 when equal or unreadable. */
static int plan_changed(const char *path, const struct gl_run_info *info)
{
    struct gl_buf b = GL_BUF_INIT;
    char hex[GL_SHA256_HEX];
    int changed = 0;

    if (!gl_buf_read_file(&b, path, 0) && !gl_sha256_hex(b.data, b.len, hex) &&
        strcmp(hex, info->plan_sha256)) {
        cli_warn("plan '%s' changed on disk since the run took version %d; "
                 "this status uses the run's copy ('golive run amend' takes "
                 "a new version)",
                 path, info->plan_version);
        changed = 1;
    }
    gl_buf_release(&b);
    return changed;
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

/* ISO time and T-relative time of an epoch field, into o. */
static void set_time(json_t *o, const char *key, json_t *t,
                     const struct cli_run *r)
{
    char rel[32], abs[40], k[64];

    if (!json_is_integer(t)) {
        json_object_set_new(o, key, json_null());
        return;
    }
    gl_time_format(json_integer_value(t), r->info.switch_offset, abs);
    gl_reltime_format(json_integer_value(t) - r->info.switch_at, rel);
    json_object_set_new(o, key, json_string(abs));
    snprintf(k, sizeof(k), "%s_t", key);
    json_object_set_new(o, k, json_string(rel));
}

static void print_text(const struct cli_run *r, json_t *st, int changed)
{
    static const char *const states[] = {"pending", "ready",  "running",
                                         "lost",    "done",   "checked",
                                         "failed",  "skipped"};
    json_t *counts = json_object_get(st, "counts"), *x, *sc;
    char t_now[40], t_switch[40], rel[32], d[24];
    const char *stage;
    size_t i, k;
    json_int_t late = json_integer_value(json_object_get(st, "late"));

    gl_time_format(r->now, r->info.switch_offset, t_now);
    gl_time_format(r->info.switch_at, r->info.switch_offset, t_switch);
    gl_reltime_format(r->now - r->info.switch_at, rel);
    printf("%s: %s run %s, plan version %d (sha256 %.12s)%s\n", r->info.cutover,
           r->info.rehearsal ? "rehearsal" : "live", r->info.run_id,
           r->info.plan_version, r->info.plan_sha256,
           changed ? "; the plan file differs" : "");
    printf("switch at %s; now %s (%s); %" PRId64 " events%s\n", t_switch, t_now,
           rel, r->info.events,
           json_is_true(json_object_get(st, "rollback")) ? "; ROLLING BACK"
                                                         : "");
    {
        json_t *a = json_object_get(st, "audit"),
               *v = json_object_get(a, "verified");
        printf("audit: head %s; %s%s\n\n",
               json_string_value(json_object_get(a, "head")),
               json_is_false(v) ? "THE STORE DOES NOT VERIFY: " : "",
               json_string_value(json_object_get(a, "detail")));
    }
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
    print_rel("ETA:      ", json_object_get(st, "eta"), r);
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
    printf("; overrun x%.2f\n           chain: ",
           json_real_value(json_object_get(st, "overrun")));
    json_array_foreach(json_object_get(st, "chain"), i, x)
        printf("%s%s", i ? " -> " : "", json_string_value(x));
    printf("\n");
}

static int run(int argc, char **argv)
{
    const char *plan_arg = NULL;
    char t_now[40], t_switch[40], rel[32];
    struct cli_opts op;
    struct cli_run r;
    struct gl_err err;
    struct gl_audit_quick aq;
    char head[100];
    json_t *st = NULL;
    int rc, changed;

    if ((rc = cli_parse_opts(&cmd_status, "sj", argc, argv, &op)) >= 0)
        return rc;
    if (argc - optind > 1)
        return cli_usage("status", "status takes at most one plan file");
    if (argc - optind == 1)
        plan_arg = argv[optind];
    gl_err_clear(&err);
    if ((rc = cli_run_open(&r, op.state, plan_arg, NULL, 0)))
        goto out;
    if (gl_status_eval(r.s, r.plan, r.info.switch_at, r.now, &st, &err) ||
        gl_audit_quick(r.s, &aq, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    snprintf(head, sizeof(head), "%" PRId64 ":%s", aq.head.seq, aq.head.hash);
    json_object_set_new(
        st, "audit",
        json_pack("{s:s, s:o, s:s, s:I, s:I}", "head", head, "verified",
                  aq.verdict < 0 ? json_null() : json_boolean(aq.verdict),
                  "detail", aq.detail, "verified_through",
                  (json_int_t)aq.verified_seq, "since", (json_int_t)aq.since));
    changed = plan_changed(plan_arg ? plan_arg : r.info.plan_path, &r.info);
    if (!op.json) {
        print_text(&r, st, changed);
        goto out;
    }
    gl_time_format(r.now, r.info.switch_offset, t_now);
    gl_time_format(r.info.switch_at, r.info.switch_offset, t_switch);
    gl_reltime_format(r.now - r.info.switch_at, rel);
    {
        json_t *o = json_object(), *x;
        size_t i;
        json_object_set_new(o, "run_id", json_string(r.info.run_id));
        json_object_set_new(o, "cutover", json_string(r.info.cutover));
        json_object_set_new(o, "rehearsal", json_boolean(r.info.rehearsal));
        json_object_set_new(o, "switch_at", json_string(t_switch));
        json_object_set_new(o, "now", json_string(t_now));
        json_object_set_new(o, "t", json_string(rel));
        json_object_set_new(o, "t_seconds",
                            json_integer(r.now - r.info.switch_at));
        json_object_set_new(o, "plan_version",
                            json_integer(r.info.plan_version));
        json_object_set_new(o, "plan_sha256", json_string(r.info.plan_sha256));
        json_object_set_new(o, "plan_changed", json_boolean(changed));
        json_object_set_new(o, "events", json_integer(r.info.events));
        json_object_set(o, "tasks", json_object_get(st, "counts"));
        json_object_set(o, "totals", json_object_get(st, "totals"));
        json_array_foreach(json_object_get(st, "tasks"), i, x)
        {
            set_time(x, "expected_start", json_object_get(x, "expected_start"),
                     &r);
            set_time(x, "expected_end", json_object_get(x, "expected_end"), &r);
            set_time(x, "started", json_object_get(x, "started"), &r);
            set_time(x, "ended", json_object_get(x, "ended"), &r);
            set_time(x, "planned_start", json_object_get(x, "planned_start"),
                     &r);
            set_time(x, "planned_end", json_object_get(x, "planned_end"), &r);
        }
        json_array_foreach(json_object_get(st, "running"), i, x)
            set_time(x, "since", json_object_get(x, "since"), &r);
        json_object_set(o, "task_list", json_object_get(st, "tasks"));
        json_object_set(o, "running", json_object_get(st, "running"));
        json_object_set(o, "ready", json_object_get(st, "ready"));
        json_object_set(o, "blockers", json_object_get(st, "blockers"));
        json_object_set(o, "scenarios", json_object_get(st, "scenarios"));
        set_time(o, "eta", json_object_get(st, "eta"), &r);
        set_time(o, "planned_end", json_object_get(st, "planned_end"), &r);
        json_object_set(o, "late_seconds", json_object_get(st, "late"));
        json_object_set(o, "overrun", json_object_get(st, "overrun"));
        json_object_set(o, "chain", json_object_get(st, "chain"));
        json_object_set(o, "rollback", json_object_get(st, "rollback"));
        json_object_set(o, "audit", json_object_get(st, "audit"));
        cli_print_json(o, 1);
    }
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
    "checks, blocked scenarios, lost tasks); scenario progress; and the ETA\n"
    "with the chain of tasks that sets it.\n"
    "\n"
    "The ETA is a critical-path pass over what remains: planned durations\n"
    "times the overrun factor (actual / planned time on the plan's own\n"
    "critical path so far, never below 1), no task before its 'at' or its\n"
    "dependencies, nothing before now.  A task with slack that overruns\n"
    "moves the ETA only once its slack is used up.  During a rollback, only\n"
    "the rollback's tasks count.\n"
    "\n"
    "The audit line: the head (the last event as N:HASH; keep it elsewhere\n"
    "for 'golive audit verify --head') and whether the store verifies, from\n"
    "the last 'golive audit verify' and a check of the chain of the events\n"
    "since (a table edited since is caught by the next full verify).\n"
    "\n"
    "The run's own copy of the plan is used; a warning says when the plan\n"
    "file on disk differs from it.\n"
    "\n"
    "options:\n"
    "  --state FILE    the store (default: $GOLIVE_STATE, else golive.state\n"
    "                  beside PLAN, else ./golive.state)\n"
    "  --json          the same as JSON, for a dashboard\n"
    "\n"
    "GOLIVE_NOW (ISO 8601) replaces the clock, to replay a night.\n"
    "\n"
    "exit: 0 shown, 2 no store, no run, or the store cannot be read\n",
    run,
};
