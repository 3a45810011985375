/*
 * fuzz-serve.c - libFuzzer target for what `golive serve` does with a
 * request before a handler runs: the route of METHOD + path (its {id}
 * arguments), the body parsed as JSON and its fields read, an event
 * number (Last-Event-ID) read.  Any bytes in, a route or an error out,
 * never a crash, a leak or undefined behaviour.  Input: the method on the
 * first line, the path on the second, the body after.  Built and run by
 * `make fuzz` (clang).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve/serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next line of data (up to '\n' or the end) as a new string. */
static char *take_line(const uint8_t **p, size_t *left)
{
    const uint8_t *nl = memchr(*p, '\n', *left);
    size_t n = nl ? (size_t)(nl - *p) : *left;
    char *s = malloc(n + 1);

    if (!s)
        abort();
    memcpy(s, *p, n);
    s[n] = '\0';
    *p += nl ? n + 1 : n;
    *left -= nl ? n + 1 : n;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const fields[] = {"note",  "text",   "severity", "to",
                                         "force", "resume", "tasks",    ""};
    const uint8_t *p = data;
    size_t left = size, i;
    char *method = take_line(&p, &left), *path = take_line(&p, &left);
    char *body = malloc(left + 1);
    char argbuf[1024], allow[64];
    const struct sv_route *rt;
    struct sv_req q;
    struct sv_resp r;
    unsigned status;
    int64_t seq;

    if (!body)
        abort();
    memcpy(body, p, left);
    body[left] = '\0';
    memset(&q, 0, sizeof(q));
    memset(&r, 0, sizeof(r));
    q.method = method;
    q.path = path;
    q.body = body;
    q.body_len = left;
    rt = sv_route_find(method, path, q.arg, argbuf, sizeof(argbuf), &status,
                       allow, sizeof(allow));
    if (!rt && status != 404 && status != 405)
        abort();
    if (rt)
        for (i = 0; i < SV_MAX_ARGS; i++)
            if (q.arg[i] && (!*q.arg[i] || strchr(q.arg[i], '/')))
                abort(); /* an argument is one segment, never empty */
    if (sv_body_parse(&q, &r)) {
        for (i = 0; i < sizeof(fields) / sizeof(*fields); i++) {
            const char *s;
            int b;
            sv_field_str(&q, &r, fields[i], i % 2, &s);
            sv_field_bool(&q, &r, fields[i], &b);
        }
    } else if (r.status != 400 || q.json) {
        abort();
    }
    if (!sv_parse_seq(path, &seq) && seq < 0)
        abort();
    json_decref(q.json);
    json_decref(r.json);
    free(method);
    free(path);
    free(body);
    return 0;
}
