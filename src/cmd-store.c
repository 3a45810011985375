/*
 * cmd-store.c - `golive store backup FILE`: copy a live state store into a
 * new file (SQLite's online backup) while others go on writing, so that a
 * copy of the night can live on another machine.
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"

static int backup(int argc, char **argv)
{
    struct cli_opts o;
    char path[4096];
    struct gl_err err;
    gl_store *s = NULL;
    int64_t events = 0;
    int rc;

    if ((rc = cli_parse_opts(&cmd_store, "sj", argc, argv, &o)) >= 0)
        return rc;
    if (argc - optind != 1)
        return cli_usage("store", "store backup takes the copy's file name");
    gl_err_clear(&err);
    cli_state_path(o.state, NULL, path, sizeof(path));
    if ((rc = gl_store_open(path, 0, &s, &err)) ||
        (rc = gl_store_backup(s, argv[optind], &events, &err))) {
        gl_store_close(s);
        return cli_fail(&err);
    }
    gl_store_close(s);
    if (o.json)
        cli_print_json(json_pack("{s:s, s:s, s:I}", "state", path, "copy",
                                 argv[optind], "events", (json_int_t)events),
                       1);
    else
        printf("%s: copied to %s (%" PRId64 " event%s, chain intact)\n", path,
               argv[optind], events, events == 1 ? "" : "s");
    return EXIT_OK;
}

static int run(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(cmd_store.usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_ERROR : EXIT_OK;
    }
    if (!strcmp(argv[1], "backup"))
        return backup(argc - 1, argv + 1);
    return cli_usage("store", "unknown subcommand 'store %s'", argv[1]);
}

const struct gl_cmd cmd_store = {
    "store",
    "copy a live state store safely: store backup FILE",
    "usage: golive store backup FILE [--state FILE] [--json]\n"
    "\n"
    "Copy the run's state store into FILE, a new file (mode 0600), with\n"
    "SQLite's online backup: the copy is the store as it was at one event,\n"
    "taken while others go on writing, so that a copy of the night can\n"
    "live on another machine.  Copying the file with cp while golive\n"
    "writes can give a torn copy, and misses what is still in its -wal\n"
    "file.  The copy is opened and its event chain verified before the\n"
    "command says it is done.\n"
    "\n"
    "options:\n"
    "  --state FILE    the store to copy (default: $GOLIVE_STATE, else\n"
    "                  ./golive.state)\n"
    "  --json          print {state, copy, events} as JSON\n"
    "\n"
    "exit: 0 copied and verified, 1 the copy does not verify, 2 FILE\n"
    "      exists or a file cannot be read or written\n",
    run,
};
