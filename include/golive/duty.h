/*
 * duty.h - hypercare: the person on duty logs what users ask (H-1, H-2,
 * ...); an entry can become a defect; requests and deferred defects are
 * planned into named patches.
 */
#ifndef GOLIVE_DUTY_H
#define GOLIVE_DUTY_H

#include <jansson.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/plan.h"
#include "golive/store.h"

/* Log an entry: channel phone|chat|ticket, kind question|defect|request,
 * optionally for a patch.  Anyone of the plan may.  *n gets its number. */
int gl_duty_log(gl_store *s, const struct gl_plan *p,
                const struct gl_actor *who, const char *channel,
                const char *kind, const char *text, const char *patch,
                int64_t *n, struct gl_err *err);

/* Turn entry n into a defect (its text the title unless title is given);
 * *defect gets the defect's number.  Refused when it is one already. */
int gl_duty_defect(gl_store *s, const struct gl_plan *p,
                   const struct gl_actor *who, int64_t n, const char *severity,
                   const char *title, int64_t *defect, struct gl_err *err);

/* Plan entry n (a request) into a patch: the lead or a dev. */
int gl_duty_patch(gl_store *s, const struct gl_plan *p,
                  const struct gl_actor *who, int64_t n, const char *patch,
                  struct gl_err *err);

/* A duty entry as its rules see it. */
struct gl_duty_state {
    int64_t n;
    int64_t defect;    /* the defect it became, 0 for none */
    const char *patch; /* the patch it is planned into, or NULL */
};

/* What can be done with a duty entry: "defect", "patch"; NULL ends it. */
extern const char *const gl_duty_action_names[];

/* May person make action (one of gl_duty_action_names) on entry e now?  The
 * rules gl_duty_defect and gl_duty_patch apply (they call this): GL_OK,
 * GL_EDENIED with who may (planning a patch is the lead's or a dev's), or
 * GL_EREFUSED with what stands in the way (the entry is a defect
 * already).  GL_EUSAGE for an unknown action. */
int gl_duty_may(const struct gl_plan *p, const char *person,
                const struct gl_duty_state *e, const char *action,
                struct gl_err *err);

/* What person may do with entry e now: *out gets (new reference) one
 * entry per gl_duty_action_names, each gl_duty_may's answer, in the shape
 * of gl_defect_actions. */
int gl_duty_actions(const struct gl_plan *p, const char *person,
                    const struct gl_duty_state *e, json_t **out,
                    struct gl_err *err);

/* Every entry: [{id, n, at, actor, channel, kind, text, defect, patch}]. */
int gl_duty_list(gl_store *s, json_t **out, struct gl_err *err);

/* Entry n as gl_duty_list gives it; GL_ENOTFOUND when there is none. */
int gl_duty_entry(gl_store *s, int64_t n, json_t **out, struct gl_err *err);

/* Deferred defects and requests grouped by patch:
 * {"patches": [{"patch", "defects": [{id, severity, title}],
 *               "requests": [{id, text}]}],
 *  "unplanned": [{id, text}]}  (requests without a patch). */
int gl_patch_plan(gl_store *s, json_t **out, struct gl_err *err);

#endif
