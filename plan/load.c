/*
 * load.c - from a positioned YAML tree (ytree.c) to the plan model.
 *
 * The loader checks shape: unknown keys (with a "did you mean"), wrong
 * types, missing required keys, malformed times and enumerations.  Each
 * mapping is one table of its keys (see "key tables" below), which drives
 * both the unknown-key check and the loading.  What
 * needs the whole plan at once (references, cycles, owners and checkers)
 * is in check.c.  Loading goes on after an error, so that one run of
 * `golive validate` reports every problem.
 */
#include "golive/plan.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/ytree.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/num.h"
#include "util/suggest.h"

struct ld {
    struct gl_arena *a;
    struct gl_diags *d;
    struct gl_plan *p;
    int oom;
    /* the top level's 'tasks' and 'rollback', loaded together */
    const struct ynode *tasks, *rollback;
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

static int parse_int(const char *s, int64_t *v)
{
    return gl_int_parse(s, v); /* the CLI's reading too (util/num.h) */
}

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

/* ---- key tables ------------------------------------------------------
 *
 * Every mapping of the plan is described once, by a table of its keys:
 * the name, the kind of value, where the value goes in the record being
 * loaded (an offset), and whether it is required.  The same table answers
 * "is this key known" (with a "did you mean", in table order) and loads
 * the values, in table order: adding a key is one line.  A key with rules
 * of its own names a loader function (K_FN). */

enum key_kind {
    K_ID,       /* struct gl_ref, required: the record's id, which names
                   the record in the messages about its other keys */
    K_STR,      /* const char * */
    K_REF,      /* struct gl_ref */
    K_REFS,     /* struct gl_refs: a scalar or a list of scalars */
    K_UINT,     /* int64_t, 0 or more (absent: left as it is) */
    K_BOOL,     /* int */
    K_DURATION, /* int64_t seconds */
    K_FN,       /* fn loads it (also called when the key is absent) */
    K_TEXT      /* accepted and not loaded: free text for the reader */
};

enum {
    KEY_REQ = 1,      /* absent or null: "missing required key" (K_REFS:
                         no item; K_FN: fn is not called then) */
    KEY_PRESENT = 2,  /* absent: "missing required key" */
    KEY_POS = 4,      /* aux: a struct gl_pos set to the value's position */
    KEY_HAS = 8,      /* aux: an int set to 1 when a valid value was given */
    KEY_IDCHECK = 16, /* K_ID: letters, digits, '_', '-', '.' only */
    KEY_STOP = 32     /* K_ID: without it the record is not loaded */
};

struct key;

/* Load key k (value n, NULL when absent) of mapping m into obj.  Returns
 * 0, or -1 to stop: the record is dropped (the problem was reported). */
typedef int (*key_fn)(struct ld *L, const struct ynode *m, const struct key *k,
                      const struct ynode *n, void *obj, const char *what);

struct key {
    const char *name;
    unsigned char kind;  /* enum key_kind */
    unsigned char flags; /* KEY_* */
    size_t off;          /* where the value goes in the record */
    size_t aux;          /* KEY_POS, KEY_HAS: where that goes */
    key_fn fn;           /* K_FN */
};

#define AT offsetof
#define KEY_MAX 32
/* a table's size is checked where it is declared */
#define KEYS_FIT(t)                                                            \
    _Static_assert(sizeof(t) / sizeof(t[0]) <= KEY_MAX + 1, #t " too long")

/* How a record is named in messages.  Until its K_ID key is loaded it is
 * what ("a task"); after, kind and the id ("task 'a'", or "task #3" from
 * index without one), with " of OF" when of is set, written into name
 * (cap bytes; it stays valid after load_map for the caller's checks). */
struct rec {
    const char *what;
    const char *kind;
    const char *of;
    size_t index;
    char *name;
    size_t cap;
};

static void *field(void *obj, size_t off)
{
    return (char *)obj + off;
}

/* The key table's entry named s, or nkeys. */
static size_t key_index(const struct key *keys, size_t nkeys, const char *s)
{
    size_t j;

    for (j = 0; j < nkeys; j++)
        /* the first byte settles most misses without a call */
        if (s[0] == keys[j].name[0] && !strcmp(s, keys[j].name))
            break;
    return j;
}

static void unknown_key(struct ld *L, const struct ynode *k, const char *what,
                        const struct key *keys, size_t nkeys)
{
    const char *names[KEY_MAX], *hint;
    size_t j;

    for (j = 0; j < nkeys; j++)
        names[j] = keys[j].name;
    hint = gl_suggest(k->str, names, nkeys);
    if (hint)
        ERR(L, k, "unknown-key", "unknown key '%s' in %s; did you mean '%s'?",
            k->str, what, hint);
    else
        ERR(L, k, "unknown-key", "unknown key '%s' in %s", k->str, what);
}

/* Check that m is a mapping whose keys are in keys[] (each once) and set
 * found[i] to the value of keys[i] (NULL when absent; the first when a
 * key is repeated).  Returns 0 when m is a mapping, -1 otherwise (then
 * reported, unless m is NULL). */
static int find_keys(struct ld *L, const struct ynode *m, const char *what,
                     const struct key *keys, const struct ynode **found)
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
    while (keys[nkeys].name)
        found[nkeys++] = NULL;
    for (i = 0; i < m->n; i++) {
        const struct ynode *k = m->kids[2 * i];

        if (k->kind != YN_SCALAR)
            continue;
        j = key_index(keys, nkeys, k->str);
        if (j == nkeys)
            unknown_key(L, k, what, keys, nkeys);
        else if (!found[j])
            found[j] = m->kids[2 * i + 1];
    }
    return 0;
}

/* n as a string; reports a missing required key at m. */
static const char *str_at(struct ld *L, const struct ynode *m,
                          const struct ynode *n, const char *key, int required,
                          const char *what)
{
    const char *s = scalar_of(L, n, "'%s' of %s", key, what);

    if (!s && required && (!n || yt_is_null(n)))
        missing(L, m, key, what);
    return s;
}

static struct gl_ref ref_at(struct ld *L, const struct ynode *m,
                            const struct ynode *n, const char *key,
                            int required, const char *what)
{
    struct gl_ref r;

    r.id = str_at(L, m, n, key, required, what);
    r.pos = pos_of(r.id ? n : m);
    return r;
}

/* A scalar or a list of scalars, as refs. */
static void refs_at(struct ld *L, const struct ynode *n, const char *key,
                    const char *what, struct gl_refs *out)
{
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

/* n as a non-negative integer; dflt when absent. */
static int64_t uint_at(struct ld *L, const struct ynode *n, const char *key,
                       int64_t dflt, const char *what)
{
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

static int bool_at(struct ld *L, const struct ynode *n, const char *key,
                   const char *what)
{
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

/* A duration; returns 1 when present and valid. */
static int duration_at(struct ld *L, const struct ynode *n, const char *key,
                       const char *what, int64_t *out)
{
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

/* A sequence; returns n or NULL (absent or reported). */
static const struct ynode *seq_at(struct ld *L, const struct ynode *n,
                                  const char *key, const char *what)
{
    if (!n || yt_is_null(n))
        return NULL;
    if (n->kind != YN_SEQ) {
        ERR(L, n, "wrong-type", "'%s' of %s must be a list, not %s", key, what,
            kind_name(n));
        return NULL;
    }
    return n;
}

/* Load one key by its table entry; see struct key. */
static int load_key(struct ld *L, const struct ynode *m, const struct key *k,
                    const struct ynode *n, void *obj, const char *what)
{
    void *at = field(obj, k->off);
    int req = (k->flags & KEY_REQ) || k->kind == K_ID;

    if ((k->flags & KEY_PRESENT) && !n)
        missing(L, m, k->name, what);
    if (k->flags & KEY_POS)
        *(struct gl_pos *)field(obj, k->aux) = pos_of(n);
    switch ((enum key_kind)k->kind) {
    case K_ID:
    case K_REF:
        *(struct gl_ref *)at = ref_at(L, m, n, k->name, req, what);
        break;
    case K_STR:
        *(const char **)at = str_at(L, m, n, k->name, req, what);
        break;
    case K_REFS:
        refs_at(L, n, k->name, what, at);
        if (req && !((struct gl_refs *)at)->n)
            missing(L, m, k->name, what);
        break;
    case K_UINT:
        *(int64_t *)at = uint_at(L, n, k->name, *(int64_t *)at, what);
        break;
    case K_BOOL:
        *(int *)at = bool_at(L, n, k->name, what);
        break;
    case K_DURATION:
        if (duration_at(L, n, k->name, what, at) && (k->flags & KEY_HAS))
            *(int *)field(obj, k->aux) = 1;
        break;
    case K_FN:
        if (req && (!n || yt_is_null(n))) {
            missing(L, m, k->name, what);
            break;
        }
        return k->fn(L, m, k, n, obj, what);
    case K_TEXT:
        break;
    }
    return 0;
}

/* Check mapping m against keys[] and load it into obj, named as r says.
 * Returns 0, or -1 when m is not a mapping, a KEY_STOP id is missing or
 * a loader stopped (each reported). */
static int load_map(struct ld *L, const struct ynode *m, const struct key *keys,
                    void *obj, const struct rec *r)
{
    const struct ynode *found[KEY_MAX];
    const char *what = r->what;
    size_t i;

    if (find_keys(L, m, r->what, keys, found))
        return -1;
    for (i = 0; keys[i].name; i++) {
        const struct key *k = &keys[i];

        if (load_key(L, m, k, found[i], obj, what))
            return -1;
        if (k->kind == K_ID) {
            const struct gl_ref *id = field(obj, k->off);
            if (k->flags & KEY_IDCHECK)
                check_id(L, id, 1, r->kind);
            if (!id->id && (k->flags & KEY_STOP))
                return -1;
            if (id->id && r->of)
                snprintf(r->name, r->cap, "%s '%s' of %s", r->kind, id->id,
                         r->of);
            else if (id->id)
                snprintf(r->name, r->cap, "%s '%s'", r->kind, id->id);
            else
                snprintf(r->name, r->cap, "%s #%zu", r->kind, r->index + 1);
            what = r->name;
        }
    }
    return 0;
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

/* ---- people ---------------------------------------------------------- */

static const char *const role_names[] = {"lead", "data", "tester", "dev",
                                         "ops",  "duty", NULL};

static int person_roles(struct ld *L, const struct ynode *m,
                        const struct key *k, const struct ynode *n, void *obj,
                        const char *what)
{
    struct gl_person *pe = obj;
    struct gl_refs roles;
    size_t j;

    (void)m;
    refs_at(L, n, k->name, what, &roles);
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
    return 0;
}

static const struct key person_keys[] = {
    {"id", K_ID, KEY_IDCHECK, AT(struct gl_person, id), 0, NULL},
    {"name", K_STR, 0, AT(struct gl_person, name), 0, NULL},
    {"roles", K_FN, 0, 0, 0, person_roles},
    {"contact", K_STR, 0, AT(struct gl_person, contact), 0, NULL},
    {NULL, 0, 0, 0, 0, NULL}};
KEYS_FIT(person_keys);

static void load_people(struct ld *L, const struct ynode *seq)
{
    size_t i;

    if (!seq || !(L->p->people = alloc(L, seq->n, sizeof(struct gl_person))))
        return;
    for (i = 0; i < seq->n; i++) {
        const struct ynode *m = seq->kids[i];
        struct gl_person *pe = &L->p->people[L->p->n_people];
        char what[96];
        struct rec r = {"a person", "person", NULL, i, what, sizeof(what)};

        if (load_map(L, m, person_keys, pe, &r))
            continue;
        pe->pos = pos_of(m);
        L->p->n_people++;
    }
}

/* ---- systems --------------------------------------------------------- */

static const struct key system_keys[] = {
    {"url", K_STR, KEY_REQ | KEY_POS, AT(struct gl_system, url),
     AT(struct gl_system, url_pos), NULL},
    {"exclude", K_REFS, 0, AT(struct gl_system, exclude), 0, NULL},
    {NULL, 0, 0, 0, 0, NULL}};
KEYS_FIT(system_keys);

static void load_systems(struct ld *L, const struct ynode *m)
{
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
            struct rec r = {what, NULL, NULL, 0, NULL, 0};
            load_map(L, v, system_keys, s, &r);
        } else {
            s->url = scalar(L, v, what);
            s->url_pos = pos_of(v);
            if (!s->url && yt_is_null(v))
                missing(L, k, "url", what);
        }
        L->p->n_systems++;
    }
}

/* ---- sync jobs ------------------------------------------------------- */

/* A column being loaded: kinds counts 'from', 'value' and 'expr'. */
struct colmap_ld {
    struct gl_colmap c;
    int kinds;
};

static int col_from(struct ld *L, const struct ynode *m, const struct key *k,
                    const struct ynode *n, void *obj, const char *what)
{
    struct colmap_ld *x = obj;

    if (!n)
        return 0;
    x->c.source = str_at(L, m, n, k->name, 1, what);
    x->kinds++;
    return 0;
}

static int col_value(struct ld *L, const struct ynode *m, const struct key *k,
                     const struct ynode *n, void *obj, const char *what)
{
    struct colmap_ld *x = obj;

    if (!n)
        return 0;
    x->c.kind = GL_COL_VALUE;
    x->c.value = str_at(L, m, n, k->name, 0, what);
    x->kinds++;
    return 0;
}

static int col_expr(struct ld *L, const struct ynode *m, const struct key *k,
                    const struct ynode *n, void *obj, const char *what)
{
    struct colmap_ld *x = obj;

    if (!n)
        return 0;
    x->c.kind = GL_COL_EXPR;
    x->c.expr = str_at(L, m, n, k->name, 1, what);
    x->kinds++;
    return 0;
}

static int col_map(struct ld *L, const struct ynode *m, const struct key *k,
                   const struct ynode *mp, void *obj, const char *what)
{
    struct gl_colmap *c = &((struct colmap_ld *)obj)->c;
    size_t i;

    (void)m;
    (void)k;
    if (!mp || yt_is_null(mp))
        return 0;
    if (mp->kind != YN_MAP) {
        ERR(L, mp, "wrong-type",
            "'map' of %s must be a mapping of old values to new ones", what);
        return 0;
    }
    check_dups(L, mp, what);
    if (!mp->n || !(c->map = alloc(L, mp->n, sizeof(*c->map))))
        return 0;
    for (i = 0; i < mp->n; i++) {
        const struct ynode *mk = mp->kids[2 * i], *mv = mp->kids[2 * i + 1];
        if (mk->kind != YN_SCALAR || mv->kind != YN_SCALAR) {
            ERR(L, mv, "wrong-type",
                "value map entries of %s must map a value to a value", what);
            continue;
        }
        c->map[c->n_map].from = mk->str;
        c->map[c->n_map].to = yt_is_null(mv) ? NULL : mv->str;
        c->map[c->n_map].pos = pos_of(mk);
        c->n_map++;
    }
    return 0;
}

static int col_default(struct ld *L, const struct ynode *m, const struct key *k,
                       const struct ynode *n, void *obj, const char *what)
{
    struct colmap_ld *x = obj;

    if (!n)
        return 0;
    x->c.has_default = 1;
    x->c.dflt = str_at(L, m, n, k->name, 0, what);
    return 0;
}

static int col_unrep(struct ld *L, const struct ynode *m, const struct key *k,
                     const struct ynode *un, void *obj, const char *what)
{
    struct gl_colmap *c = &((struct colmap_ld *)obj)->c;

    (void)m;
    (void)k;
    if (!un)
        return 0;
    c->unrep_pos = pos_of(un);
    if (un->kind == YN_SCALAR && !yt_is_null(un) && !strcmp(un->str, "reject"))
        c->unrepresentable = GL_UNREP_REJECT;
    else if (un->kind == YN_SCALAR &&
             (yt_is_null(un) || !strcmp(un->str, "null")))
        c->unrepresentable = GL_UNREP_NULL;
    else
        ERR(L, un, "bad-value",
            "'unrepresentable' of %s must be 'reject' or 'null'", what);
    return 0;
}

static const struct key colmap_keys[] = {
    {"from", K_FN, 0, 0, 0, col_from},
    {"value", K_FN, 0, 0, 0, col_value},
    {"expr", K_FN, 0, 0, 0, col_expr},
    {"map", K_FN, 0, 0, 0, col_map},
    {"else", K_STR, 0, AT(struct colmap_ld, c.map_else), 0, NULL},
    {"default", K_FN, 0, 0, 0, col_default},
    {"cast", K_STR, 0, AT(struct colmap_ld, c.cast), 0, NULL},
    {"unrepresentable", K_FN, 0, 0, 0, col_unrep},
    {NULL, 0, 0, 0, 0, NULL}};
KEYS_FIT(colmap_keys);

static void load_colmap(struct ld *L, const struct ynode *k,
                        const struct ynode *v, struct gl_colmap *c,
                        const char *job)
{
    char what[192];
    struct rec r = {what, NULL, NULL, 0, NULL, 0};
    struct colmap_ld x;

    c->pos = pos_of(k);
    c->target = k->str;
    c->kind = GL_COL_FROM;
    snprintf(what, sizeof(what), "column '%s' of %s", k->str, job);
    if (v->kind == YN_SCALAR) {
        c->source = yt_is_null(v) ? k->str : v->str;
        return;
    }
    x.c = *c;
    x.kinds = 0;
    if (load_map(L, v, colmap_keys, &x, &r))
        return;
    if (x.kinds > 1)
        ERR(L, v, "bad-value",
            "%s takes one of 'from', 'value' or 'expr', not several", what);
    if (!x.kinds)
        x.c.source = k->str;
    *c = x.c;
}

static const char *const mode_names[] = {"truncate", "append", "upsert",
                                         "incremental", NULL};

static int job_error_limit(struct ld *L, const struct ynode *m,
                           const struct key *k, const struct ynode *n,
                           void *obj, const char *what)
{
    struct gl_sync_job *j = obj;
    int64_t v;
    size_t len;
    char tmp[32];

    (void)m;
    (void)k;
    j->error_limit = 0;
    if (!n || yt_is_null(n))
        return 0;
    if (n->kind == YN_SCALAR && (len = strlen(n->str)) > 1 &&
        len < sizeof(tmp) && n->str[len - 1] == '%') {
        memcpy(tmp, n->str, len - 1);
        tmp[len - 1] = '\0';
        if (!parse_int(tmp, &v) && v >= 0 && v <= 100) {
            j->error_limit = v;
            j->error_limit_pct = 1;
            return 0;
        }
    }
    if (n->kind == YN_SCALAR && !parse_int(n->str, &v) && v >= 0) {
        j->error_limit = v;
        return 0;
    }
    ERR(L, n, "wrong-type",
        "'error_limit' of %s must be a number of rows or a percentage "
        "like 1%%",
        what);
    return 0;
}

static const struct key from_keys[] = {
    {"system", K_REF, KEY_REQ, AT(struct gl_sync_job, from.system), 0, NULL},
    {"table", K_STR, 0, AT(struct gl_sync_job, from.table), 0, NULL},
    {"query", K_STR, 0, AT(struct gl_sync_job, query), 0, NULL},
    {NULL, 0, 0, 0, 0, NULL}};
KEYS_FIT(from_keys);

static int job_from(struct ld *L, const struct ynode *m, const struct key *k,
                    const struct ynode *n, void *obj, const char *what)
{
    struct gl_sync_job *j = obj;
    const char *s;

    (void)m;
    (void)k;
    if (n->kind == YN_MAP) {
        char fw[128];
        struct rec r = {fw, NULL, NULL, 0, NULL, 0};
        snprintf(fw, sizeof(fw), "'from' of %s", what);
        load_map(L, n, from_keys, j, &r);
        j->from.pos = pos_of(n);
        if (!j->from.table == !j->query)
            ERR(L, n, "bad-value",
                "'from' of %s takes either 'table' or 'query'", what);
    } else if ((s = scalar(L, n, "'from'"))) {
        split_table(L, n, s, &j->from);
    }
    return 0;
}

static int job_to(struct ld *L, const struct ynode *m, const struct key *k,
                  const struct ynode *n, void *obj, const char *what)
{
    struct gl_sync_job *j = obj;
    const char *s;

    (void)m;
    (void)k;
    (void)what;
    if ((s = scalar(L, n, "'to'")))
        split_table(L, n, s, &j->to);
    return 0;
}

static int job_mode(struct ld *L, const struct ynode *m, const struct key *k,
                    const struct ynode *n, void *obj, const char *what)
{
    struct gl_sync_job *j = obj;

    (void)k;
    (void)what;
    j->mode_pos = pos_of(n ? n : m);
    if (n && scalar(L, n, "'mode'")) {
        int v = get_enum(L, n, "sync mode", mode_names);
        if (v >= 0)
            j->mode = (enum gl_sync_mode)v;
    }
    return 0;
}

static int job_columns(struct ld *L, const struct ynode *m, const struct key *k,
                       const struct ynode *n, void *obj, const char *what)
{
    struct gl_sync_job *j = obj;
    size_t c;

    (void)m;
    (void)k;
    if (!n || yt_is_null(n))
        return 0;
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
    return 0;
}

#define J(f) AT(struct gl_sync_job, f)
static const struct key job_keys[] = {
    {"id", K_ID, KEY_IDCHECK, J(id), 0, NULL},
    {"title", K_TEXT, 0, 0, 0, NULL},
    {"from", K_FN, KEY_REQ, 0, 0, job_from},
    {"to", K_FN, KEY_REQ, 0, 0, job_to},
    {"key", K_REFS, 0, J(key), 0, NULL},
    {"where", K_STR, 0, J(where), 0, NULL},
    {"mode", K_FN, 0, 0, 0, job_mode},
    {"watermark", K_STR, KEY_POS, J(watermark), J(watermark_pos), NULL},
    {"columns", K_FN, 0, 0, 0, job_columns},
    {"ignore", K_REFS, 0, J(ignore), 0, NULL},
    {"error_limit", K_FN, 0, 0, 0, job_error_limit},
    {"batch_size", K_UINT, 0, J(batch_size), 0, NULL},
    {"disable_constraints", K_BOOL, 0, J(disable_constraints), 0, NULL},
    {"after", K_REFS, 0, J(after), 0, NULL},
    {"owner", K_REF, 0, J(owner), 0, NULL},
    {"checker", K_REF, 0, J(checker), 0, NULL},
    {"notes", K_TEXT, 0, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL}};
#undef J
KEYS_FIT(job_keys);

static void load_sync(struct ld *L, const struct ynode *seq)
{
    size_t i;

    if (!seq || !(L->p->sync = alloc(L, seq->n, sizeof(struct gl_sync_job))))
        return;
    for (i = 0; i < seq->n; i++) {
        const struct ynode *m = seq->kids[i];
        struct gl_sync_job *j = &L->p->sync[L->p->n_sync];
        char what[96];
        struct rec r = {"a sync job", "sync job", NULL, i, what, sizeof(what)};

        if (load_map(L, m, job_keys, j, &r))
            continue;
        j->pos = pos_of(m);
        if (j->mode == GL_SYNC_INCREMENTAL && !j->watermark)
            gl_diags_add(L->d, j->mode_pos.line, j->mode_pos.col, GL_SEV_ERROR,
                         "missing-field",
                         "incremental %s needs a 'watermark' column", what);
        L->p->n_sync++;
    }
}

/* ---- checks ---------------------------------------------------------- */

static const char *const check_types[] = {"count", "aggregate", "diff", "sql",
                                          NULL};

static int check_type(struct ld *L, const struct ynode *m, const struct key *k,
                      const struct ynode *n, void *obj, const char *what)
{
    struct gl_check *c = obj;

    (void)m;
    (void)k;
    (void)what;
    if (scalar(L, n, "'type'")) {
        int v = get_enum(L, n, "check type", check_types);
        if (v >= 0)
            c->type = (enum gl_check_type)v;
    }
    return 0;
}

#define C(f) AT(struct gl_check, f)
static const struct key check_keys[] = {
    {"id", K_ID, KEY_IDCHECK, C(id), 0, NULL},
    {"title", K_TEXT, 0, 0, 0, NULL},
    {"type", K_FN, KEY_REQ, 0, 0, check_type},
    {"job", K_REF, 0, C(job), 0, NULL},
    {"where", K_STR, 0, C(where), 0, NULL},
    {"source_where", K_STR, 0, C(source_where), 0, NULL},
    {"target_where", K_STR, 0, C(target_where), 0, NULL},
    {"tolerance", K_UINT, 0, C(tolerance), 0, NULL},
    {"columns", K_REFS, 0, C(columns), 0, NULL},
    {"aggregates", K_REFS, 0, C(aggregates), 0, NULL},
    {"system", K_REF, 0, C(system), 0, NULL},
    {"sql", K_STR, 0, C(sql), 0, NULL},
    {"expect", K_STR, 0, C(expect), 0, NULL},
    {"compare", K_REF, 0, C(compare), 0, NULL},
    {"owner", K_REF, 0, C(owner), 0, NULL},
    {"notes", K_TEXT, 0, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL}};
#undef C
KEYS_FIT(check_keys);

static void load_checks(struct ld *L, const struct ynode *seq)
{
    size_t i;

    if (!seq || !(L->p->checks = alloc(L, seq->n, sizeof(struct gl_check))))
        return;
    for (i = 0; i < seq->n; i++) {
        const struct ynode *m = seq->kids[i];
        struct gl_check *c = &L->p->checks[L->p->n_checks];
        char what[96];
        struct rec r = {"a check", "check", NULL, i, what, sizeof(what)};

        if (load_map(L, m, check_keys, c, &r))
            continue;
        c->pos = pos_of(m);
        L->p->n_checks++;
    }
}

/* ---- workflows ------------------------------------------------------- */

static const struct key state_keys[] = {
    {"name", K_ID, KEY_STOP, AT(struct gl_wf_state, name), 0, NULL},
    {"editable", K_BOOL, 0, AT(struct gl_wf_state, editable), 0, NULL},
    {"rejection", K_BOOL, 0, AT(struct gl_wf_state, rejection), 0, NULL},
    {"requires", K_REFS, 0, AT(struct gl_wf_state, requires), 0, NULL},
    {"title", K_TEXT, 0, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL}};
KEYS_FIT(state_keys);

static void load_states(struct ld *L, const struct ynode *seq,
                        struct gl_workflow *w, const char *what)
{
    size_t i;

    if (!seq || !(w->states = alloc(L, seq->n, sizeof(*w->states))))
        return;
    for (i = 0; i < seq->n; i++) {
        const struct ynode *n = seq->kids[i];
        struct gl_wf_state *s = &w->states[w->n_states];
        char sw[160], name[160];
        struct rec r = {sw, "state", what, i, name, sizeof(name)};

        s->pos = pos_of(n);
        if (n->kind == YN_SCALAR) {
            if (yt_is_null(n))
                continue;
            s->name.id = n->str;
            s->name.pos = pos_of(n);
        } else {
            snprintf(sw, sizeof(sw), "a state of %s", what);
            if (load_map(L, n, state_keys, s, &r))
                continue;
        }
        w->n_states++;
    }
}

/* A transition being loaded: 'from' may list several states. */
struct trans_ld {
    struct gl_wf_transition t;
    struct gl_refs from;
};

#define T(f) AT(struct trans_ld, f)
static const struct key trans_keys[] = {
    {"from", K_REFS, KEY_PRESENT, T(from), 0, NULL},
    {"to", K_REF, KEY_REQ, T(t.to), 0, NULL},
    {"action", K_STR, 0, T(t.action), 0, NULL},
    {"roles", K_REFS, 0, T(t.roles), 0, NULL},
    {"requires", K_REFS, 0, T(t.requires), 0, NULL},
    {NULL, 0, 0, 0, 0, NULL}};
#undef T
KEYS_FIT(trans_keys);

static void load_transitions(struct ld *L, const struct ynode *seq,
                             struct gl_workflow *w, const char *what)
{
    size_t i, f, total = 0;

    if (!seq)
        return;
    /* "from" may list several states: one transition each (this sizes
     * the array; trans_keys loads the key) */
    for (i = 0; i < seq->n; i++) {
        const struct ynode *fr = yt_get(seq->kids[i], trans_keys[0].name);
        total += fr && fr->kind == YN_SEQ && fr->n ? fr->n : 1;
    }
    if (!(w->transitions = alloc(L, total, sizeof(*w->transitions))))
        return;
    for (i = 0; i < seq->n; i++) {
        const struct ynode *m = seq->kids[i];
        struct trans_ld x;
        char tw[160];
        struct rec r = {tw, NULL, NULL, 0, NULL, 0};

        snprintf(tw, sizeof(tw), "a transition of %s", what);
        memset(&x, 0, sizeof(x));
        if (load_map(L, m, trans_keys, &x, &r))
            continue;
        x.t.pos = pos_of(m);
        for (f = 0; f < x.from.n; f++) {
            x.t.from = x.from.v[f];
            w->transitions[w->n_transitions++] = x.t;
        }
    }
}

static const struct key field_keys[] = {
    {"table", K_STR, KEY_REQ, AT(struct gl_wf_field, table), 0, NULL},
    {"key", K_REFS, KEY_REQ, AT(struct gl_wf_field, key), 0, NULL},
    {"column", K_STR, KEY_REQ, AT(struct gl_wf_field, column), 0, NULL},
    {"where", K_STR, 0, AT(struct gl_wf_field, where), 0, NULL},
    {NULL, 0, 0, 0, 0, NULL}};
KEYS_FIT(field_keys);

static void load_fields(struct ld *L, const struct ynode *m,
                        struct gl_workflow *w, const char *what)
{
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
        struct rec r = {fw, NULL, NULL, 0, NULL, 0};

        if (k->kind != YN_SCALAR)
            continue;
        f->pos = pos_of(k);
        f->name.id = k->str;
        f->name.pos = pos_of(k);
        snprintf(fw, sizeof(fw), "field '%s' of %s", k->str, what);
        if (v->kind == YN_SCALAR)
            f->column = yt_is_null(v) ? k->str : v->str;
        else
            load_map(L, v, field_keys, f, &r);
        w->n_fields++;
    }
}

static int wf_table(struct ld *L, const struct ynode *m, const struct key *k,
                    const struct ynode *n, void *obj, const char *what)
{
    struct gl_workflow *w = obj;
    const char *s;

    (void)m;
    (void)k;
    (void)what;
    if ((s = scalar(L, n, "'table'")))
        split_table(L, n, s, &w->table);
    return 0;
}

static int wf_states(struct ld *L, const struct ynode *m, const struct key *k,
                     const struct ynode *n, void *obj, const char *what)
{
    (void)m;
    load_states(L, seq_at(L, n, k->name, what), obj, what);
    return 0;
}

static int wf_transitions(struct ld *L, const struct ynode *m,
                          const struct key *k, const struct ynode *n, void *obj,
                          const char *what)
{
    (void)m;
    load_transitions(L, seq_at(L, n, k->name, what), obj, what);
    return 0;
}

static int wf_fields(struct ld *L, const struct ynode *m, const struct key *k,
                     const struct ynode *n, void *obj, const char *what)
{
    (void)m;
    (void)k;
    load_fields(L, n, obj, what);
    return 0;
}

#define W(f) AT(struct gl_workflow, f)
static const struct key workflow_keys[] = {
    {"title", K_TEXT, 0, 0, 0, NULL},
    {"table", K_FN, 0, 0, 0, wf_table},
    {"key", K_REFS, 0, W(key), 0, NULL},
    {"state_column", K_STR, 0, W(state_column), 0, NULL},
    {"states", K_FN, KEY_PRESENT, 0, 0, wf_states},
    {"initial", K_REF, 0, W(initial), 0, NULL},
    {"terminal", K_REFS, 0, W(terminal), 0, NULL},
    {"transitions", K_FN, 0, 0, 0, wf_transitions},
    {"job", K_REF, 0, W(job), 0, NULL},
    {"fields", K_FN, 0, 0, 0, wf_fields},
    {NULL, 0, 0, 0, 0, NULL}};
#undef W
KEYS_FIT(workflow_keys);

static void load_workflows(struct ld *L, const struct ynode *m)
{
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
        const struct ynode *k = m->kids[2 * i], *v = m->kids[2 * i + 1];
        struct gl_workflow *w = &L->p->workflows[L->p->n_workflows];
        char what[96];
        struct rec r = {what, NULL, NULL, 0, NULL, 0};

        if (k->kind != YN_SCALAR)
            continue;
        snprintf(what, sizeof(what), "workflow '%s'", k->str);
        if (load_map(L, v, workflow_keys, w, &r))
            continue;
        w->pos = pos_of(k);
        w->name.id = k->str;
        w->name.pos = pos_of(k);
        check_id(L, &w->name, 0, "workflow");
        L->p->n_workflows++;
    }
}

/* ---- tasks ----------------------------------------------------------- */

static const char *const stage_names[] = {
    "prepare", "sync", "release", "verify", "hypercare", "rollback", NULL};

/* A task being loaded: one listed under 'rollback' has stage rollback. */
struct task_ld {
    struct gl_task t;
    int rollback;
};

static int task_stage(struct ld *L, const struct ynode *m, const struct key *k,
                      const struct ynode *n, void *obj, const char *what)
{
    struct task_ld *x = obj;

    x->t.stage_pos = pos_of(n ? n : m);
    if (!n || yt_is_null(n)) {
        if (x->rollback)
            x->t.stage = GL_STAGE_ROLLBACK;
        else
            missing(L, m, k->name, what);
    } else if (scalar(L, n, "'stage'")) {
        int v = get_enum(L, n, "stage", stage_names);
        if (v >= 0)
            x->t.stage = (enum gl_stage)v;
        if (x->rollback && v >= 0 && v != GL_STAGE_ROLLBACK)
            ERR(L, n, "bad-value",
                "a task listed under 'rollback' has stage rollback");
    }
    return 0;
}

static int task_at(struct ld *L, const struct ynode *m, const struct key *k,
                   const struct ynode *n, void *obj, const char *what)
{
    struct gl_task *t = &((struct task_ld *)obj)->t;
    const char *s = scalar(L, n, "'at'");
    int64_t v;
    int r;

    (void)m;
    (void)k;
    if (!s)
        return 0;
    t->at_pos = pos_of(n);
    if (!gl_reltime_parse(s, &v)) {
        t->has_at = 1;
        t->at = v;
        return 0;
    }
    r = gl_time_parse(s, &v, NULL);
    if (!r) {
        t->has_at = 1;
        t->at = v - L->p->switch_at; /* checked against switch_at later */
        return 0;
    }
    ERR(L, n, "bad-time",
        r == -2 ? "'at' of %s needs a UTC offset: '%s'"
                : "'at' of %s is not a time (T-6h, T0, T+90m or ISO 8601 "
                  "with an offset): '%s'",
        what, s);
    return 0;
}

static int task_run(struct ld *L, const struct ynode *m, const struct key *k,
                    const struct ynode *n, void *obj, const char *what)
{
    struct gl_task *t = &((struct task_ld *)obj)->t;

    t->run = str_at(L, m, n, k->name, 0, what);
    t->run_pos = pos_of(n);
    if (t->run && strncmp(t->run, "sync ", 5) && strncmp(t->run, "check ", 6) &&
        strncmp(t->run, "shell ", 6))
        ERR(L, n, "bad-value",
            "'run' of %s must start with 'sync', 'check' or 'shell'", what);
    return 0;
}

static int task_decides(struct ld *L, const struct ynode *m,
                        const struct key *k, const struct ynode *n, void *obj,
                        const char *what)
{
    static const char *const decisions[] = {"go", NULL};
    struct gl_task *t = &((struct task_ld *)obj)->t;

    (void)m;
    (void)k;
    (void)what;
    if (n && !yt_is_null(n) && scalar(L, n, "'decides'")) {
        t->decides_pos = pos_of(n);
        t->decides_go = get_enum(L, n, "decision", decisions) == 0;
    }
    return 0;
}

#define T(f) AT(struct task_ld, t.f)
static const struct key task_keys[] = {
    {"id", K_ID, KEY_IDCHECK, T(id), 0, NULL},
    {"title", K_STR, 0, T(title), 0, NULL},
    {"stage", K_FN, 0, 0, 0, task_stage},
    {"owner", K_REF, 0, T(owner), 0, NULL},
    {"checker", K_REF, 0, T(checker), 0, NULL},
    {"depends_on", K_REFS, 0, T(depends_on), 0, NULL},
    {"at", K_FN, 0, 0, 0, task_at},
    {"duration", K_DURATION, KEY_HAS, T(duration), T(has_duration), NULL},
    {"run", K_FN, 0, 0, 0, task_run},
    {"timeout", K_DURATION, 0, T(timeout), 0, NULL},
    {"notes", K_STR, 0, T(notes), 0, NULL},
    {"decides", K_FN, 0, 0, 0, task_decides},
    {NULL, 0, 0, 0, 0, NULL}};
#undef T
KEYS_FIT(task_keys);

/* Load m as task number index into t; -1 when m is not a mapping. */
static int load_task(struct ld *L, const struct ynode *m, struct gl_task *t,
                     size_t index, int rollback)
{
    char what[96];
    struct rec r = {rollback ? "a rollback task" : "a task",
                    "task",
                    NULL,
                    index,
                    what,
                    sizeof(what)};
    struct task_ld x;

    memset(&x, 0, sizeof(x));
    x.rollback = rollback;
    if (load_map(L, m, task_keys, &x, &r))
        return -1;
    x.t.pos = pos_of(m);
    *t = x.t;
    return 0;
}

static void load_tasks(struct ld *L, const struct ynode *tasks,
                       const struct ynode *rollback)
{
    size_t i, total = (tasks ? tasks->n : 0), inline_rb = 0;

    if (rollback)
        for (i = 0; i < rollback->n; i++)
            inline_rb += rollback->kids[i]->kind == YN_MAP;
    total += inline_rb;
    if (total && !(L->p->tasks = alloc(L, total, sizeof(struct gl_task))))
        return;
    for (i = 0; tasks && i < tasks->n; i++) {
        if (!load_task(L, tasks->kids[i], &L->p->tasks[L->p->n_tasks], i, 0))
            L->p->n_tasks++;
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
            if (load_task(L, n, t, L->p->n_tasks, 1))
                continue; /* not reached: n is a mapping */
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

static int scenario_priority(struct ld *L, const struct ynode *m,
                             const struct key *k, const struct ynode *n,
                             void *obj, const char *what)
{
    static const char *const prios[] = {"P0", "P1", "P2", "P3", NULL};
    struct gl_scenario *s = obj;

    (void)m;
    (void)k;
    (void)what;
    s->priority = 2;
    if (n && scalar(L, n, "'priority'")) {
        int v = get_enum(L, n, "priority", prios);
        if (v >= 0)
            s->priority = v;
    }
    return 0;
}

static const struct key sample_keys[] = {
    {"system", K_REF, KEY_REQ, AT(struct gl_scenario, samples_system), 0, NULL},
    {"query", K_STR, KEY_REQ, AT(struct gl_scenario, samples_query), 0, NULL},
    {NULL, 0, 0, 0, 0, NULL}};
KEYS_FIT(sample_keys);

static int scenario_samples(struct ld *L, const struct ynode *m,
                            const struct key *k, const struct ynode *n,
                            void *obj, const char *what)
{
    struct rec r = {"'samples'", NULL, NULL, 0, NULL, 0};

    (void)m;
    (void)k;
    (void)what;
    if (n && !yt_is_null(n))
        load_map(L, n, sample_keys, obj, &r);
    return 0;
}

#define S(f) AT(struct gl_scenario, f)
static const struct key scenario_keys[] = {
    {"id", K_ID, KEY_IDCHECK, S(id), 0, NULL},
    {"area", K_STR, 0, S(area), 0, NULL},
    {"title", K_STR, KEY_REQ, S(title), 0, NULL},
    {"priority", K_FN, 0, 0, 0, scenario_priority},
    {"risk", K_UINT, 0, S(risk), 0, NULL},
    {"assignee", K_REF, 0, S(assignee), 0, NULL},
    {"samples", K_FN, 0, 0, 0, scenario_samples},
    {"workflow", K_REF, 0, S(workflow), 0, NULL},
    {"notes", K_TEXT, 0, 0, 0, NULL},
    {"duration", K_DURATION, KEY_HAS, S(duration), S(has_duration), NULL},
    {NULL, 0, 0, 0, 0, NULL}};
#undef S
KEYS_FIT(scenario_keys);

static void load_scenarios(struct ld *L, const struct ynode *seq)
{
    size_t i;

    if (!seq ||
        !(L->p->scenarios = alloc(L, seq->n, sizeof(struct gl_scenario))))
        return;
    for (i = 0; i < seq->n; i++) {
        const struct ynode *m = seq->kids[i];
        struct gl_scenario *s = &L->p->scenarios[L->p->n_scenarios];
        char what[96];
        struct rec r = {"a scenario", "scenario", NULL, i, what, sizeof(what)};

        if (load_map(L, m, scenario_keys, s, &r))
            continue;
        s->pos = pos_of(m);
        L->p->n_scenarios++;
    }
}

/* ---- gates ----------------------------------------------------------- */

static int defects_severity(struct ld *L, const struct ynode *m,
                            const struct key *k, const struct ynode *n,
                            void *obj, const char *what)
{
    static const char *const sev[] = {"blocker", "major", "minor", NULL};
    struct gl_gate_rule *g = obj;

    g->severity = str_at(L, m, n, k->name, 1, what);
    return g->severity && get_enum(L, n, "severity", sev) < 0 ? -1 : 0;
}

static const struct key defects_keys[] = {
    {"severity", K_FN, 0, 0, 0, defects_severity},
    {"count", K_UINT, 0, AT(struct gl_gate_rule, count), 0, NULL},
    {NULL, 0, 0, 0, 0, NULL}};
KEYS_FIT(defects_keys);

static const char *const gate_names[] = {
    "no_open_blockers",    "all_checks_passed",
    "p0_scenarios_passed", "tasks_checked",
    "checks_passed",       "scenarios_passed",
    "max_open_defects",    NULL};

/* One criterion of 'go' into g; -1 when it is not one (reported). */
static int load_gate(struct ld *L, const struct ynode *n,
                     struct gl_gate_rule *g)
{
    const struct ynode *k, *v;
    int r;

    g->pos = pos_of(n);
    if (n->kind == YN_SCALAR) {
        if ((r = get_enum(L, n, "gate criterion", gate_names)) < 0)
            return -1;
        if (r > 2) {
            ERR(L, n, "bad-value",
                "gate criterion '%s' takes a list: "
                "'%s: [...]'",
                n->str, n->str);
            return -1;
        }
        g->kind = (enum gl_gate_kind)r;
        return 0;
    }
    if (n->kind != YN_MAP || n->n != 1) {
        ERR(L, n, "wrong-type",
            "a gate criterion is a name or a mapping with one key");
        return -1;
    }
    k = n->kids[0];
    v = n->kids[1];
    if (k->kind != YN_SCALAR ||
        (r = get_enum(L, k, "gate criterion", gate_names)) < 0)
        return -1;
    g->kind = (enum gl_gate_kind)r;
    if (r <= 2)
        return 0;
    if (g->kind == GL_GATE_MAX_OPEN_DEFECTS) {
        struct rec rr = {"'max_open_defects'", NULL, NULL, 0, NULL, 0};
        return load_map(L, v, defects_keys, g, &rr);
    }
    refs_at(L, v, k->str, "a gate criterion", &g->refs);
    if (!g->refs.n) {
        ERR(L, v, "missing-field", "'%s' needs at least one id", k->str);
        return -1;
    }
    return 0;
}

static int gates_go(struct ld *L, const struct ynode *m, const struct key *k,
                    const struct ynode *n, void *obj, const char *what)
{
    const struct ynode *go = seq_at(L, n, k->name, what);
    size_t i;

    (void)m;
    (void)obj;
    if (!go || !go->n)
        return 0;
    if (!(L->p->gates_go = alloc(L, go->n, sizeof(struct gl_gate_rule))))
        return 0;
    for (i = 0; i < go->n; i++)
        if (!load_gate(L, go->kids[i], &L->p->gates_go[L->p->n_gates_go]))
            L->p->n_gates_go++;
    return 0;
}

static const struct key gates_keys[] = {{"go", K_FN, 0, 0, 0, gates_go},
                                        {NULL, 0, 0, 0, 0, NULL}};
KEYS_FIT(gates_keys);

/* ---- the whole plan -------------------------------------------------- */

static int top_cutover(struct ld *L, const struct ynode *m, const struct key *k,
                       const struct ynode *n, void *obj, const char *what)
{
    struct gl_plan *p = obj;

    p->cutover = str_at(L, m, n, k->name, 1, what);
    if (p->cutover && !is_id(p->cutover, 1))
        ERR(L, n, "bad-id",
            "cutover name '%s' may hold only letters, digits, '_', '-' and "
            "'.'",
            p->cutover);
    return 0;
}

static int top_switch_at(struct ld *L, const struct ynode *m,
                         const struct key *k, const struct ynode *n, void *obj,
                         const char *what)
{
    struct gl_plan *p = obj;
    const char *s;
    int r;

    p->switch_pos = pos_of(n ? n : m);
    if ((s = str_at(L, m, n, k->name, 1, what))) {
        r = gl_time_parse(s, &p->switch_at, &p->switch_offset);
        if (r)
            ERR(L, n, "bad-time",
                r == -2 ? "'switch_at' needs a UTC offset, like "
                          "2026-03-14T00:00:00+08:00: '%s'"
                        : "'switch_at' is not an ISO 8601 time, like "
                          "2026-03-14T00:00:00+08:00: '%s'",
                s);
    }
    return 0;
}

/* The sections: each loader gets the section's node. */
static const struct ynode *non_null(const struct ynode *n)
{
    return n && !yt_is_null(n) ? n : NULL;
}

static int top_people(struct ld *L, const struct ynode *m, const struct key *k,
                      const struct ynode *n, void *obj, const char *what)
{
    (void)m;
    (void)obj;
    load_people(L, seq_at(L, n, k->name, what));
    return 0;
}

static int top_systems(struct ld *L, const struct ynode *m, const struct key *k,
                       const struct ynode *n, void *obj, const char *what)
{
    (void)m;
    (void)k;
    (void)obj;
    (void)what;
    load_systems(L, n);
    return 0;
}

static int top_sync(struct ld *L, const struct ynode *m, const struct key *k,
                    const struct ynode *n, void *obj, const char *what)
{
    (void)m;
    (void)obj;
    load_sync(L, seq_at(L, n, k->name, what));
    return 0;
}

static int top_checks(struct ld *L, const struct ynode *m, const struct key *k,
                      const struct ynode *n, void *obj, const char *what)
{
    (void)m;
    (void)obj;
    load_checks(L, seq_at(L, n, k->name, what));
    return 0;
}

static int top_workflows(struct ld *L, const struct ynode *m,
                         const struct key *k, const struct ynode *n, void *obj,
                         const char *what)
{
    (void)m;
    (void)k;
    (void)obj;
    (void)what;
    load_workflows(L, non_null(n));
    return 0;
}

/* tasks and rollback are loaded together, after the walk (load_top) */
static int top_tasks(struct ld *L, const struct ynode *m, const struct key *k,
                     const struct ynode *n, void *obj, const char *what)
{
    (void)m;
    (void)obj;
    L->tasks = seq_at(L, n, k->name, what);
    return 0;
}

static int top_rollback(struct ld *L, const struct ynode *m,
                        const struct key *k, const struct ynode *n, void *obj,
                        const char *what)
{
    (void)m;
    (void)obj;
    L->rollback = seq_at(L, n, k->name, what);
    return 0;
}

static int top_scenarios(struct ld *L, const struct ynode *m,
                         const struct key *k, const struct ynode *n, void *obj,
                         const char *what)
{
    (void)m;
    (void)obj;
    load_scenarios(L, seq_at(L, n, k->name, what));
    return 0;
}

static int top_gates(struct ld *L, const struct ynode *m, const struct key *k,
                     const struct ynode *n, void *obj, const char *what)
{
    struct rec r = {"'gates'", NULL, NULL, 0, NULL, 0};

    (void)m;
    (void)k;
    (void)what;
    if (non_null(n))
        load_map(L, n, gates_keys, obj, &r);
    return 0;
}

static const struct key top_keys[] = {
    {"cutover", K_FN, 0, 0, 0, top_cutover},
    {"title", K_STR, 0, AT(struct gl_plan, title), 0, NULL},
    {"switch_at", K_FN, 0, 0, 0, top_switch_at},
    {"people", K_FN, KEY_PRESENT, 0, 0, top_people},
    {"systems", K_FN, 0, 0, 0, top_systems},
    {"sync", K_FN, 0, 0, 0, top_sync},
    {"checks", K_FN, 0, 0, 0, top_checks},
    {"workflows", K_FN, 0, 0, 0, top_workflows},
    {"tasks", K_FN, 0, 0, 0, top_tasks},
    {"scenarios", K_FN, 0, 0, 0, top_scenarios},
    {"gates", K_FN, 0, 0, 0, top_gates},
    {"rollback", K_FN, 0, 0, 0, top_rollback},
    {"scenario_duration", K_DURATION, 0, AT(struct gl_plan, scenario_duration),
     0, NULL},
    {"fix_duration", K_DURATION, 0, AT(struct gl_plan, fix_duration), 0, NULL},
    {NULL, 0, 0, 0, 0, NULL}};
KEYS_FIT(top_keys);

static void load_top(struct ld *L, const struct ynode *root)
{
    struct rec r = {"the plan", NULL, NULL, 0, NULL, 0};

    if (!root) {
        gl_diags_add(L->d, 1, 1, GL_SEV_ERROR, "missing-field",
                     "plan is empty; it needs at least 'cutover', "
                     "'switch_at' and 'people'");
        return;
    }
    /* the verification forecast's defaults (docs/plan.md) */
    L->p->scenario_duration = 15 * 60;
    L->p->fix_duration = 60 * 60;
    if (load_map(L, root, top_keys, L->p, &r))
        return;
    load_tasks(L, L->tasks, L->rollback);
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
