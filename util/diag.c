/*
 * diag.c - the list of plan diagnostics.
 */
#include "golive/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gl_diags_add(struct gl_diags *d, int line, int col, enum gl_severity sev,
                  const char *code, const char *fmt, ...)
{
    struct gl_diag *g;
    va_list ap;
    char *msg;
    int n;

    if (sev == GL_SEV_ERROR)
        d->n_errors++;
    else
        d->n_warnings++;
    if (d->n >= GL_DIAGS_MAX)
        goto drop;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct gl_diag *v = realloc(d->v, cap * sizeof(*v));
        if (!v)
            goto drop;
        d->v = v;
        d->cap = cap;
    }
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !(msg = malloc((size_t)n + 1)))
        goto drop;
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
    g = &d->v[d->n++];
    g->line = line;
    g->col = col;
    g->sev = sev;
    snprintf(g->code, sizeof(g->code), "%s", code);
    g->message = msg;
    return;
drop:
    d->dropped++;
}

static int cmp(const void *pa, const void *pb)
{
    const struct gl_diag *a = pa, *b = pb;
    int c;

    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    if (a->sev != b->sev)
        return a->sev < b->sev ? -1 : 1;
    if ((c = strcmp(a->code, b->code)))
        return c;
    return strcmp(a->message, b->message);
}

void gl_diags_sort(struct gl_diags *d)
{
    size_t i, out = 0;

    if (d->n < 2)
        return;
    qsort(d->v, d->n, sizeof(*d->v), cmp);
    for (i = 0; i < d->n; i++) {
        if (out && !cmp(&d->v[out - 1], &d->v[i])) {
            if (d->v[i].sev == GL_SEV_ERROR)
                d->n_errors--;
            else
                d->n_warnings--;
            free(d->v[i].message);
            continue;
        }
        d->v[out++] = d->v[i];
    }
    d->n = out;
}

int gl_diags_has(const struct gl_diags *d, const char *code)
{
    size_t i;

    for (i = 0; i < d->n; i++)
        if (!strcmp(d->v[i].code, code))
            return 1;
    return 0;
}

void gl_diags_release(struct gl_diags *d)
{
    size_t i;

    for (i = 0; i < d->n; i++)
        free(d->v[i].message);
    free(d->v);
    d->v = NULL;
    d->n = d->cap = d->n_errors = d->n_warnings = d->dropped = 0;
}
