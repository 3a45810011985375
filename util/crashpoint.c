/*
 * crashpoint.c - see crashpoint.h.
 */
#include "crashpoint.h"

#include <signal.h>
#include <stdlib.h>

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
