/*
 * store-crew.c - what the shift and the handover (run/crew.c) read and
 * write in the state store (see run/store-rows.h): the switch time, the
 * open work a person holds, and the rows a handover moves.  The states
 * the SQL selects by are bound from the state machines' tables
 * (run/transition.h) and gl_task_state_name, never spelt here.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "run/common.h"
#include "run/store-internal.h"
#include "run/store-rows.h"

int gl_store_run_set_switch(gl_store *s, int64_t switch_at, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db, "UPDATE run SET switch_at = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_int64(st, 1, switch_at);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    return rc;
}

/* Bind the states named (NULL ends them) as parameters from..: the SQL
 * selects by them. */
static void bind_states(sqlite3_stmt *st, int from, const char *const *states)
{
    for (; *states; states++)
        sqlite3_bind_text(st, from++, *states, -1, SQLITE_STATIC);
}

/* The ids a query with ?1 = the person and ?2.. = states returns, into
 * arr. */
static int ids_of(gl_store *s, const char *sql, const char *person,
                  const char *const *states, json_t *arr, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, person, -1, SQLITE_STATIC);
    bind_states(st, 2, states);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(
            arr, json_string((const char *)sqlite3_column_text(st, 0)));
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
}

int gl_store_held_work(gl_store *s, const char *person, json_t *tasks,
                       json_t *scenarios, json_t *defects, struct gl_err *err)
{
    /* an owner holds a task until it is done (or skipped); a checker
     * until it is checked or skipped */
    const char *const task_states[] = {gl_task_state_name(GL_TASK_PENDING),
                                       gl_task_state_name(GL_TASK_RUNNING),
                                       gl_task_state_name(GL_TASK_FAILED),
                                       gl_task_state_name(GL_TASK_CHECKED),
                                       gl_task_state_name(GL_TASK_SKIPPED),
                                       NULL};
    /* a tester holds a scenario taken, or one assigned not yet taken */
    const char *const scen_states[] = {
        gl_transition_to(gl_scenario_moves, "take"),
        gl_transition_from(gl_scenario_moves, "take"), NULL};
    const char *const defect_states[] = {
        gl_transition_to(gl_defect_moves, "fixing"), NULL};
    int rc;

    if ((rc = ids_of(s,
                     "SELECT id FROM tasks WHERE (owner = ?1 AND state IN"
                     " (?2, ?3, ?4)) OR (checker = ?1 AND state NOT IN"
                     " (?5, ?6)) ORDER BY id",
                     person, task_states, tasks, err)) ||
        (rc = ids_of(s,
                     "SELECT id FROM scenarios WHERE (state = ?2 AND"
                     " taken_by = ?1) OR (state = ?3 AND assignee = ?1)"
                     " ORDER BY id",
                     person, scen_states, scenarios, err)))
        return rc;
    return ids_of(s,
                  "SELECT 'D-' || n FROM defects WHERE state = ?2 AND"
                  " fixer = ?1 ORDER BY n",
                  person, defect_states, defects, err);
}

int gl_store_held_row(gl_store *s, enum gl_store_held kind, const char *id,
                      char cols[][256], int *found, struct gl_err *err)
{
    static const char *const sql[] = {
        [GL_HELD_TASK] = "SELECT owner, checker, state FROM tasks WHERE"
                         " id = ?1",
        [GL_HELD_SCENARIO] = "SELECT state, COALESCE(taken_by, ''),"
                             " COALESCE(assignee, '') FROM scenarios WHERE"
                             " id = ?1",
        [GL_HELD_DEFECT] = "SELECT state, COALESCE(fixer, ''), '' FROM"
                           " defects WHERE 'D-' || n = ?1",
    };
    sqlite3_stmt *st = NULL;
    int step, k;

    *found = 0;
    if (sqlite3_prepare_v2(s->db, sql[kind], -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *found = 1;
        for (k = 0; k < 3; k++) {
            const unsigned char *v = sqlite3_column_text(st, k);
            snprintf(cols[k], 256, "%s", v ? (const char *)v : "");
        }
    }
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? GL_OK
                                                     : gl_run_fail_db(s, err);
}

int gl_store_handover_move(gl_store *s, enum gl_store_handover what,
                           const char *from, const char *to, const char *id,
                           struct gl_err *err)
{
    /* each moved item, by its id, only while it is still from's */
    static const char *const sql[] = {
        [GL_HAND_TASK_OWNER] = "UPDATE tasks SET owner = ?2 WHERE id = ?3"
                               " AND owner = ?1",
        [GL_HAND_TASK_CHECKER] = "UPDATE tasks SET checker = ?2 WHERE"
                                 " id = ?3 AND checker = ?1",
        [GL_HAND_SCENARIO] = "UPDATE scenarios SET taken_by = CASE state"
                             " WHEN ?4 THEN ?2 ELSE taken_by END, assignee ="
                             " CASE state WHEN ?5 THEN ?2 ELSE assignee END"
                             " WHERE id = ?3",
        [GL_HAND_DEFECT] = "UPDATE defects SET fixer = ?2 WHERE 'D-' || n ="
                           " ?3 AND fixer = ?1",
    };
    const char *const scen_states[] = {
        gl_transition_to(gl_scenario_moves, "take"),
        gl_transition_from(gl_scenario_moves, "take"), NULL};
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db, sql[what], -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    if (what == GL_HAND_SCENARIO)
        bind_states(st, 4, scen_states);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    return rc;
}
