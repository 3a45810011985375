/*
 * convert.c - value conversions into target column types (convert.h).
 */
#include "convert.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/value.h"
#include "util/arena.h"
#include "util/buf.h"

#define REJECT(...)                                                            \
    do {                                                                       \
        snprintf(why, whylen, __VA_ARGS__);                                    \
        return 1;                                                              \
    } while (0)

/* Canonical form of a decimal: no '+', no leading zeros, no trailing
 * fractional zeros.  Writes into out (cap bytes); digit counts too. */
static void decimal_parts(const char *s, size_t len, int *neg, size_t *ilen,
                          size_t *flen, const char **ip, const char **fp)
{
    size_t i = 0;

    *neg = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        *neg = s[i++] == '-';
    while (i < len && s[i] == '0' && i + 1 < len && s[i + 1] != '.')
        i++;
    *ip = s + i;
    *ilen = 0;
    while (i < len && isdigit((unsigned char)s[i])) {
        i++;
        (*ilen)++;
    }
    if (*ilen == 1 && **ip == '0')
        *ilen = 0; /* "0.5": no integer digits */
    *fp = s + i + (i < len && s[i] == '.');
    *flen = i < len && s[i] == '.' ? len - i - 1 : 0;
    while (*flen && (*fp)[*flen - 1] == '0')
        (*flen)--;
}

/* The digits of a number written as [-]digits[.digits][e[+-]N], as a sign,
 * significant digits (no leading or trailing zeros) and the power of ten
 * of the first one.  Returns -1 when it is not such a number. */
static int sig_digits(const char *s, size_t len, int *neg, char *dig,
                      size_t cap, long *exp10)
{
    size_t i = 0, n = 0;
    long point = 0, e = 0;
    int seen_point = 0, lead = 1;

    *neg = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        *neg = s[i++] == '-';
    for (; i < len; i++) {
        if (s[i] == '.' && !seen_point) {
            seen_point = 1;
            continue;
        }
        if (!isdigit((unsigned char)s[i]))
            break;
        if (lead && s[i] == '0') {
            if (seen_point)
                point--; /* 0.00x: the first digit comes later */
            continue;
        }
        lead = 0;
        if (n + 1 >= cap)
            return -1;
        dig[n++] = s[i];
        if (!seen_point)
            point++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        char tmp[16];
        size_t k = 0;
        for (i++; i < len && k < sizeof(tmp) - 1; i++)
            tmp[k++] = s[i];
        tmp[k] = '\0';
        e = strtol(tmp, NULL, 10);
        i = len;
    }
    if (i != len)
        return -1;
    while (n && dig[n - 1] == '0')
        n--;
    dig[n] = '\0';
    *exp10 = n ? point + e : 0;
    if (!n)
        *neg = 0;
    return 0;
}

int gl_decimal_fits_double(const char *s, size_t len)
{
    char tmp[128], back[64], d1[128], d2[64];
    long e1, e2;
    int n1, n2, prec;
    double d;

    if (len >= sizeof(tmp))
        return 0;
    /* up to 15 significant digits always survive a double */
    {
        size_t i, sig = 0;
        int lead = 1;
        for (i = 0; i < len; i++) {
            if (s[i] < '0' || s[i] > '9')
                continue;
            if (lead && s[i] == '0')
                continue;
            lead = 0;
            sig++;
        }
        if (sig <= 15 && gl_is_decimal(s, len)) {
            /* trailing zeros after the point are not significant */
            return 1;
        }
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    d = strtod(tmp, NULL);
    if (!isfinite(d))
        return 0;
    /* the shortest text that reads back as d must be the same number */
    for (prec = 1; prec <= 17; prec++) {
        snprintf(back, sizeof(back), "%.*g", prec, d);
        if (strtod(back, NULL) == d)
            break;
    }
    if (sig_digits(tmp, len, &n1, d1, sizeof(d1), &e1) ||
        sig_digits(back, strlen(back), &n2, d2, sizeof(d2), &e2))
        return 0;
    return n1 == n2 && e1 == e2 && !strcmp(d1, d2);
}

static char *dup_text(struct gl_arena *a, const char *s, size_t n)
{
    return gl_arena_strndup(a, s, n);
}

static int text_of(const struct gl_value *in, struct gl_arena *a,
                   struct gl_value *out)
{
    struct gl_buf b = GL_BUF_INIT;
    char *s;

    if (gl_value_text(in, &b) || gl_buf_failed(&b)) {
        gl_buf_release(&b);
        return -1;
    }
    s = dup_text(a, gl_buf_str(&b), b.len);
    out->type = GL_TEXT;
    out->s = s;
    out->len = b.len;
    gl_buf_release(&b);
    return s ? 0 : -1;
}

static size_t utf8_chars(const char *s, size_t len)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static int to_numeric(const struct gl_value *in, const struct gl_column *col,
                      enum gl_engine engine, struct gl_arena *a,
                      struct gl_value *out, char *why, size_t whylen)
{
    char tmp[64];
    const char *s;
    size_t len, il, fl;
    const char *ip, *fp;
    int neg;

    switch (in->type) {
    case GL_INT:
    case GL_BOOL:
        snprintf(tmp, sizeof(tmp), "%" PRId64, in->i);
        s = dup_text(a, tmp, strlen(tmp));
        len = strlen(tmp);
        break;
    case GL_FLOAT: {
        int prec;
        if (!isfinite(in->f))
            REJECT("%g is not a number a numeric column can hold", in->f);
        for (prec = gl_fmt_double_decimal(in->f, tmp) ? 18 : 15; prec <= 17;
             prec++) {
            snprintf(tmp, sizeof(tmp), "%.*g", prec, in->f);
            if (strtod(tmp, NULL) == in->f)
                break;
        }
        if (!gl_is_decimal(tmp, strlen(tmp)))
            snprintf(tmp, sizeof(tmp), "%.17f", in->f);
        s = dup_text(a, tmp, strlen(tmp));
        len = strlen(tmp);
        break;
    }
    case GL_NUMERIC:
    case GL_TEXT: {
        size_t b = 0, e = in->len;
        while (b < e && isspace((unsigned char)in->s[b]))
            b++;
        while (e > b && isspace((unsigned char)in->s[e - 1]))
            e--;
        if (!gl_is_decimal(in->s + b, e - b))
            REJECT("'%.*s' is not a number", (int)(in->len > 40 ? 40 : in->len),
                   in->s);
        s = in->s + b;
        len = e - b;
        break;
    }
    default:
        REJECT("a %s value cannot go into numeric column '%s'",
               gl_vtype_name(in->type), col->name);
    }
    if (!s)
        return -1;
    decimal_parts(s, len, &neg, &il, &fl, &ip, &fp);
    if (col->scale >= 0 && fl > (size_t)col->scale)
        REJECT("%.*s has more than %d decimal places; column '%s' would "
               "round it",
               (int)len, s, col->scale, col->name);
    if (col->precision > 0 && col->scale >= 0 &&
        il > (size_t)(col->precision - col->scale))
        REJECT("%.*s does not fit numeric(%d,%d) column '%s'", (int)len, s,
               col->precision, col->scale, col->name);
    if (engine == GL_ENGINE_SQLITE && !gl_decimal_fits_double(s, len))
        REJECT("%.*s has more digits than SQLite's NUMERIC column '%s' keeps "
               "(it stores a double); declare the column TEXT to keep them",
               (int)len, s, col->name);
    out->type = GL_NUMERIC;
    out->s = s;
    out->len = len;
    return 0;
}

/* A zero date or an infinity (GL_SPECIAL): kept where the target has the
 * very value (PostgreSQL's infinities in its date and timestamp columns),
 * its text in a text column, else 2: the column's `unrepresentable:`
 * decides.  golive's MariaDB session is strict (NO_ZERO_DATE): zero dates
 * are nowhere a target value. */
static int special(const struct gl_value *in, const struct gl_column *col,
                   enum gl_engine engine, struct gl_arena *a,
                   struct gl_value *out, char *why, size_t whylen)
{
    enum gl_special_kind kind = gl_special_kind(in->s, in->len);
    const char *what = kind == GL_SP_INFINITY    ? "infinity"
                       : kind == GL_SP_PG_DATE   ? "date"
                       : kind == GL_SP_LONG_TIME ? "time"
                                                 : "zero date";
    static const char *const engines[] = {"sqlite", "postgres", "mysql"};

    if (col->type == GL_TEXT) {
        out->type = GL_TEXT;
        if (col->length > 0 && in->len > (size_t)col->length) {
            snprintf(why, whylen,
                     "text of %zu characters is longer than column '%s' (%d)",
                     in->len, col->name, col->length);
            return 1;
        }
        return 0;
    }
    if (gl_special_fits(in, engines[engine], col->type)) {
        out->i = col->type;
        return 0;
    }
    (void)a;
    snprintf(why, whylen,
             "%s '%.*s' has no place in %s column '%s' of the target "
             "(the column's 'unrepresentable: null' stores NULL instead)",
             what, (int)(in->len > 40 ? 40 : in->len), in->s,
             gl_vtype_name(col->type), col->name);
    return 2;
}

int gl_convert(const struct gl_value *in, const struct gl_column *col,
               enum gl_engine engine, struct gl_arena *a, struct gl_value *out,
               char *why, size_t whylen)
{
    char tmp[128];
    int64_t x;
    int zoned;

    *out = *in;
    if (in->type == GL_NULL)
        return 0;
    if (in->type == GL_SPECIAL)
        return special(in, col, engine, a, out, why, whylen);
    switch (col->type) {
    case GL_INT:
        switch (in->type) {
        case GL_INT:
            return 0;
        case GL_BOOL:
            out->type = GL_INT;
            return 0;
        case GL_FLOAT:
            if (in->f != floor(in->f) || fabs(in->f) > 9.2e18)
                REJECT("%.17g is not a whole number for column '%s'", in->f,
                       col->name);
            out->type = GL_INT;
            out->i = (int64_t)in->f;
            return 0;
        case GL_NUMERIC:
        case GL_TEXT: {
            char *end;
            size_t n = in->len < sizeof(tmp) - 1 ? in->len : sizeof(tmp) - 1;
            memcpy(tmp, in->s, n);
            tmp[n] = '\0';
            errno = 0;
            x = strtoll(tmp, &end, 10);
            if (*end == '.') { /* "12.000" is 12 */
                char *z = end + 1;
                while (*z == '0')
                    z++;
                if (!*z)
                    end = z;
            }
            while (*end && isspace((unsigned char)*end))
                end++;
            if (errno || end == tmp || *end || n != in->len)
                REJECT("'%.40s' is not a whole number for column '%s'", tmp,
                       col->name);
            out->type = GL_INT;
            out->i = x;
            return 0;
        }
        default:
            break;
        }
        break;
    case GL_NUMERIC:
        return to_numeric(in, col, engine, a, out, why, whylen);
    case GL_FLOAT:
        switch (in->type) {
        case GL_FLOAT:
            return 0;
        case GL_INT:
        case GL_BOOL:
            if (in->i > (1LL << 53) || in->i < -(1LL << 53))
                REJECT("%" PRId64 " has more digits than float column '%s' "
                       "keeps",
                       in->i, col->name);
            out->type = GL_FLOAT;
            out->f = (double)in->i;
            return 0;
        case GL_NUMERIC:
        case GL_TEXT:
            if (!gl_is_decimal(in->s, in->len) &&
                !(in->len < sizeof(tmp) && in->type == GL_TEXT))
                REJECT("'%.40s' is not a number", in->s);
            if (!gl_is_decimal(in->s, in->len)) {
                char *end;
                memcpy(tmp, in->s, in->len);
                tmp[in->len] = '\0';
                out->f = strtod(tmp, &end);
                if (*end || end == tmp)
                    REJECT("'%.40s' is not a number", tmp);
                out->type = GL_FLOAT;
                return 0;
            }
            if (!gl_decimal_fits_double(in->s, in->len))
                REJECT("%.*s has more digits than float column '%s' keeps",
                       (int)(in->len > 60 ? 60 : in->len), in->s, col->name);
            memcpy(tmp, in->s, in->len < 127 ? in->len : 127);
            tmp[in->len < 127 ? in->len : 127] = '\0';
            out->type = GL_FLOAT;
            out->f = strtod(tmp, NULL);
            return 0;
        default:
            break;
        }
        break;
    case GL_TEXT:
        if (in->type != GL_TEXT && text_of(in, a, out))
            return -1;
        if (col->length > 0 &&
            utf8_chars(out->s, out->len) > (size_t)col->length)
            REJECT("text of %zu characters is longer than column '%s' "
                   "(%d)",
                   utf8_chars(out->s, out->len), col->name, col->length);
        return 0;
    case GL_BYTES:
        if (in->type == GL_BYTES)
            return 0;
        if (engine == GL_ENGINE_SQLITE) {
            /* SQLite columns without affinity keep any value as given */
            return 0;
        }
        if (in->type == GL_TEXT) {
            out->type = GL_BYTES;
            return 0;
        }
        break;
    case GL_BOOL:
        if (in->type == GL_BOOL)
            return 0;
        if (in->type == GL_INT && (in->i == 0 || in->i == 1)) {
            out->type = GL_BOOL;
            return 0;
        }
        if (in->type == GL_TEXT && in->len < 8) {
            memcpy(tmp, in->s, in->len);
            tmp[in->len] = '\0';
            for (char *c = tmp; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            out->type = GL_BOOL;
            if (!strcmp(tmp, "t") || !strcmp(tmp, "true") ||
                !strcmp(tmp, "y") || !strcmp(tmp, "yes") || !strcmp(tmp, "1"))
                out->i = 1;
            else if (!strcmp(tmp, "f") || !strcmp(tmp, "false") ||
                     !strcmp(tmp, "n") || !strcmp(tmp, "no") ||
                     !strcmp(tmp, "0"))
                out->i = 0;
            else
                REJECT("'%s' is not a boolean for column '%s'", tmp, col->name);
            return 0;
        }
        break;
    case GL_DATE:
        if (in->type == GL_DATE)
            return 0;
        if (in->type == GL_TIMESTAMP || in->type == GL_TIMESTAMPTZ) {
            int64_t day = 86400LL * 1000000;
            if (in->i % day)
                REJECT("a timestamp with a time of day cannot go into date "
                       "column '%s'",
                       col->name);
            out->type = GL_DATE;
            out->i = in->i / day;
            return 0;
        }
        if (in->type == GL_TEXT) {
            if (gl_parse_date(in->s, in->len, &x))
                REJECT("'%.40s' is not a date for column '%s'", in->s,
                       col->name);
            out->type = GL_DATE;
            out->i = x;
            return 0;
        }
        break;
    case GL_TIME:
        if (in->type == GL_TIME)
            return 0;
        if (in->type == GL_TEXT) {
            if (gl_parse_time(in->s, in->len, &x))
                REJECT("'%.40s' is not a time for column '%s'", in->s,
                       col->name);
            out->type = GL_TIME;
            out->i = x;
            return 0;
        }
        break;
    case GL_TIMESTAMP:
    case GL_TIMESTAMPTZ:
        switch (in->type) {
        case GL_TIMESTAMP:
        case GL_TIMESTAMPTZ:
            break;
        case GL_DATE:
            out->i = in->i * 86400LL * 1000000;
            break;
        case GL_TEXT:
            if (gl_parse_timestamp(in->s, in->len, &x, &zoned))
                REJECT("'%.40s' is not a timestamp for column '%s'", in->s,
                       col->name);
            out->i = x;
            break;
        default:
            REJECT("a %s value cannot go into timestamp column '%s'",
                   gl_vtype_name(in->type), col->name);
        }
        /* an instant without a zone is read as UTC, and written as UTC
         * where the target keeps none */
        out->type = col->type;
        if (col->scale >= 0 && col->scale < 6) {
            int64_t unit = 1;
            int k;
            for (k = col->scale; k < 6; k++)
                unit *= 10;
            if (out->i % unit)
                REJECT("timestamp has more fractional digits than column "
                       "'%s' keeps (%d)",
                       col->name, col->scale);
        }
        return 0;
    default:
        break;
    }
    REJECT("a %s value cannot go into %s column '%s'", gl_vtype_name(in->type),
           gl_vtype_name(col->type), col->name);
}
