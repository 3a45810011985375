/*
 * store.c - the state store (see golive/store.h): opening and migrating the
 * SQLite file, transactions, the hash-chained event log and its check.
 *
 * Event hash (version 1): SHA-256 over the bytes "golive-event-v1\n"
 * followed by each field as "<decimal length>:<bytes>\n", in this order:
 * seq, at, actor, os_user, kind, payload, prev_hash.  Length prefixes make
 * the encoding unambiguous whatever the fields contain.  (An event written
 * while GOLIVE_NOW replaces the clock has "golive_now": true in its
 * payload, hashed with it; the format is unchanged.)
 *
 * Every table but events (and audit_cache) is a projection of the events;
 * run/replay.c rebuilds them for `audit verify`.
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
#include "util/clock.h"
#include "util/crashpoint.h"
#include "util/sha256.h"

/* 'golv' in ASCII: marks an SQLite file as a golive store. */
#define APPLICATION_ID 0x676f6c76

struct gl_store {
    sqlite3 *db;
    char *path;
    char event_at[40]; /* the time of the last event appended (or replayed) */
    int memory;        /* a replay's projection: no crash points */
};

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
     * replay leaves it out; see run/replay.c). */
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
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int db_err(gl_store *s, struct gl_err *err, const char *what)
{
    return gl_err_set(err, GL_ESTORE, "%s in state store '%s': %s", what,
                      s->path, sqlite3_errmsg(s->db));
}

static int exec(gl_store *s, const char *sql, struct gl_err *err)
{
    char *msg = NULL;

    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        gl_err_set(err, GL_ESTORE, "state store '%s': %s", s->path,
                   msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return GL_ESTORE;
    }
    return GL_OK;
}

/* A single integer from a query; -1 on failure. */
static int64_t query_int(gl_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int migrate(gl_store *s, struct gl_err *err)
{
    int64_t version, app, tables;
    char sql[64];
    int rc, i;

    if ((rc = gl_store_begin(s, err)))
        return rc;
    version = query_int(s, "PRAGMA user_version");
    app = query_int(s, "PRAGMA application_id");
    tables = query_int(s, "SELECT count(*) FROM sqlite_master");
    if (version < 0 || app < 0 || tables < 0) {
        rc = db_err(s, err, "cannot read the schema version");
        goto fail;
    }
    if ((app != 0 && app != APPLICATION_ID) ||
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
    if (version == N_MIGRATIONS) {
        gl_store_rollback(s);
        return GL_OK;
    }
    if (!s->memory)
        gl_crashpoint();
    for (i = (int)version; i < N_MIGRATIONS; i++) {
        if ((rc = exec(s, migrations[i], err)))
            goto fail;
        if (!s->memory)
            gl_crashpoint();
    }
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", N_MIGRATIONS);
    if ((rc = exec(s, sql, err)))
        goto fail;
    snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", APPLICATION_ID);
    if ((rc = exec(s, sql, err)))
        goto fail;
    return gl_store_commit(s, err);
fail:
    gl_store_rollback(s);
    return rc;
}

/* ---- opening ---------------------------------------------------------- */

static int not_ours(const char *path, struct gl_err *err)
{
    return gl_err_set(err, GL_ESTORE,
                      "'%s' is not a golive state store; it was left as it "
                      "is (name the run's store with --state)",
                      path);
}

/* path as an SQLite URI "file:..." (every byte that could mean something
 * in a URI escaped); malloc'd, caller frees. */
static char *file_uri(const char *path, const char *query)
{
    size_t n = strlen(path), i, o = 0;
    char *u = malloc(5 + 3 * n + strlen(query) + 1);

    if (!u)
        return NULL;
    memcpy(u, "file:", 5);
    o = 5;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if (isalnum(c) || strchr("/._-~", c))
            u[o++] = (char)c;
        else
            o += (size_t)sprintf(u + o, "%%%02X", c);
    }
    strcpy(u + o, query);
    return u;
}

static int no_run(const char *path, struct gl_err *err)
{
    return gl_err_set(err, GL_ENOTFOUND,
                      "'%s' holds no golive run; it was left as it is (start "
                      "one with 'golive run start PLAN', or name the run's "
                      "store with --state)",
                      path);
}

/* Whether the existing file at path may be opened as a store, decided
 * without writing a byte to it or creating a file beside it: an empty
 * file (a store being created), a file whose application id is ours, or
 * an empty SQLite database; the first and the last only when create
 * (run start): any other command leaves them as they are.  The header
 * tells most; when its application id is 0 (a legacy database, or a
 * store whose first commit is still in its -wal), SQLite is asked
 * read-only: immutable when no -wal file is there to read, so that
 * nothing appears beside a legacy file. */
static int check_ours(const char *path, int create, struct gl_err *err)
{
    unsigned char h[100];
    char wal[4200], *uri = NULL;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    struct stat sb;
    uint32_t app;
    ssize_t n;
    int fd, rc, ok = 0, empty = 0;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return gl_err_set(err, GL_EIO, "cannot open state store '%s': %s", path,
                          strerror(errno));
    n = read(fd, h, sizeof(h));
    close(fd);
    if (n == 0) /* only 'run start' makes a store of an empty file */
        return create ? GL_OK : no_run(path, err);
    if (n != (ssize_t)sizeof(h) || memcmp(h, "SQLite format 3", 16))
        return not_ours(path, err);
    app = (uint32_t)h[68] << 24 | (uint32_t)h[69] << 16 | (uint32_t)h[70] << 8 |
          (uint32_t)h[71];
    if (app == APPLICATION_ID)
        return GL_OK;
    if (app != 0)
        return not_ours(path, err);
    snprintf(wal, sizeof(wal), "%s-wal", path);
    uri = file_uri(path, stat(wal, &sb) == 0 ? "?mode=ro" : "?immutable=1");
    if (!uri)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    rc =
        sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    free(uri);
    if (rc == SQLITE_OK &&
        sqlite3_prepare_v2(db,
                           "SELECT (SELECT application_id FROM"
                           " pragma_application_id),"
                           " (SELECT user_version FROM pragma_user_version),"
                           " (SELECT count(*) FROM sqlite_master)",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        ok = sqlite3_column_int64(st, 0) == APPLICATION_ID;
        empty = sqlite3_column_int64(st, 0) == 0 &&
                sqlite3_column_int64(st, 1) == 0 &&
                sqlite3_column_int64(st, 2) == 0;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (empty) /* an SQLite file without a table: as an empty file */
        return create ? GL_OK : no_run(path, err);
    return ok ? GL_OK : not_ours(path, err);
}

/* Create the store's file, readable by its owner only: SQLite gives its
 * -wal and -shm files the same mode. */
static int create_file(const char *path, struct gl_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0 && errno != EEXIST)
        return gl_err_set(err, GL_EIO, "cannot create state store '%s': %s",
                          path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return GL_OK;
}

int gl_store_open(const char *path, int flags, gl_store **out,
                  struct gl_err *err)
{
    gl_store *s;
    struct stat sb;
    sqlite3_stmt *st = NULL;
    int rc, oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

    *out = NULL;
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT)
            return gl_err_set(err, GL_EIO, "cannot open state store '%s': %s",
                              path, strerror(errno));
        if (!(flags & GL_STORE_CREATE))
            return gl_err_set(err, GL_ENOTFOUND,
                              "no state store at '%s'; start a run with "
                              "'golive run start PLAN' or name one with "
                              "--state",
                              path);
        if ((rc = create_file(path, err)))
            return rc;
    } else if (!S_ISREG(sb.st_mode)) {
        return gl_err_set(err, GL_EIO, "state store '%s' is not a file", path);
    }
    /* nothing below writes before the file is known to be ours */
    if ((rc = check_ours(path, flags & GL_STORE_CREATE, err)))
        return rc;
    if (!(s = calloc(1, sizeof(*s))) || !(s->path = strdup(path))) {
        free(s);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    if (sqlite3_open_v2(path, &s->db, oflags, NULL) != SQLITE_OK) {
        rc = db_err(s, err, "cannot open");
        goto fail;
    }
    /* no trigger or view planted in the store runs: golive's migrations
     * make none, and the audit names any it finds */
    if (sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL) !=
            SQLITE_OK ||
        sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL) !=
            SQLITE_OK) {
        rc = db_err(s, err, "cannot open");
        goto fail;
    }
    gl_crashpoint();
    sqlite3_busy_timeout(s->db, 60000);
    sqlite3_extended_result_codes(s->db, 1);
    /* WAL: readers never block the writer; FULL: a committed event survives
     * power loss, not only a crash of the process. */
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = db_err(s, err, "cannot switch to WAL mode");
        goto fail;
    }
    if (strcmp((const char *)sqlite3_column_text(st, 0), "wal")) {
        rc = gl_err_set(err, GL_ESTORE,
                        "state store '%s' cannot use WAL mode (journal mode "
                        "is '%s'); is it on a network file system?",
                        path, (const char *)sqlite3_column_text(st, 0));
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    gl_crashpoint();
    if ((rc = exec(s, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON", err)))
        goto fail;
    if ((rc = migrate(s, err)))
        goto fail;
    *out = s;
    return GL_OK;
fail:
    sqlite3_finalize(st);
    gl_store_close(s);
    return rc;
}

void gl_store_close(gl_store *s)
{
    if (!s)
        return;
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

int gl_store_schema(gl_store *s)
{
    return (int)query_int(s, "PRAGMA user_version");
}

int gl_store_begin(gl_store *s, struct gl_err *err)
{
    return exec(s, "BEGIN IMMEDIATE", err);
}

int gl_store_commit(gl_store *s, struct gl_err *err)
{
    int rc = exec(s, "COMMIT", err);

    if (rc)
        gl_store_rollback(s);
    return rc;
}

void gl_store_rollback(gl_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- the event chain ------------------------------------------------- */

static int hash_field(struct gl_sha256 *c, const char *v, size_t n)
{
    char len[32];
    int k = snprintf(len, sizeof(len), "%zu:", n);

    return gl_sha256_update(c, len, (size_t)k) || gl_sha256_update(c, v, n) ||
           gl_sha256_update(c, "\n", 1);
}

static int event_hash(int64_t seq, const char *at, const char *actor,
                      const char *os_user, const char *kind,
                      const char *payload, size_t payload_len, const char *prev,
                      char hex[GL_SHA256_HEX])
{
    struct gl_sha256 *c = gl_sha256_new();
    char seqs[32];
    int bad;

    if (!c)
        return -1;
    snprintf(seqs, sizeof(seqs), "%" PRId64, seq);
    bad = gl_sha256_update(c, "golive-event-v1\n", 16) ||
          hash_field(c, seqs, strlen(seqs)) || hash_field(c, at, strlen(at)) ||
          hash_field(c, actor, strlen(actor)) ||
          hash_field(c, os_user, strlen(os_user)) ||
          hash_field(c, kind, strlen(kind)) ||
          hash_field(c, payload, payload_len) ||
          hash_field(c, prev, strlen(prev));
    if (bad) {
        gl_sha256_final(c, NULL);
        return -1;
    }
    return gl_sha256_final(c, hex);
}

static void now_iso(char out[40])
{
    int64_t now;

    if (gl_clock_now(&now))
        now = 0;
    gl_time_format(now, 0, out);
}

/* An event written while a set clock (GOLIVE_NOW, gl_clock_set) replaces
 * the system clock says so in its payload ("golive_now": true), so that
 * the audit can tell a replayed or scripted time from the system clock.
 * *payload is replaced by *marked (malloc'd, the caller frees it) when the
 * mark is added. */
static int mark_clock(const char **payload, char **marked, struct gl_err *err)
{
    json_error_t je;
    json_t *j;

    *marked = NULL;
    if (!gl_clock_is_set())
        return GL_OK;
    j = json_loads(*payload, 0, &je);
    if (!json_is_object(j)) {
        json_decref(j);
        return GL_OK; /* not an object: nowhere to put the mark */
    }
    json_object_set_new(j, "golive_now", json_true());
    *marked = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    if (!*marked)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    *payload = *marked;
    return GL_OK;
}

int gl_store_event(gl_store *s, const struct gl_actor *who, const char *kind,
                   const char *payload, int64_t *seq_out, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    char prev[GL_SHA256_HEX], hash[GL_SHA256_HEX], at[40], *marked = NULL;
    int64_t seq = 1;
    int rc;

    if (sqlite3_get_autocommit(s->db))
        return gl_err_set(err, GL_EINTERNAL,
                          "event '%s' appended outside a transaction", kind);
    strcpy(prev, GL_HASH_GENESIS);
    if (sqlite3_prepare_v2(s->db,
                           "SELECT seq, hash FROM events ORDER BY seq DESC "
                           "LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "cannot read the event log");
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *h = sqlite3_column_text(st, 1);
        seq = sqlite3_column_int64(st, 0) + 1;
        snprintf(prev, sizeof(prev), "%s", h ? (const char *)h : "");
    } else if (rc != SQLITE_DONE) {
        sqlite3_finalize(st);
        return db_err(s, err, "cannot read the event log");
    }
    sqlite3_finalize(st);
    st = NULL;

    now_iso(at);
    if ((rc = mark_clock(&payload, &marked, err)))
        return rc;
    if (event_hash(seq, at, who->person, who->os_user, kind, payload,
                   strlen(payload), prev, hash)) {
        free(marked);
        return gl_err_set(err, GL_EINTERNAL, "cannot compute SHA-256");
    }
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO events (seq, at, actor, os_user, kind,"
                           " payload, prev_hash, hash) VALUES (?,?,?,?,?,?,?,"
                           "?)",
                           -1, &st, NULL) != SQLITE_OK) {
        free(marked);
        return db_err(s, err, "cannot append an event");
    }
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, at, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, who->person, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, who->os_user, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, payload, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 7, prev, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 8, hash, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    free(marked);
    if (rc != SQLITE_DONE)
        return db_err(s, err, "cannot append an event");
    /* the rows this event changes carry its time, so that a replay of the
     * events gives them exactly */
    memcpy(s->event_at, at, sizeof(s->event_at));
    if (seq_out)
        *seq_out = seq;
    return GL_OK;
}

const char *gl_store_event_at(gl_store *s)
{
    if (!s->event_at[0])
        now_iso(s->event_at);
    return s->event_at;
}

void gl_store_set_event_at(gl_store *s, const char *at)
{
    snprintf(s->event_at, sizeof(s->event_at), "%s", at);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    return t ? (const char *)t : "";
}

/* The run row must agree with the run.start event that created it. */
static int verify_run(gl_store *s, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *j = NULL;
    json_error_t je;
    int rc = GL_OK;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT r.run_id, r.cutover, r.rehearsal, e.seq,"
                           " e.payload FROM run r LEFT JOIN events e ON"
                           " e.kind = 'run.start' ORDER BY e.seq LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "cannot read the run");
    if (sqlite3_step(st) != SQLITE_ROW)
        goto out; /* no run yet */
    if (sqlite3_column_type(st, 3) == SQLITE_NULL) {
        rc = gl_err_set(err, GL_ECORRUPT,
                        "the run has no 'run.start' event; the event log "
                        "was cut");
        goto out;
    }
    j = json_loads(col_text(st, 4), 0, &je);
    if (!j ||
        strcmp(json_string_value(json_object_get(j, "run_id"))
                   ? json_string_value(json_object_get(j, "run_id"))
                   : "",
               col_text(st, 0)) ||
        strcmp(json_string_value(json_object_get(j, "cutover"))
                   ? json_string_value(json_object_get(j, "cutover"))
                   : "",
               col_text(st, 1)) ||
        json_is_true(json_object_get(j, "rehearsal")) !=
            (sqlite3_column_int(st, 2) != 0))
        rc = gl_err_set(err, GL_ECORRUPT,
                        "table run: the run's record does not match its "
                        "'run.start' event %lld; the store was edited",
                        (long long)sqlite3_column_int64(st, 3));
out:
    json_decref(j);
    sqlite3_finalize(st);
    return rc;
}

/* Every plan version's text must hash to its recorded SHA-256, and that
 * SHA-256 must be the one in the event that took the version. */
static int verify_plans(gl_store *s, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = GL_OK, step;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT p.version, p.sha256, p.text, e.payload,"
                           " p.event_seq FROM plan_versions p LEFT JOIN"
                           " events e ON e.seq = p.event_seq ORDER BY"
                           " p.version",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "cannot read plan versions");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char hex[GL_SHA256_HEX];
        const char *text = col_text(st, 2), *payload = col_text(st, 3);
        json_t *j;
        json_error_t je;
        int ok;

        if (gl_sha256_hex(text, (size_t)sqlite3_column_bytes(st, 2), hex)) {
            rc = gl_err_set(err, GL_EINTERNAL, "cannot compute SHA-256");
            break;
        }
        if (strcmp(hex, col_text(st, 1))) {
            rc = gl_err_set(err, GL_ECORRUPT,
                            "table plan_versions, row version=%d: its text "
                            "does not match its SHA-256; the stored plan was "
                            "edited",
                            sqlite3_column_int(st, 0));
            break;
        }
        j = json_loads(payload, 0, &je);
        ok = j && json_string_value(json_object_get(j, "plan_sha256")) &&
             !strcmp(json_string_value(json_object_get(j, "plan_sha256")), hex);
        json_decref(j);
        if (!ok) {
            rc = gl_err_set(err, GL_ECORRUPT,
                            "table plan_versions, row version=%d: it does "
                            "not match the SHA-256 recorded by event %lld",
                            sqlite3_column_int(st, 0),
                            (long long)sqlite3_column_int64(st, 4));
            break;
        }
    }
    if (!rc && step != SQLITE_DONE)
        rc = db_err(s, err, "cannot read plan versions");
    sqlite3_finalize(st);
    return rc;
}

int gl_store_chain(gl_store *s, int64_t from, const char *from_hash,
                   int64_t *last, char last_hash[GL_SHA256_HEX],
                   struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    char prev[GL_SHA256_HEX], hash[GL_SHA256_HEX];
    int64_t expect = from + 1;
    int rc = GL_OK, step;

    snprintf(prev, sizeof(prev), "%s", from_hash);
    *last = from;
    snprintf(last_hash, GL_SHA256_HEX, "%s", from_hash);
    if (sqlite3_prepare_v2(s->db,
                           "SELECT seq, at, actor, os_user, kind, payload,"
                           " prev_hash, hash FROM events WHERE seq > ?"
                           " ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "cannot read the event log");
    sqlite3_bind_int64(st, 1, from);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        const char *kind = col_text(st, 4);

        if (seq != expect) {
            rc = gl_err_set(err, GL_ECORRUPT,
                            "event %" PRId64 " is missing (the next one is "
                            "%" PRId64 "); the log was cut",
                            expect, seq);
            goto out;
        }
        if (strcmp(col_text(st, 6), prev)) {
            rc = gl_err_set(err, GL_ECORRUPT,
                            "event %" PRId64 " (%s) does not chain to event "
                            "%" PRId64 ": its previous hash differs",
                            seq, kind, seq - 1);
            goto out;
        }
        if (event_hash(seq, col_text(st, 1), col_text(st, 2), col_text(st, 3),
                       kind, col_text(st, 5),
                       (size_t)sqlite3_column_bytes(st, 5), prev, hash)) {
            rc = gl_err_set(err, GL_EINTERNAL, "cannot compute SHA-256");
            goto out;
        }
        if (strcmp(hash, col_text(st, 7))) {
            rc = gl_err_set(err, GL_ECORRUPT,
                            "event %" PRId64 " (%s, %s by %s) does not match "
                            "its hash: it was changed after it was written",
                            seq, kind, col_text(st, 1), col_text(st, 2));
            goto out;
        }
        memcpy(prev, hash, sizeof(prev));
        *last = seq;
        memcpy(last_hash, hash, GL_SHA256_HEX);
        expect++;
    }
    if (step != SQLITE_DONE)
        rc = db_err(s, err, "cannot read the event log");
out:
    sqlite3_finalize(st);
    return rc;
}

int gl_store_event_hash(gl_store *s, int64_t seq, char hash[GL_SHA256_HEX],
                        struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (sqlite3_prepare_v2(s->db, "SELECT hash FROM events WHERE seq = ?", -1,
                           &st, NULL) != SQLITE_OK)
        return db_err(s, err, "cannot read the event log");
    sqlite3_bind_int64(st, 1, seq);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        snprintf(hash, GL_SHA256_HEX, "%s", col_text(st, 0));
    sqlite3_finalize(st);
    if (step == SQLITE_DONE)
        return gl_err_set(err, GL_ENOTFOUND, "no event %" PRId64, seq);
    return step == SQLITE_ROW ? GL_OK
                              : db_err(s, err, "cannot read the event log");
}

int gl_store_verify_in(gl_store *s, int64_t *events, struct gl_err *err)
{
    char last[GL_SHA256_HEX];
    int rc;

    *events = 0;
    if ((rc = gl_store_chain(s, 0, GL_HASH_GENESIS, events, last, err)))
        return rc;
    return gl_store_verify_records(s, err);
}

int gl_store_verify_records(gl_store *s, struct gl_err *err)
{
    int rc;

    if ((rc = verify_run(s, err)) || (rc = verify_plans(s, err)))
        return rc;
    return GL_OK;
}

int gl_store_verify(gl_store *s, int64_t *events, struct gl_err *err)
{
    int rc;

    /* one read transaction: a consistent snapshot while writers go on */
    if ((rc = exec(s, "BEGIN", err)))
        return rc;
    rc = gl_store_verify_in(s, events, err);
    gl_store_rollback(s);
    return rc;
}

int gl_store_open_memory(gl_store **out, struct gl_err *err)
{
    gl_store *s;
    int rc;

    *out = NULL;
    if (!(s = calloc(1, sizeof(*s))) || !(s->path = strdup("(replay)"))) {
        free(s);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    s->memory = 1;
    if (sqlite3_open_v2(":memory:", &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = db_err(s, err, "cannot open");
        gl_store_close(s);
        return rc;
    }
    if ((rc = migrate(s, err))) {
        gl_store_close(s);
        return rc;
    }
    *out = s;
    return GL_OK;
}

const char *gl_store_path(gl_store *s)
{
    return s->path;
}

/* ---- the run --------------------------------------------------------- */

/* mmap_size while gl_store_run_info reads: a plan's text is at most
 * YT_MAX_INPUT (32 MiB); the rest of the store is read as before */
#define MMAP_PLAN_READ "67108864"

/* The run's plan text against the event that introduced its version. */
static int check_plan_event(gl_store *s, const struct gl_run_info *info,
                            const char *payload, int64_t seq,
                            struct gl_err *err)
{
    char hex[GL_SHA256_HEX];
    json_t *j;
    json_error_t je;
    const char *sha;
    int ok;

    if (gl_sha256_hex(info->plan_text, info->plan_len, hex))
        return gl_err_set(err, GL_EINTERNAL, "cannot compute SHA-256");
    j = json_loads(payload, 0, &je);
    sha = j ? json_string_value(json_object_get(j, "plan_sha256")) : NULL;
    ok = sha && !strcmp(sha, hex) && !strcmp(info->plan_sha256, hex) &&
         json_integer_value(json_object_get(j, "plan_version")) ==
             info->plan_version;
    json_decref(j);
    if (ok)
        return GL_OK;
    return gl_err_set(err, GL_ESTORE,
                      "the store's copy of the plan does not match its event "
                      "(version %d, event %lld) in '%s'; the store was "
                      "edited: 'golive audit verify' lists every difference",
                      info->plan_version, (long long)seq, s->path);
}

int gl_store_run_info(gl_store *s, struct gl_run_info *info, struct gl_err *err)
{
    sqlite3_blob *blob = NULL;
    sqlite3_stmt *st = NULL;
    int rc = GL_OK, step;

    memset(info, 0, sizeof(*info));
    /* The plan's text fills hundreds of pages: read them mapped rather
     * than through fresh page-cache memory (a page fault each, the most
     * expensive part of reading a large plan), for this read only. */
    sqlite3_exec(s->db, "PRAGMA mmap_size=" MMAP_PLAN_READ, NULL, NULL, NULL);
    if (sqlite3_prepare_v2(s->db,
                           "SELECT r.run_id, r.cutover, r.rehearsal,"
                           " r.switch_at, r.switch_offset, r.started_at,"
                           " r.plan_version, p.sha256, p.path,"
                           " (SELECT count(*) FROM events),"
                           " (SELECT payload FROM events WHERE kind IN"
                           " ('run.start', 'run.amend') ORDER BY seq DESC"
                           " LIMIT 1),"
                           " (SELECT seq FROM events WHERE kind IN"
                           " ('run.start', 'run.amend') ORDER BY seq DESC"
                           " LIMIT 1)"
                           " FROM run r JOIN plan_versions p"
                           " ON p.version = r.plan_version",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "cannot read the run");
    step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        rc = gl_err_set(err, GL_ENOTFOUND,
                        "state store '%s' holds no run yet; start one with "
                        "'golive run start PLAN'",
                        s->path);
        goto out;
    }
    if (step != SQLITE_ROW) {
        rc = db_err(s, err, "cannot read the run");
        goto out;
    }
    snprintf(info->run_id, sizeof(info->run_id), "%s", col_text(st, 0));
    snprintf(info->cutover, sizeof(info->cutover), "%s", col_text(st, 1));
    info->rehearsal = sqlite3_column_int(st, 2);
    info->switch_at = sqlite3_column_int64(st, 3);
    info->switch_offset = sqlite3_column_int(st, 4);
    snprintf(info->started_at, sizeof(info->started_at), "%s", col_text(st, 5));
    info->plan_version = sqlite3_column_int(st, 6);
    snprintf(info->plan_sha256, sizeof(info->plan_sha256), "%s",
             col_text(st, 7));
    snprintf(info->plan_path, sizeof(info->plan_path), "%s", col_text(st, 8));
    info->events = sqlite3_column_int64(st, 9);
    /* The text straight into our buffer, in the statement's read
     * transaction: a column value would first be assembled in SQLite's
     * own buffer and copied, two fresh megabytes for a large plan. */
    if (sqlite3_blob_open(s->db, "main", "plan_versions", "text",
                          info->plan_version, 0, &blob) != SQLITE_OK) {
        rc = db_err(s, err, "cannot read the run's plan");
        goto out;
    }
    info->plan_len = (size_t)sqlite3_blob_bytes(blob);
    /* huge pages: a fault per 4 KiB of a large plan otherwise */
    info->plan_text = gl_big_alloc(info->plan_len + 1);
    if (!info->plan_text) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto out;
    }
    if (sqlite3_blob_read(blob, info->plan_text, (int)info->plan_len, 0) !=
        SQLITE_OK) {
        rc = db_err(s, err, "cannot read the run's plan");
        gl_run_info_release(info);
        goto out;
    }
    info->plan_text[info->plan_len] = '\0';
    /* plan_versions is a projection that can be edited: the plan the
     * commands act on (and the roles they grant) must be the one whose
     * SHA-256 the last run.start / run.amend event recorded */
    if ((rc = check_plan_event(s, info, col_text(st, 10),
                               sqlite3_column_int64(st, 11), err)))
        gl_run_info_release(info);
out:
    sqlite3_blob_close(blob);
    sqlite3_finalize(st);
    sqlite3_exec(s->db, "PRAGMA mmap_size=0", NULL, NULL, NULL);
    return rc;
}

void gl_run_info_release(struct gl_run_info *info)
{
    free(info->plan_text);
    info->plan_text = NULL;
}

void gl_store_bind_task(struct sqlite3_stmt *st, const struct gl_task *t,
                        int64_t seq)
{
    sqlite3_bind_text(st, 1, t->id.id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, gl_stage_name(t->stage), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, t->owner.id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, t->checker.id, -1, SQLITE_STATIC);
    if (t->has_at)
        sqlite3_bind_int64(st, 5, t->at);
    else
        sqlite3_bind_null(st, 5);
    if (t->has_duration)
        sqlite3_bind_int64(st, 6, t->duration);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_int64(st, 7, seq);
}

static int insert_tasks(gl_store *s, const struct gl_plan *p, int64_t seq,
                        struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    int rc = GL_OK;

    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO tasks (id, stage, owner, checker,"
                           " planned_at, duration, event_seq) VALUES"
                           " (?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "cannot record tasks");
    for (i = 0; i < p->n_tasks; i++) {
        const struct gl_task *t = &p->tasks[i];
        sqlite3_reset(st);
        gl_store_bind_task(st, t, seq);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = db_err(s, err, "cannot record tasks");
            break;
        }
        if (i == 0)
            gl_crashpoint();
    }
    sqlite3_finalize(st);
    return rc;
}

int gl_store_project_start(gl_store *s, const struct gl_plan *p,
                           const char *run_id, int rehearsal, const char *sha,
                           const char *plan_path, const char *text, size_t len,
                           const char *at, int64_t seq, int scenarios,
                           struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO run (id, run_id, cutover, rehearsal,"
                           " switch_at, switch_offset, started_at,"
                           " plan_version) VALUES (1,?,?,?,?,?,?,1)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "cannot record the run");
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->cutover, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, rehearsal);
    sqlite3_bind_int64(st, 4, p->switch_at);
    sqlite3_bind_int(st, 5, p->switch_offset);
    sqlite3_bind_text(st, 6, at, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = db_err(s, err, "cannot record the run");
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    gl_crashpoint();
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO plan_versions (version, sha256, path,"
                           " text, taken_at, event_seq) VALUES"
                           " (1,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "cannot record the plan");
    sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, plan_path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, text, (int)len, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, at, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, seq);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = db_err(s, err, "cannot record the plan");
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    gl_crashpoint();
    if ((rc = insert_tasks(s, p, seq, err)))
        return rc;
    /* payload version 2: the scenario rows are made with the run (before,
     * they were made the first time a command needed them) */
    if (scenarios && (rc = gl_scenario_rows(s, p, err)))
        return rc;
    return GL_OK;
fail:
    sqlite3_finalize(st);
    return rc;
}

int gl_run_start(gl_store *s, const struct gl_plan *p, const char *text,
                 size_t len, const char *plan_path, int rehearsal,
                 const struct gl_actor *who, struct gl_run_info *info,
                 struct gl_err *err)
{
    unsigned char rnd[16];
    char run_id[33], sha[GL_SHA256_HEX];
    json_t *payload = NULL;
    char *ptext = NULL;
    int64_t seq = 0;
    int rc, i;

    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return gl_err_set(err, GL_EINTERNAL, "no random bytes for a run id");
    for (i = 0; i < 16; i++)
        snprintf(run_id + 2 * i, 3, "%02x", rnd[i]);
    if (gl_sha256_hex(text, len, sha))
        return gl_err_set(err, GL_EINTERNAL, "cannot compute SHA-256");

    if ((rc = gl_store_begin(s, err)))
        return rc;
    gl_crashpoint();
    if (query_int(s, "SELECT count(*) FROM run") != 0) {
        struct gl_run_info old;
        gl_store_rollback(s);
        if (gl_store_run_info(s, &old, NULL) == GL_OK) {
            rc = gl_err_set(err, GL_EREFUSED,
                            "state store '%s' already holds %s run %s of "
                            "'%s' (started %s); one store holds one run: "
                            "name another with --state",
                            s->path, old.rehearsal ? "rehearsal" : "live",
                            old.run_id, old.cutover, old.started_at);
            gl_run_info_release(&old);
            return rc;
        }
        return gl_err_set(err, GL_EREFUSED,
                          "state store '%s' already holds a run", s->path);
    }
    payload =
        json_pack("{s:s, s:s, s:b, s:s, s:i, s:s, s:I, s:I, s:i}", "run_id",
                  run_id, "cutover", p->cutover, "rehearsal", rehearsal,
                  "plan_sha256", sha, "plan_version", 1, "plan_path", plan_path,
                  "switch_at", (json_int_t)p->switch_at, "tasks",
                  (json_int_t)p->n_tasks, "v", GL_PAYLOAD_VERSION);
    if (!payload ||
        !(ptext = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS))) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = gl_store_event(s, who, "run.start", ptext, &seq, err)))
        goto fail;
    gl_crashpoint();
    if ((rc = gl_store_project_start(s, p, run_id, rehearsal, sha, plan_path,
                                     text, len, s->event_at, seq, 1, err)))
        goto fail;
    gl_crashpoint();
    if ((rc = gl_store_commit(s, err)))
        goto fail;
    gl_crashpoint();
    free(ptext);
    json_decref(payload);
    return info ? gl_store_run_info(s, info, err) : GL_OK;
fail:
    gl_store_rollback(s);
    free(ptext);
    json_decref(payload);
    return rc;
}

/* ---- task state ------------------------------------------------------ */

static const char *const task_states[] = {
    "pending", "ready", "running", "done", "checked", "failed", "skipped"};

const char *gl_task_state_name(enum gl_task_state st)
{
    return (unsigned)st < GL_TASK_STATE_COUNT ? task_states[st] : "?";
}

int gl_store_task_counts(gl_store *s,
                         int64_t count[GL_STAGE_COUNT][GL_TASK_STATE_COUNT],
                         struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step, i, j;

    memset(count, 0, sizeof(int64_t) * GL_STAGE_COUNT * GL_TASK_STATE_COUNT);
    if (sqlite3_prepare_v2(s->db,
                           "SELECT stage, state, count(*) FROM tasks GROUP BY"
                           " stage, state",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "cannot read tasks");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *stage = col_text(st, 0), *state = col_text(st, 1);
        for (i = 0; i < GL_STAGE_COUNT; i++)
            if (!strcmp(stage, gl_stage_name((enum gl_stage)i)))
                break;
        for (j = 0; j < GL_TASK_STATE_COUNT; j++)
            if (!strcmp(state, task_states[j]))
                break;
        if (i < GL_STAGE_COUNT && j < GL_TASK_STATE_COUNT)
            count[i][j] += sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return db_err(s, err, "cannot read tasks");
    return GL_OK;
}

/* ---- sync executions -------------------------------------------------- */

int gl_store_sync_last(gl_store *s, const char *job, char *outcome,
                       size_t outcome_n, char *ended, size_t ended_n,
                       struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    outcome[0] = ended[0] = '\0';
    if (sqlite3_prepare_v2(s->db,
                           "SELECT outcome, ended_at FROM sync_runs"
                           " WHERE job = ? ORDER BY event_seq DESC, id DESC"
                           " LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "cannot read sync executions");
    sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *o = (const char *)sqlite3_column_text(st, 0);
        const char *e = (const char *)sqlite3_column_text(st, 1);
        snprintf(outcome, outcome_n, "%s", o ? o : "");
        snprintf(ended, ended_n, "%s", e ? e : "");
    }
    sqlite3_finalize(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return db_err(s, err, "cannot read sync executions");
    return GL_OK;
}

static const char *sync_outcome(const struct gl_sync_record *r)
{
    if (r->outcome && *r->outcome)
        return r->outcome;
    return r->failed ? "failed" : "ok";
}

int gl_store_sync_start(gl_store *s, const struct gl_actor *who,
                        const struct gl_sync_record *r, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    char started[40], *ptext = NULL;
    json_t *payload;
    int64_t seq = 0;
    int rc;

    gl_time_format(r->started, 0, started);
    payload =
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "execution", r->execution,
                  "job", r->job, "mode", r->mode, "started_at", started, "pid",
                  (json_int_t)r->pid, "host", r->host ? r->host : "");
    if (!payload ||
        !(ptext = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS))) {
        json_decref(payload);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    json_decref(payload);
    if ((rc = gl_store_begin(s, err)))
        goto out;
    if ((rc = gl_store_event(s, who, "sync.start", ptext, &seq, err)))
        goto fail;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO sync_runs (event_seq, job, mode,"
                           " started_at, ended_at, rows_read, rows_written,"
                           " rows_rejected, bytes, seconds, outcome, error,"
                           " execution, pid, host) VALUES (?,?,?,?,NULL,0,0,"
                           "0,0,0,'running',NULL,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_err(s, err, "cannot record a sync execution");
        goto fail;
    }
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, r->job, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->mode, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, started, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->execution, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, r->pid);
    sqlite3_bind_text(st, 7, r->host ? r->host : "", -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = db_err(s, err, "cannot record a sync execution");
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    rc = gl_store_commit(s, err);
    goto out;
fail:
    sqlite3_finalize(st);
    gl_store_rollback(s);
out:
    free(ptext);
    return rc;
}

int gl_store_record_sync(gl_store *s, const struct gl_actor *who,
                         const struct gl_sync_record *r, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    char started[40], ended[40], *ptext = NULL;
    const char *outcome = sync_outcome(r);
    int bad = strcmp(outcome, "ok") != 0, pass;
    json_t *payload;
    int64_t seq = 0;
    int rc;

    gl_time_format(r->started, 0, started);
    gl_time_format(r->ended, 0, ended);
    payload = json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:f, s:s,"
        " s:s?, s:s?, s:s*}",
        "job", r->job, "mode", r->mode, "started_at", started, "ended_at",
        ended, "read", (json_int_t)r->read, "written", (json_int_t)r->written,
        "rejected", (json_int_t)r->rejected, "bytes", (json_int_t)r->bytes,
        "seconds", r->seconds, "outcome", outcome, "error",
        bad && r->error && *r->error ? r->error : NULL, "execution",
        r->execution && *r->execution ? r->execution : NULL, "plan_sha256",
        r->plan_sha256);
    if (!payload ||
        !(ptext = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS))) {
        json_decref(payload);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    json_decref(payload);
    if ((rc = gl_store_begin(s, err)))
        goto out;
    if ((rc = gl_store_event(s, who, "sync.run", ptext, &seq, err)))
        goto fail;
    /* the row its sync.start made, else a new one (an execution that was
     * not recorded at its start, as before schema 6) */
    for (pass = r->execution && *r->execution ? 0 : 1; pass < 2; pass++) {
        if (sqlite3_prepare_v2(
                s->db,
                pass == 0
                    ? "UPDATE sync_runs SET event_seq = ?1, job = ?2,"
                      " mode = ?3, started_at = ?4, ended_at = ?5,"
                      " rows_read = ?6, rows_written = ?7, rows_rejected = ?8,"
                      " bytes = ?9, seconds = ?10, outcome = ?11, error = ?12"
                      " WHERE execution = ?13"
                    : "INSERT INTO sync_runs (event_seq, job, mode,"
                      " started_at, ended_at, rows_read, rows_written,"
                      " rows_rejected, bytes, seconds, outcome, error,"
                      " execution) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
                      " ?9, ?10, ?11, ?12, ?13)",
                -1, &st, NULL) != SQLITE_OK) {
            rc = db_err(s, err, "cannot record a sync execution");
            goto fail;
        }
        sqlite3_bind_int64(st, 1, seq);
        sqlite3_bind_text(st, 2, r->job, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, r->mode, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, started, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, ended, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, r->read);
        sqlite3_bind_int64(st, 7, r->written);
        sqlite3_bind_int64(st, 8, r->rejected);
        sqlite3_bind_int64(st, 9, r->bytes);
        sqlite3_bind_double(st, 10, r->seconds);
        sqlite3_bind_text(st, 11, outcome, -1, SQLITE_STATIC);
        if (bad && r->error && *r->error)
            sqlite3_bind_text(st, 12, r->error, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 12);
        if (r->execution && *r->execution)
            sqlite3_bind_text(st, 13, r->execution, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 13);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = db_err(s, err, "cannot record a sync execution");
            goto fail;
        }
        sqlite3_finalize(st);
        st = NULL;
        if (sqlite3_changes(s->db) == 1)
            break;
    }
    rc = gl_store_commit(s, err);
    goto out;
fail:
    sqlite3_finalize(st);
    gl_store_rollback(s);
out:
    free(ptext);
    return rc;
}

int gl_store_append(gl_store *s, const struct gl_actor *who, const char *kind,
                    const char *payload, struct gl_err *err)
{
    int rc;

    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_store_event(s, who, kind, payload, NULL, err))) {
        gl_store_rollback(s);
        return rc;
    }
    return gl_store_commit(s, err);
}

const char *gl_task_state_static(const char *state)
{
    size_t i;

    for (i = 0; i < GL_TASK_STATE_COUNT; i++)
        if (!strcmp(state, task_states[i]))
            return task_states[i];
    return NULL;
}

int gl_store_task_state(gl_store *s, const char *id, char *state, size_t n,
                        struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step, rc = GL_OK;

    if (sqlite3_prepare_v2(s->db, "SELECT state FROM tasks WHERE id = ?", -1,
                           &st, NULL) != SQLITE_OK)
        return db_err(s, err, "cannot read a task");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        snprintf(state, n, "%s", col_text(st, 0));
    else if (step == SQLITE_DONE)
        rc = gl_err_set(err, GL_ENOTFOUND, "the run has no task '%s'", id);
    else
        rc = db_err(s, err, "cannot read a task");
    sqlite3_finalize(st);
    return rc;
}

int gl_store_task_set(gl_store *s, const char *id, const char *state,
                      int64_t seq, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    char at[40];
    int rc = GL_OK;

    snprintf(at, sizeof(at), "%s", gl_store_event_at(s));
    if (sqlite3_prepare_v2(
            s->db,
            "UPDATE tasks SET state = ?1, event_seq = ?2,"
            " started_at = CASE WHEN ?1 = 'running' THEN ?3"
            "  WHEN ?1 = 'pending' THEN NULL ELSE started_at END,"
            " finished_at = CASE WHEN ?1 IN ('done', 'failed', 'skipped')"
            "  THEN ?3 WHEN ?1 IN ('pending', 'running') THEN NULL"
            "  ELSE finished_at END,"
            " checked_at = CASE WHEN ?1 = 'checked' THEN ?3 ELSE NULL END,"
            " pid = CASE WHEN ?1 IN ('running', 'pending') THEN NULL"
            "  ELSE pid END,"
            " host = CASE WHEN ?1 IN ('running', 'pending') THEN NULL"
            "  ELSE host END,"
            " pgid = CASE WHEN ?1 IN ('running', 'pending') THEN NULL"
            "  ELSE pgid END"
            " WHERE id = ?4",
            -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "cannot update a task");
    sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_text(st, 3, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(s->db) != 1)
        rc = db_err(s, err, "cannot update a task");
    sqlite3_finalize(st);
    return rc;
}

struct sqlite3 *gl_store_db(gl_store *s)
{
    return s->db;
}

/* ---- backup ----------------------------------------------------------- */

int gl_store_backup(gl_store *s, const char *dest, int64_t *events,
                    struct gl_err *err)
{
    sqlite3 *d = NULL;
    sqlite3_backup *b = NULL;
    gl_store *copy = NULL;
    int fd, rc = GL_OK, step;

    *events = 0;
    /* a new file, the owner's only, never one that exists */
    fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return gl_err_set(err, errno == EEXIST ? GL_EUSAGE : GL_EIO,
                          errno == EEXIST
                              ? "'%s' exists; name a new file for the copy"
                              : "cannot create '%s': %s",
                          dest, strerror(errno));
    close(fd);
    if (sqlite3_open_v2(dest, &d, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rc = gl_err_set(err, GL_EIO, "cannot open '%s': %s", dest,
                        d ? sqlite3_errmsg(d) : "out of memory");
        goto out;
    }
    /* one step copies every page inside one read transaction: a snapshot
     * of the store at one event, while writers go on (WAL) */
    if (!(b = sqlite3_backup_init(d, "main", s->db, "main"))) {
        rc = gl_err_set(err, GL_EIO, "cannot copy state store '%s' to '%s': %s",
                        s->path, dest, sqlite3_errmsg(d));
        goto out;
    }
    while ((step = sqlite3_backup_step(b, -1)) == SQLITE_BUSY ||
           step == SQLITE_LOCKED)
        sqlite3_sleep(50);
    if (step != SQLITE_DONE) {
        rc = gl_err_set(err, GL_EIO, "cannot copy state store '%s' to '%s': %s",
                        s->path, dest, sqlite3_errstr(step));
        goto out;
    }
    sqlite3_backup_finish(b);
    b = NULL;
    if (sqlite3_close(d) != SQLITE_OK) {
        rc = gl_err_set(err, GL_EIO, "cannot write '%s'", dest);
        d = NULL;
        goto out;
    }
    d = NULL;
    /* the copy must open and verify on its own */
    if ((rc = gl_store_open(dest, 0, &copy, err)) ||
        (rc = gl_store_verify(copy, events, err)))
        goto out;
out:
    if (b)
        sqlite3_backup_finish(b);
    sqlite3_close(d);
    gl_store_close(copy);
    if (rc) {
        char side[4200];
        unlink(dest);
        snprintf(side, sizeof(side), "%s-wal", dest);
        unlink(side);
        snprintf(side, sizeof(side), "%s-shm", dest);
        unlink(side);
    }
    return rc;
}
