/*
 * reads.h - what the run has recorded, as JSON for the surfaces that show
 * it (the server's read routes; a CLI command may print the same): the
 * sync executions, the latest result of each check, and pages of the
 * event log.  Reads only: no event.
 */
#ifndef GOLIVE_READS_H
#define GOLIVE_READS_H

#include <jansson.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/plan.h"
#include "golive/store.h"

/* Every sync execution of the run, oldest first (*out, a new reference):
 * [{execution, job, mode, started_at, ended_at, rows_read, rows_written,
 *   rows_rejected, bytes, seconds, rows_per_second, outcome, error}];
 * outcome "running" while it runs ("died" when its process is gone),
 * ended_at null until it ends. */
int gl_read_syncs(gl_store *s, json_t **out, struct gl_err *err);

/* The latest result of each check of plan p, in the plan's order (*out, a
 * new reference): [{check, outcome, ...the check.run event's payload...,
 * seq, at, actor}]; a check never run is {check, outcome: null}.  A pass
 * recorded before its job ran again carries "stale": why (as the gate
 * and status say: it does not count). */
int gl_read_checks(gl_store *s, const struct gl_plan *p, json_t **out,
                   struct gl_err *err);

/* The events after seq `after`, at most limit of them, oldest first
 * (*out, a new reference): [{seq, at, actor, os_user, kind, payload (the
 * payload as JSON), hash}]. */
int gl_read_events(gl_store *s, int64_t after, int64_t limit, json_t **out,
                   struct gl_err *err);

/* ---- for a long-lived reader (the server's worker connections) ---- */

/* A stamp of what this handle can see of the store: two stamps taken on
 * the same handle differ whenever a change was committed in between, by
 * this handle or any other connection (SQLite's data_version and this
 * connection's own changes).  Cheap: no table is read. */
struct gl_store_stamp {
    int64_t data;
    int64_t own;
};
int gl_store_stamp(gl_store *s, struct gl_store_stamp *st, struct gl_err *err);

/* The run's record as gl_store_run_info reads it, without the plan's
 * text (info->plan_text and plan_tree are left as they are): for a reader
 * that holds the plan of info->plan_version already and only needs to
 * know whether it is still the run's (plan_version, plan_sha256), and the
 * record's other fields (a shift moves switch_at) and the event count. */
int gl_store_run_brief(gl_store *s, struct gl_run_info *info,
                       struct gl_err *err);

#endif
