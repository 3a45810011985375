/*
 * online.c - `golive validate --online`: what the plan says, checked
 * against the databases it names (see golive/sync.h).  Every query is an
 * aggregate or a description: no table is read whole.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/value.h"
#include "golive/db.h"
#include "golive/sync.h"
#include "sync/mapping.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/suggest.h"

#define ERR GL_SEV_ERROR
#define WARN GL_SEV_WARNING

struct conn {
    const char *system;
    struct gl_db *db; /* NULL when it could not be reached */
};

struct online {
    const struct gl_plan *p;
    struct gl_diags *d;
    struct conn *conns;
    size_t n;
    int unreachable;
};

static struct gl_db *conn_for(struct online *O, const char *system,
                              struct gl_pos at)
{
    const struct gl_system *s = gl_plan_system(O->p, system);
    struct gl_err err;
    size_t i;

    for (i = 0; i < O->n; i++)
        if (!strcmp(O->conns[i].system, system))
            return O->conns[i].db;
    O->conns[O->n].system = system;
    O->conns[O->n].db = NULL;
    gl_err_clear(&err);
    if (!s || !s->url)
        return NULL;
    if (gl_db_open(s->url, O->p->dir, &O->conns[O->n].db, &err)) {
        gl_diags_add(O->d, s->url_pos.line, s->url_pos.col, ERR,
                     "cannot-connect", "system '%s': %s", system, err.msg);
        O->unreachable = 1;
    }
    (void)at;
    return O->conns[O->n++].db;
}

static enum gl_vtype base(enum gl_vtype t)
{
    return t == GL_TIMESTAMPTZ ? GL_TIMESTAMP : t;
}

static int is_sqlite(const struct gl_db *db)
{
    return !strcmp(db->drv->name, "sqlite");
}

/* Whether source column sc fits target column tc; diagnostics at pos. */
static void check_types(struct online *O, const struct gl_sync_job *j,
                        const struct gl_column *sc, const struct gl_column *tc,
                        const struct gl_db *tdb, int src_sqlite,
                        struct gl_pos at)
{
    enum gl_vtype s = base(sc->type), t = base(tc->type);
    const char *job = j->id.id;

    if ((s == GL_TEXT || s == GL_BYTES) &&
        (t == GL_INT || t == GL_NUMERIC || t == GL_FLOAT)) {
        gl_diags_add(O->d, at.line, at.col, ERR, "type-mismatch",
                     "sync job '%s': %s column '%s' (%s) goes into %s column "
                     "'%s' (%s); add 'cast:' or a value map to say how",
                     job, gl_vtype_name(sc->type), sc->name, sc->decl_type,
                     gl_vtype_name(tc->type), tc->name, tc->decl_type);
        return;
    }
    if (s == GL_BYTES && t == GL_TEXT) {
        gl_diags_add(O->d, at.line, at.col, ERR, "type-mismatch",
                     "sync job '%s': binary column '%s' goes into text column "
                     "'%s'",
                     job, sc->name, tc->name);
        return;
    }
    /* SQLite has no date type: dates kept as text are its norm */
    if (s == GL_TEXT && t != GL_TEXT && t != GL_BYTES && !is_sqlite(tdb) &&
        !src_sqlite)
        gl_diags_add(O->d, at.line, at.col, WARN, "type-mismatch",
                     "sync job '%s': text column '%s' goes into %s column "
                     "'%s'; values that do not read as %s will be rejects",
                     job, sc->name, gl_vtype_name(tc->type), tc->name,
                     gl_vtype_name(tc->type));
    if (s == GL_FLOAT && t == GL_INT)
        gl_diags_add(O->d, at.line, at.col, WARN, "type-mismatch",
                     "sync job '%s': float column '%s' goes into integer "
                     "column '%s'; fractions will be rejects",
                     job, sc->name, tc->name);
    /* longer into shorter; unbounded text only into a short column */
    if (t == GL_TEXT && tc->length > 0 &&
        ((sc->type == GL_TEXT && sc->length > tc->length) ||
         (sc->type == GL_TEXT && sc->length < 0 && tc->length <= 255)))
        gl_diags_add(O->d, at.line, at.col, WARN, "may-truncate",
                     "sync job '%s': column '%s' (%s) goes into '%s' (%s); "
                     "longer values will be rejects",
                     job, sc->name, sc->decl_type, tc->name, tc->decl_type);
    if (s == GL_NUMERIC && t == GL_NUMERIC && sc->scale >= 0) {
        if (tc->scale >= 0 && sc->scale > tc->scale)
            gl_diags_add(O->d, at.line, at.col, WARN, "may-round",
                         "sync job '%s': '%s' keeps %d decimal places, '%s' "
                         "%d; values that would round will be rejects",
                         job, sc->name, sc->scale, tc->name, tc->scale);
        else if (tc->precision > 0 && tc->scale >= 0 && sc->precision > 0 &&
                 sc->precision - sc->scale > tc->precision - tc->scale)
            gl_diags_add(O->d, at.line, at.col, WARN, "may-overflow",
                         "sync job '%s': '%s' (%s) may not fit '%s' (%s)", job,
                         sc->name, sc->decl_type, tc->name, tc->decl_type);
    }
    if ((s == GL_NUMERIC || s == GL_INT) && is_sqlite(tdb) &&
        (t == GL_NUMERIC || t == GL_FLOAT) && sc->precision > 15)
        gl_diags_add(O->d, at.line, at.col, WARN, "may-lose-digits",
                     "sync job '%s': '%s' (%s) has up to %d digits; SQLite's "
                     "%s column '%s' keeps 15, so longer values will be "
                     "rejects (declare it TEXT to keep them)",
                     job, sc->name, sc->decl_type, sc->precision, tc->decl_type,
                     tc->name);
    if (s == GL_TIMESTAMP && t == GL_TIMESTAMP && sc->scale >= 0 &&
        tc->scale >= 0 && sc->scale > tc->scale)
        gl_diags_add(O->d, at.line, at.col, WARN, "may-lose-precision",
                     "sync job '%s': '%s' keeps %d fractional digits of a "
                     "second, '%s' %d; finer values will be rejects",
                     job, sc->name, sc->scale, tc->name, tc->scale);
}

/* How many source values of column sc are zero dates, infinities, dates
 * BC or past 9999 (PostgreSQL) or times outside a day (MariaDB) that
 * the target cannot hold (see GL_SPECIAL): each a reject, or a NULL where
 * the column says 'unrepresentable: null'. */
static void check_special(struct online *O, const struct gl_sync_job *j,
                          const struct gl_colmap *m, const struct gl_column *sc,
                          const struct gl_column *tc, struct gl_db *src,
                          struct gl_db *dst, struct gl_pos at)
{
    enum gl_vtype s = sc->type, t = tc->type;
    const char *eng = src->drv->name;
    int pg_target = !strcmp(dst->drv->name, "postgres") &&
                    (t == GL_DATE || t == GL_TIMESTAMP || t == GL_TIMESTAMPTZ);
    struct gl_buf q = GL_BUF_INIT, c = GL_BUF_INIT;
    struct gl_err err;
    int64_t n = 0;

    int long_time = s == GL_TIME && !strcmp(eng, "mysql");

    if ((s != GL_DATE && s != GL_TIMESTAMP && s != GL_TIMESTAMPTZ &&
         !long_time) ||
        t == GL_TEXT ||
        (long_time && t == GL_TIME && !strcmp(dst->drv->name, "mysql")))
        return;
    src->drv->quote_ident(sc->name, &c);
    gl_buf_adds(&q, "SELECT count(*) FROM ");
    gl_sync_source_relation(j, src, &q);
    gl_buf_adds(&q, " WHERE (");
    if (long_time) /* TIME outside a day: '-00:00:01', '838:59:59' */
        gl_buf_addf(&q, "%s < TIME '00:00:00' OR %s >= TIME '24:00:00'",
                    gl_buf_str(&c), gl_buf_str(&c));
    else if (!strcmp(eng, "mysql"))
        gl_buf_addf(&q, "MONTH(%s) = 0 OR DAYOFMONTH(%s) = 0", gl_buf_str(&c),
                    gl_buf_str(&c));
    else if (!strcmp(eng, "postgres") && !pg_target)
        gl_buf_addf(&q,
                    "NOT isfinite(%s) OR extract(year FROM %s) NOT BETWEEN 1 "
                    "AND 9999",
                    gl_buf_str(&c), gl_buf_str(&c));
    else if (!strcmp(eng, "sqlite"))
        gl_buf_addf(&q,
                    "%s%s%s GLOB '[0-9][0-9][0-9][0-9]-00-*' OR %s GLOB "
                    "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-00*'",
                    pg_target ? "" : gl_buf_str(&c),
                    pg_target ? "" : " IN ('infinity', '-infinity') OR ",
                    gl_buf_str(&c), gl_buf_str(&c));
    else
        goto out;
    gl_buf_adds(&q, ")");
    if (j->where)
        gl_buf_addf(&q, " AND (%s)", j->where);
    gl_err_clear(&err);
    if (gl_buf_check(&c, "the column", &err) ||
        gl_buf_check(&q, "the query", &err) ||
        gl_db_query_int(src, gl_buf_str(&q), &n, &err)) {
        gl_diags_add(O->d, at.line, at.col, ERR, "bad-query",
                     "sync job '%s': cannot count the zero dates and "
                     "infinities of '%s': %s",
                     j->id.id, sc->name, err.msg);
        goto out;
    }
    if (!n)
        goto out;
    if (m && m->unrepresentable == GL_UNREP_NULL)
        gl_diags_add(O->d, at.line, at.col, WARN, "unrepresentable",
                     "sync job '%s': %" PRId64 " value%s of '%s' %s zero "
                     "dates, infinities, dates BC or past 9999 or times "
                     "outside a day that %s column '%s' cannot hold; "
                     "stored as NULL (unrepresentable: null)",
                     j->id.id, n, n == 1 ? "" : "s", sc->name,
                     n == 1 ? "is one of the" : "are", gl_vtype_name(t),
                     tc->name);
    else
        gl_diags_add(O->d, at.line, at.col, ERR, "unrepresentable",
                     "sync job '%s': %" PRId64 " value%s of '%s' %s zero "
                     "dates, infinities, dates BC or past 9999 or times "
                     "outside a day that %s column '%s' cannot hold; "
                     "they will be rejects (set 'unrepresentable: null' on "
                     "the column to store NULL)",
                     j->id.id, n, n == 1 ? "" : "s", sc->name,
                     n == 1 ? "is one of the" : "are", gl_vtype_name(t),
                     tc->name);
out:
    gl_buf_release(&q);
    gl_buf_release(&c);
}

/* Every distinct value of a value-mapped column has a mapping. */
static void check_value_map(struct online *O, const struct gl_sync_job *j,
                            const struct gl_colmap *m, struct gl_db *src)
{
    struct gl_buf q = GL_BUF_INIT, key = GL_BUF_INIT;
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    struct gl_err err;
    size_t k;
    int r;

    gl_err_clear(&err);
    gl_buf_adds(&q, "SELECT ");
    src->drv->quote_ident(m->source, &q);
    gl_buf_adds(&q, ", count(*) FROM ");
    gl_sync_source_relation(j, src, &q);
    if (j->where)
        gl_buf_addf(&q, " WHERE (%s)", j->where);
    gl_buf_adds(&q, " GROUP BY ");
    src->drv->quote_ident(m->source, &q);
    gl_buf_adds(&q, " ORDER BY 1");
    if (gl_buf_check(&q, "the query", &err) ||
        src->drv->query(src, gl_buf_str(&q), &c, &err)) {
        gl_diags_add(O->d, m->pos.line, m->pos.col, ERR, "bad-query",
                     "sync job '%s': cannot read the values of '%s': %s",
                     j->id.id, m->source, err.msg);
        goto out;
    }
    while ((r = src->drv->next(c, &row, &err)) == 1) {
        if (row[0].type == GL_NULL)
            continue;
        gl_buf_reset(&key);
        gl_value_text(&row[0], &key);
        if (gl_buf_check(&key, "a value", &err)) {
            r = -1;
            break;
        }
        for (k = 0; k < m->n_map; k++)
            if (!strcmp(m->map[k].from, gl_buf_str(&key)))
                break;
        if (k < m->n_map || m->map_else)
            continue;
        gl_diags_add(O->d, m->pos.line, m->pos.col, ERR, "unmapped-value",
                     "sync job '%s': %" PRId64 " source row%s carry '%s' in "
                     "'%s', which the value map of '%s' does not map (add it, "
                     "or 'else:')",
                     j->id.id, row[1].i, row[1].i == 1 ? "" : "s",
                     gl_buf_str(&key), m->source, m->target);
    }
    if (r < 0)
        gl_diags_add(O->d, m->pos.line, m->pos.col, ERR, "bad-query",
                     "sync job '%s': %s", j->id.id, err.msg);
    src->drv->cursor_close(c);
out:
    gl_buf_release(&q);
    gl_buf_release(&key);
}

/* The source's columns: its description, or the query's result. */
static int source_desc(struct online *O, const struct gl_sync_job *j,
                       struct gl_db *src, struct gl_table_desc *sd)
{
    struct gl_err err;

    gl_err_clear(&err);
    memset(sd, 0, sizeof(*sd));
    if (!j->query) {
        if (!src->drv->describe(src, j->from.table, sd, &err))
            return 0;
        gl_diags_add(O->d, j->from.pos.line, j->from.pos.col, ERR,
                     err.code == GL_ENOTFOUND ? "no-table" : "bad-query",
                     "sync job '%s': %s", j->id.id, err.msg);
        return -1;
    } else {
        struct gl_buf q = GL_BUF_INIT;
        struct gl_cursor *c = NULL;
        const struct gl_value *row;
        size_t i, n;
        gl_buf_adds(&q, "SELECT * FROM ");
        gl_sync_source_relation(j, src, &q);
        gl_buf_adds(&q, " WHERE 1 = 0");
        if (gl_buf_check(&q, "the query", &err) ||
            src->drv->query(src, gl_buf_str(&q), &c, &err)) {
            gl_buf_release(&q);
            gl_diags_add(O->d, j->from.pos.line, j->from.pos.col, ERR,
                         "bad-query", "sync job '%s': the query fails: %s",
                         j->id.id, err.msg);
            return -1;
        }
        gl_buf_release(&q);
        n = src->drv->ncols(c);
        sd->cols = calloc(n + 1, sizeof(*sd->cols));
        for (i = 0; sd->cols && i < n; i++) {
            /* a query's columns have no declared types here: text */
            sd->cols[i].name = strdup(src->drv->col_name(c, i));
            sd->cols[i].decl_type = strdup("?");
            sd->cols[i].type = GL_NULL;
            sd->cols[i].length = sd->cols[i].precision = -1;
            sd->cols[i].scale = -1;
            sd->ncols++;
        }
        src->drv->next(c, &row, &err);
        src->drv->cursor_close(c);
        return 0;
    }
}

/* How many rows of relation (a table name or "(query) golive_src") have
 * column later than now, counted in db; -1 when the column holds no dates
 * or the count fails. */
static int64_t later_than_now(struct gl_db *db, const char *relation,
                              const char *where, const char *column,
                              enum gl_vtype type, int64_t now)
{
    struct gl_buf q = GL_BUF_INIT;
    struct gl_value v = {GL_NULL, 0, 0, NULL, 0};
    int64_t n = -1;

    v.type = type;
    if (type == GL_DATE)
        v.i = now / 86400;
    else if (type == GL_TIMESTAMP || type == GL_TIMESTAMPTZ)
        v.i = now * 1000000;
    else
        return -1;
    gl_buf_addf(&q, "SELECT count(*) FROM %s WHERE ", relation);
    if (where)
        gl_buf_addf(&q, "(%s) AND ", where);
    db->drv->quote_ident(column, &q);
    gl_buf_adds(&q, " > ");
    if (db->drv->quote_value(db, &v, &q) || gl_buf_failed(&q) ||
        gl_db_query_int(db, gl_buf_str(&q), &n, NULL))
        n = -1;
    gl_buf_release(&q);
    return n;
}

/* An incremental job reads what is later than the target's latest
 * watermark: rows dated in the future (legacy data has them) hide every
 * change made before that date. */
static void check_watermark(struct online *O, const struct gl_sync_job *j,
                            struct gl_db *src, struct gl_db *dst,
                            const struct gl_table_desc *sd,
                            const struct gl_table_desc *td)
{
    struct gl_buf rel = GL_BUF_INIT, tn = GL_BUF_INIT;
    const char *tcol = NULL;
    int64_t now = 0, ns = -1, nt = -1;
    char at[40];
    int sc, tc;
    size_t i;

    if (j->mode != GL_SYNC_INCREMENTAL || !j->watermark)
        return;
    gl_clock_now(&now);
    gl_time_format(now, 0, at);
    gl_sync_source_relation(j, src, &rel);
    sc = gl_table_col(sd, j->watermark);
    if (sc < 0) {
        const char **names = calloc(sd->ncols + 1, sizeof(*names));
        const char *hint = NULL;
        struct gl_pos at_w = j->watermark_pos.line ? j->watermark_pos : j->pos;
        for (i = 0; names && i < sd->ncols; i++)
            names[i] = sd->cols[i].name;
        if (names)
            hint = gl_suggest(j->watermark, names, sd->ncols);
        gl_diags_add(O->d, at_w.line, at_w.col, ERR, "no-column",
                     "sync job '%s': source %s has no watermark column "
                     "'%s'%s%s%s",
                     j->id.id, j->query ? "query" : "table", j->watermark,
                     hint ? "; did you mean '" : "", hint ? hint : "",
                     hint ? "'?" : "");
        free(names);
    }
    if (sc >= 0 && !gl_buf_failed(&rel))
        ns = later_than_now(src, gl_buf_str(&rel), j->where, j->watermark,
                            sd->cols[sc].type, now);
    /* the target column it fills: the watermark comes from there */
    for (i = 0; i < j->n_columns; i++)
        if (j->columns[i].kind == GL_COL_FROM && j->columns[i].source &&
            !strcmp(j->columns[i].source, j->watermark))
            tcol = j->columns[i].target;
    if (!tcol && !gl_sync_mapping(j, j->watermark))
        tcol = j->watermark;
    tc = tcol ? gl_table_col(td, tcol) : -1;
    if (tc >= 0 && !dst->drv->quote_ident(j->to.table, &tn)) {
        nt = later_than_now(dst, gl_buf_str(&tn), NULL, td->cols[tc].name,
                            td->cols[tc].type, now);
    }
    if (ns > 0)
        gl_diags_add(O->d, j->pos.line, j->pos.col, WARN, "future-watermark",
                     "sync job '%s': %" PRId64 " source row%s %s watermark "
                     "'%s' later than now (%s): once loaded, the job reads "
                     "nothing dated before them; correct them, or load with "
                     "'golive sync --restart'",
                     j->id.id, ns, ns == 1 ? "" : "s", ns == 1 ? "has" : "have",
                     j->watermark, at);
    if (nt > 0)
        gl_diags_add(O->d, j->pos.line, j->pos.col, WARN, "future-watermark",
                     "sync job '%s': %" PRId64 " target row%s of '%s' %s '%s' "
                     "later than now (%s): the job reads nothing dated before "
                     "that; 'golive sync --restart' reads from the beginning",
                     j->id.id, nt, nt == 1 ? "" : "s", j->to.table,
                     nt == 1 ? "has" : "have", tcol, at);
    gl_buf_release(&rel);
    gl_buf_release(&tn);
}

static void check_job(struct online *O, const struct gl_sync_job *j)
{
    struct gl_db *src = conn_for(O, j->from.system.id, j->from.pos);
    struct gl_db *dst = conn_for(O, j->to.system.id, j->to.pos);
    struct gl_table_desc sd, td;
    struct gl_err err;
    size_t i;

    memset(&td, 0, sizeof(td));
    memset(&sd, 0, sizeof(sd));
    if (!src || !dst)
        return;
    gl_err_clear(&err);
    if (dst->drv->describe(dst, j->to.table, &td, &err)) {
        gl_diags_add(O->d, j->to.pos.line, j->to.pos.col, ERR,
                     err.code == GL_ENOTFOUND ? "no-table" : "bad-query",
                     "sync job '%s': %s", j->id.id, err.msg);
        return;
    }
    if (source_desc(O, j, src, &sd)) {
        gl_table_desc_release(&td);
        return;
    }
    /* mapped columns exist on both sides */
    for (i = 0; i < j->n_columns; i++) {
        const struct gl_colmap *m = &j->columns[i];
        int tc = gl_table_col(&td, m->target);
        if (tc < 0)
            gl_diags_add(O->d, m->pos.line, m->pos.col, ERR, "no-column",
                         "sync job '%s': target table '%s' has no column "
                         "'%s'",
                         j->id.id, j->to.table, m->target);
        if (m->kind == GL_COL_FROM && gl_table_col(&sd, m->source) < 0)
            gl_diags_add(O->d, m->pos.line, m->pos.col, ERR, "no-column",
                         "sync job '%s': source %s has no column '%s'",
                         j->id.id, j->query ? "query" : "table", m->source);
    }
    for (i = 0; i < j->ignore.n; i++)
        if (gl_table_col(&sd, j->ignore.v[i].id) < 0)
            gl_diags_add(O->d, j->ignore.v[i].pos.line, j->ignore.v[i].pos.col,
                         WARN, "no-column",
                         "sync job '%s': ignored column '%s' is not in the "
                         "source",
                         j->id.id, j->ignore.v[i].id);
    /* every target column: filled, or allowed to be left alone */
    for (i = 0; i < td.ncols; i++) {
        const struct gl_column *tc = &td.cols[i];
        const struct gl_colmap *m = gl_sync_mapping(j, tc->name);
        int sc = -1;
        struct gl_pos at = m ? m->pos : j->to.pos;

        if (!m) {
            sc = gl_table_col(&sd, tc->name);
            if (sc >= 0 && gl_sync_ignored(j, sd.cols[sc].name))
                sc = -1;
        } else if (m->kind == GL_COL_FROM && !m->cast && !m->n_map) {
            sc = gl_table_col(&sd, m->source);
        }
        if (!m && sc < 0) {
            if (!tc->nullable && !tc->has_default)
                gl_diags_add(O->d, j->to.pos.line, j->to.pos.col, ERR,
                             "unfilled-column",
                             "sync job '%s': target column '%s' is NOT NULL "
                             "without a default, and nothing fills it",
                             j->id.id, tc->name);
            continue;
        }
        if (sc >= 0 && sd.cols[sc].type != GL_NULL) {
            check_types(O, j, &sd.cols[sc], tc, dst, is_sqlite(src), at);
            check_special(O, j, m, &sd.cols[sc], tc, src, dst,
                          m && m->unrep_pos.line ? m->unrep_pos : at);
        }
        if (m && m->n_map && m->kind == GL_COL_FROM &&
            gl_table_col(&sd, m->source) >= 0)
            check_value_map(O, j, m, src);
    }
    check_watermark(O, j, src, dst, &sd, &td);
    gl_table_desc_release(&td);
    gl_table_desc_release(&sd);
}

/* Every table of a source system is synced by some job or excluded. */
static void check_coverage(struct online *O, const struct gl_system *s)
{
    struct gl_db *db;
    struct gl_err err;
    char **names = NULL;
    size_t n = 0, i, k;
    int used = 0;

    for (k = 0; k < O->p->n_sync; k++)
        used |= O->p->sync[k].from.system.id &&
                !strcmp(O->p->sync[k].from.system.id, s->name.id);
    if (!used)
        return;
    if (!(db = conn_for(O, s->name.id, s->pos)))
        return;
    gl_err_clear(&err);
    if (db->drv->tables(db, &names, &n, &err)) {
        gl_diags_add(O->d, s->url_pos.line, s->url_pos.col, ERR, "bad-query",
                     "system '%s': %s", s->name.id, err.msg);
        return;
    }
    for (i = 0; i < n; i++) {
        int covered = !strncmp(names[i], "golive_", 7);
        for (k = 0; !covered && k < O->p->n_sync; k++) {
            const struct gl_sync_job *j = &O->p->sync[k];
            covered = j->from.system.id && j->from.table &&
                      !strcmp(j->from.system.id, s->name.id) &&
                      !strcmp(j->from.table, names[i]);
        }
        for (k = 0; !covered && k < s->exclude.n; k++)
            covered = !strcmp(s->exclude.v[k].id, names[i]);
        if (!covered)
            gl_diags_add(O->d, s->name.pos.line, s->name.pos.col, ERR,
                         "unsynced-table",
                         "table '%s' of system '%s' is neither synced nor "
                         "listed under 'exclude'",
                         names[i], s->name.id);
        free(names[i]);
    }
    free(names);
}

int gl_sync_check_online(const struct gl_plan *p, struct gl_diags *d,
                         struct gl_err *err)
{
    struct online O;
    size_t i;

    memset(&O, 0, sizeof(O));
    O.p = p;
    O.d = d;
    O.conns = calloc(p->n_systems + 1, sizeof(*O.conns));
    if (!O.conns)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    gl_db_global_init();
    for (i = 0; i < p->n_sync; i++)
        check_job(&O, &p->sync[i]);
    for (i = 0; i < p->n_systems; i++)
        check_coverage(&O, &p->systems[i]);
    for (i = 0; i < O.n; i++)
        gl_db_close(O.conns[i].db);
    free(O.conns);
    if (O.unreachable)
        return gl_err_set(err, GL_EIO, "a database could not be reached");
    return GL_OK;
}
