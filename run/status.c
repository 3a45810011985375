/*
 * status.c - the lead's view of the run and the ETA (see golive/status.h).
 */
#include "golive/status.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "golive/defect.h"
#include "golive/forecast.h"
#include "store-rows.h"
#include "transition.h"
#include "golive/gate.h"
#include "util/arena.h"
#include "util/clock.h"

#define NO_TIME INT64_MIN

struct row {
    const struct gl_task *t;
    char state[12];
    const char *owner, *checker; /* the plan's, or the run's (strings) */
    int64_t started, ended;      /* actual, NO_TIME when not yet */
    int64_t fixed_ps, fixed_pe;  /* planned times fixed at its start */
    int resumable;               /* its sync's last execution stopped midway */
    int in_scope;
    int lost; /* running, its process gone */
    /* as planned: the schedule, then the slack */
    int64_t es, ef, ls, lf;
    /* as expected now */
    int64_t xs, xe;
    long pred;   /* the dependency whose end sets xs, or -1 */
    int planned; /* es / ef computed */
};

static int64_t parse_time(const char *s)
{
    int64_t t;
    int off;

    return s && !gl_time_parse(s, &t, &off) ? t : NO_TIME;
}

static void init_rows(const struct gl_plan *p, struct row *r)
{
    size_t i;

    for (i = 0; i < p->n_tasks; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        r[i].t = &p->tasks[i];
        memcpy(r[i].state, "pending", sizeof("pending"));
        r[i].owner = p->tasks[i].owner.id ? p->tasks[i].owner.id : "";
        r[i].checker = p->tasks[i].checker.id ? p->tasks[i].checker.id : "";
        r[i].started = r[i].ended = NO_TIME;
        r[i].fixed_ps = r[i].fixed_pe = NO_TIME;
        r[i].es = r[i].ef = r[i].xs = r[i].xe = NO_TIME;
        r[i].pred = -1;
    }
}

/* The run's person for a task when it differs from the plan's (a
 * handover), copied into strings. */
static const char *person(struct gl_arena *strings, const char *plan,
                          const char *run)
{
    const char *s;

    if (!run || !strcmp(plan, run))
        return plan;
    s = gl_arena_strdup(strings, run);
    return s ? s : plan;
}

struct load {
    const struct gl_task_graph *g;
    struct row *r;
    struct gl_arena *strings;
};

static void load_row(void *ctx, const struct gl_store_task_now *t)
{
    struct load *l = ctx;
    struct row *x;
    long i = gl_task_graph_find(l->g, t->id);

    if (i < 0)
        return;
    x = &l->r[i];
    snprintf(x->state, sizeof(x->state), "%s", t->state);
    x->owner = person(l->strings, x->owner, t->owner);
    x->checker = person(l->strings, x->checker, t->checker);
    x->started = parse_time(t->started_at);
    x->ended = parse_time(t->finished_at);
    /* a running task executed by a process of this host that is gone,
     * with every process of its command */
    x->lost = !strcmp(x->state, "running") && t->has_pid &&
              gl_run_task_gone(t->pid, t->pgid, t->host);
    x->fixed_ps = parse_time(t->planned_start);
    x->fixed_pe = parse_time(t->planned_end);
}

static int load_rows(gl_store *s, const struct gl_task_graph *g, struct row *r,
                     struct gl_arena *strings, struct gl_err *err)
{
    struct load l = {g, r, strings};

    return gl_store_status_tasks(s, load_row, &l, err);
}

static int64_t dur(const struct gl_task *t)
{
    return t->has_duration ? t->duration : 0;
}

static int finished(const char *st)
{
    return !strcmp(st, "done") || !strcmp(st, "checked") ||
           !strcmp(st, "skipped");
}

/* A task whose run: is a sync, one of whose jobs can resume. */
static int sync_resumable(gl_store *s, const struct gl_plan *p,
                          const struct gl_task *t)
{
    char words[4096], *save = NULL, *w;
    int any = 0, named = 0;
    size_t i;

    if (!t->run || strncmp(t->run, "sync ", 5) ||
        strlen(t->run) >= sizeof(words))
        return 0;
    snprintf(words, sizeof(words), "%s", t->run + 5);
    for (w = strtok_r(words, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
        if (*w != '-') {
            named++;
            any |= gl_store_sync_resumable(s, w);
        }
    for (i = 0; !named && i < p->n_sync; i++)
        any |= gl_store_sync_resumable(s, p->sync[i].id.id);
    return any;
}

/* When the lead started the rollback (NO_TIME when unknown). */
static int rollback_at(gl_store *s, int64_t *at, struct gl_err *err)
{
    char buf[64];
    int rc = gl_store_rollback_at(s, buf, sizeof(buf), err);

    *at = !rc && buf[0] ? parse_time(buf) : NO_TIME;
    return rc;
}

/* The schedule of the tasks in scope, in dependency order: a task starts
 * at its 'at', or at origin, or when its last dependency ends, whichever
 * is latest. */
static void plan_pass(const struct gl_task_graph *g, struct row *r,
                      int64_t switch_at, int64_t origin)
{
    size_t k, e;

    for (k = 0; k < g->n_order; k++) {
        size_t i = g->order[k];
        const struct gl_task *t = r[i].t;
        int64_t es = t->has_at ? switch_at + t->at : origin;
        if (!r[i].in_scope)
            continue;
        for (e = g->first[i]; e < g->first[i + 1]; e++) {
            size_t d = g->dep[e];
            if (r[d].in_scope && r[d].ef > es)
                es = r[d].ef;
        }
        r[i].es = es;
        r[i].ef = es + dur(t);
        r[i].planned = 1;
    }
}

/* Plan the night: the forward tasks from the earliest 'at' (or T0); once
 * the rollback started, its tasks from when it started, and then only
 * they are in scope.  *rb gets whether the rollback started. */
static int schedule(gl_store *s, const struct gl_task_graph *g, struct row *r,
                    int64_t switch_at, int64_t now, int *rb, struct gl_err *err)
{
    int64_t origin = switch_at;
    size_t i;
    int rc;

    for (i = 0; i < g->n; i++) {
        r[i].in_scope = r[i].t->stage != GL_STAGE_ROLLBACK;
        if (r[i].in_scope && r[i].t->has_at && switch_at + r[i].t->at < origin)
            origin = switch_at + r[i].t->at;
    }
    plan_pass(g, r, switch_at, origin);
    if ((*rb = gl_rollback_started(s)) < 0)
        return gl_run_fail_db(s, err);
    if (!*rb)
        return GL_OK;
    for (i = 0; i < g->n; i++)
        r[i].in_scope = r[i].t->stage == GL_STAGE_ROLLBACK;
    if ((rc = rollback_at(s, &origin, err)))
        return rc;
    plan_pass(g, r, switch_at, origin == NO_TIME ? now : origin);
    return GL_OK;
}

int gl_status_planned(gl_store *s, const struct gl_plan *p, int64_t switch_at,
                      int64_t now, const char *id, int64_t *start, int64_t *end,
                      struct gl_err *err)
{
    struct gl_task_graph g;
    struct row *r = NULL;
    long i;
    int rb, rc;

    *start = *end = NO_TIME;
    if (gl_task_graph_build(&g, p))
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    if (!(r = calloc(p->n_tasks ? p->n_tasks : 1, sizeof(*r)))) {
        gl_task_graph_release(&g);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    init_rows(p, r);
    if (!(rc = schedule(s, &g, r, switch_at, now, &rb, err)) &&
        (i = gl_task_graph_find(&g, id)) >= 0 && r[i].planned) {
        *start = r[i].es;
        *end = r[i].ef;
    }
    free(r);
    gl_task_graph_release(&g);
    return rc;
}

/* What the lead expects now, in dependency order: a finished task ended
 * when it did; a running one ends its planned duration times the factor
 * after its start, not before now; the others start at their 'at', now,
 * or when their last dependency is expected to end, whichever is latest. */
static void expect_pass(const struct gl_task_graph *g, struct row *r,
                        int64_t switch_at, int64_t now, double factor)
{
    size_t k, e, i;

    for (i = 0; i < g->n; i++)
        r[i].xs = r[i].xe = NO_TIME;
    for (k = 0; k < g->n_order; k++) {
        const struct gl_task *t;
        int64_t d, xs;
        i = g->order[k];
        t = r[i].t;
        d = (int64_t)((double)dur(t) * factor + 0.5);
        r[i].pred = -1;
        if (!r[i].in_scope)
            continue;
        if (finished(r[i].state)) {
            r[i].xs = r[i].started != NO_TIME ? r[i].started : now;
            r[i].xe = r[i].ended != NO_TIME ? r[i].ended : now;
            if (r[i].xs > r[i].xe)
                r[i].xs = r[i].xe;
            continue;
        }
        if (!strcmp(r[i].state, "running") && r[i].started != NO_TIME) {
            r[i].xs = r[i].started;
            r[i].xe = r[i].started + d > now ? r[i].started + d : now;
            continue;
        }
        xs = t->has_at ? switch_at + t->at : now;
        if (now > xs)
            xs = now;
        for (e = g->first[i]; e < g->first[i + 1]; e++) {
            size_t dd = g->dep[e];
            if (r[dd].in_scope && r[dd].xe != NO_TIME && r[dd].xe >= xs &&
                (r[dd].xe > xs || r[i].pred < 0)) {
                xs = r[dd].xe;
                r[i].pred = (long)dd;
            }
        }
        r[i].xs = xs;
        r[i].xe = xs + d;
    }
}

/* Latest start and finish as planned, backward in dependency order: the
 * cutover's tasks against the end of the cutover (hypercare left out, so
 * that a duty pinned at T+10h does not give them all slack), hypercare
 * tasks against the last end. */
static void plan_backward(const struct gl_task_graph *g, struct row *r)
{
    int64_t end_all = NO_TIME, end_cut = NO_TIME;
    size_t i, k, e;

    for (i = 0; i < g->n; i++) {
        if (!r[i].in_scope || !r[i].planned)
            continue;
        if (end_all == NO_TIME || r[i].ef > end_all)
            end_all = r[i].ef;
        if (r[i].t->stage != GL_STAGE_HYPERCARE &&
            (end_cut == NO_TIME || r[i].ef > end_cut))
            end_cut = r[i].ef;
    }
    if (end_cut == NO_TIME)
        end_cut = end_all;
    for (i = 0; i < g->n; i++) {
        r[i].lf = r[i].t->stage == GL_STAGE_HYPERCARE ? end_all : end_cut;
        r[i].ls = r[i].lf - dur(r[i].t);
    }
    for (k = g->n_order; k-- > 0;) {
        i = g->order[k];
        if (!r[i].in_scope)
            continue;
        r[i].ls = r[i].lf - dur(r[i].t);
        for (e = g->first[i]; e < g->first[i + 1]; e++) {
            size_t d = g->dep[e];
            if (r[d].in_scope && r[i].ls < r[d].lf)
                r[d].lf = r[i].ls;
        }
    }
}

static json_t *time_json(int64_t t)
{
    return t == NO_TIME ? json_null() : json_integer(t);
}

/* An open blocker: one deferred (a store from before blockers could not
 * be) does not block the night. */
static void blocker_defect(void *ctx, int64_t n, const char *title,
                           const char *state, const char *severity)
{
    char id[32], detail[512];

    (void)severity;
    if (!strcmp(state, gl_transition_to(gl_defect_moves, "defer")))
        return;
    snprintf(id, sizeof(id), "D-%lld", (long long)n);
    snprintf(detail, sizeof(detail), "blocker defect, %s: %s", state, title);
    json_array_append_new(ctx, json_pack("{s:s, s:s, s:s}", "kind", "defect",
                                         "id", id, "detail", detail));
}

static void blocked_scenario(void *ctx, const char *id, const char *by,
                             const char *why)
{
    /* who recorded it (taken with 'scenario next' or not), and why when
     * they said */
    char detail[600];

    snprintf(detail, sizeof(detail), "scenario blocked%s%s%s%s",
             *by ? " by " : "", by, *why ? ": " : "", why);
    json_array_append_new(ctx, json_pack("{s:s, s:s, s:s}", "kind", "scenario",
                                         "id", id, "detail", detail));
}

static int add_blockers(gl_store *s, const struct gl_plan *p, json_t *blockers,
                        struct gl_err *err)
{
    size_t i;
    int rc;

    if ((rc = gl_store_open_defects(s, gl_defect_rank("blocker"),
                                    blocker_defect, blockers, err)))
        return rc;
    for (i = 0; i < p->n_checks; i++) {
        const char *id = p->checks[i].id.id;
        char outcome[32], message[600], detail[600];
        if ((rc = gl_store_check_result(s, id, outcome, sizeof(outcome),
                                        message, sizeof(message), err)))
            return rc;
        if (!strcmp(outcome, "passed")) {
            /* as the gate: a pass before its job ran again is stale */
            if ((rc = gl_run_check_stale(s, p, id, message, sizeof(message),
                                         err)))
                return rc;
            if (message[0])
                strcpy(outcome, "stale");
        }
        if (outcome[0] && strcmp(outcome, "passed")) {
            /* a long message is cut at the detail's size */
            if (snprintf(detail, sizeof(detail), "check %s: %s", outcome,
                         message) >= (int)sizeof(detail))
                detail[sizeof(detail) - 1] = '\0';
            json_array_append_new(blockers,
                                  json_pack("{s:s, s:s, s:s}", "kind", "check",
                                            "id", id, "detail", detail));
        }
    }
    return gl_store_blocked_scenarios(s, blocked_scenario, blockers, err);
}

static int add_scenarios(gl_store *s, const struct gl_plan *p, json_t *out,
                         struct gl_err *err)
{
    json_t *states = json_object();
    int64_t p0 = 0, p0_passed = 0;
    size_t i;
    int rc;

    for (i = 0; i < p->n_scenarios; i++) {
        char state[32];
        json_int_t n;
        if ((rc = gl_store_state_of(s, "scenarios", p->scenarios[i].id.id,
                                    state, sizeof(state), err))) {
            json_decref(states);
            return rc;
        }
        if (!state[0])
            snprintf(state, sizeof(state), "pending");
        n = json_integer_value(json_object_get(states, state));
        json_object_set_new(states, state, json_integer(n + 1));
        if (p->scenarios[i].priority == 0) {
            p0++;
            p0_passed += !strcmp(state, "passed");
        }
    }
    json_object_set_new(out, "scenarios",
                        json_pack("{s:o, s:{s:I, s:I}, s:I}", "states", states,
                                  "p0", "passed", (json_int_t)p0_passed, "all",
                                  (json_int_t)p0, "all",
                                  (json_int_t)p->n_scenarios));
    return GL_OK;
}

/* The planned start and end the lead holds a task to: those fixed when it
 * started, else the schedule (which moves with T0). */
static int64_t pstart(const struct row *r)
{
    return r->fixed_ps != NO_TIME ? r->fixed_ps : r->planned ? r->es : NO_TIME;
}

static int64_t pend(const struct row *r)
{
    return r->fixed_pe != NO_TIME ? r->fixed_pe : r->planned ? r->ef : NO_TIME;
}

static json_t *chain_of(const struct row *r, long last)
{
    json_t *chain = json_array();
    long i;

    for (i = last; i >= 0; i = r[i].pred)
        json_array_insert_new(chain, 0, json_string(r[i].t->id.id));
    return chain;
}

static json_t *diff_json(int64_t a, int64_t b)
{
    return a == NO_TIME || b == NO_TIME ? json_null() : json_integer(a - b);
}

/* The ETA of a set of tasks (a stage, the cutover), fed task by task: the
 * task expected to end last and the chain that leads to it; when all of
 * them finished, when the last one ended instead. */
struct span {
    long last;          /* the task that ends last, or -1 */
    int open;           /* some task is not finished */
    int64_t eta, ended; /* one of them, NO_TIME the other */
    int64_t planned_end;
    size_t n, n_finished;
};

static void span_add(struct span *sp, const struct row *r, long i)
{
    int64_t pe = pend(&r[i]);

    if (sp->n++ == 0) {
        sp->last = -1;
        sp->eta = sp->ended = sp->planned_end = NO_TIME;
    }
    if (pe != NO_TIME && (sp->planned_end == NO_TIME || pe > sp->planned_end))
        sp->planned_end = pe;
    if (finished(r[i].state))
        sp->n_finished++;
    else
        sp->open = 1;
    if (r[i].xe != NO_TIME &&
        (sp->last < 0 || r[i].xe > r[sp->last].xe ||
         (r[i].xe == r[sp->last].xe && !finished(r[i].state))))
        sp->last = i;
}

static json_t *span_json(struct span *sp, const struct row *r)
{
    int64_t end;

    if (sp->last >= 0) {
        if (sp->open)
            sp->eta = r[sp->last].xe;
        else
            sp->ended = r[sp->last].xe;
    }
    end = sp->open ? sp->eta : sp->ended;
    return json_pack(
        "{s:b, s:I, s:I, s:o, s:o, s:o, s:o, s:o}", "done", !sp->open, "n",
        (json_int_t)sp->n, "finished", (json_int_t)sp->n_finished, "eta",
        time_json(sp->eta), "ended", time_json(sp->ended), "planned_end",
        time_json(sp->planned_end), "late", diff_json(end, sp->planned_end),
        "chain", sp->last >= 0 ? chain_of(r, sp->last) : json_array());
}

/* The verification forecast moves a span's end (the verify stage's, the
 * cutover's) when it ends later than the span's tasks: the span is then
 * open, its ETA the forecast's "verified", and "set_by" says so. */
static void forecast_moves(json_t *x, json_t *fc)
{
    json_t *v = json_object_get(fc, "verified"),
           *pe = json_object_get(x, "planned_end");
    json_int_t at, eta;

    json_object_set_new(x, "set_by", json_string("tasks"));
    if (!json_is_true(json_object_get(fc, "applies")) ||
        json_is_true(json_object_get(v, "done")) ||
        !json_is_integer(json_object_get(v, "at")))
        return;
    at = json_integer_value(json_object_get(v, "at"));
    eta = json_integer_value(json_object_get(x, "eta"));
    if (json_is_true(json_object_get(x, "done")) ? 0 : eta >= at)
        return;
    json_object_set_new(x, "done", json_false());
    json_object_set_new(x, "ended", json_null());
    json_object_set_new(x, "eta", json_integer(at));
    json_object_set_new(x, "late",
                        json_is_integer(pe)
                            ? json_integer(at - json_integer_value(pe))
                            : json_null());
    json_object_set_new(x, "set_by", json_string("forecast"));
}

/* The go / no-go decision: the task marked 'decides: go', else the verify
 * task planned to end last; -1 when there is none in scope. */
static long decision_task(const struct gl_plan *p, const struct row *r,
                          int *marked)
{
    long i, best = -1;

    *marked = 0;
    for (i = 0; i < (long)p->n_tasks; i++)
        if (r[i].t->decides_go) {
            *marked = 1;
            return r[i].in_scope ? i : -1;
        }
    for (i = 0; i < (long)p->n_tasks; i++)
        if (r[i].in_scope && r[i].t->stage == GL_STAGE_VERIFY && r[i].planned &&
            (best < 0 || pend(&r[i]) >= pend(&r[best])))
            best = i;
    return best;
}

static json_t *decision_json(const struct row *r, long i, int marked)
{
    const struct row *x = &r[i];
    int fin = finished(x->state), started = x->started != NO_TIME;
    int64_t start = started ? x->started : x->xs;
    int64_t end = fin ? x->xe : NO_TIME, eta = fin ? NO_TIME : x->xe;

    return json_pack(
        "{s:s, s:b, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "task",
        x->t->id.id, "marked", marked, "state", x->state, "started",
        time_json(started ? x->started : NO_TIME), "expected_start",
        time_json(started ? NO_TIME : x->xs), "eta", time_json(eta), "ended",
        time_json(end), "planned_start", time_json(pstart(x)), "planned_end",
        time_json(pend(x)), "start_late", diff_json(start, pstart(x)), "late",
        diff_json(fin ? end : eta, pend(x)), "chain", chain_of(r, i));
}

struct late {
    long i;
    int end; /* running past its planned end, else not started */
    int64_t planned, by;
};

static int late_cmp(const void *a, const void *b)
{
    const struct late *x = a, *y = b;

    if (x->by != y->by)
        return x->by > y->by ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Tasks past their planned start and not started, or running past their
 * planned end: the most late first. */
static json_t *late_json(const struct gl_plan *p, const struct row *r,
                         int64_t now)
{
    struct late *v = malloc((p->n_tasks ? p->n_tasks : 1) * sizeof(*v));
    json_t *out = json_array();
    size_t i, n = 0;

    if (!v)
        return out;
    for (i = 0; i < p->n_tasks; i++) {
        int64_t at;
        int end;
        if (!r[i].in_scope)
            continue;
        if (!strcmp(r[i].state, "pending")) {
            at = pstart(&r[i]);
            end = 0;
        } else if (!strcmp(r[i].state, "running")) {
            at = pend(&r[i]);
            end = 1;
        } else {
            continue;
        }
        if (at == NO_TIME || now <= at)
            continue;
        v[n].i = (long)i;
        v[n].end = end;
        v[n].planned = at;
        v[n++].by = now - at;
    }
    qsort(v, n, sizeof(*v), late_cmp);
    for (i = 0; i < n; i++) {
        const struct row *x = &r[v[i].i];
        json_array_append_new(
            out,
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "id", x->t->id.id,
                      "stage", gl_stage_name(x->t->stage), "state", x->state,
                      "owner", x->owner, "late", v[i].end ? "end" : "start",
                      "planned", (json_int_t)v[i].planned, "by",
                      (json_int_t)v[i].by));
    }
    free(v);
    return out;
}

/* rows of this many bytes or more are put in huge pages (ROWS_BLOCK is
 * one: util/arena.c aligns blocks that large and asks for them) */
#define ROWS_HUGE ((size_t)256 << 10)
#define ROWS_BLOCK ((size_t)2 << 20)

int gl_status_eval(gl_store *s, const struct gl_plan *p, int64_t switch_at,
                   int64_t now, unsigned flags, json_t **out,
                   struct gl_err *err)
{
    size_t n = p->n_tasks, i, j, k;
    struct row *r;
    json_t *o = NULL, *tasks, *counts, *totals, *running, *ready, *blockers,
           *stages, *x, *fc = NULL;
    struct gl_task_graph g;
    struct gl_arena strings = GL_ARENA_INIT;
    struct span cut, st[GL_STAGE_COUNT];
    int64_t sum_a = 0, sum_p = 0, n_basis = 0, all = 0;
    double factor;
    int rb = 0, rc, marked;
    long dec;

    *out = NULL;
    memset(&g, 0, sizeof(g));
    /* The rows of a large run go with the strings into one arena block of
     * huge pages: calloc'd, 10,000 rows were 350 page faults, each dearer
     * than all the work done on the row. */
    if (n * sizeof(*r) >= ROWS_HUGE)
        strings.block = ROWS_BLOCK;
    r = gl_arena_alloc(&strings, (n ? n : 1) * sizeof(*r));
    if (!r || gl_task_graph_build(&g, p)) {
        gl_arena_release(&strings);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    init_rows(p, r);
    if ((rc = load_rows(s, &g, r, &strings, err)) ||
        (rc = gl_run_sql_functions(s, err)) ||
        (rc = schedule(s, &g, r, switch_at, now, &rb, err)))
        goto done;
    for (i = 0; i < n; i++)
        r[i].resumable =
            strcmp(r[i].state, "done") && strcmp(r[i].state, "checked") &&
            strcmp(r[i].state, "skipped") && sync_resumable(s, p, r[i].t);
    plan_backward(&g, r);

    /* the overrun: actual / planned time of the tasks that finished */
    for (i = 0; i < n; i++) {
        int64_t d = dur(r[i].t);
        if (d <= 0 || r[i].started == NO_TIME || r[i].ended == NO_TIME ||
            (strcmp(r[i].state, "done") && strcmp(r[i].state, "checked")))
            continue;
        sum_a += r[i].ended > r[i].started ? r[i].ended - r[i].started : 0;
        sum_p += d;
        n_basis++;
    }
    factor = sum_p > 0 ? (double)sum_a / (double)sum_p : 1.0;

    /* as expected now; what remains is never planned shorter than it was */
    expect_pass(&g, r, switch_at, now, factor > 1.0 ? factor : 1.0);
    {
        /* testing starts when the verify stage is expected to: the first
         * of its tasks to start (now once one started) */
        int64_t from = NO_TIME;
        for (i = 0; i < n; i++)
            if (r[i].in_scope && r[i].t->stage == GL_STAGE_VERIFY &&
                r[i].xs != NO_TIME && (from == NO_TIME || r[i].xs < from))
                from = r[i].xs;
        if ((rc = gl_forecast_eval(s, p, now, from == NO_TIME ? now : from, &fc,
                                   err)))
            goto done;
    }
    memset(&cut, 0, sizeof(cut));
    memset(st, 0, sizeof(st));
    for (k = 0; k < g.n_order; k++) {
        i = g.order[k];
        if (!r[i].in_scope || r[i].t->stage == GL_STAGE_HYPERCARE)
            continue;
        span_add(&cut, r, (long)i);
        span_add(&st[r[i].t->stage], r, (long)i);
    }

    o = json_object();
    tasks = json_array();
    counts = json_object();
    totals = json_object();
    running = json_array();
    ready = json_array();
    blockers = json_array();
    for (i = 0; i < GL_STAGE_COUNT; i++) {
        json_t *cs = json_object();
        for (j = 0; j < GL_TASK_STATE_COUNT; j++)
            json_object_set_new(cs, gl_task_state_name((enum gl_task_state)j),
                                json_integer(0));
        json_object_set_new(cs, "lost", json_integer(0));
        json_object_set_new(counts, gl_stage_name((enum gl_stage)i), cs);
    }
    for (j = 0; j < GL_TASK_STATE_COUNT; j++)
        json_object_set_new(totals, gl_task_state_name((enum gl_task_state)j),
                            json_integer(0));
    json_object_set_new(totals, "lost", json_integer(0));
    for (i = 0; i < n; i++) {
        const struct gl_task *t = r[i].t;
        const char *state = r[i].state;
        json_t *cs = json_object_get(counts, gl_stage_name(t->stage));
        if (!strcmp(state, "pending")) {
            int ok = r[i].in_scope && !(t->has_at && now < switch_at + t->at);
            for (j = g.first[i]; ok && j < g.first[i + 1]; j++) {
                const char *ds = r[g.dep[j]].state;
                ok = !strcmp(ds, "checked") || !strcmp(ds, "skipped");
            }
            if (ok) {
                state = "ready";
                json_array_append_new(
                    ready,
                    json_pack("{s:s, s:s, s:b}", "id", t->id.id, "owner",
                              r[i].owner, "sync_resumable", r[i].resumable));
            }
        } else if (!strcmp(state, "running")) {
            if (r[i].lost) {
                state = "lost";
                json_array_append_new(
                    blockers,
                    json_pack("{s:s, s:s, s:s}", "kind", "lost", "id", t->id.id,
                              "detail",
                              r[i].resumable
                                  ? "its process died; the owner retries it "
                                    "(start --resume continues its sync) or "
                                    "fails it"
                                  : "its process died; the owner retries or "
                                    "fails it"));
            }
            json_array_append_new(running,
                                  json_pack("{s:s, s:s, s:o, s:b}", "id",
                                            t->id.id, "owner", r[i].owner,
                                            "since", time_json(r[i].started),
                                            "lost", !strcmp(state, "lost")));
        } else if (!strcmp(state, "failed")) {
            json_array_append_new(
                blockers,
                json_pack("{s:s, s:s, s:s}", "kind", "task", "id", t->id.id,
                          "detail",
                          r[i].resumable
                              ? "task failed; its sync can resume (reopen, "
                                "then start --resume)"
                              : "task failed"));
        }
        json_object_set_new(
            cs, state,
            json_integer(json_integer_value(json_object_get(cs, state)) + 1));
        json_object_set_new(
            totals, state,
            json_integer(json_integer_value(json_object_get(totals, state)) +
                         1));
        all++;
        if (!(flags & GL_STATUS_TASKS))
            continue;
        json_array_append_new(
            tasks,
            json_pack(
                "{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o,"
                " s:o, s:o, s:b, s:o, s:b, s:b}",
                "id", t->id.id, "title", t->title ? t->title : "", "stage",
                gl_stage_name(t->stage), "state", state, "owner", r[i].owner,
                "checker", r[i].checker, "started", time_json(r[i].started),
                "ended", time_json(r[i].ended), "expected_start",
                time_json(r[i].in_scope ? r[i].xs : NO_TIME), "expected_end",
                time_json(r[i].in_scope ? r[i].xe : NO_TIME), "planned_start",
                time_json(pstart(&r[i])), "planned_end", time_json(pend(&r[i])),
                "critical",
                r[i].in_scope && r[i].planned && r[i].ls == r[i].es &&
                    dur(t) > 0,
                "slack",
                r[i].in_scope && r[i].planned ? json_integer(r[i].ls - r[i].es)
                                              : json_null(),
                "in_scope", r[i].in_scope, "sync_resumable", r[i].resumable));
    }
    json_object_set_new(totals, "all", json_integer(all));
    if ((rc = add_blockers(s, p, blockers, err)) ||
        (rc = add_scenarios(s, p, o, err))) {
        json_decref(tasks);
        json_decref(counts);
        json_decref(totals);
        json_decref(running);
        json_decref(ready);
        json_decref(blockers);
        goto done;
    }
    stages = json_array();
    for (i = 0; i < GL_STAGE_COUNT; i++) {
        if (!st[i].n)
            continue;
        x = span_json(&st[i], r);
        json_object_set_new(x, "stage",
                            json_string(gl_stage_name((enum gl_stage)i)));
        if (i == GL_STAGE_VERIFY && !rb)
            forecast_moves(x, fc);
        json_array_append_new(stages, x);
    }
    json_object_set_new(o, "tasks", tasks);
    json_object_set_new(o, "counts", counts);
    json_object_set_new(o, "totals", totals);
    json_object_set_new(o, "running", running);
    json_object_set_new(o, "ready", ready);
    json_object_set_new(o, "blockers", blockers);
    x = cut.n ? span_json(&cut, r) : NULL;
    if (x && !rb)
        forecast_moves(x, fc);
    json_object_set(o, "eta", x ? json_object_get(x, "eta") : json_null());
    json_object_set(o, "ended", x ? json_object_get(x, "ended") : json_null());
    json_object_set(o, "planned_end",
                    x ? json_object_get(x, "planned_end") : json_null());
    json_object_set(o, "late", x ? json_object_get(x, "late") : json_null());
    json_object_set_new(
        o, "eta_set_by",
        json_string(x && json_is_string(json_object_get(x, "set_by"))
                        ? json_string_value(json_object_get(x, "set_by"))
                        : "tasks"));
    json_object_set_new(o, "chain",
                        x ? json_incref(json_object_get(x, "chain"))
                          : json_array());
    json_decref(x);
    json_object_set_new(o, "stages", stages);
    dec = decision_task(p, r, &marked);
    x = dec >= 0 ? decision_json(r, dec, marked) : NULL;
    /* the decision is not taken before everything is verified */
    if (x && !rb && !finished(r[dec].state))
        forecast_moves(x, fc);
    else if (x)
        json_object_set_new(x, "set_by", json_string("tasks"));
    json_object_set_new(o, "decision", x ? x : json_null());
    json_object_set_new(o, "late_tasks", late_json(p, r, now));
    json_object_set_new(o, "overrun", json_real(factor));
    json_object_set_new(
        o, "overrun_basis",
        json_pack("{s:I, s:I, s:I}", "tasks", (json_int_t)n_basis, "actual",
                  (json_int_t)sum_a, "planned", (json_int_t)sum_p));
    json_object_set_new(o, "rollback", json_boolean(rb));
    json_object_set(o, "forecast", fc);
    {
        /* rolled back: the rollback started and every task of it ended */
        int done = rb;
        for (i = 0; done && i < n; i++)
            if (r[i].t->stage == GL_STAGE_ROLLBACK &&
                strcmp(r[i].state, "done") && strcmp(r[i].state, "checked") &&
                strcmp(r[i].state, "skipped"))
                done = 0;
        json_object_set_new(o, "rolled_back", json_boolean(done));
    }
    json_object_set_new(o, "decided", gl_store_last_decision(s));
    json_object_set_new(o, "title",
                        p->title ? json_string(p->title) : json_null());
    *out = o;
    o = NULL;
done:
    json_decref(o);
    json_decref(fc);
    gl_task_graph_release(&g);
    gl_arena_release(&strings);
    return rc;
}
