/*
 * canon.c - canonical encodings (see canon.h).
 */
#include "canon.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/value.h"
#include "util/buf.h"

enum gl_canon_class gl_canon_class_of(enum gl_vtype a, enum gl_vtype b)
{
    enum gl_vtype t[2] = {a, b};
    int i, num = 0, tm = 0, dt = 0, by = 0;

    for (i = 0; i < 2; i++) {
        switch (t[i]) {
        case GL_INT:
        case GL_NUMERIC:
        case GL_FLOAT:
        case GL_BOOL:
            num = 1;
            break;
        case GL_TIMESTAMP:
        case GL_TIMESTAMPTZ:
            tm = 1;
            break;
        case GL_DATE:
            dt = 1;
            break;
        case GL_BYTES:
            by = 1;
            break;
        default:
            break;
        }
    }
    if (num)
        return GL_CANON_NUMBER;
    if (tm)
        return GL_CANON_TIME;
    if (dt)
        return GL_CANON_DATE;
    if (by && a == b)
        return GL_CANON_BYTES;
    return GL_CANON_TEXT;
}

/* The number written [-]digits[.digits][e[+-]N], normalized. */
int gl_canon_decimal(const char *s, size_t len, struct gl_buf *out)
{
    char dig[128];
    size_t i = 0, n = 0, k;
    long point = 0, e = 0;
    int neg = 0, seen = 0, lead = 1;

    if (i < len && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    for (; i < len; i++) {
        if (s[i] == '.' && !seen) {
            seen = 1;
            continue;
        }
        if (!GL_ISDIGIT(s[i]))
            break;
        if (lead && s[i] == '0') {
            if (seen)
                point--;
            continue;
        }
        lead = 0;
        if (n < sizeof(dig) - 1)
            dig[n++] = s[i];
        if (!seen)
            point++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        char tmp[16];
        size_t m = 0;
        for (i++; i < len && m < sizeof(tmp) - 1; i++)
            tmp[m++] = s[i];
        tmp[m] = '\0';
        e = strtol(tmp, NULL, 10);
    }
    while (n && dig[n - 1] == '0')
        n--;
    if (!n)
        return gl_buf_add(out, "0", 1);
    point += e;
    if (neg && gl_buf_add(out, "-", 1))
        return -1;
    if (point <= 0) {
        if (gl_buf_add(out, "0.", 2))
            return -1;
        for (k = 0; k < (size_t)-point; k++)
            if (gl_buf_add(out, "0", 1))
                return -1;
        return gl_buf_add(out, dig, n);
    }
    if ((size_t)point >= n) {
        if (gl_buf_add(out, dig, n))
            return -1;
        for (k = n; k < (size_t)point; k++)
            if (gl_buf_add(out, "0", 1))
                return -1;
        return 0;
    }
    return gl_buf_add(out, dig, (size_t)point) || gl_buf_add(out, ".", 1) ||
           gl_buf_add(out, dig + point, n - (size_t)point);
}

/* tag, length (7 bits a byte, low first), bytes: one append, no printf;
 * this runs for every value of every row compared */
static int tagged(struct gl_buf *out, char tag, const char *s, size_t len)
{
    char small[80];
    size_t k = 0, n = len;

    small[k++] = tag;
    do {
        small[k++] = (char)((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
        n >>= 7;
    } while (n);
    if (len <= sizeof(small) - k) {
        if (len)
            memcpy(small + k, s, len);
        return gl_buf_add(out, small, k + len);
    }
    return gl_buf_add(out, small, k) || gl_buf_add(out, s, len);
}

/* tag and a 64-bit count (microseconds, days) as 8 bytes */
static int tagged64(struct gl_buf *out, char tag, int64_t x)
{
    char b[9];
    uint64_t u = (uint64_t)x;
    int i;

    b[0] = tag;
    for (i = 0; i < 8; i++)
        b[1 + i] = (char)(u >> (8 * i));
    return gl_buf_add(out, b, 9);
}

/* Scratch space for one value's normalized text, kept per thread: a
 * comparison encodes millions of values, and a malloc for each shows. */
static _Thread_local struct gl_buf scratch;

void gl_canon_done(void)
{
    gl_buf_release(&scratch);
}

int gl_canon_append(const struct gl_value *v, enum gl_canon_class c,
                    const struct gl_canon_opts *o, int rtrim,
                    struct gl_buf *out)
{
    struct gl_buf t = scratch;
    char tmp[64];
    int64_t x;
    int zoned, rc = 0;

    if (v->type == GL_NULL)
        return gl_buf_add(out, "Z", 1); /* NULL: its own tag, no body */
    switch (c) {
    case GL_CANON_NUMBER:
        switch (v->type) {
        case GL_INT:
        case GL_BOOL:
            rc = tagged(out, 'N', tmp, gl_fmt_int(v->i, tmp));
            goto done;
        case GL_FLOAT:
            if (!isfinite(v->f)) {
                rc = tagged(out, 'F',
                            isnan(v->f) ? "nan"
                            : v->f > 0  ? "inf"
                                        : "-inf",
                            isnan(v->f) ? 3
                            : v->f > 0  ? 3
                                        : 4);
                goto done;
            }
            snprintf(tmp, sizeof(tmp), "%.*g",
                     o->float_digits > 0 ? o->float_digits : 15, v->f);
            rc = gl_canon_decimal(tmp, strlen(tmp), &t) ||
                 tagged(out, 'N', t.data, t.len);
            goto done;
        case GL_NUMERIC:
        case GL_TEXT:
            if (gl_is_decimal(v->s, v->len)) {
                rc = gl_canon_decimal(v->s, v->len, &t) ||
                     tagged(out, 'N', t.data, t.len);
                goto done;
            }
            /* booleans kept as text: t / f, true / false */
            if (v->type == GL_TEXT && v->len <= 5) {
                char low[6];
                size_t k;
                for (k = 0; k < v->len; k++)
                    low[k] = (char)tolower((unsigned char)v->s[k]);
                low[k] = '\0';
                if (!strcmp(low, "t") || !strcmp(low, "true")) {
                    rc = tagged(out, 'N', "1", 1);
                    goto done;
                }
                if (!strcmp(low, "f") || !strcmp(low, "false")) {
                    rc = tagged(out, 'N', "0", 1);
                    goto done;
                }
            }
            break;
        default:
            break;
        }
        break;
    case GL_CANON_TIME:
        if (v->type == GL_TIMESTAMP || v->type == GL_TIMESTAMPTZ) {
            x = v->i;
        } else if (v->type == GL_DATE) {
            x = v->i * 86400LL * 1000000;
        } else if (v->type == GL_TEXT &&
                   !gl_parse_timestamp(v->s, v->len, &x, &zoned)) {
            ;
        } else {
            break;
        }
        if (o->time_unit > 1)
            x -= ((x % o->time_unit) + o->time_unit) % o->time_unit;
        rc = tagged64(out, 'S', x);
        goto done;
    case GL_CANON_DATE:
        if (v->type == GL_DATE)
            x = v->i;
        else if (v->type == GL_TEXT && !gl_parse_date(v->s, v->len, &x))
            ;
        else if ((v->type == GL_TIMESTAMP || v->type == GL_TIMESTAMPTZ) &&
                 v->i % (86400LL * 1000000) == 0)
            x = v->i / (86400LL * 1000000);
        else
            break;
        rc = tagged64(out, 'D', x);
        goto done;
    case GL_CANON_BYTES:
        if (v->type == GL_BYTES) {
            rc = tagged(out, 'B', v->s, v->len);
            goto done;
        }
        break;
    case GL_CANON_TEXT:
        break;
    }
    /* text: what it says; other types in their canonical text */
    if (v->type == GL_TEXT) {
        size_t len = v->len;
        if (rtrim)
            while (len && v->s[len - 1] == ' ')
                len--;
        rc = tagged(out, 'T', v->s, len);
    } else if (v->type == GL_BYTES) {
        rc = tagged(out, 'B', v->s, v->len);
    } else {
        rc = gl_value_text(v, &t) || tagged(out, 'T', gl_buf_str(&t), t.len);
    }
done:
    /* keep the memory for the next value (bounded: one value's text) */
    gl_buf_reset(&t);
    if (t.cap > 4096)
        gl_buf_release(&t);
    scratch = t;
    return rc;
}
