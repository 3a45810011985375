/*
 * work.c - helpers of the routes that change the run's work (see
 * serve/work.h).
 */
#include "serve/work.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

int sv_field_strs(struct sv_req *q, struct sv_resp *r, const char *name,
                  const char ***out, size_t *n)
{
    json_t *v = q->json ? json_object_get(q->json, name) : NULL, *x;
    const char **a;
    size_t i;

    *out = NULL;
    *n = 0;
    if (!v || json_is_null(v))
        return 1;
    if (!json_is_array(v))
        goto bad;
    json_array_foreach(v, i, x)
    {
        if (!json_is_string(x))
            goto bad;
    }
    if (!(a = calloc(json_array_size(v) + 1, sizeof(*a)))) {
        sv_error(r, 500, "internal", "out of memory");
        return 0;
    }
    json_array_foreach(v, i, x) a[i] = json_string_value(x);
    *out = a;
    *n = json_array_size(v);
    return 1;
bad:
    sv_error(r, 400, "bad_request", "'%s' takes a list of strings", name);
    return 0;
}

void sv_time_field(const struct sv_req *q, json_t *o, const char *key)
{
    json_t *t = json_object_get(o, key);
    char rel[32], abs[40], k[64];

    snprintf(k, sizeof(k), "%s_t", key);
    if (!json_is_integer(t)) {
        json_object_set_new(o, key, json_null());
        json_object_set_new(o, k, json_null());
        return;
    }
    gl_time_format(json_integer_value(t), q->info->switch_offset, abs);
    gl_reltime_format(json_integer_value(t) - q->info->switch_at, rel);
    json_object_set_new(o, key, json_string(abs));
    json_object_set_new(o, k, json_string(rel));
}
