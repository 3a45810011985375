/*
 * segment.c - a diff in key-range segments (see golive/recon.h,
 * gl_diff_run_jobs): the source's key range is cut into `jobs` segments
 * of about equal size (gl_diff_bounds), each compared on a thread and two
 * connections of its own, the results added up.  `golive diff --jobs`
 * and a plan's check of type diff both come here.  The differences and
 * the fix SQL reach the caller in key order, whatever segment ends first
 * (spill.h): the same output from one run to the next.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "golive/recon.h"
#include "recon/spill.h"
#include "util/buf.h"

#define MAX_JOBS 64

int gl_diff_default_jobs(int attached)
{
    long n;

    /* streaming: 1 (the servers are the bottleneck, see bench/diff.sh);
     * compared inside the database: every core, up to 4 */
    if (!attached)
        return 1;
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 4 ? 4 : (int)n;
}

/* One segment of a parallel diff, on connections of its own. */
struct seg {
    struct gl_diff_side S, D;
    struct gl_diff_opts o;
    struct gl_buf swhere, dwhere;
    struct gl_diff_result res;
    struct gl_err err;
    int rc, empty;
    /* the first segment writes to the caller; the others keep their
     * output here until the segments before them are done */
    struct gl_diff_spill spill;
    pthread_t th;
};

static void *seg_run(void *arg)
{
    struct seg *g = arg;
    struct gl_db *a = NULL, *b = NULL;

    gl_err_clear(&g->err);
    if ((g->rc =
             gl_db_open(g->S.url, g->S.dir ? g->S.dir : ".", &a, &g->err)) ||
        (g->rc =
             gl_db_open(g->D.url, g->D.dir ? g->D.dir : ".", &b, &g->err))) {
        gl_db_close(a);
        return NULL;
    }
    g->S.db = a;
    g->D.db = b;
    g->rc = gl_diff_run(&g->S, &g->D, &g->o, &g->res, &g->err);
    gl_db_close(a);
    gl_db_close(b);
    return NULL;
}

/* "k1<test>" joined by sep, for every key, in db's quoting. */
static void key_nulls(const struct gl_diff_side *sd,
                      const struct gl_diff_opts *o, const char *sep,
                      const char *test, struct gl_buf *w)
{
    const char *const *keys = sd->key_names ? sd->key_names : o->key;
    size_t k;

    for (k = 0; k < o->nkey; k++) {
        if (k)
            gl_buf_adds(w, sep);
        sd->db->drv->quote_ident(keys[k], w);
        gl_buf_adds(w, test);
    }
}

/* The side's filter for the segment [lo, hi): its own where, the range,
 * rows with a NULL key in the first segment. */
static void seg_where(struct gl_diff_side *sd, const struct gl_diff_opts *o,
                      const char *lo, const char *hi, struct gl_buf *w)
{
    if (sd->where)
        gl_buf_addf(w, "(%s)", sd->where);
    if (lo) {
        gl_buf_adds(w, w->len ? " AND " : "");
        gl_diff_range(sd, o, lo, ">=", w);
    }
    if (hi) {
        gl_buf_adds(w, w->len ? " AND " : "");
        if (!lo) /* rows with a NULL key: the first segment's */
            gl_buf_adds(w, "(");
        gl_diff_range(sd, o, hi, "<", w);
        if (!lo) {
            gl_buf_adds(w, " OR ");
            key_nulls(sd, o, " OR ", " IS NULL", w);
            gl_buf_adds(w, ")");
        }
    }
    if (lo) { /* (a, NULL) may sort inside a range */
        gl_buf_adds(w, " AND ");
        key_nulls(sd, o, " AND ", " IS NOT NULL", w);
    }
    sd->where = w->len ? gl_buf_str(w) : NULL;
}

static void add_result(struct gl_diff_result *res,
                       const struct gl_diff_result *x)
{
    res->source_rows += x->source_rows;
    res->target_rows += x->target_rows;
    res->missing += x->missing;
    res->extra += x->extra;
    res->changed += x->changed;
    res->duplicates += x->duplicates;
    res->null_keys += x->null_keys;
    res->stopped |= x->stopped;
    if (x->seconds > res->seconds)
        res->seconds = x->seconds;
}

/* Start segment g of jobs (bounds from gl_diff_bounds). */
static void seg_start(struct seg *x, int g, int jobs, char **bounds,
                      const struct gl_diff_side *src,
                      const struct gl_diff_side *dst,
                      const struct gl_diff_opts *o)
{
    const char *lo = g ? bounds[g - 1] : NULL;
    const char *hi = g < jobs - 1 ? bounds[g] : NULL;

    x->S = *src; /* its db for quoting; replaced in the thread */
    x->D = *dst;
    x->o = *o;
    seg_where(&x->S, o, lo, hi, &x->swhere);
    seg_where(&x->D, o, lo, hi, &x->dwhere);
    /* an empty middle segment when a bound was not found */
    if ((g && !lo) || (g < jobs - 1 && !hi && g)) {
        x->empty = 1;
        return;
    }
    if (g && (x->rc = gl_diff_spill_open(&x->spill, o, &x->o, &x->err))) {
        x->empty = 1;
        return;
    }
    if (pthread_create(&x->th, NULL, seg_run, x)) {
        x->empty = 1; /* no thread: run it here */
        seg_run(x);
    }
}

int gl_diff_run_jobs(const struct gl_diff_side *src,
                     const struct gl_diff_side *dst,
                     const struct gl_diff_opts *o, int jobs,
                     struct gl_diff_result *res, struct gl_err *err)
{
    char *bounds[MAX_JOBS];
    struct seg *segs;
    int g, bad = 0;

    if (jobs > MAX_JOBS)
        jobs = MAX_JOBS;
    if (jobs <= 1 || !src->url || !dst->url)
        return gl_diff_run(src, dst, o, res, err);
    gl_db_global_init(); /* before any thread connects */
    if (!(segs = calloc((size_t)jobs, sizeof(*segs))))
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    if (gl_diff_bounds(src, o, jobs, bounds, err)) {
        free(segs);
        return err->code ? err->code : GL_EIO;
    }
    memset(res, 0, sizeof(*res));
    for (g = 0; g < jobs; g++)
        seg_start(&segs[g], g, jobs, bounds, src, dst, o);
    for (g = 0; g < jobs; g++) {
        struct seg *x = &segs[g];
        if (!x->empty)
            pthread_join(x->th, NULL);
        if (x->rc && !bad) {
            bad = x->rc;
            *err = x->err;
        }
    }
    /* every segment ended: what the later ones kept follows the first's
     * output, in key order */
    for (g = 0; g < jobs; g++) {
        struct seg *x = &segs[g];
        if (!bad)
            bad = gl_diff_spill_replay(&x->spill, o, err);
        gl_diff_spill_close(&x->spill);
        add_result(res, &x->res);
        gl_buf_release(&x->swhere);
        gl_buf_release(&x->dwhere);
    }
    for (g = 0; g < jobs - 1; g++)
        free(bounds[g]);
    free(segs);
    return bad;
}
