/*
 * cmd-diff.c - `golive diff`: are two tables the same, row by row, on any
 * pair of engines?
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
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

/* The fix-SQL temporary file while it is being written: removed by the
 * SIGINT / SIGTERM handler (unlink and _exit are async-signal-safe), so
 * an interrupted diff leaves no half a script full of row data.  (A
 * kill -9 cannot be caught: its file has a unique name, mode 0600.) */
static char fix_tmp_path[4096];
static volatile sig_atomic_t fix_tmp_live;

static void on_stop_signal(int sig)
{
    if (fix_tmp_live)
        unlink(fix_tmp_path);
    _exit(128 + sig);
}

/* Create a fresh temporary file beside path: a unique name, O_CREAT |
 * O_EXCL | O_NOFOLLOW (a planted symlink or file is never followed nor
 * reused), mode 0600.  The name goes to tmp; the fd is returned, -1 on
 * error. */
static int fix_tmp_open(const char *path, char *tmp, size_t tmpsz)
{
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    int tries, fd;
    static const char az[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char rnd[12];

    for (tries = 0; tries < 100; tries++) {
        char suffix[13];
        size_t i;
        FILE *ur = fopen("/dev/urandom", "rb");
        if (!ur || fread(rnd, 1, sizeof(rnd), ur) != sizeof(rnd)) {
            if (ur)
                fclose(ur);
            return -1;
        }
        fclose(ur);
        for (i = 0; i < sizeof(rnd); i++)
            suffix[i] = az[rnd[i] % (sizeof(az) - 1)];
        suffix[12] = '\0';
        if ((size_t)snprintf(tmp, tmpsz, "%.*s.%s.%s.golive-tmp", dirlen, path,
                             path + dirlen, suffix) >= tmpsz)
            return -1;
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
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

/* Values longer than this are cut, their length said. */
#define SHOWN_CHARS 60

/* Characters (UTF-8) of s, and the byte length of its first n. */
static size_t utf8_len(const char *s, size_t len, size_t n, size_t *cut)
{
    size_t i, chars = 0;

    *cut = len;
    for (i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (chars == n)
                *cut = i;
            chars++;
        }
    return chars;
}

/* A changed value in JSON: as cli_value_json, text longer than
 * SHOWN_CHARS cut, with "<side>_length" set beside it. */
static void value_json(json_t *o, const char *side, const struct gl_value *v)
{
    struct gl_buf b = GL_BUF_INIT;
    size_t chars, cut;
    char lk[32];

    if (v->type == GL_NULL || v->type == GL_INT || v->type == GL_BOOL ||
        v->type == GL_FLOAT) {
        json_object_set_new(o, side, cli_value_json(v));
        return;
    }
    gl_value_text(v, &b);
    if (gl_buf_failed(&b)) { /* cli_value_json says so */
        json_object_set_new(o, side, cli_value_json(v));
        gl_buf_release(&b);
        return;
    }
    chars = utf8_len(gl_buf_str(&b), b.len, SHOWN_CHARS, &cut);
    if (chars > SHOWN_CHARS) {
        json_t *j = json_stringn(gl_buf_str(&b), cut);
        json_object_set_new(o, side, j ? j : json_string("(not UTF-8)"));
        snprintf(lk, sizeof(lk), "%s_length", side);
        json_object_set_new(o, lk, json_integer((json_int_t)chars));
    } else {
        json_object_set_new(o, side, cli_value_json(v));
    }
    gl_buf_release(&b);
}

/* A changed value for people: 'text' (quotes doubled), NULL, numbers as
 * they are; long text cut with its length. */
static void value_print(const struct gl_value *v)
{
    struct gl_buf b = GL_BUF_INIT;
    size_t chars, cut, i;

    if (v->type == GL_NULL) {
        fputs("NULL", stdout);
        return;
    }
    gl_value_text(v, &b);
    if (gl_buf_failed(&b)) {
        fputs("(out of memory)", stdout);
        gl_buf_release(&b);
        return;
    }
    if (v->type == GL_INT || v->type == GL_FLOAT || v->type == GL_BOOL ||
        v->type == GL_NUMERIC) {
        fputs(gl_buf_str(&b), stdout);
        gl_buf_release(&b);
        return;
    }
    chars = utf8_len(gl_buf_str(&b), b.len, SHOWN_CHARS, &cut);
    putchar('\'');
    for (i = 0; i < cut; i++) {
        char c = b.data[i];
        if (c == '\'')
            putchar('\'');
        if (c == '\n')
            fputs("\\n", stdout);
        else
            putchar(c);
    }
    putchar('\'');
    if (chars > SHOWN_CHARS)
        printf("... (%zu characters)", chars);
    gl_buf_release(&b);
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
        if (d->nchanged && d->src_vals && d->dst_vals) {
            json_t *vals = json_object();
            for (i = 0; i < d->nchanged; i++) {
                json_t *one = json_object();
                value_json(one, "source", &d->src_vals[i]);
                value_json(one, "target", &d->dst_vals[i]);
                json_object_set_new(vals, d->changed[i], one);
            }
            json_object_set_new(o, "values", vals);
        }
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
        for (i = 0; i < d->nchanged; i++) {
            printf("%s%s", i ? ", " : "  columns: ", d->changed[i]);
            if (d->src_vals && d->dst_vals) {
                putchar(' ');
                value_print(&d->src_vals[i]);
                fputs(" -> ", stdout);
                value_print(&d->dst_vals[i]);
            }
        }
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

/* The target's name of a source column (--map SRC=DST), else its own. */
static const char *mapped(const char *col, const char *const *src,
                          const char *const *dst, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!strcmp(src[i], col))
            return dst[i];
    return col;
}

/* --map SRC=DST, for gl_diff_columns */
struct colmap {
    const char *const *src, *const *dst;
    size_t n;
};

static const char *map_col(void *ctx, const char *col)
{
    const struct colmap *m = ctx;

    return mapped(col, m->src, m->dst, m->n);
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

/* One `golive diff`: what the options asked, and what it holds. */
struct diff {
    struct gl_diff_opts o;
    char *keyarg, *colarg;
    const char *swhere, *dwhere, *fix;
    const char *const *map_src, *const *map_dst;
    size_t nmap;
    int json, jobs;
    const char *surl, *stable, *durl, *dtable;
    const char *keys[64], *cols[1024], *dkeys[64], *dcols[1024];
    const char *sdecl[1024], *ddecl[1024];
    enum gl_vtype ktypes[64], dktypes[64], dtypes[64 + 1024];
    struct gl_table_desc st, dt;
    struct gl_db *sdb, *ddb;
    struct gl_buf srel, drel;
    struct gl_diff_side S, D;
    struct gl_diff_result res;
    struct out O;
    char fixtmp[4096];
    FILE *fixf, *fixins;
};

static void diff_release(struct diff *J)
{
    pthread_mutex_destroy(&J->O.mu);
    if (J->fixf)
        fclose(J->fixf);
    if (J->fixins)
        fclose(J->fixins);
    if (J->fixtmp[0]) {
        fix_tmp_live = 0;
        unlink(J->fixtmp); /* stopped: no half a script */
    }
    gl_buf_release(&J->srel);
    gl_buf_release(&J->drel);
    gl_table_desc_release(&J->st);
    gl_table_desc_release(&J->dt);
    gl_db_close(J->sdb);
    gl_db_close(J->ddb);
}

/* The key: named, else the source's primary key; each on both sides
 * (under --map's name in the target).  EXIT_OK or the exit code, said. */
static int choose_keys(struct diff *J)
{
    struct gl_diff_opts *o = &J->o;
    size_t i, k;

    if (J->keyarg)
        o->nkey = (size_t)split_list(J->keyarg, J->keys, 64);
    else
        o->nkey = gl_diff_default_keys(&J->st, J->keys, 64);
    if (!o->nkey)
        return cli_usage("diff",
                         "table '%s' has no primary key: name the key "
                         "with --key",
                         J->stable);
    for (i = 0; i < J->nmap; i++)
        if (gl_table_col(&J->st, J->map_src[i]) < 0 ||
            gl_table_col(&J->dt, J->map_dst[i]) < 0) {
            int s_in = gl_table_col(&J->st, J->map_src[i]) >= 0;
            cli_error("--map %s=%s: column '%s' is not in the %s",
                      J->map_src[i], J->map_dst[i],
                      s_in ? J->map_dst[i] : J->map_src[i],
                      s_in ? "target" : "source");
            return EXIT_ERROR;
        }
    for (k = 0; k < o->nkey; k++) {
        int si, di;
        J->dkeys[k] = mapped(J->keys[k], J->map_src, J->map_dst, J->nmap);
        si = gl_table_col(&J->st, J->keys[k]);
        di = gl_table_col(&J->dt, J->dkeys[k]);
        if (si < 0 || di < 0) {
            if (si < 0)
                cli_error("key column '%s' is not in the source", J->keys[k]);
            else
                cli_error("key column '%s' is not in the target (name it "
                          "with --map %s=TARGET_COLUMN)",
                          J->dkeys[k], J->keys[k]);
            return EXIT_ERROR;
        }
        J->ktypes[k] = J->st.cols[si].type;
        J->dktypes[k] = J->dt.cols[di].type;
        J->dtypes[k] = J->dt.cols[di].type;
    }
    o->key = J->keys;
    return EXIT_OK;
}

/* The columns: named, else every non-key column both sides have
 * (gl_diff_columns); each on both sides.  EXIT_OK or the exit code. */
static int choose_columns(struct diff *J)
{
    struct gl_diff_opts *o = &J->o;
    size_t i;

    if (J->colarg) {
        const char *named[1024];
        size_t nn = (size_t)split_list(J->colarg, named, 1024);
        o->ncols = gl_diff_columns(J->keys, o->nkey, named, nn, &J->st, &J->dt,
                                   NULL, NULL, J->cols, 1024);
    } else {
        struct colmap cm = {J->map_src, J->map_dst, J->nmap};
        o->ncols = gl_diff_columns(J->keys, o->nkey, NULL, 0, &J->st, &J->dt,
                                   map_col, &cm, J->cols, 1024);
    }
    for (i = 0; i < o->ncols; i++) {
        int si, di;
        J->dcols[i] = mapped(J->cols[i], J->map_src, J->map_dst, J->nmap);
        si = gl_table_col(&J->st, J->cols[i]);
        di = gl_table_col(&J->dt, J->dcols[i]);
        if (si < 0 || di < 0) {
            if (si < 0)
                cli_error("column '%s' is not in the source", J->cols[i]);
            else
                cli_error("column '%s' is not in the target (name it with "
                          "--map %s=TARGET_COLUMN)",
                          J->dcols[i], J->cols[i]);
            return EXIT_ERROR;
        }
        J->sdecl[i] = J->st.cols[si].decl_type;
        J->ddecl[i] = J->dt.cols[di].decl_type;
        J->dtypes[o->nkey + i] = J->dt.cols[di].type;
    }
    o->cols = J->cols;
    return EXIT_OK;
}

/* --fix-sql FILE: written beside FILE under a fresh unique name and
 * renamed over it once the diff is over: a diff that stops (an error,
 * SIGINT, SIGTERM) leaves no half a script (nor an old one). */
static int fix_open(struct diff *J)
{
    int fd;
    struct sigaction sa;
    sigset_t block, old;

    unlink(J->fix);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* the name is known to the handler before the file exists */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    fd = fix_tmp_open(J->fix, fix_tmp_path, sizeof(fix_tmp_path));
    if (fd >= 0) {
        snprintf(J->fixtmp, sizeof(J->fixtmp), "%s", fix_tmp_path);
        fix_tmp_live = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (fd < 0 || !(J->fixf = fdopen(fd, "w"))) {
        if (fd >= 0)
            close(fd);
        cli_error("cannot write a temporary file beside '%s'", J->fix);
        return EXIT_ERROR;
    }
    fprintf(J->fixf, "-- golive diff: make %s equal to %s\nBEGIN;\n", J->dtable,
            J->stable);
    J->o.fix_sql = J->fixf;
    /* the INSERTs, written after every DELETE: an unnamed file (tmpfile:
     * 0600, gone however golive ends) */
    if (!(J->fixins = tmpfile())) {
        cli_error("cannot create a temporary file");
        return EXIT_ERROR;
    }
    J->o.fix_sql_inserts = J->fixins;
    return EXIT_OK;
}

/* The INSERTs after the DELETEs, COMMIT, and the script renamed into
 * place. */
static int fix_finish(struct diff *J)
{
    char cp[65536];
    size_t n;
    int bad = ferror(J->fixins) || fseek(J->fixins, 0, SEEK_SET);

    while (!bad && (n = fread(cp, 1, sizeof(cp), J->fixins)) > 0)
        bad = fwrite(cp, 1, n, J->fixf) != n;
    bad |= ferror(J->fixins);
    fprintf(J->fixf, "COMMIT;\n");
    if (bad || ferror(J->fixf)) {
        cli_error("cannot write '%s'", J->fix);
        return EXIT_ERROR;
    }
    if (fclose(J->fixf) || rename(J->fixtmp, J->fix)) {
        J->fixf = NULL;
        cli_error("cannot write '%s'", J->fix);
        return EXIT_ERROR;
    }
    J->fixf = NULL;
    fix_tmp_live = 0;
    J->fixtmp[0] = '\0';
    return EXIT_OK;
}

/* The two sides as gl_diff_run takes them. */
static int set_sides(struct diff *J)
{
    int rc;

    J->sdb->drv->quote_ident(J->stable, &J->srel);
    J->ddb->drv->quote_ident(J->dtable, &J->drel);
    if ((rc = cli_buf_check(&J->srel, "a table's name")) ||
        (rc = cli_buf_check(&J->drel, "a table's name")))
        return rc;
    J->S.db = J->sdb;
    J->S.relation = gl_buf_str(&J->srel);
    J->S.where = J->swhere;
    J->S.key_types = J->ktypes;
    J->S.col_decl = J->sdecl;
    J->S.url = J->surl;
    J->D.db = J->ddb;
    J->D.relation = gl_buf_str(&J->drel);
    J->D.where = J->dwhere;
    J->D.table = J->dtable;
    J->D.key_types = J->dktypes;
    J->D.col_decl = J->ddecl;
    J->D.key_names = J->dkeys;
    J->D.col_names = J->dcols;
    J->D.col_types = J->dtypes;
    J->D.url = J->durl;
    return EXIT_OK;
}

/* Compare: inside the database when one connection reaches both tables
 * keyed by their primary keys (so no duplicates; by default on every
 * core, up to 4), else streamed (in key-range segments with --jobs). */
static int compare(struct diff *J, struct gl_err *err)
{
    struct joined joined;

    if (!J->fixf && !J->nmap && (J->swhere == J->dwhere) &&
        keys_are_pk(&J->st, &J->o) && keys_are_pk(&J->dt, &J->o) &&
        one_connection(J->surl, J->stable, J->durl, J->dtable, &joined))
        return gl_diff_attached(J->surl, joined.src_table, joined.attach,
                                joined.dst_table, &J->S, &J->D, &J->o,
                                J->jobs ? J->jobs : gl_diff_default_jobs(1),
                                &J->res, err);
    return gl_diff_run_jobs(&J->S, &J->D, &J->o,
                            J->jobs ? J->jobs : gl_diff_default_jobs(0),
                            &J->res, err);
}

static void print_summary(struct diff *J)
{
    const struct gl_diff_result *res = &J->res;
    char nk[64] = "";

    if (J->json) {
        json_t *sum = json_pack(
            "{s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:b}}", "summary",
            "source_rows", (json_int_t)res->source_rows, "target_rows",
            (json_int_t)res->target_rows, "missing", (json_int_t)res->missing,
            "extra", (json_int_t)res->extra, "changed",
            (json_int_t)res->changed, "duplicates", (json_int_t)res->duplicates,
            "null_keys", (json_int_t)res->null_keys, "seconds", res->seconds,
            "stopped", res->stopped);
        char *s = json_dumps(sum, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s ? s : "{}");
        free(s);
        json_decref(sum);
        return;
    }
    if (J->O.total > J->O.shown)
        printf("... and %lld more\n", (long long)(J->O.total - J->O.shown));
    if (res->null_keys)
        snprintf(nk, sizeof(nk), ", %lld with a NULL key",
                 (long long)res->null_keys);
    printf("%s: %lld rows, %s: %lld rows: %lld missing, %lld extra, "
           "%lld changed%s%s%s (%.2f s)\n",
           J->stable, (long long)res->source_rows, J->dtable,
           (long long)res->target_rows, (long long)res->missing,
           (long long)res->extra, (long long)res->changed, nk,
           res->duplicates ? ", duplicate keys found" : "",
           res->stopped ? ", stopped at --max-diffs" : "", res->seconds);
}

/* SRC_URL SRC_TABLE DST_URL DST_TABLE: compare, print, the exit code. */
static int diff_tables(struct diff *J, char **argv)
{
    const struct gl_diff_result *res = &J->res;
    struct gl_err err;
    int rc;

    J->surl = argv[0];
    J->stable = argv[1];
    J->durl = argv[2];
    J->dtable = argv[3];
    pthread_mutex_init(&J->O.mu, NULL);
    gl_err_clear(&err);
    gl_db_global_init();
    if (gl_db_open(J->surl, ".", &J->sdb, &err) ||
        gl_db_open(J->durl, ".", &J->ddb, &err) ||
        J->sdb->drv->describe(J->sdb, J->stable, &J->st, &err) ||
        J->ddb->drv->describe(J->ddb, J->dtable, &J->dt, &err))
        return cli_fail(&err);
    if ((rc = choose_keys(J)) || (rc = choose_columns(J)) ||
        (J->fix && (rc = fix_open(J))))
        return rc;
    J->O.json = J->json;
    J->o.on_diff = on_diff;
    J->o.ctx = &J->O;
    if ((rc = set_sides(J)))
        return rc;
    if (compare(J, &err))
        return cli_fail(&err);
    if (J->fixf && (rc = fix_finish(J)))
        return rc;
    print_summary(J);
    return res->missing || res->extra || res->changed || res->duplicates ||
                   res->null_keys
               ? EXIT_NO
               : EXIT_OK;
}

/* --map SRC=DST (each, cut in place: argv's strings) and --where into J. */
static int diff_args(struct diff *J, const char **maps, size_t n,
                     const char **map_src, const char **map_dst,
                     const char *where)
{
    size_t i;

    for (i = 0; i < n; i++) {
        char *arg = (char *)maps[i], *eq = strchr(arg, '=');
        if (!eq || eq == arg || !eq[1])
            return cli_usage("diff",
                             "--map takes SRC_COLUMN=DST_COLUMN, "
                             "not '%s'",
                             arg);
        *eq = '\0';
        map_src[i] = arg;
        map_dst[i] = eq + 1;
    }
    J->map_src = map_src;
    J->map_dst = map_dst;
    J->nmap = n;
    if (where && (J->swhere || J->dwhere))
        return cli_usage("diff", "--where is for both sides: with "
                                 "--where-source or --where-target, give "
                                 "each side its own");
    if (where)
        J->swhere = J->dwhere = where;
    return EXIT_OK;
}

static int run(int argc, char **argv)
{
    const char *where = NULL, *map_src[256], *map_dst[256];
    struct diff J;
    int rc;
    static const struct po_choice units[] = {
        {"us", 1}, {"ms", 1000}, {"s", 1000000}, {NULL, 0}};
    const char *key_opt = NULL, *col_opt = NULL, *maps[256];
    struct po_list map_list = {maps, 0, 256};
    struct po_option opts[] = {
        OPT_STRING("key", 0, &key_opt, "COLS",
                   "key columns (default: the source's primary key)"),
        OPT_STRING("columns", 0, &col_opt, "COLS",
                   "columns to compare (default: all in common); a key "
                   "named here is compared once, as the key"),
        OPT_LIST("map", 0, &map_list, "SRC=DST",
                 "the target's name of a renamed source column, keys too "
                 "(repeat for each)"),
        OPT_STRING("where", 0, &where, "SQL",
                   "compare only these rows (both sides)"),
        OPT_STRING("where-source", 0, &J.swhere, "SQL",
                   "filter the source only"),
        OPT_STRING("where-target", 0, &J.dwhere, "SQL",
                   "filter the target only"),
        OPT_INT("float-digits", 0, &J.o.float_digits, 1, 17, "N",
                "significant digits of floats (default 15)"),
        OPT_ENUM("time-precision", 0, &J.o.time_unit, units, "P",
                 "compare timestamps to us (default), ms or s"),
        OPT_FLAG("rtrim", 0, &J.o.rtrim, "ignore trailing spaces of text"),
        OPT_INT64("max-diffs", 0, &J.o.max_diffs, 1, PO_NO_MAX, "N",
                  "stop after N differences"),
        OPT_STRING("fix-sql", 0, &J.fix, "FILE",
                   "write SQL that makes the target equal, in its dialect, "
                   "with literals that mean the same under any time zone, "
                   "date style, sql_mode or standard_conforming_strings "
                   "(mode 0600; only when the diff finishes)"),
        OPT_JSON(&J.json, "JSON Lines: one object per difference (changed "
                          "rows with \"values\": {col: {source, target}}; "
                          "values over 60 characters cut, with their "
                          "length), then {\"summary\": {...}}"),
        OPT_INT("jobs", 0, &J.jobs, 1, 64, "N",
                "cut the key range into N segments compared at once, each "
                "on connections of its own (default: every core, up to 4, "
                "when one connection reaches both tables and they compare "
                "in the database; else 1); the differences and the fix SQL "
                "come in segment order, the same every run"),
        OPT_ARGS(4, 4, "SRC_URL SRC_TABLE DST_URL DST_TABLE"),
    };

    memset(&J, 0, sizeof(J));
    J.o.time_unit = 1;
    if ((rc = cli_parse(&cmd_diff, opts, argc, argv)) >= 0)
        return rc;
    /* split_list() cuts these in place: they are argv's strings */
    J.keyarg = (char *)key_opt;
    J.colarg = (char *)col_opt;
    if ((rc = diff_args(&J, maps, map_list.n, map_src, map_dst, where)))
        return rc;
    rc = diff_tables(&J, argv + optind);
    diff_release(&J);
    return rc;
}

const struct gl_cmd cmd_diff = {
    "diff",
    "are two tables the same, row by row, on any pair of engines?",
    "usage: golive diff SRC_URL SRC_TABLE DST_URL DST_TABLE [--key COLS]\n"
    "         [--columns COLS] [--map SRC=DST]... [--where SQL]\n"
    "         [--where-source SQL] [--where-target SQL] [--float-digits N]\n"
    "         [--time-precision us|ms|s] [--rtrim] [--max-diffs N]\n"
    "         [--fix-sql FILE] [--json] [--jobs N]\n"
    "\n"
    "Stream both tables in key order (bytewise order forced on each engine,\n"
    "so 'a-b', 'A-b' and 'ab' never mix), merge them, and report rows\n"
    "missing from the target, extra rows in the target, changed rows with\n"
    "the columns that differ and their values on both sides, duplicate\n"
    "keys on either side, and rows with a NULL key (null_key: never\n"
    "matched, the same in every mode).  Values compare by a canonical\n"
    "encoding: NULL, '' and 'NULL' differ; 1.5 and 1.50 are equal as\n"
    "numbers; timestamps compare as UTC instants; CHAR padding is ignored;\n"
    "zero dates (MariaDB's 0000-00-00) and infinities (PostgreSQL's) are\n"
    "values compared as their text.\n"
    "\n",
    "exit: 0 equal, 1 different, 2 error\n",
    run,
};
