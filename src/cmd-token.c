/*
 * cmd-token.c - `golive token issue|list|revoke`: the tokens that sign
 * people (and war-room screens) in to `golive serve` (golive/token.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "golive/token.h"
#include "util/clock.h"

/* HOST:PORT (an IPv6 host in brackets): whether it is one. */
static int listen_ok(const char *l)
{
    const char *colon = strrchr(l, ':'), *p;
    long port;
    char *end;

    if (!colon || colon == l || !colon[1])
        return 0;
    if (l[0] == '[' ? colon[-1] != ']'
                    : memchr(l, ':', (size_t)(colon - l)) != NULL)
        return 0;
    for (p = l; p < colon; p++)
        if (*p == '/' || *p == '#' || *p == '?' || *p == '@' || *p == ' ')
            return 0;
    port = strtol(colon + 1, &end, 10);
    return !*end && port >= 1 && port <= 65535;
}

/* An epoch time for people: at the plan's offset; "never" for 0. */
static const char *when(int64_t t, int offset, char out[40])
{
    if (!t)
        return strcpy(out, "never");
    gl_time_format(t, offset, out);
    return out;
}

static json_t *when_json(int64_t t, int offset)
{
    char at[40];

    if (!t)
        return json_null();
    gl_time_format(t, offset, at);
    return json_string(at);
}

/* "live", "expired" or "revoked" at now. */
static const char *token_state(const struct gl_token_info *t, int64_t now)
{
    if (t->revoked_at)
        return "revoked";
    if (t->expires_at && now >= t->expires_at)
        return "expired";
    return "live";
}

static int token_issue(struct cli_run *r, const char *person, int viewer,
                       int64_t expires, const char *listen, int json)
{
    struct gl_token_info t;
    struct gl_err err;
    char secret[GL_SECRET_LEN], at[40];
    int64_t expires_at = expires ? r->now + expires : 0;

    gl_err_clear(&err);
    if (gl_token_issue(r->s, r->plan, &r->who, person, viewer, expires_at,
                       r->now, secret, &t, &err))
        return cli_fail(&err);
    if (json) {
        json_t *o =
            json_pack("{s:s, s:s, s:b, s:o, s:s, s:s+++}", "id", t.id, "person",
                      t.person, "viewer", t.viewer, "expires_at",
                      when_json(t.expires_at, r->info.switch_offset), "token",
                      secret, "link", "http://", listen, "/login#t=", secret);
        cli_print_json(o, 1);
    } else {
        printf("%s for %s%s, expires %s\n", t.id, viewer ? "the viewer " : "",
               t.person, when(t.expires_at, r->info.switch_offset, at));
        printf("token: %s\n", secret);
        printf("sign in: http://%s/login#t=%s\n", listen, secret);
        printf("(shown once: the store keeps only its SHA-256; 'golive token "
               "revoke %s' ends it)\n",
               t.id);
    }
    memset(secret, 0, sizeof(secret));
    return EXIT_OK;
}

static int token_list(struct cli_run *r, int json)
{
    struct gl_token_info *v = NULL;
    struct gl_err err;
    json_t *out;
    size_t n, i;
    int off = r->info.switch_offset;

    gl_err_clear(&err);
    if (gl_token_list(r->s, &v, &n, &err))
        return cli_fail(&err);
    if (json) {
        out = json_array();
        for (i = 0; i < n; i++)
            json_array_append_new(
                out, json_pack("{s:s, s:s, s:b, s:s, s:o, s:o, s:o, s:s}", "id",
                               v[i].id, "person", v[i].person, "viewer",
                               v[i].viewer, "issued_by", v[i].issued_by,
                               "issued_at", when_json(v[i].issued_at, off),
                               "expires_at", when_json(v[i].expires_at, off),
                               "revoked_at", when_json(v[i].revoked_at, off),
                               "state", token_state(&v[i], r->now)));
        cli_print_json(out, 1);
    } else if (!n) {
        printf("no tokens issued ('golive token issue --for PERSON --as "
               "LEAD')\n");
    } else {
        printf("%-6s %-16s %-6s %-12s %-25s %-25s %s\n", "id", "for", "kind",
               "issued by", "issued at", "expires", "state");
        for (i = 0; i < n; i++) {
            char a[40], b[40], c[40];
            printf("%-6s %-16s %-6s %-12s %-25s %-25s %s%s%s\n", v[i].id,
                   v[i].person, v[i].viewer ? "viewer" : "person",
                   v[i].issued_by, when(v[i].issued_at, off, a),
                   when(v[i].expires_at, off, b), token_state(&v[i], r->now),
                   v[i].revoked_at ? " at " : "",
                   v[i].revoked_at ? when(v[i].revoked_at, off, c) : "");
        }
    }
    free(v);
    return EXIT_OK;
}

static int token_run(int argc, char **argv)
{
    const char *as = NULL, *state = NULL, *person = NULL, *viewer = NULL,
               *listen = "127.0.0.1:8420", *sub;
    int64_t expires = 12 * 3600;
    struct cli_run r;
    struct gl_err err;
    int json = 0, rc;
    static const struct po_sub subs[] = {
        {"issue", 0, 0, NULL},
        {"list", 0, 0, NULL},
        {"revoke", 1, 1, "a token id (T-1...)"},
        {NULL, 0, 0, NULL},
    };
    struct po_option opts[] = {
        OPT_STRING("for", 0, &person, "PERSON",
                   "issue: the person of the plan the token is for"),
        OPT_STRING("viewer", 0, &viewer, "NAME",
                   "issue: a read-only token for a screen (a war-room "
                   "display) named NAME, which must not be a person of the "
                   "plan"),
        OPT_DURATION("expires", 0, &expires, 0, GL_DURATION_MAX, "DURATION",
                     "issue: how long the token lives (default 12h; 0: until "
                     "it is revoked)"),
        OPT_STRING("listen", 0, &listen, "HOST:PORT",
                   "issue: where 'golive serve' listens, for the sign-in "
                   "link (default 127.0.0.1:8420)"),
        OPT_AS(&as),
        OPT_STATE(&state),
        OPT_JSON(&json, "issue: {id, person, viewer, expires_at, token, "
                        "link}; list: [{id, person, viewer, issued_by, "
                        "issued_at, expires_at, revoked_at, state}]"),
        OPT_SUBCOMMANDS(subs),
    };

    if ((rc = cli_parse(&cmd_token, opts, argc, argv)) >= 0)
        return rc;
    sub = argv[optind];
    if (!strcmp(sub, "issue")) {
        if (!person == !viewer)
            return cli_usage("token",
                             "'token issue' needs --for PERSON or --viewer "
                             "NAME (one of them)");
        if (!listen_ok(listen))
            return cli_usage("token",
                             "--listen takes HOST:PORT (an IPv6 host in "
                             "brackets), not '%s'",
                             listen);
    }
    gl_err_clear(&err);
    if ((rc = cli_run_open(&r, state, NULL, as, strcmp(sub, "list") != 0)))
        goto out;
    if (!strcmp(sub, "issue")) {
        rc = token_issue(&r, person ? person : viewer, viewer != NULL, expires,
                         listen, json);
    } else if (!strcmp(sub, "revoke")) {
        if (gl_token_revoke(r.s, r.plan, &r.who, argv[optind + 1], r.now,
                            &err)) {
            rc = cli_fail(&err);
            goto out;
        }
        if (json)
            printf("{\"revoked\":\"T-%lld\"}\n",
                   (long long)cli_id_number(argv[optind + 1], 'T'));
        else
            printf("T-%lld revoked (%s); its sessions end\n",
                   (long long)cli_id_number(argv[optind + 1], 'T'),
                   r.who.person);
    } else {
        rc = token_list(&r, json);
    }
out:
    cli_run_close(&r);
    return rc;
}

const struct gl_cmd cmd_token = {
    "token",
    "tokens that sign people and screens in to 'golive serve'",
    "usage: golive token issue --for PERSON --as LEAD [--expires 12h]\n"
    "                          [--listen HOST:PORT] [--json]\n"
    "       golive token issue --viewer NAME --as LEAD [--expires 12h] ...\n"
    "       golive token list [--json]\n"
    "       golive token revoke T-N --as LEAD\n"
    "       (every form takes --state FILE)\n"
    "\n"
    "A lead issues a token for a person of the plan (or, read-only, for a\n"
    "viewer: a war-room screen whose name is not a person's).  The token\n"
    "(256 random bits, 64 hex digits) and its sign-in link\n"
    "http://HOST:PORT/login#t=TOKEN are printed once: the store keeps only\n"
    "its SHA-256, in the token.issue event and the tokens table.  'list'\n"
    "shows every token (never a token or its hash); 'revoke' ends a token\n"
    "and the browser sessions opened with it.  See docs/tokens.md.\n"
    "\n",
    "exit: 0 done, 2 usage, no such token or store error, 3 refused (not a "
    "lead;\n"
    "      already revoked)\n",
    token_run,
};
