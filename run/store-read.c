/*
 * store-read.c - the recorded run as JSON for the surfaces
 * (include/golive/reads.h): sync executions, each check's latest result,
 * pages of the event log.
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "golive/reads.h"
#include "run/common.h"
#include "run/store-internal.h"

/* A column as a JSON value of its type. */
static json_t *col(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        return json_null();
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(st, i));
    default:
        return json_string(gl_store_col_text(st, i));
    }
}

/* A payload text as JSON (a string when it is not JSON: the store may
 * have been edited, and a read shows what is there). */
static json_t *payload_json(sqlite3_stmt *st, int i)
{
    const char *text = gl_store_col_text(st, i);
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);

    return j ? j : json_string(text);
}

int gl_read_syncs(gl_store *s, json_t **out, struct gl_err *err)
{
    static const char *const names[] = {
        "execution", "job",       "mode",         "started_at",
        "ended_at",  "rows_read", "rows_written", "rows_rejected",
        "bytes",     "seconds",   "outcome",      "error"};
    sqlite3_stmt *st = NULL;
    int step, rc;
    size_t i;

    /* a running execution whose process is gone shows as died */
    if ((rc = gl_run_sql_functions(s, err)))
        return rc;
    *out = json_array();
    if (!*out)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    if (gl_store_stmt(
            s,
            "SELECT r.execution, job, mode, started_at,"
            " ended_at, r.rows_read, r.rows_written,"
            " r.rows_rejected, bytes, r.seconds, " GL_RUN_SYNC_OUTCOME
            ", error, p.at, p.rows_read, p.rows_written, p.rows_rejected,"
            " p.rows_total, p.seconds FROM sync_runs r LEFT JOIN"
            " sync_progress p ON p.execution = r.execution ORDER BY r.id",
            &st) != SQLITE_OK)
        goto fail;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *r = json_object();
        double secs = sqlite3_column_double(st, 9);
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            json_object_set_new(r, names[i], col(st, (int)i));
        json_object_set_new(
            r, "rows_per_second",
            secs > 0 ? json_real((double)sqlite3_column_int64(st, 6) / secs)
                     : json_null());
        /* a running one: what it has done so far, as the sync keeps it */
        if (sqlite3_column_type(st, 12) != SQLITE_NULL &&
            !strcmp((const char *)sqlite3_column_text(st, 10), "running")) {
            double ps = sqlite3_column_double(st, 17);
            json_object_set_new(
                r, "progress",
                json_pack(
                    "{s:o, s:I, s:I, s:I, s:o, s:f, s:o}", "at", col(st, 12),
                    "rows_read", (json_int_t)sqlite3_column_int64(st, 13),
                    "rows_written", (json_int_t)sqlite3_column_int64(st, 14),
                    "rows_rejected", (json_int_t)sqlite3_column_int64(st, 15),
                    "rows_total", col(st, 16), "seconds", ps, "rows_per_second",
                    ps > 0
                        ? json_real((double)sqlite3_column_int64(st, 14) / ps)
                        : json_null()));
        }
        json_array_append_new(*out, r);
    }
    if (step != SQLITE_DONE)
        goto fail;
    gl_store_stmt_done(s, st);
    return GL_OK;
fail:
    gl_store_stmt_done(s, st);
    json_decref(*out);
    *out = NULL;
    return gl_store_db_err(s, err, "cannot read sync executions");
}

int gl_read_checks(gl_store *s, const struct gl_plan *p, json_t **out,
                   struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *latest = json_object();
    int step, rc;
    size_t i;

    *out = json_array();
    if (!*out || !latest) {
        json_decref(latest);
        json_decref(*out);
        *out = NULL;
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    /* each check's last check.run event: the latest row per check wins */
    if (gl_store_stmt(s,
                      "SELECT seq, at, actor, payload,"
                      " json_extract(payload, '$.check') FROM events"
                      " WHERE kind = 'check.run' AND json_valid(payload)"
                      " ORDER BY seq",
                      &st) != SQLITE_OK)
        goto fail;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *r = payload_json(st, 3);
        if (!json_is_object(r) || sqlite3_column_type(st, 4) != SQLITE_TEXT) {
            json_decref(r);
            continue;
        }
        json_object_set_new(r, "seq", col(st, 0));
        json_object_set_new(r, "at", col(st, 1));
        json_object_set_new(r, "actor", col(st, 2));
        json_object_set_new(latest, gl_store_col_text(st, 4), r);
    }
    if (step != SQLITE_DONE)
        goto fail;
    gl_store_stmt_done(s, st);
    for (i = 0; i < p->n_checks; i++) {
        const char *id = p->checks[i].id.id, *outcome;
        json_t *r = json_object_get(latest, id);
        char why[256];
        json_array_append_new(
            *out, r ? json_incref(r)
                    : json_pack("{s:s, s:n}", "check", id, "outcome"));
        outcome = json_string_value(json_object_get(r, "outcome"));
        if (!outcome || strcmp(outcome, "passed"))
            continue;
        /* a pass before its job ran again is stale, as the gate says */
        if ((rc = gl_run_check_stale(s, p, id, why, sizeof(why), err))) {
            json_decref(latest);
            json_decref(*out);
            *out = NULL;
            return rc;
        }
        if (why[0])
            json_object_set_new(r, "stale", json_string(why));
    }
    json_decref(latest);
    return GL_OK;
fail:
    gl_store_stmt_done(s, st);
    json_decref(latest);
    json_decref(*out);
    *out = NULL;
    return gl_store_db_err(s, err, "cannot read check results");
}

int gl_read_events(gl_store *s, int64_t after, int64_t limit, json_t **out,
                   struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    *out = json_array();
    if (!*out)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    if (gl_store_stmt(s,
                      "SELECT seq, at, actor, os_user, kind, payload,"
                      " hash FROM events WHERE seq > ? ORDER BY seq"
                      " LIMIT ?",
                      &st) != SQLITE_OK)
        goto fail;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, limit);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(
            *out,
            json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "seq", col(st, 0),
                      "at", col(st, 1), "actor", col(st, 2), "os_user",
                      col(st, 3), "kind", col(st, 4), "payload",
                      payload_json(st, 5), "hash", col(st, 6)));
    if (step != SQLITE_DONE)
        goto fail;
    gl_store_stmt_done(s, st);
    return GL_OK;
fail:
    gl_store_stmt_done(s, st);
    json_decref(*out);
    *out = NULL;
    return gl_store_db_err(s, err, "cannot read the events");
}

int gl_store_stamp(gl_store *s, struct gl_store_stamp *out, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;

    if (gl_store_stmt(s, "PRAGMA data_version", &st) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        gl_store_stmt_done(s, st);
        return gl_store_db_err(s, err, "cannot read the store's version");
    }
    out->data = sqlite3_column_int64(st, 0);
    out->own = sqlite3_total_changes64(s->db);
    gl_store_stmt_done(s, st);
    return GL_OK;
}

int gl_store_run_brief(gl_store *s, struct gl_run_info *info,
                       struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (gl_store_stmt(s,
                      "SELECT " GL_STORE_RUN_COLUMNS
                      " FROM run r JOIN plan_versions p"
                      " ON p.version = r.plan_version",
                      &st) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot read the run");
    step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        gl_store_stmt_done(s, st);
        if (step == SQLITE_DONE)
            return gl_err_set(err, GL_ENOTFOUND,
                              "state store '%s' holds no run yet; start one "
                              "with 'golive run start PLAN'",
                              s->path);
        return gl_store_db_err(s, err, "cannot read the run");
    }
    gl_store_run_row(st, info);
    gl_store_stmt_done(s, st);
    return GL_OK;
}
