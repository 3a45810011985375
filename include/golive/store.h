/*
 * store.h - the state store: one run of a plan in one SQLite file.
 *
 * The store is WAL-mode SQLite with its schema version in user_version and
 * forward migrations applied on open.  Every change is an event (actor,
 * time, kind, JSON payload) whose SHA-256 hash chains to the previous
 * event's; the event and the current-state tables it changes are written in
 * one transaction, so a crash leaves either both or neither.
 */
#ifndef GOLIVE_STORE_H
#define GOLIVE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/plan.h"

typedef struct gl_store gl_store; /* opaque handle */

#define GL_STORE_SCHEMA 11
#define GL_STORE_HASH_HEX 65 /* a SHA-256 in hex and its NUL */
#define GL_HASH_GENESIS                                                        \
    "0000000000000000000000000000000000000000000000000000000000000000"

/* Who makes a change: the plan's person (or the OS user when none was
 * named) and, always, the operating-system user beside it. */
struct gl_actor {
    const char *person;
    const char *os_user;
};

/* GL_STORE_READ: for a command that only reads.  A store of an older
 * schema is not migrated (an older golive would refuse it afterwards):
 * GL_EREFUSED, naming the command that upgrades it.  GL_STORE_AS_IS: a
 * store of any schema this golive knows opened as it is, neither
 * migrated nor refused (a backup copies it before an upgrade). */
enum gl_store_flags {
    GL_STORE_CREATE = 1,
    GL_STORE_READ = 2,
    GL_STORE_AS_IS = 4
};

/* Open (and with GL_STORE_CREATE, create) the store at path, migrating its
 * schema forward (unless GL_STORE_READ).  GL_ENOTFOUND when it does not
 * exist and may not be created; GL_ESTORE when it is not a golive store or
 * SQLite fails.  The caller closes *out with gl_store_close(). */
int gl_store_open(const char *path, int flags, gl_store **out,
                  struct gl_err *err);
void gl_store_close(gl_store *s);

/* The schema version of an open store. */
int gl_store_schema(gl_store *s);

/* The schema version the store had before this open migrated it; the
 * current one when it did not. */
int gl_store_schema_before(gl_store *s);

/* Transactions: BEGIN IMMEDIATE (waits for other writers up to a timeout),
 * COMMIT, ROLLBACK.  Every change goes between begin and commit. */
int gl_store_begin(gl_store *s, struct gl_err *err);
/* BEGIN (deferred): a read of several statements that sees one state of
 * the store; ended with gl_store_rollback (or commit). */
int gl_store_begin_read(gl_store *s, struct gl_err *err);
int gl_store_commit(gl_store *s, struct gl_err *err);
void gl_store_rollback(gl_store *s);

/* Append an event inside the caller's transaction.  payload is a JSON
 * object text (compact).  *seq gets the new event's number (may be NULL). */
int gl_store_event(gl_store *s, const struct gl_actor *who, const char *kind,
                   const char *payload, int64_t *seq, struct gl_err *err);

/* Recompute the chain.  Returns GL_OK when every event matches (then
 * *events is the count), GL_ECORRUPT naming the first event that does not
 * match in err, or another code on failure.  This checks the events, the
 * plan versions and the run record only; golive/audit.h's gl_audit_verify
 * also replays the events and compares every table. */
int gl_store_verify(gl_store *s, int64_t *events, struct gl_err *err);

/* The same inside the caller's (read) transaction. */
int gl_store_verify_in(gl_store *s, int64_t *events, struct gl_err *err);

/* The run record and the plan versions against the events that made them
 * (the part of gl_store_verify after the chain). */
int gl_store_verify_records(gl_store *s, struct gl_err *err);

/* Check the chain of the events after event `from`, whose hash is
 * from_hash (0 and GL_HASH_GENESIS: every event).  *last and last_hash get
 * the last event that chains (from and from_hash when there is none after
 * it).  GL_ECORRUPT naming the first event that does not chain. */
int gl_store_chain(gl_store *s, int64_t from, const char *from_hash,
                   int64_t *last, char last_hash[GL_STORE_HASH_HEX],
                   struct gl_err *err);

/* The hash of event seq; GL_ENOTFOUND when there is no such event. */
int gl_store_event_hash(gl_store *s, int64_t seq, char hash[GL_STORE_HASH_HEX],
                        struct gl_err *err);

/* The time (UTC, ISO 8601) of the last event appended by this handle: the
 * rows that event changes carry it, so that a replay gives them exactly.
 * Before any event, the current time. */
const char *gl_store_event_at(gl_store *s);

/* For the replay: the time the next projected rows carry. */
void gl_store_set_event_at(gl_store *s, const char *at);

/* An empty store in memory with the current schema: the projection a
 * replay of the events is built into (run/store-replay.c). */
int gl_store_open_memory(gl_store **out, struct gl_err *err);

/* The path the store was opened with. */
const char *gl_store_path(gl_store *s);

/* The payload version of events written by this golive ("v" in run.start):
 * 2 = the run's rows carry their events' times and the scenario rows are
 * made with the run.  Stores started before carry no "v". */
#define GL_PAYLOAD_VERSION 2

/* What the store knows of its run. */
struct gl_run_info {
    char run_id[40];
    char cutover[128];
    int rehearsal;
    int64_t switch_at;
    int switch_offset;
    char started_at[40];
    int plan_version;
    char plan_sha256[65];
    char plan_path[4096];
    char *plan_text; /* malloc'd; freed by gl_run_info_release */
    size_t plan_len;
    void *plan_tree; /* gl_store_plan_tree: the packed tree, or NULL */
    size_t plan_tree_len;
    int64_t events;
};

/* Keep the packed YAML tree of plan version's text (gl_plan_pack) beside
 * it, so that commands that only read load the plan without parsing YAML.
 * Nothing is kept when the text is not YAML. */
int gl_store_plan_tree_put(gl_store *s, int version, const char *sha,
                           const char *text, size_t len, struct gl_err *err);

/* GL_ENOTFOUND when the store holds no run yet. */
int gl_store_run_info(gl_store *s, struct gl_run_info *info,
                      struct gl_err *err);
void gl_run_info_release(struct gl_run_info *info);

/* Read the packed tree of info's plan version into info->plan_tree, when
 * the store keeps one made from the text whose SHA-256 info holds: 1, or 0
 * when there is none (a store from before schema 8) or it is unusable (it
 * is a cache: the caller parses the text). */
int gl_store_plan_tree(gl_store *s, struct gl_run_info *info);
/* Whether it keeps a usable one, without reading it. */
int gl_store_plan_tree_kept(gl_store *s, const struct gl_run_info *info);

/* The run's record and its own copy of the plan, which decides whatever
 * the file on disk says.  With for_change the plan is parsed from the
 * text whose SHA-256 the run recorded (and its packed tree kept when the
 * store has none); else it loads from the packed tree when there is a
 * usable one.  *plan is the caller's (gl_plan_free), info is released with
 * gl_run_info_release in every case.  GL_ENOTFOUND: no run yet;
 * GL_EPLAN: the plan does not load. */
struct gl_plan;
int gl_run_load(gl_store *s, int for_change, struct gl_run_info *info,
                struct gl_plan **plan, struct gl_err *err);

/* Start the run: record the plan (its text, SHA-256 and path), its tasks
 * (all pending) and a "run.start" event, in one transaction.  GL_EREFUSED
 * when the store already holds a run. */
int gl_run_start(gl_store *s, const struct gl_plan *p, const char *text,
                 size_t len, const char *plan_path, int rehearsal,
                 const struct gl_actor *who, struct gl_run_info *info,
                 struct gl_err *err);

/* The rows run.start makes (the run, plan version 1, the tasks, and with
 * scenarios the scenario rows), from plan p and the event's values: run
 * start and the replay share it. */
int gl_store_project_start(gl_store *s, const struct gl_plan *p,
                           const char *run_id, int rehearsal, const char *sha,
                           const char *plan_path, const char *text, size_t len,
                           const char *at, int64_t seq, int scenarios,
                           struct gl_err *err);

/* Task counts for status: count[stage][state]. */
enum gl_task_state {
    GL_TASK_PENDING,
    GL_TASK_READY,
    GL_TASK_RUNNING,
    GL_TASK_DONE,
    GL_TASK_CHECKED,
    GL_TASK_FAILED,
    GL_TASK_SKIPPED,
    GL_TASK_STATE_COUNT
};

const char *gl_task_state_name(enum gl_task_state st);

int gl_store_task_counts(gl_store *s,
                         int64_t count[GL_STAGE_COUNT][GL_TASK_STATE_COUNT],
                         struct gl_err *err);

/* Append one event in a transaction of its own (for results that change
 * no other table, such as a flow check). */
int gl_store_append(gl_store *s, const struct gl_actor *who, const char *kind,
                    const char *payload, struct gl_err *err);

/* A task's state, inside the caller's transaction (GL_ENOTFOUND when the
 * run has no such task). */
int gl_store_task_state(gl_store *s, const char *id, char *state, size_t n,
                        struct gl_err *err);

/* Set a task's state, the event that set it, and its time stamps (start,
 * finish, check), inside the caller's transaction. */
int gl_store_task_set(gl_store *s, const char *id, const char *state,
                      int64_t seq, struct gl_err *err);

/* The static name of a task state given as text ("pending"...), or NULL. */
const char *gl_task_state_static(const char *state);

/* One execution of a sync job, as the run records it. */
struct gl_sync_record {
    const char *job, *mode; /* "load", "resume", "retry-rejects", "none" */
    const char *execution;  /* its id (see gl_sync_result), NULL: none */
    int64_t started, ended; /* epoch seconds */
    int64_t read, written, rejected, bytes;
    double seconds;
    int failed;
    const char *outcome; /* "ok", "failed", "interrupted"; NULL: by failed */
    const char *error;
    /* the SHA-256 of the plan file that ran, when it was not the run's
     * plan (`--plan-changed`); NULL otherwise */
    const char *plan_sha256;
    int64_t pid; /* the process that runs it, on host (for sync.start) */
    const char *host;
};

/* Record that an execution starts: a "sync.start" event (execution, job,
 * mode, started_at, pid, host) and a row of sync_runs with outcome
 * 'running' and no end, in one transaction.  A 'running' row whose
 * process is gone is an execution that died (gl_store_sync_outcome). */
int gl_store_sync_start(gl_store *s, const struct gl_actor *who,
                        const struct gl_sync_record *r, struct gl_err *err);

/* What running execution `execution` of job has done so far (rows read,
 * written, rejected of total, -1 unknown, in seconds): kept in
 * sync_progress for readers of the run (GET /syncs), replacing what was
 * there.  Not an event: the execution's end records its figures. */
int gl_store_sync_progress(gl_store *s, const char *execution, int64_t read,
                           int64_t written, int64_t rejected, int64_t total,
                           double seconds, struct gl_err *err);

/* Record how an execution ended: a "sync.run" event (job, mode,
 * started_at, ended_at, read, written, rejected, bytes, seconds, outcome,
 * error, execution) that completes the row its sync.start made (or adds
 * one, when it has no execution id), in one transaction. */
int gl_store_record_sync(gl_store *s, const struct gl_actor *who,
                         const struct gl_sync_record *r, struct gl_err *err);

/* The latest recorded execution of sync job `job` (by event order): its
 * outcome ("ok", "failed", ...) into outcome and its end into ended (each
 * NUL-terminated, cut to its size); both "" when none is recorded. */
int gl_store_sync_last(gl_store *s, const char *job, char *outcome,
                       size_t outcome_n, char *ended, size_t ended_n,
                       struct gl_err *err);
/* What the verification forecast (golive/forecast.h) reads of the run:
 * the events of scenarios, defects and handovers, in order, as plain
 * rows.  A handover is one GL_FC_HANDOVER row (actor: who handed over,
 * text: to whom) and a row after it for each scenario (GL_FC_HAND_SCENARIO)
 * and defect (GL_FC_HAND_DEFECT) it moved. */
enum gl_fc_kind {
    GL_FC_TAKE,            /* scenario.take: scenario */
    GL_FC_RESULT,          /* scenario.pass/fail/block: scenario, text the
                              state (passed, failed, blocked) */
    GL_FC_DEFECT_OPEN,     /* defect, scenario (or NULL), text the severity */
    GL_FC_DEFECT_MOVE,     /* defect, text the new state */
    GL_FC_DEFECT_SEVERITY, /* defect, text the new severity */
    GL_FC_HANDOVER,        /* text: to whom; defect 1 when it handed over
                              all of their work, 0 named items only */
    GL_FC_HAND_SCENARIO,   /* scenario, text: to whom */
    GL_FC_HAND_DEFECT,     /* defect, text: to whom */
    GL_FC_AMEND            /* run.amend: pending scenarios follow the plan */
};

struct gl_fc_event {
    int64_t seq, at; /* at: epoch seconds */
    enum gl_fc_kind kind;
    char *actor, *scenario, *text; /* malloc'd; NULL when absent */
    int64_t defect;                /* 0 when absent */
};

struct gl_fc_log {
    struct gl_fc_event *v;
    size_t n;
};

/* Read the forecast's events (every one, in order) into *log; the caller
 * releases it with gl_fc_log_release. */
int gl_store_forecast_events(gl_store *s, struct gl_fc_log *log,
                             struct gl_err *err);
void gl_fc_log_release(struct gl_fc_log *log);

/* A scenario's row as it stands: its state, who made it so (the result's
 * recorder, else its taker) and when (epoch seconds, 0 unknown). */
struct gl_scenario_now {
    int found;
    char id[128], state[16], by[128];
    int64_t at;
};

/* Scenario id's row (found 0 when it has none). */
int gl_store_scenario_now(gl_store *s, const char *id,
                          struct gl_scenario_now *out, struct gl_err *err);

/* The running scenario person holds (the first taken; found 0: none). */
int gl_store_scenario_held(gl_store *s, const char *person,
                           struct gl_scenario_now *out, struct gl_err *err);

/* Copy the store, while others go on writing to it, into a new file dest
 * (mode 0600; GL_EUSAGE when it exists) with SQLite's online backup: a
 * snapshot at one event.  The copy is opened and its chain verified;
 * *events is its count.  On failure dest is removed. */
int gl_store_backup(gl_store *s, const char *dest, int64_t *events,
                    struct gl_err *err);

/* The seq of the last event (0 when there is none). */
int gl_store_events_last(gl_store *s, int64_t *seq, struct gl_err *err);

#endif
