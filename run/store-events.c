/*
 * store-events.c - where the event log ends, for whoever follows it as it
 * grows (the live stream of `golive serve`, serve/sse.c, which reads the
 * events themselves with gl_read_events).
 */
#include <string.h>

#include "run/store-internal.h"

int gl_store_events_last(gl_store *s, int64_t *seq, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = GL_OK;

    *seq = 0;
    if (gl_store_stmt(s, "SELECT max(seq) FROM events", &st) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot read the event log");
    if (sqlite3_step(st) == SQLITE_ROW)
        *seq = sqlite3_column_int64(st, 0);
    else
        rc = gl_store_db_err(s, err, "cannot read the event log");
    gl_store_stmt_done(s, st);
    return rc;
}
