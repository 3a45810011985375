/*
 * cmd-crew.c - `golive shift T0 --to TIME` and `golive handover --to Q`:
 * the night changes.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "golive/crew.h"
#include "util/clock.h"

static int shift_run(int argc, char **argv)
{
    struct cli_run r;
    struct gl_err err;
    struct cli_opts o;
    int64_t to, off;
    int rc, tz;
    char from_s[40], to_s[40];

    if ((rc = cli_parse_opts(&cmd_shift, "anstj", argc, argv, &o)) >= 0)
        return rc;
    if (!o.to)
        return cli_usage("shift", "shift needs --to");
    if (argc - optind != 1 || strcmp(argv[optind], "T0"))
        return cli_usage("shift", "shift moves T0: golive shift T0 --to TIME");
    gl_err_clear(&err);
    if ((rc = cli_run_open(&r, o.state, NULL, o.as, 1)))
        goto out;
    if (gl_reltime_parse(o.to, &off) == 0) {
        to = r.info.switch_at + off;
    } else if (gl_time_parse(o.to, &to, &tz) != 0) {
        rc = cli_usage("shift",
                       "--to takes a time with its UTC offset "
                       "(2026-03-14T01:00:00+08:00) or one relative to the "
                       "current T0 (T+1h), not '%s'",
                       o.to);
        goto out;
    }
    gl_time_format(r.info.switch_at, r.info.switch_offset, from_s);
    gl_time_format(to, r.info.switch_offset, to_s);
    if (gl_shift(r.s, r.plan, &r.who, to, o.note, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (o.json)
        cli_print_json(json_pack("{s:s, s:s, s:I, s:s}", "from", from_s, "to",
                                 to_s, "seconds",
                                 (json_int_t)(to - r.info.switch_at), "as",
                                 r.who.person),
                       0);
    else
        printf("T0 moved from %s to %s (%s); every time relative to T0 moves "
               "with it\n",
               from_s, to_s, r.who.person);
out:
    cli_run_close(&r);
    return rc;
}

static int handover_run(int argc, char **argv)
{
    static const char *const kinds[] = {"tasks", "checks", "scenarios",
                                        "defects"};
    static const char *const labels[] = {"tasks to do", "tasks to check",
                                         "scenarios", "defects to fix"};
    struct cli_run r;
    struct gl_err err;
    struct cli_opts o;
    json_t *moved = NULL, *x;
    size_t k, i;
    int rc;

    if ((rc = cli_parse_opts(&cmd_handover, "anstj", argc, argv, &o)) >= 0)
        return rc;
    if (!o.to)
        return cli_usage("handover", "handover needs --to");
    if (argc - optind != 0)
        return cli_usage("handover", "handover takes no arguments");
    gl_err_clear(&err);
    if ((rc = cli_run_open(&r, o.state, NULL, o.as, 1)))
        goto out;
    if (gl_handover(r.s, r.plan, &r.who, o.to, o.note, &moved, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (o.json) {
        json_object_set_new(moved, "from", json_string(r.who.person));
        json_object_set_new(moved, "to", json_string(o.to));
        cli_print_json(moved, 0);
        moved = NULL;
        goto out;
    }
    printf("%s handed over to %s:\n", r.who.person, o.to);
    for (k = 0; k < 4; k++) {
        json_t *a = json_object_get(moved, kinds[k]);
        if (!json_array_size(a))
            continue;
        printf("  %-15s", labels[k]);
        json_array_foreach(a, i, x)
            printf("%s%s", i ? ", " : "", json_string_value(x));
        printf("\n");
    }
out:
    json_decref(moved);
    cli_run_close(&r);
    return rc;
}

const struct gl_cmd cmd_shift = {
    "shift",
    "move the switch (T0) when the release slips (the lead)",
    "usage: golive shift T0 --to TIME --as LEAD [--note TEXT] [--state FILE]\n"
    "                       [--json]\n"
    "\n"
    "Move the run's switch to TIME: an ISO 8601 time with its UTC offset,\n"
    "or a time relative to the current T0 (T+1h moves it an hour later).\n"
    "Every time of the plan written relative to T0 moves with it, and so\n"
    "do the planned times of the tasks that have not started; a task that\n"
    "started keeps the planned times it started with (the report shows\n"
    "them, and the shift).  The event records the old and the new switch.\n"
    "\n"
    "exit: 0 moved, 2 usage or store error, 3 refused (not the lead)\n",
    shift_run,
};

const struct gl_cmd cmd_handover = {
    "handover",
    "hand your open work to someone else (someone has to sleep)",
    "usage: golive handover --as P --to Q [--note TEXT] [--state FILE]\n"
    "                       [--json]\n"
    "\n"
    "Move P's open work to Q: the tasks P owns that are not finished\n"
    "(pending, running, failed), the tasks P checks that are not checked,\n"
    "the scenarios assigned to P or running in P's hands, the defects P is\n"
    "fixing.  Refused when Q would check a task Q does, or Q is not a\n"
    "tester (scenarios) or a dev (fixes).  One event lists what moved.\n"
    "\n"
    "exit: 0 handed over, 2 usage, nothing to hand over or store error,\n"
    "      3 refused\n",
    handover_run,
};
