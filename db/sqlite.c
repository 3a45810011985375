/*
 * sqlite.c - the SQLite driver (libsqlite3).
 *
 * Values come by storage class, refined by the declared type where SQLite
 * keeps a richer type as text: a TEXT value in a DATE / TIMESTAMP column is
 * a date or timestamp, in a NUMERIC / DECIMAL column a numeric, an
 * INTEGER in a BOOLEAN column a boolean.  Loads are prepared INSERTs in
 * the caller's transaction.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#include "db/value.h"
#include "golive/db.h"
#include "util/buf.h"

struct sq_db {
    struct gl_db base; /* first: the interface's view */
    sqlite3 *h;
    char *path;
    int lock_fd; /* the lock file taken by sq_lock, -1 when none */
};

struct sq_cursor {
    struct sq_db *db;
    sqlite3_stmt *st;
    size_t ncols;
    enum gl_vtype *decl; /* refinement per column, GL_NULL = none */
    struct gl_value *row;
    char (*numtxt)[32]; /* decimal text of REAL values in NUMERIC columns */
};

struct sq_loader {
    struct sq_db *db;
    sqlite3_stmt *st;
    size_t ncols;
    struct gl_buf scratch;
};

static int fail(struct sq_db *db, struct gl_err *err, const char *what)
{
    return gl_err_set(err, GL_EIO, "%s in SQLite database '%s': %s", what,
                      db->path, sqlite3_errmsg(db->h));
}

/* The type a declared column type stands for (SQLite's affinity rules,
 * refined for dates, times, booleans and numerics). */
static enum gl_vtype decl_type(const char *decl)
{
    char up[64];
    size_t i;

    if (!decl || !*decl)
        return GL_BYTES; /* no affinity: values are kept as given */
    for (i = 0; decl[i] && i < sizeof(up) - 1; i++)
        up[i] = (char)toupper((unsigned char)decl[i]);
    up[i] = '\0';
    if (strstr(up, "INT"))
        return GL_INT;
    if (strstr(up, "BOOL"))
        return GL_BOOL;
    if (strstr(up, "TIMESTAMPTZ") || strstr(up, "WITH TIME ZONE"))
        return GL_TIMESTAMPTZ;
    if (strstr(up, "DATETIME") || strstr(up, "TIMESTAMP"))
        return GL_TIMESTAMP;
    if (strstr(up, "DATE"))
        return GL_DATE;
    if (strstr(up, "TIME"))
        return GL_TIME;
    if (strstr(up, "CHAR") || strstr(up, "CLOB") || strstr(up, "TEXT"))
        return GL_TEXT;
    if (strstr(up, "BLOB"))
        return GL_BYTES;
    if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB"))
        return GL_FLOAT;
    return GL_NUMERIC; /* NUMERIC, DECIMAL and anything else */
}

static void decl_size(const char *decl, int *a, int *b)
{
    const char *p = decl ? strchr(decl, '(') : NULL;

    *a = *b = -1;
    if (p)
        sscanf(p, "(%d,%d", a, b);
}

static int sq_open(const char *url, const char *base_dir, struct gl_db **out,
                   struct gl_err *err)
{
    const char *path = url + 7; /* after "sqlite:" */
    struct sq_db *db = calloc(1, sizeof(*db));
    struct gl_buf b = GL_BUF_INIT;

    if (!db)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    if (!strncmp(path, "//", 2))
        path += 2; /* sqlite://path */
    if (path[0] != '/' && base_dir && *base_dir)
        gl_buf_addf(&b, "%s/%s", base_dir, path);
    else
        gl_buf_adds(&b, path);
    if (!(db->path = gl_buf_detach(&b))) {
        free(db);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    db->base.drv = &gl_sqlite_driver;
    db->lock_fd = -1;
    /* one connection is only ever used by one thread at a time */
    if (sqlite3_open_v2(db->path, &db->h,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        int rc = gl_err_set(err, GL_EIO, "cannot open SQLite database '%s': %s",
                            db->path,
                            db->h ? sqlite3_errmsg(db->h) : "out of memory");
        sqlite3_close(db->h);
        free(db->path);
        free(db);
        return rc;
    }
    sqlite3_busy_timeout(db->h, 30000);
    sqlite3_extended_result_codes(db->h, 1);
    db->base.label = malloc(strlen(db->path) + 8);
    if (db->base.label)
        sprintf(db->base.label, "sqlite:%s", db->path);
    *out = &db->base;
    return GL_OK;
}

static void sq_close(struct gl_db *g)
{
    struct sq_db *db = (struct sq_db *)g;

    sqlite3_close(db->h);
    if (db->lock_fd >= 0)
        close(db->lock_fd); /* lets the lock go */
    free(db->path);
    free(db);
}

/* A lock file beside the database, "DB-golive-NAME.lock" (DB its real
 * path: a symlink or another spelling of the same file gets the same
 * lock), held with
 * flock(): SQLite's own write lock would block the loads of the holder
 * and of every other job into this file.  The file stays (unlinking it
 * would let a waiter lock a file that no longer has the name). */
static int sq_lock(struct gl_db *g, const char *name, struct gl_err *err)
{
    struct sq_db *db = (struct sq_db *)g;
    struct gl_buf path = GL_BUF_INIT;
    int fd, rc = GL_OK;

    if (db->lock_fd >= 0)
        return gl_err_set(err, GL_EINTERNAL,
                          "a connection to '%s' holds a lock already",
                          db->path);
    {
        char *real = realpath(db->path, NULL);
        gl_buf_addf(&path, "%s-golive-%s.lock", real ? real : db->path, name);
        free(real);
    }
    if ((rc = gl_buf_check(&path, "the lock file's name", err)))
        return rc;
    fd = open(gl_buf_str(&path), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = gl_err_set(err, GL_EIO, "cannot open lock file '%s': %s",
                        gl_buf_str(&path), strerror(errno));
    } else if (flock(fd, LOCK_EX | LOCK_NB)) {
        rc = errno == EWOULDBLOCK
                 ? gl_err_set(err, GL_EREFUSED, "lock file '%s' is held",
                              gl_buf_str(&path))
                 : gl_err_set(err, GL_EIO, "cannot lock '%s': %s",
                              gl_buf_str(&path), strerror(errno));
        close(fd);
    } else {
        db->lock_fd = fd;
    }
    gl_buf_release(&path);
    return rc;
}

static int sq_describe(struct gl_db *g, const char *table,
                       struct gl_table_desc *t, struct gl_err *err)
{
    struct sq_db *db = (struct sq_db *)g;
    sqlite3_stmt *st = NULL;
    size_t cap = 0, pkmax = 0, i;
    int *pkpos = NULL, step, rc = GL_OK;

    memset(t, 0, sizeof(*t));
    if (sqlite3_prepare_v2(db->h,
                           "SELECT name, type, \"notnull\", dflt_value, pk "
                           "FROM pragma_table_info(?1) ORDER BY cid",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(db, err, "cannot describe a table");
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct gl_column *c;
        const char *type = (const char *)sqlite3_column_text(st, 1);
        if (t->ncols == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            void *p = realloc(t->cols, ncap * sizeof(*t->cols));
            void *q = realloc(pkpos, ncap * sizeof(*pkpos));
            if (!p || !q) {
                free(p ? NULL : q);
                t->cols = p ? p : t->cols;
                pkpos = q ? q : pkpos;
                rc = gl_err_set(err, GL_ENOMEM, "out of memory");
                goto out;
            }
            t->cols = p;
            pkpos = q;
            cap = ncap;
        }
        c = &t->cols[t->ncols];
        memset(c, 0, sizeof(*c));
        c->name = strdup((const char *)sqlite3_column_text(st, 0));
        c->decl_type = strdup(type ? type : "");
        c->type = decl_type(type);
        c->nullable = !sqlite3_column_int(st, 2);
        c->has_default = sqlite3_column_type(st, 3) != SQLITE_NULL;
        pkpos[t->ncols] = sqlite3_column_int(st, 4);
        if ((size_t)pkpos[t->ncols] > pkmax)
            pkmax = (size_t)pkpos[t->ncols];
        decl_size(type, &c->precision, &c->scale);
        c->length = c->type == GL_TEXT ? c->precision : -1;
        if (c->type == GL_TEXT)
            c->precision = -1;
        t->ncols++;
        if (!c->name || !c->decl_type) {
            rc = gl_err_set(err, GL_ENOMEM, "out of memory");
            goto out;
        }
    }
    if (step != SQLITE_DONE) {
        rc = fail(db, err, "cannot describe a table");
        goto out;
    }
    if (!t->ncols) {
        rc = gl_err_set(err, GL_ENOTFOUND, "no table '%s' in '%s'", table,
                        g->label ? g->label : db->path);
        goto out;
    }
    if (pkmax) {
        t->pk = calloc(pkmax, sizeof(*t->pk));
        if (!t->pk) {
            rc = gl_err_set(err, GL_ENOMEM, "out of memory");
            goto out;
        }
        for (i = 0; i < t->ncols; i++)
            if (pkpos[i])
                t->pk[pkpos[i] - 1] = i;
        t->npk = pkmax;
        /* INTEGER PRIMARY KEY is the rowid: an identity */
        if (pkmax == 1 && !strcasecmp(t->cols[t->pk[0]].decl_type, "INTEGER")) {
            t->cols[t->pk[0]].identity = 1;
            t->cols[t->pk[0]].has_default = 1;
        }
    }
    t->name = strdup(table);
out:
    sqlite3_finalize(st);
    free(pkpos);
    if (rc)
        gl_table_desc_release(t);
    return rc;
}

static int sq_tables(struct gl_db *g, char ***names, size_t *n,
                     struct gl_err *err)
{
    struct sq_db *db = (struct sq_db *)g;
    sqlite3_stmt *st = NULL;
    char **v = NULL;
    size_t cap = 0;
    int step;

    *names = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db->h,
                           "SELECT name FROM sqlite_schema WHERE type = "
                           "'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE "
                           "'\\' ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(db, err, "cannot list tables");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **p = realloc(v, ncap * sizeof(*v));
            if (!p)
                break;
            v = p;
            cap = ncap;
        }
        v[(*n)++] = strdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    *names = v;
    if (step != SQLITE_DONE)
        return gl_err_set(err, GL_ENOMEM, "cannot list tables");
    return GL_OK;
}

static int sq_query(struct gl_db *g, const char *sql, struct gl_cursor **out,
                    struct gl_err *err)
{
    struct sq_db *db = (struct sq_db *)g;
    struct sq_cursor *c = calloc(1, sizeof(*c));
    size_t i;

    if (!c)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    c->db = db;
    if (sqlite3_prepare_v2(db->h, sql, -1, &c->st, NULL) != SQLITE_OK) {
        int rc = fail(db, err, "query failed");
        free(c);
        return rc;
    }
    c->ncols = (size_t)sqlite3_column_count(c->st);
    c->decl = calloc(c->ncols + 1, sizeof(*c->decl));
    c->row = calloc(c->ncols + 1, sizeof(*c->row));
    c->numtxt = calloc(c->ncols + 1, sizeof(*c->numtxt));
    if (!c->decl || !c->row || !c->numtxt) {
        free(c->numtxt);
        sqlite3_finalize(c->st);
        free(c->decl);
        free(c->row);
        free(c);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    for (i = 0; i < c->ncols; i++) {
        const char *d = sqlite3_column_decltype(c->st, (int)i);
        c->decl[i] = d ? decl_type(d) : GL_NULL;
    }
    *out = (struct gl_cursor *)c;
    return GL_OK;
}

/* Refine a TEXT or INTEGER value by its column's declared type. */
static void refine(struct gl_value *v, enum gl_vtype decl, char *numtxt)
{
    int64_t x;
    int zoned;

    if (v->type == GL_TEXT) {
        switch (decl) {
        case GL_DATE:
            if (!gl_parse_date(v->s, v->len, &x)) {
                v->type = GL_DATE;
                v->i = x;
            }
            break;
        case GL_TIME:
            if (!gl_parse_time(v->s, v->len, &x)) {
                v->type = GL_TIME;
                v->i = x;
            }
            break;
        case GL_TIMESTAMP:
        case GL_TIMESTAMPTZ:
            if (!gl_parse_timestamp(v->s, v->len, &x, &zoned)) {
                v->type = zoned || decl == GL_TIMESTAMPTZ ? GL_TIMESTAMPTZ
                                                          : GL_TIMESTAMP;
                v->i = x;
            }
            break;
        case GL_NUMERIC:
            if (gl_is_decimal(v->s, v->len))
                v->type = GL_NUMERIC;
            break;
        default:
            break;
        }
        if (v->type == GL_TEXT &&
            (decl == GL_DATE || decl == GL_TIMESTAMP ||
             decl == GL_TIMESTAMPTZ) &&
            gl_is_special_text(v->s, v->len)) {
            /* a zero date or infinity kept as text: the same value as
             * the engine that has it (see GL_SPECIAL) */
            v->i = decl;
            v->type = GL_SPECIAL;
        }
    } else if (v->type == GL_FLOAT && decl == GL_NUMERIC && numtxt &&
               isfinite(v->f)) {
        /* a NUMERIC column kept the value as REAL: give it back as the
         * shortest decimal that reads as the same double, as SQLite
         * prints it, when that needs no exponent */
        int prec;
        if (!gl_fmt_double_decimal(v->f, numtxt)) {
            for (prec = 15; prec <= 17; prec++) {
                snprintf(numtxt, 32, "%.*g", prec, v->f);
                if (strtod(numtxt, NULL) == v->f)
                    break;
            }
        }
        if (gl_is_decimal(numtxt, strlen(numtxt))) {
            v->type = GL_NUMERIC;
            v->s = numtxt;
            v->len = strlen(numtxt);
        }
    } else if (v->type == GL_INT && decl == GL_BOOL &&
               (v->i == 0 || v->i == 1)) {
        v->type = GL_BOOL;
    }
}

static int sq_next(struct gl_cursor *gc, const struct gl_value **row,
                   struct gl_err *err)
{
    struct sq_cursor *c = (struct sq_cursor *)gc;
    int step = sqlite3_step(c->st);
    size_t i;

    if (step == SQLITE_DONE)
        return 0;
    if (step != SQLITE_ROW)
        return -fail(c->db, err, "query failed");
    for (i = 0; i < c->ncols; i++) {
        struct gl_value *v = &c->row[i];
        int col = (int)i;
        memset(v, 0, sizeof(*v));
        switch (sqlite3_column_type(c->st, col)) {
        case SQLITE_INTEGER:
            v->type = GL_INT;
            v->i = sqlite3_column_int64(c->st, col);
            break;
        case SQLITE_FLOAT:
            v->type = GL_FLOAT;
            v->f = sqlite3_column_double(c->st, col);
            break;
        case SQLITE_TEXT:
            v->type = GL_TEXT;
            v->s = (const char *)sqlite3_column_text(c->st, col);
            v->len = (size_t)sqlite3_column_bytes(c->st, col);
            break;
        case SQLITE_BLOB:
            v->type = GL_BYTES;
            v->s = sqlite3_column_blob(c->st, col);
            v->len = (size_t)sqlite3_column_bytes(c->st, col);
            if (!v->s)
                v->s = "";
            break;
        default:
            v->type = GL_NULL;
        }
        refine(v, c->decl[i], c->numtxt[i]);
    }
    *row = c->row;
    return 1;
}

static size_t sq_ncols(struct gl_cursor *gc)
{
    return ((struct sq_cursor *)gc)->ncols;
}

static const char *sq_col_name(struct gl_cursor *gc, size_t i)
{
    return sqlite3_column_name(((struct sq_cursor *)gc)->st, (int)i);
}

static void sq_cursor_close(struct gl_cursor *gc)
{
    struct sq_cursor *c = (struct sq_cursor *)gc;

    if (!c)
        return;
    sqlite3_finalize(c->st);
    free(c->decl);
    free(c->row);
    free(c->numtxt);
    free(c);
}

static int sq_exec(struct gl_db *g, const char *sql, struct gl_err *err)
{
    struct sq_db *db = (struct sq_db *)g;
    char *msg = NULL;

    if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = gl_err_set(err, GL_EIO, "SQLite database '%s': %s", db->path,
                            msg ? msg : sqlite3_errmsg(db->h));
        sqlite3_free(msg);
        return rc;
    }
    return GL_OK;
}

static int sq_begin(struct gl_db *g, struct gl_err *err)
{
    return sq_exec(g, "BEGIN IMMEDIATE", err);
}

static int sq_commit(struct gl_db *g, struct gl_err *err)
{
    return sq_exec(g, "COMMIT", err);
}

static void sq_rollback(struct gl_db *g)
{
    struct sq_db *db = (struct sq_db *)g;

    if (!sqlite3_get_autocommit(db->h))
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

static int sq_quote_ident(const char *ident, struct gl_buf *out)
{
    return gl_quote_ident_with(ident, '"', out);
}

static int quote_text(const char *s, size_t len, struct gl_buf *out)
{
    size_t i, start = 0;

    if (memchr(s, '\0', len)) {
        /* a literal cannot hold NUL: write the bytes and cast */
        return gl_buf_adds(out, "CAST(X'") || gl_hex_append(out, s, len) ||
               gl_buf_adds(out, "' AS TEXT)");
    }
    if (gl_buf_add(out, "'", 1))
        return -1;
    for (i = 0; i < len; i++) {
        if (s[i] == '\'') {
            if (gl_buf_add(out, s + start, i - start + 1) ||
                gl_buf_add(out, "'", 1))
                return -1;
            start = i + 1;
        }
    }
    return gl_buf_add(out, s + start, len - start) || gl_buf_add(out, "'", 1);
}

static int sq_quote_value(struct gl_db *g, const struct gl_value *v,
                          struct gl_buf *out)
{
    char tmp[64];

    (void)g;
    switch (v->type) {
    case GL_NULL:
        return gl_buf_adds(out, "NULL");
    case GL_BOOL:
        return gl_buf_adds(out, v->i ? "1" : "0");
    case GL_INT:
        return gl_value_text(v, out);
    case GL_FLOAT:
        if (isnan(v->f))
            return gl_buf_adds(out, "NULL"); /* SQLite keeps no NaN */
        if (isinf(v->f))
            return gl_buf_adds(out, v->f > 0 ? "9e999" : "-9e999");
        return gl_value_text(v, out);
    case GL_NUMERIC:
        if (gl_is_decimal(v->s, v->len))
            return gl_buf_add(out, v->s, v->len);
        return quote_text(v->s, v->len, out);
    case GL_BYTES:
        return gl_buf_adds(out, "X'") || gl_hex_append(out, v->s, v->len) ||
               gl_buf_adds(out, "'");
    case GL_TEXT:
        return quote_text(v->s, v->len, out);
    case GL_DATE:
        gl_format_date(v->i, tmp);
        return quote_text(tmp, strlen(tmp), out);
    case GL_TIME:
        gl_format_time(v->i, tmp);
        return quote_text(tmp, strlen(tmp), out);
    case GL_TIMESTAMP:
    case GL_TIMESTAMPTZ:
        gl_format_timestamp(v->i, v->type == GL_TIMESTAMPTZ ? GL_TS_ZONE : 0,
                            tmp);
        return quote_text(tmp, strlen(tmp), out);
    case GL_SPECIAL:
        return quote_text(v->s, v->len, out);
    }
    return -1;
}

/* SQLite has no session setting that changes what a literal means: the
 * values as the loader stores them. */
static int sq_script_value(const struct gl_value *v, enum gl_vtype col_type,
                           struct gl_buf *out)
{
    (void)col_type;
    if (v->type == GL_TEXT && memchr(v->s, '\0', v->len))
        return gl_buf_adds(out, "CAST(X'") ||
               gl_hex_append(out, v->s, v->len) ||
               gl_buf_adds(out, "' AS TEXT)");
    return sq_quote_value(NULL, v, out);
}

static int is_key_col(const struct gl_load_opts *o, const char *col)
{
    size_t k;

    for (k = 0; k < o->nkey; k++)
        if (!strcmp(col, o->key[k]))
            return 1;
    return 0;
}

static int sq_load_begin(struct gl_db *g, const struct gl_load_opts *o,
                         struct gl_loader **out, struct gl_err *err)
{
    struct sq_db *db = (struct sq_db *)g;
    struct sq_loader *l = calloc(1, sizeof(*l));
    struct gl_buf sql = GL_BUF_INIT;
    size_t i;
    int rc = GL_OK, any = 0;

    *out = NULL;
    if (!l)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    l->db = db;
    l->ncols = o->ncols;
    gl_buf_adds(&sql, "INSERT INTO ");
    sq_quote_ident(o->table, &sql);
    gl_buf_adds(&sql, " (");
    for (i = 0; i < o->ncols; i++) {
        if (i)
            gl_buf_adds(&sql, ", ");
        sq_quote_ident(o->cols[i], &sql);
    }
    gl_buf_adds(&sql, ") VALUES (");
    for (i = 0; i < o->ncols; i++)
        gl_buf_adds(&sql, i ? ", ?" : "?");
    gl_buf_adds(&sql, ")");
    if (o->upsert && o->nkey) {
        gl_buf_adds(&sql, " ON CONFLICT (");
        for (i = 0; i < o->nkey; i++) {
            if (i)
                gl_buf_adds(&sql, ", ");
            sq_quote_ident(o->key[i], &sql);
        }
        gl_buf_adds(&sql, ") DO ");
        for (i = 0; i < o->ncols; i++) {
            if (is_key_col(o, o->cols[i]))
                continue;
            gl_buf_adds(&sql, any++ ? ", " : "UPDATE SET ");
            sq_quote_ident(o->cols[i], &sql);
            gl_buf_adds(&sql, " = excluded.");
            sq_quote_ident(o->cols[i], &sql);
        }
        if (!any)
            gl_buf_adds(&sql, "NOTHING");
    }
    if ((rc = gl_buf_check(&sql, "the load's statement", err))) {
        free(l);
        l = NULL;
    } else if (sqlite3_prepare_v2(db->h, gl_buf_str(&sql), -1, &l->st, NULL) !=
               SQLITE_OK) {
        rc = fail(db, err, "cannot prepare the load");
        free(l);
        l = NULL;
    }
    gl_buf_release(&sql);
    *out = (struct gl_loader *)l;
    return rc;
}

static int sq_load_row(struct gl_loader *gl, const struct gl_value *row,
                       struct gl_err *err)
{
    struct sq_loader *l = (struct sq_loader *)gl;
    sqlite3_stmt *st = l->st;
    char tmp[64];
    size_t i;
    int step;

    sqlite3_reset(st);
    for (i = 0; i < l->ncols; i++) {
        const struct gl_value *v = &row[i];
        int c = (int)i + 1;
        switch (v->type) {
        case GL_NULL:
            sqlite3_bind_null(st, c);
            break;
        case GL_INT:
        case GL_BOOL:
            sqlite3_bind_int64(st, c, v->i);
            break;
        case GL_FLOAT:
            if (isnan(v->f))
                sqlite3_bind_null(st, c);
            else
                sqlite3_bind_double(st, c, v->f);
            break;
        case GL_NUMERIC:
        case GL_TEXT:
        case GL_SPECIAL:
            sqlite3_bind_text64(st, c, v->s, v->len, SQLITE_TRANSIENT,
                                SQLITE_UTF8);
            break;
        case GL_BYTES:
            sqlite3_bind_blob64(st, c, v->s, v->len, SQLITE_TRANSIENT);
            break;
        case GL_DATE:
        case GL_TIME:
        case GL_TIMESTAMP:
        case GL_TIMESTAMPTZ:
            if (v->type == GL_DATE)
                gl_format_date(v->i, tmp);
            else if (v->type == GL_TIME)
                gl_format_time(v->i, tmp);
            else
                gl_format_timestamp(
                    v->i, v->type == GL_TIMESTAMPTZ ? GL_TS_ZONE : 0, tmp);
            sqlite3_bind_text(st, c, tmp, -1, SQLITE_TRANSIENT);
            break;
        }
    }
    step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return fail(l->db, err, "cannot load a row");
    return GL_OK;
}

static int sq_load_finish(struct gl_loader *gl, struct gl_err *err)
{
    (void)gl;
    (void)err;
    return GL_OK; /* rows were written one by one */
}

static void sq_load_close(struct gl_loader *gl)
{
    struct sq_loader *l = (struct sq_loader *)gl;

    if (!l)
        return;
    sqlite3_finalize(l->st);
    gl_buf_release(&l->scratch);
    free(l);
}

/* INTEGER PRIMARY KEY takes max(rowid) + 1 by itself; only AUTOINCREMENT
 * tables keep a counter, in sqlite_sequence. */
static int sq_reset_identity(struct gl_db *g, const char *table,
                             const char *column, struct gl_err *err)
{
    struct sq_db *db = (struct sq_db *)g;
    struct gl_buf q = GL_BUF_INIT;
    struct gl_value tv = {GL_TEXT, 0, 0, NULL, 0};
    int64_t has = 0;
    int rc;

    if (gl_db_query_int(g,
                        "SELECT count(*) FROM sqlite_schema WHERE name = "
                        "'sqlite_sequence'",
                        &has, err) ||
        !has)
        return GL_OK;
    tv.s = table;
    tv.len = strlen(table);
    gl_buf_adds(&q, "UPDATE sqlite_sequence SET seq = (SELECT max(");
    sq_quote_ident(column, &q);
    gl_buf_adds(&q, ") FROM ");
    sq_quote_ident(table, &q);
    gl_buf_adds(&q, ") WHERE name = ");
    sq_quote_value(g, &tv, &q);
    if (!(rc = gl_buf_check(&q, "the statement", err)))
        rc = sq_exec(&db->base, gl_buf_str(&q), err);
    gl_buf_release(&q);
    return rc;
}

static int sq_references(struct gl_db *g, const char *table, char ***names,
                         size_t *n, struct gl_err *err)
{
    struct gl_buf q = GL_BUF_INIT;
    struct gl_value tv = {GL_TEXT, 0, 0, NULL, 0};
    int rc;

    tv.s = table;
    tv.len = strlen(table);
    gl_buf_adds(&q, "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(");
    sq_quote_value(g, &tv, &q);
    gl_buf_adds(&q, ") WHERE \"table\" <> ");
    sq_quote_value(g, &tv, &q);
    if (!(rc = gl_buf_check(&q, "the query", err)))
        rc = gl_db_query_strings(g, gl_buf_str(&q), names, n, err);
    gl_buf_release(&q);
    return rc;
}

static int sq_fk_violations(struct gl_db *g, const char *table, int64_t *n,
                            struct gl_err *err)
{
    struct gl_buf q = GL_BUF_INIT;
    struct gl_value tv = {GL_TEXT, 0, 0, NULL, 0};
    int rc;

    tv.s = table;
    tv.len = strlen(table);
    gl_buf_adds(&q, "SELECT count(*) FROM pragma_foreign_key_check(");
    sq_quote_value(g, &tv, &q);
    gl_buf_adds(&q, ")");
    if (!(rc = gl_buf_check(&q, "the query", err)))
        rc = gl_db_query_int(g, gl_buf_str(&q), n, err);
    gl_buf_release(&q);
    return rc;
}

static int sq_order_bytes(const char *quoted, struct gl_buf *out)
{
    return gl_buf_addf(out, "%s COLLATE BINARY", quoted);
}

static int sq_not_same(const char *a, const char *b, struct gl_buf *out)
{
    return gl_buf_addf(out, "%s IS NOT %s", a, b);
}

static int sq_change(struct gl_db *g, const char *sql, int64_t *affected,
                     struct gl_err *err)
{
    struct sq_db *db = (struct sq_db *)g;
    sqlite3_int64 before = sqlite3_total_changes64(db->h);
    int rc = sq_exec(g, sql, err);

    *affected = rc ? 0 : (int64_t)(sqlite3_total_changes64(db->h) - before);
    return rc;
}

const struct gl_db_driver gl_sqlite_driver = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .describe = sq_describe,
    .tables = sq_tables,
    .query = sq_query,
    .next = sq_next,
    .ncols = sq_ncols,
    .col_name = sq_col_name,
    .cursor_close = sq_cursor_close,
    .exec = sq_exec,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .load_begin = sq_load_begin,
    .load_row = sq_load_row,
    .load_finish = sq_load_finish,
    .load_close = sq_load_close,
    .references = sq_references,
    .fk_violations = sq_fk_violations,
    .reset_identity = sq_reset_identity,
    .lock = sq_lock,
    .order_bytes = sq_order_bytes,
    .not_same = sq_not_same,
    .quote_ident = sq_quote_ident,
    .quote_value = sq_quote_value,
    .change = sq_change,
    .script_value = sq_script_value,
};
