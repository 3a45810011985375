/*
 * api-decide.c - the lead's go / no-go decision and the rollback over
 * HTTP (#13.3): the library calls of `golive decide` and `golive
 * rollback`, the token's person as the actor.  Go is refused (409) while
 * the gate fails, naming each failed criterion; someone other than the
 * lead is refused (403) with the lead's name.
 */
#include <stdio.h>
#include <string.h>

#include "golive/gate.h"
#include "serve/serve.h"

/* POST /decisions {decision, note} */
static void decide(struct sv_req *q, struct sv_resp *r)
{
    static const char *const fields[] = {"decision", "note", NULL};
    const char *decision, *note;
    struct gl_err err;

    if (!sv_fields_only(q, r, fields) ||
        !sv_field_str(q, r, "decision", 1, &decision) ||
        !sv_field_str(q, r, "note", 0, &note))
        return;
    gl_err_clear(&err);
    /* a missing note is gl_decide's to refuse, after who may */
    if (gl_decide(q->s, q->plan, &q->actor, decision, note, &err)) {
        sv_fail(r, &err);
        return;
    }
    sv_json(r, 201,
            json_pack("{s:s, s:s, s:s}", "decision", decision, "note", note,
                      "by", q->actor.person));
}

/* POST /rollback {note}: the lead starts the rollback. */
static void rollback(struct sv_req *q, struct sv_resp *r)
{
    static const char *const fields[] = {"note", NULL};
    const char *note;
    struct gl_err err;
    json_t *tasks;
    size_t i;

    if (!sv_fields_only(q, r, fields) || !sv_field_str(q, r, "note", 0, &note))
        return;
    gl_err_clear(&err);
    if (gl_rollback_start(q->s, q->plan, &q->actor, note, &err)) {
        sv_fail(r, &err);
        return;
    }
    tasks = json_array();
    for (i = 0; i < q->plan->rollback.n; i++)
        json_array_append_new(tasks, json_string(q->plan->rollback.v[i].id));
    sv_json(r, 201,
            json_pack("{s:b, s:s, s:s?, s:o}", "rollback", 1, "by",
                      q->actor.person, "note", note, "tasks", tasks));
}

const struct sv_route sv_routes_decide[] = {
    {"POST", "/decisions", decide, SV_CHANGE},
    {"POST", "/rollback", rollback, SV_CHANGE},
    {NULL, NULL, NULL, 0},
};
