/*
 * graph.c - iterative Tarjan, cycle extraction and Kahn's topological sort.
 */
#include "graph.h"

#include <stdlib.h>
#include <string.h>

int gl_graph_build(struct gl_graph *g, size_t n, const size_t *from,
                   const size_t *to, size_t m)
{
    size_t i, *fill;

    memset(g, 0, sizeof(*g));
    g->n = n;
    g->first = calloc(n + 1, sizeof(size_t));
    g->to = malloc((m ? m : 1) * sizeof(size_t));
    fill = calloc(n + 1, sizeof(size_t));
    if (!g->first || !g->to || !fill) {
        free(fill);
        gl_graph_release(g);
        return -1;
    }
    for (i = 0; i < m; i++)
        g->first[from[i] + 1]++;
    for (i = 0; i < n; i++)
        g->first[i + 1] += g->first[i];
    for (i = 0; i < m; i++)
        g->to[g->first[from[i]] + fill[from[i]]++] = to[i];
    g->n_edges = m;
    free(fill);
    return 0;
}

void gl_graph_release(struct gl_graph *g)
{
    free(g->first);
    free(g->to);
    memset(g, 0, sizeof(*g));
}

#define NONE ((size_t)-1)

size_t gl_graph_scc(const struct gl_graph *g, size_t *comp)
{
    size_t n = g->n, idx = 0, ncomp = 0, sp = 0, cp = 0, i;
    size_t *index = malloc((n + 1) * sizeof(size_t));
    size_t *low = malloc((n + 1) * sizeof(size_t));
    size_t *stack = malloc((n + 1) * sizeof(size_t));
    size_t *call = malloc((n + 1) * sizeof(size_t)); /* DFS node stack */
    size_t *edge = malloc((n + 1) * sizeof(size_t)); /* next edge per node */
    char *on = calloc(n + 1, 1);

    if (!index || !low || !stack || !call || !edge || !on) {
        ncomp = NONE;
        goto out;
    }
    for (i = 0; i < n; i++)
        index[i] = NONE;
    for (i = 0; i < n; i++) {
        if (index[i] != NONE)
            continue;
        call[cp++] = i;
        index[i] = low[i] = idx++;
        edge[i] = g->first[i];
        stack[sp++] = i;
        on[i] = 1;
        while (cp) {
            size_t v = call[cp - 1];
            if (edge[v] < g->first[v + 1]) {
                size_t w = g->to[edge[v]++];
                if (index[w] == NONE) {
                    index[w] = low[w] = idx++;
                    edge[w] = g->first[w];
                    stack[sp++] = w;
                    on[w] = 1;
                    call[cp++] = w;
                } else if (on[w] && index[w] < low[v]) {
                    low[v] = index[w];
                }
                continue;
            }
            cp--;
            if (cp && low[v] < low[call[cp - 1]])
                low[call[cp - 1]] = low[v];
            if (low[v] == index[v]) {
                size_t w;
                do {
                    w = stack[--sp];
                    on[w] = 0;
                    comp[w] = ncomp;
                } while (w != v);
                ncomp++;
            }
        }
    }
out:
    free(index);
    free(low);
    free(stack);
    free(call);
    free(edge);
    free(on);
    return ncomp;
}

size_t gl_graph_cycle(const struct gl_graph *g, const size_t *comp,
                      size_t start, size_t *path)
{
    size_t n = g->n, len = 0;
    size_t *edge = malloc((n + 1) * sizeof(size_t));
    char *seen = calloc(n + 1, 1);

    if (!edge || !seen)
        goto out;
    /* depth-first within the component until an edge returns to start */
    path[len++] = start;
    seen[start] = 1;
    edge[start] = g->first[start];
    while (len) {
        size_t v = path[len - 1];
        if (edge[v] < g->first[v + 1]) {
            size_t w = g->to[edge[v]++];
            if (w == start)
                goto out;
            if (comp[w] != comp[start] || seen[w])
                continue;
            seen[w] = 1;
            edge[w] = g->first[w];
            path[len++] = w;
            continue;
        }
        len--;
    }
out:
    free(edge);
    free(seen);
    return len;
}

size_t gl_graph_topo(const struct gl_graph *g, size_t *order)
{
    size_t n = g->n, i, e, head = 0, tail = 0;
    size_t *pending = calloc(n + 1, sizeof(size_t)); /* unmet dependencies */
    size_t *rfirst = calloc(n + 2, sizeof(size_t));
    size_t *rto = malloc((g->n_edges + 1) * sizeof(size_t));
    size_t *fill = calloc(n + 1, sizeof(size_t));

    if (!pending || !rfirst || !rto || !fill) {
        tail = NONE;
        goto out;
    }
    /* reverse edges: who depends on me */
    for (i = 0; i < n; i++)
        for (e = g->first[i]; e < g->first[i + 1]; e++)
            rfirst[g->to[e] + 1]++;
    for (i = 0; i < n; i++)
        rfirst[i + 1] += rfirst[i];
    for (i = 0; i < n; i++) {
        pending[i] = g->first[i + 1] - g->first[i];
        for (e = g->first[i]; e < g->first[i + 1]; e++)
            rto[rfirst[g->to[e]] + fill[g->to[e]]++] = i;
    }
    for (i = 0; i < n; i++)
        if (!pending[i])
            order[tail++] = i;
    while (head < tail) {
        size_t v = order[head++];
        for (e = rfirst[v]; e < rfirst[v + 1]; e++)
            if (--pending[rto[e]] == 0)
                order[tail++] = rto[e];
    }
out:
    free(pending);
    free(rfirst);
    free(rto);
    free(fill);
    return tail;
}
