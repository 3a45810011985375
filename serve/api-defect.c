/*
 * api-defect.c - the defects of the night over HTTP (#13.3): list, one
 * with its comments, open, move (fixing, fixed, verify, reopen, defer),
 * comment, change the severity.  Each change is the library call of
 * `golive defect` and its audited event, with the token's person as the
 * actor; every defect answered carries its `actions`, computed by the
 * library's own dry run (gl_defect_may).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golive/comment.h"
#include "golive/defect.h"
#include "serve/serve.h"

/* The actions of defect o (an object of gl_defect_list) for who asks, or
 * NULL with r filled. */
static json_t *defect_actions(struct sv_req *q, struct sv_resp *r, json_t *o)
{
    struct gl_defect_state d;
    struct gl_err err;
    json_t *acts = NULL;

    d.n = (int64_t)json_integer_value(json_object_get(o, "n"));
    d.state = json_string_value(json_object_get(o, "state"));
    d.severity = json_string_value(json_object_get(o, "severity"));
    d.fixer = json_string_value(json_object_get(o, "fixer"));
    if (!d.state)
        d.state = "";
    if (!d.severity)
        d.severity = "";
    gl_err_clear(&err);
    if (gl_defect_actions(q->plan, q->who.person, &d, &acts, &err)) {
        sv_fail(r, &err);
        return NULL;
    }
    return sv_actions_for(q, acts);
}

/* Every defect (gl_defect_list), a new reference, or NULL with r filled. */
static json_t *load_defects(struct sv_req *q, struct sv_resp *r)
{
    struct gl_err err;
    json_t *list;
    char *text;

    gl_err_clear(&err);
    if (!(text = gl_defect_list(q->s, &err))) {
        sv_fail(r, &err);
        return NULL;
    }
    list = json_loads(text, 0, NULL);
    free(text);
    if (!json_is_array(list)) {
        json_decref(list);
        gl_err_set(&err, GL_EINTERNAL, "the defect list is not a JSON array");
        sv_fail(r, &err);
        return NULL;
    }
    return list;
}

/* Answer defect n as it is now (gl_defect_show: with its comments), with
 * its actions, with status; a 404 when there is none. */
static void reply_defect(struct sv_req *q, struct sv_resp *r, int64_t n,
                         unsigned status)
{
    struct gl_err err;
    json_t *d = NULL, *acts;

    gl_err_clear(&err);
    if (gl_defect_show(q->s, n, &d, &err)) {
        sv_fail(r, &err);
        return;
    }
    if ((acts = defect_actions(q, r, d))) {
        json_object_set_new(d, "actions", acts);
        sv_json(r, status, d);
        return;
    }
    json_decref(d);
}

/* GET /defects: every defect with its actions. */
static void defects_get(struct sv_req *q, struct sv_resp *r)
{
    json_t *list, *o, *acts;
    size_t i;

    if (!(list = load_defects(q, r)))
        return;
    json_array_foreach(list, i, o)
    {
        if (!(acts = defect_actions(q, r, o))) {
            json_decref(list);
            return;
        }
        json_object_set_new(o, "actions", acts);
    }
    sv_json(r, 200, json_pack("{s:o}", "defects", list));
}

/* GET /defects/{id} */
static void defect_get(struct sv_req *q, struct sv_resp *r)
{
    int64_t n = sv_id_number(r, q->arg[0], 'D', "defect");

    if (n)
        reply_defect(q, r, n, 200);
}

/* POST /defects {severity, title, scenario} */
static void defect_open(struct sv_req *q, struct sv_resp *r)
{
    static const char *const fields[] = {"severity", "title", "scenario", NULL};
    const char *severity, *title, *scenario;
    struct gl_err err;
    int64_t n = 0;

    if (!sv_fields_only(q, r, fields) ||
        !sv_field_str(q, r, "severity", 1, &severity) ||
        !sv_field_str(q, r, "title", 1, &title) ||
        !sv_field_str(q, r, "scenario", 0, &scenario))
        return;
    gl_err_clear(&err);
    if (gl_defect_open(q->s, q->plan, &q->actor, scenario, severity, title, &n,
                       &err)) {
        sv_fail(r, &err);
        return;
    }
    reply_defect(q, r, n, 201);
}

/* POST /defects/{id}/ACTION {note, patch} */
static void defect_move(struct sv_req *q, struct sv_resp *r, const char *action)
{
    static const char *const fields[] = {"note", "patch", NULL};
    const char *note, *patch, *to;
    struct gl_err err;
    int64_t n;

    if (!(n = sv_id_number(r, q->arg[0], 'D', "defect")) ||
        !sv_fields_only(q, r, fields) ||
        !sv_field_str(q, r, "note", 0, &note) ||
        !sv_field_str(q, r, "patch", !strcmp(action, "defer"), &patch))
        return;
    gl_err_clear(&err);
    if (gl_defect_move(q->s, q->plan, &q->actor, n, action, patch, note, &to,
                       &err)) {
        sv_fail(r, &err);
        return;
    }
    reply_defect(q, r, n, 200);
}

/* POST /defects/{id}/comments {text}: anyone of the plan. */
static void defect_comment(struct sv_req *q, struct sv_resp *r)
{
    static const char *const fields[] = {"text", NULL};
    const char *text;
    struct gl_err err;
    int64_t n;

    if (!(n = sv_id_number(r, q->arg[0], 'D', "defect")) ||
        !sv_fields_only(q, r, fields) || !sv_field_str(q, r, "text", 1, &text))
        return;
    gl_err_clear(&err);
    if (gl_defect_comment(q->s, q->plan, &q->actor, n, text, NULL, &err)) {
        sv_fail(r, &err);
        return;
    }
    reply_defect(q, r, n, 201);
}

static void defect_fixing(struct sv_req *q, struct sv_resp *r)
{
    defect_move(q, r, "fixing");
}

static void defect_fixed(struct sv_req *q, struct sv_resp *r)
{
    defect_move(q, r, "fixed");
}

static void defect_verify(struct sv_req *q, struct sv_resp *r)
{
    defect_move(q, r, "verify");
}

static void defect_reopen(struct sv_req *q, struct sv_resp *r)
{
    defect_move(q, r, "reopen");
}

static void defect_defer(struct sv_req *q, struct sv_resp *r)
{
    defect_move(q, r, "defer");
}

/* POST /defects/{id}/severity {severity, note}: the lead. */
static void defect_severity(struct sv_req *q, struct sv_resp *r)
{
    static const char *const fields[] = {"severity", "note", NULL};
    const char *severity, *note;
    struct gl_err err;
    int64_t n;

    if (!(n = sv_id_number(r, q->arg[0], 'D', "defect")) ||
        !sv_fields_only(q, r, fields) ||
        !sv_field_str(q, r, "severity", 1, &severity) ||
        !sv_field_str(q, r, "note", 1, &note))
        return;
    gl_err_clear(&err);
    if (gl_defect_severity(q->s, q->plan, &q->actor, n, severity, note, &err)) {
        sv_fail(r, &err);
        return;
    }
    reply_defect(q, r, n, 200);
}

const struct sv_route sv_routes_defect[] = {
    {"GET", "/defects", defects_get, 0},
    {"POST", "/defects", defect_open, SV_CHANGE},
    {"GET", "/defects/{id}", defect_get, 0},
    {"POST", "/defects/{id}/fixing", defect_fixing, SV_CHANGE},
    {"POST", "/defects/{id}/fixed", defect_fixed, SV_CHANGE},
    {"POST", "/defects/{id}/verify", defect_verify, SV_CHANGE},
    {"POST", "/defects/{id}/reopen", defect_reopen, SV_CHANGE},
    {"POST", "/defects/{id}/defer", defect_defer, SV_CHANGE},
    {"POST", "/defects/{id}/severity", defect_severity, SV_CHANGE},
    {"POST", "/defects/{id}/comments", defect_comment, SV_CHANGE},
    {NULL, NULL, NULL, 0},
};
