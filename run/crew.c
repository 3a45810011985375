/*
 * crew.c - shift and handover (see golive/crew.h).
 */
#include "golive/crew.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "store-rows.h"
#include "golive/audit.h"
#include "golive/gate.h"
#include "golive/scenario.h"
#include "util/buf.h"
#include "util/clock.h"

int gl_shift(gl_store *s, const struct gl_plan *p, const struct gl_actor *who,
             int64_t new_switch, const char *note, struct gl_err *err)
{
    struct gl_run_info info;
    char leads[256], from[40], to[40], delta[32];
    int rc;

    if (!gl_run_has_role(p, who->person, GL_ROLE_LEAD))
        return gl_err_set(
            err, GL_EDENIED, "only the lead moves the switch (%s)",
            gl_run_names_with(p, GL_ROLE_LEAD, leads, sizeof(leads)));
    memset(&info, 0, sizeof(info));
    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_store_run_info(s, &info, err)))
        goto fail;
    {
        /* T0 is when the switch is planned; once it happened (a task of
         * the release stage started) or the run is rolling back, moving
         * it would rewrite the night's record, not its plan */
        int started = gl_rollback_started(s);
        size_t i;
        if (started < 0) {
            rc = gl_run_fail_db(s, err);
            goto fail;
        }
        if (started) {
            rc = gl_err_set(err, GL_EREFUSED,
                            "the run is rolling back; the switch does not "
                            "move any more");
            goto fail;
        }
        for (i = 0; i < p->n_tasks; i++) {
            if (p->tasks[i].stage != GL_STAGE_RELEASE)
                continue;
            if ((rc = gl_store_task_ever_started(s, p->tasks[i].id.id, &started,
                                                 err)))
                goto fail;
            if (started) {
                rc = gl_err_set(err, GL_EREFUSED,
                                "the switch happened (task '%s' of the "
                                "release stage started); T0 does not move "
                                "any more",
                                p->tasks[i].id.id);
                goto fail;
            }
        }
    }
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
    if ((rc = gl_store_run_set_switch(s, new_switch, err)))
        goto fail;
    gl_run_info_release(&info);
    return gl_store_commit(s, err);
fail:
    gl_run_info_release(&info);
    gl_store_rollback(s);
    return rc;
}

static void refuse(json_t *refused, const char *kind, const char *id,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void refuse(json_t *refused, const char *kind, const char *id,
                   const char *fmt, ...)
{
    char why[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    json_array_append_new(refused, json_pack("{s:s, s:s, s:s}", "kind", kind,
                                             "id", id, "why", why));
}

static int has(json_t *arr, const char *id)
{
    json_t *x;
    size_t i;

    json_array_foreach(arr, i, x)
    {
        if (!strcmp(json_string_value(x), id))
            return 1;
    }
    return 0;
}

/* The people with role, but me (who hands over cannot take it back). */
static const char *names_but(const struct gl_plan *p, unsigned role,
                             const char *me, char *buf, size_t n)
{
    size_t i, o = 0;

    buf[0] = '\0';
    for (i = 0; i < p->n_people && o < n; i++)
        if (p->people[i].roles & role && strcmp(p->people[i].id.id, me))
            o += (size_t)snprintf(buf + o, n - o, "%s%s", o ? ", " : "",
                                  p->people[i].id.id);
    if (!buf[0])
        snprintf(buf, n, "nobody else has the role");
    return buf;
}

int gl_handover(gl_store *s, const struct gl_plan *p,
                const struct gl_actor *who, const char *to,
                const struct gl_handover_pick *pick, const char *note,
                json_t **moved, struct gl_err *err)
{
    const char *me = who->person;
    json_t *tasks = json_array(), *checks = json_array(), *scen = json_array(),
           *defects = json_array(), *refused = json_array(),
           *cand_t = json_array(), *cand_s = json_array(),
           *cand_d = json_array(), *x;
    char names[256], col[3][256];
    int rc, found,
        all =
            !pick || (!pick->n_tasks && !pick->n_scenarios && !pick->n_defects);
    size_t i;

    *moved = NULL;
    if (!gl_plan_person(p, to)) {
        rc =
            gl_err_set(err, GL_EDENIED, "'%s' is not a person of the plan", to);
        goto out;
    }
    if (!strcmp(to, me)) {
        rc =
            gl_err_set(err, GL_EUSAGE, "%s cannot hand over to themselves", me);
        goto out;
    }
    for (i = 0; !all && i < pick->n_tasks; i++)
        if (!gl_plan_task(p, pick->tasks[i])) {
            rc = gl_err_set(err, GL_ENOTFOUND, "no task '%s' in the plan",
                            pick->tasks[i]);
            goto out;
        }
    for (i = 0; !all && i < pick->n_scenarios; i++) {
        size_t k;
        for (k = 0; k < p->n_scenarios; k++)
            if (!strcmp(p->scenarios[k].id.id, pick->scenarios[i]))
                break;
        if (k == p->n_scenarios) {
            rc = gl_err_set(err, GL_ENOTFOUND, "no scenario '%s' in the plan",
                            pick->scenarios[i]);
            goto out;
        }
    }
    if ((rc = gl_store_begin(s, err)))
        goto out;
    if ((rc = gl_scenario_rows(s, p, err)))
        goto fail;

    /* the candidates: all of P's open work, or what was named */
    if (all) {
        if ((rc = gl_store_held_work(s, me, cand_t, cand_s, cand_d, err)))
            goto fail;
    } else {
        for (i = 0; i < pick->n_tasks; i++)
            if (!has(cand_t, pick->tasks[i]))
                json_array_append_new(cand_t, json_string(pick->tasks[i]));
        for (i = 0; i < pick->n_scenarios; i++)
            if (!has(cand_s, pick->scenarios[i]))
                json_array_append_new(cand_s, json_string(pick->scenarios[i]));
        for (i = 0; i < pick->n_defects; i++) {
            char id[32];
            snprintf(id, sizeof(id), "D-%lld", (long long)pick->defects[i]);
            if (!has(cand_d, id))
                json_array_append_new(cand_d, json_string(id));
        }
    }

    /* each item: P's to give, and Q's to take? */
    json_array_foreach(cand_t, i, x)
    {
        const char *id = json_string_value(x);
        int owns, checks_it;
        if ((rc = gl_audit_check_row(s, "tasks", id, err)) ||
            (rc = gl_store_held_row(s, GL_HELD_TASK, id, col, &found, err)))
            goto fail;
        owns = found && !strcmp(col[0], me) &&
               (!strcmp(col[2], "pending") || !strcmp(col[2], "running") ||
                !strcmp(col[2], "failed"));
        checks_it = found && !strcmp(col[1], me) && strcmp(col[2], "checked") &&
                    strcmp(col[2], "skipped");
        if (!owns && !checks_it)
            refuse(refused, "task", id,
                   "%s does not hold task '%s' (%s: owner %s, checker %s)", me,
                   id, found ? col[2] : "not in the run",
                   found && col[0][0] ? col[0] : "-",
                   found && col[1][0] ? col[1] : "-");
        else if (owns && !strcmp(col[1], to))
            refuse(refused, "task", id,
                   "%s checks task '%s' and cannot also do it", to, id);
        else if (checks_it && !strcmp(col[0], to))
            refuse(refused, "task", id,
                   "%s does task '%s' and cannot also check it", to, id);
        else
            json_array_append(owns ? tasks : checks, x);
    }
    json_array_foreach(cand_s, i, x)
    {
        const char *id = json_string_value(x);
        if ((rc = gl_audit_check_row(s, "scenarios", id, err)) ||
            (rc = gl_store_held_row(s, GL_HELD_SCENARIO, id, col, &found, err)))
            goto fail;
        if (!found || !((!strcmp(col[0], "running") && !strcmp(col[1], me)) ||
                        (!strcmp(col[0], "pending") && !strcmp(col[2], me))))
            refuse(refused, "scenario", id,
                   "scenario %s is not in %s's hands (%s)", id, me,
                   found ? col[0] : "not in the run");
        else if (!gl_run_has_role(p, to, GL_ROLE_TESTER))
            refuse(refused, "scenario", id,
                   "%s is not a tester and cannot take scenario %s "
                   "(testers: %s)",
                   to, id,
                   names_but(p, GL_ROLE_TESTER, me, names, sizeof(names)));
        else
            json_array_append(scen, x);
    }
    json_array_foreach(cand_d, i, x)
    {
        const char *id = json_string_value(x);
        if ((rc = gl_audit_check_row(s, "defects", id + 2, err)) ||
            (rc = gl_store_held_row(s, GL_HELD_DEFECT, id, col, &found, err)))
            goto fail;
        if (!found) {
            rc = gl_err_set(err, GL_ENOTFOUND, "no defect %s", id);
            goto fail;
        }
        if (strcmp(col[0], "fixing") || strcmp(col[1], me))
            refuse(refused, "defect", id, "%s is not fixing %s (%s)", me, id,
                   col[0]);
        else if (!gl_run_has_role(p, to, GL_ROLE_DEV))
            refuse(refused, "defect", id,
                   "%s is not a dev and cannot take over fixing %s "
                   "(devs: %s)",
                   to, id, names_but(p, GL_ROLE_DEV, me, names, sizeof(names)));
        else
            json_array_append(defects, x);
    }

    if (!json_array_size(tasks) && !json_array_size(checks) &&
        !json_array_size(scen) && !json_array_size(defects)) {
        struct gl_buf b = GL_BUF_INIT;
        if (!json_array_size(refused)) {
            rc = gl_err_set(err, GL_ENOTFOUND,
                            "%s holds no open work to hand over", me);
            goto fail;
        }
        json_array_foreach(refused, i, x)
            gl_buf_addf(&b, "%s%s", i ? "; " : "",
                        json_string_value(json_object_get(x, "why")));
        if (!(rc = gl_buf_check(&b, "the reasons", err)))
            rc = gl_err_set(err, GL_EDENIED, "nothing handed over to %s: %s",
                            to, gl_buf_str(&b));
        gl_buf_release(&b);
        goto fail;
    }
    if ((rc = gl_run_event(s, who, "handover",
                           json_pack("{s:s, s:s, s:s?, s:b, s:O, s:O, s:O, s:O,"
                                     " s:O}",
                                     "from", me, "to", to, "note", note, "all",
                                     all, "tasks", tasks, "checks", checks,
                                     "scenarios", scen, "defects", defects,
                                     "refused", refused),
                           NULL, err)))
        goto fail;
    {
        static const enum gl_store_handover what[4] = {
            GL_HAND_TASK_OWNER, GL_HAND_TASK_CHECKER, GL_HAND_SCENARIO,
            GL_HAND_DEFECT};
        json_t *lists[4] = {tasks, checks, scen, defects};
        int k;
        for (k = 0; k < 4; k++) {
            json_array_foreach(lists[k], i, x)
            {
                if ((rc = gl_store_handover_move(s, what[k], me, to,
                                                 json_string_value(x), err)))
                    goto fail;
            }
        }
    }
    if ((rc = gl_store_commit(s, err)))
        goto out;
    *moved =
        json_pack("{s:O, s:O, s:O, s:O, s:O}", "tasks", tasks, "checks", checks,
                  "scenarios", scen, "defects", defects, "refused", refused);
    goto out;
fail:
    gl_store_rollback(s);
out:
    json_decref(tasks);
    json_decref(checks);
    json_decref(scen);
    json_decref(defects);
    json_decref(refused);
    json_decref(cand_t);
    json_decref(cand_s);
    json_decref(cand_d);
    return rc;
}
