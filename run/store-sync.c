/*
 * store-sync.c - sync executions in the state store: their start, their
 * end, and the latest of a job.
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

/* ---- sync executions -------------------------------------------------- */

int gl_store_sync_last(gl_store *s, const char *job, char *outcome,
                       size_t outcome_n, char *ended, size_t ended_n,
                       struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    outcome[0] = ended[0] = '\0';
    if (sqlite3_prepare_v2(s->db,
                           "SELECT outcome, ended_at FROM sync_runs"
                           " WHERE job = ? ORDER BY event_seq DESC, id DESC"
                           " LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot read sync executions");
    sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *o = (const char *)sqlite3_column_text(st, 0);
        const char *e = (const char *)sqlite3_column_text(st, 1);
        snprintf(outcome, outcome_n, "%s", o ? o : "");
        snprintf(ended, ended_n, "%s", e ? e : "");
    }
    sqlite3_finalize(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return gl_store_db_err(s, err, "cannot read sync executions");
    return GL_OK;
}

static const char *sync_outcome(const struct gl_sync_record *r)
{
    if (r->outcome && *r->outcome)
        return r->outcome;
    return r->failed ? "failed" : "ok";
}

int gl_store_sync_start(gl_store *s, const struct gl_actor *who,
                        const struct gl_sync_record *r, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    char started[40], *ptext = NULL;
    json_t *payload;
    int64_t seq = 0;
    int rc;

    gl_time_format(r->started, 0, started);
    payload =
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "execution", r->execution,
                  "job", r->job, "mode", r->mode, "started_at", started, "pid",
                  (json_int_t)r->pid, "host", r->host ? r->host : "");
    if (!payload ||
        !(ptext = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS))) {
        json_decref(payload);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    json_decref(payload);
    if ((rc = gl_store_begin(s, err)))
        goto out;
    if ((rc = gl_store_event(s, who, "sync.start", ptext, &seq, err)))
        goto fail;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO sync_runs (event_seq, job, mode,"
                           " started_at, ended_at, rows_read, rows_written,"
                           " rows_rejected, bytes, seconds, outcome, error,"
                           " execution, pid, host) VALUES (?,?,?,?,NULL,0,0,"
                           "0,0,0,'running',NULL,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = gl_store_db_err(s, err, "cannot record a sync execution");
        goto fail;
    }
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, r->job, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->mode, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, started, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->execution, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, r->pid);
    sqlite3_bind_text(st, 7, r->host ? r->host : "", -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = gl_store_db_err(s, err, "cannot record a sync execution");
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    rc = gl_store_commit(s, err);
    goto out;
fail:
    sqlite3_finalize(st);
    gl_store_rollback(s);
out:
    free(ptext);
    return rc;
}

int gl_store_record_sync(gl_store *s, const struct gl_actor *who,
                         const struct gl_sync_record *r, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    char started[40], ended[40], *ptext = NULL;
    const char *outcome = sync_outcome(r);
    int bad = strcmp(outcome, "ok") != 0, pass;
    json_t *payload;
    int64_t seq = 0;
    int rc;

    gl_time_format(r->started, 0, started);
    gl_time_format(r->ended, 0, ended);
    payload = json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:f, s:s,"
        " s:s?, s:s?, s:s*}",
        "job", r->job, "mode", r->mode, "started_at", started, "ended_at",
        ended, "read", (json_int_t)r->read, "written", (json_int_t)r->written,
        "rejected", (json_int_t)r->rejected, "bytes", (json_int_t)r->bytes,
        "seconds", r->seconds, "outcome", outcome, "error",
        bad && r->error && *r->error ? r->error : NULL, "execution",
        r->execution && *r->execution ? r->execution : NULL, "plan_sha256",
        r->plan_sha256);
    if (!payload ||
        !(ptext = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS))) {
        json_decref(payload);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    json_decref(payload);
    if ((rc = gl_store_begin(s, err)))
        goto out;
    if ((rc = gl_store_event(s, who, "sync.run", ptext, &seq, err)))
        goto fail;
    /* the row its sync.start made, else a new one (an execution that was
     * not recorded at its start, as before schema 6) */
    for (pass = r->execution && *r->execution ? 0 : 1; pass < 2; pass++) {
        if (sqlite3_prepare_v2(
                s->db,
                pass == 0
                    ? "UPDATE sync_runs SET event_seq = ?1, job = ?2,"
                      " mode = ?3, started_at = ?4, ended_at = ?5,"
                      " rows_read = ?6, rows_written = ?7, rows_rejected = ?8,"
                      " bytes = ?9, seconds = ?10, outcome = ?11, error = ?12"
                      " WHERE execution = ?13"
                    : "INSERT INTO sync_runs (event_seq, job, mode,"
                      " started_at, ended_at, rows_read, rows_written,"
                      " rows_rejected, bytes, seconds, outcome, error,"
                      " execution) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
                      " ?9, ?10, ?11, ?12, ?13)",
                -1, &st, NULL) != SQLITE_OK) {
            rc = gl_store_db_err(s, err, "cannot record a sync execution");
            goto fail;
        }
        sqlite3_bind_int64(st, 1, seq);
        sqlite3_bind_text(st, 2, r->job, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, r->mode, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, started, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, ended, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, r->read);
        sqlite3_bind_int64(st, 7, r->written);
        sqlite3_bind_int64(st, 8, r->rejected);
        sqlite3_bind_int64(st, 9, r->bytes);
        sqlite3_bind_double(st, 10, r->seconds);
        sqlite3_bind_text(st, 11, outcome, -1, SQLITE_STATIC);
        if (bad && r->error && *r->error)
            sqlite3_bind_text(st, 12, r->error, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 12);
        if (r->execution && *r->execution)
            sqlite3_bind_text(st, 13, r->execution, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 13);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = gl_store_db_err(s, err, "cannot record a sync execution");
            goto fail;
        }
        sqlite3_finalize(st);
        st = NULL;
        if (sqlite3_changes(s->db) == 1)
            break;
    }
    /* its progress so far is its end now */
    if (r->execution && *r->execution) {
        if (sqlite3_prepare_v2(s->db,
                               "DELETE FROM sync_progress WHERE execution = ?",
                               -1, &st, NULL) != SQLITE_OK) {
            rc = gl_store_db_err(s, err, "cannot record a sync execution");
            goto fail;
        }
        sqlite3_bind_text(st, 1, r->execution, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = gl_store_db_err(s, err, "cannot record a sync execution");
            goto fail;
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    rc = gl_store_commit(s, err);
    goto out;
fail:
    sqlite3_finalize(st);
    gl_store_rollback(s);
out:
    free(ptext);
    return rc;
}

int gl_store_sync_progress(gl_store *s, const char *execution, int64_t read,
                           int64_t written, int64_t rejected, int64_t total,
                           double seconds, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    char at[40];
    int rc = GL_OK;

    gl_clock_now_iso(at);
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO sync_progress (execution,"
                           " at, rows_read, rows_written, rows_rejected,"
                           " rows_total, seconds) VALUES (?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot keep a sync's progress");
    sqlite3_bind_text(st, 1, execution, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, at, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, read);
    sqlite3_bind_int64(st, 4, written);
    sqlite3_bind_int64(st, 5, rejected);
    if (total >= 0)
        sqlite3_bind_int64(st, 6, total);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_double(st, 7, seconds);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = gl_store_db_err(s, err, "cannot keep a sync's progress");
    sqlite3_finalize(st);
    return rc;
}
