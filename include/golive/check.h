/*
 * check.h - the plan's checks: what must hold after the syncs ran.
 *
 * count: the source's rows (the check's where, by default the job's) and
 * the target's, within a tolerance; on failure the rows that make the
 * difference are named (a key-only diff).  aggregate: sums, minimums,
 * maximums, NULL counts and distinct counts per column, each pushed down
 * to its database.  diff: the job's two tables row by row, the mapping
 * applied to the source first.  sql: a query's value against an expected
 * one or the same query on another system.
 */
#ifndef GOLIVE_CHECK_H
#define GOLIVE_CHECK_H

#include <stdint.h>

#include <jansson.h>

#include "golive/golive.h"
#include "golive/plan.h"
#include "golive/store.h"

struct gl_check_result {
    char id[128];
    char type[16];
    int passed;
    char message[2048];     /* what was compared and what differed */
    int64_t source, target; /* rows (count, diff) */
    int64_t missing, extra, changed;
    char **samples; /* up to the asked number: "missing {"id":5}" ... */
    size_t nsamples;
    double seconds;
};

/* Run check c of plan p.  A diff (and the diff that names the rows a
 * count misses) runs in `jobs` key-range segments (gl_diff_run_jobs);
 * jobs < 1: the same default as `golive diff` (gl_diff_default_jobs).
 * GL_OK when it came to a verdict (r->passed); another code with err set
 * when it could not run. */
int gl_check_run(const struct gl_plan *p, const struct gl_check *c, int samples,
                 int jobs, struct gl_check_result *r, struct gl_err *err);

void gl_check_result_release(struct gl_check_result *r);

/* How gl_check_run_recorded runs and records a check. */
struct gl_check_record {
    int samples, jobs;          /* as gl_check_run takes them */
    gl_store *store;            /* the run to record in, or NULL */
    const struct gl_actor *who; /* who records (with store) */
    const char *plan_sha;       /* the SHA-256 of the plan file that ran
                                   when it is not the run's plan, or NULL */
};

/* Run check c of plan p (gl_check_run, into *r: the caller releases it)
 * and record its result in the run of rec->store as a check.run event by
 * rec->who.  *out gets the result as data, which is also the event's
 * payload (a new reference): {check, type, outcome ("passed", "failed" or
 * "error": it could not run), source, target, missing, extra, changed,
 * message (on error: why), samples, seconds}, and plan_sha256 with
 * rec->plan_sha; NULL when a text is not UTF-8 (the event's payload is
 * then {}).  Returns gl_check_run's code (err set when the check could
 * not run).  A result that could not be recorded sets unrecorded (its
 * code GL_OK otherwise): the verdict stands, the caller says it was not
 * recorded. */
int gl_check_run_recorded(const struct gl_plan *p, const struct gl_check *c,
                          const struct gl_check_record *rec,
                          struct gl_check_result *r, json_t **out,
                          struct gl_err *err, struct gl_err *unrecorded);
#endif
