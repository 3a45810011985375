/*
 * buf.c - growing buffers with a cap.
 */
#include "buf.h"

#include "golive/golive.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#define DEFAULT_MAX GL_BUF_DEFAULT_MAX

/* The buffer fails for good: what it held is dropped (see buf.h). */
static int failed(struct gl_buf *b, int e)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->err = e;
    errno = e;
    return -1;
}

void gl_buf_fail(struct gl_buf *b, int e)
{
    if (!b->err)
        failed(b, e ? e : ENOMEM);
}

static int grow(struct gl_buf *b, size_t extra)
{
    size_t max = b->max ? b->max : DEFAULT_MAX;
    size_t need, cap;
    char *p;

    if (b->err) {
        errno = b->err;
        return -1;
    }
    if (extra > max || b->len > max - extra)
        return failed(b, EFBIG);
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(b->data, cap);
    if (!p)
        return failed(b, ENOMEM);
    b->data = p;
    b->cap = cap;
    return 0;
}

int gl_buf_reserve(struct gl_buf *b, size_t n)
{
    return grow(b, n);
}

int gl_buf_add_grow(struct gl_buf *b, const void *p, size_t n)
{
    if (grow(b, n))
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int gl_buf_adds(struct gl_buf *b, const char *s)
{
    return gl_buf_add(b, s, strlen(s));
}

int gl_buf_addf(struct gl_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) /* longer than INT_MAX (EOVERFLOW) */
        return b->err ? -1 : failed(b, EFBIG);
    if (grow(b, (size_t)n))
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int gl_buf_read_file(struct gl_buf *b, const char *path, size_t max_bytes)
{
    FILE *f = fopen(path, "rb");
    char chunk[65536];
    size_t n, start = b->len;
    int ret = 0;

    if (!f)
        return -1;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (max_bytes && b->len - start + n > max_bytes) {
            errno = EFBIG;
            ret = -1;
            break;
        }
        if (gl_buf_add(b, chunk, n)) {
            ret = -1;
            break;
        }
    }
    if (!ret && ferror(f)) {
        errno = EIO;
        ret = -1;
    }
    if (!ret && !b->data && gl_buf_add(b, "", 0))
        ret = -1;
    fclose(f);
    return ret;
}

int gl_buf_check(const struct gl_buf *b, const char *what, struct gl_err *err)
{
    size_t max = b->max ? b->max : DEFAULT_MAX;

    if (!b->err)
        return GL_OK;
    if (b->err == EFBIG && max >= ((size_t)1 << 20))
        return gl_err_set(err, GL_ENOMEM, "%s is larger than %zu MiB", what,
                          max >> 20);
    if (b->err == EFBIG)
        return gl_err_set(err, GL_ENOMEM, "%s is larger than %zu bytes", what,
                          max);
    return gl_err_set(err, GL_ENOMEM, "out of memory");
}

const char *gl_buf_str(const struct gl_buf *b)
{
    return b->data ? b->data : "";
}

char *gl_buf_detach(struct gl_buf *b)
{
    char *s = b->data;

    if (b->err)
        s = NULL;
    else if (!s)
        s = calloc(1, 1);
    b->data = NULL;
    b->len = b->cap = 0;
    b->err = 0;
    return s;
}

void gl_buf_reset(struct gl_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void gl_buf_release(struct gl_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->err = 0;
}
