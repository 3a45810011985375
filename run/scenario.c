/*
 * scenario.c - the verification list (see golive/scenario.h).  Rows of
 * the store's scenarios table are made from the run's plan the first time
 * they are needed; every change is an event in the same transaction.
 */
#include "golive/scenario.h"
#include "golive/audit.h"

#include "common.h"
#include "store-rows.h"
#include "transition.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/suggest.h"

static int is_tester(const struct gl_plan *p, const char *person)
{
    return gl_run_has_role(p, person, GL_ROLE_TESTER);
}

static int refuse_non_tester(const struct gl_plan *p, const char *who,
                             struct gl_err *err)
{
    char names[256];

    return gl_err_set(
        err, GL_EDENIED, "%s is not a tester; testers run scenarios (%s)", who,
        gl_run_names_with(p, GL_ROLE_TESTER, names, sizeof(names)));
}

static int update(gl_store *s, const struct gl_actor *who, const char *id,
                  const char *kind, const char *state, const char *note,
                  int taking, struct gl_err *err)
{
    json_t *pl = json_pack("{s:s, s:s, s:s?}", "scenario", id, "state", state,
                           "note", note);
    char *text = pl ? json_dumps(pl, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    int64_t seq = 0;
    int rc;

    json_decref(pl);
    if (!text)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    rc = gl_store_event(s, who, kind, text, &seq, err);
    free(text);
    if (rc)
        return rc;
    return gl_store_scenario_set(s, id, state, who->person, seq, note, taking,
                                 err);
}

int gl_scenario_next(gl_store *s, const struct gl_plan *p,
                     const struct gl_actor *who, char *id, size_t n,
                     int64_t *since, struct gl_err *err)
{
    struct gl_scenario_now held;
    int rc;

    *since = 0;
    if (!is_tester(p, who->person))
        return refuse_non_tester(p, who->person, err);
    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_scenario_rows(s, p, err)) ||
        (rc = gl_store_scenario_held(s, who->person, &held, err)))
        goto fail;
    /* one at a time: who holds a running scenario gets that one again */
    if (held.found) {
        snprintf(id, n, "%s", held.id);
        *since = held.at ? held.at : 1;
        gl_store_rollback(s);
        return GL_OK;
    }
    rc = gl_store_scenario_next(s, who->person, id, n, err);
    if (rc == GL_ENOTFOUND)
        rc = gl_err_set(err, GL_ENOTFOUND, "every scenario has been taken");
    if (rc)
        goto fail;
    /* the row chosen (its state, its assignee) must be what its events
     * made before it is handed out */
    if ((rc = gl_audit_check_row(s, "scenarios", id, err)) ||
        (rc =
             update(s, who, id, "scenario.take",
                    gl_transition_to(gl_scenario_moves, "take"), NULL, 1, err)))
        goto fail;
    return gl_store_commit(s, err);
fail:
    gl_store_rollback(s);
    return rc;
}

static int no_scenario(const struct gl_plan *p, const char *id,
                       struct gl_err *err)
{
    const char **ids =
        malloc((p->n_scenarios ? p->n_scenarios : 1) * sizeof(*ids));
    const char *hint;
    size_t i;
    int rc;

    for (i = 0; ids && i < p->n_scenarios; i++)
        ids[i] = p->scenarios[i].id.id;
    hint = ids ? gl_suggest(id, ids, p->n_scenarios) : NULL;
    rc = gl_err_set(err, GL_ENOTFOUND, "no scenario '%s' in the plan%s%s%s", id,
                    hint ? "; did you mean '" : "", hint ? hint : "",
                    hint ? "'?" : "");
    free(ids);
    return rc;
}

/* Whether who may record result on scenario id now: every check of
 * gl_scenario_result, reading only, inside the caller's transaction (the
 * store's row, when there is one, as it is; a move checks it against its
 * events first).  GL_EDENIED for a non-tester, GL_EREFUSED for a result
 * given already. */
static int result_decide(gl_store *s, const struct gl_plan *p,
                         const char *person, const char *id, const char *result,
                         struct gl_err *err)
{
    struct gl_scenario_now now;
    char at[40];
    int rc;

    if (!is_tester(p, person))
        return refuse_non_tester(p, person, err);
    if ((rc = gl_store_scenario_now(s, id, &now, err)))
        return rc;
    /* a scenario someone is running is theirs to record (a handover
     * gives it to another); the lead may record any */
    if (now.found &&
        !strcmp(now.state, gl_transition_to(gl_scenario_moves, "take")) &&
        strcmp(now.by, person) && !gl_run_has_role(p, person, GL_ROLE_LEAD)) {
        gl_time_format(now.at, p->switch_offset, at);
        return gl_err_set(err, GL_EDENIED,
                          "scenario '%s' is being run by %s (since %.5s): %s "
                          "records its result, or hands it over ('golive "
                          "handover')",
                          id, now.by, at + 11, now.by);
    }
    /* the same result again records nothing (a re-run after another
     * result is a new one) */
    if (now.found && !strcmp(now.state, result)) {
        gl_time_format(now.at, p->switch_offset, at);
        return gl_err_set(err, GL_EREFUSED,
                          "scenario '%s' is %s already (recorded by %s at "
                          "%.5s)",
                          id, result, now.by, at + 11);
    }
    return GL_OK;
}

static int scenario_find(const struct gl_plan *p, const char *id,
                         struct gl_err *err)
{
    size_t i;

    for (i = 0; i < p->n_scenarios; i++)
        if (!strcmp(p->scenarios[i].id.id, id))
            return GL_OK;
    return no_scenario(p, id, err);
}

int gl_scenario_result(gl_store *s, const struct gl_plan *p,
                       const struct gl_actor *who, const char *id,
                       const char *result, const char *note, struct gl_err *err)
{
    char kind[32];
    int rc;

    if ((rc = scenario_find(p, id, err)))
        return rc;
    if (!is_tester(p, who->person))
        return refuse_non_tester(p, who->person, err);
    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_scenario_rows(s, p, err)) ||
        (rc = gl_audit_check_row(s, "scenarios", id, err)) ||
        (rc = result_decide(s, p, who->person, id, result, err)))
        goto fail;
    /* the move whose to state is the result names the event */
    {
        const struct gl_transition *t = gl_scenario_moves;
        while (t->action && strcmp(t->to, result))
            t++;
        snprintf(kind, sizeof(kind), "scenario.%s",
                 t->action ? t->action : "block");
    }
    if ((rc = update(s, who, id, kind, result, note, 0, err)))
        goto fail;
    return gl_store_commit(s, err);
fail:
    gl_store_rollback(s);
    return rc;
}

int gl_scenario_actions(gl_store *s, const struct gl_plan *p,
                        const char *person, const char *id, json_t **out,
                        struct gl_err *err)
{
    const struct gl_transition *t;
    json_t *list = NULL;
    struct gl_err e;
    int rc;

    *out = NULL;
    if ((rc = scenario_find(p, id, err)))
        return rc;
    if (!(list = json_array()))
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    if ((rc = gl_store_begin_read(s, err)))
        goto out;
    /* a result is any move of the table but "take" (gl_scenario_next) */
    for (t = gl_scenario_moves; t->action; t++) {
        if (t->from)
            continue;
        gl_err_clear(&e);
        rc = result_decide(s, p, person, id, t->to, &e);
        if ((rc = gl_action_add(list, t->action, rc, &e)))
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

int gl_scenario_list(gl_store *s, const struct gl_plan *p, json_t **out,
                     struct gl_err *err)
{
    static const char *const prio[] = {"P0", "P1", "P2", "P3"};
    json_t *rows, *list;
    size_t i;
    int rc = GL_OK;

    *out = NULL;
    if (!(rows = gl_store_scenario_list(s, err)))
        return err ? err->code : GL_ESTORE;
    if (!(list = json_array())) {
        json_decref(rows);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    for (i = 0; i < p->n_scenarios; i++) {
        const struct gl_scenario *sc = &p->scenarios[i];
        json_t *row = json_object_get(rows, sc->id.id), *o;
        /* a scenario nobody touched yet has no row: pending, the plan's */
        o = json_pack(
            "{s:s, s:s?, s:s?, s:s, s:I, s:s?, s:s, s:n, s:n, s:n,"
            " s:n}",
            "id", sc->id.id, "title", sc->title, "area", sc->area, "priority",
            prio[sc->priority >= 0 && sc->priority < 4 ? sc->priority : 3],
            "risk", (json_int_t)sc->risk, "assignee", sc->assignee.id, "state",
            "pending", "taken_by", "result_by", "note", "at");
        if (!o || json_array_append_new(list, o)) {
            rc = gl_err_set(err, GL_ENOMEM, "out of memory");
            break;
        }
        if (row)
            json_object_update(o, row);
    }
    json_decref(rows);
    if (rc)
        json_decref(list);
    else
        *out = list;
    return rc;
}

char *gl_scenario_progress(gl_store *s, const struct gl_plan *p,
                           struct gl_err *err)
{
    json_t *o = NULL;
    char *out = NULL;

    if (gl_store_begin(s, err))
        return NULL;
    if (gl_scenario_rows(s, p, err) || gl_store_commit(s, err)) {
        gl_store_rollback(s);
        return NULL;
    }
    if ((o = gl_store_scenario_counts(s, err)) &&
        !(out = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS)))
        gl_err_set(err, GL_ENOMEM, "out of memory");
    json_decref(o);
    return out;
}
