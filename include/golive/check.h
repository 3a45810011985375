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

#include "golive/golive.h"
#include "golive/plan.h"

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

#endif
