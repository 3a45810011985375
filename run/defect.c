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

int gl_defect_move(gl_store *s, const struct gl_plan *p,
                   const struct gl_actor *who, int64_t n, const char *action,
                   const char *patch, const char **to, struct gl_err *err)
{
    struct gl_store_defect row_;
    char state[16] = "", fixer[128] = "", severity[16] = "";
    const char *next = NULL, *me = who->person;
    const struct gl_transition *row;
    const struct gl_person *pe = gl_plan_person(p, me);
    unsigned roles = pe ? pe->roles : 0;
    int64_t seq;
    int rc;

    *to = NULL;
    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_store_defect_get(s, n, &row_, err)))
        goto fail;
    snprintf(state, sizeof(state), "%s", row_.state);
    snprintf(fixer, sizeof(fixer), "%s", row_.fixer);
    snprintf(severity, sizeof(severity), "%s", row_.severity);
    {
        char key[32];
        snprintf(key, sizeof(key), "%lld", (long long)n);
        if ((rc = gl_audit_check_row(s, "defects", key, err)))
            goto fail;
    }
#define REFUSE(...)                                                            \
    do {                                                                       \
        rc = gl_err_set(err, GL_EREFUSED, __VA_ARGS__);                        \
        goto fail;                                                             \
    } while (0)
    /* refused for who asks: someone else may */
#define DENY(...)                                                              \
    do {                                                                       \
        rc = gl_err_set(err, GL_EDENIED, __VA_ARGS__);                         \
        goto fail;                                                             \
    } while (0)
    /* the table decides the move and who may; the messages are these */
    row = gl_transition_find(gl_defect_moves, action, state);
    if (!strcmp(action, "fixing") || !strcmp(action, "fixed")) {
        if (!roles_may(roles, gl_transition_may(gl_defect_moves, action)))
            DENY("devs fix defects; %s is not a dev", me);
        if (!strcmp(action, "fixing") && !row)
            REFUSE("D-%lld is %s; only an open or reopened defect is taken "
                   "up",
                   (long long)n, state);
        if (!strcmp(action, "fixed") && !row)
            REFUSE("D-%lld is %s; it is not being fixed", (long long)n, state);
        next = row->to;
    } else if (!strcmp(action, "verify")) {
        if (!row)
            REFUSE("D-%lld is %s; only a fixed defect is verified",
                   (long long)n, state);
        if ((row->may & GL_MAY_NOT_FIXER) && !strcmp(me, fixer))
            DENY("%s fixed D-%lld and cannot verify it; someone else "
                 "verifies a fix",
                 me, (long long)n);
        next = row->to;
    } else if (!strcmp(action, "reopen")) {
        if (!row)
            REFUSE("D-%lld is %s; there is nothing to reopen", (long long)n,
                   state);
        next = row->to;
    } else if (!strcmp(action, "defer")) {
        if (!patch || !*patch) {
            rc = gl_err_set(err, GL_EUSAGE, "deferring needs --patch NAME");
            goto fail;
        }
        if (!roles_may(roles, gl_transition_may(gl_defect_moves, action)))
            DENY("the lead or a dev defers a defect; %s is neither", me);
        if (!row)
            REFUSE("D-%lld is %s already", (long long)n, state);
        /* a blocker stops a workflow: it is fixed tonight, or the lead
         * says first, with a note, that it does not block */
        if (!strcmp(severity, "blocker"))
            REFUSE("D-%lld is a blocker and a blocker is never deferred; "
                   "the lead may lower its severity first ('golive defect "
                   "severity D-%lld major --note TEXT')",
                   (long long)n, (long long)n);
        next = row->to;
    } else {
        rc = gl_err_set(err, GL_EUSAGE, "no defect action '%s'", action);
        goto fail;
    }
#undef REFUSE
#undef DENY
    {
        char kind[32];
        snprintf(kind, sizeof(kind), "defect.%s", action);
        if ((rc = gl_run_event(s, who, kind,
                               json_pack("{s:I, s:s, s:s, s:s?}", "defect",
                                         (json_int_t)n, "from", state, "to",
                                         next, "patch", patch),
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
    char state[16] = "", was[16] = "", leads[256];
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
    if (!gl_run_has_role(p, who->person, GL_ROLE_LEAD))
        return gl_err_set(
            err, GL_EDENIED, "only the lead changes a defect's severity (%s)",
            gl_run_names_with(p, GL_ROLE_LEAD, leads, sizeof(leads)));
    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_store_defect_get(s, n, &row_, err)))
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
