/*
 * work.h - what the routes that change the run's work share (tasks,
 * scenarios, handover, shift): a body's list fields and times in the
 * run's offset.  (sv_fields_only and sv_actions_for, which the defects'
 * routes share, are serve.h's.)  Internal to serve/.
 */
#ifndef GOLIVE_SERVE_WORK_H
#define GOLIVE_SERVE_WORK_H

#include <jansson.h>
#include <stdint.h>

#include "serve/serve.h"

/* A list field of strings (NULL when absent); a 400 naming it when it is
 * not a list of strings.  *n its length; the caller frees *out (its
 * strings are the body's). */
int sv_field_strs(struct sv_req *q, struct sv_resp *r, const char *name,
                  const char ***out, size_t *n);

/* Replace o's integer field key (epoch seconds) by its ISO 8601 time at
 * the run's offset, and add key_t, the time relative to T0 ("T+1h"); null
 * stays null (both). */
void sv_time_field(const struct sv_req *q, json_t *o, const char *key);

#endif
