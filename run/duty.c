/*
 * duty.c - the hypercare log and the patch plan (see golive/duty.h).
 */
#include "golive/duty.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "transition.h"
#include "store-rows.h"
#include "golive/defect.h"

static int one_of(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(v, *set))
            return 1;
    return 0;
}

int gl_duty_log(gl_store *s, const struct gl_plan *p,
                const struct gl_actor *who, const char *channel,
                const char *kind, const char *text, const char *patch,
                int64_t *n, struct gl_err *err)
{
    static const char *const channels[] = {"phone", "chat", "ticket", NULL};
    static const char *const kinds[] = {"question", "defect", "request", NULL};
    char at[40];
    int64_t seq;
    int rc;

    if (!channel || !one_of(channel, channels))
        return gl_err_set(err, GL_EUSAGE,
                          "channel is phone, chat or ticket, not '%s'",
                          channel ? channel : "");
    if (!kind || !one_of(kind, kinds))
        return gl_err_set(err, GL_EUSAGE,
                          "kind is question, defect or request, not '%s'",
                          kind ? kind : "");
    if (!text || !*text)
        return gl_err_set(err, GL_EUSAGE, "a duty entry needs its text");
    if ((rc = gl_run_text_ok("a duty entry's text", text, 4000, 1, err)))
        return rc;
    if (patch && !*patch)
        return gl_err_set(err, GL_EUSAGE, "a patch's name is not empty");
    if (patch && (rc = gl_run_text_ok("a patch's name", patch, 100, 0, err)))
        return rc;
    if (!gl_plan_person(p, who->person))
        return gl_err_set(err, GL_EDENIED,
                          "'%s' is not a person of the plan; the people of "
                          "the plan log duty entries",
                          who->person);
    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_store_duty_next(s, n, err)))
        goto fail;
    if ((rc = gl_run_event(s, who, "duty.log",
                           json_pack("{s:I, s:s, s:s, s:s, s:s?}", "entry",
                                     (json_int_t)*n, "channel", channel, "kind",
                                     kind, "text", text, "patch", patch),
                           &seq, err)))
        goto fail;
    snprintf(at, sizeof(at), "%s", gl_store_event_at(s));
    if ((rc = gl_store_duty_insert(s, *n, at, who->person, channel, kind, text,
                                   patch, seq, err)))
        goto fail;
    return gl_store_commit(s, err);
fail:
    gl_store_rollback(s);
    return rc;
}

const char *const gl_duty_action_names[] = {"defect", "patch", NULL};

int gl_duty_may(const struct gl_plan *p, const char *person,
                const struct gl_duty_state *e, const char *action,
                struct gl_err *err)
{
    char names[256];

    if (!strcmp(action, "defect")) {
        if (e->defect)
            return gl_err_set(err, GL_EREFUSED,
                              "H-%lld is defect D-%lld already",
                              (long long)e->n, (long long)e->defect);
        return GL_OK;
    }
    if (!strcmp(action, "patch")) {
        if (!gl_run_has_role(p, person, GL_ROLE_LEAD | GL_ROLE_DEV))
            return gl_err_set(err, GL_EDENIED,
                              "the lead or a dev plans a patch (%s)",
                              gl_run_names_with(p, GL_ROLE_LEAD | GL_ROLE_DEV,
                                                names, sizeof(names)));
        return GL_OK;
    }
    return gl_err_set(err, GL_EUSAGE, "no duty action '%s'", action);
}

int gl_duty_actions(const struct gl_plan *p, const char *person,
                    const struct gl_duty_state *e, json_t **out,
                    struct gl_err *err)
{
    json_t *list = json_array();
    const char *const *a;
    struct gl_err e2;
    int rc = list ? GL_OK : GL_ENOMEM;

    *out = NULL;
    for (a = gl_duty_action_names; *a && !rc; a++) {
        gl_err_clear(&e2);
        rc = gl_action_add(list, *a, gl_duty_may(p, person, e, *a, &e2), &e2);
    }
    if (rc) {
        json_decref(list);
        return gl_err_set(err, rc, "out of memory");
    }
    *out = list;
    return GL_OK;
}

int gl_duty_defect(gl_store *s, const struct gl_plan *p,
                   const struct gl_actor *who, int64_t n, const char *severity,
                   const char *title, int64_t *defect, struct gl_err *err)
{
    struct gl_duty_state e = {n, 0, NULL};
    char *text = NULL;
    int rc;

    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_store_duty_get(s, n, &text, &e.defect, err)) ||
        (rc = gl_duty_may(p, who->person, &e, "defect", err)))
        goto fail;
    if ((rc = gl_defect_open_in(s, p, who, NULL, severity,
                                title && *title ? title : text, n, defect,
                                err)) ||
        (rc = gl_store_duty_set_defect(s, n, *defect, err)))
        goto fail;
    free(text);
    return gl_store_commit(s, err);
fail:
    free(text);
    gl_store_rollback(s);
    return rc;
}

int gl_duty_patch(gl_store *s, const struct gl_plan *p,
                  const struct gl_actor *who, int64_t n, const char *patch,
                  struct gl_err *err)
{
    struct gl_duty_state e = {n, 0, NULL};
    char *text = NULL;
    int rc;

    if (!patch || !*patch)
        return gl_err_set(err, GL_EUSAGE, "planning needs --patch NAME");
    if ((rc = gl_run_text_ok("a patch's name", patch, 100, 0, err)))
        return rc;
    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_store_duty_get(s, n, &text, &e.defect, err)) ||
        (rc = gl_duty_may(p, who->person, &e, "patch", err)) ||
        (rc = gl_run_event(
             s, who, "duty.patch",
             json_pack("{s:I, s:s}", "entry", (json_int_t)n, "patch", patch),
             NULL, err)) ||
        (rc = gl_store_duty_set_patch(s, n, patch, err)))
        goto fail;
    free(text);
    return gl_store_commit(s, err);
fail:
    free(text);
    gl_store_rollback(s);
    return rc;
}

int gl_duty_list(gl_store *s, json_t **out, struct gl_err *err)
{
    return gl_store_duty_list(s, 0, out, err);
}

int gl_duty_entry(gl_store *s, int64_t n, json_t **out, struct gl_err *err)
{
    json_t *one;
    int rc;

    *out = NULL;
    if ((rc = gl_store_duty_list(s, n, &one, err)))
        return rc;
    if (!json_array_size(one)) {
        json_decref(one);
        return gl_err_set(err, GL_ENOTFOUND, "no duty entry H-%lld",
                          (long long)n);
    }
    *out = json_incref(json_array_get(one, 0));
    json_decref(one);
    return GL_OK;
}

/* The entry of patches for name, made when first needed. */
static json_t *patch_entry(json_t *patches, const char *name)
{
    json_t *x;
    size_t i;

    json_array_foreach(patches, i, x)
    {
        if (!strcmp(json_string_value(json_object_get(x, "patch")), name))
            return x;
    }
    x = json_pack("{s:s, s:[], s:[]}", "patch", name, "defects", "requests");
    json_array_append_new(patches, x);
    return x;
}

struct plan {
    json_t *patches, *unplanned;
};

/* One row of gl_store_patch_rows into the plan. */
static void plan_row(void *ctx, char kind, int64_t n, const char *patch,
                     const char *what, const char *text)
{
    struct plan *pl = ctx;
    char id[32];

    snprintf(id, sizeof(id), "%c-%lld", kind, (long long)n);
    if (kind == 'D')
        json_array_append_new(
            json_object_get(patch_entry(pl->patches, patch), "defects"),
            json_pack("{s:s, s:s, s:s}", "id", id, "severity", what, "title",
                      text));
    else
        json_array_append_new(
            patch ? json_object_get(patch_entry(pl->patches, patch), "requests")
                  : pl->unplanned,
            json_pack("{s:s, s:s, s:s}", "id", id, "kind", what, "text", text));
}

int gl_patch_plan(gl_store *s, json_t **out, struct gl_err *err)
{
    struct plan pl = {json_array(), json_array()};
    int rc;

    *out = NULL;
    if ((rc = gl_store_patch_rows(s, plan_row, &pl, err))) {
        json_decref(pl.patches);
        json_decref(pl.unplanned);
        return rc;
    }
    *out = json_pack("{s:o, s:o}", "patches", pl.patches, "unplanned",
                     pl.unplanned);
    return GL_OK;
}
