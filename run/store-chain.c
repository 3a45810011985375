/*
 * store-chain.c - the state store's hash-chained event log: appending an
 * event and checking the chain (and the records made with it).
 *
 * Event hash (version 1): SHA-256 over the bytes "golive-event-v1\n"
 * followed by each field as "<decimal length>:<bytes>\n", in this order:
 * seq, at, actor, os_user, kind, payload, prev_hash.  Length prefixes make
 * the encoding unambiguous whatever the fields contain.  (An event written
 * while GOLIVE_NOW replaces the clock has "golive_now": true in its
 * payload, hashed with it; the format is unchanged.)
 *
 * Every table but events (and audit_cache) is a projection of the events;
 * run/store-replay.c rebuilds them for `audit verify`.
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
    if (gl_store_stmt(s,
                      "SELECT seq, hash FROM events ORDER BY seq DESC "
                      "LIMIT 1",
                      &st) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot read the event log");
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *h = sqlite3_column_text(st, 1);
        seq = sqlite3_column_int64(st, 0) + 1;
        snprintf(prev, sizeof(prev), "%s", h ? (const char *)h : "");
    } else if (rc != SQLITE_DONE) {
        gl_store_stmt_done(s, st);
        return gl_store_db_err(s, err, "cannot read the event log");
    }
    gl_store_stmt_done(s, st);
    st = NULL;

    gl_clock_now_iso(at);
    if ((rc = mark_clock(&payload, &marked, err)))
        return rc;
    if (event_hash(seq, at, who->person, who->os_user, kind, payload,
                   strlen(payload), prev, hash)) {
        free(marked);
        return gl_err_set(err, GL_EINTERNAL, "cannot compute SHA-256");
    }
    if (gl_store_stmt(s,
                      "INSERT INTO events (seq, at, actor, os_user, kind,"
                      " payload, prev_hash, hash) VALUES (?,?,?,?,?,?,?,"
                      "?)",
                      &st) != SQLITE_OK) {
        free(marked);
        return gl_store_db_err(s, err, "cannot append an event");
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
    gl_store_stmt_done(s, st);
    free(marked);
    if (rc != SQLITE_DONE)
        return gl_store_db_err(s, err, "cannot append an event");
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
        gl_clock_now_iso(s->event_at);
    return s->event_at;
}

void gl_store_set_event_at(gl_store *s, const char *at)
{
    snprintf(s->event_at, sizeof(s->event_at), "%s", at);
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
        return gl_store_db_err(s, err, "cannot read the run");
    if (sqlite3_step(st) != SQLITE_ROW)
        goto out; /* no run yet */
    if (sqlite3_column_type(st, 3) == SQLITE_NULL) {
        rc = gl_err_set(err, GL_ECORRUPT,
                        "the run has no 'run.start' event; the event log "
                        "was cut");
        goto out;
    }
    j = json_loads(gl_store_col_text(st, 4), 0, &je);
    if (!j ||
        strcmp(json_string_value(json_object_get(j, "run_id"))
                   ? json_string_value(json_object_get(j, "run_id"))
                   : "",
               gl_store_col_text(st, 0)) ||
        strcmp(json_string_value(json_object_get(j, "cutover"))
                   ? json_string_value(json_object_get(j, "cutover"))
                   : "",
               gl_store_col_text(st, 1)) ||
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
        return gl_store_db_err(s, err, "cannot read plan versions");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char hex[GL_SHA256_HEX];
        const char *text = gl_store_col_text(st, 2),
                   *payload = gl_store_col_text(st, 3);
        json_t *j;
        json_error_t je;
        int ok;

        if (gl_sha256_hex(text, (size_t)sqlite3_column_bytes(st, 2), hex)) {
            rc = gl_err_set(err, GL_EINTERNAL, "cannot compute SHA-256");
            break;
        }
        if (strcmp(hex, gl_store_col_text(st, 1))) {
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
        rc = gl_store_db_err(s, err, "cannot read plan versions");
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
    if (gl_store_stmt(s,
                      "SELECT seq, at, actor, os_user, kind, payload,"
                      " prev_hash, hash FROM events WHERE seq > ?"
                      " ORDER BY seq",
                      &st) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot read the event log");
    sqlite3_bind_int64(st, 1, from);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        const char *kind = gl_store_col_text(st, 4);

        if (seq != expect) {
            rc = gl_err_set(err, GL_ECORRUPT,
                            "event %" PRId64 " is missing (the next one is "
                            "%" PRId64 "); the log was cut",
                            expect, seq);
            goto out;
        }
        if (strcmp(gl_store_col_text(st, 6), prev)) {
            rc = gl_err_set(err, GL_ECORRUPT,
                            "event %" PRId64 " (%s) does not chain to event "
                            "%" PRId64 ": its previous hash differs",
                            seq, kind, seq - 1);
            goto out;
        }
        if (event_hash(seq, gl_store_col_text(st, 1), gl_store_col_text(st, 2),
                       gl_store_col_text(st, 3), kind, gl_store_col_text(st, 5),
                       (size_t)sqlite3_column_bytes(st, 5), prev, hash)) {
            rc = gl_err_set(err, GL_EINTERNAL, "cannot compute SHA-256");
            goto out;
        }
        if (strcmp(hash, gl_store_col_text(st, 7))) {
            rc = gl_err_set(err, GL_ECORRUPT,
                            "event %" PRId64 " (%s, %s by %s) does not match "
                            "its hash: it was changed after it was written",
                            seq, kind, gl_store_col_text(st, 1),
                            gl_store_col_text(st, 2));
            goto out;
        }
        memcpy(prev, hash, sizeof(prev));
        *last = seq;
        memcpy(last_hash, hash, GL_SHA256_HEX);
        expect++;
    }
    if (step != SQLITE_DONE)
        rc = gl_store_db_err(s, err, "cannot read the event log");
out:
    gl_store_stmt_done(s, st);
    return rc;
}

int gl_store_event_hash(gl_store *s, int64_t seq, char hash[GL_SHA256_HEX],
                        struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (gl_store_stmt(s, "SELECT hash FROM events WHERE seq = ?", &st) !=
        SQLITE_OK)
        return gl_store_db_err(s, err, "cannot read the event log");
    sqlite3_bind_int64(st, 1, seq);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        snprintf(hash, GL_SHA256_HEX, "%s", gl_store_col_text(st, 0));
    gl_store_stmt_done(s, st);
    if (step == SQLITE_DONE)
        return gl_err_set(err, GL_ENOTFOUND, "no event %" PRId64, seq);
    return step == SQLITE_ROW
               ? GL_OK
               : gl_store_db_err(s, err, "cannot read the event log");
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
    if ((rc = gl_store_exec(s, "BEGIN", err)))
        return rc;
    rc = gl_store_verify_in(s, events, err);
    gl_store_rollback(s);
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
