/*
 * crashpoint.h - test-only fault injection.
 *
 * When GOLIVE_TEST_CRASH_AT=k is set, the k-th call to gl_crashpoint() in
 * the process kills it with SIGKILL, as `kill -9` would.  Tests use it to
 * stop a command after every step in turn and prove the store survives.
 * Without the variable it costs one branch.
 */
#ifndef GOLIVE_CRASHPOINT_H
#define GOLIVE_CRASHPOINT_H

void gl_crashpoint(void);

#endif
