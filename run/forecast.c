/*
 * forecast.c - the verification forecast (see golive/forecast.h): the
 * events are replayed into the scenarios, defects and testers as they
 * stand, then the testers' work is laid out from now.  Everything here is
 * computed from data; the store is read by run/store-forecast.c.
 */
#include "golive/forecast.h"

#include <stdlib.h>
#include <string.h>

#include "golive/defect.h"

#define NO_TIME INT64_MIN

enum sc_state { SC_PENDING, SC_RUNNING, SC_PASSED, SC_FAILED, SC_BLOCKED };

struct sc {
    const struct gl_scenario *plan;
    enum sc_state state;
    const char *taker, *assignee, *result_by;
    int64_t take_at; /* of the take not yet timed, else NO_TIME */
    int64_t taken_at, result_at;
    int held_by_fix; /* failed / blocked, waiting for a counted defect */
    int reverified;  /* failed / blocked, its defects all verified */
    int placed;
};

struct tester {
    const char *id;
    int off;
    int64_t *times;
    size_t n_times, cap;
    int64_t free, last_end;
    size_t left, running;
};

struct defect {
    int64_t n;
    int exists;
    const char *severity, *state, *scenario, *fixer;
    int64_t open_at, fixing_at, fixed_at, first_fixed_at;
    int64_t fix_end, verified_eta, reverify_at;
    const char *reverify_by;
};

struct fc {
    const struct gl_plan *p;
    int64_t now, from; /* from: when testing may start (>= now) */
    struct sc *sc;
    size_t *by_id; /* the scenarios' indexes, in the order of their ids */
    struct tester *t;
    size_t n_t;
    struct defect *d;
    size_t n_d;
    int64_t last_verify_at;
};

static int cmp_id(const void *a, const void *b, void *arg)
{
    const struct gl_plan *p = arg;

    return strcmp(p->scenarios[*(const size_t *)a].id.id,
                  p->scenarios[*(const size_t *)b].id.id);
}

/* The index of scenario id, or -1 (a binary search: the report replays
 * the events once per result). */
static long find_sc(const struct fc *f, const char *id)
{
    size_t lo = 0, hi = f->p->n_scenarios;

    while (id && lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(f->p->scenarios[f->by_id[mid]].id.id, id);
        if (!c)
            return (long)f->by_id[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static struct tester *find_t(const struct fc *f, const char *id)
{
    size_t i;

    for (i = 0; id && i < f->n_t; i++)
        if (!strcmp(f->t[i].id, id))
            return &f->t[i];
    return NULL;
}

static struct defect *find_d(struct fc *f, int64_t n, int make)
{
    if (n <= 0 || n > 1000000)
        return NULL;
    if ((size_t)n >= f->n_d) {
        size_t nn = (size_t)n + 16;
        struct defect *d;
        if (!make || !(d = realloc(f->d, nn * sizeof(*d))))
            return NULL;
        memset(d + f->n_d, 0, (nn - f->n_d) * sizeof(*d));
        f->d = d;
        f->n_d = nn;
    }
    if (!f->d[n].exists && !make)
        return NULL;
    return &f->d[n];
}

static int add_time(struct tester *t, int64_t secs)
{
    if (t->n_times == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        int64_t *v = realloc(t->times, nc * sizeof(*v));
        if (!v)
            return -1;
        t->times = v;
        t->cap = nc;
    }
    t->times[t->n_times++] = secs < 0 ? 0 : secs;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* The median of v (sorted in place); the mean of the middle two of an
 * even count, rounded down. */
static int64_t median(int64_t *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_i64);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The events, in order, into the scenarios, defects and testers. */
static int replay(struct fc *f, const struct gl_fc_event *ev, size_t n)
{
    size_t k, i;

    for (k = 0; k < n; k++) {
        const struct gl_fc_event *e = &ev[k];
        long s = find_sc(f, e->scenario);
        struct sc *x = s >= 0 ? &f->sc[s] : NULL;
        struct tester *t = find_t(f, e->actor);
        struct defect *d;
        switch (e->kind) {
        case GL_FC_TAKE:
            if (!x)
                break;
            x->state = SC_RUNNING;
            x->taker = e->actor;
            x->take_at = x->taken_at = e->at;
            if (t)
                t->off = 0;
            break;
        case GL_FC_RESULT:
            if (!x || !e->text)
                break;
            x->state = !strcmp(e->text, "passed")   ? SC_PASSED
                       : !strcmp(e->text, "failed") ? SC_FAILED
                                                    : SC_BLOCKED;
            x->result_by = e->actor;
            x->result_at = e->at;
            if (t) {
                if (x->take_at != NO_TIME && add_time(t, e->at - x->take_at))
                    return -1;
                t->off = 0;
            }
            x->take_at = NO_TIME;
            break;
        case GL_FC_DEFECT_OPEN:
            if (!(d = find_d(f, e->defect, 1)))
                break;
            d->exists = 1;
            d->n = e->defect;
            d->severity = e->text;
            d->state = "open";
            d->scenario = e->scenario;
            d->open_at = e->at;
            d->fixing_at = d->fixed_at = d->first_fixed_at = NO_TIME;
            break;
        case GL_FC_DEFECT_MOVE:
            if (!(d = find_d(f, e->defect, 0)) || !e->text)
                break;
            d->state = e->text;
            if (!strcmp(e->text, "fixing")) {
                d->fixing_at = e->at;
                d->fixer = e->actor;
            } else if (!strcmp(e->text, "fixed")) {
                d->fixed_at = e->at;
                d->fixer = e->actor;
                if (d->first_fixed_at == NO_TIME)
                    d->first_fixed_at = e->at;
            } else if (!strcmp(e->text, "verified")) {
                if (e->at > f->last_verify_at)
                    f->last_verify_at = e->at;
            }
            break;
        case GL_FC_DEFECT_SEVERITY:
            if ((d = find_d(f, e->defect, 0)) && e->text)
                d->severity = e->text;
            break;
        case GL_FC_HANDOVER:
            /* only a handover of all of their work (defect: 1) makes the
             * one handing over off; a named item moves only that item */
            if (t && e->defect)
                t->off = 1;
            if ((t = find_t(f, e->text)))
                t->off = 0;
            break;
        case GL_FC_HAND_SCENARIO:
            if (!x || !e->actor || !e->text)
                break;
            if (x->state == SC_RUNNING && x->taker &&
                !strcmp(x->taker, e->actor)) {
                /* its time for the new holder starts at the handover */
                x->taker = e->text;
                x->take_at = x->taken_at = e->at;
            } else if (x->state == SC_PENDING && x->assignee &&
                       !strcmp(x->assignee, e->actor))
                x->assignee = e->text;
            break;
        case GL_FC_HAND_DEFECT:
            if ((d = find_d(f, e->defect, 0)) && d->fixer && e->actor &&
                !strcmp(d->fixer, e->actor))
                d->fixer = e->text;
            break;
        case GL_FC_AMEND:
            /* an amendment sets the pending scenarios' assignees to the
             * plan's (this plan's: the current version) */
            for (i = 0; i < f->p->n_scenarios; i++)
                if (f->sc[i].state == SC_PENDING)
                    f->sc[i].assignee = f->p->scenarios[i].assignee.id;
            break;
        }
    }
    return 0;
}

/* The severity from which a defect counts: blocker, or lower when a
 * max_open_defects gate counts that severity. */
static int counted_rank(const struct gl_plan *p)
{
    int r = 3;
    size_t i;

    for (i = 0; i < p->n_gates_go; i++)
        if (p->gates_go[i].kind == GL_GATE_MAX_OPEN_DEFECTS &&
            gl_defect_rank(p->gates_go[i].severity) &&
            gl_defect_rank(p->gates_go[i].severity) < r)
            r = gl_defect_rank(p->gates_go[i].severity);
    return r;
}

static int counts(const struct defect *d, int rank)
{
    return d->exists && d->state &&
           (!strcmp(d->state, "open") || !strcmp(d->state, "reopened") ||
            !strcmp(d->state, "fixing") || !strcmp(d->state, "fixed")) &&
           gl_defect_rank(d->severity) >= rank;
}

static int64_t pace(const struct tester *t)
{
    int64_t *v, m;

    if (!t->n_times)
        return NO_TIME;
    if (!(v = malloc(t->n_times * sizeof(*v))))
        return NO_TIME;
    memcpy(v, t->times, t->n_times * sizeof(*v));
    m = median(v, t->n_times);
    free(v);
    return m;
}

/* How long scenario s (NULL: a re-verification without one) takes a
 * tester whose pace is t_pace (NO_TIME: none yet). */
static int64_t time_of(const struct fc *f, int64_t t_pace,
                       const struct gl_scenario *s)
{
    if (t_pace != NO_TIME)
        return t_pace;
    return s && s->has_duration ? s->duration : f->p->scenario_duration;
}

static int may_take(const struct tester *t)
{
    return t && !t->off;
}

/* 'scenario next''s order: risk, highest first, then priority, then id
 * (arg: the struct fc). */
static int cmp_next(const void *a, const void *b, void *arg)
{
    const struct fc *f = arg;
    const struct gl_scenario *x = f->sc[*(const size_t *)a].plan,
                             *y = f->sc[*(const size_t *)b].plan;

    if (x->risk != y->risk)
        return x->risk > y->risk ? -1 : 1;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    return strcmp(x->id.id, y->id.id);
}

/* The order a tester took what they hold. */
static int cmp_taken(const void *a, const void *b, void *arg)
{
    const struct fc *f = arg;
    const struct sc *x = &f->sc[*(const size_t *)a],
                    *y = &f->sc[*(const size_t *)b];

    if (x->taken_at != y->taken_at)
        return x->taken_at < y->taken_at ? -1 : 1;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

struct layout {
    int64_t *paces;
    size_t left, unplaced;
    int64_t testing_at;
    long testing_by;
};

/* Lay the scenarios left out over the testers (see golive/forecast.h). */
static int lay_out(struct fc *f, struct layout *L)
{
    size_t ns = f->p->n_scenarios, i, k, n_pool = 0, n_run = 0;
    size_t *pool = malloc((ns ? ns : 1) * sizeof(*pool)),
           *run = malloc((ns ? ns : 1) * sizeof(*run));

    L->testing_at = NO_TIME;
    L->testing_by = -1;
    if (!pool || !run)
        goto oom;
    for (i = 0; i < ns; i++) {
        struct sc *x = &f->sc[i];
        if (x->state == SC_PASSED || x->held_by_fix || x->reverified)
            continue;
        L->left++;
        if (x->state == SC_RUNNING && may_take(find_t(f, x->taker)))
            run[n_run++] = i;
        else
            pool[n_pool++] = i;
    }
    qsort_r(run, n_run, sizeof(*run), cmp_taken, f);
    qsort_r(pool, n_pool, sizeof(*pool), cmp_next, f);

    /* what each tester holds: from when they took it, one after another */
    for (i = 0; i < f->n_t; i++)
        f->t[i].free = f->t[i].last_end = NO_TIME;
    for (k = 0; k < n_run; k++) {
        struct sc *x = &f->sc[run[k]];
        struct tester *t = find_t(f, x->taker);
        size_t ti = (size_t)(t - f->t);
        int64_t start = t->free == NO_TIME || x->taken_at > t->free
                            ? x->taken_at
                            : t->free,
                end = start + time_of(f, L->paces[ti], x->plan);
        t->free = t->last_end = end > f->now ? end : f->now;
        t->left++;
        t->running++;
        x->placed = 1;
    }
    for (i = 0; i < f->n_t; i++)
        if (f->t[i].free == NO_TIME)
            f->t[i].free = f->from;

    /* the others, riskiest first: an assigned one to its assignee, the
     * rest to the tester who would finish it first (ties: the plan's
     * order) */
    for (k = 0; k < n_pool; k++) {
        struct sc *x = &f->sc[pool[k]];
        struct tester *best = NULL, *a = find_t(f, x->assignee);
        int64_t best_end = 0;
        if (x->assignee && may_take(a)) {
            best = a;
            best_end = a->free + time_of(f, L->paces[a - f->t], x->plan);
        } else
            for (i = 0; i < f->n_t; i++) {
                int64_t end;
                if (f->t[i].off)
                    continue;
                end = f->t[i].free + time_of(f, L->paces[i], x->plan);
                if (!best || end < best_end) {
                    best = &f->t[i];
                    best_end = end;
                }
            }
        if (!best)
            continue;
        best->free = best->last_end = best_end;
        best->left++;
        x->placed = 1;
    }
    for (i = 0; i < ns; i++)
        if (f->sc[i].state != SC_PASSED && !f->sc[i].held_by_fix &&
            !f->sc[i].reverified && !f->sc[i].placed)
            L->unplaced++;
    for (i = 0; i < f->n_t; i++)
        if (f->t[i].last_end != NO_TIME &&
            (L->testing_by < 0 || f->t[i].last_end > L->testing_at)) {
            L->testing_at = f->t[i].last_end;
            L->testing_by = (long)i;
        }
    free(pool);
    free(run);
    return 0;
oom:
    free(pool);
    free(run);
    return -1;
}

static json_t *tj(int64_t t)
{
    return t == NO_TIME ? json_null() : json_integer(t);
}

static int cmp_fix(const void *a, const void *b)
{
    const struct defect *x = *(const struct defect *const *)a,
                        *y = *(const struct defect *const *)b;

    if (x->fix_end != y->fix_end)
        return x->fix_end < y->fix_end ? -1 : 1;
    return (x->n > y->n) - (x->n < y->n);
}

/* The fixes and their re-verification, after the testers' own scenarios.
 * *at and *by get the last re-verification (NO_TIME, NULL: none; *unknown
 * is set when a fix has nobody to re-verify it). */
static int reverify(struct fc *f, const int64_t *paces, int rank, int64_t fix,
                    int64_t *at, const struct defect **by, size_t *n_fixes,
                    int *unknown)
{
    struct defect **v;
    size_t i, k, n = 0;

    *at = NO_TIME;
    *by = NULL;
    *n_fixes = 0;
    *unknown = 0;
    if (!(v = malloc((f->n_d ? f->n_d : 1) * sizeof(*v))))
        return -1;
    for (i = 0; i < f->n_d; i++) {
        struct defect *d = &f->d[i];
        int64_t e;
        d->fix_end = d->verified_eta = d->reverify_at = NO_TIME;
        d->reverify_by = NULL;
        if (!counts(d, rank))
            continue;
        if (!strcmp(d->state, "fixed"))
            e = d->fixed_at;
        else if (!strcmp(d->state, "fixing"))
            e = d->fixing_at + fix;
        else
            e = f->now + fix;
        d->fix_end = e > f->now || !strcmp(d->state, "fixed") ? e : f->now;
        v[n++] = d;
    }
    qsort(v, n, sizeof(*v), cmp_fix);
    for (k = 0; k < n; k++) {
        struct defect *d = v[k];
        long s = find_sc(f, d->scenario);
        const struct gl_scenario *sp = s >= 0 ? f->sc[s].plan : NULL;
        struct tester *best = NULL;
        int64_t best_end = 0;
        for (i = 0; i < f->n_t; i++) {
            struct tester *t = &f->t[i];
            int64_t start, end;
            if (t->off || (d->fixer && !strcmp(d->fixer, t->id)))
                continue;
            start = t->free > d->fix_end ? t->free : d->fix_end;
            if (start < f->now)
                start = f->now;
            end = start + time_of(f, paces[i], sp);
            if (!best || end < best_end) {
                best = t;
                best_end = end;
            }
        }
        if (!best) {
            *unknown = 1;
            continue;
        }
        best->free = best_end;
        d->reverify_by = best->id;
        d->verified_eta = best_end;
        if (*at == NO_TIME || best_end >= *at) {
            *at = best_end;
            *by = d;
        }
    }
    *n_fixes = n;
    free(v);
    return 0;
}

static int resolved(const struct defect *d)
{
    return !strcmp(d->state, "verified") || !strcmp(d->state, "deferred");
}

/* A failed or blocked scenario whose defects (one at least) are all
 * verified or deferred was re-verified: it is done, not run again. */
static void mark_reverified(struct fc *f)
{
    size_t i;
    long s;

    /* 2: failed or blocked, no defect of it seen yet; 0 once one is not
     * resolved */
    for (i = 0; i < f->p->n_scenarios; i++)
        f->sc[i].reverified =
            f->sc[i].state == SC_FAILED || f->sc[i].state == SC_BLOCKED ? 2 : 0;
    for (i = 0; i < f->n_d; i++) {
        if (!f->d[i].exists || !f->d[i].state ||
            (s = find_sc(f, f->d[i].scenario)) < 0 || !f->sc[s].reverified)
            continue;
        f->sc[s].reverified = resolved(&f->d[i]);
    }
    for (i = 0; i < f->p->n_scenarios; i++)
        if (f->sc[i].reverified == 2)
            f->sc[i].reverified = 0;
}

static json_t *build(struct fc *f)
{
    const struct gl_plan *p = f->p;
    struct layout L;
    int64_t fix = p->fix_duration, *fixes = NULL, rv_at, t_at, v_at;
    size_t n_fixed = 0, i, n_fixes;
    const struct defect *rv_by;
    json_t *o = NULL, *testers, *defects;
    int rank = counted_rank(p), unknown, t_done, v_done;
    long last_res = -1;

    memset(&L, 0, sizeof(L));
    if (!(L.paces = calloc(f->n_t ? f->n_t : 1, sizeof(*L.paces))) ||
        !(fixes = malloc((f->n_d ? f->n_d : 1) * sizeof(*fixes))))
        goto out;
    for (i = 0; i < f->n_t; i++)
        L.paces[i] = pace(&f->t[i]);
    for (i = 0; i < f->n_d; i++)
        if (f->d[i].exists && f->d[i].first_fixed_at != NO_TIME)
            fixes[n_fixed++] = f->d[i].first_fixed_at - f->d[i].open_at;
    if (n_fixed)
        fix = median(fixes, n_fixed);
    if (fix < 0)
        fix = 0;
    /* a failed or blocked scenario whose counted defect is not verified
     * is re-run as that defect's re-verification */
    for (i = 0; i < f->n_d; i++) {
        long s;
        if (!counts(&f->d[i], rank) || (s = find_sc(f, f->d[i].scenario)) < 0)
            continue;
        if (f->sc[s].state == SC_FAILED || f->sc[s].state == SC_BLOCKED)
            f->sc[s].held_by_fix = 1;
    }
    mark_reverified(f);
    if (lay_out(f, &L) ||
        reverify(f, L.paces, rank, fix, &rv_at, &rv_by, &n_fixes, &unknown))
        goto out;
    for (i = 0; i < p->n_scenarios; i++)
        if (f->sc[i].result_at != NO_TIME &&
            (last_res < 0 || f->sc[i].result_at >= f->sc[last_res].result_at))
            last_res = (long)i;
    t_done = L.left == 0;
    t_at = t_done       ? (last_res >= 0 ? f->sc[last_res].result_at : NO_TIME)
           : L.unplaced ? NO_TIME
                        : L.testing_at;
    v_done = t_done && n_fixes == 0;
    if (v_done) {
        v_at = t_at;
        if (f->last_verify_at != NO_TIME &&
            (v_at == NO_TIME || f->last_verify_at > v_at))
            v_at = f->last_verify_at;
    } else if (unknown || (!t_done && t_at == NO_TIME)) {
        v_at = NO_TIME;
    } else {
        v_at = t_at;
        if (rv_at != NO_TIME && (v_at == NO_TIME || rv_at > v_at))
            v_at = rv_at;
        else
            rv_by = NULL;
    }

    testers = json_array();
    for (i = 0; i < f->n_t; i++) {
        const struct tester *t = &f->t[i];
        json_array_append_new(
            testers,
            json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:o}", "id", t->id, "off",
                      t->off, "left", (json_int_t)t->left, "running",
                      (json_int_t)t->running, "pace",
                      (json_int_t)(L.paces[i] != NO_TIME
                                       ? L.paces[i]
                                       : p->scenario_duration),
                      "timed", (json_int_t)t->n_times, "done_at",
                      tj(t->left ? t->last_end : NO_TIME)));
    }
    defects = json_array();
    for (i = 0; i < f->n_d; i++) {
        const struct defect *d = &f->d[i];
        char id[32];
        if (!counts(d, rank))
            continue;
        snprintf(id, sizeof(id), "D-%lld", (long long)d->n);
        json_array_append_new(
            defects,
            json_pack("{s:s, s:I, s:s?, s:s, s:s?, s:s?, s:o, s:o, s:s?, s:o}",
                      "id", id, "n", (json_int_t)d->n, "severity", d->severity,
                      "state", d->state, "scenario", d->scenario, "fixer",
                      d->fixer, "fix_from",
                      tj(!strcmp(d->state, "fixing")  ? d->fixing_at
                         : !strcmp(d->state, "fixed") ? d->fixed_at
                                                      : f->now),
                      "fix_end", tj(d->fix_end), "reverify_by", d->reverify_by,
                      "verified_eta", tj(d->verified_eta)));
    }
    {
        char vby[32] = "";
        if (rv_by)
            snprintf(vby, sizeof(vby), "D-%lld", (long long)rv_by->n);
        o = json_pack(
            "{s:b, s:I, s:I, s:{s:I, s:s, s:I},"
            " s:{s:b, s:o, s:s?, s:I, s:I},"
            " s:{s:b, s:o, s:s?, s:I}, s:o, s:o}",
            "applies", p->n_scenarios > 0 || n_fixes > 0, "now",
            (json_int_t)f->now, "scenario_duration",
            (json_int_t)p->scenario_duration, "fix", "seconds", (json_int_t)fix,
            "basis", n_fixed ? "median" : "plan", "fixed", (json_int_t)n_fixed,
            "testing", "done", t_done, "at", tj(t_at), "by",
            t_done ? (last_res >= 0 ? f->sc[last_res].result_by : NULL)
            : L.testing_by >= 0 && !L.unplaced ? f->t[L.testing_by].id
                                               : NULL,
            "left", (json_int_t)L.left, "unplaced", (json_int_t)L.unplaced,
            "verified", "done", v_done, "at", tj(v_at), "by",
            rv_by && !v_done ? vby : NULL, "fixes", (json_int_t)n_fixes,
            "testers", testers, "defects", defects);
    }
out:
    free(L.paces);
    free(fixes);
    return o;
}

json_t *gl_forecast_compute(const struct gl_plan *p,
                            const struct gl_fc_event *ev, size_t n, int64_t now,
                            int64_t from)
{
    struct fc f;
    json_t *o = NULL;
    size_t i;

    memset(&f, 0, sizeof(f));
    f.p = p;
    f.now = now;
    f.from = from > now ? from : now;
    f.last_verify_at = NO_TIME;
    if (!(f.sc = calloc(p->n_scenarios ? p->n_scenarios : 1, sizeof(*f.sc))) ||
        !(f.by_id =
              malloc((p->n_scenarios ? p->n_scenarios : 1) * sizeof(*f.by_id))))
        goto out;
    for (i = 0; i < p->n_scenarios; i++)
        f.by_id[i] = i;
    qsort_r(f.by_id, p->n_scenarios, sizeof(*f.by_id), cmp_id, (void *)p);
    for (i = 0; i < p->n_scenarios; i++) {
        f.sc[i].plan = &p->scenarios[i];
        f.sc[i].assignee = p->scenarios[i].assignee.id;
        f.sc[i].take_at = f.sc[i].taken_at = f.sc[i].result_at = NO_TIME;
    }
    for (i = 0; i < p->n_people; i++)
        f.n_t += (p->people[i].roles & GL_ROLE_TESTER) != 0;
    if (!(f.t = calloc(f.n_t ? f.n_t : 1, sizeof(*f.t))))
        goto out;
    f.n_t = 0;
    for (i = 0; i < p->n_people; i++)
        if (p->people[i].roles & GL_ROLE_TESTER && p->people[i].id.id)
            f.t[f.n_t++].id = p->people[i].id.id;
    if (replay(&f, ev, n))
        goto out;
    /* testing started once a scenario was taken or recorded: the verify
     * stage's expected start no longer holds anyone back */
    for (i = 0; i < p->n_scenarios; i++)
        if (f.sc[i].taken_at != NO_TIME || f.sc[i].result_at != NO_TIME)
            f.from = now;
    o = build(&f);
out:
    for (i = 0; f.t && i < f.n_t; i++)
        free(f.t[i].times);
    free(f.t);
    free(f.sc);
    free(f.by_id);
    free(f.d);
    return o;
}

int gl_forecast_eval(gl_store *s, const struct gl_plan *p, int64_t now,
                     int64_t from, json_t **out, struct gl_err *err)
{
    struct gl_fc_log log;
    int rc;

    *out = NULL;
    if ((rc = gl_store_forecast_events(s, &log, err)))
        return rc;
    *out = gl_forecast_compute(p, log.v, log.n, now, from);
    gl_fc_log_release(&log);
    return *out ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory");
}

int gl_forecast_history(gl_store *s, const struct gl_plan *p, json_t **out,
                        struct gl_err *err)
{
    struct gl_fc_log log;
    size_t k;
    int rc;

    *out = NULL;
    if ((rc = gl_store_forecast_events(s, &log, err)))
        return rc;
    *out = json_array();
    for (k = 0; k < log.n; k++) {
        const struct gl_fc_event *e = &log.v[k];
        json_t *fc, *te, *ve;
        if (e->kind != GL_FC_RESULT)
            continue;
        if (!(fc = gl_forecast_compute(p, log.v, k + 1, e->at, e->at))) {
            rc = gl_err_set(err, GL_ENOMEM, "out of memory");
            break;
        }
        te = json_object_get(fc, "testing");
        ve = json_object_get(fc, "verified");
        json_array_append_new(
            *out,
            json_pack("{s:I, s:I, s:s?, s:s?, s:s?, s:O, s:O, s:O, s:O, s:O}",
                      "seq", (json_int_t)e->seq, "at", (json_int_t)e->at,
                      "scenario", e->scenario, "result", e->text, "by",
                      e->actor, "testing_done", json_object_get(te, "at"),
                      "testing_by", json_object_get(te, "by"), "verified",
                      json_object_get(ve, "at"), "verified_by",
                      json_object_get(ve, "by"), "left",
                      json_object_get(te, "left")));
        json_decref(fc);
    }
    gl_fc_log_release(&log);
    if (rc) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}
