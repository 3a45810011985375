/*
 * sync.h - the sync engine: copy one sync job's rows from the old system
 * into the new one.
 *
 * Rows stream from the source in key order (the job's query carries the
 * renames, casts and expressions; value maps, constants and defaults are
 * applied here), are fitted to the target's column types (nothing silently
 * rounded: such a value is a reject) and bulk-loaded in batches.  Each
 * batch commits together with the job's checkpoint row in the target's
 * own table golive_checkpoint, so a job killed at any moment resumes after
 * the last committed key with nothing lost and nothing doubled.  A failing
 * batch is split in halves (savepoints) until the bad rows are found; they
 * go to the rejects file with the database's error.
 */
#ifndef GOLIVE_SYNC_H
#define GOLIVE_SYNC_H

#include <signal.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/plan.h"

struct gl_sync_progress {
    const char *job;
    int64_t read, written, rejected;
    int64_t total; /* rows the source holds for the job, -1 unknown */
    double seconds;
};

struct gl_sync_result;

struct gl_sync_opts {
    int resume;              /* continue after the checkpoint */
    int restart;             /* start over even where the mode forbids it */
    int retry_rejects;       /* load the rows of the rejects file again */
    const char *rejects_dir; /* NULL: "rejects" beside the plan */
    int64_t batch_size;      /* 0: the job's, else 10000 */
    void (*progress)(void *ctx, const struct gl_sync_progress *p);
    void *progress_ctx;
    /* Called (with progress_ctx) once the execution has its id and start
     * time, before it touches a database, so that it is recorded from its
     * start; a non-zero return (err set) and the execution does not run. */
    int (*started)(void *ctx, const struct gl_sync_result *r,
                   struct gl_err *err);
    /* When *stop becomes non-zero (a signal handler sets it), the batch in
     * flight is committed with its checkpoint and the job stops:
     * res->interrupted, and --resume continues it. */
    const volatile sig_atomic_t *stop;
};

struct gl_sync_result {
    char job[128];
    int64_t read, written, rejected, bytes;
    int64_t total;   /* source rows for the job (before this execution too) */
    int64_t skipped; /* rows already loaded by an earlier execution */
    double seconds;
    int64_t started, ended; /* epoch seconds */
    int failed;             /* the job failed (error limit, load error) */
    int interrupted;        /* stopped by opts.stop after a whole batch */
    int resumed;
    int locked_out; /* refused: another execution of the job holds its lock */
    char execution[48]; /* this execution's id (UTC start, pid): sorts by
                         * time; the rejects file names it per row */
    char mode[16];      /* "load", "resume", "retry-rejects", "none" */
    char error[1024];
    char note[512]; /* what the outcome does not say: "completed already" */
    char rejects_file[4096];
};

/* One execution of a job, in steps, so that nothing in any target
 * changes before every job of an invocation has reached both sides. */
typedef struct gl_sync_exec gl_sync_exec;

/* Prepare an execution of job j, changing nothing of the job's data:
 * connect to its target and take the job's lock there (one execution of
 * a job at a time, whatever process: refused with GL_EREFUSED naming the
 * holder; held until gl_sync_exec_free), write who holds it into the
 * target's golive_lock table, connect to the source and run the job's
 * source query once for no rows (LIMIT 0).  The source connection is closed
 * again: the run opens its own.  On failure res says why (failed = 1)
 * and *out is NULL; the codes are gl_sync_run's. */
int gl_sync_prepare(const struct gl_plan *p, const struct gl_sync_job *j,
                    const struct gl_sync_opts *o, gl_sync_exec **out,
                    struct gl_sync_result *res, struct gl_err *err);

/* Empty a truncate job's target and mark its checkpoint "not finished,
 * nothing loaded", in one transaction (so that the job, if it cannot run
 * now, is resumable and never counts as done).  The scheduler empties
 * referencing tables first, before any loads, so that a parent can be
 * emptied while children referenced it. */
int gl_sync_exec_clear(gl_sync_exec *x, struct gl_err *err);

/* Run the prepared execution (once).  Returns GL_OK when the job came to
 * an outcome (res->failed says which); another code, with err set, when
 * it could not run at all (a connection or usage error, GL_EREFUSED when
 * a rule forbids it).  res is filled in both cases. */
int gl_sync_exec_run(gl_sync_exec *x, struct gl_sync_result *res,
                     struct gl_err *err);

/* Close the execution's connections, which lets its lock go.  NULL is
 * fine. */
void gl_sync_exec_free(gl_sync_exec *x);

/* gl_sync_prepare, gl_sync_exec_run and gl_sync_exec_free in one: a job
 * run on its own. */
int gl_sync_run(const struct gl_plan *p, const struct gl_sync_job *j,
                const struct gl_sync_opts *o, struct gl_sync_result *res,
                struct gl_err *err);

/* The checkpoint table each target holds (one row per job). */
#define GL_SYNC_CHECKPOINT_DDL                                                 \
    "CREATE TABLE IF NOT EXISTS golive_checkpoint"                             \
    " (job VARCHAR(200) NOT NULL PRIMARY KEY, token VARCHAR(64) NOT NULL,"     \
    " batch BIGINT NOT NULL, last_key TEXT, watermark TEXT,"                   \
    " rows_read BIGINT NOT NULL, rows_written BIGINT NOT NULL,"                \
    " rows_rejected BIGINT NOT NULL, bytes BIGINT NOT NULL,"                   \
    " done INTEGER NOT NULL, updated_at VARCHAR(40) NOT NULL)"

/* Which of jobs[0..n) waits for which: dep[i * n + k] = 1 when job i runs
 * after job k, by 'after' or because i's target table references k's by a
 * foreign key (on the same system; never against an 'after').  Connects
 * to the targets to read their foreign keys. */
int gl_sync_dependencies(const struct gl_plan *p,
                         const struct gl_sync_job *const *jobs, size_t n,
                         unsigned char *dep, struct gl_err *err);

/* Whether job i's target (a truncate job) can be emptied without
 * breaking a foreign key: a table of its database that references it,
 * holds rows, and is not the target of another truncate job of jobs[0..n)
 * on the same system (emptied first, children before parents) would make
 * the emptying fail after the children were emptied.  *blocker gets that
 * table's name (malloc'd; the caller frees), NULL when there is none.
 * Connects to the target (a code with err set when it cannot). */
int gl_sync_empty_blocker(const struct gl_plan *p,
                          const struct gl_sync_job *const *jobs, size_t n,
                          size_t i, char **blocker, struct gl_err *err);

/* What job j's checkpoint in its target says of its latest execution:
 * *state 1 finished (its source was read to the end), 0 stopped or
 * emptied and not loaded since, -1 no checkpoint.  Connects to the
 * target (a code with err set when it cannot). */
int gl_sync_checkpoint_state(const struct gl_plan *p,
                             const struct gl_sync_job *j, int *state,
                             struct gl_err *err);

/* The scheduler: the jobs of one invocation, as `golive sync` (and any
 * other surface) runs them. */
enum { GL_SYNC_WAITING = 0, GL_SYNC_RUNNING = 1, GL_SYNC_ENDED = 2 };

/* One job of an invocation: where it is, how it ended. */
struct gl_sync_outcome {
    const struct gl_sync_job *job;
    int state;   /* GL_SYNC_WAITING (never started: stopped) ... _ENDED */
    int rc;      /* GL_OK, or the code it could not run with (res.error) */
    int skipped; /* not run: a job it comes after did not end ok */
    /* Once over, for a job that did not end ok: what its checkpoint says
     * (gl_sync_checkpoint_state: 0 goes on with --resume), -1 unknown. */
    int checkpoint;
    /* Skipped or refused for a job of the plan the invocation did not
     * run: the jobs ("a b", in plan order) to name with this one, once
     * repaired, for it to run (those it comes after, through each other,
     * whose latest execution did not end ok or that never ran); "" none */
    char needs[512];
    struct gl_sync_progress progress; /* the latest, while it runs */
    struct gl_sync_result res;
};

struct gl_store;
struct gl_actor;

struct gl_sync_sched_opts {
    /* resume, restart, retry_rejects, rejects_dir, batch_size and stop
     * (a signal handler sets it: no job starts, the running ones stop
     * after their batch); its progress and started are the scheduler's */
    struct gl_sync_opts sync;
    int threads; /* jobs at once (1..64) */
    /* The run's store (NULL: nothing recorded): each execution is
     * recorded there from its start, as who, with plan_sha256 (NULL or
     * "": the run's plan); the latest executions of jobs that the
     * selected ones come after are read from it. */
    struct gl_store *store;
    const struct gl_actor *who;
    const char *plan_sha256;
    /* Called, with the scheduler's lock held, whenever a running job
     * reports progress: every job's state and progress. */
    void (*progress)(void *ctx, const struct gl_sync_outcome *jobs, size_t n);
    /* Something the outcomes do not say ("execution of 'x' not
     * recorded: ..."); from any thread. */
    void (*warn)(void *ctx, const char *msg);
    void *ctx;
};

/* Run jobs[0..n) of plan p (distinct, in plan order): ordered by 'after'
 * and the targets' foreign keys (gl_sync_dependencies); a job after one
 * of the plan that is not selected and did not end ok is skipped; every
 * job is prepared (gl_sync_prepare) before any target is emptied; truncate
 * targets are emptied children first; then up to o->threads jobs run at
 * once, a job after one that did not end ok being skipped.  out[0..n)
 * gets each job's outcome.  GL_OK once the jobs were ordered (the
 * outcomes say how each ended), another code with err set when they
 * could not be (nothing ran). */
int gl_sync_schedule(const struct gl_plan *p,
                     const struct gl_sync_job *const *jobs, size_t n,
                     const struct gl_sync_sched_opts *o,
                     struct gl_sync_outcome *out, struct gl_err *err);

/* Whether a job of gl_sync_schedule ended ok; its outcome's name:
 * "skipped", "interrupted", "failed" or "ok". */
int gl_sync_outcome_ok(const struct gl_sync_outcome *o);
const char *gl_sync_outcome_name(const struct gl_sync_outcome *o);

/* The checks of `golive validate --online`, which need the databases:
 * tables and columns exist on both sides, NOT NULL target columns are
 * filled, source and target types fit, every distinct value of a
 * value-mapped column has a mapping, every table of a source system is
 * synced or excluded.  Diagnostics go to d at the plan's positions.
 * Returns GL_OK, or GL_EIO when a database could not be reached (its
 * diagnostic names the system). */
int gl_sync_check_online(const struct gl_plan *p, struct gl_diags *d,
                         struct gl_err *err);

#endif
