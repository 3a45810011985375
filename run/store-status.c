/*
 * store-status.c - what the lead's status (run/status.c) reads from the
 * state store (see run/store-rows.h): every task's row, whether a sync
 * job can resume, the blockers (defects, checks, scenarios), the
 * rollback's start and the last decision (the open defects are
 * gl_store_open_defects', run/store-gate.c).  The states the SQL selects by
 * are bound from the state machines' tables (run/transition.h).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "run/common.h"
#include "run/store-internal.h"
#include "run/store-rows.h"
#include "util/clock.h"

int gl_store_status_tasks(gl_store *s,
                          void (*each)(void *ctx,
                                       const struct gl_store_task_now *t),
                          void *ctx, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (gl_store_stmt(s,
                      "SELECT id, state, owner, checker, started_at,"
                      " finished_at, pid, host, planned_start,"
                      " planned_end, pgid FROM tasks",
                      &st) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct gl_store_task_now t;
        t.has_pid = sqlite3_column_type(st, 6) != SQLITE_NULL;
        t.id = (const char *)sqlite3_column_text(st, 0);
        t.state = (const char *)sqlite3_column_text(st, 1);
        t.owner = (const char *)sqlite3_column_text(st, 2);
        t.checker = (const char *)sqlite3_column_text(st, 3);
        t.started_at = (const char *)sqlite3_column_text(st, 4);
        t.finished_at = (const char *)sqlite3_column_text(st, 5);
        t.planned_start = (const char *)sqlite3_column_text(st, 8);
        t.planned_end = (const char *)sqlite3_column_text(st, 9);
        /* read only where there is one: status reads 20,000 rows */
        t.pid = t.has_pid ? sqlite3_column_int64(st, 6) : 0;
        t.pgid = t.has_pid ? sqlite3_column_int64(st, 10) : 0;
        t.host = t.has_pid ? (const char *)sqlite3_column_text(st, 7) : NULL;
        each(ctx, &t);
    }
    gl_store_stmt_done(s, st);
    return step == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
}

int gl_store_sync_resumable(gl_store *s, const char *job)
{
    sqlite3_stmt *st = NULL;
    int yes = 0;

    if (gl_store_stmt(s,
                      "SELECT " GL_RUN_SYNC_OUTCOME " IN ('interrupted',"
                      " 'died', 'failed') FROM sync_runs WHERE job = ?"
                      " ORDER BY id DESC LIMIT 1",
                      &st) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            yes = sqlite3_column_int(st, 0);
    }
    gl_store_stmt_done(s, st);
    return yes;
}

int gl_store_rollback_at(gl_store *s, char *out, size_t n, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    out[0] = '\0';
    if (gl_store_stmt(s, "SELECT rollback_at FROM run", &st) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
    gl_store_stmt_done(s, st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? GL_OK
                                                     : gl_run_fail_db(s, err);
}

int gl_store_check_result(gl_store *s, const char *id, char *outcome, size_t on,
                          char *message, size_t mn, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    outcome[0] = message[0] = '\0';
    if (gl_store_stmt(s,
                      "SELECT json_extract(payload, '$.outcome'),"
                      " json_extract(payload, '$.message') FROM"
                      " events WHERE kind = 'check.run' AND"
                      " json_extract(payload, '$.check') = ?"
                      " ORDER BY seq DESC LIMIT 1",
                      &st) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        snprintf(outcome, on, "%s", (const char *)sqlite3_column_text(st, 0));
        if (sqlite3_column_text(st, 1))
            snprintf(message, mn, "%s",
                     (const char *)sqlite3_column_text(st, 1));
    }
    gl_store_stmt_done(s, st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? GL_OK
                                                     : gl_run_fail_db(s, err);
}

int gl_store_blocked_scenarios(gl_store *s,
                               void (*each)(void *ctx, const char *id,
                                            const char *by, const char *why),
                               void *ctx, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (gl_store_stmt(s,
                      "SELECT id, COALESCE(result_by, taken_by, ''),"
                      " COALESCE(note, '') FROM scenarios WHERE"
                      " state = ? ORDER BY id",
                      &st) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, gl_transition_to(gl_scenario_moves, "block"), -1,
                      SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        each(ctx, (const char *)sqlite3_column_text(st, 0),
             (const char *)sqlite3_column_text(st, 1),
             (const char *)sqlite3_column_text(st, 2));
    gl_store_stmt_done(s, st);
    return step == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
}

json_t *gl_store_last_decision(gl_store *s)
{
    sqlite3_stmt *st = NULL;
    json_t *o = json_null();

    if (sqlite3_prepare_v2(s->db,
                           "SELECT decision, actor, at, note FROM decisions"
                           " ORDER BY id DESC LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return o;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *at = (const char *)sqlite3_column_text(st, 2);
        int64_t t = 0;
        int off = 0;
        json_t *when =
            at && !gl_time_parse(at, &t, &off) ? json_integer(t) : json_null();
        o = json_pack("{s:s, s:s, s:o, s:s}", "decision",
                      (const char *)sqlite3_column_text(st, 0), "actor",
                      (const char *)sqlite3_column_text(st, 1), "at", when,
                      "note", (const char *)sqlite3_column_text(st, 3));
        if (!o)
            o = json_null();
    }
    sqlite3_finalize(st);
    return o;
}
