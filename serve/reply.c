/*
 * reply.c - responses (JSON, errors in the shape every route shares) and
 * reading a request's fields, query and headers.
 */
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/serve.h"

void sv_json(struct sv_resp *r, unsigned status, json_t *j)
{
    json_decref(r->json);
    r->status = status;
    r->json = j ? j : json_object();
}

void sv_error(struct sv_resp *r, unsigned status, const char *code,
              const char *fmt, ...)
{
    char msg[1200], *c;
    va_list ap;
    json_t *j;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    j = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
    if (!j) {
        /* a value from the request that is not UTF-8 (a path segment's
         * %ff): the message still says what was wrong, '?' for its bytes */
        for (c = msg; *c; c++)
            if ((unsigned char)*c >= 0x80)
                *c = '?';
        j = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
    }
    sv_json(r, status, j);
}

void sv_fail(struct sv_resp *r, const struct gl_err *err)
{
    switch (err->code) {
    case GL_EUSAGE:
        sv_error(r, 400, "bad_request", "%s", err->msg);
        break;
    case GL_ENOTFOUND:
        sv_error(r, 404, "not_found", "%s", err->msg);
        break;
    case GL_EDENIED:
        sv_error(r, 403, "forbidden", "%s", err->msg);
        break;
    case GL_EREFUSED:
        sv_error(r, 409, "conflict", "%s", err->msg);
        break;
    case GL_ENOMEM:
        sv_error(r, 413, "too_large", "%s", err->msg);
        break;
    default:
        /* the store's internals stay in the server's log */
        fprintf(stderr, "golive: serve: %s: %s\n", gl_code_name(err->code),
                err->msg);
        sv_error(r, 500, "internal", "the server could not do it (%s)",
                 gl_code_name(err->code));
        break;
    }
}

int sv_body_parse(struct sv_req *q, struct sv_resp *r)
{
    json_error_t jerr;

    q->json = NULL;
    if (!q->body_len)
        return 1;
    q->json = json_loadb(q->body, q->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!q->json || !json_is_object(q->json)) {
        /* jansson's own words, but not its option names */
        sv_error(r, 400, "bad_json", "the body is not a JSON object: %s",
                 q->json                    ? "another JSON value"
                 : strstr(jerr.text, "NUL") ? "it holds \\u0000"
                                            : jerr.text);
        json_decref(q->json);
        q->json = NULL;
        return 0;
    }
    return 1;
}

int sv_parse_seq(const char *s, int64_t *out)
{
    int64_t v = 0;
    size_t i;

    for (i = 0; s[i]; i++) {
        /* 18 digits always fit in an int64_t */
        if (s[i] < '0' || s[i] > '9' || i == 18)
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (!i)
        return -1;
    *out = v;
    return 0;
}

int sv_field_str(struct sv_req *q, struct sv_resp *r, const char *name,
                 int required, const char **out)
{
    json_t *v = q->json ? json_object_get(q->json, name) : NULL;

    *out = NULL;
    if (!v || json_is_null(v)) {
        if (!required)
            return 1;
        sv_error(r, 400, "bad_request", "'%s' is required", name);
        return 0;
    }
    if (!json_is_string(v)) {
        sv_error(r, 400, "bad_request", "'%s' takes a string", name);
        return 0;
    }
    *out = json_string_value(v);
    return 1;
}

int sv_field_bool(struct sv_req *q, struct sv_resp *r, const char *name,
                  int *out)
{
    json_t *v = q->json ? json_object_get(q->json, name) : NULL;

    *out = 0;
    if (!v || json_is_null(v))
        return 1;
    if (!json_is_boolean(v)) {
        sv_error(r, 400, "bad_request", "'%s' takes true or false", name);
        return 0;
    }
    *out = json_is_true(v);
    return 1;
}

const char *sv_query(struct sv_req *q, const char *name)
{
    return MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *sv_header(struct sv_req *q, const char *name)
{
    return MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, name);
}

int64_t sv_id_number(struct sv_resp *r, const char *arg, char prefix,
                     const char *what)
{
    const char *s = arg;
    char *end;
    long long n;

    if ((s[0] == prefix || s[0] == prefix + ('a' - 'A')) && s[1] == '-')
        s += 2;
    if (*s >= '1' && *s <= '9') {
        errno = 0;
        n = strtoll(s, &end, 10);
        if (!*end && !errno)
            return (int64_t)n;
    }
    sv_error(r, 404, "not_found", "no %s '%s' (%c-1, %c-2...)", what, arg,
             prefix, prefix);
    return 0;
}

int sv_fields_only(struct sv_req *q, struct sv_resp *r,
                   const char *const *names)
{
    const char *key, *const *nm;
    json_t *v;
    char list[256] = "";
    size_t used = 0;

    if (!q->json)
        return 1;
    json_object_foreach(q->json, key, v)
    {
        for (nm = names; *nm && strcmp(*nm, key); nm++)
            ;
        if (*nm)
            continue;
        for (nm = names; *nm && used < sizeof(list); nm++)
            used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
                                     nm == names ? "" : ", ", *nm);
        sv_error(r, 400, "bad_request",
                 "'%s' is not a field of this request (it takes %s)", key,
                 names[0] ? list : "none");
        return 0;
    }
    return 1;
}

json_t *sv_actions_for(const struct sv_req *q, json_t *acts)
{
    char why[256];
    json_t *a;
    size_t i;

    if (!q->who.viewer || !acts)
        return acts;
    snprintf(why, sizeof(why),
             "'%s' holds a viewer's token, which changes nothing",
             q->who.person);
    json_array_foreach(acts, i, a)
    {
        json_object_set_new(a, "allowed", json_false());
        json_object_set_new(a, "reason", json_string(why));
        json_object_set_new(a, "code", json_string("forbidden"));
        json_object_del(a, "force");
    }
    return acts;
}

const char *sv_cookie(struct sv_req *q, const char *name)
{
    return MHD_lookup_connection_value(q->conn, MHD_COOKIE_KIND, name);
}
