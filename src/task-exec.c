/*
 * task-exec.c - run a task's command and report its end (see
 * task-exec.h).  sync and check run this very golive on the run's own
 * copy of the plan (@run), so they record their own events; shell runs
 * /bin/sh -c in the plan's folder.
 */
#include "task-exec.h"

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

static volatile sig_atomic_t interrupted, signals;

static void on_signal(int sig)
{
    interrupted = sig;
    signals++;
}

/* argv for the task's command (strings point into storage held by b). */
static int build_argv(const struct cli_run *r, const struct gl_task *t,
                      const char *self, const char *owner, const char *sync_opt,
                      char **argv, size_t max, char *words)
{
    size_t n = 0;
    char *save = NULL, *w;
    int sync = !strncmp(t->run, "sync ", 5);

    if (!strncmp(t->run, "shell ", 6)) {
        argv[n++] = (char *)"/bin/sh";
        argv[n++] = (char *)"-c";
        argv[n++] = (char *)t->run + 6;
        argv[n] = NULL;
        return 0;
    }
    argv[n++] = (char *)self;
    argv[n++] = (char *)(sync ? "sync" : "check");
    argv[n++] = (char *)CLI_RUN_PLAN;
    strcpy(words, t->run + (sync ? 5 : 6));
    for (w = strtok_r(words, " \t", &save); w && n + 7 < max;
         w = strtok_r(NULL, " \t", &save))
        argv[n++] = w;
    if (sync && sync_opt)
        argv[n++] = (char *)sync_opt;
    argv[n++] = (char *)"--state";
    argv[n++] = (char *)r->state;
    argv[n++] = (char *)"--as";
    argv[n++] = (char *)owner;
    argv[n] = NULL;
    return 0;
}

/* The last non-empty line of the file (for the failure note). */
static void last_line(const char *path, char *out, size_t n)
{
    struct gl_buf b = GL_BUF_INIT;
    const char *s, *e;

    out[0] = '\0';
    if (gl_buf_read_file(&b, path, 0))
        return;
    s = gl_buf_str(&b);
    e = s + strlen(s);
    while (e > s && (e[-1] == '\n' || e[-1] == '\r'))
        e--;
    {
        const char *l = e;
        while (l > s && l[-1] != '\n')
            l--;
        snprintf(out, n, "%.*s", (int)(e - l), l);
    }
    gl_buf_release(&b);
}

static double mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Supervise: start the command, wait for it (timeout, signals), report
 * the task's end as its owner.  store: an open store of this process. */
static int supervise(gl_store *store, const struct cli_run *r,
                     const struct gl_task *t, const char *owner,
                     const char *out_path, const char *sync_opt, int detached,
                     int json)
{
    char self[PATH_MAX], host[256] = "", note[5400], line[900], words[4096],
                         now_owner[128];
    char *argv[300];
    struct gl_actor who;
    struct gl_err err;
    struct sigaction sa;
    const char *from, *to;
    pid_t child;
    int status = 0, timed_out = 0, rc, fd, out, pfd[2], gfd[2], sig = 0,
        echo = !detached && !json;
    double t0, killed_at = 0, ended = 0;
    ssize_t n;

    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        cli_error("cannot find this golive's own path");
        return EXIT_ERROR;
    }
    self[n] = '\0';
    if (strlen(t->run) >= sizeof(words)) {
        cli_error("task '%s': its run: is too long", t->id.id);
        return EXIT_ERROR;
    }
    build_argv(r, t, self, owner, sync_opt, argv,
               sizeof(argv) / sizeof(argv[0]), words);
    gethostname(host, sizeof(host) - 1);
    who.person = owner;
    who.os_user = r->who.os_user;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (pipe(pfd)) {
        cli_error("cannot start task '%s': %s", t->id.id, strerror(errno));
        return EXIT_ERROR;
    }
    if (pipe(gfd)) {
        cli_error("cannot start task '%s': %s", t->id.id, strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return EXIT_ERROR;
    }
    child = fork();
    if (child < 0) {
        cli_error("cannot start task '%s': %s", t->id.id, strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        close(gfd[0]);
        close(gfd[1]);
        return EXIT_ERROR;
    }
    if (child == 0) {
        char go;
        /* its own process group: the supervisor signals all of it, and
         * the task is lost only when all of it is gone */
        setpgid(0, 0);
        close(pfd[0]);
        close(gfd[1]);
        /* runs once the run knows its process group */
        if (read(gfd[0], &go, 1) != 1)
            _exit(125);
        close(gfd[0]);
        fd = open("/dev/null", O_RDONLY);
        if (fd >= 0)
            dup2(fd, 0);
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        if (r->plan->dir && chdir(r->plan->dir) != 0)
            _exit(126);
        setenv("GOLIVE_STATE", r->state, 1);
        setenv("GOLIVE_TASK", t->id.id, 1);
        setenv("GOLIVE_USER", owner, 1);
        execv(argv[0], argv);
        fprintf(stderr, "golive: cannot run %s: %s\n", argv[0],
                strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    close(gfd[0]);
    setpgid(child, child);
    gl_err_clear(&err);
    if (gl_task_exec_record(store, &who, t->id.id, t->run, out_path,
                            (int64_t)getpid(), (int64_t)child, host, &err)) {
        close(gfd[1]); /* the child ends without running anything */
        close(pfd[0]);
        waitpid(child, NULL, 0);
        return cli_fail(&err);
    }
    if (write(gfd[1], "g", 1) != 1) {
        close(gfd[1]);
        close(pfd[0]);
        kill(-child, SIGKILL);
        waitpid(child, NULL, 0);
        cli_error("cannot start task '%s': %s", t->id.id, strerror(errno));
        return EXIT_ERROR;
    }
    close(gfd[1]);
    out = open(out_path, O_WRONLY | O_APPEND);
    t0 = mono();
    /* copy the output to its file (and to the terminal when not in the
     * background) while waiting; after the command ends, what is left in
     * the pipe is drained for a moment (a background grandchild may hold
     * it open) */
    for (;;) {
        struct pollfd pf = {pfd[0], POLLIN, 0};
        double now;
        if (pfd[0] >= 0 && poll(&pf, 1, 50) > 0) {
            char buf[8192];
            ssize_t got = read(pfd[0], buf, sizeof(buf));
            if (got > 0) {
                if (out >= 0 && write(out, buf, (size_t)got) < 0)
                    out = -1;
                if (echo)
                    fwrite(buf, 1, (size_t)got, stdout);
            } else if (got == 0) {
                close(pfd[0]);
                pfd[0] = -1;
            }
        } else if (pfd[0] < 0) {
            struct timespec nap = {0, 50 * 1000 * 1000};
            nanosleep(&nap, NULL);
        }
        now = mono();
        if (!ended) {
            pid_t w = waitpid(child, &status, WNOHANG);
            if (w == child || (w < 0 && errno != EINTR)) {
                if (w < 0)
                    status = 255 << 8;
                ended = now;
            }
        }
        if (ended && (pfd[0] < 0 || now - ended > 1.0))
            break;
        if (ended)
            continue;
        if (!killed_at && (interrupted || (t->timeout > 0 &&
                                           now - t0 >= (double)t->timeout))) {
            timed_out = !interrupted;
            /* Ctrl-C reaches the command as SIGINT; otherwise SIGTERM: a
             * sync commits its batch in flight and records the end */
            sig = interrupted == SIGINT ? SIGINT : SIGTERM;
            kill(-child, sig);
            killed_at = now;
        } else if (killed_at && (now - killed_at > (timed_out ? 5.0 : 30.0) ||
                                 signals > 1)) {
            /* a second Ctrl-C does not wait for the batch in flight */
            kill(-child, SIGKILL);
        }
    }
    if (pfd[0] >= 0)
        close(pfd[0]);
    if (out >= 0)
        close(out);
    if (echo)
        fflush(stdout);
    last_line(out_path, line, sizeof(line));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !killed_at) {
        snprintf(note, sizeof(note), "run: exit 0; output %s", out_path);
        rc = EXIT_OK;
    } else {
        char why[64], d[24];
        if (timed_out) {
            gl_duration_format(t->timeout, d);
            snprintf(why, sizeof(why), "timed out after %s", d);
        } else if (killed_at) {
            snprintf(why, sizeof(why), "interrupted (%s)",
                     sig == SIGINT ? "SIGINT" : "SIGTERM");
        } else if (WIFEXITED(status)) {
            snprintf(why, sizeof(why), "exit %d", WEXITSTATUS(status));
        } else {
            snprintf(why, sizeof(why), "killed by signal %d",
                     WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        }
        snprintf(note, sizeof(note), "run: %s; output %s%s%s", why, out_path,
                 line[0] ? "; last line: " : "", line);
        rc = EXIT_NO;
    }
    /* reported by whoever owns the task now (a handover may have moved
     * it while it ran) */
    gl_err_clear(&err);
    if (!gl_task_owner(store, r->plan, t->id.id, now_owner, sizeof(now_owner),
                       &err))
        who.person = now_owner;
    gl_err_clear(&err);
    if (gl_task_act(store, r->plan, r->info.switch_at, &who, t->id.id,
                    rc == EXIT_OK ? GL_ACT_DONE : GL_ACT_FAIL, 0, note, r->now,
                    &from, &to, &err)) {
        cli_warn("task '%s' ended (%s) but was not recorded: %s", t->id.id,
                 note, err.msg);
        return EXIT_ERROR;
    }
    if (!detached) {
        if (json)
            cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "task", t->id.id,
                                     "to", to, "output", out_path, "note",
                                     note),
                           0);
        else
            printf("task %s: running -> %s (%s)\n", t->id.id, to, note);
        if (!json && killed_at && !timed_out && !strncmp(t->run, "sync ", 5))
            printf("its sync continues with: golive task reopen %s; golive "
                   "task start %s --resume\n",
                   t->id.id, t->id.id);
    }
    if (killed_at && !timed_out)
        return 128 + sig; /* 130 SIGINT, 143 SIGTERM */
    return rc;
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
    char dir[4096], out_path[4300], *slash;
    static char owner[128];
    struct gl_err err;
    pid_t pid;
    int fd;

    /* the owner runs it, also when the lead forced the start */
    gl_err_clear(&err);
    if (gl_task_owner(r->s, r->plan, t->id.id, owner, sizeof(owner), &err))
        return cli_fail(&err);
    snprintf(dir, sizeof(dir), "%s", r->state);
    slash = strrchr(dir, '/');
    if (slash)
        snprintf(slash + 1, sizeof(dir) - (size_t)(slash + 1 - dir),
                 "golive-output");
    else
        snprintf(dir, sizeof(dir), "golive-output");
    if (mkdir(dir, 0777) && errno != EEXIST) {
        cli_error("cannot make '%s': %s", dir, strerror(errno));
        return EXIT_ERROR;
    }
    {
        char abs[PATH_MAX];
        if (realpath(dir, abs))
            snprintf(dir, sizeof(dir), "%s", abs);
    }
    snprintf(out_path, sizeof(out_path), "%s/%s-%lld-%ld.log", dir, t->id.id,
             (long long)r->now, (long)getpid());
    fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0) {
        cli_error("cannot write '%s': %s", out_path, strerror(errno));
        return EXIT_ERROR;
    }
    close(fd);
    if (!detach)
        return supervise(r->s, r, t, owner, out_path, sync_opt, 0, json);

    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        cli_error("cannot start task '%s': %s", t->id.id, strerror(errno));
        return EXIT_ERROR;
    }
    if (pid == 0) {
        /* the supervisor in the background: its own session, and a fresh
         * golive (a forked copy must never touch SQLite again) */
        char self[PATH_MAX];
        char *av[] = {(char *)"golive",
                      (char *)"task",
                      (char *)"_supervise",
                      (char *)t->id.id,
                      (char *)"--output",
                      out_path,
                      (char *)"--state",
                      r->state,
                      (char *)"--as",
                      owner,
                      (char *)sync_opt, /* NULL ends it there */
                      NULL};
        ssize_t n;
        pid_t again;
        setsid();
        again = fork();
        if (again != 0)
            _exit(again < 0 ? 1 : 0);
        fd = open("/dev/null", O_RDWR);
        if (fd >= 0) {
            dup2(fd, 0);
            dup2(fd, 1);
        }
        fd = open(out_path, O_WRONLY | O_APPEND);
        if (fd >= 0)
            dup2(fd, 2);
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
            self[n] = '\0';
            execv(self, av);
        }
        fprintf(stderr, "golive: cannot start the supervisor: %s\n",
                strerror(errno));
        _exit(127);
    }
    waitpid(pid, NULL, 0);
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
