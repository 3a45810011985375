/*
 * crew.c - shift and handover (see golive/crew.h).
 */
#include "golive/crew.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "golive/scenario.h"
#include "util/clock.h"

int gl_shift(gl_store *s, const struct gl_plan *p, const struct gl_actor *who,
             int64_t new_switch, const char *note, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    struct gl_run_info info;
    char leads[256], from[40], to[40], delta[32];
    int rc;

    if (!gl_run_has_role(p, who->person, GL_ROLE_LEAD))
        return gl_err_set(
            err, GL_EREFUSED, "only the lead moves the switch (%s)",
            gl_run_names_with(p, GL_ROLE_LEAD, leads, sizeof(leads)));
    memset(&info, 0, sizeof(info));
    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_store_run_info(s, &info, err)))
        goto fail;
    if (new_switch == info.switch_at) {
        rc = gl_err_set(err, GL_EUSAGE, "the switch is at that time already");
        goto fail;
    }
    gl_time_format(info.switch_at, info.switch_offset, from);
    gl_time_format(new_switch, info.switch_offset, to);
    gl_reltime_format(new_switch - info.switch_at, delta);
    if ((rc = gl_run_event(s, who, "shift",
                           json_pack("{s:s, s:s, s:I, s:s, s:s?}", "from", from,
                                     "to", to, "seconds",
                                     (json_int_t)(new_switch - info.switch_at),
                                     "by", delta + 1, "note", note),
                           NULL, err)))
        goto fail;
    if (sqlite3_prepare_v2(gl_store_db(s), "UPDATE run SET switch_at = ?", -1,
                           &st, NULL) != SQLITE_OK) {
        rc = gl_run_fail_db(s, err);
        goto fail;
    }
    sqlite3_bind_int64(st, 1, new_switch);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    if (rc)
        goto fail;
    gl_run_info_release(&info);
    return gl_store_commit(s, err);
fail:
    gl_run_info_release(&info);
    gl_store_rollback(s);
    return rc;
}

/* The ids a query with one parameter (the person) returns, into arr. */
static int ids_of(gl_store *s, const char *sql, const char *person, json_t *arr,
                  struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (sqlite3_prepare_v2(gl_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, person, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(
            arr, json_string((const char *)sqlite3_column_text(st, 0)));
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
}

static int exec2(gl_store *s, const char *sql, const char *a, const char *b,
                 struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(gl_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    return rc;
}

/* Whose work moves: the conditions on each table (?1 = who). */
#define OWNED " WHERE owner = ?1 AND state IN ('pending', 'running', 'failed')"
#define CHECKING " WHERE checker = ?1 AND state NOT IN ('checked', 'skipped')"
#define SCENARIOS                                                              \
    " WHERE (state = 'running' AND taken_by = ?1) OR"                          \
    " (state = 'pending' AND assignee = ?1)"
#define FIXING " WHERE state = 'fixing' AND fixer = ?1"

int gl_handover(gl_store *s, const struct gl_plan *p,
                const struct gl_actor *who, const char *to, const char *note,
                json_t **moved, struct gl_err *err)
{
    const char *me = who->person;
    json_t *tasks = json_array(), *checks = json_array(), *scen = json_array(),
           *defects = json_array(), *clash = json_array();
    char names[256];
    int rc;

    *moved = NULL;
    if (!gl_plan_person(p, to)) {
        rc = gl_err_set(err, GL_EREFUSED, "'%s' is not a person of the plan",
                        to);
        goto out;
    }
    if (!strcmp(to, me)) {
        rc =
            gl_err_set(err, GL_EUSAGE, "%s cannot hand over to themselves", me);
        goto out;
    }
    if ((rc = gl_store_begin(s, err)))
        goto out;
    if ((rc = gl_scenario_rows(s, p, err)) ||
        (rc = ids_of(s, "SELECT id FROM tasks" OWNED " ORDER BY id", me, tasks,
                     err)) ||
        (rc = ids_of(s, "SELECT id FROM tasks" CHECKING " ORDER BY id", me,
                     checks, err)) ||
        (rc = ids_of(s, "SELECT id FROM scenarios" SCENARIOS " ORDER BY id", me,
                     scen, err)) ||
        (rc = ids_of(s, "SELECT 'D-' || n FROM defects" FIXING " ORDER BY n",
                     me, defects, err)))
        goto fail;
    /* nobody checks their own task, fixes without being a dev, runs
     * scenarios without being a tester */
    {
        sqlite3_stmt *st = NULL;
        int step;
        if (sqlite3_prepare_v2(gl_store_db(s),
                               "SELECT id FROM tasks WHERE (owner = ?1 AND"
                               " checker = ?2 AND state IN ('pending',"
                               " 'running', 'failed')) OR (checker = ?1 AND"
                               " owner = ?2 AND state NOT IN ('checked',"
                               " 'skipped')) ORDER BY id",
                               -1, &st, NULL) != SQLITE_OK) {
            rc = gl_run_fail_db(s, err);
            goto fail;
        }
        sqlite3_bind_text(st, 1, me, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
        while ((step = sqlite3_step(st)) == SQLITE_ROW)
            json_array_append_new(
                clash, json_string((const char *)sqlite3_column_text(st, 0)));
        sqlite3_finalize(st);
        if (step != SQLITE_DONE) {
            rc = gl_run_fail_db(s, err);
            goto fail;
        }
    }
    if (json_array_size(clash)) {
        rc = gl_err_set(err, GL_EREFUSED,
                        "%s would both do and check task '%s'; hand over to "
                        "someone else, or the lead changes the plan",
                        to, json_string_value(json_array_get(clash, 0)));
        goto fail;
    }
    if (json_array_size(scen) && !gl_run_has_role(p, to, GL_ROLE_TESTER)) {
        rc = gl_err_set(
            err, GL_EREFUSED,
            "%s is not a tester and cannot take scenario %s; "
            "testers: %s",
            to, json_string_value(json_array_get(scen, 0)),
            gl_run_names_with(p, GL_ROLE_TESTER, names, sizeof(names)));
        goto fail;
    }
    if (json_array_size(defects) && !gl_run_has_role(p, to, GL_ROLE_DEV)) {
        rc =
            gl_err_set(err, GL_EREFUSED,
                       "%s is not a dev and cannot take over fixing %s; "
                       "devs: %s",
                       to, json_string_value(json_array_get(defects, 0)),
                       gl_run_names_with(p, GL_ROLE_DEV, names, sizeof(names)));
        goto fail;
    }
    if (!json_array_size(tasks) && !json_array_size(checks) &&
        !json_array_size(scen) && !json_array_size(defects)) {
        rc = gl_err_set(err, GL_ENOTFOUND, "%s holds no open work to hand over",
                        me);
        goto fail;
    }
    if ((rc = gl_run_event(s, who, "handover",
                           json_pack("{s:s, s:s, s:s?, s:O, s:O, s:O, s:O}",
                                     "from", me, "to", to, "note", note,
                                     "tasks", tasks, "checks", checks,
                                     "scenarios", scen, "defects", defects),
                           NULL, err)) ||
        (rc = exec2(s, "UPDATE tasks SET owner = ?2" OWNED, me, to, err)) ||
        (rc =
             exec2(s, "UPDATE tasks SET checker = ?2" CHECKING, me, to, err)) ||
        (rc = exec2(s,
                    "UPDATE scenarios SET taken_by = ?2 WHERE state ="
                    " 'running' AND taken_by = ?1",
                    me, to, err)) ||
        (rc = exec2(s,
                    "UPDATE scenarios SET assignee = ?2 WHERE state ="
                    " 'pending' AND assignee = ?1",
                    me, to, err)) ||
        (rc = exec2(s, "UPDATE defects SET fixer = ?2" FIXING, me, to, err)))
        goto fail;
    if ((rc = gl_store_commit(s, err)))
        goto out;
    *moved = json_pack("{s:O, s:O, s:O, s:O}", "tasks", tasks, "checks", checks,
                       "scenarios", scen, "defects", defects);
    goto out;
fail:
    gl_store_rollback(s);
out:
    json_decref(tasks);
    json_decref(checks);
    json_decref(scen);
    json_decref(defects);
    json_decref(clash);
    return rc;
}
