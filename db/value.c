/*
 * value.c - text forms of typed values (see value.h and golive/db.h).
 */
#include "value.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/clock.h"

static int num(const char **p, const char *end, int n, int *out)
{
    int v = 0;

    while (n--) {
        if (*p >= end || !GL_ISDIGIT(**p))
            return -1;
        v = v * 10 + (*(*p)++ - '0');
    }
    *out = v;
    return 0;
}

static int parse_date_at(const char **p, const char *end, int64_t *days)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d, neg = 0;

    if (*p < end && **p == '-') {
        neg = 1;
        (*p)++;
    }
    if (num(p, end, 4, &y) || *p >= end || *(*p)++ != '-' ||
        num(p, end, 2, &m) || *p >= end || *(*p)++ != '-' || num(p, end, 2, &d))
        return -1;
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return -1;
    if (neg)
        y = -y;
    if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return -1;
    *days = gl_days_from_civil(y, (unsigned)m, (unsigned)d);
    return 0;
}

static int parse_time_at(const char **p, const char *end, int64_t *micros)
{
    int h, mi, s = 0, digits = 0;
    int64_t frac = 0;

    if (num(p, end, 2, &h) || *p >= end || *(*p)++ != ':' ||
        num(p, end, 2, &mi))
        return -1;
    if (*p < end && **p == ':') {
        (*p)++;
        if (num(p, end, 2, &s))
            return -1;
        if (*p < end && **p == '.') {
            (*p)++;
            while (*p < end && GL_ISDIGIT(**p)) {
                if (digits < 6) {
                    frac = frac * 10 + (**p - '0');
                    digits++;
                }
                (*p)++;
            }
            if (!digits)
                return -1;
            while (digits++ < 6)
                frac *= 10;
        }
    }
    if (h > 24 || mi > 59 || s > 60 || (h == 24 && (mi || s || frac)))
        return -1;
    *micros = ((int64_t)h * 3600 + mi * 60 + s) * 1000000 + frac;
    return 0;
}

int gl_parse_date(const char *s, size_t len, int64_t *days)
{
    const char *p = s, *end = s + len;

    return parse_date_at(&p, end, days) || p != end ? -1 : 0;
}

int gl_parse_time(const char *s, size_t len, int64_t *micros)
{
    const char *p = s, *end = s + len;

    return parse_time_at(&p, end, micros) || p != end ? -1 : 0;
}

int gl_parse_timestamp(const char *s, size_t len, int64_t *micros, int *zoned)
{
    const char *p = s, *end = s + len;
    int64_t days, t;
    int oh = 0, om = 0, os = 0, sign;

    *zoned = 0;
    if (parse_date_at(&p, end, &days))
        return -1;
    if (p == end) {
        *micros = days * 86400 * 1000000;
        return 0;
    }
    if (*p != ' ' && *p != 'T' && *p != 't')
        return -1;
    p++;
    if (parse_time_at(&p, end, &t))
        return -1;
    *micros = days * 86400 * 1000000 + t;
    if (p == end)
        return 0;
    if (*p == 'Z' || *p == 'z') {
        *zoned = 1;
        return p + 1 == end ? 0 : -1;
    }
    if (*p == ' ' && p + 1 < end && (p[1] == '+' || p[1] == '-'))
        p++;
    if (*p != '+' && *p != '-')
        return -1;
    sign = *p++ == '-' ? -1 : 1;
    if (num(&p, end, 2, &oh))
        return -1;
    if (p < end && *p == ':')
        p++;
    if (p < end && num(&p, end, 2, &om))
        return -1;
    if (p < end && *p == ':')
        p++;
    if (p < end && num(&p, end, 2, &os))
        return -1;
    if (p != end || oh > 23 || om > 59 || os > 59)
        return -1;
    *zoned = 1;
    *micros -= sign * ((int64_t)oh * 3600 + om * 60 + os) * 1000000;
    return 0;
}

static int64_t floordiv(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

size_t gl_fmt_int(int64_t v, char *out)
{
    /* two digits at a time: this runs for every number compared */
    static const char pairs[201] = "00010203040506070809"
                                   "10111213141516171819"
                                   "20212223242526272829"
                                   "30313233343536373839"
                                   "40414243444546474849"
                                   "50515253545556575859"
                                   "60616263646566676869"
                                   "70717273747576777879"
                                   "80818283848586878889"
                                   "90919293949596979899";
    char tmp[24];
    size_t n = sizeof(tmp), i = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    while (u >= 100) {
        unsigned d = (unsigned)(u % 100) * 2;
        u /= 100;
        tmp[--n] = pairs[d + 1];
        tmp[--n] = pairs[d];
    }
    if (u >= 10) {
        tmp[--n] = pairs[u * 2 + 1];
        tmp[--n] = pairs[u * 2];
    } else {
        tmp[--n] = (char)('0' + u);
    }
    if (v < 0)
        out[i++] = '-';
    memcpy(out + i, tmp + n, sizeof(tmp) - n);
    i += sizeof(tmp) - n;
    out[i] = '\0';
    return i;
}

int64_t gl_parse_int(const char *s)
{
    const char *p = s;
    uint64_t u = 0;
    int neg = 0, n = 0;

    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    while (*p >= '0' && *p <= '9' && n < 18) {
        u = u * 10 + (uint64_t)(*p++ - '0');
        n++;
    }
    if (*p >= '0' && *p <= '9')
        return strtoll(s, NULL, 10); /* 19 digits: let libc clamp */
    return neg ? -(int64_t)u : (int64_t)u;
}

size_t gl_fmt_double_decimal(double x, char *out)
{
    static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4,
                                   1e5, 1e6, 1e7, 1e8, 1e9};
    int k;

    if (!(x == x) || x > 1e15 || x < -1e15)
        return 0;
    for (k = 0; k < 10; k++) {
        double m = nearbyint(x * pow10[k]);
        char digits[24];
        size_t n, i, o = 0;
        int neg;
        int64_t im;

        if (m > 9007199254740992.0 || m < -9007199254740992.0)
            return 0;
        /* IEEE division rounds m / 10^k exactly as strtod rounds the
         * decimal it spells, so equality means the text reads back as x */
        if (m / pow10[k] != x)
            continue;
        im = (int64_t)m;
        neg = im < 0 || (im == 0 && signbit(x) && 0);
        n = gl_fmt_int(im < 0 ? -im : im, digits);
        if (n > 15)
            return 0;
        if (neg)
            out[o++] = '-';
        if ((size_t)k >= n) { /* 0.00ddd */
            out[o++] = '0';
            out[o++] = '.';
            for (i = 0; i < (size_t)k - n; i++)
                out[o++] = '0';
            memcpy(out + o, digits, n);
            o += n;
        } else {
            memcpy(out + o, digits, n - (size_t)k);
            o += n - (size_t)k;
            if (k) {
                out[o++] = '.';
                memcpy(out + o, digits + n - k, (size_t)k);
                o += (size_t)k;
            }
        }
        out[o] = '\0';
        return o;
    }
    return 0;
}

static char *put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

/* These run for every value a sync formats: no printf. */
void gl_format_date(int64_t days, char *out)
{
    int64_t y;
    unsigned m, d;
    char *p = out;

    gl_civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        char tmp[64];
        snprintf(tmp, sizeof(tmp), "%04" PRId64 "-%02u-%02u", y, m, d);
        snprintf(out, 40, "%.39s", tmp);
        return;
    }
    p = put2(p, (unsigned)(y / 100));
    p = put2(p, (unsigned)(y % 100));
    *p++ = '-';
    p = put2(p, m);
    *p++ = '-';
    p = put2(p, d);
    *p = '\0';
}

void gl_format_time(int64_t micros, char *out)
{
    int64_t s = micros / 1000000, f = micros % 1000000;
    char *p = out;
    int k;

    if (micros < 0 || s >= 100 * 3600) {
        snprintf(out, 40, "%" PRId64 "us", micros);
        return;
    }
    p = put2(p, (unsigned)(s / 3600));
    *p++ = ':';
    p = put2(p, (unsigned)(s / 60 % 60));
    *p++ = ':';
    p = put2(p, (unsigned)(s % 60));
    if (f) {
        *p++ = '.';
        for (k = 5; k >= 0; k--) {
            p[k] = (char)('0' + f % 10);
            f /= 10;
        }
        p += 6;
    }
    *p = '\0';
}

void gl_format_timestamp(int64_t micros, int flags, char *out)
{
    int64_t days = floordiv(micros, 86400LL * 1000000);
    int64_t rest = micros - days * 86400LL * 1000000;
    size_t n;

    gl_format_date(days, out);
    n = strlen(out);
    out[n++] = flags & GL_TS_ISO ? 'T' : ' ';
    gl_format_time(rest, out + n);
    if (flags & GL_TS_ZONE)
        strcat(out, flags & GL_TS_ISO ? "Z" : "+00:00");
}

int gl_hex_append(struct gl_buf *out, const void *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *b = p;
    char chunk[256];
    size_t i, k = 0;

    for (i = 0; i < n; i++) {
        chunk[k++] = digits[b[i] >> 4];
        chunk[k++] = digits[b[i] & 15];
        if (k == sizeof(chunk)) {
            if (gl_buf_add(out, chunk, k))
                return -1;
            k = 0;
        }
    }
    return gl_buf_add(out, chunk, k);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int gl_hex_decode(const char *s, size_t len, struct gl_buf *out)
{
    size_t i;

    if (len % 2)
        return -1;
    for (i = 0; i < len; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        char c;
        if (hi < 0 || lo < 0)
            return -1;
        c = (char)(hi << 4 | lo);
        if (gl_buf_add(out, &c, 1))
            return -1;
    }
    return 0;
}

int gl_is_decimal(const char *s, size_t len)
{
    size_t i = 0, digits = 0;

    if (i < len && (s[i] == '-' || s[i] == '+'))
        i++;
    while (i < len && GL_ISDIGIT(s[i])) {
        i++;
        digits++;
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && GL_ISDIGIT(s[i])) {
            i++;
            digits++;
        }
    }
    return digits > 0 && i == len;
}
