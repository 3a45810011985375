/*
 * crashpoint.h - test-only fault injection.
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

void gl_crashpoint(void);

/* Pause here when GOLIVE_TEST_PAUSE names this point and pass (above). */
void gl_pausepoint(const char *name);

/* Non-zero when GOLIVE_TEST_FAULT names this point and pass (above). */
int gl_faultpoint(const char *name);

#endif
