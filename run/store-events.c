/*
 * store-events.c - the event log read back as it grows: the events after
 * a given one, for the live stream of `golive serve` (serve/sse.c) and
 * whoever follows the log.
 */
#include <string.h>

#include "run/store-internal.h"

int gl_store_events_read(gl_store *s, int64_t after, int64_t limit,
                         int (*fn)(void *ctx, const struct gl_event *e),
                         void *ctx, int64_t *last, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    struct gl_event e;
    int rc = GL_OK, step;

    if (last)
        *last = after;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT seq, at, actor, os_user, kind, payload"
                           " FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot read the event log");
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&e, 0, sizeof(e));
        e.seq = sqlite3_column_int64(st, 0);
        e.at = gl_store_col_text(st, 1);
        e.actor = gl_store_col_text(st, 2);
        e.os_user = gl_store_col_text(st, 3);
        e.kind = gl_store_col_text(st, 4);
        e.payload = gl_store_col_text(st, 5);
        e.payload_len = (size_t)sqlite3_column_bytes(st, 5);
        if ((rc = fn(ctx, &e)))
            goto out;
        if (last)
            *last = e.seq;
    }
    if (step != SQLITE_DONE)
        rc = gl_store_db_err(s, err, "cannot read the event log");
out:
    sqlite3_finalize(st);
    return rc;
}

int gl_store_events_last(gl_store *s, int64_t *seq, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = GL_OK;

    *seq = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT max(seq) FROM events", -1, &st,
                           NULL) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot read the event log");
    if (sqlite3_step(st) == SQLITE_ROW)
        *seq = sqlite3_column_int64(st, 0);
    else
        rc = gl_store_db_err(s, err, "cannot read the event log");
    sqlite3_finalize(st);
    return rc;
}
