/*
 * spill.h - a diff segment's output kept aside until the segments before
 * it are done (not a public header).  Parallel segments of a diff (see
 * segment.c, attached.c) compare key ranges at once; their differences
 * and fix SQL reach the caller in segment order, so that the samples and
 * the fix SQL of `diff --jobs N` and `check --jobs N` are the same from
 * one run to the next.  The first segment writes straight through; the
 * others write into unlinked temporary files (mode 0600: they hold
 * rows), replayed in order once every segment ended: memory stays flat
 * however many rows differ.
 */
#ifndef GOLIVE_RECON_SPILL_H
#define GOLIVE_RECON_SPILL_H

#include <stdio.h>

#include "golive/recon.h"

struct gl_diff_spill {
    FILE *items;   /* the differences, serialized; NULL: none kept */
    FILE *fix;     /* fix SQL (o->fix_sql's share); NULL: none */
    FILE *inserts; /* fix SQL's INSERTs (o->fix_sql_inserts'); NULL: none */
    int failed;    /* a write failed: errno */
};

/* Open the files o needs (differences when o->on_diff, fix SQL when
 * o->fix_sql, inserts when o->fix_sql_inserts), and point *seg (the
 * segment's copy of o) at them.  GL_EIO with err set when a file cannot
 * be made. */
int gl_diff_spill_open(struct gl_diff_spill *s, const struct gl_diff_opts *o,
                       struct gl_diff_opts *seg, struct gl_err *err);

/* An on_diff that keeps the item in the spill (ctx). */
void gl_diff_spill_item(void *ctx, const struct gl_diff_item *d);

/* Hand what the spill kept to o: the differences to o->on_diff in the
 * order they came, the fix SQL appended to o->fix_sql and
 * o->fix_sql_inserts.  GL_EIO with err set when a file fails. */
int gl_diff_spill_replay(struct gl_diff_spill *s, const struct gl_diff_opts *o,
                         struct gl_err *err);

/* Close the files (each unlinked already). */
void gl_diff_spill_close(struct gl_diff_spill *s);

#endif
