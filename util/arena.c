/*
 * arena.c - bump allocation in blocks, freed all at once.
 */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct gl_arena_block {
    struct gl_arena_block *next;
    size_t size, used;
    max_align_t data[]; /* aligned start of the payload */
};

#define BLOCK_MIN 8192
#define ALIGN(n)                                                               \
    (((n) + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1))

#define BLOCK_MAX ((size_t)16 << 20)
#define HUGE_PAGE ((size_t)2 << 20)

/* A block of size bytes of payload.  One of a huge page or more, for an
 * arena that grows by itself or asked for blocks that large, is aligned
 * to it and asks for transparent huge pages: loading a large plan touches
 * tens of MiB, and page faults, 4 KiB at a time, were what took longest.
 * An arena that asked for smaller blocks (a sync batch) keeps to them. */
static struct gl_arena_block *block_new(const struct gl_arena *a, size_t size)
{
    struct gl_arena_block *b;
    void *p = NULL;

    if (size > SIZE_MAX - sizeof(*b))
        return NULL;
    if (size + sizeof(*b) < HUGE_PAGE || (a->block && a->block < HUGE_PAGE))
        return malloc(sizeof(*b) + size);
    if (posix_memalign(&p, HUGE_PAGE, sizeof(*b) + size))
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, (sizeof(*b) + size) & ~(HUGE_PAGE - 1), MADV_HUGEPAGE);
#endif
    return p;
}

/* n bytes at a multiple of align (1, or max_align_t's alignment). */
static void *bump(struct gl_arena *a, size_t n, size_t align)
{
    struct gl_arena_block *b = a->head;
    size_t need = align > 1 ? ALIGN(n ? n : 1) : (n ? n : 1), pad = 0;
    size_t min = a->block ? a->block : BLOCK_MIN;
    void *p;

    if (need < n)
        return NULL;
    if (a->limit && (need > a->limit || a->used > a->limit - need))
        return NULL;
    if (b)
        pad = (align - b->used % align) % align;
    if (!b || b->size - b->used < pad || b->size - b->used - pad < need) {
        size_t size = need > min ? need : min;
        /* a default arena grows by half of what it holds: a plan of
         * 20,000 tasks takes a few dozen blocks, not thousands */
        if (!a->block && a->used / 2 > size)
            size = a->used / 2 < BLOCK_MAX ? a->used / 2 : BLOCK_MAX;
        if (size < need)
            size = need;
        b = block_new(a, size);
        if (!b)
            return NULL;
        b->size = size;
        b->used = 0;
        b->next = a->head;
        a->head = b;
        pad = 0;
    }
    p = (char *)b->data + b->used + pad;
    b->used += pad + need;
    a->used += need;
    return p;
}

void *gl_arena_alloc_raw(struct gl_arena *a, size_t n)
{
    return bump(a, n, _Alignof(max_align_t));
}

void *gl_arena_alloc(struct gl_arena *a, size_t n)
{
    void *p = gl_arena_alloc_raw(a, n);

    if (p)
        memset(p, 0, ALIGN(n ? n : 1));
    return p;
}

void gl_arena_reset(struct gl_arena *a)
{
    struct gl_arena_block *b = a->head, *next;
    size_t total = 0, blocks = 0;

    for (; b; b = next) {
        next = b->next;
        total += b->size;
        blocks++;
    }
    if (blocks == 1) {
        a->head->used = 0;
        a->used = 0;
        return;
    }
    /* several blocks: one block as large as all of them, so that the next
     * fill of the same size takes no more malloc and touches warm pages */
    gl_arena_release(a);
    total += total / 2; /* headroom: the next fill is rarely the same */
    if (total) {
        b = block_new(a, total);
        if (b) {
            b->size = total;
            b->used = 0;
            b->next = NULL;
            a->head = b;
        }
    }
}

char *gl_arena_strndup(struct gl_arena *a, const char *s, size_t n)
{
    char *p;

    if (n == SIZE_MAX)
        return NULL;
    p = bump(a, n + 1, 1); /* text needs no alignment */
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *gl_arena_strdup(struct gl_arena *a, const char *s)
{
    return s ? gl_arena_strndup(a, s, strlen(s)) : NULL;
}

void *gl_arena_grow(struct gl_arena *a, void *old, size_t n, size_t sz)
{
    void *p;

    if (sz && n + 1 > SIZE_MAX / sz)
        return NULL;
    p = gl_arena_alloc(a, (n + 1) * sz);
    if (p && n)
        memcpy(p, old, n * sz);
    return p;
}

void gl_arena_release(struct gl_arena *a)
{
    struct gl_arena_block *b = a->head, *next;

    while (b) {
        next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
}

void *gl_big_alloc(size_t n)
{
    void *p = NULL;
    size_t size;

    if (n < ((size_t)1 << 20) || n > SIZE_MAX - HUGE_PAGE)
        return malloc(n ? n : 1);
    size = (n + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    if (posix_memalign(&p, HUGE_PAGE, size))
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, size, MADV_HUGEPAGE);
#endif
    return p;
}
