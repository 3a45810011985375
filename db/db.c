/*
 * db.c - what every driver shares: choosing a driver by URL, ${VAR}
 * substitution, password redaction, table descriptions, canonical text.
 */
#include "golive/db.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/value.h"
#include "util/buf.h"

static const char *const vtype_names[] = {
    [GL_NULL] = "null",           [GL_INT] = "integer",
    [GL_NUMERIC] = "numeric",     [GL_FLOAT] = "float",
    [GL_TEXT] = "text",           [GL_BYTES] = "bytes",
    [GL_DATE] = "date",           [GL_TIME] = "time",
    [GL_TIMESTAMP] = "timestamp", [GL_TIMESTAMPTZ] = "timestamptz",
    [GL_BOOL] = "boolean",        [GL_SPECIAL] = "special",
};

const char *gl_vtype_name(enum gl_vtype t)
{
    return (unsigned)t <= GL_SPECIAL ? vtype_names[t] : "?";
}

int gl_value_text(const struct gl_value *v, struct gl_buf *out)
{
    char tmp[64];

    switch (v->type) {
    case GL_NULL:
        return 0;
    case GL_INT:
        return gl_buf_addf(out, "%" PRId64, v->i);
    case GL_FLOAT:
        return gl_buf_addf(out, "%.17g", v->f);
    case GL_NUMERIC:
    case GL_TEXT:
        return gl_buf_add(out, v->s, v->len);
    case GL_BYTES:
        return gl_hex_append(out, v->s, v->len);
    case GL_DATE:
        gl_format_date(v->i, tmp);
        return gl_buf_adds(out, tmp);
    case GL_TIME:
        gl_format_time(v->i, tmp);
        return gl_buf_adds(out, tmp);
    case GL_TIMESTAMP:
        gl_format_timestamp(v->i, GL_TS_ISO, tmp);
        return gl_buf_adds(out, tmp);
    case GL_TIMESTAMPTZ:
        gl_format_timestamp(v->i, GL_TS_ISO | GL_TS_ZONE, tmp);
        return gl_buf_adds(out, tmp);
    case GL_BOOL:
        return gl_buf_adds(out, v->i ? "true" : "false");
    case GL_SPECIAL:
        return gl_buf_add(out, v->s, v->len);
    }
    return -1;
}

int gl_db_holds_special(const struct gl_db *db, const struct gl_value *v,
                        enum gl_vtype col_type)
{
    return gl_special_fits(v, db->drv->name, col_type);
}

int gl_special_fits(const struct gl_value *v, const char *engine,
                    enum gl_vtype col_type)
{
    enum gl_vtype own = (enum gl_vtype)v->i;

    if (col_type == GL_NULL)
        col_type = own;
    if (col_type == GL_TEXT)
        return 1;
    switch (gl_special_kind(v->s, v->len)) {
    case GL_SP_INFINITY:
        return !strcmp(engine, "postgres") &&
               (col_type == GL_DATE || col_type == GL_TIMESTAMP ||
                col_type == GL_TIMESTAMPTZ);
    case GL_SP_PG_DATE:
        /* the same type, or a date into a timestamp (no time lost) */
        return !strcmp(engine, "postgres") &&
               (col_type == own ||
                (own == GL_DATE &&
                 (col_type == GL_TIMESTAMP || col_type == GL_TIMESTAMPTZ)));
    case GL_SP_LONG_TIME:
        return !strcmp(engine, "mysql") && col_type == GL_TIME;
    default: /* zero dates: golive's MariaDB session is strict */
        return 0;
    }
}

enum gl_special_kind gl_special_kind(const char *s, size_t len)
{
    size_t n = 0, i;

    if (!s)
        return GL_SP_NONE;
    if ((len == 8 && !memcmp(s, "infinity", 8)) ||
        (len == 9 && !memcmp(s, "-infinity", 9)))
        return GL_SP_INFINITY;
    if (gl_is_special_text(s, len))
        return GL_SP_ZERO;
    while (n < len && GL_ISDIGIT(s[n]))
        n++;
    if (n >= 4 && n < len && s[n] == '-' &&
        (n >= 5 || (len > 3 && !memcmp(s + len - 3, " BC", 3))))
        return GL_SP_PG_DATE;
    /* [-]H+:MM:SS[.f] */
    i = len && s[0] == '-' ? 1 : 0;
    n = i;
    while (n < len && GL_ISDIGIT(s[n]))
        n++;
    if (n == i || n + 6 > len || s[n] != ':' || !GL_ISDIGIT(s[n + 1]) ||
        !GL_ISDIGIT(s[n + 2]) || s[n + 3] != ':' || !GL_ISDIGIT(s[n + 4]) ||
        !GL_ISDIGIT(s[n + 5]))
        return GL_SP_NONE;
    n += 6;
    if (n < len && s[n] == '.') {
        n++;
        if (n == len)
            return GL_SP_NONE;
        while (n < len && GL_ISDIGIT(s[n]))
            n++;
    }
    return n == len ? GL_SP_LONG_TIME : GL_SP_NONE;
}

int gl_is_special_text(const char *s, size_t len)
{
    size_t i;

    if ((len == 8 && !memcmp(s, "infinity", 8)) ||
        (len == 9 && !memcmp(s, "-infinity", 9)))
        return 1;
    /* YYYY-MM-DD[...] with a zero month or day */
    if (len < 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !GL_ISDIGIT(s[i]))
            return 0;
    return (s[5] == '0' && s[6] == '0') || (s[8] == '0' && s[9] == '0');
}

void gl_table_desc_release(struct gl_table_desc *t)
{
    size_t i;

    for (i = 0; i < t->ncols; i++) {
        free(t->cols[i].name);
        free(t->cols[i].decl_type);
    }
    free(t->cols);
    free(t->pk);
    free(t->name);
    memset(t, 0, sizeof(*t));
}

int gl_table_col(const struct gl_table_desc *t, const char *name)
{
    size_t i;

    for (i = 0; i < t->ncols; i++)
        if (!strcmp(t->cols[i].name, name))
            return (int)i;
    for (i = 0; i < t->ncols; i++)
        if (!strcasecmp(t->cols[i].name, name))
            return (int)i;
    return -1;
}

/* Where a URL's user and password end: the last '@' of its authority
 * (after "://", up to the first '/' or '?'; a '#' in a password is not a
 * fragment in a database URL), or NULL when it names no user. */
static const char *userinfo_end(const char *url)
{
    const char *auth = strstr(url, "://"), *end, *at = NULL, *p;

    if (!auth)
        return NULL;
    auth += 3;
    end = auth + strcspn(auth, "/?");
    for (p = auth; p < end; p++)
        if (*p == '@')
            at = p;
    return at;
}

/* Percent-encode every byte of v but the URL's unreserved characters. */
static int add_encoded(struct gl_buf *b, const char *v)
{
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            if (gl_buf_add(b, v, 1))
                return -1;
        } else if (gl_buf_addf(b, "%%%02X", c)) {
            return -1;
        }
    }
    return 0;
}

/* Add the template's literal text [p, e) to b.  Inside the user and
 * password (before userinfo, after auth) a byte that would end or split
 * them ('@', '#', '/', '?', a second ':') is percent-encoded, so that a
 * driver reads the same user and password that redaction hides; %XX
 * escapes already there are kept. */
static int add_literal(struct gl_buf *b, const char *p, const char *e,
                       const char *auth, const char *userinfo, int *colon)
{
    for (; p < e; p++) {
        unsigned char c = (unsigned char)*p;
        if (!userinfo || p < auth || p >= userinfo || isalnum(c) ||
            strchr("-._~%!$&'()*+,;=", c) || (c == ':' && !*colon)) {
            *colon |= c == ':' && userinfo && p >= auth && p < userinfo;
            if (gl_buf_add(b, p, 1))
                return -1;
        } else if (gl_buf_addf(b, "%%%02X", c)) {
            return -1;
        }
    }
    return 0;
}

char *gl_db_expand_url(const char *url, struct gl_err *err)
{
    struct gl_buf b = GL_BUF_INIT;
    const char *p = url, *open, *close, *userinfo = userinfo_end(url),
               *auth = strstr(url, "://"), *query = NULL;
    int colon = 0;

    /* values that land in the user, the password or a query parameter
     * are percent-encoded, so that '@', ':', '/', '#', '&' in a password
     * stay in it (libpq and the MySQL driver decode them) */
    if (auth) {
        auth += 3;
        query = strchr(auth, '?');
    }
    while ((open = strstr(p, "${")) != NULL) {
        char name[128];
        const char *val;
        size_t n;
        int encode;

        close = strchr(open, '}');
        if (!close) {
            gl_err_set(err, GL_EUSAGE, "unterminated ${ in a system URL");
            goto fail;
        }
        n = (size_t)(close - open - 2);
        if (n == 0 || n >= sizeof(name)) {
            gl_err_set(err, GL_EUSAGE, "bad ${...} in a system URL");
            goto fail;
        }
        memcpy(name, open + 2, n);
        name[n] = '\0';
        val = getenv(name);
        if (!val) {
            gl_err_set(err, GL_EUSAGE,
                       "environment variable '%s' named in a system URL is "
                       "not set",
                       name);
            goto fail;
        }
        encode = (userinfo && open < userinfo) || (query && open > query);
        if (add_literal(&b, p, open, auth, userinfo, &colon) ||
            (encode ? add_encoded(&b, val) : gl_buf_adds(&b, val)))
            goto oom;
        p = close + 1;
    }
    if (add_literal(&b, p, p + strlen(p), auth, userinfo, &colon))
        goto oom;
    return gl_buf_detach(&b);
oom:
    gl_err_set(err, GL_ENOMEM, "out of memory");
fail:
    gl_buf_release(&b);
    return NULL;
}

char *gl_db_redact_url(const char *url)
{
    struct gl_buf b = GL_BUF_INIT;
    const char *auth = strstr(url, "://"), *at = userinfo_end(url), *colon, *q;

    if (at) {
        /* the password: from the user's ':' to the last '@', whatever
         * it holds */
        auth += 3;
        colon = memchr(auth, ':', (size_t)(at - auth));
        if (colon) {
            gl_buf_add(&b, url, (size_t)(colon - url));
            gl_buf_adds(&b, ":***");
            url = at;
        }
    }
    /* password=... in a query string */
    while ((q = strstr(url, "password=")) != NULL) {
        gl_buf_add(&b, url, (size_t)(q - url) + 9);
        gl_buf_adds(&b, "***");
        url = q + 9 + strcspn(q + 9, "&");
    }
    gl_buf_adds(&b, url);
    return gl_buf_detach(&b);
}

int gl_db_url_lift_password(const char *url, const char *var, char **templ,
                            char **password)
{
    const char *at = userinfo_end(url), *auth = strstr(url, "://"), *colon, *p;
    struct gl_buf t = GL_BUF_INIT, pw = GL_BUF_INIT;

    *templ = *password = NULL;
    if (!at)
        return 0;
    auth += 3;
    colon = memchr(auth, ':', (size_t)(at - auth));
    if (!colon || colon + 1 == at ||
        memmem(colon, (size_t)(at - colon), "${", 2))
        return 0;
    for (p = colon + 1; p < at; p++) {
        if (*p == '%' && p + 2 < at && isxdigit((unsigned char)p[1]) &&
            isxdigit((unsigned char)p[2])) {
            char hex[3] = {p[1], p[2], 0}, c = (char)strtol(hex, NULL, 16);
            gl_buf_add(&pw, &c, 1);
            p += 2;
        } else {
            gl_buf_add(&pw, p, 1);
        }
    }
    gl_buf_add(&t, url, (size_t)(colon + 1 - url));
    gl_buf_addf(&t, "${%s}", var);
    gl_buf_adds(&t, at);
    *templ = gl_buf_detach(&t);
    *password = gl_buf_detach(&pw);
    if (!*templ || !*password) {
        free(*templ);
        free(*password);
        *templ = *password = NULL;
        return -1;
    }
    return 1;
}

void gl_mysql_library_init(void);

void gl_db_global_init(void)
{
    static int done;

    if (!done) {
        gl_mysql_library_init();
        done = 1;
    }
}

static const struct gl_db_driver *driver_for(const char *url)
{
    if (!strncmp(url, "sqlite:", 7))
        return &gl_sqlite_driver;
    if (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13))
        return &gl_postgres_driver;
    if (!strncmp(url, "mysql://", 8) || !strncmp(url, "mariadb://", 10))
        return &gl_mysql_driver;
    return NULL;
}

int gl_db_open(const char *url, const char *base_dir, struct gl_db **out,
               struct gl_err *err)
{
    const struct gl_db_driver *drv = driver_for(url);
    char *expanded;
    int rc;

    *out = NULL;
    if (!drv) {
        char *safe = gl_db_redact_url(url);
        rc = gl_err_set(err, GL_EUSAGE,
                        "'%s' is not a sqlite:, postgres:// or mysql:// URL",
                        safe ? safe : "?");
        free(safe);
        return rc;
    }
    if (!(expanded = gl_db_expand_url(url, err)))
        return err ? err->code : GL_EUSAGE;
    rc = drv->open(expanded, base_dir, out, err);
    /* the expanded URL may hold a secret: wipe it before freeing */
    memset(expanded, 0, strlen(expanded));
    free(expanded);
    if (rc == GL_OK && !(*out)->label) {
        (*out)->label = gl_db_redact_url(url);
    }
    return rc;
}

void gl_db_close(struct gl_db *db)
{
    char *label;

    if (!db)
        return;
    label = db->label;
    db->drv->close(db);
    free(label);
}

int gl_db_query_int(struct gl_db *db, const char *sql, int64_t *out,
                    struct gl_err *err)
{
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    int rc;

    if ((rc = db->drv->query(db, sql, &c, err)))
        return rc;
    rc = db->drv->next(c, &row, err);
    if (rc == 1) {
        if (row[0].type == GL_INT || row[0].type == GL_BOOL)
            *out = row[0].i;
        else if ((row[0].type == GL_NUMERIC || row[0].type == GL_TEXT) &&
                 row[0].len < 32) {
            char tmp[32];
            memcpy(tmp, row[0].s, row[0].len);
            tmp[row[0].len] = '\0';
            *out = strtoll(tmp, NULL, 10);
        } else if (row[0].type == GL_FLOAT) {
            *out = (int64_t)row[0].f;
        } else {
            *out = 0;
        }
        rc = GL_OK;
    } else if (rc == 0) {
        rc = gl_err_set(err, GL_EINTERNAL, "query returned no row: %s", sql);
    } else {
        rc = -rc;
    }
    db->drv->cursor_close(c);
    return rc;
}

int gl_db_query_strings(struct gl_db *db, const char *sql, char ***out,
                        size_t *n, struct gl_err *err)
{
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    struct gl_buf b = GL_BUF_INIT;
    size_t cap = 0;
    int rc, r;

    *out = NULL;
    *n = 0;
    if ((rc = db->drv->query(db, sql, &c, err)))
        return rc;
    while ((r = db->drv->next(c, &row, err)) == 1) {
        if (row[0].type == GL_NULL)
            continue;
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            char **v = realloc(*out, ncap * sizeof(char *));
            if (!v) {
                r = -gl_err_set(err, GL_ENOMEM, "out of memory");
                break;
            }
            *out = v;
            cap = ncap;
        }
        gl_buf_reset(&b);
        gl_value_text(&row[0], &b);
        if (gl_buf_failed(&b) || !((*out)[*n] = strdup(gl_buf_str(&b)))) {
            r = -gl_err_set(err, GL_ENOMEM, "out of memory");
            break;
        }
        (*n)++;
    }
    gl_buf_release(&b);
    db->drv->cursor_close(c);
    return r < 0 ? -r : GL_OK;
}

int gl_db_count_orphans(struct gl_db *db, const char *table,
                        const char *reftable, char *const *cols,
                        char *const *refcols, size_t n, int64_t *count,
                        struct gl_err *err)
{
    const struct gl_db_driver *d = db->drv;
    struct gl_buf q = GL_BUF_INIT;
    size_t i;
    int rc;

    gl_buf_adds(&q, "SELECT count(*) FROM ");
    d->quote_ident(table, &q);
    gl_buf_adds(&q, " golive_x WHERE ");
    for (i = 0; i < n; i++) {
        gl_buf_adds(&q, "golive_x.");
        d->quote_ident(cols[i], &q);
        gl_buf_adds(&q, " IS NOT NULL AND ");
    }
    gl_buf_adds(&q, "NOT EXISTS (SELECT 1 FROM ");
    d->quote_ident(reftable, &q);
    gl_buf_adds(&q, " golive_r WHERE ");
    for (i = 0; i < n; i++) {
        if (i)
            gl_buf_adds(&q, " AND ");
        gl_buf_adds(&q, "golive_r.");
        d->quote_ident(refcols[i], &q);
        gl_buf_adds(&q, " = golive_x.");
        d->quote_ident(cols[i], &q);
    }
    gl_buf_adds(&q, ")");
    if (!(rc = gl_buf_check(&q, "the query", err)))
        rc = gl_db_query_int(db, gl_buf_str(&q), count, err);
    gl_buf_release(&q);
    return rc;
}

int gl_quote_ident_with(const char *ident, char q, struct gl_buf *out)
{
    const char sep[3] = {q, '.', q};
    const char *p;

    if (gl_buf_add(out, &q, 1))
        return -1;
    for (p = ident; *p; p++) {
        if (*p == '.') {
            if (gl_buf_add(out, sep, 3))
                return -1;
            continue;
        }
        if (*p == q && gl_buf_add(out, &q, 1))
            return -1;
        if (gl_buf_add(out, p, 1))
            return -1;
    }
    return gl_buf_add(out, &q, 1);
}
