/*
 * common.h - what the run's modules (runbook, scenarios, defects, gate,
 * duty) share: store errors, roles, and events with a JSON payload.
 * Internal to run/.
 */
#ifndef GOLIVE_RUN_COMMON_H
#define GOLIVE_RUN_COMMON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/plan.h"
#include "golive/store.h"

/* GL_ESTORE with SQLite's message for the store's connection. */
int gl_run_fail_db(gl_store *s, struct gl_err *err);

/* Whether check id of p passed before the job it checks ran again (its
 * pass says nothing of the data now: stale): why gets "passed before job
 * 'J' ran again at T: run it again", or "" when it is not stale (or
 * checks no job).  The gate and status both ask. */
int gl_run_check_stale(gl_store *s, const struct gl_plan *p, const char *id,
                       char *why, size_t n, struct gl_err *err);

/* Whether person has role (enum gl_role bits) in the plan. */
int gl_run_has_role(const struct gl_plan *p, const char *person, unsigned role);

/* "ann, bob": the people with role, into buf; "nobody has the role" when
 * none.  Returns buf. */
const char *gl_run_names_with(const struct gl_plan *p, unsigned role, char *buf,
                              size_t n);

/* GL_OK when text (what: "a defect's title") is UTF-8 of at most max
 * bytes without control characters (with multiline, newlines and tabs
 * are allowed): people's text is printed to terminals and pages as it
 * is, so an escape sequence in it must not reach them.  Else GL_EUSAGE
 * saying which. */
int gl_run_text_ok(const char *what, const char *text, size_t max,
                   int multiline, struct gl_err *err);

/* Whether a note that a move needs says nothing: none, or only blanks
 * (spaces, tabs, newlines) - the same as no note. */
int gl_run_no_note(const char *note);

/* Append an event whose payload is the JSON object given (the reference
 * is taken, keys sorted).  Inside the caller's transaction. */
int gl_run_event(gl_store *s, const struct gl_actor *who, const char *kind,
                 json_t *payload, int64_t *seq, struct gl_err *err);

/* Whether the process pid that ran a task on host is gone (only decided
 * on the same host; elsewhere it is assumed alive). */
int gl_run_pid_gone(int64_t pid, const char *host);

/* The rows run.amend changes: plan version `version` (text, its sha and
 * path, taken at `at` by event seq), the run's plan version, the tasks and
 * scenarios brought in line with next.  gl_run_amend and the replay share
 * it; inside the caller's transaction. */
int gl_amend_project(gl_store *s, const struct gl_plan *cur,
                     const struct gl_plan *next, int version, const char *sha,
                     const char *path, const char *text, size_t len,
                     const char *at, int64_t seq, struct gl_err *err);
/* Whether a running task is lost: its supervisor pid is gone and so is
 * every process of its command's process group pgid (0: unknown), on the
 * same host. */
int gl_run_task_gone(int64_t pid, int64_t pgid, const char *host);

/* SQL functions for reading the store: golive_pid_gone(pid, host) (1 when
 * gl_run_pid_gone) tells a 'running' sync execution that died. */
int gl_run_sql_functions(gl_store *s, struct gl_err *err);

/* The outcome of a row of sync_runs as SQL: 'died' for one still
 * 'running' whose process is gone (needs gl_run_sql_functions). */
#define GL_RUN_SYNC_OUTCOME                                                    \
    "CASE WHEN outcome = 'running' AND golive_pid_gone(pid, host)"             \
    " THEN 'died' ELSE outcome END"

/* A task's planned times, fixed when it moves to running (start and end
 * from its task.start event, "" for none) and forgotten when it moves back
 * to pending; other moves keep them.  The runbook and the replay share it. */
int gl_task_set_planned(gl_store *s, const char *id, const char *next,
                        const char *start, const char *end, struct gl_err *err);

#endif
