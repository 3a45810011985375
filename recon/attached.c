/*
 * attached.c - comparing two tables that one connection can reach, inside
 * the database: the target is attached to the source's SQLite connection
 * and three joins (in the manner of sqldiff's own queries) return only the
 * candidate rows; each candidate is then confirmed with the same canonical
 * comparison the streaming merge uses.  Segments of the key range run on
 * connections of their own, so both cores work; the differences reach the
 * caller in segment order (spill.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "db/value.h"
#include "golive/db.h"
#include "golive/recon.h"
#include "recon/canon.h"
#include "recon/spill.h"
#include "util/buf.h"

struct att {
    const char *src_url, *dst_path, *src_table, *dst_table;
    int attach; /* SQLite: attach dst_path; else one server reaches both */
    const struct gl_diff_opts *o;
    const char *lo, *hi; /* JSON bounds, or NULL */
    const struct gl_diff_side *proto_src, *proto_dst;
    struct gl_diff_result res;
    int64_t null_src, null_dst; /* rows with a NULL key, counted apart */
    struct gl_err err;
    int rc;
    pthread_mutex_t *mu;
    /* a segment after the first: its options, its output kept aside */
    struct gl_diff_opts own;
    struct gl_diff_spill spill;
    int started; /* on a thread of its own */
};

static void cols_of(struct gl_db *db, const char *alias,
                    const char *const *names, size_t n, struct gl_buf *b)
{
    size_t i;

    for (i = 0; i < n; i++) {
        gl_buf_addf(b, "%s%s.", i ? ", " : "", alias);
        db->drv->quote_ident(names[i], b);
    }
}

/* Key equality, bytewise for text keys whatever the collation. */
static void keys_equal(struct gl_db *db, const struct gl_diff_opts *o,
                       const enum gl_vtype *types, struct gl_buf *b)
{
    struct gl_buf x = GL_BUF_INIT, y = GL_BUF_INIT;
    size_t i;

    for (i = 0; i < o->nkey; i++) {
        gl_buf_reset(&x);
        gl_buf_reset(&y);
        gl_buf_adds(&x, "b.");
        db->drv->quote_ident(o->key[i], &x);
        gl_buf_adds(&y, "a.");
        db->drv->quote_ident(o->key[i], &y);
        gl_buf_adds(b, i ? " AND " : "");
        if (types && types[i] == GL_TEXT && db->drv->order_bytes) {
            db->drv->order_bytes(gl_buf_str(&x), b);
            gl_buf_adds(b, " = ");
            db->drv->order_bytes(gl_buf_str(&y), b);
        } else {
            gl_buf_addf(b, "%s = %s", gl_buf_str(&x), gl_buf_str(&y));
        }
    }
    if (gl_buf_failed(&x) || gl_buf_failed(&y))
        gl_buf_fail(b, ENOMEM);
    gl_buf_release(&x);
    gl_buf_release(&y);
}

static void differs(struct gl_db *db, const char *col, struct gl_buf *b)
{
    struct gl_buf x = GL_BUF_INIT, y = GL_BUF_INIT;

    gl_buf_adds(&x, "a.");
    db->drv->quote_ident(col, &x);
    gl_buf_adds(&y, "b.");
    db->drv->quote_ident(col, &y);
    db->drv->not_same(gl_buf_str(&x), gl_buf_str(&y), b);
    if (gl_buf_failed(&x) || gl_buf_failed(&y))
        gl_buf_fail(b, ENOMEM);
    gl_buf_release(&x);
    gl_buf_release(&y);
}

static void emit(const struct gl_diff_opts *o, pthread_mutex_t *mu,
                 const char *op, const char *side, const struct gl_value *key,
                 const char *const *changed, size_t n,
                 const struct gl_value *sv, const struct gl_value *dv)
{
    struct gl_diff_item it;

    if (!o->on_diff)
        return;
    memset(&it, 0, sizeof(it));
    it.src_vals = sv;
    it.dst_vals = dv;
    it.op = op;
    it.side = side;
    it.key_names = o->key;
    it.key = key;
    it.nkey = o->nkey;
    it.changed = changed;
    it.nchanged = n;
    pthread_mutex_lock(mu);
    o->on_diff(o->ctx, &it);
    pthread_mutex_unlock(mu);
}

/* Run the query q built (checked here), each row to each. */
static int run_query(struct gl_db *db, const struct gl_buf *q,
                     int (*each)(struct att *, struct gl_db *,
                                 const struct gl_value *),
                     struct att *A)
{
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    int rc, r;

    if ((rc = gl_buf_check(q, "the query", &A->err)) ||
        (rc = db->drv->query(db, gl_buf_str(q), &c, &A->err)))
        return rc;
    while ((r = db->drv->next(c, &row, &A->err)) == 1)
        if ((rc = each(A, db, row)))
            break;
    db->drv->cursor_close(c);
    return r < 0 ? -r : rc;
}

static int on_missing(struct att *A, struct gl_db *db,
                      const struct gl_value *row)
{
    (void)db;
    A->res.missing++;
    emit(A->o, A->mu, "missing", NULL, row, NULL, 0, NULL, NULL);
    return GL_OK;
}

static int on_null_src(struct att *A, struct gl_db *db,
                       const struct gl_value *row)
{
    (void)db;
    A->res.null_keys++;
    A->null_src++;
    emit(A->o, A->mu, "null_key", "source", row, NULL, 0, NULL, NULL);
    return GL_OK;
}

static int on_null_dst(struct att *A, struct gl_db *db,
                       const struct gl_value *row)
{
    (void)db;
    A->res.null_keys++;
    A->null_dst++;
    emit(A->o, A->mu, "null_key", "target", row, NULL, 0, NULL, NULL);
    return GL_OK;
}

/* "k1 IS NULL OR k2 IS NULL ..." (with not: "k1 IS NOT NULL AND ...") */
static void null_keys(struct gl_db *db, const struct gl_diff_opts *o, int not,
                      struct gl_buf *b)
{
    size_t i;

    for (i = 0; i < o->nkey; i++) {
        if (i)
            gl_buf_adds(b, not ? " AND " : " OR ");
        db->drv->quote_ident(o->key[i], b);
        gl_buf_adds(b, not ? " IS NOT NULL" : " IS NULL");
    }
}

static int on_extra(struct att *A, struct gl_db *db, const struct gl_value *row)
{
    (void)db;
    A->res.extra++;
    emit(A->o, A->mu, "extra", NULL, row, NULL, 0, NULL, NULL);
    return GL_OK;
}

/* row: keys, the source's columns, the target's columns. */
static int on_changed(struct att *A, struct gl_db *db,
                      const struct gl_value *row)
{
    const struct gl_diff_opts *o = A->o;
    struct gl_canon_opts co;
    struct gl_buf x = GL_BUF_INIT, y = GL_BUF_INIT;
    const char *names[1024];
    struct gl_value sv[1024], dv[1024];
    size_t i, n = 0;

    (void)db;
    co.float_digits = o->float_digits > 0 ? o->float_digits : 15;
    co.time_unit = o->time_unit > 0 ? o->time_unit : 1;
    co.rtrim = o->rtrim;
    for (i = 0; i < o->ncols && n < 1024; i++) {
        const struct gl_value *va = &row[o->nkey + i];
        const struct gl_value *vb = &row[o->nkey + o->ncols + i];
        enum gl_canon_class cl = gl_canon_class_of(va->type, vb->type);
        gl_buf_reset(&x);
        gl_buf_reset(&y);
        gl_canon_append(va, cl, &co, o->rtrim, &x);
        gl_canon_append(vb, cl, &co, o->rtrim, &y);
        if (gl_buf_failed(&x) || gl_buf_failed(&y)) {
            gl_buf_release(&x);
            gl_buf_release(&y);
            return gl_err_set(&A->err, GL_ENOMEM, "out of memory");
        }
        if (x.len != y.len || (x.len && memcmp(x.data, y.data, x.len))) {
            sv[n] = *va;
            dv[n] = *vb;
            names[n++] = o->cols[i];
        }
    }
    gl_buf_release(&x);
    gl_buf_release(&y);
    if (n) { /* equal once canonical: not a difference */
        A->res.changed++;
        emit(o, A->mu, "changed", NULL, row, names, n, sv, dv);
    }
    return GL_OK;
}

/* row: keys, the source's columns, the target's, then whether the
 * target lacks the row. */
static int on_left(struct att *A, struct gl_db *db, const struct gl_value *row)
{
    const struct gl_value *gone = &row[A->o->nkey + 2 * A->o->ncols];

    if ((gone->type == GL_INT || gone->type == GL_BOOL) && gone->i)
        return on_missing(A, db, row);
    return on_changed(A, db, row);
}

static void *att_run(void *arg)
{
    struct att *A = arg;
    const struct gl_diff_opts *o = A->o;
    struct gl_db *db = NULL;
    struct gl_buf q = GL_BUF_INIT, ra = GL_BUF_INIT, rb = GL_BUF_INIT;
    struct gl_buf dt = GL_BUF_INIT, st = GL_BUF_INIT, ks = GL_BUF_INIT;
    struct gl_value path = {GL_TEXT, 0, 0, NULL, 0};
    struct gl_diff_side sa, sb;
    size_t i;

    gl_err_clear(&A->err);
    if ((A->rc = gl_db_open(A->src_url, ".", &db, &A->err)))
        return NULL;
    if (A->attach) {
        path.s = A->dst_path;
        path.len = strlen(A->dst_path);
        gl_buf_adds(&q, "ATTACH DATABASE ");
        db->drv->quote_value(db, &path, &q);
        gl_buf_adds(&q, " AS golive_b");
        if ((A->rc = gl_buf_check(&q, "the query", &A->err)) ||
            (A->rc = db->drv->exec(db, gl_buf_str(&q), &A->err)))
            goto out;
        gl_buf_adds(&dt, "golive_b.");
    }
    db->drv->quote_ident(A->src_table, &st);
    db->drv->quote_ident(A->dst_table, &dt);
    sa = *A->proto_src;
    sb = *A->proto_dst;
    sa.db = sb.db = db;
    /* the segment's range, on each side's rows */
    if (A->proto_src->where) {
        gl_buf_addf(&ra, "(%s)", A->proto_src->where);
        gl_buf_addf(&rb, "(%s)", A->proto_src->where);
    }
    if (A->lo) {
        gl_buf_adds(&ra, ra.len ? " AND " : "");
        gl_diff_range(&sa, o, A->lo, ">=", &ra);
        gl_buf_adds(&rb, rb.len ? " AND " : "");
        gl_diff_range(&sb, o, A->lo, ">=", &rb);
    }
    if (A->hi) {
        gl_buf_adds(&ra, ra.len ? " AND " : "");
        gl_diff_range(&sa, o, A->hi, "<", &ra);
        gl_buf_adds(&rb, rb.len ? " AND " : "");
        gl_diff_range(&sb, o, A->hi, "<", &rb);
    }
    /* rows with a NULL key are no rows of the join: reported apart, once
     * (by the first segment), as the streaming merge does */
    if (!A->lo) {
        int side;
        for (side = 0; side < 2; side++) {
            gl_buf_reset(&q);
            gl_buf_adds(&q, "SELECT ");
            cols_of(db, "a", o->key, o->nkey, &q);
            gl_buf_addf(&q, " FROM %s a WHERE (", gl_buf_str(side ? &dt : &st));
            null_keys(db, o, 0, &q);
            gl_buf_adds(&q, ")");
            if (A->proto_src->where)
                gl_buf_addf(&q, " AND (%s)", A->proto_src->where);
            if (gl_buf_failed(side ? &dt : &st))
                gl_buf_fail(&q, ENOMEM);
            if ((A->rc =
                     run_query(db, &q, side ? on_null_dst : on_null_src, A)))
                goto out;
        }
    }
    gl_buf_adds(&ra, ra.len ? " AND " : "");
    null_keys(db, o, 1, &ra);
    gl_buf_adds(&rb, rb.len ? " AND " : "");
    null_keys(db, o, 1, &rb);
    /* the relations: the tables themselves when nothing filters them, so
     * that SQLite counts and joins them at full speed */
    {
        struct gl_buf x = GL_BUF_INIT;
        if (ra.len) {
            gl_buf_addf(&x, "(SELECT * FROM %s WHERE %s)", gl_buf_str(&st),
                        gl_buf_str(&ra));
            gl_buf_reset(&st);
            gl_buf_adds(&st, gl_buf_str(&x));
            gl_buf_reset(&x);
            gl_buf_addf(&x, "(SELECT * FROM %s WHERE %s)", gl_buf_str(&dt),
                        gl_buf_str(&rb));
            gl_buf_reset(&dt);
            gl_buf_adds(&dt, gl_buf_str(&x));
        }
        if (gl_buf_failed(&x) || gl_buf_failed(&ra) || gl_buf_failed(&rb))
            gl_buf_fail(&st, ENOMEM);
        gl_buf_release(&x);
    }
    /* one pass over the source: rows the target lacks (b's key is NULL)
     * and rows whose columns are not the same */
    gl_buf_reset(&q);
    gl_buf_adds(&q, "SELECT ");
    cols_of(db, "a", o->key, o->nkey, &q);
    if (o->ncols) {
        gl_buf_adds(&q, ", ");
        cols_of(db, "a", o->cols, o->ncols, &q);
        gl_buf_adds(&q, ", ");
        cols_of(db, "b", o->cols, o->ncols, &q);
    }
    gl_buf_adds(&q, ", b.");
    db->drv->quote_ident(o->key[0], &q);
    gl_buf_addf(&q, " IS NULL FROM %s a LEFT JOIN %s b ON ", gl_buf_str(&st),
                gl_buf_str(&dt));
    keys_equal(db, o, A->proto_src->key_types, &q);
    gl_buf_adds(&q, " WHERE b.");
    db->drv->quote_ident(o->key[0], &q);
    gl_buf_adds(&q, " IS NULL");
    for (i = 0; i < o->ncols; i++) {
        gl_buf_adds(&q, " OR ");
        differs(db, o->cols[i], &q);
    }
    if (gl_buf_failed(&st) || gl_buf_failed(&dt))
        gl_buf_fail(&q, ENOMEM);
    if ((A->rc = run_query(db, &q, on_left, A)))
        goto out;
    /* rows of the target the source lacks (a and b swap roles) */
    gl_buf_reset(&q);
    gl_buf_adds(&q, "SELECT ");
    cols_of(db, "a", o->key, o->nkey, &q);
    gl_buf_addf(&q, " FROM %s a WHERE NOT EXISTS (SELECT 1 FROM %s b WHERE ",
                gl_buf_str(&dt), gl_buf_str(&st));
    keys_equal(db, o, A->proto_src->key_types, &q);
    gl_buf_adds(&q, ")");
    if ((A->rc = run_query(db, &q, on_extra, A)))
        goto out;
    /* rows per side, for the summary */
    gl_buf_reset(&q);
    gl_buf_addf(&q, "SELECT count(*) FROM %s golive_n", gl_buf_str(&st));
    if ((A->rc = gl_buf_check(&q, "the query", &A->err)) ||
        (A->rc =
             gl_db_query_int(db, gl_buf_str(&q), &A->res.source_rows, &A->err)))
        goto out;
    gl_buf_reset(&q);
    gl_buf_addf(&q, "SELECT count(*) FROM %s golive_n", gl_buf_str(&dt));
    if ((A->rc = gl_buf_check(&q, "the query", &A->err)))
        goto out;
    A->rc = gl_db_query_int(db, gl_buf_str(&q), &A->res.target_rows, &A->err);
    /* rows, as the streaming merge counts them: NULL keys too */
    A->res.source_rows += A->null_src;
    A->res.target_rows += A->null_dst;
out:
    (void)ks;
    gl_buf_release(&q);
    gl_buf_release(&ra);
    gl_buf_release(&rb);
    gl_buf_release(&dt);
    gl_buf_release(&st);
    gl_db_close(db);
    gl_canon_done();
    return NULL;
}

int gl_diff_attached(const char *src_url, const char *src_table,
                     const char *dst_path, const char *dst_table,
                     const struct gl_diff_side *src,
                     const struct gl_diff_side *dst,
                     const struct gl_diff_opts *o, int jobs,
                     struct gl_diff_result *res, struct gl_err *err)
{
    char *bounds[64];
    struct att A[64];
    pthread_t th[64];
    pthread_mutex_t mu;
    int g, rc = GL_OK;

    memset(res, 0, sizeof(*res));
    if (jobs < 1)
        jobs = 1;
    if (jobs > 64)
        jobs = 64;
    if (jobs > 1 && (rc = gl_diff_bounds(src, o, jobs, bounds, err)))
        return rc;
    if (jobs == 1)
        bounds[0] = NULL;
    pthread_mutex_init(&mu, NULL);
    for (g = 0; g < jobs; g++) {
        memset(&A[g], 0, sizeof(A[g]));
        A[g].src_url = src_url;
        A[g].dst_path = dst_path;
        A[g].attach = dst_path != NULL;
        A[g].src_table = src_table;
        A[g].dst_table = dst_table;
        A[g].o = o;
        A[g].proto_src = src;
        A[g].proto_dst = dst;
        A[g].mu = &mu;
        A[g].lo = g ? bounds[g - 1] : NULL;
        A[g].hi = g < jobs - 1 ? bounds[g] : NULL;
        if (g && !A[g].lo) {
            A[g].rc = -1; /* too small to cut: the first segment has it */
            continue;
        }
        if (g) {
            A[g].own = *o;
            if ((A[g].rc =
                     gl_diff_spill_open(&A[g].spill, o, &A[g].own, &A[g].err)))
                continue;
            A[g].o = &A[g].own;
        }
        A[g].started = !pthread_create(&th[g], NULL, att_run, &A[g]);
        if (!A[g].started)
            att_run(&A[g]);
    }
    for (g = 0; g < jobs; g++)
        if (A[g].started)
            pthread_join(th[g], NULL);
    /* every segment ended: what the later ones kept follows the first's
     * output, in key order */
    for (g = 0; g < jobs; g++) {
        if (A[g].rc == -1)
            continue;
        if (!A[g].rc && !rc)
            rc = gl_diff_spill_replay(&A[g].spill, o, err);
        gl_diff_spill_close(&A[g].spill);
        if (A[g].rc && !rc) {
            rc = A[g].rc;
            if (err)
                *err = A[g].err;
        }
        res->source_rows += A[g].res.source_rows;
        res->target_rows += A[g].res.target_rows;
        res->missing += A[g].res.missing;
        res->extra += A[g].res.extra;
        res->changed += A[g].res.changed;
        res->null_keys += A[g].res.null_keys;
    }
    for (g = 0; g < jobs - 1; g++)
        free(bounds[g]);
    pthread_mutex_destroy(&mu);
    return rc;
}
