/*
 * comment.c - comments on defects (see golive/comment.h).
 */
#include "golive/comment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "golive/defect.h"
#include "store-rows.h"

int gl_defect_comment(gl_store *s, const struct gl_plan *p,
                      const struct gl_actor *who, int64_t n, const char *text,
                      int64_t *comment, struct gl_err *err)
{
    struct gl_store_defect d;
    struct gl_defect_state ds = {n, "", "", NULL};
    int64_t k, seq;
    char at[40];
    int rc;

    /* who may: the rule the API's actions show (gl_defect_may) */
    if ((rc = gl_defect_may(p, who->person ? who->person : "", &ds, "comment",
                            err)))
        return rc;
    if (!text || !*text)
        return gl_err_set(err, GL_EUSAGE, "a comment needs its text");
    if (strlen(text) > GL_COMMENT_MAX)
        return gl_err_set(err, GL_EUSAGE,
                          "a comment is at most %d bytes, not %zu",
                          GL_COMMENT_MAX, strlen(text));
    if ((rc = gl_run_text_ok("a comment", text, GL_COMMENT_MAX, 1, err)))
        return rc;
    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_store_defect_get(s, n, &d, err)) ||
        (rc = gl_store_comment_next(s, &k, err)) ||
        (rc = gl_run_event(s, who, "defect.comment",
                           json_pack("{s:I, s:I, s:s}", "defect", (json_int_t)n,
                                     "comment", (json_int_t)k, "text", text),
                           &seq, err)))
        goto fail;
    snprintf(at, sizeof(at), "%s", gl_store_event_at(s));
    if ((rc =
             gl_store_comment_insert(s, k, n, at, who->person, text, seq, err)))
        goto fail;
    if ((rc = gl_store_commit(s, err)))
        return rc;
    if (comment)
        *comment = k;
    return GL_OK;
fail:
    gl_store_rollback(s);
    return rc;
}

int gl_defect_comments(gl_store *s, int64_t n, json_t **out, struct gl_err *err)
{
    struct gl_store_defect d;
    int rc;

    *out = NULL;
    if ((rc = gl_store_defect_get(s, n, &d, err)))
        return rc;
    return gl_store_comment_list(s, n, out, err);
}

int gl_defect_show(gl_store *s, int64_t n, json_t **out, struct gl_err *err)
{
    json_t *all = NULL, *x, *comments = NULL;
    char *text;
    size_t i;
    int rc;

    *out = NULL;
    if ((rc = gl_defect_comments(s, n, &comments, err)))
        return rc;
    /* the defect as the list shows it, so that both say the same */
    if (!(text = gl_defect_list(s, err))) {
        json_decref(comments);
        return err && err->code ? err->code : GL_ESTORE;
    }
    all = json_loads(text, 0, NULL);
    free(text);
    json_array_foreach(all, i, x)
    {
        if (json_integer_value(json_object_get(x, "n")) == n) {
            *out = json_incref(x);
            break;
        }
    }
    json_decref(all);
    if (!*out) {
        json_decref(comments);
        return gl_err_set(err, GL_ENOTFOUND, "no defect D-%lld", (long long)n);
    }
    json_object_set_new(*out, "comments", comments);
    return GL_OK;
}
