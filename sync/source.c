/*
 * source.c - a sync job's source SELECT: which target column each
 * selected expression fills (the column plan), the list, the key order,
 * the job's condition and the incremental watermark, and the read that
 * feeds the batches.
 */
#include <stdlib.h>
#include <string.h>

#include "db/value.h"
#include "sync/mapping.h"
#include "sync/sync-internal.h"
#include "util/crashpoint.h"

const struct gl_colmap *gl_sync_mapping(const struct gl_sync_job *j,
                                        const char *target)
{
    size_t i;

    for (i = 0; i < j->n_columns; i++)
        if (!strcmp(j->columns[i].target, target))
            return &j->columns[i];
    return NULL;
}

int gl_sync_ignored(const struct gl_sync_job *j, const char *src)
{
    size_t i;

    for (i = 0; i < j->ignore.n; i++)
        if (!strcmp(j->ignore.v[i].id, src))
            return 1;
    return 0;
}

/* The source expression of a mapping, appended to b. */
static void source_expr(struct job *J, const struct gl_colmap *m,
                        const char *target, struct gl_buf *b)
{
    const struct gl_db_driver *d = J->src->drv;

    if (m && m->kind == GL_COL_EXPR) {
        gl_buf_addf(b, "(%s)", m->expr);
        return;
    }
    if (m && m->cast)
        gl_buf_adds(b, "CAST(");
    d->quote_ident(m && m->source ? m->source : target, b);
    if (m && m->cast)
        gl_buf_addf(b, " AS %s)", m->cast);
}

/* Names of the source relation's columns: from the table, or by running
 * the query for no rows. */
static int source_columns(struct job *J, char ***names, size_t *n)
{
    struct gl_buf q = GL_BUF_INIT;
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    size_t i;
    int rc;

    gl_buf_addf(&q, "SELECT * FROM %s WHERE 1 = 0", gl_buf_str(&J->from));
    if ((rc = sync_buf_check(J, &J->from)) || (rc = sync_buf_check(J, &q))) {
        gl_buf_release(&q);
        return rc;
    }
    rc = J->src->drv->query(J->src, gl_buf_str(&q), &c, J->err);
    gl_buf_release(&q);
    if (rc)
        return sync_failed_with(J);
    *n = J->src->drv->ncols(c);
    *names = calloc(*n + 1, sizeof(char *));
    for (i = 0; *names && i < *n; i++)
        (*names)[i] = strdup(J->src->drv->col_name(c, i));
    rc = J->src->drv->next(c, &row, J->err);
    J->src->drv->cursor_close(c);
    if (rc < 0)
        return sync_failed_with(J);
    return *names ? GL_OK : sync_fail(J, GL_ENOMEM, "out of memory");
}

static void free_names(char **names, size_t n)
{
    size_t i;

    for (i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

static int has_name(char **names, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return 1;
    return 0;
}

int sync_build_plan(struct job *J)
{
    const struct gl_sync_job *j = J->j;
    char **srcnames = NULL;
    size_t nsrc = 0, i, k;
    int rc;

    /* the source relation */
    gl_sync_source_relation(j, J->src, &J->from);
    if ((rc = source_columns(J, &srcnames, &nsrc)))
        return rc;

    /* every mapped column must exist in the target */
    for (i = 0; i < j->n_columns; i++)
        if (gl_table_col(&J->t, j->columns[i].target) < 0) {
            rc = sync_fail(J, GL_EUSAGE,
                           "column '%s' is not in target table '%s'",
                           j->columns[i].target, j->to.table);
            goto out;
        }
    J->cols = calloc(J->t.ncols + 1, sizeof(*J->cols));
    J->tnames = calloc(J->t.ncols + 1, sizeof(*J->tnames));
    J->sel_names = calloc(J->t.ncols + j->key.n + 1, sizeof(char *));
    J->key_tcol = calloc(j->key.n + 1, sizeof(int));
    if (!J->cols || !J->tnames || !J->sel_names || !J->key_tcol) {
        rc = sync_fail(J, GL_ENOMEM, "out of memory");
        goto out;
    }
    /* key expressions first: the order, the checkpoint and the rejects */
    J->nkey = j->key.n;
    for (k = 0; k < j->key.n; k++) {
        const char *kt = j->key.v[k].id;
        const struct gl_colmap *m = gl_sync_mapping(j, kt);
        int tc = gl_table_col(&J->t, kt);
        if (tc < 0) {
            rc = sync_fail(J, GL_EUSAGE,
                           "key column '%s' is not in target table "
                           "'%s'",
                           kt, j->to.table);
            goto out;
        }
        if (m && m->kind == GL_COL_VALUE) {
            rc = sync_fail(J, GL_EUSAGE, "key column '%s' is a constant", kt);
            goto out;
        }
        if (!m && !has_name(srcnames, nsrc, kt)) {
            rc = sync_fail(J, GL_EUSAGE,
                           "key column '%s' has no source column of that name; "
                           "map it under 'columns'",
                           kt);
            goto out;
        }
        J->key_tcol[k] = tc;
        if (J->list.len)
            gl_buf_adds(&J->list, ", ");
        source_expr(J, m, kt, &J->list);
        if (J->order.len)
            gl_buf_adds(&J->order, ", ");
        source_expr(J, m, kt, &J->order);
        J->sel_names[J->nsel++] = m && m->source ? m->source : kt;
    }
    /* then one expression per filled target column */
    for (i = 0; i < J->t.ncols; i++) {
        const char *name = J->t.cols[i].name;
        const struct gl_colmap *m = gl_sync_mapping(j, name);
        struct colplan *c = &J->cols[J->ncols];

        if (!m && (!has_name(srcnames, nsrc, name) || gl_sync_ignored(j, name)))
            continue; /* left to the target's default */
        if (!strcmp(name, "golive_checkpoint"))
            continue;
        c->target = name;
        c->tcol = (int)i;
        c->map = m;
        c->sel = -1;
        if (!m || m->kind != GL_COL_VALUE) {
            /* a key column is selected already */
            for (k = 0; k < j->key.n; k++)
                if (J->key_tcol[k] == (int)i)
                    c->sel = (int)k;
            if (c->sel < 0) {
                gl_buf_adds(&J->list, ", ");
                source_expr(J, m, name, &J->list);
                c->sel = (int)J->nsel;
                J->sel_names[J->nsel++] = m && m->source ? m->source : name;
            }
        }
        J->tnames[J->ncols++] = name;
    }
    if (!J->ncols) {
        rc = sync_fail(J, GL_EUSAGE, "no column of target table '%s' is filled",
                       j->to.table);
        goto out;
    }
    /* checked once: from here on the job only reads them */
    if (!(rc = sync_buf_check(J, &J->list)))
        rc = sync_buf_check(J, &J->order);
out:
    free_names(srcnames, nsrc);
    return rc;
}

int sync_count_source(struct job *J, const char *where)
{
    struct gl_buf q = GL_BUF_INIT;
    int rc;

    gl_buf_addf(&q, "SELECT count(*) FROM %s", gl_buf_str(&J->from));
    if (where && *where)
        gl_buf_addf(&q, " WHERE %s", where);
    if ((rc = sync_buf_check(J, &q))) {
        gl_buf_release(&q);
        return rc;
    }
    rc = gl_db_query_int(J->src, gl_buf_str(&q), &J->res->total, J->err);
    gl_buf_release(&q);
    return rc ? sync_failed_with(J) : GL_OK;
}

/* Keep W as the target holds it, for sync_at_boundary.  0 or -1. */
static int keep_wm(struct job *J, const struct gl_value *v)
{
    J->wm = *v;
    J->wm.s = NULL;
    J->wm.len = 0;
    if (v->type == GL_TEXT || v->type == GL_NUMERIC || v->type == GL_SPECIAL ||
        v->type == GL_BYTES) {
        if (v->type != GL_TEXT)
            return 0; /* not compared: the source's comparison decides */
        free(J->wm_text);
        if (!(J->wm_text = malloc(v->len + 1)))
            return -1;
        memcpy(J->wm_text, v->s, v->len);
        J->wm_text[v->len] = 0;
        J->wm.s = J->wm_text;
        J->wm.len = v->len;
    }
    J->wm_set = 1;
    return 0;
}

static int is_instant(enum gl_vtype t)
{
    return t == GL_TIMESTAMP || t == GL_TIMESTAMPTZ;
}

int sync_at_boundary(const struct job *J, const struct gl_value *v)
{
    const struct gl_value *w = &J->wm;

    if (!J->wm_set)
        return 0;
    if (is_instant(v->type) && is_instant(w->type))
        return v->i <= w->i;
    if ((v->type == GL_DATE || v->type == GL_TIME) && v->type == w->type)
        return v->i <= w->i;
    if (v->type == GL_INT && w->type == GL_INT)
        return v->i <= w->i;
    if ((v->type == GL_INT || v->type == GL_FLOAT) &&
        (w->type == GL_INT || w->type == GL_FLOAT))
        return (v->type == GL_INT ? (double)v->i : v->f) <=
               (w->type == GL_INT ? (double)w->i : w->f);
    /* text: only equality is sure, whatever the target's collation */
    if (v->type == GL_TEXT && w->type == GL_TEXT)
        return v->len == w->len && !memcmp(v->s, w->s, v->len);
    return 0;
}

/* The length of a UTC zone suffix at s (n bytes, all of it): "Z",
 * "+00", "+0000", "+00:00" (or '-'); 0 when s is not one. */
static int utc_suffix(const char *s, size_t n)
{
    if (n == 1 && (s[0] == 'Z' || s[0] == 'z'))
        return 1;
    if ((n == 3 || n == 5 || n == 6) && (s[0] == '+' || s[0] == '-')) {
        size_t k;
        for (k = 1; k < n; k++)
            if (!(s[k] == '0' || (n == 6 && k == 3 && s[k] == ':')))
                return 0;
        return (int)n;
    }
    return 0;
}

/* A timestamp W against a SQLite source whose watermark column holds
 * text times: SQLite compares them as text, so W is written the way the
 * source writes its times (the 'T' or the space, the fraction's digits, a
 * UTC zone as the source spells it), taken from the source's highest
 * value.  Left as it is when the source's times are not text, or carry a
 * zone other than UTC (then sync_at_boundary still keeps the boundary
 * rows as the target holds them). */
static int source_time_text(struct job *J, struct gl_value *v,
                            struct gl_arena *a)
{
    struct gl_buf q = GL_BUF_INIT;
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    char sample[64], out[64], tmp[40];
    size_t n = 0, fdigits = 0, p, zl;
    int64_t micros, frac;
    char sep;
    int r, zoned;

    if (!is_instant(v->type) || strcmp(J->src->drv->name, "sqlite"))
        return GL_OK;
    gl_buf_adds(&q, "SELECT max(");
    J->src->drv->quote_ident(J->j->watermark, &q);
    gl_buf_addf(&q, ") FROM %s", gl_buf_str(&J->from));
    if ((r = sync_buf_check(J, &q))) {
        gl_buf_release(&q);
        return r;
    }
    r = J->src->drv->query(J->src, gl_buf_str(&q), &c, J->err);
    gl_buf_release(&q);
    if (r)
        return sync_failed_with(J);
    r = J->src->drv->next(c, &row, J->err);
    if (r == 1 && row[0].type == GL_TEXT && row[0].len < sizeof(sample)) {
        n = row[0].len;
        memcpy(sample, row[0].s, n);
    }
    J->src->drv->cursor_close(c);
    if (r < 0)
        return sync_failed_with(J);
    /* YYYY-MM-DD?HH:MM:SS[.f+][zone] */
    if (n < 19 || gl_parse_timestamp(sample, n, &micros, &zoned))
        return GL_OK;
    sep = sample[10];
    p = 19;
    if (p < n && sample[p] == '.')
        for (p++; p < n && GL_ISDIGIT(sample[p]); p++)
            fdigits++;
    zl = n - p;
    if (zl && !utc_suffix(sample + p, zl))
        return GL_OK;
    if (fdigits > 6)
        return GL_OK;
    gl_format_timestamp(v->i, 0, tmp); /* "YYYY-MM-DD HH:MM:SS[.ffffff]" */
    if (strlen(tmp) < 19)
        return GL_OK;
    memcpy(out, tmp, 19);
    out[10] = sep;
    p = 19;
    frac = v->i % 1000000;
    if (frac < 0)
        frac += 1000000;
    if (fdigits || frac) {
        int64_t unit = 1;
        size_t k, digits = fdigits ? fdigits : 6;
        for (k = digits; k < 6; k++)
            unit *= 10;
        if (frac % unit)
            digits = 6, unit = 1; /* more digits than the source's */
        out[p++] = '.';
        for (k = digits; k > 0; k--)
            out[p + k - 1] = (char)('0' + (frac / unit) % 10), unit *= 10;
        p += digits;
    }
    memcpy(out + p, sample + n - zl, zl);
    p += zl;
    v->type = GL_TEXT;
    if (!(v->s = gl_arena_strndup(a, out, p)))
        return sync_fail(J, GL_ENOMEM, "out of memory");
    v->len = p;
    return GL_OK;
}

/* The incremental watermark: the target's highest value W of the column
 * filled from the source's watermark column, as a source condition.
 * Rows above W changed since the target's copy: read and upserted.  Rows
 * at W (the boundary) are read too: one written in the same instant as
 * the last row an earlier execution read, after that read, has W and is
 * not in the target yet.  Upserting them would overwrite what the new
 * system changed in the boundary rows loaded before, so a boundary row is
 * only inserted when its key is missing (see keep_boundary_rows). */
int sync_watermark_filter(struct job *J, struct gl_buf *cond)
{
    const struct gl_sync_job *j = J->j;
    struct gl_buf q = GL_BUF_INIT;
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    const char *tcol = NULL;
    size_t i;
    int r;

    for (i = 0; i < J->ncols; i++) {
        const struct gl_colmap *m = J->cols[i].map;
        const char *src = m ? m->source : J->cols[i].target;
        if (src && !strcmp(src, j->watermark)) {
            tcol = J->cols[i].target;
            J->wm_col = i;
        }
    }
    if (!tcol)
        return sync_fail(
            J, GL_EUSAGE,
            "watermark column '%s' does not fill any target column",
            j->watermark);
    if (!J->watermark) {
        gl_buf_adds(&q, "SELECT max(");
        J->dst->drv->quote_ident(tcol, &q);
        gl_buf_adds(&q, ") FROM ");
        J->dst->drv->quote_ident(j->to.table, &q);
        if ((r = sync_buf_check(J, &q))) {
            gl_buf_release(&q);
            return r;
        }
        r = J->dst->drv->query(J->dst, gl_buf_str(&q), &c, J->err);
        gl_buf_release(&q);
        if (r)
            return sync_failed_with(J);
        r = J->dst->drv->next(c, &row, J->err);
        if (r == 1 && row[0].type != GL_NULL) {
            json_t *o = sync_value_to_json(&row[0]);
            J->watermark = o ? json_dumps(o, JSON_COMPACT) : NULL;
            json_decref(o);
            if (!J->watermark) {
                J->dst->drv->cursor_close(c);
                return sync_fail(J, GL_ENOMEM, "out of memory");
            }
        }
        J->dst->drv->cursor_close(c);
        if (r < 0)
            return sync_failed_with(J);
    }
    if (J->watermark) {
        struct gl_arena a = GL_ARENA_INIT;
        json_error_t je;
        json_t *o = json_loads(J->watermark, 0, &je);
        struct gl_value v;
        int bad = !o || sync_value_from_json(o, &a, &v);
        if (!bad)
            bad = keep_wm(J, &v);
        if (!bad && (r = source_time_text(J, &v, &a))) {
            json_decref(o);
            gl_arena_release(&a);
            return r;
        }
        if (!bad) {
            J->src->drv->quote_ident(j->watermark, cond);
            gl_buf_adds(cond, " >= ");
            bad = J->src->drv->quote_value(J->src, &v, cond);
        }
        if (!bad) {
            /* the same literal: the boundary is what the condition's
             * equality takes in, in the source's own comparison */
            gl_buf_reset(&J->boundary);
            gl_buf_adds(&J->boundary, "CASE WHEN ");
            J->src->drv->quote_ident(j->watermark, &J->boundary);
            gl_buf_adds(&J->boundary, " > ");
            bad = J->src->drv->quote_value(J->src, &v, &J->boundary);
            gl_buf_adds(&J->boundary, " THEN 0 ELSE 1 END");
        }
        json_decref(o);
        gl_arena_release(&a);
        if (bad)
            return sync_fail(J, GL_EIO, "cannot use the watermark %s",
                             J->watermark);
    }
    if ((r = sync_buf_check(J, &J->boundary)))
        return r;
    return sync_buf_check(J, cond);
}

void sync_and_cond(struct gl_buf *w, const char *cond)
{
    if (!cond || !*cond)
        return;
    gl_buf_addf(w, "%s(%s)", w->len ? " AND " : "", cond);
}

int sync_stream(struct job *J, const char *extra_where)
{
    struct gl_buf q = GL_BUF_INIT, where = GL_BUF_INIT;
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    int r, rc = GL_OK;

    sync_and_cond(&where, gl_buf_str(&J->where));
    sync_and_cond(&where, extra_where);
    gl_buf_addf(&q, "SELECT %s", gl_buf_str(&J->list));
    if (J->boundary.len) /* after the list: sync_add_row reads it there */
        gl_buf_addf(&q, ", %s", gl_buf_str(&J->boundary));
    gl_buf_addf(&q, " FROM %s", gl_buf_str(&J->from));
    if (where.len)
        gl_buf_addf(&q, " WHERE %s", gl_buf_str(&where));
    gl_buf_addf(&q, " ORDER BY %s", gl_buf_str(&J->order));
    if ((rc = sync_buf_check(J, &J->where)) ||
        (rc = sync_buf_check(J, &where)) || (rc = sync_buf_check(J, &q)))
        goto out;
    /* the job's source connection serves only this read until it ends:
     * the driver may stream it */
    J->src->stream = 1;
    r = J->src->drv->query(J->src, gl_buf_str(&q), &c, J->err);
    J->src->stream = 0;
    if (r) {
        rc = sync_failed_with(J);
        goto out;
    }
    while ((r = J->src->drv->next(c, &row, J->err)) == 1) {
        int a;
        if (gl_faultpoint("sync.source.row")) {
            rc = sync_fail(J, GL_EIO,
                           "the source's connection was lost (test "
                           "fault)");
            break;
        }
        a = sync_add_row(J, row);
        if (a == -2) {
            rc = sync_failed_with(J);
            break;
        }
        if (a) {
            rc = sync_fail(J, GL_ENOMEM, "out of memory");
            break;
        }
        if ((int64_t)J->nrows >= J->batch_size) {
            if ((rc = sync_flush_batch(J, 0)))
                break;
            if (sync_limit_passed(J))
                break;
        }
        if (J->o->stop && *J->o->stop) {
            /* the batch in flight commits below; --resume goes on */
            J->res->interrupted = 1;
            break;
        }
    }
    if (r < 0 && !rc)
        rc = sync_failed_with(J);
    J->src->drv->cursor_close(c);
    /* done: the source was read to its end (the job may still fail on its
     * error limit); stopped early, the rest is for --resume */
    if (!rc)
        rc = sync_flush_batch(J, r == 0);
out:
    gl_buf_release(&q);
    gl_buf_release(&where);
    return rc;
}

/* The job's SELECT, run once for no rows: the source is reached, the
 * relation, the columns, the expressions and the where all hold. */
int sync_preflight(struct job *J)
{
    struct gl_buf q = GL_BUF_INIT;
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    int rc;

    gl_buf_addf(&q, "SELECT %s FROM %s", gl_buf_str(&J->list),
                gl_buf_str(&J->from));
    if (J->where.len)
        gl_buf_addf(&q, " WHERE %s", gl_buf_str(&J->where));
    gl_buf_addf(&q, " ORDER BY %s LIMIT 0", gl_buf_str(&J->order));
    if ((rc = sync_buf_check(J, &J->where)) || (rc = sync_buf_check(J, &q))) {
        gl_buf_release(&q);
        return rc;
    }
    rc = J->src->drv->query(J->src, gl_buf_str(&q), &c, J->err);
    gl_buf_release(&q);
    if (rc)
        return sync_failed_with(J);
    rc = J->src->drv->next(c, &row, J->err);
    J->src->drv->cursor_close(c);
    return rc < 0 ? sync_failed_with(J) : GL_OK;
}
