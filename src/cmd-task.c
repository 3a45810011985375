/*
 * cmd-task.c - `golive task ACTION ID --as PERSON`: work the runbook.
 */
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "cmd.h"
#include "golive/runbook.h"
#include "task-exec.h"

/* The other tasks a move took with it (a reopen's dependents), one line
 * each after the move's own. */
static void print_also(json_t *also, const char *id, const char *as)
{
    json_t *x;
    size_t i;

    json_array_foreach(also, i, x)
        printf("task %s: %s -> %s (%s, with %s)\n",
               json_string_value(json_object_get(x, "task")),
               json_string_value(json_object_get(x, "from")),
               json_string_value(json_object_get(x, "to")), as, id);
}

/* `task ACTION ID` on the open run: the transition, and a task with
 * run: executed when it starts. */
static int task_act(struct cli_run *r, const char *id, int act, int force,
                    const char *note, int detach, int json,
                    const char *sync_opt)
{
    const char *from, *to;
    const struct gl_task *t;
    struct gl_err err;
    json_t *also = NULL;
    int rc;

    if (sync_opt &&
        (rc = task_sync_opt_check(gl_plan_task(r->plan, id), sync_opt)))
        return rc;
    gl_err_clear(&err);
    if (gl_task_act_also(r->s, r->plan, r->info.switch_at, &r->who, id,
                         (enum gl_task_action)act, force, note, r->now, &from,
                         &to, &also, &err))
        return cli_fail(&err);
    t = gl_plan_task(r->plan, id);
    if (act == GL_ACT_START && t && t->run) {
        json_decref(also);
        /* a task with run: is executed now, and ends done or failed */
        if (!json)
            printf("task %s: %s -> %s (%s); run: %s\n", id, from, to,
                   r->who.person, t->run);
        return task_exec(r, t, detach, json, sync_opt);
    }
    if (json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "task", id, "from", from,
                              "to", to, "as", r->who.person);
        if (o && act == GL_ACT_REOPEN)
            json_object_set(o, "reopens", also);
        cli_print_json(o, 0);
    } else {
        printf("task %s: %s -> %s (%s)\n", id, from, to, r->who.person);
        print_also(also, id, r->who.person);
    }
    json_decref(also);
    return EXIT_OK;
}

/* The note of the move that ended task id (its last task event), from
 * the server's log; "" when it cannot be found. */
static void remote_end_note(struct client *c, const char *id, char *note,
                            size_t n)
{
    json_t *st = NULL, *ev = NULL, *x;
    char path[96];
    json_int_t last;
    size_t i;

    note[0] = '\0';
    if (client_call(c, "GET", "/status", NULL, &st))
        return;
    last = json_integer_value(json_object_get(st, "events"));
    json_decref(st);
    snprintf(path, sizeof(path), "/events?after=%lld&limit=50",
             (long long)(last > 50 ? last - 50 : 0));
    if (client_call(c, "GET", path, NULL, &ev))
        return;
    for (i = json_array_size(json_object_get(ev, "events")); i-- > 0;) {
        json_t *p;
        x = json_array_get(json_object_get(ev, "events"), i);
        p = json_object_get(x, "payload");
        if (strncmp(json_string_value(json_object_get(x, "kind"))
                        ? json_string_value(json_object_get(x, "kind"))
                        : "",
                    "task.", 5) ||
            !json_is_string(json_object_get(p, "task")) ||
            strcmp(json_string_value(json_object_get(p, "task")), id))
            continue;
        if (json_is_string(json_object_get(p, "note")))
            snprintf(note, n, "%s",
                     json_string_value(json_object_get(p, "note")));
        break;
    }
    json_decref(ev);
}

static volatile sig_atomic_t follow_sig;

static void on_follow_signal(int sig)
{
    follow_sig = sig;
}

/* Following task id stopped before it ended (a signal, the server out of
 * reach): it goes on on the server; say so, and how to follow it. */
static int follow_stopped(struct client *c, const char *id, int rc)
{
    cli_warn("stopped following task %s: it goes on on the server; "
             "'golive status --server %s' follows it",
             id, c->url);
    if (follow_sig)
        return 128 + follow_sig;
    return rc;
}

/* A run: task started through a server runs there under a supervisor
 * (as with --detach): follow it until it ends, then print its output and
 * its end as the local run does; EXIT_NO when it failed.  Ctrl-C stops
 * the following, not the task (exit 130). */
static int remote_follow(struct client *c, const char *id, const char *path,
                         int json, const char *output)
{
    char tpath[600], note[1024];
    const char *state = NULL;
    json_t *t = NULL;
    struct sigaction sa, old_int, old_term;
    int rc;

    fflush(stdout); /* what was said before the wait, even into a pipe */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_follow_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    for (;;) {
        json_decref(t);
        t = NULL;
        if (follow_sig || (rc = client_call(c, "GET", path, NULL, &t))) {
            rc = follow_stopped(c, id, follow_sig ? 0 : rc);
            sigaction(SIGINT, &old_int, NULL);
            sigaction(SIGTERM, &old_term, NULL);
            json_decref(t);
            return rc;
        }
        state = json_string_value(json_object_get(t, "state"));
        if (!state || strcmp(state, "running"))
            break;
        usleep(100 * 1000);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    snprintf(tpath, sizeof(tpath), "%s/output", path);
    if (!json) {
        char *text = NULL;
        size_t len = 0;
        if (!client_get_text(c, tpath, &text, &len))
            fwrite(text, 1, len, stdout);
        free(text);
    }
    remote_end_note(c, id, note, sizeof(note));
    if (json)
        cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "task", id, "to",
                                 state ? state : "?", "output", output, "note",
                                 note),
                       0);
    else
        printf("task %s: running -> %s (%s)\n", id, state ? state : "?", note);
    rc = state && !strcmp(state, "done") ? EXIT_OK : EXIT_NO;
    json_decref(t);
    return rc;
}

/* `task ACTION ID` through a server: POST /tasks/ID/ACTION. */
static int task_remote(const char *server, const char *as, const char *id,
                       const char *action, int force, const char *note,
                       int detach, int json, int resume, int restart)
{
    char esc[400], path[512];
    json_t *body = json_object(), *o = NULL;
    const char *run, *output;
    struct client c;
    int rc;

    if ((rc = client_open(&c, server, as)))
        goto out;
    if (note)
        json_object_set_new(body, "note", json_string(note));
    if (force)
        json_object_set_new(body, "force", json_true());
    if (resume)
        json_object_set_new(body, "resume", json_true());
    if (restart)
        json_object_set_new(body, "restart", json_true());
    snprintf(path, sizeof(path), "/tasks/%s",
             client_escape(id, esc, sizeof(esc)));
    {
        char mpath[600];
        snprintf(mpath, sizeof(mpath), "%s/%s", path, action);
        if ((rc = client_call(&c, "POST", mpath, body, &o)))
            goto out;
    }
    run = json_string_value(json_object_get(o, "run"));
    output = json_string_value(json_object_get(o, "output"));
    if (json_is_true(json_object_get(o, "detached"))) {
        if (!json)
            printf("task %s: %s -> %s (%s); run: %s\n", id,
                   json_string_value(json_object_get(o, "from")),
                   json_string_value(json_object_get(o, "to")),
                   json_string_value(json_object_get(o, "as")), run);
        if (!detach) {
            rc = remote_follow(&c, id, path, json, output ? output : "");
        } else if (json) {
            cli_print_json(json_pack("{s:s, s:s, s:s, s:b}", "task", id, "to",
                                     "running", "output", output ? output : "",
                                     "detached", 1),
                           0);
        } else {
            printf("task %s: running in the background; output %s ('golive "
                   "status' follows it)\n",
                   id, output ? output : "");
        }
        goto out;
    }
    if (json) {
        json_t *j =
            json_pack("{s:s, s:O, s:O, s:O}", "task", id, "from",
                      json_object_get(o, "from"), "to",
                      json_object_get(o, "to"), "as", json_object_get(o, "as"));
        if (j && json_object_get(o, "reopens"))
            json_object_set(j, "reopens", json_object_get(o, "reopens"));
        cli_print_json(j, 0);
    } else {
        printf("task %s: %s -> %s (%s)\n", id,
               json_string_value(json_object_get(o, "from")),
               json_string_value(json_object_get(o, "to")),
               json_string_value(json_object_get(o, "as")));
        print_also(json_object_get(o, "reopens"), id,
                   json_string_value(json_object_get(o, "as")));
    }
out:
    json_decref(o);
    json_decref(body);
    client_close(&c);
    return rc;
}

static int run(int argc, char **argv)
{
    const char *as = NULL, *note = NULL, *state_opt = NULL, *output = NULL,
               *sync_opt = NULL, *server = NULL;
    struct cli_run r;
    int json = 0, force = 0, detach = 0, resume = 0, restart = 0, rc, act;
    const struct gl_task *t;
    struct po_option opts[] = {
        OPT_AS(&as),
        OPT_NOTE(&note, "why, for the record (skip, and a forced start past "
                        "a dependency: required)"),
        OPT_FLAG("force", 0, &force,
                 "start: the lead starts it before its time or its "
                 "dependencies (past a dependency not checked, with "
                 "--note); skip: the lead skips it after a failed "
                 "dependency"),
        OPT_FLAG("detach", 0, &detach,
                 "start: return at once, a supervisor runs its run: in the "
                 "background"),
        OPT_FLAG("resume", 0, &resume,
                 "start of a sync task (reopened after it failed, or lost): "
                 "its golive sync goes on after the last committed batch "
                 "('golive status' says which tasks can)"),
        OPT_FLAG("restart", 0, &restart,
                 "start of a sync task: its golive sync starts over where "
                 "the mode (append, incremental) would refuse to"),
        OPT_STATE(&state_opt),
        OPT_SERVER(&server),
        OPT_JSON(&json, "print the move as JSON"),
        /* the detached supervisor's output file (task_supervise) */
        OPT_HIDDEN_STRING("output", &output),
        OPT_ARGS(2, 2, "an action and a task id"),
    };

    if ((rc = cli_parse(&cmd_task, opts, argc, argv)) >= 0)
        return rc;
    if (resume && restart)
        return cli_usage("task", "--resume and --restart exclude each other");
    sync_opt = resume ? "--resume" : restart ? "--restart" : NULL;
    if (!strcmp(argv[optind], "_supervise") && output) {
        /* internal: the background supervisor of a detached run: */
        if ((rc = cli_run_open(&r, state_opt, NULL, as, 1)) == EXIT_OK) {
            t = gl_plan_task(r.plan, argv[optind + 1]);
            rc = t && t->run ? task_supervise(&r, t, output, sync_opt)
                             : EXIT_ERROR;
        }
        cli_run_close(&r);
        return rc;
    }
    if ((act = gl_task_action_parse(argv[optind])) < 0)
        return cli_usage("task",
                         "no action '%s' (start, done, fail, skip, "
                         "check, reopen)",
                         argv[optind]);
    if (sync_opt && act != GL_ACT_START)
        return cli_usage("task", "%s goes with 'task start'", sync_opt);
    if ((server = client_server(server, state_opt)))
        return task_remote(server, as, argv[optind + 1], argv[optind], force,
                           note, detach, json, resume, restart);
    if ((rc = cli_run_open(&r, state_opt, NULL, as, 1)) == EXIT_OK)
        rc = task_act(&r, argv[optind + 1], act, force, note, detach, json,
                      sync_opt);
    cli_run_close(&r);
    return rc;
}

const struct gl_cmd cmd_task = {
    "task",
    "work the runbook: start, done, fail, skip, check, reopen a task",
    "usage: golive task start|done|fail|skip|check|reopen ID --as PERSON\n"
    "                   [--note TEXT] [--force] [--detach]\n"
    "                   [--resume | --restart] [--state FILE] [--json]\n"
    "\n"
    "Move a task of the run: pending -> running (start) -> done -> checked\n"
    "(check), or failed, or skipped (with --note saying why); reopen takes\n"
    "it back to pending.  A task starts when every task it depends on is\n"
    "checked (or skipped) and its 'at' has come; the lead may start it\n"
    "earlier with --force (past a dependency not checked, with --note).\n"
    "Only its owner starts, finishes or fails it; only its checker, never\n"
    "its owner nor anyone who started it or reported it done, checks it,\n"
    "and once checked only its checker or the lead reopens it.  A task\n"
    "whose dependency failed is skipped only by the lead, with --force.\n"
    "A reopen also reopens the done and checked tasks that depend on the\n"
    "task (each must be the reopener's to reopen; a line each), and is\n"
    "refused while one that depends on it runs.  A note of only blanks is\n"
    "no note.  Every move is an event with its actor.  The run's own copy\n"
    "of the plan decides.\n"
    "\n"
    "A task with run: is executed by 'start': sync JOB... and check\n"
    "CHECK... run golive sync / check on the run's copy of the plan (they\n"
    "record their own events), shell CMD runs /bin/sh -c CMD in the plan's\n"
    "folder, killed at the task's timeout.  The output goes to\n"
    "golive-output/ beside the store, linked from a task.exec event; the\n"
    "task ends done (exit 0) or failed (with the exit status and the last\n"
    "line), reported as its owner.  --detach returns at once and leaves a\n"
    "supervisor in the background.  Ctrl-C (SIGINT) or SIGTERM reaches the\n"
    "command (a sync commits its batch in flight and records that it was\n"
    "interrupted); the task fails and the supervisor exits 130 / 143.  A\n"
    "task is lost ('golive status') when its supervisor died and nothing of\n"
    "its command (its process group) still runs: its owner starts it again\n"
    "or fails it.\n"
    "\n"
    "Through a server (--server), a run: task runs on the server's host\n"
    "under a supervisor of its own; 'start' follows it until it ends and\n"
    "prints its output and end as here (Ctrl-C stops the following, not\n"
    "the task: 'golive status' follows it).\n"
    "\n"
    "GOLIVE_NOW (ISO 8601) replaces the clock, to replay a night.\n"
    "\n",
    "exit: 0 moved (a run: finished with exit 0), 1 its run: failed,\n"
    "      2 usage or store error, 3 refused (the message says who\n"
    "      may, or what must happen first), 130 / 143 interrupted\n",
    run,
};
