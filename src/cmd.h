/*
 * cmd.h - the command table of the golive CLI.
 *
 * To add a command: write src/cmd-NAME.c exporting a
 * `const struct gl_cmd cmd_NAME` (name, one-line summary, the help's text
 * before and after its options, and a run function that takes argc/argv
 * with argv[0] = the command's name and returns an exit code), declare it
 * below, add it to cmd_table[] in src/cmd.c and the file to meson.build.
 * The run function declares its options as a table and reads argv with
 * cli_parse() (src/cli.h, src/parse-options.h), which also prints --help:
 * usage, "options:" with a line per option of the table, help_end.  Exit
 * codes follow DESIGN.md: 0 ok, 1 the answer is no, 2 usage / I/O /
 * connection error, 3 refused.
 */
#ifndef GOLIVE_CMD_H
#define GOLIVE_CMD_H

struct gl_cmd {
    const char *name;
    const char *summary;
    const char *usage;    /* --help: synopsis and description */
    const char *help_end; /* --help after the options: "exit: ..." */
    int (*run)(int argc, char **argv);
};

extern const struct gl_cmd cmd_validate;
extern const struct gl_cmd cmd_run;
extern const struct gl_cmd cmd_audit;
extern const struct gl_cmd cmd_status;
extern const struct gl_cmd cmd_demo;
extern const struct gl_cmd cmd_db;
extern const struct gl_cmd cmd_sync;
extern const struct gl_cmd cmd_flow;
extern const struct gl_cmd cmd_diff;
extern const struct gl_cmd cmd_check;
extern const struct gl_cmd cmd_task;
extern const struct gl_cmd cmd_scenario;
extern const struct gl_cmd cmd_defect;
extern const struct gl_cmd cmd_gate;
extern const struct gl_cmd cmd_decide;
extern const struct gl_cmd cmd_rollback;
extern const struct gl_cmd cmd_shift;
extern const struct gl_cmd cmd_handover;
extern const struct gl_cmd cmd_duty;
extern const struct gl_cmd cmd_patch;
extern const struct gl_cmd cmd_report;
extern const struct gl_cmd cmd_store;
extern const struct gl_cmd cmd_serve;
extern const struct gl_cmd cmd_token;
extern const struct gl_cmd cmd_login;
extern const struct gl_cmd cmd_logout;

/* NULL-terminated, in the order `golive --help` lists them. */
extern const struct gl_cmd *const cmd_table[];

#endif
