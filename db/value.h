/*
 * value.h - parsing and formatting of typed values in the text forms that
 * databases speak: dates, times, timestamps with and without zones, hex.
 * Shared by every driver.
 */
#ifndef GOLIVE_DB_VALUE_H
#define GOLIVE_DB_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "golive/db.h"

/* "2026-03-14" -> days since 1970-01-01.  0 or -1. */
int gl_parse_date(const char *s, size_t len, int64_t *days);

/* "13:45:00[.ffffff]" -> microseconds since midnight.  0 or -1. */
int gl_parse_time(const char *s, size_t len, int64_t *micros);

/* "2026-03-14 13:45:00[.ffffff][Z|+08|+08:00|-0530]" (a 'T' works as the
 * separator) -> microseconds since the epoch, converted to UTC when a zone
 * is written; *zoned says whether one was.  0 or -1. */
int gl_parse_timestamp(const char *s, size_t len, int64_t *micros, int *zoned);

enum {
    GL_TS_ISO = 1,  /* 'T' between date and time (else a space) */
    GL_TS_ZONE = 2, /* append "+00:00" ("Z" with GL_TS_ISO) */
};

/* Formatters; out needs 40 bytes.  Fractions of a second are printed only
 * when not zero, with all six digits. */
void gl_format_date(int64_t days, char *out);
void gl_format_time(int64_t micros, char *out);
void gl_format_timestamp(int64_t micros, int flags, char *out);

/* Decimal digits of v into out (at least 21 bytes), without printf;
 * returns the length. */
/* An ASCII digit, without the locale lookup of isdigit(). */
#define GL_ISDIGIT(c) ((unsigned)((unsigned char)(c) - '0') < 10u)

size_t gl_fmt_int(int64_t v, char *out);

/* Decimal text to int64 as strtoll(s, NULL, 10) reads it, faster for the
 * common case (up to 18 digits); longer values go to strtoll. */
int64_t gl_parse_int(const char *s);

/* The shortest plain decimal (no exponent, at most 15 significant digits)
 * that reads back as exactly x, into out (at least 32 bytes); returns its
 * length, or 0 when x needs more digits or an exponent. */
size_t gl_fmt_double_decimal(double x, char *out);

/* Lowercase hex of n bytes, appended.  0 or -1. */
int gl_hex_append(struct gl_buf *out, const void *p, size_t n);

/* Decode hex digits (even count) into out.  0 or -1. */
int gl_hex_decode(const char *s, size_t len, struct gl_buf *out);

/* Whether s is a plain decimal number: -?digits[.digits]. */
int gl_is_decimal(const char *s, size_t len);

#endif
