/*
 * diag.h - diagnostics about a plan: what is wrong, where (file:line:col),
 * how bad, and a stable code that scripts and tests can match on.
 *
 * The loader and the static checks append to one gl_diags; the CLI sorts it
 * by position and prints each problem once.
 */
#ifndef GOLIVE_DIAG_H
#define GOLIVE_DIAG_H

#include <stddef.h>

enum gl_severity { GL_SEV_ERROR, GL_SEV_WARNING };

struct gl_diag {
    int line, col; /* 1-based; 0 when the problem has no position */
    enum gl_severity sev;
    char code[32]; /* e.g. "unknown-key", see docs/plan.md */
    char *message; /* owned by the list */
};

struct gl_diags {
    const char *file; /* the plan's path as the user named it; not owned */
    struct gl_diag *v;
    size_t n, cap;
    size_t n_errors, n_warnings;
    size_t dropped; /* past the cap; counted, not kept */
};

#define GL_DIAGS_MAX 10000

/* Append a diagnostic.  Never fails from the caller's point of view: when
 * memory runs out or GL_DIAGS_MAX is reached it is counted in dropped (an
 * error still counts in n_errors, so the plan still fails). */
void gl_diags_add(struct gl_diags *d, int line, int col, enum gl_severity sev,
                  const char *code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Sort by (line, col, severity, code, message) and drop exact repeats, so
 * that each problem is reported once, in file order. */
void gl_diags_sort(struct gl_diags *d);

/* Whether some diagnostic has this code (tests and callers use it). */
int gl_diags_has(const struct gl_diags *d, const char *code);

void gl_diags_release(struct gl_diags *d);

#endif
