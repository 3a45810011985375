/*
 * test-reads.c - the reads the server's long-lived connections make
 * (golive/reads.h): the stamp that tells a connection the store changed,
 * the run record without the plan text, pages of the event log.  Real
 * store files; a second process (fork) writes as a CLI command would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "golive/reads.h"
#include "golive/runbook.h"
#include "golive/store.h"
#include "util/clock.h"

static const char plan_text[] = "cutover: t\n"
                                "switch_at: 2026-03-14T00:00:00Z\n"
                                "people:\n"
                                "  - {id: ann, roles: [lead]}\n"
                                "  - {id: bob, roles: [ops]}\n"
                                "tasks:\n"
                                "  - {id: a, stage: prepare, owner: ann, "
                                "checker: bob, at: T-2h, duration: 1h}\n";

#define T0 ((int64_t)1773446400) /* 2026-03-14T00:00:00Z */

static char dir[64], path[128];
static const struct gl_actor who = {"ann", "root"};

static int setup(void **state)
{
    struct gl_diags d;
    struct gl_err err;
    struct gl_run_info info;
    struct gl_plan *p;
    gl_store *s = NULL;

    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/golive-test-reads-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/s.state", dir);
    memset(&d, 0, sizeof(d));
    memset(&info, 0, sizeof(info));
    p = gl_plan_parse("plan.yaml", plan_text, sizeof(plan_text) - 1, &d);
    if (!p || d.n_errors)
        return -1;
    gl_diags_release(&d);
    gl_clock_set(GL_CLOCK_FIXED, T0 - 3 * 3600);
    if (gl_store_open(path, GL_STORE_CREATE, &s, &err) ||
        gl_run_start(s, p, plan_text, sizeof(plan_text) - 1, "plan.yaml", 1,
                     &who, &info, &err))
        return -1;
    gl_run_info_release(&info);
    gl_store_close(s);
    gl_plan_free(p);
    return 0;
}

static int teardown(void **state)
{
    char buf[200];

    (void)state;
    gl_clock_set(GL_CLOCK_SYSTEM, 0);
    snprintf(buf, sizeof(buf), "%s-wal", path);
    unlink(buf);
    snprintf(buf, sizeof(buf), "%s-shm", path);
    unlink(buf);
    unlink(path);
    rmdir(dir);
    return 0;
}

/* One event appended by connection s. */
static void append(gl_store *s, const char *kind)
{
    struct gl_err err;

    assert_int_equal(gl_store_begin(s, &err), GL_OK);
    assert_int_equal(gl_store_event(s, &who, kind, "{}", NULL, &err), GL_OK);
    assert_int_equal(gl_store_commit(s, &err), GL_OK);
}

static int64_t events(gl_store *s)
{
    struct gl_run_info info;
    struct gl_err err;

    memset(&info, 0, sizeof(info));
    assert_int_equal(gl_store_run_brief(s, &info, &err), GL_OK);
    return info.events;
}

/* The stamp moves with a commit of another connection, and with one of
 * its own; it stands still otherwise. */
static void test_stamp(void **state)
{
    struct gl_store_stamp a, b;
    struct gl_err err;
    gl_store *s1 = NULL, *s2 = NULL;

    (void)state;
    assert_int_equal(gl_store_open(path, 0, &s1, &err), GL_OK);
    assert_int_equal(gl_store_open(path, 0, &s2, &err), GL_OK);
    assert_int_equal(gl_store_stamp(s1, &a, &err), GL_OK);
    assert_int_equal(gl_store_stamp(s1, &b, &err), GL_OK);
    assert_true(a.data == b.data && a.own == b.own);
    append(s2, "test.other");
    assert_int_equal(gl_store_stamp(s1, &b, &err), GL_OK);
    assert_true(a.data != b.data);
    a = b;
    append(s1, "test.own");
    assert_int_equal(gl_store_stamp(s1, &b, &err), GL_OK);
    assert_true(a.own != b.own);
    gl_store_close(s2);
    gl_store_close(s1);
}

/* A process that holds the store open twice (the server's pool) keeps
 * seeing what another process commits, and the others what it writes.
 * (The e2e test_status_follows_changes_made_by_the_cli is the one that
 * caught a second open dropping the first connection's POSIX locks.) */
static void test_second_open_keeps_the_locks(void **state)
{
    struct gl_store_stamp a, b;
    struct gl_err err;
    gl_store *s1 = NULL, *s2 = NULL;
    int64_t before;
    pid_t pid;
    int status;

    (void)state;
    assert_int_equal(gl_store_open(path, 0, &s1, &err), GL_OK);
    before = events(s1);
    assert_int_equal(gl_store_stamp(s1, &a, &err), GL_OK);
    assert_int_equal(gl_store_open(path, 0, &s2, &err), GL_OK);
    assert_int_equal(events(s2), before);
    /* a CLI command: open, change, close; twice (the first close is
     * where a process that thinks it is alone checkpoints and deletes
     * the -wal) */
    for (int i = 0; i < 2; i++) {
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            gl_store *c = NULL;
            struct gl_err e2;
            if (gl_store_open(path, 0, &c, &e2) || gl_store_begin(c, &e2) ||
                gl_store_event(c, &who, "test.cli", "{}", NULL, &e2) ||
                gl_store_commit(c, &e2))
                _exit(1);
            gl_store_close(c);
            _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    assert_int_equal(gl_store_stamp(s1, &b, &err), GL_OK);
    assert_true(a.data != b.data);
    assert_int_equal(events(s1), before + 2);
    assert_int_equal(events(s2), before + 2);
    /* and what it writes is where the others read it */
    append(s1, "test.server");
    gl_store_close(s2);
    assert_int_equal(gl_store_open(path, 0, &s2, &err), GL_OK);
    assert_int_equal(events(s2), before + 3);
    gl_store_close(s2);
    gl_store_close(s1);
}

/* The record without the text is the record with it. */
static void test_brief(void **state)
{
    struct gl_run_info full, brief;
    struct gl_err err;
    gl_store *s = NULL;

    (void)state;
    memset(&full, 0, sizeof(full));
    memset(&brief, 0, sizeof(brief));
    assert_int_equal(gl_store_open(path, 0, &s, &err), GL_OK);
    assert_int_equal(gl_store_run_info(s, &full, &err), GL_OK);
    assert_int_equal(gl_store_run_brief(s, &brief, &err), GL_OK);
    assert_null(brief.plan_text);
    assert_string_equal(brief.run_id, full.run_id);
    assert_string_equal(brief.plan_sha256, full.plan_sha256);
    assert_string_equal(brief.plan_path, full.plan_path);
    assert_int_equal(brief.plan_version, full.plan_version);
    assert_int_equal(brief.switch_at, full.switch_at);
    assert_int_equal(brief.events, full.events);
    gl_run_info_release(&full);
    gl_store_close(s);
}

/* Pages of the log: after, limit, payload as JSON. */
static void test_events(void **state)
{
    struct gl_err err;
    gl_store *s = NULL;
    json_t *x = NULL, *e;
    int64_t n;

    (void)state;
    assert_int_equal(gl_store_open(path, 0, &s, &err), GL_OK);
    n = events(s);
    assert_int_equal(gl_read_events(s, 0, 1000, &x, &err), GL_OK);
    assert_int_equal(json_array_size(x), n);
    e = json_array_get(x, 0);
    assert_int_equal(json_integer_value(json_object_get(e, "seq")), 1);
    assert_string_equal(json_string_value(json_object_get(e, "kind")),
                        "run.start");
    assert_true(json_is_object(json_object_get(e, "payload")));
    assert_int_equal(strlen(json_string_value(json_object_get(e, "hash"))), 64);
    json_decref(x);
    assert_int_equal(gl_read_events(s, 1, 1, &x, &err), GL_OK);
    assert_int_equal(json_array_size(x), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(x, 0), "seq")), 2);
    json_decref(x);
    assert_int_equal(gl_read_events(s, n, 10, &x, &err), GL_OK);
    assert_int_equal(json_array_size(x), 0);
    json_decref(x);
    gl_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stamp),
        cmocka_unit_test(test_second_open_keeps_the_locks),
        cmocka_unit_test(test_brief),
        cmocka_unit_test(test_events),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
