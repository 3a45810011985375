/*
 * scenario.h - the verification list of the night: testers take the
 * riskiest scenario not yet run and record what they found.
 */
#ifndef GOLIVE_SCENARIO_H
#define GOLIVE_SCENARIO_H

#include <jansson.h>

#include "golive/golive.h"
#include "golive/plan.h"
#include "golive/store.h"

/* Hand who (a tester) the riskiest pending scenario: assigned to them or
 * to nobody first, then any; highest risk, then priority P0 first.  It
 * becomes running, taken by who; *since is 0.  One at a time: when who
 * holds a running scenario already, id is that one, *since when it was
 * taken (epoch seconds), and nothing is recorded.  GL_ENOTFOUND when none
 * is left. */
int gl_scenario_next(gl_store *s, const struct gl_plan *p,
                     const struct gl_actor *who, char *id, size_t n,
                     int64_t *since, struct gl_err *err);

/* Record a result: "passed", "failed" or "blocked". */
int gl_scenario_result(gl_store *s, const struct gl_plan *p,
                       const struct gl_actor *who, const char *id,
                       const char *result, const char *note,
                       struct gl_err *err);

/* The plan's scenarios in its order as they stand: *out gets (new
 * reference) [{id, title, area, priority "P0".."P3", risk, assignee,
 * state, taken_by, result_by, note, at}], absent values null (at: when it
 * last moved, ISO 8601). */
int gl_scenario_list(gl_store *s, const struct gl_plan *p, json_t **out,
                     struct gl_err *err);

/* What person may do with scenario id now: *out gets (new reference) one
 * entry per result, in the order pass, fail, block: {"action",
 * "allowed": true} or {"action", "allowed": false, "reason", "code":
 * "forbidden" | "conflict"}, gl_scenario_result's own decision made
 * without recording anything.  GL_ENOTFOUND for no such scenario. */
int gl_scenario_actions(gl_store *s, const struct gl_plan *p,
                        const char *person, const char *id, json_t **out,
                        struct gl_err *err);

/* Progress as JSON text (malloc'd): per tester and per area, scenarios by
 * state. */
char *gl_scenario_progress(gl_store *s, const struct gl_plan *p,
                           struct gl_err *err);

/* Make the store's rows for the plan's scenarios (inside the caller's
 * transaction); existing rows are kept. */
int gl_scenario_rows(gl_store *s, const struct gl_plan *p, struct gl_err *err);

#endif
