/*
 * load.c - from a positioned YAML tree (ytree.c) to the plan model.
 *
 * The loader checks shape: unknown keys (with a "did you mean"), wrong
 * types, missing required keys, malformed times and enumerations.  What
 * needs the whole plan at once (references, cycles, owners and checkers)
 * is in check.c.  Loading goes on after an error, so that one run of
 * `golive validate` reports every problem.
 */
#include "golive/plan.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/ytree.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/suggest.h"

struct ld {
    struct gl_arena *a;
    struct gl_diags *d;
    struct gl_plan *p;
    int oom;
};

#define ERR(L, n, code, ...)                                                   \
    gl_diags_add((L)->d, (n) ? (n)->line : 0, (n) ? (n)->col : 0,              \
                 GL_SEV_ERROR, code, __VA_ARGS__)

static const char *kind_name(const struct ynode *n)
{
    return n->kind == YN_MAP   ? "a mapping"
           : n->kind == YN_SEQ ? "a list"
                               : "a scalar";
}

static struct gl_pos pos_of(const struct ynode *n)
{
    struct gl_pos p = {0, 0};

    if (n) {
        p.line = n->line;
        p.col = n->col;
    }
    return p;
}

static void *alloc(struct ld *L, size_t n, size_t sz)
{
    void *p;

    if (n && sz > SIZE_MAX / n) {
        L->oom = 1;
        return NULL;
    }
    p = gl_arena_alloc(L->a, n * sz);
    if (!p)
        L->oom = 1;
    return p;
}

/* Report keys of m that are not scalars or appear twice.  Quadratic, but
 * mappings in a plan are small and the tree is capped (YT_MAX_NODES); a
 * mapping with more than 4096 keys is checked for its first 4096 only. */
static void check_dups(struct ld *L, const struct ynode *m, const char *what)
{
    size_t i, j, n = m->n < 4096 ? m->n : 4096;

    for (i = 0; i < n; i++) {
        const struct ynode *k = m->kids[2 * i];

        if (k->kind != YN_SCALAR) {
            ERR(L, k, "wrong-type", "keys in %s must be plain names", what);
            continue;
        }
        for (j = 0; j < i; j++) {
            const struct ynode *o = m->kids[2 * j];
            /* len is the text's length (ytree.c refuses a NUL) */
            if (o->kind == YN_SCALAR && o->len == k->len &&
                !memcmp(o->str, k->str, k->len)) {
                ERR(L, k, "duplicate-key",
                    "key '%s' appears twice in %s (first at line %d)", k->str,
                    what, o->line);
                break;
            }
        }
    }
}

/* Report keys of m that are not in keys[] (NULL-terminated), and repeated
 * keys.  Returns 0 when m is a mapping, -1 otherwise (reported). */
static int check_map(struct ld *L, const struct ynode *m, const char *what,
                     const char *const *keys)
{
    size_t i, j, nkeys = 0;

    if (!m)
        return -1;
    if (m->kind != YN_MAP) {
        ERR(L, m, "wrong-type", "%s must be a mapping, not %s", what,
            kind_name(m));
        return -1;
    }
    check_dups(L, m, what);
    while (keys[nkeys])
        nkeys++;
    for (i = 0; i < m->n; i++) {
        const struct ynode *k = m->kids[2 * i];
        const char *hint;

        if (k->kind != YN_SCALAR)
            continue;
        for (j = 0; j < nkeys; j++)
            if (k->str[0] == keys[j][0] && !strcmp(k->str, keys[j]))
                break;
        if (j < nkeys)
            continue;
        hint = gl_suggest(k->str, keys, nkeys);
        if (hint)
            ERR(L, k, "unknown-key",
                "unknown key '%s' in %s; did you mean '%s'?", k->str, what,
                hint);
        else
            ERR(L, k, "unknown-key", "unknown key '%s' in %s", k->str, what);
    }
    return 0;
}

/* A scalar's text, or NULL (reported) when n is not a scalar.  YAML null
 * counts as absent.  The subject of the message is label_fmt (with "%s"
 * for a and b), formatted only when there is something to report: a
 * large plan asks for hundreds of thousands of scalars. */
static const char *scalar_of(struct ld *L, const struct ynode *n,
                             const char *label_fmt, const char *a,
                             const char *b)
{
    char label[160];

    if (!n || yt_is_null(n))
        return NULL;
    if (n->kind != YN_SCALAR) {
        snprintf(label, sizeof(label), label_fmt, a, b);
        ERR(L, n, "wrong-type", "%s must be a scalar, not %s", label,
            kind_name(n));
        return NULL;
    }
    return n->str;
}

static const char *scalar(struct ld *L, const struct ynode *n, const char *what)
{
    return scalar_of(L, n, "%s", what, NULL);
}

static void missing(struct ld *L, const struct ynode *m, const char *key,
                    const char *what)
{
    ERR(L, m, "missing-field", "%s is missing required key '%s'", what, key);
}

/* m[key] as a string; reports a missing required key at m. */
static const char *get_str(struct ld *L, const struct ynode *m, const char *key,
                           int required, const char *what)
{
    const struct ynode *n = yt_get(m, key);
    const char *s = scalar_of(L, n, "'%s' of %s", key, what);

    if (!s && required && (!n || yt_is_null(n)))
        missing(L, m, key, what);
    return s;
}

static struct gl_ref get_ref(struct ld *L, const struct ynode *m,
                             const char *key, int required, const char *what)
{
    struct gl_ref r;

    r.id = get_str(L, m, key, required, what);
    r.pos = pos_of(yt_get(m, key));
    if (!r.id)
        r.pos = pos_of(m);
    return r;
}

/* A scalar or a list of scalars, as refs. */
static void get_refs(struct ld *L, const struct ynode *m, const char *key,
                     const char *what, struct gl_refs *out)
{
    const struct ynode *n = yt_get(m, key);
    size_t i;

    out->v = NULL;
    out->n = 0;
    if (!n || yt_is_null(n))
        return;
    if (n->kind == YN_SCALAR) {
        if (!(out->v = alloc(L, 1, sizeof(*out->v))))
            return;
        out->v[0].id = n->str;
        out->v[0].pos = pos_of(n);
        out->n = 1;
        return;
    }
    if (n->kind != YN_SEQ) {
        ERR(L, n, "wrong-type", "'%s' of %s must be a list, not %s", key, what,
            kind_name(n));
        return;
    }
    if (!n->n || !(out->v = alloc(L, n->n, sizeof(*out->v))))
        return;
    for (i = 0; i < n->n; i++) {
        const char *s =
            scalar_of(L, n->kids[i], "items of '%s' in %s", key, what);
        if (!s)
            continue;
        out->v[out->n].id = s;
        out->v[out->n].pos = pos_of(n->kids[i]);
        out->n++;
    }
}

static int parse_int(const char *s, int64_t *v)
{
    char *end;
    long long x;

    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    x = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *v = x;
    return 0;
}

/* m[key] as a non-negative integer; dflt when absent. */
static int64_t get_uint(struct ld *L, const struct ynode *m, const char *key,
                        int64_t dflt, const char *what)
{
    const struct ynode *n = yt_get(m, key);
    int64_t v;

    if (!n || yt_is_null(n))
        return dflt;
    if (n->kind != YN_SCALAR || !n->plain || parse_int(n->str, &v) || v < 0) {
        ERR(L, n, "wrong-type",
            "'%s' of %s must be a whole number of 0 or more", key, what);
        return dflt;
    }
    return v;
}

static int get_bool(struct ld *L, const struct ynode *m, const char *key,
                    const char *what)
{
    const struct ynode *n = yt_get(m, key);

    if (!n || yt_is_null(n))
        return 0;
    if (n->kind == YN_SCALAR && n->plain) {
        if (!strcmp(n->str, "true") || !strcmp(n->str, "yes"))
            return 1;
        if (!strcmp(n->str, "false") || !strcmp(n->str, "no"))
            return 0;
    }
    ERR(L, n, "wrong-type", "'%s' of %s must be true or false", key, what);
    return 0;
}

/* A duration under key; returns 1 when present and valid. */
static int get_duration(struct ld *L, const struct ynode *m, const char *key,
                        const char *what, int64_t *out)
{
    const struct ynode *n = yt_get(m, key);
    const char *s;

    if (!(s = scalar_of(L, n, "'%s' of %s", key, what)))
        return 0;
    if (gl_duration_parse(s, out)) {
        ERR(L, n, "bad-duration",
            "'%s' is not a duration (like 15m, 2h, 1h30m, 45s)", s);
        return 0;
    }
    return 1;
}

/* Pick one of names[] (NULL-terminated); -1 and a hint when unknown. */
static int get_enum(struct ld *L, const struct ynode *n, const char *what,
                    const char *const *names)
{
    size_t i, count = 0;
    const char *hint;

    if (!n || n->kind != YN_SCALAR)
        return -1;
    for (i = 0; names[i]; i++, count++)
        if (!strcmp(n->str, names[i]))
            return (int)i;
    hint = gl_suggest(n->str, names, count);
    if (hint)
        ERR(L, n, "bad-value", "unknown %s '%s'; did you mean '%s'?", what,
            n->str, hint);
    else {
        struct gl_buf b = GL_BUF_INIT;
        for (i = 0; names[i]; i++)
            gl_buf_addf(&b, "%s%s", i ? ", " : "", names[i]);
        ERR(L, n, "bad-value", "unknown %s '%s' (one of: %s)", what, n->str,
            gl_buf_failed(&b) ? "the documented values" : gl_buf_str(&b));
        gl_buf_release(&b);
    }
    return -1;
}

static int is_id(const char *s, int allow_dot)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' &&
            !(allow_dot && *s == '.'))
            return 0;
    return 1;
}

static void check_id(struct ld *L, const struct gl_ref *r, int allow_dot,
                     const char *what)
{
    if (r->id && !is_id(r->id, allow_dot))
        gl_diags_add(L->d, r->pos.line, r->pos.col, GL_SEV_ERROR, "bad-id",
                     "%s id '%s' may hold only letters, digits, '_', '-'%s",
                     what, r->id, allow_dot ? " and '.'" : "");
}

/* A sequence under key; returns its node or NULL (absent or reported). */
static const struct ynode *get_seq(struct ld *L, const struct ynode *m,
                                   const char *key, const char *what)
{
    const struct ynode *n = yt_get(m, key);

    if (!n || yt_is_null(n))
        return NULL;
    if (n->kind != YN_SEQ) {
        ERR(L, n, "wrong-type", "'%s' of %s must be a list, not %s", key, what,
            kind_name(n));
        return NULL;
    }
    return n;
}

static void what_of(char *buf, size_t sz, const char *kind,
                    const struct gl_ref *id, size_t index)
{
    if (id->id)
        snprintf(buf, sz, "%s '%s'", kind, id->id);
    else
        snprintf(buf, sz, "%s #%zu", kind, index + 1);
}

/* ---- people ---------------------------------------------------------- */

static const char *const role_names[] = {"lead", "data", "tester", "dev",
                                         "ops",  "duty", NULL};

static void load_people(struct ld *L, const struct ynode *seq)
{
    static const char *const keys[] = {"id", "name", "roles", "contact", NULL};
    size_t i, j;

    if (!seq || !(L->p->people = alloc(L, seq->n, sizeof(struct gl_person))))
        return;
    for (i = 0; i < seq->n; i++) {
        const struct ynode *m = seq->kids[i];
        struct gl_person *pe = &L->p->people[L->p->n_people];
        struct gl_refs roles;
        char what[96];

        if (check_map(L, m, "a person", keys))
            continue;
        pe->pos = pos_of(m);
        pe->id = get_ref(L, m, "id", 1, "a person");
        what_of(what, sizeof(what), "person", &pe->id, i);
        check_id(L, &pe->id, 1, "person");
        pe->name = get_str(L, m, "name", 0, what);
        pe->contact = get_str(L, m, "contact", 0, what);
        get_refs(L, m, "roles", what, &roles);
        for (j = 0; j < roles.n; j++) {
            struct ynode fake;
            int r;
            memset(&fake, 0, sizeof(fake));
            fake.kind = YN_SCALAR;
            fake.str = roles.v[j].id;
            fake.line = roles.v[j].pos.line;
            fake.col = roles.v[j].pos.col;
            r = get_enum(L, &fake, "role", role_names);
            if (r >= 0)
                pe->roles |= 1u << r;
        }
        L->p->n_people++;
    }
}

/* ---- systems --------------------------------------------------------- */

static void load_systems(struct ld *L, const struct ynode *m)
{
    static const char *const keys[] = {"url", "exclude", NULL};
    size_t i;

    if (!m)
        return;
    if (m->kind != YN_MAP) {
        ERR(L, m, "wrong-type",
            "'systems' must be a mapping of names to URLs, not %s",
            kind_name(m));
        return;
    }
    if (!(L->p->systems = alloc(L, m->n, sizeof(struct gl_system))))
        return;
    for (i = 0; i < m->n; i++) {
        const struct ynode *k = m->kids[2 * i], *v = m->kids[2 * i + 1];
        struct gl_system *s = &L->p->systems[L->p->n_systems];
        char what[96];

        if (k->kind != YN_SCALAR)
            continue;
        s->pos = pos_of(k);
        s->name.id = k->str;
        s->name.pos = pos_of(k);
        if (!is_id(k->str, 0))
            ERR(L, k, "bad-id",
                "system name '%s' may hold only letters, digits, '_' and '-'",
                k->str);
        snprintf(what, sizeof(what), "system '%s'", k->str);
        if (v->kind == YN_MAP) {
            check_map(L, v, what, keys);
            s->url = get_str(L, v, "url", 1, what);
            s->url_pos = pos_of(yt_get(v, "url"));
            get_refs(L, v, "exclude", what, &s->exclude);
        } else {
            s->url = scalar(L, v, what);
            s->url_pos = pos_of(v);
            if (!s->url && yt_is_null(v))
                missing(L, k, "url", what);
        }
        L->p->n_systems++;
    }
}

/* "system.table" into a table ref. */
static void split_table(struct ld *L, const struct ynode *n, const char *s,
                        struct gl_table_ref *t)
{
    const char *dot = strchr(s, '.');

    t->pos = pos_of(n);
    t->system.pos = t->pos;
    if (!dot || dot == s || !dot[1]) {
        ERR(L, n, "bad-value",
            "'%s' must name a system and a table, like old.t_user", s);
        return;
    }
    t->system.id = gl_arena_strndup(L->a, s, (size_t)(dot - s));
    t->table = dot + 1;
    if (!t->system.id)
        L->oom = 1;
}

/* ---- sync jobs ------------------------------------------------------- */

static void load_colmap(struct ld *L, const struct ynode *k,
                        const struct ynode *v, struct gl_colmap *c,
                        const char *job)
{
    static const char *const keys[] = {
        "from", "value",           "expr", "map", "else", "default",
        "cast", "unrepresentable", NULL};
    char what[192];
    const struct ynode *mp, *un;
    int kinds = 0;
    size_t i;

    c->pos = pos_of(k);
    c->target = k->str;
    c->kind = GL_COL_FROM;
    snprintf(what, sizeof(what), "column '%s' of %s", k->str, job);
    if (v->kind == YN_SCALAR) {
        c->source = yt_is_null(v) ? k->str : v->str;
        return;
    }
    if (check_map(L, v, what, keys))
        return;
    if (yt_get(v, "from")) {
        c->source = get_str(L, v, "from", 1, what);
        kinds++;
    }
    if (yt_get(v, "value")) {
        c->kind = GL_COL_VALUE;
        c->value = get_str(L, v, "value", 0, what);
        kinds++;
    }
    if (yt_get(v, "expr")) {
        c->kind = GL_COL_EXPR;
        c->expr = get_str(L, v, "expr", 1, what);
        kinds++;
    }
    if (kinds > 1)
        ERR(L, v, "bad-value",
            "%s takes one of 'from', 'value' or 'expr', not several", what);
    if (!kinds)
        c->source = k->str;
    if (yt_get(v, "default")) {
        c->has_default = 1;
        c->dflt = get_str(L, v, "default", 0, what);
    }
    c->cast = get_str(L, v, "cast", 0, what);
    c->map_else = get_str(L, v, "else", 0, what);
    if ((un = yt_get(v, "unrepresentable"))) {
        c->unrep_pos = pos_of(un);
        if (un->kind == YN_SCALAR && !yt_is_null(un) &&
            !strcmp(un->str, "reject"))
            c->unrepresentable = GL_UNREP_REJECT;
        else if (un->kind == YN_SCALAR &&
                 (yt_is_null(un) || !strcmp(un->str, "null")))
            c->unrepresentable = GL_UNREP_NULL;
        else
            ERR(L, un, "bad-value",
                "'unrepresentable' of %s must be 'reject' or 'null'", what);
    }
    mp = yt_get(v, "map");
    if (mp && !yt_is_null(mp)) {
        if (mp->kind != YN_MAP) {
            ERR(L, mp, "wrong-type",
                "'map' of %s must be a mapping of old values to new ones",
                what);
            return;
        }
        check_dups(L, mp, what);
    }
    if (mp && mp->kind == YN_MAP && mp->n) {
        if (!(c->map = alloc(L, mp->n, sizeof(*c->map))))
            return;
        for (i = 0; i < mp->n; i++) {
            const struct ynode *mk = mp->kids[2 * i], *mv = mp->kids[2 * i + 1];
            if (mk->kind != YN_SCALAR || mv->kind != YN_SCALAR) {
                ERR(L, mv, "wrong-type",
                    "value map entries of %s must map a value to a value",
                    what);
                continue;
            }
            c->map[c->n_map].from = mk->str;
            c->map[c->n_map].to = yt_is_null(mv) ? NULL : mv->str;
            c->map[c->n_map].pos = pos_of(mk);
            c->n_map++;
        }
    }
}

static const char *const mode_names[] = {"truncate", "append", "upsert",
                                         "incremental", NULL};

static void load_error_limit(struct ld *L, const struct ynode *m,
                             struct gl_sync_job *j, const char *what)
{
    const struct ynode *n = yt_get(m, "error_limit");
    int64_t v;
    size_t len;
    char tmp[32];

    j->error_limit = 0;
    if (!n || yt_is_null(n))
        return;
    if (n->kind == YN_SCALAR && (len = strlen(n->str)) > 1 &&
        len < sizeof(tmp) && n->str[len - 1] == '%') {
        memcpy(tmp, n->str, len - 1);
        tmp[len - 1] = '\0';
        if (!parse_int(tmp, &v) && v >= 0 && v <= 100) {
            j->error_limit = v;
            j->error_limit_pct = 1;
            return;
        }
    }
    if (n->kind == YN_SCALAR && !parse_int(n->str, &v) && v >= 0) {
        j->error_limit = v;
        return;
    }
    ERR(L, n, "wrong-type",
        "'error_limit' of %s must be a number of rows or a percentage "
        "like 1%%",
        what);
}

static void load_sync(struct ld *L, const struct ynode *seq)
{
    static const char *const keys[] = {"id",
                                       "title",
                                       "from",
                                       "to",
                                       "key",
                                       "where",
                                       "mode",
                                       "watermark",
                                       "columns",
                                       "ignore",
                                       "error_limit",
                                       "batch_size",
                                       "disable_constraints",
                                       "after",
                                       "owner",
                                       "checker",
                                       "notes",
                                       NULL};
    static const char *const from_keys[] = {"system", "table", "query", NULL};
    size_t i, c;

    if (!seq || !(L->p->sync = alloc(L, seq->n, sizeof(struct gl_sync_job))))
        return;
    for (i = 0; i < seq->n; i++) {
        const struct ynode *m = seq->kids[i], *n;
        struct gl_sync_job *j = &L->p->sync[L->p->n_sync];
        char what[96];
        const char *s;

        if (check_map(L, m, "a sync job", keys))
            continue;
        j->pos = pos_of(m);
        j->id = get_ref(L, m, "id", 1, "a sync job");
        check_id(L, &j->id, 1, "sync job");
        what_of(what, sizeof(what), "sync job", &j->id, i);

        n = yt_get(m, "from");
        if (!n || yt_is_null(n)) {
            missing(L, m, "from", what);
        } else if (n->kind == YN_MAP) {
            char fw[128];
            snprintf(fw, sizeof(fw), "'from' of %s", what);
            check_map(L, n, fw, from_keys);
            j->from.system = get_ref(L, n, "system", 1, fw);
            j->from.pos = pos_of(n);
            j->from.table = get_str(L, n, "table", 0, fw);
            j->query = get_str(L, n, "query", 0, fw);
            if (!j->from.table == !j->query)
                ERR(L, n, "bad-value",
                    "'from' of %s takes either 'table' or 'query'", what);
        } else if ((s = scalar(L, n, "'from'"))) {
            split_table(L, n, s, &j->from);
        }
        n = yt_get(m, "to");
        if (!n || yt_is_null(n))
            missing(L, m, "to", what);
        else if ((s = scalar(L, n, "'to'")))
            split_table(L, n, s, &j->to);

        get_refs(L, m, "key", what, &j->key);
        j->where = get_str(L, m, "where", 0, what);
        n = yt_get(m, "mode");
        j->mode_pos = pos_of(n ? n : m);
        if (n && scalar(L, n, "'mode'")) {
            int v = get_enum(L, n, "sync mode", mode_names);
            if (v >= 0)
                j->mode = (enum gl_sync_mode)v;
        }
        j->watermark = get_str(L, m, "watermark", 0, what);
        if (j->mode == GL_SYNC_INCREMENTAL && !j->watermark)
            ERR(L, n, "missing-field",
                "incremental %s needs a 'watermark' column", what);

        n = yt_get(m, "columns");
        if (n && !yt_is_null(n)) {
            if (n->kind != YN_MAP) {
                ERR(L, n, "wrong-type",
                    "'columns' of %s must map target columns to sources", what);
            } else if ((j->columns = alloc(L, n->n, sizeof(*j->columns)))) {
                check_dups(L, n, what);
                for (c = 0; c < n->n; c++) {
                    if (n->kids[2 * c]->kind != YN_SCALAR)
                        continue;
                    load_colmap(L, n->kids[2 * c], n->kids[2 * c + 1],
                                &j->columns[j->n_columns++], what);
                }
            }
        }
        get_refs(L, m, "ignore", what, &j->ignore);
        load_error_limit(L, m, j, what);
        j->batch_size = get_uint(L, m, "batch_size", 0, what);
        j->disable_constraints = get_bool(L, m, "disable_constraints", what);
        get_refs(L, m, "after", what, &j->after);
        j->owner = get_ref(L, m, "owner", 0, what);
        j->checker = get_ref(L, m, "checker", 0, what);
        L->p->n_sync++;
    }
}

/* ---- checks ---------------------------------------------------------- */

static const char *const check_types[] = {"count", "aggregate", "diff", "sql",
                                          NULL};

static void load_checks(struct ld *L, const struct ynode *seq)
{
    static const char *const keys[] = {
        "id",      "title",        "type",         "job",
        "where",   "source_where", "target_where", "tolerance",
        "columns", "aggregates",   "system",       "sql",
        "expect",  "compare",      "owner",        "notes",
        NULL};
    size_t i;

    if (!seq || !(L->p->checks = alloc(L, seq->n, sizeof(struct gl_check))))
        return;
    for (i = 0; i < seq->n; i++) {
        const struct ynode *m = seq->kids[i], *n;
        struct gl_check *c = &L->p->checks[L->p->n_checks];
        char what[96];

        if (check_map(L, m, "a check", keys))
            continue;
        c->pos = pos_of(m);
        c->id = get_ref(L, m, "id", 1, "a check");
        check_id(L, &c->id, 1, "check");
        what_of(what, sizeof(what), "check", &c->id, i);
        n = yt_get(m, "type");
        if (!n || yt_is_null(n))
            missing(L, m, "type", what);
        else if (scalar(L, n, "'type'")) {
            int v = get_enum(L, n, "check type", check_types);
            if (v >= 0)
                c->type = (enum gl_check_type)v;
        }
        c->job = get_ref(L, m, "job", 0, what);
        c->where = get_str(L, m, "where", 0, what);
        c->source_where = get_str(L, m, "source_where", 0, what);
        c->target_where = get_str(L, m, "target_where", 0, what);
        c->tolerance = get_uint(L, m, "tolerance", 0, what);
        get_refs(L, m, "columns", what, &c->columns);
        get_refs(L, m, "aggregates", what, &c->aggregates);
        c->system = get_ref(L, m, "system", 0, what);
        c->sql = get_str(L, m, "sql", 0, what);
        c->expect = get_str(L, m, "expect", 0, what);
        c->compare = get_ref(L, m, "compare", 0, what);
        c->owner = get_ref(L, m, "owner", 0, what);
        L->p->n_checks++;
    }
}

/* ---- workflows ------------------------------------------------------- */

static void load_states(struct ld *L, const struct ynode *seq,
                        struct gl_workflow *w, const char *what)
{
    static const char *const keys[] = {"name",     "editable", "rejection",
                                       "requires", "title",    NULL};
    size_t i;

    if (!seq || !(w->states = alloc(L, seq->n, sizeof(*w->states))))
        return;
    for (i = 0; i < seq->n; i++) {
        const struct ynode *n = seq->kids[i];
        struct gl_wf_state *s = &w->states[w->n_states];
        char sw[160];

        s->pos = pos_of(n);
        if (n->kind == YN_SCALAR) {
            if (yt_is_null(n))
                continue;
            s->name.id = n->str;
            s->name.pos = pos_of(n);
        } else {
            snprintf(sw, sizeof(sw), "a state of %s", what);
            if (check_map(L, n, sw, keys))
                continue;
            s->name = get_ref(L, n, "name", 1, sw);
            if (!s->name.id)
                continue;
            snprintf(sw, sizeof(sw), "state '%s' of %s", s->name.id, what);
            s->editable = get_bool(L, n, "editable", sw);
            s->rejection = get_bool(L, n, "rejection", sw);
            get_refs(L, n, "requires", sw, &s->requires);
        }
        w->n_states++;
    }
}

static void load_transitions(struct ld *L, const struct ynode *seq,
                             struct gl_workflow *w, const char *what)
{
    static const char *const keys[] = {"from",  "to",       "action",
                                       "roles", "requires", NULL};
    size_t i, f, total = 0;

    if (!seq)
        return;
    /* "from" may list several states: one transition each */
    for (i = 0; i < seq->n; i++) {
        const struct ynode *fr = yt_get(seq->kids[i], "from");
        total += fr && fr->kind == YN_SEQ && fr->n ? fr->n : 1;
    }
    if (!(w->transitions = alloc(L, total, sizeof(*w->transitions))))
        return;
    for (i = 0; i < seq->n; i++) {
        const struct ynode *m = seq->kids[i];
        struct gl_refs from;
        struct gl_wf_transition t;
        char tw[160];

        snprintf(tw, sizeof(tw), "a transition of %s", what);
        if (check_map(L, m, tw, keys))
            continue;
        memset(&t, 0, sizeof(t));
        t.pos = pos_of(m);
        get_refs(L, m, "from", tw, &from);
        if (!yt_get(m, "from"))
            missing(L, m, "from", tw);
        t.to = get_ref(L, m, "to", 1, tw);
        t.action = get_str(L, m, "action", 0, tw);
        get_refs(L, m, "roles", tw, &t.roles);
        get_refs(L, m, "requires", tw, &t.requires);
        for (f = 0; f < from.n; f++) {
            t.from = from.v[f];
            w->transitions[w->n_transitions++] = t;
        }
    }
}

static void load_fields(struct ld *L, const struct ynode *m,
                        struct gl_workflow *w, const char *what)
{
    static const char *const keys[] = {"table", "key", "column", "where", NULL};
    size_t i;

    if (!m || yt_is_null(m))
        return;
    if (m->kind != YN_MAP) {
        ERR(L, m, "wrong-type",
            "'fields' of %s must map field names to columns", what);
        return;
    }
    check_dups(L, m, what);
    if (!(w->fields = alloc(L, m->n, sizeof(*w->fields))))
        return;
    for (i = 0; i < m->n; i++) {
        const struct ynode *k = m->kids[2 * i], *v = m->kids[2 * i + 1];
        struct gl_wf_field *f = &w->fields[w->n_fields];
        char fw[192];

        if (k->kind != YN_SCALAR)
            continue;
        f->pos = pos_of(k);
        f->name.id = k->str;
        f->name.pos = pos_of(k);
        snprintf(fw, sizeof(fw), "field '%s' of %s", k->str, what);
        if (v->kind == YN_SCALAR) {
            f->column = yt_is_null(v) ? k->str : v->str;
        } else if (!check_map(L, v, fw, keys)) {
            f->table = get_str(L, v, "table", 1, fw);
            get_refs(L, v, "key", fw, &f->key);
            if (!f->key.n)
                missing(L, v, "key", fw);
            f->column = get_str(L, v, "column", 1, fw);
            f->where = get_str(L, v, "where", 0, fw);
        }
        w->n_fields++;
    }
}

static void load_workflows(struct ld *L, const struct ynode *m)
{
    static const char *const keys[] = {
        "title",    "table",       "key", "state_column", "states", "initial",
        "terminal", "transitions", "job", "fields",       NULL};
    size_t i;

    if (!m)
        return;
    if (m->kind != YN_MAP) {
        ERR(L, m, "wrong-type",
            "'workflows' must be a mapping of names to workflows, not %s",
            kind_name(m));
        return;
    }
    check_dups(L, m, "'workflows'");
    if (!(L->p->workflows = alloc(L, m->n, sizeof(struct gl_workflow))))
        return;
    for (i = 0; i < m->n; i++) {
        const struct ynode *k = m->kids[2 * i], *v = m->kids[2 * i + 1], *n;
        struct gl_workflow *w = &L->p->workflows[L->p->n_workflows];
        char what[96];
        const char *s;

        if (k->kind != YN_SCALAR)
            continue;
        snprintf(what, sizeof(what), "workflow '%s'", k->str);
        if (check_map(L, v, what, keys))
            continue;
        w->pos = pos_of(k);
        w->name.id = k->str;
        w->name.pos = pos_of(k);
        check_id(L, &w->name, 0, "workflow");
        n = yt_get(v, "table");
        if ((s = scalar(L, n, "'table'")))
            split_table(L, n, s, &w->table);
        get_refs(L, v, "key", what, &w->key);
        w->state_column = get_str(L, v, "state_column", 0, what);
        n = get_seq(L, v, "states", what);
        if (!yt_get(v, "states"))
            missing(L, v, "states", what);
        load_states(L, n, w, what);
        w->initial = get_ref(L, v, "initial", 0, what);
        get_refs(L, v, "terminal", what, &w->terminal);
        load_transitions(L, get_seq(L, v, "transitions", what), w, what);
        w->job = get_ref(L, v, "job", 0, what);
        load_fields(L, yt_get(v, "fields"), w, what);
        L->p->n_workflows++;
    }
}

/* ---- tasks ----------------------------------------------------------- */

static const char *const stage_names[] = {
    "prepare", "sync", "release", "verify", "hypercare", "rollback", NULL};

static void load_at(struct ld *L, const struct ynode *m, struct gl_task *t,
                    const char *what)
{
    const struct ynode *n = yt_get(m, "at");
    const char *s = scalar(L, n, "'at'");
    int64_t v;
    int r;

    if (!s)
        return;
    t->at_pos = pos_of(n);
    if (!gl_reltime_parse(s, &v)) {
        t->has_at = 1;
        t->at = v;
        return;
    }
    r = gl_time_parse(s, &v, NULL);
    if (!r) {
        t->has_at = 1;
        t->at = v - L->p->switch_at; /* checked against switch_at later */
        return;
    }
    ERR(L, n, "bad-time",
        r == -2 ? "'at' of %s needs a UTC offset: '%s'"
                : "'at' of %s is not a time (T-6h, T0, T+90m or ISO 8601 "
                  "with an offset): '%s'",
        what, s);
}

static void load_task(struct ld *L, const struct ynode *m, struct gl_task *t,
                      size_t index, int rollback)
{
    const struct ynode *n;
    char what[96];

    t->pos = pos_of(m);
    t->id = get_ref(L, m, "id", 1, rollback ? "a rollback task" : "a task");
    check_id(L, &t->id, 1, "task");
    what_of(what, sizeof(what), "task", &t->id, index);
    t->title = get_str(L, m, "title", 0, what);
    n = yt_get(m, "stage");
    t->stage_pos = pos_of(n ? n : m);
    if (!n || yt_is_null(n)) {
        if (rollback)
            t->stage = GL_STAGE_ROLLBACK;
        else
            missing(L, m, "stage", what);
    } else if (scalar(L, n, "'stage'")) {
        int v = get_enum(L, n, "stage", stage_names);
        if (v >= 0)
            t->stage = (enum gl_stage)v;
        if (rollback && v >= 0 && v != GL_STAGE_ROLLBACK)
            ERR(L, n, "bad-value",
                "a task listed under 'rollback' has stage rollback");
    }
    t->owner = get_ref(L, m, "owner", 0, what);
    t->checker = get_ref(L, m, "checker", 0, what);
    get_refs(L, m, "depends_on", what, &t->depends_on);
    load_at(L, m, t, what);
    t->has_duration = get_duration(L, m, "duration", what, &t->duration);
    t->run = get_str(L, m, "run", 0, what);
    t->run_pos = pos_of(yt_get(m, "run"));
    if (t->run && strncmp(t->run, "sync ", 5) && strncmp(t->run, "check ", 6) &&
        strncmp(t->run, "shell ", 6))
        ERR(L, yt_get(m, "run"), "bad-value",
            "'run' of %s must start with 'sync', 'check' or 'shell'", what);
    get_duration(L, m, "timeout", what, &t->timeout);
    t->notes = get_str(L, m, "notes", 0, what);
    n = yt_get(m, "decides");
    if (n && !yt_is_null(n) && scalar(L, n, "'decides'")) {
        static const char *const decisions[] = {"go", NULL};
        t->decides_pos = pos_of(n);
        t->decides_go = get_enum(L, n, "decision", decisions) == 0;
    }
}

static void load_tasks(struct ld *L, const struct ynode *tasks,
                       const struct ynode *rollback)
{
    size_t i, total = (tasks ? tasks->n : 0), inline_rb = 0;
    static const char *const keys[] = {
        "id",       "title", "stage",   "owner", "checker", "depends_on", "at",
        "duration", "run",   "timeout", "notes", "decides", NULL};

    if (rollback)
        for (i = 0; i < rollback->n; i++)
            inline_rb += rollback->kids[i]->kind == YN_MAP;
    total += inline_rb;
    if (total && !(L->p->tasks = alloc(L, total, sizeof(struct gl_task))))
        return;
    for (i = 0; tasks && i < tasks->n; i++) {
        if (check_map(L, tasks->kids[i], "a task", keys))
            continue;
        load_task(L, tasks->kids[i], &L->p->tasks[L->p->n_tasks++], i, 0);
    }
    if (!rollback)
        return;
    if (!(L->p->rollback.v = alloc(L, rollback->n, sizeof(struct gl_ref))))
        return;
    for (i = 0; i < rollback->n; i++) {
        const struct ynode *n = rollback->kids[i];
        struct gl_ref *r = &L->p->rollback.v[L->p->rollback.n];

        if (n->kind == YN_MAP) {
            struct gl_task *t = &L->p->tasks[L->p->n_tasks];
            check_map(L, n, "a rollback task", keys);
            load_task(L, n, t, L->p->n_tasks, 1);
            L->p->n_tasks++;
            if (!t->id.id)
                continue;
            *r = t->id;
        } else if (n->kind == YN_SCALAR && !yt_is_null(n)) {
            r->id = n->str;
            r->pos = pos_of(n);
        } else {
            ERR(L, n, "wrong-type",
                "'rollback' lists task ids or tasks, not %s", kind_name(n));
            continue;
        }
        L->p->rollback.n++;
    }
}

/* ---- scenarios ------------------------------------------------------- */

static void load_scenarios(struct ld *L, const struct ynode *seq)
{
    static const char *const keys[] = {
        "id",      "area",     "title", "priority", "risk", "assignee",
        "samples", "workflow", "notes", "duration", NULL};
    static const char *const sample_keys[] = {"system", "query", NULL};
    static const char *const prios[] = {"P0", "P1", "P2", "P3", NULL};
    size_t i;

    if (!seq ||
        !(L->p->scenarios = alloc(L, seq->n, sizeof(struct gl_scenario))))
        return;
    for (i = 0; i < seq->n; i++) {
        const struct ynode *m = seq->kids[i], *n;
        struct gl_scenario *s = &L->p->scenarios[L->p->n_scenarios];
        char what[96];

        if (check_map(L, m, "a scenario", keys))
            continue;
        s->pos = pos_of(m);
        s->id = get_ref(L, m, "id", 1, "a scenario");
        check_id(L, &s->id, 1, "scenario");
        what_of(what, sizeof(what), "scenario", &s->id, i);
        s->area = get_str(L, m, "area", 0, what);
        s->title = get_str(L, m, "title", 1, what);
        s->priority = 2;
        n = yt_get(m, "priority");
        if (n && scalar(L, n, "'priority'")) {
            int v = get_enum(L, n, "priority", prios);
            if (v >= 0)
                s->priority = v;
        }
        s->risk = get_uint(L, m, "risk", 0, what);
        s->assignee = get_ref(L, m, "assignee", 0, what);
        s->has_duration = get_duration(L, m, "duration", what, &s->duration);
        n = yt_get(m, "samples");
        if (n && !yt_is_null(n) && !check_map(L, n, "'samples'", sample_keys)) {
            s->samples_system = get_ref(L, n, "system", 1, "'samples'");
            s->samples_query = get_str(L, n, "query", 1, "'samples'");
        }
        s->workflow = get_ref(L, m, "workflow", 0, what);
        L->p->n_scenarios++;
    }
}

/* ---- gates ----------------------------------------------------------- */

static void load_gates(struct ld *L, const struct ynode *m)
{
    static const char *const keys[] = {"go", NULL};
    static const char *const all[] = {
        "no_open_blockers",    "all_checks_passed",
        "p0_scenarios_passed", "tasks_checked",
        "checks_passed",       "scenarios_passed",
        "max_open_defects",    NULL};
    const struct ynode *go;
    size_t i;

    if (!m || check_map(L, m, "'gates'", keys))
        return;
    if (!(go = get_seq(L, m, "go", "'gates'")) || !go->n)
        return;
    if (!(L->p->gates_go = alloc(L, go->n, sizeof(struct gl_gate_rule))))
        return;
    for (i = 0; i < go->n; i++) {
        const struct ynode *n = go->kids[i], *k, *v;
        struct gl_gate_rule *g = &L->p->gates_go[L->p->n_gates_go];
        int r;

        g->pos = pos_of(n);
        if (n->kind == YN_SCALAR) {
            if ((r = get_enum(L, n, "gate criterion", all)) < 0)
                continue;
            if (r > 2) {
                ERR(L, n, "bad-value",
                    "gate criterion '%s' takes a list: "
                    "'%s: [...]'",
                    n->str, n->str);
                continue;
            }
            g->kind = (enum gl_gate_kind)r;
            L->p->n_gates_go++;
            continue;
        }
        if (n->kind != YN_MAP || n->n != 1) {
            ERR(L, n, "wrong-type",
                "a gate criterion is a name or a mapping with one key");
            continue;
        }
        k = n->kids[0];
        v = n->kids[1];
        if (k->kind != YN_SCALAR ||
            (r = get_enum(L, k, "gate criterion", all)) < 0)
            continue;
        if (r <= 2) {
            g->kind = (enum gl_gate_kind)r;
            L->p->n_gates_go++;
            continue;
        }
        g->kind = (enum gl_gate_kind)r;
        if (g->kind == GL_GATE_MAX_OPEN_DEFECTS) {
            static const char *const dkeys[] = {"severity", "count", NULL};
            static const char *const sev[] = {"blocker", "major", "minor",
                                              NULL};
            const struct ynode *sn;
            if (check_map(L, v, "'max_open_defects'", dkeys))
                continue;
            g->severity = get_str(L, v, "severity", 1, "'max_open_defects'");
            sn = yt_get(v, "severity");
            if (g->severity && get_enum(L, sn, "severity", sev) < 0)
                continue;
            g->count = get_uint(L, v, "count", 0, "'max_open_defects'");
        } else {
            get_refs(L, n, k->str, "a gate criterion", &g->refs);
            if (!g->refs.n) {
                ERR(L, v, "missing-field", "'%s' needs at least one id",
                    k->str);
                continue;
            }
        }
        L->p->n_gates_go++;
    }
}

/* ---- the whole plan -------------------------------------------------- */

static void load_top(struct ld *L, const struct ynode *root)
{
    static const char *const keys[] = {
        "cutover", "title",    "switch_at",         "people",       "systems",
        "sync",    "checks",   "workflows",         "tasks",        "scenarios",
        "gates",   "rollback", "scenario_duration", "fix_duration", NULL};
    struct gl_plan *p = L->p;
    const struct ynode *n;
    const char *s;
    int r;

    if (!root) {
        gl_diags_add(L->d, 1, 1, GL_SEV_ERROR, "missing-field",
                     "plan is empty; it needs at least 'cutover', "
                     "'switch_at' and 'people'");
        return;
    }
    if (check_map(L, root, "the plan", keys))
        return;
    p->cutover = get_str(L, root, "cutover", 1, "the plan");
    if (p->cutover && !is_id(p->cutover, 1))
        ERR(L, yt_get(root, "cutover"), "bad-id",
            "cutover name '%s' may hold only letters, digits, '_', '-' and "
            "'.'",
            p->cutover);
    p->title = get_str(L, root, "title", 0, "the plan");
    n = yt_get(root, "switch_at");
    p->switch_pos = pos_of(n ? n : root);
    if ((s = get_str(L, root, "switch_at", 1, "the plan"))) {
        r = gl_time_parse(s, &p->switch_at, &p->switch_offset);
        if (r)
            ERR(L, n, "bad-time",
                r == -2 ? "'switch_at' needs a UTC offset, like "
                          "2026-03-14T00:00:00+08:00: '%s'"
                        : "'switch_at' is not an ISO 8601 time, like "
                          "2026-03-14T00:00:00+08:00: '%s'",
                s);
    }
    /* the verification forecast's defaults (docs/plan.md) */
    p->scenario_duration = 15 * 60;
    p->fix_duration = 60 * 60;
    get_duration(L, root, "scenario_duration", "the plan",
                 &p->scenario_duration);
    get_duration(L, root, "fix_duration", "the plan", &p->fix_duration);
    if (!yt_get(root, "people"))
        missing(L, root, "people", "the plan");
    load_people(L, get_seq(L, root, "people", "the plan"));
    load_systems(L, yt_get(root, "systems"));
    load_sync(L, get_seq(L, root, "sync", "the plan"));
    load_checks(L, get_seq(L, root, "checks", "the plan"));
    n = yt_get(root, "workflows");
    load_workflows(L, n && !yt_is_null(n) ? n : NULL);
    load_tasks(L, get_seq(L, root, "tasks", "the plan"),
               get_seq(L, root, "rollback", "the plan"));
    load_scenarios(L, get_seq(L, root, "scenarios", "the plan"));
    n = yt_get(root, "gates");
    load_gates(L, n && !yt_is_null(n) ? n : NULL);
}

/* The plan of the tree root (allocated in a, which the plan then owns). */
static struct gl_plan *plan_of_tree(struct gl_arena *a, const char *file,
                                    struct ynode *root, struct gl_diags *d)
{
    struct gl_plan *p;
    struct ld L;
    const char *slash;

    if (!(p = gl_arena_alloc(a, sizeof(*p))))
        return NULL;
    p->priv = a;
    p->file = gl_arena_strdup(a, file ? file : "<plan>");
    slash = p->file ? strrchr(p->file, '/') : NULL;
    p->dir =
        slash ? gl_arena_strndup(a, p->file,
                                 (size_t)(slash - p->file) + (slash == p->file))
              : ".";
    if (!p->file || !p->dir)
        return NULL;
    memset(&L, 0, sizeof(L));
    L.a = a;
    L.d = d;
    L.p = p;
    load_top(&L, root);
    if (L.oom) {
        gl_diags_add(d, 0, 0, GL_SEV_ERROR, "yaml-limit",
                     "out of memory while loading the plan");
        return NULL;
    }
    return p;
}

/* An arena for a plan read from len bytes of text (or of its packed tree,
 * about as large): the tree and the model take about 16 bytes per byte, so
 * a large plan gets a few large blocks (see gl_arena) from the start. */
static struct gl_arena *plan_arena(size_t len)
{
    struct gl_arena *a = calloc(1, sizeof(*a));

    if (a && len > 65536)
        a->block = len < (size_t)1 << 20 ? len * 4 : (size_t)4 << 20;
    return a;
}

static void arena_free(struct gl_arena *a)
{
    gl_arena_release(a);
    free(a);
}

struct gl_plan *gl_plan_parse(const char *file, const char *text, size_t len,
                              struct gl_diags *d)
{
    struct gl_arena *a = plan_arena(len);
    struct gl_plan *p = NULL;
    struct ynode *root = NULL;

    if (!a)
        return NULL;
    if (yt_parse(a, text, len, d, &root) ||
        !(p = plan_of_tree(a, file, root, d)))
        arena_free(a);
    return p;
}

struct gl_plan *gl_plan_parse_packed(const char *file, const void *blob,
                                     size_t len, struct gl_diags *d)
{
    struct gl_arena *a = plan_arena(len);
    struct gl_plan *p = NULL;
    struct ynode *root = NULL;

    if (!a)
        return NULL;
    if (yt_unpack(a, blob, len, &root) || !(p = plan_of_tree(a, file, root, d)))
        arena_free(a);
    return p;
}

int gl_plan_pack(const char *text, size_t len, struct gl_buf *out)
{
    struct gl_arena *a = plan_arena(len);
    struct gl_diags d;
    struct ynode *root = NULL;
    int rc = -1;

    if (!a)
        return -1;
    memset(&d, 0, sizeof(d));
    if (!yt_parse(a, text, len, &d, &root))
        rc = yt_pack(root, out);
    gl_diags_release(&d);
    arena_free(a);
    return rc;
}

struct gl_plan *gl_plan_load(const char *file, struct gl_diags *d,
                             struct gl_err *err)
{
    struct gl_buf b = GL_BUF_INIT;
    struct gl_plan *p;

    if (gl_buf_read_file(&b, file, YT_MAX_INPUT)) {
        int e = errno;
        gl_buf_release(&b);
        if (e == EFBIG)
            gl_err_set(err, GL_EIO, "plan '%s' is larger than %zu bytes", file,
                       YT_MAX_INPUT);
        else
            gl_err_set(err, GL_EIO, "cannot read plan '%s': %s", file,
                       strerror(e));
        return NULL;
    }
    p = gl_plan_parse(file, gl_buf_str(&b), b.len, d);
    gl_buf_release(&b);
    if (!p)
        gl_err_set(err, GL_EPLAN, "plan '%s' cannot be read as YAML", file);
    return p;
}

void gl_plan_free(struct gl_plan *p)
{
    struct gl_arena *a;

    if (!p)
        return;
    a = p->priv;
    gl_arena_release(a);
    free(a);
}

const struct gl_person *gl_plan_person(const struct gl_plan *p, const char *id)
{
    size_t i;

    for (i = 0; id && i < p->n_people; i++)
        if (p->people[i].id.id && !strcmp(p->people[i].id.id, id))
            return &p->people[i];
    return NULL;
}

const struct gl_task *gl_plan_task(const struct gl_plan *p, const char *id)
{
    size_t i;

    for (i = 0; id && i < p->n_tasks; i++)
        if (p->tasks[i].id.id && !strcmp(p->tasks[i].id.id, id))
            return &p->tasks[i];
    return NULL;
}

const struct gl_sync_job *gl_plan_job(const struct gl_plan *p, const char *id)
{
    size_t i;

    for (i = 0; id && i < p->n_sync; i++)
        if (p->sync[i].id.id && !strcmp(p->sync[i].id.id, id))
            return &p->sync[i];
    return NULL;
}

const struct gl_system *gl_plan_system(const struct gl_plan *p,
                                       const char *name)
{
    size_t i;

    for (i = 0; name && i < p->n_systems; i++)
        if (p->systems[i].name.id && !strcmp(p->systems[i].name.id, name))
            return &p->systems[i];
    return NULL;
}

const char *gl_stage_name(enum gl_stage s)
{
    return (unsigned)s < GL_STAGE_COUNT ? stage_names[s] : "?";
}

const char *gl_role_name(enum gl_role r)
{
    unsigned i;

    for (i = 0; role_names[i]; i++)
        if ((unsigned)r == 1u << i)
            return role_names[i];
    return "?";
}
