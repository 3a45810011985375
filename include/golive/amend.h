/*
 * amend.h - a new version of the plan taken into a running night.
 */
#ifndef GOLIVE_AMEND_H
#define GOLIVE_AMEND_H

#include <jansson.h>
#include <stddef.h>

#include "golive/golive.h"
#include "golive/plan.h"
#include "golive/store.h"

/* Take plan next (text/len, read from path, already validated) into the
 * run whose current plan is cur, as who (the lead only).  Refused
 * (GL_EREFUSED, every contradiction listed in err) when next contradicts
 * what already happened: another cutover; a moved switch (that is
 * `golive shift`); a task that started, or a scenario with a result,
 * left out; a started task that now depends on a task not checked; a
 * person who acted in the run left out.  Otherwise one transaction: the
 * new version, its "run.amend" event holding the difference, the tasks
 * and scenarios brought in line (new ones pending, dropped pending ones
 * removed, owners and times updated).  *diff gets the difference (new
 * reference): {tasks, scenarios, people, sync, checks: {added, removed},
 * tasks.changed, scenarios.changed, people.changed: [{id, fields}], and
 * sections: the names of the plan's top-level sections whose text
 * differs (added and removed ones too)}. */
int gl_run_amend(gl_store *s, const struct gl_plan *cur,
                 const struct gl_plan *next, const char *text, size_t len,
                 const char *path, const struct gl_actor *who, json_t **diff,
                 int *version, struct gl_err *err);

/* The difference of an amendment (the diff above, or the run.amend
 * event's) as lines a person reads: "tasks added: warm-cache", "task
 * smoke changed: depends_on, duration", "the text of 'gates' changed";
 * never empty.  A new reference to an array of strings, NULL when out of
 * memory. */
json_t *gl_amend_lines(json_t *diff);

#endif
