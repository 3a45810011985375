/*
 * test-diff.c - the diff merge (recon/diff.c): two key-ordered streams of
 * real SQLite tables become ops - equal rows say nothing; changed (with
 * the changed columns and both values), only-left (missing), only-right
 * (extra), rows with a NULL key, duplicate keys - in key order.
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

#include "golive/db.h"
#include "golive/recon.h"
#include "util/buf.h"

static char dir[64];

static void value(const struct gl_value *v, struct gl_buf *b)
{
    if (v->type == GL_NULL)
        gl_buf_adds(b, "NULL");
    else
        gl_value_text(v, b);
}

/* What the merge said, one line per op: "op side key [cols: a=x/y]". */
static void on_diff(void *ctx, const struct gl_diff_item *d)
{
    struct gl_buf *b = ctx;
    size_t i;

    gl_buf_addf(b, "%s", d->op);
    if (d->side)
        gl_buf_addf(b, " %s", d->side);
    for (i = 0; i < d->nkey; i++) {
        gl_buf_adds(b, " ");
        value(&d->key[i], b);
    }
    for (i = 0; i < d->nchanged; i++) {
        gl_buf_addf(b, " %s=", d->changed[i]);
        value(&d->src_vals[i], b);
        gl_buf_adds(b, "/");
        value(&d->dst_vals[i], b);
    }
    gl_buf_adds(b, "\n");
}

/* A database file made by sql (golive opens only files that exist). */
static struct gl_db *table(const char *name, const char *sql)
{
    char path[128], url[160];
    struct gl_db *db = NULL;
    struct gl_err err;
    sqlite3 *h = NULL;

    snprintf(path, sizeof(path), "%s/%s.db", dir, name);
    if (sqlite3_open(path, &h) || sqlite3_exec(h, sql, NULL, NULL, NULL))
        fail_msg("%s: %s", path, sqlite3_errmsg(h));
    sqlite3_close(h);
    snprintf(url, sizeof(url), "sqlite:%s", path);
    if (gl_db_open(url, ".", &db, &err))
        fail_msg("%s", err.msg);
    return db;
}

/* Diff table t of two databases made by the two scripts; the ops as
 * lines into out, the counts into res. */
static void diff(const char *left, const char *right, enum gl_vtype ktype,
                 int64_t max_diffs, struct gl_buf *out,
                 struct gl_diff_result *res)
{
    static const char *const key[] = {"k"}, *const cols[] = {"name", "amount"};
    enum gl_vtype kt[1];
    struct gl_diff_side S, D;
    struct gl_diff_opts o;
    struct gl_err err;
    struct gl_db *a = table("left", left), *b = table("right", right);

    kt[0] = ktype;
    memset(&S, 0, sizeof(S));
    memset(&D, 0, sizeof(D));
    memset(&o, 0, sizeof(o));
    S.db = a;
    D.db = b;
    S.relation = D.relation = "t";
    D.table = "t";
    S.key_types = D.key_types = kt;
    o.key = key;
    o.nkey = 1;
    o.cols = cols;
    o.ncols = 2;
    o.max_diffs = max_diffs;
    o.on_diff = on_diff;
    o.ctx = out;
    if (gl_diff_run(&S, &D, &o, res, &err))
        fail_msg("%s", err.msg);
    gl_db_close(a);
    gl_db_close(b);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/golive-test-diff-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int each(void **state)
{
    char path[128];

    (void)state;
    snprintf(path, sizeof(path), "%s/left.db", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/right.db", dir);
    unlink(path);
    return 0;
}

static int teardown(void **state)
{
    each(state);
    rmdir(dir);
    return 0;
}

static void every_op_in_key_order(void **state)
{
    struct gl_buf out = GL_BUF_INIT;
    struct gl_diff_result res;

    (void)state;
    diff("CREATE TABLE t (k INTEGER, name TEXT, amount NUMERIC);"
         "INSERT INTO t VALUES (7, 'g', 1), (1, 'a', 10), (2, 'b', 20),"
         " (3, 'c', 30), (5, 'e', 50), (6, 'f', NULL), (NULL, 'n', 0),"
         " (7, 'g', 1), (8, 'h', NULL);",
         "CREATE TABLE t (k INTEGER, name TEXT, amount NUMERIC);"
         "INSERT INTO t VALUES (1, 'a', 10), (2, 'B', 20), (4, 'd', 40),"
         " (5, 'e', 50.0), (6, 'f', NULL), (NULL, 'm', 1), (8, 'h', 0),"
         " (9, 'i', 9);",
         GL_INT, 0, &out, &res);
    /* equal rows (1, 5 with 50 = 50.0, 6 with NULL = NULL) say nothing;
     * NULL keys leave the merge wherever they sort; a key repeated on one
     * side is a duplicate, not a second missing row */
    assert_string_equal(gl_buf_str(&out), "null_key source NULL\n"
                                          "null_key target NULL\n"
                                          "changed 2 name=b/B\n"
                                          "missing 3\n"
                                          "extra 4\n"
                                          "missing 7\n"
                                          "duplicate source 7\n"
                                          "changed 8 amount=NULL/0\n"
                                          "extra 9\n");
    assert_int_equal(res.missing, 2);
    assert_int_equal(res.extra, 2);
    assert_int_equal(res.changed, 2);
    assert_int_equal(res.duplicates, 1);
    assert_int_equal(res.null_keys, 2);
    assert_int_equal(res.source_rows, 9);
    assert_int_equal(res.target_rows, 8);
    assert_int_equal(res.stopped, 0);
    gl_buf_release(&out);
}

static void one_side_empty(void **state)
{
    struct gl_buf out = GL_BUF_INIT;
    struct gl_diff_result res;

    (void)state;
    diff("CREATE TABLE t (k INTEGER, name TEXT, amount NUMERIC);",
         "CREATE TABLE t (k INTEGER, name TEXT, amount NUMERIC);"
         "INSERT INTO t VALUES (2, 'b', 1), (1, 'a', 1);",
         GL_INT, 0, &out, &res);
    assert_string_equal(gl_buf_str(&out), "extra 1\nextra 2\n");
    assert_int_equal(res.source_rows, 0);
    assert_int_equal(res.target_rows, 2);
    gl_buf_release(&out);
}

static void text_keys_merge_bytewise(void **state)
{
    struct gl_buf out = GL_BUF_INIT;
    struct gl_diff_result res;

    (void)state;
    /* 'B' (0x42) sorts before 'a' (0x61), and 'a' before 'a ' */
    diff("CREATE TABLE t (k TEXT, name TEXT, amount NUMERIC);"
         "INSERT INTO t VALUES ('a', 'x', 1), ('B', 'x', 1), ('a ', 'x', 1);",
         "CREATE TABLE t (k TEXT, name TEXT, amount NUMERIC);"
         "INSERT INTO t VALUES ('b', 'x', 1), ('a', 'x', 2), ('B', 'x', 1);",
         GL_TEXT, 0, &out, &res);
    assert_string_equal(gl_buf_str(&out), "changed a amount=1/2\n"
                                          "missing a \n"
                                          "extra b\n");
    gl_buf_release(&out);
}

static void max_diffs_stops_the_merge(void **state)
{
    struct gl_buf out = GL_BUF_INIT;
    struct gl_diff_result res;

    (void)state;
    diff("CREATE TABLE t (k INTEGER, name TEXT, amount NUMERIC);"
         "INSERT INTO t VALUES (1, 'a', 1), (2, 'a', 1), (3, 'a', 1);",
         "CREATE TABLE t (k INTEGER, name TEXT, amount NUMERIC);", GL_INT, 2,
         &out, &res);
    assert_string_equal(gl_buf_str(&out), "missing 1\nmissing 2\n");
    assert_int_equal(res.stopped, 1);
    gl_buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(every_op_in_key_order, each),
        cmocka_unit_test_setup(one_side_empty, each),
        cmocka_unit_test_setup(text_keys_merge_bytewise, each),
        cmocka_unit_test_setup(max_diffs_stops_the_merge, each),
    };
    gl_db_global_init();
    return cmocka_run_group_tests(tests, setup, teardown);
}
