/*
 * store-task.c - task state in the state store: the task states, their
 * counts, reading and setting one task's state.
 */
#include "golive/store.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "golive/scenario.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/crashpoint.h"
#include "util/sha256.h"

#include "run/common.h"
#include "run/store-internal.h"
#include "run/store-rows.h"

/* ---- task state ------------------------------------------------------ */

static const char *const task_states[] = {
    "pending", "ready", "running", "done", "checked", "failed", "skipped"};

const char *gl_task_state_name(enum gl_task_state st)
{
    return (unsigned)st < GL_TASK_STATE_COUNT ? task_states[st] : "?";
}

int gl_store_task_counts(gl_store *s,
                         int64_t count[GL_STAGE_COUNT][GL_TASK_STATE_COUNT],
                         struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step, i, j;

    memset(count, 0, sizeof(int64_t) * GL_STAGE_COUNT * GL_TASK_STATE_COUNT);
    if (sqlite3_prepare_v2(s->db,
                           "SELECT stage, state, count(*) FROM tasks GROUP BY"
                           " stage, state",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot read tasks");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *stage = gl_store_col_text(st, 0),
                   *state = gl_store_col_text(st, 1);
        for (i = 0; i < GL_STAGE_COUNT; i++)
            if (!strcmp(stage, gl_stage_name((enum gl_stage)i)))
                break;
        for (j = 0; j < GL_TASK_STATE_COUNT; j++)
            if (!strcmp(state, task_states[j]))
                break;
        if (i < GL_STAGE_COUNT && j < GL_TASK_STATE_COUNT)
            count[i][j] += sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return gl_store_db_err(s, err, "cannot read tasks");
    return GL_OK;
}

const char *gl_task_state_static(const char *state)
{
    size_t i;

    for (i = 0; i < GL_TASK_STATE_COUNT; i++)
        if (!strcmp(state, task_states[i]))
            return task_states[i];
    return NULL;
}

int gl_store_task_state(gl_store *s, const char *id, char *state, size_t n,
                        struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step, rc = GL_OK;

    if (sqlite3_prepare_v2(s->db, "SELECT state FROM tasks WHERE id = ?", -1,
                           &st, NULL) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot read a task");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        snprintf(state, n, "%s", gl_store_col_text(st, 0));
    else if (step == SQLITE_DONE)
        rc = gl_err_set(err, GL_ENOTFOUND, "the run has no task '%s'", id);
    else
        rc = gl_store_db_err(s, err, "cannot read a task");
    sqlite3_finalize(st);
    return rc;
}

int gl_store_task_set(gl_store *s, const char *id, const char *state,
                      int64_t seq, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    char at[40], started[64], ended[64], checked[64], back[64], sql[1400];
    int rc = GL_OK;

    /* which states stamp which time: the task moves' own to states */
    if ((rc = gl_store_sql_states(gl_task_moves, "start", 0, started,
                                  sizeof(started), err)) ||
        (rc = gl_store_sql_states(gl_task_moves, "done fail skip", 0, ended,
                                  sizeof(ended), err)) ||
        (rc = gl_store_sql_states(gl_task_moves, "check", 0, checked,
                                  sizeof(checked), err)) ||
        (rc = gl_store_sql_states(gl_task_moves, "reopen", 0, back,
                                  sizeof(back), err)))
        return rc;
    /* started or taken back: no time of an end, no process */
    snprintf(sql, sizeof(sql),
             "UPDATE tasks SET state = ?1, event_seq = ?2,"
             " started_at = CASE WHEN ?1 IN %s THEN ?3"
             "  WHEN ?1 IN %s THEN NULL ELSE started_at END,"
             " finished_at = CASE WHEN ?1 IN %s"
             "  THEN ?3 WHEN ?1 IN %s OR ?1 IN %s THEN NULL"
             "  ELSE finished_at END,"
             " checked_at = CASE WHEN ?1 IN %s THEN ?3 ELSE NULL END,"
             " pid = CASE WHEN ?1 IN %s OR ?1 IN %s THEN NULL"
             "  ELSE pid END,"
             " host = CASE WHEN ?1 IN %s OR ?1 IN %s THEN NULL"
             "  ELSE host END,"
             " pgid = CASE WHEN ?1 IN %s OR ?1 IN %s THEN NULL"
             "  ELSE pgid END"
             " WHERE id = ?4",
             started, back, ended, back, started, checked, started, back,
             started, back, started, back);
    snprintf(at, sizeof(at), "%s", gl_store_event_at(s));
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot update a task");
    sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_text(st, 3, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(s->db) != 1)
        rc = gl_store_db_err(s, err, "cannot update a task");
    sqlite3_finalize(st);
    return rc;
}

/* The planned times a task is held to: fixed when it starts (from the
 * task.start event), forgotten when it is reopened. */
int gl_task_set_planned(gl_store *s, const char *id, const char *next,
                        const char *start, const char *end, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    const char *started = gl_transition_to(gl_task_moves, "start");
    const char *back = gl_transition_to(gl_task_moves, "reopen");

    if (strcmp(next, started) && strcmp(next, back))
        return GL_OK;
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE tasks SET planned_start = ?,"
                           " planned_end = ? WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    if (!strcmp(next, started) && *start) {
        sqlite3_bind_text(st, 1, start, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, end, -1, SQLITE_STATIC);
    }
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    return rc;
}

int gl_store_task_row(gl_store *s, const char *id, struct gl_store_task *t,
                      struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    memset(t, 0, sizeof(*t));
    if (sqlite3_prepare_v2(s->db,
                           "SELECT owner, checker, state = ?2 AND"
                           " pid IS NOT NULL, pid, host, pgid FROM tasks"
                           " WHERE id = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, gl_task_state_name(GL_TASK_RUNNING), -1,
                      SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        t->found = 1;
        snprintf(t->owner, sizeof(t->owner), "%s", gl_store_col_text(st, 0));
        snprintf(t->checker, sizeof(t->checker), "%s",
                 gl_store_col_text(st, 1));
        t->running = sqlite3_column_int(st, 2);
        t->pid = sqlite3_column_int64(st, 3);
        snprintf(t->host, sizeof(t->host), "%s", gl_store_col_text(st, 4));
        t->pgid = sqlite3_column_int64(st, 5);
    }
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? GL_OK
                                                     : gl_run_fail_db(s, err);
}

int gl_store_task_did(gl_store *s, const char *id, const char *person,
                      int forced_counts, int *did, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    *did = 0;
    /* the events are the truth: a handover or an amended plan changes
     * the row's owner, never who did the work */
    if (sqlite3_prepare_v2(
            s->db,
            "SELECT 1 FROM events WHERE actor = ?2 AND kind IN (?3, ?4)"
            " AND json_extract(payload, '$.task') = ?1"
            " AND NOT (kind = ?3 AND NOT ?6 AND coalesce(json_extract("
            "  payload, '$.force'), 0))"
            " AND seq > coalesce((SELECT max(seq) FROM events"
            "  WHERE kind = ?5 AND json_extract(payload, '$.task') = ?1), 0)"
            " LIMIT 1",
            -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, person, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, "task.start", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, "task.done", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, "task.reopen", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, forced_counts);
    step = sqlite3_step(st);
    *did = step == SQLITE_ROW;
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? GL_OK
                                                     : gl_run_fail_db(s, err);
}

int gl_store_task_ever_started(gl_store *s, const char *id, int *started,
                               struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    *started = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT 1 FROM events WHERE kind = ?2"
                           " AND json_extract(payload, '$.task') = ?1 LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, "task.start", -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    *started = step == SQLITE_ROW;
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? GL_OK
                                                     : gl_run_fail_db(s, err);
}

int gl_store_task_exec(gl_store *s, const char *id, int64_t pid,
                       const char *host, const char *output, int64_t pgid,
                       struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           "UPDATE tasks SET pid = ?, host = ?, output = ?,"
                           " pgid = ? WHERE id = ? AND state = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_int64(st, 1, pid);
    sqlite3_bind_text(st, 2, host, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, output, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, pgid);
    sqlite3_bind_text(st, 5, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, gl_task_state_name(GL_TASK_RUNNING), -1,
                      SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    if (!rc && sqlite3_changes(s->db) != 1)
        rc = gl_err_set(err, GL_EREFUSED, "task '%s' is no longer running", id);
    return rc;
}

int gl_store_task_output(gl_store *s, const char *id, char *out, size_t n,
                         struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    out[0] = '\0';
    if (sqlite3_prepare_v2(s->db, "SELECT output FROM tasks WHERE id = ?", -1,
                           &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        snprintf(out, n, "%s", gl_store_col_text(st, 0));
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? GL_OK
                                                     : gl_run_fail_db(s, err);
}
