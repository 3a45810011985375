/*
 * check.c - the plan's checks (see golive/check.h).
 */
#include "golive/check.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/value.h"
#include "golive/db.h"
#include "golive/recon.h"
#include "recon/canon.h"
#include "sync/mapping.h"
#include "util/buf.h"
#include "util/clock.h"

static const char *const check_type_names[] = {"count", "aggregate", "diff",
                                               "sql"};

static int open_sys(const struct gl_plan *p, const char *name,
                    struct gl_db **db, struct gl_err *err)
{
    const struct gl_system *s = gl_plan_system(p, name);

    if (!s || !s->url)
        return gl_err_set(err, GL_EUSAGE, "system '%s' is not in the plan",
                          name ? name : "?");
    return gl_db_open(s->url, p->dir, db, err);
}

static const char *sys_url(const struct gl_plan *p, const char *name)
{
    const struct gl_system *s = gl_plan_system(p, name);

    return s ? s->url : NULL;
}

struct samples {
    struct gl_check_result *r;
    int max;
    int failed; /* a sample could not be written (out of memory) */
};

static void on_diff(void *ctx, const struct gl_diff_item *d)
{
    struct samples *S = ctx;
    json_t *k;
    char *ks;
    struct gl_buf b = GL_BUF_INIT;
    size_t i;

    if ((int)S->r->nsamples >= S->max)
        return;
    k = json_object();
    for (i = 0; i < d->nkey; i++) {
        struct gl_buf v = GL_BUF_INIT;
        if (d->key[i].type == GL_INT)
            json_object_set_new(k, d->key_names[i], json_integer(d->key[i].i));
        else {
            gl_value_text(&d->key[i], &v);
            S->failed |= gl_buf_failed(&v) != 0;
            json_object_set_new(k, d->key_names[i],
                                d->key[i].type == GL_NULL
                                    ? json_null()
                                    : json_stringn(gl_buf_str(&v), v.len));
        }
        gl_buf_release(&v);
    }
    ks = json_dumps(k, JSON_COMPACT | JSON_PRESERVE_ORDER);
    gl_buf_addf(&b, "%s %s", d->op, ks ? ks : "{}");
    for (i = 0; i < d->nchanged; i++)
        gl_buf_addf(&b, "%s%s", i ? "," : " columns: ", d->changed[i]);
    if (!S->failed && (S->r->samples[S->r->nsamples] = gl_buf_detach(&b)))
        S->r->nsamples++;
    else
        S->failed = 1;
    gl_buf_release(&b);
    free(ks);
    json_decref(k);
}

/* Diff the job's mapped source against its target: keys only when
 * keys_only (to name the rows a count misses). */
static int job_diff(const struct gl_plan *p, const struct gl_sync_job *j,
                    struct gl_db *src, struct gl_db *dst, const char *swhere,
                    const char *twhere, int keys_only, int samples, int jobs,
                    struct gl_check_result *r, struct gl_diff_result *res,
                    struct gl_err *err)
{
    struct gl_table_desc t;
    struct gl_buf rel = GL_BUF_INIT, trel = GL_BUF_INIT;
    const char **cols = NULL, *keys[64], *cmp[1024];
    enum gl_vtype kt[64], ttypes[64 + 1024];
    int unrep[1024];
    struct gl_diff_side S, D;
    struct gl_diff_opts o;
    struct samples sm = {NULL, 0, 0};
    size_t ncols = 0, i, k, n = 0;
    int rc;

    memset(&t, 0, sizeof(t));
    if ((rc = dst->drv->describe(dst, j->to.table, &t, err)))
        return rc;
    if ((rc = gl_sync_mapped_relation(j, src, dst, &t, swhere, &rel, &cols,
                                      &ncols, err)))
        goto out;
    memset(&o, 0, sizeof(o));
    for (k = 0; k < j->key.n && k < 64; k++) {
        int ti = gl_table_col(&t, j->key.v[k].id);
        keys[k] = j->key.v[k].id;
        kt[k] = ti >= 0 ? t.cols[ti].type : GL_TEXT;
    }
    o.key = keys;
    o.nkey = k;
    if (!keys_only)
        n = gl_diff_columns(keys, o.nkey, cols, ncols, NULL, NULL, NULL, NULL,
                            cmp, 1024);
    o.cols = cmp;
    o.ncols = n;
    for (i = 0; i < o.nkey; i++)
        ttypes[i] = kt[i];
    for (i = 0; i < n; i++) {
        const struct gl_colmap *m = gl_sync_mapping(j, cmp[i]);
        int ti = gl_table_col(&t, cmp[i]);
        unrep[i] = m && m->unrepresentable == GL_UNREP_NULL;
        ttypes[o.nkey + i] = ti >= 0 ? t.cols[ti].type : GL_NULL;
    }
    o.unrep_null = unrep;
    sm.r = r;
    sm.max = samples;
    r->samples = calloc((size_t)samples + 1, sizeof(char *));
    o.on_diff = on_diff;
    o.ctx = &sm;
    dst->drv->quote_ident(j->to.table, &trel);
    if ((rc = gl_buf_check(&trel, "the table name", err)))
        goto out;
    memset(&S, 0, sizeof(S));
    memset(&D, 0, sizeof(D));
    S.db = src;
    S.relation = gl_buf_str(&rel);
    S.key_types = kt;
    D.db = dst;
    D.relation = gl_buf_str(&trel);
    D.where = twhere;
    D.table = j->to.table;
    D.key_types = kt;
    D.col_types = ttypes;
    S.url = sys_url(p, j->from.system.id);
    D.url = sys_url(p, j->to.system.id);
    S.dir = D.dir = p->dir;
    rc = gl_diff_run_jobs(&S, &D, &o, jobs, res, err);
    if (!rc && sm.failed)
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
out:
    free(cols);
    gl_buf_release(&rel);
    gl_buf_release(&trel);
    gl_table_desc_release(&t);
    return rc;
}

static int count_rows(struct gl_db *db, const char *relation, const char *where,
                      int64_t *n, struct gl_err *err)
{
    struct gl_buf q = GL_BUF_INIT;
    int rc;

    gl_buf_addf(&q, "SELECT count(*) FROM %s", relation);
    if (where && *where)
        gl_buf_addf(&q, " WHERE (%s)", where);
    if (!(rc = gl_buf_check(&q, "the query", err)))
        rc = gl_db_query_int(db, gl_buf_str(&q), n, err);
    gl_buf_release(&q);
    return rc;
}

static int run_count(const struct gl_plan *p, const struct gl_check *c,
                     const struct gl_sync_job *j, struct gl_db *src,
                     struct gl_db *dst, int samples, int jobs,
                     struct gl_check_result *r, struct gl_err *err)
{
    const char *sw = c->source_where ? c->source_where
                     : c->where      ? c->where
                                     : j->where;
    const char *tw = c->target_where ? c->target_where : c->where;
    struct gl_buf srel = GL_BUF_INIT, trel = GL_BUF_INIT;
    struct gl_diff_result dr;
    int64_t diff;
    int rc;

    gl_sync_source_relation(j, src, &srel);
    dst->drv->quote_ident(j->to.table, &trel);
    if ((rc = gl_buf_check(&srel, "the source relation", err)) ||
        (rc = gl_buf_check(&trel, "the table name", err)) ||
        (rc = count_rows(src, gl_buf_str(&srel), sw, &r->source, err)) ||
        (rc = count_rows(dst, gl_buf_str(&trel), tw, &r->target, err)))
        goto out;
    diff = r->source - r->target;
    r->passed = (diff < 0 ? -diff : diff) <= c->tolerance;
    if (r->passed) {
        snprintf(r->message, sizeof(r->message),
                 "%" PRId64 " source rows, %" PRId64 " target rows", r->source,
                 r->target);
        goto out;
    }
    /* name the rows: a diff of the keys only */
    rc = job_diff(p, j, src, dst, sw, tw, 1, samples, jobs, r, &dr, err);
    if (rc)
        goto out;
    r->missing = dr.missing;
    r->extra = dr.extra;
    snprintf(r->message, sizeof(r->message),
             "%" PRId64 " source rows%s%s%s, %" PRId64 " target rows: %" PRId64
             " missing from the target, %" PRId64 " extra (tolerance %" PRId64
             ")",
             r->source, sw ? " (where " : "", sw ? sw : "", sw ? ")" : "",
             r->target, dr.missing, dr.extra, c->tolerance);
out:
    gl_buf_release(&srel);
    gl_buf_release(&trel);
    return rc;
}

static int run_diff(const struct gl_plan *p, const struct gl_check *c,
                    const struct gl_sync_job *j, struct gl_db *src,
                    struct gl_db *dst, int samples, int jobs,
                    struct gl_check_result *r, struct gl_err *err)
{
    const char *sw = c->source_where ? c->source_where
                     : c->where      ? c->where
                                     : j->where;
    const char *tw = c->target_where ? c->target_where : c->where;
    struct gl_diff_result dr;
    int rc = job_diff(p, j, src, dst, sw, tw, 0, samples, jobs, r, &dr, err);

    if (rc)
        return rc;
    r->source = dr.source_rows;
    r->target = dr.target_rows;
    r->missing = dr.missing;
    r->extra = dr.extra;
    r->changed = dr.changed;
    r->passed = !dr.missing && !dr.extra && !dr.changed && !dr.duplicates &&
                !dr.null_keys;
    snprintf(r->message, sizeof(r->message),
             "%" PRId64 " source rows, %" PRId64 " target rows: %" PRId64
             " missing, %" PRId64 " extra, %" PRId64 " changed%s%s",
             dr.source_rows, dr.target_rows, dr.missing, dr.extra, dr.changed,
             dr.null_keys ? ", rows with a NULL key" : "",
             dr.duplicates ? ", duplicate keys" : "");
    return GL_OK;
}

/* One row of aggregates over relation. */
static int aggregates(struct gl_db *db, const char *relation, const char *where,
                      const struct gl_check *c, const int *numeric,
                      struct gl_buf *enc, char **text, struct gl_err *err)
{
    struct gl_buf q = GL_BUF_INIT, col = GL_BUF_INIT;
    struct gl_cursor *cur = NULL;
    const struct gl_value *row;
    struct gl_canon_opts co = {12, 1, 0};
    size_t i, k, n = 0;
    int rc, r;

    gl_buf_adds(&q, "SELECT ");
    for (i = 0; i < c->columns.n; i++) {
        gl_buf_reset(&col);
        db->drv->quote_ident(c->columns.v[i].id, &col);
        for (k = 0; k < (c->aggregates.n ? c->aggregates.n : 5); k++) {
            const char *a = c->aggregates.n ? c->aggregates.v[k].id
                            : k == 0        ? "sum"
                            : k == 1        ? "min"
                            : k == 2        ? "max"
                            : k == 3        ? "nulls"
                                            : "distinct";
            const char *cs = gl_buf_str(&col);
            if (n++)
                gl_buf_adds(&q, ", ");
            if (!strcmp(a, "sum") && !numeric[i])
                gl_buf_adds(&q, "NULL"); /* text has no sum */
            else if (!strcmp(a, "nulls"))
                gl_buf_addf(&q, "count(*) - count(%s)", cs);
            else if (!strcmp(a, "distinct"))
                gl_buf_addf(&q, "count(DISTINCT %s)", cs);
            else if (!strcmp(a, "count"))
                gl_buf_addf(&q, "count(%s)", cs);
            else
                gl_buf_addf(&q, "%s(%s)", a, cs);
        }
    }
    gl_buf_addf(&q, " FROM %s", relation);
    if (where && *where)
        gl_buf_addf(&q, " WHERE (%s)", where);
    if (gl_buf_failed(&col))
        gl_buf_fail(&q, gl_buf_failed(&col));
    if (!(rc = gl_buf_check(&q, "the query", err)))
        rc = db->drv->query(db, gl_buf_str(&q), &cur, err);
    gl_buf_release(&q);
    gl_buf_release(&col);
    if (rc)
        return rc;
    r = db->drv->next(cur, &row, err);
    if (r == 1) {
        for (i = 0; i < n; i++) {
            struct gl_buf t = GL_BUF_INIT;
            enum gl_canon_class cl =
                row[i].type == GL_TEXT ? GL_CANON_TEXT
                : row[i].type == GL_TIMESTAMP || row[i].type == GL_TIMESTAMPTZ
                    ? GL_CANON_TIME
                : row[i].type == GL_DATE ? GL_CANON_DATE
                                         : GL_CANON_NUMBER;
            gl_canon_append(&row[i], cl, &co, 0, &enc[i]);
            if (row[i].type == GL_NULL)
                gl_buf_adds(&t, "NULL");
            else
                gl_value_text(&row[i], &t);
            text[i] = gl_buf_detach(&t);
            if (!text[i] || gl_buf_failed(&enc[i]))
                r = -gl_err_set(err, GL_ENOMEM, "out of memory");
        }
    }
    db->drv->cursor_close(cur);
    return r < 0 ? -r : GL_OK;
}

static int run_aggregate(const struct gl_check *c, const struct gl_sync_job *j,
                         struct gl_db *src, struct gl_db *dst,
                         struct gl_check_result *r, struct gl_err *err)
{
    const char *sw = c->source_where ? c->source_where
                     : c->where      ? c->where
                                     : j->where;
    const char *tw = c->target_where ? c->target_where : c->where;
    size_t na = c->aggregates.n ? c->aggregates.n : 5;
    size_t n = c->columns.n * na, i;
    struct gl_table_desc t;
    struct gl_buf rel = GL_BUF_INIT, trel = GL_BUF_INIT, msg = GL_BUF_INIT;
    struct gl_buf *es = calloc(n + 1, sizeof(*es)),
                  *et = calloc(n + 1, sizeof(*et));
    char **ts = calloc(n + 1, sizeof(char *)),
         **tt = calloc(n + 1, sizeof(char *));
    const char **cols = NULL;
    size_t ncols = 0;
    int rc, bad = 0, *numeric = NULL;

    memset(&t, 0, sizeof(t));
    if (!es || !et || !ts || !tt) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = dst->drv->describe(dst, j->to.table, &t, err)) ||
        (rc = gl_sync_mapped_relation(j, src, dst, &t, sw, &rel, &cols, &ncols,
                                      err)))
        goto out;
    dst->drv->quote_ident(j->to.table, &trel);
    numeric = calloc(c->columns.n + 1, sizeof(int));
    if (!numeric) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < c->columns.n; i++) {
        int ti = gl_table_col(&t, c->columns.v[i].id);
        enum gl_vtype ty = ti >= 0 ? t.cols[ti].type : GL_TEXT;
        numeric[i] = ty == GL_INT || ty == GL_NUMERIC || ty == GL_FLOAT;
    }
    if ((rc = gl_buf_check(&trel, "the table name", err)) ||
        (rc = aggregates(src, gl_buf_str(&rel), NULL, c, numeric, es, ts,
                         err)) ||
        (rc = aggregates(dst, gl_buf_str(&trel), tw, c, numeric, et, tt, err)))
        goto out;
    for (i = 0; i < n; i++) {
        const char *a = c->aggregates.n
                            ? c->aggregates.v[i % na].id
                            : (const char *[]){"sum", "min", "max", "nulls",
                                               "distinct"}[i % na];
        if (es[i].len == et[i].len &&
            (!es[i].len || !memcmp(es[i].data, et[i].data, es[i].len)))
            continue;
        gl_buf_addf(&msg, "%s%s(%s): source %s, target %s", bad++ ? "; " : "",
                    a, c->columns.v[i / na].id, ts[i] ? ts[i] : "?",
                    tt[i] ? tt[i] : "?");
    }
    if ((rc = gl_buf_check(&msg, "the message", err)))
        goto out;
    r->passed = !bad;
    snprintf(r->message, sizeof(r->message), "%s",
             bad ? gl_buf_str(&msg)
                 : "every aggregate of the source equals the target's");
out:
    for (i = 0; i < n && es && et && ts && tt; i++) {
        gl_buf_release(&es[i]);
        gl_buf_release(&et[i]);
        free(ts[i]);
        free(tt[i]);
    }
    free(es);
    free(et);
    free(ts);
    free(tt);
    free(numeric);
    free(cols);
    gl_buf_release(&rel);
    gl_buf_release(&trel);
    gl_buf_release(&msg);
    gl_table_desc_release(&t);
    return rc;
}

/* The first column of the first row, as text; NULL when no row. */
static int one_value(struct gl_db *db, const char *sql, char **out, int *is_num,
                     struct gl_err *err)
{
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    struct gl_buf b = GL_BUF_INIT;
    int rc, r;

    *out = NULL;
    if ((rc = db->drv->query(db, sql, &c, err)))
        return rc;
    r = db->drv->next(c, &row, err);
    if (r == 1 && row[0].type != GL_NULL) {
        *is_num = row[0].type == GL_INT || row[0].type == GL_NUMERIC ||
                  row[0].type == GL_FLOAT || row[0].type == GL_BOOL;
        if (row[0].type == GL_FLOAT) {
            char tmp[64];
            snprintf(tmp, sizeof(tmp), "%.15g", row[0].f);
            gl_buf_adds(&b, tmp);
        } else {
            gl_value_text(&row[0], &b);
        }
        if (!(*out = gl_buf_detach(&b)))
            r = -gl_err_set(err, GL_ENOMEM, "out of memory");
    } else if (r == 1 && !(*out = strdup("NULL"))) {
        r = -gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    db->drv->cursor_close(c);
    return r < 0 ? -r : GL_OK;
}

static int same_value(const char *a, const char *b)
{
    struct gl_buf x = GL_BUF_INIT, y = GL_BUF_INIT;
    int eq;

    if (!a || !b)
        return a == b;
    if (gl_is_decimal(a, strlen(a)) && gl_is_decimal(b, strlen(b))) {
        gl_canon_decimal(a, strlen(a), &x);
        gl_canon_decimal(b, strlen(b), &y);
        /* out of memory: compared as written */
        eq = gl_buf_failed(&x) || gl_buf_failed(&y)
                 ? !strcmp(a, b)
                 : !strcmp(gl_buf_str(&x), gl_buf_str(&y));
        gl_buf_release(&x);
        gl_buf_release(&y);
        return eq;
    }
    return !strcmp(a, b);
}

static int run_sql(const struct gl_plan *p, const struct gl_check *c,
                   struct gl_check_result *r, struct gl_err *err)
{
    struct gl_db *a = NULL, *b = NULL;
    char *va = NULL, *vb = NULL;
    int na = 0, nb = 0, rc;

    if ((rc = open_sys(p, c->system.id, &a, err)) ||
        (rc = one_value(a, c->sql, &va, &na, err)))
        goto out;
    if (c->compare.id) {
        if ((rc = open_sys(p, c->compare.id, &b, err)) ||
            (rc = one_value(b, c->sql, &vb, &nb, err)))
            goto out;
        r->passed = same_value(va, vb);
        snprintf(r->message, sizeof(r->message), "%s gives %s, %s gives %s",
                 c->system.id, va ? va : "no row", c->compare.id,
                 vb ? vb : "no row");
    } else {
        r->passed = same_value(va, c->expect);
        snprintf(r->message, sizeof(r->message), "%s gives %s, expected %s",
                 c->system.id, va ? va : "no row", c->expect);
    }
out:
    free(va);
    free(vb);
    gl_db_close(a);
    gl_db_close(b);
    return rc;
}

int gl_check_run(const struct gl_plan *p, const struct gl_check *c, int samples,
                 int jobs, struct gl_check_result *r, struct gl_err *err)
{
    const struct gl_sync_job *j = NULL;
    struct gl_db *src = NULL, *dst = NULL;
    double t0 = gl_clock_mono();
    int rc;

    memset(r, 0, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "%s", c->id.id);
    snprintf(r->type, sizeof(r->type), "%s", check_type_names[c->type]);
    gl_db_global_init();
    if (jobs < 1) /* the same default as golive diff's */
        jobs = gl_diff_default_jobs(0);
    if (c->type == GL_CHECK_SQL) {
        rc = run_sql(p, c, r, err);
        goto out;
    }
    if (!(j = gl_plan_job(p, c->job.id))) {
        rc = gl_err_set(err, GL_EUSAGE, "check '%s' names no sync job",
                        c->id.id);
        goto out;
    }
    if ((rc = open_sys(p, j->from.system.id, &src, err)) ||
        (rc = open_sys(p, j->to.system.id, &dst, err)))
        goto out;
    switch (c->type) {
    case GL_CHECK_COUNT:
        rc = run_count(p, c, j, src, dst, samples, jobs, r, err);
        break;
    case GL_CHECK_AGGREGATE:
        rc = run_aggregate(c, j, src, dst, r, err);
        break;
    default:
        rc = run_diff(p, c, j, src, dst, samples, jobs, r, err);
        break;
    }
out:
    gl_db_close(src);
    gl_db_close(dst);
    r->seconds = gl_clock_mono() - t0;
    return rc;
}

void gl_check_result_release(struct gl_check_result *r)
{
    size_t i;

    for (i = 0; i < r->nsamples; i++)
        free(r->samples[i]);
    free(r->samples);
    r->samples = NULL;
    r->nsamples = 0;
}

/* The result as data: the check.run event's payload and the --json
 * output alike. */
static json_t *result_json(const struct gl_check_result *r, int error,
                           const char *msg, const char *plan_sha)
{
    json_t *s = json_array(), *o;
    size_t i;

    for (i = 0; i < r->nsamples; i++)
        json_array_append_new(s, json_string(r->samples[i]));
    o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:o, s:f}",
                  "check", r->id, "type", r->type, "outcome",
                  error       ? "error"
                  : r->passed ? "passed"
                              : "failed",
                  "source", (json_int_t)r->source, "target",
                  (json_int_t)r->target, "missing", (json_int_t)r->missing,
                  "extra", (json_int_t)r->extra, "changed",
                  (json_int_t)r->changed, "message", msg, "samples", s,
                  "seconds", r->seconds);
    if (o && plan_sha && *plan_sha) /* the file that ran, not the run's */
        json_object_set_new(o, "plan_sha256", json_string(plan_sha));
    return o;
}

int gl_check_run_recorded(const struct gl_plan *p, const struct gl_check *c,
                          const struct gl_check_record *rec,
                          struct gl_check_result *r, json_t **out,
                          struct gl_err *err, struct gl_err *unrecorded)
{
    int rc;

    gl_err_clear(unrecorded);
    rc = gl_check_run(p, c, rec->samples, rec->jobs, r, err);
    *out = result_json(r, rc != GL_OK, rc != GL_OK ? err->msg : r->message,
                       rec->plan_sha);
    if (rec->store) {
        char *payload =
            *out ? json_dumps(*out, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        gl_store_append(rec->store, rec->who, "check.run",
                        payload ? payload : "{}", unrecorded);
        free(payload);
    }
    return rc;
}
