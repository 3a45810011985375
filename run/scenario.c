/*
 * scenario.c - the verification list (see golive/scenario.h).  Rows of
 * the store's scenarios table are made from the run's plan the first time
 * they are needed; every change is an event in the same transaction.
 */
#include "golive/scenario.h"
#include "golive/audit.h"

#include "common.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/suggest.h"

/* Make the scenario rows of the plan (inside the caller's transaction). */
int gl_scenario_rows(gl_store *s, const struct gl_plan *p, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    int rc = GL_OK;

    if (sqlite3_prepare_v2(gl_store_db(s),
                           "INSERT OR IGNORE INTO scenarios (id, area,"
                           " priority, risk, assignee) VALUES (?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    for (i = 0; i < p->n_scenarios && !rc; i++) {
        const struct gl_scenario *sc = &p->scenarios[i];
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, sc->id.id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, sc->area, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, sc->priority);
        sqlite3_bind_int64(st, 4, sc->risk);
        sqlite3_bind_text(st, 5, sc->assignee.id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = gl_run_fail_db(s, err);
    }
    sqlite3_finalize(st);
    return rc;
}

static int is_tester(const struct gl_plan *p, const char *person)
{
    return gl_run_has_role(p, person, GL_ROLE_TESTER);
}

static int refuse_non_tester(const struct gl_plan *p, const char *who,
                             struct gl_err *err)
{
    char names[256];

    return gl_err_set(
        err, GL_EREFUSED, "%s is not a tester; testers run scenarios (%s)", who,
        gl_run_names_with(p, GL_ROLE_TESTER, names, sizeof(names)));
}

static int update(gl_store *s, const struct gl_actor *who, const char *id,
                  const char *kind, const char *state, const char *note,
                  int taking, struct gl_err *err)
{
    json_t *pl = json_pack("{s:s, s:s, s:s?}", "scenario", id, "state", state,
                           "note", note);
    char *text = pl ? json_dumps(pl, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    sqlite3_stmt *st = NULL;
    int64_t seq = 0;
    int rc;

    json_decref(pl);
    if (!text)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    rc = gl_store_event(s, who, kind, text, &seq, err);
    free(text);
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(gl_store_db(s),
                           taking ? "UPDATE scenarios SET state = ?1,"
                                    " taken_by = ?2, event_seq = ?3"
                                    " WHERE id = ?4"
                                  : "UPDATE scenarios SET state = ?1,"
                                    " result_by = ?2, event_seq = ?3,"
                                    " note = ?5 WHERE id = ?4",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, who->person, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, seq);
    sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
    if (!taking)
        sqlite3_bind_text(st, 5, note, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    return rc;
}

int gl_scenario_next(gl_store *s, const struct gl_plan *p,
                     const struct gl_actor *who, char *id, size_t n,
                     int64_t *since, struct gl_err *err)
{
    struct gl_scenario_now held;
    sqlite3_stmt *st = NULL;
    int rc, step;

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
    if (sqlite3_prepare_v2(
            gl_store_db(s),
            "SELECT id FROM scenarios WHERE state = 'pending' AND"
            " (assignee IS NULL OR assignee = ?1) ORDER BY risk DESC,"
            " priority, id LIMIT 1",
            -1, &st, NULL) != SQLITE_OK) {
        rc = gl_run_fail_db(s, err);
        goto fail;
    }
    sqlite3_bind_text(st, 1, who->person, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        snprintf(id, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (step == SQLITE_DONE) {
        rc = gl_err_set(err, GL_ENOTFOUND, "every scenario has been taken");
        goto fail;
    }
    if (step != SQLITE_ROW) {
        rc = gl_run_fail_db(s, err);
        goto fail;
    }
    /* the row chosen (its state, its assignee) must be what its events
     * made before it is handed out */
    if ((rc = gl_audit_check_row(s, "scenarios", id, err)) ||
        (rc = update(s, who, id, "scenario.take", "running", NULL, 1, err)))
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

int gl_scenario_result(gl_store *s, const struct gl_plan *p,
                       const struct gl_actor *who, const char *id,
                       const char *result, const char *note, struct gl_err *err)
{
    struct gl_scenario_now now;
    char kind[32], at[40];
    size_t i;
    int rc;

    for (i = 0; i < p->n_scenarios; i++)
        if (!strcmp(p->scenarios[i].id.id, id))
            break;
    if (i == p->n_scenarios)
        return no_scenario(p, id, err);
    if (!is_tester(p, who->person))
        return refuse_non_tester(p, who->person, err);
    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_scenario_rows(s, p, err)) ||
        (rc = gl_audit_check_row(s, "scenarios", id, err)) ||
        (rc = gl_store_scenario_now(s, id, &now, err)))
        goto fail;
    /* the same result again records nothing (a re-run after another
     * result is a new one) */
    if (now.found && !strcmp(now.state, result)) {
        gl_time_format(now.at, p->switch_offset, at);
        rc = gl_err_set(err, GL_EREFUSED,
                        "scenario '%s' is %s already (recorded by %s at "
                        "%.5s)",
                        id, result, now.by, at + 11);
        goto fail;
    }
    snprintf(kind, sizeof(kind), "scenario.%s",
             !strcmp(result, "passed")   ? "pass"
             : !strcmp(result, "failed") ? "fail"
                                         : "block");
    if ((rc = update(s, who, id, kind, result, note, 0, err)))
        goto fail;
    return gl_store_commit(s, err);
fail:
    gl_store_rollback(s);
    return rc;
}

char *gl_scenario_progress(gl_store *s, const struct gl_plan *p,
                           struct gl_err *err)
{
    static const char *const groups[] = {"COALESCE(result_by, taken_by,"
                                         " assignee, '(nobody)')",
                                         "COALESCE(area, '(none)')"};
    static const char *const names[] = {"testers", "areas"};
    json_t *o = json_object();
    char *out = NULL;
    int g;

    if (gl_store_begin(s, err))
        goto done;
    if (gl_scenario_rows(s, p, err) || gl_store_commit(s, err)) {
        gl_store_rollback(s);
        goto done;
    }
    for (g = 0; g < 2; g++) {
        json_t *m = json_object();
        sqlite3_stmt *st = NULL;
        char sql[256];
        snprintf(sql, sizeof(sql),
                 "SELECT %s, state, count(*) FROM scenarios GROUP BY 1, 2",
                 groups[g]);
        if (sqlite3_prepare_v2(gl_store_db(s), sql, -1, &st, NULL) !=
            SQLITE_OK) {
            json_decref(m);
            gl_run_fail_db(s, err);
            goto done;
        }
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *k = (const char *)sqlite3_column_text(st, 0);
            const char *state = (const char *)sqlite3_column_text(st, 1);
            json_t *e = json_object_get(m, k);
            if (!e) {
                e = json_object();
                json_object_set_new(m, k, e);
            }
            json_object_set_new(e, state,
                                json_integer(sqlite3_column_int64(st, 2)));
        }
        sqlite3_finalize(st);
        json_object_set_new(o, names[g], m);
    }
    out = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
done:
    json_decref(o);
    return out;
}
