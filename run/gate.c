/*
 * gate.c - go criteria, decisions, rollback (see golive/gate.h).  Every
 * criterion is answered from the store: defects, the latest result of each
 * check (its check.run events), scenarios, tasks.
 */
#include "golive/gate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "store-rows.h"
#include "golive/audit.h"
#include "golive/defect.h"
#include "util/buf.h"

static int task_state(gl_store *s, const char *id, char *out, size_t n,
                      struct gl_err *err)
{
    int rc = gl_store_state_of(s, "tasks", id, out, n, err);
    if (!rc && !out[0])
        snprintf(out, n, "pending");
    return rc;
}

static int scenario_state(gl_store *s, const char *id, char *out, size_t n,
                          struct gl_err *err)
{
    int rc = gl_store_state_of(s, "scenarios", id, out, n, err);
    if (!rc && !out[0])
        snprintf(out, n, "pending");
    return rc;
}

/* The outcome of the latest run of check id: passed, failed, error, or
 * "not run". */
static int check_outcome(gl_store *s, const char *id, char *out, size_t n,
                         struct gl_err *err)
{
    int rc = gl_store_check_outcome(s, id, out, n, err);
    if (!rc && !out[0])
        snprintf(out, n, "not run");
    return rc;
}

static void rule(json_t *rules, const char *name, int passed,
                 struct gl_buf *detail)
{
    json_array_append_new(rules,
                          json_pack("{s:s, s:b, s:s}", "rule", name, "passed",
                                    passed, "detail", gl_buf_str(detail)));
    gl_buf_reset(detail);
}

/* Open defects of a severity or worse (blocker > major > minor): those
 * not verified nor deferred, and a blocker even when deferred (a blocker
 * is never deferred; a store from before that rule may hold one).  Their
 * count, and their ids into b. */
struct open_list {
    const char *severity;
    int64_t *count;
    struct gl_buf *b;
};

static void open_one(void *ctx, int64_t n, const char *title, const char *state,
                     const char *sev)
{
    struct open_list *o = ctx;

    gl_buf_addf(o->b, "%sD-%lld %s (%s%s%s)", *o->count ? ", " : "",
                (long long)n, title, strcmp(sev, o->severity) ? sev : "",
                strcmp(sev, o->severity) ? ", " : "", state);
    ++*o->count;
}

static int open_defects(gl_store *s, const char *severity, int64_t *count,
                        struct gl_buf *b, struct gl_err *err)
{
    struct open_list o = {severity, count, b};

    *count = 0;
    return gl_store_open_defects(s, gl_defect_rank(severity), open_one, &o,
                                 err);
}

/* Each of ids must be in state want (tasks: "checked", scenarios:
 * "passed") or, for checks, have passed on its latest run. */
enum what { W_TASK, W_CHECK, W_SCENARIO };

int gl_run_check_stale(gl_store *s, const struct gl_plan *p, const char *id,
                       char *why, size_t n, struct gl_err *err)
{
    const char *job = NULL;
    char at[48];
    size_t i;
    int ended, rc;

    why[0] = '\0';
    for (i = 0; i < p->n_checks && !job; i++)
        if (!strcmp(p->checks[i].id.id, id) && p->checks[i].job.id &&
            *p->checks[i].job.id)
            job = p->checks[i].job.id;
    if (!job)
        return GL_OK;
    if ((rc = gl_store_check_stale(s, id, job, at, sizeof(at), &ended, err)))
        return rc;
    if (at[0])
        snprintf(why, n, "passed before job '%s' %s again at %s: run it again",
                 job, ended ? "ran" : "started", at);
    return GL_OK;
}

/* A check that passed before the job it checks ran again says nothing
 * of the data now: stale, not passed.  *stale: 1 when so, with why in b
 * (after sep). */
static int check_stale(gl_store *s, const struct gl_plan *p, const char *id,
                       int *stale, const char *sep, struct gl_buf *b,
                       struct gl_err *err)
{
    char why[256];
    int rc;

    *stale = 0;
    if ((rc = gl_run_check_stale(s, p, id, why, sizeof(why), err)))
        return rc;
    if (why[0]) {
        *stale = 1;
        gl_buf_addf(b, "%scheck '%s' %s", sep, id, why);
    }
    return GL_OK;
}

static int all_in(gl_store *s, const struct gl_plan *p, enum what w,
                  const char *const *ids, size_t n, int *passed,
                  struct gl_buf *b, struct gl_err *err)
{
    static const char *const want[] = {"checked", "passed", "passed"};
    size_t i, bad = 0;
    char st[32];
    int rc, stale;

    for (i = 0; i < n; i++) {
        rc = w == W_TASK    ? task_state(s, ids[i], st, sizeof(st), err)
             : w == W_CHECK ? check_outcome(s, ids[i], st, sizeof(st), err)
                            : scenario_state(s, ids[i], st, sizeof(st), err);
        if (rc)
            return rc;
        if (strcmp(st, want[w]))
            gl_buf_addf(b, "%s%s is %s", bad++ ? ", " : "", ids[i], st);
        else if (w == W_CHECK) {
            if ((rc = check_stale(s, p, ids[i], &stale, bad ? ", " : "", b,
                                  err)))
                return rc;
            bad += stale;
        }
    }
    *passed = bad == 0;
    if (!bad)
        gl_buf_addf(b, n ? "all %zu %s" : "none to wait for", n,
                    w == W_TASK ? "checked" : "passed");
    return GL_OK;
}

static int eval_rule(gl_store *s, const struct gl_plan *p,
                     const struct gl_gate_rule *g, json_t *rules,
                     struct gl_buf *b, struct gl_err *err)
{
    const char **ids = NULL;
    size_t i, n = 0;
    int64_t count;
    int passed = 0, rc = GL_OK;
    const char *name = "";

    switch (g->kind) {
    case GL_GATE_NO_OPEN_BLOCKERS:
        name = "no_open_blockers";
        if ((rc = open_defects(s, "blocker", &count, b, err)))
            return rc;
        passed = count == 0;
        if (passed)
            gl_buf_addf(b, "no blocker is open");
        break;
    case GL_GATE_MAX_OPEN_DEFECTS: {
        struct gl_buf list = GL_BUF_INIT;
        name = "max_open_defects";
        if ((rc = open_defects(s, g->severity, &count, &list, err))) {
            gl_buf_release(&list);
            return rc;
        }
        passed = count <= g->count;
        if ((rc = gl_buf_check(&list, "the open defects", err))) {
            gl_buf_release(&list);
            return rc;
        }
        gl_buf_addf(b,
                    "%lld open defect%s of severity %s%s, at most %lld "
                    "allowed%s%s",
                    (long long)count, count == 1 ? "" : "s", g->severity,
                    strcmp(g->severity, "blocker") ? " or worse" : "",
                    (long long)g->count, count ? ": " : "", gl_buf_str(&list));
        gl_buf_release(&list);
        break;
    }
    case GL_GATE_ALL_CHECKS_PASSED:
    case GL_GATE_P0_SCENARIOS_PASSED:
    case GL_GATE_TASKS_CHECKED:
    case GL_GATE_CHECKS_PASSED:
    case GL_GATE_SCENARIOS_PASSED: {
        enum what w;
        size_t cap = g->kind == GL_GATE_ALL_CHECKS_PASSED     ? p->n_checks
                     : g->kind == GL_GATE_P0_SCENARIOS_PASSED ? p->n_scenarios
                                                              : g->refs.n;
        if (cap && !(ids = calloc(cap, sizeof(*ids))))
            return gl_err_set(err, GL_ENOMEM, "out of memory");
        if (g->kind == GL_GATE_ALL_CHECKS_PASSED) {
            name = "all_checks_passed";
            w = W_CHECK;
            for (i = 0; i < p->n_checks; i++)
                ids[n++] = p->checks[i].id.id;
        } else if (g->kind == GL_GATE_P0_SCENARIOS_PASSED) {
            name = "p0_scenarios_passed";
            w = W_SCENARIO;
            for (i = 0; i < p->n_scenarios; i++)
                if (p->scenarios[i].priority == 0)
                    ids[n++] = p->scenarios[i].id.id;
        } else {
            name = g->kind == GL_GATE_TASKS_CHECKED   ? "tasks_checked"
                   : g->kind == GL_GATE_CHECKS_PASSED ? "checks_passed"
                                                      : "scenarios_passed";
            w = g->kind == GL_GATE_TASKS_CHECKED   ? W_TASK
                : g->kind == GL_GATE_CHECKS_PASSED ? W_CHECK
                                                   : W_SCENARIO;
            for (i = 0; i < g->refs.n; i++)
                ids[n++] = g->refs.v[i].id;
        }
        rc = all_in(s, p, w, ids, n, &passed, b, err);
        free(ids);
        if (rc)
            return rc;
        break;
    }
    }
    if ((rc = gl_buf_check(b, "a criterion's detail", err)))
        return rc;
    rule(rules, name, passed, b);
    return GL_OK;
}

int gl_gate_eval(gl_store *s, const struct gl_plan *p, json_t **out,
                 struct gl_err *err)
{
    struct gl_buf b = GL_BUF_INIT;
    json_t *rules = json_array();
    size_t i, j;
    int rc = GL_OK, passed = 1;

    *out = NULL;
    for (i = 0; i < p->n_gates_go && !rc; i++)
        rc = eval_rule(s, p, &p->gates_go[i], rules, &b, err);
    gl_buf_release(&b);
    if (rc) {
        json_decref(rules);
        return rc;
    }
    for (j = 0; j < json_array_size(rules); j++)
        passed &=
            json_is_true(json_object_get(json_array_get(rules, j), "passed"));
    *out = json_pack("{s:b, s:o}", "passed", passed, "rules", rules);
    return *out ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory");
}

int gl_decide(gl_store *s, const struct gl_plan *p, const struct gl_actor *who,
              const char *decision, const char *note, struct gl_err *err)
{
    json_t *gate = NULL;
    char leads[256], at[40], *gtext = NULL;
    int64_t seq;
    int rc;

    if (strcmp(decision, "go") && strcmp(decision, "no-go") &&
        strcmp(decision, "hold"))
        return gl_err_set(err, GL_EUSAGE,
                          "the decision is go, no-go or hold, not '%s'",
                          decision);
    /* who may comes first, then the reason */
    if (!gl_run_has_role(p, who->person, GL_ROLE_LEAD))
        return gl_err_set(
            err, GL_EDENIED, "only the lead decides go / no-go (%s)",
            gl_run_names_with(p, GL_ROLE_LEAD, leads, sizeof(leads)));
    if (gl_run_no_note(note))
        return gl_err_set(err, GL_EUSAGE, "a decision needs a --note");
    /* the gate reads the tables, which can be edited: a decision is
     * recorded only on a store whose every table is what its events made */
    {
        struct gl_audit a;
        struct gl_err e2;
        gl_err_clear(&e2);
        rc = gl_audit_verify(s, NULL, &a, &e2);
        gl_audit_release(&a);
        if (rc == GL_ECORRUPT)
            return gl_err_set(err, GL_ESTORE,
                              "the %s decision is not recorded: the store "
                              "does not verify: %s; 'golive audit verify' "
                              "lists every difference",
                              decision, e2.msg);
        if (rc) {
            *err = e2;
            return rc;
        }
    }
    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_gate_eval(s, p, &gate, err)))
        goto fail;
    if (!strcmp(decision, "go") &&
        !json_is_true(json_object_get(gate, "passed"))) {
        struct gl_buf b = GL_BUF_INIT;
        json_t *r;
        size_t i;
        json_array_foreach(json_object_get(gate, "rules"), i, r)
        {
            if (!json_is_true(json_object_get(r, "passed")))
                gl_buf_addf(&b, "; %s: %s",
                            json_string_value(json_object_get(r, "rule")),
                            json_string_value(json_object_get(r, "detail")));
        }
        rc = gl_buf_check(&b, "the gate's reasons", err);
        if (!rc)
            rc = gl_err_set(err, GL_EREFUSED,
                            "go refused: the gate does not pass%s ('golive "
                            "gate' explains each criterion)",
                            gl_buf_str(&b));
        gl_buf_release(&b);
        goto fail;
    }
    if (!(gtext = json_dumps(gate, JSON_COMPACT | JSON_SORT_KEYS))) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = gl_run_event(s, who, "decide",
                           json_pack("{s:s, s:s, s:O}", "decision", decision,
                                     "note", note, "gate", gate),
                           &seq, err)))
        goto fail;
    snprintf(at, sizeof(at), "%s", gl_store_event_at(s));
    if ((rc = gl_store_decision_insert(s, decision, note, who->person, at,
                                       gtext, seq, err)))
        goto fail;
    rc = gl_store_commit(s, err);
    goto out;
fail:
    gl_store_rollback(s);
out:
    free(gtext);
    json_decref(gate);
    return rc;
}

int gl_rollback_started(gl_store *s)
{
    return gl_store_rollback_started(s);
}

int gl_rollback_start(gl_store *s, const struct gl_plan *p,
                      const struct gl_actor *who, const char *note,
                      struct gl_err *err)
{
    char leads[256], at[40];
    json_t *tasks;
    size_t i;
    int rc;

    if (!gl_run_has_role(p, who->person, GL_ROLE_LEAD))
        return gl_err_set(
            err, GL_EDENIED, "only the lead starts the rollback (%s)",
            gl_run_names_with(p, GL_ROLE_LEAD, leads, sizeof(leads)));
    if (!p->rollback.n)
        return gl_err_set(err, GL_EREFUSED,
                          "the plan has no rollback tasks; 'golive run amend' "
                          "takes a plan that has them");
    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_rollback_started(s)) != 0) {
        rc = rc < 0 ? gl_run_fail_db(s, err)
                    : gl_err_set(err, GL_EREFUSED,
                                 "the rollback has started already");
        goto fail;
    }
    tasks = json_array();
    for (i = 0; i < p->rollback.n; i++)
        json_array_append_new(tasks, json_string(p->rollback.v[i].id));
    if ((rc = gl_run_event(
             s, who, "rollback",
             json_pack("{s:s?, s:o}", "note", note, "tasks", tasks), NULL,
             err)))
        goto fail;
    snprintf(at, sizeof(at), "%s", gl_store_event_at(s));
    if ((rc = gl_store_rollback_set(s, at, err)))
        goto fail;
    return gl_store_commit(s, err);
fail:
    gl_store_rollback(s);
    return rc;
}
