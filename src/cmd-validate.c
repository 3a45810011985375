/*
 * cmd-validate.c - `golive validate PLAN`: the static completeness check.
 */
#include <string.h>

#include "cli.h"
#include "cmd.h"

static int run(int argc, char **argv)
{
    struct gl_plan *plan = NULL;
    int json = 0, online = 0, rc;
    struct po_option opts[] = {
        OPT_FLAG("online", 0, &online, "also check against the databases"),
        OPT_JSON(&json, "print a JSON array of {file, line, col, severity, "
                        "code, message} instead"),
        OPT_ARGS(1, 1, "one plan file"),
    };

    if ((rc = cli_parse(&cmd_validate, opts, argc, argv)) >= 0)
        return rc;
    rc = cli_check_plan(argv[optind], json, 0, online, &plan);
    gl_plan_free(plan);
    return rc;
}

const struct gl_cmd cmd_validate = {
    "validate",
    "check that a plan is complete and consistent, before any database",
    "usage: golive validate PLAN [--online] [--json]\n"
    "\n"
    "Check the plan file statically: YAML syntax, unknown keys, types,\n"
    "missing fields, references (people, systems, jobs, tasks, checks),\n"
    "owners and checkers, dependency cycles, task times, sync keys and\n"
    "targets, workflows, and passwords written into URLs.\n"
    "\n"
    "Each problem is printed once, in file order, as\n"
    "  plan.yaml:LINE:COL: error|warning: MESSAGE [CODE]\n"
    "\n"
    "With --online it also connects to the plan's databases: tables and\n"
    "columns exist, NOT NULL target columns are filled, types fit (text\n"
    "into integer, longer into shorter, lost precision or digits), every\n"
    "distinct source value of a value-mapped column has a mapping (naming\n"
    "the code and how many rows carry it), zero dates and infinities the\n"
    "target cannot hold are counted per column (rejects, or NULL with\n"
    "'unrepresentable: null'), and every table of a source\n"
    "system is synced or listed under 'exclude'.  Only aggregates and\n"
    "descriptions are queried.\n"
    "\n",
    "exit: 0 no errors (warnings allowed), 1 the plan has errors,\n"
    "      2 usage or I/O error (a database that cannot be reached)\n",
    run,
};
