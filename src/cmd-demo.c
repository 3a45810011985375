/*
 * cmd-demo.c - `golive demo`: build the demo go-live, validate its plan and
 * start a rehearsal run of it.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "demo/demo.h"
#include "golive/db.h"
#include "util/clock.h"

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"rows", required_argument, NULL, 'r'},
        {"force", no_argument, NULL, 'f'},
        {"target", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct gl_demo_opts o;
    struct gl_demo_stats st;
    struct gl_plan *plan = NULL;
    struct gl_err err;
    char state[4200], sidecar[4300], when[40];
    char *end;
    int c, rc, online;

    memset(&o, 0, sizeof(o));
    o.dir = "golive-demo";
    o.rows = 100000;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o.dir = optarg;
            break;
        case 'r':
            o.rows = strtoll(optarg, &end, 10);
            if (*end || end == optarg)
                return cli_usage("demo", "--rows takes a number");
            break;
        case 'f':
            o.force = 1;
            break;
        case 't':
            o.target = optarg;
            break;
        case 'h':
            fputs(cmd_demo.usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage("demo", "unknown option");
        }
    }
    if (argc != optind)
        return cli_usage("demo", "demo takes no arguments");
    if (gl_clock_now(&o.now)) {
        cli_error("GOLIVE_NOW is not an ISO 8601 time with an offset");
        return EXIT_ERROR;
    }
    gl_err_clear(&err);
    snprintf(state, sizeof(state), "%s/golive.state", o.dir);
    if (!o.force && access(state, F_OK) == 0) {
        cli_error("'%s' already holds a demo run; use --force to replace it",
                  o.dir);
        return EXIT_REFUSED;
    }

    printf("$ golive demo --dir %s --rows %" PRId64 "\n", o.dir, o.rows);
    fflush(stdout);
    if ((rc = gl_demo_build(&o, &st, &err)))
        return cli_fail(&err);
    gl_time_format(st.switch_at, 480, when);
    printf("old system  %s: %" PRId64 " departments, %" PRId64
           " employees, %" PRId64 " expense claims, %" PRId64
           " leave requests, %" PRId64 " approval steps\n",
           st.old_path, st.departments, st.employees, st.expenses, st.leaves,
           st.approvals);
    {
        char *safe = gl_db_redact_url(st.new_url);
        printf("new system  %s: empty schema of OA v2\n",
               o.target ? (safe ? safe : "?") : st.new_path);
        free(safe);
    }
    printf("plan        %s: switch at %s\n\n", st.plan_path, when);

    printf("$ golive validate %s\n", st.plan_path);
    fflush(stdout);
    rc = cli_load_plan(st.plan_path, 0, 0, &plan);
    gl_plan_free(plan);
    if (rc)
        return rc;

    /* a fresh run: the old store (and its WAL files) go with --force */
    unlink(state);
    snprintf(sidecar, sizeof(sidecar), "%s-wal", state);
    unlink(sidecar);
    snprintf(sidecar, sizeof(sidecar), "%s-shm", state);
    unlink(sidecar);
    printf("\n$ golive run start %s --rehearsal --as zhang\n", st.plan_path);
    fflush(stdout);
    if ((rc = cli_run_start(st.plan_path, state, 1, "zhang", 0)))
        return rc;

    /* the night's first finding: a legacy code nobody mapped */
    printf("\n$ golive validate %s --online\n", st.plan_path);
    fflush(stdout);
    plan = NULL;
    online = cli_check_plan(st.plan_path, 0, 0, 1, &plan);
    gl_plan_free(plan);
    if (online == EXIT_ERROR)
        return online;

    printf("\n$ golive sync %s --as wang\n", st.plan_path);
    fflush(stdout);
    {
        char *av[] = {"sync", st.plan_path, "--state", state,
                      "--as", "wang",       NULL};
        rc = cmd_sync.run(6, av);
    }
    if (rc == EXIT_ERROR || rc == EXIT_REFUSED)
        return rc;

    /* what the checks find after the loads */
    printf("\n$ golive check %s --as lifei\n", st.plan_path);
    fflush(stdout);
    {
        char *av[] = {"check", st.plan_path, "--state", state,
                      "--as",  "lifei",      NULL};
        rc = cmd_check.run(6, av);
    }
    if (rc == EXIT_ERROR)
        return rc;
    printf("\nnext: golive status --state %s\n"
           "      golive audit verify --state %s\n",
           state, state);
    return EXIT_OK;
}

const struct gl_cmd cmd_demo = {
    "demo",
    "build a demo go-live (legacy OA -> OA v2) and start a rehearsal run",
    "usage: golive demo [--dir DIR] [--rows N] [--target URL] [--force]\n"
    "\n"
    "Build a realistic old system in SQLite (a legacy office-approval\n"
    "system: departments, employees, expense and leave requests in the old\n"
    "status codes, approval history, rejected requests), the new system's\n"
    "schema, and a complete plan for the night; validate the plan, start\n"
    "a rehearsal run, check the plan against the databases (it finds the\n"
    "legacy status code nobody mapped) and sync the old system into the new\n"
    "one.  Leaves old.db, new.db, plan.yaml, golive.state and rejects/ in\n"
    "DIR.\n"
    "\n"
    "options:\n"
    "  --dir DIR   where to build it (default ./golive-demo)\n"
    "  --rows N    expense claims in the old system (default 100000; leave\n"
    "              requests are half as many)\n"
    "  --target URL  build the new system in this PostgreSQL or MySQL\n"
    "              database instead of new.db (its demo tables are\n"
    "              replaced with --force)\n"
    "  --force     replace a demo already in DIR\n"
    "\n"
    "exit: 0 built and started, 1 the plan has errors, 2 I/O error,\n"
    "      3 DIR already holds a demo (use --force)\n",
    run,
};
