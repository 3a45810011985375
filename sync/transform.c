/*
 * transform.c - one source row into the target's values: value maps,
 * constants, defaults, and type fitting (sync/convert.c); what cannot be
 * mapped or fitted makes the row a reject.
 */
#include <stdio.h>
#include <string.h>

#include "sync/sync-internal.h"

static void set_text(struct gl_value *v, const char *s)
{
    memset(v, 0, sizeof(*v));
    if (!s) {
        v->type = GL_NULL;
        return;
    }
    v->type = GL_TEXT;
    v->s = s;
    v->len = strlen(s);
}

/* Fill r->dst from r->src; a value that cannot be mapped or fitted makes
 * the row a reject.  -1 when memory runs out. */
int sync_transform(struct job *J, struct row *r)
{
    struct gl_buf key = GL_BUF_INIT;
    char why[512];
    size_t i, k;

    for (i = 0; i < J->ncols; i++) {
        const struct colplan *c = &J->cols[i];
        const struct gl_colmap *m = c->map;
        struct gl_value v;
        int rc;

        if (c->sel < 0)
            set_text(&v, m->value);
        else
            v = r->src[c->sel];
        if (m && m->n_map && v.type != GL_NULL) {
            gl_buf_reset(&key);
            gl_value_text(&v, &key);
            if (gl_buf_failed(&key)) {
                gl_buf_release(&key);
                return -1;
            }
            for (k = 0; k < m->n_map; k++)
                if (!strcmp(m->map[k].from, gl_buf_str(&key)))
                    break;
            if (k < m->n_map) {
                set_text(&v, m->map[k].to);
            } else if (m->map_else) {
                set_text(&v, m->map_else);
            } else {
                snprintf(why, sizeof(why),
                         "no mapping for value '%.60s' of column '%s' "
                         "(target '%s')",
                         gl_buf_str(&key), m->source ? m->source : c->target,
                         c->target);
                r->reject = gl_arena_strdup(&J->arena, why);
                gl_buf_release(&key);
                return r->reject ? 0 : -1;
            }
        }
        if (v.type == GL_NULL && m && m->has_default)
            set_text(&v, m->dflt);
        rc = gl_convert(&v, &J->t.cols[c->tcol], J->teng, &J->arena, &r->dst[i],
                        why, sizeof(why));
        if (rc < 0) {
            gl_buf_release(&key);
            return -1;
        }
        if (rc == 2 && m && m->unrepresentable == GL_UNREP_NULL) {
            memset(&r->dst[i], 0, sizeof(r->dst[i])); /* the plan says so */
            rc = 0;
        }
        if (rc > 0) {
            r->reject = gl_arena_strdup(&J->arena, why);
            gl_buf_release(&key);
            return r->reject ? 0 : -1;
        }
        for (k = 0; k < J->nkey; k++)
            if (J->key_tcol[k] == c->tcol && r->dst[i].type == GL_NULL) {
                /* a NULL key would be no key (SQLite even numbers it) */
                snprintf(why, sizeof(why), "NULL in key column '%s'",
                         c->target);
                r->reject = gl_arena_strdup(&J->arena, why);
                gl_buf_release(&key);
                return r->reject ? 0 : -1;
            }
    }
    gl_buf_release(&key);
    return 0;
}
