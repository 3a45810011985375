/*
 * forecast.h - "when will testing be done?": the verification forecast
 * from the testers' own pace, the fixes still open and their
 * re-verification (docs/plan.md, "The verification forecast").
 *
 * Pace.  A scenario's time runs from its 'scenario next' (for who it was
 * handed over to: from the handover) to the first result after it; a
 * tester's pace is the median of their own times so far.  Before a tester has
 * one, a scenario takes its own 'duration', else the plan's 'scenario_duration'
 * (15m).
 *
 * Testing done.  The scenarios not passed (pending, running, failed or
 * blocked ones neither waiting for a fix counted below nor re-verified:
 * all of their defects, one at least, verified or deferred) go to the
 * testers who
 * may take them from now (or, before any scenario was taken or recorded,
 * when the verify stage is expected to start, when that is later): a
 * tester, not off (one who handed over all of their work is off until
 * they take or record a scenario again, or work is handed to them; a
 * handover of named items moves only those).  A running one stays with
 * who took it (ending its time after it was taken, not before now); the
 * rest, riskiest first (risk, then priority, then id: the order
 * 'scenario next' hands them out), each at the tester's pace: an assigned
 * one to its assignee, any other to the tester who would finish it first
 * (free time plus pace; ties: the plan's order).  The last end is "testing
 * done", and its tester sets it.
 *
 * Verified.  Each blocker not verified or deferred (and each defect of a
 * severity a 'max_open_defects' gate counts) is fixed: open or reopened,
 * from now; fixing, from when the fixing started; fixed, already; a fix
 * takes the median open -> fixed time of the run's fixed defects, else
 * the plan's 'fix_duration' (1h).  Then it is re-verified, in the order
 * the fixes come in, by the tester other than its fixer who can finish it
 * first once their own scenarios are done: one run of its scenario (or
 * 'scenario_duration' without one) at that tester's pace.  Its failed or
 * blocked scenario is that re-run, not part of testing.  "Verified" is the
 * later of testing done and the last re-verification.
 *
 * Fixes are assumed to run side by side (one dev each).
 */
#ifndef GOLIVE_FORECAST_H
#define GOLIVE_FORECAST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/plan.h"
#include "golive/store.h"

/* The forecast of plan p after the first n events of ev, at now (epoch
 * seconds), testing starting no earlier than from (the verify stage's
 * expected start; now when earlier); NULL when memory ran out.  New reference:
 * {"applies": bool (the plan has scenarios, or a defect counts),
 *  "now": epoch, "scenario_duration": s,
 *  "fix": {"seconds": s, "basis": "median" | "plan", "fixed": n},
 *  "testing": {done, at, by, left, unplaced},
 *  "verified": {done, at, by ("D-n", or null when testing sets it),
 *               fixes},
 *  "testers": [{id, off, left, running, pace, timed, done_at}],
 *  "defects": [{id, n, severity, state, scenario, fixer, fix_from,
 *               fix_end, reverify_by, verified_eta}]}
 * Times are epoch seconds or null (unknown: no tester may take what is
 * left, "unplaced" counts it).  A part that is done has its time as "at"
 * (testing: the last scenario result; verified: the later of that and the
 * last defect verified). */
json_t *gl_forecast_compute(const struct gl_plan *p,
                            const struct gl_fc_event *ev, size_t n, int64_t now,
                            int64_t from);

/* The forecast of the run now (the events of store s), testing starting
 * no earlier than from. */
int gl_forecast_eval(gl_store *s, const struct gl_plan *p, int64_t now,
                     int64_t from, json_t **out, struct gl_err *err);

/* The forecast as it moved through the night: what it said at each
 * scenario result (from the events up to it, at its time).  New
 * reference: [{seq, at, scenario, result, by, testing_done, testing_by,
 * verified, verified_by, left}], times epoch seconds or null. */
int gl_forecast_history(gl_store *s, const struct gl_plan *p, json_t **out,
                        struct gl_err *err);

#endif
