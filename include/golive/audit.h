/*
 * audit.h - does the store tell the truth?  The events are the truth; every
 * other table of the store is a projection of them.  The audit replays the
 * events into a fresh projection (an in-memory store made by the same
 * migrations) and compares it with the stored tables, row by row, column
 * by column; it also checks the chain of hashes and, against a head
 * written down elsewhere, that no event was cut off the end.
 *
 * How to project a new event kind, or a new table or column: see the top
 * of run/store-replay.c.
 */
#ifndef GOLIVE_AUDIT_H
#define GOLIVE_AUDIT_H

#include <jansson.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/store.h"

/* The last event: its number and hash ("N:HASH" when written down). */
struct gl_audit_head {
    int64_t seq; /* 0 when the store holds no event */
    char hash[GL_STORE_HASH_HEX];
};

/* The store's head now. */
int gl_audit_head(gl_store *s, struct gl_audit_head *h, struct gl_err *err);

/* "N:HASH" (HASH: the 64 hex digits, or at least the first 16) into *h.
 * 0, or -1 when text is not of that form. */
int gl_audit_head_parse(const char *text, struct gl_audit_head *h);

/* The outcome of a full audit. */
struct gl_audit {
    int64_t events;
    struct gl_audit_head head;
    /* every problem found, in order: {"message"} and, for a difference in
     * a table, "table", "row", "column" (absent for a missing or extra
     * row), "stored", "derived" (values as text) */
    json_t *problems;
    json_t *warnings; /* strings: clocks set by hand, times going back */
};

/* The full audit: the chain, the plan versions, the head against expect
 * (may be NULL), the replay of every event compared with every table.
 * GL_OK when the store verifies; GL_ECORRUPT when it does not (a->problems
 * lists each difference, err holds the first); another code when the store
 * cannot be read.  The outcome is kept in the store (audit_cache) for
 * gl_audit_quick, when the store can be written.  Release a with
 * gl_audit_release. */
int gl_audit_verify(gl_store *s, const struct gl_audit_head *expect,
                    struct gl_audit *a, struct gl_err *err);
void gl_audit_release(struct gl_audit *a);

/* What status says: the last full audit and a check of the chain of the
 * events since (a full replay on every status would not scale). */
struct gl_audit_quick {
    int verdict;          /* 1 verifies, 0 does not, -1 no full audit yet */
    int64_t verified_seq; /* the head at the last full audit (0: none) */
    char verified_at[40];
    int64_t since; /* events after it, their chain checked */
    struct gl_audit_head head;
    char detail[1024];
};

int gl_audit_quick(gl_store *s, struct gl_audit_quick *q, struct gl_err *err);

/* Before a command changes a row: replay the events of that row's table
 * (for tasks and defects, only those of the row) and compare the row.
 * Inside the caller's transaction.  GL_ESTORE naming the row and the first
 * column that disagrees when the stored row is not what its events made;
 * GL_OK otherwise.  table: "tasks" (key: the task id), "defects" (key:
 * the defect's number) or "scenarios" (key: the scenario id). */
int gl_audit_check_row(gl_store *s, const char *table, const char *key,
                       struct gl_err *err);

#endif
