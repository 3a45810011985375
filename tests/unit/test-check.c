/*
 * test-check.c - a plan's check of type diff in key-range segments
 * (gl_check_run with jobs > 1, through gl_diff_run_jobs) finds what one
 * stream finds: the same missing, extra and changed rows, rows with a
 * NULL key once, samples no more than asked.  Real SQLite files.
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
#include <sqlite3.h>

#include "golive/check.h"
#include "golive/diag.h"
#include "golive/plan.h"
#include "golive/recon.h"

static char dir[64];

static void exec_sql(const char *file, const char *sql)
{
    char path[256];
    sqlite3 *db = NULL;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* old.src: 2000 rows; new.tgt: the same mapped, but for 7 differences
 * spread over the key range (segments cut it) */
static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/golive-test-check-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    exec_sql("old.db",
             "CREATE TABLE src (sid INTEGER PRIMARY KEY, name TEXT, code TEXT);"
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
             " WHERE i < 2000) INSERT INTO src SELECT i, 'n' || i,"
             " CASE i % 2 WHEN 0 THEN 'A' ELSE 'D' END FROM n;");
    exec_sql("new.db", "CREATE TABLE tgt (id INTEGER PRIMARY KEY, label TEXT,"
                       " status TEXT);");
    {
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "ATTACH '%s/old.db' AS o; INSERT INTO tgt SELECT sid, name,"
                 " CASE code WHEN 'A' THEN 'active' ELSE 'done' END FROM"
                 " o.src; DETACH o;"
                 "DELETE FROM tgt WHERE id IN (3, 999, 1998);"
                 "INSERT INTO tgt VALUES (2001, 'x', 'done');"
                 "UPDATE tgt SET label = 'changed' WHERE id IN (10, 1000);"
                 "UPDATE tgt SET status = 'active' WHERE id = 1501;",
                 dir);
        exec_sql("new.db", sql);
    }
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char plan_text[] =
    "cutover: check-unit\n"
    "switch_at: 2026-03-14T00:00:00+08:00\n"
    "people:\n"
    "  - {id: ann, roles: [data]}\n"
    "  - {id: bob, roles: [tester]}\n"
    "systems:\n"
    "  old: sqlite:old.db\n"
    "  new: sqlite:new.db\n"
    "sync:\n"
    "  - id: j\n"
    "    from: old.src\n"
    "    to: new.tgt\n"
    "    key: [id]\n"
    "    columns:\n"
    "      id: sid\n"
    "      label: name\n"
    "      status: {from: code, map: {A: active, D: done}}\n"
    "    owner: ann\n"
    "    checker: bob\n"
    "checks:\n"
    "  - {id: c-rows, type: diff, job: j}\n"
    "  - {id: c-count, type: count, job: j}\n";

static struct gl_plan *load(void)
{
    char file[128];
    struct gl_diags d;
    struct gl_plan *p;

    memset(&d, 0, sizeof(d));
    snprintf(file, sizeof(file), "%s/plan.yaml", dir);
    d.file = file;
    p = gl_plan_parse(file, plan_text, sizeof(plan_text) - 1, &d);
    assert_non_null(p);
    gl_diags_release(&d);
    return p;
}

static void run_check(const struct gl_plan *p, size_t i, int jobs,
                      struct gl_check_result *r)
{
    struct gl_err err;

    gl_err_clear(&err);
    assert_int_equal(gl_check_run(p, &p->checks[i], 5, jobs, r, &err), GL_OK);
}

static void diff_in_segments(void **state)
{
    struct gl_plan *p = load();
    struct gl_check_result one, three;
    int jobs;

    (void)state;
    run_check(p, 0, 1, &one);
    assert_false(one.passed);
    assert_int_equal(one.source, 2000);
    assert_int_equal(one.target, 1998);
    assert_int_equal(one.missing, 3);
    assert_int_equal(one.extra, 1);
    assert_int_equal(one.changed, 3);
    for (jobs = 2; jobs <= 4; jobs++) {
        run_check(p, 0, jobs, &three);
        assert_int_equal(three.source, one.source);
        assert_int_equal(three.target, one.target);
        assert_int_equal(three.missing, one.missing);
        assert_int_equal(three.extra, one.extra);
        assert_int_equal(three.changed, one.changed);
        assert_int_equal(three.nsamples, 5);
        gl_check_result_release(&three);
    }
    gl_check_result_release(&one);
    gl_plan_free(p);
}

/* a count that misses rows names them through the same segmented diff */
static void count_names_rows_in_segments(void **state)
{
    struct gl_plan *p = load();
    struct gl_check_result r;

    (void)state;
    run_check(p, 1, 3, &r);
    assert_false(r.passed);
    assert_int_equal(r.missing, 3);
    assert_int_equal(r.extra, 1);
    assert_int_equal(r.nsamples, 4);
    gl_check_result_release(&r);
    gl_plan_free(p);
}

/* the default: what golive diff takes when it streams */
static void default_jobs(void **state)
{
    (void)state;
    assert_int_equal(gl_diff_default_jobs(0), 1);
    assert_true(gl_diff_default_jobs(1) >= 1);
    assert_true(gl_diff_default_jobs(1) <= 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(diff_in_segments),
        cmocka_unit_test(count_names_rows_in_segments),
        cmocka_unit_test(default_jobs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
