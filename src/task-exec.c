/*
 * task-exec.c - `golive task start`'s side of running a task's command:
 * the signal handlers, the terminal, the background supervisor (a fresh
 * `golive task _supervise` process); the supervision itself is the
 * library's (gl_task_run, run/task-exec.c).  sync and check run this very
 * golive on the run's own copy of the plan (@run), so they record their
 * own events; shell runs /bin/sh -c in the plan's folder.
 */
#include "task-exec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "golive/runbook.h"
#include "golive/task-exec.h"

static volatile sig_atomic_t interrupted, signals;

static void on_signal(int sig)
{
    interrupted = sig;
    signals++;
}

/* The command's output on the terminal, as it comes. */
static void echo_output(void *ctx, const char *buf, size_t n)
{
    (void)ctx;
    fwrite(buf, 1, n, stdout);
}

/* How the task ended, for people or as JSON. */
static void print_end(const struct gl_task *t, const char *out_path,
                      const struct gl_task_run_result *res, int json)
{
    if (json)
        cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "task", t->id.id, "to",
                                 res->to, "output", out_path, "note",
                                 res->note),
                       0);
    else
        printf("task %s: running -> %s (%s)\n", t->id.id, res->to, res->note);
    if (!json && res->interrupted && !strncmp(t->run, "sync ", 5))
        printf("its sync continues with: golive task reopen %s; golive "
               "task start %s --resume\n",
               t->id.id, t->id.id);
}

/* Supervise: start the command, wait for it (timeout, signals), report
 * the task's end as its owner (gl_task_run).  store: an open store of
 * this process. */
static int supervise(gl_store *store, const struct cli_run *r,
                     const struct gl_task *t, const char *owner,
                     const char *out_path, const char *sync_opt, int detached,
                     int json)
{
    char self[PATH_MAX];
    struct gl_task_run_opts o;
    struct gl_task_run_result res;
    struct gl_err err;
    struct sigaction sa;
    ssize_t n;

    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        cli_error("cannot find this golive's own path");
        return EXIT_ERROR;
    }
    self[n] = '\0';
    memset(&o, 0, sizeof(o));
    o.self = self;
    o.state = r->state;
    o.owner = owner;
    o.os_user = r->who.os_user;
    o.sync_opt = sync_opt;
    o.out_path = out_path;
    o.switch_at = r->info.switch_at;
    o.now = r->now;
    o.output = !detached && !json ? echo_output : NULL;
    o.stop = &interrupted;
    o.stops = &signals;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    gl_err_clear(&err);
    if (gl_task_run(store, r->plan, t, &o, &res, &err))
        return cli_fail(&err);
    if (o.output)
        fflush(stdout);
    if (res.unrecorded) {
        cli_warn("task '%s' ended (%s) but was not recorded: %s", t->id.id,
                 res.note, err.msg);
        return EXIT_ERROR;
    }
    if (!detached)
        print_end(t, out_path, &res, json);
    if (res.interrupted)
        return 128 + res.sig; /* 130 SIGINT, 143 SIGTERM */
    return res.ok ? EXIT_OK : EXIT_NO;
}

int task_sync_opt_check(const struct gl_task *t, const char *sync_opt)
{
    if (!sync_opt)
        return EXIT_OK;
    if (!t || !t->run || strncmp(t->run, "sync ", 5))
        return cli_usage(
            "task",
            "%s is for a task whose run: is a sync; task '%s' "
            "has %s%s",
            sync_opt, t ? t->id.id : "?",
            t && t->run ? "run: " : "no run:", t && t->run ? t->run : "");
    return EXIT_OK;
}

int task_supervise(struct cli_run *r, const struct gl_task *t,
                   const char *out_path, const char *sync_opt)
{
    int rc = supervise(r->s, r, t, r->who.person, out_path, sync_opt, 1, 0);

    if (rc == EXIT_ERROR)
        cli_error("task '%s' was not run", t->id.id);
    return rc;
}

int task_exec(struct cli_run *r, const struct gl_task *t, int detach, int json,
              const char *sync_opt)
{
    char out_path[4300], self[PATH_MAX];
    static char owner[128];
    struct gl_err err;
    ssize_t n;

    /* the owner runs it, also when the lead forced the start */
    gl_err_clear(&err);
    if (gl_task_owner(r->s, r->plan, t->id.id, owner, sizeof(owner), &err) ||
        gl_task_output_file(r->state, t, r->now, out_path, sizeof(out_path),
                            &err))
        return cli_fail(&err);
    if (!detach)
        return supervise(r->s, r, t, owner, out_path, sync_opt, 0, json);
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        cli_error("cannot find this golive's own path");
        return EXIT_ERROR;
    }
    self[n] = '\0';
    fflush(NULL);
    if (gl_task_detach(self, r->state, t, owner, out_path, sync_opt, &err))
        return cli_fail(&err);
    if (json)
        cli_print_json(json_pack("{s:s, s:s, s:s, s:b}", "task", t->id.id, "to",
                                 "running", "output", out_path, "detached", 1),
                       0);
    else
        printf("task %s: running in the background; output %s ('golive "
               "status' follows it)\n",
               t->id.id, out_path);
    return EXIT_OK;
}
