/*
 * crashpoint.h - test-only fault injection, compiled only into test builds.
 *
 * The points exist when the library is built with -Dtest_points=true
 * (meson_options.txt; `make check` builds build-test/ and build-asan/ so),
 * which defines GL_TEST_POINTS.  Otherwise every call below compiles to
 * nothing and the binary carries no trace of them: `make` and `make demo`
 * build build/ without.
 *
 * When GOLIVE_TEST_CRASH_AT=k is set, the k-th call to gl_crashpoint() in
 * the process kills it with SIGKILL, as `kill -9` would.  Tests use it to
 * stop a command after every step in turn and prove the store survives.
 * Without the variable it costs one branch.
 *
 * Named points let a test stop a command at one moment and do something
 * to the world meanwhile (kill a database connection, send a signal):
 *
 *   GOLIVE_TEST_PAUSE=NAME:K  with  GOLIVE_TEST_PAUSE_FILE=PATH
 *       at the K-th pass of the point NAME, create PATH (holding the pid)
 *       and wait until the test removes it;
 *   GOLIVE_TEST_FAULT=NAME:K
 *       gl_faultpoint(NAME) is true at its K-th pass: the caller fails as
 *       if the connection had been lost there (SQLite has no connection a
 *       test could kill).
 */
#ifndef GOLIVE_CRASHPOINT_H
#define GOLIVE_CRASHPOINT_H

#ifdef GL_TEST_POINTS

void gl_crashpoint(void);

/* Pause here when GOLIVE_TEST_PAUSE names this point and pass (above). */
void gl_pausepoint(const char *name);

/* Non-zero when GOLIVE_TEST_FAULT names this point and pass (above). */
int gl_faultpoint(const char *name);

#else

/* A release build: no point, no variable read, no name kept. */
#define gl_crashpoint() ((void)0)
#define gl_pausepoint(name) ((void)0)
#define gl_faultpoint(name) 0

#endif

#endif
