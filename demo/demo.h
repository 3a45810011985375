/*
 * demo.h - a realistic go-live to play with: a legacy office-approval system
 * in SQLite (departments, employees, expense and leave requests in the old
 * status codes, approval history, rejected requests with and without
 * reasons), the new system's empty schema, and a complete plan for the
 * night.  `golive demo` builds it, then validates the plan and starts a
 * rehearsal run.
 */
#ifndef GOLIVE_DEMO_H
#define GOLIVE_DEMO_H

#include <stdint.h>

#include "golive/golive.h"

struct gl_demo_opts {
    const char *dir;    /* created if missing */
    int64_t rows;       /* expense requests; leave requests are half as many */
    int64_t now;        /* epoch seconds; T0 is the next midnight at +08:00 */
    int64_t switch_at;  /* T0 instead (epoch seconds), when not 0 */
    int force;          /* replace old.db / new.db / plan.yaml if present */
    const char *target; /* the new system's URL; NULL: new.db in dir */
    /* the target's URL as the plan names it (a ${VAR} for its password);
     * NULL: target as it is */
    const char *plan_url;
};

struct gl_demo_stats {
    int64_t departments, employees, expenses, leaves, approvals;
    int64_t switch_at;
    char plan_path[4096], old_path[4096], new_path[4096];
    char new_url[4096]; /* as written into the plan */
};

/* Build old.db, new.db and plan.yaml in opts->dir.  GL_EREFUSED when they
 * exist and force is not set; GL_EIO / GL_ESTORE on failure (partial files
 * are removed). */
int gl_demo_build(const struct gl_demo_opts *opts, struct gl_demo_stats *st,
                  struct gl_err *err);

#endif
