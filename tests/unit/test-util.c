/*
 * test-util.c - buffers, arenas, diagnostics, hints, SHA-256, graphs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "golive/diag.h"
#include "golive/golive.h"
#include "plan/graph.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/num.h"
#include "util/sha256.h"
#include "util/suggest.h"

/* One reading of a whole number (options, the plan, the API's query). */
static void numbers(void **state)
{
    static const char *const bad[] = {
        "",   "+",   "-",  "++2", "+-2",  "-+2", " 2",
        "2 ", "+ 2", "2a", "1e3", "0x10", "3.0", "9223372036854775808"};
    int64_t n = 7;
    size_t i;

    (void)state;
    assert_int_equal(gl_int_parse("2", &n), 0);
    assert_true(n == 2);
    assert_int_equal(gl_int_parse("+2", &n), 0);
    assert_true(n == 2);
    assert_int_equal(gl_int_parse("-2", &n), 0);
    assert_true(n == -2);
    assert_int_equal(gl_int_parse("+0", &n), 0);
    assert_true(n == 0);
    assert_int_equal(gl_int_parse("9223372036854775807", &n), 0);
    assert_true(n == INT64_MAX);
    assert_int_equal(gl_int_parse("-9223372036854775808", &n), 0);
    assert_true(n == INT64_MIN);
    n = 7;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(gl_int_parse(bad[i], &n), -1);
    assert_int_equal(gl_int_parse(NULL, &n), -1);
    assert_true(n == 7);
}

static void buffers(void **state)
{
    struct gl_buf b = GL_BUF_INIT;
    char *s;
    int i;

    (void)state;
    assert_string_equal(gl_buf_str(&b), "");
    for (i = 0; i < 1000; i++)
        assert_int_equal(gl_buf_addf(&b, "%d,", i), 0);
    assert_int_equal(strncmp(b.data, "0,1,2,", 6), 0);
    assert_int_equal(b.len, strlen(b.data));
    s = gl_buf_detach(&b);
    assert_null(b.data);
    free(s);
    /* the cap holds */
    b.max = 10;
    assert_int_equal(gl_buf_adds(&b, "0123456789"), 0);
    assert_int_equal(gl_buf_adds(&b, "x"), -1);
    assert_int_equal(b.len, 0); /* a failed buffer holds nothing */
    gl_buf_release(&b);
}

/* An append that fails makes the buffer fail for good: what it held is
 * dropped, every later append fails (a small one too), a reset keeps the
 * failure, and one check at the end sees it. */
static void buffers_fail_sticky(void **state)
{
    struct gl_buf b = GL_BUF_INIT;
    struct gl_err err;
    volatile size_t huge = SIZE_MAX - 2; /* not known to the compiler */

    (void)state;
    gl_err_clear(&err);
    b.max = 16;
    assert_int_equal(gl_buf_adds(&b, "DELETE FROM t"), 0);
    assert_int_equal(gl_buf_failed(&b), 0);
    assert_int_equal(gl_buf_check(&b, "the query", &err), GL_OK);
    /* past max */
    assert_int_equal(gl_buf_adds(&b, " WHERE job = 'x'"), -1);
    assert_int_equal(gl_buf_failed(&b), EFBIG);
    assert_string_equal(gl_buf_str(&b), ""); /* never half a statement */
    assert_int_equal(b.len, 0);
    /* sticky: appends that would fit fail all the same */
    assert_int_equal(gl_buf_adds(&b, "x"), -1);
    assert_int_equal(gl_buf_add(&b, "", 0), -1);
    assert_int_equal(gl_buf_addf(&b, "%d", 1), -1);
    assert_int_equal(gl_buf_reserve(&b, 1), -1);
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_adds(&b, "x"), -1);
    assert_int_equal(gl_buf_failed(&b), EFBIG);
    assert_int_equal(b.len, 0);
    assert_int_equal(gl_buf_check(&b, "the query", &err), GL_ENOMEM);
    assert_int_equal(err.code, GL_ENOMEM);
    assert_string_equal(err.msg, "the query is larger than 16 bytes");
    /* detach hands out nothing and clears the failure */
    assert_null(gl_buf_detach(&b));
    assert_int_equal(gl_buf_failed(&b), 0);
    assert_int_equal(gl_buf_adds(&b, "again"), 0);
    assert_string_equal(gl_buf_str(&b), "again");
    gl_buf_release(&b);

    /* a huge length fails without allocating, on the default cap */
    b.max = 0;
    assert_int_equal(gl_buf_adds(&b, "kept?"), 0);
    assert_int_equal(gl_buf_add(&b, "x", huge), -1);
    assert_int_equal(gl_buf_failed(&b), EFBIG);
    assert_int_equal(gl_buf_adds(&b, "y"), -1);
    gl_err_clear(&err);
    assert_int_equal(gl_buf_check(&b, "the rejects", &err), GL_ENOMEM);
    assert_string_equal(err.msg, "the rejects is larger than 256 MiB");
    /* release clears it: the buffer is new again */
    gl_buf_release(&b);
    assert_int_equal(gl_buf_failed(&b), 0);
    assert_int_equal(gl_buf_adds(&b, "y"), 0);
    assert_string_equal(gl_buf_str(&b), "y");
    gl_buf_release(&b);
}

static void arenas(void **state)
{
    struct gl_arena a = GL_ARENA_INIT;
    char *p, *big;
    int i;

    (void)state;
    for (i = 0; i < 5000; i++) {
        p = gl_arena_alloc(&a, 17);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        assert_int_equal(p[16], 0);
    }
    big = gl_arena_alloc(&a, 100000);
    assert_non_null(big);
    assert_string_equal(gl_arena_strndup(&a, "hello world", 5), "hello");
    gl_arena_release(&a);
    a.limit = 100;
    assert_non_null(gl_arena_alloc(&a, 50));
    assert_null(gl_arena_alloc(&a, 80));
    gl_arena_release(&a);
}

static void diagnostics(void **state)
{
    struct gl_diags d;

    (void)state;
    memset(&d, 0, sizeof(d));
    gl_diags_add(&d, 5, 3, GL_SEV_WARNING, "b", "later %d", 1);
    gl_diags_add(&d, 2, 9, GL_SEV_ERROR, "a", "first");
    gl_diags_add(&d, 5, 3, GL_SEV_WARNING, "b", "later %d", 1); /* repeat */
    gl_diags_add(&d, 5, 1, GL_SEV_ERROR, "c", "middle");
    assert_int_equal(d.n_errors, 2);
    assert_int_equal(d.n_warnings, 2);
    gl_diags_sort(&d);
    assert_int_equal(d.n, 3);
    assert_int_equal(d.n_warnings, 1);
    assert_string_equal(d.v[0].message, "first");
    assert_string_equal(d.v[1].message, "middle");
    assert_string_equal(d.v[2].message, "later 1");
    assert_true(gl_diags_has(&d, "c"));
    assert_false(gl_diags_has(&d, "z"));
    gl_diags_release(&d);
}

static void hints(void **state)
{
    static const char *const keys[] = {"owner", "checker", "depends_on",
                                       "duration", "at"};

    (void)state;
    assert_int_equal(gl_edit_distance("owner", "ownr"), 1);
    assert_int_equal(gl_edit_distance("checker", "chekcer"), 1); /* swap */
    assert_string_equal(gl_suggest("ownr", keys, 5), "owner");
    assert_string_equal(gl_suggest("depends-on", keys, 5), "depends_on");
    assert_string_equal(gl_suggest("durtion", keys, 5), "duration");
    assert_null(gl_suggest("banana", keys, 5));
    assert_null(gl_suggest("x", keys, 0));
}

static void sha256(void **state)
{
    char hex[GL_SHA256_HEX];
    struct gl_sha256 *c;

    (void)state;
    assert_int_equal(gl_sha256_hex("abc", 3, hex), 0);
    assert_string_equal(
        hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    c = gl_sha256_new();
    assert_non_null(c);
    assert_int_equal(gl_sha256_update(c, "a", 1), 0);
    assert_int_equal(gl_sha256_update(c, "bc", 2), 0);
    assert_int_equal(gl_sha256_final(c, hex), 0);
    assert_string_equal(
        hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void graphs(void **state)
{
    /* 0 -> 1 -> 2 -> 0 is a cycle; 3 -> 0; 4 alone; 5 -> 5 self loop */
    size_t from[] = {0, 1, 2, 3, 5}, to[] = {1, 2, 0, 0, 5};
    size_t comp[6], path[6], order[6], n, len;
    struct gl_graph g;

    (void)state;
    assert_int_equal(gl_graph_build(&g, 6, from, to, 5), 0);
    n = gl_graph_scc(&g, comp);
    assert_int_equal(n, 4);
    assert_int_equal(comp[0], comp[1]);
    assert_int_equal(comp[1], comp[2]);
    assert_true(comp[3] != comp[0]);
    len = gl_graph_cycle(&g, comp, 0, path);
    assert_int_equal(len, 3);
    assert_int_equal(path[0], 0);
    assert_int_equal(path[1], 1);
    assert_int_equal(path[2], 2);
    assert_int_equal(gl_graph_cycle(&g, comp, 5, path), 1);
    assert_int_equal(gl_graph_cycle(&g, comp, 4, path), 0);
    /* only node 4 has no unmet dependencies outside cycles */
    n = gl_graph_topo(&g, order);
    assert_int_equal(n, 1);
    assert_int_equal(order[0], 4);
    gl_graph_release(&g);
}

static void long_chain(void **state)
{
    /* a chain of 200000 nodes must not exhaust the stack */
    size_t n = 200000, i, *from, *to, *comp, *order, ncomp;
    struct gl_graph g;

    (void)state;
    from = malloc(n * sizeof(*from));
    to = malloc(n * sizeof(*to));
    comp = malloc(n * sizeof(*comp));
    order = malloc(n * sizeof(*order));
    for (i = 0; i + 1 < n; i++) {
        from[i] = i;
        to[i] = i + 1;
    }
    assert_int_equal(gl_graph_build(&g, n, from, to, n - 1), 0);
    ncomp = gl_graph_scc(&g, comp);
    assert_int_equal(ncomp, n);
    assert_int_equal(gl_graph_topo(&g, order), n);
    assert_int_equal(order[0], n - 1); /* the last depends on nothing */
    gl_graph_release(&g);
    free(from);
    free(to);
    free(comp);
    free(order);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buffers),     cmocka_unit_test(buffers_fail_sticky),
        cmocka_unit_test(numbers),     cmocka_unit_test(arenas),
        cmocka_unit_test(diagnostics), cmocka_unit_test(hints),
        cmocka_unit_test(sha256),      cmocka_unit_test(graphs),
        cmocka_unit_test(long_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
