/*
 * runbook.c - the task state machine (see golive/runbook.h).
 */
#include "golive/runbook.h"
#include "golive/audit.h"
#include "golive/gate.h"
#include "golive/status.h"

#include "common.h"
#include "store-rows.h"
#include "transition.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

static const char *const action_names[] = {"start", "done",  "fail",
                                           "skip",  "check", "reopen"};

int gl_task_action_parse(const char *s)
{
    size_t i;

    for (i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
        if (!strcmp(s, action_names[i]))
            return (int)i;
    return -1;
}

static int is_lead(const struct gl_plan *p, const char *person)
{
    return gl_run_has_role(p, person, GL_ROLE_LEAD);
}

/* Who owns and checks a task now: the run's row (a handover changes it),
 * else the plan. */
struct people {
    char owner[128], checker[128];
    int lost; /* running, and the process that ran it is gone */
};

/* Whether me is one of who may (enum gl_may bits; the lead with --force
 * is the caller's to decide). */
static int may(const struct gl_plan *p, const struct people *w, const char *me,
               unsigned bits)
{
    return ((bits & GL_MAY_OWNER) && !strcmp(me, w->owner)) ||
           ((bits & GL_MAY_CHECKER) && !strcmp(me, w->checker)) ||
           ((bits & GL_MAY_LEAD) && is_lead(p, me));
}

static int task_people(gl_store *s, const struct gl_task *t, struct people *w,
                       struct gl_err *err)
{
    struct gl_store_task row;
    int rc;

    snprintf(w->owner, sizeof(w->owner), "%s", t->owner.id);
    snprintf(w->checker, sizeof(w->checker), "%s", t->checker.id);
    w->lost = 0;
    if ((rc = gl_store_task_row(s, t->id.id, &row, err)))
        return rc;
    if (row.found) {
        if (row.owner[0])
            snprintf(w->owner, sizeof(w->owner), "%s", row.owner);
        if (row.checker[0])
            snprintf(w->checker, sizeof(w->checker), "%s", row.checker);
        w->lost = row.running && gl_run_task_gone(row.pid, row.pgid, row.host);
    }
    return GL_OK;
}

/* Into extra[key] (an array made on first use), value; nothing without
 * extra (a dry run). */
static int extra_add(json_t *extra, const char *key, json_t *value,
                     struct gl_err *err)
{
    json_t *a;

    if (!extra) {
        json_decref(value);
        return GL_OK;
    }
    if (!value)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    if (!(a = json_object_get(extra, key))) {
        if (!(a = json_array()) || json_object_set_new(extra, key, a)) {
            json_decref(value);
            return gl_err_set(err, GL_ENOMEM, "out of memory");
        }
    }
    if (json_array_append_new(a, value))
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    return GL_OK;
}

static int by_id(const void *a, const void *b)
{
    return strcmp((*(const struct gl_task *const *)a)->id.id,
                  (*(const struct gl_task *const *)b)->id.id);
}

/* Dependency d's state, its row checked against its events when audit
 * (the row decides what may follow it, as the task's own). */
static int dep_state(gl_store *s, const char *d, int audit, char *dep, size_t n,
                     struct gl_err *err)
{
    int rc;

    if ((rc = gl_store_task_state(s, d, dep, n, err)) ||
        (audit && (rc = gl_audit_check_row(s, "tasks", d, err))))
        return rc;
    return GL_OK;
}

/* in[i] set for every task that depends on t, directly or not (and t):
 * a sorted index of the ids and a breadth-first walk, O(n log n + edges)
 * however long the chain.  GL_ENOMEM or GL_OK. */
static int dependents_of(const struct gl_plan *p, const struct gl_task *t,
                         unsigned char *in, struct gl_err *err)
{
    const struct gl_task **ix = NULL, *key, **hit;
    size_t *first = NULL, *to = NULL, *queue = NULL, n = p->n_tasks, e = 0;
    size_t i, j, head = 0, tail = 0;
    int rc = GL_OK;

    for (i = 0; i < n; i++)
        e += p->tasks[i].depends_on.n;
    if (!(ix = malloc(n * sizeof(*ix))) ||
        !(first = calloc(n + 1, sizeof(*first))) ||
        !(to = malloc((e ? e : 1) * sizeof(*to))) ||
        !(queue = malloc(n * sizeof(*queue)))) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < n; i++)
        ix[i] = &p->tasks[i];
    qsort(ix, n, sizeof(*ix), by_id);
    /* the edges reversed, dependency -> dependent, grouped by dependency
     * (to[first[d] .. first[d + 1])); two passes over depends_on */
    for (i = 0; i < n; i++)
        for (j = 0; j < p->tasks[i].depends_on.n; j++) {
            struct gl_task k;
            k.id.id = p->tasks[i].depends_on.v[j].id;
            key = &k;
            if ((hit = bsearch(&key, ix, n, sizeof(*ix), by_id)))
                first[*hit - p->tasks + 1]++;
        }
    for (i = 0; i < n; i++)
        first[i + 1] += first[i];
    for (i = 0; i < n; i++)
        queue[i] = first[i]; /* each group's next free place */
    for (i = 0; i < n; i++)
        for (j = 0; j < p->tasks[i].depends_on.n; j++) {
            struct gl_task k;
            k.id.id = p->tasks[i].depends_on.v[j].id;
            key = &k;
            if ((hit = bsearch(&key, ix, n, sizeof(*ix), by_id)))
                to[queue[*hit - p->tasks]++] = i;
        }
    queue[tail++] = (size_t)(t - p->tasks);
    in[queue[0]] = 1;
    while (head < tail) { /* each task queued once: cycles end too */
        size_t d = queue[head++];
        for (j = first[d]; j < first[d + 1]; j++)
            if (!in[to[j]]) {
                in[to[j]] = 1;
                queue[tail++] = to[j];
            }
    }
out:
    free(ix);
    free(first);
    free(to);
    free(queue);
    return rc;
}

/* A task that is reopened takes back what rests on it: every task that
 * depends on it, directly or not, and is done or checked is reopened
 * with it (their results were made on the work now taken back).  Each
 * one must be the reopener's to reopen (the same rule as its own
 * reopen); extra["reopens"] gets {task, from} of each, in plan order.
 * A dependent that is running refuses the reopen (GL_EREFUSED, after
 * any refusal of who asks): it would run on on a dependency taken back;
 * its owner reports it done or failed first.  Dependents that are
 * failed or skipped are left as they are.  A dry run (extra NULL) by the
 * lead, who reopens any task, only looks for a running dependent, and
 * only when some task runs (the API lists every task's actions). */
static int reopen_dependents(gl_store *s, const struct gl_plan *p,
                             const struct gl_task *t, const char *me, int audit,
                             json_t *extra, struct gl_err *err)
{
    unsigned char *in = NULL;
    char leads[256], running[128] = "", runner[128] = "";
    int dry_lead = !extra && is_lead(p, me);
    size_t i;
    int rc = GL_OK;

    if (!p->n_tasks)
        return GL_OK;
    if (dry_lead) {
        int64_t count[GL_STAGE_COUNT][GL_TASK_STATE_COUNT], n = 0;
        if ((rc = gl_store_task_counts(s, count, err)))
            return rc;
        for (i = 0; i < GL_STAGE_COUNT; i++)
            n += count[i][GL_TASK_RUNNING];
        if (!n)
            return GL_OK;
    }
    if (!(in = calloc(p->n_tasks, 1)))
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    if ((rc = dependents_of(p, t, in, err))) {
        free(in);
        return rc;
    }
    gl_run_names_with(p, GL_ROLE_LEAD, leads, sizeof(leads));
    for (i = 0; i < p->n_tasks && !rc; i++) {
        const struct gl_task *u = &p->tasks[i];
        const struct gl_transition *row;
        struct people w;
        char st[16];
        if (!in[i] || u == t)
            continue;
        if ((rc = gl_store_task_state(s, u->id.id, st, sizeof(st), err)) ||
            (audit && (rc = gl_audit_check_row(s, "tasks", u->id.id, err))))
            break;
        if (!strcmp(st, "running") && !running[0]) {
            if ((rc = task_people(s, u, &w, err)))
                break;
            snprintf(running, sizeof(running), "%s", u->id.id);
            snprintf(runner, sizeof(runner), "%s", w.owner);
            continue;
        }
        if (dry_lead || (strcmp(st, "done") && strcmp(st, "checked")))
            continue;
        if ((rc = task_people(s, u, &w, err)) ||
            !(row = gl_transition_find(gl_task_moves, "reopen", st)))
            break;
        if (!may(p, &w, me, row->may)) {
            if (row->may & GL_MAY_OWNER)
                rc = gl_err_set(err, GL_EDENIED,
                                "reopening task '%s' reopens '%s' too (%s, "
                                "it depends on '%s'); only its owner %s, its "
                                "checker %s or the lead (%s) reopens it",
                                t->id.id, u->id.id, st, t->id.id, w.owner,
                                w.checker, leads);
            else
                rc = gl_err_set(err, GL_EDENIED,
                                "reopening task '%s' reopens '%s' too (%s, "
                                "it depends on '%s'); only its checker %s or "
                                "the lead (%s) takes its sign-off back",
                                t->id.id, u->id.id, st, t->id.id, w.checker,
                                leads);
            break;
        }
        rc = extra_add(extra, "reopens",
                       json_pack("{s:s, s:s}", "task", u->id.id, "from", st),
                       err);
    }
    free(in);
    if (!rc && running[0])
        rc = gl_err_set(err, GL_EREFUSED,
                        "task '%s' is not reopened while '%s', which depends "
                        "on it, is running; its owner %s reports it done or "
                        "failed first (a reopen then takes it back too, or "
                        "leaves it failed)",
                        t->id.id, running, runner);
    return rc;
}

/* Whether who may move task t by act now, and to what: every check of
 * gl_task_act, reading the store only, inside the caller's transaction.
 * state gets the task's state, *next the state the move leads to.  With
 * audit, each row the decision reads must be what its events made (a
 * move); without, the rows are taken as they are (a dry run: the move
 * checks them again).  GL_EDENIED when the refusal is about who asks
 * (the message says who may), GL_EREFUSED when it is about now (it says
 * what must happen first).  extra (NULL in a dry run) gets what the move's
 * event records besides: "unchecked_dependencies" a forced start passed,
 * "failed_dependencies" a forced skip passed, "reopens" the dependents a
 * reopen takes back with the task ({task, from}). */
static int task_decide(gl_store *s, const struct gl_plan *p,
                       const struct gl_task *t, int64_t switch_at,
                       const char *me, enum gl_task_action act, int force,
                       const char *note, int64_t now, int audit, char state[16],
                       const char **next, json_t *extra, struct gl_err *err)
{
    const char *id = t->id.id;
    char leads[256], rel[32];
    struct people who_;
    const struct gl_transition *row = NULL;
    size_t i;
    int rc;

    *next = NULL;
    if ((rc = gl_store_task_state(s, id, state, 16, err)) ||
        (audit && (rc = gl_audit_check_row(s, "tasks", id, err))) ||
        (rc = task_people(s, t, &who_, err)))
        return rc;
    gl_run_names_with(p, GL_ROLE_LEAD, leads, sizeof(leads));
    switch (act) {
    case GL_ACT_START:
        if (who_.lost &&
            (row = gl_transition_find(gl_task_moves, "retry", state))) {
            /* its process died: the owner retries it */
            if (!may(p, &who_, me, row->may))
                return gl_err_set(err, GL_EDENIED,
                                  "task '%s' is lost; its owner %s retries or "
                                  "fails it",
                                  id, who_.owner);
            *next = row->to;
            return GL_OK;
        }
        if (!(row = gl_transition_find(gl_task_moves, "start", state)))
            return gl_err_set(err, GL_EREFUSED,
                              "task '%s' is %s; only a pending task starts "
                              "('golive task reopen' takes it back)",
                              id, state);
        if (!may(p, &who_, me, row->may) &&
            !(force && (row->may & GL_MAY_LEAD_FORCE) && is_lead(p, me)))
            return gl_err_set(err, GL_EDENIED,
                              "only the owner of task '%s' (%s) starts it; "
                              "the lead (%s) may with --force",
                              id, who_.owner, leads);
        if (force && !is_lead(p, me))
            return gl_err_set(err, GL_EDENIED,
                              "only the lead (%s) starts a task early with "
                              "--force",
                              leads);
        for (i = 0; i < t->depends_on.n; i++) {
            const char *d = t->depends_on.v[i].id;
            char dep[16];
            if ((rc = dep_state(s, d, audit, dep, sizeof(dep), err)))
                return rc;
            if (!strcmp(dep, "checked") || !strcmp(dep, "skipped"))
                continue;
            if (!force)
                return gl_err_set(err, GL_EREFUSED,
                                  "task '%s' waits for '%s', which is %s, not "
                                  "checked yet",
                                  id, d, dep);
            /* the lead forces past a dependency: never without a word
             * on the record */
            if (gl_run_no_note(note))
                return gl_err_set(err, GL_EUSAGE,
                                  "task '%s' waits for '%s', which is %s, not "
                                  "checked yet; starting it with --force "
                                  "needs a reason (--note)",
                                  id, d, dep);
            if ((rc = extra_add(extra, "unchecked_dependencies", json_string(d),
                                err)))
                return rc;
        }
        if (!force && t->has_at && now < switch_at + t->at) {
            char at[40];
            gl_reltime_format(t->at, rel);
            gl_time_format(switch_at + t->at, p->switch_offset, at);
            return gl_err_set(err, GL_EREFUSED,
                              "task '%s' starts at %s (%s), not before; the "
                              "lead (%s) may start it early with --force",
                              id, rel, at, leads);
        }
        {
            int started = gl_rollback_started(s);
            if (started < 0)
                return gl_run_fail_db(s, err);
            if (started && t->stage != GL_STAGE_ROLLBACK)
                return gl_err_set(err, GL_EREFUSED,
                                  "the run is rolling back; task '%s' does "
                                  "not start (the rollback's tasks do)",
                                  id);
            if (!started && t->stage == GL_STAGE_ROLLBACK)
                return gl_err_set(err, GL_EREFUSED,
                                  "task '%s' belongs to the rollback, which "
                                  "has not started ('golive rollback' by the "
                                  "lead: %s)",
                                  id, leads);
        }
        break;
    case GL_ACT_DONE:
    case GL_ACT_FAIL:
        if (!(row =
                  gl_transition_find(gl_task_moves, action_names[act], state)))
            return gl_err_set(err, GL_EREFUSED,
                              "task '%s' is %s; only a running task is %s", id,
                              state, act == GL_ACT_DONE ? "done" : "failed");
        if (!may(p, &who_, me, row->may))
            return gl_err_set(err, GL_EDENIED,
                              "only the owner of task '%s' (%s) reports it %s",
                              id, who_.owner,
                              act == GL_ACT_DONE ? "done" : "failed");
        break;
    case GL_ACT_CHECK:
        /* the owner is never the checker of a task */
        if (!strcmp(me, who_.owner))
            return gl_err_set(err, GL_EDENIED,
                              "%s owns task '%s' and cannot check it; its "
                              "checker %s signs it off",
                              me, id, who_.checker);
        if (!may(p, &who_, me, gl_transition_may(gl_task_moves, "check")))
            return gl_err_set(err, GL_EDENIED,
                              "only the checker of task '%s' (%s) signs it "
                              "off",
                              id, who_.checker);
        if (!(row = gl_transition_find(gl_task_moves, "check", state)))
            return gl_err_set(err, GL_EREFUSED,
                              "task '%s' is %s; its owner %s reports it done "
                              "before it is checked",
                              id, state, who_.owner);
        {
            /* four eyes whatever the plan says now: an amended plan or a
             * handover may have named the doer as the checker */
            /* a lead's forced start of a task done by hand is not the
             * work; of a run: task it is (the start runs it) */
            const struct gl_task *pt = gl_plan_task(p, id);
            int did;
            if ((rc = gl_store_task_did(s, id, me, pt && pt->run, &did, err)))
                return rc;
            if (did)
                return gl_err_set(err, GL_EDENIED,
                                  "%s did task '%s' and cannot check it; "
                                  "someone who did not signs it off (%s "
                                  "hands the check over with 'golive "
                                  "handover', or the lead (%s) names "
                                  "another checker)",
                                  me, id, me, leads);
        }
        break;
    case GL_ACT_SKIP:
        /* who may comes first, then the reason (as decide) */
        if (!may(p, &who_, me, gl_transition_may(gl_task_moves, "skip")))
            return gl_err_set(err, GL_EDENIED,
                              "only the owner of task '%s' (%s) or the lead "
                              "(%s) skips it",
                              id, who_.owner, leads);
        if (gl_run_no_note(note))
            return gl_err_set(err, GL_EUSAGE,
                              "skipping task '%s' needs a reason (--note)", id);
        if (!(row = gl_transition_find(gl_task_moves, "skip", state)))
            return gl_err_set(err, GL_EREFUSED, "task '%s' is %s already", id,
                              state);
        if (!strcmp(state, "done")) {
            /* four eyes: a skip of a done task passes its check by; not
             * by one who did it */
            int did;
            if ((rc = gl_store_task_did(s, id, me, t->run != NULL, &did, err)))
                return rc;
            if (did)
                return gl_err_set(err, GL_EDENIED,
                                  "%s did task '%s' and cannot skip its "
                                  "check; its checker %s signs it off, or "
                                  "someone who did not do it skips it",
                                  me, id, who_.checker);
        }
        for (i = 0; i < t->depends_on.n; i++) {
            const char *d = t->depends_on.v[i].id;
            char dep[16];
            if ((rc = dep_state(s, d, audit, dep, sizeof(dep), err)))
                return rc;
            if (strcmp(dep, "failed"))
                continue;
            /* a skipped task counts as done for what follows it: past a
             * failure, only the lead decides the night goes on */
            if (!force)
                return gl_err_set(err, GL_EREFUSED,
                                  "task '%s' depends on '%s', which failed; "
                                  "the lead (%s) may skip it with --force",
                                  id, d, leads);
            if (!is_lead(p, me))
                return gl_err_set(err, GL_EDENIED,
                                  "task '%s' depends on '%s', which failed; "
                                  "only the lead (%s) skips it, with --force",
                                  id, d, leads);
            if ((rc = extra_add(extra, "failed_dependencies", json_string(d),
                                err)))
                return rc;
        }
        break;
    case GL_ACT_REOPEN:
        /* a sign-off is the checker's: once given, only the checker or
         * the lead takes it back (the table's row for checked) */
        row = gl_transition_find(gl_task_moves, "reopen", state);
        if (row && !(row->may & GL_MAY_OWNER) && !may(p, &who_, me, row->may))
            return gl_err_set(err, GL_EDENIED,
                              "task '%s' is checked; only its checker %s or "
                              "the lead (%s) reopens it",
                              id, who_.checker, leads);
        if (!may(p, &who_, me, gl_transition_may(gl_task_moves, "reopen")))
            return gl_err_set(err, GL_EDENIED,
                              "only the owner of task '%s' (%s), its checker "
                              "(%s) or the lead (%s) reopens it",
                              id, who_.owner, who_.checker, leads);
        if (!row)
            return gl_err_set(err, GL_EREFUSED,
                              "task '%s' is %s; there is nothing to reopen", id,
                              state);
        if ((rc = reopen_dependents(s, p, t, me, audit, extra, err)))
            return rc;
        break;
    }
    *next = row->to;
    return GL_OK;
}

int gl_task_act(gl_store *s, const struct gl_plan *p, int64_t switch_at,
                const struct gl_actor *who, const char *id,
                enum gl_task_action act, int force, const char *note,
                int64_t now, const char **from, const char **to,
                struct gl_err *err)
{
    return gl_task_act_also(s, p, switch_at, who, id, act, force, note, now,
                            from, to, NULL, err);
}

int gl_task_act_also(gl_store *s, const struct gl_plan *p, int64_t switch_at,
                     const struct gl_actor *who, const char *id,
                     enum gl_task_action act, int force, const char *note,
                     int64_t now, const char **from, const char **to,
                     json_t **also_out, struct gl_err *err)
{
    const struct gl_task *t = gl_plan_task(p, id);
    char state[16], planned_start[40] = "", planned_end[40] = "";
    const char *next = NULL;
    json_t *payload = NULL, *extra = NULL, *also, *x;
    char *ptext = NULL;
    size_t i;
    int rc;

    *from = *to = NULL;
    if (also_out)
        *also_out = NULL;
    if (!t)
        return gl_err_set(err, GL_ENOTFOUND, "no task '%s' in the plan", id);
    if (!(extra = json_object()))
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    if ((rc = gl_store_begin(s, err)))
        goto out;
    if ((rc = task_decide(s, p, t, switch_at, who->person, act, force, note,
                          now, 1, state, &next, extra, err)))
        goto fail;
    *from = gl_task_state_static(state);
    if (!strcmp(next, "running")) {
        /* the plan it is held to from now on, whatever shift follows */
        int64_t ps, pe;
        if ((rc = gl_status_planned(s, p, switch_at, now, id, &ps, &pe, err)))
            goto fail;
        if (ps != INT64_MIN) {
            gl_time_format(ps, 0, planned_start);
            gl_time_format(pe, 0, planned_end);
        }
    }
    payload =
        json_pack("{s:s, s:s, s:s, s:s?, s:b, s:s?, s:s?}", "task", id, "from",
                  state, "to", next, "note", note, "force", force,
                  "planned_start", planned_start[0] ? planned_start : NULL,
                  "planned_end", planned_end[0] ? planned_end : NULL);
    if (payload) {
        json_t *ids = json_array();
        also = json_object_get(extra, "reopens");
        json_array_foreach(also, i, x)
            json_array_append(ids, json_object_get(x, "task"));
        if (!ids || json_object_update(payload, extra) ||
            (json_array_size(also) &&
             json_object_set(payload, "reopens", ids))) {
            json_decref(payload);
            payload = NULL;
        }
        json_decref(ids);
    }
    if (!payload ||
        !(ptext = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS))) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto fail;
    }
    {
        char kind[32];
        int64_t seq;
        snprintf(kind, sizeof(kind), "task.%s", action_names[act]);
        if ((rc = gl_store_event(s, who, kind, ptext, &seq, err)) ||
            (rc = gl_store_task_set(s, id, next, seq, err)) ||
            (rc = gl_task_set_planned(s, id, next, planned_start, planned_end,
                                      err)))
            goto fail;
        /* what rested on the task reopened: each its own task.reopen
         * event, "with" the task that took it back */
        json_array_foreach(json_object_get(extra, "reopens"), i, x)
        {
            const char *u = json_string_value(json_object_get(x, "task"));
            if ((rc = gl_run_event(
                     s, who, kind,
                     json_pack("{s:s, s:O, s:s, s:s?, s:b, s:s}", "task", u,
                               "from", json_object_get(x, "from"), "to", next,
                               "note", note, "force", 0, "with", id),
                     &seq, err)) ||
                (rc = gl_store_task_set(s, u, next, seq, err)) ||
                (rc = gl_task_set_planned(s, u, next, "", "", err)))
                goto fail;
        }
    }
    if (also_out) {
        /* the dependents taken back, for the caller to tell */
        json_t *a = json_array();
        int bad = !a;
        json_array_foreach(json_object_get(extra, "reopens"), i, x) bad |=
            json_array_append_new(
                a,
                json_pack("{s:O, s:O, s:s}", "task", json_object_get(x, "task"),
                          "from", json_object_get(x, "from"), "to", next));
        if (bad) {
            json_decref(a);
            rc = gl_err_set(err, GL_ENOMEM, "out of memory");
            goto fail;
        }
        *also_out = a;
    }
    if ((rc = gl_store_commit(s, err))) {
        if (also_out) {
            json_decref(*also_out);
            *also_out = NULL;
        }
        goto out;
    }
    *to = gl_task_state_static(next);
    goto out;
fail:
    gl_store_rollback(s);
out:
    free(ptext);
    json_decref(payload);
    json_decref(extra);
    return rc;
}

int gl_task_actions(gl_store *s, const struct gl_plan *p, int64_t switch_at,
                    const char *person, const char *id, int64_t now,
                    json_t **out, struct gl_err *err)
{
    const struct gl_task *t = gl_plan_task(p, id);
    json_t *list = NULL;
    char state[16];
    const char *next;
    struct gl_err e;
    size_t i;
    int rc;

    *out = NULL;
    if (!t)
        return gl_err_set(err, GL_ENOTFOUND, "no task '%s' in the plan", id);
    if (!(list = json_array()))
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    if ((rc = gl_store_begin_read(s, err)))
        goto out;
    for (i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++) {
        gl_err_clear(&e);
        /* the move's own checks, the note a skip needs taken as given */
        rc = task_decide(s, p, t, switch_at, person, (enum gl_task_action)i, 0,
                         "-", now, 0, state, &next, NULL, &e);
        if (rc && (i == GL_ACT_START || i == GL_ACT_SKIP) &&
            is_lead(p, person)) {
            /* what the lead may do with --force ("force": true) */
            struct gl_err e2;
            gl_err_clear(&e2);
            if (!task_decide(s, p, t, switch_at, person, (enum gl_task_action)i,
                             1, "-", now, 0, state, &next, NULL, &e2) &&
                (rc == GL_EREFUSED || rc == GL_EDENIED)) {
                if ((rc = gl_action_add(list, action_names[i], rc, &e)))
                    break;
                json_object_set_new(json_array_get(list, i), "force",
                                    json_true());
                continue;
            }
        }
        if ((rc = gl_action_add(list, action_names[i], rc, &e)))
            break;
    }
    gl_store_rollback(s);
    if (rc) {
        if (e.code == rc)
            *err = e;
        else
            gl_err_set(err, rc, "out of memory");
        goto out;
    }
    *out = list;
    list = NULL;
out:
    json_decref(list);
    return rc;
}

int gl_task_exec_record(gl_store *s, const struct gl_actor *who, const char *id,
                        const char *run, const char *output, int64_t pid,
                        int64_t pgid, const char *host, struct gl_err *err)
{
    int rc;

    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_run_event(s, who, "task.exec",
                           json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "task",
                                     id, "run", run, "output", output, "pid",
                                     (json_int_t)pid, "pgid", (json_int_t)pgid,
                                     "host", host),
                           NULL, err)))
        goto fail;
    if ((rc = gl_store_task_exec(s, id, pid, host, output, pgid, err)))
        goto fail;
    return gl_store_commit(s, err);
fail:
    gl_store_rollback(s);
    return rc;
}

int gl_task_owner(gl_store *s, const struct gl_plan *p, const char *id,
                  char *owner, size_t n, struct gl_err *err)
{
    return gl_task_crew(s, p, id, owner, n, NULL, 0, err);
}

int gl_task_crew(gl_store *s, const struct gl_plan *p, const char *id,
                 char *owner, size_t n, char *checker, size_t m,
                 struct gl_err *err)
{
    const struct gl_task *t = gl_plan_task(p, id);
    struct people w;
    int rc;

    if (!t)
        return gl_err_set(err, GL_ENOTFOUND, "no task '%s' in the plan", id);
    if ((rc = task_people(s, t, &w, err)))
        return rc;
    snprintf(owner, n, "%s", w.owner);
    if (checker)
        snprintf(checker, m, "%s", w.checker);
    return GL_OK;
}

int gl_task_output(gl_store *s, const struct gl_plan *p, const char *id,
                   char *path, size_t n, struct gl_err *err)
{
    int rc;

    if (!gl_plan_task(p, id))
        return gl_err_set(err, GL_ENOTFOUND, "no task '%s' in the plan", id);
    if ((rc = gl_store_task_output(s, id, path, n, err)))
        return rc;
    if (!path[0])
        return gl_err_set(err, GL_ENOTFOUND, "task '%s' has no output: %s", id,
                          gl_plan_task(p, id)->run ? "its run: has not run yet"
                                                   : "it has no run:");
    return GL_OK;
}
