/*
 * test-ytree.c - the positioned YAML tree and its limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plan/ytree.h"
#include "util/buf.h"

struct fx {
    struct gl_arena a;
    struct gl_diags d;
    struct ynode *root;
};

static int parse(struct fx *f, const char *text)
{
    memset(f, 0, sizeof(*f));
    return yt_parse(&f->a, text, strlen(text), &f->d, &f->root);
}

static void done(struct fx *f)
{
    gl_diags_release(&f->d);
    gl_arena_release(&f->a);
}

static void positions(void **state)
{
    struct fx f;
    struct ynode *people, *first, *roles;

    (void)state;
    assert_int_equal(parse(&f, "cutover: x\n"
                               "people:\n"
                               "  - id: a\n"
                               "    roles: [lead, dev]\n"
                               "  - {id: b, name: \"B\"}\n"),
                     0);
    assert_int_equal(f.root->kind, YN_MAP);
    assert_int_equal(f.root->n, 2);
    people = yt_get(f.root, "people");
    assert_int_equal(people->kind, YN_SEQ);
    assert_int_equal(people->n, 2);
    first = people->kids[0];
    assert_int_equal(first->line, 3);
    assert_int_equal(first->col, 5);
    roles = yt_get(first, "roles");
    assert_int_equal(roles->kids[1]->line, 4);
    assert_int_equal(roles->kids[1]->col, 19);
    assert_string_equal(roles->kids[1]->str, "dev");
    assert_int_equal(people->kids[1]->col, 5); /* the '{' */
    assert_string_equal(yt_get(people->kids[1], "name")->str, "B");
    assert_false(yt_get(people->kids[1], "name")->plain);
    assert_true(yt_get(first, "id")->plain);
    assert_null(yt_get(first, "missing"));
    done(&f);
}

static void nulls_and_empty(void **state)
{
    struct fx f;

    (void)state;
    assert_int_equal(parse(&f, "a: ~\nb:\nc: null\nd: ''\n"), 0);
    assert_true(yt_is_null(yt_get(f.root, "a")));
    assert_true(yt_is_null(yt_get(f.root, "b")));
    assert_true(yt_is_null(yt_get(f.root, "c")));
    assert_false(yt_is_null(yt_get(f.root, "d"))); /* quoted: a string */
    done(&f);
    assert_int_equal(parse(&f, ""), 0);
    assert_null(f.root);
    done(&f);
}

static void syntax_error_position(void **state)
{
    struct fx f;

    (void)state;
    assert_int_equal(parse(&f, "a: 1\nb: [1, 2\nc: 3\n"), -1);
    assert_int_equal(f.d.n_errors, 1);
    assert_string_equal(f.d.v[0].code, "yaml-syntax");
    assert_true(f.d.v[0].line >= 2);
    done(&f);
}

static void aliases_refused(void **state)
{
    struct fx f;

    (void)state;
    assert_int_equal(parse(&f, "a: &x [1, 2]\nb: *x\n"), -1);
    assert_int_equal(f.d.v[0].line, 2);
    assert_int_equal(f.d.v[0].col, 4);
    assert_non_null(strstr(f.d.v[0].message, "aliases"));
    done(&f);
}

static void depth_limit(void **state)
{
    struct gl_buf b = GL_BUF_INIT;
    struct fx f;
    int i;

    (void)state;
    for (i = 0; i < YT_MAX_DEPTH + 5; i++)
        gl_buf_adds(&b, "[");
    for (i = 0; i < YT_MAX_DEPTH + 5; i++)
        gl_buf_adds(&b, "]");
    assert_int_equal(parse(&f, b.data), -1);
    assert_true(gl_diags_has(&f.d, "yaml-limit") ||
                gl_diags_has(&f.d, "yaml-syntax"));
    done(&f);
    gl_buf_release(&b);
}

static void size_and_nul_limits(void **state)
{
    struct fx f;
    char text[] = "a: 1\0b: 2";

    (void)state;
    memset(&f, 0, sizeof(f));
    assert_int_equal(yt_parse(&f.a, text, sizeof(text) - 1, &f.d, &f.root), -1);
    assert_non_null(strstr(f.d.v[0].message, "NUL"));
    assert_int_equal(f.d.v[0].line, 1); /* where the NUL is */
    assert_int_equal(f.d.v[0].col, 5);
    done(&f);
    memset(&f, 0, sizeof(f));
    assert_int_equal(yt_parse(&f.a, text, YT_MAX_INPUT + 1, &f.d, &f.root), -1);
    assert_true(gl_diags_has(&f.d, "yaml-limit"));
    done(&f);
}

/* An escaped NUL ("lead\0evil") once loaded cut short as "lead". */
static void escaped_nul_refused(void **state)
{
    struct fx f;

    (void)state;
    assert_int_equal(parse(&f, "a: 1\nowner: \"lead\\0evil\"\n"), -1);
    assert_int_equal(f.d.n_errors, 1);
    assert_non_null(strstr(f.d.v[0].message, "NUL"));
    assert_int_equal(f.d.v[0].line, 2);
    assert_int_equal(f.d.v[0].col, 8); /* the opening quote */
    done(&f);
    assert_int_equal(parse(&f, "a: 1\n\"k\\x00\": v\n"), -1);
    assert_int_equal(f.d.v[0].line, 2);
    assert_int_equal(f.d.v[0].col, 1);
    done(&f);
}

static void second_document_refused(void **state)
{
    struct fx f;

    (void)state;
    assert_int_equal(parse(&f, "a: 1\n---\nb: 2\n"), -1);
    assert_int_equal(f.d.v[0].line, 2);
    done(&f);
}

static void invalid_utf8(void **state)
{
    static const char *const bad[] = {
        "a: \xc0\xaf\n",         /* overlong */
        "a: \xed\xa0\x80\n",     /* surrogate */
        "a: \xf4\x90\x80\x80\n", /* past U+10FFFF */
        "a: \xe2\x82\n",         /* truncated */
        "%\x9dv",                /* hangs libfyaml 0.7.12 */
    };
    struct fx f;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse(&f, bad[i]), -1);
        assert_non_null(strstr(f.d.v[0].message, "UTF-8"));
        done(&f);
    }
    assert_int_equal(parse(&f, "a: \xe8\xb4\xa2\xf0\x9f\x98\x80\n"), 0);
    assert_string_equal(yt_get(f.root, "a")->str,
                        "\xe8\xb4\xa2\xf0\x9f\x98\x80");
    done(&f);
}

/* Two trees are the same: kinds, styles, positions, texts, shapes. */
static void assert_same_tree(const struct ynode *a, const struct ynode *b)
{
    uint32_t i, kids;

    if (!a || !b) {
        assert_null(a);
        assert_null(b);
        return;
    }
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->plain, b->plain);
    assert_int_equal(a->line, b->line);
    assert_int_equal(a->col, b->col);
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->str, b->str, a->len + 1);
    assert_int_equal(a->n, b->n);
    kids = a->kind == YN_MAP ? 2 * a->n : a->kind == YN_SEQ ? a->n : 0;
    for (i = 0; i < kids; i++)
        assert_same_tree(a->kids[i], b->kids[i]);
}

static const char packed_doc[] =
    "cutover: x\n"
    "people:\n"
    "  - id: a\n"
    "    roles: [lead, dev]\n"
    "  - {id: b, name: \"B \\u00e9\", tags: [], extra: {}}\n"
    "empty:\n"
    "text: |\n"
    "  two\n"
    "  lines\n"
    "quoted: 'it''s'\n";

static void pack_round_trip(void **state)
{
    struct fx f;
    struct gl_arena a2;
    struct gl_buf b = GL_BUF_INIT, b2 = GL_BUF_INIT;
    struct ynode *back = NULL;

    (void)state;
    memset(&a2, 0, sizeof(a2));
    assert_int_equal(parse(&f, packed_doc), 0);
    assert_int_equal(yt_pack(f.root, &b), 0);
    assert_int_equal(yt_unpack(&a2, b.data, b.len, &back), 0);
    assert_same_tree(f.root, back);
    assert_string_equal(yt_get(back, "quoted")->str, "it's");
    assert_false(yt_get(back, "quoted")->plain);
    assert_string_equal(yt_get(back, "text")->str, "two\nlines\n");
    /* the same tree packs to the same bytes */
    assert_int_equal(yt_pack(back, &b2), 0);
    assert_int_equal(b.len, b2.len);
    assert_memory_equal(b.data, b2.data, b.len);
    gl_buf_release(&b);
    gl_buf_release(&b2);
    gl_arena_release(&a2);
    done(&f);
}

/* A packed tree is read from a file: every cut and every changed byte
 * either unpacks into some tree or is refused, never read out of bounds
 * (the sanitizer build checks that). */
static void pack_damage_refused(void **state)
{
    struct fx f;
    struct gl_buf b = GL_BUF_INIT;
    struct ynode *back;
    unsigned char *copy;
    size_t i;
    int bit;

    (void)state;
    assert_int_equal(parse(&f, packed_doc), 0);
    assert_int_equal(yt_pack(f.root, &b), 0);
    copy = malloc(b.len);
    assert_non_null(copy);
    for (i = 0; i < b.len; i++) {
        struct gl_arena a2;
        memset(&a2, 0, sizeof(a2));
        /* cut after i bytes */
        assert_int_equal(yt_unpack(&a2, b.data, i, &back), -1);
        gl_arena_release(&a2);
        for (bit = 0; bit < 8; bit++) {
            memcpy(copy, b.data, b.len);
            copy[i] ^= (unsigned char)(1u << bit);
            memset(&a2, 0, sizeof(a2));
            if (i < 16) /* magic, version, counts */
                assert_int_equal(yt_unpack(&a2, copy, b.len, &back), -1);
            else
                (void)yt_unpack(&a2, copy, b.len, &back);
            gl_arena_release(&a2);
        }
    }
    /* a collection claiming more kids than there are nodes */
    memcpy(copy, b.data, b.len);
    copy[16 + 12] = 0xff;
    {
        struct gl_arena a2;
        memset(&a2, 0, sizeof(a2));
        assert_int_equal(yt_unpack(&a2, copy, b.len, &back), -1);
        gl_arena_release(&a2);
    }
    free(copy);
    gl_buf_release(&b);
    done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(positions),
        cmocka_unit_test(nulls_and_empty),
        cmocka_unit_test(syntax_error_position),
        cmocka_unit_test(aliases_refused),
        cmocka_unit_test(depth_limit),
        cmocka_unit_test(size_and_nul_limits),
        cmocka_unit_test(escaped_nul_refused),
        cmocka_unit_test(second_document_refused),
        cmocka_unit_test(invalid_utf8),
        cmocka_unit_test(pack_round_trip),
        cmocka_unit_test(pack_damage_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
