/*
 * store-duty.c - the duty table of the state store (see run/store-rows.h):
 * the hypercare log's rows that run/duty.c writes and reads, and the rows
 * of the patch plan.
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/common.h"
#include "run/store-internal.h"
#include "run/store-rows.h"

int gl_store_duty_next(gl_store *s, int64_t *n, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(s->db, "SELECT COALESCE(max(n), 0) + 1 FROM duty",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return gl_run_fail_db(s, err);
    }
    *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return GL_OK;
}

int gl_store_duty_insert(gl_store *s, int64_t n, const char *at,
                         const char *actor, const char *channel,
                         const char *kind, const char *text, const char *patch,
                         int64_t seq, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO duty (n, at, actor, channel, kind,"
                           " text, patch, event_seq) VALUES"
                           " (?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_int64(st, 1, n);
    sqlite3_bind_text(st, 2, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, text, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, patch, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, seq);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    return rc;
}

int gl_store_duty_get(gl_store *s, int64_t n, char **text, int64_t *defect,
                      struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT text, COALESCE(defect, 0) FROM duty"
                           " WHERE n = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_int64(st, 1, n);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *text = strdup((const char *)sqlite3_column_text(st, 0));
        *defect = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (step == SQLITE_DONE)
        return gl_err_set(err, GL_ENOTFOUND, "no duty entry H-%lld",
                          (long long)n);
    if (step != SQLITE_ROW)
        return gl_run_fail_db(s, err);
    return *text ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory");
}

/* Set one column of entry n: text when not NULL, else num. */
static int set_col(gl_store *s, const char *sql, int64_t n, const char *text,
                   int64_t num, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    if (text)
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, num);
    sqlite3_bind_int64(st, 2, n);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    return rc;
}

int gl_store_duty_set_defect(gl_store *s, int64_t n, int64_t defect,
                             struct gl_err *err)
{
    return set_col(s, "UPDATE duty SET defect = ? WHERE n = ?", n, NULL, defect,
                   err);
}

int gl_store_duty_set_patch(gl_store *s, int64_t n, const char *patch,
                            struct gl_err *err)
{
    return set_col(s, "UPDATE duty SET patch = ? WHERE n = ?", n, patch, 0,
                   err);
}

int gl_store_duty_list(gl_store *s, int64_t n, json_t **out, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    *out = json_array();
    if (sqlite3_prepare_v2(s->db,
                           "SELECT n, at, actor, channel, kind, text, defect,"
                           " patch FROM duty WHERE ?1 = 0 OR n = ?1 ORDER BY n",
                           -1, &st, NULL) != SQLITE_OK) {
        json_decref(*out);
        *out = NULL;
        return gl_run_fail_db(s, err);
    }
    sqlite3_bind_int64(st, 1, n);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char id[32], def[32];
        snprintf(id, sizeof(id), "H-%lld",
                 (long long)sqlite3_column_int64(st, 0));
        snprintf(def, sizeof(def), "D-%lld",
                 (long long)sqlite3_column_int64(st, 6));
        json_array_append_new(
            *out,
            json_pack(
                "{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "id", id, "n",
                (json_int_t)sqlite3_column_int64(st, 0), "at",
                (const char *)sqlite3_column_text(st, 1), "actor",
                (const char *)sqlite3_column_text(st, 2), "channel",
                (const char *)sqlite3_column_text(st, 3), "kind",
                (const char *)sqlite3_column_text(st, 4), "text",
                (const char *)sqlite3_column_text(st, 5), "defect",
                sqlite3_column_type(st, 6) == SQLITE_NULL ? json_null()
                                                          : json_string(def),
                "patch",
                sqlite3_column_text(st, 7)
                    ? json_string((const char *)sqlite3_column_text(st, 7))
                    : json_null()));
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        json_decref(*out);
        *out = NULL;
        return gl_run_fail_db(s, err);
    }
    return GL_OK;
}

int gl_store_patch_rows(gl_store *s,
                        void (*each)(void *ctx, char kind, int64_t n,
                                     const char *patch, const char *what,
                                     const char *text),
                        void *ctx, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    /* deferred defects, then duty entries: every entry planned into a
     * patch ('duty patch', whatever its kind) and every request not yet
     * planned, unless it became a defect that is deferred (listed as
     * that defect); each ordered by patch name */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT 'D', n, patch, severity, title FROM"
                           " defects WHERE state = ?1"
                           " UNION ALL"
                           " SELECT 'H', n, patch, kind, text FROM duty"
                           " WHERE (patch IS NOT NULL OR kind = 'request')"
                           " AND (defect IS NULL OR defect NOT IN (SELECT n"
                           " FROM defects WHERE state = ?1))"
                           " AND (patch IS NOT NULL OR defect IS NULL)"
                           " ORDER BY 3, 1, 2",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, gl_transition_to(gl_defect_moves, "defer"), -1,
                      SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        each(ctx, *(const char *)sqlite3_column_text(st, 0),
             sqlite3_column_int64(st, 1),
             (const char *)sqlite3_column_text(st, 2),
             (const char *)sqlite3_column_text(st, 3),
             (const char *)sqlite3_column_text(st, 4));
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
}
