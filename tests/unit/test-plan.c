/*
 * test-plan.c - the plan model: what the loader reads into the structs.
 * (Every validation rule is covered end to end in tests/e2e.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "golive/plan.h"
#include "util/buf.h"

static const char plan_text[] =
    "cutover: night\n"
    "switch_at: 2026-03-14T00:00:00+08:00\n"
    "people:\n"
    "  - {id: ann, name: Ann, roles: [lead, data]}\n"
    "  - {id: bob, roles: [ops]}\n"
    "systems:\n"
    "  old: {url: 'sqlite:old.db', exclude: [t_log]}\n"
    "  new: 'sqlite:new.db'\n"
    "sync:\n"
    "  - id: users\n"
    "    from: old.t_user\n"
    "    to: new.public.users\n"
    "    key: [id, tenant]\n"
    "    mode: upsert\n"
    "    error_limit: 2%\n"
    "    columns:\n"
    "      id: user_id\n"
    "      status: {from: st, map: {A: active, D: null}, else: unknown}\n"
    "      origin: {value: legacy}\n"
    "      name: {expr: \"upper(n)\", default: x}\n"
    "    owner: ann\n"
    "    checker: bob\n"
    "  - id: q\n"
    "    from: {system: old, query: 'select 1 as id'}\n"
    "    to: new.q\n"
    "    key: id\n"
    "    owner: bob\n"
    "    checker: ann\n"
    "workflows:\n"
    "  wf:\n"
    "    states: [a, {name: r, rejection: true, editable: true, requires: "
    "[why]}, z]\n"
    "    initial: a\n"
    "    terminal: z\n"
    "    transitions:\n"
    "      - {from: [a, r], to: z, action: finish}\n"
    "tasks:\n"
    "  - {id: t1, stage: prepare, owner: ann, checker: bob, at: T-1h30m, "
    "duration: 1h}\n"
    "  - {id: t2, stage: sync, owner: bob, checker: ann, depends_on: t1, "
    "at: 2026-03-14T01:00:00+08:00, run: sync users, decides: go}\n"
    "scenarios:\n"
    "  - {id: S-1, title: x, priority: P1, risk: 4, assignee: bob}\n"
    "gates:\n"
    "  go: [no_open_blockers, {tasks_checked: [t1, t2]},\n"
    "       {max_open_defects: {severity: major, count: 2}}]\n"
    "rollback:\n"
    "  - t1\n"
    "  - {id: rb, owner: ann, checker: bob}\n";

static struct gl_plan *load(struct gl_diags *d, const char *text)
{
    memset(d, 0, sizeof(*d));
    d->file = "plan.yaml";
    return gl_plan_parse("dir/plan.yaml", text, strlen(text), d);
}

static void model(void **state)
{
    struct gl_diags d;
    struct gl_plan *p = load(&d, plan_text);
    const struct gl_sync_job *j;
    const struct gl_colmap *c;
    const struct gl_workflow *w;
    const struct gl_task *t;

    (void)state;
    assert_non_null(p);
    gl_plan_check(p, &d);
    for (size_t i = 0; i < d.n; i++)
        printf("# %d:%d %s %s\n", d.v[i].line, d.v[i].col, d.v[i].code,
               d.v[i].message);
    /* t1 is listed under rollback but its stage is prepare: one warning */
    assert_int_equal(d.n_errors, 0);
    assert_int_equal(d.n_warnings, 1);
    assert_true(gl_diags_has(&d, "rollback-stage"));

    assert_string_equal(p->cutover, "night");
    assert_string_equal(p->dir, "dir");
    assert_int_equal(p->switch_at, 1773417600);
    assert_int_equal(p->switch_offset, 480);
    assert_int_equal(p->n_people, 2);
    assert_int_equal(p->people[0].roles, GL_ROLE_LEAD | GL_ROLE_DATA);
    assert_int_equal(p->people[0].pos.line, 4);
    assert_string_equal(gl_plan_system(p, "old")->exclude.v[0].id, "t_log");

    j = gl_plan_job(p, "users");
    assert_non_null(j);
    assert_string_equal(j->from.system.id, "old");
    assert_string_equal(j->from.table, "t_user");
    assert_string_equal(j->to.table, "public.users");
    assert_int_equal(j->key.n, 2);
    assert_int_equal(j->mode, GL_SYNC_UPSERT);
    assert_int_equal(j->error_limit, 2);
    assert_true(j->error_limit_pct);
    assert_int_equal(j->n_columns, 4);
    c = &j->columns[1];
    assert_string_equal(c->target, "status");
    assert_int_equal(c->kind, GL_COL_FROM);
    assert_string_equal(c->source, "st");
    assert_int_equal(c->n_map, 2);
    assert_string_equal(c->map[0].to, "active");
    assert_null(c->map[1].to); /* D -> NULL */
    assert_string_equal(c->map_else, "unknown");
    assert_int_equal(j->columns[2].kind, GL_COL_VALUE);
    assert_string_equal(j->columns[2].value, "legacy");
    assert_int_equal(j->columns[3].kind, GL_COL_EXPR);
    assert_true(j->columns[3].has_default);
    j = gl_plan_job(p, "q");
    assert_string_equal(j->query, "select 1 as id");
    assert_null(j->from.table);
    assert_int_equal(j->key.n, 1);

    w = &p->workflows[0];
    assert_int_equal(w->n_states, 3);
    assert_true(w->states[1].rejection);
    assert_true(w->states[1].editable);
    assert_int_equal(w->n_transitions, 2); /* from: [a, r] is two */
    assert_string_equal(w->transitions[1].from.id, "r");

    t = gl_plan_task(p, "t1");
    assert_true(t->has_at);
    assert_int_equal(t->at, -5400);
    assert_int_equal(t->duration, 3600);
    t = gl_plan_task(p, "t2");
    assert_int_equal(t->at, 3600); /* absolute, converted to T+1h */
    assert_int_equal(t->depends_on.n, 1);
    assert_true(t->decides_go);
    assert_false(gl_plan_task(p, "t1")->decides_go);
    t = gl_plan_task(p, "rb");
    assert_int_equal(t->stage, GL_STAGE_ROLLBACK);
    assert_int_equal(p->rollback.n, 2);
    assert_int_equal(p->scenarios[0].priority, 1);
    assert_int_equal(p->scenarios[0].risk, 4);
    assert_int_equal(p->n_gates_go, 3);
    assert_int_equal(p->gates_go[1].kind, GL_GATE_TASKS_CHECKED);
    assert_int_equal(p->gates_go[1].refs.n, 2);
    assert_int_equal(p->gates_go[2].count, 2);

    gl_plan_free(p);
    gl_diags_release(&d);
}

/* The task graph: every task after what it depends on, ids found in
 * constant time; a chain of 20,000 tasks builds at once. */
static void task_graph(void **state)
{
    struct gl_buf b = GL_BUF_INIT;
    struct gl_task_graph g;
    struct gl_diags d;
    struct gl_plan *p;
    size_t i, n = 20000, *pos;

    (void)state;
    gl_buf_adds(&b, "cutover: c\nswitch_at: 2026-03-14T00:00:00Z\n"
                    "people: [{id: a, roles: [lead]}, {id: b}]\ntasks:\n");
    /* written last first: the order must not be the plan's */
    for (i = n; i-- > 0;)
        gl_buf_addf(&b,
                    "  - {id: t%zu, stage: sync, owner: a, checker: b%s%zu%s}"
                    "\n",
                    i, i ? ", depends_on: [t" : "", i ? i - 1 : 0,
                    i ? "]" : ", at: T0");
    p = load(&d, b.data);
    assert_non_null(p);
    assert_int_equal(d.n_errors, 0);
    assert_int_equal(p->n_tasks, n);
    assert_int_equal(gl_task_graph_build(&g, p), GL_OK);
    assert_int_equal(g.n_order, n);
    assert_int_equal(gl_task_graph_find(&g, "t0"), (long)(n - 1));
    assert_int_equal(gl_task_graph_find(&g, "t19999"), 0);
    assert_int_equal(gl_task_graph_find(&g, "t20000"), -1);
    pos = calloc(n, sizeof(*pos));
    assert_non_null(pos);
    for (i = 0; i < n; i++)
        pos[g.order[i]] = i;
    for (i = 0; i + 1 < n; i++) {
        /* task i (t(n-1-i)) depends on task i + 1 */
        assert_int_equal(g.first[i + 1] - g.first[i], 1);
        assert_int_equal(g.dep[g.first[i]], i + 1);
        assert_true(pos[i + 1] < pos[i]);
    }
    free(pos);
    gl_task_graph_release(&g);
    gl_plan_free(p);
    gl_diags_release(&d);
    gl_buf_release(&b);
}

static void not_yaml(void **state)
{
    struct gl_diags d;

    (void)state;
    assert_null(load(&d, "a: [\n"));
    assert_true(d.n_errors > 0);
    gl_diags_release(&d);
}

static void every_problem_in_one_pass(void **state)
{
    struct gl_diags d;
    struct gl_plan *p =
        load(&d, "cutover: x\nswitch_at: 2026-03-14T00:00:00Z\n"
                 "people: [{id: a}, {id: b, rols: [x]}]\n"
                 "tasks: [{id: t, stage: prep, owner: a, checker: a},\n"
                 "        {id: u, stage: sync, owner: zz, checker: a}]\n");

    (void)state;
    assert_non_null(p);
    gl_plan_check(p, &d);
    assert_true(gl_diags_has(&d, "unknown-key"));
    assert_true(gl_diags_has(&d, "bad-value"));
    assert_true(gl_diags_has(&d, "self-check"));
    assert_true(gl_diags_has(&d, "unknown-person"));
    assert_true(gl_diags_has(&d, "no-lead"));
    gl_plan_free(p);
    gl_diags_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(model),
        cmocka_unit_test(task_graph),
        cmocka_unit_test(not_yaml),
        cmocka_unit_test(every_problem_in_one_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
