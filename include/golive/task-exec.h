/*
 * task-exec.h - running a task's `run:` (sync JOB..., check CHECK...,
 * shell CMD) once it is running: the command starts in a process group of
 * its own, its output goes to a file (and to a callback), a supervisor
 * waits for it, stops it at the task's timeout or when asked, and reports
 * the task done or failed in the run as its owner.  Surfaces choose the
 * output file's place (gl_task_output_file), install the signal handlers
 * and render the result; the library prints nothing.
 */
#ifndef GOLIVE_TASK_EXEC_H
#define GOLIVE_TASK_EXEC_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/plan.h"
#include "golive/store.h"

struct gl_task_run_opts {
    const char *self;       /* the golive binary a sync or check runs with */
    const char *state;      /* the run's store (GOLIVE_STATE, --state) */
    const char *owner;      /* who runs it (the task's owner) */
    const char *os_user;    /* recorded beside the owner */
    const char *sync_opt;   /* "--resume", "--restart" (a sync) or NULL */
    const char *out_path;   /* the output file (exists, written appending) */
    int64_t switch_at, now; /* the run's T0, the time it is reported at */
    /* The command's output as it comes, besides the file (NULL: none). */
    void (*output)(void *ctx, const char *buf, size_t n);
    void *ctx;
    /* Set by the surface's signal handler: *stop the signal (SIGINT is
     * passed on as SIGINT, anything else as SIGTERM; a second one, or no
     * end after 30 s, SIGKILL), *stops how many came. */
    const volatile sig_atomic_t *stop, *stops;
};

struct gl_task_run_result {
    int ok;          /* the command ended with exit 0 */
    int timed_out;   /* stopped at the task's timeout */
    int interrupted; /* stopped because *stop was set: sig was sent */
    int sig;
    int unrecorded;  /* it ended, but its end could not be recorded */
    const char *to;  /* the task's state after (static), NULL unrecorded */
    char note[5400]; /* "run: exit 0; output FILE" or why it failed */
};

/* Run task t's command and supervise it until it ends (see above); its
 * start is recorded (gl_task_exec_record) before it runs, its end as
 * done or failed (gl_task_act) with res->note.  GL_OK when it came to an
 * end (res->ok says which, res->unrecorded with err set when the end was
 * not recorded); another code with err set when it could not start. */
int gl_task_run(gl_store *store, const struct gl_plan *p,
                const struct gl_task *t, const struct gl_task_run_opts *o,
                struct gl_task_run_result *res, struct gl_err *err);

/* A fresh output file for task t, golive-output/TASK-NOW-PID.log beside
 * the store at state (the folder made when missing): its absolute path
 * into path. */
int gl_task_output_file(const char *state, const struct gl_task *t, int64_t now,
                        char *path, size_t n, struct gl_err *err);

/* Run task t's command in the background, supervised (gl_task_run) by a
 * fresh `self task _supervise ID --output out_path --state state --as
 * owner [sync_opt]` in a session of its own, nobody's child (a double
 * fork), with every signal at its default and unblocked, no descriptor
 * of the caller's but its stderr, which goes to out_path.  For a task
 * running already; the call returns once the supervisor is on its way.
 * The CLI's `task start --detach` and a start through `golive serve`. */
int gl_task_detach(const char *self, const char *state, const struct gl_task *t,
                   const char *owner, const char *out_path,
                   const char *sync_opt, struct gl_err *err);

#endif
