/*
 * crew.h - changes to the run during the night: the switch slips (shift),
 * someone goes to sleep (handover).
 */
#ifndef GOLIVE_CREW_H
#define GOLIVE_CREW_H

#include <jansson.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/plan.h"
#include "golive/store.h"

/* Move the run's switch (T0) to new_switch (epoch seconds); every time
 * relative to T0 moves with it.  The lead only; a "shift" event holds the
 * old and new times and the difference. */
int gl_shift(gl_store *s, const struct gl_plan *p, const struct gl_actor *who,
             int64_t new_switch, const char *note, struct gl_err *err);

/* Move who's work to `to`: tasks they own that are not finished (pending,
 * running, failed), tasks they check that are not checked, scenarios
 * assigned to them and not run or running in their hands, defects they
 * are fixing.  Refused when that would make someone check their own task,
 * hand scenarios to a non-tester or fixes to a non-dev.  *moved gets
 * {tasks, checks, scenarios, defects} (new reference). */
int gl_handover(gl_store *s, const struct gl_plan *p,
                const struct gl_actor *who, const char *to, const char *note,
                json_t **moved, struct gl_err *err);

#endif
