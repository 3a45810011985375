/*
 * clock.h - times and durations as the plan writes them.
 *
 * Absolute times are ISO 8601 with a UTC offset; relative times are counted
 * from the switch (T0): "T-6h", "T0", "T+90m"; durations are "15m", "2h",
 * "1h30m", "45s", "1d".  Internally everything is seconds (int64_t): epoch
 * seconds for absolute times, seconds from T0 for relative ones.
 */
#ifndef GOLIVE_CLOCK_H
#define GOLIVE_CLOCK_H

#include <stdint.h>

/* Largest duration accepted: 366 days, which keeps every sum in range. */
#define GL_DURATION_MAX ((int64_t)366 * 86400)

/* "1h30m" -> 5400.  0 on success, -1 when s is not a duration. */
int gl_duration_parse(const char *s, int64_t *secs);

/* "T-6h" -> -21600, "T0" -> 0.  0 on success, -1 otherwise. */
int gl_reltime_parse(const char *s, int64_t *off);

/* "2026-03-14T00:00:00+08:00" -> epoch seconds and the offset in minutes.
 * Fractions of a second are accepted and dropped.  0 on success, -1 when
 * malformed, -2 when well formed but without a UTC offset. */
int gl_time_parse(const char *s, int64_t *epoch, int *offset_min);

/* Format epoch seconds at a UTC offset: "2026-03-14T00:00:00+08:00"
 * ("Z" for offset 0).  out needs 40 bytes. */
void gl_time_format(int64_t epoch, int offset_min, char *out);

/* Format seconds from T0: "T0", "T-6h", "T+1h30m".  out needs 32 bytes. */
void gl_reltime_format(int64_t off, char *out);

/* Format a duration: "1h30m", "45s", "0s".  out needs 24 bytes. */
void gl_duration_format(int64_t secs, char *out);

/* Proleptic Gregorian calendar: days since 1970-01-01 from a date, and
 * back. */
int64_t gl_days_from_civil(int64_t y, unsigned m, unsigned d);
void gl_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* The clock the library reads.  The library reads no environment: a
 * surface that replays a night (the CLI, from GOLIVE_NOW) sets it once,
 * before any thread starts; the default is the system clock. */
enum gl_clock_mode {
    GL_CLOCK_SYSTEM, /* the system clock */
    GL_CLOCK_FIXED,  /* always the epoch given to gl_clock_set */
    GL_CLOCK_BROKEN  /* a fixed time was asked for but is not a time */
};
void gl_clock_set(enum gl_clock_mode mode, int64_t epoch);

/* Whether the clock is not the system clock (GL_CLOCK_FIXED or
 * GL_CLOCK_BROKEN): the store marks events written so. */
int gl_clock_is_set(void);

/* The current time in epoch seconds by the clock above.  -1 (and *epoch
 * untouched) when the clock is GL_CLOCK_BROKEN. */
int gl_clock_now(int64_t *epoch);

/* gl_clock_now() as UTC ISO 8601 ("2026-03-14T00:00:00Z"), the form the
 * store's rows and the sync's checkpoints carry; the epoch (1970) when
 * GOLIVE_NOW is malformed.  out needs 40 bytes. */
void gl_clock_now_iso(char out[40]);

/* Seconds on the monotonic clock, for measuring how long something took
 * (never GOLIVE_NOW: a duration is real time). */
double gl_clock_mono(void);

#endif
