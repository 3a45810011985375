/*
 * web.c - the web interface (#14): its pages and assets, embedded at build
 * time (serve/web.h), served without a token.  Every page is the same
 * shell (app.html) whose script asks the API for the data after sign-in:
 * the pages hold none.  They keep the server's Content-Security-Policy
 * (default-src 'self': no inline script, nothing from elsewhere) and are
 * revalidated by their ETag (the file's SHA-256).
 */
#include <stdio.h>
#include <string.h>

#include "serve/serve.h"
#include "serve/web.h"

static const struct sv_web_file *web_file(const char *name)
{
    const struct sv_web_file *f;

    for (f = sv_web_files; f->name; f++)
        if (!strcmp(f->name, name))
            return f;
    return NULL;
}

/* The file f, or 304 when the client holds it already. */
static void web_send(struct sv_req *q, struct sv_resp *r,
                     const struct sv_web_file *f)
{
    const char *inm = sv_header(q, "If-None-Match");

    snprintf(r->etag, sizeof(r->etag), "\"%.32s\"", f->sha256);
    r->cache = "no-cache";
    r->type = f->type;
    if (inm && strstr(inm, r->etag)) {
        r->status = 304;
        return;
    }
    r->status = 200;
    r->static_body = (const char *)f->data;
    r->len = f->len;
}

static void page(struct sv_req *q, struct sv_resp *r)
{
    const struct sv_web_file *f = web_file("app.html");

    if (!f) {
        sv_error(r, 404, "not_found", "no such page: %s", q->path);
        return;
    }
    web_send(q, r, f);
}

/* GET /assets/{name}: a script, style sheet or image of the pages. */
static void asset(struct sv_req *q, struct sv_resp *r)
{
    const struct sv_web_file *f = web_file(q->arg[0]);

    if (!f || !strcmp(f->name, "app.html")) {
        sv_error(r, 404, "not_found", "no such asset: %s", q->path);
        return;
    }
    web_send(q, r, f);
}

#define WEB (SV_PUBLIC | SV_NORUN | SV_ROOT)

const struct sv_route sv_routes_web[] = {
    {"GET", "/", page, WEB},       {"GET", "/login", page, WEB},
    {"GET", "/me", page, WEB},     {"GET", "/defects", page, WEB},
    {"GET", "/duty", page, WEB},   {"GET", "/events", page, WEB},
    {"GET", "/report", page, WEB}, {"GET", "/assets/{name}", asset, WEB},
    {NULL, NULL, NULL, 0},
};
