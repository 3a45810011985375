/*
 * store-token.c - the tokens and sessions tables of the state store (see
 * run/store-rows.h): the rows run/token.c writes and reads.  They hold
 * SHA-256 hashes of the secrets, never a secret; a secret is looked up by
 * its hash.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golive/token.h"
#include "run/common.h"
#include "run/store-internal.h"
#include "run/store-rows.h"
#include "util/clock.h"

/* max(n) + 1 of table (one of ours, never user input). */
static int next_of(gl_store *s, const char *sql, int64_t *n, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return gl_run_fail_db(s, err);
    }
    *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return GL_OK;
}

int gl_store_token_next(gl_store *s, int64_t *n, struct gl_err *err)
{
    return next_of(s, "SELECT COALESCE(max(n), 0) + 1 FROM tokens", n, err);
}

int gl_store_session_next(gl_store *s, int64_t *n, struct gl_err *err)
{
    return next_of(s, "SELECT COALESCE(max(n), 0) + 1 FROM sessions", n, err);
}

int gl_store_token_insert(gl_store *s, int64_t n, const char *sha,
                          const char *person, int viewer, const char *issued_by,
                          const char *at, const char *expires, int64_t seq,
                          struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO tokens (n, sha256, person, viewer,"
                           " issued_by, issued_at, expires_at, event_seq)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_int64(st, 1, n);
    sqlite3_bind_text(st, 2, sha, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, person, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, viewer ? 1 : 0);
    sqlite3_bind_text(st, 5, issued_by, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, at, -1, SQLITE_STATIC);
    if (expires)
        sqlite3_bind_text(st, 7, expires, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 7);
    sqlite3_bind_int64(st, 8, seq);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    return rc;
}

int gl_store_token_revoke(gl_store *s, int64_t n, const char *at,
                          const char *who, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           "UPDATE tokens SET revoked_at = ?, revoked_by = ?"
                           " WHERE n = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, who, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, n);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    return rc;
}

/* A stored time (UTC ISO 8601, NULL) as epoch seconds; 0 for NULL.  A
 * time that does not parse is 1 (long past), never 0 ("never"): an
 * edited row must not make a token eternal. */
static int64_t col_time(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    int64_t at;
    int off;

    if (!t)
        return 0;
    if (gl_time_parse(t, &at, &off) || at <= 0)
        return 1;
    return at;
}

#define TOKEN_COLS                                                             \
    "n, person, viewer, issued_by, issued_at, expires_at, revoked_at"

static void token_row(sqlite3_stmt *st, struct gl_token_info *t)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->id, sizeof(t->id), "T-%lld",
             (long long)sqlite3_column_int64(st, 0));
    snprintf(t->person, sizeof(t->person), "%s", gl_store_col_text(st, 1));
    t->viewer = sqlite3_column_int(st, 2) != 0;
    snprintf(t->issued_by, sizeof(t->issued_by), "%s",
             gl_store_col_text(st, 3));
    t->issued_at = col_time(st, 4);
    t->expires_at = col_time(st, 5);
    t->revoked_at = col_time(st, 6);
}

int gl_store_token_get(gl_store *s, const char *sha, int64_t n,
                       struct gl_token_info *out, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (gl_store_stmt(s,
                      sha ? "SELECT " TOKEN_COLS " FROM tokens WHERE sha256 = ?"
                          : "SELECT " TOKEN_COLS " FROM tokens WHERE n = ?",
                      &st) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    if (sha)
        sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, n);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        token_row(st, out);
    gl_store_stmt_done(s, st);
    if (step == SQLITE_DONE)
        return sha ? gl_err_set(err, GL_ENOTFOUND, "unknown token")
                   : gl_err_set(err, GL_ENOTFOUND, "no token T-%lld",
                                (long long)n);
    return step == SQLITE_ROW ? GL_OK : gl_run_fail_db(s, err);
}

int gl_store_token_list(gl_store *s, struct gl_token_info **out, size_t *n,
                        struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    struct gl_token_info *v = NULL, *nv;
    size_t cap = 0, k = 0;
    int step;

    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT " TOKEN_COLS " FROM tokens ORDER BY n", -1,
                           &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (k == cap) {
            cap = cap ? cap * 2 : 16;
            if (!(nv = realloc(v, cap * sizeof(*v)))) {
                sqlite3_finalize(st);
                free(v);
                return gl_err_set(err, GL_ENOMEM, "out of memory");
            }
            v = nv;
        }
        token_row(st, &v[k++]);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        free(v);
        return gl_run_fail_db(s, err);
    }
    *out = v;
    *n = k;
    return GL_OK;
}

int gl_store_session_insert(gl_store *s, int64_t n, const char *sha,
                            const char *csrf_sha, int64_t token, const char *at,
                            int64_t seq, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO sessions (n, sha256, csrf_sha256,"
                           " token, opened_at, event_seq) VALUES"
                           " (?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_int64(st, 1, n);
    sqlite3_bind_text(st, 2, sha, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, csrf_sha, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, token);
    sqlite3_bind_text(st, 5, at, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, seq);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    return rc;
}

int gl_store_session_get(gl_store *s, const char *sha, int64_t *n,
                         int64_t *token, char csrf_sha[65], int *closed,
                         struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT n, token, csrf_sha256, closed_at IS NOT NULL"
                           " FROM sessions WHERE sha256 = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *n = sqlite3_column_int64(st, 0);
        *token = sqlite3_column_int64(st, 1);
        snprintf(csrf_sha, 65, "%s", gl_store_col_text(st, 2));
        *closed = sqlite3_column_int(st, 3);
    }
    sqlite3_finalize(st);
    if (step == SQLITE_DONE)
        return gl_err_set(err, GL_ENOTFOUND, "unknown session");
    return step == SQLITE_ROW ? GL_OK : gl_run_fail_db(s, err);
}

int gl_store_session_close(gl_store *s, int64_t n, const char *at,
                           struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           "UPDATE sessions SET closed_at = ? WHERE n = ?", -1,
                           &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, at, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, n);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    return rc;
}
