/*
 * main.c - the golive CLI: global options, then one command from the table
 * in cmd.c.  Commands live in src/cmd-<name>.c.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cmd.h"
#include "golive/golive.h"
#include "util/suggest.h"

static void usage(FILE *out)
{
    size_t i;

    fprintf(out, "usage: golive COMMAND [ARGS] [--help]\n\n"
                 "golive runs the night a team switches production from an "
                 "old system to a new one.\n\ncommands:\n");
    for (i = 0; cmd_table[i]; i++)
        fprintf(out, "  %-10s %s\n", cmd_table[i]->name, cmd_table[i]->summary);
    fprintf(out, "\n'golive COMMAND --help' tells more about each one.\n"
                 "Exit codes: 0 ok, 1 the answer is no, 2 usage or I/O "
                 "error, 3 refused.\n");
}

static const struct gl_cmd *find(const char *name)
{
    size_t i;

    for (i = 0; cmd_table[i]; i++)
        if (!strcmp(cmd_table[i]->name, name))
            return cmd_table[i];
    return NULL;
}

int main(int argc, char **argv)
{
    const struct gl_cmd *cmd;

    /* Files golive writes hold rows or people's details (rejects, task
     * output, reports, fix SQL, the demo's databases, the store): the
     * owner's only, in folders of mode 0700 (DESIGN.md, data safety).
     * run: shell commands inherit it. */
    umask(077);
    if (argc < 2) {
        usage(stderr);
        return EXIT_ERROR;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("golive %s\n", GOLIVE_VERSION);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "help")) {
        if (argc < 3) {
            usage(stdout);
            return EXIT_OK;
        }
        if (!(cmd = find(argv[2])))
            return cli_usage("help", "no command '%s'", argv[2]);
        {
            /* the command prints its own help, options from its table */
            char *hargv[] = {argv[2], "--help", NULL};
            return cmd->run(2, hargv);
        }
    }
    if (!(cmd = find(argv[1]))) {
        const char *names[32];
        const char *hint;
        size_t n = 0;
        while (cmd_table[n] && n < 32) {
            names[n] = cmd_table[n]->name;
            n++;
        }
        hint = gl_suggest(argv[1], names, n);
        cli_error("no command '%s'%s%s%s; see 'golive --help'", argv[1],
                  hint ? "; did you mean '" : "", hint ? hint : "",
                  hint ? "'?" : "");
        return EXIT_ERROR;
    }
    cli_clock_from_env();
    return cmd->run(argc - 1, argv + 1);
}
