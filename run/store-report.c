/*
 * store-report.c - what the night's report reads from the state store
 * (see run/store-rows.h): executions, check results, decisions, changes,
 * scenario rows, as JSON values.
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/common.h"
#include "run/store-internal.h"
#include "run/store-rows.h"

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
        return json_string((const char *)sqlite3_column_text(st, i));
    }
}

static const char *const part_sql[] = {
    [GL_STORE_REPORT_SYNCS] =
        "SELECT job, mode, started_at, ended_at, rows_read,"
        " rows_written, rows_rejected, seconds, " GL_RUN_SYNC_OUTCOME
        ", error FROM sync_runs ORDER BY id",
    [GL_STORE_REPORT_CHECKS] =
        "SELECT at, actor, json_extract(payload, '$.check'),"
        " json_extract(payload, '$.type'),"
        " json_extract(payload, '$.outcome'),"
        " json_extract(payload, '$.source'),"
        " json_extract(payload, '$.target'),"
        " json_extract(payload, '$.missing'),"
        " json_extract(payload, '$.extra'),"
        " json_extract(payload, '$.changed'),"
        " json_extract(payload, '$.message') FROM events"
        " WHERE kind = 'check.run' ORDER BY seq",
    [GL_STORE_REPORT_DECISIONS] =
        "SELECT at, actor, decision, note FROM decisions"
        " ORDER BY id",
    [GL_STORE_REPORT_CHANGES] =
        "SELECT at, actor, kind, CASE kind"
        " WHEN 'shift' THEN 'T0 moved from ' ||"
        "  json_extract(payload, '$.from') || ' to ' ||"
        "  json_extract(payload, '$.to')"
        " WHEN 'handover' THEN 'work handed over to ' ||"
        "  json_extract(payload, '$.to')"
        " WHEN 'rollback' THEN 'rollback started'"
        " ELSE kind END || COALESCE(': ' ||"
        "  json_extract(payload, '$.note'), ''),"
        " CASE kind WHEN 'run.amend' THEN payload END"
        " FROM events WHERE kind IN ('shift', 'handover',"
        " 'rollback', 'run.amend') ORDER BY seq",
};

int gl_store_report_rows(gl_store *s, enum gl_store_report_part part,
                         json_t **out, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step, i, n;

    *out = json_array();
    if (sqlite3_prepare_v2(s->db, part_sql[part], -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    n = sqlite3_column_count(st);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *r = json_array();
        for (i = 0; i < n; i++)
            json_array_append_new(r, col(st, i));
        json_array_append_new(*out, r);
    }
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
}

int gl_store_report_scenario(gl_store *s, const char *id, json_t **row,
                             struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step, i;

    *row = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT state, taken_by, result_by, note FROM"
                           " scenarios WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *row = json_array();
        for (i = 0; i < 4; i++)
            json_array_append_new(*row, col(st, i));
    }
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? GL_OK
                                                     : gl_run_fail_db(s, err);
}
