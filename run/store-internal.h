/*
 * store-internal.h - what the state store's files (run/store*.c) share:
 * the handle's layout and small helpers on its SQLite connection.
 * Internal to the store; the rest of golive uses golive/store.h.
 */
#ifndef GOLIVE_STORE_INTERNAL_H
#define GOLIVE_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/store.h"
#include "run/transition.h"

/* 'golv' in ASCII: marks an SQLite file as a golive store. */
#define GL_STORE_APPLICATION_ID 0x676f6c76

/* A statement prepared once and kept for the connection (gl_store_stmt). */
struct gl_store_kept {
    const char *sql; /* the literal it was prepared from: the key */
    sqlite3_stmt *st;
    int busy; /* handed out, not given back yet */
};

#define GL_STORE_KEPT 48

struct gl_store {
    sqlite3 *db;
    char *path;
    char event_at[40]; /* the time of the last event appended (or replayed) */
    int memory;        /* a replay's projection: no crash points */
    int read_only;     /* GL_STORE_READ: an older schema is refused */
    int as_is;         /* GL_STORE_AS_IS: an older schema left as it is */
    int schema_before; /* the schema version before this open */
    struct gl_store_kept kept[GL_STORE_KEPT];
    unsigned n_kept;
    /* the chain this connection found whole (gl_audit_quick): from the
     * last full audit's head (base) through event seq, when (monotonic
     * seconds) it was last checked from the base */
    struct {
        int64_t base, seq;
        char base_hash[GL_STORE_HASH_HEX], hash[GL_STORE_HASH_HEX];
        double whole_at;
    } chain;
};

/* The statement of sql ready to bind and step, prepared on first use and
 * kept for the connection: a read that a long-lived process (the server)
 * makes on every request costs no parse.  sql is a string literal (its
 * address is the key).  Give it back with gl_store_stmt_done, on every
 * path: it is reset there (a statement left on a row would hold a read
 * transaction open); never finalize it.  Asked for again while in use
 * (a nested read), a statement of its own is made and finalized when
 * given back.  SQLite's code (not SQLITE_OK) on failure, *st NULL. */
int gl_store_stmt(gl_store *s, const char *sql, sqlite3_stmt **st);
void gl_store_stmt_done(gl_store *s, sqlite3_stmt *st);

/* GL_ESTORE: "<what> in state store '<path>': <SQLite's message>". */
int gl_store_db_err(gl_store *s, struct gl_err *err, const char *what);

/* Run sql (statements without results); GL_ESTORE with SQLite's message. */
int gl_store_exec(gl_store *s, const char *sql, struct gl_err *err);

/* A single integer from a query; -1 on failure. */
int64_t gl_store_query_int(gl_store *s, const char *sql);

/* Column i of the current row as text, "" for NULL. */
const char *gl_store_col_text(sqlite3_stmt *st, int i);

/* The run's record as SQL columns 0-9 (run id ... events: the last
 * event's number, O(log n) where count(*) reads the whole log), and the
 * reading of them into info: gl_store_run_info and gl_store_run_brief
 * share them. */
#define GL_STORE_RUN_COLUMNS                                                   \
    "r.run_id, r.cutover, r.rehearsal, r.switch_at, r.switch_offset,"          \
    " r.started_at, r.plan_version, p.sha256, p.path,"                         \
    " (SELECT coalesce(max(seq), 0) FROM events)"
void gl_store_run_row(sqlite3_stmt *st, struct gl_run_info *info);

/* The underlying SQLite handle (the replay's two stores, the unit
 * tests); the store's own files use s->db. */
sqlite3 *gl_store_db(gl_store *s);

/* Bind a task's row as parameters 1..7 (id, stage, owner, checker,
 * planned_at, duration, event_seq) of a statement on the tasks table:
 * run start and run amend write it the same way. */
void gl_store_bind_task(sqlite3_stmt *st, const struct gl_task *t, int64_t seq);

/* Bring the schema of an open store to GL_STORE_SCHEMA (or refuse a file
 * that is not a golive store, or a newer one). */
int gl_store_migrate(gl_store *s, struct gl_err *err);

/* The states of table t's rows for actions (space-separated), as an SQL
 * list "('a', 'b')": their to states, or with from_side their from
 * states, each once.  The SQL of a state machine is made from its table
 * (run/transition.h).  GL_EINTERNAL when it does not fit in n. */
int gl_store_sql_states(const struct gl_transition *t, const char *actions,
                        int from_side, char *buf, size_t n, struct gl_err *err);

#endif
