/*
 * batch.c - loading a sync batch: rows stream into the target under a
 * savepoint while the source is read; a batch the target refuses is
 * halved under savepoints until the refused rows are single (rejects);
 * the batch commits with its checkpoint and its rejects.
 */
#include <stdlib.h>
#include <string.h>

#include "sync/sync-internal.h"
#include "util/clock.h"
#include "util/crashpoint.h"

static int open_batch(struct job *J);
static void stream_row(struct job *J, const struct row *r);

static int copy_value(struct gl_arena *a, const struct gl_value *in,
                      struct gl_value *out)
{
    *out = *in;
    if (in->type == GL_TEXT || in->type == GL_NUMERIC || in->type == GL_BYTES ||
        in->type == GL_SPECIAL) {
        char *s = gl_arena_alloc_raw(a, in->len + 1);
        if (!s)
            return -1;
        memcpy(s, in->s, in->len);
        s[in->len] = '\0';
        out->s = s;
    }
    return 0;
}

static int64_t value_bytes(const struct gl_value *v)
{
    switch (v->type) {
    case GL_NULL:
        return 0;
    case GL_TEXT:
    case GL_NUMERIC:
    case GL_BYTES:
    case GL_SPECIAL:
        return (int64_t)v->len;
    default:
        return 8;
    }
}

/* The CASE of the boundary as the source's driver returns it: an integer,
 * or its decimal text.  Anything else counts as the boundary: its rows
 * are only inserted when missing, never overwritten. */
static int boundary_flag(const struct gl_value *v)
{
    switch (v->type) {
    case GL_INT:
    case GL_BOOL:
        return v->i != 0;
    case GL_NUMERIC:
    case GL_TEXT:
        return !(v->len == 1 && v->s[0] == '0');
    case GL_FLOAT:
        return v->f != 0;
    default:
        return 1;
    }
}

/* Take one source row into the batch, and into the open load. */
int sync_add_row(struct job *J, const struct gl_value *src)
{
    struct row *r;
    size_t i;

    if (J->nrows == J->cap) {
        size_t cap = J->cap ? J->cap * 2 : 1024;
        struct row *v = realloc(J->rows, cap * sizeof(*v));
        if (!v)
            return -1;
        J->rows = v;
        J->cap = cap;
    }
    r = &J->rows[J->nrows];
    memset(r, 0, sizeof(*r));
    r->src = gl_arena_alloc_raw(&J->arena, J->nsel * sizeof(*r->src));
    r->dst = gl_arena_alloc_raw(&J->arena, J->ncols * sizeof(*r->dst));
    if (!r->src || !r->dst)
        return -1;
    for (i = 0; i < J->nsel; i++) {
        if (copy_value(&J->arena, &src[i], &r->src[i]))
            return -1;
        J->res->bytes += value_bytes(&src[i]);
    }
    /* the boundary flag follows the SELECT list (see sync_stream) */
    if (J->boundary.len)
        r->boundary = boundary_flag(&src[J->nsel]);
    J->nrows++;
    J->res->read++;
    if (sync_transform(J, r))
        return -1;
    /* never overwrite a row whose watermark is not above W as the target
     * compares it, whatever the source's comparison said */
    if (J->boundary.len && !r->boundary && !r->reject &&
        sync_at_boundary(J, &r->dst[J->wm_col]))
        r->boundary = 1;
    if (open_batch(J))
        return -2;
    stream_row(J, r);
    return 0;
}

static int load_open(struct job *J, struct gl_loader **l)
{
    struct gl_load_opts lo;
    size_t i;

    memset(&lo, 0, sizeof(lo));
    lo.table = J->j->to.table;
    lo.cols = J->tnames;
    lo.ncols = J->ncols;
    lo.upsert =
        J->j->mode == GL_SYNC_UPSERT || J->j->mode == GL_SYNC_INCREMENTAL;
    for (i = 0; i < J->nkey && i < 64; i++)
        J->keynames[i] = J->t.cols[J->key_tcol[i]].name;
    lo.key = J->keynames;
    lo.nkey = J->nkey < 64 ? J->nkey : 64;
    return J->dst->drv->load_begin(J->dst, &lo, l, J->err);
}

static int load_rows(struct job *J, size_t from, size_t to)
{
    const struct gl_db_driver *d = J->dst->drv;
    struct gl_loader *l = NULL;
    size_t i;
    int rc;

    if ((rc = load_open(J, &l)))
        return rc;
    for (i = from; i < to; i++) {
        if (J->rows[i].reject || J->rows[i].kept)
            continue;
        if ((rc = d->load_row(l, J->rows[i].dst, J->err)))
            break;
    }
    if (!rc)
        rc = d->load_finish(l, J->err);
    d->load_close(l);
    return rc;
}

/* Whether the target holds r's key: 1 yes, 0 no (or a NULL in the key:
 * the row is a reject anyway), -1 not known (err says why when given). */
static int key_lookup(struct job *J, const struct row *r, struct gl_err *err)
{
    const struct gl_db_driver *d = J->dst->drv;
    struct gl_buf q = GL_BUF_INIT;
    int64_t n = 0;
    size_t k, c;
    int rc = 0;

    gl_buf_adds(&q, "SELECT count(*) FROM ");
    d->quote_ident(J->j->to.table, &q);
    for (k = 0; k < J->nkey; k++) {
        for (c = 0; c < J->ncols && J->cols[c].tcol != J->key_tcol[k]; c++)
            ;
        if (c == J->ncols || r->dst[c].type == GL_NULL) {
            gl_buf_release(&q);
            return 0;
        }
        gl_buf_adds(&q, k ? " AND " : " WHERE ");
        d->quote_ident(J->t.cols[J->key_tcol[k]].name, &q);
        gl_buf_adds(&q, " = ");
        if (d->quote_value(J->dst, &r->dst[c], &q)) {
            gl_err_set(err, GL_EIO, "cannot write key column '%s' as a literal",
                       J->t.cols[J->key_tcol[k]].name);
            rc = -1;
            break;
        }
    }
    if (!rc && gl_buf_check(&q, "a statement", err))
        rc = -1;
    if (!rc && gl_db_query_int(J->dst, gl_buf_str(&q), &n, err))
        rc = -1;
    gl_buf_release(&q);
    return rc ? rc : n > 0;
}

/* Whether the target holds r's key already: an append job loaded again
 * (--restart) meets the rows of the earlier execution.  Not known: the
 * database's error stands. */
static int key_in_target(struct job *J, const struct row *r)
{
    return key_lookup(J, r, NULL) == 1;
}

/* Load rows [from, to) under a savepoint; on failure halve until the bad
 * rows are single, and mark those rejects with the database's error. */
static int load_range(struct job *J, size_t from, size_t to)
{
    const struct gl_db_driver *d = J->dst->drv;
    size_t i, live = 0, mid;
    int rc;

    for (i = from; i < to; i++)
        live += !J->rows[i].reject && !J->rows[i].kept;
    if (!live)
        return GL_OK;
    if (d->exec(J->dst, "SAVEPOINT golive_batch", J->err))
        return sync_failed_with(J);
    rc = load_rows(J, from, to);
    if (!rc) {
        if (d->exec(J->dst, "RELEASE SAVEPOINT golive_batch", J->err))
            return sync_failed_with(J);
        return GL_OK;
    }
    if (rc == GL_ENOMEM)
        return sync_failed_with(J);
    if (d->exec(J->dst, "ROLLBACK TO SAVEPOINT golive_batch", NULL) ||
        d->exec(J->dst, "RELEASE SAVEPOINT golive_batch", NULL))
        /* the connection is gone: not a row error */
        return sync_failed_with(J);
    if (live == 1) {
        for (i = from; i < to; i++)
            if (!J->rows[i].reject && !J->rows[i].kept) {
                const char *why = J->err ? J->err->msg : "";
                char *dup = NULL;
                if (J->dup_check && key_in_target(J, &J->rows[i])) {
                    struct gl_buf b = GL_BUF_INIT;
                    gl_buf_addf(&b,
                                "duplicates a row an earlier execution "
                                "loaded (its key is in the target): %s",
                                why);
                    if (gl_buf_failed(&b))
                        return sync_fail(J, GL_ENOMEM, "out of memory");
                    dup = gl_arena_strdup(&J->arena, gl_buf_str(&b));
                    gl_buf_release(&b);
                    J->dups++;
                }
                J->rows[i].reject = dup ? dup : gl_arena_strdup(&J->arena, why);
                if (!J->rows[i].reject)
                    return sync_fail(J, GL_ENOMEM, "out of memory");
            }
        return GL_OK;
    }
    mid = from + (to - from) / 2;
    if ((rc = load_range(J, from, mid)))
        return rc;
    return load_range(J, mid, to);
}

int sync_limit_passed(struct job *J)
{
    int64_t rej = sync_rejected_total(J);

    if (J->j->error_limit_pct) {
        int64_t total = J->res->total > 0 ? J->res->total : 0;
        return rej * 100 > J->j->error_limit * total;
    }
    return rej > J->j->error_limit;
}

/* Incremental: a row at the watermark (the boundary) whose key the target
 * holds already stays as the target has it (the new system may have
 * changed it since it was loaded); only the missing ones are inserted.
 * Asked inside the batch's transaction, before anything is loaded. */
static int keep_boundary_rows(struct job *J)
{
    size_t i;

    for (i = 0; i < J->nrows; i++) {
        struct row *r = &J->rows[i];
        if (!r->boundary || r->reject)
            continue;
        switch (key_lookup(J, r, J->err)) {
        case 1:
            r->kept = 1;
            break;
        case 0:
            break;
        default: /* not known: an upsert might overwrite the new system's */
            return sync_failed_with(J);
        }
    }
    return GL_OK;
}

/* Open the batch's transaction: empty a fresh truncate target, then start
 * the bulk load under a savepoint, so that rows stream to the target while
 * the source is still being read. */
static int open_batch(struct job *J)
{
    const struct gl_db_driver *d = J->dst->drv;
    struct gl_buf q = GL_BUF_INIT;
    int rc;

    if (J->open)
        return GL_OK;
    if (d->begin(J->dst, J->err))
        return sync_failed_with(J);
    J->open = 1;
    if (J->fresh && J->j->mode == GL_SYNC_TRUNCATE) {
        gl_buf_adds(&q, "DELETE FROM ");
        d->quote_ident(J->j->to.table, &q);
        if ((rc = sync_buf_check(J, &q))) {
            gl_buf_release(&q);
            return rc;
        }
        rc = d->exec(J->dst, gl_buf_str(&q), J->err);
        gl_buf_release(&q);
        if (rc)
            return sync_failed_with(J);
    }
    J->fresh = 0;
    if (d->exec(J->dst, "SAVEPOINT golive_batch", J->err))
        return sync_failed_with(J);
    /* boundary rows are sorted out before the load: not streamed */
    J->streaming = !J->boundary.len;
    if (J->streaming && load_open(J, &J->loader))
        J->streaming = 0; /* the batch is loaded again, row by row */
    return GL_OK;
}

/* A row joins the batch's stream (the batch is open). */
static void stream_row(struct job *J, const struct row *r)
{
    if (!J->streaming || r->reject)
        return;
    if (J->dst->drv->load_row(J->loader, r->dst, J->err))
        J->streaming = 0; /* halving finds the row later */
}

/* Commit the batch: rows, rejects, checkpoint, in one transaction. */
int sync_flush_batch(struct job *J, int last)
{
    const struct gl_db_driver *d = J->dst->drv;
    int64_t written = 0, rejected = 0, kept = 0;
    size_t i, nloaded = J->nloaded;
    int rc;

    if (!J->nrows && !J->fresh && !last && !J->open)
        return GL_OK;
    J->batch_no++;
    if ((rc = open_batch(J)))
        goto fail;
    if (J->streaming && (rc = d->load_finish(J->loader, J->err)))
        J->streaming = 0;
    if (J->loader) {
        d->load_close(J->loader);
        J->loader = NULL;
    }
    if (J->streaming) {
        if (d->exec(J->dst, "RELEASE SAVEPOINT golive_batch", J->err)) {
            rc = sync_failed_with(J);
            goto fail;
        }
    } else {
        /* something in the batch was refused: back to the savepoint, then
         * halve until the refused rows are found */
        if (d->exec(J->dst, "ROLLBACK TO SAVEPOINT golive_batch", J->err) ||
            d->exec(J->dst, "RELEASE SAVEPOINT golive_batch", J->err)) {
            rc = sync_failed_with(J);
            goto fail;
        }
        if (J->boundary.len && (rc = keep_boundary_rows(J)))
            goto fail;
        if ((rc = load_range(J, 0, J->nrows)))
            goto fail;
    }
    rc = GL_OK;
    gl_crashpoint();
    gl_pausepoint("sync.batch.loaded");
    if (gl_faultpoint("sync.batch.loaded")) {
        rc = sync_fail(J, GL_EIO,
                       "the target's connection was lost (test fault)");
        goto fail;
    }
    for (i = 0; i < J->nrows; i++) {
        if (J->rows[i].kept) {
            kept++;
            continue;
        }
        if (J->rows[i].reject) {
            /* a retried row that still fails keeps its line */
            if (J->rejects)
                sync_write_reject(J, &J->rows[i]);
            rejected++;
        } else {
            if (J->o->retry_rejects && sync_note_loaded(J, &J->rows[i])) {
                rc = sync_fail(J, GL_ENOMEM, "out of memory");
                goto fail;
            }
            written++;
        }
    }
    if ((rc = sync_rejects_pending(J)))
        goto fail;
    /* counted as the checkpoint will say; taken back below when the
     * batch does not commit (its rows are neither written nor rejected:
     * a resumed job reads them again) */
    J->res->written += written;
    J->res->rejected += rejected;
    if (J->nrows) {
        char *key = sync_key_json(J, &J->rows[J->nrows - 1]);
        if (!key) {
            J->res->written -= written;
            J->res->rejected -= rejected;
            rc = sync_fail(J, GL_ENOMEM, "out of memory");
            goto fail;
        }
        free(J->last_key);
        J->last_key = key;
    }
    if ((rc = sync_write_checkpoint(J, last))) {
        J->res->written -= written;
        J->res->rejected -= rejected;
        goto fail;
    }
    gl_crashpoint();
    if (d->commit(J->dst, J->err)) {
        rc = sync_failed_with(J);
        J->open = 0;
        J->res->written -= written;
        J->res->rejected -= rejected;
        goto fail;
    }
    J->open = 0;
    J->kept += kept;
    gl_crashpoint();
    gl_pausepoint("sync.batch.committed");
    J->nrows = 0;
    if ((rc = sync_rejects_commit(J)))
        return rc;
    if (J->o->retry_rejects && (rc = sync_drop_loaded(J)))
        return rc;
    gl_arena_reset(&J->arena);
    if (J->o->progress) {
        struct gl_sync_progress pr;
        pr.job = J->j->id.id;
        pr.read = J->base_read + J->res->read;
        pr.written = J->base_written + J->res->written;
        pr.rejected = sync_rejected_total(J);
        pr.total = J->res->total;
        pr.seconds = gl_clock_mono() - J->t0;
        J->o->progress(J->o->progress_ctx, &pr);
    }
    return GL_OK;
fail:
    if (J->loader) {
        d->load_close(J->loader);
        J->loader = NULL;
    }
    d->rollback(J->dst);
    J->open = 0;
    while (J->nloaded > nloaded)
        free(J->loaded[--J->nloaded]);
    gl_buf_reset(&J->inflight);
    /* the rows of this batch were not written: they are read again by a
     * resumed job */
    J->res->read -= (int64_t)J->nrows;
    return rc;
}
