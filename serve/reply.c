/*
 * reply.c - responses (JSON, errors in the shape every route shares) and
 * reading a request's fields, query and headers.
 */
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
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
    char msg[1200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sv_json(r, status,
            json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg));
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

const char *sv_cookie(struct sv_req *q, const char *name)
{
    return MHD_lookup_connection_value(q->conn, MHD_COOKIE_KIND, name);
}
