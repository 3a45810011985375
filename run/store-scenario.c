/*
 * store-scenario.c - the scenarios table of the state store (see
 * run/store-rows.h and golive/scenario.h): its rows made from the plan,
 * moved by run/scenario.c and the replay, and counted.
 */
#include "golive/scenario.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/store-internal.h"
#include "run/store-rows.h"

/* Make the scenario rows of the plan (inside the caller's transaction). */
int gl_scenario_rows(gl_store *s, const struct gl_plan *p, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    int rc = GL_OK;

    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR IGNORE INTO scenarios (id, area,"
                           " priority, risk, assignee) VALUES (?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot add scenarios");
    for (i = 0; i < p->n_scenarios && !rc; i++) {
        const struct gl_scenario *sc = &p->scenarios[i];
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, sc->id.id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, sc->area, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, sc->priority);
        sqlite3_bind_int64(st, 4, sc->risk);
        sqlite3_bind_text(st, 5, sc->assignee.id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = gl_store_db_err(s, err, "cannot add scenarios");
    }
    sqlite3_finalize(st);
    return rc;
}

int gl_store_scenario_set(gl_store *s, const char *id, const char *state,
                          const char *actor, int64_t seq, const char *note,
                          int taking, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           taking ? "UPDATE scenarios SET state = ?1,"
                                    " taken_by = ?2, event_seq = ?3"
                                    " WHERE id = ?4"
                                  : "UPDATE scenarios SET state = ?1,"
                                    " result_by = ?2, event_seq = ?3,"
                                    " note = ?5 WHERE id = ?4",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot update a scenario");
    sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, seq);
    sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
    if (!taking)
        sqlite3_bind_text(st, 5, note, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE
             ? GL_OK
             : gl_store_db_err(s, err, "cannot update a scenario");
    sqlite3_finalize(st);
    return rc;
}

int gl_store_scenario_next(gl_store *s, const char *person, char *id, size_t n,
                           struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    char takeable[64], sql[256];
    int rc, step;

    if ((rc = gl_store_sql_states(gl_scenario_moves, "take", 1, takeable,
                                  sizeof(takeable), err)))
        return rc;
    snprintf(sql, sizeof(sql),
             "SELECT id FROM scenarios WHERE state IN %s AND"
             " (assignee IS NULL OR assignee = ?1) ORDER BY risk DESC,"
             " priority, id LIMIT 1",
             takeable);
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot read scenarios");
    sqlite3_bind_text(st, 1, person, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        snprintf(id, n, "%s", gl_store_col_text(st, 0));
    sqlite3_finalize(st);
    if (step == SQLITE_DONE)
        return gl_err_set(err, GL_ENOTFOUND, "no scenario to take");
    return step == SQLITE_ROW
               ? GL_OK
               : gl_store_db_err(s, err, "cannot read scenarios");
}

json_t *gl_store_scenario_counts(gl_store *s, struct gl_err *err)
{
    static const char *const groups[] = {"COALESCE(result_by, taken_by,"
                                         " assignee, '(nobody)')",
                                         "COALESCE(area, '(none)')"};
    static const char *const names[] = {"testers", "areas"};
    json_t *o = json_object();
    int g;

    for (g = 0; g < 2; g++) {
        json_t *m = json_object();
        sqlite3_stmt *st = NULL;
        char sql[256];
        snprintf(sql, sizeof(sql),
                 "SELECT %s, state, count(*) FROM scenarios GROUP BY 1, 2",
                 groups[g]);
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
            json_decref(m);
            json_decref(o);
            gl_store_db_err(s, err, "cannot read scenarios");
            return NULL;
        }
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *k = (const char *)sqlite3_column_text(st, 0);
            const char *state = (const char *)sqlite3_column_text(st, 1);
            json_t *e = json_object_get(m, k);
            if (!e) {
                e = json_object();
                json_object_set_new(m, k, e);
            }
            json_object_set_new(e, state,
                                json_integer(sqlite3_column_int64(st, 2)));
        }
        sqlite3_finalize(st);
        json_object_set_new(o, names[g], m);
    }
    return o;
}

json_t *gl_store_scenario_list(gl_store *s, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *o = json_object(), *r;
    int step;

    if (!o) {
        gl_err_set(err, GL_ENOMEM, "out of memory");
        return NULL;
    }
    if (sqlite3_prepare_v2(s->db,
                           "SELECT sc.id, sc.state, sc.assignee, sc.taken_by,"
                           " sc.result_by, sc.note, e.at FROM scenarios sc"
                           " LEFT JOIN events e ON e.seq = sc.event_seq",
                           -1, &st, NULL) != SQLITE_OK) {
        json_decref(o);
        gl_store_db_err(s, err, "cannot read scenarios");
        return NULL;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int k;
        static const char *const keys[] = {"state",     "assignee", "taken_by",
                                           "result_by", "note",     "at"};
        if (!(r = json_object()) ||
            json_object_set_new(o, gl_store_col_text(st, 0), r)) {
            step = SQLITE_NOMEM;
            break;
        }
        for (k = 0; k < 6; k++)
            json_object_set_new(
                r, keys[k],
                sqlite3_column_type(st, k + 1) == SQLITE_NULL
                    ? json_null()
                    : json_string(gl_store_col_text(st, k + 1)));
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        json_decref(o);
        gl_store_db_err(s, err, "cannot read scenarios");
        return NULL;
    }
    return o;
}
