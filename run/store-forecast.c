/*
 * store-forecast.c - what the verification forecast reads of the store
 * (see golive/store.h, "the verification forecast"): the events of
 * scenarios, defects and handovers as plain rows, so that the forecast
 * itself (run/forecast.c) is computed from data, at any point of the
 * night, without SQL.
 */
#include "golive/store.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "store-internal.h"
#include "store-rows.h"
#include "util/clock.h"

/* One row per event, and one per scenario or defect a handover moved
 * (after the handover's own row: sub 0, then 1). */
static const char sql_events[] =
    "SELECT seq, at, kind, actor, json_extract(payload, '$.scenario'),"
    " CASE kind WHEN 'handover' THEN COALESCE(json_extract(payload, '$.all'),"
    "  1) ELSE json_extract(payload, '$.defect') END,"
    " CASE kind WHEN 'defect.open' THEN json_extract(payload, '$.severity')"
    "  WHEN 'handover' THEN json_extract(payload, '$.to')"
    "  WHEN 'defect.severity' THEN json_extract(payload, '$.to')"
    "  WHEN 'run.amend' THEN NULL"
    "  ELSE json_extract(payload, '$.' || CASE WHEN kind LIKE 'scenario.%'"
    "   THEN 'state' ELSE 'to' END) END, 0 AS sub"
    " FROM events WHERE kind IN ('scenario.take', 'scenario.pass',"
    " 'scenario.fail', 'scenario.block', 'defect.open', 'defect.fixing',"
    " 'defect.fixed', 'defect.verify', 'defect.reopen', 'defect.defer',"
    " 'defect.severity', 'handover', 'run.amend')"
    " UNION ALL"
    " SELECT e.seq, e.at, 'hand.scenario', json_extract(e.payload, '$.from'),"
    " j.value, NULL, json_extract(e.payload, '$.to'), 1"
    " FROM events e, json_each(e.payload, '$.scenarios') j"
    " WHERE e.kind = 'handover'"
    " UNION ALL"
    " SELECT e.seq, e.at, 'hand.defect', json_extract(e.payload, '$.from'),"
    " NULL, CAST(substr(j.value, 3) AS INTEGER),"
    " json_extract(e.payload, '$.to'), 1"
    " FROM events e, json_each(e.payload, '$.defects') j"
    " WHERE e.kind = 'handover'"
    " ORDER BY 1, 8";

static int kind_of(const char *k, enum gl_fc_kind *out)
{
    static const struct {
        const char *name;
        enum gl_fc_kind kind;
    } map[] = {
        {"scenario.take", GL_FC_TAKE},
        {"scenario.pass", GL_FC_RESULT},
        {"scenario.fail", GL_FC_RESULT},
        {"scenario.block", GL_FC_RESULT},
        {"defect.open", GL_FC_DEFECT_OPEN},
        {"defect.fixing", GL_FC_DEFECT_MOVE},
        {"defect.fixed", GL_FC_DEFECT_MOVE},
        {"defect.verify", GL_FC_DEFECT_MOVE},
        {"defect.reopen", GL_FC_DEFECT_MOVE},
        {"defect.defer", GL_FC_DEFECT_MOVE},
        {"defect.severity", GL_FC_DEFECT_SEVERITY},
        {"handover", GL_FC_HANDOVER},
        {"hand.scenario", GL_FC_HAND_SCENARIO},
        {"hand.defect", GL_FC_HAND_DEFECT},
        {"run.amend", GL_FC_AMEND},
    };
    size_t i;

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(map[i].name, k)) {
            *out = map[i].kind;
            return 0;
        }
    return -1;
}

static char *dup_col(sqlite3_stmt *st, int i, int *oom)
{
    const unsigned char *v = sqlite3_column_text(st, i);
    char *d;

    if (!v)
        return NULL;
    if (!(d = strdup((const char *)v)))
        *oom = 1;
    return d;
}

void gl_fc_log_release(struct gl_fc_log *log)
{
    size_t i;

    for (i = 0; i < log->n; i++) {
        free(log->v[i].actor);
        free(log->v[i].scenario);
        free(log->v[i].text);
    }
    free(log->v);
    log->v = NULL;
    log->n = 0;
}

int gl_store_forecast_events(gl_store *s, struct gl_fc_log *log,
                             struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int step, oom = 0;

    log->v = NULL;
    log->n = 0;
    if (gl_store_stmt(s, sql_events, &st) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct gl_fc_event *e;
        enum gl_fc_kind kind;
        int off;
        if (kind_of((const char *)sqlite3_column_text(st, 2), &kind))
            continue;
        if (log->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct gl_fc_event *v = realloc(log->v, nc * sizeof(*v));
            if (!v) {
                oom = 1;
                break;
            }
            log->v = v;
            cap = nc;
        }
        e = &log->v[log->n++];
        memset(e, 0, sizeof(*e));
        e->seq = sqlite3_column_int64(st, 0);
        if (!sqlite3_column_text(st, 1) ||
            gl_time_parse((const char *)sqlite3_column_text(st, 1), &e->at,
                          &off))
            e->at = 0;
        e->kind = kind;
        e->actor = dup_col(st, 3, &oom);
        e->scenario = dup_col(st, 4, &oom);
        e->defect = sqlite3_column_int64(st, 5);
        e->text = dup_col(st, 6, &oom);
        if (oom)
            break;
    }
    gl_store_stmt_done(s, st);
    if (oom) {
        gl_fc_log_release(log);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    if (step != SQLITE_DONE) {
        gl_fc_log_release(log);
        return gl_run_fail_db(s, err);
    }
    return GL_OK;
}

/* The scenario's row and the time of the event that made it (the take or
 * the result); who: the result's recorder, else its taker. */
static const char sql_scenario_now[] =
    "SELECT sc.id, sc.state, COALESCE(sc.result_by, sc.taken_by, ''),"
    " COALESCE(e.at, '') FROM scenarios sc LEFT JOIN events e"
    " ON e.seq = sc.event_seq WHERE ";

static int scenario_row(gl_store *s, const char *where, const char *arg,
                        const char *state, struct gl_scenario_now *out,
                        struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    char sql[512];
    int step, off;

    memset(out, 0, sizeof(*out));
    snprintf(sql, sizeof(sql), "%s%s", sql_scenario_now, where);
    if (sqlite3_prepare_v2(gl_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    if (state)
        sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        out->found = 1;
        snprintf(out->id, sizeof(out->id), "%s",
                 (const char *)sqlite3_column_text(st, 0));
        snprintf(out->state, sizeof(out->state), "%s",
                 (const char *)sqlite3_column_text(st, 1));
        snprintf(out->by, sizeof(out->by), "%s",
                 (const char *)sqlite3_column_text(st, 2));
        if (gl_time_parse((const char *)sqlite3_column_text(st, 3), &out->at,
                          &off))
            out->at = 0;
    }
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? GL_OK
                                                     : gl_run_fail_db(s, err);
}

int gl_store_scenario_now(gl_store *s, const char *id,
                          struct gl_scenario_now *out, struct gl_err *err)
{
    return scenario_row(s, "sc.id = ?1", id, NULL, out, err);
}

int gl_store_scenario_held(gl_store *s, const char *person,
                           struct gl_scenario_now *out, struct gl_err *err)
{
    return scenario_row(s,
                        "sc.state = ?2 AND sc.taken_by = ?1"
                        " ORDER BY sc.event_seq LIMIT 1",
                        person, gl_transition_to(gl_scenario_moves, "take"),
                        out, err);
}
