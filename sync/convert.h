/*
 * convert.h - fit a value to a target column's type, or say why it cannot
 * be done without losing something.  Nothing is ever silently rounded,
 * truncated or shifted: a value that would change is a reject.
 */
#ifndef GOLIVE_SYNC_CONVERT_H
#define GOLIVE_SYNC_CONVERT_H

#include <stddef.h>

#include "golive/db.h"

struct gl_arena;

/* Where the target lives matters: SQLite keeps NUMERIC and REAL columns as
 * doubles, so 16 significant digits are the most it can hold exactly. */
enum gl_engine { GL_ENGINE_SQLITE, GL_ENGINE_POSTGRES, GL_ENGINE_MYSQL };

/* Convert in to the type of col.  Text the result needs is allocated in a.
 * Returns 0 with *out set, 1 when the value cannot be stored without loss
 * (why says what: at most whylen bytes), 2 when it is a zero date or an
 * infinity (GL_SPECIAL) that the target engine lacks (why says what; the
 * column mapping's `unrepresentable:` decides), -1 when memory ran out. */
int gl_convert(const struct gl_value *in, const struct gl_column *col,
               enum gl_engine engine, struct gl_arena *a, struct gl_value *out,
               char *why, size_t whylen);

/* Whether a decimal text survives a round trip through a double. */
int gl_decimal_fits_double(const char *s, size_t len);

#endif
