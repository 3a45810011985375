/*
 * graph.h - dependency graphs over plan objects (tasks, sync jobs, workflow
 * states): strongly connected components for cycle reports and a
 * topological order, both iterative so that a hostile plan cannot exhaust
 * the stack.
 */
#ifndef GOLIVE_GRAPH_H
#define GOLIVE_GRAPH_H

#include <stddef.h>

struct gl_graph {
    size_t n;      /* nodes 0..n-1 */
    size_t *first; /* edges of node i: to[first[i] .. first[i+1]) */
    size_t *to;
    size_t n_edges;
};

/* Build from an edge list (from[k] -> to[k], k < m).  0 or -1 (memory). */
int gl_graph_build(struct gl_graph *g, size_t n, const size_t *from,
                   const size_t *to, size_t m);
void gl_graph_release(struct gl_graph *g);

/* Tarjan's SCCs: comp[i] gets the component of node i; returns the number of
 * components, or (size_t)-1 on memory failure. */
size_t gl_graph_scc(const struct gl_graph *g, size_t *comp);

/* A cycle through start inside its component: fills path (room for g->n
 * nodes) with start, ..., the node whose edge returns to start; returns its
 * length, 0 when there is none. */
size_t gl_graph_cycle(const struct gl_graph *g, const size_t *comp,
                      size_t start, size_t *path);

/* Topological order of the nodes not on any cycle, dependencies first
 * (edges point from a node to what it depends on).  Returns how many were
 * written to order, or (size_t)-1 on memory failure. */
size_t gl_graph_topo(const struct gl_graph *g, size_t *order);

#endif
