/*
 * test-forecast.c - the verification forecast computed from a plan and
 * events given as data (no store): the defaults and a scenario's own
 * duration, the median of an even count, nobody left to test, a fixer
 * who does not re-verify their own fix, the defects a gate counts, an
 * amendment that gives pending scenarios back to the plan's assignees.
 * The night as a whole is tests/e2e/test_forecast.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "golive/forecast.h"
#include "golive/plan.h"

#define T0 1773417600 /* 2026-03-14T00:00:00+08:00 */
#define M 60

static struct gl_plan *load(struct gl_diags *d, const char *text)
{
    memset(d, 0, sizeof(*d));
    d->file = "plan.yaml";
    return gl_plan_parse("plan.yaml", text, strlen(text), d);
}

static const char base[] = "cutover: night\n"
                           "switch_at: 2026-03-14T00:00:00+08:00\n"
                           "people:\n"
                           "  - {id: lead, roles: [lead]}\n"
                           "  - {id: t1, roles: [tester]}\n"
                           "  - {id: t2, roles: [tester]}\n"
                           "scenarios:\n"
                           "  - {id: S-1, title: one, risk: 3, duration: 30m}\n"
                           "  - {id: S-2, title: two, risk: 2}\n"
                           "  - {id: S-3, title: three, risk: 1}\n";

static json_int_t at_of(json_t *fc, const char *part)
{
    json_t *x = json_object_get(json_object_get(fc, part), "at");

    return json_is_integer(x) ? json_integer_value(x) : -1;
}

static const char *by_of(json_t *fc, const char *part)
{
    return json_string_value(json_object_get(json_object_get(fc, part), "by"));
}

static json_int_t tester(json_t *fc, size_t i, const char *key)
{
    return json_integer_value(json_object_get(
        json_array_get(json_object_get(fc, "testers"), i), key));
}

/* No key: 15m a scenario, 1h a fix; a scenario's own duration before a
 * tester has a pace: t1 S-1 (30m), t2 S-2 then S-3 (15m each). */
static void defaults_and_own_duration(void **state)
{
    struct gl_diags d;
    struct gl_plan *p = load(&d, base);
    json_t *fc;

    (void)state;
    assert_non_null(p);
    assert_int_equal(d.n_errors, 0);
    assert_int_equal(p->scenario_duration, 15 * M);
    assert_int_equal(p->fix_duration, 60 * M);
    assert_true(p->scenarios[0].has_duration);
    assert_int_equal(p->scenarios[0].duration, 30 * M);
    assert_false(p->scenarios[1].has_duration);
    fc = gl_forecast_compute(p, NULL, 0, T0, T0);
    assert_non_null(fc);
    assert_int_equal(at_of(fc, "testing"), T0 + 30 * M);
    assert_string_equal(by_of(fc, "testing"), "t1"); /* first of a tie */
    assert_int_equal(tester(fc, 0, "left"), 1);
    assert_int_equal(tester(fc, 1, "left"), 2);
    /* nothing to fix: verified when testing is done */
    assert_int_equal(at_of(fc, "verified"), T0 + 30 * M);
    assert_null(by_of(fc, "verified"));
    json_decref(fc);
    /* testing starts when the verify stage is expected to */
    fc = gl_forecast_compute(p, NULL, 0, T0, T0 + 60 * M);
    assert_int_equal(at_of(fc, "testing"), T0 + 90 * M);
    json_decref(fc);
    gl_plan_free(p);
    gl_diags_release(&d);

    p = load(&d, "cutover: n\nswitch_at: 2026-03-14T00:00:00Z\n"
                 "scenario_duration: 20m\nfix_duration: 2h\n"
                 "people: [{id: a, roles: [lead]}]\n");
    assert_int_equal(d.n_errors, 0);
    assert_int_equal(p->scenario_duration, 20 * M);
    assert_int_equal(p->fix_duration, 120 * M);
    gl_plan_free(p);
    gl_diags_release(&d);
}

/* t1 took 10m then 20m: pace 15m, the mean of the middle two. */
static void median_of_an_even_count(void **state)
{
    struct gl_diags d;
    struct gl_plan *p = load(&d, base);
    struct gl_fc_event ev[] = {
        {1, T0, GL_FC_TAKE, (char *)"t1", (char *)"S-1", NULL, 0},
        {2, T0 + 10 * M, GL_FC_RESULT, (char *)"t1", (char *)"S-1",
         (char *)"passed", 0},
        {3, T0 + 10 * M, GL_FC_TAKE, (char *)"t1", (char *)"S-2", NULL, 0},
        {4, T0 + 30 * M, GL_FC_RESULT, (char *)"t1", (char *)"S-2",
         (char *)"passed", 0},
    };
    json_t *fc;

    (void)state;
    fc = gl_forecast_compute(p, ev, 4, T0 + 30 * M, T0 + 120 * M);
    assert_int_equal(tester(fc, 0, "pace"), 15 * M);
    assert_int_equal(tester(fc, 0, "timed"), 2);
    /* (testing started: a later verify stage holds nobody back) */
    /* S-3 to who finishes it first: both in 15m; t1 first of the tie */
    assert_int_equal(at_of(fc, "testing"), T0 + 45 * M);
    assert_string_equal(by_of(fc, "testing"), "t1");
    json_decref(fc);
    /* a result recorded without 'scenario next' is not timed: S-3 passed
     * so, S-2 is still running */
    ev[3].scenario = (char *)"S-3";
    fc = gl_forecast_compute(p, ev, 4, T0 + 40 * M, T0);
    assert_int_equal(tester(fc, 0, "timed"), 1);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(fc, "testing"), "left")),
                     1);
    json_decref(fc);
    gl_plan_free(p);
    gl_diags_release(&d);
}

/* Both testers handed over: nobody may take what is left. */
static void nobody_left_to_test(void **state)
{
    struct gl_diags d;
    struct gl_plan *p = load(&d, base);
    struct gl_fc_event ev[] = {
        {1, T0, GL_FC_HANDOVER, (char *)"t1", NULL, (char *)"lead", 1},
        {2, T0, GL_FC_HANDOVER, (char *)"t2", NULL, (char *)"lead", 1},
    };
    json_t *fc;

    (void)state;
    fc = gl_forecast_compute(p, ev, 2, T0, T0);
    assert_int_equal(at_of(fc, "testing"), -1);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(fc, "testing"), "unplaced")),
                     3);
    assert_int_equal(at_of(fc, "verified"), -1);
    assert_true(json_is_true(json_object_get(
        json_array_get(json_object_get(fc, "testers"), 0), "off")));
    json_decref(fc);
    /* t2 takes a scenario again: back */
    {
        struct gl_fc_event more[] = {
            ev[0],
            ev[1],
            {3, T0 + M, GL_FC_TAKE, (char *)"t2", (char *)"S-1", NULL, 0}};
        fc = gl_forecast_compute(p, more, 3, T0 + M, T0 + M);
        /* S-1 (30m, taken T0+1m) then S-2, S-3 (15m each) */
        assert_int_equal(at_of(fc, "testing"), T0 + 61 * M);
        assert_string_equal(by_of(fc, "testing"), "t2");
        json_decref(fc);
    }
    gl_plan_free(p);
    gl_diags_release(&d);
}

/* dt (dev and tester) fixes D-1: the slower t2 re-verifies it; a major
 * counts only when a max_open_defects gate counts majors. */
static void fixer_and_counted_defects(void **state)
{
    static const char text[] = "cutover: night\n"
                               "switch_at: 2026-03-14T00:00:00+08:00\n"
                               "fix_duration: 1h\n"
                               "people:\n"
                               "  - {id: lead, roles: [lead]}\n"
                               "  - {id: dt, roles: [dev, tester]}\n"
                               "  - {id: t2, roles: [tester]}\n"
                               "scenarios:\n"
                               "  - {id: S-1, title: one, risk: 3}\n"
                               "%s";
    char buf[1024];
    struct gl_diags d;
    struct gl_plan *p;
    struct gl_fc_event ev[] = {
        {1, T0, GL_FC_TAKE, (char *)"t2", (char *)"S-1", NULL, 0},
        {2, T0 + 40 * M, GL_FC_RESULT, (char *)"t2", (char *)"S-1",
         (char *)"failed", 0},
        {3, T0 + 40 * M, GL_FC_DEFECT_OPEN, (char *)"t2", (char *)"S-1",
         (char *)"blocker", 1},
        {4, T0 + 40 * M, GL_FC_DEFECT_MOVE, (char *)"dt", NULL,
         (char *)"fixing", 1},
        {5, T0 + 40 * M, GL_FC_DEFECT_OPEN, (char *)"t2", NULL, (char *)"major",
         2},
    };
    json_t *fc, *defects;

    (void)state;
    snprintf(buf, sizeof(buf), text, "");
    p = load(&d, buf);
    assert_int_equal(d.n_errors, 0);
    fc = gl_forecast_compute(p, ev, 5, T0 + 40 * M, T0);
    /* S-1 waits for D-1: testing has nothing left */
    assert_true(
        json_is_true(json_object_get(json_object_get(fc, "testing"), "done")));
    defects = json_object_get(fc, "defects");
    assert_int_equal(json_array_size(defects), 1); /* the major: no gate */
    /* in at T0+1h40m; t2 (pace 40m), not dt, re-verifies: T0+2h20m */
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(defects, 0), "reverify_by")),
                        "t2");
    assert_int_equal(at_of(fc, "verified"), T0 + 140 * M);
    assert_string_equal(by_of(fc, "verified"), "D-1");
    json_decref(fc);
    gl_plan_free(p);
    gl_diags_release(&d);

    snprintf(buf, sizeof(buf), text,
             "gates:\n  go:\n    - max_open_defects: {severity: major, "
             "count: 3}\n");
    p = load(&d, buf);
    assert_int_equal(d.n_errors, 0);
    fc = gl_forecast_compute(p, ev, 5, T0 + 40 * M, T0);
    defects = json_object_get(fc, "defects");
    assert_int_equal(json_array_size(defects), 2);
    /* D-2 (no fixer, no scenario) in at T0+1h40m too, after D-1: dt may
     * re-verify it, free, without a pace: scenario_duration, T0+1h55m */
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(defects, 1), "reverify_by")),
                        "dt");
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(defects, 1), "verified_eta")),
                     T0 + 115 * M);
    assert_int_equal(at_of(fc, "verified"), T0 + 140 * M);
    assert_string_equal(by_of(fc, "verified"), "D-1");
    json_decref(fc);
    /* the lead lowers D-2 to minor: it no longer counts */
    {
        struct gl_fc_event more[6];
        memcpy(more, ev, sizeof(ev));
        more[5] = (struct gl_fc_event){6,
                                       T0 + 41 * M,
                                       GL_FC_DEFECT_SEVERITY,
                                       (char *)"lead",
                                       NULL,
                                       (char *)"minor",
                                       2};
        fc = gl_forecast_compute(p, more, 6, T0 + 41 * M, T0);
        assert_int_equal(json_array_size(json_object_get(fc, "defects")), 1);
        json_decref(fc);
    }
    gl_plan_free(p);
    gl_diags_release(&d);
}

/* A handover gives t1's assigned scenario to t2; an amendment gives it
 * back to the plan's assignee. */
static void handover_and_amendment(void **state)
{
    static const char text[] = "cutover: night\n"
                               "switch_at: 2026-03-14T00:00:00+08:00\n"
                               "people:\n"
                               "  - {id: lead, roles: [lead]}\n"
                               "  - {id: t1, roles: [tester]}\n"
                               "  - {id: t2, roles: [tester]}\n"
                               "  - {id: t3, roles: [tester]}\n"
                               "scenarios:\n"
                               "  - {id: S-1, title: one, assignee: t1}\n";
    struct gl_diags d;
    struct gl_plan *p = load(&d, text);
    struct gl_fc_event ev[] = {
        {1, T0, GL_FC_HANDOVER, (char *)"t1", NULL, (char *)"t2", 1},
        {1, T0, GL_FC_HAND_SCENARIO, (char *)"t1", (char *)"S-1", (char *)"t2",
         0},
        {2, T0 + M, GL_FC_AMEND, (char *)"lead", NULL, NULL, 0},
    };
    json_t *fc;

    (void)state;
    fc = gl_forecast_compute(p, ev, 2, T0, T0);
    assert_string_equal(by_of(fc, "testing"), "t2");
    assert_int_equal(tester(fc, 1, "left"), 1);
    json_decref(fc);
    /* back to t1, who is off: anyone takes it (t2, first of the plan) */
    fc = gl_forecast_compute(p, ev, 3, T0 + M, T0 + M);
    assert_int_equal(tester(fc, 0, "left"), 0);
    assert_string_equal(by_of(fc, "testing"), "t2");
    json_decref(fc);
    gl_plan_free(p);
    gl_diags_release(&d);
}

#define EV(seq, t, kind, actor, sc, text, d)                                   \
    {                                                                          \
        seq, t, kind, (char *)actor, (char *)sc, (char *)text, d               \
    }

/* t2 hands over only S-2 (running since T0) to t1 at T0+5m: t2 is not
 * off, and t1's time for S-2 starts at the handover (5m, not 10m); then
 * t1 hands only S-2 back: t1 keeps S-1 running. */
static void a_named_handover(void **state)
{
    struct gl_diags d;
    struct gl_plan *p = load(&d, base);
    struct gl_fc_event ev[] = {
        EV(1, T0, GL_FC_TAKE, "t1", "S-1", NULL, 0),
        EV(2, T0, GL_FC_TAKE, "t2", "S-2", NULL, 0),
        EV(3, T0 + 5 * M, GL_FC_HANDOVER, "t2", NULL, "t1", 0),
        EV(3, T0 + 5 * M, GL_FC_HAND_SCENARIO, "t2", "S-2", "t1", 0),
        EV(4, T0 + 10 * M, GL_FC_RESULT, "t1", "S-2", "passed", 0),
        EV(5, T0 + 10 * M, GL_FC_TAKE, "t1", "S-3", NULL, 0),
        EV(6, T0 + 12 * M, GL_FC_HANDOVER, "t1", NULL, "t2", 0),
        EV(6, T0 + 12 * M, GL_FC_HAND_SCENARIO, "t1", "S-3", "t2", 0),
    };
    json_t *fc;

    (void)state;
    fc = gl_forecast_compute(p, ev, 5, T0 + 10 * M, T0);
    assert_int_equal(tester(fc, 0, "timed"), 1);
    assert_int_equal(tester(fc, 0, "pace"), 5 * M);
    assert_false(json_is_true(json_object_get(
        json_array_get(json_object_get(fc, "testers"), 1), "off")));
    json_decref(fc);
    fc = gl_forecast_compute(p, ev, 8, T0 + 12 * M, T0);
    assert_false(json_is_true(json_object_get(
        json_array_get(json_object_get(fc, "testers"), 0), "off")));
    assert_int_equal(tester(fc, 0, "running"), 1);
    assert_int_equal(tester(fc, 1, "running"), 1);
    json_decref(fc);
    gl_plan_free(p);
    gl_diags_release(&d);
}

/* ann 20m, bob 59m, cat 24m, all free at T0+59m, two scenarios left:
 * S-4 to ann (T0+1h19m), S-5 to cat (T0+1h23m), not to bob (T0+1h58m). */
static void to_who_finishes_first(void **state)
{
    static const char text[] = "cutover: night\n"
                               "switch_at: 2026-03-14T00:00:00+08:00\n"
                               "people:\n"
                               "  - {id: ann, roles: [tester]}\n"
                               "  - {id: bob, roles: [tester]}\n"
                               "  - {id: cat, roles: [tester]}\n"
                               "scenarios:\n"
                               "  - {id: S-1, title: a, risk: 5}\n"
                               "  - {id: S-2, title: b, risk: 4}\n"
                               "  - {id: S-3, title: c, risk: 3}\n"
                               "  - {id: S-4, title: d, risk: 2}\n"
                               "  - {id: S-5, title: e, risk: 1}\n";
    struct gl_diags d;
    struct gl_plan *p = load(&d, text);
    struct gl_fc_event ev[] = {
        EV(1, T0, GL_FC_TAKE, "ann", "S-1", NULL, 0),
        EV(2, T0, GL_FC_TAKE, "bob", "S-2", NULL, 0),
        EV(3, T0, GL_FC_TAKE, "cat", "S-3", NULL, 0),
        EV(4, T0 + 20 * M, GL_FC_RESULT, "ann", "S-1", "passed", 0),
        EV(5, T0 + 24 * M, GL_FC_RESULT, "cat", "S-3", "passed", 0),
        EV(6, T0 + 59 * M, GL_FC_RESULT, "bob", "S-2", "passed", 0),
    };
    json_t *fc;

    (void)state;
    fc = gl_forecast_compute(p, ev, 6, T0 + 59 * M, T0);
    assert_int_equal(at_of(fc, "testing"), T0 + 83 * M);
    assert_string_equal(by_of(fc, "testing"), "cat");
    assert_int_equal(tester(fc, 1, "left"), 0);
    json_decref(fc);
    gl_plan_free(p);
    gl_diags_release(&d);
}

/* S-1 failed; its blocker D-1 fixed and verified: S-1 was re-verified,
 * testing is done. */
static void verified_defect_is_a_reverification(void **state)
{
    struct gl_diags d;
    struct gl_plan *p = load(&d, base);
    struct gl_fc_event ev[] = {
        EV(1, T0, GL_FC_TAKE, "t1", "S-1", NULL, 0),
        EV(2, T0, GL_FC_TAKE, "t2", "S-2", NULL, 0),
        EV(3, T0 + 10 * M, GL_FC_RESULT, "t1", "S-1", "failed", 0),
        EV(4, T0 + 10 * M, GL_FC_DEFECT_OPEN, "t1", "S-1", "blocker", 1),
        EV(5, T0 + 10 * M, GL_FC_TAKE, "t1", "S-3", NULL, 0),
        EV(6, T0 + 15 * M, GL_FC_RESULT, "t2", "S-2", "passed", 0),
        EV(7, T0 + 20 * M, GL_FC_RESULT, "t1", "S-3", "passed", 0),
        EV(8, T0 + 30 * M, GL_FC_DEFECT_MOVE, "dev", NULL, "fixed", 1),
        EV(9, T0 + 40 * M, GL_FC_DEFECT_MOVE, "t2", NULL, "verified", 1),
    };
    json_t *fc;

    (void)state;
    fc = gl_forecast_compute(p, ev, 9, T0 + 40 * M, T0);
    assert_true(
        json_is_true(json_object_get(json_object_get(fc, "testing"), "done")));
    assert_true(
        json_is_true(json_object_get(json_object_get(fc, "verified"), "done")));
    assert_int_equal(at_of(fc, "verified"), T0 + 40 * M);
    json_decref(fc);
    gl_plan_free(p);
    gl_diags_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_and_own_duration),
        cmocka_unit_test(median_of_an_even_count),
        cmocka_unit_test(nobody_left_to_test),
        cmocka_unit_test(fixer_and_counted_defects),
        cmocka_unit_test(handover_and_amendment),
        cmocka_unit_test(a_named_handover),
        cmocka_unit_test(to_who_finishes_first),
        cmocka_unit_test(verified_defect_is_a_reverification),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
