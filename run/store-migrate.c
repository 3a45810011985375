/*
 * store-migrate.c - the state store's schema: the migrations that take a
 * store from one schema version to the next, applied on open.
 */
#include "golive/store.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "golive/scenario.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/crashpoint.h"
#include "util/sha256.h"

#include "run/store-internal.h"

/* Schema migrations: migrations[i] takes the schema from version i to i+1.
 * Never edit one that has shipped; append a new one. */
static const char *const migrations[] = {
    /* 0 -> 1: the run, its plan versions, the event log, task state */
    "CREATE TABLE run ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  run_id TEXT NOT NULL,"
    "  cutover TEXT NOT NULL,"
    "  rehearsal INTEGER NOT NULL,"
    "  switch_at INTEGER NOT NULL,"
    "  switch_offset INTEGER NOT NULL,"
    "  started_at TEXT NOT NULL,"
    "  plan_version INTEGER NOT NULL);"
    "CREATE TABLE plan_versions ("
    "  version INTEGER PRIMARY KEY,"
    "  sha256 TEXT NOT NULL,"
    "  path TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  taken_at TEXT NOT NULL,"
    "  event_seq INTEGER NOT NULL);"
    "CREATE TABLE events ("
    "  seq INTEGER PRIMARY KEY,"
    "  at TEXT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  os_user TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  prev_hash TEXT NOT NULL,"
    "  hash TEXT NOT NULL);"
    "CREATE TABLE tasks ("
    "  id TEXT PRIMARY KEY,"
    "  stage TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending',"
    "  owner TEXT,"
    "  checker TEXT,"
    "  planned_at INTEGER,"
    "  duration INTEGER,"
    "  started_at TEXT,"
    "  finished_at TEXT,"
    "  checked_at TEXT,"
    "  event_seq INTEGER NOT NULL);",
    /* 1 -> 2: sync executions */
    "CREATE TABLE sync_runs ("
    "  id INTEGER PRIMARY KEY,"
    "  event_seq INTEGER NOT NULL,"
    "  job TEXT NOT NULL,"
    "  mode TEXT NOT NULL,"
    "  started_at TEXT NOT NULL,"
    "  ended_at TEXT NOT NULL,"
    "  rows_read INTEGER NOT NULL,"
    "  rows_written INTEGER NOT NULL,"
    "  rows_rejected INTEGER NOT NULL,"
    "  bytes INTEGER NOT NULL,"
    "  seconds REAL NOT NULL,"
    "  outcome TEXT NOT NULL,"
    "  error TEXT);",
    /* 2 -> 3: the verification list */
    "CREATE TABLE scenarios ("
    "  id TEXT PRIMARY KEY,"
    "  area TEXT,"
    "  priority INTEGER NOT NULL,"
    "  risk INTEGER NOT NULL,"
    "  assignee TEXT,"
    "  state TEXT NOT NULL DEFAULT 'pending',"
    "  taken_by TEXT,"
    "  result_by TEXT,"
    "  note TEXT,"
    "  event_seq INTEGER);",
    /* 3 -> 4: defects */
    "CREATE TABLE defects ("
    "  n INTEGER PRIMARY KEY,"
    "  scenario TEXT,"
    "  severity TEXT NOT NULL,"
    "  title TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  opened_by TEXT NOT NULL,"
    "  fixer TEXT,"
    "  verifier TEXT,"
    "  patch TEXT,"
    "  event_seq INTEGER NOT NULL);"
    /* ... go / no-go decisions, the duty log, rollback, lost tasks */
    "CREATE TABLE decisions ("
    "  id INTEGER PRIMARY KEY,"
    "  decision TEXT NOT NULL,"
    "  note TEXT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  at TEXT NOT NULL,"
    "  gate TEXT NOT NULL,"
    "  event_seq INTEGER NOT NULL);"
    "CREATE TABLE duty ("
    "  n INTEGER PRIMARY KEY,"
    "  at TEXT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  channel TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  defect INTEGER,"
    "  patch TEXT,"
    "  event_seq INTEGER NOT NULL);"
    "ALTER TABLE run ADD COLUMN rollback_at TEXT;"
    "ALTER TABLE tasks ADD COLUMN pid INTEGER;"
    "ALTER TABLE tasks ADD COLUMN host TEXT;"
    "ALTER TABLE tasks ADD COLUMN output TEXT;",
    /* 4 -> 5: the result of the last full `audit verify`, so that status
     * checks only the events since.  Not a projection of the events (the
     * replay leaves it out; see run/store-replay.c). */
    "CREATE TABLE audit_cache ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  seq INTEGER NOT NULL,"
    "  hash TEXT NOT NULL,"
    "  ok INTEGER NOT NULL,"
    "  problem TEXT,"
    "  at TEXT NOT NULL);",
    /* 5 -> 6: a task's planned times, fixed when it starts (task.start's
     * planned_start / planned_end; NULL again when it is reopened) */
    "ALTER TABLE tasks ADD COLUMN planned_start TEXT;"
    "ALTER TABLE tasks ADD COLUMN planned_end TEXT;",
    /* 6 -> 7: an execution is recorded from its start (sync.start), so
     * ended_at is NULL while it runs; its id, process and host (one that
     * is gone while 'running' died); a task's process group (#10.4,
     * #10.14) */
    "CREATE TABLE sync_runs_7 ("
    "  id INTEGER PRIMARY KEY,"
    "  event_seq INTEGER NOT NULL,"
    "  job TEXT NOT NULL,"
    "  mode TEXT NOT NULL,"
    "  started_at TEXT NOT NULL,"
    "  ended_at TEXT,"
    "  rows_read INTEGER NOT NULL,"
    "  rows_written INTEGER NOT NULL,"
    "  rows_rejected INTEGER NOT NULL,"
    "  bytes INTEGER NOT NULL,"
    "  seconds REAL NOT NULL,"
    "  outcome TEXT NOT NULL,"
    "  error TEXT,"
    "  execution TEXT UNIQUE,"
    "  pid INTEGER,"
    "  host TEXT);"
    "INSERT INTO sync_runs_7 (id, event_seq, job, mode, started_at,"
    " ended_at, rows_read, rows_written, rows_rejected, bytes, seconds,"
    " outcome, error) SELECT id, event_seq, job, mode, started_at, ended_at,"
    " rows_read, rows_written, rows_rejected, bytes, seconds, outcome, error"
    " FROM sync_runs;"
    "DROP TABLE sync_runs;"
    "ALTER TABLE sync_runs_7 RENAME TO sync_runs;"
    "ALTER TABLE tasks ADD COLUMN pgid INTEGER;",
    /* 7 -> 8: each plan version's YAML tree in packed form (plan/ytree.h),
     * so that reading a run of thousands of tasks does not parse YAML
     * (#11.8).  A cache of plan_versions.text, not a projection: the
     * replay leaves it out, and `audit verify` checks each row against
     * the packed form of its version's text (run/store-replay.c). */
    "CREATE TABLE plan_trees ("
    "  version INTEGER PRIMARY KEY,"
    "  sha256 TEXT NOT NULL,"
    "  tree BLOB NOT NULL);",
    /* 8 -> 9: who works the run through `golive serve` (#13.2, #13.6):
     * tokens and browser sessions, kept as SHA-256 hashes of their
     * secrets (token.issue / token.revoke, session.open / session.close);
     * comments on defects (defect.comment).  Times as in the other tables
     * (UTC ISO 8601); expires_at NULL: never. */
    "CREATE TABLE tokens ("
    "  n INTEGER PRIMARY KEY,"
    "  sha256 TEXT NOT NULL UNIQUE,"
    "  person TEXT NOT NULL,"
    "  viewer INTEGER NOT NULL,"
    "  issued_by TEXT NOT NULL,"
    "  issued_at TEXT NOT NULL,"
    "  expires_at TEXT,"
    "  revoked_at TEXT,"
    "  revoked_by TEXT,"
    "  event_seq INTEGER NOT NULL);"
    "CREATE TABLE sessions ("
    "  n INTEGER PRIMARY KEY,"
    "  sha256 TEXT NOT NULL UNIQUE,"
    "  csrf_sha256 TEXT NOT NULL,"
    "  token INTEGER NOT NULL,"
    "  opened_at TEXT NOT NULL,"
    "  closed_at TEXT,"
    "  event_seq INTEGER NOT NULL);"
    "CREATE TABLE defect_comments ("
    "  n INTEGER PRIMARY KEY,"
    "  defect INTEGER NOT NULL,"
    "  at TEXT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  event_seq INTEGER NOT NULL);"
    "CREATE INDEX defect_comments_defect ON defect_comments (defect, n);",
    /* 9 -> 10: what a running sync execution has done so far, written by
     * the sync as it goes (at most once a second) for `golive serve`'s
     * GET /syncs.  Not a projection: the execution's sync.run event
     * holds its final figures; the replay leaves it out. */
    "CREATE TABLE sync_progress ("
    "  execution TEXT PRIMARY KEY,"
    "  at TEXT NOT NULL,"
    "  rows_read INTEGER NOT NULL,"
    "  rows_written INTEGER NOT NULL,"
    "  rows_rejected INTEGER NOT NULL,"
    "  rows_total INTEGER,"
    "  seconds REAL NOT NULL);",
    /* 10 -> 11: the events of one kind in order, without reading the whole
     * log: status reads each check's last check.run and the forecast its
     * scenario and defect events on every evaluation (a server after
     * every change), and the log grows all night. */
    "CREATE INDEX events_kind ON events (kind, seq);",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int gl_store_migrate(gl_store *s, struct gl_err *err)
{
    int64_t version, app, tables;
    char sql[64];
    int rc, i;

    if ((rc = gl_store_begin(s, err)))
        return rc;
    version = gl_store_query_int(s, "PRAGMA user_version");
    app = gl_store_query_int(s, "PRAGMA application_id");
    tables = gl_store_query_int(s, "SELECT count(*) FROM sqlite_master");
    if (version < 0 || app < 0 || tables < 0) {
        rc = gl_store_db_err(s, err, "cannot read the schema version");
        goto fail;
    }
    if ((app != 0 && app != GL_STORE_APPLICATION_ID) ||
        (app == 0 && (version != 0 || tables != 0))) {
        rc = gl_err_set(err, GL_ESTORE,
                        "'%s' is an SQLite file but not a golive state store",
                        s->path);
        goto fail;
    }
    if (version > N_MIGRATIONS) {
        rc = gl_err_set(err, GL_ESTORE,
                        "state store '%s' has schema version %" PRId64
                        ", newer than this golive knows (%d); use a newer "
                        "golive",
                        s->path, version, N_MIGRATIONS);
        goto fail;
    }
    s->schema_before = (int)version;
    if (version == N_MIGRATIONS ||
        (s->as_is && app == GL_STORE_APPLICATION_ID)) {
        gl_store_rollback(s);
        return GL_OK;
    }
    /* a command that only reads leaves an older store as it is: once
     * migrated, the golive that wrote it refuses it.  An empty file (a
     * run start killed before its schema) has nothing to read either. */
    if (s->read_only && app == GL_STORE_APPLICATION_ID) {
        rc = gl_err_set(err, GL_EREFUSED,
                        "state store '%s' has schema version %" PRId64
                        ", older than this golive's (%d); a command that "
                        "only reads leaves it as it is: upgrade it first "
                        "with 'golive store upgrade --state %s' (then "
                        "older golive binaries refuse it)",
                        s->path, version, N_MIGRATIONS, s->path);
        goto fail;
    }
    if (!s->memory)
        gl_crashpoint();
    for (i = (int)version; i < N_MIGRATIONS; i++) {
        if ((rc = gl_store_exec(s, migrations[i], err)))
            goto fail;
        if (!s->memory)
            gl_crashpoint();
    }
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", N_MIGRATIONS);
    if ((rc = gl_store_exec(s, sql, err)))
        goto fail;
    snprintf(sql, sizeof(sql), "PRAGMA application_id = %d",
             GL_STORE_APPLICATION_ID);
    if ((rc = gl_store_exec(s, sql, err)))
        goto fail;
    return gl_store_commit(s, err);
fail:
    gl_store_rollback(s);
    return rc;
}
