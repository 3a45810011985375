/*
 * canon.h - the canonical encoding of values for comparison across
 * engines: a type tag, a length and bytes, so that NULL, '' and 'NULL'
 * all differ, while 1.5 (numeric) equals 1.50 and a timestamp kept with
 * a zone equals the same instant kept without one.
 */
#ifndef GOLIVE_RECON_CANON_H
#define GOLIVE_RECON_CANON_H

#include <stddef.h>
#include <stdint.h>

#include "golive/db.h"

struct gl_buf;

/* How a column is compared, chosen from both sides' column types. */
enum gl_canon_class {
    GL_CANON_TEXT,   /* bytes of text */
    GL_CANON_NUMBER, /* normalized decimal: int, numeric, float, bool */
    GL_CANON_TIME,   /* UTC microseconds, at the chosen precision */
    GL_CANON_DATE,
    GL_CANON_BYTES,
};

struct gl_canon_opts {
    int float_digits; /* significant digits for floats (default 15) */
    int time_unit;    /* microseconds per unit: 1, 1000 or 1000000 */
    int rtrim;        /* ignore trailing spaces of text */
};

/* The class for a column whose values are a on one side, b on the other
 * (GL_NULL when unknown). */
enum gl_canon_class gl_canon_class_of(enum gl_vtype a, enum gl_vtype b);

/* Append v's canonical encoding for class c to out.  rtrim also applies
 * when the column is CHAR-padded.  0 or -1 (memory). */
int gl_canon_append(const struct gl_value *v, enum gl_canon_class c,
                    const struct gl_canon_opts *o, int rtrim,
                    struct gl_buf *out);

/* Free this thread's scratch space (call when a thread's comparisons
 * are over). */
void gl_canon_done(void);

/* Normalized decimal text of a number: no '+', no leading zeros, no
 * trailing fractional zeros, "-0" as "0".  Appends to out. */
int gl_canon_decimal(const char *s, size_t len, struct gl_buf *out);

#endif
