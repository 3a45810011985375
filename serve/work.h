/*
 * work.h - what the routes that change the run's work share (tasks,
 * scenarios, handover, shift; the defects' and duty's routes may use it
 * too): a body's fields checked against the ones a route takes, times in
 * the run's offset, and an "actions" list as this request's person sees
 * it.  Internal to serve/.
 */
#ifndef GOLIVE_SERVE_WORK_H
#define GOLIVE_SERVE_WORK_H

#include <jansson.h>
#include <stdint.h>

#include "serve/serve.h"

/* Whether every field of the body is one of names (NULL-terminated); a
 * 400 naming the first that is not (and the ones taken) when not. */
int sv_fields_only(struct sv_req *q, struct sv_resp *r,
                   const char *const *names);

/* A list field of strings (NULL when absent); a 400 naming it when it is
 * not a list of strings.  *n its length; the caller frees *out (its
 * strings are the body's). */
int sv_field_strs(struct sv_req *q, struct sv_resp *r, const char *name,
                  const char ***out, size_t *n);

/* Replace o's integer field key (epoch seconds) by its ISO 8601 time at
 * the run's offset, and add key_t, the time relative to T0 ("T+1h"); null
 * stays null (both). */
void sv_time_field(const struct sv_req *q, json_t *o, const char *key);

/* An "actions" list (gl_action_add's shape, run/transition.h) as q's
 * person may take them: a viewer's token takes none, so each becomes
 * {"allowed": false, "code": "forbidden"} saying so.  Takes list (a new
 * reference) and returns it. */
json_t *sv_actions(const struct sv_req *q, json_t *list);

#endif
