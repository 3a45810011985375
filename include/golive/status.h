/*
 * status.h - the run as the lead sees it: tasks by stage and state (ready
 * and lost worked out), what runs and who holds it, the blockers, the
 * scenarios, and the ETA with the chain of tasks that sets it.
 *
 * The ETA is a critical-path pass over what remains: a task starts when
 * the tasks it depends on end, not before its 'at', not before now; it
 * lasts its planned duration times the overrun factor; a running task
 * ends no earlier than now; a finished one ended when it did.  The overrun
 * factor is measured on the plan's own critical path (the tasks without
 * slack as planned): actual / planned time of those finished, and of those
 * running past their planned time; it is never below 1.  A task with slack
 * that overruns therefore moves the ETA only once its slack is used up.
 * Until the rollback starts, its tasks are left out; after, only they
 * count.
 */
#ifndef GOLIVE_STATUS_H
#define GOLIVE_STATUS_H

#include <jansson.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/plan.h"
#include "golive/store.h"

/* *out gets (new reference):
 * {"tasks": [{id, title, stage, state, owner, checker, started, ended,
 *             expected_start, expected_end, critical, slack}],
 *  "counts": {stage: {state: n}}, "totals": {state: n, "all": n},
 *  "running": [{id, owner, since}], "ready": [{id, owner}],
 *  "blockers": [{kind, id, detail}],
 *  "scenarios": {"states": {state: n}, "p0": {"passed": n, "all": n}},
 *  "eta": epoch, "planned_end": epoch, "late": seconds, "overrun": x,
 *  "chain": [id...], "rollback": bool}
 * Times are epoch seconds (null when unknown). */
int gl_status_eval(gl_store *s, const struct gl_plan *p, int64_t switch_at,
                   int64_t now, json_t **out, struct gl_err *err);

#endif
