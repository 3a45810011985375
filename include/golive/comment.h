/*
 * comment.h - comments on a defect: what someone tried, which record
 * showed it.  Anyone who is a person of the run's plan may comment on any
 * defect, in any state; a comment is a "defect.comment" event {defect,
 * comment, text} (its actor the person) projected into the
 * defect_comments table.  `golive defect comment` and `golive defect
 * show` make these calls, and so does `golive serve`'s
 * POST /defects/{id}/comments and GET /defects/{id}.
 */
#ifndef GOLIVE_COMMENT_H
#define GOLIVE_COMMENT_H

#include <jansson.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/plan.h"
#include "golive/store.h"

/* The longest comment, in bytes. */
#define GL_COMMENT_MAX 4000

/* Comment on defect n as who: *comment gets the comment's number (among
 * the run's comments, 1 for the first; may be NULL).  GL_EREFUSED when
 * who is not a person of p (a viewer, an OS user), GL_ENOTFOUND for no
 * defect D-n, GL_EUSAGE for an empty text, one longer than
 * GL_COMMENT_MAX or not UTF-8. */
int gl_defect_comment(gl_store *s, const struct gl_plan *p,
                      const struct gl_actor *who, int64_t n, const char *text,
                      int64_t *comment, struct gl_err *err);

/* Defect n's comments, oldest first: a new JSON array of {n, at (UTC ISO
 * 8601), actor, text}.  GL_ENOTFOUND for no defect D-n. */
int gl_defect_comments(gl_store *s, int64_t n, json_t **out,
                       struct gl_err *err);

/* Defect n as `golive defect list --json` shows each defect ({id, n,
 * scenario, severity, title, state, opened_by, fixer, verifier, patch}),
 * with its "comments" (as gl_defect_comments): a new JSON object.
 * GL_ENOTFOUND for no defect D-n. */
int gl_defect_show(gl_store *s, int64_t n, json_t **out, struct gl_err *err);

#endif
