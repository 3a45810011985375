/*
 * clock.c - parsing and formatting of plan times and durations.
 *
 * Calendar arithmetic uses the days-from-civil algorithm (proleptic
 * Gregorian) so that no time zone database or TZ setting is involved.
 */
#include "clock.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t gl_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void gl_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    *y = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y += *m <= 2;
}

int gl_duration_parse(const char *s, int64_t *secs)
{
    int64_t total = 0;
    int units = 0;
    const char *order = "dhms", *last = NULL;

    if (!s || !*s)
        return -1;
    if (!strcmp(s, "0")) {
        *secs = 0;
        return 0;
    }
    while (*s) {
        int64_t v = 0, mult;
        const char *u;
        int digits = 0;

        while (isdigit((unsigned char)*s)) {
            v = v * 10 + (*s++ - '0');
            if (v > GL_DURATION_MAX)
                return -1;
            digits++;
        }
        if (!digits || !*s || !(u = strchr(order, *s)))
            return -1;
        /* units must come in order, each once: "1h30m", never "30m1h" */
        if (last && u <= last)
            return -1;
        last = u;
        mult = *s == 'd' ? 86400 : *s == 'h' ? 3600 : *s == 'm' ? 60 : 1;
        total += v * mult;
        if (total > GL_DURATION_MAX)
            return -1;
        s++;
        units++;
    }
    *secs = total;
    return units ? 0 : -1;
}

int gl_reltime_parse(const char *s, int64_t *off)
{
    int64_t d;

    if (!s || s[0] != 'T')
        return -1;
    if (!strcmp(s, "T0") || !strcmp(s, "T")) {
        *off = 0;
        return 0;
    }
    if ((s[1] != '+' && s[1] != '-') || gl_duration_parse(s + 2, &d))
        return -1;
    *off = s[1] == '-' ? -d : d;
    return 0;
}

/* Read exactly n digits. */
static int digits(const char **p, int n, int *out)
{
    int v = 0;

    while (n--) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (*(*p)++ - '0');
    }
    *out = v;
    return 0;
}

int gl_time_parse(const char *s, int64_t *epoch, int *offset_min)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec = 0, oh = 0, om = 0, sign = 1, off = 0;
    const char *p = s;

    if (!s || digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
        *p++ != '-' || digits(&p, 2, &d))
        return -1;
    if ((*p != 'T' && *p != 't' && *p != ' ') || !p[1])
        return -1;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
        return -1;
    if (*p == ':') {
        p++;
        if (digits(&p, 2, &sec))
            return -1;
        if (*p == '.' || *p == ',') {
            p++;
            if (!isdigit((unsigned char)*p))
                return -1;
            while (isdigit((unsigned char)*p))
                p++;
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
        sec > 60)
        return -1;
    if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return -1;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p++ == '-' ? -1 : 1;
        if (digits(&p, 2, &oh))
            return -1;
        if (*p == ':')
            p++;
        if (digits(&p, 2, &om) || oh > 23 || om > 59)
            return -1;
        off = sign * (oh * 60 + om);
    } else if (!*p) {
        return -2;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    if (sec == 60) /* a leap second is the next second's start */
        sec = 59;
    *epoch = gl_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
             h * 3600 + mi * 60 + sec - (int64_t)off * 60;
    if (offset_min)
        *offset_min = off;
    return 0;
}

void gl_time_format(int64_t epoch, int offset_min, char *out)
{
    int64_t local = epoch + (int64_t)offset_min * 60, days, y;
    int64_t rem;
    unsigned m, d;
    char tmp[128]; /* roomy: the compiler cannot bound the year */

    days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    rem = local - days * 86400;
    gl_civil_from_days(days, &y, &m, &d);
    if (offset_min == 0)
        snprintf(tmp, sizeof(tmp), "%04" PRId64 "-%02u-%02uT%02d:%02d:%02dZ", y,
                 m, d, (int)(rem / 3600), (int)(rem / 60 % 60),
                 (int)(rem % 60));
    else
        snprintf(tmp, sizeof(tmp),
                 "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d%c%02d:%02d", y, m, d,
                 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60),
                 offset_min < 0 ? '-' : '+', abs(offset_min) / 60,
                 abs(offset_min) % 60);
    snprintf(out, 40, "%.39s", tmp);
}

void gl_duration_format(int64_t secs, char *out)
{
    int64_t d, h, m, s;
    int n = 0;

    if (secs < 0)
        secs = -secs;
    d = secs / 86400;
    h = secs / 3600 % 24;
    m = secs / 60 % 60;
    s = secs % 60;
    out[0] = '\0';
    if (d)
        n += snprintf(out + n, 24 - (size_t)n, "%" PRId64 "d", d);
    if (h)
        n += snprintf(out + n, 24 - (size_t)n, "%" PRId64 "h", h);
    if (m)
        n += snprintf(out + n, 24 - (size_t)n, "%" PRId64 "m", m);
    if (s || !n)
        snprintf(out + n, 24 - (size_t)n, "%" PRId64 "s", s);
}

void gl_reltime_format(int64_t off, char *out)
{
    char d[24];

    if (off == 0) {
        strcpy(out, "T0");
        return;
    }
    gl_duration_format(off, d);
    snprintf(out, 32, "T%c%s", off < 0 ? '-' : '+', d);
}

/* Set once by the surface before threads start, then only read. */
static enum gl_clock_mode clock_mode = GL_CLOCK_SYSTEM;
static int64_t clock_fixed;

void gl_clock_set(enum gl_clock_mode mode, int64_t epoch)
{
    clock_mode = mode;
    clock_fixed = epoch;
}

int gl_clock_is_set(void)
{
    return clock_mode != GL_CLOCK_SYSTEM;
}

int gl_clock_now(int64_t *epoch)
{
    if (clock_mode == GL_CLOCK_BROKEN)
        return -1;
    *epoch = clock_mode == GL_CLOCK_FIXED ? clock_fixed : (int64_t)time(NULL);
    return 0;
}

void gl_clock_now_iso(char out[40])
{
    int64_t now;

    if (gl_clock_now(&now))
        now = 0;
    gl_time_format(now, 0, out);
}

double gl_clock_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
