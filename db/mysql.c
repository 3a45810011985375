/*
 * mysql.c - the MySQL / MariaDB driver (libmariadb).
 *
 * Queries stream with mysql_use_result (rows are read from the socket as
 * they are asked for).  Loads are multi-row INSERT statements of escaped
 * literals, sent when a batch reaches a size well under max_allowed_packet;
 * an upsert adds ON DUPLICATE KEY UPDATE.  The session uses utf8mb4, UTC
 * (TIMESTAMP columns then read and write UTC) and strict mode, so a value
 * that does not fit is an error, never silently cut.
 */
#include <ctype.h>
#include <math.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/value.h"
#include "golive/db.h"
#include "util/buf.h"

struct my_db {
    struct gl_db base;
    MYSQL *h;
    size_t max_stmt; /* bytes per INSERT statement */
};

struct my_cursor {
    struct my_db *db;
    MYSQL_RES *res;
    size_t ncols;
    enum gl_vtype *types;
    char **names;
    struct gl_value *vals;
};

struct my_loader {
    struct my_db *db;
    struct gl_buf head; /* INSERT INTO t (cols) VALUES */
    struct gl_buf tail; /* ON DUPLICATE KEY UPDATE ... */
    struct gl_buf stmt;
    size_t ncols, rows;
};

static int my_fail(struct my_db *db, struct gl_err *err, const char *what)
{
    return gl_err_set(err, GL_EIO, "%s in '%s': %s", what,
                      db->base.label ? db->base.label : "mysql",
                      mysql_error(db->h));
}

/* Percent-decoding of URL parts into a malloc'd string. */
static char *url_part(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    size_t i;

    if (!out)
        return NULL;
    for (i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
            isxdigit((unsigned char)s[i + 2])) {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            *o++ = (char)strtol(hex, NULL, 16);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

static int my_exec(struct gl_db *g, const char *sql, struct gl_err *err)
{
    struct my_db *db = (struct my_db *)g;
    int status;

    if (mysql_real_query(db->h, sql, strlen(sql)))
        return my_fail(db, err, "statement failed");
    /* drain every result of a multi-statement */
    do {
        MYSQL_RES *r = mysql_store_result(db->h);
        mysql_free_result(r);
        status = mysql_next_result(db->h);
        if (status > 0)
            return my_fail(db, err, "statement failed");
    } while (status == 0);
    return GL_OK;
}

static int my_open(const char *url, const char *base_dir, struct gl_db **out,
                   struct gl_err *err)
{
    const char *p = strstr(url, "://") + 3, *at, *slash, *colon, *end;
    char *user = NULL, *pass = NULL, *host = NULL, *dbname = NULL;
    unsigned port = 3306;
    struct my_db *db = calloc(1, sizeof(*db));
    int64_t maxp = 0;
    int rc = GL_OK;

    (void)base_dir;
    if (!db)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    db->base.drv = &gl_mysql_driver;
    db->base.label = gl_db_redact_url(url);
    end = p + strcspn(p, "?#");
    slash = memchr(p, '/', (size_t)(end - p));
    if (!slash)
        slash = end;
    at = memchr(p, '@', (size_t)(slash - p));
    if (at) {
        colon = memchr(p, ':', (size_t)(at - p));
        user = url_part(p, (size_t)((colon ? colon : at) - p));
        if (colon)
            pass = url_part(colon + 1, (size_t)(at - colon - 1));
        p = at + 1;
    }
    colon = memchr(p, ':', (size_t)(slash - p));
    host = url_part(p, (size_t)((colon ? colon : slash) - p));
    if (colon)
        port = (unsigned)strtoul(colon + 1, NULL, 10);
    if (slash < end)
        dbname = url_part(slash + 1, (size_t)(end - slash - 1));
    if (!pass && getenv("MYSQL_PWD"))
        pass = strdup(getenv("MYSQL_PWD"));

    db->h = mysql_init(NULL);
    if (!db->h) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto out;
    }
    mysql_options(db->h, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (!mysql_real_connect(db->h, host && *host ? host : "127.0.0.1",
                            user && *user ? user : NULL, pass,
                            dbname && *dbname ? dbname : NULL, port, NULL,
                            CLIENT_MULTI_STATEMENTS)) {
        rc = my_fail(db, err, "cannot connect");
        goto out;
    }
    if ((rc = my_exec(&db->base,
                      "SET time_zone = '+00:00', SESSION sql_mode = "
                      "'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
                      "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
                      err)))
        goto out;
    if (!gl_db_query_int(&db->base, "SELECT @@max_allowed_packet", &maxp,
                         NULL) &&
        maxp > 0)
        db->max_stmt = (size_t)maxp / 2;
    if (db->max_stmt == 0 || db->max_stmt > (4u << 20))
        db->max_stmt = 4u << 20;
out:
    if (pass)
        memset(pass, 0, strlen(pass));
    free(user);
    free(pass);
    free(host);
    free(dbname);
    if (rc) {
        if (db->h)
            mysql_close(db->h);
        free(db->base.label);
        free(db);
        return rc;
    }
    *out = &db->base;
    return GL_OK;
}

static void my_close(struct gl_db *g)
{
    struct my_db *db = (struct my_db *)g;

    mysql_close(db->h);
    free(db);
}

static int my_quote_ident(const char *ident, struct gl_buf *out)
{
    return gl_quote_ident_with(ident, '`', out);
}

static int quote_str(struct my_db *db, const char *s, size_t len,
                     struct gl_buf *out)
{
    char *tmp;
    unsigned long n;
    int rc;

    if (len > (SIZE_MAX - 3) / 2 || !(tmp = malloc(len * 2 + 3)))
        return -1;
    n = mysql_real_escape_string(db->h, tmp, s, (unsigned long)len);
    rc = gl_buf_add(out, "'", 1) || gl_buf_add(out, tmp, n) ||
         gl_buf_add(out, "'", 1);
    free(tmp);
    return rc;
}

static int my_quote_value(struct gl_db *g, const struct gl_value *v,
                          struct gl_buf *out)
{
    struct my_db *db = (struct my_db *)g;
    char tmp[64];

    switch (v->type) {
    case GL_NULL:
        return gl_buf_adds(out, "NULL");
    case GL_INT:
        return gl_value_text(v, out);
    case GL_BOOL:
        return gl_buf_adds(out, v->i ? "1" : "0");
    case GL_FLOAT:
        if (isnan(v->f) || isinf(v->f))
            return -1; /* MySQL has no NaN or infinity */
        return gl_value_text(v, out);
    case GL_NUMERIC:
        if (gl_is_decimal(v->s, v->len))
            return gl_buf_add(out, v->s, v->len);
        return -1;
    case GL_TEXT:
        return quote_str(db, v->s, v->len, out);
    case GL_BYTES:
        if (!v->len)
            return gl_buf_adds(out, "''");
        return gl_buf_adds(out, "X'") || gl_hex_append(out, v->s, v->len) ||
               gl_buf_adds(out, "'");
    case GL_DATE:
        gl_format_date(v->i, tmp);
        return gl_buf_addf(out, "'%s'", tmp);
    case GL_TIME:
        gl_format_time(v->i, tmp);
        return gl_buf_addf(out, "'%s'", tmp);
    case GL_TIMESTAMP:
    case GL_TIMESTAMPTZ: /* the session is UTC */
        gl_format_timestamp(v->i, 0, tmp);
        return gl_buf_addf(out, "'%s'", tmp);
    case GL_SPECIAL:
        return quote_str(db, v->s, v->len, out);
    }
    return -1;
}

/* Literals that read the same under every sql_mode (NO_BACKSLASH_ESCAPES,
 * ANSI_QUOTES, PAD_CHAR_TO_FULL_LENGTH...) and time_zone: strings as hex
 * with their character set, never an escaped quote. */
static int my_script_value(const struct gl_value *v, enum gl_vtype col_type,
                           struct gl_buf *out)
{
    char tmp[64];

    switch (v->type) {
    case GL_NULL:
        return gl_buf_adds(out, "NULL");
    case GL_INT:
        return gl_buf_addf(out, "%lld", (long long)v->i);
    case GL_BOOL:
        return gl_buf_adds(out, v->i ? "1" : "0");
    case GL_FLOAT:
        if (isnan(v->f) || isinf(v->f))
            return 1; /* MariaDB has no NaN or infinity */
        return gl_buf_addf(out, "%.17g", v->f);
    case GL_NUMERIC:
        if (!gl_is_decimal(v->s, v->len))
            return 1;
        return gl_buf_add(out, v->s, v->len);
    case GL_TEXT:
        if (!v->len)
            return gl_buf_adds(out, "''");
        return gl_buf_adds(out, "_utf8mb4 X'") ||
               gl_hex_append(out, v->s, v->len) || gl_buf_adds(out, "'");
    case GL_BYTES:
        if (!v->len)
            return gl_buf_adds(out, "''");
        return gl_buf_adds(out, "X'") || gl_hex_append(out, v->s, v->len) ||
               gl_buf_adds(out, "'");
    case GL_DATE:
        gl_format_date(v->i, tmp);
        return gl_buf_addf(out, "DATE '%s'", tmp);
    case GL_TIME:
        gl_format_time(v->i, tmp);
        return gl_buf_addf(out, "TIME '%s'", tmp);
    case GL_TIMESTAMP:
        gl_format_timestamp(v->i, 0, tmp);
        return gl_buf_addf(out, "TIMESTAMP '%s'", tmp);
    case GL_TIMESTAMPTZ:
        /* a TIMESTAMP column: the instant, read back in the session's
         * time zone whatever it is */
        if (col_type != GL_TIMESTAMPTZ) {
            gl_format_timestamp(v->i, 0, tmp);
            return gl_buf_addf(out, "TIMESTAMP '%s'", tmp);
        }
        if (v->i < 0)
            return 1; /* before 1970: no TIMESTAMP holds it */
        return gl_buf_addf(out, "FROM_UNIXTIME(%lld.%06lld)",
                           (long long)(v->i / 1000000),
                           (long long)(v->i % 1000000));
    case GL_SPECIAL:
        if (gl_special_kind(v->s, v->len) != GL_SP_LONG_TIME)
            return 1; /* infinity, dates BC: MariaDB has none; a zero date
                       * is not the same value under every sql_mode */
        return gl_buf_add(out, "'", 1) || gl_buf_add(out, v->s, v->len) ||
               gl_buf_add(out, "'", 1);
    }
    return 1;
}

static enum gl_vtype field_type(const MYSQL_FIELD *f)
{
    switch (f->type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_YEAR:
        return GL_INT;
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL:
        return GL_NUMERIC;
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE:
        return GL_FLOAT;
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_NEWDATE:
        return GL_DATE;
    case MYSQL_TYPE_TIME:
        return GL_TIME;
    case MYSQL_TYPE_DATETIME:
        return GL_TIMESTAMP;
    case MYSQL_TYPE_TIMESTAMP:
        return GL_TIMESTAMPTZ;
    case MYSQL_TYPE_BIT:
        return GL_BYTES;
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_BLOB:
    case MYSQL_TYPE_STRING:
    case MYSQL_TYPE_VAR_STRING:
    case MYSQL_TYPE_VARCHAR:
        return f->charsetnr == 63 ? GL_BYTES : GL_TEXT; /* 63: binary */
    default:
        return GL_TEXT;
    }
}

static void my_cursor_close(struct gl_cursor *gc);

static int my_query(struct gl_db *g, const char *sql, struct gl_cursor **out,
                    struct gl_err *err)
{
    struct my_db *db = (struct my_db *)g;
    struct my_cursor *c = calloc(1, sizeof(*c));
    MYSQL_FIELD *f;
    size_t i;

    *out = NULL;
    if (!c)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    c->db = db;
    if (mysql_real_query(db->h, sql, strlen(sql))) {
        free(c);
        return my_fail(db, err, "query failed");
    }
    c->res = mysql_use_result(db->h);
    if (!c->res) {
        free(c);
        if (mysql_errno(db->h))
            return my_fail(db, err, "query failed");
        return gl_err_set(err, GL_EUSAGE, "statement returned no rows: %.60s",
                          sql);
    }
    c->ncols = mysql_num_fields(c->res);
    f = mysql_fetch_fields(c->res);
    c->types = calloc(c->ncols + 1, sizeof(*c->types));
    c->names = calloc(c->ncols + 1, sizeof(*c->names));
    c->vals = calloc(c->ncols + 1, sizeof(*c->vals));
    if (!c->types || !c->names || !c->vals) {
        my_cursor_close((struct gl_cursor *)c);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    for (i = 0; i < c->ncols; i++) {
        c->types[i] = field_type(&f[i]);
        c->names[i] = strdup(f[i].name);
    }
    *out = (struct gl_cursor *)c;
    return GL_OK;
}

static int my_next(struct gl_cursor *gc, const struct gl_value **row,
                   struct gl_err *err)
{
    struct my_cursor *c = (struct my_cursor *)gc;
    MYSQL_ROW r = mysql_fetch_row(c->res);
    unsigned long *lens;
    size_t i;
    int zoned;

    if (!r) {
        if (mysql_errno(c->db->h))
            return -my_fail(c->db, err, "query failed");
        return 0;
    }
    lens = mysql_fetch_lengths(c->res);
    for (i = 0; i < c->ncols; i++) {
        struct gl_value *v = &c->vals[i];
        const char *s = r[i];
        size_t len = lens[i];
        int bad = 0;

        memset(v, 0, sizeof(*v));
        if (!s) {
            v->type = GL_NULL;
            continue;
        }
        v->type = c->types[i];
        switch (v->type) {
        case GL_INT:
            v->i = gl_parse_int(s);
            break;
        case GL_FLOAT:
            v->f = strtod(s, NULL);
            break;
        case GL_DATE:
            bad = gl_parse_date(s, len, &v->i);
            break;
        case GL_TIME:
            bad = gl_parse_time(s, len, &v->i);
            break;
        case GL_TIMESTAMP:
        case GL_TIMESTAMPTZ:
            bad = gl_parse_timestamp(s, len, &v->i, &zoned);
            break;
        default:
            v->s = s;
            v->len = len;
        }
        if (bad && (gl_is_special_text(s, len) ||
                    (v->type == GL_TIME &&
                     gl_special_kind(s, len) == GL_SP_LONG_TIME))) {
            /* a zero date, a TIME past a day or negative: a value,
             * however odd (see GL_SPECIAL) */
            v->i = v->type;
            v->type = GL_SPECIAL;
            v->s = s;
            v->len = len;
            bad = 0;
        }
        if (bad)
            return -gl_err_set(err, GL_EIO,
                               "cannot read %s value '%.40s' of column '%s' "
                               "from '%s'",
                               gl_vtype_name(v->type), s, c->names[i],
                               c->db->base.label);
    }
    *row = c->vals;
    return 1;
}

static size_t my_ncols(struct gl_cursor *gc)
{
    return ((struct my_cursor *)gc)->ncols;
}

static const char *my_col_name(struct gl_cursor *gc, size_t i)
{
    return ((struct my_cursor *)gc)->names[i];
}

static void my_cursor_close(struct gl_cursor *gc)
{
    struct my_cursor *c = (struct my_cursor *)gc;
    size_t i;

    if (!c)
        return;
    mysql_free_result(c->res); /* reads and drops what is left */
    for (i = 0; c->names && i < c->ncols; i++)
        free(c->names[i]);
    free(c->names);
    free(c->types);
    free(c->vals);
    free(c);
}

static int my_describe(struct gl_db *g, const char *table,
                       struct gl_table_desc *t, struct gl_err *err)
{
    struct gl_buf sql = GL_BUF_INIT;
    const char *dot = strchr(table, '.');
    struct gl_value schema = {GL_TEXT, 0, 0, NULL, 0}, name = schema;
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    size_t cap = 0, npk = 0;
    int rc, r;

    memset(t, 0, sizeof(*t));
    if (dot) {
        schema.s = table;
        schema.len = (size_t)(dot - table);
        name.s = dot + 1;
    } else {
        name.s = table;
    }
    name.len = strlen(name.s);
    gl_buf_adds(&sql,
                "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE = 'YES',"
                " COLUMN_DEFAULT IS NOT NULL OR EXTRA LIKE '%auto_increment%',"
                " EXTRA LIKE '%auto_increment%', DATA_TYPE,"
                " CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE,"
                " DATETIME_PRECISION,"
                " (SELECT k.ORDINAL_POSITION FROM"
                "  information_schema.KEY_COLUMN_USAGE k WHERE"
                "  k.TABLE_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME ="
                "  c.TABLE_NAME AND k.COLUMN_NAME = c.COLUMN_NAME AND"
                "  k.CONSTRAINT_NAME = 'PRIMARY')"
                " FROM information_schema.COLUMNS c WHERE TABLE_SCHEMA = ");
    if (dot)
        my_quote_value(g, &schema, &sql);
    else
        gl_buf_adds(&sql, "DATABASE()");
    gl_buf_adds(&sql, " AND TABLE_NAME = ");
    my_quote_value(g, &name, &sql);
    gl_buf_adds(&sql, " ORDER BY ORDINAL_POSITION");
    if (!(rc = gl_buf_check(&sql, "the query", err)))
        rc = my_query(g, gl_buf_str(&sql), &c, err);
    gl_buf_release(&sql);
    if (rc)
        return rc;
    while ((r = my_next(c, &row, err)) == 1) {
        struct gl_column *col;
        char dt[32];
        size_t k;
        if (t->ncols == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            void *p = realloc(t->cols, ncap * sizeof(*t->cols));
            void *q = realloc(t->pk, ncap * sizeof(*t->pk));
            if (p)
                t->cols = p;
            if (q)
                t->pk = q;
            if (!p || !q) {
                r = -gl_err_set(err, GL_ENOMEM, "out of memory");
                break;
            }
            cap = ncap;
        }
        col = &t->cols[t->ncols];
        memset(col, 0, sizeof(*col));
        col->name = strndup(row[0].s, row[0].len);
        col->decl_type = strndup(row[1].s, row[1].len);
        col->nullable = row[2].i != 0;
        col->has_default = row[3].i != 0;
        col->identity = row[4].i != 0;
        snprintf(dt, sizeof(dt), "%.*s", (int)row[5].len, row[5].s);
        for (k = 0; dt[k]; k++)
            dt[k] = (char)tolower((unsigned char)dt[k]);
        col->length = row[6].type == GL_NULL ? -1 : (int)row[6].i;
        col->precision = row[7].type == GL_NULL ? -1 : (int)row[7].i;
        col->scale = row[8].type == GL_NULL ? -1 : (int)row[8].i;
        if (!strcmp(dt, "decimal"))
            col->type = GL_NUMERIC;
        else if (strstr(dt, "int") || !strcmp(dt, "year"))
            col->type = GL_INT;
        else if (!strcmp(dt, "float") || !strcmp(dt, "double"))
            col->type = GL_FLOAT;
        else if (!strcmp(dt, "date"))
            col->type = GL_DATE;
        else if (!strcmp(dt, "time"))
            col->type = GL_TIME;
        else if (!strcmp(dt, "datetime"))
            col->type = GL_TIMESTAMP;
        else if (!strcmp(dt, "timestamp"))
            col->type = GL_TIMESTAMPTZ;
        else if (strstr(dt, "blob") || strstr(dt, "binary") ||
                 !strcmp(dt, "bit"))
            col->type = GL_BYTES;
        else
            col->type = GL_TEXT;
        if (col->type == GL_TIMESTAMP || col->type == GL_TIMESTAMPTZ ||
            col->type == GL_TIME)
            col->scale = row[9].type == GL_NULL ? 0 : (int)row[9].i;
        if (col->type != GL_NUMERIC && col->type != GL_TIMESTAMP &&
            col->type != GL_TIMESTAMPTZ && col->type != GL_TIME)
            col->precision = col->scale = -1;
        if (row[10].type != GL_NULL && row[10].i > 0) {
            t->pk[row[10].i - 1] = t->ncols;
            if ((size_t)row[10].i > npk)
                npk = (size_t)row[10].i;
        }
        t->ncols++;
    }
    my_cursor_close(c);
    if (r < 0) {
        gl_table_desc_release(t);
        return -r;
    }
    if (!t->ncols)
        return gl_err_set(err, GL_ENOTFOUND, "no table '%s' in '%s'", table,
                          g->label);
    t->npk = npk;
    t->name = strdup(table);
    return GL_OK;
}

static int my_tables(struct gl_db *g, char ***names, size_t *n,
                     struct gl_err *err)
{
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    size_t cap = 0;
    int rc, r;

    *names = NULL;
    *n = 0;
    if ((rc = my_query(g,
                       "SELECT TABLE_NAME FROM information_schema.TABLES "
                       "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = "
                       "'BASE TABLE' ORDER BY TABLE_NAME",
                       &c, err)))
        return rc;
    while ((r = my_next(c, &row, err)) == 1) {
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **p = realloc(*names, ncap * sizeof(char *));
            if (!p) {
                r = -gl_err_set(err, GL_ENOMEM, "out of memory");
                break;
            }
            *names = p;
            cap = ncap;
        }
        (*names)[(*n)++] = strndup(row[0].s, row[0].len);
    }
    my_cursor_close(c);
    return r < 0 ? -r : GL_OK;
}

static int my_begin(struct gl_db *g, struct gl_err *err)
{
    return my_exec(g, "START TRANSACTION", err);
}

static int my_commit(struct gl_db *g, struct gl_err *err)
{
    return my_exec(g, "COMMIT", err);
}

static void my_rollback(struct gl_db *g)
{
    struct my_db *db = (struct my_db *)g;

    mysql_real_query(db->h, "ROLLBACK", 8);
}

static void my_load_close(struct gl_loader *gl);

static int my_load_begin(struct gl_db *g, const struct gl_load_opts *o,
                         struct gl_loader **out, struct gl_err *err)
{
    struct my_loader *l = calloc(1, sizeof(*l));
    size_t i, k;
    int any = 0;

    *out = NULL;
    if (!l)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    l->db = (struct my_db *)g;
    l->ncols = o->ncols;
    gl_buf_adds(&l->head, "INSERT INTO ");
    my_quote_ident(o->table, &l->head);
    gl_buf_adds(&l->head, " (");
    for (i = 0; i < o->ncols; i++) {
        if (i)
            gl_buf_adds(&l->head, ", ");
        my_quote_ident(o->cols[i], &l->head);
    }
    gl_buf_adds(&l->head, ") VALUES ");
    if (o->upsert && o->nkey) {
        for (i = 0; i < o->ncols; i++) {
            int is_key = 0;
            for (k = 0; k < o->nkey; k++)
                is_key |= !strcmp(o->cols[i], o->key[k]);
            if (is_key)
                continue;
            gl_buf_adds(&l->tail, any++ ? ", " : " ON DUPLICATE KEY UPDATE ");
            my_quote_ident(o->cols[i], &l->tail);
            gl_buf_adds(&l->tail, " = VALUES(");
            my_quote_ident(o->cols[i], &l->tail);
            gl_buf_adds(&l->tail, ")");
        }
        if (!any) { /* only key columns: keep what is there */
            gl_buf_adds(&l->tail, " ON DUPLICATE KEY UPDATE ");
            my_quote_ident(o->key[0], &l->tail);
            gl_buf_adds(&l->tail, " = ");
            my_quote_ident(o->key[0], &l->tail);
        }
    }
    if (gl_buf_failed(&l->head) || gl_buf_failed(&l->tail)) {
        int rc = gl_buf_check(gl_buf_failed(&l->head) ? &l->head : &l->tail,
                              "the load's statement", err);
        my_load_close((struct gl_loader *)l);
        return rc;
    }
    *out = (struct gl_loader *)l;
    return GL_OK;
}

static int flush_stmt(struct my_loader *l, struct gl_err *err)
{
    int rc;

    if (!l->rows)
        return GL_OK;
    if (l->tail.len && gl_buf_add(&l->stmt, l->tail.data, l->tail.len))
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    rc = mysql_real_query(l->db->h, l->stmt.data, l->stmt.len)
             ? my_fail(l->db, err, "cannot load rows")
             : GL_OK;
    gl_buf_reset(&l->stmt);
    l->rows = 0;
    return rc;
}

static int my_load_row(struct gl_loader *gl, const struct gl_value *row,
                       struct gl_err *err)
{
    struct my_loader *l = (struct my_loader *)gl;
    size_t i, mark;
    int rc;

    if (!l->rows && gl_buf_add(&l->stmt, l->head.data, l->head.len))
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    mark = l->stmt.len;
    if (gl_buf_adds(&l->stmt, l->rows ? ",(" : "("))
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    for (i = 0; i < l->ncols; i++) {
        if ((i && gl_buf_add(&l->stmt, ",", 1)) ||
            my_quote_value(&l->db->base, &row[i], &l->stmt)) {
            if (!gl_buf_failed(&l->stmt)) /* else it holds nothing */
                l->stmt.len = mark;
            if (!l->rows)
                gl_buf_reset(&l->stmt);
            if (row[i].type == GL_FLOAT || row[i].type == GL_NUMERIC)
                return gl_err_set(err, GL_EIO,
                                  "value of column %zu cannot be stored in "
                                  "MySQL (NaN, infinity or not a number)",
                                  i + 1);
            return gl_err_set(err, GL_ENOMEM, "out of memory");
        }
    }
    if (gl_buf_add(&l->stmt, ")", 1))
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    l->rows++;
    if (l->stmt.len >= l->db->max_stmt && (rc = flush_stmt(l, err)))
        return rc;
    return GL_OK;
}

static int my_load_finish(struct gl_loader *gl, struct gl_err *err)
{
    return flush_stmt((struct my_loader *)gl, err);
}

static void my_load_close(struct gl_loader *gl)
{
    struct my_loader *l = (struct my_loader *)gl;

    if (!l)
        return;
    gl_buf_release(&l->head);
    gl_buf_release(&l->tail);
    gl_buf_release(&l->stmt);
    free(l);
}

static int my_references(struct gl_db *g, const char *table, char ***names,
                         size_t *n, struct gl_err *err)
{
    struct gl_buf q = GL_BUF_INIT;
    struct gl_value tv = {GL_TEXT, 0, 0, NULL, 0};
    int rc;

    tv.s = table;
    tv.len = strlen(table);
    gl_buf_adds(&q, "SELECT DISTINCT REFERENCED_TABLE_NAME FROM"
                    " information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA"
                    " = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL AND"
                    " TABLE_NAME = ");
    my_quote_value(g, &tv, &q);
    gl_buf_adds(&q, " AND REFERENCED_TABLE_NAME <> ");
    my_quote_value(g, &tv, &q);
    if (!(rc = gl_buf_check(&q, "the query", err)))
        rc = gl_db_query_strings(g, gl_buf_str(&q), names, n, err);
    gl_buf_release(&q);
    return rc;
}

static int my_constraints(struct gl_db *g, const char *table, int on,
                          struct gl_err *err)
{
    (void)table; /* MySQL turns the checks off for the session */
    return my_exec(
        g, on ? "SET FOREIGN_KEY_CHECKS = 1" : "SET FOREIGN_KEY_CHECKS = 0",
        err);
}

static int my_fk_violations(struct gl_db *g, const char *table, int64_t *n,
                            struct gl_err *err)
{
    struct gl_buf q = GL_BUF_INIT;
    struct gl_value tv = {GL_TEXT, 0, 0, NULL, 0};
    char **rows = NULL;
    size_t nrows = 0, i;
    int rc;

    *n = 0;
    tv.s = table;
    tv.len = strlen(table);
    /* one row per foreign key: ref table, columns, referenced columns,
     * separated by 0x1f */
    gl_buf_adds(&q, "SELECT CONCAT(REFERENCED_TABLE_NAME, CHAR(31),"
                    " GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION"
                    " SEPARATOR 0x1e), CHAR(31), GROUP_CONCAT("
                    "REFERENCED_COLUMN_NAME ORDER BY ORDINAL_POSITION"
                    " SEPARATOR 0x1e)) FROM information_schema."
                    "KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND"
                    " REFERENCED_TABLE_NAME IS NOT NULL AND TABLE_NAME = ");
    my_quote_value(g, &tv, &q);
    gl_buf_adds(&q, " GROUP BY CONSTRAINT_NAME, REFERENCED_TABLE_NAME");
    if (!(rc = gl_buf_check(&q, "the query", err)))
        rc = gl_db_query_strings(g, gl_buf_str(&q), &rows, &nrows, err);
    gl_buf_release(&q);
    for (i = 0; !rc && i < nrows; i++) {
        char *ref = rows[i], *c = strchr(ref, 31),
             *r = c ? strchr(c + 1, 31) : NULL;
        char *cols[64], *refs[64], *p;
        size_t nc = 0, nr = 0;
        int64_t k = 0;
        if (!c || !r)
            continue;
        *c++ = '\0';
        *r++ = '\0';
        for (p = strtok(c, "\x1e"); p && nc < 64; p = strtok(NULL, "\x1e"))
            cols[nc++] = p;
        for (p = strtok(r, "\x1e"); p && nr < 64; p = strtok(NULL, "\x1e"))
            refs[nr++] = p;
        if (nc == nr && nc)
            rc = gl_db_count_orphans(g, table, ref, cols, refs, nc, &k, err);
        *n += k;
    }
    for (i = 0; i < nrows; i++)
        free(rows[i]);
    free(rows);
    return rc;
}

static int my_reset_identity(struct gl_db *g, const char *table,
                             const char *column, struct gl_err *err)
{
    struct gl_buf q = GL_BUF_INIT;
    int64_t next = 0;
    int rc;

    gl_buf_adds(&q, "SELECT COALESCE(MAX(");
    my_quote_ident(column, &q);
    gl_buf_adds(&q, "), 0) + 1 FROM ");
    my_quote_ident(table, &q);
    if (!(rc = gl_buf_check(&q, "the query", err)))
        rc = gl_db_query_int(g, gl_buf_str(&q), &next, err);
    gl_buf_reset(&q);
    if (!rc) {
        gl_buf_adds(&q, "ALTER TABLE ");
        my_quote_ident(table, &q);
        gl_buf_addf(&q, " AUTO_INCREMENT = %lld", (long long)next);
        if (!(rc = gl_buf_check(&q, "the statement", err)))
            rc = my_exec(g, gl_buf_str(&q), err);
    }
    gl_buf_release(&q);
    return rc;
}

void gl_mysql_library_init(void);

void gl_mysql_library_init(void)
{
    mysql_library_init(0, NULL, NULL);
}

/* GET_LOCK: its names are the server's, so the database's name goes
 * into it (hashed: a name holds at most 64 characters). */
static int my_lock(struct gl_db *g, const char *name, struct gl_err *err)
{
    struct gl_buf q = GL_BUF_INIT;
    struct gl_value v = {GL_TEXT, 0, 0, NULL, 0};
    int64_t got = 0;
    int rc;

    v.s = name;
    v.len = strlen(name);
    gl_buf_adds(&q, "SELECT IFNULL(GET_LOCK(CONCAT('golive-', SHA1(CONCAT("
                    "IFNULL(DATABASE(), ''), ' ', ");
    if (my_quote_value(g, &v, &q)) {
        gl_buf_release(&q);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    gl_buf_adds(&q, "))), 0), -1)");
    if (!(rc = gl_buf_check(&q, "the query", err)))
        rc = gl_db_query_int(g, gl_buf_str(&q), &got, err);
    gl_buf_release(&q);
    if (rc)
        return rc;
    if (got == 1)
        return GL_OK;
    if (got == 0)
        return gl_err_set(err, GL_EREFUSED, "lock '%s' in '%s' is held", name,
                          g->label);
    return gl_err_set(err, GL_EIO, "cannot take lock '%s' in '%s'", name,
                      g->label);
}

static int my_order_bytes(const char *quoted, struct gl_buf *out)
{
    return gl_buf_addf(out, "BINARY %s", quoted);
}

static int my_not_same(const char *a, const char *b, struct gl_buf *out)
{
    /* BINARY: MySQL collations ignore case and trailing spaces */
    return gl_buf_addf(out, "NOT (BINARY %s <=> BINARY %s)", a, b);
}

static int my_change(struct gl_db *g, const char *sql, int64_t *affected,
                     struct gl_err *err)
{
    struct my_db *db = (struct my_db *)g;
    int status;

    *affected = 0;
    if (mysql_real_query(db->h, sql, strlen(sql)))
        return my_fail(db, err, "statement failed");
    /* every result of a multi-statement: the rows each one changed */
    do {
        MYSQL_RES *r = mysql_store_result(db->h);
        if (!r && mysql_field_count(db->h) == 0) {
            my_ulonglong n = mysql_affected_rows(db->h);
            if (n != (my_ulonglong)-1)
                *affected += (int64_t)n;
        }
        mysql_free_result(r);
        status = mysql_next_result(db->h);
        if (status > 0)
            return my_fail(db, err, "statement failed");
    } while (status == 0);
    return GL_OK;
}

const struct gl_db_driver gl_mysql_driver = {
    .name = "mysql",
    .open = my_open,
    .close = my_close,
    .describe = my_describe,
    .tables = my_tables,
    .query = my_query,
    .next = my_next,
    .ncols = my_ncols,
    .col_name = my_col_name,
    .cursor_close = my_cursor_close,
    .exec = my_exec,
    .begin = my_begin,
    .commit = my_commit,
    .rollback = my_rollback,
    .load_begin = my_load_begin,
    .load_row = my_load_row,
    .load_finish = my_load_finish,
    .load_close = my_load_close,
    .references = my_references,
    .constraints = my_constraints,
    .fk_violations = my_fk_violations,
    .reset_identity = my_reset_identity,
    .lock = my_lock,
    .order_bytes = my_order_bytes,
    .not_same = my_not_same,
    .quote_ident = my_quote_ident,
    .quote_value = my_quote_value,
    .change = my_change,
    .script_value = my_script_value,
};
