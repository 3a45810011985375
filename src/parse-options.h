/*
 * parse-options.h - a command's options, declared once as a table.
 *
 * Each command lists its options in an array of struct po_option (long
 * name, short letter, kind, where the value goes, the value's name and a
 * help line), ended by OPT_END(), in the manner of git's parse-options.h.
 * po_parse() reads argv against it: it checks every value (whole numbers
 * with an end and a range check, durations, enumerations by name with a
 * "did you mean"), counts the positional arguments, and leaves them after
 * the options, in order, as getopt_long does.  po_help() writes the
 * options part of --help from the same table.  Neither prints: src/cli.c
 * (cli_parse) prints the help or the usage error.
 *
 * The table ends with what the command takes besides options: OPT_END()
 * nothing, OPT_ARGS(min, max, "what they are") positional arguments, or
 * OPT_SUBCOMMANDS(subs) a subcommand and its own arguments (as tmux's
 * cmd_entry args template: one place says it all).  The tables usually
 * live in the command's function, pointing at its locals:
 *
 *     int json = 0, jobs = 1;
 *     struct po_option opts[] = {
 *         OPT_INT("jobs", 0, &jobs, 1, 64, "N", "run up to N at once"),
 *         OPT_JSON(&json, "print JSON"),
 *         OPT_ARGS(1, 1, "one plan file"),
 *     };
 *     if ((rc = cli_parse(&cmd_x, opts, argc, argv)) >= 0)
 *         return rc;
 */
#ifndef GOLIVE_PARSE_OPTIONS_H
#define GOLIVE_PARSE_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

enum po_kind {
    PO_END = 0,  /* ends the table: OPT_END, OPT_ARGS, OPT_SUBCOMMANDS */
    PO_FLAG,     /* int *: set to 1; takes no value */
    PO_STRING,   /* const char **: the value (the last one given) */
    PO_INT,      /* int *: a whole number within [min, max] */
    PO_INT64,    /* int64_t *: a whole number within [min, max] */
    PO_DURATION, /* int64_t *: seconds, "15m", "1h30m" (util/clock.h) */
    PO_ENUM,     /* int *: the value of the choice named */
    PO_LIST,     /* struct po_list *: every value, in order (repeatable) */
};

/* not listed by po_help (internal options) */
#define PO_HIDDEN 1

/* One name an enumeration takes and the value it stores. */
struct po_choice {
    const char *name;
    int value;
};

/* Where a repeatable option's values go: v holds cap pointers (into argv);
 * n counts them.  More than cap is a usage error. */
struct po_list {
    const char **v;
    size_t n, cap;
};

/* A subcommand: its name, then how many positional arguments follow it
 * (max -1: any number) and what they are, for the message ("a URL and a
 * table"; NULL when it takes none). */
struct po_sub {
    const char *name;
    int min, max;
    const char *args;
};

struct po_option {
    enum po_kind kind;
    const char *name; /* long name, without "--" */
    char short_name;  /* 0: none */
    void *value;      /* where the value goes (see enum po_kind) */
    const char *arg;  /* the value's name in --help: "N", "FILE"; on the
                       * PO_END entry, what the arguments are */
    const char *help; /* one paragraph; po_help wraps it */
    int64_t min, max; /* PO_INT, PO_INT64, PO_DURATION; on the PO_END
                       * entry, how many positional arguments (max -1:
                       * any number) */
    const struct po_choice *choices; /* PO_ENUM, ended by {NULL, 0} */
    const struct po_sub *subs;       /* PO_END: the first positional argument
                                      * names one of these (ended by {NULL});
                                      * its own counts apply to the rest, and
                                      * "help" alone asks for help */
    int flags;                       /* PO_HIDDEN */
};

#define OPT_FLAG(l, s, v, h)                                                   \
    {                                                                          \
        .kind = PO_FLAG, .name = (l), .short_name = (s), .value = (v),         \
        .help = (h)                                                            \
    }
#define OPT_STRING(l, s, v, a, h)                                              \
    {                                                                          \
        .kind = PO_STRING, .name = (l), .short_name = (s), .value = (v),       \
        .arg = (a), .help = (h)                                                \
    }
#define OPT_INT(l, s, v, lo, hi, a, h)                                         \
    {                                                                          \
        .kind = PO_INT, .name = (l), .short_name = (s), .value = (v),          \
        .arg = (a), .help = (h), .min = (lo), .max = (hi)                      \
    }
#define OPT_INT64(l, s, v, lo, hi, a, h)                                       \
    {                                                                          \
        .kind = PO_INT64, .name = (l), .short_name = (s), .value = (v),        \
        .arg = (a), .help = (h), .min = (lo), .max = (hi)                      \
    }
#define OPT_DURATION(l, s, v, lo, hi, a, h)                                    \
    {                                                                          \
        .kind = PO_DURATION, .name = (l), .short_name = (s), .value = (v),     \
        .arg = (a), .help = (h), .min = (lo), .max = (hi)                      \
    }
#define OPT_ENUM(l, s, v, c, a, h)                                             \
    {                                                                          \
        .kind = PO_ENUM, .name = (l), .short_name = (s), .value = (v),         \
        .arg = (a), .help = (h), .choices = (c)                                \
    }
#define OPT_LIST(l, s, v, a, h)                                                \
    {                                                                          \
        .kind = PO_LIST, .name = (l), .short_name = (s), .value = (v),         \
        .arg = (a), .help = (h)                                                \
    }
#define OPT_HIDDEN_STRING(l, v)                                                \
    {                                                                          \
        .kind = PO_STRING, .name = (l), .value = (v), .arg = "VALUE",          \
        .flags = PO_HIDDEN                                                     \
    }
/* The end of the table: no positional arguments; lo to hi of them (hi
 * -1: any number), what saying what they are ("one plan file"); or a
 * subcommand of subs and its own arguments. */
#define OPT_END()                                                              \
    {                                                                          \
        .kind = PO_END                                                         \
    }
#define OPT_ARGS(lo, hi, what)                                                 \
    {                                                                          \
        .kind = PO_END, .min = (lo), .max = (hi), .arg = (what)                \
    }
#define OPT_SUBCOMMANDS(s)                                                     \
    {                                                                          \
        .kind = PO_END, .subs = (s)                                            \
    }

/* The entries every command that takes them spells the same way. */
#define OPT_STATE(v)                                                           \
    OPT_STRING("state", 0, (v), "FILE",                                        \
               "the state store (default: $GOLIVE_STATE, else "                \
               "golive.state beside the plan when one is named, else "         \
               "./golive.state)")
#define OPT_AS(v)                                                              \
    OPT_STRING("as", 0, (v), "PERSON",                                         \
               "who you are, for the record (default: $GOLIVE_USER, else "     \
               "the OS user); a person named must be in the plan")
/* A run command through a server (src/client.h; #12.1's one spelling). */
#define OPT_SERVER(v)                                                          \
    OPT_STRING("server", 0, (v), "URL",                                        \
               "work through the golive server at URL (default: "              \
               "$GOLIVE_SERVER, unless --state names a store) as the "         \
               "person of the token in $GOLIVE_TOKEN, else the one "           \
               "'golive login URL' stored")
#define OPT_JSON(v, h) OPT_FLAG("json", 0, (v), (h))
#define OPT_NOTE(v, h) OPT_STRING("note", 0, (v), "TEXT", (h))
#define OPT_PLAN_CHANGED(v)                                                    \
    OPT_FLAG("plan-changed", 0, (v),                                           \
             "run the plan file although it is not the run's plan; its "       \
             "SHA-256 is recorded with each result (plan_sha256)")

/* No upper bound for OPT_INT64 / OPT_DURATION. */
#define PO_NO_MAX INT64_MAX

enum { PO_OK = 0, PO_HELP = 1, PO_USAGE = -1 };

/* Parse argv[1..argc-1] (argv[0] names the command, cmd: "diff", "audit",
 * for messages) by the table opts.  Values go where the table says; argv
 * is reordered so that the options come first and the positional
 * arguments after them, in their order; *first is the index of the first
 * one, and their count is checked against the table's end.  "--" ends
 * the options (and stays before the arguments, as getopt leaves it);
 * "--name=value" and "--name value" are the same; a long name may be
 * shortened while it stays unambiguous; -h and --help ask for help.
 * Returns PO_OK, PO_HELP (--help met; nothing after it read), or PO_USAGE
 * with the message in msg (one line: "--jobs takes a whole number from 1
 * to 64, not '3abc'"). */
int po_parse(const struct po_option *opts, const char *cmd, int argc,
             char **argv, int *first, struct gl_buf *msg);

/* Append the options part of --help for opts: one entry per option not
 * hidden, "  --name ARG" and its help wrapped to 79 columns.  Adds
 * nothing when every option is hidden. */
void po_help(const struct po_option *opts, struct gl_buf *out);

/* Append what option o takes, for a message: "a whole number from 1 to
 * 64", "us, ms or s", "FILE". */
void po_describe(const struct po_option *o, struct gl_buf *out);

#endif
