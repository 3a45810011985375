/*
 * status-json.c - the run's status as one JSON document: what `golive
 * status --json` prints and GET /api/v1/status answers, built here once so
 * that the two surfaces cannot drift apart.  gl_status_eval's times are
 * epoch seconds; the document gives each as local ISO 8601 time and
 * T-relative ("_t"), beside the run's own fields and the audit line.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "golive/audit.h"
#include "golive/status.h"
#include "util/clock.h"

int gl_status_plan_differs(const char *path, const struct gl_run_info *info)
{
    char chunk[65536];
    FILE *f = fopen(path, "rb");
    size_t n, at = 0;
    int changed = 0;

    if (!f)
        return 0;
    /* compared as it is read: a large plan is not held twice */
    while (!changed && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        changed = n > info->plan_len - at ||
                  memcmp(chunk, info->plan_text + at, n) != 0;
        at += n;
    }
    if (ferror(f)) {
        fclose(f);
        return 0;
    }
    fclose(f);
    return changed || at != info->plan_len;
}

int gl_status_audit(gl_store *s, json_t *st, struct gl_err *err)
{
    struct gl_audit_quick aq;
    char head[100];
    int rc;

    if ((rc = gl_audit_quick(s, &aq, err)))
        return rc;
    snprintf(head, sizeof(head), "%" PRId64 ":%s", aq.head.seq, aq.head.hash);
    json_object_set_new(
        st, "audit",
        json_pack("{s:s, s:o, s:s, s:I, s:I}", "head", head, "verified",
                  aq.verdict < 0 ? json_null() : json_boolean(aq.verdict),
                  "detail", aq.detail, "verified_through",
                  (json_int_t)aq.verified_seq, "since", (json_int_t)aq.since));
    return GL_OK;
}

/* ISO time and T-relative time of an epoch field, into o. */
static void set_time(json_t *o, const char *key, json_t *t,
                     const struct gl_run_info *info)
{
    char rel[32], abs[40], k[64];

    if (!json_is_integer(t)) {
        json_object_set_new(o, key, json_null());
        return;
    }
    gl_time_format(json_integer_value(t), info->switch_offset, abs);
    gl_reltime_format(json_integer_value(t) - info->switch_at, rel);
    json_object_set_new(o, key, json_string(abs));
    snprintf(k, sizeof(k), "%s_t", key);
    json_object_set_new(o, k, json_string(rel));
}

/* The forecast, the stages, the decision and what follows them, into o. */
static void document_plan(const struct gl_run_info *info, json_t *st, json_t *o)
{
    json_t *x, *y;
    size_t i;

    x = json_object_get(st, "forecast");
    set_time(x, "now", json_object_get(x, "now"), info);
    set_time(json_object_get(x, "testing"), "at",
             json_object_get(json_object_get(x, "testing"), "at"), info);
    set_time(json_object_get(x, "verified"), "at",
             json_object_get(json_object_get(x, "verified"), "at"), info);
    json_array_foreach(json_object_get(x, "testers"), i, y)
        set_time(y, "done_at", json_object_get(y, "done_at"), info);
    json_array_foreach(json_object_get(x, "defects"), i, y)
    {
        set_time(y, "fix_from", json_object_get(y, "fix_from"), info);
        set_time(y, "fix_end", json_object_get(y, "fix_end"), info);
        set_time(y, "verified_eta", json_object_get(y, "verified_eta"), info);
    }
    json_object_set(o, "forecast", x);
    json_array_foreach(json_object_get(st, "stages"), i, x)
    {
        set_time(x, "eta", json_object_get(x, "eta"), info);
        set_time(x, "ended", json_object_get(x, "ended"), info);
        set_time(x, "planned_end", json_object_get(x, "planned_end"), info);
    }
    json_object_set(o, "stages", json_object_get(st, "stages"));
    x = json_object_get(st, "decision");
    if (json_is_object(x)) {
        static const char *const keys[] = {"started",       "expected_start",
                                           "eta",           "ended",
                                           "planned_start", "planned_end"};
        size_t k;
        for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
            set_time(x, keys[k], json_object_get(x, keys[k]), info);
    }
    json_object_set(o, "decision", x);
    json_array_foreach(json_object_get(st, "late_tasks"), i, x)
        set_time(x, "planned", json_object_get(x, "planned"), info);
    json_object_set(o, "late_tasks", json_object_get(st, "late_tasks"));
    json_object_set(o, "rollback", json_object_get(st, "rollback"));
    json_object_set(o, "rolled_back", json_object_get(st, "rolled_back"));
    x = json_object_get(st, "decided");
    if (json_is_object(x))
        set_time(x, "at", json_object_get(x, "at"), info);
    json_object_set(o, "decided", x);
    json_object_set(o, "audit", json_object_get(st, "audit"));
}

json_t *gl_status_document(const struct gl_run_info *info, int64_t now,
                           json_t *st, int plan_changed)
{
    json_t *o = json_object(), *x;
    char t_now[40], t_switch[40], rel[32];
    size_t i;

    if (!o)
        return NULL;
    gl_time_format(now, info->switch_offset, t_now);
    gl_time_format(info->switch_at, info->switch_offset, t_switch);
    gl_reltime_format(now - info->switch_at, rel);
    json_object_set_new(o, "run_id", json_string(info->run_id));
    json_object_set_new(o, "cutover", json_string(info->cutover));
    /* the plan's title (null without one): the war room's heading */
    x = json_object_get(st, "title");
    json_object_set_new(o, "title", x ? json_incref(x) : json_null());
    json_object_set_new(o, "rehearsal", json_boolean(info->rehearsal));
    json_object_set_new(o, "switch_at", json_string(t_switch));
    json_object_set_new(o, "now", json_string(t_now));
    json_object_set_new(o, "t", json_string(rel));
    json_object_set_new(o, "t_seconds", json_integer(now - info->switch_at));
    json_object_set_new(o, "plan_version", json_integer(info->plan_version));
    json_object_set_new(o, "plan_sha256", json_string(info->plan_sha256));
    json_object_set_new(o, "plan_changed", json_boolean(plan_changed));
    json_object_set_new(o, "events", json_integer(info->events));
    json_object_set(o, "tasks", json_object_get(st, "counts"));
    json_object_set(o, "totals", json_object_get(st, "totals"));
    json_array_foreach(json_object_get(st, "tasks"), i, x)
    {
        set_time(x, "expected_start", json_object_get(x, "expected_start"),
                 info);
        set_time(x, "expected_end", json_object_get(x, "expected_end"), info);
        set_time(x, "started", json_object_get(x, "started"), info);
        set_time(x, "ended", json_object_get(x, "ended"), info);
        set_time(x, "planned_start", json_object_get(x, "planned_start"), info);
        set_time(x, "planned_end", json_object_get(x, "planned_end"), info);
    }
    json_array_foreach(json_object_get(st, "running"), i, x)
        set_time(x, "since", json_object_get(x, "since"), info);
    json_object_set(o, "task_list", json_object_get(st, "tasks"));
    json_object_set(o, "running", json_object_get(st, "running"));
    json_object_set(o, "ready", json_object_get(st, "ready"));
    json_object_set(o, "blockers", json_object_get(st, "blockers"));
    json_object_set(o, "scenarios", json_object_get(st, "scenarios"));
    set_time(o, "eta", json_object_get(st, "eta"), info);
    set_time(o, "ended", json_object_get(st, "ended"), info);
    set_time(o, "planned_end", json_object_get(st, "planned_end"), info);
    json_object_set(o, "late_seconds", json_object_get(st, "late"));
    json_object_set(o, "overrun", json_object_get(st, "overrun"));
    json_object_set(o, "overrun_basis", json_object_get(st, "overrun_basis"));
    json_object_set(o, "chain", json_object_get(st, "chain"));
    json_object_set(o, "eta_set_by", json_object_get(st, "eta_set_by"));
    document_plan(info, st, o);
    return o;
}

int gl_status_json(gl_store *s, const struct gl_plan *p,
                   const struct gl_run_info *info, int64_t now,
                   int plan_changed, json_t **out, struct gl_err *err)
{
    json_t *st = NULL;
    int rc;

    *out = NULL;
    if ((rc = gl_status_eval(s, p, info->switch_at, now, GL_STATUS_TASKS, &st,
                             err)) ||
        (rc = gl_status_audit(s, st, err)))
        goto out;
    if (!(*out = gl_status_document(info, now, st, plan_changed)))
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
out:
    json_decref(st);
    return rc;
}
