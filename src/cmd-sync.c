/*
 * cmd-sync.c - `golive sync PLAN [JOB...]`: run sync jobs, print what ran,
 * record each execution into the run.  The scheduler is the library's
 * (gl_sync_schedule); this file parses, makes that call and renders the
 * progress line, the table (or JSON) and the command that goes on.
 */
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cmd.h"
#include "golive/db.h"
#include "golive/store.h"
#include "golive/sync.h"
#include "util/buf.h"
#include "util/suggest.h"

/* SIGINT / SIGTERM: the jobs commit their batch in flight and stop; no
 * job starts after it.  A second signal ends the process at once. */
static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
    stop_sig = sig;
}

/* What the command holds: the options, the jobs and how they ended. */
struct sched {
    struct gl_sync_opts opts;
    const struct gl_plan *plan;
    const struct gl_sync_job **jobs; /* selected, in plan order */
    size_t n;
    struct gl_sync_outcome *out;
    gl_store *store; /* the run's (NULL: not recorded) */
    struct gl_actor who;
    int tty;
};

/* The status line of the running jobs (called with the scheduler's lock
 * held). */
static void draw(void *ctx, const struct gl_sync_outcome *jobs, size_t n)
{
    struct sched *S = ctx;
    size_t i;
    int any = 0;

    if (!S->tty)
        return;
    fputs("\r\033[K", stderr);
    for (i = 0; i < n; i++) {
        const struct gl_sync_progress *p = &jobs[i].progress;
        if (jobs[i].state != GL_SYNC_RUNNING || !p->job)
            continue;
        if (p->total > 0) {
            double frac = (double)p->read / (double)p->total;
            double rate = p->seconds > 0 ? (double)p->read / p->seconds : 0;
            double eta = rate > 0 ? (double)(p->total - p->read) / rate : 0;
            fprintf(stderr, "%s%s %3.0f%% %lld/%lld %.0f rows/s ETA %.0fs",
                    any++ ? " | " : "", p->job, frac * 100, (long long)p->read,
                    (long long)p->total, rate, eta);
        } else {
            fprintf(stderr, "%s%s %lld rows", any++ ? " | " : "", p->job,
                    (long long)p->read);
        }
    }
    fflush(stderr);
}

static void on_warn(void *ctx, const char *msg)
{
    (void)ctx;
    cli_warn("%s", msg);
}

static void human_bytes(int64_t b, char *out, size_t n)
{
    const char *u[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)b;
    int i = 0;

    while (v >= 1000 && i < 4) {
        v /= 1000;
        i++;
    }
    snprintf(out, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

/* Below the table: each job's error, rejects or note. */
static void print_notes(struct sched *S)
{
    size_t i;

    for (i = 0; i < S->n; i++) {
        const struct gl_sync_result *r = &S->out[i].res;
        if ((r->failed || S->out[i].skipped) && r->error[0])
            printf("%s: %s\n", r->job, r->error);
        else if (r->rejected)
            printf("%s: %lld rejected rows in %s%s%s\n", r->job,
                   (long long)r->rejected, r->rejects_file,
                   r->note[0] ? "; " : "", r->note);
        else if (r->note[0])
            printf("%s: %s\n", r->job, r->note);
    }
}

static void print_table(struct sched *S)
{
    int64_t tr = 0, tw = 0, tj = 0, tb = 0;
    double ts = 0;
    char b[32];
    size_t i;

    printf("%-20s %10s %10s %9s %10s %8s %10s  %s\n", "job", "read", "written",
           "rejected", "bytes", "seconds", "rows/s", "outcome");
    for (i = 0; i < S->n; i++) {
        const struct gl_sync_result *r = &S->out[i].res;
        double rate = r->seconds > 0 ? (double)r->read / r->seconds : 0;
        if (S->out[i].state != GL_SYNC_ENDED)
            continue;
        human_bytes(r->bytes, b, sizeof(b));
        printf("%-20s %10lld %10lld %9lld %10s %8.2f %10.0f  %s%s\n", r->job,
               (long long)r->read, (long long)r->written,
               (long long)r->rejected, b, r->seconds, rate,
               gl_sync_outcome_name(&S->out[i]),
               r->resumed ? " (resumed)" : "");
        tr += r->read;
        tw += r->written;
        tj += r->rejected;
        tb += r->bytes;
        ts += r->seconds;
    }
    human_bytes(tb, b, sizeof(b));
    printf("%-20s %10lld %10lld %9lld %10s %8.2f\n", "total", (long long)tr,
           (long long)tw, (long long)tj, b, ts);
    print_notes(S);
}

static void print_json(struct sched *S)
{
    json_t *arr = json_array(), *o;
    char *s;
    size_t i;

    for (i = 0; i < S->n; i++) {
        const struct gl_sync_result *r = &S->out[i].res;
        if (S->out[i].state != GL_SYNC_ENDED)
            continue;
        json_array_append_new(
            arr,
            json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:s,"
                      " s:b, s:s?, s:s?, s:s?}",
                      "job", r->job, "mode", r->mode, "read",
                      (json_int_t)r->read, "written", (json_int_t)r->written,
                      "rejected", (json_int_t)r->rejected, "bytes",
                      (json_int_t)r->bytes, "skipped", (json_int_t)r->skipped,
                      "seconds", r->seconds, "outcome",
                      gl_sync_outcome_name(&S->out[i]), "resumed", r->resumed,
                      "error", r->error[0] ? r->error : NULL, "rejects_file",
                      r->rejected ? r->rejects_file : NULL, "note",
                      r->note[0] ? r->note : NULL));
    }
    o = json_pack("{s:o}", "jobs", arr);
    s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("%s\n", s ? s : "{}");
    free(s);
    json_decref(o);
}

/* The run's store, when there is one: every execution is recorded in it,
 * so a person the plan does not know, or a store that does not open,
 * stops the command before anything is touched (it loaded data and then
 * said nothing was recorded).  S->store stays NULL when there is no run,
 * saying so. */
static int open_record(struct sched *S, const char *state, const char *as)
{
    struct gl_err err;
    struct stat sb;

    gl_err_clear(&err);
    if (stat(state, &sb) != 0) {
        fprintf(stderr,
                "golive: no run at '%s': these executions are not "
                "recorded ('golive run start PLAN' starts one)\n",
                state);
        return EXIT_OK;
    }
    if (cli_actor(as, S->plan, &S->who, &err)) {
        cli_error("%s: nothing was run (the run records who runs each "
                  "execution)",
                  err.msg);
        return EXIT_REFUSED;
    }
    if (cli_store_open(state, 0, &S->store, &err)) {
        S->store = NULL;
        cli_error("%s; nothing was run", err.msg);
        return EXIT_ERROR;
    }
    return EXIT_OK;
}

/* Stopped by a signal: what did not finish, and the command that goes
 * on. */
static void print_resume_hint(struct sched *S, const char *plan_path)
{
    size_t i;
    int any = 0;

    fprintf(stderr,
            "golive: interrupted (%s); the batch in flight was "
            "committed",
            stop_sig == SIGTERM ? "SIGTERM" : "SIGINT");
    for (i = 0; i < S->n; i++) {
        if (S->out[i].state == GL_SYNC_ENDED && !S->out[i].res.interrupted)
            continue;
        if (!any++)
            fprintf(stderr, "; continue with: golive sync %s", plan_path);
        fprintf(stderr, " %s", S->jobs[i]->id.id);
    }
    fprintf(stderr, "%s\n", any ? " --resume" : "");
}

/* Jobs that did not end ok (failed or skipped; not one refused because
 * another execution of it runs: that one is to be waited for): the
 * command that goes on, once what failed is repaired.  A job whose
 * checkpoint says it stopped or was emptied goes on with --resume; one
 * its failure left untouched runs again as it was. */
/* Whether name is a word of the list (" a b"). */
static int listed(const struct gl_buf *list, const char *name)
{
    const char *s = gl_buf_str(list), *w;
    size_t n = strlen(name);

    for (w = strstr(s, name); w; w = strstr(w + 1, name))
        if (w > s && w[-1] == ' ' && (w[n] == ' ' || !w[n]))
            return 1;
    return 0;
}

/* A job skipped or refused for jobs the invocation did not name is
 * named with them (what its refusal asks for). */
static void print_next_hint(struct sched *S, const char *plan_path)
{
    struct gl_buf resume = GL_BUF_INIT, again = GL_BUF_INIT;
    size_t i;

    for (i = 0; i < S->n; i++) {
        const struct gl_sync_outcome *o = &S->out[i];
        struct gl_buf *to = o->checkpoint == 0 ? &resume : &again;
        const char *w = o->needs, *e;
        if (o->state != GL_SYNC_ENDED || gl_sync_outcome_ok(o) ||
            o->res.locked_out)
            continue;
        while (*w) {
            char name[256];
            e = strchr(w, ' ');
            if (!e)
                e = w + strlen(w);
            snprintf(name, sizeof(name), "%.*s", (int)(e - w), w);
            if (name[0] && !listed(&resume, name) && !listed(&again, name))
                gl_buf_addf(to, " %s", name);
            w = *e ? e + 1 : e;
        }
        gl_buf_addf(to, " %s", S->jobs[i]->id.id);
    }
    if (cli_buf_check(&resume, "the hint") || cli_buf_check(&again, "the hint"))
        goto out;
    if (again.len)
        fprintf(stderr,
                "golive: once repaired, run again: golive sync %s%s%s\n",
                plan_path, gl_buf_str(&again),
                S->opts.retry_rejects ? " --retry-rejects"
                : S->opts.restart     ? " --restart"
                                      : "");
    if (resume.len)
        fprintf(stderr,
                "golive: once repaired, continue with: golive sync %s%s "
                "--resume\n",
                plan_path, gl_buf_str(&resume));
out:
    gl_buf_release(&resume);
    gl_buf_release(&again);
}

/* The jobs named (all when none is), each once, in the order named. */
static int select_jobs(struct sched *S, int argc, char **argv)
{
    const struct gl_plan *plan = S->plan;
    size_t i;
    int k;

    if (argc == 0) {
        for (i = 0; i < plan->n_sync; i++)
            S->jobs[S->n++] = &plan->sync[i];
        return EXIT_OK;
    }
    for (k = 0; k < argc; k++) {
        const struct gl_sync_job *j = gl_plan_job(plan, argv[k]);
        if (!j) {
            const char *names[256];
            const char *hint;
            size_t n = 0;
            for (i = 0; i < plan->n_sync && n < 256; i++)
                names[n++] = plan->sync[i].id.id;
            hint = gl_suggest(argv[k], names, n);
            return cli_usage("sync", "no sync job '%s' in the plan%s%s%s",
                             argv[k], hint ? "; did you mean '" : "",
                             hint ? hint : "", hint ? "'?" : "");
        }
        for (i = 0; i < S->n && S->jobs[i] != j; i++)
            ;
        if (i == S->n)
            S->jobs[S->n++] = j;
    }
    return EXIT_OK;
}

/* The command's exit code from the outcomes; a job that could not run
 * at all is said where errors go. */
static int exit_code(struct sched *S)
{
    int any_failed = 0, any_error = 0;
    size_t i;

    for (i = 0; i < S->n; i++) {
        any_failed |= S->out[i].res.failed || S->out[i].skipped;
        any_error |= S->out[i].rc != GL_OK;
        if (S->out[i].rc != GL_OK)
            cli_error("sync job '%s': %s", S->out[i].res.job,
                      S->out[i].res.error);
    }
    for (i = 0; i < S->n; i++)
        if (S->out[i].rc == GL_EREFUSED)
            any_error = 3;
    return any_error == 3 ? EXIT_REFUSED
           : any_error    ? EXIT_ERROR
           : any_failed   ? EXIT_NO
                          : EXIT_OK;
}

/* Run the selected jobs (one library call) and render how they ended. */
static int run_jobs(struct sched *S, const char *plan_path, const char *state,
                    const char *as, const char *plan_sha, long nthreads,
                    int json)
{
    struct gl_sync_sched_opts so;
    struct sigaction sa;
    struct gl_err err;
    int rc;

    if ((rc = open_record(S, state, as)) != EXIT_OK)
        return rc;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESETHAND; /* a second one ends it at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    memset(&so, 0, sizeof(so));
    so.sync = S->opts;
    so.sync.stop = &stop_sig;
    so.threads = (int)nthreads;
    so.store = S->store;
    so.who = &S->who;
    so.plan_sha256 = plan_sha;
    so.progress = draw;
    so.warn = on_warn;
    so.ctx = S;
    S->tty = cli_isatty_err() && !json;
    gl_err_clear(&err);
    gl_db_global_init();
    if (gl_sync_schedule(S->plan, S->jobs, S->n, &so, S->out, &err))
        return cli_fail(&err);
    if (S->tty)
        fputs("\r\033[K", stderr);
    rc = exit_code(S);
    if (json)
        print_json(S);
    else
        print_table(S);
    if (!stop_sig && rc != EXIT_OK)
        print_next_hint(S, plan_path);
    if (stop_sig) {
        print_resume_hint(S, plan_path);
        rc = 128 + stop_sig; /* 130 SIGINT, 143 SIGTERM */
    }
    return rc;
}

/* After the options: the plan, the jobs, the run. */
static int sync_plan(struct sched *S, int argc, char **argv,
                     const char *state_opt, const char *as, long nthreads,
                     int json, int plan_changed)
{
    struct gl_plan *plan = NULL;
    const char *plan_path = argv[0];
    char state[4096], plan_sha[65] = "";
    int rc;

    if (!strcmp(plan_path, CLI_RUN_PLAN) && state_opt)
        setenv("GOLIVE_STATE", state_opt, 1); /* @run: the run in --state */
    if ((rc = cli_load_plan(plan_path, 0, 1, &plan))) {
        if (rc == EXIT_NO)
            cli_error("plan '%s' has errors; 'golive validate' shows them",
                      plan_path);
        gl_plan_free(plan);
        return rc;
    }
    cli_state_path(state_opt, plan_path, state, sizeof(state));
    if ((rc = cli_plan_matches_run(plan_path, state, plan_changed, plan_sha)))
        goto out;
    S->plan = plan;
    S->jobs = calloc(plan->n_sync + 1, sizeof(*S->jobs));
    S->out = calloc(plan->n_sync + 1, sizeof(*S->out));
    rc = EXIT_ERROR;
    if (S->jobs && S->out &&
        (rc = select_jobs(S, argc - 1, argv + 1)) == EXIT_OK)
        rc = run_jobs(S, plan_path, state, as, plan_sha, nthreads, json);
out:
    gl_store_close(S->store);
    free(S->out);
    free(S->jobs);
    gl_plan_free(plan);
    return rc;
}

static int run(int argc, char **argv)
{
    struct sched S;
    const char *state_opt = NULL, *as = NULL;
    int nthreads = 1;
    int json = 0, rc, plan_changed = 0;
    struct po_option opts[] = {
        OPT_INT("jobs", 0, &nthreads, 1, 64, "N",
                "run up to N independent jobs at once ('after' orders them)"),
        OPT_FLAG("resume", 0, &S.opts.resume,
                 "continue an interrupted job after its last committed "
                 "batch"),
        OPT_FLAG("restart", 0, &S.opts.restart,
                 "start over even where the mode (append, incremental) "
                 "would refuse to: an incremental job reads from the "
                 "beginning, a completed append job loads every row again"),
        OPT_FLAG("retry-rejects", 0, &S.opts.retry_rejects,
                 "load the rejected rows again (after the mapping was "
                 "fixed); the rows that load leave the file, the rest stays"),
        OPT_INT64("batch-size", 0, &S.opts.batch_size, 1, PO_NO_MAX, "N",
                  "rows per batch (default: the job's, else 10000)"),
        OPT_FLAG("json", 'j', &json,
                 "{\"jobs\":[{job, read, written, rejected, bytes, seconds, "
                 "outcome, ...}]}"),
        OPT_STATE(&state_opt),
        OPT_AS(&as),
        OPT_PLAN_CHANGED(&plan_changed),
        OPT_ARGS(1, -1, "a plan file"),
    };

    memset(&S, 0, sizeof(S));
    if ((rc = cli_parse(&cmd_sync, opts, argc, argv)) >= 0)
        return rc;
    if (S.opts.resume + S.opts.restart + S.opts.retry_rejects > 1)
        return cli_usage("sync", "--resume, --restart and --retry-rejects "
                                 "exclude each other");
    return sync_plan(&S, argc - optind, argv + optind, state_opt, as, nthreads,
                     json, plan_changed);
}

const struct gl_cmd cmd_sync = {
    "sync",
    "copy the old system's rows into the new one, job by job",
    "usage: golive sync PLAN [JOB...] [--jobs N] [--resume | --restart |\n"
    "                    --retry-rejects] [--batch-size N] [--json]\n"
    "                    [--state FILE] [--as PERSON] [--plan-changed]\n"
    "\n" CLI_HELP_RUN_PLAN "\n"
    "Run the plan's sync jobs (all, or those named), each through the\n"
    "target's bulk path, in batches that commit together with the job's\n"
    "checkpoint (table golive_checkpoint in the target).  Rows that cannot\n"
    "be loaded are added to rejects/JOB.csv beside the plan with the\n"
    "execution and the reason (the file only grows): among them rows with\n"
    "a NULL key, and zero dates (MariaDB's 0000-00-00) or infinities\n"
    "(PostgreSQL's) that the target column cannot hold, unless the column\n"
    "says {from: c, unrepresentable: null} (then NULL is stored).  Each\n"
    "execution is recorded in the run from its start when the state store\n"
    "exists.  Ctrl-C (SIGINT) or SIGTERM: the jobs commit their batch in\n"
    "flight and stop, are recorded 'interrupted', and the command that\n"
    "continues is printed (exit 130 / 143).\n"
    "\n"
    "Before any target is emptied, every job connects to both sides, takes\n"
    "its lock in the target (one execution of a job at a time) and runs\n"
    "its SELECT for no rows.  A job after one that did not end ok (in this\n"
    "invocation, or in its latest recorded execution) is skipped; its\n"
    "error and the closing hint name the jobs to sync with it once the\n"
    "cause is repaired.  An append job that completed already loads\n"
    "nothing.\n"
    "\n",
    "exit: 0 every job ok, 1 a job failed, passed its error limit or was\n"
    "      skipped, 2 usage or connection error, 3 refused (an interrupted\n"
    "      job needs --resume or --restart; the job is running already;\n"
    "      the plan file is not the run's), 130 / 143 stopped by SIGINT /\n"
    "      SIGTERM\n",
    run,
};
