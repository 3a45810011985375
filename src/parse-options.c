/*
 * parse-options.c - reading argv against a command's option table, and
 * the options part of --help from the same table (see parse-options.h).
 */
#include "parse-options.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/num.h"
#include "util/suggest.h"

#define HELP_WIDTH 79  /* columns of a --help line */
#define HELP_COLUMN 24 /* where help lines start, at most */

static int takes_value(const struct po_option *o)
{
    return o->kind != PO_FLAG;
}

static void add_bound(const struct po_option *o, int64_t v, struct gl_buf *out)
{
    char d[24];

    if (o->kind == PO_DURATION) {
        gl_duration_format(v, d);
        gl_buf_adds(out, d);
    } else {
        gl_buf_addf(out, "%" PRId64, v);
    }
}

void po_describe(const struct po_option *o, struct gl_buf *out)
{
    const struct po_choice *c;

    switch (o->kind) {
    case PO_INT:
    case PO_INT64:
    case PO_DURATION:
        gl_buf_adds(out, o->kind == PO_DURATION
                             ? "a duration (90s, 15m, 1h30m, 1d)"
                             : "a whole number");
        if (o->max != PO_NO_MAX) {
            gl_buf_adds(out, " from ");
            add_bound(o, o->min, out);
            gl_buf_adds(out, " to ");
            add_bound(o, o->max, out);
        } else {
            gl_buf_adds(out, " of at least ");
            add_bound(o, o->min, out);
        }
        break;
    case PO_ENUM:
        for (c = o->choices; c && c->name; c++)
            gl_buf_addf(out, "%s%s",
                        c == o->choices ? ""
                        : c[1].name     ? ", "
                                        : " or ",
                        c->name);
        break;
    case PO_FLAG:
        gl_buf_adds(out, "no value");
        break;
    default:
        gl_buf_adds(out, o->arg ? o->arg : "a value");
        break;
    }
}

/* "--jobs takes a whole number from 1 to 64[, not 'x']" into msg. */
static int bad_value(const struct po_option *o, const char *val,
                     struct gl_buf *msg)
{
    gl_buf_addf(msg, "--%s takes ", o->name);
    po_describe(o, msg);
    if (val)
        gl_buf_addf(msg, ", not '%s'", val);
    return PO_USAGE;
}

static int parse_int(const struct po_option *o, const char *val,
                     struct gl_buf *msg)
{
    int64_t n;

    /* one reading of a number everywhere (util/num.h): "+2" is 2 */
    if (gl_int_parse(val, &n) || n < o->min || n > o->max)
        return bad_value(o, val, msg);
    if (o->kind == PO_INT)
        *(int *)o->value = (int)n;
    else
        *(int64_t *)o->value = (int64_t)n;
    return PO_OK;
}

static int parse_enum(const struct po_option *o, const char *val,
                      struct gl_buf *msg)
{
    const char *names[64];
    const struct po_choice *c;
    const char *hint;
    size_t n = 0;

    for (c = o->choices; c && c->name; c++) {
        if (!strcmp(c->name, val)) {
            *(int *)o->value = c->value;
            return PO_OK;
        }
        if (n < 64)
            names[n++] = c->name;
    }
    bad_value(o, val, msg);
    if ((hint = gl_suggest(val, names, n)))
        gl_buf_addf(msg, "; did you mean '%s'?", hint);
    return PO_USAGE;
}

/* Store val (NULL for a flag) where o says. */
static int set_value(const struct po_option *o, const char *val,
                     struct gl_buf *msg)
{
    struct po_list *l;
    int64_t secs;

    switch (o->kind) {
    case PO_FLAG:
        *(int *)o->value = 1;
        return PO_OK;
    case PO_STRING:
        *(const char **)o->value = val;
        return PO_OK;
    case PO_INT:
    case PO_INT64:
        return parse_int(o, val, msg);
    case PO_DURATION:
        if (gl_duration_parse(val, &secs) || secs < o->min || secs > o->max)
            return bad_value(o, val, msg);
        *(int64_t *)o->value = secs;
        return PO_OK;
    case PO_ENUM:
        return parse_enum(o, val, msg);
    case PO_LIST:
        l = o->value;
        if (l->n >= l->cap) {
            gl_buf_addf(msg, "--%s is given at most %zu times", o->name,
                        l->cap);
            return PO_USAGE;
        }
        l->v[l->n++] = val;
        return PO_OK;
    default:
        return PO_OK;
    }
}

/* The option named by the n bytes at name: the one spelled so, else the
 * only one it begins; NULL with the message otherwise.  *help is set
 * when it names --help (which every command takes). */
static const struct po_option *find_long(const struct po_option *opts,
                                         const char *name, size_t n, int *help,
                                         struct gl_buf *msg)
{
    const struct po_option *o, *hit = NULL;
    const char *names[128];
    const char *hint;
    size_t k = 0, prefixed = 0;
    int help_prefixed = n && n <= 4 && !strncmp("help", name, n);
    char word[128];

    *help = 0;
    for (o = opts; o->kind != PO_END; o++)
        if (strlen(o->name) == n && !strncmp(o->name, name, n))
            return o;
    if (n == 4 && help_prefixed) {
        *help = 1;
        return NULL;
    }
    for (o = opts; n && o->kind != PO_END; o++) {
        if (!strncmp(o->name, name, n)) {
            hit = o;
            prefixed++;
        }
    }
    if (prefixed + (size_t)help_prefixed == 1) {
        *help = !hit;
        return hit;
    }
    snprintf(word, sizeof(word), "%.*s", (int)n, name);
    if (prefixed + (size_t)help_prefixed > 1) {
        gl_buf_addf(msg, "option '--%s' is ambiguous:", word);
        for (o = opts; o->kind != PO_END; o++)
            if (!strncmp(o->name, name, n))
                gl_buf_addf(msg, " --%s", o->name);
        if (help_prefixed)
            gl_buf_adds(msg, " --help");
        return NULL;
    }
    for (o = opts; o->kind != PO_END && k < 127; o++)
        names[k++] = o->name;
    names[k++] = "help";
    gl_buf_addf(msg, "unknown option '--%s'", word);
    if ((hint = gl_suggest(word, names, k)))
        gl_buf_addf(msg, "; did you mean '--%s'?", hint);
    return NULL;
}

static const struct po_option *find_short(const struct po_option *opts, char c)
{
    const struct po_option *o;

    for (o = opts; o->kind != PO_END; o++)
        if (o->short_name && o->short_name == c)
            return o;
    return NULL;
}

/* A long option at argv[*i] ("--name" or "--name=value"). */
static int long_option(const struct po_option *opts, int argc, char **argv,
                       int *i, struct gl_buf *msg)
{
    const char *name = argv[*i] + 2, *eq = strchr(name, '=');
    size_t n = eq ? (size_t)(eq - name) : strlen(name);
    const struct po_option *o;
    int help;

    if (!(o = find_long(opts, name, n, &help, msg))) {
        if (help && eq) {
            gl_buf_adds(msg, "--help takes no value");
            return PO_USAGE;
        }
        return help ? PO_HELP : PO_USAGE;
    }
    if (!takes_value(o)) {
        if (eq) {
            gl_buf_addf(msg, "--%s takes no value", o->name);
            return PO_USAGE;
        }
        return set_value(o, NULL, msg);
    }
    if (eq)
        return set_value(o, eq + 1, msg);
    if (*i + 1 >= argc)
        return bad_value(o, NULL, msg);
    return set_value(o, argv[++*i], msg);
}

/* Short options at argv[*i]: "-h", "-j", a cluster "-jh", or "-xVALUE". */
static int short_options(const struct po_option *opts, int argc, char **argv,
                         int *i, struct gl_buf *msg)
{
    const char *p = argv[*i] + 1;
    const struct po_option *o;
    int rc;

    for (; *p; p++) {
        if (!(o = find_short(opts, *p))) {
            if (*p == 'h')
                return PO_HELP;
            gl_buf_addf(msg, "unknown option '-%c'", *p);
            return PO_USAGE;
        }
        if (!takes_value(o)) {
            if ((rc = set_value(o, NULL, msg)))
                return rc;
            continue;
        }
        if (p[1])
            return set_value(o, p + 1, msg);
        if (*i + 1 >= argc)
            return bad_value(o, NULL, msg);
        return set_value(o, argv[++*i], msg);
    }
    return PO_OK;
}

/* "a, b or c" into msg. */
static void add_sub_names(const struct po_sub *subs, struct gl_buf *msg)
{
    const struct po_sub *s;

    for (s = subs; s->name; s++)
        gl_buf_addf(msg, "%s%s",
                    s == subs   ? ""
                    : s[1].name ? ", "
                                : " or ",
                    s->name);
}

/* The positional arguments argv[0..n-1] against the table's end. */
static int count_args(const struct po_option *end, const char *cmd, int n,
                      char **argv, struct gl_buf *msg)
{
    const struct po_sub *s;
    const char *names[64];
    const char *hint;
    size_t k = 0;

    if (!end->subs) {
        if (n >= end->min && (end->max < 0 || n <= end->max))
            return PO_OK;
        /* "golive task help" as "golive run help": where one word cannot
         * be the whole of the arguments, "help" asks for the help */
        if (n == 1 && end->min >= 2 && !strcmp(argv[0], "help"))
            return PO_HELP;
        gl_buf_addf(msg, "%s takes %s", cmd,
                    end->arg ? end->arg : "no arguments");
        return PO_USAGE;
    }
    if (n < 1) {
        gl_buf_addf(msg, "%s takes a subcommand: ", cmd);
        add_sub_names(end->subs, msg);
        return PO_USAGE;
    }
    if (n == 1 && !strcmp(argv[0], "help"))
        return PO_HELP; /* "golive run help" */
    for (s = end->subs; s->name; s++) {
        if (!strcmp(s->name, argv[0])) {
            if (n - 1 >= s->min && (s->max < 0 || n - 1 <= s->max))
                return PO_OK;
            gl_buf_addf(msg, "'%s %s' takes %s", cmd, s->name,
                        s->args ? s->args : "no arguments");
            return PO_USAGE;
        }
        if (k < 64)
            names[k++] = s->name;
    }
    gl_buf_addf(msg, "unknown subcommand '%s %s'", cmd, argv[0]);
    if ((hint = gl_suggest(argv[0], names, k)))
        gl_buf_addf(msg, "; did you mean '%s'?", hint);
    else {
        gl_buf_adds(msg, " (");
        add_sub_names(end->subs, msg);
        gl_buf_adds(msg, ")");
    }
    return PO_USAGE;
}

int po_parse(const struct po_option *opts, const char *cmd, int argc,
             char **argv, int *first, struct gl_buf *msg)
{
    const struct po_option *end = opts;
    char **pos;
    int i, w = 1, n = 0, rc = PO_OK;

    *first = argc;
    pos = malloc(((size_t)argc + 1) * sizeof(*pos));
    if (!pos) {
        gl_buf_adds(msg, "out of memory");
        return PO_USAGE;
    }
    for (i = 1; i < argc && rc == PO_OK; i++) {
        const char *a = argv[i];
        int start = i;
        if (!strcmp(a, "--")) {
            argv[w++] = argv[i]; /* before the arguments, as getopt does */
            while (++i < argc)
                pos[n++] = argv[i];
            break;
        }
        if (a[0] != '-' || !a[1]) { /* "-" alone is an argument too */
            pos[n++] = argv[i];
            continue;
        }
        rc = a[1] == '-' ? long_option(opts, argc, argv, &i, msg)
                         : short_options(opts, argc, argv, &i, msg);
        /* the option and its value keep their order, before the
         * arguments (w <= start: nothing unread is overwritten) */
        while (start <= i && start < argc)
            argv[w++] = argv[start++];
    }
    if (rc == PO_OK) {
        memcpy(argv + w, pos, (size_t)n * sizeof(*pos));
        *first = w;
        while (end->kind != PO_END)
            end++;
        rc = count_args(end, cmd, n, argv + w, msg);
    }
    free(pos);
    return rc;
}

/* Append text wrapped at HELP_WIDTH, continuation lines indented by col;
 * the first line starts at column at. */
static void add_wrapped(struct gl_buf *out, const char *text, size_t at,
                        size_t col)
{
    const char *p = text;

    while (*p) {
        size_t len = 0, word;
        while (p[len] == ' ')
            len++;
        word = strcspn(p + len, " ");
        if (at > col && at + len + word > HELP_WIDTH) {
            gl_buf_addf(out, "\n%*s", (int)col, "");
            at = col;
            p += len; /* no spaces at a line's start */
            len = 0;
        }
        gl_buf_add(out, p, len + word);
        at += len + word;
        p += len + word;
    }
    gl_buf_adds(out, "\n");
}

/* "  -j, --json" / "  --jobs N" */
static void add_left(const struct po_option *o, struct gl_buf *out)
{
    if (o->short_name)
        gl_buf_addf(out, "  -%c, --%s", o->short_name, o->name);
    else
        gl_buf_addf(out, "  --%s", o->name);
    if (takes_value(o))
        gl_buf_addf(out, " %s", o->arg ? o->arg : "VALUE");
}

void po_help(const struct po_option *opts, struct gl_buf *out)
{
    const struct po_option *o;
    struct gl_buf left = GL_BUF_INIT;
    size_t col = 0;

    /* the help column: after the longest left side, within HELP_COLUMN */
    for (o = opts; o->kind != PO_END; o++) {
        if (o->flags & PO_HIDDEN)
            continue;
        gl_buf_reset(&left);
        add_left(o, &left);
        if (left.len + 2 > col && left.len + 2 <= HELP_COLUMN)
            col = left.len + 2;
    }
    for (o = opts; o->kind != PO_END; o++) {
        if (o->flags & PO_HIDDEN)
            continue;
        gl_buf_reset(&left);
        add_left(o, &left);
        gl_buf_add(out, left.data, left.len);
        if (left.len + 2 <= col) {
            gl_buf_addf(out, "%*s", (int)(col - left.len), "");
            add_wrapped(out, o->help ? o->help : "", col, col);
        } else {
            gl_buf_adds(out, "  ");
            add_wrapped(out, o->help ? o->help : "", left.len + 2, col);
        }
    }
    if (gl_buf_failed(&left)) /* out's check sees it */
        gl_buf_fail(out, gl_buf_failed(&left));
    gl_buf_release(&left);
}
