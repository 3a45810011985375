/*
 * api-base.c - the routes every client starts with: is it up, who am I.
 */
#include "serve/serve.h"

static void healthz(struct sv_req *q, struct sv_resp *r)
{
    (void)q;
    sv_json(r, 200, json_pack("{s:b}", "ok", 1));
}

static void me(struct sv_req *q, struct sv_resp *r)
{
    sv_json(r, 200,
            json_pack("{s:s, s:s, s:b, s:s}", "person", q->who.person, "token",
                      q->who.id, "viewer", q->who.viewer, "run",
                      q->info->run_id));
}

const struct sv_route sv_routes_base[] = {
    {"GET", "/healthz", healthz, SV_PUBLIC | SV_NORUN | SV_ROOT},
    {"GET", "/me", me, 0},
    {NULL, NULL, NULL, 0},
};
