/*
 * cmd-gate.c - go / no-go: `golive gate`, `golive decide`, `golive
 * rollback`.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "golive/runbook.h"
#include "cmd.h"
#include "golive/gate.h"

/* Print the gate's evaluation; 1 when it passes. */
static int print_gate(json_t *g)
{
    json_t *r;
    size_t i;
    int passed = json_is_true(json_object_get(g, "passed"));

    json_array_foreach(json_object_get(g, "rules"), i, r)
    {
        printf("%-5s %-20s %s\n",
               json_is_true(json_object_get(r, "passed")) ? "ok" : "NO",
               json_string_value(json_object_get(r, "rule")),
               json_string_value(json_object_get(r, "detail")));
    }
    if (!json_array_size(json_object_get(g, "rules")))
        printf("the plan states no go criteria\n");
    printf("gate: %s\n", passed ? "GO" : "NO-GO");
    return passed;
}

/* `gate` through a server: GET /gate, the same rendering and exit. */
static int gate_remote(const char *server, int json)
{
    struct client c;
    json_t *g = NULL;
    int rc;

    if (!(rc = client_open(&c, server, NULL)) &&
        !(rc = client_call(&c, "GET", "/gate", NULL, &g))) {
        if (json) {
            rc = json_is_true(json_object_get(g, "passed")) ? EXIT_OK : EXIT_NO;
            cli_print_json(json_incref(g), 1);
        } else {
            rc = print_gate(g) ? EXIT_OK : EXIT_NO;
        }
    }
    json_decref(g);
    client_close(&c);
    return rc;
}

/* `decide` through a server: POST /decisions. */
static int decide_remote(const char *server, const char *as,
                         const char *decision, const char *note, int json)
{
    json_t *body = json_pack("{s:s, s:s?}", "decision", decision, "note", note),
           *o = NULL;
    struct client c;
    int rc;

    if (!(rc = client_open(&c, server, as)) &&
        !(rc = client_call(&c, "POST", "/decisions", body, &o))) {
        const char *by = json_string_value(json_object_get(o, "by"));
        if (json)
            cli_print_json(json_pack("{s:s, s:s, s:s?}", "decision", decision,
                                     "as", by, "note", note),
                           0);
        else
            printf("decision: %s (%s): %s\n", decision, by, note);
    }
    json_decref(body);
    json_decref(o);
    client_close(&c);
    return rc;
}

/* `rollback` through a server: POST /rollback, then who holds its tasks
 * now (GET /tasks, after handovers). */
static int rollback_remote(const char *server, const char *as, const char *note)
{
    json_t *body = json_pack("{s:s?}", "note", note), *o = NULL, *ts = NULL,
           *id, *t;
    struct client c;
    size_t i, k;
    int rc;

    if ((rc = client_open(&c, server, as)) ||
        (rc = client_call(&c, "POST", "/rollback", body, &o)))
        goto out;
    printf("rollback started (%s); its tasks, in order:\n",
           json_string_value(json_object_get(o, "by")));
    if ((rc = client_call(&c, "GET", "/tasks", NULL, &ts)))
        goto out;
    json_array_foreach(json_object_get(o, "tasks"), i, id)
    {
        json_array_foreach(json_object_get(ts, "tasks"), k, t)
        {
            if (!json_equal(json_object_get(t, "id"), id))
                continue;
            printf("  %-20s owner %-10s checker %s\n", json_string_value(id),
                   json_string_value(json_object_get(t, "owner")),
                   json_string_value(json_object_get(t, "checker")));
        }
    }
out:
    json_decref(body);
    json_decref(o);
    json_decref(ts);
    client_close(&c);
    return rc;
}

static int gate_run(int argc, char **argv)
{
    struct cli_run r;
    struct gl_err err;
    struct cli_opts o;
    const char *server = NULL;
    json_t *g = NULL;
    int rc;
    struct po_option opts[] = {
        OPT_STATE(&o.state),
        OPT_SERVER(&server),
        OPT_JSON(&o.json, "{passed, rules: [{rule, passed, detail}]}"),
        OPT_END(),
    };

    memset(&o, 0, sizeof(o));
    if ((rc = cli_parse(&cmd_gate, opts, argc, argv)) >= 0)
        return rc;
    if ((server = client_server(server, o.state)))
        return gate_remote(server, o.json);
    gl_err_clear(&err);
    if ((rc = cli_run_open(&r, o.state, NULL, NULL, 0)))
        goto out;
    if (gl_gate_eval(r.s, r.plan, &g, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (o.json) {
        rc = json_is_true(json_object_get(g, "passed")) ? EXIT_OK : EXIT_NO;
        cli_print_json(g, 1);
        g = NULL;
    } else {
        rc = print_gate(g) ? EXIT_OK : EXIT_NO;
    }
out:
    json_decref(g);
    cli_run_close(&r);
    return rc;
}

static int decide_run(int argc, char **argv)
{
    struct cli_run r;
    struct gl_err err;
    struct cli_opts o;
    const char *server = NULL;
    int rc;
    struct po_option opts[] = {
        OPT_AS(&o.as),
        OPT_NOTE(&o.note, "why: the reasons, for the record"),
        OPT_STATE(&o.state),
        OPT_SERVER(&server),
        OPT_JSON(&o.json, "{decision, as, note}"),
        OPT_ARGS(1, 1, "go, no-go or hold"),
    };

    memset(&o, 0, sizeof(o));
    if ((rc = cli_parse(&cmd_decide, opts, argc, argv)) >= 0)
        return rc;
    if ((server = client_server(server, o.state)))
        return decide_remote(server, o.as, argv[optind], o.note, o.json);
    gl_err_clear(&err);
    if ((rc = cli_run_open(&r, o.state, NULL, o.as, 1)))
        goto out;
    if (gl_decide(r.s, r.plan, &r.who, argv[optind], o.note, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (o.json)
        cli_print_json(json_pack("{s:s, s:s, s:s}", "decision", argv[optind],
                                 "as", r.who.person, "note", o.note),
                       0);
    else
        printf("decision: %s (%s): %s\n", argv[optind], r.who.person, o.note);
out:
    cli_run_close(&r);
    return rc;
}

static int rollback_run(int argc, char **argv)
{
    struct cli_run r;
    struct gl_err err;
    struct cli_opts o;
    const char *server = NULL;
    size_t i;
    int rc;
    struct po_option opts[] = {
        OPT_AS(&o.as),
        OPT_NOTE(&o.note, "why, for the record"),
        OPT_STATE(&o.state),
        OPT_SERVER(&server),
        /* taken as it always was; rollback prints text only */
        {.kind = PO_FLAG, .name = "json", .value = &o.json, .flags = PO_HIDDEN},
        OPT_END(),
    };

    memset(&o, 0, sizeof(o));
    if ((rc = cli_parse(&cmd_rollback, opts, argc, argv)) >= 0)
        return rc;
    if ((server = client_server(server, o.state)))
        return rollback_remote(server, o.as, o.note);
    gl_err_clear(&err);
    if ((rc = cli_run_open(&r, o.state, NULL, o.as, 1)))
        goto out;
    if (gl_rollback_start(r.s, r.plan, &r.who, o.note, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    printf("rollback started (%s); its tasks, in order:\n", r.who.person);
    for (i = 0; i < r.plan->rollback.n; i++) {
        /* who holds them now: a handover may have moved them */
        const char *id = r.plan->rollback.v[i].id;
        char owner[128], checker[128];
        if (gl_task_crew(r.s, r.plan, id, owner, sizeof(owner), checker,
                         sizeof(checker), &err)) {
            rc = cli_fail(&err);
            goto out;
        }
        printf("  %-20s owner %-10s checker %s\n", id, owner, checker);
    }
out:
    cli_run_close(&r);
    return rc;
}

const struct gl_cmd cmd_gate = {
    "gate",
    "evaluate the plan's go criteria, each explained",
    "usage: golive gate [--state FILE] [--json]\n"
    "\n"
    "Evaluate the plan's go criteria on the run and explain each: no open\n"
    "blocker (a fixed blocker is open until verified), every check passed\n"
    "on its latest run (a pass from before its job last ran is stale),\n"
    "every P0 scenario passed, named tasks checked, named checks and\n"
    "scenarios passed, at most N open defects of a severity.\n"
    "\n",
    "exit: 0 the gate passes, 1 it does not, 2 no run or store error\n",
    gate_run,
};

const struct gl_cmd cmd_decide = {
    "decide",
    "the lead's decision: go, no-go or hold",
    "usage: golive decide go|no-go|hold --as LEAD --note TEXT\n"
    "                     [--state FILE] [--json]\n"
    "\n"
    "Record the lead's decision with the gate's evaluation at that moment.\n"
    "Go is refused while the gate does not pass (the message names the\n"
    "failed criteria); no-go and hold are recorded whatever the gate says.\n"
    "No decision is recorded on a store that does not verify: decide runs\n"
    "the full 'golive audit verify' first (the gate reads the tables).\n"
    "\n",
    "exit: 0 recorded, 2 usage or store error (the store does not\n"
    "      verify), 3 refused (not the lead, or go while the gate fails)\n",
    decide_run,
};

const struct gl_cmd cmd_rollback = {
    "rollback",
    "start the plan's rollback (the lead)",
    "usage: golive rollback --as LEAD [--note TEXT] [--state FILE]\n"
    "\n"
    "Start the plan's rollback: until then its tasks cannot start; after,\n"
    "each starts when the tasks it depends on are checked, and is worked\n"
    "like any task by its owner and signed off by its checker ('golive\n"
    "task', 'golive status' shows which are ready).\n"
    "\n",
    "exit: 0 started, 2 usage or store error, 3 refused (not the lead, no\n"
    "      rollback in the plan, or started already)\n",
    rollback_run,
};
