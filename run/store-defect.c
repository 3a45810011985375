/*
 * store-defect.c - the defects table of the state store (see
 * run/store-rows.h): the rows run/defect.c and the replay change.
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/store-internal.h"
#include "run/store-rows.h"

int gl_store_defect_next(gl_store *s, int64_t *n, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(s->db, "SELECT COALESCE(max(n), 0) + 1 FROM defects",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return gl_store_db_err(s, err, "cannot read defects");
    }
    *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return GL_OK;
}

int gl_store_defect_insert(gl_store *s, int64_t n, const char *scenario,
                           const char *severity, const char *title,
                           const char *opened_by, int64_t seq,
                           struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO defects (n, scenario, severity,"
                           " title, state, opened_by, event_seq) VALUES"
                           " (?, ?, ?, ?, 'open', ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot add a defect");
    sqlite3_bind_int64(st, 1, n);
    sqlite3_bind_text(st, 2, scenario, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, severity, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, opened_by, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, seq);
    rc = sqlite3_step(st) == SQLITE_DONE
             ? GL_OK
             : gl_store_db_err(s, err, "cannot add a defect");
    sqlite3_finalize(st);
    return rc;
}

int gl_store_defect_get(gl_store *s, int64_t n, struct gl_store_defect *d,
                        struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    memset(d, 0, sizeof(*d));
    if (sqlite3_prepare_v2(s->db,
                           "SELECT state, COALESCE(fixer, ''), severity"
                           " FROM defects WHERE n = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot read a defect");
    sqlite3_bind_int64(st, 1, n);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        snprintf(d->state, sizeof(d->state), "%s", gl_store_col_text(st, 0));
        snprintf(d->fixer, sizeof(d->fixer), "%s", gl_store_col_text(st, 1));
        snprintf(d->severity, sizeof(d->severity), "%s",
                 gl_store_col_text(st, 2));
    }
    sqlite3_finalize(st);
    if (step == SQLITE_ROW)
        return GL_OK;
    return step == SQLITE_DONE
               ? gl_err_set(err, GL_ENOTFOUND, "no defect D-%lld", (long long)n)
               : gl_store_db_err(s, err, "cannot read a defect");
}

int gl_store_defect_set_state(gl_store *s, int64_t n, const char *to,
                              const char *actor, const char *patch, int64_t seq,
                              struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    char fixing[64], verified[64], deferred[64], sql[512];
    int rc;

    /* who is recorded for which move: the table's to states */
    if ((rc = gl_store_sql_states(gl_defect_moves, "fixing fixed", 0, fixing,
                                  sizeof(fixing), err)) ||
        (rc = gl_store_sql_states(gl_defect_moves, "verify", 0, verified,
                                  sizeof(verified), err)) ||
        (rc = gl_store_sql_states(gl_defect_moves, "defer", 0, deferred,
                                  sizeof(deferred), err)))
        return rc;
    snprintf(sql, sizeof(sql),
             "UPDATE defects SET state = ?1, event_seq = ?2,"
             " fixer = CASE WHEN ?1 IN %s THEN ?3 ELSE fixer END,"
             " verifier = CASE WHEN ?1 IN %s THEN ?3 ELSE verifier END,"
             " patch = CASE WHEN ?1 IN %s THEN ?4 ELSE patch END"
             " WHERE n = ?5",
             fixing, verified, deferred);
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot update a defect");
    sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, patch, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, n);
    rc = sqlite3_step(st) == SQLITE_DONE
             ? GL_OK
             : gl_store_db_err(s, err, "cannot update a defect");
    sqlite3_finalize(st);
    return rc;
}

int gl_store_defect_set_severity(gl_store *s, int64_t n, const char *severity,
                                 int64_t seq, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           "UPDATE defects SET severity = ?1, event_seq = ?2"
                           " WHERE n = ?3",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot update a defect");
    sqlite3_bind_text(st, 1, severity, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_int64(st, 3, n);
    rc = sqlite3_step(st) == SQLITE_DONE
             ? GL_OK
             : gl_store_db_err(s, err, "cannot update a defect");
    sqlite3_finalize(st);
    return rc;
}

char *gl_store_defect_list(gl_store *s, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *arr = json_array();
    char *out = NULL;
    int step;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT n, scenario, severity, title, state,"
                           " opened_by, fixer, verifier, patch FROM defects"
                           " ORDER BY n",
                           -1, &st, NULL) != SQLITE_OK) {
        gl_store_db_err(s, err, "cannot read defects");
        json_decref(arr);
        return NULL;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        char id[32];
        static const char *const cols[] = {"scenario", "severity",  "title",
                                           "state",    "opened_by", "fixer",
                                           "verifier", "patch"};
        int c;
        snprintf(id, sizeof(id), "D-%lld",
                 (long long)sqlite3_column_int64(st, 0));
        json_object_set_new(o, "id", json_string(id));
        json_object_set_new(o, "n", json_integer(sqlite3_column_int64(st, 0)));
        for (c = 1; c <= 8; c++) {
            const unsigned char *v = sqlite3_column_text(st, c);
            json_object_set_new(o, cols[c - 1],
                                v ? json_string((const char *)v) : json_null());
        }
        json_array_append_new(arr, o);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        gl_store_db_err(s, err, "cannot read defects");
    else if (!(out = json_dumps(arr, JSON_INDENT(2))))
        gl_err_set(err, GL_ENOMEM, "out of memory");
    json_decref(arr);
    return out;
}
