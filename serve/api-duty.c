/*
 * api-duty.c - hypercare over HTTP (#13.3): the duty log (list, log an
 * entry, turn one into a defect, plan one into a patch) and the patch
 * plan.  The library calls of `golive duty` and `golive patch plan`, the
 * token's person as the actor; every entry answered carries its
 * `actions`, from the library's dry run (gl_duty_may).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golive/duty.h"
#include "serve/serve.h"
#include "util/clock.h"

/* Entry x's time at the plan's offset (the store keeps UTC). */
static void local_at(struct sv_req *q, json_t *x)
{
    int64_t at;
    char t[40];

    if (!gl_time_parse(json_string_value(json_object_get(x, "at")), &at,
                       NULL)) {
        gl_time_format(at, q->info->switch_offset, t);
        json_object_set_new(x, "at", json_string(t));
    }
}

/* The duty log as `golive duty list --json` gives it, times at the plan's
 * offset.  0 with r filled on failure. */
static int duty_list(struct sv_req *q, struct sv_resp *r, json_t **list)
{
    struct gl_err err;
    json_t *x;
    size_t i;

    gl_err_clear(&err);
    if (gl_duty_list(q->s, list, &err)) {
        sv_fail(r, &err);
        return 0;
    }
    json_array_foreach(*list, i, x)
    {
        local_at(q, x);
    }
    return 1;
}

/* The actions of entry o (an object of gl_duty_list) for who asks, or
 * NULL with r filled. */
static json_t *entry_actions(struct sv_req *q, struct sv_resp *r, json_t *o)
{
    struct gl_duty_state e;
    struct gl_err err;
    json_t *acts = NULL;
    const char *def;

    e.n = (int64_t)json_integer_value(json_object_get(o, "n"));
    def = json_string_value(json_object_get(o, "defect"));
    e.defect = def && !strncmp(def, "D-", 2) ? strtoll(def + 2, NULL, 10) : 0;
    e.patch = json_string_value(json_object_get(o, "patch"));
    gl_err_clear(&err);
    if (gl_duty_actions(q->plan, q->who.person, &e, &acts, &err)) {
        sv_fail(r, &err);
        return NULL;
    }
    return sv_actions_for(q, acts);
}

/* Answer entry n as it is now, with its actions, with status; a 404 when
 * there is none. */
static void reply_entry(struct sv_req *q, struct sv_resp *r, int64_t n,
                        unsigned status)
{
    json_t *found = NULL, *acts;
    struct gl_err err;

    gl_err_clear(&err);
    if (gl_duty_entry(q->s, n, &found, &err)) {
        sv_fail(r, &err); /* no such entry: 404 */
        return;
    }
    local_at(q, found);
    if ((acts = entry_actions(q, r, found))) {
        json_object_set_new(found, "actions", acts);
        sv_json(r, status, json_incref(found));
    }
    json_decref(found);
}

/* GET /duty: every entry with its actions. */
static void duty_get(struct sv_req *q, struct sv_resp *r)
{
    json_t *list = NULL, *o, *acts;
    size_t i;

    if (!duty_list(q, r, &list))
        return;
    json_array_foreach(list, i, o)
    {
        if (!(acts = entry_actions(q, r, o))) {
            json_decref(list);
            return;
        }
        json_object_set_new(o, "actions", acts);
    }
    sv_json(r, 200, json_pack("{s:o}", "duty", list));
}

/* POST /duty {text, channel, kind, patch} */
static void duty_log(struct sv_req *q, struct sv_resp *r)
{
    static const char *const fields[] = {"text", "channel", "kind", "patch",
                                         NULL};
    const char *text, *channel, *kind, *patch;
    struct gl_err err;
    int64_t n = 0;

    if (!sv_fields_only(q, r, fields) ||
        !sv_field_str(q, r, "text", 1, &text) ||
        !sv_field_str(q, r, "channel", 1, &channel) ||
        !sv_field_str(q, r, "kind", 1, &kind) ||
        !sv_field_str(q, r, "patch", 0, &patch))
        return;
    gl_err_clear(&err);
    if (gl_duty_log(q->s, q->plan, &q->actor, channel, kind, text, patch, &n,
                    &err)) {
        sv_fail(r, &err);
        return;
    }
    reply_entry(q, r, n, 201);
}

/* POST /duty/{id}/defect {severity, title}: the entry becomes a defect. */
static void duty_defect(struct sv_req *q, struct sv_resp *r)
{
    static const char *const fields[] = {"severity", "title", NULL};
    const char *severity, *title;
    struct gl_err err;
    int64_t n, defect = 0;

    if (!(n = sv_id_number(r, q->arg[0], 'H', "duty entry")) ||
        !sv_fields_only(q, r, fields) ||
        !sv_field_str(q, r, "severity", 1, &severity) ||
        !sv_field_str(q, r, "title", 0, &title))
        return;
    gl_err_clear(&err);
    if (gl_duty_defect(q->s, q->plan, &q->actor, n, severity, title, &defect,
                       &err)) {
        sv_fail(r, &err);
        return;
    }
    reply_entry(q, r, n, 201);
}

/* POST /duty/{id}/patch {patch}: planned into a patch. */
static void duty_patch(struct sv_req *q, struct sv_resp *r)
{
    static const char *const fields[] = {"patch", NULL};
    const char *patch;
    struct gl_err err;
    int64_t n;

    if (!(n = sv_id_number(r, q->arg[0], 'H', "duty entry")) ||
        !sv_fields_only(q, r, fields) ||
        !sv_field_str(q, r, "patch", 1, &patch))
        return;
    gl_err_clear(&err);
    if (gl_duty_patch(q->s, q->plan, &q->actor, n, patch, &err)) {
        sv_fail(r, &err);
        return;
    }
    reply_entry(q, r, n, 200);
}

/* GET /patch-plan: deferred defects and requests by patch. */
static void patch_plan(struct sv_req *q, struct sv_resp *r)
{
    struct gl_err err;
    json_t *plan = NULL;

    gl_err_clear(&err);
    if (gl_patch_plan(q->s, &plan, &err)) {
        sv_fail(r, &err);
        return;
    }
    sv_json(r, 200, plan);
}

const struct sv_route sv_routes_duty[] = {
    {"GET", "/duty", duty_get, 0},
    {"POST", "/duty", duty_log, SV_CHANGE},
    {"POST", "/duty/{id}/defect", duty_defect, SV_CHANGE},
    {"POST", "/duty/{id}/patch", duty_patch, SV_CHANGE},
    {"GET", "/patch-plan", patch_plan, 0},
    {NULL, NULL, NULL, 0},
};
