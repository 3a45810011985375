/*
 * columns.c - what a diff compares when it is not told (see
 * golive/recon.h): the key is the source's primary key, the columns are
 * every other column both sides have; a key named among the columns is
 * compared as the key it is.  `golive diff` and the plan's checks
 * (recon/check.c) choose here.
 */
#include <string.h>

#include "golive/recon.h"

size_t gl_diff_default_keys(const struct gl_table_desc *src, const char **out,
                            size_t cap)
{
    size_t k;

    for (k = 0; k < src->npk && k < cap; k++)
        out[k] = src->cols[src->pk[k]].name;
    return k;
}

static int is_key(const char *col, const char *const *keys, size_t nkey)
{
    size_t k;

    for (k = 0; k < nkey; k++)
        if (!strcmp(col, keys[k]))
            return 1;
    return 0;
}

size_t gl_diff_columns(const char *const *keys, size_t nkey,
                       const char *const *named, size_t nnamed,
                       const struct gl_table_desc *src,
                       const struct gl_table_desc *dst,
                       const char *(*map)(void *ctx, const char *col),
                       void *map_ctx, const char **out, size_t cap)
{
    size_t i, n = 0;

    if (named) {
        for (i = 0; i < nnamed && n < cap; i++)
            if (!is_key(named[i], keys, nkey))
                out[n++] = named[i];
        return n;
    }
    for (i = 0; src && i < src->ncols && n < cap; i++) {
        const char *c = src->cols[i].name;
        if (!is_key(c, keys, nkey) &&
            (!dst || gl_table_col(dst, map ? map(map_ctx, c) : c) >= 0))
            out[n++] = c;
    }
    return n;
}
