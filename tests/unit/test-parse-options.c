/*
 * test-parse-options.c - the option tables of the CLI (src/parse-options.c):
 * every kind of value, range ends, missing values, unknown and shortened
 * names, repeats, positional counts and subcommands, "--", and the
 * options part of --help.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "src/parse-options.h"

/* Where one command's values go; every kind once. */
struct vals {
    int json, jobs, fmt;
    const char *state;
    int64_t rows, wait;
    const char *maps[3];
    struct po_list map;
};

static const struct po_choice formats[] = {
    {"md", 0}, {"html", 1}, {"json", 2}, {NULL, 0}};

#define OPTS(v)                                                                \
    {                                                                          \
        OPT_FLAG("json", 'j', &(v)->json, "print JSON"),                       \
            OPT_INT("jobs", 0, &(v)->jobs, 1, 64, "N", "run up to N at once"), \
            OPT_STRING("state", 0, &(v)->state, "FILE", "the store"),          \
            OPT_INT64("rows", 0, &(v)->rows, 1, PO_NO_MAX, "N", "how many"),   \
            OPT_DURATION("wait", 0, &(v)->wait, 60, 7200, "D",                 \
                         "how long to wait"),                                  \
            OPT_ENUM("format", 0, &(v)->fmt, formats, "F",                     \
                     "md (default), html or json"),                            \
            OPT_LIST("map", 0, &(v)->map, "SRC=DST", "a renamed column"),      \
            OPT_HIDDEN_STRING("output", &(v)->state), OPT_END(),               \
    }

struct result {
    int rc, first, argc;
    char *argv[32];
    char msg[300];
};

/* Parse the NULL-ended words (argv[0] is "cmd") with min..max positional
 * arguments, or the subcommands subs. */
static void parse_sub(struct vals *v, struct result *r, int min, int max,
                      const struct po_sub *subs, const char *const *words)
{
    struct po_option opts[] = OPTS(v);
    /* the table's end: OPT_ARGS(min, max, ...) or OPT_SUBCOMMANDS(subs) */
    struct po_option *end = &opts[sizeof(opts) / sizeof(*opts) - 1];
    struct gl_buf msg = GL_BUF_INIT;

    end->min = min;
    end->max = max;
    end->arg = "one plan file";
    end->subs = subs;

    memset(v, 0, sizeof(*v));
    v->map.v = v->maps;
    v->map.cap = 3;
    memset(r, 0, sizeof(*r));
    r->argv[r->argc++] = "cmd";
    while (*words)
        r->argv[r->argc++] = (char *)*words++;
    r->rc = po_parse(opts, "cmd", r->argc, r->argv, &r->first, &msg);
    snprintf(r->msg, sizeof(r->msg), "%s", gl_buf_str(&msg));
    gl_buf_release(&msg);
}

static int parse(struct vals *v, struct result *r, const char *const *words)
{
    parse_sub(v, r, 0, -1, NULL, words);
    return r->rc;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void flags_and_strings(void **state)
{
    struct vals v;
    struct result r;

    (void)state;
    assert_int_equal(parse(&v, &r, ARGS("--json", "--state", "a.db")), PO_OK);
    assert_int_equal(v.json, 1);
    assert_string_equal(v.state, "a.db");
    /* --opt=value and --opt value are the same */
    assert_int_equal(parse(&v, &r, ARGS("--state=b.db")), PO_OK);
    assert_string_equal(v.state, "b.db");
    assert_int_equal(parse(&v, &r, ARGS("--state=")), PO_OK);
    assert_string_equal(v.state, "");
    /* the value is the next word, whatever it looks like */
    assert_int_equal(parse(&v, &r, ARGS("--state", "--json")), PO_OK);
    assert_string_equal(v.state, "--json");
    assert_int_equal(v.json, 0);
    /* a short letter, alone or in a cluster */
    assert_int_equal(parse(&v, &r, ARGS("-j")), PO_OK);
    assert_int_equal(v.json, 1);
    /* a flag takes no value */
    assert_int_equal(parse(&v, &r, ARGS("--json=1")), PO_USAGE);
    assert_string_equal(r.msg, "--json takes no value");
    /* a hidden option is read all the same */
    assert_int_equal(parse(&v, &r, ARGS("--output", "o.txt")), PO_OK);
    assert_string_equal(v.state, "o.txt");
}

static void integers(void **state)
{
    struct vals v;
    struct result r;

    (void)state;
    assert_int_equal(parse(&v, &r, ARGS("--jobs", "1")), PO_OK);
    assert_int_equal(v.jobs, 1);
    assert_int_equal(parse(&v, &r, ARGS("--jobs=64")), PO_OK);
    assert_int_equal(v.jobs, 64);
    /* the range's ends */
    assert_int_equal(parse(&v, &r, ARGS("--jobs", "0")), PO_USAGE);
    assert_string_equal(r.msg,
                        "--jobs takes a whole number from 1 to 64, not '0'");
    assert_int_equal(parse(&v, &r, ARGS("--jobs", "65")), PO_USAGE);
    assert_int_equal(parse(&v, &r, ARGS("--jobs", "-1")), PO_USAGE);
    /* the whole word is the number */
    assert_int_equal(parse(&v, &r, ARGS("--jobs", "3abc")), PO_USAGE);
    assert_string_equal(r.msg,
                        "--jobs takes a whole number from 1 to 64, not '3abc'");
    assert_int_equal(parse(&v, &r, ARGS("--jobs", "")), PO_USAGE);
    assert_int_equal(parse(&v, &r, ARGS("--jobs", " 3")), PO_USAGE);
    /* a sign as strtoll and YAML take it (util/num.h): "+3" is 3 */
    assert_int_equal(parse(&v, &r, ARGS("--jobs", "+3")), PO_OK);
    assert_int_equal(v.jobs, 3);
    assert_int_equal(parse(&v, &r, ARGS("--jobs", "++3")), PO_USAGE);
    assert_int_equal(parse(&v, &r, ARGS("--jobs", "+-3")), PO_USAGE);
    assert_int_equal(parse(&v, &r, ARGS("--jobs", "+")), PO_USAGE);
    assert_int_equal(parse(&v, &r, ARGS("--jobs", "+ 3")), PO_USAGE);
    assert_int_equal(parse(&v, &r, ARGS("--jobs", "3.0")), PO_USAGE);
    /* no upper bound: the message says so; past int64 is no number */
    assert_int_equal(parse(&v, &r, ARGS("--rows", "9223372036854775807")),
                     PO_OK);
    assert_true(v.rows == INT64_MAX);
    assert_int_equal(parse(&v, &r, ARGS("--rows", "9223372036854775808")),
                     PO_USAGE);
    assert_int_equal(parse(&v, &r, ARGS("--rows", "1e9")), PO_USAGE);
    assert_string_equal(r.msg,
                        "--rows takes a whole number of at least 1, not '1e9'");
    assert_int_equal(parse(&v, &r, ARGS("--rows", "10k")), PO_USAGE);
}

static void durations(void **state)
{
    struct vals v;
    struct result r;

    (void)state;
    assert_int_equal(parse(&v, &r, ARGS("--wait", "1h30m")), PO_OK);
    assert_true(v.wait == 5400);
    assert_int_equal(parse(&v, &r, ARGS("--wait", "1m")), PO_OK);
    assert_true(v.wait == 60);
    assert_int_equal(parse(&v, &r, ARGS("--wait", "2h")), PO_OK);
    assert_int_equal(parse(&v, &r, ARGS("--wait", "59s")), PO_USAGE);
    assert_string_equal(r.msg, "--wait takes a duration (90s, 15m, 1h30m, 1d) "
                               "from 1m to 2h, not '59s'");
    assert_int_equal(parse(&v, &r, ARGS("--wait", "2h1s")), PO_USAGE);
    assert_int_equal(parse(&v, &r, ARGS("--wait", "90")), PO_USAGE);
}

static void enumerations(void **state)
{
    struct vals v;
    struct result r;

    (void)state;
    assert_int_equal(parse(&v, &r, ARGS("--format", "html")), PO_OK);
    assert_int_equal(v.fmt, 1);
    assert_int_equal(parse(&v, &r, ARGS("--format=json")), PO_OK);
    assert_int_equal(v.fmt, 2);
    assert_int_equal(parse(&v, &r, ARGS("--format", "htm")), PO_USAGE);
    assert_string_equal(r.msg, "--format takes md, html or json, not 'htm'; "
                               "did you mean 'html'?");
    assert_int_equal(parse(&v, &r, ARGS("--format", "pdf")), PO_USAGE);
    assert_string_equal(r.msg, "--format takes md, html or json, not 'pdf'");
    assert_int_equal(parse(&v, &r, ARGS("--format", "HTML")), PO_USAGE);
}

static void missing_values(void **state)
{
    struct vals v;
    struct result r;

    (void)state;
    assert_int_equal(parse(&v, &r, ARGS("--jobs")), PO_USAGE);
    assert_string_equal(r.msg, "--jobs takes a whole number from 1 to 64");
    assert_int_equal(parse(&v, &r, ARGS("--state")), PO_USAGE);
    assert_string_equal(r.msg, "--state takes FILE");
    assert_int_equal(parse(&v, &r, ARGS("--format")), PO_USAGE);
    assert_string_equal(r.msg, "--format takes md, html or json");
}

static void unknown_and_shortened(void **state)
{
    struct vals v;
    struct result r;

    (void)state;
    assert_int_equal(parse(&v, &r, ARGS("--jbos", "3")), PO_USAGE);
    assert_string_equal(r.msg, "unknown option '--jbos'; did you mean "
                               "'--jobs'?");
    assert_int_equal(parse(&v, &r, ARGS("--bogus")), PO_USAGE);
    assert_string_equal(r.msg, "unknown option '--bogus'");
    assert_int_equal(parse(&v, &r, ARGS("-x")), PO_USAGE);
    assert_string_equal(r.msg, "unknown option '-x'");
    /* a name shortened while it stays unambiguous */
    assert_int_equal(parse(&v, &r, ARGS("--st", "s.db", "--fo=md")), PO_OK);
    assert_string_equal(v.state, "s.db");
    assert_int_equal(parse(&v, &r, ARGS("--jo", "2")), PO_OK);
    assert_int_equal(v.jobs, 2);
    assert_int_equal(parse(&v, &r, ARGS("--j")), PO_USAGE);
    assert_string_equal(r.msg, "option '--j' is ambiguous: --json --jobs");
    /* the exact name wins over a longer one it begins */
    assert_int_equal(parse(&v, &r, ARGS("--json")), PO_OK);
}

static void help(void **state)
{
    struct vals v;
    struct result r;

    (void)state;
    assert_int_equal(parse(&v, &r, ARGS("--help")), PO_HELP);
    assert_int_equal(parse(&v, &r, ARGS("-h")), PO_HELP);
    assert_int_equal(parse(&v, &r, ARGS("--he")), PO_HELP);
    assert_int_equal(parse(&v, &r, ARGS("-jh")), PO_HELP);
    assert_int_equal(v.json, 1);
    /* --help first: what follows is not read */
    assert_int_equal(parse(&v, &r, ARGS("--help", "--jobs", "x")), PO_HELP);
    /* after "--", "--help" is an argument */
    assert_int_equal(parse(&v, &r, ARGS("--", "--help")), PO_OK);
}

static void repeated(void **state)
{
    struct vals v;
    struct result r;

    (void)state;
    /* a single value: the last one given */
    assert_int_equal(parse(&v, &r, ARGS("--jobs", "2", "--jobs", "3")), PO_OK);
    assert_int_equal(v.jobs, 3);
    /* a list: each, in order, up to its capacity */
    assert_int_equal(parse(&v, &r, ARGS("--map", "a=b", "--map=c=d")), PO_OK);
    assert_int_equal(v.map.n, 2);
    assert_string_equal(v.maps[0], "a=b");
    assert_string_equal(v.maps[1], "c=d");
    assert_int_equal(
        parse(&v, &r,
              ARGS("--map", "1", "--map", "2", "--map", "3", "--map", "4")),
        PO_USAGE);
    assert_string_equal(r.msg, "--map is given at most 3 times");
}

static void positional(void **state)
{
    struct vals v;
    struct result r;

    (void)state;
    /* options and arguments mixed: arguments come out last, in order */
    parse_sub(&v, &r, 2, 2, NULL, ARGS("a", "--jobs", "4", "b", "-j"));
    assert_int_equal(r.rc, PO_OK);
    assert_int_equal(r.first, 4);
    assert_string_equal(r.argv[4], "a");
    assert_string_equal(r.argv[5], "b");
    assert_int_equal(v.jobs, 4);
    assert_int_equal(v.json, 1);
    /* "--" ends the options; "-" alone is an argument */
    parse_sub(&v, &r, 0, -1, NULL, ARGS("-", "--", "--jobs", "-j"));
    assert_int_equal(r.rc, PO_OK);
    assert_int_equal(r.argc - r.first, 3);
    assert_string_equal(r.argv[r.first - 1], "--");
    assert_string_equal(r.argv[r.first], "-");
    assert_string_equal(r.argv[r.first + 1], "--jobs");
    assert_int_equal(v.json, 0);
    /* counts */
    parse_sub(&v, &r, 1, 1, NULL, ARGS("--json"));
    assert_int_equal(r.rc, PO_USAGE);
    assert_string_equal(r.msg, "cmd takes one plan file");
    parse_sub(&v, &r, 1, 1, NULL, ARGS("a", "b"));
    assert_int_equal(r.rc, PO_USAGE);
    parse_sub(&v, &r, 1, -1, NULL, ARGS("a", "b", "c"));
    assert_int_equal(r.rc, PO_OK);
    parse_sub(&v, &r, 0, 0, NULL, ARGS("x"));
    assert_int_equal(r.rc, PO_USAGE);
}

static void subcommands(void **state)
{
    static const struct po_sub subs[] = {
        {"ping", 1, 1, "a URL"},
        {"describe", 2, 2, "a URL and a table"},
        {"list", 0, 0, NULL},
        {NULL, 0, 0, NULL},
    };
    struct vals v;
    struct result r;

    (void)state;
    parse_sub(&v, &r, 0, 0, subs, ARGS("--json", "describe", "u", "t"));
    assert_int_equal(r.rc, PO_OK);
    assert_string_equal(r.argv[r.first], "describe");
    parse_sub(&v, &r, 0, 0, subs, ARGS("describe", "u"));
    assert_int_equal(r.rc, PO_USAGE);
    assert_string_equal(r.msg, "'cmd describe' takes a URL and a table");
    parse_sub(&v, &r, 0, 0, subs, ARGS("list", "x"));
    assert_string_equal(r.msg, "'cmd list' takes no arguments");
    parse_sub(&v, &r, 0, 0, subs, ARGS("--json"));
    assert_string_equal(r.msg, "cmd takes a subcommand: ping, describe or "
                               "list");
    parse_sub(&v, &r, 0, 0, subs, ARGS("pnig", "u"));
    assert_string_equal(r.msg, "unknown subcommand 'cmd pnig'; did you mean "
                               "'ping'?");
    parse_sub(&v, &r, 0, 0, subs, ARGS("zzzzzz"));
    assert_string_equal(r.msg, "unknown subcommand 'cmd zzzzzz' (ping, "
                               "describe or list)");
    parse_sub(&v, &r, 0, 0, subs, ARGS("help"));
    assert_int_equal(r.rc, PO_HELP);
}

static void help_text(void **state)
{
    struct vals v;
    struct po_option opts[] = OPTS(&v);
    struct po_option none[] = {OPT_HIDDEN_STRING("output", &v.state),
                               OPT_END()};
    struct gl_buf b = GL_BUF_INIT;
    const char *want = "  -j, --json     print JSON\n"
                       "  --jobs N       run up to N at once\n"
                       "  --state FILE   the store\n"
                       "  --rows N       how many\n"
                       "  --wait D       how long to wait\n"
                       "  --format F     md (default), html or json\n"
                       "  --map SRC=DST  a renamed column\n";

    (void)state;
    po_help(opts, &b);
    assert_string_equal(gl_buf_str(&b), want);
    /* every option hidden: nothing */
    gl_buf_reset(&b);
    po_help(none, &b);
    assert_int_equal(b.len, 0);
    gl_buf_release(&b);
}

static void help_wraps(void **state)
{
    int x;
    struct po_option opts[] = {
        OPT_FLAG("a", 0, &x,
                 "one two three four five six seven eight nine ten eleven "
                 "twelve thirteen fourteen fifteen"),
        OPT_STRING("a-very-long-option-name", 0, NULL, "VALUE",
                   "its help starts on the same line"),
        OPT_END(),
    };
    struct gl_buf b = GL_BUF_INIT;
    const char *want =
        "  --a  one two three four five six seven eight nine ten eleven "
        "twelve thirteen\n"
        "       fourteen fifteen\n"
        "  --a-very-long-option-name VALUE  its help starts on the same line\n";

    (void)state;
    po_help(opts, &b);
    assert_string_equal(gl_buf_str(&b), want);
    gl_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flags_and_strings),
        cmocka_unit_test(integers),
        cmocka_unit_test(durations),
        cmocka_unit_test(enumerations),
        cmocka_unit_test(missing_values),
        cmocka_unit_test(unknown_and_shortened),
        cmocka_unit_test(help),
        cmocka_unit_test(repeated),
        cmocka_unit_test(positional),
        cmocka_unit_test(subcommands),
        cmocka_unit_test(help_text),
        cmocka_unit_test(help_wraps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
