/*
 * cmd-status.c - `golive status`: the run at a glance.
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/sha256.h"

/* Warn when the plan on disk is no longer the version the run holds.
 * Returns 1 when it differs, 0 when equal or unreadable. */
static int plan_changed(const char *path, const struct gl_run_info *info)
{
    struct gl_buf b = GL_BUF_INIT;
    char hex[GL_SHA256_HEX];
    int changed = 0;

    if (!gl_buf_read_file(&b, path, 0) && !gl_sha256_hex(b.data, b.len, hex) &&
        strcmp(hex, info->plan_sha256)) {
        cli_warn("plan '%s' changed on disk since the run took version %d; "
                 "this status uses the run's copy ('golive run amend' takes "
                 "a new version)",
                 path, info->plan_version);
        changed = 1;
    }
    gl_buf_release(&b);
    return changed;
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"state", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int64_t count[GL_STAGE_COUNT][GL_TASK_STATE_COUNT];
    int64_t total[GL_TASK_STATE_COUNT], all = 0, now;
    const char *state = NULL, *plan_arg = NULL;
    char path[4096], t_now[40], t_switch[40], rel[32];
    struct gl_run_info info;
    struct gl_err err;
    gl_store *s = NULL;
    int json = 0, c, rc, i, j, changed;

    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            state = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            fputs(cmd_status.usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage("status", "unknown option");
        }
    }
    if (argc - optind > 1)
        return cli_usage("status", "status takes at most one plan file");
    if (argc - optind == 1)
        plan_arg = argv[optind];
    if (gl_clock_now(&now)) {
        cli_error("GOLIVE_NOW is not an ISO 8601 time with an offset");
        return EXIT_ERROR;
    }
    memset(&info, 0, sizeof(info));
    gl_err_clear(&err);
    cli_state_path(state, plan_arg, path, sizeof(path));
    if ((rc = gl_store_open(path, 0, &s, &err)) ||
        (rc = gl_store_run_info(s, &info, &err)) ||
        (rc = gl_store_task_counts(s, count, &err))) {
        rc = cli_fail(&err);
        goto out;
    }
    changed = plan_changed(plan_arg ? plan_arg : info.plan_path, &info);
    gl_time_format(now, info.switch_offset, t_now);
    gl_time_format(info.switch_at, info.switch_offset, t_switch);
    gl_reltime_format(now - info.switch_at, rel);
    memset(total, 0, sizeof(total));
    for (i = 0; i < GL_STAGE_COUNT; i++)
        for (j = 0; j < GL_TASK_STATE_COUNT; j++) {
            total[j] += count[i][j];
            all += count[i][j];
        }

    if (json) {
        json_t *o = json_object(), *stages = json_object(), *tot;
        char *outs;
        for (i = 0; i < GL_STAGE_COUNT; i++) {
            json_t *st = json_object();
            for (j = 0; j < GL_TASK_STATE_COUNT; j++)
                json_object_set_new(st, gl_task_state_name(j),
                                    json_integer(count[i][j]));
            json_object_set_new(stages, gl_stage_name(i), st);
        }
        tot = json_object();
        for (j = 0; j < GL_TASK_STATE_COUNT; j++)
            json_object_set_new(tot, gl_task_state_name(j),
                                json_integer(total[j]));
        json_object_set_new(tot, "all", json_integer(all));
        json_object_set_new(o, "run_id", json_string(info.run_id));
        json_object_set_new(o, "cutover", json_string(info.cutover));
        json_object_set_new(o, "rehearsal", json_boolean(info.rehearsal));
        json_object_set_new(o, "switch_at", json_string(t_switch));
        json_object_set_new(o, "now", json_string(t_now));
        json_object_set_new(o, "t", json_string(rel));
        json_object_set_new(o, "t_seconds", json_integer(now - info.switch_at));
        json_object_set_new(o, "plan_version", json_integer(info.plan_version));
        json_object_set_new(o, "plan_sha256", json_string(info.plan_sha256));
        json_object_set_new(o, "plan_changed", json_boolean(changed));
        json_object_set_new(o, "events", json_integer(info.events));
        json_object_set_new(o, "tasks", stages);
        json_object_set_new(o, "totals", tot);
        outs = json_dumps(o, JSON_INDENT(2));
        printf("%s\n", outs ? outs : "{}");
        free(outs);
        json_decref(o);
        rc = EXIT_OK;
        goto out;
    }

    printf("%s: %s run %s, plan version %d (sha256 %.12s)\n", info.cutover,
           info.rehearsal ? "rehearsal" : "live", info.run_id,
           info.plan_version, info.plan_sha256);
    printf("switch at %s; now %s (%s); %" PRId64 " events\n\n", t_switch, t_now,
           rel, info.events);
    printf("%-10s", "stage");
    for (j = 0; j < GL_TASK_STATE_COUNT; j++)
        printf(" %8s", gl_task_state_name(j));
    printf(" %8s\n", "total");
    for (i = 0; i < GL_STAGE_COUNT; i++) {
        int64_t row = 0;
        for (j = 0; j < GL_TASK_STATE_COUNT; j++)
            row += count[i][j];
        if (!row)
            continue;
        printf("%-10s", gl_stage_name(i));
        for (j = 0; j < GL_TASK_STATE_COUNT; j++)
            printf(" %8" PRId64, count[i][j]);
        printf(" %8" PRId64 "\n", row);
    }
    printf("%-10s", "total");
    for (j = 0; j < GL_TASK_STATE_COUNT; j++)
        printf(" %8" PRId64, total[j]);
    printf(" %8" PRId64 "\n", all);
    rc = EXIT_OK;
out:
    gl_run_info_release(&info);
    gl_store_close(s);
    return rc;
}

const struct gl_cmd cmd_status = {
    "status",
    "where the run stands: time against the plan, tasks by stage and state",
    "usage: golive status [PLAN] [--state FILE] [--json]\n"
    "\n"
    "Show the run at a glance: the switch time and now (T-relative), and\n"
    "the tasks per stage and state.  The run's own copy of the plan is used;\n"
    "a warning says when the plan file on disk differs from it.\n"
    "\n"
    "options:\n"
    "  --state FILE    the store (default: $GOLIVE_STATE, else golive.state\n"
    "                  beside PLAN, else ./golive.state)\n"
    "  --json          the same as JSON, for a dashboard\n"
    "\n"
    "GOLIVE_NOW (ISO 8601) replaces the clock, to replay a night.\n"
    "\n"
    "exit: 0 shown, 2 no store, no run, or the store cannot be read\n",
    run,
};
