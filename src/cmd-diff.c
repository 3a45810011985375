/*
 * cmd-diff.c - `golive diff`: are two tables the same, row by row, on any
 * pair of engines?
 */
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "golive/db.h"
#include "golive/recon.h"
#include "util/buf.h"

#define HUMAN_SHOWN 20

struct out {
    int json;
    int64_t shown, total;
    pthread_mutex_t mu; /* segments report from several threads */
};

/* One segment of a parallel diff, on connections of its own. */
struct seg {
    const char *surl, *durl;
    struct gl_diff_side S, D;
    struct gl_diff_opts o;
    struct gl_buf swhere, dwhere;
    struct gl_diff_result res;
    struct gl_err err;
    int rc;
};

static void *seg_run(void *arg)
{
    struct seg *g = arg;
    struct gl_db *a = NULL, *b = NULL;

    gl_err_clear(&g->err);
    if ((g->rc = gl_db_open(g->surl, ".", &a, &g->err)) ||
        (g->rc = gl_db_open(g->durl, ".", &b, &g->err))) {
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

static json_t *key_json(const struct gl_diff_item *d)
{
    json_t *k = json_object();
    size_t i;

    for (i = 0; i < d->nkey; i++)
        json_object_set_new(k, d->key_names[i], cli_value_json(&d->key[i]));
    return k;
}

static void on_diff_locked(struct out *O, const struct gl_diff_item *d);

static void on_diff(void *ctx, const struct gl_diff_item *d)
{
    struct out *O = ctx;

    pthread_mutex_lock(&O->mu);
    on_diff_locked(O, d);
    pthread_mutex_unlock(&O->mu);
}

static void on_diff_locked(struct out *O, const struct gl_diff_item *d)
{
    size_t i;

    O->total++;
    if (O->json) {
        json_t *o = json_object(), *cols = json_array();
        char *s;
        json_object_set_new(o, "op", json_string(d->op));
        if (d->side)
            json_object_set_new(o, "side", json_string(d->side));
        json_object_set_new(o, "key", key_json(d));
        for (i = 0; i < d->nchanged; i++)
            json_array_append_new(cols, json_string(d->changed[i]));
        json_object_set_new(o, "columns", cols);
        s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s ? s : "{}");
        free(s);
        json_decref(o);
        return;
    }
    if (O->shown >= HUMAN_SHOWN)
        return;
    O->shown++;
    {
        json_t *k = key_json(d);
        char *ks = json_dumps(k, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%-9s %s", d->op, ks ? ks : "");
        if (d->side)
            printf(" in the %s", d->side);
        for (i = 0; i < d->nchanged; i++)
            printf("%s%s", i ? ", " : "  columns: ", d->changed[i]);
        printf("\n");
        free(ks);
        json_decref(k);
    }
}

struct joined {
    const char *attach; /* SQLite file to attach, or NULL */
    char src_table[512], dst_table[512];
};

/* The part of a URL before its database ("mysql://u@h:p"), its length. */
static size_t server_part(const char *url)
{
    const char *p = strstr(url, "://");
    const char *slash = p ? strchr(p + 3, '/') : NULL;

    return slash ? (size_t)(slash - url) : strlen(url);
}

/* Whether one connection on surl reaches both tables, and how it names
 * them. */
static int one_connection(const char *surl, const char *stable,
                          const char *durl, const char *dtable,
                          struct joined *j)
{
    memset(j, 0, sizeof(*j));
    snprintf(j->src_table, sizeof(j->src_table), "%s", stable);
    snprintf(j->dst_table, sizeof(j->dst_table), "%s", dtable);
    if (!strncmp(surl, "sqlite:", 7) && !strncmp(durl, "sqlite:", 7)) {
        j->attach = durl + 7 + (strncmp(durl + 7, "//", 2) ? 0 : 2);
        return 1;
    }
    if (!strncmp(surl, "postgres", 8) && !strcmp(surl, durl))
        return 1; /* one database */
    if ((!strncmp(surl, "mysql://", 8) || !strncmp(surl, "mariadb://", 10)) &&
        server_part(surl) == server_part(durl) &&
        !strncmp(surl, durl, server_part(surl)) && !strchr(stable, '.') &&
        !strchr(dtable, '.')) {
        /* one server: each table under its own database */
        const char *sd = surl + server_part(surl) + 1;
        const char *dd = durl + server_part(durl) + 1;
        int sl = (int)strcspn(sd, "?"), dl = (int)strcspn(dd, "?");
        if (!sl || !dl)
            return 0;
        snprintf(j->src_table, sizeof(j->src_table), "%.*s.%s", sl, sd, stable);
        snprintf(j->dst_table, sizeof(j->dst_table), "%.*s.%s", dl, dd, dtable);
        return 1;
    }
    return 0;
}

/* Whether the key is exactly the table's primary key. */
static int keys_are_pk(const struct gl_table_desc *t,
                       const struct gl_diff_opts *o)
{
    size_t k;

    if (t->npk != o->nkey)
        return 0;
    for (k = 0; k < o->nkey; k++)
        if (strcmp(t->cols[t->pk[k]].name, o->key[k]))
            return 0;
    return 1;
}

static int split_list(char *s, const char **out, size_t cap)
{
    size_t n = 0;
    char *tok, *save = NULL;

    for (tok = strtok_r(s, ",", &save); tok && n < cap;
         tok = strtok_r(NULL, ",", &save))
        out[n++] = tok;
    return (int)n;
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},
        {"columns", required_argument, NULL, 'c'},
        {"where", required_argument, NULL, 'w'},
        {"float-digits", required_argument, NULL, 'f'},
        {"time-precision", required_argument, NULL, 't'},
        {"rtrim", no_argument, NULL, 'r'},
        {"max-diffs", required_argument, NULL, 'm'},
        {"fix-sql", required_argument, NULL, 'x'},
        {"json", no_argument, NULL, 'j'},
        {"jobs", required_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    char *keyarg = NULL, *colarg = NULL;
    const char *where = NULL, *fix = NULL;
    const char *keys[64], *cols[1024];
    const char *sdecl[1024], *ddecl[1024];
    enum gl_vtype ktypes[64];
    struct gl_diff_opts o;
    struct gl_diff_side S, D;
    struct gl_diff_result res;
    struct gl_table_desc st, dt;
    struct gl_db *sdb = NULL, *ddb = NULL;
    struct gl_buf srel = GL_BUF_INIT, drel = GL_BUF_INIT;
    struct gl_err err;
    struct out O;
    FILE *fixf = NULL;
    struct joined joined;
    int c, rc = EXIT_ERROR, json = 0, jobs = 0;
    size_t i, k;

    memset(&o, 0, sizeof(o));
    memset(&O, 0, sizeof(O));
    pthread_mutex_init(&O.mu, NULL);
    memset(&st, 0, sizeof(st));
    memset(&dt, 0, sizeof(dt));
    o.time_unit = 1;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            keyarg = optarg;
            break;
        case 'c':
            colarg = optarg;
            break;
        case 'w':
            where = optarg;
            break;
        case 'f':
            o.float_digits = atoi(optarg);
            if (o.float_digits < 1 || o.float_digits > 17)
                return cli_usage("diff", "--float-digits takes 1 to 17");
            break;
        case 't':
            o.time_unit = !strcmp(optarg, "us")   ? 1
                          : !strcmp(optarg, "ms") ? 1000
                          : !strcmp(optarg, "s")  ? 1000000
                                                  : 0;
            if (!o.time_unit)
                return cli_usage("diff", "--time-precision is us, ms or s");
            break;
        case 'r':
            o.rtrim = 1;
            break;
        case 'm':
            o.max_diffs = atoll(optarg);
            if (o.max_diffs < 1)
                return cli_usage("diff", "--max-diffs takes a positive "
                                         "number");
            break;
        case 'x':
            fix = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'J':
            jobs = atoi(optarg);
            if (jobs < 1 || jobs > 64)
                return cli_usage("diff", "--jobs takes 1 to 64");
            break;
        case 'h':
            fputs(cmd_diff.usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage("diff", "unknown option");
        }
    }
    if (argc - optind != 4)
        return cli_usage("diff", "diff takes SRC_URL SRC_TABLE DST_URL "
                                 "DST_TABLE");
    gl_err_clear(&err);
    gl_db_global_init();
    if (gl_db_open(argv[optind], ".", &sdb, &err) ||
        gl_db_open(argv[optind + 2], ".", &ddb, &err) ||
        sdb->drv->describe(sdb, argv[optind + 1], &st, &err) ||
        ddb->drv->describe(ddb, argv[optind + 3], &dt, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    /* the key: named, else the source's primary key */
    if (keyarg) {
        o.nkey = (size_t)split_list(keyarg, keys, 64);
    } else {
        for (k = 0; k < st.npk && k < 64; k++)
            keys[k] = st.cols[st.pk[k]].name;
        o.nkey = st.npk < 64 ? st.npk : 64;
    }
    if (!o.nkey) {
        rc = cli_usage("diff",
                       "table '%s' has no primary key: name the key "
                       "with --key",
                       argv[optind + 1]);
        goto out;
    }
    for (k = 0; k < o.nkey; k++) {
        int si = gl_table_col(&st, keys[k]), di = gl_table_col(&dt, keys[k]);
        if (si < 0 || di < 0) {
            cli_error("key column '%s' is not in %s", keys[k],
                      si < 0 ? "the source" : "the target");
            goto out;
        }
        ktypes[k] = st.cols[si].type;
    }
    /* the columns: named, else every non-key column both sides have */
    if (colarg) {
        o.ncols = (size_t)split_list(colarg, cols, 1024);
    } else {
        for (i = 0; i < st.ncols && o.ncols < 1024; i++) {
            int is_key = 0;
            for (k = 0; k < o.nkey; k++)
                is_key |= !strcmp(st.cols[i].name, keys[k]);
            if (!is_key && gl_table_col(&dt, st.cols[i].name) >= 0)
                cols[o.ncols++] = st.cols[i].name;
        }
    }
    for (i = 0; i < o.ncols; i++) {
        int si = gl_table_col(&st, cols[i]), di = gl_table_col(&dt, cols[i]);
        if (si < 0 || di < 0) {
            cli_error("column '%s' is not in %s", cols[i],
                      si < 0 ? "the source" : "the target");
            goto out;
        }
        sdecl[i] = st.cols[si].decl_type;
        ddecl[i] = dt.cols[di].decl_type;
    }
    o.key = keys;
    o.cols = cols;
    if (fix) {
        if (!(fixf = fopen(fix, "w"))) {
            cli_error("cannot write '%s'", fix);
            goto out;
        }
        fprintf(fixf, "-- golive diff: make %s equal to %s\nBEGIN;\n",
                argv[optind + 3], argv[optind + 1]);
        o.fix_sql = fixf;
    }
    O.json = json;
    o.on_diff = on_diff;
    o.ctx = &O;
    sdb->drv->quote_ident(argv[optind + 1], &srel);
    ddb->drv->quote_ident(argv[optind + 3], &drel);
    memset(&S, 0, sizeof(S));
    memset(&D, 0, sizeof(D));
    S.db = sdb;
    S.relation = gl_buf_str(&srel);
    S.where = where;
    S.key_types = ktypes;
    S.col_decl = sdecl;
    D.db = ddb;
    D.relation = gl_buf_str(&drel);
    D.where = where;
    D.table = argv[optind + 3];
    D.key_types = ktypes;
    D.col_decl = ddecl;
    if (!fixf && keys_are_pk(&st, &o) && keys_are_pk(&dt, &o) &&
        one_connection(argv[optind], argv[optind + 1], argv[optind + 2],
                       argv[optind + 3], &joined)) {
        /* one connection reaches both tables, keyed by their primary keys
         * (so no duplicates): compared inside the database, by default on
         * every core (up to 4) */
        if (!jobs) {
            long n = sysconf(_SC_NPROCESSORS_ONLN);
            jobs = n < 1 ? 1 : n > 4 ? 4 : (int)n;
        }
        if (gl_diff_attached(argv[optind], joined.src_table, joined.attach,
                             joined.dst_table, &S, &D, &o, jobs, &res, &err)) {
            rc = cli_fail(&err);
            goto out;
        }
    } else if (jobs > 1) { /* streaming: 1 unless asked (the servers
                            * are the bottleneck, see bench/diff.sh) */
        /* cut the key range into segments, one thread and two
         * connections each */
        char *bounds[64];
        struct seg *segs = calloc((size_t)jobs, sizeof(*segs));
        pthread_t th[64];
        int g, bad = 0;

        if (!segs || gl_diff_bounds(&S, &o, jobs, bounds, &err)) {
            free(segs);
            rc = segs ? cli_fail(&err) : EXIT_ERROR;
            goto out;
        }
        memset(&res, 0, sizeof(res));
        for (g = 0; g < jobs; g++) {
            struct seg *x = &segs[g];
            const char *lo = g ? bounds[g - 1] : NULL;
            const char *hi = g < jobs - 1 ? bounds[g] : NULL;
            int side;
            x->surl = argv[optind];
            x->durl = argv[optind + 2];
            x->S = S;
            x->D = D;
            x->o = o;
            for (side = 0; side < 2; side++) {
                struct gl_diff_side *sd = side ? &x->D : &x->S;
                struct gl_buf *w = side ? &x->dwhere : &x->swhere;
                struct gl_db *db0 = side ? ddb : sdb;
                sd->db = db0; /* for quoting; replaced in the thread */
                if (where)
                    gl_buf_addf(w, "(%s)", where);
                if (lo) {
                    gl_buf_adds(w, w->len ? " AND " : "");
                    gl_diff_range(sd, &o, lo, ">=", w);
                }
                if (hi) {
                    gl_buf_adds(w, w->len ? " AND " : "");
                    gl_diff_range(sd, &o, hi, "<", w);
                }
                sd->where = w->len ? gl_buf_str(w) : NULL;
            }
            /* an empty middle segment when a bound was not found */
            if ((g && !lo) || (g < jobs - 1 && !hi && g)) {
                x->rc = -1;
                continue;
            }
            pthread_create(&th[g], NULL, seg_run, x);
        }
        for (g = 0; g < jobs; g++) {
            struct seg *x = &segs[g];
            if (x->rc == -1) {
                x->rc = 0;
                continue;
            }
            pthread_join(th[g], NULL);
            if (x->rc && !bad) {
                bad = 1;
                err = x->err;
            }
            res.source_rows += x->res.source_rows;
            res.target_rows += x->res.target_rows;
            res.missing += x->res.missing;
            res.extra += x->res.extra;
            res.changed += x->res.changed;
            res.duplicates += x->res.duplicates;
            res.stopped |= x->res.stopped;
            if (x->res.seconds > res.seconds)
                res.seconds = x->res.seconds;
            gl_buf_release(&x->swhere);
            gl_buf_release(&x->dwhere);
        }
        for (g = 0; g < jobs - 1; g++)
            free(bounds[g]);
        free(segs);
        if (bad) {
            rc = cli_fail(&err);
            goto out;
        }
    } else if (gl_diff_run(&S, &D, &o, &res, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (fixf)
        fprintf(fixf, "COMMIT;\n");
    if (json) {
        json_t *sum = json_pack(
            "{s:{s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:b}}", "summary",
            "source_rows", (json_int_t)res.source_rows, "target_rows",
            (json_int_t)res.target_rows, "missing", (json_int_t)res.missing,
            "extra", (json_int_t)res.extra, "changed", (json_int_t)res.changed,
            "duplicates", (json_int_t)res.duplicates, "seconds", res.seconds,
            "stopped", res.stopped);
        char *s = json_dumps(sum, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s ? s : "{}");
        free(s);
        json_decref(sum);
    } else {
        if (O.total > O.shown)
            printf("... and %lld more\n", (long long)(O.total - O.shown));
        printf("%s: %lld rows, %s: %lld rows: %lld missing, %lld extra, "
               "%lld changed%s%s (%.2f s)\n",
               argv[optind + 1], (long long)res.source_rows, argv[optind + 3],
               (long long)res.target_rows, (long long)res.missing,
               (long long)res.extra, (long long)res.changed,
               res.duplicates ? ", duplicate keys found" : "",
               res.stopped ? ", stopped at --max-diffs" : "", res.seconds);
    }
    rc = res.missing || res.extra || res.changed || res.duplicates ? EXIT_NO
                                                                   : EXIT_OK;
out:
    pthread_mutex_destroy(&O.mu);
    if (fixf && fclose(fixf) && rc != EXIT_ERROR) {
        cli_error("cannot write '%s'", fix);
        rc = EXIT_ERROR;
    }
    gl_buf_release(&srel);
    gl_buf_release(&drel);
    gl_table_desc_release(&st);
    gl_table_desc_release(&dt);
    gl_db_close(sdb);
    gl_db_close(ddb);
    return rc;
}

const struct gl_cmd cmd_diff = {
    "diff",
    "are two tables the same, row by row, on any pair of engines?",
    "usage: golive diff SRC_URL SRC_TABLE DST_URL DST_TABLE [--key COLS]\n"
    "         [--columns COLS] [--where SQL] [--float-digits N]\n"
    "         [--time-precision us|ms|s] [--rtrim] [--max-diffs N]\n"
    "         [--fix-sql FILE] [--json] [--jobs N]\n"
    "\n"
    "Stream both tables in key order (bytewise order forced on each engine,\n"
    "so 'a-b', 'A-b' and 'ab' never mix), merge them, and report rows\n"
    "missing from the target, extra rows in the target, changed rows with\n"
    "the columns that differ, and duplicate keys on either side.  Values\n"
    "compare by a canonical encoding: NULL, '' and 'NULL' differ; 1.5 and\n"
    "1.50 are equal as numbers; timestamps compare as UTC instants; CHAR\n"
    "padding is ignored.\n"
    "\n"
    "options:\n"
    "  --key COLS          key columns (default: the source's primary key)\n"
    "  --columns COLS      columns to compare (default: all in common)\n"
    "  --where SQL         compare only these rows (both sides)\n"
    "  --float-digits N    significant digits of floats (default 15)\n"
    "  --time-precision P  compare timestamps to us (default), ms or s\n"
    "  --rtrim             ignore trailing spaces of text\n"
    "  --max-diffs N       stop after N differences\n"
    "  --fix-sql FILE      write SQL that makes the target equal, in its\n"
    "                      dialect\n"
    "  --json              JSON Lines: one object per difference, then\n"
    "                      {\"summary\": {...}}\n"
    "  --jobs N            cut the key range into N segments compared at\n"
    "                      once, each on connections of its own (default:\n"
    "                      every core, up to 4, when one connection reaches\n"
    "                      both tables and they compare in the database;\n"
    "                      else 1)\n"
    "\n"
    "exit: 0 equal, 1 different, 2 error\n",
    run,
};
