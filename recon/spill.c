/*
 * spill.c - a diff segment's output kept aside (see spill.h): each
 * difference as a record of length-prefixed strings and values in an
 * unlinked temporary file, read back in order.
 */
#include "recon/spill.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"

#define NO_STR UINT32_MAX

static FILE *temp(struct gl_err *err, const char *what)
{
    /* tmpfile(): mode 0600, unlinked, gone with the process */
    FILE *f = tmpfile();

    if (!f)
        gl_err_set(err, GL_EIO, "cannot make a temporary file for %s: %s", what,
                   strerror(errno));
    return f;
}

int gl_diff_spill_open(struct gl_diff_spill *s, const struct gl_diff_opts *o,
                       struct gl_diff_opts *seg, struct gl_err *err)
{
    memset(s, 0, sizeof(*s));
    if (o->on_diff) {
        if (!(s->items = temp(err, "a segment's differences")))
            return GL_EIO;
        seg->on_diff = gl_diff_spill_item;
        seg->ctx = s;
    }
    if (o->fix_sql) {
        if (!(s->fix = temp(err, "a segment's fix SQL")))
            return GL_EIO;
        seg->fix_sql = s->fix;
    }
    if (o->fix_sql_inserts) {
        if (!(s->inserts = temp(err, "a segment's fix SQL")))
            return GL_EIO;
        seg->fix_sql_inserts = s->inserts;
    }
    return GL_OK;
}

static void put(struct gl_diff_spill *s, const void *p, size_t n)
{
    if (!s->failed && n && fwrite(p, 1, n, s->items) != n)
        s->failed = errno ? errno : EIO;
}

static void put_u32(struct gl_diff_spill *s, uint32_t v)
{
    put(s, &v, sizeof(v));
}

static void put_str(struct gl_diff_spill *s, const char *str)
{
    uint32_t n = str ? (uint32_t)strlen(str) : NO_STR;

    put_u32(s, n);
    if (str)
        put(s, str, n);
}

static int has_bytes(enum gl_vtype t)
{
    return t == GL_TEXT || t == GL_NUMERIC || t == GL_BYTES || t == GL_SPECIAL;
}

static void put_value(struct gl_diff_spill *s, const struct gl_value *v)
{
    int32_t t = (int32_t)v->type;
    uint64_t len = has_bytes(v->type) ? (uint64_t)v->len : 0;

    put(s, &t, sizeof(t));
    put(s, &v->i, sizeof(v->i));
    put(s, &v->f, sizeof(v->f));
    put(s, &len, sizeof(len));
    if (len)
        put(s, v->s, (size_t)len);
}

void gl_diff_spill_item(void *ctx, const struct gl_diff_item *d)
{
    struct gl_diff_spill *s = ctx;
    size_t i;

    put_str(s, d->op);
    put_str(s, d->side);
    put_u32(s, (uint32_t)d->nkey);
    for (i = 0; i < d->nkey; i++)
        put_str(s, d->key_names ? d->key_names[i] : NULL);
    for (i = 0; i < d->nkey; i++)
        put_value(s, &d->key[i]);
    put_u32(s, (uint32_t)d->nchanged);
    for (i = 0; i < d->nchanged; i++)
        put_str(s, d->changed[i]);
    put_u32(s, d->src_vals ? 1 : 0);
    for (i = 0; d->src_vals && i < d->nchanged; i++)
        put_value(s, &d->src_vals[i]);
    put_u32(s, d->dst_vals ? 1 : 0);
    for (i = 0; d->dst_vals && i < d->nchanged; i++)
        put_value(s, &d->dst_vals[i]);
}

/* Reading back: 0, or -1 at a short read (the file is ours: a short
 * read is an I/O error, never a format question). */
static int get(FILE *f, void *p, size_t n)
{
    return n && fread(p, 1, n, f) != n ? -1 : 0;
}

static int get_u32(FILE *f, uint32_t *v)
{
    return get(f, v, sizeof(*v));
}

static int get_str(FILE *f, struct gl_arena *a, const char **out)
{
    uint32_t n;
    char *s;

    *out = NULL;
    if (get_u32(f, &n))
        return -1;
    if (n == NO_STR)
        return 0;
    if (!(s = gl_arena_alloc_raw(a, (size_t)n + 1)) || get(f, s, n))
        return -1;
    s[n] = '\0';
    *out = s;
    return 0;
}

static int get_value(FILE *f, struct gl_arena *a, struct gl_value *v)
{
    int32_t t;
    uint64_t len;
    char *s = NULL;

    memset(v, 0, sizeof(*v));
    if (get(f, &t, sizeof(t)) || get(f, &v->i, sizeof(v->i)) ||
        get(f, &v->f, sizeof(v->f)) || get(f, &len, sizeof(len)))
        return -1;
    v->type = (enum gl_vtype)t;
    if (has_bytes(v->type)) {
        if (!(s = gl_arena_alloc_raw(a, (size_t)len + 1)) ||
            get(f, s, (size_t)len))
            return -1;
        s[len] = '\0';
        v->s = s;
        v->len = (size_t)len;
    }
    return 0;
}

static const char **get_strs(FILE *f, struct gl_arena *a, uint32_t n)
{
    const char **v = gl_arena_alloc(a, (n + 1) * sizeof(*v));
    uint32_t i;

    for (i = 0; v && i < n; i++)
        if (get_str(f, a, &v[i]))
            return NULL;
    return v;
}

static struct gl_value *get_values(FILE *f, struct gl_arena *a, uint32_t n)
{
    struct gl_value *v = gl_arena_alloc(a, (n + 1) * sizeof(*v));
    uint32_t i;

    for (i = 0; v && i < n; i++)
        if (get_value(f, a, &v[i]))
            return NULL;
    return v;
}

/* One record into it (in a); 1 read, 0 at the end, -1 failed. */
static int get_item(FILE *f, struct gl_arena *a, struct gl_diff_item *it)
{
    uint32_t nkey, nch, has;
    const char *op;
    int c;

    memset(it, 0, sizeof(*it));
    if ((c = getc(f)) == EOF)
        return 0;
    ungetc(c, f);
    if (get_str(f, a, &op) || get_str(f, a, &it->side) || get_u32(f, &nkey) ||
        !(it->key_names = get_strs(f, a, nkey)) ||
        !(it->key = get_values(f, a, nkey)) || get_u32(f, &nch) ||
        !(it->changed = get_strs(f, a, nch)))
        return -1;
    it->op = op;
    it->nkey = nkey;
    it->nchanged = nch;
    if (get_u32(f, &has) || (has && !(it->src_vals = get_values(f, a, nch))))
        return -1;
    if (get_u32(f, &has) || (has && !(it->dst_vals = get_values(f, a, nch))))
        return -1;
    return 1;
}

/* Append what from holds to to. */
static int copy_file(FILE *from, FILE *to)
{
    char buf[65536];
    size_t n;

    if (fflush(from) || fseek(from, 0, SEEK_SET))
        return -1;
    while ((n = fread(buf, 1, sizeof(buf), from)) > 0)
        if (fwrite(buf, 1, n, to) != n)
            return -1;
    return ferror(from) ? -1 : 0;
}

int gl_diff_spill_replay(struct gl_diff_spill *s, const struct gl_diff_opts *o,
                         struct gl_err *err)
{
    struct gl_arena a = GL_ARENA_INIT;
    struct gl_diff_item it;
    int r = 0;

    if (s->failed)
        return gl_err_set(err, GL_EIO,
                          "cannot keep a segment's differences: %s",
                          strerror(s->failed));
    if (s->items && o->on_diff) {
        if (fflush(s->items) || fseek(s->items, 0, SEEK_SET))
            r = -1;
        while (!r && (r = get_item(s->items, &a, &it)) == 1) {
            o->on_diff(o->ctx, &it);
            gl_arena_reset(&a);
            r = 0;
        }
        gl_arena_release(&a);
        if (r < 0)
            return gl_err_set(err, GL_EIO,
                              "cannot read a segment's differences back");
    }
    if ((s->fix && o->fix_sql && copy_file(s->fix, o->fix_sql)) ||
        (s->inserts && o->fix_sql_inserts &&
         copy_file(s->inserts, o->fix_sql_inserts)))
        return gl_err_set(err, GL_EIO, "cannot write a segment's fix SQL");
    return GL_OK;
}

void gl_diff_spill_close(struct gl_diff_spill *s)
{
    if (s->items)
        fclose(s->items);
    if (s->fix)
        fclose(s->fix);
    if (s->inserts)
        fclose(s->inserts);
    memset(s, 0, sizeof(*s));
}
