/*
 * test-recon.c - canonical encodings: what is equal across engines, and
 * what is not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "recon/canon.h"
#include "util/buf.h"

static const struct gl_canon_opts opts = {15, 1, 0};

static struct gl_value text(const char *s)
{
    struct gl_value v = {GL_TEXT, 0, 0, s, strlen(s)};
    return v;
}

static struct gl_value num(const char *s)
{
    struct gl_value v = {GL_NUMERIC, 0, 0, s, strlen(s)};
    return v;
}

static int same(struct gl_value a, struct gl_value b, int rtrim)
{
    struct gl_buf x = GL_BUF_INIT, y = GL_BUF_INIT;
    enum gl_canon_class c = gl_canon_class_of(a.type, b.type);
    int eq;

    gl_canon_append(&a, c, &opts, rtrim, &x);
    gl_canon_append(&b, c, &opts, rtrim, &y);
    eq = x.len == y.len && !memcmp(x.data, y.data, x.len);
    gl_buf_release(&x);
    gl_buf_release(&y);
    return eq;
}

static void numbers(void **state)
{
    struct gl_value i = {GL_INT, 15, 0, NULL, 0};
    struct gl_value f = {GL_FLOAT, 0, 1.5, NULL, 0};
    struct gl_value b = {GL_BOOL, 1, 0, NULL, 0};

    (void)state;
    assert_true(same(num("1.50"), num("1.5"), 0));
    assert_true(same(num("001.500"), num("1.5"), 0));
    assert_true(same(num("-0.0"), num("0"), 0));
    assert_true(same(f, num("1.50"), 0));
    assert_false(same(num("1.5"), num("1.05"), 0));
    assert_true(same(i, num("15.00"), 0));
    assert_true(same(b, text("t"), 0));
    assert_true(same(b, num("1"), 0));
    assert_false(same(b, text("f"), 0));
}

static void nulls_and_text(void **state)
{
    struct gl_value n = {GL_NULL, 0, 0, NULL, 0};

    (void)state;
    assert_false(same(n, text(""), 0));
    assert_false(same(n, text("NULL"), 0));
    assert_false(same(text(""), text("NULL"), 0));
    assert_true(same(n, n, 0));
    assert_false(same(text("pad"), text("pad  "), 0));
    assert_true(same(text("pad"), text("pad  "), 1));
    assert_false(same(text("caf\xc3\xa9"), text("cafe\xcc\x81"), 0));
}

static void times(void **state)
{
    struct gl_value a = {GL_TIMESTAMPTZ, 1773417600000001LL, 0, NULL, 0};
    struct gl_value b = {GL_TIMESTAMP, 1773417600000001LL, 0, NULL, 0};
    struct gl_value c = {GL_TIMESTAMP, 1773417600000002LL, 0, NULL, 0};
    struct gl_canon_opts ms = {15, 1000, 0};
    struct gl_buf x = GL_BUF_INIT, y = GL_BUF_INIT;

    (void)state;
    assert_true(same(a, b, 0));  /* a zone or none: one instant */
    assert_false(same(b, c, 0)); /* one microsecond apart */
    assert_true(same(b, text("2026-03-13 16:00:00.000001"), 0));
    gl_canon_append(&b, GL_CANON_TIME, &ms, 0, &x);
    gl_canon_append(&c, GL_CANON_TIME, &ms, 0, &y);
    assert_int_equal(x.len, y.len); /* equal to the millisecond */
    assert_memory_equal(x.data, y.data, x.len);
    gl_buf_release(&x);
    gl_buf_release(&y);
}

/* Zero dates and infinities: values, equal to their own text kept by an
 * engine that lacks them, never to NULL or to another such value. */
static void specials(void **state)
{
    struct gl_value zero = {GL_SPECIAL, GL_DATE, 0, "0000-00-00", 10};
    struct gl_value inf = {GL_SPECIAL, GL_TIMESTAMP, 0, "infinity", 8};
    struct gl_value ninf = {GL_SPECIAL, GL_TIMESTAMP, 0, "-infinity", 9};
    struct gl_value day = {GL_DATE, 0, 0, NULL, 0};
    struct gl_value null = {GL_NULL, 0, 0, NULL, 0};

    (void)state;
    assert_true(gl_is_special_text("0000-00-00", 10));
    assert_true(gl_is_special_text("2019-00-10", 10));
    assert_true(gl_is_special_text("2019-05-00 00:00:00", 19));
    assert_true(gl_is_special_text("-infinity", 9));
    assert_false(gl_is_special_text("2019-05-01", 10));
    assert_false(gl_is_special_text("0000-01-01", 10));
    assert_false(gl_is_special_text("Infinity", 8));
    assert_true(same(zero, text("0000-00-00"), 0));
    assert_true(same(inf, text("infinity"), 0));
    assert_false(same(inf, ninf, 0));
    assert_false(same(zero, null, 0));
    assert_false(same(zero, day, 0)); /* not 1970-01-01 */
}

#define KIND(s) gl_special_kind(s, sizeof(s) - 1)

/* The kinds of special values and where each is a value as it is. */
static void special_kinds(void **state)
{
    struct gl_value bc = {GL_SPECIAL, GL_DATE, 0, "0044-03-15 BC", 13};
    struct gl_value far = {GL_SPECIAL, GL_TIMESTAMP, 0, "12345-06-07 10:00:00",
                           20};
    struct gl_value neg = {GL_SPECIAL, GL_TIME, 0, "-838:59:59", 10};
    struct gl_value zero = {GL_SPECIAL, GL_DATE, 0, "0000-00-00", 10};

    (void)state;
    assert_int_equal(KIND("infinity"), GL_SP_INFINITY);
    assert_int_equal(KIND("-infinity"), GL_SP_INFINITY);
    assert_int_equal(KIND("2019-00-10"), GL_SP_ZERO);
    assert_int_equal(KIND("0044-03-15 BC"), GL_SP_PG_DATE);
    assert_int_equal(KIND("0010-01-01 10:00:00+00 BC"), GL_SP_PG_DATE);
    assert_int_equal(KIND("12345-06-07"), GL_SP_PG_DATE);
    assert_int_equal(KIND("-00:00:01"), GL_SP_LONG_TIME);
    assert_int_equal(KIND("-838:59:59"), GL_SP_LONG_TIME);
    assert_int_equal(KIND("100:00:00"), GL_SP_LONG_TIME);
    assert_int_equal(KIND("-12:00:00.5"), GL_SP_LONG_TIME);
    assert_int_equal(KIND("2019-03-04"), GL_SP_NONE);
    assert_int_equal(KIND("-12:00:00."), GL_SP_NONE);
    assert_int_equal(KIND("12:00"), GL_SP_NONE);
    assert_int_equal(KIND("BC"), GL_SP_NONE);
    assert_int_equal(KIND(""), GL_SP_NONE);
    assert_true(gl_special_fits(&bc, "postgres", GL_DATE));
    assert_true(gl_special_fits(&bc, "postgres", GL_TIMESTAMP));
    assert_true(gl_special_fits(&bc, "mysql", GL_TEXT));
    assert_false(gl_special_fits(&bc, "mysql", GL_DATE));
    assert_false(gl_special_fits(&far, "postgres", GL_DATE)); /* time lost */
    assert_true(gl_special_fits(&far, "postgres", GL_NULL));
    assert_true(gl_special_fits(&neg, "mysql", GL_TIME));
    assert_false(gl_special_fits(&neg, "postgres", GL_TIME));
    assert_false(gl_special_fits(&neg, "sqlite", GL_TIME));
    assert_false(gl_special_fits(&zero, "mysql", GL_DATE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numbers),       cmocka_unit_test(nulls_and_text),
        cmocka_unit_test(times),         cmocka_unit_test(specials),
        cmocka_unit_test(special_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
