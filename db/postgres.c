/*
 * postgres.c - the PostgreSQL driver (libpq).
 *
 * Queries stream through a server-side cursor fetched in batches, inside a
 * read-only REPEATABLE READ transaction when none is open (one consistent
 * snapshot).  When the caller set db->stream (it runs nothing else on the
 * connection until the rows are read, as diff does), the query is
 * described, then read by COPY (query) TO STDOUT: the server sends rows
 * while the previous ones are parsed, with no FETCH round trips.
 *
 * Loads use COPY FROM STDIN in text format; an upsert copies into a
 * temporary table, then INSERT ... ON CONFLICT DO UPDATE.  The session runs
 * in UTC with ISO dates, so timestamps with zone arrive as UTC.
 */
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/value.h"
#include "golive/db.h"
#include "util/buf.h"
#include "util/clock.h"

#define FETCH_ROWS 5000
#define COPY_CHUNK (256 * 1024)

/* type OIDs from pg_type.h (stable across versions) */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_OID = 26,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_DATE = 1082,
    OID_TIME = 1083,
    OID_TIMESTAMP = 1114,
    OID_TIMESTAMPTZ = 1184,
    OID_NUMERIC = 1700,
};

struct pg_db {
    struct gl_db base;
    PGconn *conn;
    int in_tx;   /* a transaction opened by begin() */
    int cursors; /* cursors open, to name them apart */
};

struct pg_cursor {
    struct pg_db *db;
    PGresult *res;
    int row, nrows;
    int own_tx; /* the cursor opened a transaction and ends it */
    char name[32];
    size_t ncols;
    char **names;
    enum gl_vtype *types;
    struct gl_value *vals;
    struct gl_buf bytes; /* decoded bytea of the current row */
    int done;
    /* streaming (db->base.stream): COPY (query) TO STDOUT */
    int copy;         /* 1 while the COPY runs */
    int streamed;     /* the COPY started (the transaction commits) */
    char *line;       /* the current row as libpq gave it */
    struct gl_buf un; /* the row unescaped, its fields NUL-separated */
    const char **field;
    int *flen;
};

struct pg_loader {
    struct pg_db *db;
    struct gl_load_opts o;
    char *stage; /* temporary table for upserts */
    struct gl_buf buf;
    int copying;
    size_t ncols;
    char **cols; /* copies of the column names */
    char **key;
    char *table;
};

static int pg_fail(struct pg_db *db, struct gl_err *err, const char *what,
                   const PGresult *res)
{
    const char *msg = res ? PQresultErrorMessage(res) : NULL;
    char clean[900];
    size_t n;

    if (!msg || !*msg)
        msg = PQerrorMessage(db->conn);
    snprintf(clean, sizeof(clean), "%s", msg ? msg : "unknown error");
    n = strlen(clean);
    while (n && (clean[n - 1] == '\n' || clean[n - 1] == ' '))
        clean[--n] = '\0';
    /* one line: libpq's messages continue on tab-indented lines */
    for (char *c = clean; *c; c++)
        if (*c == '\n' || *c == '\t')
            *c = ' ';
    return gl_err_set(err, GL_EIO, "%s in '%s': %s", what,
                      db->base.label ? db->base.label : "postgres", clean);
}

static int pg_exec(struct gl_db *g, const char *sql, struct gl_err *err)
{
    struct pg_db *db = (struct pg_db *)g;
    PGresult *res = PQexec(db->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = GL_OK;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = pg_fail(db, err, "statement failed", res);
    PQclear(res);
    return rc;
}

static void no_notices(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static int pg_open(const char *url, const char *base_dir, struct gl_db **out,
                   struct gl_err *err)
{
    struct pg_db *db = calloc(1, sizeof(*db));
    int rc;

    (void)base_dir;
    if (!db)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    db->base.drv = &gl_postgres_driver;
    db->base.label = gl_db_redact_url(url);
    db->conn = PQconnectdb(url);
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
        rc = pg_fail(db, err, "cannot connect", NULL);
        PQfinish(db->conn);
        free(db->base.label);
        free(db);
        return rc;
    }
    PQsetNoticeProcessor(db->conn, no_notices, NULL);
    if ((rc = pg_exec(&db->base,
                      "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; "
                      "SET client_encoding = 'UTF8'; "
                      "SET extra_float_digits = 3; "
                      "SET IntervalStyle = 'iso_8601'",
                      err))) {
        PQfinish(db->conn);
        free(db->base.label);
        free(db);
        return rc;
    }
    *out = &db->base;
    return GL_OK;
}

static void pg_close(struct gl_db *g)
{
    struct pg_db *db = (struct pg_db *)g;

    PQfinish(db->conn);
    free(db);
}

/* A table name as a regclass argument: each part quoted. */
static int pg_quote_ident(const char *ident, struct gl_buf *out)
{
    return gl_quote_ident_with(ident, '"', out);
}

static enum gl_vtype oid_type(unsigned oid)
{
    switch (oid) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
        return GL_INT;
    case OID_FLOAT4:
    case OID_FLOAT8:
        return GL_FLOAT;
    case OID_NUMERIC:
        return GL_NUMERIC;
    case OID_BOOL:
        return GL_BOOL;
    case OID_BYTEA:
        return GL_BYTES;
    case OID_DATE:
        return GL_DATE;
    case OID_TIME:
        return GL_TIME;
    case OID_TIMESTAMP:
        return GL_TIMESTAMP;
    case OID_TIMESTAMPTZ:
        return GL_TIMESTAMPTZ;
    default:
        return GL_TEXT;
    }
}

static int pg_describe(struct gl_db *g, const char *table,
                       struct gl_table_desc *t, struct gl_err *err)
{
    static const char cols_sql[] =
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod),"
        " NOT a.attnotnull, a.atthasdef OR a.attidentity <> '',"
        " a.attidentity <> '' OR COALESCE(pg_get_expr(d.adbin, d.adrelid)"
        " LIKE 'nextval(%', false), a.atttypid::int, a.atttypmod,"
        /* int2vector counts from 0; positions here count from 1 */
        " COALESCE(array_position(i.indkey::int2[], a.attnum)"
        " - array_lower(i.indkey::int2[], 1) + 1, 0)"
        " FROM pg_attribute a"
        " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid"
        "  AND d.adnum = a.attnum"
        " LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary"
        " WHERE a.attrelid = to_regclass($1) AND a.attnum > 0"
        " AND NOT a.attisdropped ORDER BY a.attnum";
    struct pg_db *db = (struct pg_db *)g;
    struct gl_buf q = GL_BUF_INIT;
    const char *params[1];
    PGresult *res;
    int n, i, rc = GL_OK;
    size_t npk = 0;

    memset(t, 0, sizeof(*t));
    pg_quote_ident(table, &q);
    if ((rc = gl_buf_check(&q, "the table name", err)))
        return rc;
    params[0] = gl_buf_str(&q);
    res = PQexecParams(db->conn, cols_sql, 1, NULL, params, NULL, NULL, 0);
    gl_buf_release(&q);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = pg_fail(db, err, "cannot describe a table", res);
        PQclear(res);
        return rc;
    }
    n = PQntuples(res);
    if (n == 0) {
        PQclear(res);
        return gl_err_set(err, GL_ENOTFOUND, "no table '%s' in '%s'", table,
                          g->label);
    }
    t->cols = calloc((size_t)n, sizeof(*t->cols));
    t->pk = calloc((size_t)n, sizeof(*t->pk));
    t->name = strdup(table);
    if (!t->cols || !t->pk || !t->name) {
        PQclear(res);
        gl_table_desc_release(t);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    for (i = 0; i < n; i++) {
        struct gl_column *c = &t->cols[i];
        unsigned oid = (unsigned)atoi(PQgetvalue(res, i, 5));
        int typmod = atoi(PQgetvalue(res, i, 6));
        int pkpos = atoi(PQgetvalue(res, i, 7));

        c->name = strdup(PQgetvalue(res, i, 0));
        c->decl_type = strdup(PQgetvalue(res, i, 1));
        c->nullable = PQgetvalue(res, i, 2)[0] == 't';
        c->has_default = PQgetvalue(res, i, 3)[0] == 't';
        c->identity = PQgetvalue(res, i, 4)[0] == 't';
        c->type = oid_type(oid);
        c->length = c->precision = c->scale = -1;
        if (c->type == GL_NUMERIC && typmod >= 4) {
            c->precision = ((typmod - 4) >> 16) & 0xffff;
            c->scale = (typmod - 4) & 0xffff;
        } else if (c->type == GL_TEXT && typmod >= 4) {
            c->length = typmod - 4;
        } else if ((c->type == GL_TIMESTAMP || c->type == GL_TIMESTAMPTZ ||
                    c->type == GL_TIME) &&
                   typmod >= 0) {
            c->scale = typmod; /* fractional digits kept */
        }
        if (pkpos > 0 && pkpos <= n) {
            t->pk[pkpos - 1] = (size_t)i;
            if ((size_t)pkpos > npk)
                npk = (size_t)pkpos;
        }
        t->ncols++;
        if (!c->name || !c->decl_type) {
            PQclear(res);
            gl_table_desc_release(t);
            return gl_err_set(err, GL_ENOMEM, "out of memory");
        }
    }
    t->npk = npk;
    PQclear(res);
    return GL_OK;
}

static int pg_tables(struct gl_db *g, char ***names, size_t *n,
                     struct gl_err *err)
{
    struct pg_db *db = (struct pg_db *)g;
    PGresult *res = PQexec(
        db->conn, "SELECT CASE WHEN n.nspname = 'public' THEN c.relname"
                  " ELSE n.nspname || '.' || c.relname END FROM pg_class c"
                  " JOIN pg_namespace n ON n.oid = c.relnamespace"
                  " WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN"
                  " ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE"
                  " 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' ORDER BY 1");
    int i, rows;

    *names = NULL;
    *n = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = pg_fail(db, err, "cannot list tables", res);
        PQclear(res);
        return rc;
    }
    rows = PQntuples(res);
    *names = calloc((size_t)rows + 1, sizeof(char *));
    for (i = 0; *names && i < rows; i++)
        (*names)[(*n)++] = strdup(PQgetvalue(res, i, 0));
    PQclear(res);
    return *names ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory");
}

static int fetch(struct pg_cursor *c, struct gl_err *err)
{
    char sql[64];

    PQclear(c->res);
    snprintf(sql, sizeof(sql), "FETCH FORWARD %d FROM %s", FETCH_ROWS, c->name);
    c->res = PQexec(c->db->conn, sql);
    if (PQresultStatus(c->res) != PGRES_TUPLES_OK)
        return pg_fail(c->db, err, "query failed", c->res);
    c->row = 0;
    c->nrows = PQntuples(c->res);
    if (c->nrows < FETCH_ROWS)
        c->done = 1; /* this batch is the last */
    return GL_OK;
}

static void pg_cursor_close(struct gl_cursor *gc);

/* Streaming: describe the query for its columns and types, then COPY it
 * out in text format (rows arrive while the previous ones are read). */
static int stream_query(struct pg_cursor *c, const char *sql,
                        struct gl_err *err)
{
    PGconn *conn = c->db->conn;
    struct gl_buf q = GL_BUF_INIT;
    PGresult *res;
    size_t i;
    int rc = GL_OK;

    res = PQprepare(conn, "", sql, 0, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return pg_fail(c->db, err, "query failed", res);
    PQclear(res);
    res = PQdescribePrepared(conn, "");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return pg_fail(c->db, err, "query failed", res);
    c->ncols = (size_t)PQnfields(res);
    c->names = calloc(c->ncols + 1, sizeof(*c->names));
    c->types = calloc(c->ncols + 1, sizeof(*c->types));
    c->vals = calloc(c->ncols + 1, sizeof(*c->vals));
    c->field = calloc(c->ncols + 1, sizeof(*c->field));
    c->flen = calloc(c->ncols + 1, sizeof(*c->flen));
    if (!c->names || !c->types || !c->vals || !c->field || !c->flen) {
        PQclear(res);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    for (i = 0; i < c->ncols; i++) {
        c->names[i] = strdup(PQfname(res, (int)i));
        c->types[i] = oid_type(PQftype(res, (int)i));
    }
    PQclear(res);
    gl_buf_adds(&q, "COPY (");
    gl_buf_adds(&q, sql);
    gl_buf_adds(&q, ") TO STDOUT");
    if ((rc = gl_buf_check(&q, "the query", err)))
        return rc;
    res = PQexec(conn, gl_buf_str(&q));
    gl_buf_release(&q);
    if (PQresultStatus(res) != PGRES_COPY_OUT)
        rc = pg_fail(c->db, err, "query failed", res);
    else
        PQclear(res);
    c->copy = c->streamed = rc == GL_OK;
    return rc;
}

/* Split and unescape one COPY text row into c->field / c->flen (NULL
 * fields get flen -1).  0, or -1 when the row is malformed. */
static int copy_split(struct pg_cursor *c, const char *line, int n)
{
    const char *p = line, *end = line + n;
    size_t col = 0;

    if (n && end[-1] == '\n')
        end--;
    /* the unescaped fields are never longer than the line: with room for
     * it and a NUL per field, data does not move while they are written */
    gl_buf_reset(&c->un);
    if (gl_buf_reserve(&c->un, (size_t)n + c->ncols + 1))
        return -1;
    for (;;) {
        size_t start = c->un.len;
        int null = 0;
        if (col >= c->ncols)
            return -1;
        if (p + 2 <= end && p[0] == '\\' && p[1] == 'N' &&
            (p + 2 == end || p[2] == '\t')) {
            null = 1;
            p += 2;
        } else {
            while (p < end && *p != '\t') {
                char ch = *p++;
                if (ch == '\\' && p < end) {
                    ch = *p++;
                    switch (ch) {
                    case 'b':
                        ch = '\b';
                        break;
                    case 'f':
                        ch = '\f';
                        break;
                    case 'n':
                        ch = '\n';
                        break;
                    case 'r':
                        ch = '\r';
                        break;
                    case 't':
                        ch = '\t';
                        break;
                    case 'v':
                        ch = '\v';
                        break;
                    default:
                        if (ch >= '0' && ch <= '7') {
                            int k, o = ch - '0';
                            for (k = 0;
                                 k < 2 && p < end && *p >= '0' && *p <= '7';
                                 k++)
                                o = o * 8 + (*p++ - '0');
                            ch = (char)o;
                        }
                        break; /* \\ and any other: the character */
                    }
                }
                c->un.data[c->un.len++] = ch;
            }
        }
        c->un.data[c->un.len++] = '\0';
        c->field[col] = null ? NULL : c->un.data + start;
        c->flen[col] = null ? -1 : (int)(c->un.len - 1 - start);
        col++;
        if (p >= end)
            break;
        p++; /* the tab */
    }
    return col == c->ncols ? 0 : -1;
}

static int pg_query(struct gl_db *g, const char *sql, struct gl_cursor **out,
                    struct gl_err *err)
{
    struct pg_db *db = (struct pg_db *)g;
    struct pg_cursor *c = calloc(1, sizeof(*c));
    struct gl_buf q = GL_BUF_INIT;
    size_t i;
    int rc;

    *out = NULL;
    if (!c)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    c->db = db;
    snprintf(c->name, sizeof(c->name), "golive_c%d", ++db->cursors);
    if (!db->in_tx && PQtransactionStatus(db->conn) == PQTRANS_IDLE) {
        if ((rc = pg_exec(g, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                          err))) {
            free(c);
            return rc;
        }
        c->own_tx = 1;
    }
    if (db->base.stream) {
        c->name[0] = '\0';
        if ((rc = stream_query(c, sql, err))) {
            pg_cursor_close((struct gl_cursor *)c);
            return rc;
        }
        *out = (struct gl_cursor *)c;
        return GL_OK;
    }
    gl_buf_addf(&q, "DECLARE %s NO SCROLL CURSOR FOR ", c->name);
    gl_buf_adds(&q, sql);
    if (!(rc = gl_buf_check(&q, "the query", err)))
        rc = pg_exec(g, gl_buf_str(&q), err);
    gl_buf_release(&q);
    if (rc || (rc = fetch(c, err))) {
        c->name[0] = '\0';
        pg_cursor_close((struct gl_cursor *)c);
        return rc;
    }
    c->ncols = (size_t)PQnfields(c->res);
    c->names = calloc(c->ncols + 1, sizeof(*c->names));
    c->types = calloc(c->ncols + 1, sizeof(*c->types));
    c->vals = calloc(c->ncols + 1, sizeof(*c->vals));
    c->field = calloc(c->ncols + 1, sizeof(*c->field));
    c->flen = calloc(c->ncols + 1, sizeof(*c->flen));
    if (!c->names || !c->types || !c->vals || !c->field || !c->flen) {
        pg_cursor_close((struct gl_cursor *)c);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    for (i = 0; i < c->ncols; i++) {
        c->names[i] = strdup(PQfname(c->res, (int)i));
        c->types[i] = oid_type(PQftype(c->res, (int)i));
    }
    *out = (struct gl_cursor *)c;
    return GL_OK;
}

static int convert(struct pg_cursor *c, size_t i, const char *s, int len,
                   struct gl_value *v, size_t *byte_off, struct gl_err *err)
{
    int zoned;

    v->type = c->types[i];
    switch (v->type) {
    case GL_INT:
        v->i = gl_parse_int(s);
        return 0;
    case GL_FLOAT:
        v->f = strtod(s, NULL);
        return 0;
    case GL_BOOL:
        v->i = s[0] == 't';
        return 0;
    case GL_NUMERIC:
    case GL_TEXT:
        v->s = s;
        v->len = (size_t)len;
        return 0;
    case GL_BYTES:
        /* "\x0a1b..." */
        if (len < 2 || s[0] != '\\' || s[1] != 'x')
            break;
        *byte_off = c->bytes.len;
        if (gl_hex_decode(s + 2, (size_t)len - 2, &c->bytes))
            break;
        v->len = c->bytes.len - *byte_off;
        return 0;
    case GL_DATE:
        if (gl_parse_date(s, (size_t)len, &v->i))
            break;
        return 0;
    case GL_TIME:
        if (gl_parse_time(s, (size_t)len, &v->i))
            break;
        return 0;
    case GL_TIMESTAMP:
    case GL_TIMESTAMPTZ:
        if (gl_parse_timestamp(s, (size_t)len, &v->i, &zoned))
            break;
        return 0;
    default:
        break;
    }
    if ((v->type == GL_DATE || v->type == GL_TIMESTAMP ||
         v->type == GL_TIMESTAMPTZ) &&
        (gl_is_special_text(s, (size_t)len) ||
         gl_special_kind(s, (size_t)len) == GL_SP_PG_DATE)) {
        /* infinity, -infinity, dates BC or past 9999: a value (see
         * GL_SPECIAL) */
        v->i = v->type;
        v->type = GL_SPECIAL;
        v->s = s;
        v->len = (size_t)len;
        return 0;
    }
    return gl_err_set(
        err, GL_EIO, "cannot read %s value '%.40s' of column '%s' from '%s'",
        gl_vtype_name(c->types[i]), s, c->names[i], c->db->base.label);
}

/* The row in c->field / c->flen (flen -1: NULL) as typed values. */
static int convert_row(struct pg_cursor *c, struct gl_err *err)
{
    size_t i, offs[64], *off;

    gl_buf_reset(&c->bytes);
    off = c->ncols <= 64 ? offs : malloc(c->ncols * sizeof(*off));
    if (!off)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    for (i = 0; i < c->ncols; i++) {
        struct gl_value *v = &c->vals[i];
        memset(v, 0, sizeof(*v));
        off[i] = (size_t)-1;
        if (c->flen[i] < 0) {
            v->type = GL_NULL;
            continue;
        }
        if (convert(c, i, c->field[i], c->flen[i], v, &off[i], err)) {
            if (off != offs)
                free(off);
            return GL_EIO;
        }
    }
    /* bytea values point into one buffer that may have moved as it grew */
    for (i = 0; i < c->ncols; i++)
        if (off[i] != (size_t)-1)
            c->vals[i].s = c->bytes.data ? c->bytes.data + off[i] : "";
    if (off != offs)
        free(off);
    return GL_OK;
}

/* The next line of the COPY into c->field / c->flen: 1, 0 at the end, or
 * -code. */
static int copy_next(struct pg_cursor *c, struct gl_err *err)
{
    PGresult *res;
    int n, rc;

    if (!c->copy)
        return 0;
    if (c->line) {
        PQfreemem(c->line);
        c->line = NULL;
    }
    n = PQgetCopyData(c->db->conn, &c->line, 0);
    if (n == -1) {
        res = PQgetResult(c->db->conn);
        c->copy = 0;
        rc = PQresultStatus(res) == PGRES_COMMAND_OK
                 ? GL_OK
                 : pg_fail(c->db, err, "query failed", res);
        if (rc == GL_OK)
            PQclear(res);
        while ((res = PQgetResult(c->db->conn)))
            PQclear(res);
        return rc ? -rc : 0;
    }
    if (n < 0) {
        c->copy = 0;
        return -pg_fail(c->db, err, "query failed", NULL);
    }
    if (copy_split(c, c->line, n))
        return -gl_err_set(err, GL_EIO,
                           "cannot read a row of COPY output from '%s'",
                           c->db->base.label);
    return 1;
}

static int pg_next(struct gl_cursor *gc, const struct gl_value **row,
                   struct gl_err *err)
{
    struct pg_cursor *c = (struct pg_cursor *)gc;
    size_t i;
    int rc;

    if (c->streamed) {
        if ((rc = copy_next(c, err)) <= 0)
            return rc;
    } else {
        if (c->row >= c->nrows) {
            if (c->done)
                return 0;
            if ((rc = fetch(c, err)))
                return -rc;
            if (c->nrows == 0)
                return 0;
        }
        for (i = 0; i < c->ncols; i++) {
            int null = PQgetisnull(c->res, c->row, (int)i);
            c->field[i] = null ? NULL : PQgetvalue(c->res, c->row, (int)i);
            c->flen[i] = null ? -1 : PQgetlength(c->res, c->row, (int)i);
        }
        c->row++;
    }
    if ((rc = convert_row(c, err)))
        return -rc;
    *row = c->vals;
    return 1;
}

static size_t pg_ncols(struct gl_cursor *gc)
{
    return ((struct pg_cursor *)gc)->ncols;
}

static const char *pg_col_name(struct gl_cursor *gc, size_t i)
{
    return ((struct pg_cursor *)gc)->names[i];
}

static void pg_cursor_close(struct gl_cursor *gc)
{
    struct pg_cursor *c = (struct pg_cursor *)gc;
    size_t i;

    if (!c)
        return;
    if (c->line)
        PQfreemem(c->line);
    if (c->copy) {
        /* stopped early: cancel the COPY and drain what is in flight */
        PGcancel *k = PQgetCancel(c->db->conn);
        char msg[256];
        char *buf;
        PGresult *res;
        if (k) {
            PQcancel(k, msg, sizeof(msg));
            PQfreeCancel(k);
        }
        while (PQgetCopyData(c->db->conn, &buf, 0) > 0)
            PQfreemem(buf);
        while ((res = PQgetResult(c->db->conn)))
            PQclear(res);
    }
    free(c->field);
    free(c->flen);
    gl_buf_release(&c->un);
    PQclear(c->res);
    if (c->name[0] && PQtransactionStatus(c->db->conn) == PQTRANS_INTRANS) {
        char sql[64];
        snprintf(sql, sizeof(sql), "CLOSE %s", c->name);
        PQclear(PQexec(c->db->conn, sql));
    }
    if (c->own_tx)
        PQclear(PQexec(c->db->conn,
                       c->name[0] || c->streamed ? "COMMIT" : "ROLLBACK"));
    for (i = 0; c->names && i < c->ncols; i++)
        free(c->names[i]);
    free(c->names);
    free(c->types);
    free(c->vals);
    gl_buf_release(&c->bytes);
    free(c);
}

static int pg_begin(struct gl_db *g, struct gl_err *err)
{
    struct pg_db *db = (struct pg_db *)g;
    int rc = pg_exec(g, "BEGIN", err);

    if (!rc)
        db->in_tx = 1;
    return rc;
}

static int pg_commit(struct gl_db *g, struct gl_err *err)
{
    struct pg_db *db = (struct pg_db *)g;

    db->in_tx = 0;
    return pg_exec(g, "COMMIT", err);
}

static void pg_rollback(struct gl_db *g)
{
    struct pg_db *db = (struct pg_db *)g;

    db->in_tx = 0;
    if (PQtransactionStatus(db->conn) != PQTRANS_IDLE)
        PQclear(PQexec(db->conn, "ROLLBACK"));
}

/* ---- quoting and COPY text ------------------------------------------- */

static int pg_quote_value(struct gl_db *g, const struct gl_value *v,
                          struct gl_buf *out)
{
    struct pg_db *db = (struct pg_db *)g;
    char tmp[64], *lit;
    int rc;

    switch (v->type) {
    case GL_NULL:
        return gl_buf_adds(out, "NULL");
    case GL_INT:
        return gl_value_text(v, out);
    case GL_BOOL:
        return gl_buf_adds(out, v->i ? "true" : "false");
    case GL_FLOAT:
        if (isnan(v->f))
            return gl_buf_adds(out, "'NaN'::float8");
        if (isinf(v->f))
            return gl_buf_adds(out, v->f > 0 ? "'Infinity'::float8"
                                             : "'-Infinity'::float8");
        return gl_buf_adds(out, "(") || gl_value_text(v, out) ||
               gl_buf_adds(out, ")::float8");
    case GL_NUMERIC:
        if (gl_is_decimal(v->s, v->len))
            return gl_buf_adds(out, "(") || gl_buf_add(out, v->s, v->len) ||
                   gl_buf_adds(out, ")::numeric");
        /* NaN and the like: quoted */
        /* fall through */
    case GL_TEXT:
        if (memchr(v->s, '\0', v->len))
            return -1; /* PostgreSQL text cannot hold NUL */
        lit = PQescapeLiteral(db->conn, v->s, v->len);
        if (!lit)
            return -1;
        rc = gl_buf_adds(out, lit);
        PQfreemem(lit);
        if (!rc && v->type == GL_NUMERIC)
            rc = gl_buf_adds(out, "::numeric");
        return rc;
    case GL_BYTES:
        return gl_buf_adds(out, "'\\x") || gl_hex_append(out, v->s, v->len) ||
               gl_buf_adds(out, "'::bytea");
    case GL_DATE:
        gl_format_date(v->i, tmp);
        return gl_buf_addf(out, "'%s'::date", tmp);
    case GL_TIME:
        gl_format_time(v->i, tmp);
        return gl_buf_addf(out, "'%s'::time", tmp);
    case GL_TIMESTAMP:
        gl_format_timestamp(v->i, 0, tmp);
        return gl_buf_addf(out, "'%s'::timestamp", tmp);
    case GL_TIMESTAMPTZ:
        gl_format_timestamp(v->i, GL_TS_ZONE, tmp);
        return gl_buf_addf(out, "'%s'::timestamptz", tmp);
    case GL_SPECIAL:
        if ((gl_special_kind(v->s, v->len) != GL_SP_INFINITY &&
             gl_special_kind(v->s, v->len) != GL_SP_PG_DATE) ||
            (v->i != GL_DATE && v->i != GL_TIMESTAMP && v->i != GL_TIMESTAMPTZ))
            return -1; /* zero dates: PostgreSQL has none */
        return gl_buf_addf(out, "'%.*s'::%s", (int)v->len, v->s,
                           gl_vtype_name((enum gl_vtype)v->i));
    }
    return -1;
}

/* 'YYYY-MM-DD' for PostgreSQL: years before 1 as "N BC" (there is no
 * year 0: 0 is 1 BC). */
static void pg_date_text(int64_t days, char *out)
{
    int64_t y;
    unsigned m, d;

    gl_civil_from_days(days, &y, &m, &d);
    if (y >= 1) {
        gl_format_date(days, out);
        return;
    }
    snprintf(out, 40, "%04lld-%02u-%02u BC", (long long)(1 - y), m, d);
}

/* E'...': escapes always on, whatever standard_conforming_strings says;
 * quotes doubled (never \', which backslash_quote may refuse); every
 * character past ASCII as \uXXXX / \UXXXXXXXX, so the file is ASCII and
 * means the same under any client_encoding.  1 when s holds a NUL or is
 * not UTF-8. */
static int pg_script_text(const char *s, size_t len, struct gl_buf *out)
{
    size_t i = 0;

    if (gl_buf_adds(out, "E'"))
        return -1;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        uint32_t cp;
        size_t n, k;
        if (c == 0)
            return 1;
        if (c < 0x80) {
            int rc = c == '\''   ? gl_buf_adds(out, "''")
                     : c == '\\' ? gl_buf_adds(out, "\\\\")
                                 : (c < 0x20 || c == 0x7f
                                        ? gl_buf_addf(out, "\\x%02x", c)
                                        : gl_buf_add(out, (const char *)&c, 1));
            if (rc)
                return -1;
            i++;
            continue;
        }
        n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
        if (!n || i + n > len)
            return 1;
        cp = c & (0x7f >> n);
        for (k = 1; k < n; k++) {
            unsigned char cc = (unsigned char)s[i + k];
            if ((cc & 0xc0) != 0x80)
                return 1;
            cp = cp << 6 | (cc & 0x3f);
        }
        if ((cp <= 0xffff ? gl_buf_addf(out, "\\u%04x", (unsigned)cp)
                          : gl_buf_addf(out, "\\U%08x", (unsigned)cp)))
            return -1;
        i += n;
    }
    return gl_buf_adds(out, "'") ? -1 : 0;
}

static int pg_script_value(const struct gl_value *v, enum gl_vtype col_type,
                           struct gl_buf *out)
{
    char tmp[64];
    size_t mark = out->len;
    int rc;

    switch (v->type) {
    case GL_NULL:
        return gl_buf_adds(out, "NULL");
    case GL_INT:
        return gl_buf_addf(out, "%lld", (long long)v->i);
    case GL_BOOL:
        return gl_buf_adds(out, v->i ? "true" : "false");
    case GL_FLOAT:
        if (isnan(v->f))
            return gl_buf_adds(out, "'NaN'::float8");
        if (isinf(v->f))
            return gl_buf_adds(out, v->f > 0 ? "'Infinity'::float8"
                                             : "'-Infinity'::float8");
        return gl_buf_addf(out, "(%.17g)::float8", v->f);
    case GL_NUMERIC:
        if (gl_is_decimal(v->s, v->len))
            return gl_buf_adds(out, "(") || gl_buf_add(out, v->s, v->len) ||
                   gl_buf_adds(out, ")::numeric");
        if (v->len == 3 && !memcmp(v->s, "NaN", 3))
            return gl_buf_adds(out, "'NaN'::numeric");
        return 1;
    case GL_TEXT:
        rc = pg_script_text(v->s, v->len, out);
        if (rc)
            out->len = mark;
        return rc;
    case GL_BYTES:
        /* decode(): no backslash for any setting to read */
        return gl_buf_adds(out, "decode('") ||
               gl_hex_append(out, v->s, v->len) ||
               gl_buf_adds(out, "', 'hex')");
    case GL_DATE:
        pg_date_text(v->i, tmp);
        return gl_buf_addf(out, "'%s'::date", tmp);
    case GL_TIME:
        gl_format_time(v->i, tmp);
        return gl_buf_addf(out, "'%s'::time", tmp);
    case GL_TIMESTAMP:
    case GL_TIMESTAMPTZ: {
        /* ISO with its date first reads the same under every DateStyle;
         * the offset makes a timestamptz independent of TimeZone */
        int64_t day = 86400LL * 1000000;
        int64_t days = v->i / day - (v->i % day < 0);
        char t[40];
        pg_date_text(days, tmp);
        gl_format_time(v->i - days * day, t);
        if (strstr(tmp, " BC")) {
            tmp[strlen(tmp) - 3] = '\0';
            return gl_buf_addf(out, "'%s %s%s BC'::%s", tmp, t,
                               v->type == GL_TIMESTAMPTZ ? "+00" : "",
                               gl_vtype_name(v->type));
        }
        return gl_buf_addf(out, "'%s %s%s'::%s", tmp, t,
                           v->type == GL_TIMESTAMPTZ ? "+00" : "",
                           gl_vtype_name(v->type));
    }
    case GL_SPECIAL:
        if (gl_special_kind(v->s, v->len) != GL_SP_INFINITY &&
            gl_special_kind(v->s, v->len) != GL_SP_PG_DATE)
            return 1; /* zero dates, long times: PostgreSQL has none */
        if (col_type != GL_DATE && col_type != GL_TIMESTAMP &&
            col_type != GL_TIMESTAMPTZ)
            col_type = (enum gl_vtype)v->i;
        if (col_type != GL_DATE && col_type != GL_TIMESTAMP &&
            col_type != GL_TIMESTAMPTZ)
            return 1;
        return gl_buf_addf(out, "'%.*s'::%s", (int)v->len, v->s,
                           gl_vtype_name(col_type));
    }
    return 1;
}

/* One value in COPY text format. */
static int copy_value(struct gl_buf *b, const struct gl_value *v,
                      struct gl_err *err)
{
    char tmp[64];
    size_t i, start = 0;

    switch (v->type) {
    case GL_NULL:
        return gl_buf_add(b, "\\N", 2);
    case GL_INT:
        return gl_buf_add(b, tmp, gl_fmt_int(v->i, tmp));
    case GL_BOOL:
        return gl_buf_add(b, v->i ? "t" : "f", 1);
    case GL_FLOAT:
        if (isnan(v->f))
            return gl_buf_adds(b, "NaN");
        if (isinf(v->f))
            return gl_buf_adds(b, v->f > 0 ? "Infinity" : "-Infinity");
        return gl_value_text(v, b);
    case GL_NUMERIC:
    case GL_TEXT:
        if (memchr(v->s, '\0', v->len)) {
            gl_err_set(err, GL_EIO,
                       "text holds a NUL byte, which PostgreSQL cannot "
                       "store");
            return -2;
        }
        for (i = 0; i < v->len; i++) {
            const char *esc = NULL;
            switch (v->s[i]) {
            case '\\':
                esc = "\\\\";
                break;
            case '\n':
                esc = "\\n";
                break;
            case '\r':
                esc = "\\r";
                break;
            case '\t':
                esc = "\\t";
                break;
            default:
                continue;
            }
            if (gl_buf_add(b, v->s + start, i - start) || gl_buf_adds(b, esc))
                return -1;
            start = i + 1;
        }
        return gl_buf_add(b, v->s + start, v->len - start);
    case GL_BYTES:
        return gl_buf_adds(b, "\\\\x") || gl_hex_append(b, v->s, v->len);
    case GL_DATE:
        gl_format_date(v->i, tmp);
        return gl_buf_adds(b, tmp);
    case GL_TIME:
        gl_format_time(v->i, tmp);
        return gl_buf_adds(b, tmp);
    case GL_TIMESTAMP:
        gl_format_timestamp(v->i, 0, tmp);
        return gl_buf_adds(b, tmp);
    case GL_TIMESTAMPTZ:
        gl_format_timestamp(v->i, GL_TS_ZONE, tmp);
        return gl_buf_adds(b, tmp);
    case GL_SPECIAL: /* infinity, -infinity: sync/convert.c let it by */
        return gl_buf_add(b, v->s, v->len);
    }
    return -1;
}

static void pg_load_close(struct gl_loader *gl);

static int start_copy(struct pg_loader *l, struct gl_err *err)
{
    struct gl_buf sql = GL_BUF_INIT;
    PGresult *res;
    size_t i;
    int rc = GL_OK;

    gl_buf_adds(&sql, "COPY ");
    pg_quote_ident(l->stage ? l->stage : l->table, &sql);
    gl_buf_adds(&sql, " (");
    for (i = 0; i < l->ncols; i++) {
        if (i)
            gl_buf_adds(&sql, ", ");
        pg_quote_ident(l->cols[i], &sql);
    }
    gl_buf_adds(&sql, ") FROM STDIN");
    if ((rc = gl_buf_check(&sql, "the load's statement", err)))
        return rc;
    res = PQexec(l->db->conn, gl_buf_str(&sql));
    if (PQresultStatus(res) != PGRES_COPY_IN)
        rc = pg_fail(l->db, err, "cannot start COPY", res);
    else
        l->copying = 1;
    PQclear(res);
    gl_buf_release(&sql);
    return rc;
}

static char *dupv(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int pg_load_begin(struct gl_db *g, const struct gl_load_opts *o,
                         struct gl_loader **out, struct gl_err *err)
{
    struct pg_db *db = (struct pg_db *)g;
    struct pg_loader *l = calloc(1, sizeof(*l));
    size_t i;
    int rc;

    *out = NULL;
    if (!l)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    l->db = db;
    l->ncols = o->ncols;
    l->table = dupv(o->table);
    l->cols = calloc(o->ncols + 1, sizeof(char *));
    l->key = calloc(o->nkey + 1, sizeof(char *));
    if (!l->table || !l->cols || !l->key)
        goto oom;
    for (i = 0; i < o->ncols; i++)
        if (!(l->cols[i] = dupv(o->cols[i])))
            goto oom;
    for (i = 0; i < o->nkey; i++)
        if (!(l->key[i] = dupv(o->key[i])))
            goto oom;
    l->o = *o;
    l->o.table = l->table;
    l->o.cols = (const char *const *)l->cols;
    l->o.key = (const char *const *)l->key;
    if (o->upsert && o->nkey) {
        struct gl_buf sql = GL_BUF_INIT;
        l->stage = strdup("golive_upsert_stage");
        if (!l->stage)
            goto oom;
        gl_buf_adds(&sql, "CREATE TEMP TABLE IF NOT EXISTS ");
        pg_quote_ident(l->stage, &sql);
        gl_buf_adds(&sql, " (LIKE ");
        pg_quote_ident(l->table, &sql);
        gl_buf_adds(&sql, ") ON COMMIT DELETE ROWS");
        if (!(rc = gl_buf_check(&sql, "the load's statement", err)))
            rc = pg_exec(g, gl_buf_str(&sql), err);
        gl_buf_release(&sql);
        if (rc) {
            pg_load_close((struct gl_loader *)l);
            return rc;
        }
    }
    if ((rc = start_copy(l, err))) {
        pg_load_close((struct gl_loader *)l);
        return rc;
    }
    *out = (struct gl_loader *)l;
    return GL_OK;
oom:
    pg_load_close((struct gl_loader *)l);
    return gl_err_set(err, GL_ENOMEM, "out of memory");
}

static int send_buf(struct pg_loader *l, struct gl_err *err)
{
    if (l->buf.len &&
        PQputCopyData(l->db->conn, l->buf.data, (int)l->buf.len) != 1)
        return pg_fail(l->db, err, "COPY failed", NULL);
    gl_buf_reset(&l->buf);
    return GL_OK;
}

static int pg_load_row(struct gl_loader *gl, const struct gl_value *row,
                       struct gl_err *err)
{
    struct pg_loader *l = (struct pg_loader *)gl;
    size_t i, mark = l->buf.len;
    int r;

    for (i = 0; i < l->ncols; i++) {
        if ((i && gl_buf_add(&l->buf, "\t", 1)) ||
            (r = copy_value(&l->buf, &row[i], err)) == -1) {
            return gl_err_set(err, GL_ENOMEM, "out of memory");
        }
        if (r == -2) {
            l->buf.len = mark; /* drop the partial row */
            return GL_EIO;
        }
    }
    if (gl_buf_add(&l->buf, "\n", 1))
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    if (l->buf.len >= COPY_CHUNK)
        return send_buf(l, err);
    return GL_OK;
}

static int pg_load_finish(struct gl_loader *gl, struct gl_err *err)
{
    struct pg_loader *l = (struct pg_loader *)gl;
    PGresult *res;
    int rc = GL_OK;
    size_t i, k;

    if (!l->copying)
        return GL_OK;
    if ((rc = send_buf(l, err))) {
        PQputCopyEnd(l->db->conn, "aborted");
    } else if (PQputCopyEnd(l->db->conn, NULL) != 1) {
        rc = pg_fail(l->db, err, "COPY failed", NULL);
    }
    l->copying = 0;
    while ((res = PQgetResult(l->db->conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && !rc)
            rc = pg_fail(l->db, err, "COPY failed", res);
        PQclear(res);
    }
    if (rc || !l->stage)
        return rc;
    /* upsert: from the stage into the table */
    {
        struct gl_buf sql = GL_BUF_INIT;
        int any = 0;
        gl_buf_adds(&sql, "INSERT INTO ");
        pg_quote_ident(l->table, &sql);
        gl_buf_adds(&sql, " (");
        for (i = 0; i < l->ncols; i++) {
            if (i)
                gl_buf_adds(&sql, ", ");
            pg_quote_ident(l->cols[i], &sql);
        }
        gl_buf_adds(&sql, ") SELECT ");
        for (i = 0; i < l->ncols; i++) {
            if (i)
                gl_buf_adds(&sql, ", ");
            pg_quote_ident(l->cols[i], &sql);
        }
        gl_buf_adds(&sql, " FROM ");
        pg_quote_ident(l->stage, &sql);
        gl_buf_adds(&sql, " ON CONFLICT (");
        for (i = 0; i < l->o.nkey; i++) {
            if (i)
                gl_buf_adds(&sql, ", ");
            pg_quote_ident(l->key[i], &sql);
        }
        gl_buf_adds(&sql, ") DO ");
        for (i = 0; i < l->ncols; i++) {
            int is_key = 0;
            for (k = 0; k < l->o.nkey; k++)
                is_key |= !strcmp(l->cols[i], l->key[k]);
            if (is_key)
                continue;
            gl_buf_adds(&sql, any++ ? ", " : "UPDATE SET ");
            pg_quote_ident(l->cols[i], &sql);
            gl_buf_adds(&sql, " = EXCLUDED.");
            pg_quote_ident(l->cols[i], &sql);
        }
        if (!any)
            gl_buf_adds(&sql, "NOTHING");
        gl_buf_adds(&sql, "; TRUNCATE ");
        pg_quote_ident(l->stage, &sql);
        if (!(rc = gl_buf_check(&sql, "the load's statement", err)))
            rc = pg_exec(&l->db->base, gl_buf_str(&sql), err);
        gl_buf_release(&sql);
    }
    return rc;
}

static void pg_load_close(struct gl_loader *gl)
{
    struct pg_loader *l = (struct pg_loader *)gl;
    size_t i;

    if (!l)
        return;
    if (l->copying) {
        PGresult *res;
        PQputCopyEnd(l->db->conn, "aborted");
        while ((res = PQgetResult(l->db->conn)) != NULL)
            PQclear(res);
    }
    for (i = 0; l->cols && i < l->ncols; i++)
        free(l->cols[i]);
    for (i = 0; l->key && i < l->o.nkey; i++)
        free(l->key[i]);
    free(l->cols);
    free(l->key);
    free(l->table);
    free(l->stage);
    gl_buf_release(&l->buf);
    free(l);
}

static int pg_references(struct gl_db *g, const char *table, char ***names,
                         size_t *n, struct gl_err *err)
{
    struct gl_buf q = GL_BUF_INIT, t = GL_BUF_INIT;
    struct gl_value tv = {GL_TEXT, 0, 0, NULL, 0};
    int rc;

    pg_quote_ident(table, &t);
    tv.s = gl_buf_str(&t);
    tv.len = t.len;
    gl_buf_adds(&q, "SELECT DISTINCT confrelid::regclass::text FROM"
                    " pg_constraint WHERE contype = 'f' AND conrelid ="
                    " to_regclass(");
    pg_quote_value(g, &tv, &q);
    gl_buf_adds(&q, ") AND confrelid <> conrelid");
    if (!(rc = gl_buf_check(&t, "the table name", err)) &&
        !(rc = gl_buf_check(&q, "the query", err)))
        rc = gl_db_query_strings(g, gl_buf_str(&q), names, n, err);
    gl_buf_release(&q);
    gl_buf_release(&t);
    return rc;
}

static int pg_constraints(struct gl_db *g, const char *table, int on,
                          struct gl_err *err)
{
    struct gl_buf q = GL_BUF_INIT;
    int rc;

    gl_buf_adds(&q, "ALTER TABLE ");
    pg_quote_ident(table, &q);
    gl_buf_adds(&q, on ? " ENABLE TRIGGER ALL" : " DISABLE TRIGGER ALL");
    if (!(rc = gl_buf_check(&q, "the statement", err)))
        rc = pg_exec(g, gl_buf_str(&q), err);
    gl_buf_release(&q);
    return rc;
}

/* Split "a\x1fb" into a malloc'd array. */
static char **split_us(const char *s, size_t *n)
{
    char **v = NULL;
    const char *p = s;
    size_t cap = 0;

    *n = 0;
    for (;;) {
        const char *e = strchr(p, '\x1f');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (*n == cap) {
            char **nv = realloc(v, (cap = cap ? cap * 2 : 4) * sizeof(*v));
            if (!nv)
                break;
            v = nv;
        }
        v[(*n)++] = strndup(p, len);
        if (!e)
            break;
        p = e + 1;
    }
    return v;
}

static void free_strv(char **v, size_t n)
{
    size_t i;

    for (i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static int pg_fk_violations(struct gl_db *g, const char *table, int64_t *n,
                            struct gl_err *err)
{
    struct pg_db *db = (struct pg_db *)g;
    struct gl_buf t = GL_BUF_INIT;
    const char *params[1];
    PGresult *res;
    int i, rc = GL_OK;

    *n = 0;
    pg_quote_ident(table, &t);
    if ((rc = gl_buf_check(&t, "the table name", err)))
        return rc;
    params[0] = gl_buf_str(&t);
    res = PQexecParams(
        db->conn,
        "SELECT c.confrelid::regclass::text,"
        " (SELECT string_agg(a.attname, E'\\x1f' ORDER BY k.o) FROM"
        "  unnest(c.conkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON"
        "  a.attrelid = c.conrelid AND a.attnum = k.n),"
        " (SELECT string_agg(a.attname, E'\\x1f' ORDER BY k.o) FROM"
        "  unnest(c.confkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON"
        "  a.attrelid = c.confrelid AND a.attnum = k.n)"
        " FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid ="
        " to_regclass($1)",
        1, NULL, params, NULL, NULL, 0);
    gl_buf_release(&t);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = pg_fail(db, err, "cannot read foreign keys", res);
        PQclear(res);
        return rc;
    }
    for (i = 0; i < PQntuples(res) && !rc; i++) {
        size_t nc = 0, nr = 0;
        char **cols = split_us(PQgetvalue(res, i, 1), &nc);
        char **refs = split_us(PQgetvalue(res, i, 2), &nr);
        int64_t k = 0;
        if (cols && refs && nc == nr)
            rc = gl_db_count_orphans(g, table, PQgetvalue(res, i, 0), cols,
                                     refs, nc, &k, err);
        *n += k;
        free_strv(cols, nc);
        free_strv(refs, nr);
    }
    PQclear(res);
    return rc;
}

static int pg_reset_identity(struct gl_db *g, const char *table,
                             const char *column, struct gl_err *err)
{
    struct pg_db *db = (struct pg_db *)g;
    struct gl_buf q = GL_BUF_INIT, tname = GL_BUF_INIT;
    struct gl_value tv = {GL_TEXT, 0, 0, NULL, 0}, cv = tv;
    int rc;

    pg_quote_ident(table, &tname);
    tv.s = gl_buf_str(&tname);
    tv.len = tname.len;
    cv.s = column;
    cv.len = strlen(column);
    gl_buf_adds(&q, "SELECT setval(s, COALESCE(m, 1), m IS NOT NULL) FROM"
                    " (SELECT pg_get_serial_sequence(");
    pg_quote_value(g, &tv, &q);
    gl_buf_adds(&q, ", ");
    pg_quote_value(g, &cv, &q);
    gl_buf_adds(&q, ") AS s, (SELECT max(");
    pg_quote_ident(column, &q);
    gl_buf_adds(&q, ") FROM ");
    gl_buf_adds(&q, gl_buf_str(&tname));
    gl_buf_adds(&q, ") AS m) x WHERE s IS NOT NULL");
    if (!(rc = gl_buf_check(&tname, "the table name", err)) &&
        !(rc = gl_buf_check(&q, "the statement", err)))
        rc = pg_exec(&db->base, gl_buf_str(&q), err);
    gl_buf_release(&q);
    gl_buf_release(&tname);
    return rc;
}

/* A session-level advisory lock, keyed by a 64-bit FNV-1a hash of name
 * (advisory locks are per database already). */
static int pg_lock(struct gl_db *g, const char *name, struct gl_err *err)
{
    uint64_t h = 14695981039346656037ull;
    const unsigned char *s;
    char sql[96];
    int64_t got = 0;
    int rc;

    for (s = (const unsigned char *)name; *s; s++) {
        h ^= *s;
        h *= 1099511628211ull;
    }
    snprintf(sql, sizeof(sql),
             "SELECT CASE WHEN pg_try_advisory_lock(%lld) THEN 1 ELSE 0 END",
             (long long)(int64_t)h);
    if ((rc = gl_db_query_int(g, sql, &got, err)))
        return rc;
    return got == 1 ? GL_OK
                    : gl_err_set(err, GL_EREFUSED,
                                 "advisory lock '%s' in '%s' is held", name,
                                 g->label);
}

static int pg_order_bytes(const char *quoted, struct gl_buf *out)
{
    return gl_buf_addf(out, "%s COLLATE \"C\"", quoted);
}

static int pg_not_same(const char *a, const char *b, struct gl_buf *out)
{
    return gl_buf_addf(out, "%s IS DISTINCT FROM %s", a, b);
}

static int pg_change(struct gl_db *g, const char *sql, int64_t *affected,
                     struct gl_err *err)
{
    struct pg_db *db = (struct pg_db *)g;
    PGresult *res = PQexec(db->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    const char *n;
    int rc = GL_OK;

    *affected = -1;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = pg_fail(db, err, "statement failed", res);
    else if ((n = PQcmdTuples(res)) && *n)
        *affected = strtoll(n, NULL, 10);
    PQclear(res);
    return rc;
}

const struct gl_db_driver gl_postgres_driver = {
    .name = "postgres",
    .open = pg_open,
    .close = pg_close,
    .describe = pg_describe,
    .tables = pg_tables,
    .query = pg_query,
    .next = pg_next,
    .ncols = pg_ncols,
    .col_name = pg_col_name,
    .cursor_close = pg_cursor_close,
    .exec = pg_exec,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .load_begin = pg_load_begin,
    .load_row = pg_load_row,
    .load_finish = pg_load_finish,
    .load_close = pg_load_close,
    .references = pg_references,
    .constraints = pg_constraints,
    .fk_violations = pg_fk_violations,
    .reset_identity = pg_reset_identity,
    .lock = pg_lock,
    .order_bytes = pg_order_bytes,
    .not_same = pg_not_same,
    .quote_ident = pg_quote_ident,
    .quote_value = pg_quote_value,
    .change = pg_change,
    .script_value = pg_script_value,
};
