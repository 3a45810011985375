/*
 * diff.c - the streaming merge of two key-ordered sides (see
 * golive/recon.h).
 */
#include "golive/recon.h"

#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

#include "db/value.h"
#include "recon/canon.h"
#include "util/buf.h"
#include "util/clock.h"

struct side {
    const struct gl_diff_side *s;
    struct gl_cursor *c;
    const struct gl_value *row; /* current row, NULL at the end */
    struct gl_value *pk;        /* previous key (duplicates) ... */
    struct gl_buf prev;         /* ... and the bytes of its text values */
    int64_t rows;
    int fresh; /* row was just read: check it for a duplicate key */
};

static int is_text_type(enum gl_vtype t)
{
    return t == GL_TEXT;
}

/* The side's name of key i / column i. */
static const char *kname(const struct gl_diff_side *s,
                         const struct gl_diff_opts *o, size_t i)
{
    return s->key_names ? s->key_names[i] : o->key[i];
}

static const char *cname(const struct gl_diff_side *s,
                         const struct gl_diff_opts *o, size_t i)
{
    return s->col_names ? s->col_names[i] : o->cols[i];
}

static int open_side(struct side *S, const struct gl_diff_opts *o,
                     struct gl_err *err)
{
    const struct gl_db_driver *d = S->s->db->drv;
    struct gl_buf q = GL_BUF_INIT, col = GL_BUF_INIT;
    size_t i;
    int rc;

    gl_buf_adds(&q, "SELECT ");
    for (i = 0; i < o->nkey; i++) {
        if (i)
            gl_buf_adds(&q, ", ");
        d->quote_ident(kname(S->s, o, i), &q);
    }
    for (i = 0; i < o->ncols; i++) {
        gl_buf_adds(&q, ", ");
        d->quote_ident(cname(S->s, o, i), &q);
    }
    gl_buf_addf(&q, " FROM %s", S->s->relation);
    if (S->s->where)
        gl_buf_addf(&q, " WHERE (%s)", S->s->where);
    gl_buf_adds(&q, " ORDER BY ");
    for (i = 0; i < o->nkey; i++) {
        if (i)
            gl_buf_adds(&q, ", ");
        gl_buf_reset(&col);
        d->quote_ident(kname(S->s, o, i), &col);
        if (d->order_bytes && S->s->key_types &&
            is_text_type(S->s->key_types[i]))
            d->order_bytes(gl_buf_str(&col), &q);
        else
            gl_buf_adds(&q, gl_buf_str(&col));
    }
    if (gl_buf_failed(&col))
        gl_buf_fail(&q, gl_buf_failed(&col));
    if ((rc = gl_buf_check(&q, "the query", err)))
        goto out;
    /* each side's connection serves this one query until it is read */
    S->s->db->stream = 1;
    rc = d->query(S->s->db, gl_buf_str(&q), &S->c, err);
    S->s->db->stream = 0;
out:
    gl_buf_release(&q);
    gl_buf_release(&col);
    return rc;
}

static int advance(struct side *S, struct gl_err *err)
{
    int r = S->s->db->drv->next(S->c, &S->row, err);

    if (r < 0)
        return -r;
    if (r == 0) {
        S->row = NULL;
    } else {
        S->rows++;
        S->fresh = 1;
    }
    return GL_OK;
}

/* Compare decimals given as text: sign, integer digits, then digits.
 * *failed is set when memory ran out (the order is then unknown). */
static int decimal_cmp(const char *a, size_t la, const char *b, size_t lb,
                       int *failed)
{
    struct gl_buf x = GL_BUF_INIT, y = GL_BUF_INIT;
    const char *p, *q, *pd, *qd;
    size_t pi, qi;
    int na, nb, r;

    gl_canon_decimal(a, la, &x);
    gl_canon_decimal(b, lb, &y);
    if (gl_buf_failed(&x) || gl_buf_failed(&y)) {
        *failed = 1;
        r = 0;
        goto out;
    }
    p = gl_buf_str(&x);
    q = gl_buf_str(&y);
    na = *p == '-';
    nb = *q == '-';
    if (na != nb) {
        r = na ? -1 : 1;
        goto out;
    }
    p += na;
    q += nb;
    pd = strchr(p, '.');
    qd = strchr(q, '.');
    pi = pd ? (size_t)(pd - p) : strlen(p);
    qi = qd ? (size_t)(qd - q) : strlen(q);
    if (!strcmp(p, "0"))
        pi = 0;
    if (!strcmp(q, "0"))
        qi = 0;
    if (pi != qi)
        r = pi < qi ? -1 : 1;
    else
        r = strcmp(p, q) < 0 ? -1 : strcmp(p, q) > 0;
    if (na)
        r = -r;
out:
    gl_buf_release(&x);
    gl_buf_release(&y);
    return r;
}

static int is_num(enum gl_vtype t)
{
    return t == GL_INT || t == GL_NUMERIC || t == GL_FLOAT || t == GL_BOOL;
}

/* Order of two key values, the way the databases sorted them; *failed
 * is set when memory ran out. */
static int value_cmp(const struct gl_value *a, const struct gl_value *b,
                     int *failed)
{
    struct gl_buf x = GL_BUF_INIT, y = GL_BUF_INIT;
    size_t n;
    int r;

    if (a->type == GL_NULL || b->type == GL_NULL)
        return (a->type != GL_NULL) - (b->type != GL_NULL);
    if ((a->type == GL_INT || a->type == GL_BOOL) &&
        (b->type == GL_INT || b->type == GL_BOOL))
        return a->i < b->i ? -1 : a->i > b->i;
    if (is_num(a->type) && is_num(b->type)) {
        if (a->type == GL_FLOAT || b->type == GL_FLOAT) {
            double da = a->type == GL_FLOAT     ? a->f
                        : a->type == GL_NUMERIC ? strtod(a->s, NULL)
                                                : (double)a->i;
            double db = b->type == GL_FLOAT     ? b->f
                        : b->type == GL_NUMERIC ? strtod(b->s, NULL)
                                                : (double)b->i;
            return da < db ? -1 : da > db;
        }
        gl_value_text(a, &x);
        gl_value_text(b, &y);
        if (gl_buf_failed(&x) || gl_buf_failed(&y)) {
            *failed = 1;
            r = 0;
            goto out;
        }
        r = decimal_cmp(gl_buf_str(&x), x.len, gl_buf_str(&y), y.len, failed);
        goto out;
    }
    if ((a->type == GL_TIMESTAMP || a->type == GL_TIMESTAMPTZ ||
         a->type == GL_DATE || a->type == GL_TIME) &&
        a->type == b->type)
        return a->i < b->i ? -1 : a->i > b->i;
    /* text and bytes: bytewise, as the binary collations sort */
    gl_value_text(a, &x);
    gl_value_text(b, &y);
    if (a->type == GL_TEXT || a->type == GL_BYTES) {
        gl_buf_reset(&x);
        gl_buf_add(&x, a->s, a->len);
    }
    if (b->type == GL_TEXT || b->type == GL_BYTES) {
        gl_buf_reset(&y);
        gl_buf_add(&y, b->s, b->len);
    }
    if (gl_buf_failed(&x) || gl_buf_failed(&y)) {
        *failed = 1;
        r = 0;
        goto out;
    }
    n = x.len < y.len ? x.len : y.len;
    r = n ? memcmp(x.data, y.data, n) : 0;
    if (!r)
        r = x.len < y.len ? -1 : x.len > y.len;
    else
        r = r < 0 ? -1 : 1;
out:
    gl_buf_release(&x);
    gl_buf_release(&y);
    return r;
}

static int key_cmp(const struct gl_value *a, const struct gl_value *b, size_t n,
                   int *failed)
{
    size_t i;
    int r;

    for (i = 0; i < n; i++)
        if ((r = value_cmp(&a[i], &b[i], failed)))
            return r;
    return 0;
}

static int is_char_padded(const char *decl)
{
    return decl &&
           (!strncasecmp(decl, "char", 4) ||
            !strncasecmp(decl, "character(", 10) ||
            !strncasecmp(decl, "bpchar", 6) ||
            !strncasecmp(decl, "nchar", 5)) &&
           strncasecmp(decl, "character varying", 17);
}

/* ---- fix SQL ----------------------------------------------------------- */

/* The value as the target column's type where that is exact (a timestamp
 * for a timestamptz column is the instant it names in UTC, as sync reads
 * it; a date for a timestamp column is its midnight). */
static struct gl_value fit(const struct gl_value *v, enum gl_vtype t)
{
    struct gl_value r = *v;
    int64_t day = 86400LL * 1000000;

    switch (t) {
    case GL_TIMESTAMP:
    case GL_TIMESTAMPTZ:
        if (v->type == GL_TIMESTAMP || v->type == GL_TIMESTAMPTZ)
            r.type = t;
        else if (v->type == GL_DATE) {
            r.type = t;
            r.i = v->i * day;
        }
        break;
    case GL_DATE:
        if ((v->type == GL_TIMESTAMP || v->type == GL_TIMESTAMPTZ) &&
            v->i % day == 0) {
            r.type = GL_DATE;
            r.i = v->i / day;
        }
        break;
    case GL_BOOL:
        if (v->type == GL_INT && (v->i == 0 || v->i == 1))
            r.type = GL_BOOL;
        break;
    default:
        break;
    }
    return r;
}

struct fix {
    struct gl_buf b;
    int bad; /* a value has no literal in the target's engine */
    struct gl_buf why;
};

/* Value of target column i (keys first, then columns). */
static void fix_value(const struct gl_diff_side *dst, size_t i,
                      const char *name, const struct gl_value *v, struct fix *F)
{
    const struct gl_db_driver *d = dst->db->drv;
    enum gl_vtype t = dst->col_types ? dst->col_types[i] : GL_NULL;
    struct gl_value x = fit(v, t);
    int rc;

    if (d->script_value)
        rc = d->script_value(&x, t, &F->b);
    else
        rc = d->quote_value(dst->db, &x, &F->b) ? 1 : 0;
    if (rc) {
        struct gl_buf txt = GL_BUF_INIT;
        gl_value_text(v, &txt);
        if (gl_buf_failed(&txt))
            gl_buf_fail(&F->why, gl_buf_failed(&txt));
        gl_buf_addf(&F->why, "%s%s value '%.40s' of column '%s'",
                    F->bad++ ? ", " : "", gl_vtype_name(v->type),
                    gl_buf_str(&txt), name);
        gl_buf_release(&txt);
        gl_buf_adds(&F->b, "NULL");
    }
}

static void fix_where(const struct gl_diff_side *dst,
                      const struct gl_diff_opts *o, const struct gl_value *k,
                      struct fix *F)
{
    const struct gl_db_driver *d = dst->db->drv;
    size_t i;

    gl_buf_adds(&F->b, " WHERE ");
    for (i = 0; i < o->nkey; i++) {
        if (i)
            gl_buf_adds(&F->b, " AND ");
        d->quote_ident(kname(dst, o, i), &F->b);
        if (k[i].type == GL_NULL) { /* never "= NULL" */
            gl_buf_adds(&F->b, " IS NULL");
            continue;
        }
        gl_buf_adds(&F->b, " = ");
        fix_value(dst, i, kname(dst, o, i), &k[i], F);
    }
}

/* The statement, or, when a value has no literal in the target's engine,
 * the statement commented out with the reason: applying the file never
 * writes a value that is not the source's.  -1 (nothing written) when
 * building it ran out of memory. */
static int fix_write(struct fix *F, FILE *f)
{
    int rc = 0;

    if (gl_buf_failed(&F->b) || gl_buf_failed(&F->why)) {
        rc = -1;
    } else if (F->bad) {
        size_t i;
        for (i = 0; i < F->why.len; i++) /* one comment line */
            if (F->why.data[i] == '\n' || F->why.data[i] == '\r')
                F->why.data[i] = ' ';
        fprintf(f, "-- not written: %s has no literal in this engine:\n-- ",
                gl_buf_str(&F->why));
        for (i = 0; i < F->b.len; i++) {
            fputc(F->b.data[i], f);
            if (F->b.data[i] == '\n' && i + 1 < F->b.len)
                fputs("-- ", f);
        }
    } else {
        fwrite(F->b.data, 1, F->b.len, f);
    }
    gl_buf_release(&F->b);
    gl_buf_release(&F->why);
    return rc;
}

static int fix_insert(const struct gl_diff_side *dst,
                      const struct gl_diff_opts *o, const struct gl_value *row,
                      FILE *f)
{
    const struct gl_db_driver *d = dst->db->drv;
    struct fix F = {GL_BUF_INIT, 0, GL_BUF_INIT};
    size_t i, n = o->nkey + o->ncols;

    gl_buf_adds(&F.b, "INSERT INTO ");
    d->quote_ident(dst->table, &F.b);
    gl_buf_adds(&F.b, " (");
    for (i = 0; i < n; i++) {
        if (i)
            gl_buf_adds(&F.b, ", ");
        d->quote_ident(
            i < o->nkey ? kname(dst, o, i) : cname(dst, o, i - o->nkey), &F.b);
    }
    gl_buf_adds(&F.b, ") VALUES (");
    for (i = 0; i < n; i++) {
        if (i)
            gl_buf_adds(&F.b, ", ");
        fix_value(dst, i,
                  i < o->nkey ? kname(dst, o, i) : cname(dst, o, i - o->nkey),
                  &row[i], &F);
    }
    gl_buf_adds(&F.b, ");\n");
    return fix_write(&F, f);
}

static int fix_update(const struct gl_diff_side *dst,
                      const struct gl_diff_opts *o,
                      const struct gl_value *src_row, const int *changed,
                      FILE *f)
{
    const struct gl_db_driver *d = dst->db->drv;
    struct fix F = {GL_BUF_INIT, 0, GL_BUF_INIT};
    size_t i;
    int any = 0;

    gl_buf_adds(&F.b, "UPDATE ");
    d->quote_ident(dst->table, &F.b);
    for (i = 0; i < o->ncols; i++) {
        if (!changed[i])
            continue;
        gl_buf_adds(&F.b, any++ ? ", " : " SET ");
        d->quote_ident(cname(dst, o, i), &F.b);
        gl_buf_adds(&F.b, " = ");
        fix_value(dst, o->nkey + i, cname(dst, o, i), &src_row[o->nkey + i],
                  &F);
    }
    fix_where(dst, o, src_row, &F);
    gl_buf_adds(&F.b, ";\n");
    return fix_write(&F, f);
}

static int fix_delete(const struct gl_diff_side *dst,
                      const struct gl_diff_opts *o, const struct gl_value *row,
                      FILE *f)
{
    struct fix F = {GL_BUF_INIT, 0, GL_BUF_INIT};

    gl_buf_adds(&F.b, "DELETE FROM ");
    dst->db->drv->quote_ident(dst->table, &F.b);
    fix_where(dst, o, row, &F);
    gl_buf_adds(&F.b, ";\n");
    return fix_write(&F, f);
}

/* ---- the merge ---------------------------------------------------------- */

static void emit(const struct gl_diff_opts *o, const char *op, const char *side,
                 const struct gl_value *key, const char *const *changed,
                 size_t nchanged, const struct gl_value *sv,
                 const struct gl_value *dv)
{
    struct gl_diff_item it;

    if (!o->on_diff)
        return;
    it.src_vals = sv;
    it.dst_vals = dv;
    it.op = op;
    it.side = side;
    it.key_names = o->key;
    it.key = key;
    it.nkey = o->nkey;
    it.changed = changed;
    it.nchanged = nchanged;
    o->on_diff(o->ctx, &it);
}

/* A key equal to the side's previous one is a duplicate: reported, and
 * the row is skipped so that the merge stays in step. */
/* Whether two values are the same value as read: same type and same
 * bytes.  Then their canonical encodings are equal whatever the options
 * (the encoding is a function of the value and the column's class, and
 * the class of the types); when not, the encodings decide. */
static int same_raw(const struct gl_value *a, const struct gl_value *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case GL_NULL:
        return 1;
    case GL_TEXT:
    case GL_NUMERIC:
    case GL_BYTES:
    case GL_SPECIAL:
        return a->len == b->len && (!a->len || !memcmp(a->s, b->s, a->len));
    case GL_FLOAT:
        return !memcmp(&a->f, &b->f, sizeof(a->f));
    default:
        return a->i == b->i;
    }
}

/* Whether the row's key equals the previous row's of the same side
 * (kept in S->pk, text in S->prev): the same engine gave both, so the
 * values compare as they are.  Then the row's key becomes the previous. */
static int duplicate(struct side *S, const struct gl_diff_opts *o,
                     struct gl_buf *unused)
{
    size_t i, off = 0;
    int same = S->rows > 1;

    (void)unused;
    for (i = 0; same && i < o->nkey; i++) {
        const struct gl_value *a = &S->pk[i], *b = &S->row[i];
        if (a->type != b->type)
            same = 0;
        else if (b->type == GL_TEXT || b->type == GL_NUMERIC ||
                 b->type == GL_BYTES || b->type == GL_SPECIAL) {
            same = a->len == b->len &&
                   (!a->len || !memcmp(S->prev.data + off, b->s, b->len));
            off += a->len;
        } else if (b->type == GL_FLOAT)
            same = !memcmp(&a->f, &b->f, sizeof(a->f));
        else if (b->type != GL_NULL)
            same = a->i == b->i;
    }
    if (same)
        return 1;
    gl_buf_reset(&S->prev);
    for (i = 0; i < o->nkey; i++) {
        S->pk[i] = S->row[i];
        if (S->row[i].type == GL_TEXT || S->row[i].type == GL_NUMERIC ||
            S->row[i].type == GL_BYTES || S->row[i].type == GL_SPECIAL)
            gl_buf_add(&S->prev, S->row[i].s, S->row[i].len);
    }
    return 0;
}

static int null_key(const struct gl_value *row, size_t nkey)
{
    size_t i;

    for (i = 0; i < nkey; i++)
        if (row[i].type == GL_NULL)
            return 1;
    return 0;
}

int gl_diff_run(const struct gl_diff_side *src, const struct gl_diff_side *dst,
                const struct gl_diff_opts *o, struct gl_diff_result *res,
                struct gl_err *err)
{
    struct side A, B;
    struct gl_canon_opts co;
    struct gl_buf ea = GL_BUF_INIT, eb = GL_BUF_INIT, kenc = GL_BUF_INIT;
    enum gl_canon_class *cls = NULL;
    int *rtrim = NULL, *changed = NULL;
    const char **names = NULL;
    struct gl_value *sv = NULL, *dv = NULL, *unrep = NULL;
    const struct gl_value *arow;
    double t0 = gl_clock_mono();
    size_t i;
    int rc, failed = 0;

    memset(res, 0, sizeof(*res));
    memset(&A, 0, sizeof(A));
    memset(&B, 0, sizeof(B));
    A.s = src;
    B.s = dst;
    co.float_digits = o->float_digits > 0 ? o->float_digits : 15;
    co.time_unit = o->time_unit > 0 ? o->time_unit : 1;
    co.rtrim = o->rtrim;
    cls = calloc(o->ncols + 1, sizeof(*cls));
    rtrim = calloc(o->ncols + 1, sizeof(*rtrim));
    changed = calloc(o->ncols + 1, sizeof(*changed));
    names = calloc(o->ncols + 1, sizeof(*names));
    sv = calloc(o->ncols + 1, sizeof(*sv));
    dv = calloc(o->ncols + 1, sizeof(*dv));
    unrep = calloc(o->nkey + o->ncols + 1, sizeof(*unrep));
    if (!cls || !rtrim || !changed || !names || !sv || !dv || !unrep) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < o->ncols; i++)
        rtrim[i] = o->rtrim ||
                   (src->col_decl && is_char_padded(src->col_decl[i])) ||
                   (dst->col_decl && is_char_padded(dst->col_decl[i]));
    A.pk = calloc(o->nkey + 1, sizeof(*A.pk));
    B.pk = calloc(o->nkey + 1, sizeof(*B.pk));
    if (!A.pk || !B.pk) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = open_side(&A, o, err)) || (rc = open_side(&B, o, err)) ||
        (rc = advance(&A, err)) || (rc = advance(&B, err)))
        goto out;
    /* the comparison class of each column, from the first rows' types
     * (refined as rows come: NULLs tell nothing) */
    for (i = 0; i < o->ncols; i++)
        cls[i] = GL_CANON_TEXT;

    while (A.row || B.row) {
        int c;

        if (o->max_diffs &&
            res->missing + res->extra + res->changed + res->duplicates >=
                o->max_diffs) {
            res->stopped = 1;
            break;
        }
        /* a NULL in a key: no key.  Each engine sorts NULLs elsewhere,
         * so such rows are taken out of the merge wherever they come,
         * and reported as what they are */
        if (A.row && A.fresh && null_key(A.row, o->nkey)) {
            res->null_keys++;
            emit(o, "null_key", "source", A.row, NULL, 0, NULL, NULL);
            if ((rc = advance(&A, err)))
                goto out;
            continue;
        }
        if (B.row && B.fresh && null_key(B.row, o->nkey)) {
            res->null_keys++;
            emit(o, "null_key", "target", B.row, NULL, 0, NULL, NULL);
            if ((rc = advance(&B, err)))
                goto out;
            continue;
        }
        if (A.row && A.fresh && (A.fresh = 0, duplicate(&A, o, &kenc))) {
            res->duplicates++;
            emit(o, "duplicate", "source", A.row, NULL, 0, NULL, NULL);
            if ((rc = advance(&A, err)))
                goto out;
            continue;
        }
        if (B.row && B.fresh && (B.fresh = 0, duplicate(&B, o, &kenc))) {
            res->duplicates++;
            emit(o, "duplicate", "target", B.row, NULL, 0, NULL, NULL);
            if ((rc = advance(&B, err)))
                goto out;
            continue;
        }
        /* a previous key that could not be kept cannot tell duplicates */
        if (gl_buf_failed(&A.prev) || gl_buf_failed(&B.prev))
            goto oom;
        c = !B.row ? -1 : !A.row ? 1 : key_cmp(A.row, B.row, o->nkey, &failed);
        if (failed)
            goto oom;
        if (c < 0) {
            res->missing++;
            emit(o, "missing", NULL, A.row, NULL, 0, NULL, NULL);
            if (o->fix_sql && fix_insert(dst, o, A.row,
                                         o->fix_sql_inserts ? o->fix_sql_inserts
                                                            : o->fix_sql))
                goto oom;
            /* the source's previous key must not match the next target
             * row: keep A's previous key, move on */
            if ((rc = advance(&A, err)))
                goto out;
            continue;
        }
        if (c > 0) {
            res->extra++;
            emit(o, "extra", NULL, B.row, NULL, 0, NULL, NULL);
            if (o->fix_sql && fix_delete(dst, o, B.row, o->fix_sql))
                goto oom;
            if ((rc = advance(&B, err)))
                goto out;
            continue;
        }
        /* a zero date or infinity the target cannot hold is NULL there,
         * when the job said so */
        arow = A.row;
        if (o->unrep_null) {
            memcpy(unrep, A.row, (o->nkey + o->ncols) * sizeof(*unrep));
            for (i = 0; i < o->ncols; i++) {
                struct gl_value *v = &unrep[o->nkey + i];
                if (o->unrep_null[i] && v->type == GL_SPECIAL &&
                    !gl_db_holds_special(
                        dst->db, v,
                        dst->col_types ? dst->col_types[o->nkey + i] : GL_NULL))
                    memset(v, 0, sizeof(*v));
            }
            arow = unrep;
        }
        /* same key: when every column holds the very same value on both
         * sides (same type, same bytes), their canonical encodings are
         * the same too: nothing to encode.  Else hash each side's
         * canonical row, compare columns only when the hashes differ. */
        for (i = 0; i < o->ncols; i++)
            if (!same_raw(&arow[o->nkey + i], &B.row[o->nkey + i]))
                break;
        if (i == o->ncols) {
            if ((rc = advance(&A, err)) || (rc = advance(&B, err)))
                goto out;
            continue;
        }
        gl_buf_reset(&ea);
        gl_buf_reset(&eb);
        for (i = 0; i < o->ncols; i++) {
            const struct gl_value *va = &arow[o->nkey + i];
            const struct gl_value *vb = &B.row[o->nkey + i];
            enum gl_vtype ta = va->type, tb = vb->type;
            cls[i] = gl_canon_class_of(ta, tb);
            if (gl_canon_append(va, cls[i], &co, rtrim[i], &ea) ||
                gl_canon_append(vb, cls[i], &co, rtrim[i], &eb)) {
                rc = gl_err_set(err, GL_ENOMEM, "out of memory");
                goto out;
            }
        }
        if (ea.len != eb.len ||
            XXH3_64bits(ea.data ? ea.data : "", ea.len) !=
                XXH3_64bits(eb.data ? eb.data : "", eb.len) ||
            (ea.len && memcmp(ea.data, eb.data, ea.len))) {
            size_t n = 0;
            struct gl_buf x = GL_BUF_INIT, y = GL_BUF_INIT;
            for (i = 0; i < o->ncols; i++) {
                gl_buf_reset(&x);
                gl_buf_reset(&y);
                gl_canon_append(&arow[o->nkey + i], cls[i], &co, rtrim[i], &x);
                gl_canon_append(&B.row[o->nkey + i], cls[i], &co, rtrim[i], &y);
                changed[i] =
                    x.len != y.len || (x.len && memcmp(x.data, y.data, x.len));
                if (changed[i]) {
                    sv[n] = arow[o->nkey + i];
                    dv[n] = B.row[o->nkey + i];
                    names[n++] = o->cols[i];
                }
            }
            failed = gl_buf_failed(&x) || gl_buf_failed(&y);
            gl_buf_release(&x);
            gl_buf_release(&y);
            if (failed)
                goto oom;
            res->changed++;
            emit(o, "changed", NULL, arow, names, n, sv, dv);
            if (o->fix_sql && n &&
                fix_update(dst, o, arow, changed, o->fix_sql))
                goto oom;
        }
        if ((rc = advance(&A, err)) || (rc = advance(&B, err)))
            goto out;
    }
    rc = GL_OK;
    goto out;
oom:
    rc = gl_err_set(err, GL_ENOMEM, "out of memory");
out:
    res->source_rows = A.rows;
    res->target_rows = B.rows;
    if (res->stopped || rc) {
        /* rows were left unread: the counts are of what was read */
    }
    if (A.c)
        src->db->drv->cursor_close(A.c);
    if (B.c)
        dst->db->drv->cursor_close(B.c);
    gl_buf_release(&A.prev);
    gl_buf_release(&B.prev);
    free(A.pk);
    free(B.pk);
    gl_buf_release(&ea);
    gl_buf_release(&eb);
    gl_buf_release(&kenc);
    free(cls);
    free(rtrim);
    free(changed);
    free(names);
    free(sv);
    free(dv);
    free(unrep);
    gl_canon_done();
    res->seconds = gl_clock_mono() - t0;
    return rc;
}

/* ---- segments ------------------------------------------------------------ */

int gl_diff_bounds(const struct gl_diff_side *src, const struct gl_diff_opts *o,
                   int n, char **bounds, struct gl_err *err)
{
    const struct gl_db_driver *d = src->db->drv;
    struct gl_buf q = GL_BUF_INIT, keys = GL_BUF_INIT;
    int64_t total = 0;
    size_t i;
    int k, rc = GL_OK;

    for (k = 0; k < n - 1; k++)
        bounds[k] = NULL;
    for (i = 0; i < o->nkey; i++) {
        if (i)
            gl_buf_adds(&keys, ", ");
        if (d->order_bytes && src->key_types &&
            is_text_type(src->key_types[i])) {
            struct gl_buf c = GL_BUF_INIT;
            d->quote_ident(kname(src, o, i), &c);
            d->order_bytes(gl_buf_str(&c), &keys);
            gl_buf_release(&c);
        } else {
            d->quote_ident(kname(src, o, i), &keys);
        }
    }
    /* one integer key: cut its range evenly (two index lookups) */
    if (o->nkey == 1 && src->key_types && src->key_types[0] == GL_INT) {
        int64_t lo = 0, hi = -1;
        gl_buf_adds(&q, "SELECT min(");
        d->quote_ident(kname(src, o, 0), &q);
        gl_buf_addf(&q, ") FROM %s", src->relation);
        if (src->where)
            gl_buf_addf(&q, " WHERE (%s)", src->where);
        if ((rc = gl_buf_check(&q, "the query", err)) ||
            (rc = gl_db_query_int(src->db, gl_buf_str(&q), &lo, err)))
            goto out;
        gl_buf_reset(&q);
        gl_buf_adds(&q, "SELECT max(");
        d->quote_ident(kname(src, o, 0), &q);
        gl_buf_addf(&q, ") FROM %s", src->relation);
        if (src->where)
            gl_buf_addf(&q, " WHERE (%s)", src->where);
        if ((rc = gl_buf_check(&q, "the query", err)) ||
            (rc = gl_db_query_int(src->db, gl_buf_str(&q), &hi, err)))
            goto out;
        for (k = 1; k < n && hi - lo > n; k++) {
            char tmp[96];
            snprintf(tmp, sizeof(tmp),
                     "[{\"t\":\"integer\",\"v\":\"%" PRId64 "\"}]",
                     lo + (hi - lo) / n * k);
            if (!(bounds[k - 1] = strdup(tmp))) {
                rc = gl_err_set(err, GL_ENOMEM, "out of memory");
                goto out;
            }
        }
        goto out;
    }
    gl_buf_addf(&q, "SELECT count(*) FROM %s", src->relation);
    if (src->where)
        gl_buf_addf(&q, " WHERE (%s)", src->where);
    if ((rc = gl_buf_check(&keys, "the key list", err)) ||
        (rc = gl_buf_check(&q, "the query", err)) ||
        (rc = gl_db_query_int(src->db, gl_buf_str(&q), &total, err)))
        goto out;
    /* the key at each n-th of the rows: one LIMITed read per boundary */
    for (k = 1; k < n && total > n; k++) {
        struct gl_cursor *c = NULL;
        const struct gl_value *row;
        json_t *arr;
        int r;

        gl_buf_reset(&q);
        gl_buf_adds(&q, "SELECT ");
        for (i = 0; i < o->nkey; i++) {
            if (i)
                gl_buf_adds(&q, ", ");
            d->quote_ident(kname(src, o, i), &q);
        }
        gl_buf_addf(&q, " FROM %s", src->relation);
        if (src->where)
            gl_buf_addf(&q, " WHERE (%s)", src->where);
        gl_buf_addf(&q, " ORDER BY %s LIMIT 1 OFFSET %" PRId64,
                    gl_buf_str(&keys), total * k / n);
        if ((rc = gl_buf_check(&q, "the query", err)) ||
            (rc = d->query(src->db, gl_buf_str(&q), &c, err)))
            goto out;
        r = d->next(c, &row, err);
        if (r == 1) {
            int bad = !(arr = json_array());
            for (i = 0; !bad && i < o->nkey; i++) {
                struct gl_buf v = GL_BUF_INIT;
                gl_value_text(&row[i], &v);
                /* a bound cut short would be another bound: none */
                bad = gl_buf_failed(&v) ||
                      json_array_append_new(
                          arr, json_pack("{s:s, s:s%}", "t",
                                         gl_vtype_name(row[i].type), "v",
                                         gl_buf_str(&v), v.len));
                gl_buf_release(&v);
            }
            bounds[k - 1] = bad ? NULL : json_dumps(arr, JSON_COMPACT);
            json_decref(arr);
            if (!bounds[k - 1])
                r = -gl_err_set(err, GL_ENOMEM, "out of memory");
        }
        d->cursor_close(c);
        if (r < 0) {
            rc = -r;
            goto out;
        }
    }
out:
    gl_buf_release(&q);
    gl_buf_release(&keys);
    return rc;
}

/* "(k1, k2) >= (v1, v2)" (or "<") in side's dialect, from a bound. */
int gl_diff_range(const struct gl_diff_side *side, const struct gl_diff_opts *o,
                  const char *bound, const char *op, struct gl_buf *out)
{
    const struct gl_db_driver *d = side->db->drv;
    json_error_t je;
    json_t *arr = json_loads(bound, 0, &je);
    size_t i;

    if (!arr || json_array_size(arr) != o->nkey) {
        json_decref(arr);
        return -1;
    }
    gl_buf_adds(out, o->nkey > 1 ? "(" : "");
    for (i = 0; i < o->nkey; i++) {
        struct gl_buf c = GL_BUF_INIT;
        if (i)
            gl_buf_adds(out, ", ");
        d->quote_ident(kname(side, o, i), &c);
        if (d->order_bytes && side->key_types &&
            is_text_type(side->key_types[i]))
            d->order_bytes(gl_buf_str(&c), out);
        else
            gl_buf_adds(out, gl_buf_str(&c));
        if (gl_buf_failed(&c))
            gl_buf_fail(out, gl_buf_failed(&c));
        gl_buf_release(&c);
    }
    gl_buf_addf(out, "%s %s %s", o->nkey > 1 ? ")" : "", op,
                o->nkey > 1 ? "(" : "");
    for (i = 0; i < o->nkey; i++) {
        json_t *e = json_array_get(arr, i);
        const char *t = json_string_value(json_object_get(e, "t"));
        const char *s = json_string_value(json_object_get(e, "v"));
        struct gl_value v = {GL_TEXT, 0, 0, NULL, 0};
        int zoned;
        if (i)
            gl_buf_adds(out, ", ");
        v.s = s ? s : "";
        v.len = strlen(v.s);
        /* integers stay numbers; the rest are literals of their text */
        if (t && !strcmp(t, "integer")) {
            v.type = GL_INT;
            v.i = strtoll(v.s, NULL, 10);
        } else if (t &&
                   (!strcmp(t, "timestamp") || !strcmp(t, "timestamptz")) &&
                   !gl_parse_timestamp(v.s, v.len, &v.i, &zoned)) {
            v.type = !strcmp(t, "timestamp") ? GL_TIMESTAMP : GL_TIMESTAMPTZ;
        } else if (t && !strcmp(t, "numeric")) {
            v.type = GL_NUMERIC;
        }
        d->quote_value(side->db, &v, out);
    }
    gl_buf_adds(out, o->nkey > 1 ? ")" : "");
    json_decref(arr);
    return gl_buf_failed(out) ? -1 : 0;
}
