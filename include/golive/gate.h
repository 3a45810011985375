/*
 * gate.h - go / no-go: the plan's go criteria evaluated on the run, the
 * lead's decisions, and the rollback.
 */
#ifndef GOLIVE_GATE_H
#define GOLIVE_GATE_H

#include <jansson.h>

#include "golive/golive.h"
#include "golive/plan.h"
#include "golive/store.h"

/* Evaluate the plan's go criteria on the run: *out gets {"passed": bool,
 * "rules": [{"rule", "passed", "detail"}...]} (new reference).  A plan
 * without go criteria passes with no rules. */
int gl_gate_eval(gl_store *s, const struct gl_plan *p, json_t **out,
                 struct gl_err *err);

/* Record the lead's decision (anyone else: GL_EDENIED): "go", "no-go" or
 * "hold", with a note.  Go is
 * refused (GL_EREFUSED, naming the failed criteria) unless the gate
 * passes.  The gate's evaluation is stored with the decision. */
int gl_decide(gl_store *s, const struct gl_plan *p, const struct gl_actor *who,
              const char *decision, const char *note, struct gl_err *err);

/* Start the plan's rollback (the lead only, else GL_EDENIED): its tasks may
 * then start in dependency order and are worked like any task. */
int gl_rollback_start(gl_store *s, const struct gl_plan *p,
                      const struct gl_actor *who, const char *note,
                      struct gl_err *err);

/* Whether the rollback has started (1), not (0), or -1 on a store error. */
int gl_rollback_started(gl_store *s);

#endif
