/*
 * cmd-crew.c - `golive shift T0 --to TIME` and `golive handover --to Q`:
 * the night changes.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "cmd.h"
#include "golive/crew.h"
#include "util/clock.h"

/* `shift` through a server: POST /shift, the same line. */
static int shift_remote(const char *server, const char *as, const char *to,
                        const char *note, int json)
{
    json_t *body = json_pack("{s:s, s:s?}", "to", to, "note", note), *o = NULL;
    struct client c;
    int rc;

    if (!(rc = client_open(&c, server, as)) &&
        !(rc = client_call(&c, "POST", "/shift", body, &o))) {
        if (json)
            cli_print_json(json_incref(o), 0);
        else
            printf("T0 moved from %s to %s (%s); every time relative to T0 "
                   "moves with it\n",
                   json_string_value(json_object_get(o, "from")),
                   json_string_value(json_object_get(o, "to")),
                   json_string_value(json_object_get(o, "as")));
    }
    json_decref(body);
    json_decref(o);
    client_close(&c);
    return rc;
}

static int shift_run(int argc, char **argv)
{
    struct cli_run r;
    struct gl_err err;
    struct cli_opts o;
    const char *server = NULL;
    int64_t to, off;
    int rc, tz;
    char from_s[40], to_s[40];
    struct po_option opts[] = {
        OPT_STRING("to", 0, &o.to, "TIME",
                   "the new switch: an ISO 8601 time with its UTC offset, "
                   "or relative to the current T0 (T+1h)"),
        OPT_AS(&o.as),
        OPT_NOTE(&o.note, "why, for the record"),
        OPT_STATE(&o.state),
        OPT_SERVER(&server),
        OPT_JSON(&o.json, "{from, to, seconds, as}"),
        OPT_ARGS(1, 1, "T0: golive shift T0 --to TIME"),
    };

    memset(&o, 0, sizeof(o));
    if ((rc = cli_parse(&cmd_shift, opts, argc, argv)) >= 0)
        return rc;
    if (!o.to)
        return cli_usage("shift", "shift needs --to");
    if (strcmp(argv[optind], "T0"))
        return cli_usage("shift", "shift moves T0: golive shift T0 --to TIME");
    if ((server = client_server(server, o.state)))
        return shift_remote(server, o.as, o.to, o.note, o.json);
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

/* What a handover moved, for people. */
static void print_moved(json_t *moved, const char *from, const char *to)
{
    static const char *const kinds[] = {"tasks", "checks", "scenarios",
                                        "defects"};
    static const char *const labels[] = {"tasks to do", "tasks to check",
                                         "scenarios", "defects to fix"};
    json_t *x;
    size_t k, i;

    printf("%s handed over to %s:\n", from, to);
    for (k = 0; k < 4; k++) {
        json_t *a = json_object_get(moved, kinds[k]);
        if (!json_array_size(a))
            continue;
        printf("  %-15s", labels[k]);
        json_array_foreach(a, i, x)
            printf("%s%s", i ? ", " : "", json_string_value(x));
        printf("\n");
    }
    if (json_array_size(json_object_get(moved, "refused"))) {
        printf("  %-15s", "not moved");
        json_array_foreach(json_object_get(moved, "refused"), i, x) printf(
            "%s%s", i ? ", " : "", json_string_value(json_object_get(x, "id")));
        printf("\n");
    }
}

/* The defects named (D-N) as numbers into pick (defects has room). */
static int defect_numbers(struct gl_handover_pick *pick, int64_t *defects,
                          const char **dids, size_t n)
{
    size_t i;

    pick->defects = defects;
    for (i = 0; i < n; i++)
        if (!(defects[pick->n_defects++] = cli_id_number(dids[i], 'D')))
            return cli_usage("handover",
                             "'%s' is not a defect id (D-1, D-2...)", dids[i]);
    return EXIT_OK;
}

/* What the handover moved and refused; exit 3 when something was. */
static int print_handover(json_t *moved, const char *from, const char *to,
                          int json)
{
    json_t *x;
    size_t i;
    int rc;

    /* some items may have been refused: they stay, and say why */
    json_array_foreach(json_object_get(moved, "refused"), i, x) cli_error(
        "not handed over: %s", json_string_value(json_object_get(x, "why")));
    rc = json_array_size(json_object_get(moved, "refused")) ? EXIT_REFUSED
                                                            : EXIT_OK;
    if (json) {
        json_object_set_new(moved, "from", json_string(from));
        json_object_set_new(moved, "to", json_string(to));
        cli_print_json(json_incref(moved), 0);
    } else {
        print_moved(moved, from, to);
    }
    return rc;
}

/* `handover` through a server: POST /handover; what was refused is named
 * and exits 3, as here. */
static int handover_remote(const char *server, const char *as, const char *to,
                           const char *note, const struct po_list *tasks,
                           const struct po_list *scen,
                           const struct po_list *defects, int json)
{
    json_t *body = json_pack("{s:s, s:s?}", "to", to, "note", note), *o = NULL,
           *x;
    const struct po_list *lists[] = {tasks, scen, defects};
    static const char *const keys[] = {"tasks", "scenarios", "defects"};
    struct client c;
    size_t i, k;
    int rc;

    for (k = 0; k < 3; k++) {
        json_t *a;
        if (!lists[k]->n)
            continue;
        a = json_array();
        for (i = 0; i < lists[k]->n; i++)
            json_array_append_new(a, json_string(lists[k]->v[i]));
        json_object_set_new(body, keys[k], a);
    }
    if ((rc = client_open(&c, server, as)) ||
        (rc = client_call(&c, "POST", "/handover", body, &o)))
        goto out;
    json_array_foreach(json_object_get(o, "refused"), i, x) cli_error(
        "not handed over: %s", json_string_value(json_object_get(x, "why")));
    rc =
        json_array_size(json_object_get(o, "refused")) ? EXIT_REFUSED : EXIT_OK;
    if (json) {
        /* from and to last, as the local answer has them */
        json_t *from = json_incref(json_object_get(o, "from")),
               *t = json_incref(json_object_get(o, "to"));
        json_object_del(o, "from");
        json_object_del(o, "to");
        json_object_set_new(o, "from", from);
        json_object_set_new(o, "to", t);
        cli_print_json(json_incref(o), 0);
    } else {
        print_moved(o, json_string_value(json_object_get(o, "from")), to);
    }
out:
    json_decref(body);
    json_decref(o);
    client_close(&c);
    return rc;
}

static int handover_run(int argc, char **argv)
{
    const char *as = NULL, *to = NULL, *note = NULL, *state = NULL,
               *server = NULL;
    const char **tasks = NULL, **scen = NULL, **dids = NULL;
    int64_t *defects = NULL;
    struct gl_handover_pick pick;
    struct cli_run r;
    struct gl_err err;
    json_t *moved = NULL;
    int rc, json = 0;
    struct po_list task_list = {NULL, 0, 0}, scen_list = {NULL, 0, 0},
                   defect_list = {NULL, 0, 0};
    struct po_option opts[] = {
        OPT_STRING("to", 0, &to, "Q", "who takes the work"),
        OPT_LIST("task", 0, &task_list, "ID",
                 "hand over this task (to do or to check); repeat for each"),
        OPT_LIST("scenario", 0, &scen_list, "ID",
                 "hand over this scenario; repeat for each"),
        OPT_LIST("defect", 0, &defect_list, "D-N",
                 "hand over the fix of this defect; repeat for each"),
        OPT_AS(&as),
        OPT_NOTE(&note, "why, for the record"),
        OPT_STATE(&state),
        OPT_SERVER(&server),
        OPT_JSON(&json, "{from, to, tasks, checks, scenarios, defects, "
                        "refused: [{kind, id, why}]}"),
        OPT_ARGS(0, 0,
                 "no arguments (name items with --task, --scenario, --defect)"),
    };

    memset(&r, 0, sizeof(r));
    memset(&pick, 0, sizeof(pick));
    /* at most argc of each kind */
    tasks = calloc((size_t)argc + 1, sizeof(*tasks));
    scen = calloc((size_t)argc + 1, sizeof(*scen));
    defects = calloc((size_t)argc + 1, sizeof(*defects));
    dids = calloc((size_t)argc + 1, sizeof(*dids));
    if (!tasks || !scen || !defects || !dids) {
        cli_error("out of memory");
        rc = EXIT_ERROR;
        goto out;
    }
    task_list = (struct po_list){tasks, 0, (size_t)argc};
    scen_list = (struct po_list){scen, 0, (size_t)argc};
    defect_list = (struct po_list){dids, 0, (size_t)argc};
    if ((rc = cli_parse(&cmd_handover, opts, argc, argv)) >= 0)
        goto out;
    pick.tasks = tasks;
    pick.n_tasks = task_list.n;
    pick.scenarios = scen;
    pick.n_scenarios = scen_list.n;
    if ((rc = defect_numbers(&pick, defects, dids, defect_list.n)))
        goto out;
    if (!to) {
        rc = cli_usage("handover", "handover needs --to");
        goto out;
    }
    if ((server = client_server(server, state))) {
        rc = handover_remote(server, as, to, note, &task_list, &scen_list,
                             &defect_list, json);
        goto out;
    }
    gl_err_clear(&err);
    if ((rc = cli_run_open(&r, state, NULL, as, 1)))
        goto out;
    if (gl_handover(r.s, r.plan, &r.who, to, &pick, note, &moved, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    rc = print_handover(moved, r.who.person, to, json);
out:
    json_decref(moved);
    cli_run_close(&r);
    free(tasks);
    free(scen);
    free(defects);
    free(dids);
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
    "Once the switch happened (a task of the release stage started) or the\n"
    "rollback started, T0 does not move any more.\n"
    "\n",
    "exit: 0 moved, 2 usage or store error, 3 refused (not the lead, or\n"
    "      the switch happened or the run is rolling back)\n",
    shift_run,
};

const struct gl_cmd cmd_handover = {
    "handover",
    "hand your open work to someone else (someone has to sleep)",
    "usage: golive handover --as P --to Q [--task ID]... [--scenario ID]...\n"
    "                       [--defect D-N]... [--note TEXT] [--state FILE]\n"
    "                       [--json]\n"
    "\n"
    "Move P's open work to Q: what --task, --scenario and --defect name\n"
    "(each may be given again), else all of it: the tasks P owns that are\n"
    "not finished (pending, running, failed), the tasks P checks that are\n"
    "not checked, the scenarios assigned to P or running in P's hands, the\n"
    "defects P is fixing.  An item Q may not take stays with P, each named\n"
    "with the reason: Q would check a task Q does (or do one Q checks), Q\n"
    "is not a tester (scenarios) or a dev (fixes), or the item is not P's\n"
    "open work.  The rest moves; one event lists what moved and what\n"
    "stayed.\n"
    "\n",
    "exit: 0 all handed over, 2 usage, no such item, nothing to hand over\n"
    "      or store error, 3 something (or everything) refused: what moved\n"
    "      is printed, what stayed is named on stderr\n",
    handover_run,
};
