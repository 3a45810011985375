/*
 * store-gate.c - what the gate and the rollback read and write in the
 * state store (see run/store-rows.h): states, check outcomes, open
 * defects, decisions, the rollback's start.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/common.h"
#include "run/store-internal.h"
#include "run/store-rows.h"

/* One string from a one-row, one-column query with an optional text
 * parameter; "" when there is no row. */
static int query_text(gl_store *s, const char *sql, const char *arg, char *out,
                      size_t n, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    out[0] = '\0';
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    if (arg)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? GL_OK
                                                     : gl_run_fail_db(s, err);
}

int gl_store_state_of(gl_store *s, const char *table, const char *id, char *out,
                      size_t n, struct gl_err *err)
{
    return query_text(s,
                      !strcmp(table, "scenarios")
                          ? "SELECT state FROM scenarios WHERE id = ?"
                          : "SELECT state FROM tasks WHERE id = ?",
                      id, out, n, err);
}

int gl_store_check_outcome(gl_store *s, const char *id, char *out, size_t n,
                           struct gl_err *err)
{
    char message[1];

    return gl_store_check_result(s, id, out, n, message, sizeof(message), err);
}

int gl_store_check_stale(gl_store *s, const char *id, const char *job, char *at,
                         size_t n, int *ended, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    at[0] = '\0';
    *ended = 0;
    /* sync_runs.event_seq: the sync.run event of an ended execution, the
     * sync.start event of one that has not ended */
    if (gl_store_stmt(
            s,
            "SELECT COALESCE(ended_at, started_at), ended_at IS NOT NULL"
            " FROM sync_runs WHERE job = ?2 AND mode <> 'none' AND"
            " event_seq > (SELECT COALESCE(max(seq), 0) FROM events"
            " WHERE kind = 'check.run' AND"
            " json_extract(payload, '$.check') = ?1)"
            " ORDER BY event_seq DESC LIMIT 1",
            &st) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, job, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        snprintf(at, n, "%s", (const char *)sqlite3_column_text(st, 0));
        *ended = sqlite3_column_int(st, 1);
    }
    gl_store_stmt_done(s, st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? GL_OK
                                                     : gl_run_fail_db(s, err);
}

int gl_store_open_defects(gl_store *s, int rank,
                          void (*each)(void *ctx, int64_t n, const char *title,
                                       const char *state, const char *severity),
                          void *ctx, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (gl_store_stmt(s,
                      "SELECT n, title, state, severity FROM defects"
                      " WHERE (CASE severity WHEN 'blocker' THEN 3"
                      " WHEN 'major' THEN 2 WHEN 'minor' THEN 1"
                      " ELSE 0 END) >= ?1 AND state <> ?2 AND"
                      " (state <> ?3 OR severity = 'blocker')"
                      " ORDER BY n",
                      &st) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_int(st, 1, rank);
    sqlite3_bind_text(st, 2, gl_transition_to(gl_defect_moves, "verify"), -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 3, gl_transition_to(gl_defect_moves, "defer"), -1,
                      SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        each(ctx, sqlite3_column_int64(st, 0),
             (const char *)sqlite3_column_text(st, 1),
             (const char *)sqlite3_column_text(st, 2),
             (const char *)sqlite3_column_text(st, 3));
    gl_store_stmt_done(s, st);
    return step == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
}

int gl_store_decision_insert(gl_store *s, const char *decision,
                             const char *note, const char *actor,
                             const char *at, const char *gate, int64_t seq,
                             struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO decisions (decision, note, actor, at,"
                           " gate, event_seq) VALUES (?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, decision, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, note, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, gate, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, seq);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    return rc;
}

int gl_store_rollback_started(gl_store *s)
{
    sqlite3_stmt *st = NULL;
    int r = -1;

    if (gl_store_stmt(s, "SELECT rollback_at IS NOT NULL FROM run", &st) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        r = sqlite3_column_int(st, 0);
    gl_store_stmt_done(s, st);
    return r;
}

int gl_store_rollback_set(gl_store *s, const char *at, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db, "UPDATE run SET rollback_at = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, at, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    return rc;
}
