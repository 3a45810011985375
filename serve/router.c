/*
 * router.c - METHOD + path to a route of the table: patterns are matched
 * segment by segment (under /api/v1 unless the route is SV_ROOT);
 * "{name}" takes one segment (its text, which the
 * handler treats as data: an id is looked up, never pasted anywhere).
 */
#include <string.h>

#include "serve/serve.h"

#define API "/api/v1"

/* Whether path matches pattern; the {…} segments go to arg (copied into
 * buf).  Patterns under the API are written without its prefix. */
static int match(const char *pattern, int root, const char *path,
                 const char *arg[SV_MAX_ARGS], char *buf, size_t len)
{
    size_t na = 0, used = 0;

    if (!root) {
        /* a route of the API: the path must be under it */
        if (strncmp(path, API, strlen(API)))
            return 0;
        path += strlen(API);
    }
    while (*pattern && *path) {
        const char *pe, *qe;
        size_t pl, ql;

        if (*pattern != '/' || *path != '/')
            return 0;
        pattern++;
        path++;
        pe = strchr(pattern, '/');
        qe = strchr(path, '/');
        pl = pe ? (size_t)(pe - pattern) : strlen(pattern);
        ql = qe ? (size_t)(qe - path) : strlen(path);
        if (pl >= 2 && pattern[0] == '{' && pattern[pl - 1] == '}') {
            if (!ql || na == SV_MAX_ARGS || used + ql + 1 > len)
                return 0;
            memcpy(buf + used, path, ql);
            buf[used + ql] = '\0';
            arg[na++] = buf + used;
            used += ql + 1;
        } else if (pl != ql || memcmp(pattern, path, pl)) {
            return 0;
        }
        pattern += pl;
        path += ql;
    }
    return !*pattern && !*path;
}

const struct sv_route *sv_route_find(const char *method, const char *path,
                                     const char *arg[SV_MAX_ARGS], char *argbuf,
                                     size_t argbuf_len, unsigned *status,
                                     char *allow, size_t allow_len)
{
    const struct sv_route *const *t;
    const struct sv_route *r;
    size_t used = 0;

    *status = 404;
    if (allow_len)
        allow[0] = '\0';
    for (t = sv_route_tables; *t; t++)
        for (r = *t; r->method; r++) {
            memset(arg, 0, sizeof(*arg) * SV_MAX_ARGS);
            if (!match(r->pattern, r->flags & SV_ROOT, path, arg, argbuf,
                       argbuf_len))
                continue;
            /* HEAD is GET without the body (libmicrohttpd leaves it) */
            if (!strcmp(r->method, method) ||
                (!strcmp(method, "HEAD") && !strcmp(r->method, "GET")))
                return r;
            *status = 405;
            if (!strstr(allow, r->method) &&
                used + strlen(r->method) + 3 < allow_len)
                used += (size_t)snprintf(allow + used, allow_len - used, "%s%s",
                                         used ? ", " : "", r->method);
        }
    return NULL;
}
