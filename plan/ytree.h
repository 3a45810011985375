/*
 * ytree.h - a YAML document as a small tree of nodes that remember their
 * line and column, built from libfyaml's parser events.
 *
 * Why not libfyaml's own document tree: its nodes do not expose positions
 * for mappings and sequences in the version Debian ships, and building our
 * own tree lets us bound depth, node count and aliases before anything
 * deeper in the library sees the input.
 */
#ifndef GOLIVE_YTREE_H
#define GOLIVE_YTREE_H

#include <stddef.h>
#include <stdint.h>

#include "golive/diag.h"
#include "util/arena.h"

#define YT_MAX_DEPTH 64
#define YT_MAX_NODES 2000000
#define YT_MAX_INPUT ((size_t)32 << 20)

enum yn_kind { YN_SCALAR, YN_SEQ, YN_MAP };

/* 40 bytes: a plan of 20,000 tasks has some 450,000 of them.  len and n
 * fit 32 bits under YT_MAX_INPUT and YT_MAX_NODES. */
struct ynode {
    const char *str;     /* scalar text, NUL-terminated; "" for collections */
    struct ynode **kids; /* sequence: items; mapping: key, value, key, ... */
    uint32_t len;        /* scalar length in bytes */
    uint32_t n;          /* sequence: items; mapping: pairs */
    int line, col;       /* 1-based position of the node's first character */
    unsigned char kind;  /* enum yn_kind */
    unsigned char plain; /* 1 for an unquoted (plain) scalar */
};

/* Parse text (len bytes, need not be NUL-terminated) into a tree allocated
 * in a.  Syntax problems become "yaml-syntax" (or "yaml-limit") errors in d.
 * Returns 0 and sets *root (NULL for an empty document), or -1 when the
 * text is not usable YAML (diagnostics added) or memory ran out. */
int yt_parse(struct gl_arena *a, const char *text, size_t len,
             struct gl_diags *d, struct ynode **root);

/* A tree in a compact binary form (yt_pack), to load a large plan again
 * without parsing its YAML: the state store keeps it beside the plan's
 * text.  yt_pack appends the form to out (0, or -1 when out of memory);
 * yt_unpack rebuilds the tree in a (0, or -1 when blob is not a
 * well-formed packed tree: it is read from a file, so every count, offset
 * and depth is checked).  The form is the same for the same tree. */
struct gl_buf;
int yt_pack(const struct ynode *root, struct gl_buf *out);
int yt_unpack(struct gl_arena *a, const void *blob, size_t len,
              struct ynode **root);

/* Mapping lookup by key; NULL when absent or m is not a mapping. */
struct ynode *yt_get(const struct ynode *m, const char *key);

/* Whether a plain scalar spells YAML null ("", "~", "null"). */
int yt_is_null(const struct ynode *n);

#endif
