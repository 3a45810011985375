/*
 * cmd-audit.c - `golive audit verify`: the chain, the head, and every table
 * compared with a replay of the events; `golive audit head`: the last
 * event's number and hash, to write down elsewhere.
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "golive/audit.h"

/* --state, --json, and (verify) --head N:HASH. */
static int parse(int argc, char **argv, int with_head, const char **state,
                 int *json, const char **head)
{
    static const struct option opts[] = {
        {"state", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"head", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;

    *state = *head = NULL;
    *json = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(cmd_audit.usage, stdout);
            return EXIT_OK;
        case 's':
            *state = optarg;
            break;
        case 'j':
            *json = 1;
            break;
        case 'H':
            if (with_head) {
                *head = optarg;
                break;
            }
            /* fall through */
        default:
            return cli_usage("audit", "unknown option");
        }
    }
    if (argc != optind)
        return cli_usage("audit", "audit %s takes no arguments", argv[0]);
    return -1;
}

static int head(int argc, char **argv)
{
    const char *state, *unused;
    char path[4096];
    struct gl_audit_head h;
    struct gl_err err;
    gl_store *s = NULL;
    int json, rc;

    if ((rc = parse(argc, argv, 0, &state, &json, &unused)) >= 0)
        return rc;
    gl_err_clear(&err);
    cli_state_path(state, NULL, path, sizeof(path));
    if ((rc = gl_store_open(path, 0, &s, &err)) ||
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

static int verify(int argc, char **argv)
{
    const char *state, *head_arg;
    char path[4096];
    struct gl_audit_head expect;
    struct gl_audit a;
    struct gl_err err;
    gl_store *s = NULL;
    int json, rc;
    size_t i;
    json_t *x;

    if ((rc = parse(argc, argv, 1, &state, &json, &head_arg)) >= 0)
        return rc;
    if (head_arg && gl_audit_head_parse(head_arg, &expect))
        return cli_usage("audit",
                         "--head takes N:HASH as 'golive audit head' prints "
                         "it (the hash: its 64 hex digits, or at least the "
                         "first 16), not '%s'",
                         head_arg);
    gl_err_clear(&err);
    cli_state_path(state, NULL, path, sizeof(path));
    if ((rc = gl_store_open(path, 0, &s, &err)))
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

static int run(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(cmd_audit.usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_ERROR : EXIT_OK;
    }
    if (!strcmp(argv[1], "verify"))
        return verify(argc - 1, argv + 1);
    if (!strcmp(argv[1], "head"))
        return head(argc - 1, argv + 1);
    return cli_usage("audit", "unknown subcommand 'audit %s'", argv[1]);
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
    "\n"
    "options:\n"
    "  --head N:HASH   event N must be there with this hash (the 64 hex\n"
    "                  digits, or at least the first 16)\n"
    "  --state FILE    the store (default: $GOLIVE_STATE, else "
    "./golive.state)\n"
    "  --json          verify: {state, ok, events, head, problem, problems,\n"
    "                  warnings}; head: {state, seq, hash, head}\n"
    "\n"
    "exit: 0 the store verifies, 1 it does not, 2 the store cannot be read\n",
    run,
};
