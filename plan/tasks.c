/*
 * tasks.c - the tasks of a plan as a graph with an id index (see
 * gl_task_graph in golive/plan.h): what the ETA, the late list and the
 * planned times at a task's start walk, in time linear in tasks plus
 * dependencies however large the cutover.
 */
#include <stdlib.h>
#include <string.h>

#include "golive/golive.h"
#include "golive/plan.h"
#include "graph.h"

/* FNV-1a: ids are short */
static size_t hash_id(const char *s)
{
    size_t h = (size_t)1469598103934665603ULL;

    while (*s)
        h = (h ^ (unsigned char)*s++) * (size_t)1099511628211ULL;
    return h;
}

long gl_task_graph_find(const struct gl_task_graph *g, const char *id)
{
    size_t h, k;

    if (!id || !g->n_slot)
        return -1;
    for (h = hash_id(id) & (g->n_slot - 1);; h = (h + 1) & (g->n_slot - 1)) {
        if (!(k = g->slot[h]))
            return -1;
        if (!strcmp(g->p->tasks[k - 1].id.id, id))
            return (long)(k - 1);
    }
}

void gl_task_graph_release(struct gl_task_graph *g)
{
    free(g->first);
    free(g->dep);
    free(g->order);
    free(g->slot);
    memset(g, 0, sizeof(*g));
}

int gl_task_graph_build(struct gl_task_graph *g, const struct gl_plan *p)
{
    size_t n = p->n_tasks, i, j, m = 0, edges = 0, k;
    size_t *from = NULL, *to = NULL;
    struct gl_graph gr;

    memset(g, 0, sizeof(*g));
    memset(&gr, 0, sizeof(gr));
    g->p = p;
    g->n = n;
    for (g->n_slot = 16; g->n_slot < 2 * n; g->n_slot *= 2)
        ;
    for (i = 0; i < n; i++)
        edges += p->tasks[i].depends_on.n;
    g->slot = calloc(g->n_slot, sizeof(*g->slot));
    g->order = malloc((n + 1) * sizeof(*g->order));
    from = malloc((edges + 1) * sizeof(*from));
    to = malloc((edges + 1) * sizeof(*to));
    if (!g->slot || !g->order || !from || !to)
        goto oom;
    /* the first task of an id wins, as validate reports the second */
    for (i = 0; i < n; i++) {
        const char *id = p->tasks[i].id.id;
        size_t h;
        if (!id)
            continue;
        for (h = hash_id(id) & (g->n_slot - 1); (k = g->slot[h]);
             h = (h + 1) & (g->n_slot - 1))
            if (!strcmp(p->tasks[k - 1].id.id, id))
                break;
        if (!k)
            g->slot[h] = i + 1;
    }
    for (i = 0; i < n; i++)
        for (j = 0; j < p->tasks[i].depends_on.n; j++) {
            long d = gl_task_graph_find(g, p->tasks[i].depends_on.v[j].id);
            if (d >= 0) {
                from[m] = i;
                to[m++] = (size_t)d;
            }
        }
    if (gl_graph_build(&gr, n, from, to, m))
        goto oom;
    g->n_order = gl_graph_topo(&gr, g->order);
    if (g->n_order == (size_t)-1)
        goto oom;
    /* keep the CSR arrays: gr's first / to are task i's dependencies */
    g->first = gr.first;
    g->dep = gr.to;
    free(from);
    free(to);
    return GL_OK;
oom:
    gl_graph_release(&gr);
    free(from);
    free(to);
    gl_task_graph_release(g);
    return GL_ENOMEM;
}
