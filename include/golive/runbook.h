/*
 * runbook.h - tasks worked by their doer and signed off by their checker.
 *
 * A task moves pending -> running (start) -> done -> checked (check), or
 * to failed or skipped; reopen takes it back to pending.  It may start when
 * every task it depends on is checked (or skipped) and its 'at' has come;
 * the lead may start it earlier with force (past a dependency that is
 * not checked, only with a note; the event lists those dependencies).
 * Only its owner starts, finishes or fails it; only its checker, never
 * its owner nor anyone who did it (by the events), checks it.  A task
 * whose dependency failed is skipped only by the lead with force.  A
 * reopen reopens with the task every done or checked task that depends
 * on it (each its own event, each the reopener's to reopen).  Every move
 * is an event with its actor, in the transaction that changes the task.
 */
#ifndef GOLIVE_RUNBOOK_H
#define GOLIVE_RUNBOOK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/plan.h"
#include "golive/store.h"

enum gl_task_action {
    GL_ACT_START,
    GL_ACT_DONE,
    GL_ACT_FAIL,
    GL_ACT_SKIP,
    GL_ACT_CHECK,
    GL_ACT_REOPEN,
};

/* Parse "start", "done", ...; -1 when unknown. */
int gl_task_action_parse(const char *s);

/* Move task id as who asks.  now: epoch seconds; switch_at: the run's T0.
 * GL_EDENIED (not for who asks: the message says who may), GL_EREFUSED
 * (not now: the message says what must happen first), GL_ENOTFOUND (no
 * such task), GL_EUSAGE (a note needed is missing: none or only
 * blanks) or GL_OK; *from / *to get the states (static strings) of task
 * id itself.  note is required to skip, and to force a start past a
 * dependency that is not checked.  A reopen is refused while a task that
 * depends on it runs. */
int gl_task_act(gl_store *s, const struct gl_plan *p, int64_t switch_at,
                const struct gl_actor *who, const char *id,
                enum gl_task_action act, int force, const char *note,
                int64_t now, const char **from, const char **to,
                struct gl_err *err);

/* gl_task_act, and *also (new reference, when also is not NULL and the
 * move is made) the other tasks the move took with it: a reopen's
 * dependents taken back, [{"task", "from", "to"}] in plan order ([] for
 * none).  NULL on failure. */
int gl_task_act_also(gl_store *s, const struct gl_plan *p, int64_t switch_at,
                     const struct gl_actor *who, const char *id,
                     enum gl_task_action act, int force, const char *note,
                     int64_t now, const char **from, const char **to,
                     json_t **also, struct gl_err *err);

/* What person may do with task id now: *out gets (new reference) one
 * entry per action, in the order start, done, fail, skip, check, reopen:
 * {"action", "allowed": true} or {"action", "allowed": false, "reason",
 * "code": "forbidden" (someone else may: the reason says who) |
 * "conflict" (not now: the reason says what must happen first)}; a start
 * refused that the lead may make with force carries "force": true.  Each
 * is gl_task_act's own decision made without moving anything (a skip's
 * note taken as given); the rows are read as they are (the move itself
 * checks them against their events).  GL_ENOTFOUND for no such task. */
int gl_task_actions(gl_store *s, const struct gl_plan *p, int64_t switch_at,
                    const char *person, const char *id, int64_t now,
                    json_t **out, struct gl_err *err);

/* Who owns task id now (a handover may have changed the plan's owner). */
int gl_task_owner(gl_store *s, const struct gl_plan *p, const char *id,
                  char *owner, size_t n, struct gl_err *err);

/* Who owns task id and who checks it now (handovers included); checker
 * may be NULL. */
int gl_task_crew(gl_store *s, const struct gl_plan *p, const char *id,
                 char *owner, size_t n, char *checker, size_t m,
                 struct gl_err *err);

/* The output file of task id's latest run: (absolute path) into path;
 * GL_ENOTFOUND when there is no such task or it never ran. */
int gl_task_output(gl_store *s, const struct gl_plan *p, const char *id,
                   char *path, size_t n, struct gl_err *err);

/* Record that a running task's run: is being executed by process pid on
 * host (its command in process group pgid), its output going to the file
 * output: a "task.exec" event and the task's row (a running task is lost
 * when its supervisor and every process of the group are gone). */
int gl_task_exec_record(gl_store *s, const struct gl_actor *who, const char *id,
                        const char *run, const char *output, int64_t pid,
                        int64_t pgid, const char *host, struct gl_err *err);

#endif
