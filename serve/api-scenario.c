/*
 * api-scenario.c - the verification list over HTTP: the scenarios as they
 * stand, each with the results the caller may record now (actions), the
 * next one for a tester, and a result: gl_scenario_next and
 * gl_scenario_result, the CLI's calls, the same events.
 */
#include <stdlib.h>
#include <string.h>

#include "golive/scenario.h"
#include "serve/serve.h"
#include "serve/work.h"
#include "util/clock.h"

/* The scenarios (all, or only the one id) with their actions for q's
 * person; GL_ENOTFOUND for an unknown only. */
static int scenarios_json(struct sv_req *q, const char *only, json_t **out,
                          struct gl_err *err)
{
    json_t *all = NULL, *list = NULL, *x, *acts;
    size_t i;
    int rc;

    *out = NULL;
    if ((rc = gl_scenario_list(q->s, q->plan, &all, err)))
        return rc;
    if (!(list = json_array())) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto out;
    }
    json_array_foreach(all, i, x)
    {
        const char *id = json_string_value(json_object_get(x, "id"));
        if (only && strcmp(id, only))
            continue;
        if ((rc = gl_scenario_actions(q->s, q->plan, q->who.person, id, &acts,
                                      err)))
            goto out;
        json_object_set_new(x, "actions", sv_actions_for(q, acts));
        json_array_append(list, x);
    }
    if (only && !json_array_size(list)) {
        rc =
            gl_err_set(err, GL_ENOTFOUND, "no scenario '%s' in the plan", only);
        goto out;
    }
    *out = list;
    list = NULL;
out:
    json_decref(list);
    json_decref(all);
    return rc;
}

/* One scenario's object (a new reference), or NULL with r filled. */
static json_t *one(struct sv_req *q, struct sv_resp *r, const char *id)
{
    struct gl_err err;
    json_t *list, *o;

    gl_err_clear(&err);
    if (scenarios_json(q, id, &list, &err)) {
        sv_fail(r, &err);
        return NULL;
    }
    o = json_incref(json_array_get(list, 0));
    json_decref(list);
    return o;
}

/* GET /scenarios?view=progress: `golive scenario progress --json`
 * ({testers: {NAME: {STATE: N}}, areas: {AREA: {STATE: N}}}). */
static void scenarios_progress(struct sv_req *q, struct sv_resp *r)
{
    struct gl_err err;
    json_t *o;
    char *js;

    gl_err_clear(&err);
    if (!(js = gl_scenario_progress(q->s, q->plan, &err))) {
        sv_fail(r, &err);
        return;
    }
    o = json_loads(js, 0, NULL);
    free(js);
    if (!o) {
        sv_error(r, 500, "internal", "the scenario progress is not JSON");
        return;
    }
    sv_json(r, 200, o);
}

static void scenarios_get(struct sv_req *q, struct sv_resp *r)
{
    const char *view = sv_query(q, "view");
    struct gl_err err;
    json_t *list;

    if (view && !strcmp(view, "progress")) {
        scenarios_progress(q, r);
        return;
    }
    gl_err_clear(&err);
    if (scenarios_json(q, NULL, &list, &err))
        sv_fail(r, &err);
    else
        sv_json(r, 200, json_pack("{s:o}", "scenarios", list));
}

static void scenario_get(struct sv_req *q, struct sv_resp *r)
{
    json_t *o = one(q, r, q->arg[0]);

    if (o)
        sv_json(r, 200, o);
}

/* The riskiest scenario for the caller (a tester): {"scenario": object,
 * "tester", "since": null}, or the one they hold already with "since"
 * when they took it; {"scenario": null, "message"} when none is left
 * (the CLI's answer no). */
static void scenario_next(struct sv_req *q, struct sv_resp *r)
{
    static const char *const fields[] = {NULL};
    struct gl_err err;
    char id[256], at[40];
    int64_t since = 0;
    json_t *o;

    if (!sv_fields_only(q, r, fields))
        return;
    gl_err_clear(&err);
    if (gl_scenario_next(q->s, q->plan, &q->actor, id, sizeof(id), &since,
                         &err)) {
        if (err.code == GL_ENOTFOUND)
            sv_json(r, 200,
                    json_pack("{s:n, s:s, s:s}", "scenario", "tester",
                              q->who.person, "message", err.msg));
        else
            sv_fail(r, &err);
        return;
    }
    if (!(o = one(q, r, id)))
        return;
    gl_time_format(since, q->info->switch_offset, at);
    sv_json(r, 200,
            json_pack("{s:o, s:s, s:s?}", "scenario", o, "tester",
                      q->who.person, "since", since ? at : NULL));
}

static void scenario_result(struct sv_req *q, struct sv_resp *r)
{
    static const char *const fields[] = {"note", NULL};
    const char *action = strrchr(q->path, '/') + 1, *note;
    const char *result = !strcmp(action, "pass")   ? "passed"
                         : !strcmp(action, "fail") ? "failed"
                                                   : "blocked";
    struct gl_err err;
    json_t *o;

    if (!sv_fields_only(q, r, fields) || !sv_field_str(q, r, "note", 0, &note))
        return;
    gl_err_clear(&err);
    if (gl_scenario_result(q->s, q->plan, &q->actor, q->arg[0], result, note,
                           &err)) {
        sv_fail(r, &err);
        return;
    }
    if ((o = one(q, r, q->arg[0])))
        sv_json(r, 200, o);
}

const struct sv_route sv_routes_scenario[] = {
    {"GET", "/scenarios", scenarios_get, 0},
    {"GET", "/scenarios/{id}", scenario_get, 0},
    {"POST", "/scenarios/next", scenario_next, SV_CHANGE},
    {"POST", "/scenarios/{id}/pass", scenario_result, SV_CHANGE},
    {"POST", "/scenarios/{id}/fail", scenario_result, SV_CHANGE},
    {"POST", "/scenarios/{id}/block", scenario_result, SV_CHANGE},
    {NULL, NULL, NULL, 0},
};
