/*
 * api-session.c - browser sessions: sign in with a token (a cookie that
 * JavaScript cannot read, and a CSRF secret that the page sends back with
 * each change), sign out.  The secrets are kept hashed in the store as
 * events (golive/token.h), so a session outlives a server restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/serve.h"

#define COOKIE "golive_session"

/* POST /session {"token"}: a session for the token's person. */
static void sign_in(struct sv_req *q, struct sv_resp *r)
{
    char session[GL_SECRET_LEN], csrf[GL_SECRET_LEN];
    struct gl_token_info who;
    struct gl_err err;
    const char *token;

    if (!sv_field_str(q, r, "token", 1, &token))
        return;
    q->tried = 1;
    gl_err_clear(&err);
    if (gl_session_open(q->s, token, q->now, q->os_user, session, csrf, &who,
                        &err)) {
        if (err.code == GL_ENOTFOUND)
            sv_error(r, 401, "unauthorized", "unknown token");
        else if (err.code == GL_EREFUSED)
            sv_error(r, 401, "unauthorized", "%s", err.msg);
        else
            sv_fail(r, &err);
        return;
    }
    q->who = who;
    q->authed = 1;
    if (asprintf(&r->set_cookie,
                 COOKIE "=%s; HttpOnly; SameSite=Strict; Path=/%s", session,
                 q->tls ? "; Secure" : "") < 0)
        r->set_cookie = NULL;
    sv_json(r, 200,
            json_pack("{s:s, s:s, s:b, s:s}", "person", who.person, "csrf",
                      csrf, "viewer", who.viewer, "token", who.id));
}

/* DELETE /session: sign out of the cookie's session (with its CSRF). */
static void sign_out(struct sv_req *q, struct sv_resp *r)
{
    const char *sess = sv_cookie(q, COOKIE),
               *csrf = sv_header(q, "X-Golive-CSRF");
    struct gl_token_info who;
    struct gl_err err;

    if (!q->via_session || !sess) {
        sv_error(r, 400, "bad_request",
                 "no session to sign out of: a bearer token is not a "
                 "session ('golive token revoke' ends a token)");
        return;
    }
    gl_err_clear(&err);
    if (!csrf || gl_session_check(q->s, sess, csrf, q->now, &who, &err)) {
        sv_error(r, 403, "forbidden",
                 "missing or wrong X-Golive-CSRF: signing out sends the "
                 "csrf that signing in returned");
        return;
    }
    if (gl_session_close(q->s, sess, q->os_user, q->now, &err)) {
        sv_fail(r, &err);
        return;
    }
    r->set_cookie = strdup(COOKIE "=; HttpOnly; SameSite=Strict; Path=/; "
                                  "Max-Age=0");
    sv_json(r, 200,
            json_pack("{s:s, s:b}", "person", q->who.person, "signed_out", 1));
}

const struct sv_route sv_routes_session[] = {
    {"POST", "/session", sign_in, SV_PUBLIC},
    {"DELETE", "/session", sign_out, 0},
    {NULL, NULL, NULL, 0},
};
