/*
 * status.h - the run as the lead sees it: tasks by stage and state (ready
 * and lost worked out), what runs and who holds it, the blockers, the
 * scenarios, what is late, and the ETAs with the chains of tasks that set
 * them.
 *
 * The plan: a task is planned to start at its 'at', or when the tasks it
 * depends on are planned to end (a critical-path schedule from the earliest
 * 'at'), relative to T0 so that a shift moves it; the rollback's tasks are
 * planned from when the lead started it.  When a task starts, its planned
 * start and end are fixed (the task.start event carries them): a later
 * shift does not rewrite what it was held to.
 *
 * Late: a task past its planned start and not started, or running past its
 * planned end, by how much.
 *
 * The overrun factor is sum(actual) / sum(planned) over the tasks that
 * finished (done or checked, with a duration).
 *
 * The ETA is a critical-path pass over what remains: a task starts when
 * the tasks it depends on are expected to end, not before its 'at', not
 * before now; it lasts its planned duration times the overrun factor (when
 * above 1: what remains is never planned shorter); a running task ends no
 * earlier than now; a finished one ended when it did.  So no ETA is before
 * now.  There is one per stage but hypercare, one for the cutover (every
 * stage but hypercare) and one for the go / no-go decision: the task with
 * 'decides: go', else the verify task planned to end last.  A set of tasks
 * that all finished has no ETA but the time it ended.  Until the rollback
 * starts, its tasks are left out; after, only they count.
 *
 * The verification forecast (golive/forecast.h) moves the verify stage's
 * ETA and the cutover's when everything is verified later than their
 * tasks end ("set_by": "forecast", else "tasks"); not during a rollback.
 *
 * Every pass is linear in tasks plus dependencies.
 */
#ifndef GOLIVE_STATUS_H
#define GOLIVE_STATUS_H

#include <jansson.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/plan.h"
#include "golive/store.h"

/* What gl_status_eval builds besides the summary: the per-task list costs
 * most on a large run, and the lead's text view does not show it. */
#define GL_STATUS_TASKS 1u

/* *out gets (new reference):
 * {"tasks": [{id, title, stage, state, owner, checker, started, ended,
 *             expected_start, expected_end, planned_start, planned_end,
 *             critical, slack, in_scope}],
 *  "counts": {stage: {state: n}}, "totals": {state: n, "all": n},
 *  "running": [{id, owner, since}], "ready": [{id, owner}],
 *  "blockers": [{kind, id, detail}],
 *  "scenarios": {"states": {state: n}, "p0": {"passed": n, "all": n}},
 *  "eta": epoch, "ended": epoch, "planned_end": epoch, "late": seconds,
 *  "eta_set_by": "tasks" | "forecast",
 *  "chain": [id...],             (the cutover: every stage but hypercare)
 *  "stages": [{stage, done, n, finished, eta, ended, planned_end, late,
 *              chain, set_by}],
 *  "decision": {task, marked, state, started, expected_start, eta, ended,
 *               planned_start, planned_end, start_late, late, chain} | null,
 *  "late_tasks": [{id, stage, state, owner, late: "start" | "end",
 *                  planned, by}],
 *  "overrun": x, "overrun_basis": {tasks, actual, planned},
 *  "rollback": bool, "forecast": (gl_forecast_compute's, now)}
 * Times are epoch seconds (null when unknown); eta is null when the tasks
 * all finished (ended says when), ended null while some remain.  "tasks"
 * is empty unless flags has GL_STATUS_TASKS. */
int gl_status_eval(gl_store *s, const struct gl_plan *p, int64_t switch_at,
                   int64_t now, unsigned flags, json_t **out,
                   struct gl_err *err);

/* The planned start and end of task id as the schedule has them now
 * (INT64_MIN when it has none: a rollback task before the rollback). */
int gl_status_planned(gl_store *s, const struct gl_plan *p, int64_t switch_at,
                      int64_t now, const char *id, int64_t *start, int64_t *end,
                      struct gl_err *err);

/* ---- the document: `golive status --json`, GET /api/v1/status ----
 * (run/status-json.c) */

/* Whether the plan file at path is not the run's copy (info->plan_text):
 * 1 when it differs, 0 when it is the same or cannot be read. */
int gl_status_plan_differs(const char *path, const struct gl_run_info *info);

/* Add the audit line to an evaluation st: "audit": {head, verified,
 * detail, verified_through, since} (gl_audit_quick). */
int gl_status_audit(gl_store *s, json_t *st, struct gl_err *err);

/* The document of an evaluation st (made with GL_STATUS_TASKS, with its
 * audit line): the run's fields, and each time of st as local ISO 8601
 * time and T-relative ("KEY_t").  st's members are shared with the
 * document and changed; a new reference, NULL when out of memory. */
json_t *gl_status_document(const struct gl_run_info *info, int64_t now,
                           json_t *st, int plan_changed);

/* All of it: evaluate, add the audit line, make the document (*out, a new
 * reference). */
int gl_status_json(gl_store *s, const struct gl_plan *p,
                   const struct gl_run_info *info, int64_t now,
                   int plan_changed, json_t **out, struct gl_err *err);

#endif
