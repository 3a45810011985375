/*
 * store-amend.c - what `golive run amend` (run/amend.c) and its replay
 * read and write in the state store (see run/store-rows.h): the plan
 * versions, the run's version, the tasks' and scenarios' rows brought in
 * line with a new plan, and what already happened that a new plan must
 * keep.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/common.h"
#include "run/store-internal.h"
#include "run/store-rows.h"

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

int gl_store_started_scenarios(gl_store *s,
                               void (*each)(void *ctx, const char *id,
                                            const char *state),
                               void *ctx, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, state FROM scenarios WHERE state <> ?"
                           " ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, gl_transition_from(gl_scenario_moves, "take"), -1,
                      SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        each(ctx, (const char *)sqlite3_column_text(st, 0),
             (const char *)sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
}

int gl_store_event_actors(gl_store *s,
                          void (*each)(void *ctx, const char *actor), void *ctx,
                          struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT DISTINCT actor FROM events ORDER BY 1", -1,
                           &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        each(ctx, (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
}

/* Run sql with text parameters ?1 (a) and ?2 (b). */
static int exec_sql(gl_store *s, const char *sql, const char *a, const char *b,
                    struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    return rc;
}

int gl_store_task_drop_pending(gl_store *s, const char *id, struct gl_err *err)
{
    return exec_sql(s, "DELETE FROM tasks WHERE id = ?1 AND state = ?2", id,
                    gl_task_state_name(GL_TASK_PENDING), err);
}

int gl_store_scenario_drop_pending(gl_store *s, const char *id,
                                   struct gl_err *err)
{
    return exec_sql(s, "DELETE FROM scenarios WHERE id = ?1 AND state = ?2", id,
                    gl_transition_from(gl_scenario_moves, "take"), err);
}

int gl_store_tasks_replan(gl_store *s, const struct gl_plan *cur,
                          const struct gl_plan *next, int64_t seq,
                          struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    int rc = GL_OK;

    if (sqlite3_prepare_v2(
            s->db,
            "INSERT INTO tasks (id, stage, owner, checker, planned_at,"
            " duration, event_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            " ON CONFLICT (id) DO UPDATE SET stage = ?2, planned_at = ?5,"
            " duration = ?6,"
            " owner = CASE WHEN ?8 THEN ?3 ELSE owner END,"
            " checker = CASE WHEN ?9 THEN ?4 ELSE checker END",
            -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    for (i = 0; i < next->n_tasks && !rc; i++) {
        const struct gl_task *t = &next->tasks[i],
                             *was = gl_plan_task(cur, t->id.id);
        sqlite3_reset(st);
        gl_store_bind_task(st, t, seq);
        /* a handover stays unless the plan itself names someone new */
        sqlite3_bind_int(st, 8, !was || !same(was->owner.id, t->owner.id));
        sqlite3_bind_int(st, 9, !was || !same(was->checker.id, t->checker.id));
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = gl_run_fail_db(s, err);
    }
    sqlite3_finalize(st);
    return rc;
}

int gl_store_scenarios_replan(gl_store *s, const struct gl_plan *next,
                              struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    int rc = GL_OK;

    if (sqlite3_prepare_v2(s->db,
                           "UPDATE scenarios SET area = ?2, priority = ?3,"
                           " risk = ?4, assignee = ?5 WHERE id = ?1 AND"
                           " state = ?6",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    for (i = 0; i < next->n_scenarios && !rc; i++) {
        const struct gl_scenario *sc = &next->scenarios[i];
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, sc->id.id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, sc->area, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, sc->priority);
        sqlite3_bind_int64(st, 4, sc->risk);
        sqlite3_bind_text(st, 5, sc->assignee.id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, gl_transition_from(gl_scenario_moves, "take"),
                          -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = gl_run_fail_db(s, err);
    }
    sqlite3_finalize(st);
    return rc;
}

int gl_store_plan_version_insert(gl_store *s, int version, const char *sha,
                                 const char *path, const char *text, size_t len,
                                 const char *at, int64_t seq,
                                 struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO plan_versions (version, sha256, path,"
                           " text, taken_at, event_seq) VALUES"
                           " (?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_int(st, 1, version);
    sqlite3_bind_text(st, 2, sha, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, text, (int)len, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, at, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, seq);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    return rc;
}

int gl_store_run_set_plan_version(gl_store *s, int version, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db, "UPDATE run SET plan_version = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_int(st, 1, version);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    return rc;
}
