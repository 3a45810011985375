/*
 * store-replay.c - the audit (see golive/audit.h): the events replayed into a
 * fresh projection, compared with the store's tables.
 *
 * The projection is an in-memory store made by the same migrations
 * (gl_store_open_memory).  Each event kind has one entry in projectors[]
 * below: the tables it writes, the payload field that names its row (for
 * replaying one task or defect), and the function that applies one event
 * of that kind to the projection.  Where the live code and the replay can
 * share the writing (run.start, run.amend, a task's state), they do.
 *
 * To add an event kind: append {kind, tables, key, apply} to projectors[]
 * and write apply() from the event's fields (seq, at, actor) and payload
 * alone.  A kind that changes no table has apply = NULL.  An event of a
 * kind not in the table makes the audit fail ("has no projection").
 * To add a table or a column: make it in a migration (run/store.c) and set
 * it in the apply() of the events that set it; the comparison finds every
 * table in sqlite_master and every column by itself.  A table that is not
 * a projection of the events goes into not_projections[].
 *
 * Stores started before payload version 2 (no "v" in run.start): their
 * rows' times were read from the clock apart from their event's and may
 * be a second off (tolerated), and their scenario rows were made when a
 * command first needed them (an untouched scenario row may be absent).
 */
#include "golive/audit.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "store-internal.h"
#include "store-rows.h"
#include "golive/diag.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/sha256.h"

/* Tables of the store that are not projections of the events. */
static const char *const not_projections[] = {
    "events", "audit_cache", "plan_trees", "sync_progress", NULL};

#define MAX_PROBLEMS 200
#define MAX_WARNINGS 20

struct event {
    int64_t seq;
    const char *at, *actor, *kind;
};

struct replay {
    gl_store *src, *mem;
    struct gl_plan *plan; /* the run's plan as of the event replayed */
    int legacy;           /* the run started before payload version 2 */
    const char *table;    /* replaying one row: its table, else NULL */
    const char *key;      /* ... and its key */
    json_t *problems;
    int stopped; /* the replay met an event it cannot apply */
};

/* ---- small helpers ------------------------------------------------------ */

static const char *pstr(json_t *pl, const char *k)
{
    return json_string_value(json_object_get(pl, k));
}

static int64_t pint(json_t *pl, const char *k)
{
    return (int64_t)json_integer_value(json_object_get(pl, k));
}

static void problem(struct replay *r, const char *table, const char *row,
                    const char *column, const char *stored, const char *derived,
                    const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void problem(struct replay *r, const char *table, const char *row,
                    const char *column, const char *stored, const char *derived,
                    const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    json_t *o;

    if (json_array_size(r->problems) >= MAX_PROBLEMS)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    o = json_pack("{s:s}", "message", msg);
    if (table)
        json_object_set_new(o, "table", json_string(table));
    if (row)
        json_object_set_new(o, "row", json_string(row));
    if (column)
        json_object_set_new(o, "column", json_string(column));
    if (stored)
        json_object_set_new(o, "stored", json_string(stored));
    if (derived)
        json_object_set_new(o, "derived", json_string(derived));
    json_array_append_new(r->problems, o);
}

/* Run one statement on the projection; types: one letter a parameter, 's'
 * text (NULL binds NULL), 'i' int64, 'd' double. */
static int run_sql(struct replay *r, struct gl_err *err, const char *sql,
                   const char *types, ...)
{
    sqlite3 *db = gl_store_db(r->mem);
    sqlite3_stmt *st = NULL;
    va_list ap;
    int i, rc;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return gl_err_set(err, GL_ESTORE, "replay: %s", sqlite3_errmsg(db));
    va_start(ap, types);
    for (i = 0; types[i]; i++) {
        if (types[i] == 's') {
            const char *v = va_arg(ap, const char *);
            if (v)
                sqlite3_bind_text(st, i + 1, v, -1, SQLITE_TRANSIENT);
            else
                sqlite3_bind_null(st, i + 1);
        } else if (types[i] == 'i') {
            sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        } else {
            sqlite3_bind_double(st, i + 1, va_arg(ap, double));
        }
    }
    va_end(ap);
    rc = sqlite3_step(st) == SQLITE_DONE
             ? GL_OK
             : gl_err_set(err, GL_ESTORE, "replay: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

/* Plan version `version` from the store, checked against the SHA-256 the
 * event recorded, parsed; *text gets its text (malloc'd). */
static int load_plan(struct replay *r, const struct event *e, int version,
                     const char *sha, const char *path, struct gl_plan **out,
                     char **text, size_t *len, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    char hex[GL_SHA256_HEX];
    struct gl_diags d;
    int step;

    *out = NULL;
    *text = NULL;
    if (sqlite3_prepare_v2(gl_store_db(r->src),
                           "SELECT text FROM plan_versions WHERE version = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(r->src, err);
    sqlite3_bind_int(st, 1, version);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *len = (size_t)sqlite3_column_bytes(st, 0);
        if ((*text = malloc(*len + 1))) {
            memcpy(*text, sqlite3_column_text(st, 0), *len);
            (*text)[*len] = '\0';
        }
    }
    sqlite3_finalize(st);
    if (step == SQLITE_DONE)
        return gl_err_set(err, GL_ECORRUPT,
                          "table plan_versions, row version=%d: the plan "
                          "taken by event %" PRId64
                          " is missing from the store",
                          version, e->seq);
    if (step != SQLITE_ROW)
        return gl_run_fail_db(r->src, err);
    if (!*text)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    if (gl_sha256_hex(*text, *len, hex))
        return gl_err_set(err, GL_EINTERNAL, "cannot compute SHA-256");
    if (!sha || strcmp(hex, sha))
        return gl_err_set(err, GL_ECORRUPT,
                          "table plan_versions, row version=%d, column text: "
                          "it does not match the SHA-256 recorded by event "
                          "%" PRId64,
                          version, e->seq);
    memset(&d, 0, sizeof(d));
    d.file = path ? path : "plan.yaml";
    *out = gl_plan_parse(d.file, *text, *len, &d);
    gl_diags_release(&d);
    if (!*out)
        return gl_err_set(err, GL_ECORRUPT,
                          "plan version %d (event %" PRId64
                          ") is not a plan golive can read",
                          version, e->seq);
    return GL_OK;
}

/* ---- the projectors: one function per event kind ----------------------- */

static int p_run_start(struct replay *r, const struct event *e, json_t *pl,
                       struct gl_err *err)
{
    struct gl_plan *p = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc;

    r->legacy = pint(pl, "v") < 2;
    if ((rc = load_plan(r, e, (int)pint(pl, "plan_version"),
                        pstr(pl, "plan_sha256"), pstr(pl, "plan_path"), &p,
                        &text, &len, err)))
        goto out;
    if (!pstr(pl, "run_id")) {
        rc = gl_err_set(err, GL_ECORRUPT, "event %" PRId64 " has no run id",
                        e->seq);
        goto out;
    }
    rc = gl_store_project_start(r->mem, p, pstr(pl, "run_id"),
                                json_is_true(json_object_get(pl, "rehearsal")),
                                pstr(pl, "plan_sha256"), pstr(pl, "plan_path"),
                                text, len, e->at, e->seq, 1, err);
    if (!rc) {
        gl_plan_free(r->plan);
        r->plan = p;
        p = NULL;
    }
out:
    gl_plan_free(p);
    free(text);
    return rc;
}

static int p_run_amend(struct replay *r, const struct event *e, json_t *pl,
                       struct gl_err *err)
{
    struct gl_plan *p = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc, version = (int)pint(pl, "plan_version");

    if (!r->plan)
        return gl_err_set(err, GL_ECORRUPT,
                          "event %" PRId64 " amends a run that never started",
                          e->seq);
    if ((rc = load_plan(r, e, version, pstr(pl, "plan_sha256"),
                        pstr(pl, "plan_path"), &p, &text, &len, err)))
        goto out;
    rc = gl_amend_project(r->mem, r->plan, p, version, pstr(pl, "plan_sha256"),
                          pstr(pl, "plan_path"), text, len, e->at, e->seq, err);
    if (!rc) {
        gl_plan_free(r->plan);
        r->plan = p;
        p = NULL;
    }
out:
    gl_plan_free(p);
    free(text);
    return rc;
}

static int p_task(struct replay *r, const struct event *e, json_t *pl,
                  struct gl_err *err)
{
    if (!pstr(pl, "task") || !pstr(pl, "to") ||
        !gl_task_state_static(pstr(pl, "to")))
        return gl_err_set(err, GL_ECORRUPT,
                          "event %" PRId64 " (%s) names no task or state",
                          e->seq, e->kind);
    if (gl_store_task_set(r->mem, pstr(pl, "task"), pstr(pl, "to"), e->seq,
                          err))
        return err->code;
    return gl_task_set_planned(
        r->mem, pstr(pl, "task"), pstr(pl, "to"),
        pstr(pl, "planned_start") ? pstr(pl, "planned_start") : "",
        pstr(pl, "planned_end") ? pstr(pl, "planned_end") : "", err);
}

static int p_task_exec(struct replay *r, const struct event *e, json_t *pl,
                       struct gl_err *err)
{
    (void)e;
    /* pgid: since schema 6; a task.exec of before leaves it NULL */
    if (!json_is_integer(json_object_get(pl, "pgid")))
        return run_sql(r, err,
                       "UPDATE tasks SET pid = ?, host = ?, output = ?"
                       " WHERE id = ? AND state = ?",
                       "issss", pint(pl, "pid"), pstr(pl, "host"),
                       pstr(pl, "output"), pstr(pl, "task"),
                       gl_task_state_name(GL_TASK_RUNNING));
    return run_sql(r, err,
                   "UPDATE tasks SET pid = ?, host = ?, output = ?, pgid = ?"
                   " WHERE id = ? AND state = ?",
                   "ississ", pint(pl, "pid"), pstr(pl, "host"),
                   pstr(pl, "output"), pint(pl, "pgid"), pstr(pl, "task"),
                   gl_task_state_name(GL_TASK_RUNNING));
}

static int p_handover(struct replay *r, const struct event *e, json_t *pl,
                      struct gl_err *err)
{
    const char *from = pstr(pl, "from"), *to = pstr(pl, "to");
    json_t *x;
    size_t i;
    int rc = GL_OK;

    (void)e;
    json_array_foreach(json_object_get(pl, "tasks"), i, x)
    {
        if (!rc)
            rc = run_sql(r, err, "UPDATE tasks SET owner = ? WHERE id = ?",
                         "ss", to, json_string_value(x));
    }
    json_array_foreach(json_object_get(pl, "checks"), i, x)
    {
        if (!rc)
            rc = run_sql(r, err, "UPDATE tasks SET checker = ? WHERE id = ?",
                         "ss", to, json_string_value(x));
    }
    json_array_foreach(json_object_get(pl, "scenarios"), i, x)
    {
        if (!rc)
            rc = run_sql(r, err,
                         "UPDATE scenarios SET taken_by = ?1 WHERE id = ?2"
                         " AND state = ?4 AND taken_by = ?3",
                         "ssss", to, json_string_value(x), from,
                         gl_transition_to(gl_scenario_moves, "take"));
        if (!rc)
            rc = run_sql(r, err,
                         "UPDATE scenarios SET assignee = ?1 WHERE id = ?2"
                         " AND state = ?4 AND assignee = ?3",
                         "ssss", to, json_string_value(x), from,
                         gl_transition_from(gl_scenario_moves, "take"));
    }
    json_array_foreach(json_object_get(pl, "defects"), i, x)
    {
        const char *d = json_string_value(x);
        if (!rc && d && !strncmp(d, "D-", 2))
            rc = run_sql(r, err, "UPDATE defects SET fixer = ? WHERE n = ?",
                         "si", to, (int64_t)strtoll(d + 2, NULL, 10));
    }
    return rc;
}

static int p_scenario(struct replay *r, const struct event *e, json_t *pl,
                      struct gl_err *err)
{
    return gl_store_scenario_set(
        r->mem, pstr(pl, "scenario"), pstr(pl, "state"), e->actor, e->seq,
        pstr(pl, "note"), !strcmp(e->kind, "scenario.take"), err);
}

static int p_defect_open(struct replay *r, const struct event *e, json_t *pl,
                         struct gl_err *err)
{
    int rc = gl_store_defect_insert(r->mem, pint(pl, "defect"),
                                    pstr(pl, "scenario"), pstr(pl, "severity"),
                                    pstr(pl, "title"), e->actor, e->seq, err);

    if (!rc && json_is_integer(json_object_get(pl, "duty")))
        rc = gl_store_duty_set_defect(r->mem, pint(pl, "duty"),
                                      pint(pl, "defect"), err);
    return rc;
}

static int p_defect_move(struct replay *r, const struct event *e, json_t *pl,
                         struct gl_err *err)
{
    return gl_store_defect_set_state(r->mem, pint(pl, "defect"), pstr(pl, "to"),
                                     e->actor, pstr(pl, "patch"), e->seq, err);
}

static int p_defect_severity(struct replay *r, const struct event *e,
                             json_t *pl, struct gl_err *err)
{
    return gl_store_defect_set_severity(r->mem, pint(pl, "defect"),
                                        pstr(pl, "to"), e->seq, err);
}

static int p_decide(struct replay *r, const struct event *e, json_t *pl,
                    struct gl_err *err)
{
    char *gate =
        json_dumps(json_object_get(pl, "gate"), JSON_COMPACT | JSON_SORT_KEYS);
    int rc;

    if (!gate)
        return gl_err_set(err, GL_ECORRUPT,
                          "event %" PRId64 " (decide) holds no gate", e->seq);
    rc =
        gl_store_decision_insert(r->mem, pstr(pl, "decision"), pstr(pl, "note"),
                                 e->actor, e->at, gate, e->seq, err);
    free(gate);
    return rc;
}

static int p_rollback(struct replay *r, const struct event *e, json_t *pl,
                      struct gl_err *err)
{
    (void)pl;
    return gl_store_rollback_set(r->mem, e->at, err);
}

static int p_shift(struct replay *r, const struct event *e, json_t *pl,
                   struct gl_err *err)
{
    (void)e;
    return run_sql(r, err, "UPDATE run SET switch_at = switch_at + ?", "i",
                   pint(pl, "seconds"));
}

static int p_duty_log(struct replay *r, const struct event *e, json_t *pl,
                      struct gl_err *err)
{
    return gl_store_duty_insert(
        r->mem, pint(pl, "entry"), e->at, e->actor, pstr(pl, "channel"),
        pstr(pl, "kind"), pstr(pl, "text"), pstr(pl, "patch"), e->seq, err);
}

static int p_duty_patch(struct replay *r, const struct event *e, json_t *pl,
                        struct gl_err *err)
{
    (void)e;
    return gl_store_duty_set_patch(r->mem, pint(pl, "entry"), pstr(pl, "patch"),
                                   err);
}

/* An execution starts: its row, 'running' with no end (schema 6). */
static int p_sync_start(struct replay *r, const struct event *e, json_t *pl,
                        struct gl_err *err)
{
    return run_sql(r, err,
                   "INSERT INTO sync_runs (event_seq, job, mode, started_at,"
                   " ended_at, rows_read, rows_written, rows_rejected, bytes,"
                   " seconds, outcome, error, execution, pid, host) VALUES"
                   " (?, ?, ?, ?, NULL, 0, 0, 0, 0, 0, 'running', NULL, ?, ?,"
                   " ?)",
                   "issssis", e->seq, pstr(pl, "job"), pstr(pl, "mode"),
                   pstr(pl, "started_at"), pstr(pl, "execution"),
                   pint(pl, "pid"), pstr(pl, "host") ? pstr(pl, "host") : "");
}

/* An execution ended: the row its sync.start made (by `execution`) is
 * completed, else (no execution id, as before schema 6; or none started:
 * its preparation failed) a row is added.  plan_sha256 sets no column. */
static int p_sync_run(struct replay *r, const struct event *e, json_t *pl,
                      struct gl_err *err)
{
    const char *x = pstr(pl, "execution");
    double secs = json_number_value(json_object_get(pl, "seconds"));
    int rc;

    if (x && *x) {
        rc = run_sql(r, err,
                     "UPDATE sync_runs SET event_seq = ?, job = ?, mode = ?,"
                     " started_at = ?, ended_at = ?, rows_read = ?,"
                     " rows_written = ?, rows_rejected = ?, bytes = ?,"
                     " seconds = ?, outcome = ?, error = ?"
                     " WHERE execution = ?",
                     "issssiiiidsss", e->seq, pstr(pl, "job"), pstr(pl, "mode"),
                     pstr(pl, "started_at"), pstr(pl, "ended_at"),
                     pint(pl, "read"), pint(pl, "written"),
                     pint(pl, "rejected"), pint(pl, "bytes"), secs,
                     pstr(pl, "outcome"), pstr(pl, "error"), x);
        if (rc || sqlite3_changes(gl_store_db(r->mem)) == 1)
            return rc;
    }
    return run_sql(r, err,
                   "INSERT INTO sync_runs (event_seq, job, mode, started_at,"
                   " ended_at, rows_read, rows_written, rows_rejected, bytes,"
                   " seconds, outcome, error, execution) VALUES"
                   " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   "issssiiiidsss", e->seq, pstr(pl, "job"), pstr(pl, "mode"),
                   pstr(pl, "started_at"), pstr(pl, "ended_at"),
                   pint(pl, "read"), pint(pl, "written"), pint(pl, "rejected"),
                   pint(pl, "bytes"), secs, pstr(pl, "outcome"),
                   pstr(pl, "error"), x && *x ? x : NULL);
}

/* "T-3" in a payload -> 3 (0 when it is not a token id). */
static int64_t ptoken(json_t *pl, const char *k)
{
    const char *id = pstr(pl, k);

    return id && !strncmp(id, "T-", 2) ? (int64_t)strtoll(id + 2, NULL, 10) : 0;
}

static int p_token_issue(struct replay *r, const struct event *e, json_t *pl,
                         struct gl_err *err)
{
    return gl_store_token_insert(
        r->mem, ptoken(pl, "id"), pstr(pl, "sha256"), pstr(pl, "person"),
        json_is_true(json_object_get(pl, "viewer")), e->actor, e->at,
        pstr(pl, "expires_at"), e->seq, err);
}

static int p_token_revoke(struct replay *r, const struct event *e, json_t *pl,
                          struct gl_err *err)
{
    return gl_store_token_revoke(r->mem, ptoken(pl, "id"), e->at, e->actor,
                                 err);
}

static int p_session_open(struct replay *r, const struct event *e, json_t *pl,
                          struct gl_err *err)
{
    return gl_store_session_insert(r->mem, pint(pl, "session"),
                                   pstr(pl, "sha256"), pstr(pl, "csrf_sha256"),
                                   ptoken(pl, "token"), e->at, e->seq, err);
}

static int p_session_close(struct replay *r, const struct event *e, json_t *pl,
                           struct gl_err *err)
{
    return gl_store_session_close(r->mem, pint(pl, "session"), e->at, err);
}

static int p_defect_comment(struct replay *r, const struct event *e, json_t *pl,
                            struct gl_err *err)
{
    return gl_store_comment_insert(r->mem, pint(pl, "comment"),
                                   pint(pl, "defect"), e->at, e->actor,
                                   pstr(pl, "text"), e->seq, err);
}

/* Every event kind, what it writes, and how.  key: the payload field that
 * names the row of `tables`' first table (replaying one row skips the
 * events of other rows). */
static const struct projector {
    const char *kind;
    const char *tables; /* space-separated */
    const char *key;
    int (*apply)(struct replay *r, const struct event *e, json_t *pl,
                 struct gl_err *err);
} projectors[] = {
    {"run.start", "run plan_versions tasks scenarios", NULL, p_run_start},
    {"run.amend", "run plan_versions tasks scenarios", NULL, p_run_amend},
    {"task.start", "tasks", "task", p_task},
    {"task.done", "tasks", "task", p_task},
    {"task.fail", "tasks", "task", p_task},
    {"task.skip", "tasks", "task", p_task},
    {"task.check", "tasks", "task", p_task},
    {"task.reopen", "tasks", "task", p_task},
    {"task.exec", "tasks", "task", p_task_exec},
    {"handover", "tasks scenarios defects", NULL, p_handover},
    {"scenario.take", "scenarios", "scenario", p_scenario},
    {"scenario.pass", "scenarios", "scenario", p_scenario},
    {"scenario.fail", "scenarios", "scenario", p_scenario},
    {"scenario.block", "scenarios", "scenario", p_scenario},
    {"defect.open", "defects duty", "defect", p_defect_open},
    {"defect.fixing", "defects", "defect", p_defect_move},
    {"defect.fixed", "defects", "defect", p_defect_move},
    {"defect.verify", "defects", "defect", p_defect_move},
    {"defect.reopen", "defects", "defect", p_defect_move},
    {"defect.defer", "defects", "defect", p_defect_move},
    {"defect.severity", "defects", "defect", p_defect_severity},
    {"decide", "decisions", NULL, p_decide},
    {"rollback", "run", NULL, p_rollback},
    {"shift", "run", NULL, p_shift},
    {"duty.log", "duty", "entry", p_duty_log},
    {"duty.patch", "duty", "entry", p_duty_patch},
    {"sync.start", "sync_runs", NULL, p_sync_start},
    {"sync.run", "sync_runs", NULL, p_sync_run},
    {"check.run", "", NULL, NULL},
    {"flow.check", "", NULL, NULL},
    {"token.issue", "tokens", NULL, p_token_issue},
    {"token.revoke", "tokens", NULL, p_token_revoke},
    {"session.open", "sessions", NULL, p_session_open},
    {"session.close", "sessions", NULL, p_session_close},
    {"defect.comment", "defect_comments", NULL, p_defect_comment},
};

static const struct projector *projector_of(const char *kind)
{
    size_t i;

    for (i = 0; i < sizeof(projectors) / sizeof(projectors[0]); i++)
        if (!strcmp(projectors[i].kind, kind))
            return &projectors[i];
    return NULL;
}

/* Whether the space-separated list has word. */
static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);

    for (;;) {
        while (*list == ' ')
            list++;
        if (!*list)
            return 0;
        if (!strncmp(list, word, n) && (list[n] == ' ' || !list[n]))
            return 1;
        list += strcspn(list, " ");
    }
}

/* Whether, replaying one row, event e (payload pl) is to be applied. */
static int concerns(const struct replay *r, const struct projector *pr,
                    json_t *pl)
{
    json_t *k;
    char num[32];

    if (!r->table)
        return 1;
    if (!pr || !pr->apply || !has_word(pr->tables, r->table))
        return 0;
    /* the key names a row of the first table only */
    if (!pr->key || strncmp(pr->tables, r->table, strlen(r->table)) ||
        (pr->tables[strlen(r->table)] != ' ' &&
         pr->tables[strlen(r->table)] != '\0'))
        return 1;
    k = json_object_get(pl, pr->key);
    if (json_is_string(k))
        return !strcmp(json_string_value(k), r->key);
    if (json_is_integer(k)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(k));
        return !strcmp(num, r->key);
    }
    return 1;
}

/* Ranges of event numbers as "1-4, 7": appended to b. */
static void add_range(struct gl_buf *b, int64_t lo, int64_t hi)
{
    if (lo == hi)
        gl_buf_addf(b, "%s%" PRId64, b->len ? ", " : "", lo);
    else
        gl_buf_addf(b, "%s%" PRId64 "-%" PRId64, b->len ? ", " : "", lo, hi);
}

/* Replay the events (all, or r->table's row r->key) into r->mem.
 * warnings may be NULL. */
static int replay_events(struct replay *r, json_t *warnings, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    struct gl_buf marked = GL_BUF_INIT;
    char prev_at[40] = "";
    int64_t prev_seq = 0, lo = 0, hi = 0, n_marked = 0, n_back = 0,
            n_events = 0;
    int rc = GL_OK, step;

    if (sqlite3_prepare_v2(gl_store_db(r->src),
                           "SELECT seq, at, actor, kind, payload FROM events"
                           " ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(r->src, err);
    if ((rc = gl_store_begin(r->mem, err)))
        goto out;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct event e;
        const struct projector *pr;
        json_error_t je;
        json_t *pl;
        struct gl_err e2;

        e.seq = sqlite3_column_int64(st, 0);
        e.at = (const char *)sqlite3_column_text(st, 1);
        e.actor = (const char *)sqlite3_column_text(st, 2);
        e.kind = (const char *)sqlite3_column_text(st, 3);
        if (!e.at || !e.actor || !e.kind)
            continue; /* NOT NULL columns; the chain check says more */
        n_events++;
        pr = projector_of(e.kind);
        /* replaying one row: the events of other tables are not even
         * parsed */
        if (r->table && (!pr || !pr->apply || !has_word(pr->tables, r->table)))
            continue;
        pl = json_loads((const char *)sqlite3_column_text(st, 4), 0, &je);
        if (warnings) {
            int64_t t0, t1;
            int off;
            if (json_is_true(json_object_get(pl, "golive_now"))) {
                n_marked++;
                if (lo && e.seq == hi + 1) {
                    hi = e.seq;
                } else {
                    if (lo)
                        add_range(&marked, lo, hi);
                    lo = hi = e.seq;
                }
            }
            if (prev_at[0] && !gl_time_parse(prev_at, &t0, &off) &&
                !gl_time_parse(e.at, &t1, &off) && t1 < t0 &&
                n_back++ < MAX_WARNINGS) {
                char w[256];
                snprintf(w, sizeof(w),
                         "event %" PRId64 " (%s by %s) is dated %s, before "
                         "event %" PRId64 " (%s): the clock went back",
                         e.seq, e.kind, e.actor, e.at, prev_seq, prev_at);
                json_array_append_new(warnings, json_string(w));
            }
            snprintf(prev_at, sizeof(prev_at), "%s", e.at);
            prev_seq = e.seq;
        }
        if (r->stopped) {
            json_decref(pl);
            continue;
        }
        if (!json_is_object(pl)) {
            if (!r->table) {
                problem(r, NULL, NULL, NULL, NULL, NULL,
                        "event %" PRId64 " (%s): its payload is not a JSON "
                        "object; the replay stops there",
                        e.seq, e.kind);
                r->stopped = 1;
            }
            json_decref(pl);
            continue;
        }
        if (!pr) {
            if (!r->table) {
                problem(r, NULL, NULL, NULL, NULL, NULL,
                        "event %" PRId64 " is of kind '%s', which has no "
                        "projection in this golive; the replay stops there",
                        e.seq, e.kind);
                r->stopped = 1;
            }
            json_decref(pl);
            continue;
        }
        if (pr->apply && concerns(r, pr, pl)) {
            gl_err_clear(&e2);
            gl_store_set_event_at(r->mem, e.at);
            if (pr->apply(r, &e, pl, &e2)) {
                if (e2.code != GL_ECORRUPT && e2.code != GL_ESTORE &&
                    e2.code != GL_ENOTFOUND) {
                    *err = e2;
                    rc = e2.code;
                    json_decref(pl);
                    goto out;
                }
                problem(r, NULL, NULL, NULL, NULL, NULL,
                        "event %" PRId64 " (%s by %s at %s) cannot be "
                        "replayed: %s; the replay stops there",
                        e.seq, e.kind, e.actor, e.at, e2.msg);
                r->stopped = 1;
            }
        }
        json_decref(pl);
    }
    if (step != SQLITE_DONE)
        rc = gl_run_fail_db(r->src, err);
    if (warnings && n_marked) {
        char w[1200];
        add_range(&marked, lo, hi);
        if (!rc && (rc = gl_buf_check(&marked, "the list of events", err)))
            goto out;
        snprintf(w, sizeof(w),
                 "%" PRId64 " of %" PRId64 " events were written with "
                 "GOLIVE_NOW (the time set by hand, not read from the "
                 "clock): %.900s",
                 n_marked, n_events, gl_buf_str(&marked));
        json_array_append_new(warnings, json_string(w));
    }
    if (warnings && n_back > MAX_WARNINGS) {
        char w[128];
        snprintf(w, sizeof(w),
                 "and %" PRId64 " more events dated before "
                 "the one before them",
                 n_back - MAX_WARNINGS);
        json_array_append_new(warnings, json_string(w));
    }
out:
    sqlite3_finalize(st);
    gl_buf_release(&marked);
    if (rc)
        gl_store_rollback(r->mem);
    else
        rc = gl_store_commit(r->mem, err);
    return rc;
}

/* ---- the comparison ------------------------------------------------------ */

/* A value as the messages show it, into b (reset first). */
static const char *show(struct gl_buf *b, sqlite3_stmt *st, int i)
{
    gl_buf_reset(b);
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        gl_buf_adds(b, "NULL");
        break;
    case SQLITE_INTEGER:
        gl_buf_addf(b, "%lld", (long long)sqlite3_column_int64(st, i));
        break;
    case SQLITE_FLOAT:
        gl_buf_addf(b, "%.17g", sqlite3_column_double(st, i));
        break;
    case SQLITE_TEXT: {
        const char *t = (const char *)sqlite3_column_text(st, i);
        int n = sqlite3_column_bytes(st, i);
        gl_buf_addf(b, "'%.*s'%s", n > 60 ? 60 : n, t, n > 60 ? "..." : "");
        break;
    }
    default: {
        const unsigned char *v = sqlite3_column_blob(st, i);
        int n = sqlite3_column_bytes(st, i), k;
        gl_buf_adds(b, "x'");
        for (k = 0; k < n && k < 30; k++)
            gl_buf_addf(b, "%02x", v[k]);
        gl_buf_adds(b, n > 30 ? "...'" : "'");
    }
    }
    return gl_buf_str(b);
}

static int type_class(int t)
{
    return t == SQLITE_NULL                           ? 0
           : t == SQLITE_INTEGER || t == SQLITE_FLOAT ? 1
           : t == SQLITE_TEXT                         ? 2
                                                      : 3;
}

/* SQLite's order of two values (BINARY collation). */
static int value_cmp(sqlite3_stmt *a, sqlite3_stmt *b, int i)
{
    int ta = sqlite3_column_type(a, i), tb = sqlite3_column_type(b, i);
    int ca = type_class(ta), cb = type_class(tb), na, nb, c;

    if (ca != cb)
        return ca < cb ? -1 : 1;
    if (ca == 0)
        return 0;
    if (ca == 1) {
        if (ta == SQLITE_INTEGER && tb == SQLITE_INTEGER) {
            int64_t x = sqlite3_column_int64(a, i),
                    y = sqlite3_column_int64(b, i);
            return x < y ? -1 : x > y;
        } else {
            double x = sqlite3_column_double(a, i),
                   y = sqlite3_column_double(b, i);
            return x < y ? -1 : x > y;
        }
    }
    na = sqlite3_column_bytes(a, i);
    nb = sqlite3_column_bytes(b, i);
    c = memcmp(ca == 2 ? (const void *)sqlite3_column_text(a, i)
                       : sqlite3_column_blob(a, i),
               ca == 2 ? (const void *)sqlite3_column_text(b, i)
                       : sqlite3_column_blob(b, i),
               (size_t)(na < nb ? na : nb));
    return c ? c : na < nb ? -1 : na > nb;
}

/* Whether two values are the same: type and value. */
static int value_same(sqlite3_stmt *a, sqlite3_stmt *b, int i)
{
    return sqlite3_column_type(a, i) == sqlite3_column_type(b, i) &&
           value_cmp(a, b, i) == 0;
}

/* Before payload version 2 a row's time was read apart from its event's. */
static int legacy_time_same(sqlite3_stmt *a, sqlite3_stmt *b, int i,
                            const char *col)
{
    size_t n = strlen(col);
    int64_t x, y;
    int off;

    if (strcmp(col, "at") && (n < 3 || strcmp(col + n - 3, "_at")))
        return 0;
    if (sqlite3_column_type(a, i) != SQLITE_TEXT ||
        sqlite3_column_type(b, i) != SQLITE_TEXT)
        return 0;
    if (gl_time_parse((const char *)sqlite3_column_text(a, i), &x, &off) ||
        gl_time_parse((const char *)sqlite3_column_text(b, i), &y, &off))
        return 0;
    return x - y <= 1 && y - x <= 1;
}

static void quote_ident(struct gl_buf *b, const char *id)
{
    gl_buf_adds(b, "\"");
    for (; *id; id++)
        gl_buf_addf(b, "%s", *id == '"' ? "\"\"" : (char[]){*id, 0});
    gl_buf_adds(b, "\"");
}

struct columns {
    char **name;
    int n;
    int pk[16], n_pk; /* indexes into name, in key order */
};

static void columns_release(struct columns *c)
{
    int i;

    for (i = 0; i < c->n; i++)
        free(c->name[i]);
    free(c->name);
    memset(c, 0, sizeof(*c));
}

static int columns_of(sqlite3 *db, const char *table, struct columns *c)
{
    sqlite3_stmt *st = NULL;
    int pks[16], k, step;

    memset(c, 0, sizeof(*c));
    if (sqlite3_prepare_v2(db,
                           "SELECT name, pk FROM pragma_table_info(?)"
                           " ORDER BY cid",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char **v = realloc(c->name, sizeof(*v) * (size_t)(c->n + 1));
        if (!v)
            break;
        c->name = v;
        c->name[c->n] = strdup((const char *)sqlite3_column_text(st, 0));
        k = sqlite3_column_int(st, 1);
        if (k > 0 && k <= 16) {
            pks[k - 1] = c->n;
            if (k > c->n_pk)
                c->n_pk = k;
        }
        c->n++;
    }
    sqlite3_finalize(st);
    for (k = 0; k < c->n_pk; k++)
        c->pk[k] = pks[k];
    return step == SQLITE_DONE ? 0 : -1;
}

/* "id='load'" for the row st is on. */
static void row_label(struct gl_buf *lab, struct gl_buf *tmp, sqlite3_stmt *st,
                      const struct columns *c, int rowid)
{
    int k;

    gl_buf_reset(lab);
    if (rowid) {
        gl_buf_addf(lab, "rowid=%s", show(tmp, st, 0));
        return;
    }
    for (k = 0; k < c->n_pk; k++)
        gl_buf_addf(lab, "%s%s=%s", k ? ", " : "", c->name[c->pk[k]],
                    show(tmp, st, c->pk[k]));
}

static int prepare_rows(sqlite3 *db, const char *table, const struct columns *c,
                        int rowid, const char *key, sqlite3_stmt **st)
{
    struct gl_buf q = GL_BUF_INIT;
    int k, rc;

    gl_buf_adds(&q, "SELECT ");
    if (rowid)
        gl_buf_adds(&q, "rowid, ");
    for (k = 0; k < c->n; k++) {
        if (k)
            gl_buf_adds(&q, ", ");
        quote_ident(&q, c->name[k]);
    }
    gl_buf_adds(&q, " FROM ");
    quote_ident(&q, table);
    if (key) {
        gl_buf_adds(&q, " WHERE ");
        quote_ident(&q, c->name[c->pk[0]]);
        gl_buf_adds(&q, " = ?");
    }
    gl_buf_adds(&q, " ORDER BY ");
    if (rowid)
        gl_buf_adds(&q, "rowid");
    for (k = 0; k < c->n_pk; k++) {
        if (k)
            gl_buf_adds(&q, ", ");
        quote_ident(&q, c->name[c->pk[k]]);
    }
    rc = gl_buf_failed(&q)
             ? SQLITE_NOMEM
             : sqlite3_prepare_v2(db, gl_buf_str(&q), -1, st, NULL);
    gl_buf_release(&q);
    if (rc == SQLITE_OK && key)
        sqlite3_bind_text(*st, 1, key, -1, SQLITE_TRANSIENT);
    return rc == SQLITE_OK ? 0 : -1;
}

/* Compare one table (or, with key, one row of it) of the store with the
 * projection; differences go to r->problems. */
static int compare_table(struct replay *r, const char *table, const char *key,
                         struct gl_err *err)
{
    sqlite3 *sdb = gl_store_db(r->src), *ddb = gl_store_db(r->mem);
    struct columns cs, cd;
    sqlite3_stmt *a = NULL, *b = NULL;
    struct gl_buf lab = GL_BUF_INIT, t1 = GL_BUF_INIT, t2 = GL_BUF_INIT;
    int rc = GL_OK, sa, sb, k, rowid, off;

    memset(&cd, 0, sizeof(cd));
    if (columns_of(sdb, table, &cs) || columns_of(ddb, table, &cd)) {
        rc = gl_run_fail_db(r->src, err);
        goto out;
    }
    if (!cd.n) {
        problem(r, table, NULL, NULL, NULL, NULL,
                "table %s is in the store, but no migration of golive makes "
                "it and no event fills it",
                table);
        goto out;
    }
    if (cs.n != cd.n) {
        problem(r, table, NULL, NULL, NULL, NULL,
                "table %s has %d columns in the store, %d as golive makes it",
                table, cs.n, cd.n);
        goto out;
    }
    for (k = 0; k < cs.n; k++)
        if (strcmp(cs.name[k], cd.name[k])) {
            problem(r, table, NULL, cs.name[k], NULL, NULL,
                    "table %s: column %d is '%s' in the store, '%s' as golive "
                    "makes it",
                    table, k + 1, cs.name[k], cd.name[k]);
            goto out;
        }
    rowid = cd.n_pk == 0;
    if (key && rowid)
        goto out;
    off = rowid ? 1 : 0;
    if (prepare_rows(sdb, table, &cs, rowid, key, &a) ||
        prepare_rows(ddb, table, &cd, rowid, key, &b)) {
        rc = gl_err_set(err, GL_ESTORE, "cannot read table %s: %s", table,
                        sqlite3_errmsg(a ? ddb : sdb));
        goto out;
    }
    sa = sqlite3_step(a);
    sb = sqlite3_step(b);
    while (sa == SQLITE_ROW || sb == SQLITE_ROW) {
        int c = 0;
        if (sa == SQLITE_ROW && sb == SQLITE_ROW) {
            if (rowid)
                c = value_cmp(a, b, 0);
            for (k = 0; !c && k < cs.n_pk; k++)
                c = value_cmp(a, b, cs.pk[k]);
        } else {
            c = sa == SQLITE_ROW ? -1 : 1;
        }
        if (c < 0) {
            row_label(&lab, &t1, a, &cs, rowid);
            problem(r, table, gl_buf_str(&lab), NULL, NULL, NULL,
                    "table %s, row %s: in the store, but no event made it",
                    table, gl_buf_str(&lab));
            sa = sqlite3_step(a);
            continue;
        }
        if (c > 0) {
            int tolerated = 0;
            row_label(&lab, &t1, b, &cd, rowid);
            /* before payload version 2, a scenario row nobody touched was
             * made only when a command first needed it */
            if (r->legacy && !strcmp(table, "scenarios")) {
                for (k = 0; k < cd.n; k++)
                    if (!strcmp(cd.name[k], "event_seq"))
                        tolerated = sqlite3_column_type(b, k) == SQLITE_NULL;
            }
            if (!tolerated)
                problem(r, table, gl_buf_str(&lab), NULL, NULL, NULL,
                        "table %s, row %s: the events make it, but it is "
                        "missing from the store",
                        table, gl_buf_str(&lab));
            sb = sqlite3_step(b);
            continue;
        }
        row_label(&lab, &t1, a, &cs, rowid);
        for (k = 0; k < cs.n; k++) {
            if (value_same(a, b, k + off) ||
                (r->legacy && legacy_time_same(a, b, k + off, cs.name[k])))
                continue;
            {
                char *sv = strdup(show(&t1, a, k + off));
                const char *dv = show(&t2, b, k + off);
                row_label(&lab, &t1, a, &cs, rowid);
                problem(r, table, gl_buf_str(&lab), cs.name[k], sv, dv,
                        "table %s, row %s, column %s: the store says %s, "
                        "the events say %s",
                        table, gl_buf_str(&lab), cs.name[k], sv ? sv : "?", dv);
                free(sv);
            }
        }
        sa = sqlite3_step(a);
        sb = sqlite3_step(b);
    }
    if (sa != SQLITE_DONE || sb != SQLITE_DONE)
        rc = gl_err_set(err, GL_ESTORE, "cannot read table %s", table);
    /* a label cut short named a row wrongly: the verify fails instead */
    if (!rc && ((rc = gl_buf_check(&lab, "a row's label", err)) ||
                (rc = gl_buf_check(&t1, "a value", err)) ||
                (rc = gl_buf_check(&t2, "a value", err))))
        goto out;
out:
    sqlite3_finalize(a);
    sqlite3_finalize(b);
    columns_release(&cs);
    columns_release(&cd);
    gl_buf_release(&lab);
    gl_buf_release(&t1);
    gl_buf_release(&t2);
    return rc;
}

static int is_projection(const char *table)
{
    const char *const *t;

    if (!strncmp(table, "sqlite_", 7))
        return 0;
    for (t = not_projections; *t; t++)
        if (!strcmp(*t, table))
            return 0;
    return 1;
}

/* type:name -> sql of every object of a schema but the statistics. */
static int schema_of(sqlite3 *db, json_t *out)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (sqlite3_prepare_v2(db,
                           "SELECT type, name, COALESCE(sql, '') FROM"
                           " sqlite_master WHERE name NOT LIKE 'sqlite\\_stat%'"
                           " ESCAPE '\\' ORDER BY type, name",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char key[512];
        snprintf(key, sizeof(key), "%s:%s", sqlite3_column_text(st, 0),
                 sqlite3_column_text(st, 1));
        json_object_set_new(
            out, key, json_string((const char *)sqlite3_column_text(st, 2)));
    }
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? 0 : -1;
}

/* Every object of the store's schema (tables, indexes, triggers, views)
 * against what golive's migrations make: a trigger or a view planted in
 * the store is named (the store is opened with both disabled, but a copy
 * opened by another program would run them).  Tables missing or extra are
 * named by compare_all. */
static int compare_schema(struct replay *r, struct gl_err *err)
{
    json_t *src = json_object(), *mem = json_object(), *v;
    const char *key;
    int rc = GL_OK;

    if (schema_of(gl_store_db(r->src), src)) {
        rc = gl_run_fail_db(r->src, err);
        goto out;
    }
    if (schema_of(gl_store_db(r->mem), mem)) {
        rc = gl_run_fail_db(r->mem, err);
        goto out;
    }
    json_object_foreach(src, key, v)
    {
        json_t *d = json_object_get(mem, key);
        const char *colon = strchr(key, ':');
        int is_table = !strncmp(key, "table:", 6);
        if (!d && !is_table)
            problem(r, NULL, NULL, NULL, json_string_value(v), NULL,
                    "%.*s %s is in the store, but no migration of golive "
                    "makes it: %s",
                    (int)(colon - key), key, colon + 1, json_string_value(v));
        else if (d && strcmp(json_string_value(d), json_string_value(v)))
            problem(r, NULL, NULL, NULL, json_string_value(v),
                    json_string_value(d),
                    "%.*s %s in the store is not as golive's migrations make "
                    "it: %s",
                    (int)(colon - key), key, colon + 1, json_string_value(v));
    }
    json_object_foreach(mem, key, v)
    {
        const char *colon = strchr(key, ':');
        if (strncmp(key, "table:", 6) && !json_object_get(src, key))
            problem(r, NULL, NULL, NULL, NULL, json_string_value(v),
                    "%.*s %s is missing from the store", (int)(colon - key),
                    key, colon + 1);
    }
out:
    json_decref(src);
    json_decref(mem);
    return rc;
}

/* Every table of the store (and of the projection) compared. */
/* Whether the store has a table of that name: 1, 0, or -1 on an error. */
static int has_table(gl_store *s, const char *name)
{
    sqlite3_stmt *q = NULL;
    int step;

    if (sqlite3_prepare_v2(gl_store_db(s),
                           "SELECT 1 FROM sqlite_master WHERE type = 'table'"
                           " AND name = ?",
                           -1, &q, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    step = sqlite3_step(q);
    sqlite3_finalize(q);
    return step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : -1;
}

static int compare_all(struct replay *r, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = GL_OK, step;

    if ((rc = compare_schema(r, err)))
        return rc;

    if (sqlite3_prepare_v2(gl_store_db(r->src),
                           "SELECT name FROM sqlite_master WHERE type ="
                           " 'table' ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(r->src, err);
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (is_projection(t))
            rc = compare_table(r, t, NULL, err);
    }
    sqlite3_finalize(st);
    if (rc)
        return rc;
    /* tables golive makes that the store lacks */
    if (sqlite3_prepare_v2(gl_store_db(r->mem),
                           "SELECT name FROM sqlite_master WHERE type ="
                           " 'table' ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(r->mem, err);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        int found;
        if (!is_projection(t))
            continue;
        if ((found = has_table(r->src, t)) < 0) {
            sqlite3_finalize(st);
            return gl_run_fail_db(r->src, err);
        }
        if (!found)
            problem(r, t, NULL, NULL, NULL, NULL,
                    "table %s is missing from the store", t);
    }
    sqlite3_finalize(st);
    return GL_OK;
}

/* plan_trees is a cache of plan_versions.text in packed form: each row
 * must be the packed form of its version's text, whose SHA-256 it names
 * (the text itself is checked against its event by the replay). */
static int check_plan_trees(struct replay *r, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    struct gl_buf packed = GL_BUF_INIT;
    int step, bad;

    if ((step = has_table(r->src, "plan_trees")) < 0)
        return gl_run_fail_db(r->src, err);
    if (!step) {
        problem(r, "plan_trees", NULL, NULL, NULL, NULL,
                "table plan_trees is missing from the store");
        return GL_OK;
    }
    if (sqlite3_prepare_v2(gl_store_db(r->src),
                           "SELECT t.version, t.sha256, t.tree, p.sha256,"
                           " p.text FROM plan_trees t LEFT JOIN plan_versions"
                           " p ON p.version = t.version ORDER BY t.version",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(r->src, err);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char row[64];
        const char *tsha = (const char *)sqlite3_column_text(st, 1);
        const char *psha = (const char *)sqlite3_column_text(st, 3);
        const void *tree = sqlite3_column_blob(st, 2);
        size_t tlen = (size_t)sqlite3_column_bytes(st, 2);
        const char *text = (const char *)sqlite3_column_text(st, 4);
        size_t len = (size_t)sqlite3_column_bytes(st, 4);

        snprintf(row, sizeof(row), "version=%d", sqlite3_column_int(st, 0));
        if (!psha) {
            problem(r, "plan_trees", row, NULL, NULL, NULL,
                    "table plan_trees, row %s: the store has no such plan "
                    "version",
                    row);
            continue;
        }
        if (!tsha || strcmp(tsha, psha)) {
            problem(r, "plan_trees", row, "sha256", tsha, psha,
                    "table plan_trees, row %s, column sha256: '%s', not "
                    "the SHA-256 of that plan version",
                    row, tsha ? tsha : "NULL");
            continue;
        }
        gl_buf_reset(&packed);
        bad = !text || sqlite3_column_type(st, 2) != SQLITE_BLOB ||
              gl_plan_pack(text, len, &packed) || packed.len != tlen ||
              (tlen && memcmp(packed.data, tree, tlen));
        if (gl_buf_failed(&packed)) /* not a verdict on the row */
            break;
        if (bad)
            problem(r, "plan_trees", row, "tree", NULL, NULL,
                    "table plan_trees, row %s, column tree: it is not the "
                    "packed YAML tree of that plan version's text",
                    row);
    }
    sqlite3_finalize(st);
    if (gl_buf_failed(&packed)) {
        int rc = gl_buf_check(&packed, "a packed plan", err);
        gl_buf_release(&packed);
        return rc;
    }
    gl_buf_release(&packed);
    return step == SQLITE_DONE ? GL_OK : gl_run_fail_db(r->src, err);
}

/* ---- the public calls ---------------------------------------------------- */

int gl_audit_head(gl_store *s, struct gl_audit_head *h, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    h->seq = 0;
    snprintf(h->hash, sizeof(h->hash), "%s", GL_HASH_GENESIS);
    if (gl_store_stmt(s,
                      "SELECT seq, hash FROM events ORDER BY seq DESC"
                      " LIMIT 1",
                      &st) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        h->seq = sqlite3_column_int64(st, 0);
        snprintf(h->hash, sizeof(h->hash), "%s",
                 sqlite3_column_text(st, 1)
                     ? (const char *)sqlite3_column_text(st, 1)
                     : "");
    }
    gl_store_stmt_done(s, st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? GL_OK
                                                     : gl_run_fail_db(s, err);
}

int gl_audit_head_parse(const char *text, struct gl_audit_head *h)
{
    const char *colon = strchr(text, ':');
    char *end;
    size_t n;
    long long seq;

    if (!colon || colon == text)
        return -1;
    seq = strtoll(text, &end, 10);
    if (end != colon || seq < 1)
        return -1;
    n = strlen(colon + 1);
    if (n < 16 || n > 64 || strspn(colon + 1, "0123456789abcdef") != n)
        return -1;
    h->seq = seq;
    snprintf(h->hash, sizeof(h->hash), "%s", colon + 1);
    return 0;
}

void gl_audit_release(struct gl_audit *a)
{
    json_decref(a->problems);
    json_decref(a->warnings);
    a->problems = a->warnings = NULL;
}

/* Keep the outcome for status; quietly nothing when the store cannot be
 * written (a copy on read-only media still verifies). */
static void keep(gl_store *s, const struct gl_audit *a, int ok,
                 const char *problem_text)
{
    sqlite3_stmt *st = NULL;
    struct gl_err e;
    char now[40];

    gl_err_clear(&e);
    gl_clock_now_iso(now);
    if (gl_store_begin(s, &e))
        return;
    if (sqlite3_prepare_v2(gl_store_db(s),
                           "INSERT OR REPLACE INTO audit_cache (id, seq, hash,"
                           " ok, problem, at) VALUES (1, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, a->head.seq);
        sqlite3_bind_text(st, 2, a->head.hash, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, ok);
        sqlite3_bind_text(st, 4, problem_text, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_DONE) {
            sqlite3_finalize(st);
            gl_store_commit(s, &e);
            return;
        }
    }
    sqlite3_finalize(st);
    gl_store_rollback(s);
}

int gl_audit_verify(gl_store *s, const struct gl_audit_head *expect,
                    struct gl_audit *a, struct gl_err *err)
{
    struct replay r;
    struct gl_err e2;
    int rc, chain_ok = 1;

    memset(a, 0, sizeof(*a));
    memset(&r, 0, sizeof(r));
    a->problems = json_array();
    a->warnings = json_array();
    r.src = s;
    r.problems = a->problems;
    if ((rc = gl_store_open_memory(&r.mem, err)))
        return rc;
    /* one read transaction: a consistent snapshot while writers go on */
    if (sqlite3_exec(gl_store_db(s), "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        rc = gl_run_fail_db(s, err);
        goto done;
    }
    if ((rc = gl_audit_head(s, &a->head, err)))
        goto out;
    gl_err_clear(&e2);
    {
        char last[GL_STORE_HASH_HEX];
        rc = gl_store_chain(s, 0, GL_HASH_GENESIS, &a->events, last, &e2);
    }
    if (rc && rc != GL_ECORRUPT) {
        *err = e2;
        goto out;
    }
    if (rc) {
        problem(&r, NULL, NULL, NULL, NULL, NULL, "%s", e2.msg);
        chain_ok = 0;
    }
    gl_err_clear(&e2);
    rc = gl_store_verify_records(s, &e2);
    if (rc && rc != GL_ECORRUPT) {
        *err = e2;
        goto out;
    }
    if (rc)
        problem(&r, NULL, NULL, NULL, NULL, NULL, "%s", e2.msg);
    if (expect) {
        char h[GL_STORE_HASH_HEX];
        gl_err_clear(&e2);
        rc = gl_store_event_hash(s, expect->seq, h, &e2);
        if (rc == GL_ENOTFOUND)
            problem(&r, NULL, NULL, NULL, NULL, NULL,
                    "event %" PRId64 " of the head written down is missing:"
                    " the log ends at event %" PRId64 "; it was cut",
                    expect->seq, a->head.seq);
        else if (rc) {
            *err = e2;
            goto out;
        } else if (strncmp(h, expect->hash, strlen(expect->hash)))
            problem(&r, NULL, NULL, NULL, NULL, NULL,
                    "event %" PRId64 " has hash %.16s..., not the head "
                    "written down (%.16s...): the log was rewritten",
                    expect->seq, h, expect->hash);
    }
    rc = GL_OK;
    /* a broken chain makes the replay meaningless: the tables are compared
     * only with events that are what they were written as */
    if (chain_ok) {
        if ((rc = replay_events(&r, a->warnings, err)))
            goto out;
        if (!r.stopped && (rc = compare_all(&r, err)))
            goto out;
        if ((rc = check_plan_trees(&r, err)))
            goto out;
    }
out:
    gl_store_rollback(s);
done:
    gl_plan_free(r.plan);
    gl_store_close(r.mem);
    if (rc)
        return rc;
    if (json_array_size(a->problems)) {
        const char *first = json_string_value(
            json_object_get(json_array_get(a->problems, 0), "message"));
        size_t n = json_array_size(a->problems);
        keep(s, a, 0, first);
        if (n > 1)
            return gl_err_set(err, GL_ECORRUPT, "%s (and %zu more)", first,
                              n - 1);
        return gl_err_set(err, GL_ECORRUPT, "%s", first);
    }
    keep(s, a, 1, NULL);
    return GL_OK;
}

#define CHAIN_WHOLE_EVERY 10.0 /* seconds between checks from the base */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The chain from event base (its hash base_hash) to the log's end, as
 * gl_store_chain.  A connection that found it whole from the same base
 * less than CHAIN_WHOLE_EVERY seconds ago checks only the events after
 * the last one it checked then (whose hash must be unchanged): a server
 * answering status after every change does not hash the night's log
 * each time, and still reads it whole every few seconds. */
static int chain_since(gl_store *s, int64_t base, const char *base_hash,
                       int64_t *last, char last_hash[GL_SHA256_HEX],
                       struct gl_err *err)
{
    char now_hash[GL_SHA256_HEX];
    double t = mono_s();
    int rc, whole = 1;

    if (s->chain.base == base && !strcmp(s->chain.base_hash, base_hash) &&
        s->chain.seq > base) {
        /* an event this connection checked is never to go or change */
        int64_t seen = s->chain.seq;
        rc = gl_store_event_hash(s, seen, now_hash, err);
        if (rc == GL_ENOTFOUND || (!rc && strcmp(now_hash, s->chain.hash))) {
            s->chain.seq = 0;
            return gl_err_set(err, GL_ECORRUPT,
                              "event %" PRId64 " %s since this golive read "
                              "it; the log was %s",
                              seen, rc ? "is missing" : "has another hash",
                              rc ? "cut" : "rewritten");
        }
        if (rc)
            return rc;
        whole = t - s->chain.whole_at >= CHAIN_WHOLE_EVERY;
    }
    rc = whole ? gl_store_chain(s, base, base_hash, last, last_hash, err)
               : gl_store_chain(s, s->chain.seq, s->chain.hash, last, last_hash,
                                err);
    if (rc) {
        s->chain.seq = 0; /* checked whole next time */
        return rc;
    }
    s->chain.base = base;
    snprintf(s->chain.base_hash, sizeof(s->chain.base_hash), "%s", base_hash);
    s->chain.seq = *last;
    snprintf(s->chain.hash, sizeof(s->chain.hash), "%s", last_hash);
    if (whole)
        s->chain.whole_at = t;
    return GL_OK;
}

int gl_audit_quick(gl_store *s, struct gl_audit_quick *q, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    char hash[GL_STORE_HASH_HEX], cached[GL_STORE_HASH_HEX] = "",
                                  last_hash[GL_STORE_HASH_HEX];
    int64_t last = 0;
    struct gl_err e2;
    int rc, step, ok = -1;

    memset(q, 0, sizeof(*q));
    if (sqlite3_exec(gl_store_db(s), "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    if ((rc = gl_audit_head(s, &q->head, err)))
        goto out;
    if (gl_store_stmt(s,
                      "SELECT seq, hash, ok, COALESCE(problem, ''), at"
                      " FROM audit_cache WHERE id = 1",
                      &st) != SQLITE_OK) {
        rc = gl_run_fail_db(s, err);
        goto out;
    }
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        q->verified_seq = sqlite3_column_int64(st, 0);
        snprintf(cached, sizeof(cached), "%s", sqlite3_column_text(st, 1));
        ok = sqlite3_column_int(st, 2);
        snprintf(q->detail, sizeof(q->detail), "%s",
                 sqlite3_column_text(st, 3));
        snprintf(q->verified_at, sizeof(q->verified_at), "%s",
                 sqlite3_column_text(st, 4));
    }
    gl_store_stmt_done(s, st);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = gl_run_fail_db(s, err);
        goto out;
    }
    if (ok == 0) {
        q->verdict = 0;
        goto out;
    }
    gl_err_clear(&e2);
    if (ok == 1 && q->verified_seq > 0) {
        rc = gl_store_event_hash(s, q->verified_seq, hash, &e2);
        if (rc == GL_ENOTFOUND || (!rc && strcmp(hash, cached))) {
            q->verdict = 0;
            snprintf(q->detail, sizeof(q->detail),
                     "event %" PRId64 ", the head at the last audit, is %s "
                     "since; the log was cut or rewritten",
                     q->verified_seq, rc ? "missing" : "changed");
            rc = GL_OK;
            goto out;
        }
        if (rc) {
            *err = e2;
            goto out;
        }
    }
    rc = chain_since(s, ok == 1 ? q->verified_seq : 0,
                     ok == 1 ? cached : GL_HASH_GENESIS, &last, last_hash, &e2);
    if (rc == GL_ECORRUPT) {
        q->verdict = 0;
        snprintf(q->detail, sizeof(q->detail), "%s", e2.msg);
        rc = GL_OK;
        goto out;
    }
    if (rc) {
        *err = e2;
        goto out;
    }
    q->verdict = ok == 1 ? 1 : -1;
    q->since = last - (ok == 1 ? q->verified_seq : 0);
    if (ok == 1)
        snprintf(q->detail, sizeof(q->detail),
                 "verified through event %" PRId64 " (%s); the chain of the "
                 "%" PRId64 " event%s since holds",
                 q->verified_seq, q->verified_at, q->since,
                 q->since == 1 ? "" : "s");
    else
        snprintf(q->detail, sizeof(q->detail),
                 "the chain of %" PRId64 " event%s holds; the tables were "
                 "never compared with the events ('golive audit verify')",
                 last, last == 1 ? "" : "s");
out:
    gl_store_rollback(s);
    return rc;
}

int gl_audit_check_row(gl_store *s, const char *table, const char *key,
                       struct gl_err *err)
{
    struct replay r;
    json_t *first;
    int rc;

    memset(&r, 0, sizeof(r));
    r.src = s;
    r.table = table;
    r.key = key;
    r.problems = json_array();
    if ((rc = gl_store_open_memory(&r.mem, err)))
        goto out;
    if ((rc = replay_events(&r, NULL, err)))
        goto out;
    if (r.stopped) /* the full audit says why */
        goto out;
    if ((rc = compare_table(&r, table, key, err)))
        goto out;
    first = json_array_get(r.problems, 0);
    if (first)
        rc = gl_err_set(
            err, GL_ESTORE,
            "the store's row of %s %s%s%s does not agree with its events "
            "(%s); the store was edited: 'golive audit verify' lists every "
            "difference",
            !strcmp(table, "defects")     ? "defect"
            : !strcmp(table, "scenarios") ? "scenario"
                                          : "task",
            !strcmp(table, "defects") ? "D-" : "'", key,
            !strcmp(table, "defects") ? "" : "'",
            json_string_value(json_object_get(first, "message")));
out:
    gl_plan_free(r.plan);
    gl_store_close(r.mem);
    json_decref(r.problems);
    return rc;
}
