/*
 * check.c - the static completeness checks behind `golive validate`: what
 * needs the whole plan at once.  Shape problems were reported by load.c.
 *
 * Each rule adds diagnostics at the position of the offending node; codes
 * are listed in docs/plan.md ("What validate checks").
 */
#include "golive/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/graph.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/suggest.h"

#define AT(r) (r).pos.line, (r).pos.col

/* Candidate names for "did you mean": a view over an array of structs whose
 * struct gl_ref id sits at offset off, with a hash of the names (index + 1,
 * 0 = empty) so that a plan of thousands of tasks checks in linear time. */
struct names {
    const char **v;
    size_t n;
    size_t *slot, n_slot;
};

static size_t hash_name(const char *s)
{
    size_t h = (size_t)1469598103934665603ULL;

    while (*s)
        h = (h ^ (unsigned char)*s++) * (size_t)1099511628211ULL;
    return h;
}

/* The slot of id: where it is, or the empty slot where it would go. */
static size_t names_slot(const struct names *nm, const char *id)
{
    size_t h = hash_name(id) & (nm->n_slot - 1);

    while (nm->slot[h] && strcmp(nm->v[nm->slot[h] - 1], id))
        h = (h + 1) & (nm->n_slot - 1);
    return h;
}

static void names_of(struct names *nm, const void *base, size_t count,
                     size_t size, size_t off)
{
    size_t i;

    nm->n = 0;
    for (nm->n_slot = 16; nm->n_slot < 2 * count; nm->n_slot *= 2)
        ;
    nm->v = malloc((count ? count : 1) * sizeof(*nm->v));
    nm->slot = calloc(nm->n_slot, sizeof(*nm->slot));
    if (!nm->v || !nm->slot) {
        free(nm->v);
        free(nm->slot);
        memset(nm, 0, sizeof(*nm));
        return;
    }
    for (i = 0; i < count; i++) {
        const struct gl_ref *r =
            (const struct gl_ref *)((const char *)base + i * size + off);
        size_t h;
        if (!r->id)
            continue;
        nm->v[nm->n++] = r->id;
        h = names_slot(nm, r->id);
        if (!nm->slot[h])
            nm->slot[h] = nm->n;
    }
}

static void names_release(struct names *nm)
{
    free(nm->v);
    free(nm->slot);
}

/* The index of the first id in nm, or (size_t)-1. */
static size_t index_of(const struct names *nm, const char *id)
{
    size_t h;

    if (!id || !nm->slot)
        return (size_t)-1;
    h = names_slot(nm, id);
    return nm->slot[h] ? nm->slot[h] - 1 : (size_t)-1;
}

static int names_has(const struct names *nm, const char *id)
{
    return index_of(nm, id) != (size_t)-1;
}

/* Report r when it names nothing in nm ("unknown-<what>"). */
static int resolve(struct gl_diags *d, const struct names *nm,
                   const struct gl_ref *r, const char *code, const char *what,
                   const char *where)
{
    const char *hint;

    if (!r->id || names_has(nm, r->id))
        return 0;
    hint = nm->v ? gl_suggest(r->id, nm->v, nm->n) : NULL;
    if (hint)
        gl_diags_add(d, AT(*r), GL_SEV_ERROR, code,
                     "%s names unknown %s '%s'; did you mean '%s'?", where,
                     what, r->id, hint);
    else
        gl_diags_add(d, AT(*r), GL_SEV_ERROR, code, "%s names unknown %s '%s'",
                     where, what, r->id);
    return -1;
}

/* Duplicate ids in one namespace, reported at the second one. */
static void unique_ids(struct gl_diags *d, const void *base, size_t count,
                       size_t size, size_t off, const char *what)
{
    struct names nm;
    const struct gl_ref **ref = malloc((count ? count : 1) * sizeof(*ref));
    size_t i, k = 0, first;

    names_of(&nm, base, count, size, off);
    for (i = 0; nm.slot && ref && i < count; i++) {
        const struct gl_ref *a =
            (const struct gl_ref *)((const char *)base + i * size + off);
        if (!a->id)
            continue;
        ref[k] = a;
        first = index_of(&nm, a->id);
        if (first != k++)
            gl_diags_add(d, AT(*a), GL_SEV_ERROR, "duplicate-id",
                         "duplicate %s id '%s' (first at line %d)", what, a->id,
                         ref[first]->pos.line);
    }
    free(ref);
    names_release(&nm);
}

struct ctx {
    const struct gl_plan *p;
    struct gl_diags *d;
    struct names people, systems, jobs, checks, tasks, scenarios, workflows;
};

/* Owner and checker: both present, both people, never the same person. */
static void owner_checker(struct ctx *c, const struct gl_ref *owner,
                          const struct gl_ref *checker, struct gl_pos at,
                          const char *what)
{
    if (!owner->id)
        gl_diags_add(c->d, at.line, at.col, GL_SEV_ERROR, "no-owner",
                     "%s has no owner", what);
    else
        resolve(c->d, &c->people, owner, "unknown-person", "person", what);
    if (!checker->id)
        gl_diags_add(c->d, at.line, at.col, GL_SEV_ERROR, "no-checker",
                     "%s has no checker; every task gets a second pair of eyes",
                     what);
    else
        resolve(c->d, &c->people, checker, "unknown-person", "person", what);
    if (owner->id && checker->id && !strcmp(owner->id, checker->id))
        gl_diags_add(c->d, AT(*checker), GL_SEV_ERROR, "self-check",
                     "%s is checked by its own owner '%s'; name someone else",
                     what, owner->id);
}

/* ---- people and systems ---------------------------------------------- */

static void check_people(struct ctx *c)
{
    const struct gl_plan *p = c->p;
    size_t i;
    int lead = 0;

    unique_ids(c->d, p->people, p->n_people, sizeof(*p->people),
               offsetof(struct gl_person, id), "person");
    for (i = 0; i < p->n_people; i++)
        lead |= (p->people[i].roles & GL_ROLE_LEAD) != 0;
    if (p->n_people && !lead)
        gl_diags_add(c->d, p->people[0].pos.line, p->people[0].pos.col,
                     GL_SEV_WARNING, "no-lead",
                     "no person has the role 'lead'; nobody may decide go / "
                     "no-go or rollback");
}

static const char *url_scheme(const char *url)
{
    static const char *const schemes[] = {
        "sqlite:", "postgres://", "postgresql://", "mysql://", "mariadb://"};
    size_t i;

    for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
        if (!strncmp(url, schemes[i], strlen(schemes[i])))
            return schemes[i];
    return NULL;
}

/* A literal password is user:password@ in the authority, or password= in
 * the query string, whose value is not a ${VAR} reference. */
static int literal_password(const char *url)
{
    const char *auth = strstr(url, "://"), *end, *at, *colon, *q;

    if (auth) {
        auth += 3;
        end = auth + strcspn(auth, "/?#");
        at = memchr(auth, '@', (size_t)(end - auth));
        if (at) {
            colon = memchr(auth, ':', (size_t)(at - auth));
            if (colon && colon + 1 < at && strncmp(colon + 1, "${", 2))
                return 1;
        }
    }
    for (q = strstr(url, "password="); q; q = strstr(q + 1, "password=")) {
        const char *v = q + 9;
        if ((q == url || q[-1] == '?' || q[-1] == '&' || q[-1] == ' ') && *v &&
            *v != '&' && strncmp(v, "${", 2))
            return 1;
    }
    return 0;
}

static void check_systems(struct ctx *c)
{
    const struct gl_plan *p = c->p;
    size_t i;

    for (i = 0; i < p->n_systems; i++) {
        const struct gl_system *s = &p->systems[i];
        const char *scheme;

        if (!s->url)
            continue;
        scheme = url_scheme(s->url);
        if (!scheme) {
            gl_diags_add(c->d, s->url_pos.line, s->url_pos.col, GL_SEV_ERROR,
                         "bad-url",
                         "system '%s' has URL '%.60s' that is not sqlite:, "
                         "postgres:// or mysql://",
                         s->name.id, s->url);
            continue;
        }
        if (!strcmp(scheme, "sqlite:") && !s->url[7])
            gl_diags_add(c->d, s->url_pos.line, s->url_pos.col, GL_SEV_ERROR,
                         "bad-url", "system '%s' names no SQLite file",
                         s->name.id);
        if (literal_password(s->url))
            gl_diags_add(c->d, s->url_pos.line, s->url_pos.col, GL_SEV_WARNING,
                         "literal-password",
                         "system '%s' has a password written in the plan; "
                         "use ${VAR} or PGPASSWORD / MYSQL_PWD instead",
                         s->name.id);
    }
}

/* ---- sync jobs ------------------------------------------------------- */

static void check_cycles(struct gl_diags *d, size_t n, const size_t *from,
                         const size_t *to, size_t m,
                         const struct gl_ref *const *ids, const char *what)
{
    struct gl_graph g;
    size_t *comp = NULL, *path = NULL, *size = NULL, ncomp, i, k;
    struct gl_buf b = GL_BUF_INIT;

    if (gl_graph_build(&g, n, from, to, m))
        return;
    comp = malloc((n + 1) * sizeof(*comp));
    path = malloc((n + 1) * sizeof(*path));
    size = calloc(n + 1, sizeof(*size));
    if (!comp || !path || !size)
        goto out;
    ncomp = gl_graph_scc(&g, comp);
    if (ncomp == (size_t)-1)
        goto out;
    for (i = 0; i < n; i++)
        size[comp[i]]++;
    /* one report per cycle, at its first member in file order (nodes are
     * numbered in file order) */
    for (i = 0; i < n; i++) {
        size_t len, c = comp[i];
        if (size[c] == 0)
            continue; /* already reported */
        len = gl_graph_cycle(&g, comp, i, path);
        if (!len) {
            size[c] = 0;
            continue;
        }
        gl_buf_reset(&b);
        for (k = 0; k < len; k++)
            gl_buf_addf(&b, "%s -> ", ids[path[k]]->id);
        gl_buf_adds(&b, ids[i]->id);
        if (size[c] > len) {
            size_t j, listed = 0;
            gl_buf_adds(&b, " (also on a cycle with them: ");
            for (j = 0; j < n; j++) {
                int on_path = 0;
                if (comp[j] != c)
                    continue;
                for (k = 0; k < len; k++)
                    on_path |= path[k] == j;
                if (!on_path)
                    gl_buf_addf(&b, "%s%s", listed++ ? ", " : "", ids[j]->id);
            }
            gl_buf_adds(&b, ")");
        }
        gl_diags_add(d, ids[i]->pos.line, ids[i]->pos.col, GL_SEV_ERROR,
                     "cycle", "%s cycle: %s", what,
                     gl_buf_failed(&b) ? "(too long to spell out)"
                                       : gl_buf_str(&b));
        size[c] = 0;
    }
out:
    gl_buf_release(&b);
    free(comp);
    free(path);
    free(size);
    gl_graph_release(&g);
}

static void check_sync(struct ctx *c)
{
    const struct gl_plan *p = c->p;
    size_t i, j, m = 0, edges = 0;
    size_t *from = NULL, *to = NULL;
    const struct gl_ref **ids = NULL;
    struct names jobs_all;

    unique_ids(c->d, p->sync, p->n_sync, sizeof(*p->sync),
               offsetof(struct gl_sync_job, id), "sync job");
    for (i = 0; i < p->n_sync; i++) {
        const struct gl_sync_job *s = &p->sync[i];
        char what[96];

        snprintf(what, sizeof(what), "sync job '%s'",
                 s->id.id ? s->id.id : "?");
        resolve(c->d, &c->systems, &s->from.system, "unknown-system", "system",
                what);
        resolve(c->d, &c->systems, &s->to.system, "unknown-system", "system",
                what);
        if (!s->key.n)
            gl_diags_add(c->d, s->pos.line, s->pos.col, GL_SEV_ERROR, "no-key",
                         "%s has no 'key'; without one rows cannot be "
                         "resumed, reconciled or upserted",
                         what);
        owner_checker(c, &s->owner, &s->checker, s->pos, what);
        for (j = 0; j < s->after.n; j++)
            resolve(c->d, &c->jobs, &s->after.v[j], "unknown-job", "sync job",
                    what);
        edges += s->after.n;
        if (!s->to.system.id || !s->to.table)
            continue;
        for (j = 0; j < i; j++) {
            const struct gl_sync_job *o = &p->sync[j];
            if (o->to.system.id && o->to.table &&
                !strcmp(o->to.system.id, s->to.system.id) &&
                !strcmp(o->to.table, s->to.table)) {
                gl_diags_add(c->d, s->to.pos.line, s->to.pos.col, GL_SEV_ERROR,
                             "duplicate-target",
                             "%s writes %s.%s, which sync job '%s' (line %d) "
                             "also writes",
                             what, s->to.system.id, s->to.table,
                             o->id.id ? o->id.id : "?", o->pos.line);
                break;
            }
        }
    }
    /* cycles among "after"; nodes are the jobs in file order */
    names_of(&jobs_all, p->sync, p->n_sync, sizeof(*p->sync),
             offsetof(struct gl_sync_job, id));
    from = malloc((edges + 1) * sizeof(*from));
    to = malloc((edges + 1) * sizeof(*to));
    ids = malloc((p->n_sync + 1) * sizeof(*ids));
    if (from && to && ids && jobs_all.v && jobs_all.n == p->n_sync) {
        for (i = 0; i < p->n_sync; i++) {
            ids[i] = &p->sync[i].id;
            for (j = 0; j < p->sync[i].after.n; j++) {
                size_t k = index_of(&jobs_all, p->sync[i].after.v[j].id);
                if (k != (size_t)-1) {
                    from[m] = i;
                    to[m++] = k;
                }
            }
        }
        check_cycles(c->d, p->n_sync, from, to, m, ids, "sync job 'after'");
    }
    names_release(&jobs_all);
    free(from);
    free(to);
    free(ids);
}

/* ---- checks ---------------------------------------------------------- */

static void check_checks(struct ctx *c)
{
    static const char *const aggs[] = {"sum",   "min",      "max",
                                       "nulls", "distinct", "count"};
    const struct gl_plan *p = c->p;
    size_t i, j, k;

    unique_ids(c->d, p->checks, p->n_checks, sizeof(*p->checks),
               offsetof(struct gl_check, id), "check");
    for (i = 0; i < p->n_checks; i++) {
        const struct gl_check *k0 = &p->checks[i];
        char what[96];

        snprintf(what, sizeof(what), "check '%s'", k0->id.id ? k0->id.id : "?");
        resolve(c->d, &c->jobs, &k0->job, "unknown-job", "sync job", what);
        resolve(c->d, &c->systems, &k0->system, "unknown-system", "system",
                what);
        resolve(c->d, &c->systems, &k0->compare, "unknown-system", "system",
                what);
        if (k0->owner.id)
            resolve(c->d, &c->people, &k0->owner, "unknown-person", "person",
                    what);
        if (k0->type == GL_CHECK_SQL) {
            if (!k0->system.id)
                gl_diags_add(c->d, k0->pos.line, k0->pos.col, GL_SEV_ERROR,
                             "missing-field", "%s of type sql needs 'system'",
                             what);
            if (!k0->sql)
                gl_diags_add(c->d, k0->pos.line, k0->pos.col, GL_SEV_ERROR,
                             "missing-field", "%s of type sql needs 'sql'",
                             what);
            if (!k0->expect == !k0->compare.id)
                gl_diags_add(c->d, k0->pos.line, k0->pos.col, GL_SEV_ERROR,
                             "missing-field",
                             "%s of type sql needs either 'expect' or "
                             "'compare'",
                             what);
        } else if (!k0->job.id) {
            gl_diags_add(c->d, k0->pos.line, k0->pos.col, GL_SEV_ERROR,
                         "missing-field",
                         "%s needs 'job': the sync job whose "
                         "tables it compares",
                         what);
        }
        for (j = 0; j < k0->aggregates.n; j++) {
            for (k = 0; k < sizeof(aggs) / sizeof(aggs[0]); k++)
                if (!strcmp(k0->aggregates.v[j].id, aggs[k]))
                    break;
            if (k == sizeof(aggs) / sizeof(aggs[0])) {
                const char *hint = gl_suggest(k0->aggregates.v[j].id, aggs,
                                              sizeof(aggs) / sizeof(aggs[0]));
                gl_diags_add(c->d, AT(k0->aggregates.v[j]), GL_SEV_ERROR,
                             "bad-value", "unknown aggregate '%s'%s%s%s",
                             k0->aggregates.v[j].id,
                             hint ? "; did you mean '"
                                  : " (sum, min, max, "
                                    "nulls, distinct, "
                                    "count)",
                             hint ? hint : "", hint ? "'?" : "");
            }
        }
        if (k0->type == GL_CHECK_AGGREGATE && !k0->columns.n)
            gl_diags_add(c->d, k0->pos.line, k0->pos.col, GL_SEV_ERROR,
                         "missing-field",
                         "%s of type aggregate needs 'columns'", what);
    }
}

/* ---- workflows ------------------------------------------------------- */

static size_t state_index(const struct gl_workflow *w, const char *name)
{
    size_t i;

    for (i = 0; name && i < w->n_states; i++)
        if (w->states[i].name.id && !strcmp(w->states[i].name.id, name))
            return i;
    return (size_t)-1;
}

static void check_workflow(struct ctx *c, const struct gl_workflow *w)
{
    struct names states;
    size_t i, j, *queue = NULL, head = 0, tail = 0;
    char *reach = NULL, *terminal = NULL, *has_out = NULL;
    char what[96];

    snprintf(what, sizeof(what), "workflow '%s'", w->name.id);
    names_of(&states, w->states, w->n_states, sizeof(*w->states),
             offsetof(struct gl_wf_state, name));
    unique_ids(c->d, w->states, w->n_states, sizeof(*w->states),
               offsetof(struct gl_wf_state, name), "state");
    if (w->table.system.id)
        resolve(c->d, &c->systems, &w->table.system, "unknown-system", "system",
                what);
    resolve(c->d, &c->jobs, &w->job, "unknown-job", "sync job", what);
    if (!w->initial.id)
        gl_diags_add(c->d, w->pos.line, w->pos.col, GL_SEV_ERROR, "no-initial",
                     "%s has no 'initial' state", what);
    else
        resolve(c->d, &states, &w->initial, "unknown-state", "state", what);
    if (!w->terminal.n && w->n_states)
        gl_diags_add(c->d, w->pos.line, w->pos.col, GL_SEV_ERROR, "no-terminal",
                     "%s has no 'terminal' states", what);
    for (i = 0; i < w->terminal.n; i++)
        resolve(c->d, &states, &w->terminal.v[i], "unknown-state", "state",
                what);
    for (i = 0; i < w->n_transitions; i++) {
        const struct gl_wf_transition *t = &w->transitions[i];
        char tw[160];
        snprintf(tw, sizeof(tw), "a transition of %s", what);
        resolve(c->d, &states, &t->from, "unknown-state", "state", tw);
        resolve(c->d, &states, &t->to, "unknown-state", "state", tw);
    }

    /* which states can reach a terminal one: walk transitions backwards */
    reach = calloc(w->n_states + 1, 1);
    terminal = calloc(w->n_states + 1, 1);
    has_out = calloc(w->n_states + 1, 1);
    queue = malloc((w->n_states + 1) * sizeof(*queue));
    if (!reach || !terminal || !has_out || !queue || !w->terminal.n)
        goto out;
    for (i = 0; i < w->terminal.n; i++) {
        size_t s = state_index(w, w->terminal.v[i].id);
        if (s != (size_t)-1 && !reach[s]) {
            reach[s] = terminal[s] = 1;
            queue[tail++] = s;
        }
    }
    for (i = 0; i < w->n_transitions; i++) {
        size_t f = state_index(w, w->transitions[i].from.id);
        if (f != (size_t)-1)
            has_out[f] = 1;
    }
    while (head < tail) {
        size_t s = queue[head++];
        for (j = 0; j < w->n_transitions; j++) {
            size_t f = state_index(w, w->transitions[j].from.id);
            size_t t = state_index(w, w->transitions[j].to.id);
            if (t == s && f != (size_t)-1 && !reach[f]) {
                reach[f] = 1;
                queue[tail++] = f;
            }
        }
    }
    for (i = 0; i < w->n_states; i++) {
        const struct gl_wf_state *s = &w->states[i];
        if (reach[i] || !s->name.id || state_index(w, s->name.id) != i)
            continue;
        gl_diags_add(c->d, AT(s->name), GL_SEV_WARNING, "dead-end-state",
                     has_out[i] ? "state '%s' of %s has no path to a terminal "
                                  "state; records in it can never finish"
                                : "state '%s' of %s is not terminal and has "
                                  "no way out; records in it are stuck",
                     s->name.id, what);
    }
out:
    names_release(&states);
    free(reach);
    free(terminal);
    free(has_out);
    free(queue);
}

/* ---- tasks ----------------------------------------------------------- */

static void check_run(struct ctx *c, const struct gl_task *t, const char *what)
{
    struct gl_ref r;
    const char *arg;

    if (!t->run)
        return;
    r.pos = t->run_pos;
    if (!strncmp(t->run, "sync ", 5) || !strncmp(t->run, "check ", 6)) {
        int sync = t->run[0] == 's';
        char *word, *end;
        char buf[256];

        arg = t->run + (sync ? 5 : 6);
        snprintf(buf, sizeof(buf), "%s", arg);
        /* every word names a job (or a check) */
        for (word = strtok_r(buf, " \t", &end); word;
             word = strtok_r(NULL, " \t", &end)) {
            if (word[0] == '-')
                continue; /* an option such as --resume */
            r.id = word;
            resolve(c->d, sync ? &c->jobs : &c->checks, &r,
                    sync ? "unknown-job" : "unknown-check",
                    sync ? "sync job" : "check", what);
        }
    }
}

static void check_tasks(struct ctx *c)
{
    const struct gl_plan *p = c->p;
    size_t i, j, m = 0, edges = 0, n = p->n_tasks, norder;
    size_t *from = NULL, *to = NULL, *order = NULL;
    const struct gl_ref **ids = NULL;
    int64_t *start = NULL, *finish = NULL;
    size_t *crit = NULL;
    char *known = NULL;
    struct names all;

    unique_ids(c->d, p->tasks, n, sizeof(*p->tasks),
               offsetof(struct gl_task, id), "task");
    for (i = 0; i < n; i++) {
        const struct gl_task *t = &p->tasks[i];
        char what[96];

        snprintf(what, sizeof(what), "task '%s'", t->id.id ? t->id.id : "?");
        owner_checker(c, &t->owner, &t->checker, t->pos, what);
        for (j = 0; j < t->depends_on.n; j++) {
            resolve(c->d, &c->tasks, &t->depends_on.v[j], "unknown-task",
                    "task", what);
        }
        edges += t->depends_on.n;
        check_run(c, t, what);
    }
    for (i = 0; i < p->rollback.n; i++) {
        const struct gl_task *t;
        if (resolve(c->d, &c->tasks, &p->rollback.v[i], "unknown-task", "task",
                    "'rollback'"))
            continue;
        t = gl_plan_task(p, p->rollback.v[i].id);
        if (t && t->stage != GL_STAGE_ROLLBACK)
            gl_diags_add(c->d, AT(p->rollback.v[i]), GL_SEV_WARNING,
                         "rollback-stage",
                         "rollback lists task '%s', whose stage is '%s'",
                         t->id.id, gl_stage_name(t->stage));
    }

    {
        /* the go / no-go decision: the ETA the lead asks for first */
        const struct gl_task *dec = NULL;
        int forward = 0;
        for (i = 0; i < n; i++) {
            const struct gl_task *t = &p->tasks[i];
            forward |= t->stage != GL_STAGE_ROLLBACK;
            if (!t->decides_go)
                continue;
            if (dec)
                gl_diags_add(c->d, t->decides_pos.line, t->decides_pos.col,
                             GL_SEV_ERROR, "decides-twice",
                             "task '%s' decides go, and so does '%s' (line "
                             "%d): one task holds the go / no-go decision",
                             t->id.id ? t->id.id : "?",
                             dec->id.id ? dec->id.id : "?", dec->pos.line);
            else
                dec = t;
        }
        if (forward && !dec)
            gl_diags_add(c->d, p->tasks[0].pos.line, p->tasks[0].pos.col,
                         GL_SEV_WARNING, "no-decision",
                         "no task has 'decides: go'; status takes the last "
                         "verify task for the go / no-go decision");
    }
    names_of(&all, p->tasks, n, sizeof(*p->tasks),
             offsetof(struct gl_task, id));
    from = malloc((edges + 1) * sizeof(*from));
    to = malloc((edges + 1) * sizeof(*to));
    ids = malloc((n + 1) * sizeof(*ids));
    order = malloc((n + 1) * sizeof(*order));
    start = calloc(n + 1, sizeof(*start));
    finish = calloc(n + 1, sizeof(*finish));
    crit = calloc(n + 1, sizeof(*crit));
    known = calloc(n + 1, 1);
    if (!from || !to || !ids || !order || !start || !finish || !crit ||
        !known || !all.v || all.n != n)
        goto out;
    for (i = 0; i < n; i++) {
        ids[i] = &p->tasks[i].id;
        for (j = 0; j < p->tasks[i].depends_on.n; j++) {
            size_t k = index_of(&all, p->tasks[i].depends_on.v[j].id);
            if (k != (size_t)-1) {
                from[m] = i;
                to[m++] = k;
            }
        }
    }
    check_cycles(c->d, n, from, to, m, ids, "dependency");

    /* earliest start and finish over what is acyclic: a task starts at its
     * 'at' or when its last dependency finishes, whichever is later */
    {
        struct gl_graph g;
        if (gl_graph_build(&g, n, from, to, m))
            goto out;
        norder = gl_graph_topo(&g, order);
        for (i = 0; norder != (size_t)-1 && i < norder; i++) {
            size_t v = order[i], e;
            const struct gl_task *t = &p->tasks[v];
            int64_t deps_done = 0;
            int deps_known = 0;
            size_t last = (size_t)-1;

            for (e = g.first[v]; e < g.first[v + 1]; e++) {
                size_t w = g.to[e];
                if (known[w] && (!deps_known || finish[w] > deps_done)) {
                    deps_done = finish[w];
                    last = w;
                    deps_known = 1;
                }
            }
            if (t->has_at && deps_known && t->at < deps_done) {
                char at[32], done[32];
                gl_reltime_format(t->at, at);
                gl_reltime_format(deps_done, done);
                gl_diags_add(c->d, t->at_pos.line, t->at_pos.col, GL_SEV_ERROR,
                             "too-early",
                             "task '%s' is planned at %s, but its "
                             "dependencies finish at %s at the earliest "
                             "('%s' ends then)",
                             t->id.id ? t->id.id : "?", at, done,
                             p->tasks[last].id.id);
            }
            if (t->has_at || deps_known) {
                known[v] = 1;
                start[v] = t->has_at && (!deps_known || t->at > deps_done)
                               ? t->at
                               : deps_done;
                finish[v] = start[v] + (t->has_duration ? t->duration : 0);
                crit[v] = last;
            }
        }
        gl_graph_release(&g);
    }
out:
    names_release(&all);
    free(from);
    free(to);
    free(ids);
    free(order);
    free(start);
    free(finish);
    free(crit);
    free(known);
}

/* ---- scenarios and gates --------------------------------------------- */

static void check_scenarios(struct ctx *c)
{
    const struct gl_plan *p = c->p;
    size_t i;

    unique_ids(c->d, p->scenarios, p->n_scenarios, sizeof(*p->scenarios),
               offsetof(struct gl_scenario, id), "scenario");
    for (i = 0; i < p->n_scenarios; i++) {
        const struct gl_scenario *s = &p->scenarios[i];
        char what[96];

        snprintf(what, sizeof(what), "scenario '%s'",
                 s->id.id ? s->id.id : "?");
        resolve(c->d, &c->people, &s->assignee, "unknown-person", "person",
                what);
        resolve(c->d, &c->systems, &s->samples_system, "unknown-system",
                "system", what);
        resolve(c->d, &c->workflows, &s->workflow, "unknown-workflow",
                "workflow", what);
    }
}

static void check_gates(struct ctx *c)
{
    const struct gl_plan *p = c->p;
    size_t i, j;

    for (i = 0; i < p->n_gates_go; i++) {
        const struct gl_gate_rule *g = &p->gates_go[i];
        for (j = 0; j < g->refs.n; j++) {
            if (g->kind == GL_GATE_TASKS_CHECKED)
                resolve(c->d, &c->tasks, &g->refs.v[j], "unknown-task", "task",
                        "gate 'tasks_checked'");
            else if (g->kind == GL_GATE_CHECKS_PASSED)
                resolve(c->d, &c->checks, &g->refs.v[j], "unknown-check",
                        "check", "gate 'checks_passed'");
            else if (g->kind == GL_GATE_SCENARIOS_PASSED)
                resolve(c->d, &c->scenarios, &g->refs.v[j], "unknown-scenario",
                        "scenario", "gate 'scenarios_passed'");
        }
    }
}

void gl_plan_check(const struct gl_plan *p, struct gl_diags *d)
{
    struct ctx c;
    size_t i;

    memset(&c, 0, sizeof(c));
    c.p = p;
    c.d = d;
    names_of(&c.people, p->people, p->n_people, sizeof(*p->people),
             offsetof(struct gl_person, id));
    names_of(&c.systems, p->systems, p->n_systems, sizeof(*p->systems),
             offsetof(struct gl_system, name));
    names_of(&c.jobs, p->sync, p->n_sync, sizeof(*p->sync),
             offsetof(struct gl_sync_job, id));
    names_of(&c.checks, p->checks, p->n_checks, sizeof(*p->checks),
             offsetof(struct gl_check, id));
    names_of(&c.tasks, p->tasks, p->n_tasks, sizeof(*p->tasks),
             offsetof(struct gl_task, id));
    names_of(&c.scenarios, p->scenarios, p->n_scenarios, sizeof(*p->scenarios),
             offsetof(struct gl_scenario, id));
    names_of(&c.workflows, p->workflows, p->n_workflows, sizeof(*p->workflows),
             offsetof(struct gl_workflow, name));

    check_people(&c);
    check_systems(&c);
    check_sync(&c);
    check_checks(&c);
    for (i = 0; i < p->n_workflows; i++)
        check_workflow(&c, &p->workflows[i]);
    check_tasks(&c);
    check_scenarios(&c);
    check_gates(&c);

    names_release(&c.people);
    names_release(&c.systems);
    names_release(&c.jobs);
    names_release(&c.checks);
    names_release(&c.tasks);
    names_release(&c.scenarios);
    names_release(&c.workflows);
}
