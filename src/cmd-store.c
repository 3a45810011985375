/*
 * cmd-store.c - `golive store backup FILE`: copy a live state store into a
 * new file (SQLite's online backup) while others go on writing, so that a
 * copy of the night can live on another machine; `golive store upgrade`:
 * migrate a store of an older schema (commands that only read leave it).
 */
#include <inttypes.h>
#include <jansson.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"

/* store backup FILE: the copy */
static int backup(const char *copy, const char *state, int json)
{
    char path[4096];
    struct gl_err err;
    gl_store *s = NULL;
    int64_t events = 0;
    int rc;

    gl_err_clear(&err);
    cli_state_path(state, NULL, path, sizeof(path));
    /* the copy of the store as it is, whatever its schema: the way back
     * before an upgrade */
    if ((rc = gl_store_open(path, GL_STORE_AS_IS, &s, &err)) ||
        (rc = gl_store_backup(s, copy, &events, &err))) {
        gl_store_close(s);
        return cli_fail(&err);
    }
    gl_store_close(s);
    if (json)
        cli_print_json(json_pack("{s:s, s:s, s:I}", "state", path, "copy", copy,
                                 "events", (json_int_t)events),
                       1);
    else
        printf("%s: copied to %s (%" PRId64 " event%s, chain intact)\n", path,
               copy, events, events == 1 ? "" : "s");
    return EXIT_OK;
}

/* store upgrade: the store's schema migrated to this golive's */
static int upgrade(const char *state, int json)
{
    char path[4096];
    struct gl_err err;
    gl_store *s = NULL;
    int from, to;

    gl_err_clear(&err);
    cli_state_path(state, NULL, path, sizeof(path));
    if (gl_store_open(path, 0, &s, &err)) {
        gl_store_close(s);
        return cli_fail(&err);
    }
    from = gl_store_schema_before(s);
    to = gl_store_schema(s);
    gl_store_close(s);
    if (json)
        cli_print_json(
            json_pack("{s:s, s:i, s:i}", "state", path, "from", from, "to", to),
            1);
    else if (from == to)
        printf("%s: schema version %d already, nothing to upgrade\n", path, to);
    else
        printf("%s: upgraded from schema version %d to %d (older golive "
               "binaries now refuse it)\n",
               path, from, to);
    return EXIT_OK;
}

static int run(int argc, char **argv)
{
    const char *state = NULL;
    int json = 0, rc;
    static const struct po_sub subs[] = {
        {"backup", 1, 1, "the copy's file name"},
        {"upgrade", 0, 0, ""},
        {NULL, 0, 0, NULL}};
    struct po_option opts[] = {
        OPT_STATE(&state),
        OPT_JSON(&json, "print {state, copy, events} (backup) or {state, "
                        "from, to} (upgrade) as JSON"),
        OPT_SUBCOMMANDS(subs),
    };

    if ((rc = cli_parse(&cmd_store, opts, argc, argv)) >= 0)
        return rc;
    if (!strcmp(argv[optind], "upgrade"))
        return upgrade(state, json);
    return backup(argv[optind + 1], state, json);
}

const struct gl_cmd cmd_store = {
    "store",
    "copy a live state store safely, or upgrade an older one: store "
    "backup FILE | store upgrade",
    "usage: golive store backup FILE [--state FILE] [--json]\n"
    "       golive store upgrade [--state FILE] [--json]\n"
    "\n"
    "Copy the run's state store into FILE, a new file (mode 0600), with\n"
    "SQLite's online backup: the copy is the store as it was at one event,\n"
    "taken while others go on writing, so that a copy of the night can\n"
    "live on another machine.  Copying the file with cp while golive\n"
    "writes can give a torn copy, and misses what is still in its -wal\n"
    "file.  The copy is opened and its event chain verified before the\n"
    "command says it is done.\n"
    "\n"
    "upgrade migrates a store made by an older golive to this golive's\n"
    "schema (older binaries then refuse it).  Commands that record into\n"
    "the run upgrade it too (and say so); commands that only read\n"
    "(status, report, gate, audit, the list commands) refuse an older\n"
    "store and leave it as it is (exit 3).  backup copies an older store\n"
    "as it is: the way back before an upgrade.\n"
    "\n",
    "exit: 0 copied and verified (upgraded), 1 the copy does not verify,\n"
    "      2 FILE exists or a file cannot be read or written\n",
    run,
};
