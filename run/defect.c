/*
 * defect.c - defects (see golive/defect.h): a row each in the store's
 * defects table, every change an event in the same transaction.
 */
#include "golive/defect.h"
#include "golive/audit.h"

#include "common.h"
#include "store-rows.h"
#include "transition.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gl_defect_open_in(gl_store *s, const struct gl_plan *p,
                      const struct gl_actor *who, const char *scenario,
                      const char *severity, const char *title, int64_t duty,
                      int64_t *n, struct gl_err *err)
{
    int64_t seq;
    size_t i;
    int rc;

    if (!gl_defect_rank(severity))
        return gl_err_set(err, GL_EUSAGE,
                          "severity is blocker, major or minor, not '%s'",
                          severity);
    if (!title || !*title)
        return gl_err_set(err, GL_EUSAGE, "a defect needs a title");
    if ((rc = gl_run_text_ok("a defect's title", title, 300, 0, err)))
        return rc;
    if (scenario) {
        for (i = 0; i < p->n_scenarios; i++)
            if (!strcmp(p->scenarios[i].id.id, scenario))
                break;
        if (i == p->n_scenarios)
            return gl_err_set(err, GL_EUSAGE, "no scenario '%s' in the plan",
                              scenario);
    }
    if ((rc = gl_store_defect_next(s, n, err)))
        return rc;
    if ((rc = gl_run_event(
             s, who, "defect.open",
             json_pack("{s:I, s:s?, s:s, s:s, s:o}", "defect", (json_int_t)*n,
                       "scenario", scenario, "severity", severity, "title",
                       title, "duty", duty ? json_integer(duty) : json_null()),
             &seq, err)))
        return rc;
    return gl_store_defect_insert(s, *n, scenario, severity, title, who->person,
                                  seq, err);
}

int gl_defect_open(gl_store *s, const struct gl_plan *p,
                   const struct gl_actor *who, const char *scenario,
                   const char *severity, const char *title, int64_t *n,
                   struct gl_err *err)
{
    int rc;

    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_defect_open_in(s, p, who, scenario, severity, title, 0, n,
                                err))) {
        gl_store_rollback(s);
        return rc;
    }
    return gl_store_commit(s, err);
}

/* Whether a person with roles (enum gl_role bits) is one of who may
 * (enum gl_may bits that name roles). */
static int roles_may(unsigned roles, unsigned bits)
{
    return ((bits & GL_MAY_LEAD) && (roles & GL_ROLE_LEAD)) ||
           ((bits & GL_MAY_DEV) && (roles & GL_ROLE_DEV)) ||
           ((bits & GL_MAY_TESTER) && (roles & GL_ROLE_TESTER));
}

const char *const gl_defect_action_names[] = {
    "fixing", "fixed", "verify", "reopen", "defer", "severity", "comment", NULL,
};

/* The role bits (GL_ROLE_*) of the people a gl_may mask names. */
static unsigned may_roles(unsigned may)
{
    return ((may & GL_MAY_LEAD) ? GL_ROLE_LEAD : 0) |
           ((may & GL_MAY_DEV) ? GL_ROLE_DEV : 0) |
           ((may & GL_MAY_TESTER) ? GL_ROLE_TESTER : 0);
}

int gl_defect_may(const struct gl_plan *p, const char *person,
                  const struct gl_defect_state *d, const char *action,
                  struct gl_err *err)
{
    const struct gl_person *pe = gl_plan_person(p, person);
    const struct gl_transition *row;
    unsigned roles = pe ? pe->roles : 0;
    long long n = (long long)d->n;
    const char *state = d->state, *fixer = d->fixer ? d->fixer : "";
    char names[256];

    if (!strcmp(action, "severity")) {
        if (!gl_run_has_role(p, person, GL_ROLE_LEAD))
            return gl_err_set(
                err, GL_EDENIED,
                "only the lead changes a defect's severity (%s)",
                gl_run_names_with(p, GL_ROLE_LEAD, names, sizeof(names)));
        return GL_OK;
    }
    if (!strcmp(action, "comment")) {
        if (!pe)
            return gl_err_set(err, GL_EDENIED,
                              "'%s' is not a person of the plan: the plan's "
                              "people comment on defects",
                              person);
        return GL_OK;
    }
    /* the table decides the move and who may; the messages are these */
    row = gl_transition_find(gl_defect_moves, action, state);
    if (!strcmp(action, "fixing") || !strcmp(action, "fixed")) {
        unsigned may = gl_transition_may(gl_defect_moves, action);
        if (!roles_may(roles, may))
            return gl_err_set(
                err, GL_EDENIED, "devs fix defects (%s); %s is not a dev",
                gl_run_names_with(p, may_roles(may), names, sizeof(names)),
                person);
        if (!strcmp(action, "fixing") && !row)
            return gl_err_set(err, GL_EREFUSED,
                              "D-%lld is %s; only an open or reopened defect "
                              "is taken up",
                              n, state);
        if (!row)
            return gl_err_set(err, GL_EREFUSED,
                              "D-%lld is %s; it is not being fixed", n, state);
        return GL_OK;
    }
    if (!strcmp(action, "verify")) {
        if (!row)
            return gl_err_set(err, GL_EREFUSED,
                              "D-%lld is %s; only a fixed defect is verified",
                              n, state);
        if ((row->may & GL_MAY_NOT_FIXER) && !strcmp(person, fixer))
            return gl_err_set(err, GL_EDENIED,
                              "%s fixed D-%lld and cannot verify it; someone "
                              "else verifies a fix",
                              person, n);
        return GL_OK;
    }
    if (!strcmp(action, "reopen")) {
        if (!row)
            return gl_err_set(err, GL_EREFUSED,
                              "D-%lld is %s; there is nothing to reopen", n,
                              state);
        return GL_OK;
    }
    if (!strcmp(action, "defer")) {
        unsigned may = gl_transition_may(gl_defect_moves, action);
        if (!roles_may(roles, may))
            return gl_err_set(
                err, GL_EDENIED,
                "the lead or a dev defers a defect (%s); %s is "
                "neither",
                gl_run_names_with(p, may_roles(may), names, sizeof(names)),
                person);
        if (!row)
            return gl_err_set(err, GL_EREFUSED, "D-%lld is %s already", n,
                              state);
        /* a blocker stops a workflow: it is fixed tonight, or the lead
         * says first, with a note, that it does not block */
        if (!strcmp(d->severity, "blocker"))
            return gl_err_set(
                err, GL_EREFUSED,
                "D-%lld is a blocker and a blocker is never deferred; the "
                "lead may lower its severity first ('golive defect severity "
                "D-%lld major --note TEXT')",
                n, n);
        return GL_OK;
    }
    return gl_err_set(err, GL_EUSAGE, "no defect action '%s'", action);
}

int gl_defect_actions(const struct gl_plan *p, const char *person,
                      const struct gl_defect_state *d, json_t **out,
                      struct gl_err *err)
{
    json_t *list = json_array();
    const char *const *a;
    struct gl_err e;
    int rc = list ? GL_OK : GL_ENOMEM;

    *out = NULL;
    for (a = gl_defect_action_names; *a && !rc; a++) {
        gl_err_clear(&e);
        rc = gl_action_add(list, *a, gl_defect_may(p, person, d, *a, &e), &e);
    }
    if (rc) {
        json_decref(list);
        return gl_err_set(err, rc, "out of memory");
    }
    *out = list;
    return GL_OK;
}

int gl_defect_move(gl_store *s, const struct gl_plan *p,
                   const struct gl_actor *who, int64_t n, const char *action,
                   const char *patch, const char *note, const char **to,
                   struct gl_err *err)
{
    struct gl_store_defect row_;
    struct gl_defect_state d;
    const char *next, *me = who->person;
    int64_t seq;
    int rc;

    *to = NULL;
    if (!strcmp(action, "severity") || !strcmp(action, "comment") ||
        !gl_transition_to(gl_defect_moves, action))
        return gl_err_set(err, GL_EUSAGE, "no defect action '%s'", action);
    if (!strcmp(action, "defer") && (!patch || !*patch))
        return gl_err_set(err, GL_EUSAGE, "deferring needs --patch NAME");
    if (patch && (rc = gl_run_text_ok("a patch's name", patch, 100, 0, err)))
        return rc;
    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_store_defect_get(s, n, &row_, err)))
        goto fail;
    {
        char key[32];
        snprintf(key, sizeof(key), "%lld", (long long)n);
        if ((rc = gl_audit_check_row(s, "defects", key, err)))
            goto fail;
    }
    d.n = n;
    d.state = row_.state;
    d.severity = row_.severity;
    d.fixer = row_.fixer;
    if ((rc = gl_defect_may(p, me, &d, action, err)))
        goto fail;
    next = gl_transition_find(gl_defect_moves, action, row_.state)->to;
    {
        char kind[32];
        snprintf(kind, sizeof(kind), "defect.%s", action);
        if ((rc = gl_run_event(s, who, kind,
                               json_pack("{s:I, s:s, s:s, s:s?, s:s*}",
                                         "defect", (json_int_t)n, "from",
                                         row_.state, "to", next, "patch", patch,
                                         "note", note && *note ? note : NULL),
                               &seq, err)))
            goto fail;
    }
    if ((rc = gl_store_defect_set_state(s, n, next, me, patch, seq, err)))
        goto fail;
    if ((rc = gl_store_commit(s, err)))
        return rc;
    *to = next;
    return GL_OK;
fail:
    gl_store_rollback(s);
    return rc;
}

/* How bad a severity is: blocker 3, major 2, minor 1, else 0. */
int gl_defect_rank(const char *severity)
{
    return !severity                      ? 0
           : !strcmp(severity, "blocker") ? 3
           : !strcmp(severity, "major")   ? 2
           : !strcmp(severity, "minor")   ? 1
                                          : 0;
}

int gl_defect_severity(gl_store *s, const struct gl_plan *p,
                       const struct gl_actor *who, int64_t n,
                       const char *severity, const char *note,
                       struct gl_err *err)
{
    struct gl_store_defect row_;
    struct gl_defect_state d;
    char state[16] = "", was[16] = "";
    int64_t seq;
    int rc;

    if (!gl_defect_rank(severity))
        return gl_err_set(err, GL_EUSAGE,
                          "severity is blocker, major or minor, not '%s'",
                          severity ? severity : "");
    if (!note || !*note)
        return gl_err_set(err, GL_EUSAGE,
                          "changing a defect's severity needs a reason "
                          "(--note)");
    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_store_defect_get(s, n, &row_, err)))
        goto fail;
    d.n = n;
    d.state = row_.state;
    d.severity = row_.severity;
    d.fixer = row_.fixer;
    if ((rc = gl_defect_may(p, who->person, &d, "severity", err)))
        goto fail;
    snprintf(state, sizeof(state), "%s", row_.state);
    snprintf(was, sizeof(was), "%s", row_.severity);
    if (!strcmp(was, severity)) {
        rc = gl_err_set(err, GL_EUSAGE, "D-%lld is %s already", (long long)n,
                        severity);
        goto fail;
    }
    if (!strcmp(severity, "blocker") && !strcmp(state, "deferred")) {
        rc = gl_err_set(err, GL_EREFUSED,
                        "D-%lld is deferred and a blocker is never deferred; "
                        "reopen it first ('golive defect reopen D-%lld')",
                        (long long)n, (long long)n);
        goto fail;
    }
    if ((rc = gl_run_event(s, who, "defect.severity",
                           json_pack("{s:I, s:s, s:s, s:s}", "defect",
                                     (json_int_t)n, "from", was, "to", severity,
                                     "note", note),
                           &seq, err)))
        goto fail;
    if ((rc = gl_store_defect_set_severity(s, n, severity, seq, err)))
        goto fail;
    return gl_store_commit(s, err);
fail:
    gl_store_rollback(s);
    return rc;
}

char *gl_defect_list(gl_store *s, struct gl_err *err)
{
    return gl_store_defect_list(s, err);
}
