/*
 * status.c - the lead's view of the run and the ETA (see golive/status.h).
 */
#include "golive/status.h"

#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "golive/gate.h"
#include "util/clock.h"

#define NO_TIME INT64_MIN

struct row {
    const struct gl_task *t;
    char state[16];
    char owner[128], checker[128];
    int64_t started, ended; /* actual, NO_TIME when not yet */
    int64_t pid, pgid;
    char host[256];
    int resumable; /* its sync's last execution stopped midway */
    int in_scope;
    /* as planned */
    int64_t es, ef, ls, lf;
    /* as expected now */
    int64_t xs, xe;
    int pred;    /* the dependency whose end sets xs, or -1 */
    int planned; /* es / ef computed */
    int done;    /* pass bookkeeping */
};

static int64_t parse_time(const unsigned char *s)
{
    int64_t t;
    int off;

    return s && !gl_time_parse((const char *)s, &t, &off) ? t : NO_TIME;
}

static int idx_of(const struct gl_plan *p, const char *id)
{
    size_t i;

    for (i = 0; i < p->n_tasks; i++)
        if (!strcmp(p->tasks[i].id.id, id))
            return (int)i;
    return -1;
}

static int load_rows(gl_store *s, const struct gl_plan *p, struct row *r,
                     struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step, i;

    for (i = 0; i < (int)p->n_tasks; i++) {
        r[i].t = &p->tasks[i];
        snprintf(r[i].state, sizeof(r[i].state), "pending");
        snprintf(r[i].owner, sizeof(r[i].owner), "%s", p->tasks[i].owner.id);
        snprintf(r[i].checker, sizeof(r[i].checker), "%s",
                 p->tasks[i].checker.id);
        r[i].started = r[i].ended = NO_TIME;
        r[i].pred = -1;
    }
    if (sqlite3_prepare_v2(gl_store_db(s),
                           "SELECT id, state, owner, checker, started_at,"
                           " finished_at, pid, host, pgid FROM tasks",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        i = idx_of(p, (const char *)sqlite3_column_text(st, 0));
        if (i < 0)
            continue;
        snprintf(r[i].state, sizeof(r[i].state), "%s",
                 (const char *)sqlite3_column_text(st, 1));
        if (sqlite3_column_text(st, 2))
            snprintf(r[i].owner, sizeof(r[i].owner), "%s",
                     (const char *)sqlite3_column_text(st, 2));
        if (sqlite3_column_text(st, 3))
            snprintf(r[i].checker, sizeof(r[i].checker), "%s",
                     (const char *)sqlite3_column_text(st, 3));
        r[i].started = parse_time(sqlite3_column_text(st, 4));
        r[i].ended = parse_time(sqlite3_column_text(st, 5));
        r[i].pid = sqlite3_column_int64(st, 6);
        r[i].pgid = sqlite3_column_int64(st, 8);
        if (sqlite3_column_text(st, 7))
            snprintf(r[i].host, sizeof(r[i].host), "%s",
                     (const char *)sqlite3_column_text(st, 7));
    }
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
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

/* Whether the last execution of sync job job stopped before its end
 * (interrupted, died, failed): --resume goes on from its checkpoint. */
static int job_resumable(gl_store *s, const char *job)
{
    sqlite3_stmt *st = NULL;
    int yes = 0;

    if (sqlite3_prepare_v2(gl_store_db(s),
                           "SELECT " GL_RUN_SYNC_OUTCOME " IN ('interrupted',"
                           " 'died', 'failed') FROM sync_runs WHERE job = ?"
                           " ORDER BY id DESC LIMIT 1",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            yes = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return yes;
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
            any |= job_resumable(s, w);
        }
    for (i = 0; !named && i < p->n_sync; i++)
        any |= job_resumable(s, p->sync[i].id.id);
    return any;
}

/* A running task executed by a process of this host that is gone, with
 * every process of its command. */
static int lost(const struct row *r)
{
    return !strcmp(r->state, "running") &&
           gl_run_task_gone(r->pid, r->pgid, r->host);
}

/* Visit the tasks in scope in dependency order: calls f for each task
 * once all its in-scope dependencies have been visited. */
static void in_order(const struct gl_plan *p, struct row *r,
                     void (*f)(const struct gl_plan *, struct row *, int,
                               void *),
                     void *ctx)
{
    size_t n = p->n_tasks, i, j, left = 0;
    int progress = 1;

    for (i = 0; i < n; i++) {
        r[i].done = !r[i].in_scope;
        left += r[i].in_scope;
    }
    while (left && progress) {
        progress = 0;
        for (i = 0; i < n; i++) {
            int ok = !r[i].done;
            for (j = 0; ok && j < r[i].t->depends_on.n; j++) {
                int d = idx_of(p, r[i].t->depends_on.v[j].id);
                ok = d < 0 || r[d].done;
            }
            if (!ok)
                continue;
            f(p, r, (int)i, ctx);
            r[i].done = 1;
            left--;
            progress = 1;
        }
    }
}

struct pass {
    int64_t switch_at, origin, now;
    double factor;
};

/* When the lead started the rollback (NO_TIME when unknown). */
static int rollback_at(gl_store *s, int64_t *at, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    *at = NO_TIME;
    if (sqlite3_prepare_v2(gl_store_db(s), "SELECT rollback_at FROM run", -1,
                           &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *at = parse_time(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? GL_OK
                                                     : gl_run_fail_db(s, err);
}

static void plan_forward(const struct gl_plan *p, struct row *r, int i,
                         void *ctx)
{
    const struct pass *c = ctx;
    const struct gl_task *t = r[i].t;
    int64_t es = t->has_at ? c->switch_at + t->at : c->origin;
    size_t j;

    for (j = 0; j < t->depends_on.n; j++) {
        int d = idx_of(p, t->depends_on.v[j].id);
        if (d >= 0 && r[d].in_scope && r[d].ef > es)
            es = r[d].ef;
    }
    r[i].es = es;
    r[i].ef = es + dur(t);
    r[i].planned = 1;
}

static void expect_forward(const struct gl_plan *p, struct row *r, int i,
                           void *ctx)
{
    const struct pass *c = ctx;
    const struct gl_task *t = r[i].t;
    int64_t d = (int64_t)((double)dur(t) * c->factor + 0.5), xs;
    size_t j;

    r[i].pred = -1;
    if (finished(r[i].state)) {
        r[i].xs = r[i].started != NO_TIME ? r[i].started : c->now;
        r[i].xe = r[i].ended != NO_TIME ? r[i].ended : c->now;
        if (r[i].xs > r[i].xe)
            r[i].xs = r[i].xe;
        return;
    }
    if (!strcmp(r[i].state, "running") && r[i].started != NO_TIME) {
        r[i].xs = r[i].started;
        r[i].xe = r[i].started + d > c->now ? r[i].started + d : c->now;
        return;
    }
    xs = t->has_at ? c->switch_at + t->at : c->origin;
    if (c->now > xs)
        xs = c->now;
    for (j = 0; j < t->depends_on.n; j++) {
        int dd = idx_of(p, t->depends_on.v[j].id);
        if (dd >= 0 && r[dd].in_scope && r[dd].xe >= xs &&
            (r[dd].xe > xs || r[i].pred < 0)) {
            xs = r[dd].xe;
            r[i].pred = dd;
        }
    }
    r[i].xs = xs;
    r[i].xe = xs + d;
}

/* Latest finish as planned: backward over the successors. */
static void plan_backward(const struct gl_plan *p, struct row *r, int64_t end)
{
    size_t n = p->n_tasks, i, j, k;
    int changed = 1;

    for (i = 0; i < n; i++) {
        r[i].lf = end;
        r[i].ls = end - dur(r[i].t);
    }
    /* relax until stable: at most n rounds, plans are small */
    for (k = 0; changed && k <= n; k++) {
        changed = 0;
        for (i = 0; i < n; i++) {
            if (!r[i].in_scope)
                continue;
            for (j = 0; j < r[i].t->depends_on.n; j++) {
                int d = idx_of(p, r[i].t->depends_on.v[j].id);
                if (d < 0 || !r[d].in_scope || r[d].lf <= r[i].ls)
                    continue;
                r[d].lf = r[i].ls;
                r[d].ls = r[d].lf - dur(r[d].t);
                changed = 1;
            }
        }
    }
}

static json_t *time_json(int64_t t)
{
    return t == NO_TIME ? json_null() : json_integer(t);
}

static int add_blockers(gl_store *s, const struct gl_plan *p, json_t *blockers,
                        struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    int step;

    if (sqlite3_prepare_v2(gl_store_db(s),
                           "SELECT n, title, state FROM defects WHERE"
                           " severity = 'blocker' AND state NOT IN"
                           " ('verified', 'deferred') ORDER BY n",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char id[32], detail[512];
        snprintf(id, sizeof(id), "D-%lld",
                 (long long)sqlite3_column_int64(st, 0));
        snprintf(detail, sizeof(detail), "blocker defect, %s: %s",
                 (const char *)sqlite3_column_text(st, 2),
                 (const char *)sqlite3_column_text(st, 1));
        json_array_append_new(blockers,
                              json_pack("{s:s, s:s, s:s}", "kind", "defect",
                                        "id", id, "detail", detail));
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return gl_run_fail_db(s, err);
    for (i = 0; i < p->n_checks; i++) {
        const char *id = p->checks[i].id.id;
        char outcome[32] = "";
        if (sqlite3_prepare_v2(gl_store_db(s),
                               "SELECT json_extract(payload, '$.outcome'),"
                               " json_extract(payload, '$.message') FROM"
                               " events WHERE kind = 'check.run' AND"
                               " json_extract(payload, '$.check') = ?"
                               " ORDER BY seq DESC LIMIT 1",
                               -1, &st, NULL) != SQLITE_OK)
            return gl_run_fail_db(s, err);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            snprintf(outcome, sizeof(outcome), "%s",
                     (const char *)sqlite3_column_text(st, 0));
        if (outcome[0] && strcmp(outcome, "passed")) {
            const unsigned char *m = sqlite3_column_text(st, 1);
            char detail[600];
            snprintf(detail, sizeof(detail), "check %s: %s", outcome,
                     m ? (const char *)m : "");
            json_array_append_new(blockers,
                                  json_pack("{s:s, s:s, s:s}", "kind", "check",
                                            "id", id, "detail", detail));
        }
        sqlite3_finalize(st);
    }
    if (sqlite3_prepare_v2(gl_store_db(s),
                           "SELECT id, COALESCE(taken_by, ''),"
                           " COALESCE(note, '') FROM scenarios WHERE"
                           " state = 'blocked' ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char detail[600];
        snprintf(detail, sizeof(detail), "scenario blocked (%s): %s",
                 (const char *)sqlite3_column_text(st, 1),
                 (const char *)sqlite3_column_text(st, 2));
        json_array_append_new(
            blockers, json_pack("{s:s, s:s, s:s}", "kind", "scenario", "id",
                                (const char *)sqlite3_column_text(st, 0),
                                "detail", detail));
    }
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
}

static int add_scenarios(gl_store *s, const struct gl_plan *p, json_t *out,
                         struct gl_err *err)
{
    json_t *states = json_object();
    int64_t p0 = 0, p0_passed = 0;
    size_t i;

    for (i = 0; i < p->n_scenarios; i++) {
        sqlite3_stmt *st = NULL;
        char state[32] = "pending";
        json_int_t n;
        if (sqlite3_prepare_v2(gl_store_db(s),
                               "SELECT state FROM scenarios WHERE id = ?", -1,
                               &st, NULL) != SQLITE_OK) {
            json_decref(states);
            return gl_run_fail_db(s, err);
        }
        sqlite3_bind_text(st, 1, p->scenarios[i].id.id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(state, sizeof(state), "%s",
                     (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
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

int gl_status_eval(gl_store *s, const struct gl_plan *p, int64_t switch_at,
                   int64_t now, json_t **out, struct gl_err *err)
{
    size_t n = p->n_tasks, i, j;
    struct row *r = calloc(n ? n : 1, sizeof(*r));
    json_t *o = NULL, *tasks, *counts, *totals, *running, *ready, *blockers,
           *chain;
    struct pass c;
    int64_t end = NO_TIME, eta = NO_TIME, sum_a = 0, sum_p = 0, all = 0;
    int rb, rc, last = -1;

    *out = NULL;
    if (!r)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    if ((rc = load_rows(s, p, r, err)) || (rc = gl_run_sql_functions(s, err)))
        goto done;
    for (i = 0; i < n; i++)
        r[i].resumable =
            strcmp(r[i].state, "done") && strcmp(r[i].state, "checked") &&
            strcmp(r[i].state, "skipped") && sync_resumable(s, p, r[i].t);
    if ((rb = gl_rollback_started(s)) < 0) {
        rc = gl_run_fail_db(s, err);
        goto done;
    }
    memset(&c, 0, sizeof(c));
    c.switch_at = switch_at;
    c.now = now;
    /* the forward tasks as planned (shown even during a rollback) */
    c.origin = switch_at;
    for (i = 0; i < n; i++) {
        r[i].in_scope = r[i].t->stage != GL_STAGE_ROLLBACK;
        if (r[i].in_scope && r[i].t->has_at &&
            switch_at + r[i].t->at < c.origin)
            c.origin = switch_at + r[i].t->at;
    }
    if (rb) {
        in_order(p, r, plan_forward, &c);
        /* the rollback is planned from when the lead started it */
        for (i = 0; i < n; i++)
            r[i].in_scope = r[i].t->stage == GL_STAGE_ROLLBACK;
        if ((rc = rollback_at(s, &c.origin, err)))
            goto done;
        if (c.origin == NO_TIME)
            c.origin = now;
    }

    /* as planned: the critical path */
    in_order(p, r, plan_forward, &c);
    for (i = 0; i < n; i++)
        if (r[i].in_scope && (end == NO_TIME || r[i].ef > end))
            end = r[i].ef;
    plan_backward(p, r, end);

    /* the overrun observed on it */
    for (i = 0; i < n; i++) {
        int64_t d = dur(r[i].t);
        if (!r[i].in_scope || d <= 0 || r[i].ls != r[i].es ||
            r[i].started == NO_TIME)
            continue;
        if (finished(r[i].state) && strcmp(r[i].state, "skipped") &&
            r[i].ended != NO_TIME) {
            sum_a += r[i].ended - r[i].started;
            sum_p += d;
        } else if (!strcmp(r[i].state, "running") && now - r[i].started > d) {
            sum_a += now - r[i].started;
            sum_p += d;
        }
    }
    c.factor = sum_p > 0 && sum_a > sum_p ? (double)sum_a / (double)sum_p : 1.0;

    /* as expected now */
    in_order(p, r, expect_forward, &c);
    for (i = 0; i < n; i++)
        if (r[i].in_scope && (eta == NO_TIME || r[i].xe > eta)) {
            eta = r[i].xe;
            last = (int)i;
        }

    o = json_object();
    tasks = json_array();
    counts = json_object();
    totals = json_object();
    running = json_array();
    ready = json_array();
    blockers = json_array();
    chain = json_array();
    for (i = 0; i < GL_STAGE_COUNT; i++) {
        json_t *st = json_object();
        for (j = 0; j < GL_TASK_STATE_COUNT; j++)
            json_object_set_new(st, gl_task_state_name((enum gl_task_state)j),
                                json_integer(0));
        json_object_set_new(st, "lost", json_integer(0));
        json_object_set_new(counts, gl_stage_name((enum gl_stage)i), st);
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
            for (j = 0; ok && j < t->depends_on.n; j++) {
                int d = idx_of(p, t->depends_on.v[j].id);
                ok = d < 0 || !strcmp(r[d].state, "checked") ||
                     !strcmp(r[d].state, "skipped");
            }
            if (ok) {
                state = "ready";
                json_array_append_new(
                    ready,
                    json_pack("{s:s, s:s, s:b}", "id", t->id.id, "owner",
                              r[i].owner, "sync_resumable", r[i].resumable));
            }
        } else if (!strcmp(state, "running")) {
            if (lost(&r[i])) {
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
        json_array_append_new(
            tasks,
            json_pack(
                "{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o,"
                " s:o, s:o, s:b, s:o, s:b}",
                "id", t->id.id, "title", t->title ? t->title : "", "stage",
                gl_stage_name(t->stage), "state", state, "owner", r[i].owner,
                "checker", r[i].checker, "started", time_json(r[i].started),
                "ended", time_json(r[i].ended), "expected_start",
                time_json(r[i].in_scope ? r[i].xs : NO_TIME), "expected_end",
                time_json(r[i].in_scope ? r[i].xe : NO_TIME), "planned_start",
                time_json(r[i].planned ? r[i].es : NO_TIME), "planned_end",
                time_json(r[i].planned ? r[i].ef : NO_TIME), "critical",
                r[i].in_scope && r[i].ls == r[i].es && dur(t) > 0, "slack",
                r[i].in_scope ? json_integer(r[i].ls - r[i].es) : json_null(),
                "in_scope", r[i].in_scope));
    }
    json_object_set_new(totals, "all", json_integer(all));
    for (i = 0; i < json_array_size(tasks); i++) {
        json_t *e = json_array_get(tasks, i);
        int k = idx_of(p, json_string_value(json_object_get(e, "id")));
        json_object_set_new(e, "sync_resumable",
                            json_boolean(k >= 0 && r[k].resumable));
    }
    for (i = (size_t)last; last >= 0;) {
        json_array_insert_new(chain, 0, json_string(r[i].t->id.id));
        if (r[i].pred < 0)
            break;
        i = (size_t)r[i].pred;
    }
    if ((rc = add_blockers(s, p, blockers, err)) ||
        (rc = add_scenarios(s, p, o, err))) {
        json_decref(tasks);
        json_decref(counts);
        json_decref(totals);
        json_decref(running);
        json_decref(ready);
        json_decref(blockers);
        json_decref(chain);
        goto done;
    }
    json_object_set_new(o, "tasks", tasks);
    json_object_set_new(o, "counts", counts);
    json_object_set_new(o, "totals", totals);
    json_object_set_new(o, "running", running);
    json_object_set_new(o, "ready", ready);
    json_object_set_new(o, "blockers", blockers);
    json_object_set_new(o, "eta", time_json(eta));
    json_object_set_new(o, "planned_end", time_json(end));
    json_object_set_new(o, "late",
                        eta == NO_TIME || end == NO_TIME
                            ? json_null()
                            : json_integer(eta - end));
    json_object_set_new(o, "overrun", json_real(c.factor));
    json_object_set_new(o, "chain", chain);
    json_object_set_new(o, "rollback", json_boolean(rb));
    *out = o;
    o = NULL;
done:
    json_decref(o);
    free(r);
    return rc;
}
