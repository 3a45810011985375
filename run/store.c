/*
 * store.c - the state store (see golive/store.h): opening a store file (or
 * an empty one in memory for the replay), transactions, and the online
 * backup.  The other parts of the store are in run/store-*.c:
 * store-migrate.c (the schema), store-chain.c (the event chain and its
 * check), store-run.c (the run record and the plan versions),
 * store-task.c (task state), store-sync.c (sync executions) and
 * store-replay.c (the audit replay); run/store-internal.h is what they
 * share.
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

#include "run/common.h"
#include "run/store-internal.h"
#include "run/store-rows.h"

int gl_store_db_err(gl_store *s, struct gl_err *err, const char *what)
{
    return gl_err_set(err, GL_ESTORE, "%s in state store '%s': %s", what,
                      s->path, sqlite3_errmsg(s->db));
}

int gl_store_exec(gl_store *s, const char *sql, struct gl_err *err)
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
int64_t gl_store_query_int(gl_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
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

/* The first bytes of the file at path (up to sizeof h[100]) into h, *n
 * how many.  Read through SQLite's file layer, never with open() and
 * close(): closing any descriptor of a file drops every POSIX lock the
 * process holds on it, and a process that already has the store open (the
 * server's pool of connections) would lose the shared lock that keeps a
 * CLI process from deleting the -wal under it.  SQLite keeps such a
 * descriptor open while its other connections hold locks.  immutable: no
 * lock is taken and no file made beside it. */
static int read_header(const char *path, unsigned char h[100], ssize_t *n,
                       struct gl_err *err)
{
    char *uri = file_uri(path, "?immutable=1");
    sqlite3 *db = NULL;
    sqlite3_file *f = NULL;
    sqlite3_int64 size = 0;
    int rc = GL_OK;

    *n = 0;
    if (!uri)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                        NULL) != SQLITE_OK ||
        sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f) !=
            SQLITE_OK ||
        !f || !f->pMethods || f->pMethods->xFileSize(f, &size) != SQLITE_OK ||
        (size > 0 && f->pMethods->xRead(f, h, size < 100 ? (int)size : 100,
                                        0) != SQLITE_OK))
        rc = gl_err_set(err, GL_EIO, "cannot open state store '%s': %s", path,
                        db ? sqlite3_errmsg(db) : "out of memory");
    else
        *n = size < 100 ? (ssize_t)size : 100;
    sqlite3_close(db);
    free(uri);
    return rc;
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
    int rc, ok = 0, empty = 0;

    if ((rc = read_header(path, h, &n, err)))
        return rc;
    if (n == 0) /* only 'run start' makes a store of an empty file */
        return create ? GL_OK : no_run(path, err);
    if (n != (ssize_t)sizeof(h) || memcmp(h, "SQLite format 3", 16))
        return not_ours(path, err);
    app = (uint32_t)h[68] << 24 | (uint32_t)h[69] << 16 | (uint32_t)h[70] << 8 |
          (uint32_t)h[71];
    if (app == GL_STORE_APPLICATION_ID)
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
        ok = sqlite3_column_int64(st, 0) == GL_STORE_APPLICATION_ID;
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
    s->read_only = (flags & GL_STORE_READ) != 0;
    s->as_is = (flags & GL_STORE_AS_IS) != 0;
    if (sqlite3_open_v2(path, &s->db, oflags, NULL) != SQLITE_OK) {
        rc = gl_store_db_err(s, err, "cannot open");
        goto fail;
    }
    /* no trigger or view planted in the store runs: golive's migrations
     * make none, and the audit names any it finds */
    if (sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL) !=
            SQLITE_OK ||
        sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL) !=
            SQLITE_OK) {
        rc = gl_store_db_err(s, err, "cannot open");
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
        rc = gl_store_db_err(s, err, "cannot switch to WAL mode");
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
    if ((rc = gl_store_exec(
             s, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON", err)))
        goto fail;
    if ((rc = gl_store_migrate(s, err)))
        goto fail;
    *out = s;
    return GL_OK;
fail:
    sqlite3_finalize(st);
    gl_store_close(s);
    return rc;
}

int gl_store_stmt(gl_store *s, const char *sql, sqlite3_stmt **st)
{
    struct gl_store_kept *k;
    unsigned i;
    int rc;

    *st = NULL;
    for (i = 0; i < s->n_kept; i++) {
        k = &s->kept[i];
        if (k->sql != sql)
            continue;
        /* nested, or not a literal after all: one of its own */
        if (k->busy || strcmp(sqlite3_sql(k->st), sql))
            break;
        k->busy = 1;
        *st = k->st;
        return SQLITE_OK;
    }
    if (i < s->n_kept || s->n_kept == GL_STORE_KEPT)
        return sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    if ((rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
                                 NULL)) != SQLITE_OK)
        return rc;
    k = &s->kept[s->n_kept++];
    k->sql = sql;
    k->st = *st;
    k->busy = 1;
    return SQLITE_OK;
}

void gl_store_stmt_done(gl_store *s, sqlite3_stmt *st)
{
    unsigned i;

    if (!st)
        return;
    for (i = 0; i < s->n_kept; i++)
        if (s->kept[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            s->kept[i].busy = 0;
            return;
        }
    sqlite3_finalize(st);
}

void gl_store_close(gl_store *s)
{
    unsigned i;

    if (!s)
        return;
    for (i = 0; i < s->n_kept; i++)
        sqlite3_finalize(s->kept[i].st);
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

int gl_store_schema(gl_store *s)
{
    return (int)gl_store_query_int(s, "PRAGMA user_version");
}

int gl_store_schema_before(gl_store *s)
{
    return s->schema_before;
}

int gl_store_begin(gl_store *s, struct gl_err *err)
{
    return gl_store_exec(s, "BEGIN IMMEDIATE", err);
}

int gl_store_begin_read(gl_store *s, struct gl_err *err)
{
    return gl_store_exec(s, "BEGIN", err);
}

int gl_store_commit(gl_store *s, struct gl_err *err)
{
    int rc = gl_store_exec(s, "COMMIT", err);

    if (rc)
        gl_store_rollback(s);
    return rc;
}

void gl_store_rollback(gl_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

const char *gl_store_col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    return t ? (const char *)t : "";
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
        rc = gl_store_db_err(s, err, "cannot open");
        gl_store_close(s);
        return rc;
    }
    if ((rc = gl_store_migrate(s, err))) {
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
    /* the copy must open and verify on its own, at the schema it has */
    if ((rc = gl_store_open(dest, GL_STORE_AS_IS, &copy, err)) ||
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

/* Whether word is one of the space-separated words of list. */
static int in_list(const char *list, const char *word)
{
    size_t n = strlen(word);
    const char *p = list;

    while ((p = strstr(p, word))) {
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
            return 1;
        p += n;
    }
    return 0;
}

int gl_store_sql_states(const struct gl_transition *t, const char *actions,
                        int from_side, char *buf, size_t n, struct gl_err *err)
{
    const struct gl_transition *r, *q;
    size_t len = 0;
    int k;

    for (r = t; r->action; r++) {
        const char *st = from_side ? r->from : r->to;
        if (!st || !in_list(actions, r->action))
            continue;
        for (q = t; q < r; q++) /* each state once */
            if (in_list(actions, q->action) && (from_side ? q->from : q->to) &&
                !strcmp(from_side ? q->from : q->to, st))
                break;
        if (q < r)
            continue;
        /* state names are the tables' own words, never input: no quote */
        if (strchr(st, '\''))
            return gl_err_set(err, GL_EINTERNAL, "bad state name '%s'", st);
        k = snprintf(buf + len, n - len, "%s'%s'", len ? ", " : "(", st);
        if (k < 0 || (size_t)k >= n - len)
            return gl_err_set(err, GL_EINTERNAL, "state list too long");
        len += (size_t)k;
    }
    k = snprintf(buf + len, n - len, "%s", len ? ")" : "(NULL)");
    if (k < 0 || (size_t)k >= n - len)
        return gl_err_set(err, GL_EINTERNAL, "state list too long");
    return GL_OK;
}

/* ---- for the run's modules (run/common.h) -------------------------- */

int gl_run_fail_db(gl_store *s, struct gl_err *err)
{
    return gl_err_set(err, GL_ESTORE, "state store: %s", sqlite3_errmsg(s->db));
}

static void sql_pid_gone(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const unsigned char *host = sqlite3_value_text(argv[1]);

    (void)argc;
    sqlite3_result_int(ctx, gl_run_pid_gone(sqlite3_value_int64(argv[0]),
                                            host ? (const char *)host : ""));
}

int gl_run_sql_functions(gl_store *s, struct gl_err *err)
{
    if (sqlite3_create_function(s->db, "golive_pid_gone", 2, SQLITE_UTF8, NULL,
                                sql_pid_gone, NULL, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    return GL_OK;
}
