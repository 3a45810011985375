/*
 * test-status.c - the ETA's critical path (run/status.c): a small graph
 * whose earliest starts and finishes are worked out by hand below, then
 * moved by a late start, an overrun and finished tasks.  Real store, real
 * plan; the clock is set (gl_clock_set) so that events carry the times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "golive/runbook.h"
#include "golive/status.h"
#include "golive/store.h"
#include "util/clock.h"

/*      a (at T-2h, 1h)
 *     / \
 *    b   c          b 30m, c 2h
 *     \ /
 *      d  (15m)      e (at T+1h, 10m)
 *       \           /
 *        go (5m, decides: go)
 *
 * As planned (origin: the earliest 'at', T-2h):
 *   a  -2h .. -1h    b  -1h .. -30m   c  -1h .. +1h
 *   d  +1h .. +1h15  e  +1h .. +1h10  go +1h15 .. +1h20
 * The critical path: a, c, d, go. */
static const char plan_text[] =
    "cutover: t\n"
    "switch_at: 2026-03-14T00:00:00Z\n"
    "people:\n"
    "  - {id: ann, roles: [lead]}\n"
    "  - {id: bob, roles: [ops]}\n"
    "tasks:\n"
    "  - {id: a, stage: prepare, owner: ann, checker: bob, at: T-2h, "
    "duration: 1h}\n"
    "  - {id: b, stage: prepare, owner: ann, checker: bob, depends_on: a, "
    "duration: 30m}\n"
    "  - {id: c, stage: prepare, owner: ann, checker: bob, depends_on: a, "
    "duration: 2h}\n"
    "  - {id: d, stage: release, owner: ann, checker: bob, "
    "depends_on: [b, c], duration: 15m}\n"
    "  - {id: e, stage: release, owner: ann, checker: bob, at: T+1h, "
    "duration: 10m}\n"
    "  - {id: go, stage: verify, owner: ann, checker: bob, "
    "depends_on: [d, e], duration: 5m, decides: go}\n";

#define T0 ((int64_t)1773446400) /* 2026-03-14T00:00:00Z */
#define H 3600
#define M 60

static char dir[64], path[128];
static const struct gl_actor who = {"ann", "root"}, checker = {"bob", "root"};

struct fix {
    gl_store *s;
    struct gl_plan *p;
};

static int setup(void **state)
{
    static struct fix f;
    struct gl_diags d;
    struct gl_err err;
    struct gl_run_info info;

    snprintf(dir, sizeof(dir), "/tmp/golive-test-status-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/s.state", dir);
    memset(&d, 0, sizeof(d));
    memset(&info, 0, sizeof(info));
    f.p = gl_plan_parse("plan.yaml", plan_text, sizeof(plan_text) - 1, &d);
    if (!f.p || d.n_errors)
        return -1;
    gl_diags_release(&d);
    gl_clock_set(GL_CLOCK_FIXED, T0 - 3 * H);
    if (gl_store_open(path, GL_STORE_CREATE, &f.s, &err) ||
        gl_run_start(f.s, f.p, plan_text, sizeof(plan_text) - 1, "plan.yaml", 1,
                     &who, &info, &err))
        return -1;
    gl_run_info_release(&info);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    char buf[200];

    gl_store_close(f->s);
    gl_plan_free(f->p);
    gl_clock_set(GL_CLOCK_SYSTEM, 0);
    snprintf(buf, sizeof(buf), "%s-wal", path);
    unlink(buf);
    snprintf(buf, sizeof(buf), "%s-shm", path);
    unlink(buf);
    unlink(path);
    rmdir(dir);
    return 0;
}

static void act_as(struct fix *f, const struct gl_actor *by, const char *id,
                   enum gl_task_action a, int64_t at)
{
    const char *from, *to;
    struct gl_err err;

    gl_clock_set(GL_CLOCK_FIXED, at);
    gl_err_clear(&err);
    if (gl_task_act(f->s, f->p, T0, by, id, a, 0, NULL, at, &from, &to, &err))
        fail_msg("%s: %s", id, err.msg);
}

static void act(struct fix *f, const char *id, enum gl_task_action a,
                int64_t at)
{
    act_as(f, &who, id, a, at);
}

static json_t *status(struct fix *f, int64_t now)
{
    struct gl_err err;
    json_t *out = NULL;

    gl_clock_set(GL_CLOCK_FIXED, now);
    if (gl_status_eval(f->s, f->p, T0, now, GL_STATUS_TASKS, &out, &err))
        fail_msg("status: %s", err.msg);
    return out;
}

static json_t *task(json_t *st, const char *id)
{
    size_t i;
    json_t *t;

    json_array_foreach(
        json_object_get(st, "tasks"), i,
        t) if (!strcmp(json_string_value(json_object_get(t, "id")),
                       id)) return t;
    fail_msg("no task %s", id);
    return NULL;
}

static int64_t num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_integer(v))
        fail_msg("'%s' is not a number", key);
    return json_integer_value(v);
}

/* The expected start and end of task id, from T0. */
static void expect(json_t *st, const char *id, int64_t start, int64_t end)
{
    json_t *t = task(st, id);

    assert_int_equal(num(t, "expected_start") - T0, start);
    assert_int_equal(num(t, "expected_end") - T0, end);
}

static void chain_is(json_t *chain, const char *ids)
{
    char buf[128] = "";
    size_t i;
    json_t *v;

    json_array_foreach(chain, i, v)
    {
        if (i)
            strcat(buf, " ");
        strncat(buf, json_string_value(v), 16);
    }
    assert_string_equal(buf, ids);
}

static void as_planned(void **state)
{
    struct fix *f = *state;
    json_t *st = status(f, T0 - 3 * H);

    /* nothing started, now before the first 'at': the plan itself */
    expect(st, "a", -2 * H, -1 * H);
    expect(st, "b", -1 * H, -30 * M);
    expect(st, "c", -1 * H, 1 * H);
    expect(st, "d", 1 * H, 1 * H + 15 * M);
    expect(st, "e", 1 * H, 1 * H + 10 * M);
    expect(st, "go", 1 * H + 15 * M, 1 * H + 20 * M);
    assert_int_equal(num(st, "planned_end") - T0, 1 * H + 20 * M);
    assert_int_equal(num(st, "eta") - T0, 1 * H + 20 * M);
    chain_is(json_object_get(st, "chain"), "a c d go");
    assert_true(json_is_true(json_object_get(task(st, "c"), "critical")));
    assert_false(json_is_true(json_object_get(task(st, "b"), "critical")));
    /* slack: b may end 1h30m later, e 5m later, without moving the end */
    assert_int_equal(num(task(st, "b"), "slack"), 90 * M);
    assert_int_equal(num(task(st, "e"), "slack"), 5 * M);
    chain_is(json_object_get(json_object_get(st, "decision"), "chain"),
             "a c d go");
    json_decref(st);
}

static void late_start_shifts_what_follows(void **state)
{
    struct fix *f = *state;
    json_t *st;

    /* a starts an hour late: everything after it moves an hour, but e,
     * held by its 'at', only as far as go waits for d */
    act(f, "a", GL_ACT_START, T0 - 1 * H);
    st = status(f, T0 - 1 * H);
    expect(st, "a", -1 * H, 0);
    expect(st, "b", 0, 30 * M);
    expect(st, "c", 0, 2 * H);
    expect(st, "d", 2 * H, 2 * H + 15 * M);
    expect(st, "e", 1 * H, 1 * H + 10 * M);
    expect(st, "go", 2 * H + 15 * M, 2 * H + 20 * M);
    assert_int_equal(num(st, "eta") - T0, 2 * H + 20 * M);
    /* the plan does not move: a's planned times were fixed at its start */
    assert_int_equal(num(st, "planned_end") - T0, 1 * H + 20 * M);
    chain_is(json_object_get(st, "chain"), "a c d go");
    json_decref(st);
}

static void overrun_stretches_what_remains(void **state)
{
    struct fix *f = *state;
    json_t *st;

    /* a (1h planned) took 2h: the factor is 2, what remains lasts twice
     * as long; a finished task ended when it did */
    act(f, "a", GL_ACT_DONE, T0 + 1 * H);
    st = status(f, T0 + 1 * H);
    assert_true(json_real_value(json_object_get(st, "overrun")) > 1.99);
    expect(st, "a", -1 * H, 1 * H);
    expect(st, "b", 1 * H, 2 * H);
    expect(st, "c", 1 * H, 5 * H);
    expect(st, "d", 5 * H, 5 * H + 30 * M);
    expect(st, "e", 1 * H, 1 * H + 20 * M);
    expect(st, "go", 5 * H + 30 * M, 5 * H + 40 * M);
    assert_int_equal(num(st, "eta") - T0, 5 * H + 40 * M);
    chain_is(json_object_get(st, "chain"), "a c d go");
    json_decref(st);
}

static void never_before_now_and_running_tasks(void **state)
{
    struct fix *f = *state;
    json_t *st;

    /* c runs from +1h; at +6h it is past its stretched end (+5h): it is
     * expected to end now, not in the past */
    act_as(f, &checker, "a", GL_ACT_CHECK, T0 + 1 * H);
    act(f, "c", GL_ACT_START, T0 + 1 * H);
    st = status(f, T0 + 6 * H);
    expect(st, "c", 1 * H, 6 * H);
    /* b, not started, can start no earlier than now */
    expect(st, "b", 6 * H, 7 * H);
    expect(st, "d", 7 * H, 7 * H + 30 * M);
    expect(st, "go", 7 * H + 30 * M, 7 * H + 40 * M);
    assert_int_equal(num(st, "eta") - T0, 7 * H + 40 * M);
    /* the chain now runs through b, which waits for now, not for a */
    chain_is(json_object_get(st, "chain"), "b d go");
    json_decref(st);
}

int main(void)
{
    /* one store, one night: each test moves it on from the last */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(as_planned),
        cmocka_unit_test(late_start_shifts_what_follows),
        cmocka_unit_test(overrun_stretches_what_remains),
        cmocka_unit_test(never_before_now_and_running_tasks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
