/*
 * cli.h - what every command shares: exit codes, messages, where the state
 * store is, who the actor is, and printing plan diagnostics.  Only src/
 * prints; the library returns codes and messages.
 */
#ifndef GOLIVE_CLI_H
#define GOLIVE_CLI_H

#include <stdio.h>
#include <unistd.h> /* optind, where cli_parse leaves it */

#include <jansson.h>

#include "golive/db.h"
#include "golive/diag.h"
#include "golive/golive.h"
#include "golive/plan.h"
#include "golive/store.h"
#include "parse-options.h"

enum { EXIT_OK = 0, EXIT_NO = 1, EXIT_ERROR = 2, EXIT_REFUSED = 3 };

/* The exit code for a library code (DESIGN.md conventions). */
int cli_exit_code(int code);

/* "golive: error: ..." / "golive: warning: ..." on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print err's message and return its exit code. */
int cli_fail(const struct gl_err *err);

/* gl_store_open, saying on stderr when it upgraded an older store's
 * schema (older golive binaries refuse it from then on). */
int cli_store_open(const char *path, int flags, gl_store **s,
                   struct gl_err *err);

/* The check once after building in b (util/buf.h): EXIT_OK when every
 * append succeeded, else the failure said ("out of memory", or "<what> is
 * larger than N MiB") and its exit code. */
struct gl_buf;
int cli_buf_check(const struct gl_buf *b, const char *what);

/* A usage error: the message, a pointer to --help; returns EXIT_ERROR. */
int cli_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "s" unless n is 1, for a plural: printf("%lld task%s", n, cli_s(n)). */
const char *cli_s(long long n);

/* Set the library's clock from GOLIVE_NOW (ISO 8601 with an offset), so a
 * night can be replayed: read here, once per command, and nowhere in the
 * library.  Unset or empty: the system clock; malformed: a broken clock,
 * and the commands that need the time say so. */
void cli_clock_from_env(void);

/* The state store's path: --state, else GOLIVE_STATE, else golive.state
 * beside the plan (when the command took one), else in the current folder.
 * Writes into buf (size n) and returns it. */
const char *cli_state_path(const char *opt_state, const char *plan_path,
                           char *buf, size_t n);

/* The actor: --as, else GOLIVE_USER, else the OS user.  When a person was
 * named and plan is given, the person must be in the plan (GL_EREFUSED
 * otherwise, with the list of people in err).  The strings live in static
 * storage until the next call. */
int cli_actor(const char *opt_as, const struct gl_plan *plan,
              struct gl_actor *who, struct gl_err *err);

/* Print diagnostics: text lines "file:line:col: error: message [code]" to
 * out, or one JSON array when json is set. */
void cli_print_diags(FILE *out, const struct gl_diags *d, int json);

/* The plan argument that names the run's own copy of the plan, in the
 * store at GOLIVE_STATE (else ./golive.state): what tasks with run: use. */
#define CLI_RUN_PLAN "@run"

/* The paragraph of the help of a command that takes CLI_RUN_PLAN and
 * --plan-changed (sync, check). */
#define CLI_HELP_RUN_PLAN                                                      \
    "PLAN '@run' is the run's own copy of the plan (in $GOLIVE_STATE, else\n"  \
    "./golive.state): what a task's run: uses.  A plan file that differs\n"    \
    "from the run's plan is refused (exit 3) unless --plan-changed; 'golive\n" \
    "run amend' takes a new plan into the run.\n"

/* Load and check a plan file (or CLI_RUN_PLAN).  Returns EXIT_OK, EXIT_NO (plan
 * errors, printed) or EXIT_ERROR (not readable).  *plan is set on EXIT_OK (and
 * on EXIT_NO when the plan loaded at all); the caller frees it.  When print is
 * 0, only problems are printed, never the "ok" line. */
int cli_load_plan(const char *path, int json, int quiet, struct gl_plan **plan);

/* cli_load_plan, and with online the checks against the databases
 * (validate --online); EXIT_ERROR when a database cannot be reached. */
int cli_check_plan(const char *path, int json, int quiet, int online,
                   struct gl_plan **plan);

/* Start a run of the plan at plan_path in the store at state (`run start`,
 * also used by `demo`).  Prints what it did (JSON when json); returns an
 * exit code. */
int cli_run_start(const char *plan_path, const char *state, int rehearsal,
                  const char *as, int json);

/* A value as JSON: integers as numbers, exact numerics as strings, bytes
 * as hex, times as ISO 8601 (DESIGN.md).  New reference. */
json_t *cli_value_json(const struct gl_value *v);

/* An open run: the store, the run's record and its own copy of the plan
 * (which decides, whatever the file on disk says), and the actor. */
struct cli_run {
    gl_store *s;
    struct gl_plan *plan;
    struct gl_run_info info;
    struct gl_actor who;
    int64_t now; /* GOLIVE_NOW or the clock */
    char state[4096];
};

/* Open the run in the store (--state, GOLIVE_STATE, beside plan_arg or
 * ./golive.state).  With need_person, the actor (--as / GOLIVE_USER) must
 * be a person of the run's plan; without, the command only reads (a
 * store of an older schema is refused, not migrated: GL_STORE_READ).  Prints
 * what went wrong and returns its exit code; EXIT_OK with r filled.
 * cli_run_close() in every case. */
int cli_run_open(struct cli_run *r, const char *state_opt, const char *plan_arg,
                 const char *as, int need_person);
void cli_run_close(struct cli_run *r);

/* "D-12" (prefix 'D', either case) or "12" -> 12; 0 when neither. */
int64_t cli_id_number(const char *s, char prefix);

/* The options many commands share, as a place for their values
 * (OPT_AS(&o.as), OPT_STATE(&o.state), ... in the command's table). */
struct cli_opts {
    const char *as, *note, *state, *to;
    int json;
};

/* Read a command's arguments by its option table (src/parse-options.h):
 * the values go where the table says, and optind is left at the first
 * positional argument, as getopt_long leaves it (argv is reordered so that
 * they come last).  Returns -1 to go on; else the exit code: EXIT_OK when
 * --help was asked (printed by cli_help), EXIT_ERROR after a usage error
 * (printed in the shape of cli_usage: "golive: usage: --jobs takes a whole
 * number from 1 to 64, not '3abc'" and "see 'golive diff --help'"). */
struct gl_cmd;
int cli_parse(const struct gl_cmd *cmd, const struct po_option *opts, int argc,
              char **argv);

/* The command's --help: its usage text, "options:" and a line per option
 * of opts (none when opts is NULL or lists none), then its help_end. */
void cli_help(FILE *out, const struct gl_cmd *cmd,
              const struct po_option *opts);

/* A sync or check run by hand on the plan file at plan_path (not @run)
 * while the store at state holds a run: the file must be the run's current
 * plan.  One that differs is refused (EXIT_REFUSED, both hashes named,
 * `run amend` the way to take it into the run) unless plan_changed: then
 * it runs and sha gets the file's SHA-256, to be recorded with the
 * executions; sha is "" when the file is the run's plan (or there is no
 * run).  EXIT_OK to go on, else the exit code (printed). */
int cli_plan_matches_run(const char *plan_path, const char *state,
                         int plan_changed, char sha[65]);

/* Print a JSON value (indented or one line) and drop the reference. */
void cli_print_json(json_t *v, int indent);

/* Whether stdout / stderr is a terminal (for colour and progress). */
int cli_isatty_err(void);

#endif
