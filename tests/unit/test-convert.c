/*
 * test-convert.c - type fitting (sync/convert.c): every target type, the
 * edge values on each side of what fits, and the values no target can
 * hold (a reject, 1; or 2 for zero dates and infinities, which a column's
 * 'unrepresentable: null' turns into NULL).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "golive/db.h"
#include "sync/convert.h"
#include "util/arena.h"
#include "util/clock.h"

static struct gl_arena arena = GL_ARENA_INIT;
static char why[512];

/* Fit in into a column of type t (length, precision, scale as a
 * database describes it) on engine e; 0, 1 (reject), 2 (unrepresentable)
 * or -1, with *out. */
static int fit(struct gl_value in, enum gl_vtype t, int length, int precision,
               int scale, enum gl_engine e, struct gl_value *out)
{
    struct gl_column col;

    memset(&col, 0, sizeof(col));
    col.name = "c";
    col.type = t;
    col.length = length;
    col.precision = precision;
    col.scale = scale;
    why[0] = '\0';
    return gl_convert(&in, &col, e, &arena, out, why, sizeof(why));
}

static struct gl_value ival(enum gl_vtype t, int64_t i)
{
    struct gl_value v = {t, i, 0, NULL, 0};
    return v;
}

static struct gl_value fval(double f)
{
    struct gl_value v = {GL_FLOAT, 0, f, NULL, 0};
    return v;
}

static struct gl_value sval(enum gl_vtype t, const char *s)
{
    struct gl_value v = {t, 0, 0, s, strlen(s)};
    return v;
}

/* A zero date or infinity as a driver reads it: its text, and in i the
 * type of the column it came from. */
static struct gl_value special(const char *s, enum gl_vtype from)
{
    struct gl_value v = {GL_SPECIAL, from, 0, s, strlen(s)};
    return v;
}

#define PG GL_ENGINE_POSTGRES
#define MY GL_ENGINE_MYSQL
#define SQ GL_ENGINE_SQLITE

static void null_fits_everything(void **state)
{
    static const enum gl_vtype types[] = {
        GL_INT,  GL_NUMERIC, GL_FLOAT, GL_TEXT,      GL_BYTES,
        GL_BOOL, GL_DATE,    GL_TIME,  GL_TIMESTAMP, GL_TIMESTAMPTZ};
    struct gl_value out;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        assert_int_equal(fit(ival(GL_NULL, 0), types[i], 1, 1, 0, PG, &out), 0);
        assert_int_equal(out.type, GL_NULL);
    }
}

static void into_integer(void **state)
{
    struct gl_value out;

    (void)state;
    assert_int_equal(fit(ival(GL_INT, INT64_MIN), GL_INT, -1, -1, -1, PG, &out),
                     0);
    assert_true(out.type == GL_INT && out.i == INT64_MIN);
    assert_int_equal(fit(ival(GL_BOOL, 1), GL_INT, -1, -1, -1, PG, &out), 0);
    assert_true(out.type == GL_INT && out.i == 1);
    /* floats: whole numbers only */
    assert_int_equal(fit(fval(3.0), GL_INT, -1, -1, -1, PG, &out), 0);
    assert_true(out.type == GL_INT && out.i == 3);
    assert_int_equal(fit(fval(3.5), GL_INT, -1, -1, -1, PG, &out), 1);
    assert_non_null(strstr(why, "not a whole number"));
    assert_int_equal(fit(fval(1e19), GL_INT, -1, -1, -1, PG, &out), 1);
    /* text: the whole of it, within 64 bits; "12.000" is 12 */
    assert_int_equal(fit(sval(GL_TEXT, "42 "), GL_INT, -1, -1, -1, PG, &out),
                     0);
    assert_int_equal(out.i, 42);
    assert_int_equal(
        fit(sval(GL_NUMERIC, "12.000"), GL_INT, -1, -1, -1, PG, &out), 0);
    assert_int_equal(out.i, 12);
    assert_int_equal(
        fit(sval(GL_NUMERIC, "12.001"), GL_INT, -1, -1, -1, PG, &out), 1);
    assert_int_equal(
        fit(sval(GL_TEXT, "9223372036854775807"), GL_INT, -1, -1, -1, PG, &out),
        0);
    assert_true(out.i == INT64_MAX);
    assert_int_equal(
        fit(sval(GL_TEXT, "9223372036854775808"), GL_INT, -1, -1, -1, PG, &out),
        1);
    assert_int_equal(fit(sval(GL_TEXT, "12abc"), GL_INT, -1, -1, -1, PG, &out),
                     1);
    assert_int_equal(fit(sval(GL_TEXT, ""), GL_INT, -1, -1, -1, PG, &out), 1);
    /* what is no number at all */
    assert_int_equal(fit(ival(GL_DATE, 1), GL_INT, -1, -1, -1, PG, &out), 1);
    assert_non_null(strstr(why, "cannot go into"));
}

static void into_numeric(void **state)
{
    struct gl_value out;

    (void)state;
    /* numeric(5,2): three integer digits, two decimals */
    assert_int_equal(
        fit(sval(GL_NUMERIC, "123.45"), GL_NUMERIC, -1, 5, 2, PG, &out), 0);
    assert_true(out.type == GL_NUMERIC && out.len == 6 &&
                !memcmp(out.s, "123.45", 6));
    assert_int_equal(
        fit(sval(GL_NUMERIC, "-999.99"), GL_NUMERIC, -1, 5, 2, PG, &out), 0);
    assert_int_equal(
        fit(sval(GL_NUMERIC, "123.456"), GL_NUMERIC, -1, 5, 2, PG, &out), 1);
    assert_non_null(strstr(why, "would round it"));
    /* trailing zeros are no decimal places */
    assert_int_equal(
        fit(sval(GL_NUMERIC, "1.2000"), GL_NUMERIC, -1, 5, 2, PG, &out), 0);
    assert_int_equal(
        fit(sval(GL_NUMERIC, "1234.5"), GL_NUMERIC, -1, 5, 2, PG, &out), 1);
    assert_non_null(strstr(why, "does not fit numeric(5,2)"));
    assert_int_equal(fit(ival(GL_INT, 999), GL_NUMERIC, -1, 5, 2, PG, &out), 0);
    assert_true(out.type == GL_NUMERIC && out.len == 3);
    assert_int_equal(fit(ival(GL_INT, 1000), GL_NUMERIC, -1, 5, 2, PG, &out),
                     1);
    /* a float as the shortest decimal that reads back the same */
    assert_int_equal(fit(fval(0.1), GL_NUMERIC, -1, -1, -1, PG, &out), 0);
    assert_true(out.len == 3 && !memcmp(out.s, "0.1", 3));
    assert_int_equal(fit(fval(1.0 / 0.0), GL_NUMERIC, -1, -1, -1, PG, &out), 1);
    assert_int_equal(
        fit(sval(GL_TEXT, " 7.5 "), GL_NUMERIC, -1, -1, -1, PG, &out), 0);
    assert_true(out.len == 3 && !memcmp(out.s, "7.5", 3));
    assert_int_equal(
        fit(sval(GL_TEXT, "7,5"), GL_NUMERIC, -1, -1, -1, PG, &out), 1);
    assert_int_equal(fit(ival(GL_DATE, 1), GL_NUMERIC, -1, -1, -1, PG, &out),
                     1);
    /* SQLite keeps a double: 15 digits fit, 20 do not (PostgreSQL keeps
     * them all) */
    assert_int_equal(fit(sval(GL_NUMERIC, "123456789012345"), GL_NUMERIC, -1,
                         -1, -1, SQ, &out),
                     0);
    assert_int_equal(fit(sval(GL_NUMERIC, "12345678901234567890"), GL_NUMERIC,
                         -1, -1, -1, SQ, &out),
                     1);
    assert_non_null(strstr(why, "SQLite"));
    assert_int_equal(fit(sval(GL_NUMERIC, "12345678901234567890"), GL_NUMERIC,
                         -1, -1, -1, PG, &out),
                     0);
}

static void into_float(void **state)
{
    struct gl_value out;

    (void)state;
    assert_int_equal(
        fit(ival(GL_INT, (int64_t)1 << 53), GL_FLOAT, -1, -1, -1, PG, &out), 0);
    assert_true(out.type == GL_FLOAT && out.f == 9007199254740992.0);
    assert_int_equal(fit(ival(GL_INT, ((int64_t)1 << 53) + 1), GL_FLOAT, -1, -1,
                         -1, PG, &out),
                     1);
    assert_int_equal(fit(ival(GL_INT, -((int64_t)1 << 53) - 1), GL_FLOAT, -1,
                         -1, -1, PG, &out),
                     1);
    assert_int_equal(
        fit(sval(GL_NUMERIC, "0.1"), GL_FLOAT, -1, -1, -1, PG, &out), 0);
    assert_true(out.type == GL_FLOAT && out.f == 0.1);
    assert_int_equal(fit(sval(GL_NUMERIC, "0.12345678901234567890123"),
                         GL_FLOAT, -1, -1, -1, PG, &out),
                     1);
    assert_non_null(strstr(why, "more digits"));
    assert_int_equal(fit(sval(GL_TEXT, "1e3"), GL_FLOAT, -1, -1, -1, PG, &out),
                     0);
    assert_true(out.type == GL_FLOAT && out.f == 1000.0);
    assert_int_equal(fit(sval(GL_TEXT, "1e3x"), GL_FLOAT, -1, -1, -1, PG, &out),
                     1);
    assert_int_equal(fit(ival(GL_DATE, 1), GL_FLOAT, -1, -1, -1, PG, &out), 1);
}

static void into_text(void **state)
{
    struct gl_value out;

    (void)state;
    /* the length counts characters, not bytes */
    assert_int_equal(fit(sval(GL_TEXT, "abc"), GL_TEXT, 3, -1, -1, PG, &out),
                     0);
    assert_int_equal(fit(sval(GL_TEXT, "\xc3\xa4\xc3\xb6\xc3\xbc"), GL_TEXT, 3,
                         -1, -1, PG, &out),
                     0);
    assert_int_equal(fit(sval(GL_TEXT, "abcd"), GL_TEXT, 3, -1, -1, PG, &out),
                     1);
    assert_non_null(strstr(why, "longer than column 'c' (3)"));
    /* any value becomes its text, which must fit too */
    assert_int_equal(fit(ival(GL_INT, -12), GL_TEXT, 3, -1, -1, PG, &out), 0);
    assert_true(out.type == GL_TEXT && out.len == 3 &&
                !memcmp(out.s, "-12", 3));
    assert_int_equal(fit(ival(GL_INT, 1234), GL_TEXT, 3, -1, -1, PG, &out), 1);
    assert_int_equal(fit(ival(GL_BOOL, 1), GL_TEXT, -1, -1, -1, PG, &out), 0);
    assert_int_equal(out.type, GL_TEXT);
    assert_int_equal(fit(ival(GL_DATE, gl_days_from_civil(2026, 3, 14)),
                         GL_TEXT, -1, -1, -1, PG, &out),
                     0);
    assert_true(out.len == 10 && !memcmp(out.s, "2026-03-14", 10));
}

static void into_bytes(void **state)
{
    struct gl_value out;

    (void)state;
    assert_int_equal(
        fit(sval(GL_BYTES, "\x01\x02"), GL_BYTES, -1, -1, -1, PG, &out), 0);
    assert_int_equal(fit(sval(GL_TEXT, "ab"), GL_BYTES, -1, -1, -1, PG, &out),
                     0);
    assert_int_equal(out.type, GL_BYTES);
    assert_int_equal(fit(ival(GL_INT, 1), GL_BYTES, -1, -1, -1, PG, &out), 1);
    assert_int_equal(fit(ival(GL_INT, 1), GL_BYTES, -1, -1, -1, MY, &out), 1);
    /* a SQLite column without affinity keeps any value as given */
    assert_int_equal(fit(ival(GL_INT, 1), GL_BYTES, -1, -1, -1, SQ, &out), 0);
    assert_true(out.type == GL_INT && out.i == 1);
}

static void into_boolean(void **state)
{
    static const char *const yes[] = {"t", "TRUE", "y", "Yes", "1"};
    static const char *const no[] = {"f", "false", "N", "no", "0"};
    struct gl_value out;
    size_t i;

    (void)state;
    assert_int_equal(fit(ival(GL_INT, 1), GL_BOOL, -1, -1, -1, PG, &out), 0);
    assert_true(out.type == GL_BOOL && out.i == 1);
    assert_int_equal(fit(ival(GL_INT, 0), GL_BOOL, -1, -1, -1, PG, &out), 0);
    assert_true(out.type == GL_BOOL && out.i == 0);
    assert_int_equal(fit(ival(GL_INT, 2), GL_BOOL, -1, -1, -1, PG, &out), 1);
    assert_int_equal(fit(ival(GL_INT, -1), GL_BOOL, -1, -1, -1, PG, &out), 1);
    for (i = 0; i < 5; i++) {
        assert_int_equal(
            fit(sval(GL_TEXT, yes[i]), GL_BOOL, -1, -1, -1, PG, &out), 0);
        assert_true(out.type == GL_BOOL && out.i == 1);
        assert_int_equal(
            fit(sval(GL_TEXT, no[i]), GL_BOOL, -1, -1, -1, PG, &out), 0);
        assert_true(out.type == GL_BOOL && out.i == 0);
    }
    assert_int_equal(fit(sval(GL_TEXT, "off"), GL_BOOL, -1, -1, -1, PG, &out),
                     1);
    assert_non_null(strstr(why, "not a boolean"));
    assert_int_equal(
        fit(sval(GL_TEXT, "yes, sir"), GL_BOOL, -1, -1, -1, PG, &out), 1);
    assert_int_equal(fit(fval(1.0), GL_BOOL, -1, -1, -1, PG, &out), 1);
}

static void into_dates_and_times(void **state)
{
    const int64_t day = 86400LL * 1000000;
    int64_t d = gl_days_from_civil(2026, 3, 14);
    struct gl_value out;

    (void)state;
    /* date: from a midnight timestamp, or text that is a date */
    assert_int_equal(
        fit(ival(GL_TIMESTAMP, d * day), GL_DATE, -1, -1, -1, PG, &out), 0);
    assert_true(out.type == GL_DATE && out.i == d);
    assert_int_equal(
        fit(ival(GL_TIMESTAMPTZ, d * day + 1), GL_DATE, -1, -1, -1, PG, &out),
        1);
    assert_non_null(strstr(why, "time of day"));
    assert_int_equal(
        fit(sval(GL_TEXT, "2026-03-14"), GL_DATE, -1, -1, -1, PG, &out), 0);
    assert_true(out.type == GL_DATE && out.i == d);
    assert_int_equal(
        fit(sval(GL_TEXT, "14.03.2026"), GL_DATE, -1, -1, -1, PG, &out), 1);
    assert_int_equal(fit(ival(GL_INT, 1), GL_DATE, -1, -1, -1, PG, &out), 1);
    /* time */
    assert_int_equal(
        fit(sval(GL_TEXT, "12:34:56"), GL_TIME, -1, -1, -1, PG, &out), 0);
    assert_true(out.type == GL_TIME &&
                out.i == ((12 * 60 + 34) * 60 + 56) * 1000000LL);
    assert_int_equal(fit(sval(GL_TEXT, "noon"), GL_TIME, -1, -1, -1, PG, &out),
                     1);
    assert_int_equal(fit(ival(GL_INT, 1), GL_TIME, -1, -1, -1, PG, &out), 1);
    /* timestamps: a date is its midnight; text is read as UTC */
    assert_int_equal(fit(ival(GL_DATE, d), GL_TIMESTAMP, -1, -1, -1, PG, &out),
                     0);
    assert_true(out.type == GL_TIMESTAMP && out.i == d * day);
    assert_int_equal(fit(sval(GL_TEXT, "2026-03-14 10:00:00"), GL_TIMESTAMPTZ,
                         -1, -1, -1, PG, &out),
                     0);
    assert_true(out.type == GL_TIMESTAMPTZ &&
                out.i == d * day + 10 * 3600 * 1000000LL);
    assert_int_equal(
        fit(sval(GL_TEXT, "yesterday"), GL_TIMESTAMP, -1, -1, -1, PG, &out), 1);
    assert_int_equal(fit(ival(GL_INT, 1), GL_TIMESTAMP, -1, -1, -1, PG, &out),
                     1);
    /* fractional digits the column keeps: none, or milliseconds */
    assert_int_equal(fit(ival(GL_TIMESTAMP, d * day + 1000), GL_TIMESTAMP, -1,
                         -1, 3, MY, &out),
                     0);
    assert_int_equal(
        fit(ival(GL_TIMESTAMP, d * day + 1), GL_TIMESTAMP, -1, -1, 3, MY, &out),
        1);
    assert_non_null(strstr(why, "fractional digits"));
    assert_int_equal(fit(ival(GL_TIMESTAMP, d * day + 1000), GL_TIMESTAMP, -1,
                         -1, 0, MY, &out),
                     1);
    assert_int_equal(
        fit(ival(GL_TIMESTAMP, d * day), GL_TIMESTAMP, -1, -1, 0, MY, &out), 0);
}

/* Zero dates and infinities: kept only where the target has the very
 * value, as text in a text column, else 2 (the mapping decides: reject,
 * or NULL with 'unrepresentable: null'). */
static void unrepresentable(void **state)
{
    struct gl_value out;

    (void)state;
    /* PostgreSQL has infinities in dates and timestamps */
    assert_int_equal(fit(special("infinity", GL_TIMESTAMP), GL_TIMESTAMP, -1,
                         -1, -1, PG, &out),
                     0);
    assert_int_equal(out.type, GL_SPECIAL);
    assert_int_equal(
        fit(special("-infinity", GL_DATE), GL_DATE, -1, -1, -1, PG, &out), 0);
    /* MariaDB and SQLite do not */
    assert_int_equal(fit(special("infinity", GL_TIMESTAMP), GL_TIMESTAMP, -1,
                         -1, -1, MY, &out),
                     2);
    assert_non_null(strstr(why, "unrepresentable: null"));
    assert_int_equal(fit(special("infinity", GL_TIMESTAMP), GL_TIMESTAMP, -1,
                         -1, -1, SQ, &out),
                     2);
    /* zero dates have no place anywhere, not even PostgreSQL */
    assert_int_equal(
        fit(special("0000-00-00", GL_DATE), GL_DATE, -1, -1, -1, PG, &out), 2);
    assert_int_equal(
        fit(special("2026-00-14", GL_DATE), GL_DATE, -1, -1, -1, MY, &out), 2);
    assert_int_equal(fit(special("0000-00-00 00:00:00", GL_TIMESTAMP),
                         GL_TIMESTAMP, -1, -1, -1, MY, &out),
                     2);
    /* nor in a column of another type */
    assert_int_equal(
        fit(special("infinity", GL_TIMESTAMP), GL_INT, -1, -1, -1, PG, &out),
        2);
    /* a text column keeps its text, when it fits */
    assert_int_equal(
        fit(special("0000-00-00", GL_DATE), GL_TEXT, -1, -1, -1, MY, &out), 0);
    assert_true(out.type == GL_TEXT && out.len == 10);
    assert_int_equal(
        fit(special("0000-00-00", GL_DATE), GL_TEXT, 4, -1, -1, MY, &out), 1);
}

static int teardown(void **state)
{
    (void)state;
    gl_arena_release(&arena);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(null_fits_everything),
        cmocka_unit_test(into_integer),
        cmocka_unit_test(into_numeric),
        cmocka_unit_test(into_float),
        cmocka_unit_test(into_text),
        cmocka_unit_test(into_bytes),
        cmocka_unit_test(into_boolean),
        cmocka_unit_test(into_dates_and_times),
        cmocka_unit_test(unrepresentable),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
