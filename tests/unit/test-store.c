/*
 * test-store.c - the state store: migrations, the event chain and what
 * `audit verify` catches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "golive/audit.h"
#include "golive/store.h"
#include "run/store-internal.h"
#include "run/store-rows.h"
#include "run/transition.h"

static char path[256];

static int setup(void **state)
{
    char dir[] = "/tmp/golive-test-store-XXXXXX";

    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/s.state", dir);
    return 0;
}

static int teardown(void **state)
{
    char buf[300];

    (void)state;
    snprintf(buf, sizeof(buf), "%s-wal", path);
    unlink(buf);
    snprintf(buf, sizeof(buf), "%s-shm", path);
    unlink(buf);
    unlink(path);
    *strrchr(path, '/') = '\0';
    rmdir(path);
    return 0;
}

static const struct gl_actor who = {"ann", "root"};

static gl_store *open_with_events(int n)
{
    struct gl_err err;
    gl_store *s = NULL;
    char payload[64];
    int i;

    assert_int_equal(gl_store_open(path, GL_STORE_CREATE, &s, &err), GL_OK);
    assert_int_equal(gl_store_schema(s), GL_STORE_SCHEMA);
    for (i = 1; i <= n; i++) {
        int64_t seq;
        snprintf(payload, sizeof(payload), "{\"n\":%d}", i);
        assert_int_equal(gl_store_begin(s, &err), GL_OK);
        assert_int_equal(
            gl_store_event(s, &who, "test.event", payload, &seq, &err), GL_OK);
        assert_int_equal(seq, i);
        assert_int_equal(gl_store_commit(s, &err), GL_OK);
    }
    return s;
}

static void raw(const char *sql)
{
    sqlite3 *db;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void chain_verifies(void **state)
{
    struct gl_err err;
    gl_store *s = open_with_events(50);
    int64_t n;

    (void)state;
    assert_int_equal(gl_store_verify(s, &n, &err), GL_OK);
    assert_int_equal(n, 50);
    gl_store_close(s);
    /* reopening migrates nothing and still verifies */
    assert_int_equal(gl_store_open(path, 0, &s, &err), GL_OK);
    assert_int_equal(gl_store_verify(s, &n, &err), GL_OK);
    assert_int_equal(n, 50);
    gl_store_close(s);
}

static void edited_payload_is_named(void **state)
{
    struct gl_err err;
    gl_store *s = open_with_events(20);
    int64_t n;

    (void)state;
    gl_store_close(s);
    raw("UPDATE events SET payload = '{\"n\":99}' WHERE seq = 13");
    assert_int_equal(gl_store_open(path, 0, &s, &err), GL_OK);
    assert_int_equal(gl_store_verify(s, &n, &err), GL_ECORRUPT);
    assert_non_null(strstr(err.msg, "event 13 "));
    gl_store_close(s);
}

static void rehashed_event_breaks_the_next_link(void **state)
{
    struct gl_err err;
    gl_store *s = open_with_events(5);
    int64_t n;

    (void)state;
    gl_store_close(s);
    /* someone edits event 3 and writes a plausible new hash for it: event
     * 4 still names the old one */
    raw("UPDATE events SET hash = 'f00d' WHERE seq = 3");
    assert_int_equal(gl_store_open(path, 0, &s, &err), GL_OK);
    assert_int_equal(gl_store_verify(s, &n, &err), GL_ECORRUPT);
    assert_non_null(strstr(err.msg, "event 3 "));
    gl_store_close(s);
}

static void deleted_event_is_found(void **state)
{
    struct gl_err err;
    gl_store *s = open_with_events(5);
    int64_t n;

    (void)state;
    gl_store_close(s);
    raw("DELETE FROM events WHERE seq = 2");
    assert_int_equal(gl_store_open(path, 0, &s, &err), GL_OK);
    assert_int_equal(gl_store_verify(s, &n, &err), GL_ECORRUPT);
    assert_non_null(strstr(err.msg, "event 2 is missing"));
    gl_store_close(s);
}

static void events_need_a_transaction(void **state)
{
    struct gl_err err;
    gl_store *s = open_with_events(0);

    (void)state;
    assert_int_equal(gl_store_event(s, &who, "x", "{}", NULL, &err),
                     GL_EINTERNAL);
    gl_store_close(s);
}

static void rollback_leaves_no_event(void **state)
{
    struct gl_err err;
    gl_store *s = open_with_events(3);
    int64_t n;

    (void)state;
    assert_int_equal(gl_store_begin(s, &err), GL_OK);
    assert_int_equal(gl_store_event(s, &who, "x", "{}", NULL, &err), GL_OK);
    gl_store_rollback(s);
    assert_int_equal(gl_store_verify(s, &n, &err), GL_OK);
    assert_int_equal(n, 3);
    gl_store_close(s);
}

/* An event of a kind the replay does not know makes the audit fail: a
 * new kind must come with its projection (run/store-replay.c). */
static void unknown_kind_has_no_projection(void **state)
{
    struct gl_err err;
    struct gl_audit a;
    gl_store *s = open_with_events(3);

    (void)state;
    gl_err_clear(&err);
    assert_int_equal(gl_audit_verify(s, NULL, &a, &err), GL_ECORRUPT);
    assert_non_null(strstr(err.msg, "event 1 is of kind 'test.event', which "
                                    "has no projection"));
    assert_int_equal(a.events, 3);
    assert_int_equal(a.head.seq, 3);
    gl_audit_release(&a);
    gl_store_close(s);
}

/* The chain from a known event on, as status checks it. */
static void chain_since_an_event(void **state)
{
    struct gl_err err;
    char h2[GL_STORE_HASH_HEX], last_hash[GL_STORE_HASH_HEX];
    struct gl_audit_head head;
    gl_store *s = open_with_events(5);
    int64_t last;

    (void)state;
    assert_int_equal(gl_store_event_hash(s, 2, h2, &err), GL_OK);
    assert_int_equal(gl_store_chain(s, 2, h2, &last, last_hash, &err), GL_OK);
    assert_int_equal(last, 5);
    assert_int_equal(gl_audit_head(s, &head, &err), GL_OK);
    assert_int_equal(head.seq, 5);
    assert_string_equal(head.hash, last_hash);
    assert_int_equal(gl_store_event_hash(s, 9, h2, &err), GL_ENOTFOUND);
    /* a wrong starting hash: event 3 does not chain to it */
    assert_int_equal(
        gl_store_chain(s, 2, GL_HASH_GENESIS, &last, last_hash, &err),
        GL_ECORRUPT);
    assert_non_null(strstr(err.msg, "event 3 "));
    gl_store_close(s);
}

static void head_parse(void **state)
{
    struct gl_audit_head h;
    char text[100];

    (void)state;
    snprintf(text, sizeof(text), "12:%s", GL_HASH_GENESIS);
    assert_int_equal(gl_audit_head_parse(text, &h), 0);
    assert_int_equal(h.seq, 12);
    assert_string_equal(h.hash, GL_HASH_GENESIS);
    assert_int_equal(gl_audit_head_parse("3:0123456789abcdef", &h), 0);
    assert_int_equal(gl_audit_head_parse("3:0123456789abcde", &h), -1);
    assert_int_equal(gl_audit_head_parse("3:0123456789ABCDEF", &h), -1);
    assert_int_equal(gl_audit_head_parse("0:0123456789abcdef", &h), -1);
    assert_int_equal(gl_audit_head_parse("x:0123456789abcdef", &h), -1);
    assert_int_equal(gl_audit_head_parse("13", &h), -1);
}

static void missing_store_is_not_created(void **state)
{
    struct gl_err err;
    gl_store *s = NULL;

    (void)state;
    assert_int_equal(gl_store_open(path, 0, &s, &err), GL_ENOTFOUND);
    assert_null(s);
    assert_int_equal(access(path, F_OK), -1);
}

/* A sync execution: sync.start makes its row 'running' with no end;
 * sync.run completes that row (not a second one); an end without an
 * execution id adds a row (#10.4). */
static void sync_execution_from_start_to_end(void **state)
{
    struct gl_err err;
    gl_store *s = open_with_events(0);
    struct gl_sync_record r;
    sqlite3_stmt *st = NULL;

    (void)state;
    memset(&r, 0, sizeof(r));
    r.job = "j";
    r.mode = "load";
    r.execution = "20260314T000000.000001Z-42";
    r.started = 1773446400;
    r.pid = 42;
    r.host = "here";
    assert_int_equal(gl_store_sync_start(s, &who, &r, &err), GL_OK);
    assert_int_equal(sqlite3_prepare_v2(gl_store_db(s),
                                        "SELECT outcome, ended_at IS NULL,"
                                        " pid, host FROM sync_runs",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "running");
    assert_int_equal(sqlite3_column_int(st, 1), 1);
    assert_int_equal(sqlite3_column_int(st, 2), 42);
    sqlite3_finalize(st);

    r.ended = r.started + 5;
    r.read = r.written = 7;
    r.outcome = "interrupted";
    assert_int_equal(gl_store_record_sync(s, &who, &r, &err), GL_OK);
    r.execution = NULL;
    r.outcome = NULL;
    assert_int_equal(gl_store_record_sync(s, &who, &r, &err), GL_OK);
    assert_int_equal(sqlite3_prepare_v2(gl_store_db(s),
                                        "SELECT outcome, ended_at,"
                                        " rows_written FROM sync_runs"
                                        " ORDER BY id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0),
                        "interrupted");
    assert_string_equal((const char *)sqlite3_column_text(st, 1),
                        "2026-03-14T00:00:05Z");
    assert_int_equal(sqlite3_column_int(st, 2), 7);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    gl_store_close(s);
}

/* An actions list's entries: allowed, or not with the refusal's reason
 * and the API's code for it (who: forbidden, when: conflict); any other
 * code is the caller's error, and adds nothing. */
static void action_entries(void **state)
{
    struct gl_err err;
    json_t *list = json_array(), *a;

    (void)state;
    assert_string_equal(gl_code_name(GL_EDENIED), "denied");
    assert_string_equal(gl_code_name(GL_EREFUSED), "refused");
    gl_err_clear(&err);
    assert_int_equal(gl_action_add(list, "start", GL_OK, &err), GL_OK);
    gl_err_set(&err, GL_EDENIED,
               "only the checker of task 't' (bob) signs it "
               "off");
    assert_int_equal(gl_action_add(list, "check", GL_EDENIED, &err), GL_OK);
    gl_err_set(&err, GL_EREFUSED,
               "task 't' is pending; only a running task "
               "is done");
    assert_int_equal(gl_action_add(list, "done", GL_EREFUSED, &err), GL_OK);
    gl_err_set(&err, GL_ESTORE, "disk I/O error");
    assert_int_equal(gl_action_add(list, "fail", GL_ESTORE, &err), GL_ESTORE);
    assert_int_equal(json_array_size(list), 3);
    a = json_array_get(list, 0);
    assert_int_equal(json_object_size(a), 2);
    assert_true(json_is_true(json_object_get(a, "allowed")));
    a = json_array_get(list, 1);
    assert_string_equal(json_string_value(json_object_get(a, "action")),
                        "check");
    assert_true(json_is_false(json_object_get(a, "allowed")));
    assert_string_equal(json_string_value(json_object_get(a, "code")),
                        "forbidden");
    assert_string_equal(json_string_value(json_object_get(a, "reason")),
                        "only the checker of task 't' (bob) signs it off");
    a = json_array_get(list, 2);
    assert_string_equal(json_string_value(json_object_get(a, "code")),
                        "conflict");
    json_decref(list);
}

/* The state machines' tables decide the moves and the store's SQL state
 * lists alike: a row changed in the table changes both. */
static void transition_tables(void **state)
{
    const struct gl_transition *r;
    struct gl_err err = {0};
    char buf[128];

    (void)state;
    r = gl_transition_find(gl_task_moves, "start", "ready");
    assert_non_null(r);
    assert_string_equal(r->to, "running");
    assert_null(gl_transition_find(gl_task_moves, "start", "running"));
    assert_null(gl_transition_find(gl_task_moves, "reopen", "pending"));
    r = gl_transition_find(gl_task_moves, "reopen", "checked");
    assert_non_null(r);
    assert_false(r->may & GL_MAY_OWNER);
    assert_true(gl_transition_may(gl_task_moves, "reopen") & GL_MAY_OWNER);
    assert_null(gl_transition_find(gl_defect_moves, "defer", "verified"));
    assert_non_null(gl_transition_find(gl_scenario_moves, "pass", "running"));
    /* the names the store's SQL binds where it selects by state */
    assert_string_equal(gl_transition_from(gl_scenario_moves, "take"),
                        "pending");
    assert_string_equal(gl_transition_to(gl_scenario_moves, "take"), "running");
    assert_string_equal(gl_transition_to(gl_scenario_moves, "block"),
                        "blocked");
    assert_string_equal(gl_transition_to(gl_defect_moves, "fixing"), "fixing");
    assert_string_equal(gl_transition_to(gl_defect_moves, "verify"),
                        "verified");
    assert_string_equal(gl_transition_to(gl_defect_moves, "defer"), "deferred");
    assert_null(gl_transition_from(gl_task_moves, "nothing"));

    assert_int_equal(
        gl_store_sql_states(gl_task_moves, "start", 1, buf, sizeof(buf), &err),
        GL_OK);
    assert_string_equal(buf, "('pending', 'ready')");
    assert_int_equal(gl_store_sql_states(gl_task_moves, "done fail skip", 0,
                                         buf, sizeof(buf), &err),
                     GL_OK);
    assert_string_equal(buf, "('done', 'failed', 'skipped')");
    assert_int_equal(gl_store_sql_states(gl_defect_moves, "fixing fixed", 0,
                                         buf, sizeof(buf), &err),
                     GL_OK);
    assert_string_equal(buf, "('fixing', 'fixed')");
    assert_int_equal(gl_store_sql_states(gl_scenario_moves, "take", 1, buf,
                                         sizeof(buf), &err),
                     GL_OK);
    assert_string_equal(buf, "('pending')");
    assert_int_equal(gl_store_sql_states(gl_task_moves, "nothing", 0, buf,
                                         sizeof(buf), &err),
                     GL_OK);
    assert_string_equal(buf, "(NULL)");
    assert_int_equal(
        gl_store_sql_states(gl_task_moves, "skip", 1, buf, 8, &err),
        GL_EINTERNAL);
}

/* A statement kept for the connection: the same one each time it is
 * given back, reset (no row held, no read transaction left open), one of
 * its own when asked for while in use, and not a literal's text after
 * all (the same address, other text) never taken for the kept one. */
static void kept_statements(void **state)
{
    static const char sql[] = "SELECT seq FROM events ORDER BY seq";
    char other[64];
    gl_store *s = open_with_events(3);
    sqlite3_stmt *a, *b, *c;

    (void)state;
    assert_int_equal(gl_store_stmt(s, sql, &a), SQLITE_OK);
    assert_int_equal(sqlite3_step(a), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(a, 0), 1);
    /* nested: its own statement, from the first row again */
    assert_int_equal(gl_store_stmt(s, sql, &b), SQLITE_OK);
    assert_ptr_not_equal(a, b);
    assert_int_equal(sqlite3_step(b), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(b, 0), 1);
    gl_store_stmt_done(s, b); /* finalized: not the kept one */
    assert_int_equal(sqlite3_step(a), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(a, 0), 2);
    gl_store_stmt_done(s, a);
    /* given back reset: no statement of the connection is running */
    for (b = sqlite3_next_stmt(gl_store_db(s), NULL); b;
         b = sqlite3_next_stmt(gl_store_db(s), b))
        assert_false(sqlite3_stmt_busy(b));
    assert_int_equal(gl_store_stmt(s, sql, &c), SQLITE_OK);
    assert_ptr_equal(a, c);
    assert_int_equal(sqlite3_step(c), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(c, 0), 1);
    gl_store_stmt_done(s, c);
    /* a buffer at one address holding two texts: the second is its own */
    snprintf(other, sizeof(other), "SELECT 1");
    assert_int_equal(gl_store_stmt(s, other, &a), SQLITE_OK);
    gl_store_stmt_done(s, a);
    snprintf(other, sizeof(other), "SELECT 2");
    assert_int_equal(gl_store_stmt(s, other, &b), SQLITE_OK);
    assert_int_equal(sqlite3_step(b), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(b, 0), 2);
    gl_store_stmt_done(s, b);
    gl_store_close(s); /* finalizes what it kept: no leak under ASan */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(chain_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(sync_execution_from_start_to_end, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(edited_payload_is_named, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(rehashed_event_breaks_the_next_link,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(deleted_event_is_found, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(events_need_a_transaction, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(rollback_leaves_no_event, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(missing_store_is_not_created, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unknown_kind_has_no_projection, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(chain_since_an_event, setup, teardown),
        cmocka_unit_test_setup_teardown(kept_statements, setup, teardown),
        cmocka_unit_test(head_parse),
        cmocka_unit_test(transition_tables),
        cmocka_unit_test(action_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
