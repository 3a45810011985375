/*
 * test-defect.c - the defect and duty rules as dry runs (gl_defect_may,
 * gl_duty_may): what the API's `actions` show is what the moves decide,
 * and the moves are the table's rows (run/transition.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "golive/defect.h"
#include "golive/duty.h"
#include "golive/plan.h"
#include "run/transition.h"

static const char plan_text[] = "cutover: t\n"
                                "switch_at: 2026-03-14T00:00:00Z\n"
                                "people:\n"
                                "  - {id: lead, roles: [lead]}\n"
                                "  - {id: ann, roles: [tester]}\n"
                                "  - {id: bob, roles: [dev]}\n"
                                "  - {id: cat, roles: [dev]}\n";

static struct gl_plan *load(struct gl_diags *d)
{
    memset(d, 0, sizeof(*d));
    d->file = "plan.yaml";
    return gl_plan_parse("plan.yaml", plan_text, strlen(plan_text), d);
}

static const char *const states[] = {"open",     "fixing",   "fixed",
                                     "verified", "reopened", "deferred"};
static const char *const moves[] = {"fixing", "fixed", "verify", "reopen",
                                    "defer"};

/* A dev who did not fix it may make exactly the table's moves; a tester
 * is denied the devs' moves whatever the state, and otherwise follows the
 * table; the fixer is denied verifying; a blocker is never deferred. */
static void defect_may_is_the_table(void **state)
{
    struct gl_diags d;
    struct gl_plan *p = load(&d);
    struct gl_defect_state ds;
    struct gl_err err;
    size_t i, j;
    int rc;

    (void)state;
    assert_non_null(p);
    for (i = 0; i < sizeof(states) / sizeof(*states); i++)
        for (j = 0; j < sizeof(moves) / sizeof(*moves); j++) {
            int in_table = gl_transition_find(gl_defect_moves, moves[j],
                                              states[i]) != NULL;
            int devs = !strcmp(moves[j], "fixing") ||
                       !strcmp(moves[j], "fixed") || !strcmp(moves[j], "defer");
            ds.n = 1;
            ds.state = states[i];
            ds.severity = "major";
            ds.fixer = "cat";
            gl_err_clear(&err);
            rc = gl_defect_may(p, "bob", &ds, moves[j], &err);
            assert_int_equal(rc, in_table ? GL_OK : GL_EREFUSED);
            rc = gl_defect_may(p, "ann", &ds, moves[j], &err);
            assert_int_equal(rc, devs       ? GL_EDENIED
                                 : in_table ? GL_OK
                                            : GL_EREFUSED);
            rc = gl_defect_may(p, "cat", &ds, moves[j], &err);
            if (!strcmp(moves[j], "verify") && in_table) {
                assert_int_equal(rc, GL_EDENIED);
                assert_non_null(strstr(err.msg, "cat fixed D-1"));
            }
            ds.severity = "blocker";
            rc = gl_defect_may(p, "bob", &ds, moves[j], &err);
            if (!strcmp(moves[j], "defer") && in_table) {
                assert_int_equal(rc, GL_EREFUSED);
                assert_non_null(strstr(err.msg, "never deferred"));
            }
        }
    ds.state = "open";
    ds.severity = "minor";
    ds.fixer = NULL;
    assert_int_equal(gl_defect_may(p, "lead", &ds, "severity", &err), GL_OK);
    assert_int_equal(gl_defect_may(p, "bob", &ds, "severity", &err),
                     GL_EDENIED);
    assert_string_equal(err.msg,
                        "only the lead changes a defect's severity (lead)");
    assert_int_equal(gl_defect_may(p, "ann", &ds, "comment", &err), GL_OK);
    assert_int_equal(gl_defect_may(p, "mallory", &ds, "comment", &err),
                     GL_EDENIED);
    assert_int_equal(gl_defect_may(p, "bob", &ds, "shred", &err), GL_EUSAGE);
    gl_plan_free(p);
    gl_diags_release(&d);
}

/* The actions list holds every action once, in order, in the shared
 * shape: allowed without a reason, or refused with reason and code. */
static void defect_actions_shape(void **state)
{
    struct gl_diags d;
    struct gl_plan *p = load(&d);
    struct gl_defect_state ds = {2, "fixed", "major", "bob"};
    struct gl_err err;
    json_t *acts = NULL, *a;
    size_t i;

    (void)state;
    assert_int_equal(gl_defect_actions(p, "bob", &ds, &acts, &err), GL_OK);
    assert_int_equal(json_array_size(acts), 7);
    json_array_foreach(acts, i, a)
    {
        const char *name = json_string_value(json_object_get(a, "action"));
        assert_string_equal(name, gl_defect_action_names[i]);
        if (json_is_true(json_object_get(a, "allowed")))
            assert_null(json_object_get(a, "reason"));
        else
            assert_non_null(json_object_get(a, "code"));
    }
    a = json_array_get(acts, 2); /* verify, by its fixer */
    assert_true(json_is_false(json_object_get(a, "allowed")));
    assert_string_equal(json_string_value(json_object_get(a, "code")),
                        "forbidden");
    a = json_array_get(acts, 0); /* fixing a fixed defect */
    assert_string_equal(json_string_value(json_object_get(a, "code")),
                        "conflict");
    json_decref(acts);
    gl_plan_free(p);
    gl_diags_release(&d);
}

static void duty_may(void **state)
{
    struct gl_diags d;
    struct gl_plan *p = load(&d);
    struct gl_duty_state e = {3, 0, NULL};
    struct gl_err err;

    (void)state;
    assert_int_equal(gl_duty_may(p, "ann", &e, "defect", &err), GL_OK);
    assert_int_equal(gl_duty_may(p, "ann", &e, "patch", &err), GL_EDENIED);
    assert_string_equal(err.msg,
                        "the lead or a dev plans a patch (lead, bob, cat)");
    assert_int_equal(gl_duty_may(p, "cat", &e, "patch", &err), GL_OK);
    e.defect = 4;
    assert_int_equal(gl_duty_may(p, "ann", &e, "defect", &err), GL_EREFUSED);
    assert_string_equal(err.msg, "H-3 is defect D-4 already");
    gl_plan_free(p);
    gl_diags_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defect_may_is_the_table),
        cmocka_unit_test(defect_actions_shape),
        cmocka_unit_test(duty_may),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
