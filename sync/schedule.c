/*
 * schedule.c - the sync scheduler (see golive/sync.h, gl_sync_schedule):
 * the jobs of one invocation in their order ('after' and foreign keys),
 * prepared before anything changes, truncate targets emptied children
 * first, then run on a pool of threads; a job after one that did not end
 * ok is skipped.  Each execution is recorded in the run's store from its
 * start.  Nothing is printed: the outcomes are returned as data and the
 * progress goes to a callback.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "golive/db.h"
#include "golive/store.h"
#include "golive/sync.h"
#include "util/buf.h"
#include "util/clock.h"
#include "sync/sync-internal.h"

struct skip_cause {
    char after[256], why[300];
};

struct sched {
    const struct gl_plan *plan;
    const struct gl_sync_job *const *jobs; /* selected, in plan order */
    size_t n;
    struct gl_sync_outcome *out;
    unsigned char *dep;       /* dep[i * n + k]: job i waits for job k */
    struct skip_cause *cause; /* of each skipped job: the job that failed */
    gl_sync_exec **x; /* prepared executions, each holding its job's lock */
    struct gl_sync_opts opts;
    const struct gl_sync_sched_opts *so;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_mutex_t smu; /* the store: one writer at a time */
    double *kept;        /* when each job's progress was last kept */
    char host[256];
};

static int stopping(const struct sched *S)
{
    return S->opts.stop && *S->opts.stop;
}

static void warnf(struct sched *S, const char *fmt, ...)
{
    char msg[1400];
    va_list ap;

    if (!S->so->warn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    S->so->warn(S->so->ctx, msg);
}

static void fill_record(struct sched *S, const struct gl_sync_result *r,
                        struct gl_sync_record *rec)
{
    const char *sha = S->so->plan_sha256;

    memset(rec, 0, sizeof(*rec));
    rec->job = r->job;
    rec->mode = r->mode;
    rec->execution = r->execution[0] ? r->execution : NULL;
    /* an execution that ended before it started (its preparation or its
     * emptying failed) started when it ended, never at the epoch */
    rec->ended = r->ended ? r->ended : (int64_t)time(NULL);
    rec->started = r->started ? r->started : rec->ended;
    rec->read = r->read;
    rec->written = r->written;
    rec->rejected = r->rejected;
    rec->bytes = r->bytes;
    rec->seconds = r->seconds;
    rec->failed = r->failed;
    rec->outcome = r->interrupted ? "interrupted" : NULL;
    rec->error = r->error;
    rec->plan_sha256 = sha && *sha ? sha : NULL;
    rec->pid = (int64_t)getpid();
}

/* An execution starts (it holds its job's lock: gl_sync_prepare
 * succeeded): recorded before it reads or writes a row (its end completes
 * the row); when it cannot be recorded it does not run. */
static int on_started(void *ctx, const struct gl_sync_result *r,
                      struct gl_err *err)
{
    struct sched *S = ctx;
    struct gl_sync_record rec;
    int rc = GL_OK;

    if (!S->so->store)
        return GL_OK;
    fill_record(S, r, &rec);
    rec.host = S->host;
    pthread_mutex_lock(&S->smu);
    rc = gl_store_sync_start(S->so->store, S->so->who, &rec, err);
    pthread_mutex_unlock(&S->smu);
    return rc;
}

/* An execution ended (whatever ended it): its record is completed, or
 * made when it ended before it started (its preparation or the emptying
 * of its target failed).  A job skipped, or refused because another
 * execution of it runs, was not executed: nothing to record. */
static void record_end(struct sched *S, const struct gl_sync_result *r)
{
    struct gl_sync_record rec;
    struct gl_err err;
    int rc;

    if (!S->so->store || r->locked_out)
        return;
    fill_record(S, r, &rec);
    gl_err_clear(&err);
    pthread_mutex_lock(&S->smu);
    rc = gl_store_record_sync(S->so->store, S->so->who, &rec, &err);
    pthread_mutex_unlock(&S->smu);
    if (rc)
        warnf(S, "execution of '%s' not recorded: %s", r->job, err.msg);
}

/* A job may start when every job it waits for (dep) is done. */
static int ready(struct sched *S, size_t i)
{
    size_t k;

    for (k = 0; k < S->n; k++)
        if (S->dep[i * S->n + k] && S->out[k].state != GL_SYNC_ENDED)
            return 0;
    return 1;
}

int gl_sync_outcome_ok(const struct gl_sync_outcome *o)
{
    return o->state == GL_SYNC_ENDED && o->rc == GL_OK && !o->res.failed &&
           !o->res.interrupted && !o->skipped;
}

const char *gl_sync_outcome_name(const struct gl_sync_outcome *o)
{
    return o->skipped           ? "skipped"
           : o->res.interrupted ? "interrupted"
           : o->res.failed      ? "failed"
                                : "ok";
}

/* Job i does not run: it comes after job (or job of the plan) `after`,
 * which did not end ok; why says how. */
static void skip(struct sched *S, size_t i, const char *after, const char *why)
{
    struct gl_sync_result *r = &S->out[i].res;

    memset(r, 0, sizeof(*r));
    snprintf(r->job, sizeof(r->job), "%s", S->jobs[i]->id.id);
    snprintf(r->mode, sizeof(r->mode), "none");
    snprintf(r->error, sizeof(r->error),
             "skipped: it comes after '%.200s', which %.700s", after, why);
    snprintf(S->cause[i].after, sizeof(S->cause[i].after), "%s", after);
    snprintf(S->cause[i].why, sizeof(S->cause[i].why), "%s", why);
    S->out[i].skipped = 1;
    S->out[i].state = GL_SYNC_ENDED;
    gl_sync_exec_free(S->x[i]);
    S->x[i] = NULL;
}

/* Skip a job whose predecessor ended and did not end ok, naming the job
 * that failed (through skipped ones).  Returns whether it skipped it. */
static int skip_after_failure(struct sched *S, size_t i)
{
    size_t k;

    for (k = 0; k < S->n; k++) {
        if (!S->dep[i * S->n + k] || S->out[k].state != GL_SYNC_ENDED ||
            gl_sync_outcome_ok(&S->out[k]))
            continue;
        if (S->out[k].skipped) {
            /* through a skipped job: the same cause (copied: skip() writes
             * over what it reads when it is i's own) */
            struct skip_cause c = S->cause[k];
            skip(S, i, c.after, c.why);
            if (!S->out[i].needs[0])
                memcpy(S->out[i].needs, S->out[k].needs,
                       sizeof(S->out[i].needs));
        } else {
            skip(S, i, S->jobs[k]->id.id,
                 S->out[k].rc == GL_EREFUSED ? "was refused" : "failed");
        }
        return 1;
    }
    return 0;
}

/* Job i fails before it ran (its target could not be emptied): recorded,
 * its lock let go. */
static void fail_early(struct sched *S, size_t i, int rc)
{
    struct gl_sync_result *r = &S->out[i].res;

    r->failed = 1;
    S->out[i].rc = rc;
    S->out[i].state = GL_SYNC_ENDED;
    gl_clock_now(&r->ended);
    gl_sync_exec_free(S->x[i]);
    S->x[i] = NULL;
    record_end(S, r);
}

/* The job of the invocation (not i) that empties table t on i's system,
 * or -1. */
static long truncate_job_of(struct sched *S, size_t i, const char *t)
{
    size_t k;

    for (k = 0; k < S->n; k++)
        if (k != i && S->jobs[k]->mode == GL_SYNC_TRUNCATE &&
            !strcmp(S->jobs[k]->to.system.id, S->jobs[i]->to.system.id) &&
            sync_same_table(S->jobs[k]->to.table, t))
            return (long)k;
    return -1;
}

/* A truncate job whose target a table with rows references cannot be
 * emptied when nothing of the invocation empties that table first (one
 * outside it, or one whose own job cannot empty it): it fails now, before
 * any target is emptied, so that neither the jobs that wait for it nor the
 * parents it references are touched (a parent emptied under a child that
 * keeps its rows leaves them pointing nowhere).  Repeated until no more
 * fail: a job that fails here leaves its table's rows for the others. */
static void refuse_unemptiable(struct sched *S)
{
    const struct gl_sync_job **live = calloc(S->n + 1, sizeof(*live));
    size_t *at = calloc(S->n + 1, sizeof(*at));
    struct gl_err err;
    size_t i, k, nl;
    int more = 1;

    if (!live || !at) {
        free(live);
        free(at);
        return; /* the emptying itself reports what it cannot */
    }
    while (more) {
        more = 0;
        /* the jobs still to run: those that ended empty nothing */
        for (nl = 0, k = 0; k < S->n; k++)
            if (S->out[k].state != GL_SYNC_ENDED) {
                at[k] = nl;
                live[nl++] = S->jobs[k];
            }
        for (i = 0; i < S->n; i++) {
            char *blocker = NULL;
            struct gl_sync_result *r = &S->out[i].res;
            long by;

            if (S->out[i].state == GL_SYNC_ENDED ||
                S->jobs[i]->mode != GL_SYNC_TRUNCATE)
                continue;
            gl_err_clear(&err);
            if (gl_sync_empty_blocker(S->plan, live, nl, at[i], &blocker, &err))
                continue; /* the emptying itself reports it */
            if (!blocker)
                continue;
            snprintf(r->job, sizeof(r->job), "%s", S->jobs[i]->id.id);
            by = truncate_job_of(S, i, blocker);
            if (by >= 0)
                snprintf(r->error, sizeof(r->error),
                         "cannot empty '%.200s': table '%.200s' references it "
                         "and holds rows, and job '%.100s' cannot empty it "
                         "(see its error); nothing was emptied",
                         S->jobs[i]->to.table, blocker, S->jobs[by]->id.id);
            else
                snprintf(r->error, sizeof(r->error),
                         "cannot empty '%.200s': table '%.200s' references it "
                         "and holds rows; nothing was emptied.  Empty "
                         "'%.200s' in the same invocation (a truncate job of "
                         "its own), or load '%.200s' with mode: upsert",
                         S->jobs[i]->to.table, blocker, blocker,
                         S->jobs[i]->to.table);
            free(blocker);
            fail_early(S, i, GL_OK);
            more = 1;
            break; /* the others again, without it */
        }
    }
    free(live);
    free(at);
}

/* Prepare every job before anything changes: each reaches its source and
 * its target, takes its lock and runs its SELECT for no rows.  A job that
 * cannot fails here, its target untouched, and what comes after it is
 * skipped. */
static void prepare_all(struct sched *S)
{
    struct gl_err err;
    size_t i;
    int more = 1;

    for (i = 0; i < S->n; i++) {
        if (S->out[i].state == GL_SYNC_ENDED)
            continue;
        gl_err_clear(&err);
        S->out[i].rc = gl_sync_prepare(S->plan, S->jobs[i], &S->opts, &S->x[i],
                                       &S->out[i].res, &err);
        if (S->out[i].rc) {
            S->out[i].state = GL_SYNC_ENDED;
            record_end(S, &S->out[i].res);
        }
    }
    if (!S->opts.resume && !S->opts.retry_rejects)
        refuse_unemptiable(S);
    while (more) {
        more = 0;
        for (i = 0; i < S->n; i++)
            if (S->out[i].state == GL_SYNC_WAITING)
                more |= skip_after_failure(S, i);
    }
}

/* Empty one truncate job's target; it fails here when it cannot (the
 * others go on). */
static void clear_one(struct sched *S, size_t i)
{
    struct gl_sync_result *r = &S->out[i].res;
    struct gl_err err;

    gl_err_clear(&err);
    if (!gl_sync_exec_clear(S->x[i], &err))
        return;
    snprintf(r->job, sizeof(r->job), "%s", S->jobs[i]->id.id);
    snprintf(r->mode, sizeof(r->mode), "load");
    snprintf(r->error, sizeof(r->error), "cannot empty '%.200s': %.700s",
             S->jobs[i]->to.table, err.msg);
    fail_early(S, i, err.code ? err.code : GL_EIO);
}

/* Empty the targets of truncate jobs, jobs that wait for others first (a
 * child before the parent it references), each on its execution's own
 * connection, under its lock. */
static void clear_targets(struct sched *S)
{
    unsigned char *cleared = calloc(S->n + 1, 1);
    size_t done = 0, i, k;
    int progress = 1;

    if (!cleared)
        return;
    for (i = 0; i < S->n; i++)
        if (S->jobs[i]->mode != GL_SYNC_TRUNCATE ||
            S->out[i].state == GL_SYNC_ENDED) {
            cleared[i] = 1;
            done++;
        }
    while (done < S->n && progress) {
        progress = 0;
        for (i = 0; i < S->n; i++) {
            int waited_for = 0;
            if (cleared[i])
                continue;
            /* clear i only when no uncleared job waits for it */
            for (k = 0; k < S->n; k++)
                waited_for |= !cleared[k] && S->dep[k * S->n + i];
            if (waited_for)
                continue;
            if (stopping(S))
                break;
            clear_one(S, i);
            cleared[i] = 1;
            done++;
            progress = 1;
        }
    }
    free(cleared);
}

/* Keep what running job i has done so far in the run's store, at most
 * once a second (GET /syncs reads it).  Under S->mu.  Only a reading
 * aid: a failure to keep it stops nothing. */
static void keep_progress(struct sched *S, size_t i)
{
    const struct gl_sync_progress *p = &S->out[i].progress;
    double now = gl_clock_mono();
    struct gl_err err;

    if (!S->so->store || !S->out[i].res.execution[0] ||
        (S->kept[i] > 0 && now - S->kept[i] < 1.0))
        return;
    S->kept[i] = now;
    gl_err_clear(&err);
    pthread_mutex_lock(&S->smu);
    (void)gl_store_sync_progress(S->so->store, S->out[i].res.execution, p->read,
                                 p->written, p->rejected, p->total, p->seconds,
                                 &err);
    pthread_mutex_unlock(&S->smu);
}

static void on_progress(void *ctx, const struct gl_sync_progress *p)
{
    struct sched *S = ctx;
    size_t i;

    pthread_mutex_lock(&S->mu);
    for (i = 0; i < S->n; i++)
        if (!strcmp(S->jobs[i]->id.id, p->job)) {
            S->out[i].progress = *p;
            S->out[i].progress.job = S->jobs[i]->id.id;
            keep_progress(S, i);
        }
    if (S->so->progress)
        S->so->progress(S->so->ctx, S->out, S->n);
    pthread_mutex_unlock(&S->mu);
}

/* The next job to run (under S->mu), waiting while jobs it comes after
 * run; (size_t)-1 when none is left to start (or stopping). */
static size_t pick_job(struct sched *S)
{
    for (;;) {
        size_t i, pick = (size_t)-1;
        int waiting = 0;

        for (i = 0; i < S->n; i++) {
            if (S->out[i].state != GL_SYNC_WAITING)
                continue;
            if (ready(S, i) && skip_after_failure(S, i)) {
                pthread_cond_broadcast(&S->cv);
                continue;
            }
            waiting = 1;
            if (ready(S, i)) {
                pick = i;
                break;
            }
        }
        if (stopping(S))
            return (size_t)-1; /* stopping: no job starts */
        if (pick != (size_t)-1 || !waiting)
            return pick;
        pthread_cond_wait(&S->cv, &S->mu);
    }
}

static void *worker(void *arg)
{
    struct sched *S = arg;

    for (;;) {
        struct gl_sync_outcome *o;
        struct gl_err err;
        size_t pick;

        pthread_mutex_lock(&S->mu);
        pick = pick_job(S);
        if (pick == (size_t)-1) {
            pthread_mutex_unlock(&S->mu);
            return NULL;
        }
        o = &S->out[pick];
        o->state = GL_SYNC_RUNNING;
        pthread_mutex_unlock(&S->mu);

        gl_err_clear(&err);
        o->rc = gl_sync_exec_run(S->x[pick], &o->res, &err);
        if (o->rc && !o->res.error[0])
            snprintf(o->res.error, sizeof(o->res.error), "%s", err.msg);
        gl_sync_exec_free(S->x[pick]); /* the job's lock goes */
        S->x[pick] = NULL;
        record_end(S, &o->res);

        pthread_mutex_lock(&S->mu);
        o->state = GL_SYNC_ENDED;
        pthread_cond_broadcast(&S->cv);
        pthread_mutex_unlock(&S->mu);
    }
}

/* Job i is refused before it runs: a job it comes after has never ended
 * ok (GL_EREFUSED, exit 3; what comes after it in the invocation is
 * skipped, naming it). */
static void refuse_after(struct sched *S, size_t i, const char *after,
                         const char *why)
{
    struct gl_sync_result *r = &S->out[i].res;

    memset(r, 0, sizeof(*r));
    snprintf(r->job, sizeof(r->job), "%s", S->jobs[i]->id.id);
    snprintf(r->mode, sizeof(r->mode), "none");
    snprintf(r->error, sizeof(r->error),
             "refused: it comes after '%.100s', which %.200s: sync '%.100s' "
             "first, or name them in one invocation (golive sync PLAN "
             "%.300s %.100s)",
             after, why, after, S->out[i].needs[0] ? S->out[i].needs : after,
             S->jobs[i]->id.id);
    r->failed = 1;
    S->out[i].rc = GL_EREFUSED;
    S->out[i].state = GL_SYNC_ENDED;
    gl_sync_exec_free(S->x[i]);
    S->x[i] = NULL;
}

/* What job b, which this invocation does not run, leaves to the jobs
 * after it: 0 they may run (its latest execution ended ok, or it is not
 * known here), 1 it did not end ok (as the run records it, or as its
 * checkpoint in its target says), 2 it never ran (no execution in the
 * run's store; without a store, no checkpoint in its target): its rows
 * are not there to build on.  why says how. */
static int unselected_state(struct sched *S, const struct gl_sync_job *b,
                            char *why, size_t n)
{
    char outcome[32], ended[48];
    struct gl_err err;
    int cp = -1, recorded = 0;

    gl_err_clear(&err);
    if (S->so->store &&
        !gl_store_sync_last(S->so->store, b->id.id, outcome, sizeof(outcome),
                            ended, sizeof(ended), &err)) {
        recorded = 1;
        if (outcome[0] && strcmp(outcome, "ok")) {
            snprintf(why, n,
                     "did not end ok in its latest execution (%s, at %s)",
                     outcome, ended);
            return 1;
        }
        if (!outcome[0]) {
            snprintf(why, n, "has not run in this run");
            return 2;
        }
    }
    gl_err_clear(&err);
    if (gl_sync_checkpoint_state(S->plan, b, &cp, &err))
        return 0; /* its target cannot be reached: not known here */
    if (cp == 0) {
        snprintf(why, n,
                 "has not finished: its latest execution stopped, or "
                 "its target was emptied and not loaded since");
        return 1;
    }
    if (cp < 0 && !recorded) {
        snprintf(why, n,
                 "has never run (its target holds no checkpoint of it)");
        return 2;
    }
    return 0;
}

/* The order of the selected jobs (S->dep), from the order of every job of
 * the plan; and a job that comes after one not selected is skipped when
 * that one did not end ok, refused when it never ran.  Either names what
 * to sync with it (needs: every job not selected it comes after, through
 * such jobs, that is not ok). */
static int order_jobs(struct sched *S, struct gl_err *err)
{
    const struct gl_plan *p = S->plan;
    size_t n = p->n_sync, i, k, a, b, sp;
    const struct gl_sync_job **all = calloc(n + 1, sizeof(*all));
    unsigned char *dep = calloc(n * n + 1, 1);
    size_t *at = calloc(S->n + 1, sizeof(*at));
    size_t *stack = calloc(n + 1, sizeof(*stack));
    unsigned char *selected = calloc(n + 1, 1);
    unsigned char *need = calloc(n + 1, 1);
    signed char *state = calloc(n + 1, 1);
    char(*why)[200] = calloc(n + 1, sizeof(*why));
    int rc = GL_OK;

    if (!all || !dep || !at || !stack || !selected || !need || !state || !why) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto out;
    }
    for (a = 0; a < n; a++) {
        all[a] = &p->sync[a];
        state[a] = -1; /* not asked yet */
    }
    for (i = 0; i < S->n; i++) {
        at[i] = (size_t)(S->jobs[i] - p->sync);
        selected[at[i]] = 1;
    }
    if ((rc = gl_sync_dependencies(p, all, n, dep, err)))
        goto out;
    for (i = 0; i < S->n; i++)
        for (k = 0; k < S->n; k++)
            S->dep[i * S->n + k] = dep[at[i] * n + at[k]];
    for (i = 0; i < S->n; i++) {
        struct gl_buf names = GL_BUF_INIT;
        size_t first = (size_t)-1;

        /* the jobs not selected that i comes after and that are not ok,
         * and those that these come after, ... */
        memset(need, 0, n);
        sp = 0;
        stack[sp++] = at[i];
        while (sp) {
            a = stack[--sp];
            for (b = 0; b < n; b++) {
                if (b == a || selected[b] || need[b] || !dep[a * n + b])
                    continue;
                if (state[b] < 0)
                    state[b] = (signed char)unselected_state(
                        S, &p->sync[b], why[b], sizeof(why[b]));
                if (!state[b])
                    continue;
                need[b] = 1;
                stack[sp++] = b;
            }
        }
        for (b = 0; b < n; b++)
            if (need[b])
                gl_buf_addf(&names, "%s%s", names.len ? " " : "",
                            p->sync[b].id.id);
        if (!gl_buf_failed(&names))
            snprintf(S->out[i].needs, sizeof(S->out[i].needs), "%s",
                     gl_buf_str(&names));
        gl_buf_release(&names);
        /* skipped or refused for the first one it comes after itself */
        for (b = 0; b < n && first == (size_t)-1; b++)
            if (need[b] && dep[at[i] * n + b])
                first = b;
        if (first == (size_t)-1)
            continue;
        if (state[first] == 2) {
            refuse_after(S, i, p->sync[first].id.id, why[first]);
            continue;
        }
        skip(S, i, p->sync[first].id.id, why[first]);
        snprintf(S->out[i].res.error, sizeof(S->out[i].res.error),
                 "skipped: it comes after '%.200s', which %.200s; once "
                 "repaired, sync them together: golive sync PLAN %.300s %.100s",
                 p->sync[first].id.id, why[first], S->out[i].needs,
                 S->jobs[i]->id.id);
    }
out:
    free(all);
    free(dep);
    free(at);
    free(stack);
    free(selected);
    free(need);
    free(state);
    free(why);
    return rc;
}

/* What the checkpoint of each job that did not end ok says (whether it
 * goes on with --resume), for the command that goes on. */
static void read_checkpoints(struct sched *S)
{
    struct gl_err err;
    size_t i;

    for (i = 0; i < S->n; i++) {
        struct gl_sync_outcome *o = &S->out[i];
        o->checkpoint = -1;
        if (o->state != GL_SYNC_ENDED || gl_sync_outcome_ok(o) ||
            o->res.locked_out || S->opts.retry_rejects)
            continue;
        gl_err_clear(&err);
        if (gl_sync_checkpoint_state(S->plan, S->jobs[i], &o->checkpoint, &err))
            o->checkpoint = -1;
    }
}

static void run_pool(struct sched *S, int threads)
{
    pthread_t *th;
    size_t i, started = 0;

    if (threads > (int)S->n)
        threads = (int)(S->n ? S->n : 1);
    if (threads < 1)
        threads = 1;
    th = calloc((size_t)threads, sizeof(*th));
    if (!th) {
        worker(S); /* no memory for threads: one at a time, here */
        return;
    }
    for (i = 0; i < (size_t)threads; i++)
        if (!pthread_create(&th[started], NULL, worker, S))
            started++;
    if (!started)
        worker(S);
    for (i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    free(th);
}

int gl_sync_schedule(const struct gl_plan *p,
                     const struct gl_sync_job *const *jobs, size_t n,
                     const struct gl_sync_sched_opts *o,
                     struct gl_sync_outcome *out, struct gl_err *err)
{
    struct sched S;
    size_t i;
    int rc = GL_OK;

    memset(&S, 0, sizeof(S));
    memset(out, 0, n * sizeof(*out));
    for (i = 0; i < n; i++) {
        out[i].job = jobs[i];
        out[i].checkpoint = -1;
    }
    S.plan = p;
    S.jobs = jobs;
    S.n = n;
    S.out = out;
    S.so = o;
    S.opts = o->sync;
    S.dep = calloc(n * n + 1, 1);
    S.cause = calloc(n + 1, sizeof(*S.cause));
    S.x = calloc(n + 1, sizeof(*S.x));
    S.kept = calloc(n + 1, sizeof(*S.kept));
    if (!S.dep || !S.cause || !S.x || !S.kept) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto out;
    }
    gl_db_global_init(); /* before any thread connects */
    if ((rc = order_jobs(&S, err)))
        goto out;
    gethostname(S.host, sizeof(S.host) - 1);
    pthread_mutex_init(&S.smu, NULL);
    pthread_mutex_init(&S.mu, NULL);
    pthread_cond_init(&S.cv, NULL);
    S.opts.progress = NULL;
    S.opts.progress_ctx = &S;
    S.opts.started = on_started;
    prepare_all(&S);
    if (!S.opts.resume && !S.opts.retry_rejects)
        clear_targets(&S);
    S.opts.progress = on_progress;
    run_pool(&S, o->threads);
    if (!stopping(&S))
        read_checkpoints(&S);
    pthread_mutex_destroy(&S.mu);
    pthread_cond_destroy(&S.cv);
    pthread_mutex_destroy(&S.smu);
out:
    for (i = 0; S.x && i < n; i++)
        gl_sync_exec_free(S.x[i]);
    free(S.x);
    free(S.kept);
    free(S.cause);
    free(S.dep);
    return rc;
}
