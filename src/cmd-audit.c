/*
 * cmd-audit.c - `golive audit verify`: recompute the event chain.
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"

static int verify(int argc, char **argv)
{
    struct cli_opts o;
    const char *state;
    char path[4096];
    struct gl_err err;
    gl_store *s = NULL;
    int64_t events = 0;
    int json, rc;

    if ((rc = cli_parse_opts(&cmd_audit, "sj", argc, argv, &o)) >= 0)
        return rc;
    state = o.state;
    json = o.json;
    if (argc != optind)
        return cli_usage("audit", "audit verify takes no arguments");
    gl_err_clear(&err);
    cli_state_path(state, NULL, path, sizeof(path));
    if ((rc = gl_store_open(path, 0, &s, &err)))
        return cli_fail(&err);
    rc = gl_store_verify(s, &events, &err);
    gl_store_close(s);
    if (json) {
        json_t *j = json_pack("{s:s, s:b, s:I, s:s?}", "state", path, "ok",
                              rc == GL_OK, "events", (json_int_t)events,
                              "problem", rc ? err.msg : NULL);
        char *out = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
        printf("%s\n", out ? out : "{}");
        free(out);
        json_decref(j);
        if (rc && rc != GL_ECORRUPT)
            cli_error("%s", err.msg);
        return cli_exit_code(rc);
    }
    if (rc)
        return cli_fail(&err);
    printf("%s: %" PRId64 " event%s, chain intact\n", path, events,
           events == 1 ? "" : "s");
    return EXIT_OK;
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
    return cli_usage("audit", "unknown subcommand 'audit %s'", argv[1]);
}

const struct gl_cmd cmd_audit = {
    "audit",
    "verify the hash chain of a run's events",
    "usage: golive audit verify [--state FILE] [--json]\n"
    "\n"
    "Recompute the SHA-256 chain of every event in the state store, and\n"
    "check the stored plan versions and the run record against the events\n"
    "that made them.  Names the first event that does not match.\n"
    "\n"
    "options:\n"
    "  --state FILE    the store (default: $GOLIVE_STATE, else "
    "./golive.state)\n"
    "  --json          print {state, ok, events, problem} as JSON\n"
    "\n"
    "exit: 0 the chain verifies, 1 it does not, 2 the store cannot be read\n",
    run,
};
