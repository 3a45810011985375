/*
 * store-rows.h - the state store's rows for the run's modules (defects,
 * ...): plain values in, plain structs out, so that no module of run/
 * holds SQL or an SQLite type (run/store-*.c do).  Each call works inside
 * the caller's transaction unless it says otherwise.  Internal to run/.
 */
#ifndef GOLIVE_RUN_STORE_ROWS_H
#define GOLIVE_RUN_STORE_ROWS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/store.h"

/* ---- tasks (run/store-task.c) ---- */

/* Who a task's row names, and the process that runs it. */
struct gl_store_task {
    int found;       /* the run has the row */
    char owner[128]; /* "" when the row names none */
    char checker[128];
    int running; /* running, with a process recorded */
    int64_t pid, pgid;
    char host[256];
};

/* Task id's row into *t (t->found 0 when there is none). */
int gl_store_task_row(gl_store *s, const char *id, struct gl_store_task *t,
                      struct gl_err *err);

/* Record the process that runs task id (still running): GL_EREFUSED
 * "task 'id' is no longer running" when it is not. */
int gl_store_task_exec(gl_store *s, const char *id, int64_t pid,
                       const char *host, const char *output, int64_t pgid,
                       struct gl_err *err);

/* *did: whether person did task id since it was last reopened: started
 * it (a lead's forced start aside, unless forced_counts: a run: task's
 * start runs it) or reported it done, by the events
 * (task.start, task.done after the last task.reopen).  Four eyes: whoever
 * did a task never checks it, whatever its row or the plan say now. */
int gl_store_task_did(gl_store *s, const char *id, const char *person,
                      int forced_counts, int *did, struct gl_err *err);

/* *started: whether task id was ever started in this run (a task.start
 * event names it, whatever came after). */
int gl_store_task_ever_started(gl_store *s, const char *id, int *started,
                               struct gl_err *err);

/* The output file of task id's latest run: (task.exec), "" when none. */
int gl_store_task_output(gl_store *s, const char *id, char *out, size_t n,
                         struct gl_err *err);

/* ---- defects (run/store-defect.c) ---- */

/* A defect's row, as the state machine needs it. */
struct gl_store_defect {
    char state[16];
    char fixer[128]; /* "" when none */
    char severity[16];
};

/* The number the next defect gets (1 for the first). */
int gl_store_defect_next(gl_store *s, int64_t *n, struct gl_err *err);

/* A new defect n, 'open', opened by opened_by with event seq. */
int gl_store_defect_insert(gl_store *s, int64_t n, const char *scenario,
                           const char *severity, const char *title,
                           const char *opened_by, int64_t seq,
                           struct gl_err *err);

/* Defect n's row; GL_ENOTFOUND ("no defect D-n") when there is none. */
int gl_store_defect_get(gl_store *s, int64_t n, struct gl_store_defect *d,
                        struct gl_err *err);

/* Move defect n to state `to` by event seq; actor is recorded as its
 * fixer or verifier, and patch as its patch, as the move's table
 * (gl_defect_moves) says. */
int gl_store_defect_set_state(gl_store *s, int64_t n, const char *to,
                              const char *actor, const char *patch, int64_t seq,
                              struct gl_err *err);

/* Defect n's severity, by event seq. */
int gl_store_defect_set_severity(gl_store *s, int64_t n, const char *severity,
                                 int64_t seq, struct gl_err *err);

/* Every defect as a JSON array (malloc'd text, the caller frees it), or
 * NULL with err set. */
char *gl_store_defect_list(gl_store *s, struct gl_err *err);

/* ---- scenarios (run/store-scenario.c; gl_scenario_rows makes them) ---- */

/* Scenario id's row after a move by event seq: with taking, it is taken
 * by actor; else actor gave its result, with note (may be NULL). */
int gl_store_scenario_set(gl_store *s, const char *id, const char *state,
                          const char *actor, int64_t seq, const char *note,
                          int taking, struct gl_err *err);

/* The scenario to hand person next: the riskiest one that the
 * scenario table lets be taken (gl_scenario_moves), unassigned or
 * assigned to person; its id into id.  GL_ENOTFOUND when there is none. */
int gl_store_scenario_next(gl_store *s, const char *person, char *id, size_t n,
                           struct gl_err *err);

/* The scenario counts by tester (result_by, taken_by or assignee) and by
 * area: {"testers": {name: {state: count}}, "areas": {...}}, a new
 * reference, or NULL with err set. */
json_t *gl_store_scenario_counts(gl_store *s, struct gl_err *err);

/* Every scenario row, {id: {state, assignee, taken_by, result_by, note,
 * at}} (at: the time of the event that last moved it; absent values
 * null), a new reference, or NULL with err set. */
json_t *gl_store_scenario_list(gl_store *s, struct gl_err *err);

/* ---- the gate and the rollback (run/store-gate.c) ---- */

/* The state of task or scenario id (table is "tasks" or "scenarios") into
 * out; "" when the store has no row. */
int gl_store_state_of(gl_store *s, const char *table, const char *id, char *out,
                      size_t n, struct gl_err *err);

/* The outcome of the latest check.run event of check id; "" for none. */
/* (gl_store_check_result, under status, gives its message too.) */
int gl_store_check_outcome(gl_store *s, const char *id, char *out, size_t n,
                           struct gl_err *err);

/* Whether the latest check.run event of check id predates an execution
 * of sync job `job` (ended after it, or started after it and not ended;
 * one that loaded nothing, mode "none", does not count): *at gets that
 * execution's end (or start, *ended 0), "" when the check's result is
 * not older than the job's data. */
int gl_store_check_stale(gl_store *s, const char *id, const char *job, char *at,
                         size_t n, int *ended, struct gl_err *err);

/* Call each, in order, for every defect of severity rank (gl_defect_rank)
 * or worse that is open: not verified nor deferred, and a blocker even
 * when deferred. */
int gl_store_open_defects(gl_store *s, int rank,
                          void (*each)(void *ctx, int64_t n, const char *title,
                                       const char *state, const char *severity),
                          void *ctx, struct gl_err *err);

/* A decision row, made by event seq at time at. */
int gl_store_decision_insert(gl_store *s, const char *decision,
                             const char *note, const char *actor,
                             const char *at, const char *gate, int64_t seq,
                             struct gl_err *err);

/* 1 when the rollback has started, 0 when not, -1 on failure. */
int gl_store_rollback_started(gl_store *s);

/* The rollback starts at time at. */
int gl_store_rollback_set(gl_store *s, const char *at, struct gl_err *err);

/* ---- the report (run/store-report.c) ---- */

/* The parts of the night the report lists, in event order. */
enum gl_store_report_part {
    GL_STORE_REPORT_SYNCS,     /* job, mode, started, ended, read, written,
                                  rejected, seconds, outcome, error
                                  (needs gl_run_sql_functions) */
    GL_STORE_REPORT_CHECKS,    /* at, actor, check, type, outcome, source,
                                  target, missing, extra, changed, message */
    GL_STORE_REPORT_DECISIONS, /* at, actor, decision, note */
    GL_STORE_REPORT_CHANGES,   /* at, actor, kind, detail, payload */
};

/* The rows of part as a JSON array of arrays (a new reference): integers,
 * reals, strings, null as the store holds them. */
int gl_store_report_rows(gl_store *s, enum gl_store_report_part part,
                         json_t **out, struct gl_err *err);

/* Scenario id's [state, taken_by, result_by, note] into *row (a new
 * reference), or NULL when the store has no row for it. */
int gl_store_report_scenario(gl_store *s, const char *id, json_t **row,
                             struct gl_err *err);

/* ---- the hypercare log (run/store-duty.c) ---- */

/* The number the next duty entry gets (1 for the first). */
int gl_store_duty_next(gl_store *s, int64_t *n, struct gl_err *err);

/* A new duty entry n, logged at time at by actor with event seq; patch
 * may be NULL. */
int gl_store_duty_insert(gl_store *s, int64_t n, const char *at,
                         const char *actor, const char *channel,
                         const char *kind, const char *text, const char *patch,
                         int64_t seq, struct gl_err *err);

/* Entry n's text (malloc'd, the caller frees it) and defect (0 when
 * none); GL_ENOTFOUND ("no duty entry H-n") when there is none. */
int gl_store_duty_get(gl_store *s, int64_t n, char **text, int64_t *defect,
                      struct gl_err *err);

/* Entry n became defect D-defect. */
int gl_store_duty_set_defect(gl_store *s, int64_t n, int64_t defect,
                             struct gl_err *err);

/* Entry n is planned into patch. */
int gl_store_duty_set_patch(gl_store *s, int64_t n, const char *patch,
                            struct gl_err *err);

/* Every entry as a JSON array of objects (id "H-n", n, at, actor, channel,
 * kind, text, defect "D-n" or null, patch or null), a new reference in
 * *out; NULL with err set on failure.  n > 0: entry n alone (an array
 * of one, or empty). */
int gl_store_duty_list(gl_store *s, int64_t n, json_t **out,
                       struct gl_err *err);

/* Call each for the rows of the patch plan, ordered by patch name (NULL
 * first), then kind, then number: every deferred defect (kind 'D', what
 * its severity, text its title), then every duty entry (kind 'H', what its
 * kind) planned into a patch, or a request not planned yet (patch NULL),
 * unless it became a defect (a deferred one is listed as that defect). */
int gl_store_patch_rows(gl_store *s,
                        void (*each)(void *ctx, char kind, int64_t n,
                                     const char *patch, const char *what,
                                     const char *text),
                        void *ctx, struct gl_err *err);

/* ---- a new plan taken into the run (run/store-amend.c) ---- */

/* Call each, by id, for every scenario that is not pending. */
int gl_store_started_scenarios(gl_store *s,
                               void (*each)(void *ctx, const char *id,
                                            const char *state),
                               void *ctx, struct gl_err *err);

/* Call each for every actor of the run's events, each once, by name. */
int gl_store_event_actors(gl_store *s,
                          void (*each)(void *ctx, const char *actor), void *ctx,
                          struct gl_err *err);

/* Task / scenario id's row goes, if it is still pending. */
int gl_store_task_drop_pending(gl_store *s, const char *id, struct gl_err *err);
int gl_store_scenario_drop_pending(gl_store *s, const char *id,
                                   struct gl_err *err);

/* The tasks' rows for next's tasks by event seq: new ones added, the
 * others' stage and times set, and their owner and checker only when next
 * names someone else than cur (a handover stays otherwise). */
int gl_store_tasks_replan(gl_store *s, const struct gl_plan *cur,
                          const struct gl_plan *next, int64_t seq,
                          struct gl_err *err);

/* The pending scenarios' area, priority, risk and assignee as next says. */
int gl_store_scenarios_replan(gl_store *s, const struct gl_plan *next,
                              struct gl_err *err);

/* Plan version `version` (text, its sha and path), taken at `at` by event
 * seq. */
int gl_store_plan_version_insert(gl_store *s, int version, const char *sha,
                                 const char *path, const char *text, size_t len,
                                 const char *at, int64_t seq,
                                 struct gl_err *err);

/* The run's plan version. */
int gl_store_run_set_plan_version(gl_store *s, int version, struct gl_err *err);

/* ---- tokens and sessions (run/store-token.c) ---- */

struct gl_token_info;

/* The number the next token (or session) gets (1 for the first). */
int gl_store_token_next(gl_store *s, int64_t *n, struct gl_err *err);
int gl_store_session_next(gl_store *s, int64_t *n, struct gl_err *err);

/* Token n: the SHA-256 of its secret (sha), whose, issued by whom at `at`
 * (UTC ISO 8601) by event seq, expiring at expires (UTC ISO 8601, NULL:
 * never). */
int gl_store_token_insert(gl_store *s, int64_t n, const char *sha,
                          const char *person, int viewer, const char *issued_by,
                          const char *at, const char *expires, int64_t seq,
                          struct gl_err *err);

/* Token n revoked at `at` by who. */
int gl_store_token_revoke(gl_store *s, int64_t n, const char *at,
                          const char *who, struct gl_err *err);

/* The token whose secret has SHA-256 sha (by_sha), or token n: *out, and
 * GL_OK; GL_ENOTFOUND ("unknown token" / "no token T-n") when none. */
int gl_store_token_get(gl_store *s, const char *sha, int64_t n,
                       struct gl_token_info *out, struct gl_err *err);

/* Every token, oldest first; *out malloc'd. */
int gl_store_token_list(gl_store *s, struct gl_token_info **out, size_t *n,
                        struct gl_err *err);

/* Session n of token `token` (its number): the SHA-256s of its secret and
 * of its CSRF secret, opened at `at` by event seq. */
int gl_store_session_insert(gl_store *s, int64_t n, const char *sha,
                            const char *csrf_sha, int64_t token, const char *at,
                            int64_t seq, struct gl_err *err);

/* The session whose secret has SHA-256 sha: its number, its token's
 * number, its CSRF hash and whether it is closed.  GL_ENOTFOUND
 * ("unknown session") when none. */
int gl_store_session_get(gl_store *s, const char *sha, int64_t *n,
                         int64_t *token, char csrf_sha[65], int *closed,
                         struct gl_err *err);

/* Session n closed at `at`. */
int gl_store_session_close(gl_store *s, int64_t n, const char *at,
                           struct gl_err *err);

/* ---- comments on defects (run/store-comment.c) ---- */

/* The number the next comment gets (1 for the first). */
int gl_store_comment_next(gl_store *s, int64_t *n, struct gl_err *err);

/* Comment n on defect `defect`, by actor at `at` (UTC ISO 8601), by event
 * seq. */
int gl_store_comment_insert(gl_store *s, int64_t n, int64_t defect,
                            const char *at, const char *actor, const char *text,
                            int64_t seq, struct gl_err *err);

/* Defect `defect`'s comments, oldest first: a new JSON array of {n, at,
 * actor, text}. */
int gl_store_comment_list(gl_store *s, int64_t defect, json_t **out,
                          struct gl_err *err);

/* ---- the lead's status (run/store-status.c) ---- */

/* A task's row as status reads it: the strings (NULL for NULL) are valid
 * during the call only. */
struct gl_store_task_now {
    const char *id, *state, *owner, *checker;
    const char *started_at, *finished_at, *planned_start, *planned_end;
    int has_pid; /* a process was recorded: pid, pgid and host (else 0,
                    0, NULL) */
    int64_t pid, pgid;
    const char *host;
};

/* Call each for every task row of the run, in no particular order. */
int gl_store_status_tasks(gl_store *s,
                          void (*each)(void *ctx,
                                       const struct gl_store_task_now *t),
                          void *ctx, struct gl_err *err);

/* 1 when the last execution of sync job `job` stopped before its end
 * (interrupted, died, failed: --resume goes on from its checkpoint), else
 * 0, also when it cannot be read (needs gl_run_sql_functions). */
int gl_store_sync_resumable(gl_store *s, const char *job);

/* When the rollback started, as stored, into out; "" when it did not. */
int gl_store_rollback_at(gl_store *s, char *out, size_t n, struct gl_err *err);

/* The outcome and message of the latest check.run event of check id into
 * outcome and message; "" for none (and a message "" when it has none). */
int gl_store_check_result(gl_store *s, const char *id, char *outcome, size_t on,
                          char *message, size_t mn, struct gl_err *err);

/* Call each, by id, for every blocked scenario: who recorded it (result_by,
 * else taken_by, else "") and its note ("" for none). */
int gl_store_blocked_scenarios(gl_store *s,
                               void (*each)(void *ctx, const char *id,
                                            const char *by, const char *why),
                               void *ctx, struct gl_err *err);

/* The lead's last decision: {decision, actor, at (epoch), note}, a new
 * reference; JSON null when there is none or it cannot be read. */
json_t *gl_store_last_decision(gl_store *s);

/* ---- shift and handover (run/store-crew.c) ---- */

/* The switch moves to switch_at (epoch seconds). */
int gl_store_run_set_switch(gl_store *s, int64_t switch_at, struct gl_err *err);

/* The open work person holds, each by id, appended to tasks (the owner of
 * one pending, running or failed, or the checker of one not checked nor
 * skipped), scenarios (running and taken by person, or pending and
 * assigned to person) and defects ("D-n", being fixed by person). */
int gl_store_held_work(gl_store *s, const char *person, json_t *tasks,
                       json_t *scenarios, json_t *defects, struct gl_err *err);

/* The kinds of work a handover reads. */
enum gl_store_held { GL_HELD_TASK, GL_HELD_SCENARIO, GL_HELD_DEFECT };

/* Who holds item id of kind, into cols (256 bytes each; "" for NULL): a
 * task's owner, checker, state; a scenario's state, taken_by, assignee; a
 * defect's (id "D-n") state, fixer.  *found is 0 when the run has no row. */
int gl_store_held_row(gl_store *s, enum gl_store_held kind, const char *id,
                      char cols[][256], int *found, struct gl_err *err);

/* What a handover moves. */
enum gl_store_handover {
    GL_HAND_TASK_OWNER,   /* a task's owner */
    GL_HAND_TASK_CHECKER, /* a task's checker */
    GL_HAND_SCENARIO,     /* taken_by while running, assignee while pending */
    GL_HAND_DEFECT,       /* a defect's fixer (id "D-n") */
};

/* Item id goes from `from` to `to`, only while it is still from's (a
 * scenario whatever its holder: the handover checked it). */
int gl_store_handover_move(gl_store *s, enum gl_store_handover what,
                           const char *from, const char *to, const char *id,
                           struct gl_err *err);

#endif
