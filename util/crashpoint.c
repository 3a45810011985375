/*
 * crashpoint.c - see crashpoint.h; built only with -Dtest_points=true.
 */
#include "crashpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void gl_crashpoint(void)
{
    static long target = -1, count;

    if (target < 0) {
        const char *env = getenv("GOLIVE_TEST_CRASH_AT");
        target = env && *env ? strtol(env, NULL, 10) : 0;
    }
    if (target > 0 && ++count == target)
        raise(SIGKILL);
}

/* A point named by a variable ("NAME:K"), read once: a point is passed
 * per row, so the check must cost a comparison, not a getenv. */
struct point {
    int read;
    char name[64];
    long at, count;
};

static int hit(struct point *p, const char *env, const char *name)
{
    if (!p->read) {
        const char *v = getenv(env), *colon;
        p->read = 1;
        if (v && *v) {
            colon = strrchr(v, ':');
            snprintf(p->name, sizeof(p->name), "%.*s",
                     (int)(colon ? colon - v : (long)strlen(v)), v);
            p->at = colon ? strtol(colon + 1, NULL, 10) : 1;
        }
    }
    if (!p->name[0] || strcmp(p->name, name))
        return 0;
    return ++p->count == p->at;
}

void gl_pausepoint(const char *name)
{
    static struct point pt;
    const char *path;
    struct timespec ts = {0, 5 * 1000 * 1000};
    char pid[32];
    int fd;

    if (!hit(&pt, "GOLIVE_TEST_PAUSE", name) ||
        !(path = getenv("GOLIVE_TEST_PAUSE_FILE")))
        return;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return;
    snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (write(fd, pid, strlen(pid)) < 0)
        (void)0;
    close(fd);
    /* a signal that arrives meanwhile is recorded by its handler and
     * acted on after the pause, where the code would have seen it */
    while (access(path, F_OK) == 0)
        nanosleep(&ts, NULL);
}

int gl_faultpoint(const char *name)
{
    static struct point pt;

    return hit(&pt, "GOLIVE_TEST_FAULT", name);
}
