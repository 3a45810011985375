/*
 * cmd-demo.c - `golive demo`: build the demo go-live, validate its plan and
 * start a rehearsal run of it.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "demo/demo.h"
#include "golive/db.h"
#include "golive/token.h"
#include "serve/serve.h"
#include "util/clock.h"

/* The variable the demo's plan names for a --target's password. */
#define DEMO_PW_VAR "GOLIVE_DEMO_PASSWORD"

/* The scripted night of the rehearsal: each step at its time (GOLIVE_NOW),
 * printed as the person who would type it, and the exit code it must
 * give (a failing check, a refused go: the night's findings). */
struct step {
    const char *at, *cmd;
    int want;
};

static const struct step night_steps[] = {
    {"T-6h", "token issue --viewer war-room --as zhang", 0},
    {"T-6h", "task start announce-freeze --as zhang", 0},
    {"T-6h", "task done announce-freeze --as zhang", 0},
    {"T-5h55m", "task check announce-freeze --as wang", 0},
    {"T-5h45m", "task start backup-old --as zhou", 0},
    {"T-5h30m", "task check backup-old --as zhao", 0},
    {"T-5h", "task start validate-config --as lifei", 0},
    {"T-4h50m",
     "defect open --severity major --as lifei --title \"legacy expense "
     "status '15' has no mapping: its claims are rejected\"",
     0},
    {"T-4h45m",
     "task done validate-config --as lifei --note \"online check: "
     "code '15' unmapped (D-1)\"",
     0},
    {"T-4h40m", "task check validate-config --as wang", 0},
    {"T-4h", "task start freeze-old --as zhou", 0},
    {"T-3h55m", "task done freeze-old --as zhou", 0},
    {"T-3h50m", "task check freeze-old --as zhang", 0},
    {"T-3h30m", "task start sync-departments --as wang", 0},
    {"T-3h25m", "task check sync-departments --as lifei", 0},
    {"T-3h20m", "task start sync-employees --as wang", 0},
    {"T-3h05m", "task check sync-employees --as lifei", 0},
    {"T-3h", "task start sync-expenses --as lifei", 0},
    {"T-2h", "task check sync-expenses --as wang", 0},
    {"T-2h", "task start sync-leaves --as lifei", 0},
    {"T-1h40m", "task check sync-leaves --as wang", 0},
    {"T-1h40m", "task start sync-approvals --as wang", 0},
    {"T-1h", "task check sync-approvals --as lifei", 0},
    {"T-1h", "task start check-volumes --as lifei", 1},
    {"T-55m", "check @run expenses-rows rejected-have-reasons --as lifei", 1},
    {"T-50m",
     "defect open --severity blocker --as lifei --title \"archived expense "
     "claims never arrive: the job skips them, the count says they must\"",
     0},
    {"T-45m",
     "defect open --severity blocker --as lifei --title \"rejection reasons "
     "of rejected claims are dropped in the new system\"",
     0},
    {"T-40m", "defect fixing D-2 --as liu", 0},
    {"T-35m",
     "defect comment D-2 \"claim EXP-000042 is archived in the old system "
     "and absent in the new one\" --as wang",
     0},
    {"T-30m", "status", 0},
    {"T-20m", "gate", 1},
    {"T-15m", "decide go --as zhang --note \"midnight release\"", 3},
    {"T-10m",
     "decide no-go --as zhang --note \"D-2 and D-3 are open and the "
     "volume checks fail: practise the way back, fix the jobs before the "
     "real night\"",
     0},
    {"T-10m", "rollback --as zhang --note \"rehearsal of the rollback\"", 0},
    {"T-5m", "task start rb-stop-new --as zhao", 0},
    {"T0", "task done rb-stop-new --as zhao", 0},
    {"T+5m", "task check rb-stop-new --as liu", 0},
    {"T+5m", "task start rb-reopen-old --as zhou", 0},
    {"T+20m", "task done rb-reopen-old --as zhou", 0},
    {"T+25m", "task check rb-reopen-old --as zhang", 0},
    {"T+25m", "task start rb-announce --as zhang", 0},
    {"T+35m", "task done rb-announce --as zhang", 0},
    {"T+40m", "task check rb-announce --as wang", 0},
    {"T+40m", "status", 0},
    {"T+40m",
     "duty log \"can I submit claims again?\" --channel phone --kind "
     "question --as zhou",
     0},
    {"T+45m", "defect defer D-1 --patch cutover-2 --as liu", 0},
    {"T+45m", "patch plan", 0},
    {"T+50m", "report --format html --out report.html", 0},
    {"T+50m", "audit verify", 0},
};

/* Split a command line into words; "double quotes" group.  Writes into
 * buf; returns the count. */
static int split(const char *line, char *buf, size_t n, char **av, int max)
{
    int ac = 0;
    size_t o = 0;

    while (*line && ac < max - 1 && o + 1 < n) {
        while (*line == ' ')
            line++;
        if (!*line)
            break;
        av[ac++] = buf + o;
        if (*line == '"') {
            line++;
            while (*line && *line != '"' && o + 1 < n)
                buf[o++] = *line++;
            if (*line == '"')
                line++;
        } else {
            while (*line && *line != ' ' && o + 1 < n)
                buf[o++] = *line++;
        }
        buf[o++] = '\0';
    }
    av[ac] = NULL;
    return ac;
}

static int night(const char *plan_path, const char *state, int64_t switch_at)
{
    const char *saved = getenv("GOLIVE_NOW");
    char *keep = saved ? strdup(saved) : NULL, dir[4200], *slash;
    size_t i, k;
    int rc = EXIT_OK;

    (void)plan_path;
    snprintf(dir, sizeof(dir), "%s", state);
    slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    printf("\nThe night, replayed (GOLIVE_NOW set for each step):\n");
    for (i = 0; i < sizeof(night_steps) / sizeof(night_steps[0]); i++) {
        const struct step *s = &night_steps[i];
        char buf[1024], now[40], *av[40];
        const struct gl_cmd *cmd = NULL;
        int64_t off = 0;
        int ac, got;

        gl_reltime_parse(s->at, &off);
        gl_time_format(switch_at + off, 480, now);
        setenv("GOLIVE_NOW", now, 1); /* for the children run: starts */
        cli_clock_from_env();
        printf("\n[%s] $ golive %s\n", s->at, s->cmd);
        fflush(stdout);
        ac = split(s->cmd, buf, sizeof(buf) - 64, av, 36);
        for (k = 0; cmd_table[k]; k++)
            if (!strcmp(cmd_table[k]->name, av[0]))
                cmd = cmd_table[k];
        /* every command works on the demo's store; the report goes in
         * the demo's folder */
        av[ac++] = (char *)"--state";
        av[ac++] = (char *)state;
        av[ac] = NULL;
        for (k = 0; k < (size_t)ac; k++)
            if (!strcmp(av[k], "report.html")) {
                static char out[4300];
                snprintf(out, sizeof(out), "%s/report.html", dir);
                av[k] = out;
            }
        got = cmd ? cmd->run(ac, av) : EXIT_ERROR;
        fflush(stdout);
        if (got != s->want) {
            cli_error("the demo's night went off script: 'golive %s' gave "
                      "exit %d, not %d",
                      s->cmd, got, s->want);
            rc = EXIT_ERROR;
            break;
        }
    }
    if (keep) {
        setenv("GOLIVE_NOW", keep, 1);
        free(keep);
    } else {
        unsetenv("GOLIVE_NOW");
    }
    cli_clock_from_env();
    return rc;
}

/* `run start`: now, or, when the night's first step is behind the clock
 * (a demo served now, or built in the evening), five minutes before that
 * step, so that no event of the night is dated before the run's start. */
static int start_before_the_night(const struct gl_demo_stats *st,
                                  const char *state)
{
    const char *saved = getenv("GOLIVE_NOW");
    char *keep = saved ? strdup(saved) : NULL, at[40];
    int64_t now, first = 0;
    int rc, moved = 0;

    gl_reltime_parse(night_steps[0].at, &first);
    if (!gl_clock_now(&now) && st->switch_at + first - 300 < now) {
        gl_time_format(st->switch_at + first - 300, 480, at);
        setenv("GOLIVE_NOW", at, 1);
        cli_clock_from_env();
        moved = 1;
    }
    rc = cli_run_start(st->plan_path, state, 1, "zhang", 0);
    if (moved) {
        if (keep)
            setenv("GOLIVE_NOW", keep, 1);
        else
            unsetenv("GOLIVE_NOW");
        cli_clock_from_env();
    }
    free(keep);
    return rc;
}

/* Build the demo's databases and plan, and say what they hold. */
static int demo_build(struct gl_demo_opts *o, struct gl_demo_stats *st,
                      char *state, size_t state_n)
{
    char *plan_url = NULL;
    struct gl_err err;
    char when[40];
    int rc;

    if (gl_clock_now(&o->now)) {
        cli_error("GOLIVE_NOW is not an ISO 8601 time with an offset");
        return EXIT_ERROR;
    }
    gl_err_clear(&err);
    snprintf(state, state_n, "%s/golive.state", o->dir);
    if (!o->force && access(state, F_OK) == 0) {
        cli_error("'%s' already holds a demo run; use --force to replace it",
                  o->dir);
        return EXIT_REFUSED;
    }

    if (o->target) {
        /* the plan (and so the store, which keeps its text) names a
         * variable, never the password itself; this process and the
         * commands it starts get it in their environment */
        char *pw = NULL;
        int lifted =
            gl_db_url_lift_password(o->target, DEMO_PW_VAR, &plan_url, &pw);
        if (lifted < 0) {
            cli_error("out of memory");
            return EXIT_ERROR;
        }
        if (lifted) {
            setenv(DEMO_PW_VAR, pw, 1);
            memset(pw, 0, strlen(pw));
            free(pw);
            o->plan_url = plan_url;
        }
    }
    printf("$ golive demo --dir %s --rows %" PRId64 "\n", o->dir, o->rows);
    fflush(stdout);
    rc = gl_demo_build(o, st, &err);
    free(plan_url);
    plan_url = NULL;
    o->plan_url = NULL;
    if (rc)
        return cli_fail(&err);
    gl_time_format(st->switch_at, 480, when);
    printf("old system  %s: %" PRId64 " departments, %" PRId64
           " employees, %" PRId64 " expense claims, %" PRId64
           " leave requests, %" PRId64 " approval steps\n",
           st->old_path, st->departments, st->employees, st->expenses,
           st->leaves, st->approvals);
    {
        char *safe = gl_db_redact_url(st->new_url);
        printf("new system  %s: empty schema of OA v2\n",
               o->target ? (safe ? safe : "?") : st->new_path);
        free(safe);
    }
    printf("plan        %s: switch at %s\n", st->plan_path, when);
    if (strstr(st->new_url, "${" DEMO_PW_VAR "}"))
        printf("            the target's password is ${%s} in the plan: set "
               "%s in the environment\n"
               "            of every golive that works on it (this one has "
               "it)\n",
               DEMO_PW_VAR, DEMO_PW_VAR);
    printf("\n");

    return EXIT_OK;
}

/* The rehearsal night on the demo just built: validate, a fresh run,
 * the online checks, the script. */
static int demo_play(const struct gl_demo_stats *st, const char *state)
{
    struct gl_plan *plan = NULL;
    char sidecar[4300];
    int rc, online;

    printf("$ golive validate %s\n", st->plan_path);
    fflush(stdout);
    rc = cli_load_plan(st->plan_path, 0, 0, &plan);
    gl_plan_free(plan);
    if (rc)
        return rc;

    /* a fresh run: the old store (and its WAL files) go with --force */
    unlink(state);
    snprintf(sidecar, sizeof(sidecar), "%s-wal", state);
    unlink(sidecar);
    snprintf(sidecar, sizeof(sidecar), "%s-shm", state);
    unlink(sidecar);
    printf("\n$ golive run start %s --rehearsal --as zhang\n", st->plan_path);
    fflush(stdout);
    if ((rc = start_before_the_night(st, state)))
        return rc;

    /* the night's first finding: a legacy code nobody mapped */
    printf("\n$ golive validate %s --online\n", st->plan_path);
    fflush(stdout);
    plan = NULL;
    online = cli_check_plan(st->plan_path, 0, 0, 1, &plan);
    gl_plan_free(plan);
    if (online == EXIT_ERROR)
        return online;

    rc = night(st->plan_path, state, st->switch_at);
    printf("\nnext: golive status --state %s\n"
           "      golive report --state %s --format html --out report.html\n",
           state, state);
    return rc;
}

/* --serve: a sign-in link for every person of the demo plan (and a
 * viewer's for the wall), then the server until SIGTERM or Ctrl-C. */
static int demo_serve(const char *state, const char *listen)
{
    struct cli_run r;
    struct sv_conf c;
    struct gl_token_info t;
    struct gl_err err;
    char secret[GL_SECRET_LEN];
    size_t i, n;
    int rc;

    printf("\n$ golive token issue --for PERSON --as zhang --listen %s\n",
           listen);
    if ((rc = cli_run_open(&r, state, NULL, "zhang", 1)))
        goto out;
    n = r.plan->n_people;
    for (i = 0; i <= n; i++) {
        const char *who = i < n ? r.plan->people[i].id.id : "wall";
        gl_err_clear(&err);
        if (gl_token_issue(r.s, r.plan, &r.who, who, i == n, r.now + 12 * 3600,
                           r.now, secret, &t, &err)) {
            rc = cli_fail(&err);
            goto out;
        }
        printf("  %-6s %-8s http://%s/login#t=%s%s\n", t.id, who, listen,
               secret,
               i == n ? "  (the wall: add ?tv=1 after signing in)" : "");
    }
    cli_run_close(&r);
    /* the night's handlers (a sync's stop) are not the server's: a signal
     * before it waits for one ends the process as it would any other */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    memset(&c, 0, sizeof(c));
    c.state = state;
    c.listen = listen;
    printf("\n$ golive serve --state %s --listen %s\n"
           "open a link above in a browser; Ctrl-C stops the server\n",
           state, listen);
    fflush(stdout);
    gl_err_clear(&err);
    if (sv_serve(&c, &err))
        return cli_fail(&err);
    return EXIT_OK;
out:
    cli_run_close(&r);
    return rc;
}

static int run(int argc, char **argv)
{
    struct gl_demo_opts o;
    const char *listen = "127.0.0.1:8420";
    int serve = 0;
    struct gl_demo_stats st;
    char state[4200];
    int rc;
    struct po_option opts[] = {
        OPT_STRING("dir", 0, &o.dir, "DIR",
                   "where to build it (default ./golive-demo)"),
        OPT_INT64("rows", 0, &o.rows, 1, 100000000, "N",
                  "expense claims in the old system (default 100000; leave "
                  "requests are half as many)"),
        OPT_STRING("target", 0, &o.target, "URL",
                   "build the new system in this PostgreSQL or MySQL "
                   "database instead of new.db (its demo tables are "
                   "replaced with --force); a password in URL is written "
                   "into the plan as ${GOLIVE_DEMO_PASSWORD}: set that "
                   "variable for the golive commands that use the plan"),
        OPT_FLAG("force", 0, &o.force, "replace a demo already in DIR"),
        OPT_FLAG("serve", 0, &serve,
                 "then serve it ('golive serve') and print a sign-in link "
                 "for every person of the demo plan and the wall"),
        OPT_STRING("listen", 0, &listen, "ADDR:PORT",
                   "with --serve: where to listen (default 127.0.0.1:8420)"),
        OPT_END(),
    };

    memset(&o, 0, sizeof(o));
    o.dir = "golive-demo";
    o.rows = 100000;
    if ((rc = cli_parse(&cmd_demo, opts, argc, argv)) >= 0)
        return rc;
    if (serve && !gl_clock_now(&o.switch_at))
        /* served, the night is over by now (its last step T+50m was
         * minutes ago): the war room's clock and the night agree, and the
         * sign-in tokens come after its events */
        o.switch_at = (o.switch_at - 3600) / 60 * 60;
    rc = demo_build(&o, &st, state, sizeof(state));
    if (!rc)
        rc = demo_play(&st, state);
    return rc || !serve ? rc : demo_serve(state, listen);
}

const struct gl_cmd cmd_demo = {
    "demo",
    "build a demo go-live (legacy OA -> OA v2) and start a rehearsal run",
    "usage: golive demo [--dir DIR] [--rows N] [--target URL] [--force]\n"
    "                   [--serve [--listen ADDR:PORT]]\n"
    "\n"
    "Build a realistic old system in SQLite (a legacy office-approval\n"
    "system: departments, employees, expense and leave requests in the old\n"
    "status codes, approval history, rejected requests), the new system's\n"
    "schema, and a complete plan for the night; validate the plan, start\n"
    "a rehearsal run, check the plan against the databases (it finds the\n"
    "legacy status code nobody mapped), then play the rehearsal night:\n"
    "each command printed at its time with the --as of the person who\n"
    "would type it.  The sync tasks load the new system, the volume check\n"
    "fails and names the archived claims the job skipped, the defects are\n"
    "logged, the gate explains why go is refused, the lead decides no-go\n"
    "and the rollback is worked in order; a duty entry, the patch plan, an\n"
    "HTML report and the audit close it.  Leaves old.db, new.db,\n"
    "plan.yaml, golive.state, golive-output/, rejects/ and report.html in\n"
    "DIR.  With --serve it then serves the run ('golive serve': the war\n"
    "room in a browser at /, docs/web.md) and prints a sign-in link for\n"
    "every person of the demo plan and one for the wall, until Ctrl-C.\n"
    "\n",
    "exit: 0 built and played, 1 the plan has errors, 2 I/O error or the\n"
    "      night went off script,\n"
    "      3 DIR already holds a demo (use --force)\n",
    run,
};
