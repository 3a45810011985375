/*
 * ytree.c - build a positioned YAML tree from libfyaml parser events.
 */
#include "ytree.h"

#include "util/buf.h"

#include <libfyaml.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct frame {
    struct ynode *node;
    struct ynode **kids; /* malloc'd while the collection is open */
    size_t n, cap;
};

struct builder {
    const char *text; /* the input, to place quoted scalars */
    size_t len;
    struct gl_arena *a;
    struct gl_diags *d;
    struct frame stack[YT_MAX_DEPTH + 1];
    int depth;
    size_t nodes;
    struct ynode *root;
    int failed;
};

static void no_output(struct fy_diag *diag, void *user, const char *buf,
                      size_t len)
{
    (void)diag, (void)user, (void)buf, (void)len;
}

static struct ynode *new_node(struct builder *b, enum yn_kind kind,
                              struct fy_event *fye)
{
    const struct fy_mark *m = fy_event_start_mark(fye);
    struct ynode *n;

    if (++b->nodes > YT_MAX_NODES) {
        gl_diags_add(b->d, m ? m->line + 1 : 0, m ? m->column + 1 : 0,
                     GL_SEV_ERROR, "yaml-limit",
                     "plan has more than %d YAML nodes", YT_MAX_NODES);
        b->failed = 1;
        return NULL;
    }
    n = gl_arena_alloc(b->a, sizeof(*n));
    if (!n) {
        b->failed = 1;
        return NULL;
    }
    n->kind = kind;
    n->line = m ? m->line + 1 : 0;
    n->col = m ? m->column + 1 : 0;
    n->str = "";
    return n;
}

static int attach(struct builder *b, struct ynode *n)
{
    struct frame *f;

    if (b->depth == 0) {
        b->root = n;
        return 0;
    }
    f = &b->stack[b->depth - 1];
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        struct ynode **k = realloc(f->kids, cap * sizeof(*k));
        if (!k)
            return -1;
        f->kids = k;
        f->cap = cap;
    }
    f->kids[f->n++] = n;
    return 0;
}

static int on_event(struct builder *b, struct fy_event *fye)
{
    struct ynode *n;
    struct frame *f;
    const char *text;
    size_t len = 0;

    switch (fye->type) {
    case FYET_SCALAR:
        if (!(n = new_node(b, YN_SCALAR, fye)))
            return -1;
        text =
            fye->scalar.value ? fy_token_get_text(fye->scalar.value, &len) : "";
        if (!text)
            text = "";
        if (!(n->str = gl_arena_strndup(b->a, text, len)))
            return -1;
        n->len = (uint32_t)len; /* len <= YT_MAX_INPUT */
        n->plain = !fye->scalar.value ||
                   fy_token_scalar_style(fye->scalar.value) == FYSS_PLAIN;
        {
            /* a quoted scalar's mark is past its quote: point at the
             * quote, where the node starts */
            const struct fy_mark *m = fy_event_start_mark(fye);
            if (!n->plain && m && m->input_pos > 0 && m->input_pos <= b->len &&
                n->col > 1 &&
                (b->text[m->input_pos - 1] == '"' ||
                 b->text[m->input_pos - 1] == '\''))
                n->col--;
        }
        if (memchr(text, '\0', len)) {
            /* "a\0b" would load cut short at the NUL: refuse, as a raw
             * NUL is */
            gl_diags_add(b->d, n->line, n->col, GL_SEV_ERROR, "yaml-syntax",
                         "a plan's text cannot hold a NUL character (\\0)");
            b->failed = 1;
            return -1;
        }
        return attach(b, n);
    case FYET_ALIAS:
        /* Aliases could expand exponentially ("billion laughs"); a plan is
         * short enough to be written out. */
        n = new_node(b, YN_SCALAR, fye);
        /* the alias token starts after its '*'; point at the '*' */
        gl_diags_add(b->d, n ? n->line : 0, n && n->col > 1 ? n->col - 1 : 0,
                     GL_SEV_ERROR, "yaml-syntax",
                     "aliases are not supported in a plan");
        b->failed = 1;
        return -1;
    case FYET_SEQUENCE_START:
    case FYET_MAPPING_START:
        n = new_node(b, fye->type == FYET_MAPPING_START ? YN_MAP : YN_SEQ, fye);
        if (!n)
            return -1;
        if (b->depth >= YT_MAX_DEPTH) {
            gl_diags_add(b->d, n->line, n->col, GL_SEV_ERROR, "yaml-limit",
                         "plan nests deeper than %d levels", YT_MAX_DEPTH);
            b->failed = 1;
            return -1;
        }
        if (attach(b, n))
            return -1;
        f = &b->stack[b->depth++];
        memset(f, 0, sizeof(*f));
        f->node = n;
        return 0;
    case FYET_SEQUENCE_END:
    case FYET_MAPPING_END:
        if (b->depth == 0)
            return -1;
        f = &b->stack[--b->depth];
        n = f->node;
        if (f->n) {
            n->kids = gl_arena_alloc(b->a, f->n * sizeof(*n->kids));
            if (!n->kids) {
                free(f->kids);
                f->kids = NULL;
                return -1;
            }
            memcpy(n->kids, f->kids, f->n * sizeof(*n->kids));
        }
        n->n = (uint32_t)(n->kind == YN_MAP ? f->n / 2 : f->n);
        free(f->kids);
        f->kids = NULL;
        return 0;
    default:
        return 0;
    }
}

/* The tab in the indentation (the blanks a line starts with) of line
 * `line` (from 1): its column (from 1), or 0 when there is none. */
static int tab_in_indent(const char *text, size_t len, int line)
{
    size_t i = 0;
    int l = 1, col;

    while (i < len && l < line) {
        if (text[i++] == '\n')
            l++;
    }
    if (l != line)
        return 0;
    for (col = 1; i < len && (text[i] == ' ' || text[i] == '\t'); i++, col++)
        if (text[i] == '\t')
            return col;
    return 0;
}

/* libfyaml's messages for a tab where YAML wants spaces vary with where
 * the tab is ("invalid multiline plain key" for a key indented with one,
 * pointing at the line before): name the tab itself.  Looks at the
 * error's line and the next; with a message that speaks of a tab, at the
 * lines before it too.  Returns 1 when it reported. */
static int report_tab(struct builder *b, int line, const char *msg)
{
    int l, col;

    for (l = line; l <= line + 1; l++)
        if (l > 0 && (col = tab_in_indent(b->text, b->len, l)))
            goto found;
    for (l = line - 1; msg && strstr(msg, "tab") && l > 0; l--)
        if ((col = tab_in_indent(b->text, b->len, l)))
            goto found;
    return 0;
found:
    gl_diags_add(b->d, l, col, GL_SEV_ERROR, "yaml-syntax",
                 "a tab indents this line; YAML indents with spaces only");
    return 1;
}

static void report_syntax(struct builder *b, struct fy_diag *diag)
{
    struct fy_diag_error *e;
    void *it = NULL;
    int any = 0;

    while ((e = fy_diag_errors_iterate(diag, &it)) != NULL) {
        if (e->type < FYET_ERROR)
            continue;
        if (!any && report_tab(b, e->line, e->msg))
            return;
        /* unlike struct fy_mark, collected errors count from 1 */
        gl_diags_add(b->d, e->line, e->column, GL_SEV_ERROR, "yaml-syntax",
                     "%s", e->msg ? e->msg : "invalid YAML");
        any = 1;
    }
    if (!any)
        gl_diags_add(b->d, 0, 0, GL_SEV_ERROR, "yaml-syntax", "invalid YAML");
}

/* Offset of the first byte that is not well-formed UTF-8 (no overlong
 * forms, no surrogates, nothing past U+10FFFF), or len when all is well.
 * A plan is UTF-8; checking first also keeps such bytes away from libfyaml
 * 0.7.12, which loops forever on some of them in a directive
 * (tests/fuzz/known/libfyaml-0.7.12-directive-invalid-utf8-hang.yaml). */
static size_t utf8_invalid_at(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned c = s[i];
        size_t n, k;
        unsigned cp, min;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
            min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
            min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return i;
        }
        if (len - i <= n)
            return i;
        for (k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += n + 1;
    }
    return len;
}

/* Line and column (from 1, in characters) of byte offset off. */
static void position_of(const char *text, size_t off, int *line, int *col)
{
    size_t k;

    *line = 1;
    *col = 1;
    for (k = 0; k < off; k++) {
        if (text[k] == '\n') {
            ++*line;
            *col = 1;
        } else if (((unsigned char)text[k] & 0xC0) != 0x80) {
            ++*col;
        }
    }
}

int yt_parse(struct gl_arena *a, const char *text, size_t len,
             struct gl_diags *d, struct ynode **root)
{
    struct builder b;
    struct fy_diag_cfg dcfg;
    struct fy_diag *diag = NULL;
    struct fy_parse_cfg cfg;
    struct fy_parser *fyp = NULL;
    struct fy_event *fye;
    int docs = 0, ret = -1, i;
    size_t bad;

    memset(&b, 0, sizeof(b));
    b.text = text;
    b.len = len;
    b.a = a;
    b.d = d;
    *root = NULL;
    if (len > YT_MAX_INPUT) {
        gl_diags_add(d, 0, 0, GL_SEV_ERROR, "yaml-limit",
                     "plan is larger than %zu bytes", YT_MAX_INPUT);
        return -1;
    }
    {
        const char *nul = memchr(text, '\0', len);
        if (nul) {
            int line, col;
            position_of(text, (size_t)(nul - text), &line, &col);
            gl_diags_add(d, line, col, GL_SEV_ERROR, "yaml-syntax",
                         "plan contains a NUL byte");
            return -1;
        }
    }

    bad = utf8_invalid_at((const unsigned char *)text, len);
    if (bad < len) {
        int line, col;
        position_of(text, bad, &line, &col);
        gl_diags_add(d, line, col, GL_SEV_ERROR, "yaml-syntax",
                     "plan is not valid UTF-8 (byte 0x%02x)",
                     (unsigned char)text[bad]);
        return -1;
    }

    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = no_output;
    dcfg.level = FYET_ERROR;
    diag = fy_diag_create(&dcfg);
    if (!diag)
        return -1;
    fy_diag_set_collect_errors(diag, true);

    memset(&cfg, 0, sizeof(cfg));
    cfg.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG | FYPCF_JSON_NONE;
    cfg.diag = diag;
    fyp = fy_parser_create(&cfg);
    if (!fyp || fy_parser_set_string(fyp, text, len))
        goto out;

    while ((fye = fy_parser_parse(fyp)) != NULL) {
        int r = 0;
        if (fye->type == FYET_DOCUMENT_START && ++docs > 1) {
            const struct fy_mark *m = fy_event_start_mark(fye);
            gl_diags_add(d, m ? m->line + 1 : 0, m ? m->column + 1 : 0,
                         GL_SEV_ERROR, "yaml-syntax",
                         "a plan is one YAML document; found a second");
            r = -1;
        } else if (!b.failed) {
            r = on_event(&b, fye);
        }
        fy_parser_event_free(fyp, fye);
        if (r || b.failed)
            goto out;
    }
    if (fy_parser_get_stream_error(fyp)) {
        report_syntax(&b, diag);
        goto out;
    }
    *root = b.root;
    ret = 0;
out:
    for (i = 0; i < b.depth; i++)
        free(b.stack[i].kids);
    if (ret && !d->n_errors)
        gl_diags_add(d, 0, 0, GL_SEV_ERROR, "yaml-limit",
                     "out of memory while reading the plan");
    if (fyp)
        fy_parser_destroy(fyp);
    /* destroy, not unref: only destroy frees the collected errors */
    fy_diag_destroy(diag);
    return ret;
}

struct ynode *yt_get(const struct ynode *m, const char *key)
{
    size_t i;

    if (!m || m->kind != YN_MAP)
        return NULL;
    for (i = 0; i < m->n; i++) {
        const struct ynode *k = m->kids[2 * i];
        /* the first byte settles most misses without a call */
        if (k->kind == YN_SCALAR && k->str[0] == key[0] && !strcmp(k->str, key))
            return m->kids[2 * i + 1];
    }
    return NULL;
}

int yt_is_null(const struct ynode *n)
{
    if (!n || n->kind != YN_SCALAR || !n->plain)
        return 0;
    /* len is the text's length: on_event refuses a NUL inside a scalar */
    switch (n->len) {
    case 0:
        return 1;
    case 1:
        return n->str[0] == '~';
    case 4:
        return !memcmp(n->str, "null", 4) || !memcmp(n->str, "Null", 4) ||
               !memcmp(n->str, "NULL", 4);
    default:
        return 0;
    }
}

/* ---- the packed form --------------------------------------------------
 *
 *   "GLYT" u32 version (1)  u32 nodes  u32 pool bytes
 *   nodes records in pre-order, 16 bytes each:
 *     u8 kind  u8 plain  u16 0  u32 line  u32 col
 *     u32 scalar: length of its text; sequence: items; mapping: pairs
 *   the pool: each scalar's text and a NUL, in pre-order
 *
 * Integers are little-endian.  A mapping's kids are key, value, key, ...
 * as in the tree. */

#define YT_PACK_MAGIC "GLYT"
#define YT_PACK_VERSION 1u
#define YT_PACK_HEAD 16
#define YT_PACK_REC 16

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint32_t kid_count(const struct ynode *n)
{
    return n->kind == YN_MAP ? 2 * n->n : n->kind == YN_SEQ ? n->n : 0;
}

struct packer {
    struct gl_buf *recs, *pool;
    uint32_t nodes;
    int failed;
};

static void pack_node(struct packer *k, const struct ynode *n, int depth)
{
    unsigned char r[YT_PACK_REC];
    uint32_t i, kids = kid_count(n);

    if (k->failed)
        return;
    if (depth > YT_MAX_DEPTH + 1) {
        k->failed = 1;
        return;
    }
    memset(r, 0, sizeof(r));
    r[0] = n->kind;
    r[1] = n->plain;
    put32(r + 4, (uint32_t)n->line);
    put32(r + 8, (uint32_t)n->col);
    put32(r + 12, n->kind == YN_SCALAR ? n->len : n->n);
    k->nodes++;
    if (gl_buf_add(k->recs, r, sizeof(r)) ||
        (n->kind == YN_SCALAR && gl_buf_add(k->pool, n->str, n->len + 1))) {
        k->failed = 1;
        return;
    }
    for (i = 0; i < kids; i++)
        pack_node(k, n->kids[i], depth + 1);
}

int yt_pack(const struct ynode *root, struct gl_buf *out)
{
    struct gl_buf recs = GL_BUF_INIT, pool = GL_BUF_INIT;
    struct packer k = {&recs, &pool, 0, 0};
    unsigned char h[YT_PACK_HEAD];
    int rc = -1;

    if (root)
        pack_node(&k, root, 0);
    if (!k.failed && pool.len <= UINT32_MAX) {
        memcpy(h, YT_PACK_MAGIC, 4);
        put32(h + 4, YT_PACK_VERSION);
        put32(h + 8, k.nodes);
        put32(h + 12, (uint32_t)pool.len);
        rc = gl_buf_add(out, h, sizeof(h)) ||
                     gl_buf_add(out, recs.data ? recs.data : "", recs.len) ||
                     gl_buf_add(out, pool.data ? pool.data : "", pool.len)
                 ? -1
                 : 0;
    }
    gl_buf_release(&recs);
    gl_buf_release(&pool);
    return rc;
}

int yt_unpack(struct gl_arena *a, const void *blob, size_t len,
              struct ynode **root)
{
    const unsigned char *b = blob, *rec;
    struct ynode *nodes, **kids = NULL, *stack[YT_MAX_DEPTH + 2];
    uint32_t filled[YT_MAX_DEPTH + 2];
    uint32_t count, pool_len, i, kp = 0, off = 0;
    char *pool;
    int depth = 0;

    *root = NULL;
    if (len < YT_PACK_HEAD || memcmp(b, YT_PACK_MAGIC, 4) ||
        get32(b + 4) != YT_PACK_VERSION)
        return -1;
    count = get32(b + 8);
    pool_len = get32(b + 12);
    if (count > YT_MAX_NODES ||
        len != YT_PACK_HEAD + (size_t)count * YT_PACK_REC + pool_len)
        return -1;
    if (count == 0)
        return pool_len ? -1 : 0;
    pool = gl_arena_alloc_raw(a, (size_t)pool_len + 1);
    nodes = gl_arena_alloc(a, (size_t)count * sizeof(*nodes));
    if (count > 1)
        kids = gl_arena_alloc_raw(a, (size_t)(count - 1) * sizeof(*kids));
    if (!pool || !nodes || (count > 1 && !kids))
        return -1;
    memcpy(pool, b + YT_PACK_HEAD + (size_t)count * YT_PACK_REC, pool_len);
    pool[pool_len] = '\0';
    for (i = 0; i < count; i++) {
        struct ynode *n = &nodes[i];
        uint32_t k;

        rec = b + YT_PACK_HEAD + (size_t)i * YT_PACK_REC;
        if (rec[0] > YN_MAP || rec[1] > 1 || get32(rec + 4) > INT32_MAX ||
            get32(rec + 8) > INT32_MAX)
            return -1;
        n->kind = rec[0];
        n->plain = rec[1];
        n->line = (int)get32(rec + 4);
        n->col = (int)get32(rec + 8);
        n->str = "";
        if (n->kind == YN_SCALAR) {
            n->len = get32(rec + 12);
            if (n->len >= pool_len - off || pool[off + n->len] != '\0')
                return -1;
            n->str = pool + off;
            off += n->len + 1;
        } else {
            n->n = get32(rec + 12);
        }
        if (i > 0) {
            if (depth == 0)
                return -1; /* a second root */
            stack[depth - 1]->kids[filled[depth - 1]++] = n;
        }
        k = kid_count(n);
        if ((n->kind == YN_MAP && n->n > UINT32_MAX / 2) || k > count - 1 - kp)
            return -1;
        if (k) {
            if (depth > YT_MAX_DEPTH)
                return -1;
            n->kids = kids + kp;
            kp += k;
            stack[depth] = n;
            filled[depth++] = 0;
        }
        while (depth > 0 && filled[depth - 1] == kid_count(stack[depth - 1]))
            depth--;
    }
    if (depth || off != pool_len || kp != count - 1)
        return -1;
    *root = &nodes[0];
    return 0;
}
