/*
 * flow.h - the flow check: can every migrated record go on in the new
 * system's workflow?
 *
 * Everything is pushed down to the database as GROUP BY and filtered
 * counts, and LIMITed reads of sample keys; no table is read whole.
 */
#ifndef GOLIVE_FLOW_H
#define GOLIVE_FLOW_H

#include <jansson.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/plan.h"

struct gl_buf;

/* Kinds of problem, as they appear in output and JSON. */
#define GL_FLOW_UNKNOWN_STATE "unknown-state"   /* not a state of the flow */
#define GL_FLOW_DEAD_END "dead-end"             /* no way to a terminal */
#define GL_FLOW_MISSING_FIELD "missing-field"   /* its state requires it */
#define GL_FLOW_BLOCKED "blocked"               /* every way out needs it */
#define GL_FLOW_NO_WAY_BACK "no-way-back"       /* rejected, cannot return */
#define GL_FLOW_REJECTION_DATA "rejection-data" /* rejected, who/when/why */
#define GL_FLOW_VALUE_MAP "value-map"           /* a map entry leads here */

struct gl_flow_problem {
    char kind[24];
    char state[128];  /* the state concerned */
    char detail[256]; /* the field, or "old -> new" for value maps */
    int64_t count;    /* records (source rows for value maps) */
    char **samples;   /* up to the asked number of keys, as text */
    size_t nsamples;
    char *sql;         /* lists them all */
    struct gl_pos pos; /* where in the plan */
    char message[512];
};

struct gl_flow_report {
    char workflow[128];
    int64_t records; /* in the bound table */
    struct gl_flow_problem *v;
    size_t n;
    /* records per state as found: parallel arrays */
    char **states;
    int64_t *state_counts;
    size_t nstates;
};

/* Check workflow w of plan p against its bound table, with up to samples
 * sample keys per problem.  GL_EUSAGE when w is not bound to a table
 * (table, key, state_column); GL_EIO when a database fails. */
int gl_flow_check(const struct gl_plan *p, const struct gl_workflow *w,
                  int samples, struct gl_flow_report *out, struct gl_err *err);

void gl_flow_report_release(struct gl_flow_report *r);

/* One record through the flow, as data (new reference in *out):
 * {"workflow", "key", "state" (null when NULL), "known" (a state of the
 * workflow), "terminal", "missing": [fields its state requires and it
 * lacks], "ways_out": [{"action", "to", "blocked_by": [fields],
 * "leads_to_end"}], "paths": [[states to a terminal one]]}.
 * GL_ENOTFOUND when no record has that key (comma-separated for a
 * composite key). */
int gl_flow_trace(const struct gl_plan *p, const struct gl_workflow *w,
                  const char *key, json_t **out, struct gl_err *err);

/* Sample legacy records for a scenario: keys from its samples query on
 * the old system, spread across their old states, those the flow check
 * would flag first.  As data (new reference in *out): {"scenario",
 * "workflow", "samples": [{"old_key", "old_state", "new_key",
 * "new_state" (absent: not in the new system), "flagged", "why"}]}. */
int gl_flow_samples(const struct gl_plan *p, const struct gl_scenario *sc,
                    int limit, json_t **out, struct gl_err *err);

#endif
