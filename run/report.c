/*
 * report.c - the night's report as data (see golive/report.h).
 */
#include "golive/report.h"
#include "golive/audit.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "store-rows.h"
#include "golive/amend.h"
#include "golive/defect.h"
#include "golive/duty.h"
#include "golive/forecast.h"
#include "golive/gate.h"
#include "golive/status.h"
#include "util/buf.h"
#include "util/clock.h"

struct ctx {
    int64_t t0;
    int offset;
};

static json_t *iso(const struct ctx *c, json_t *epoch)
{
    char buf[40];

    if (!json_is_integer(epoch))
        return json_null();
    gl_time_format(json_integer_value(epoch), c->offset, buf);
    return json_string(buf);
}

/* An ISO text from the store (UTC) again at the switch's offset. */
static json_t *iso_text(const struct ctx *c, const unsigned char *t)
{
    int64_t e;
    int off;
    char buf[40];

    if (!t || gl_time_parse((const char *)t, &e, &off))
        return t ? json_string((const char *)t) : json_null();
    gl_time_format(e, c->offset, buf);
    return json_string(buf);
}

/* The rows of a part of the store (gl_store_report_rows) as objects named
 * by names[]; columns listed in time_cols (a bit per column) are store
 * times shown at the offset. */
static int rows(gl_store *s, const struct ctx *c,
                enum gl_store_report_part part, const char *const *names,
                unsigned time_cols, json_t **out, struct gl_err *err)
{
    json_t *raw = NULL, *r;
    size_t k;
    int rc, i;

    *out = json_array();
    if ((rc = gl_store_report_rows(s, part, &raw, err)))
        return rc;
    json_array_foreach(raw, k, r)
    {
        json_t *o = json_object();
        for (i = 0; names[i]; i++) {
            json_t *v = json_array_get(r, (size_t)i);
            json_object_set_new(
                o, names[i],
                (time_cols >> i) & 1
                    ? iso_text(c, (const unsigned char *)json_string_value(v))
                    : json_incref(v));
        }
        json_array_append_new(*out, o);
    }
    json_decref(raw);
    return GL_OK;
}

static json_t *span(const struct ctx *c, json_t *a, json_t *b)
{
    if (!json_is_integer(a) || !json_is_integer(b))
        return json_null();
    return json_pack("[I, I]", (json_int_t)(json_integer_value(a) - c->t0),
                     (json_int_t)(json_integer_value(b) - c->t0));
}

static json_t *tasks_of(const struct ctx *c, json_t *status, int64_t now)
{
    json_t *out = json_array(), *t;
    size_t i;

    json_array_foreach(json_object_get(status, "tasks"), i, t)
    {
        const char *state = json_string_value(json_object_get(t, "state"));
        int running = !strcmp(state, "running") || !strcmp(state, "lost");
        json_t *now_j = json_integer(now),
               *end = running ? now_j : json_object_get(t, "ended");
        json_array_append_new(
            out, json_pack(
                     "{s:O, s:O, s:O, s:O, s:O, s:O, s:o, s:o, s:o, s:o,"
                     " s:{s:o, s:o, s:b}, s:O}",
                     "id", json_object_get(t, "id"), "title",
                     json_object_get(t, "title"), "stage",
                     json_object_get(t, "stage"), "state",
                     json_object_get(t, "state"), "owner",
                     json_object_get(t, "owner"), "checker",
                     json_object_get(t, "checker"), "planned_start",
                     iso(c, json_object_get(t, "planned_start")), "planned_end",
                     iso(c, json_object_get(t, "planned_end")), "started",
                     iso(c, json_object_get(t, "started")), "ended",
                     iso(c, json_object_get(t, "ended")), "timeline", "planned",
                     span(c, json_object_get(t, "planned_start"),
                          json_object_get(t, "planned_end")),
                     "actual", span(c, json_object_get(t, "started"), end),
                     "running", running, "critical",
                     json_object_get(t, "critical")));
        json_decref(now_j);
    }
    return out;
}

/* The times of o named in keys, as ISO text at the switch's offset. */
static json_t *with_iso(const struct ctx *c, json_t *o, const char *const *keys)
{
    json_t *x = json_deep_copy(o);

    for (; x && *keys; keys++)
        json_object_set_new(x, *keys, iso(c, json_object_get(o, *keys)));
    return x;
}

/* The ETAs: the cutover's, each stage's and the go / no-go decision's. */
static json_t *eta_of(const struct ctx *c, json_t *status)
{
    static const char *const span_keys[] = {"eta", "ended", "planned_end",
                                            NULL};
    static const char *const dec_keys[] = {
        "started",       "expected_start", "eta", "ended",
        "planned_start", "planned_end",    NULL};
    json_t *stages = json_array(), *x,
           *dec = json_object_get(status, "decision");
    size_t i;

    json_array_foreach(json_object_get(status, "stages"), i, x)
        json_array_append_new(stages, with_iso(c, x, span_keys));
    return json_pack(
        "{s:o, s:o, s:o, s:O, s:O, s:O, s:O, s:o, s:o, s:O, s:O}", "eta",
        iso(c, json_object_get(status, "eta")), "ended",
        iso(c, json_object_get(status, "ended")), "planned_end",
        iso(c, json_object_get(status, "planned_end")), "late",
        json_object_get(status, "late"), "overrun",
        json_object_get(status, "overrun"), "overrun_basis",
        json_object_get(status, "overrun_basis"), "chain",
        json_object_get(status, "chain"), "stages", stages, "decision",
        json_is_object(dec) ? with_iso(c, dec, dec_keys) : json_null(),
        "rollback", json_object_get(status, "rollback"), "rolled_back",
        json_object_get(status, "rolled_back"));
}

static json_t *late_of(const struct ctx *c, json_t *status)
{
    static const char *const keys[] = {"planned", NULL};
    json_t *out = json_array(), *x;
    size_t i;

    json_array_foreach(json_object_get(status, "late_tasks"), i, x)
        json_array_append_new(out, with_iso(c, x, keys));
    return out;
}

/* The plan's scenarios, riskiest first as testers take them, with their
 * state in the run (pending when nobody took them yet). */
static int scenarios_of(gl_store *s, const struct gl_plan *p, json_t **out,
                        struct gl_err *err)
{
    size_t i;
    int rc;

    *out = json_array();
    for (i = 0; i < p->n_scenarios; i++) {
        const struct gl_scenario *sc = &p->scenarios[i];
        char prio[8];
        json_t *o, *row = NULL, *res;
        snprintf(prio, sizeof(prio), "P%d", sc->priority);
        o = json_pack("{s:s, s:s?, s:s?, s:s, s:I, s:s?}", "id", sc->id.id,
                      "area", sc->area, "title", sc->title, "priority", prio,
                      "risk", (json_int_t)sc->risk, "assignee",
                      sc->assignee.id);
        if ((rc = gl_store_report_scenario(s, sc->id.id, &row, err))) {
            json_decref(o);
            return rc;
        }
        json_object_set_new(o, "state",
                            row ? json_incref(json_array_get(row, 0))
                                : json_string("pending"));
        json_object_set_new(o, "taken_by",
                            row ? json_incref(json_array_get(row, 1))
                                : json_null());
        json_object_set_new(o, "result_by",
                            row ? json_incref(json_array_get(row, 2))
                                : json_null());
        /* the tester: who recorded the result, else who took it (a
         * result may be recorded without 'scenario next') */
        res = row ? json_array_get(row, 2) : NULL;
        json_object_set_new(o, "tester",
                            !row ? json_null()
                            : !json_is_null(res)
                                ? json_incref(res)
                                : json_incref(json_array_get(row, 1)));
        json_object_set_new(
            o, "note", row ? json_incref(json_array_get(row, 3)) : json_null());
        json_array_append_new(*out, o);
        json_decref(row);
    }
    return GL_OK;
}

/* The verification forecast as it moved through the night: what it said
 * at each scenario result, times at the switch's offset. */
static int forecast_of(gl_store *s, const struct gl_plan *p,
                       const struct ctx *c, json_t **out, struct gl_err *err)
{
    static const char *const keys[] = {"at", "testing_done", "verified", NULL};
    json_t *h, *x;
    size_t i;
    int rc;

    *out = NULL;
    if ((rc = gl_forecast_history(s, p, &h, err)))
        return rc;
    *out = json_array();
    json_array_foreach(h, i, x)
        json_array_append_new(*out, with_iso(c, x, keys));
    json_decref(h);
    return GL_OK;
}

int gl_report_build(gl_store *s, const struct gl_plan *p,
                    const struct gl_run_info *info, int64_t now, json_t **out,
                    struct gl_err *err)
{
    static const char *const sync_cols[] = {
        "job",      "mode",    "started", "ended", "rows_read", "written",
        "rejected", "seconds", "outcome", "error", NULL};
    static const char *const check_cols[] = {
        "at",     "actor",   "check", "type",    "outcome", "source",
        "target", "missing", "extra", "changed", "message", NULL};
    static const char *const dec_cols[] = {"at", "actor", "decision", "note",
                                           NULL};
    static const char *const change_cols[] = {"at",     "actor",   "kind",
                                              "detail", "payload", NULL};
    json_t *o = NULL, *status = NULL, *x = NULL, *g = NULL;
    struct ctx c;
    char *dl = NULL, t[40];
    int64_t events = 0;
    int rc, verified;

    *out = NULL;
    c.t0 = info->switch_at;
    c.offset = info->switch_offset;
    if ((rc = gl_status_eval(s, p, info->switch_at, now, GL_STATUS_TASKS,
                             &status, err)))
        return rc;
    o = json_object();
    gl_time_format(info->switch_at, c.offset, t);
    json_object_set_new(
        o, "run",
        json_pack("{s:s, s:s, s:s?, s:b, s:s, s:i, s:s, s:o}", "cutover",
                  info->cutover, "run_id", info->run_id, "title", p->title,
                  "rehearsal", info->rehearsal, "switch_at", t, "plan_version",
                  info->plan_version, "plan_sha256", info->plan_sha256,
                  "generated_at", iso(&c, x = json_integer(now))));
    json_decref(x);
    json_object_set_new(o, "tasks", tasks_of(&c, status, now));
    json_object_set_new(o, "eta", eta_of(&c, status));
    json_object_set_new(o, "late_tasks", late_of(&c, status));
    json_object_set(o, "blockers", json_object_get(status, "blockers"));
    /* every execution from its start; one that died shows so */
    if ((rc = gl_run_sql_functions(s, err)) ||
        (rc = rows(s, &c, GL_STORE_REPORT_SYNCS, sync_cols, 0xC, &x, err)))
        goto fail;
    json_object_set_new(o, "syncs", x);
    if ((rc = rows(s, &c, GL_STORE_REPORT_CHECKS, check_cols, 0x1, &x, err)))
        goto fail;
    json_object_set_new(o, "checks", x);
    if ((rc = scenarios_of(s, p, &x, err)))
        goto fail;
    json_object_set_new(o, "scenarios", x);
    json_object_set(o, "scenario_counts", json_object_get(status, "scenarios"));
    if ((rc = forecast_of(s, p, &c, &x, err)))
        goto fail;
    json_object_set_new(o, "forecast_history", x);
    if (!(dl = gl_defect_list(s, err))) {
        rc = err->code ? err->code : GL_ESTORE;
        goto fail;
    }
    json_object_set_new(o, "defects", json_loads(dl, 0, NULL));
    if ((rc = rows(s, &c, GL_STORE_REPORT_DECISIONS, dec_cols, 0x1, &x, err)))
        goto fail;
    json_object_set_new(o, "decisions", x);
    if ((rc = gl_gate_eval(s, p, &g, err)))
        goto fail;
    json_object_set_new(o, "gate", g);
    if ((rc = rows(s, &c, GL_STORE_REPORT_CHANGES, change_cols, 0x1, &x, err)))
        goto fail;
    {
        /* an amendment says what it changed */
        json_t *e;
        size_t i;
        json_array_foreach(x, i, e)
        {
            json_t *pl = json_is_string(json_object_get(e, "payload"))
                             ? json_loads(json_string_value(
                                              json_object_get(e, "payload")),
                                          0, NULL)
                             : NULL;
            if (pl) {
                struct gl_buf b = GL_BUF_INIT;
                json_t *lines = gl_amend_lines(json_object_get(pl, "diff")), *l;
                size_t j;
                gl_buf_addf(
                    &b, "plan version %" JSON_INTEGER_FORMAT ": ",
                    json_integer_value(json_object_get(pl, "plan_version")));
                json_array_foreach(lines, j, l) gl_buf_addf(
                    &b, "%s%s", j ? "; " : "", json_string_value(l));
                if (!lines)
                    gl_buf_fail(&b, ENOMEM);
                if ((rc = gl_buf_check(&b, "a change's detail", err))) {
                    gl_buf_release(&b);
                    json_decref(pl);
                    json_decref(x);
                    goto fail;
                }
                json_object_set_new(e, "detail", json_string(gl_buf_str(&b)));
                gl_buf_release(&b);
                json_decref(lines);
                json_decref(pl);
            }
            json_object_del(e, "payload");
        }
    }
    json_object_set_new(o, "changes", x);
    if ((rc = gl_duty_list(s, &x, err)))
        goto fail;
    {
        json_t *e;
        size_t i;
        json_array_foreach(x, i, e)
        {
            json_object_set_new(
                e, "at",
                iso_text(&c, (const unsigned char *)json_string_value(
                                 json_object_get(e, "at"))));
        }
    }
    json_object_set_new(o, "duty", x);
    {
        struct gl_err e2;
        struct gl_audit a;
        char head[100];
        gl_err_clear(&e2);
        rc = gl_audit_verify(s, NULL, &a, &e2);
        if (rc && rc != GL_ECORRUPT) {
            gl_audit_release(&a);
            *err = e2;
            goto fail;
        }
        rc = GL_OK;
        verified = json_array_size(a.problems) == 0;
        events = a.events;
        snprintf(head, sizeof(head), "%" PRId64 ":%s", a.head.seq, a.head.hash);
        json_object_set_new(
            o, "audit",
            json_pack("{s:b, s:I, s:s, s:s, s:O, s:O}", "verified", verified,
                      "events", (json_int_t)events, "detail",
                      verified ? "the event chain verifies and every table "
                                 "matches the events"
                               : e2.msg,
                      "head", head, "problems", a.problems, "warnings",
                      a.warnings));
        gl_audit_release(&a);
    }
    free(dl);
    json_decref(status);
    *out = o;
    return GL_OK;
fail:
    free(dl);
    json_decref(status);
    json_decref(o);
    return rc;
}
