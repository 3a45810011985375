/*
 * test-clock.c - plan times and durations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/clock.h"

static void durations(void **state)
{
    int64_t s;

    (void)state;
    assert_int_equal(gl_duration_parse("15m", &s), 0);
    assert_int_equal(s, 900);
    assert_int_equal(gl_duration_parse("2h", &s), 0);
    assert_int_equal(s, 7200);
    assert_int_equal(gl_duration_parse("1h30m", &s), 0);
    assert_int_equal(s, 5400);
    assert_int_equal(gl_duration_parse("1d2h3m4s", &s), 0);
    assert_int_equal(s, 86400 + 7200 + 180 + 4);
    assert_int_equal(gl_duration_parse("0", &s), 0);
    assert_int_equal(s, 0);
    /* malformed */
    assert_int_equal(gl_duration_parse("", &s), -1);
    assert_int_equal(gl_duration_parse("15", &s), -1);
    assert_int_equal(gl_duration_parse("m", &s), -1);
    assert_int_equal(gl_duration_parse("15 m", &s), -1);
    assert_int_equal(gl_duration_parse("30m1h", &s), -1); /* out of order */
    assert_int_equal(gl_duration_parse("1h1h", &s), -1);  /* repeated */
    assert_int_equal(gl_duration_parse("15x", &s), -1);
    assert_int_equal(gl_duration_parse("-5m", &s), -1);
    assert_int_equal(gl_duration_parse("99999999999999999999h", &s), -1);
    assert_int_equal(gl_duration_parse("367d", &s), -1);
}

static void reltimes(void **state)
{
    int64_t t;

    (void)state;
    assert_int_equal(gl_reltime_parse("T0", &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(gl_reltime_parse("T-6h", &t), 0);
    assert_int_equal(t, -21600);
    assert_int_equal(gl_reltime_parse("T+90m", &t), 0);
    assert_int_equal(t, 5400);
    assert_int_equal(gl_reltime_parse("T+1h30m", &t), 0);
    assert_int_equal(t, 5400);
    assert_int_equal(gl_reltime_parse("T6h", &t), -1);
    assert_int_equal(gl_reltime_parse("t-6h", &t), -1);
    assert_int_equal(gl_reltime_parse("T-", &t), -1);
    assert_int_equal(gl_reltime_parse("2026-01-01", &t), -1);
}

static void iso_times(void **state)
{
    int64_t t;
    int off;
    char buf[40];

    (void)state;
    assert_int_equal(gl_time_parse("2026-03-14T00:00:00+08:00", &t, &off), 0);
    assert_int_equal(t, 1773417600); /* 2026-03-13T16:00:00Z */
    assert_int_equal(off, 480);
    assert_int_equal(gl_time_parse("2026-03-13T16:00:00Z", &t, &off), 0);
    assert_int_equal(t, 1773417600);
    assert_int_equal(off, 0);
    assert_int_equal(
        gl_time_parse("2026-03-13T11:00:00.123456-05:00", &t, &off), 0);
    assert_int_equal(t, 1773417600);
    assert_int_equal(off, -300);
    assert_int_equal(gl_time_parse("1970-01-01T00:00Z", &t, NULL), 0);
    assert_int_equal(t, 0);
    assert_int_equal(gl_time_parse("1969-12-31T23:59:59Z", &t, NULL), 0);
    assert_int_equal(t, -1);
    assert_int_equal(gl_time_parse("2024-02-29T12:00:00+0000", &t, NULL), 0);
    /* no offset, malformed, impossible dates */
    assert_int_equal(gl_time_parse("2026-03-14T00:00:00", &t, NULL), -2);
    assert_int_equal(gl_time_parse("2026-03-14", &t, NULL), -1);
    assert_int_equal(gl_time_parse("2026-13-01T00:00Z", &t, NULL), -1);
    assert_int_equal(gl_time_parse("2026-02-29T00:00Z", &t, NULL), -1);
    assert_int_equal(gl_time_parse("2026-04-31T00:00Z", &t, NULL), -1);
    assert_int_equal(gl_time_parse("2026-03-14T24:00Z", &t, NULL), -1);
    assert_int_equal(gl_time_parse("2026-03-14T00:00Zjunk", &t, NULL), -1);

    gl_time_format(1773417600, 480, buf);
    assert_string_equal(buf, "2026-03-14T00:00:00+08:00");
    gl_time_format(1773417600, 0, buf);
    assert_string_equal(buf, "2026-03-13T16:00:00Z");
    gl_time_format(1773417600, -330, buf);
    assert_string_equal(buf, "2026-03-13T10:30:00-05:30");
    gl_time_format(-1, 0, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
}

static void round_trip(void **state)
{
    int64_t t, back;
    char buf[40];
    int off;

    (void)state;
    /* every day over several centuries, at an odd second and offset */
    for (t = -4102444800LL; t < 7258118400LL; t += 86400 * 7 + 3601) {
        gl_time_format(t, 345, buf);
        assert_int_equal(gl_time_parse(buf, &back, &off), 0);
        assert_int_equal(back, t);
        assert_int_equal(off, 345);
    }
}

static void formats(void **state)
{
    char buf[32];

    (void)state;
    gl_reltime_format(0, buf);
    assert_string_equal(buf, "T0");
    gl_reltime_format(-21600, buf);
    assert_string_equal(buf, "T-6h");
    gl_reltime_format(5400, buf);
    assert_string_equal(buf, "T+1h30m");
    gl_reltime_format(-13276, buf);
    assert_string_equal(buf, "T-3h41m16s");
    gl_duration_format(0, buf);
    assert_string_equal(buf, "0s");
    gl_duration_format(90061, buf);
    assert_string_equal(buf, "1d1h1m1s");
}

static void now_override(void **state)
{
    int64_t t;

    (void)state;
    /* the library reads no GOLIVE_NOW: the surface sets the clock */
    setenv("GOLIVE_NOW", "2020-01-01T00:00:00Z", 1);
    assert_int_equal(gl_clock_now(&t), 0);
    assert_true(t > 1700000000);
    assert_false(gl_clock_is_set());
    unsetenv("GOLIVE_NOW");
    gl_clock_set(GL_CLOCK_FIXED, 1773417600 + 3600);
    assert_true(gl_clock_is_set());
    assert_int_equal(gl_clock_now(&t), 0);
    assert_int_equal(t, 1773417600 + 3600);
    gl_clock_set(GL_CLOCK_BROKEN, 0);
    assert_true(gl_clock_is_set());
    assert_int_equal(gl_clock_now(&t), -1);
    gl_clock_set(GL_CLOCK_SYSTEM, 0);
    assert_false(gl_clock_is_set());
    assert_int_equal(gl_clock_now(&t), 0);
    assert_true(t > 1700000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(durations), cmocka_unit_test(reltimes),
        cmocka_unit_test(iso_times), cmocka_unit_test(round_trip),
        cmocka_unit_test(formats),   cmocka_unit_test(now_override),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
