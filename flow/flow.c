/*
 * flow.c - the flow check (see golive/flow.h).
 *
 * The workflow's graph is analysed in C (which states reach a terminal
 * one, which rejections lead back to an editable state, which fields
 * every way out of a state needs); the records are only counted, per
 * state, in the database.
 */
#include "golive/flow.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golive/db.h"
#include "golive/store.h"
#include "sync/mapping.h"
#include "util/buf.h"

/* ---- the graph --------------------------------------------------------- */

struct graph {
    const struct gl_workflow *w;
    size_t n;
    char *terminal;     /* per state */
    char *reaches_end;  /* some terminal state is reachable */
    char *has_out;      /* some transition leaves it */
    char *back_to_edit; /* an editable state is reachable (or it is one) */
};

static size_t sidx(const struct gl_workflow *w, const char *name)
{
    size_t i;

    for (i = 0; name && i < w->n_states; i++)
        if (w->states[i].name.id && !strcmp(w->states[i].name.id, name))
            return i;
    return (size_t)-1;
}

static int graph_build(struct graph *g, const struct gl_workflow *w)
{
    size_t i, t, changed = 1;

    memset(g, 0, sizeof(*g));
    g->w = w;
    g->n = w->n_states;
    g->terminal = calloc(g->n + 1, 1);
    g->reaches_end = calloc(g->n + 1, 1);
    g->has_out = calloc(g->n + 1, 1);
    g->back_to_edit = calloc(g->n + 1, 1);
    if (!g->terminal || !g->reaches_end || !g->has_out || !g->back_to_edit)
        return -1;
    for (i = 0; i < w->terminal.n; i++) {
        size_t k = sidx(w, w->terminal.v[i].id);
        if (k != (size_t)-1)
            g->terminal[k] = g->reaches_end[k] = 1;
    }
    for (i = 0; i < g->n; i++)
        g->back_to_edit[i] = w->states[i].editable;
    for (t = 0; t < w->n_transitions; t++) {
        size_t f = sidx(w, w->transitions[t].from.id);
        if (f != (size_t)-1)
            g->has_out[f] = 1;
    }
    /* fixed points: small graphs, so plain relaxation is enough */
    while (changed) {
        changed = 0;
        for (t = 0; t < w->n_transitions; t++) {
            size_t f = sidx(w, w->transitions[t].from.id);
            size_t to = sidx(w, w->transitions[t].to.id);
            if (f == (size_t)-1 || to == (size_t)-1)
                continue;
            if (g->reaches_end[to] && !g->reaches_end[f])
                changed = g->reaches_end[f] = 1;
            if (g->back_to_edit[to] && !g->back_to_edit[f])
                changed = g->back_to_edit[f] = 1;
        }
    }
    return 0;
}

static void graph_free(struct graph *g)
{
    free(g->terminal);
    free(g->reaches_end);
    free(g->has_out);
    free(g->back_to_edit);
}

static const struct gl_wf_field *field_of(const struct gl_workflow *w,
                                          const char *name)
{
    size_t i;

    for (i = 0; i < w->n_fields; i++)
        if (!strcmp(w->fields[i].name.id, name))
            return &w->fields[i];
    return NULL;
}

/* ---- SQL ---------------------------------------------------------------- */

struct ctx {
    const struct gl_plan *p;
    const struct gl_workflow *w;
    struct gl_db *db;
    struct gl_table_desc t;
    struct gl_buf table; /* quoted table */
    struct gl_buf keys;  /* quoted key list */
    struct gl_buf state; /* quoted state column */
    struct gl_err *err;
};

static void lit(struct ctx *C, const char *s, struct gl_buf *b)
{
    struct gl_value v = {GL_TEXT, 0, 0, NULL, 0};

    v.s = s;
    v.len = strlen(s);
    C->db->drv->quote_value(C->db, &v, b);
}

/* SQL true when the record lacks field name. */
static void missing_cond(struct ctx *C, const char *name, struct gl_buf *b)
{
    const struct gl_wf_field *f = field_of(C->w, name);
    const struct gl_db_driver *d = C->db->drv;
    size_t k;

    if (f && f->table) {
        gl_buf_adds(b, "NOT EXISTS (SELECT 1 FROM ");
        d->quote_ident(f->table, b);
        gl_buf_adds(b, " golive_c WHERE ");
        for (k = 0; k < f->key.n && k < C->w->key.n; k++) {
            gl_buf_adds(b, "golive_c.");
            d->quote_ident(f->key.v[k].id, b);
            gl_buf_adds(b, " = golive_t.");
            d->quote_ident(C->w->key.v[k].id, b);
            gl_buf_adds(b, " AND ");
        }
        if (f->where)
            gl_buf_addf(b, "(%s) AND ", f->where);
        gl_buf_adds(b, "golive_c.");
        d->quote_ident(f->column, b);
        gl_buf_adds(b, " IS NOT NULL)");
        return;
    }
    {
        const char *col = f && f->column ? f->column : name;
        int ci = gl_table_col(&C->t, col);
        gl_buf_adds(b, "(golive_t.");
        d->quote_ident(col, b);
        gl_buf_adds(b, " IS NULL");
        if (ci >= 0 && C->t.cols[ci].type == GL_TEXT) {
            gl_buf_adds(b, " OR TRIM(golive_t.");
            d->quote_ident(col, b);
            gl_buf_adds(b, ") = ''");
        }
        gl_buf_adds(b, ")");
    }
}

static int64_t count_where(struct ctx *C, const char *cond, int *bad)
{
    struct gl_buf q = GL_BUF_INIT;
    int64_t n = 0;

    gl_buf_addf(&q, "SELECT count(*) FROM %s golive_t WHERE %s",
                gl_buf_str(&C->table), cond);
    if (gl_buf_check(&q, "the query", C->err) ||
        gl_db_query_int(C->db, gl_buf_str(&q), &n, C->err))
        *bad = 1;
    gl_buf_release(&q);
    return n;
}

static void key_text(struct gl_buf *b, const struct gl_value *row, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (i)
            gl_buf_adds(b, ",");
        if (row[i].type == GL_NULL)
            gl_buf_adds(b, "NULL");
        else
            gl_value_text(&row[i], b);
    }
}

static int add_problem(struct ctx *C, struct gl_flow_report *r,
                       const char *kind, const char *state, const char *detail,
                       const char *cond, int64_t count, int samples,
                       struct gl_pos pos, const char *message)
{
    struct gl_flow_problem *p;
    struct gl_buf q = GL_BUF_INIT, kb = GL_BUF_INIT;
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    void *v = realloc(r->v, (r->n + 1) * sizeof(*r->v));
    int rc = GL_OK, k;

    if (!v)
        return gl_err_set(C->err, GL_ENOMEM, "out of memory");
    r->v = v;
    p = &r->v[r->n++];
    memset(p, 0, sizeof(*p));
    snprintf(p->kind, sizeof(p->kind), "%s", kind);
    snprintf(p->state, sizeof(p->state), "%s", state ? state : "");
    snprintf(p->detail, sizeof(p->detail), "%s", detail ? detail : "");
    snprintf(p->message, sizeof(p->message), "%s", message);
    p->count = count;
    p->pos = pos;
    if (!cond)
        return GL_OK;
    gl_buf_addf(&q, "SELECT %s FROM %s golive_t WHERE %s ORDER BY %s",
                gl_buf_str(&C->keys), gl_buf_str(&C->table), cond,
                gl_buf_str(&C->keys));
    if ((rc = gl_buf_check(&q, "the query", C->err)))
        goto out;
    if (!(p->sql = strdup(gl_buf_str(&q)))) {
        rc = gl_err_set(C->err, GL_ENOMEM, "out of memory");
        goto out;
    }
    if (samples > 0) {
        gl_buf_addf(&q, " LIMIT %d", samples);
        if ((rc = gl_buf_check(&q, "the query", C->err)) ||
            (rc = C->db->drv->query(C->db, gl_buf_str(&q), &c, C->err)))
            goto out;
        p->samples = calloc((size_t)samples, sizeof(char *));
        while (p->samples && (k = C->db->drv->next(c, &row, C->err)) == 1 &&
               p->nsamples < (size_t)samples) {
            gl_buf_reset(&kb);
            key_text(&kb, row, C->w->key.n);
            if (gl_buf_failed(&kb) ||
                !(p->samples[p->nsamples] = strdup(gl_buf_str(&kb)))) {
                rc = gl_err_set(C->err, GL_ENOMEM, "out of memory");
                break;
            }
            p->nsamples++;
        }
        C->db->drv->cursor_close(c);
    }
out:
    gl_buf_release(&q);
    gl_buf_release(&kb);
    return rc;
}

static int ctx_open(struct ctx *C, const struct gl_plan *p,
                    const struct gl_workflow *w, struct gl_err *err)
{
    const struct gl_system *sys;
    size_t k;

    memset(C, 0, sizeof(*C));
    C->p = p;
    C->w = w;
    C->err = err;
    if (!w->table.system.id || !w->table.table || !w->key.n || !w->state_column)
        return gl_err_set(err, GL_EUSAGE,
                          "workflow '%s' is not bound to a table: it needs "
                          "'table', 'key' and 'state_column'",
                          w->name.id);
    sys = gl_plan_system(p, w->table.system.id);
    if (!sys || !sys->url)
        return gl_err_set(err, GL_EUSAGE, "system '%s' is not in the plan",
                          w->table.system.id);
    gl_db_global_init();
    if (gl_db_open(sys->url, p->dir, &C->db, err))
        return err ? err->code : GL_EIO;
    if (C->db->drv->describe(C->db, w->table.table, &C->t, err))
        return err ? err->code : GL_EIO;
    C->db->drv->quote_ident(w->table.table, &C->table);
    for (k = 0; k < w->key.n; k++) {
        if (k)
            gl_buf_adds(&C->keys, ", ");
        gl_buf_adds(&C->keys, "golive_t.");
        C->db->drv->quote_ident(w->key.v[k].id, &C->keys);
    }
    gl_buf_adds(&C->state, "golive_t.");
    C->db->drv->quote_ident(w->state_column, &C->state);
    /* checked once: every query of the check is built from them */
    if (gl_buf_failed(&C->table) || gl_buf_failed(&C->keys) ||
        gl_buf_failed(&C->state))
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    return GL_OK;
}

static void ctx_close(struct ctx *C)
{
    gl_buf_release(&C->table);
    gl_buf_release(&C->keys);
    gl_buf_release(&C->state);
    gl_table_desc_release(&C->t);
    gl_db_close(C->db);
}

/* ---- the check ------------------------------------------------------------
 */

static int in_list(const struct gl_refs *r, const char *s)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        if (!strcmp(r->v[i].id, s))
            return 1;
    return 0;
}

/* Fields every transition out of state s requires (none when it has no
 * way out).  Returns how many, written to out (pointers into the plan). */
static size_t blocking_fields(const struct gl_workflow *w, const char *s,
                              const char **out, size_t cap)
{
    size_t t, i, n = 0, outs = 0;
    const struct gl_wf_transition *first = NULL;

    for (t = 0; t < w->n_transitions; t++)
        if (w->transitions[t].from.id &&
            !strcmp(w->transitions[t].from.id, s)) {
            outs++;
            if (!first)
                first = &w->transitions[t];
        }
    if (!first)
        return 0;
    for (i = 0; i < first->requires.n && n < cap; i++) {
        const char *f = first->requires.v[i].id;
        int all = 1;
        for (t = 0; t < w->n_transitions && all; t++)
            if (w->transitions[t].from.id &&
                !strcmp(w->transitions[t].from.id, s))
                all = in_list(&w->transitions[t].requires, f);
        if (all)
            out[n++] = f;
    }
    (void)outs;
    return n;
}

static int check_value_map(const struct gl_plan *p, const struct gl_workflow *w,
                           struct graph *g, struct ctx *C,
                           struct gl_flow_report *r)
{
    const struct gl_sync_job *j = gl_plan_job(p, w->job.id);
    const struct gl_colmap *m;
    const struct gl_system *sys;
    struct gl_db *src = NULL;
    struct gl_buf q = GL_BUF_INIT, key = GL_BUF_INIT;
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    int rc = GL_OK, k;
    size_t e;

    if (!j || !(m = gl_sync_mapping(j, w->state_column)) || !m->n_map ||
        m->kind != GL_COL_FROM)
        return GL_OK;
    sys = gl_plan_system(p, j->from.system.id);
    if (!sys || !sys->url || gl_db_open(sys->url, p->dir, &src, C->err))
        return sys && sys->url ? C->err->code : GL_OK;
    /* one GROUP BY on the old system: how many rows carry each code */
    gl_buf_adds(&q, "SELECT ");
    src->drv->quote_ident(m->source, &q);
    gl_buf_adds(&q, ", count(*) FROM ");
    gl_sync_source_relation(j, src, &q);
    if (j->where)
        gl_buf_addf(&q, " WHERE (%s)", j->where);
    gl_buf_adds(&q, " GROUP BY ");
    src->drv->quote_ident(m->source, &q);
    if ((rc = gl_buf_check(&q, "the query", C->err)) ||
        (rc = src->drv->query(src, gl_buf_str(&q), &c, C->err)))
        goto out;
    while ((k = src->drv->next(c, &row, C->err)) == 1) {
        const char *why = NULL, *to = NULL;
        size_t si;
        char msg[512], detail[256];
        if (row[0].type == GL_NULL)
            continue;
        gl_buf_reset(&key);
        gl_value_text(&row[0], &key);
        if ((rc = gl_buf_check(&key, "a value", C->err)))
            break;
        for (e = 0; e < m->n_map; e++)
            if (!strcmp(m->map[e].from, gl_buf_str(&key)))
                break;
        if (e == m->n_map || !(to = m->map[e].to))
            continue; /* unmapped codes are for validate --online */
        si = sidx(w, to);
        if (si == (size_t)-1)
            why = "a state the workflow does not have";
        else if (!g->reaches_end[si])
            why = "a state with no way to a terminal state";
        else if (w->states[si].rejection && !g->back_to_edit[si])
            why = "a rejection with no way back to an editable state";
        if (!why)
            continue;
        snprintf(detail, sizeof(detail), "%s -> %s", gl_buf_str(&key), to);
        snprintf(msg, sizeof(msg),
                 "sync job '%s' maps old code '%s' (%" PRId64
                 " rows) to '%s', %s",
                 j->id.id, gl_buf_str(&key), row[1].i, to, why);
        if ((rc = add_problem(C, r, GL_FLOW_VALUE_MAP, to, detail, NULL,
                              row[1].i, 0, m->map[e].pos, msg)))
            break;
    }
    if (k < 0 && !rc)
        rc = C->err->code;
    src->drv->cursor_close(c);
out:
    gl_buf_release(&q);
    gl_buf_release(&key);
    gl_db_close(src);
    return rc;
}

int gl_flow_check(const struct gl_plan *p, const struct gl_workflow *w,
                  int samples, struct gl_flow_report *r, struct gl_err *err)
{
    struct ctx C;
    struct graph g;
    struct gl_buf q = GL_BUF_INIT, cond = GL_BUF_INIT;
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    size_t i, k;
    int rc, bad = 0, step;

    memset(r, 0, sizeof(*r));
    memset(&g, 0, sizeof(g));
    snprintf(r->workflow, sizeof(r->workflow), "%s", w->name.id);
    if ((rc = ctx_open(&C, p, w, err)))
        goto out;
    if (graph_build(&g, w)) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto out;
    }

    /* 1. records per state: one GROUP BY */
    gl_buf_addf(&q, "SELECT %s, count(*) FROM %s golive_t GROUP BY %s",
                gl_buf_str(&C.state), gl_buf_str(&C.table),
                gl_buf_str(&C.state));
    if ((rc = gl_buf_check(&q, "the query", err)) ||
        (rc = C.db->drv->query(C.db, gl_buf_str(&q), &c, err)))
        goto out;
    while ((step = C.db->drv->next(c, &row, err)) == 1) {
        struct gl_buf sv = GL_BUF_INIT;
        char **ns = realloc(r->states, (r->nstates + 1) * sizeof(char *));
        int64_t *nc =
            realloc(r->state_counts, (r->nstates + 1) * sizeof(int64_t));
        if (ns)
            r->states = ns;
        if (nc)
            r->state_counts = nc;
        if (!ns || !nc) {
            step = -GL_ENOMEM;
            break;
        }
        if (row[0].type != GL_NULL)
            gl_value_text(&row[0], &sv);
        if (gl_buf_failed(&sv)) {
            gl_buf_release(&sv);
            step = -gl_err_set(err, GL_ENOMEM, "out of memory");
            break;
        }
        r->states[r->nstates] =
            row[0].type == GL_NULL ? NULL : strdup(gl_buf_str(&sv));
        r->state_counts[r->nstates++] = row[1].i;
        r->records += row[1].i;
        gl_buf_release(&sv);
    }
    C.db->drv->cursor_close(c);
    c = NULL;
    if (step < 0) {
        rc = -step;
        goto out;
    }

    /* 2. values that are no state of the workflow */
    for (i = 0; i < r->nstates; i++) {
        const char *s = r->states[i];
        char msg[512];
        if (s && sidx(w, s) != (size_t)-1)
            continue;
        gl_buf_reset(&cond);
        if (s) {
            gl_buf_addf(&cond, "%s = ", gl_buf_str(&C.state));
            lit(&C, s, &cond);
        } else {
            gl_buf_addf(&cond, "%s IS NULL", gl_buf_str(&C.state));
        }
        if ((rc = gl_buf_check(&cond, "the condition", err)))
            goto out;
        snprintf(msg, sizeof(msg),
                 "%" PRId64 " %s in '%s', which is not a state of "
                 "workflow '%s'",
                 r->state_counts[i],
                 r->state_counts[i] == 1 ? "record is" : "records are",
                 s ? s : "NULL", w->name.id);
        if ((rc = add_problem(&C, r, GL_FLOW_UNKNOWN_STATE, s ? s : "NULL",
                              NULL, gl_buf_str(&cond), r->state_counts[i],
                              samples, w->pos, msg)))
            goto out;
    }

    /* 3. per known state with records */
    for (k = 0; k < w->n_states; k++) {
        const struct gl_wf_state *st = &w->states[k];
        const char *s = st->name.id;
        int64_t in_state = 0;
        const char *needs[32];
        size_t nneeds, f;
        char msg[512];

        for (i = 0; i < r->nstates; i++)
            if (r->states[i] && !strcmp(r->states[i], s))
                in_state = r->state_counts[i];
        if (!in_state)
            continue;
        gl_buf_reset(&cond);
        gl_buf_addf(&cond, "%s = ", gl_buf_str(&C.state));
        lit(&C, s, &cond);
        if ((rc = gl_buf_check(&cond, "the condition", err)))
            goto out;

        if (!g.terminal[k] && !g.reaches_end[k]) {
            snprintf(msg, sizeof(msg), "%" PRId64 " %s in '%s', %s", in_state,
                     in_state == 1 ? "record sits" : "records sit", s,
                     g.has_out[k] ? "from which no terminal state can be "
                                    "reached"
                                  : "which has no way out");
            if ((rc = add_problem(&C, r, GL_FLOW_DEAD_END, s, NULL,
                                  gl_buf_str(&cond), in_state, samples,
                                  st->name.pos, msg)))
                goto out;
        }
        if (st->rejection && !g.back_to_edit[k]) {
            snprintf(msg, sizeof(msg),
                     "%" PRId64 " rejected record%s in '%s' %s no way back "
                     "to an editable state",
                     in_state, in_state == 1 ? "" : "s", s,
                     in_state == 1 ? "has" : "have");
            if ((rc = add_problem(&C, r, GL_FLOW_NO_WAY_BACK, s, NULL,
                                  gl_buf_str(&cond), in_state, samples,
                                  st->name.pos, msg)))
                goto out;
        }
        /* fields the state requires */
        for (f = 0; f < st->requires.n; f++) {
            const char *field = st->requires.v[f].id;
            struct gl_buf mc = GL_BUF_INIT;
            int64_t n;
            gl_buf_addf(&mc, "%s AND ", gl_buf_str(&cond));
            missing_cond(&C, field, &mc);
            if ((rc = gl_buf_check(&mc, "the condition", err))) {
                gl_buf_release(&mc);
                goto out;
            }
            n = count_where(&C, gl_buf_str(&mc), &bad);
            if (bad) {
                gl_buf_release(&mc);
                rc = err->code;
                goto out;
            }
            if (n) {
                snprintf(msg, sizeof(msg),
                         st->rejection
                             ? "%" PRId64 " rejected record%s in '%s' %s "
                               "'%s', which the new system shows"
                             : "%" PRId64 " record%s in '%s' %s '%s', which "
                               "the state requires",
                         n, n == 1 ? "" : "s", s, n == 1 ? "lacks" : "lack",
                         field);
                rc = add_problem(&C, r,
                                 st->rejection ? GL_FLOW_REJECTION_DATA
                                               : GL_FLOW_MISSING_FIELD,
                                 s, field, gl_buf_str(&mc), n, samples,
                                 st->requires.v[f].pos, msg);
            }
            gl_buf_release(&mc);
            if (rc)
                goto out;
        }
        /* fields every way out requires */
        nneeds = blocking_fields(w, s, needs, 32);
        for (f = 0; f < nneeds; f++) {
            struct gl_buf mc = GL_BUF_INIT;
            int64_t n;
            if (in_list(&st->requires, needs[f]))
                continue; /* reported above */
            gl_buf_addf(&mc, "%s AND ", gl_buf_str(&cond));
            missing_cond(&C, needs[f], &mc);
            if ((rc = gl_buf_check(&mc, "the condition", err))) {
                gl_buf_release(&mc);
                goto out;
            }
            n = count_where(&C, gl_buf_str(&mc), &bad);
            if (bad) {
                gl_buf_release(&mc);
                rc = err->code;
                goto out;
            }
            if (n) {
                snprintf(msg, sizeof(msg),
                         "%" PRId64 " record%s in '%s' %s '%s', which every "
                         "way out of the state requires",
                         n, n == 1 ? "" : "s", s, n == 1 ? "lacks" : "lack",
                         needs[f]);
                rc =
                    add_problem(&C, r, GL_FLOW_BLOCKED, s, needs[f],
                                gl_buf_str(&mc), n, samples, st->name.pos, msg);
            }
            gl_buf_release(&mc);
            if (rc)
                goto out;
        }
    }

    /* 4. value-map entries that send records into the above */
    rc = check_value_map(p, w, &g, &C, r);
out:
    gl_buf_release(&q);
    gl_buf_release(&cond);
    graph_free(&g);
    ctx_close(&C);
    return rc;
}

void gl_flow_report_release(struct gl_flow_report *r)
{
    size_t i, k;

    for (i = 0; i < r->n; i++) {
        for (k = 0; k < r->v[i].nsamples; k++)
            free(r->v[i].samples[k]);
        free(r->v[i].samples);
        free(r->v[i].sql);
    }
    free(r->v);
    for (i = 0; i < r->nstates; i++)
        free(r->states[i]);
    free(r->states);
    free(r->state_counts);
    memset(r, 0, sizeof(*r));
}

/* ---- trace ----------------------------------------------------------------
 */

/* Every field named by a state's or transition's 'requires'. */
static size_t all_fields(const struct gl_workflow *w, const char **out,
                         size_t cap)
{
    size_t n = 0, i, k, t;

    for (i = 0; i < w->n_states; i++)
        for (k = 0; k < w->states[i].requires.n; k++) {
            const char *f = w->states[i].requires.v[k].id;
            for (t = 0; t < n && strcmp(out[t], f); t++)
                ;
            if (t == n && n < cap)
                out[n++] = f;
        }
    for (i = 0; i < w->n_transitions; i++)
        for (k = 0; k < w->transitions[i].requires.n; k++) {
            const char *f = w->transitions[i].requires.v[k].id;
            for (t = 0; t < n && strcmp(out[t], f); t++)
                ;
            if (t == n && n < cap)
                out[n++] = f;
        }
    return n;
}

/* "key1 = v1 AND key2 = v2" from "v1,v2". */
static int key_cond(struct ctx *C, const char *key, struct gl_buf *b)
{
    char *copy = strdup(key), *tok, *save = NULL;
    size_t k = 0;

    if (!copy)
        return -1;
    for (tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save), k++) {
        if (k >= C->w->key.n)
            break;
        if (k)
            gl_buf_adds(b, " AND ");
        gl_buf_adds(b, "golive_t.");
        C->db->drv->quote_ident(C->w->key.v[k].id, b);
        gl_buf_adds(b, " = ");
        lit(C, tok, b);
    }
    free(copy);
    return k == C->w->key.n ? 0 : -1;
}

static int lacks(const char *const *fields, const int *flag, size_t n,
                 const char *f)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!strcmp(fields[i], f))
            return flag[i];
    return 0;
}

int gl_flow_trace(const struct gl_plan *p, const struct gl_workflow *w,
                  const char *key, json_t **out, struct gl_err *err)
{
    struct ctx C;
    struct graph g;
    struct gl_buf q = GL_BUF_INIT, kc = GL_BUF_INIT, sv = GL_BUF_INIT;
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    const char *fields[64];
    int flag[64];
    size_t nf, i, t, cur = (size_t)-1;
    size_t *prev = NULL, *queue = NULL;
    json_t *j = NULL, *arr;
    int rc, r;

    *out = NULL;
    memset(&g, 0, sizeof(g));
    if ((rc = ctx_open(&C, p, w, err)))
        goto out;
    if (graph_build(&g, w)) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto out;
    }
    if (key_cond(&C, key, &kc)) {
        rc = gl_err_set(err, GL_EUSAGE,
                        "key '%s' does not give the %zu key columns of "
                        "workflow '%s' (separate them with commas)",
                        key, w->key.n, w->name.id);
        goto out;
    }
    nf = all_fields(w, fields, 64);
    gl_buf_addf(&q, "SELECT %s", gl_buf_str(&C.state));
    for (i = 0; i < nf; i++) {
        gl_buf_adds(&q, ", CASE WHEN ");
        missing_cond(&C, fields[i], &q);
        gl_buf_adds(&q, " THEN 1 ELSE 0 END");
    }
    gl_buf_addf(&q, " FROM %s golive_t WHERE %s", gl_buf_str(&C.table),
                gl_buf_str(&kc));
    if ((rc = gl_buf_check(&kc, "the key", err)) ||
        (rc = gl_buf_check(&q, "the query", err)) ||
        (rc = C.db->drv->query(C.db, gl_buf_str(&q), &c, err)))
        goto out;
    r = C.db->drv->next(c, &row, err);
    if (r < 0) {
        rc = -r;
        goto out;
    }
    if (r == 0) {
        rc = gl_err_set(err, GL_ENOTFOUND, "no record with key '%s' in '%s'",
                        key, w->table.table);
        goto out;
    }
    if (row[0].type != GL_NULL)
        gl_value_text(&row[0], &sv);
    for (i = 0; i < nf; i++)
        flag[i] = row[i + 1].type == GL_INT ? row[i + 1].i != 0
                  : row[i + 1].type == GL_NUMERIC || row[i + 1].type == GL_TEXT
                      ? row[i + 1].len && row[i + 1].s[0] == '1'
                      : 0;
    C.db->drv->cursor_close(c);
    c = NULL;
    if ((rc = gl_buf_check(&sv, "the state", err)))
        goto out;
    cur = sidx(w, gl_buf_str(&sv));

    j = json_object();
    json_object_set_new(j, "workflow", json_string(w->name.id));
    json_object_set_new(j, "key", json_string(key));
    json_object_set_new(j, "state",
                        sv.len ? json_string(gl_buf_str(&sv)) : json_null());
    json_object_set_new(j, "known", json_boolean(cur != (size_t)-1));
    json_object_set_new(j, "terminal",
                        json_boolean(cur != (size_t)-1 && g.terminal[cur]));
    arr = json_array();
    if (cur != (size_t)-1)
        for (i = 0; i < w->states[cur].requires.n; i++)
            if (lacks(fields, flag, nf, w->states[cur].requires.v[i].id))
                json_array_append_new(
                    arr, json_string(w->states[cur].requires.v[i].id));
    json_object_set_new(j, "missing", arr);
    arr = json_array();
    for (t = 0; cur != (size_t)-1 && t < w->n_transitions; t++) {
        const struct gl_wf_transition *tr = &w->transitions[t];
        json_t *o, *blocked;
        size_t to;
        if (!tr->from.id || sidx(w, tr->from.id) != cur)
            continue;
        blocked = json_array();
        for (i = 0; i < tr->requires.n; i++)
            if (lacks(fields, flag, nf, tr->requires.v[i].id))
                json_array_append_new(blocked,
                                      json_string(tr->requires.v[i].id));
        to = sidx(w, tr->to.id);
        o = json_pack("{s:s?, s:s, s:o, s:b}", "action", tr->action, "to",
                      tr->to.id, "blocked_by", blocked, "leads_to_end",
                      to != (size_t)-1 && g.reaches_end[to]);
        json_array_append_new(arr, o);
    }
    json_object_set_new(j, "ways_out", arr);
    /* shortest paths to each terminal state (breadth first) */
    arr = json_array();
    if (cur != (size_t)-1) {
        size_t head = 0, tail = 0, s2;
        prev = malloc((g.n + 1) * sizeof(*prev));
        queue = malloc((g.n + 1) * sizeof(*queue));
        if (prev && queue) {
            for (i = 0; i < g.n; i++)
                prev[i] = (size_t)-2; /* unseen */
            prev[cur] = (size_t)-1;
            queue[tail++] = cur;
            while (head < tail) {
                size_t v = queue[head++];
                for (t = 0; t < w->n_transitions; t++) {
                    size_t f = sidx(w, w->transitions[t].from.id);
                    size_t to = sidx(w, w->transitions[t].to.id);
                    if (f != v || to == (size_t)-1 || prev[to] != (size_t)-2)
                        continue;
                    prev[to] = v;
                    queue[tail++] = to;
                }
            }
            for (s2 = 0; s2 < g.n; s2++) {
                json_t *path;
                size_t v;
                if (!g.terminal[s2] || prev[s2] == (size_t)-2)
                    continue;
                path = json_array();
                for (v = s2; v != (size_t)-1; v = prev[v])
                    json_array_insert_new(path, 0,
                                          json_string(w->states[v].name.id));
                json_array_append_new(arr, path);
            }
        }
    }
    json_object_set_new(j, "paths", arr);

    *out = j;
    j = NULL;
out:
    if (c)
        C.db->drv->cursor_close(c);
    json_decref(j);
    free(prev);
    free(queue);
    gl_buf_release(&q);
    gl_buf_release(&kc);
    gl_buf_release(&sv);
    graph_free(&g);
    ctx_close(&C);
    return rc;
}

/* ---- legacy samples ---------------------------------------------------------
 */

struct sample {
    char *key, *old_state, *new_state;
    int flagged, found;
    char why[160];
};

int gl_flow_samples(const struct gl_plan *p, const struct gl_scenario *sc,
                    int limit, json_t **out, struct gl_err *err)
{
    const struct gl_workflow *w = NULL;
    const struct gl_sync_job *j;
    const struct gl_colmap *m;
    const struct gl_system *oldsys;
    struct gl_db *old = NULL;
    struct ctx C;
    struct graph g;
    struct sample *v = NULL;
    size_t n = 0, i, k, picked = 0;
    int pass;
    struct gl_buf q = GL_BUF_INIT, in = GL_BUF_INIT, t = GL_BUF_INIT;
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    const char *fields[64];
    size_t nf;
    char *used = NULL;
    json_t *arr = NULL;
    int rc = GL_OK, r;

    *out = NULL;
    memset(&C, 0, sizeof(C));
    memset(&g, 0, sizeof(g));
    for (i = 0; sc->workflow.id && i < p->n_workflows; i++)
        if (!strcmp(p->workflows[i].name.id, sc->workflow.id))
            w = &p->workflows[i];
    if (!sc->samples_query || !sc->samples_system.id)
        return gl_err_set(err, GL_EUSAGE,
                          "scenario '%s' has no 'samples' query", sc->id.id);
    if (!w)
        return gl_err_set(err, GL_EUSAGE,
                          "scenario '%s' names no workflow: samples follow a "
                          "workflow's records",
                          sc->id.id);
    j = gl_plan_job(p, w->job.id);
    m = j ? gl_sync_mapping(j, w->state_column) : NULL;
    if (!j || !m || m->kind != GL_COL_FROM || j->key.n != 1 || w->key.n != 1)
        return gl_err_set(err, GL_EUSAGE,
                          "workflow '%s' needs 'job' (with a one-column key "
                          "and its state column mapped from an old column) "
                          "for samples",
                          w->name.id);
    oldsys = gl_plan_system(p, sc->samples_system.id);
    if (!oldsys || !oldsys->url)
        return gl_err_set(err, GL_EUSAGE, "system '%s' is not in the plan",
                          sc->samples_system.id);
    gl_db_global_init();
    if ((rc = gl_db_open(oldsys->url, p->dir, &old, err)))
        return rc;

    /* 1. candidate keys, from the scenario's own query, with their old
     * state from the job's source (bounded: at most 500 candidates) */
    {
        const struct gl_colmap *km = gl_sync_mapping(j, j->key.v[0].id);
        const char *srckey = km && km->source ? km->source : j->key.v[0].id;
        gl_buf_adds(&q, "SELECT golive_s.");
        old->drv->quote_ident(srckey, &q);
        gl_buf_adds(&q, ", golive_s.");
        old->drv->quote_ident(m->source, &q);
        gl_buf_adds(&q, " FROM ");
        old->drv->quote_ident(j->from.table, &q);
        gl_buf_adds(&q, " golive_s WHERE golive_s.");
        old->drv->quote_ident(srckey, &q);
        gl_buf_addf(&q,
                    " IN (SELECT * FROM (%s) golive_q) ORDER BY 1 LIMIT 500",
                    sc->samples_query);
    }
    if ((rc = gl_buf_check(&q, "the query", err)) ||
        (rc = old->drv->query(old, gl_buf_str(&q), &c, err)))
        goto out;
    while ((r = old->drv->next(c, &row, err)) == 1) {
        struct sample *nv = realloc(v, (n + 1) * sizeof(*v));
        if (!nv) {
            r = -GL_ENOMEM;
            break;
        }
        v = nv;
        memset(&v[n], 0, sizeof(v[n]));
        gl_buf_reset(&t);
        gl_value_text(&row[0], &t);
        v[n].key = strdup(gl_buf_str(&t));
        gl_buf_reset(&t);
        if (row[1].type != GL_NULL)
            gl_value_text(&row[1], &t);
        v[n].old_state =
            strdup(row[1].type == GL_NULL ? "NULL" : gl_buf_str(&t));
        n++;
        if (gl_buf_failed(&t) || !v[n - 1].key || !v[n - 1].old_state) {
            r = -gl_err_set(err, GL_ENOMEM, "out of memory");
            break;
        }
    }
    old->drv->cursor_close(c);
    c = NULL;
    if (r < 0) {
        rc = -r;
        goto out;
    }

    /* 2. the same records in the new system: state and what the flow
     * check would flag */
    if (n) {
        if ((rc = ctx_open(&C, p, w, err)) || graph_build(&g, w)) {
            rc = rc ? rc : gl_err_set(err, GL_ENOMEM, "out of memory");
            goto out;
        }
        nf = all_fields(w, fields, 64);
        gl_buf_reset(&q);
        gl_buf_addf(&q, "SELECT %s, %s", gl_buf_str(&C.keys),
                    gl_buf_str(&C.state));
        for (i = 0; i < nf; i++) {
            gl_buf_adds(&q, ", CASE WHEN ");
            missing_cond(&C, fields[i], &q);
            gl_buf_adds(&q, " THEN 1 ELSE 0 END");
        }
        for (i = 0; i < n; i++) {
            if (i)
                gl_buf_adds(&in, ", ");
            lit(&C, v[i].key, &in);
        }
        gl_buf_addf(&q, " FROM %s golive_t WHERE %s IN (%s)",
                    gl_buf_str(&C.table), gl_buf_str(&C.keys), gl_buf_str(&in));
        if ((rc = gl_buf_check(&in, "the keys", err)) ||
            (rc = gl_buf_check(&q, "the query", err)) ||
            (rc = C.db->drv->query(C.db, gl_buf_str(&q), &c, err)))
            goto out;
        while ((r = C.db->drv->next(c, &row, err)) == 1) {
            size_t si;
            gl_buf_reset(&t);
            gl_value_text(&row[0], &t);
            if (gl_buf_failed(&t)) {
                r = -gl_err_set(err, GL_ENOMEM, "out of memory");
                break;
            }
            for (i = 0; i < n && strcmp(v[i].key, gl_buf_str(&t)); i++)
                ;
            if (i == n)
                continue;
            v[i].found = 1;
            gl_buf_reset(&t);
            if (row[1].type != GL_NULL)
                gl_value_text(&row[1], &t);
            if (gl_buf_failed(&t) ||
                !(v[i].new_state = strdup(gl_buf_str(&t)))) {
                r = -gl_err_set(err, GL_ENOMEM, "out of memory");
                break;
            }
            si = sidx(w, v[i].new_state);
            if (si == (size_t)-1)
                snprintf(v[i].why, sizeof(v[i].why), "%s", "unknown state");
            else if (!g.reaches_end[si])
                snprintf(v[i].why, sizeof(v[i].why), "%s", "dead end");
            else if (w->states[si].rejection && !g.back_to_edit[si])
                snprintf(v[i].why, sizeof(v[i].why), "%s", "no way back");
            if (si != (size_t)-1 && !v[i].why[0]) {
                for (k = 0; k < nf; k++) {
                    int missing =
                        row[k + 2].type == GL_INT
                            ? row[k + 2].i != 0
                            : row[k + 2].len && row[k + 2].s[0] == '1';
                    if (missing &&
                        in_list(&w->states[si].requires, fields[k])) {
                        snprintf(v[i].why, sizeof(v[i].why), "lacks %s",
                                 fields[k]);
                        break;
                    }
                }
            }
            v[i].flagged = v[i].why[0] != 0;
        }
        C.db->drv->cursor_close(c);
        c = NULL;
        if (r < 0) {
            rc = -r;
            goto out;
        }
        for (i = 0; i < n; i++)
            if (!v[i].found) {
                v[i].flagged = 1;
                snprintf(v[i].why, sizeof(v[i].why), "%s",
                         "not in the new system");
            }
    }

    /* 3. the flagged records first, always (they are what a tester must
     * try), spread across the old states; then the others, spread the
     * same way: one of each old state per round */
    used = calloc(n + 1, 1);
    arr = json_array();
    for (pass = 0; used && pass < 2; pass++) {
        while (picked < (size_t)limit && picked < n) {
            int took = 0;
            for (i = 0; i < n && picked < (size_t)limit; i++) {
                size_t x;
                int seen_before = 0;
                if (used[i] || (pass == 0 && !v[i].flagged))
                    continue;
                /* one per old state per round: the first of its state
                 * not taken yet, when none was taken this round */
                for (x = 0; x < i; x++)
                    if ((used[x] == 2 ||
                         (!used[x] && (pass == 1 || v[x].flagged))) &&
                        !strcmp(v[x].old_state, v[i].old_state))
                        seen_before = 1;
                if (seen_before)
                    continue;
                used[i] = 2;
                picked++;
                took = 1;
                json_array_append_new(
                    arr,
                    json_pack("{s:s, s:s, s:s, s:s?, s:b, s:s?}", "old_key",
                              v[i].key, "old_state", v[i].old_state, "new_key",
                              v[i].key, "new_state", v[i].new_state, "flagged",
                              v[i].flagged, "why",
                              v[i].why[0] ? v[i].why : NULL));
            }
            /* mark this round's picks as taken for good */
            for (i = 0; i < n; i++)
                if (used[i] == 2)
                    used[i] = 1;
            if (!took)
                break;
        }
    }
    *out = json_pack("{s:s, s:s, s:O}", "scenario", sc->id.id, "workflow",
                     w->name.id, "samples", arr);
    if (!*out)
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
out:
    /* every cursor was closed where it was read */
    json_decref(arr);
    free(used);
    for (i = 0; i < n; i++) {
        free(v[i].key);
        free(v[i].old_state);
        free(v[i].new_state);
    }
    free(v);
    gl_buf_release(&q);
    gl_buf_release(&in);
    gl_buf_release(&t);
    graph_free(&g);
    if (C.db)
        ctx_close(&C);
    gl_db_close(old);
    return rc;
}
