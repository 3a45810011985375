/*
 * cmd-audit.c - `golive audit verify`: the chain, the head, and every table
 * compared with a replay of the events; `golive audit head`: the last
 * event's number and hash, to write down elsewhere.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "cmd.h"
#include "golive/audit.h"

/* audit head */
static int head(const char *state, int json)
{
    char path[4096];
    struct gl_audit_head h;
    struct gl_err err;
    gl_store *s = NULL;
    int rc;

    gl_err_clear(&err);
    cli_state_path(state, NULL, path, sizeof(path));
    if ((rc = gl_store_open(path, GL_STORE_READ, &s, &err)) ||
        (rc = gl_audit_head(s, &h, &err))) {
        gl_store_close(s);
        return cli_fail(&err);
    }
    gl_store_close(s);
    if (json) {
        char token[100];
        snprintf(token, sizeof(token), "%" PRId64 ":%s", h.seq, h.hash);
        cli_print_json(json_pack("{s:s, s:I, s:s, s:s}", "state", path, "seq",
                                 (json_int_t)h.seq, "hash", h.hash, "head",
                                 token),
                       1);
        return EXIT_OK;
    }
    printf("%" PRId64 ":%s\n", h.seq, h.hash);
    return EXIT_OK;
}

/* --head's value is not N:HASH: the usage error. */
static int bad_head(const char *head_arg)
{
    return cli_usage("audit",
                     "--head takes N:HASH as 'golive audit head' prints "
                     "it (the hash: its 64 hex digits, or at least the "
                     "first 16), not '%s'",
                     head_arg);
}

/* audit verify [--head N:HASH] */
static int verify(const char *state, int json, const char *head_arg)
{
    char path[4096];
    struct gl_audit_head expect;
    struct gl_audit a;
    struct gl_err err;
    gl_store *s = NULL;
    int rc;
    size_t i;
    json_t *x;

    if (head_arg && gl_audit_head_parse(head_arg, &expect))
        return bad_head(head_arg);
    gl_err_clear(&err);
    cli_state_path(state, NULL, path, sizeof(path));
    if ((rc = gl_store_open(path, GL_STORE_READ, &s, &err)))
        return cli_fail(&err);
    rc = gl_audit_verify(s, head_arg ? &expect : NULL, &a, &err);
    gl_store_close(s);
    if (rc && rc != GL_ECORRUPT) {
        gl_audit_release(&a);
        return cli_fail(&err);
    }
    if (json) {
        char token[100];
        snprintf(token, sizeof(token), "%" PRId64 ":%s", a.head.seq,
                 a.head.hash);
        cli_print_json(json_pack("{s:s, s:b, s:I, s:s, s:s?, s:O, s:O}",
                                 "state", path, "ok", rc == GL_OK, "events",
                                 (json_int_t)a.events, "head", token, "problem",
                                 rc ? err.msg : NULL, "problems", a.problems,
                                 "warnings", a.warnings),
                       1);
        gl_audit_release(&a);
        return cli_exit_code(rc);
    }
    json_array_foreach(a.warnings, i, x) cli_warn("%s", json_string_value(x));
    json_array_foreach(a.problems, i, x)
        cli_error("%s", json_string_value(json_object_get(x, "message")));
    if (rc)
        printf("%s: does not verify: %zu problem%s; head %" PRId64 ":%s\n",
               path, json_array_size(a.problems),
               json_array_size(a.problems) == 1 ? "" : "s", a.head.seq,
               a.head.hash);
    else
        printf("%s: %" PRId64 " event%s, chain intact, every table matches "
               "the events%s; head %" PRId64 ":%s\n",
               path, a.events, a.events == 1 ? "" : "s",
               head_arg ? ", the head written down is there" : "", a.head.seq,
               a.head.hash);
    gl_audit_release(&a);
    return cli_exit_code(rc);
}

/* `audit verify` through a server: GET /audit (the server verifies its
 * store), printed as here. */
static int verify_remote(const char *server, int json, const char *head_arg)
{
    char path[300], esc[260];
    struct client c;
    json_t *a = NULL, *x;
    const char *state;
    size_t i;
    int rc, ok;
    json_int_t events;

    snprintf(path, sizeof(path), "/audit%s%s", head_arg ? "?head=" : "",
             head_arg ? client_escape(head_arg, esc, sizeof(esc)) : "");
    if ((rc = client_open(&c, server, NULL)) ||
        (rc = client_call(&c, "GET", path, NULL, &a)))
        goto out;
    ok = json_is_true(json_object_get(a, "ok"));
    rc = ok ? EXIT_OK : EXIT_NO;
    if (json) {
        cli_print_json(json_incref(a), 1);
        goto out;
    }
    state = json_string_value(json_object_get(a, "state"));
    events = json_integer_value(json_object_get(a, "events"));
    json_array_foreach(json_object_get(a, "warnings"), i, x)
        cli_warn("%s", json_string_value(x));
    json_array_foreach(json_object_get(a, "problems"), i, x)
        cli_error("%s", json_string_value(json_object_get(x, "message")));
    if (!ok)
        printf("%s: does not verify: %zu problem%s; head %s\n", state,
               json_array_size(json_object_get(a, "problems")),
               json_array_size(json_object_get(a, "problems")) == 1 ? "" : "s",
               json_string_value(json_object_get(a, "head")));
    else
        printf("%s: %" JSON_INTEGER_FORMAT " event%s, chain intact, every "
               "table matches the events%s; head %s\n",
               state, events, events == 1 ? "" : "s",
               head_arg ? ", the head written down is there" : "",
               json_string_value(json_object_get(a, "head")));
out:
    json_decref(a);
    client_close(&c);
    return rc;
}

static int run(int argc, char **argv)
{
    const char *state = NULL, *head_arg = NULL, *server = NULL;
    int json = 0, rc;
    static const struct po_sub subs[] = {
        {"verify", 0, 0, NULL}, {"head", 0, 0, NULL}, {NULL, 0, 0, NULL}};
    struct po_option opts[] = {
        OPT_STRING("head", 0, &head_arg, "N:HASH",
                   "verify: event N must be there with this hash (the 64 "
                   "hex digits, or at least the first 16)"),
        OPT_STATE(&state),
        OPT_SERVER(&server),
        OPT_JSON(&json, "verify: {state, ok, events, head, problem, "
                        "problems, warnings}; head: {state, seq, hash, "
                        "head}"),
        OPT_SUBCOMMANDS(subs),
    };

    if ((rc = cli_parse(&cmd_audit, opts, argc, argv)) >= 0)
        return rc;
    if ((server = client_server(server, state))) {
        struct gl_audit_head expect;
        if (strcmp(argv[optind], "verify"))
            return cli_usage("audit", "through a server, 'audit verify' "
                                      "only ('audit head' reads the store)");
        if (head_arg && gl_audit_head_parse(head_arg, &expect))
            return bad_head(head_arg);
        return verify_remote(server, json, head_arg);
    }
    if (!strcmp(argv[optind], "verify"))
        return verify(state, json, head_arg);
    if (head_arg)
        return cli_usage("audit", "--head goes with 'audit verify'");
    return head(state, json);
}

const struct gl_cmd cmd_audit = {
    "audit",
    "does the store tell the truth? the event chain and every table",
    "usage: golive audit verify [--head N:HASH] [--state FILE] [--json]\n"
    "       golive audit head [--state FILE] [--json]\n"
    "\n"
    "verify: recompute the SHA-256 chain of every event, then replay the\n"
    "events into a fresh store and compare it with every table of this one,\n"
    "row by row and column by column.  Every difference is named: table,\n"
    "row, column, what the store says and what the events say.  Warns where\n"
    "events were written with GOLIVE_NOW (the time set by hand) and where\n"
    "an event's time is before the one before it.  The outcome is kept in\n"
    "the store: status reports it, with a check of the events since.\n"
    "\n"
    "A log cut off at the end cannot be seen from inside: 'audit head'\n"
    "prints the last event as N:HASH (status and the report print it too);\n"
    "write it down elsewhere, and 'audit verify --head N:HASH' checks that\n"
    "event N is still there with that hash.\n"
    "\n",
    "exit: 0 the store verifies, 1 it does not, 2 the store cannot be read\n",
    run,
};
