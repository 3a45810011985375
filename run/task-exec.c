/*
 * task-exec.c - running a task's `run:` under a supervisor (see
 * golive/task-exec.h): the command in a process group of its own, its
 * output copied to a file, a timeout, signals passed on, the end reported
 * as the task's owner.
 */
#include "golive/task-exec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "golive/runbook.h"
#include "util/buf.h"
#include "util/clock.h"

/* argv for the task's command (strings point into words and t). */
static void build_argv(const struct gl_task_run_opts *o,
                       const struct gl_task *t, char **argv, size_t max,
                       char *words)
{
    size_t n = 0;
    char *save = NULL, *w;
    int sync = !strncmp(t->run, "sync ", 5);

    if (!strncmp(t->run, "shell ", 6)) {
        argv[n++] = (char *)"/bin/sh";
        argv[n++] = (char *)"-c";
        argv[n++] = (char *)t->run + 6;
        argv[n] = NULL;
        return;
    }
    argv[n++] = (char *)o->self;
    argv[n++] = (char *)(sync ? "sync" : "check");
    argv[n++] = (char *)"@run"; /* the run's own copy of the plan */
    strcpy(words, t->run + (sync ? 5 : 6));
    for (w = strtok_r(words, " \t", &save); w && n + 7 < max;
         w = strtok_r(NULL, " \t", &save))
        argv[n++] = w;
    if (sync && o->sync_opt)
        argv[n++] = (char *)o->sync_opt;
    argv[n++] = (char *)"--state";
    argv[n++] = (char *)o->state;
    argv[n++] = (char *)"--as";
    argv[n++] = (char *)o->owner;
    argv[n] = NULL;
}

/* The last non-empty line of the file (for the failure note). */
static void last_line(const char *path, char *out, size_t n)
{
    struct gl_buf b = GL_BUF_INIT;
    const char *s, *e, *l;

    out[0] = '\0';
    if (gl_buf_read_file(&b, path, 0))
        return;
    s = gl_buf_str(&b);
    e = s + strlen(s);
    while (e > s && (e[-1] == '\n' || e[-1] == '\r'))
        e--;
    l = e;
    while (l > s && l[-1] != '\n')
        l--;
    snprintf(out, n, "%.*s", (int)(e - l), l);
    gl_buf_release(&b);
}

static double mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The child: its own process group (the supervisor signals all of it,
 * and the task is lost only when all of it is gone), run once the run
 * knows that group (a byte on go).  Never returns. */
static void child_exec(const struct gl_plan *p, const struct gl_task *t,
                       const struct gl_task_run_opts *o, char **argv, int go,
                       int out)
{
    char byte;
    int fd;

    setpgid(0, 0);
    if (read(go, &byte, 1) != 1)
        _exit(125);
    close(go);
    fd = open("/dev/null", O_RDONLY);
    if (fd >= 0)
        dup2(fd, 0);
    dup2(out, 1);
    dup2(out, 2);
    if (p->dir && chdir(p->dir) != 0)
        _exit(126);
    setenv("GOLIVE_STATE", o->state, 1);
    setenv("GOLIVE_TASK", t->id.id, 1);
    setenv("GOLIVE_USER", o->owner, 1);
    execv(argv[0], argv);
    /* into the task's output (its file), where its owner reads it */
    dprintf(2, "golive: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Start the command (recorded before it runs): *child, and *rd the read
 * end of its output. */
static int spawn(gl_store *store, const struct gl_plan *p,
                 const struct gl_task *t, const struct gl_task_run_opts *o,
                 char **argv, pid_t *child, int *rd, struct gl_err *err)
{
    struct gl_actor who = {o->owner, o->os_user};
    char host[256] = "";
    int pfd[2], gfd[2], rc;

    if (pipe(pfd))
        return gl_err_set(err, GL_EIO, "cannot start task '%s': %s", t->id.id,
                          strerror(errno));
    if (pipe(gfd)) {
        rc = gl_err_set(err, GL_EIO, "cannot start task '%s': %s", t->id.id,
                        strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return rc;
    }
    *child = fork();
    if (*child < 0) {
        rc = gl_err_set(err, GL_EIO, "cannot start task '%s': %s", t->id.id,
                        strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        close(gfd[0]);
        close(gfd[1]);
        return rc;
    }
    if (*child == 0) {
        close(pfd[0]);
        close(gfd[1]);
        child_exec(p, t, o, argv, gfd[0], pfd[1]);
    }
    close(pfd[1]);
    close(gfd[0]);
    setpgid(*child, *child);
    gethostname(host, sizeof(host) - 1);
    if ((rc = gl_task_exec_record(store, &who, t->id.id, t->run, o->out_path,
                                  (int64_t)getpid(), (int64_t)*child, host,
                                  err)) ||
        write(gfd[1], "g", 1) != 1) {
        if (!rc)
            rc = gl_err_set(err, GL_EIO, "cannot start task '%s': %s", t->id.id,
                            strerror(errno));
        close(gfd[1]); /* the child ends without running anything */
        close(pfd[0]);
        kill(-*child, SIGKILL);
        waitpid(*child, NULL, 0);
        return rc;
    }
    close(gfd[1]);
    *rd = pfd[0];
    return GL_OK;
}

/* What the supervision saw. */
struct watch {
    int status, timed_out, sig;
    double killed_at;
};

/* Copy what is there to read of the output (to its file, to the
 * callback); the pipe is closed at its end. */
static void pump_once(int *rd, int *out, const struct gl_task_run_opts *o)
{
    struct pollfd pf = {*rd, POLLIN, 0};
    char buf[8192];
    ssize_t got;

    if (*rd < 0) {
        struct timespec nap = {0, 50 * 1000 * 1000};
        nanosleep(&nap, NULL);
        return;
    }
    if (poll(&pf, 1, 50) <= 0)
        return;
    got = read(*rd, buf, sizeof(buf));
    if (got > 0) {
        if (*out >= 0 && write(*out, buf, (size_t)got) < 0)
            *out = -1;
        if (o->output)
            o->output(o->ctx, buf, (size_t)got);
    } else if (got == 0) {
        close(*rd);
        *rd = -1;
    }
}

/* Wait for the child, copying its output; after it ends, what is left in
 * the pipe is drained for a moment (a background grandchild may hold it
 * open).  Stops it at the timeout or when asked. */
static void supervise(const struct gl_task *t, const struct gl_task_run_opts *o,
                      pid_t child, int rd, struct watch *W)
{
    int out = open(o->out_path, O_WRONLY | O_APPEND);
    double t0 = mono(), ended = 0;
    int stop;

    memset(W, 0, sizeof(*W));
    for (;;) {
        double now;
        pump_once(&rd, &out, o);
        now = mono();
        if (!ended) {
            pid_t w = waitpid(child, &W->status, WNOHANG);
            if (w == child || (w < 0 && errno != EINTR)) {
                if (w < 0)
                    W->status = 255 << 8;
                ended = now;
            }
        }
        if (ended && (rd < 0 || now - ended > 1.0))
            break;
        if (ended)
            continue;
        stop = o->stop ? *o->stop : 0;
        if (!W->killed_at &&
            (stop || (t->timeout > 0 && now - t0 >= (double)t->timeout))) {
            W->timed_out = !stop;
            /* Ctrl-C reaches the command as SIGINT; otherwise SIGTERM: a
             * sync commits its batch in flight and records the end */
            W->sig = stop == SIGINT ? SIGINT : SIGTERM;
            kill(-child, W->sig);
            W->killed_at = now;
        } else if (W->killed_at &&
                   (now - W->killed_at > (W->timed_out ? 5.0 : 30.0) ||
                    (o->stops && *o->stops > 1))) {
            /* a second Ctrl-C does not wait for the batch in flight */
            kill(-child, SIGKILL);
        }
    }
    if (rd >= 0)
        close(rd);
    if (out >= 0)
        close(out);
}

/* How it ended, in words, into res. */
static void end_note(const struct gl_task *t, const struct gl_task_run_opts *o,
                     const struct watch *W, struct gl_task_run_result *res)
{
    char line[900], why[64], d[24];

    last_line(o->out_path, line, sizeof(line));
    res->timed_out = W->timed_out;
    res->interrupted = W->killed_at && !W->timed_out;
    res->sig = W->sig;
    if (WIFEXITED(W->status) && WEXITSTATUS(W->status) == 0 && !W->killed_at) {
        res->ok = 1;
        snprintf(res->note, sizeof(res->note), "run: exit 0; output %s",
                 o->out_path);
        return;
    }
    if (W->timed_out) {
        gl_duration_format(t->timeout, d);
        snprintf(why, sizeof(why), "timed out after %s", d);
    } else if (W->killed_at) {
        snprintf(why, sizeof(why), "interrupted (%s)",
                 W->sig == SIGINT ? "SIGINT" : "SIGTERM");
    } else if (WIFEXITED(W->status)) {
        snprintf(why, sizeof(why), "exit %d", WEXITSTATUS(W->status));
    } else {
        snprintf(why, sizeof(why), "killed by signal %d",
                 WIFSIGNALED(W->status) ? WTERMSIG(W->status) : 0);
    }
    snprintf(res->note, sizeof(res->note), "run: %s; output %s%s%s", why,
             o->out_path, line[0] ? "; last line: " : "", line);
}

int gl_task_run(gl_store *store, const struct gl_plan *p,
                const struct gl_task *t, const struct gl_task_run_opts *o,
                struct gl_task_run_result *res, struct gl_err *err)
{
    char words[4096], now_owner[128];
    char *argv[300];
    struct gl_actor who = {o->owner, o->os_user};
    struct gl_err e2;
    struct watch W;
    const char *from;
    pid_t child = -1;
    int rd = -1, rc;

    memset(res, 0, sizeof(*res));
    if (strlen(t->run) >= sizeof(words))
        return gl_err_set(err, GL_EUSAGE, "task '%s': its run: is too long",
                          t->id.id);
    build_argv(o, t, argv, sizeof(argv) / sizeof(argv[0]), words);
    if ((rc = spawn(store, p, t, o, argv, &child, &rd, err)))
        return rc;
    supervise(t, o, child, rd, &W);
    end_note(t, o, &W, res);
    /* reported by whoever owns the task now (a handover may have moved
     * it while it ran) */
    gl_err_clear(&e2);
    if (!gl_task_owner(store, p, t->id.id, now_owner, sizeof(now_owner), &e2))
        who.person = now_owner;
    if (gl_task_act(store, p, o->switch_at, &who, t->id.id,
                    res->ok ? GL_ACT_DONE : GL_ACT_FAIL, 0, res->note, o->now,
                    &from, &res->to, err)) {
        res->unrecorded = 1;
        res->to = NULL;
    }
    return GL_OK;
}

int gl_task_output_file(const char *state, const struct gl_task *t, int64_t now,
                        char *path, size_t n, struct gl_err *err)
{
    char dir[4096], abs[PATH_MAX], *slash;
    int fd;

    snprintf(dir, sizeof(dir), "%s", state);
    slash = strrchr(dir, '/');
    if (slash)
        snprintf(slash + 1, sizeof(dir) - (size_t)(slash + 1 - dir),
                 "golive-output");
    else
        snprintf(dir, sizeof(dir), "golive-output");
    if (mkdir(dir, 0777) && errno != EEXIST)
        return gl_err_set(err, GL_EIO, "cannot make '%s': %s", dir,
                          strerror(errno));
    if (realpath(dir, abs))
        snprintf(dir, sizeof(dir), "%s", abs);
    snprintf(path, n, "%s/%s-%lld-%ld.log", dir, t->id.id, (long long)now,
             (long)getpid());
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return gl_err_set(err, GL_EIO, "cannot write '%s': %s", path,
                          strerror(errno));
    close(fd);
    return GL_OK;
}

int gl_task_detach(const char *self, const char *state, const struct gl_task *t,
                   const char *owner, const char *out_path,
                   const char *sync_opt, struct gl_err *err)
{
    char *av[] = {(char *)"golive",
                  (char *)"task",
                  (char *)"_supervise",
                  (char *)t->id.id,
                  (char *)"--output",
                  (char *)out_path,
                  (char *)"--state",
                  (char *)state,
                  (char *)"--as",
                  (char *)owner,
                  (char *)sync_opt, /* NULL ends it there */
                  NULL};
    pid_t pid;
    int status = 0;

    pid = fork();
    if (pid < 0)
        return gl_err_set(err, GL_EIO, "cannot start task '%s': %s", t->id.id,
                          strerror(errno));
    if (pid == 0) {
        /* the supervisor in the background: its own session, and a fresh
         * golive (a forked copy must never touch SQLite again); only
         * async-signal-safe calls here, the parent may have threads */
        struct sigaction sa;
        sigset_t none;
        pid_t again;
        int fd, sig;
        setsid();
        again = fork();
        if (again != 0)
            _exit(again < 0 ? 1 : 0);
        /* what a server blocked or ignored in its threads, back to the
         * defaults: the supervisor's own handlers must get their signals */
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_DFL;
        for (sig = 1; sig < 32; sig++)
            if (sig != SIGKILL && sig != SIGSTOP)
                sigaction(sig, &sa, NULL);
        fd = open("/dev/null", O_RDWR);
        if (fd >= 0) {
            dup2(fd, 0);
            dup2(fd, 1);
        }
        fd = open(out_path, O_WRONLY | O_APPEND);
        if (fd >= 0)
            dup2(fd, 2);
        /* nothing else of the parent's (a server's sockets, its store) */
        for (fd = 3; fd < 1024; fd++)
            close(fd);
        execv(self, av);
        dprintf(2, "golive: cannot start the supervisor: %s\n",
                strerror(errno));
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status))
        return gl_err_set(err, GL_EIO,
                          "cannot start the supervisor of task '%s'", t->id.id);
    return GL_OK;
}
