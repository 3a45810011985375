/*
 * buf.h - a growing byte buffer with a cap (in the manner of git's strbuf
 * and curl's dynbuf).  data is always NUL-terminated once anything was added.
 *
 * Failure is sticky: once an append fails (out of memory, or past max) the
 * buffer drops what it held (a statement cut short is never run), every
 * later append fails too, and gl_buf_failed() says why until the buffer is
 * released or detached.  So a builder appends without checking each call
 * and checks once, before it uses the result (gl_buf_failed(), or
 * gl_buf_check() for a message in a struct gl_err).
 */
#ifndef GOLIVE_BUF_H
#define GOLIVE_BUF_H

#include <stddef.h>
#include <string.h>

struct gl_buf {
    char *data;
    size_t len, cap;
    size_t max; /* 0 = default cap (256 MiB); adding past it fails */
    int err;    /* 0, or the first failure: ENOMEM or EFBIG (sticky) */
};

/* the cap when max is 0 */
#define GL_BUF_DEFAULT_MAX ((size_t)256 << 20)

#define GL_BUF_INIT                                                            \
    {                                                                          \
        NULL, 0, 0, 0, 0                                                       \
    }

/* Append n bytes.  0 on success, -1 when out of memory or past max, or
 * when an earlier append failed (see above).
 * Inline when it fits in what is allocated (comparisons append millions
 * of small pieces); gl_buf_add_grow() otherwise.  A failed buffer holds no
 * data, so it always takes the slow path. */
int gl_buf_add_grow(struct gl_buf *b, const void *p, size_t n);

static inline int gl_buf_add(struct gl_buf *b, const void *p, size_t n)
{
    if (b->data && n < b->cap - b->len &&
        b->len + n <= (b->max ? b->max : GL_BUF_DEFAULT_MAX)) {
        if (n)
            memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
    }
    return gl_buf_add_grow(b, p, n);
}

/* Make room for n more bytes (and the NUL after them) without adding
 * any: data may move now, not while those bytes are written.  A failure
 * is sticky as an append's. */
int gl_buf_reserve(struct gl_buf *b, size_t n);
int gl_buf_adds(struct gl_buf *b, const char *s);
int gl_buf_addf(struct gl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The first append to b that failed, sticky: 0 while all succeeded, else
 * ENOMEM or EFBIG (past max).  gl_buf_reset() keeps it; gl_buf_release()
 * and gl_buf_detach() clear it. */
static inline int gl_buf_failed(const struct gl_buf *b)
{
    return b->err;
}

/* Make b fail as an append would have failed with e (ENOMEM, EFBIG): a
 * part built in another buffer for b failed. */
void gl_buf_fail(struct gl_buf *b, int e);

struct gl_err;

/* 0 when every append to b succeeded; else GL_ENOMEM, with "out of
 * memory" or "<what> is larger than N MiB" (its max) in err (err may be
 * NULL). */
int gl_buf_check(const struct gl_buf *b, const char *what, struct gl_err *err);

/* Read a whole file into b, at most max_bytes (0 = b->max).  0 on success,
 * -1 with errno set (EFBIG when the file is larger than allowed). */
int gl_buf_read_file(struct gl_buf *b, const char *path, size_t max_bytes);

/* The buffer's string ("" when empty or failed); stays owned by b. */
const char *gl_buf_str(const struct gl_buf *b);

/* Hand the string to the caller (who frees it) and reset b; NULL (and b
 * released) when out of memory or when an append to b failed. */
char *gl_buf_detach(struct gl_buf *b);

void gl_buf_reset(struct gl_buf *b);   /* len = 0, memory and failure kept */
void gl_buf_release(struct gl_buf *b); /* memory freed, failure cleared */

#endif
