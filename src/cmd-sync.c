/*
 * cmd-sync.c - `golive sync PLAN [JOB...]`: run sync jobs, print what ran,
 * record each execution into the run.
 */
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "golive/db.h"
#include "golive/store.h"
#include "golive/sync.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/suggest.h"

/* SIGINT / SIGTERM: the jobs commit their batch in flight and stop; no
 * job starts after it.  A second signal ends the process at once. */
static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
    stop_sig = sig;
}

struct sched {
    const struct gl_plan *plan;
    const struct gl_sync_job **jobs; /* selected, in plan order */
    size_t n;
    int *state;         /* 0 waiting, 1 running, 2 done */
    unsigned char *dep; /* dep[i * n + k]: job i waits for job k */
    struct gl_sync_result *res;
    int *rc;
    int *skipped; /* not run: a job it comes after did not end ok */
    struct skip_cause {
        char after[256], why[300];
    } * cause;        /* of each skipped job: the job that failed, and how */
    gl_sync_exec **x; /* prepared executions, each holding its job's lock */
    struct gl_sync_opts opts;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int tty;
    /* progress of running jobs, for the status line */
    struct gl_sync_progress *prog;
    /* the run's store (NULL: not recorded), one writer at a time */
    gl_store *store;
    struct gl_actor who;
    pthread_mutex_t smu;
    char host[256];
    const char *plan_sha; /* --plan-changed: the file's SHA-256, else "" */
};

static void fill_record(struct sched *S, const struct gl_sync_result *r,
                        struct gl_sync_record *rec)
{
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
    rec->plan_sha256 = S->plan_sha && *S->plan_sha ? S->plan_sha : NULL;
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

    if (!S->store)
        return GL_OK;
    fill_record(S, r, &rec);
    rec.host = S->host;
    pthread_mutex_lock(&S->smu);
    rc = gl_store_sync_start(S->store, &S->who, &rec, err);
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

    if (!S->store || r->locked_out)
        return;
    fill_record(S, r, &rec);
    gl_err_clear(&err);
    pthread_mutex_lock(&S->smu);
    if (gl_store_record_sync(S->store, &S->who, &rec, &err))
        cli_warn("execution of '%s' not recorded: %s", r->job, err.msg);
    pthread_mutex_unlock(&S->smu);
}

/* A job may start when every job it waits for (dep) is done. */
static int ready(struct sched *S, size_t i)
{
    size_t k;

    for (k = 0; k < S->n; k++)
        if (S->dep[i * S->n + k] && S->state[k] != 2)
            return 0;
    return 1;
}

static int ended_ok(struct sched *S, size_t k)
{
    return S->state[k] == 2 && S->rc[k] == GL_OK && !S->res[k].failed &&
           !S->res[k].interrupted && !S->skipped[k];
}

/* Job i does not run: it comes after job (or job of the plan) `after`,
 * which did not end ok; why says how. */
static void skip(struct sched *S, size_t i, const char *after, const char *why)
{
    struct gl_sync_result *r = &S->res[i];

    memset(r, 0, sizeof(*r));
    snprintf(r->job, sizeof(r->job), "%s", S->jobs[i]->id.id);
    snprintf(r->mode, sizeof(r->mode), "none");
    snprintf(r->error, sizeof(r->error),
             "skipped: it comes after '%.200s', which %.700s", after, why);
    snprintf(S->cause[i].after, sizeof(S->cause[i].after), "%s", after);
    snprintf(S->cause[i].why, sizeof(S->cause[i].why), "%s", why);
    S->skipped[i] = 1;
    S->state[i] = 2;
    gl_sync_exec_free(S->x[i]);
    S->x[i] = NULL;
}

/* Skip a job whose predecessor ended and did not end ok, naming the job
 * that failed (through skipped ones).  Returns whether it skipped it. */
static int skip_after_failure(struct sched *S, size_t i)
{
    size_t k;

    for (k = 0; k < S->n; k++) {
        if (!S->dep[i * S->n + k] || S->state[k] != 2 || ended_ok(S, k))
            continue;
        if (S->skipped[k]) {
            /* through a skipped job: the same cause (copied: skip() writes
             * over what it reads when it is i's own) */
            struct skip_cause c = S->cause[k];
            skip(S, i, c.after, c.why);
        } else {
            skip(S, i, S->jobs[k]->id.id,
                 S->rc[k] == GL_EREFUSED ? "was refused" : "failed");
        }
        return 1;
    }
    return 0;
}

/* Prepare every job before anything changes: each reaches its source and
 * its target, takes its lock and runs its SELECT for no rows.  A job that
 * cannot fails here, its target untouched, and what comes after it is
 * skipped. */
/* A truncate job whose target a table outside the invocation references
 * (with rows) cannot be emptied: it fails now, before any target is
 * emptied, so that the jobs that wait for it are skipped untouched (it
 * failed after its children had been emptied). */
static void refuse_unemptiable(struct sched *S)
{
    struct gl_err err;
    size_t i;

    for (i = 0; i < S->n; i++) {
        char *blocker = NULL;
        struct gl_sync_result *r = &S->res[i];

        if (S->state[i] == 2 || S->jobs[i]->mode != GL_SYNC_TRUNCATE)
            continue;
        gl_err_clear(&err);
        if (gl_sync_empty_blocker(S->plan, S->jobs, S->n, i, &blocker, &err))
            continue; /* the emptying itself reports it */
        if (!blocker)
            continue;
        snprintf(r->job, sizeof(r->job), "%s", S->jobs[i]->id.id);
        snprintf(r->error, sizeof(r->error),
                 "cannot empty '%.200s': table '%.200s' references it and "
                 "holds rows; nothing was emptied.  Empty '%.200s' in the same "
                 "invocation (a truncate job of its own), or load '%.200s' "
                 "with mode: upsert",
                 S->jobs[i]->to.table, blocker, blocker, S->jobs[i]->to.table);
        free(blocker);
        r->failed = 1;
        S->rc[i] = GL_OK;
        S->state[i] = 2;
        gl_clock_now(&r->ended);
        gl_sync_exec_free(S->x[i]);
        S->x[i] = NULL;
        record_end(S, r);
    }
}

static void prepare_all(struct sched *S)
{
    struct gl_err err;
    size_t i;
    int more = 1;

    for (i = 0; i < S->n; i++) {
        if (S->state[i] == 2)
            continue;
        gl_err_clear(&err);
        S->rc[i] = gl_sync_prepare(S->plan, S->jobs[i], &S->opts, &S->x[i],
                                   &S->res[i], &err);
        if (S->rc[i]) {
            S->state[i] = 2;
            record_end(S, &S->res[i]);
        }
    }
    if (!S->opts.resume && !S->opts.retry_rejects)
        refuse_unemptiable(S);
    while (more) {
        more = 0;
        for (i = 0; i < S->n; i++)
            if (S->state[i] == 0)
                more |= skip_after_failure(S, i);
    }
}

/* Empty the targets of truncate jobs, jobs that wait for others first (a
 * child before the parent it references), each on its execution's own
 * connection, under its lock. */
static void clear_targets(struct sched *S)
{
    unsigned char *cleared = calloc(S->n + 1, 1);
    size_t done = 0, i, k;
    struct gl_err err;
    int progress = 1;

    if (!cleared)
        return;
    for (i = 0; i < S->n; i++)
        if (S->jobs[i]->mode != GL_SYNC_TRUNCATE || S->state[i] == 2) {
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
            if (stop_sig)
                break;
            gl_err_clear(&err);
            if (gl_sync_exec_clear(S->x[i], &err)) {
                /* the job fails here; the others go on */
                struct gl_sync_result *r = &S->res[i];
                snprintf(r->job, sizeof(r->job), "%s", S->jobs[i]->id.id);
                snprintf(r->mode, sizeof(r->mode), "load");
                snprintf(r->error, sizeof(r->error),
                         "cannot empty '%.200s': %.700s", S->jobs[i]->to.table,
                         err.msg);
                r->failed = 1;
                S->rc[i] = err.code ? err.code : GL_EIO;
                S->state[i] = 2;
                gl_clock_now(&r->ended);
                gl_sync_exec_free(S->x[i]);
                S->x[i] = NULL;
                record_end(S, r);
            }
            cleared[i] = 1;
            done++;
            progress = 1;
        }
    }
    free(cleared);
}

static void draw(struct sched *S)
{
    size_t i;
    int any = 0;

    if (!S->tty)
        return;
    fputs("\r\033[K", stderr);
    for (i = 0; i < S->n; i++) {
        const struct gl_sync_progress *p = &S->prog[i];
        if (S->state[i] != 1 || !p->job)
            continue;
        if (p->total > 0) {
            double frac = (double)p->read / (double)p->total;
            double rate = p->seconds > 0 ? (double)p->read / p->seconds : 0;
            double eta = rate > 0 ? (double)(p->total - p->read) / rate : 0;
            fprintf(stderr, "%s%s %3.0f%% %lld/%lld %.0f rows/s ETA %.0fs",
                    any++ ? " | " : "", p->job, frac * 100, (long long)p->read,
                    (long long)p->total, rate, eta);
        } else {
            fprintf(stderr, "%s%s %lld rows", any++ ? " | " : "", p->job,
                    (long long)p->read);
        }
    }
    fflush(stderr);
}

static void on_progress(void *ctx, const struct gl_sync_progress *p)
{
    struct sched *S = ctx;
    size_t i;

    pthread_mutex_lock(&S->mu);
    for (i = 0; i < S->n; i++)
        if (!strcmp(S->jobs[i]->id.id, p->job)) {
            S->prog[i] = *p;
            S->prog[i].job = S->jobs[i]->id.id;
        }
    draw(S);
    pthread_mutex_unlock(&S->mu);
}

static void *worker(void *arg)
{
    struct sched *S = arg;

    for (;;) {
        size_t i, pick = (size_t)-1;
        struct gl_err err;
        int waiting = 0;

        pthread_mutex_lock(&S->mu);
        for (;;) {
            waiting = 0;
            pick = (size_t)-1;
            for (i = 0; i < S->n; i++) {
                if (S->state[i] != 0)
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
            if (stop_sig)
                pick = (size_t)-1; /* stopping: no job starts */
            if (pick != (size_t)-1 || !waiting || stop_sig)
                break;
            pthread_cond_wait(&S->cv, &S->mu);
        }
        if (pick == (size_t)-1) {
            pthread_mutex_unlock(&S->mu);
            return NULL;
        }
        S->state[pick] = 1;
        pthread_mutex_unlock(&S->mu);

        gl_err_clear(&err);
        S->rc[pick] = gl_sync_exec_run(S->x[pick], &S->res[pick], &err);
        if (S->rc[pick] && !S->res[pick].error[0])
            snprintf(S->res[pick].error, sizeof(S->res[pick].error), "%s",
                     err.msg);
        gl_sync_exec_free(S->x[pick]); /* the job's lock goes */
        S->x[pick] = NULL;
        record_end(S, &S->res[pick]);

        pthread_mutex_lock(&S->mu);
        S->state[pick] = 2;
        pthread_cond_broadcast(&S->cv);
        pthread_mutex_unlock(&S->mu);
    }
}

static void human_bytes(int64_t b, char *out, size_t n)
{
    const char *u[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)b;
    int i = 0;

    while (v >= 1000 && i < 4) {
        v /= 1000;
        i++;
    }
    snprintf(out, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static const char *outcome(struct sched *S, size_t i)
{
    return S->skipped[i]           ? "skipped"
           : S->res[i].interrupted ? "interrupted"
           : S->res[i].failed      ? "failed"
                                   : "ok";
}

static void print_table(struct sched *S)
{
    int64_t tr = 0, tw = 0, tj = 0, tb = 0;
    double ts = 0;
    char b[32];
    size_t i;

    printf("%-20s %10s %10s %9s %10s %8s %10s  %s\n", "job", "read", "written",
           "rejected", "bytes", "seconds", "rows/s", "outcome");
    for (i = 0; i < S->n; i++) {
        const struct gl_sync_result *r = &S->res[i];
        double rate = r->seconds > 0 ? (double)r->read / r->seconds : 0;
        if (S->state[i] != 2)
            continue;
        human_bytes(r->bytes, b, sizeof(b));
        printf("%-20s %10lld %10lld %9lld %10s %8.2f %10.0f  %s%s\n", r->job,
               (long long)r->read, (long long)r->written,
               (long long)r->rejected, b, r->seconds, rate, outcome(S, i),
               r->resumed ? " (resumed)" : "");
        tr += r->read;
        tw += r->written;
        tj += r->rejected;
        tb += r->bytes;
        ts += r->seconds;
    }
    human_bytes(tb, b, sizeof(b));
    printf("%-20s %10lld %10lld %9lld %10s %8.2f\n", "total", (long long)tr,
           (long long)tw, (long long)tj, b, ts);
    for (i = 0; i < S->n; i++) {
        const struct gl_sync_result *r = &S->res[i];
        if ((r->failed || S->skipped[i]) && r->error[0])
            printf("%s: %s\n", r->job, r->error);
        else if (r->rejected)
            printf("%s: %lld rejected rows in %s%s%s\n", r->job,
                   (long long)r->rejected, r->rejects_file,
                   r->note[0] ? "; " : "", r->note);
        else if (r->note[0])
            printf("%s: %s\n", r->job, r->note);
    }
}

static void print_json(struct sched *S)
{
    json_t *arr = json_array(), *o;
    char *s;
    size_t i;

    for (i = 0; i < S->n; i++) {
        const struct gl_sync_result *r = &S->res[i];
        if (S->state[i] != 2)
            continue;
        json_array_append_new(
            arr, json_pack(
                     "{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:s,"
                     " s:b, s:s?, s:s?, s:s?}",
                     "job", r->job, "mode", r->mode, "read",
                     (json_int_t)r->read, "written", (json_int_t)r->written,
                     "rejected", (json_int_t)r->rejected, "bytes",
                     (json_int_t)r->bytes, "skipped", (json_int_t)r->skipped,
                     "seconds", r->seconds, "outcome", outcome(S, i), "resumed",
                     r->resumed, "error", r->error[0] ? r->error : NULL,
                     "rejects_file", r->rejected ? r->rejects_file : NULL,
                     "note", r->note[0] ? r->note : NULL));
    }
    o = json_pack("{s:o}", "jobs", arr);
    s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("%s\n", s ? s : "{}");
    free(s);
    json_decref(o);
}

/* Open the run's store to record the executions in (S->store stays NULL
 * when there is no run, saying so). */
/* The run's store, when there is one: every execution is recorded in it,
 * so a person the plan does not know, or a store that does not open,
 * stops the command before anything is touched (it loaded data and then
 * said nothing was recorded). */
static int open_record(struct sched *S, const char *state, const char *as)
{
    struct gl_err err;
    struct stat sb;

    gl_err_clear(&err);
    if (stat(state, &sb) != 0) {
        fprintf(stderr,
                "golive: no run at '%s': these executions are not "
                "recorded ('golive run start PLAN' starts one)\n",
                state);
        return EXIT_OK;
    }
    if (cli_actor(as, S->plan, &S->who, &err)) {
        cli_error("%s: nothing was run (the run records who runs each "
                  "execution)",
                  err.msg);
        return EXIT_REFUSED;
    }
    if (gl_store_open(state, 0, &S->store, &err)) {
        S->store = NULL;
        cli_error("%s; nothing was run", err.msg);
        return EXIT_ERROR;
    }
    gethostname(S->host, sizeof(S->host) - 1);
    return EXIT_OK;
}

/* Stopped by a signal: what did not finish, and the command that goes
 * on. */
static void print_resume_hint(struct sched *S, const char *plan_path)
{
    size_t i;
    int any = 0;

    fprintf(stderr,
            "golive: interrupted (%s); the batch in flight was "
            "committed",
            stop_sig == SIGTERM ? "SIGTERM" : "SIGINT");
    for (i = 0; i < S->n; i++) {
        if (S->state[i] == 2 && !S->res[i].interrupted)
            continue;
        if (!any++)
            fprintf(stderr, "; continue with: golive sync %s", plan_path);
        fprintf(stderr, " %s", S->jobs[i]->id.id);
    }
    fprintf(stderr, "%s\n", any ? " --resume" : "");
}

/* The order of the selected jobs (S->dep), from the order of every job of
 * the plan; and a job that comes after one not selected is skipped when
 * that one's latest execution did not end ok (as the run records it, or
 * as its checkpoint in its target says). */
static int order_jobs(struct sched *S, const char *state)
{
    const struct gl_plan *p = S->plan;
    size_t n = p->n_sync, i, k, a, b;
    const struct gl_sync_job **all = calloc(n + 1, sizeof(*all));
    unsigned char *dep = calloc(n * n + 1, 1);
    size_t *at = calloc(S->n + 1, sizeof(*at));
    unsigned char *selected = calloc(n + 1, 1);
    gl_store *store = NULL;
    struct stat sb;
    struct gl_err err;
    int rc = EXIT_OK;

    gl_err_clear(&err);
    if (!all || !dep || !at || !selected) {
        rc = EXIT_ERROR;
        goto out;
    }
    for (a = 0; a < n; a++)
        all[a] = &p->sync[a];
    for (i = 0; i < S->n; i++) {
        at[i] = (size_t)(S->jobs[i] - p->sync);
        selected[at[i]] = 1;
    }
    if (gl_sync_dependencies(p, all, n, dep, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    for (i = 0; i < S->n; i++)
        for (k = 0; k < S->n; k++)
            S->dep[i * S->n + k] = dep[at[i] * n + at[k]];
    if (stat(state, &sb) == 0 && gl_store_open(state, 0, &store, &err)) {
        cli_warn("cannot read the run's sync executions: %s", err.msg);
        store = NULL;
    }
    for (i = 0; i < S->n; i++) {
        a = at[i];
        for (b = 0; b < n && !S->skipped[i]; b++) {
            char outcome[32], ended[48], why[200];
            int cp = -1;
            if (b == a || selected[b] || !dep[a * n + b])
                continue;
            gl_err_clear(&err);
            if (store &&
                !gl_store_sync_last(store, p->sync[b].id.id, outcome,
                                    sizeof(outcome), ended, sizeof(ended),
                                    &err) &&
                outcome[0] && strcmp(outcome, "ok")) {
                snprintf(why, sizeof(why),
                         "did not end ok in its latest execution (%s, at %s)",
                         outcome, ended);
                skip(S, i, p->sync[b].id.id, why);
            } else if (!gl_sync_checkpoint_state(p, &p->sync[b], &cp, &err) &&
                       cp == 0) {
                skip(S, i, p->sync[b].id.id,
                     "has not finished: its latest execution stopped, or its "
                     "target was emptied and not loaded since");
            }
        }
    }
out:
    gl_store_close(store);
    free(all);
    free(dep);
    free(at);
    free(selected);
    return rc;
}

/* Jobs that did not end ok (failed or skipped; not one refused because
 * another execution of it runs: that one is to be waited for): the
 * command that goes on, once what failed is repaired.  A job whose
 * checkpoint says it stopped or was emptied goes on with --resume; one
 * its failure left untouched runs again as it was. */
static void print_next_hint(struct sched *S, const char *plan_path)
{
    struct gl_buf resume = GL_BUF_INIT, again = GL_BUF_INIT;
    struct gl_err err;
    size_t i;

    for (i = 0; i < S->n; i++) {
        int cp = -1;
        if (S->state[i] != 2 || ended_ok(S, i) || S->res[i].locked_out)
            continue;
        gl_err_clear(&err);
        if (S->opts.retry_rejects ||
            gl_sync_checkpoint_state(S->plan, S->jobs[i], &cp, &err))
            cp = -1;
        gl_buf_addf(cp == 0 ? &resume : &again, " %s", S->jobs[i]->id.id);
    }
    if (again.len)
        fprintf(stderr,
                "golive: once repaired, run again: golive sync %s%s%s\n",
                plan_path, gl_buf_str(&again),
                S->opts.retry_rejects ? " --retry-rejects"
                : S->opts.restart     ? " --restart"
                                      : "");
    if (resume.len)
        fprintf(stderr,
                "golive: once repaired, continue with: golive sync %s%s "
                "--resume\n",
                plan_path, gl_buf_str(&resume));
    gl_buf_release(&resume);
    gl_buf_release(&again);
}

static int run(int argc, char **argv)
{
    struct sched S;
    struct gl_plan *plan = NULL;
    const char *state_opt = NULL, *as = NULL, *plan_path;
    char state[4096], plan_sha[65] = "";
    pthread_t *threads = NULL;
    int nthreads = 1;
    int json = 0, rc, any_failed = 0, any_error = 0, plan_changed = 0;
    size_t i, k;
    struct po_option opts[] = {
        OPT_INT("jobs", 0, &nthreads, 1, 64, "N",
                "run up to N independent jobs at once ('after' orders them)"),
        OPT_FLAG("resume", 0, &S.opts.resume,
                 "continue an interrupted job after its last committed "
                 "batch"),
        OPT_FLAG("restart", 0, &S.opts.restart,
                 "start over even where the mode (append, incremental) "
                 "would refuse to: an incremental job reads from the "
                 "beginning, a completed append job loads every row again"),
        OPT_FLAG("retry-rejects", 0, &S.opts.retry_rejects,
                 "load the rejected rows again (after the mapping was "
                 "fixed); the rows that load leave the file, the rest stays"),
        OPT_INT64("batch-size", 0, &S.opts.batch_size, 1, PO_NO_MAX, "N",
                  "rows per batch (default: the job's, else 10000)"),
        OPT_FLAG("json", 'j', &json,
                 "{\"jobs\":[{job, read, written, rejected, bytes, seconds, "
                 "outcome, ...}]}"),
        OPT_STATE(&state_opt),
        OPT_AS(&as),
        OPT_PLAN_CHANGED(&plan_changed),
        OPT_ARGS(1, -1, "a plan file"),
    };

    memset(&S, 0, sizeof(S));
    if ((rc = cli_parse(&cmd_sync, opts, argc, argv)) >= 0)
        return rc;
    if (S.opts.resume + S.opts.restart + S.opts.retry_rejects > 1)
        return cli_usage("sync", "--resume, --restart and --retry-rejects "
                                 "exclude each other");
    plan_path = argv[optind];
    if (!strcmp(plan_path, CLI_RUN_PLAN) && state_opt)
        setenv("GOLIVE_STATE", state_opt, 1); /* @run: the run in --state */
    if ((rc = cli_load_plan(plan_path, 0, 1, &plan))) {
        if (rc == EXIT_NO)
            cli_error("plan '%s' has errors; 'golive validate' shows them",
                      plan_path);
        gl_plan_free(plan);
        return rc;
    }
    cli_state_path(state_opt, plan_path, state, sizeof(state));
    if ((rc = cli_plan_matches_run(plan_path, state, plan_changed, plan_sha))) {
        gl_plan_free(plan);
        return rc;
    }
    S.plan = plan;
    S.jobs = calloc(plan->n_sync + 1, sizeof(*S.jobs));
    if (!S.jobs) {
        gl_plan_free(plan);
        return EXIT_ERROR;
    }
    if (argc - optind == 1) {
        for (i = 0; i < plan->n_sync; i++)
            S.jobs[S.n++] = &plan->sync[i];
    } else {
        for (k = (size_t)optind + 1; k < (size_t)argc; k++) {
            const struct gl_sync_job *j = gl_plan_job(plan, argv[k]);
            if (!j) {
                const char *names[256];
                const char *hint;
                size_t n = 0;
                for (i = 0; i < plan->n_sync && n < 256; i++)
                    names[n++] = plan->sync[i].id.id;
                hint = gl_suggest(argv[k], names, n);
                rc = cli_usage("sync", "no sync job '%s' in the plan%s%s%s",
                               argv[k], hint ? "; did you mean '" : "",
                               hint ? hint : "", hint ? "'?" : "");
                free(S.jobs);
                gl_plan_free(plan);
                return rc;
            }
            for (i = 0; i < S.n && S.jobs[i] != j; i++)
                ;
            if (i == S.n)
                S.jobs[S.n++] = j;
        }
    }
    S.state = calloc(S.n + 1, sizeof(int));
    S.res = calloc(S.n + 1, sizeof(*S.res));
    S.rc = calloc(S.n + 1, sizeof(int));
    S.prog = calloc(S.n + 1, sizeof(*S.prog));
    S.skipped = calloc(S.n + 1, sizeof(int));
    S.cause = calloc(S.n + 1, sizeof(*S.cause));
    S.x = calloc(S.n + 1, sizeof(*S.x));
    threads = calloc((size_t)nthreads, sizeof(*threads));
    if (!S.state || !S.res || !S.rc || !S.prog || !S.skipped || !S.cause ||
        !S.x || !threads) {
        rc = EXIT_ERROR;
        goto out;
    }
    S.dep = calloc(S.n * S.n + 1, 1);
    if (!S.dep) {
        rc = EXIT_ERROR;
        goto out;
    }
    gl_db_global_init();
    cli_state_path(state_opt, plan_path, state, sizeof(state));
    if ((rc = order_jobs(&S, state)) != EXIT_OK)
        goto out;
    {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_stop;
        sa.sa_flags = SA_RESETHAND; /* a second one ends it at once */
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    }
    pthread_mutex_init(&S.smu, NULL);
    S.plan_sha = plan_sha;
    if ((rc = open_record(&S, state, as)) != EXIT_OK)
        goto out;
    S.opts.progress_ctx = &S;
    S.opts.started = on_started;
    S.opts.stop = &stop_sig;
    prepare_all(&S);
    if (!S.opts.resume && !S.opts.retry_rejects)
        clear_targets(&S);
    S.tty = cli_isatty_err() && !json;
    S.opts.progress = on_progress;
    S.opts.progress_ctx = &S;
    pthread_mutex_init(&S.mu, NULL);
    pthread_cond_init(&S.cv, NULL);
    if (nthreads > (int)S.n)
        nthreads = (int)(S.n ? S.n : 1);
    for (i = 0; i < (size_t)nthreads; i++)
        pthread_create(&threads[i], NULL, worker, &S);
    for (i = 0; i < (size_t)nthreads; i++)
        pthread_join(threads[i], NULL);
    if (S.tty)
        fputs("\r\033[K", stderr);
    pthread_mutex_destroy(&S.mu);
    pthread_cond_destroy(&S.cv);

    for (i = 0; i < S.n; i++) {
        any_failed |= S.res[i].failed || S.skipped[i];
        any_error |= S.rc[i] != GL_OK;
        /* a job that could not run at all: say so where errors go */
        if (S.rc[i] != GL_OK)
            cli_error("sync job '%s': %s", S.res[i].job, S.res[i].error);
    }
    if (json)
        print_json(&S);
    else
        print_table(&S);
    for (i = 0; i < S.n; i++)
        if (S.rc[i] == GL_EREFUSED)
            any_error = 3;
    rc = any_error == 3 ? EXIT_REFUSED
         : any_error    ? EXIT_ERROR
         : any_failed   ? EXIT_NO
                        : EXIT_OK;
    if (!stop_sig && rc != EXIT_OK)
        print_next_hint(&S, plan_path);
    if (stop_sig) {
        print_resume_hint(&S, plan_path);
        rc = 128 + stop_sig; /* 130 SIGINT, 143 SIGTERM */
    }
out:
    gl_store_close(S.store);
    for (i = 0; S.x && i < S.n; i++)
        gl_sync_exec_free(S.x[i]);
    free(S.x);
    free(S.skipped);
    free(S.cause);
    free(threads);
    free(S.state);
    free(S.res);
    free(S.rc);
    free(S.prog);
    free(S.dep);
    free(S.jobs);
    gl_plan_free(plan);
    return rc;
}

const struct gl_cmd cmd_sync = {
    "sync",
    "copy the old system's rows into the new one, job by job",
    "usage: golive sync PLAN [JOB...] [--jobs N] [--resume | --restart |\n"
    "                    --retry-rejects] [--batch-size N] [--json]\n"
    "                    [--state FILE] [--as PERSON] [--plan-changed]\n"
    "\n"
    "PLAN '@run' is the run's own copy of the plan (in $GOLIVE_STATE, else\n"
    "./golive.state): what a task's run: uses.  A plan file that differs\n"
    "from the run's plan is refused (exit 3) unless --plan-changed; 'golive\n"
    "run amend' takes a new plan into the run.\n"
    "\n"
    "Run the plan's sync jobs (all, or those named), each through the\n"
    "target's bulk path, in batches that commit together with the job's\n"
    "checkpoint (table golive_checkpoint in the target).  Rows that cannot\n"
    "be loaded are added to rejects/JOB.csv beside the plan with the\n"
    "execution and the reason (the file only grows): among them rows with\n"
    "a NULL key, and zero dates (MariaDB's 0000-00-00) or infinities\n"
    "(PostgreSQL's) that the target column cannot hold, unless the column\n"
    "says {from: c, unrepresentable: null} (then NULL is stored).  Each\n"
    "execution is recorded in the run from its start when the state store\n"
    "exists.  Ctrl-C (SIGINT) or SIGTERM: the jobs commit their batch in\n"
    "flight and stop, are recorded 'interrupted', and the command that\n"
    "continues is printed (exit 130 / 143).\n"
    "\n"
    "Before any target is emptied, every job connects to both sides, takes\n"
    "its lock in the target (one execution of a job at a time) and runs\n"
    "its SELECT for no rows.  A job after one that did not end ok (in this\n"
    "invocation, or in its latest recorded execution) is skipped.  An\n"
    "append job that completed already loads nothing.\n"
    "\n",
    "exit: 0 every job ok, 1 a job failed, passed its error limit or was\n"
    "      skipped, 2 usage or connection error, 3 refused (an interrupted\n"
    "      job needs --resume or --restart; the job is running already;\n"
    "      the plan file is not the run's), 130 / 143 stopped by SIGINT /\n"
    "      SIGTERM\n",
    run,
};
