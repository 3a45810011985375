/*
 * arena.h - a bump allocator for objects that live and die together.
 *
 * The plan loader puts the YAML tree and the whole plan model in arenas, so
 * that one gl_arena_release() frees a plan however far loading got.
 */
#ifndef GOLIVE_ARENA_H
#define GOLIVE_ARENA_H

#include <stddef.h>

struct gl_arena_block;

struct gl_arena {
    struct gl_arena_block *head;
    size_t used;  /* bytes handed out so far */
    size_t limit; /* 0 = no limit; otherwise allocations past it fail */
    size_t block; /* block size; 0 = 8 KiB */
};

#define GL_ARENA_INIT                                                          \
    {                                                                          \
        NULL, 0, 0, 0                                                          \
    }

/* Zeroed memory of size n, aligned for any type; NULL when out of memory or
 * past the limit.  Owned by the arena. */
void *gl_arena_alloc(struct gl_arena *a, size_t n);

/* Copy of s[0..n) plus a NUL, owned by the arena; NULL on failure. */
char *gl_arena_strndup(struct gl_arena *a, const char *s, size_t n);

/* Copy of the NUL-terminated s (NULL stays NULL... returns NULL). */
char *gl_arena_strdup(struct gl_arena *a, const char *s);

/* Grow an arena array: returns a copy of old (n elements of size sz) with
 * room for n+1, or NULL.  The old copy stays in the arena until release. */
void *gl_arena_grow(struct gl_arena *a, void *old, size_t n, size_t sz);

/* Like gl_arena_alloc, without zeroing: for memory the caller fills. */
void *gl_arena_alloc_raw(struct gl_arena *a, size_t n);

/* Forget everything allocated but keep the largest block for reuse: for
 * arenas that fill and empty over and over (a batch of rows). */
void gl_arena_reset(struct gl_arena *a);

/* Free everything; the arena can be used again afterwards. */
void gl_arena_release(struct gl_arena *a);

/* malloc(n) for one large buffer filled at once (a plan's text): from
 * 1 MiB on, rounded up to and aligned on huge pages, which it asks for,
 * as arena blocks are.  The caller frees it with free(); NULL when out
 * of memory. */
void *gl_big_alloc(size_t n);

#endif
