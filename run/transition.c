/*
 * transition.c - the run's state machines as tables (see transition.h).
 * A move that is not a row here is refused; the messages that say so,
 * and who may instead, are the modules' own.
 */
#include "transition.h"

#include <jansson.h>
#include <stddef.h>
#include <string.h>

#include "golive/golive.h"

const struct gl_transition gl_task_moves[] = {
    {"start", "pending", "running", GL_MAY_OWNER | GL_MAY_LEAD_FORCE},
    {"start", "ready", "running", GL_MAY_OWNER | GL_MAY_LEAD_FORCE},
    /* its process died: the owner starts it again */
    {"retry", "running", "running", GL_MAY_OWNER},
    {"done", "running", "done", GL_MAY_OWNER},
    {"fail", "running", "failed", GL_MAY_OWNER},
    {"check", "done", "checked", GL_MAY_CHECKER},
    {"skip", "pending", "skipped", GL_MAY_OWNER | GL_MAY_LEAD},
    {"skip", "ready", "skipped", GL_MAY_OWNER | GL_MAY_LEAD},
    {"skip", "running", "skipped", GL_MAY_OWNER | GL_MAY_LEAD},
    {"skip", "done", "skipped", GL_MAY_OWNER | GL_MAY_LEAD},
    {"skip", "failed", "skipped", GL_MAY_OWNER | GL_MAY_LEAD},
    {"reopen", "ready", "pending", GL_MAY_OWNER | GL_MAY_CHECKER | GL_MAY_LEAD},
    {"reopen", "done", "pending", GL_MAY_OWNER | GL_MAY_CHECKER | GL_MAY_LEAD},
    {"reopen", "failed", "pending",
     GL_MAY_OWNER | GL_MAY_CHECKER | GL_MAY_LEAD},
    {"reopen", "skipped", "pending",
     GL_MAY_OWNER | GL_MAY_CHECKER | GL_MAY_LEAD},
    /* a sign-off is the checker's: once given, only the checker or the
     * lead takes it back */
    {"reopen", "checked", "pending", GL_MAY_CHECKER | GL_MAY_LEAD},
    {NULL, NULL, NULL, 0},
};

const struct gl_transition gl_defect_moves[] = {
    {"fixing", "open", "fixing", GL_MAY_DEV},
    {"fixing", "reopened", "fixing", GL_MAY_DEV},
    {"fixed", "fixing", "fixed", GL_MAY_DEV},
    {"fixed", "open", "fixed", GL_MAY_DEV},
    {"fixed", "reopened", "fixed", GL_MAY_DEV},
    {"verify", "fixed", "verified", GL_MAY_NOT_FIXER},
    {"reopen", "fixed", "reopened", GL_MAY_ANYONE},
    {"reopen", "verified", "reopened", GL_MAY_ANYONE},
    {"reopen", "deferred", "reopened", GL_MAY_ANYONE},
    /* a blocker is never deferred (defect.c) */
    {"defer", "open", "deferred", GL_MAY_LEAD | GL_MAY_DEV},
    {"defer", "fixing", "deferred", GL_MAY_LEAD | GL_MAY_DEV},
    {"defer", "fixed", "deferred", GL_MAY_LEAD | GL_MAY_DEV},
    {"defer", "reopened", "deferred", GL_MAY_LEAD | GL_MAY_DEV},
    {NULL, NULL, NULL, 0},
};

/* A result is given whatever the scenario's state (a retest overwrites
 * the last one); only a pending scenario is handed out. */
const struct gl_transition gl_scenario_moves[] = {
    {"take", "pending", "running", GL_MAY_TESTER},
    {"pass", NULL, "passed", GL_MAY_TESTER},
    {"fail", NULL, "failed", GL_MAY_TESTER},
    {"block", NULL, "blocked", GL_MAY_TESTER},
    {NULL, NULL, NULL, 0},
};

const struct gl_transition *gl_transition_find(const struct gl_transition *t,
                                               const char *action,
                                               const char *from)
{
    for (; t->action; t++)
        if (!strcmp(t->action, action) && (!t->from || !strcmp(t->from, from)))
            return t;
    return NULL;
}

unsigned gl_transition_may(const struct gl_transition *t, const char *action)
{
    unsigned may = 0;

    for (; t->action; t++)
        if (!strcmp(t->action, action))
            may |= t->may;
    return may;
}

const char *gl_transition_to(const struct gl_transition *t, const char *action)
{
    for (; t->action; t++)
        if (!strcmp(t->action, action))
            return t->to;
    return NULL;
}

int gl_action_add(json_t *list, const char *action, int rc,
                  const struct gl_err *err)
{
    const char *code;
    json_t *a;

    switch (rc) {
    case GL_OK:
        a = json_pack("{s:s, s:b}", "action", action, "allowed", 1);
        break;
    case GL_EDENIED:
    case GL_EREFUSED:
    case GL_EUSAGE:
        code = rc == GL_EDENIED    ? "forbidden"
               : rc == GL_EREFUSED ? "conflict"
                                   : "bad_request";
        a = json_pack("{s:s, s:b, s:s, s:s}", "action", action, "allowed", 0,
                      "reason", err->msg, "code", code);
        break;
    default:
        return rc;
    }
    if (!a || json_array_append_new(list, a))
        return GL_ENOMEM;
    return GL_OK;
}

const char *gl_transition_from(const struct gl_transition *t,
                               const char *action)
{
    for (; t->action; t++)
        if (!strcmp(t->action, action))
            return t->from;
    return NULL;
}
