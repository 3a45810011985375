/*
 * store-comment.c - the defect_comments table of the state store (see
 * run/store-rows.h): the rows run/comment.c writes and reads.
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/common.h"
#include "run/store-internal.h"
#include "run/store-rows.h"

int gl_store_comment_next(gl_store *s, int64_t *n, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT COALESCE(max(n), 0) + 1 FROM"
                           " defect_comments",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return gl_run_fail_db(s, err);
    }
    *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return GL_OK;
}

int gl_store_comment_insert(gl_store *s, int64_t n, int64_t defect,
                            const char *at, const char *actor, const char *text,
                            int64_t seq, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO defect_comments (n, defect, at, actor,"
                           " text, event_seq) VALUES (?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_int64(st, 1, n);
    sqlite3_bind_int64(st, 2, defect);
    sqlite3_bind_text(st, 3, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, seq);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    return rc;
}

int gl_store_comment_list(gl_store *s, int64_t defect, json_t **out,
                          struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    *out = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT n, at, actor, text FROM defect_comments"
                           " WHERE defect = ? ORDER BY n",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_int64(st, 1, defect);
    *out = json_array();
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(*out,
                              json_pack("{s:I, s:s, s:s, s:s}", "n",
                                        (json_int_t)sqlite3_column_int64(st, 0),
                                        "at", gl_store_col_text(st, 1), "actor",
                                        gl_store_col_text(st, 2), "text",
                                        gl_store_col_text(st, 3)));
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        json_decref(*out);
        *out = NULL;
        return gl_run_fail_db(s, err);
    }
    return GL_OK;
}
