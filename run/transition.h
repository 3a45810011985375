/*
 * transition.h - state machines as tables: each row is one move, {action,
 * from state, to state, who may}.  The run's modules (tasks, defects,
 * scenarios) look a move up here instead of comparing states by hand, and
 * the store generates its SQL (the states a CASE or a WHERE names) from
 * the same rows (gl_store_sql_states), so the two cannot drift apart.
 * Internal to run/.
 */
#ifndef GOLIVE_RUN_TRANSITION_H
#define GOLIVE_RUN_TRANSITION_H

/* Who may make a move (bits; several: any one of them). */
enum gl_may {
    GL_MAY_ANYONE = 0,
    GL_MAY_OWNER = 1 << 0,      /* the task's owner */
    GL_MAY_CHECKER = 1 << 1,    /* the task's checker */
    GL_MAY_LEAD = 1 << 2,       /* a person with the lead role */
    GL_MAY_LEAD_FORCE = 1 << 3, /* the lead, with --force */
    GL_MAY_DEV = 1 << 4,        /* a person with the dev role */
    GL_MAY_TESTER = 1 << 5,     /* a person with the tester role */
    GL_MAY_NOT_FIXER = 1 << 6,  /* anyone but the defect's fixer */
};

struct gl_transition {
    const char *action; /* NULL ends a table */
    const char *from, *to;
    unsigned may; /* enum gl_may bits */
};

/* The task state machine (golive/runbook.h), by action: start, retry (a
 * lost running task started again by its owner), done, fail, check, skip,
 * reopen. */
extern const struct gl_transition gl_task_moves[];

/* The defect state machine (golive/defect.h): fixing, fixed, verify,
 * reopen, defer. */
extern const struct gl_transition gl_defect_moves[];

/* The scenario state machine (golive/scenario.h): take, pass, fail, block. */
extern const struct gl_transition gl_scenario_moves[];

/* The row that moves state from by action, or NULL when the table has
 * none (the move is refused). */
const struct gl_transition *gl_transition_find(const struct gl_transition *t,
                                               const char *action,
                                               const char *from);

/* Who may make action from some state: the union of its rows' bits. */
unsigned gl_transition_may(const struct gl_transition *t, const char *action);

/* The state action leads to (the first row's), or NULL. */
const char *gl_transition_to(const struct gl_transition *t, const char *action);

/* The shape every "actions" list shares: what one person may do with one
 * object now.  gl_task_actions (runbook.c) and gl_scenario_actions
 * (scenario.c) build theirs with it; defects and duty entries call it
 * the same way, once per action, with the rc and err of a dry run of
 * their move's own checks (and serve/reply.c's sv_actions_for() turns
 * a viewer's list into refusals).  Append to list the entry of action as
 * decided by rc and err, the move's own check made without moving (a dry run,
 * never a second copy of the rules): GL_OK       {"action": action, "allowed":
 * true} GL_EDENIED  {"action", "allowed": false, "reason": err->msg, "code":
 * "forbidden"}   (the reason says who may) GL_EREFUSED ... "code": "conflict"
 * (the reason says what first) GL_EUSAGE   ... "code": "bad_request" The codes
 * are the API's error codes for the same refusal.  Returns GL_OK, or rc itself
 * for any other code (a store error: the caller fails with err), or GL_ENOMEM.
 */
struct json_t;
struct gl_err;
int gl_action_add(struct json_t *list, const char *action, int rc,
                  const struct gl_err *err);

/* The state action leaves (the first row's from), or NULL.  With
 * gl_transition_to, where the store's SQL selects rows by a state it
 * binds the name from here (a scenario that can be taken is
 * gl_transition_from(gl_scenario_moves, "take")), not a literal. */
const char *gl_transition_from(const struct gl_transition *t,
                               const char *action);

#endif
