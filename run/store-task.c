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

#include "run/store-internal.h"

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
    char at[40];
    int rc = GL_OK;

    snprintf(at, sizeof(at), "%s", gl_store_event_at(s));
    if (sqlite3_prepare_v2(
            s->db,
            "UPDATE tasks SET state = ?1, event_seq = ?2,"
            " started_at = CASE WHEN ?1 = 'running' THEN ?3"
            "  WHEN ?1 = 'pending' THEN NULL ELSE started_at END,"
            " finished_at = CASE WHEN ?1 IN ('done', 'failed', 'skipped')"
            "  THEN ?3 WHEN ?1 IN ('pending', 'running') THEN NULL"
            "  ELSE finished_at END,"
            " checked_at = CASE WHEN ?1 = 'checked' THEN ?3 ELSE NULL END,"
            " pid = CASE WHEN ?1 IN ('running', 'pending') THEN NULL"
            "  ELSE pid END,"
            " host = CASE WHEN ?1 IN ('running', 'pending') THEN NULL"
            "  ELSE host END,"
            " pgid = CASE WHEN ?1 IN ('running', 'pending') THEN NULL"
            "  ELSE pgid END"
            " WHERE id = ?4",
            -1, &st, NULL) != SQLITE_OK)
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
