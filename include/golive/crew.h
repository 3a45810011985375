/*
 * crew.h - changes to the run during the night: the switch slips (shift),
 * someone goes to sleep (handover).
 */
#ifndef GOLIVE_CREW_H
#define GOLIVE_CREW_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/plan.h"
#include "golive/store.h"

/* Move the run's switch (T0) to new_switch (epoch seconds); every time
 * relative to T0 moves with it.  The lead only (GL_EDENIED); a "shift" event
 * holds the old and new times and the difference. */
int gl_shift(gl_store *s, const struct gl_plan *p, const struct gl_actor *who,
             int64_t new_switch, const char *note, struct gl_err *err);

/* What a handover names: task ids, scenario ids, defect numbers.  All
 * empty (or no pick at all): all of the person's open work. */
struct gl_handover_pick {
    const char *const *tasks;
    size_t n_tasks;
    const char *const *scenarios;
    size_t n_scenarios;
    const int64_t *defects;
    size_t n_defects;
};

/* Move who's work to `to`: what pick names, else all of it - tasks they
 * own that are not finished (pending, running, failed), tasks they check
 * that are not checked, scenarios assigned to them and not run or running
 * in their hands, defects they are fixing.  Each item `to` may not take
 * is refused on its own (it would make `to` check a task `to` does, hand a
 * scenario to a non-tester or a fix to a non-dev, or it is not who's open
 * work); the rest moves, in one "handover" event.  *moved gets {tasks,
 * checks, scenarios, defects, refused: [{kind, id, why}]} (new reference)
 * when anything moved; GL_EDENIED naming every refusal when nothing
 * did, GL_ENOTFOUND when who holds no open work or a named item is not in
 * the plan. */
int gl_handover(gl_store *s, const struct gl_plan *p,
                const struct gl_actor *who, const char *to,
                const struct gl_handover_pick *pick, const char *note,
                json_t **moved, struct gl_err *err);

#endif
