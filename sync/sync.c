/*
 * sync.c - the sync engine (see golive/sync.h): one execution of a job.
 *
 * One job: build the source SELECT (key expressions first, then one
 * expression per filled target column), stream it in key order, transform
 * each row (value maps, constants, defaults, type fitting), and load
 * batches.  Each batch is one target transaction holding the rows and the
 * updated checkpoint; rows a batch cannot take are found by halving it
 * under savepoints.  This file holds the execution: prepare (the job's
 * lock, the preflight), clear, run (checkpoint, resume, retry, the error
 * limit, constraints); sync-internal.h lists the other parts.
 */
#include "golive/sync.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sync/sync-internal.h"
#include "util/clock.h"

#define DEFAULT_BATCH 10000

/* who holds each job's lock, for the message that refuses another */
#define LOCK_TABLE "golive_lock"

#define LOCK_DDL                                                               \
    "CREATE TABLE IF NOT EXISTS " LOCK_TABLE                                   \
    " (job VARCHAR(200) NOT NULL PRIMARY KEY, holder VARCHAR(400) NOT NULL,"   \
    " since VARCHAR(40) NOT NULL)"

int sync_fail(struct job *J, int code, const char *fmt, ...)
{
    va_list ap;
    char msg[1024];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(J->res->error, sizeof(J->res->error), "%s", msg);
    return gl_err_set(J->err, code, "sync job '%s': %s", J->j->id.id, msg);
}

/* The job failed with err already set by a lower layer. */
int sync_failed_with(struct job *J)
{
    snprintf(J->res->error, sizeof(J->res->error), "%s",
             J->err && J->err->msg[0] ? J->err->msg : "failed");
    return J->err ? J->err->code : GL_EIO;
}

int sync_buf_check(struct job *J, const struct gl_buf *b)
{
    struct gl_err e;

    if (!gl_buf_failed(b))
        return GL_OK;
    gl_err_clear(&e);
    gl_buf_check(b, "a statement", &e);
    return sync_fail(J, e.code, "%s", e.msg);
}

static const struct gl_system *system_of(const struct gl_plan *p,
                                         const char *name)
{
    return gl_plan_system(p, name);
}

static int open_system(struct job *J, const char *name, struct gl_db **db)
{
    const struct gl_system *s = system_of(J->p, name);

    if (!s || !s->url)
        return sync_fail(J, GL_EUSAGE, "system '%s' is not in the plan", name);
    if (gl_db_open(s->url, J->p->dir, db, J->err))
        return sync_failed_with(J);
    return GL_OK;
}

static enum gl_engine engine_of(const struct gl_db *db)
{
    if (!strcmp(db->drv->name, "postgres"))
        return GL_ENGINE_POSTGRES;
    if (!strcmp(db->drv->name, "mysql"))
        return GL_ENGINE_MYSQL;
    return GL_ENGINE_SQLITE;
}

/* An execution's id: its UTC start to the microsecond and the process,
 * so that ids sort by time (the rejects file relies on it). */
static void execution_id(char *out, size_t n)
{
    struct timespec ts;
    struct tm tm;
    char at[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(at, sizeof(at), "%Y%m%dT%H%M%S", &tm);
    snprintf(out, n, "%.15s.%06dZ-%ld", at, (int)(ts.tv_nsec / 1000 % 1000000),
             (long)getpid());
}

static void release(struct job *J)
{
    if (J->loader)
        J->dst->drv->load_close(J->loader);
    if (J->open)
        J->dst->drv->rollback(J->dst);
    if (J->rejects)
        fclose(J->rejects);
    if (J->pending) {
        /* nothing waits: the last batch committed or never will */
        char pend[4300];
        int empty = !J->inflight.len && ftell(J->pending) == J->pending_head;
        fclose(J->pending);
        snprintf(pend, sizeof(pend), "%s.pending", J->res->rejects_file);
        if (empty)
            unlink(pend);
    }
    gl_buf_release(&J->inflight);
    while (J->nloaded)
        free(J->loaded[--J->nloaded]);
    free(J->loaded);
    gl_arena_release(&J->arena);
    free(J->rows);
    free(J->cols);
    free(J->tnames);
    free(J->sel_names);
    free(J->key_tcol);
    free(J->last_key);
    free(J->watermark);
    free(J->wm_text);
    gl_buf_release(&J->from);
    gl_buf_release(&J->where);
    gl_buf_release(&J->order);
    gl_buf_release(&J->list);
    gl_buf_release(&J->boundary);
    gl_table_desc_release(&J->t);
    gl_db_close(J->src);
    gl_db_close(J->dst);
}

struct gl_sync_exec {
    struct job J;
};

static void init_job(struct job *J, const struct gl_plan *p,
                     const struct gl_sync_job *j, const struct gl_sync_opts *o,
                     struct gl_sync_result *res, struct gl_err *err)
{
    memset(J, 0, sizeof(*J));
    J->p = p;
    J->j = j;
    J->o = o;
    J->res = res;
    J->err = err;
    J->t0 = gl_clock_mono();
    J->arena.limit = 0;
    J->arena.block = (size_t)1 << 20; /* a batch lives in a few blocks */
    J->batch_size = o->batch_size > 0   ? o->batch_size
                    : j->batch_size > 0 ? j->batch_size
                                        : DEFAULT_BATCH;
}

/* The result of an execution starts over; fresh: the execution gets its
 * id (gl_sync_prepare), else it keeps the one its preparation gave it.
 * Its id begins the chain of executions its checkpoint names (--resume
 * and --retry-rejects go on with the checkpoint's). */
static void start_result(struct job *J, int fresh)
{
    struct gl_sync_result *res = J->res;

    memset(res, 0, sizeof(*res));
    snprintf(res->job, sizeof(res->job), "%s", J->j->id.id);
    snprintf(res->mode, sizeof(res->mode), "%s",
             J->o->retry_rejects ? "retry-rejects" : "load");
    gl_clock_now(&res->started);
    if (fresh || !J->execution[0])
        execution_id(J->execution, sizeof(J->execution));
    snprintf(res->execution, sizeof(res->execution), "%s", J->execution);
    snprintf(J->token, sizeof(J->token), "%s", J->execution);
}

/* Who holds the job's lock, as its holder wrote it into golive_lock. */
static void lock_holder(struct job *J, char *out, size_t n)
{
    struct gl_buf q = GL_BUF_INIT;
    struct gl_cursor *c = NULL;
    const struct gl_value *row;

    snprintf(out, n, "another execution");
    gl_buf_adds(&q, "SELECT holder, since FROM " LOCK_TABLE " WHERE job = ");
    sync_quote_text(J, J->dst, J->j->id.id, &q);
    if (!gl_buf_failed(&q) &&
        !J->dst->drv->query(J->dst, gl_buf_str(&q), &c, NULL)) {
        if (J->dst->drv->next(c, &row, NULL) == 1 && row[0].type == GL_TEXT &&
            row[1].type == GL_TEXT)
            snprintf(out, n, "%.*s since %.*s", (int)row[0].len, row[0].s,
                     (int)row[1].len, row[1].s);
        J->dst->drv->cursor_close(c);
    }
    gl_buf_release(&q);
}

/* One execution of a job at a time: its lock lives with the target (see
 * the driver's lock), held until the execution ends; then the holder is
 * written down for whoever is refused. */
static int job_lock(struct job *J)
{
    const struct gl_db_driver *d = J->dst->drv;
    struct gl_buf q = GL_BUF_INIT;
    char name[256], host[256], at[40], holder[600];
    struct gl_err e2;
    int rc;

    if (!d->lock)
        return GL_OK;
    snprintf(name, sizeof(name), "sync-%.200s", J->j->id.id);
    gl_err_clear(&e2);
    if ((rc = d->lock(J->dst, name, &e2))) {
        if (rc != GL_EREFUSED)
            return sync_fail(J, rc, "cannot take the job's lock: %s", e2.msg);
        lock_holder(J, holder, sizeof(holder));
        J->res->locked_out = 1;
        return sync_fail(
            J, GL_EREFUSED,
            "the job is running already (%s, on '%s'); wait for it "
            "to end: two executions at once lose rows",
            holder, J->dst->label);
    }
    memset(host, 0, sizeof(host));
    if (gethostname(host, sizeof(host) - 1))
        snprintf(host, sizeof(host), "?");
    gl_clock_now_iso(at);
    snprintf(holder, sizeof(holder), "pid %d on host '%.200s'", (int)getpid(),
             host);
    if ((rc = d->exec(J->dst, LOCK_DDL, J->err)) ||
        (rc = d->begin(J->dst, J->err)))
        return sync_failed_with(J);
    gl_buf_adds(&q, "DELETE FROM " LOCK_TABLE " WHERE job = ");
    sync_quote_text(J, J->dst, J->j->id.id, &q);
    if (!(rc = sync_buf_check(J, &q)))
        rc = d->exec(J->dst, gl_buf_str(&q), J->err);
    gl_buf_reset(&q);
    gl_buf_adds(&q, "INSERT INTO " LOCK_TABLE " (job, holder, since) VALUES (");
    sync_quote_text(J, J->dst, J->j->id.id, &q);
    gl_buf_adds(&q, ", ");
    sync_quote_text(J, J->dst, holder, &q);
    gl_buf_adds(&q, ", ");
    sync_quote_text(J, J->dst, at, &q);
    gl_buf_adds(&q, ")");
    if (!rc && !(rc = sync_buf_check(J, &q)))
        rc = d->exec(J->dst, gl_buf_str(&q), J->err);
    gl_buf_release(&q);
    if (!rc)
        rc = d->commit(J->dst, J->err);
    if (rc) {
        d->rollback(J->dst);
        return sync_failed_with(J);
    }
    return GL_OK;
}

int gl_sync_prepare(const struct gl_plan *p, const struct gl_sync_job *j,
                    const struct gl_sync_opts *o, gl_sync_exec **out,
                    struct gl_sync_result *res, struct gl_err *err)
{
    gl_sync_exec *x = calloc(1, sizeof(*x));
    struct job *J;
    int rc;

    *out = NULL;
    if (!x) {
        memset(res, 0, sizeof(*res));
        snprintf(res->job, sizeof(res->job), "%s", j->id.id);
        snprintf(res->error, sizeof(res->error), "out of memory");
        res->failed = 1;
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    J = &x->J;
    init_job(J, p, j, o, res, err);
    start_result(J, 1);
    if ((rc = open_system(J, j->to.system.id, &J->dst)) ||
        (rc = open_system(J, j->from.system.id, &J->src)))
        goto out;
    J->teng = engine_of(J->dst);
    if ((rc = job_lock(J)))
        goto out;
    if (J->dst->drv->describe(J->dst, j->to.table, &J->t, err)) {
        rc = sync_failed_with(J);
        goto out;
    }
    if ((rc = sync_build_plan(J)))
        goto out;
    sync_and_cond(&J->where, j->where);
    if ((rc = sync_preflight(J)))
        goto out;
    /* the load opens its own: a source lost meanwhile fails the job */
    gl_db_close(J->src);
    J->src = NULL;
out:
    if (rc) {
        res->failed = 1;
        if (!res->error[0])
            snprintf(res->error, sizeof(res->error), "%s",
                     err && err->msg[0] ? err->msg : "failed");
        res->seconds = gl_clock_mono() - J->t0;
        gl_clock_now(&res->ended);
        gl_sync_exec_free(x);
        return rc;
    }
    *out = x;
    return GL_OK;
}

int gl_sync_exec_clear(gl_sync_exec *x, struct gl_err *err)
{
    struct job *J = &x->J;
    const struct gl_db_driver *d = J->dst->drv;
    struct gl_buf q = GL_BUF_INIT;
    int rc;

    J->err = err;
    if ((rc = sync_checkpoint_table(J)))
        return rc;
    if (d->begin(J->dst, err))
        return sync_failed_with(J);
    gl_buf_adds(&q, "DELETE FROM ");
    d->quote_ident(J->j->to.table, &q);
    if (!(rc = sync_buf_check(J, &q)))
        rc = d->exec(J->dst, gl_buf_str(&q), err);
    gl_buf_release(&q);
    /* emptied, nothing loaded: the checkpoint says the job has not
     * finished (--resume loads it from the start) */
    J->batch_no = 0;
    if (rc || (rc = sync_write_checkpoint(J, 0)) ||
        (rc = d->commit(J->dst, err))) {
        d->rollback(J->dst);
        return err && err->code ? err->code : GL_EIO;
    }
    return GL_OK;
}

void gl_sync_exec_free(gl_sync_exec *x)
{
    if (!x)
        return;
    release(&x->J); /* closing the target lets the job's lock go */
    free(x);
}

int gl_sync_run(const struct gl_plan *p, const struct gl_sync_job *j,
                const struct gl_sync_opts *o, struct gl_sync_result *res,
                struct gl_err *err)
{
    gl_sync_exec *x = NULL;
    int rc;

    if ((rc = gl_sync_prepare(p, j, o, &x, res, err)))
        return rc;
    rc = gl_sync_exec_run(x, res, err);
    gl_sync_exec_free(x);
    return rc;
}

int gl_sync_exec_run(gl_sync_exec *x, struct gl_sync_result *res,
                     struct gl_err *err)
{
    struct job *J = &x->J;
    const struct gl_sync_job *j = J->j;
    const struct gl_sync_opts *o = J->o;
    struct checkpoint cp;
    struct gl_buf resume = GL_BUF_INIT, wm = GL_BUF_INIT;
    int rc;
    size_t i;

    memset(&cp, 0, sizeof(cp));
    J->res = res;
    J->err = err;
    J->t0 = gl_clock_mono();
    start_result(J, 0);
    /* recorded from its start, before it reads or writes a row; when it
     * cannot be recorded it does not run */
    if (o->started && (rc = o->started(o->progress_ctx, res, err))) {
        snprintf(res->error, sizeof(res->error), "%s", err->msg);
        res->failed = 1;
        gl_clock_now(&res->ended);
        return rc;
    }
    if ((rc = open_system(J, j->from.system.id, &J->src)) ||
        (rc = sync_checkpoint_table(J)) || (rc = sync_read_checkpoint(J, &cp)))
        goto out;

    if (o->retry_rejects) {
        if (!cp.found || !cp.done) {
            rc = sync_fail(
                J, GL_EREFUSED,
                "the job has not finished; finish it (or --resume it) "
                "before retrying its rejects");
            goto out;
        }
        if (cp.token[0])
            snprintf(J->token, sizeof(J->token), "%s", cp.token);
        J->batch_no = cp.batch;
        J->last_key = cp.last_key;
        cp.last_key = NULL;
        J->watermark = cp.watermark;
        cp.watermark = NULL;
        J->base_read = cp.read;
        J->base_written = cp.written;
        J->base_rejected = cp.rejected;
        J->base_bytes = cp.bytes;
        res->total = cp.read;
        rc = sync_retry_rejects(J);
        goto finish;
    }

    if (cp.found && !cp.done && o->resume) {
        res->resumed = 1;
        snprintf(res->mode, sizeof(res->mode), "resume");
        J->batch_no = cp.batch;
        J->last_key = cp.last_key;
        cp.last_key = NULL;
        J->watermark = cp.watermark;
        cp.watermark = NULL;
        J->base_read = cp.read;
        J->base_written = cp.written;
        J->base_rejected = cp.rejected;
        J->base_bytes = cp.bytes;
        res->skipped = cp.read;
        if (J->last_key && sync_after_key(J, J->last_key, &resume)) {
            rc = sync_fail(J, GL_EIO, "the checkpoint's key %s is unreadable",
                           J->last_key);
            goto out;
        }
        /* the same chain of executions goes on */
        if (cp.token[0])
            snprintf(J->token, sizeof(J->token), "%s", cp.token);
        if ((rc = sync_open_rejects(J, &cp)))
            goto out;
    } else if (cp.found && cp.done && o->resume) {
        /* finished already: nothing left to load */
        res->resumed = 1;
        snprintf(res->mode, sizeof(res->mode), "resume");
        res->skipped = cp.read;
        res->total = cp.read;
        goto finish_noop;
    } else {
        if (cp.found && !cp.done && !o->restart &&
            (j->mode == GL_SYNC_APPEND || j->mode == GL_SYNC_INCREMENTAL)) {
            rc = sync_fail(J, GL_EREFUSED,
                           "an earlier execution stopped after batch %" PRId64
                           " (%" PRId64 " rows); continue it with --resume, or "
                           "start over with --restart",
                           cp.batch, cp.written);
            goto out;
        }
        if (cp.found && cp.done && !o->restart && j->mode == GL_SYNC_APPEND) {
            /* loading again would only duplicate what it loaded */
            snprintf(res->mode, sizeof(res->mode), "none");
            res->skipped = cp.read;
            res->total = cp.read;
            snprintf(res->note, sizeof(res->note),
                     "completed already (%" PRId64 " rows written, at %s): "
                     "nothing loaded; --restart loads every row again",
                     cp.written, cp.updated);
            goto finish_noop;
        }
        /* an append job loaded again meets the rows loaded before */
        J->dup_check = cp.found && j->mode == GL_SYNC_APPEND;
        J->fresh = 1;
        if ((rc = sync_open_rejects(J, &cp)))
            goto out;
    }
    /* --restart reads from the beginning, and so does its --resume (its
     * checkpoint keeps no watermark): a watermark taken from the target
     * would hide every change dated before rows dated in the future */
    if (j->mode == GL_SYNC_INCREMENTAL && !o->restart &&
        !(res->resumed && !J->watermark)) {
        if ((rc = sync_watermark_filter(J, &wm)))
            goto out;
        sync_and_cond(&J->where, gl_buf_str(&wm));
    }
    if ((rc = sync_buf_check(J, &J->where)) ||
        (rc = sync_count_source(J, gl_buf_str(&J->where))))
        goto out;
    if (j->disable_constraints) {
        /* SQLite checks no foreign keys by default: nothing to turn off,
         * but the rows are checked after the load all the same */
        if (J->dst->drv->constraints &&
            J->dst->drv->constraints(J->dst, j->to.table, 0, err)) {
            rc = sync_failed_with(J);
            goto out;
        }
        J->constraints_off = 1;
    }
    rc = sync_stream(J, gl_buf_str(&resume));
finish:
    if (!rc) {
        /* move identity counters past the loaded ids */
        for (i = 0; i < J->t.ncols && J->dst->drv->reset_identity; i++) {
            if (!J->t.cols[i].identity)
                continue;
            if (J->dst->drv->reset_identity(J->dst, j->to.table,
                                            J->t.cols[i].name, err)) {
                rc = sync_failed_with(J);
                break;
            }
        }
    }
    if (!rc && sync_limit_passed(J)) {
        char dups[200] = "";
        res->failed = 1;
        if (J->dups)
            snprintf(dups, sizeof(dups),
                     " (%" PRId64 " of them duplicate rows an earlier "
                     "execution loaded)",
                     J->dups);
        if (j->error_limit_pct)
            snprintf(res->error, sizeof(res->error),
                     "%" PRId64 " rejected rows%s passed the error limit of "
                     "%" PRId64 "%% of %" PRId64 "; see %.300s",
                     sync_rejected_total(J), dups, j->error_limit, res->total,
                     res->rejects_file);
        else
            snprintf(res->error, sizeof(res->error),
                     "%" PRId64 " rejected rows%s passed the error limit of "
                     "%" PRId64 "; see %.300s",
                     sync_rejected_total(J), dups, j->error_limit,
                     res->rejects_file);
    } else if (!rc && J->dups) {
        snprintf(res->note, sizeof(res->note),
                 "%" PRId64 " rejected rows duplicate rows an earlier "
                 "execution loaded",
                 J->dups);
    } else if (!rc && J->kept) {
        snprintf(res->note, sizeof(res->note),
                 "%" PRId64 " row%s at the watermark %s in the target "
                 "already: left as the target holds them",
                 J->kept, J->kept == 1 ? "" : "s", J->kept == 1 ? "is" : "are");
    }
finish_noop:
out:
    if (J->constraints_off) {
        /* on again whatever happened; then the rows must satisfy them */
        int64_t bad = 0;
        struct gl_err e2;
        gl_err_clear(&e2);
        if (J->dst->drv->constraints &&
            J->dst->drv->constraints(J->dst, j->to.table, 1, &e2)) {
            if (!rc)
                rc = sync_fail(J, e2.code,
                               "cannot turn constraints on again: %s", e2.msg);
        } else if (!rc && J->dst->drv->fk_violations) {
            if (J->dst->drv->fk_violations(J->dst, j->to.table, &bad, &e2))
                rc = sync_fail(J, e2.code, "cannot check foreign keys: %s",
                               e2.msg);
            else if (bad) {
                res->failed = 1;
                snprintf(res->error, sizeof(res->error),
                         "%" PRId64 " loaded rows violate a foreign key of "
                         "'%.200s'",
                         bad, j->to.table);
            }
        }
    }
    if (rc) {
        res->failed = 1;
        if (!res->error[0])
            snprintf(res->error, sizeof(res->error), "%s",
                     err && err->msg[0] ? err->msg : "failed");
    }
    res->seconds = gl_clock_mono() - J->t0;
    gl_clock_now(&res->ended);
    free(cp.last_key);
    free(cp.watermark);
    gl_buf_release(&resume);
    gl_buf_release(&wm);
    gl_db_close(J->src);
    J->src = NULL;
    return rc == GL_EREFUSED || rc == GL_EUSAGE || rc == GL_EIO ||
                   rc == GL_ENOMEM || rc == GL_ENOTFOUND
               ? rc
               : GL_OK;
}
