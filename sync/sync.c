/*
 * sync.c - the sync engine (see golive/sync.h).
 *
 * One job: build the source SELECT (key expressions first, then one
 * expression per filled target column), stream it in key order, transform
 * each row (value maps, constants, defaults, type fitting), and load
 * batches.  Each batch is one target transaction holding the rows and the
 * updated checkpoint; rows a batch cannot take are found by halving it
 * under savepoints.
 */
#include "golive/sync.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db/value.h"
#include "golive/db.h"
#include "sync/convert.h"
#include "sync/mapping.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/crashpoint.h"

#define DEFAULT_BATCH 10000
#define CHECKPOINT_TABLE "golive_checkpoint"
/* who holds each job's lock, for the message that refuses another */
#define LOCK_TABLE "golive_lock"
#define LOCK_DDL                                                               \
    "CREATE TABLE IF NOT EXISTS " LOCK_TABLE                                   \
    " (job VARCHAR(200) NOT NULL PRIMARY KEY, holder VARCHAR(400) NOT NULL,"   \
    " since VARCHAR(40) NOT NULL)"

/* How one target column is filled. */
struct colplan {
    const char *target;
    int tcol;                    /* index in the target description */
    const struct gl_colmap *map; /* NULL: same-named source column */
    int sel;                     /* index in the SELECT list, -1: constant */
};

/* A row of a batch: the selected source values and the target values. */
struct row {
    struct gl_value *src;
    struct gl_value *dst;
    const char *reject; /* why it cannot be loaded, NULL when fine */
};

struct job {
    const struct gl_plan *p;
    const struct gl_sync_job *j;
    const struct gl_sync_opts *o;
    struct gl_sync_result *res;
    struct gl_err *err;

    struct gl_db *src, *dst;
    struct gl_table_desc t;
    enum gl_engine teng;
    struct colplan *cols;
    size_t ncols;
    const char **tnames;    /* target column names, for the loader */
    const char **sel_names; /* labels of the SELECT list, for rejects */
    size_t nsel, nkey;
    int *key_tcol;       /* target column of each key */
    struct gl_buf from;  /* FROM ... (the source relation) */
    struct gl_buf where; /* the job's where, and the watermark */
    struct gl_buf order; /* ORDER BY key expressions */
    struct gl_buf list;  /* the SELECT list */

    /* the batch */
    struct gl_arena arena;
    struct row *rows;
    size_t nrows, cap;
    int64_t batch_no, batch_size;

    /* the checkpoint */
    char token[64];     /* the execution chain, in the checkpoint */
    char execution[48]; /* this execution's id (gl_sync_result) */
    int fresh;          /* no earlier execution: truncate first */
    char *last_key;     /* JSON of the last committed key, NULL at start */
    char *watermark;    /* JSON of the incremental watermark used */
    int64_t base_read, base_written, base_rejected, base_bytes;

    FILE *rejects;          /* the rejects file, appended to */
    FILE *pending;          /* JOB.csv.pending: see recover_pending() */
    long pending_head;      /* its first line's length */
    struct gl_buf inflight; /* the batch in flight's rejects */
    /* --retry-rejects: the keys (see row_key) that loaded, sorted up to
     * nsorted */
    char **loaded;
    size_t nloaded, capl, nsorted;
    double t0;
    int constraints_off; /* disable_constraints turned them off */
    int open;            /* the batch's transaction is open */
    int streaming;       /* rows go to the loader as they are read */
    int dup_check;       /* rejects may duplicate an earlier execution's */
    int64_t dups;        /* rejects that did */
    struct gl_loader *loader;
    const char *keynames[64];
};

static int fail(struct job *J, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct job *J, int code, const char *fmt, ...)
{
    va_list ap;
    char msg[1024];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(J->res->error, sizeof(J->res->error), "%s", msg);
    return gl_err_set(J->err, code, "sync job '%s': %s", J->j->id.id, msg);
}

/* The job failed with err already set by a lower layer. */
static int failed_with(struct job *J)
{
    snprintf(J->res->error, sizeof(J->res->error), "%s",
             J->err && J->err->msg[0] ? J->err->msg : "failed");
    return J->err ? J->err->code : GL_EIO;
}

static const struct gl_system *system_of(const struct gl_plan *p,
                                         const char *name)
{
    return gl_plan_system(p, name);
}

static int open_system(struct job *J, const char *name, struct gl_db **db)
{
    const struct gl_system *s = system_of(J->p, name);

    if (!s || !s->url)
        return fail(J, GL_EUSAGE, "system '%s' is not in the plan", name);
    if (gl_db_open(s->url, J->p->dir, db, J->err))
        return failed_with(J);
    return GL_OK;
}

static enum gl_engine engine_of(const struct gl_db *db)
{
    if (!strcmp(db->drv->name, "postgres"))
        return GL_ENGINE_POSTGRES;
    if (!strcmp(db->drv->name, "mysql"))
        return GL_ENGINE_MYSQL;
    return GL_ENGINE_SQLITE;
}

/* ---- the column plan and the SELECT ----------------------------------- */

const struct gl_colmap *gl_sync_mapping(const struct gl_sync_job *j,
                                        const char *target)
{
    size_t i;

    for (i = 0; i < j->n_columns; i++)
        if (!strcmp(j->columns[i].target, target))
            return &j->columns[i];
    return NULL;
}

int gl_sync_ignored(const struct gl_sync_job *j, const char *src)
{
    size_t i;

    for (i = 0; i < j->ignore.n; i++)
        if (!strcmp(j->ignore.v[i].id, src))
            return 1;
    return 0;
}

/* The source expression of a mapping, appended to b. */
static void source_expr(struct job *J, const struct gl_colmap *m,
                        const char *target, struct gl_buf *b)
{
    const struct gl_db_driver *d = J->src->drv;

    if (m && m->kind == GL_COL_EXPR) {
        gl_buf_addf(b, "(%s)", m->expr);
        return;
    }
    if (m && m->cast)
        gl_buf_adds(b, "CAST(");
    d->quote_ident(m && m->source ? m->source : target, b);
    if (m && m->cast)
        gl_buf_addf(b, " AS %s)", m->cast);
}

/* Names of the source relation's columns: from the table, or by running
 * the query for no rows. */
static int source_columns(struct job *J, char ***names, size_t *n)
{
    struct gl_buf q = GL_BUF_INIT;
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    size_t i;
    int rc;

    gl_buf_addf(&q, "SELECT * FROM %s WHERE 1 = 0", gl_buf_str(&J->from));
    rc = J->src->drv->query(J->src, gl_buf_str(&q), &c, J->err);
    gl_buf_release(&q);
    if (rc)
        return failed_with(J);
    *n = J->src->drv->ncols(c);
    *names = calloc(*n + 1, sizeof(char *));
    for (i = 0; *names && i < *n; i++)
        (*names)[i] = strdup(J->src->drv->col_name(c, i));
    rc = J->src->drv->next(c, &row, J->err);
    J->src->drv->cursor_close(c);
    if (rc < 0)
        return failed_with(J);
    return *names ? GL_OK : fail(J, GL_ENOMEM, "out of memory");
}

static void free_names(char **names, size_t n)
{
    size_t i;

    for (i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

static int has_name(char **names, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return 1;
    return 0;
}

static int build_plan(struct job *J)
{
    const struct gl_sync_job *j = J->j;
    char **srcnames = NULL;
    size_t nsrc = 0, i, k;
    int rc;

    /* the source relation */
    gl_sync_source_relation(j, J->src, &J->from);
    if ((rc = source_columns(J, &srcnames, &nsrc)))
        return rc;

    /* every mapped column must exist in the target */
    for (i = 0; i < j->n_columns; i++)
        if (gl_table_col(&J->t, j->columns[i].target) < 0) {
            rc = fail(J, GL_EUSAGE, "column '%s' is not in target table '%s'",
                      j->columns[i].target, j->to.table);
            goto out;
        }
    J->cols = calloc(J->t.ncols + 1, sizeof(*J->cols));
    J->tnames = calloc(J->t.ncols + 1, sizeof(*J->tnames));
    J->sel_names = calloc(J->t.ncols + j->key.n + 1, sizeof(char *));
    J->key_tcol = calloc(j->key.n + 1, sizeof(int));
    if (!J->cols || !J->tnames || !J->sel_names || !J->key_tcol) {
        rc = fail(J, GL_ENOMEM, "out of memory");
        goto out;
    }
    /* key expressions first: the order, the checkpoint and the rejects */
    J->nkey = j->key.n;
    for (k = 0; k < j->key.n; k++) {
        const char *kt = j->key.v[k].id;
        const struct gl_colmap *m = gl_sync_mapping(j, kt);
        int tc = gl_table_col(&J->t, kt);
        if (tc < 0) {
            rc = fail(J, GL_EUSAGE,
                      "key column '%s' is not in target table "
                      "'%s'",
                      kt, j->to.table);
            goto out;
        }
        if (m && m->kind == GL_COL_VALUE) {
            rc = fail(J, GL_EUSAGE, "key column '%s' is a constant", kt);
            goto out;
        }
        if (!m && !has_name(srcnames, nsrc, kt)) {
            rc = fail(J, GL_EUSAGE,
                      "key column '%s' has no source column of that name; "
                      "map it under 'columns'",
                      kt);
            goto out;
        }
        J->key_tcol[k] = tc;
        if (J->list.len)
            gl_buf_adds(&J->list, ", ");
        source_expr(J, m, kt, &J->list);
        if (J->order.len)
            gl_buf_adds(&J->order, ", ");
        source_expr(J, m, kt, &J->order);
        J->sel_names[J->nsel++] = m && m->source ? m->source : kt;
    }
    /* then one expression per filled target column */
    for (i = 0; i < J->t.ncols; i++) {
        const char *name = J->t.cols[i].name;
        const struct gl_colmap *m = gl_sync_mapping(j, name);
        struct colplan *c = &J->cols[J->ncols];

        if (!m && (!has_name(srcnames, nsrc, name) || gl_sync_ignored(j, name)))
            continue; /* left to the target's default */
        if (!strcmp(name, "golive_checkpoint"))
            continue;
        c->target = name;
        c->tcol = (int)i;
        c->map = m;
        c->sel = -1;
        if (!m || m->kind != GL_COL_VALUE) {
            /* a key column is selected already */
            for (k = 0; k < j->key.n; k++)
                if (J->key_tcol[k] == (int)i)
                    c->sel = (int)k;
            if (c->sel < 0) {
                gl_buf_adds(&J->list, ", ");
                source_expr(J, m, name, &J->list);
                c->sel = (int)J->nsel;
                J->sel_names[J->nsel++] = m && m->source ? m->source : name;
            }
        }
        J->tnames[J->ncols++] = name;
    }
    if (!J->ncols) {
        rc = fail(J, GL_EUSAGE, "no column of target table '%s' is filled",
                  j->to.table);
        goto out;
    }
    rc = GL_OK;
out:
    free_names(srcnames, nsrc);
    return rc;
}

/* ---- typed values in JSON (checkpoint keys) -------------------------- */

static json_t *value_to_json(const struct gl_value *v)
{
    struct gl_buf b = GL_BUF_INIT;
    json_t *o;

    if (v->type == GL_BYTES)
        gl_hex_append(&b, v->s, v->len);
    else if (v->type == GL_TIMESTAMP || v->type == GL_TIMESTAMPTZ ||
             v->type == GL_DATE || v->type == GL_TIME)
        gl_buf_addf(&b, "%" PRId64, v->i);
    else
        gl_value_text(v, &b);
    o = json_pack("{s:s, s:s%}", "t", gl_vtype_name(v->type), "v",
                  gl_buf_str(&b), b.len);
    gl_buf_release(&b);
    return o;
}

static int value_from_json(json_t *o, struct gl_arena *a, struct gl_value *v)
{
    const char *t = json_string_value(json_object_get(o, "t"));
    const char *s = json_string_value(json_object_get(o, "v"));
    size_t len = json_string_length(json_object_get(o, "v"));
    int k;

    memset(v, 0, sizeof(*v));
    if (!t || !s)
        return -1;
    for (k = GL_NULL; k <= GL_BOOL; k++)
        if (!strcmp(t, gl_vtype_name((enum gl_vtype)k)))
            break;
    if (k > GL_BOOL)
        return -1;
    v->type = (enum gl_vtype)k;
    switch (v->type) {
    case GL_INT:
    case GL_BOOL:
    case GL_DATE:
    case GL_TIME:
    case GL_TIMESTAMP:
    case GL_TIMESTAMPTZ:
        if (v->type == GL_BOOL)
            v->i = !strcmp(s, "true");
        else
            v->i = strtoll(s, NULL, 10);
        return 0;
    case GL_FLOAT:
        v->f = strtod(s, NULL);
        return 0;
    case GL_BYTES: {
        struct gl_buf b = GL_BUF_INIT;
        if (gl_hex_decode(s, len, &b)) {
            gl_buf_release(&b);
            return -1;
        }
        v->len = b.len;
        v->s = gl_arena_strndup(a, gl_buf_str(&b), b.len);
        gl_buf_release(&b);
        return v->s ? 0 : -1;
    }
    default:
        v->s = gl_arena_strndup(a, s, len);
        v->len = len;
        return v->s ? 0 : -1;
    }
}

/* "(k1, k2) > (v1, v2)" in the source dialect, from a checkpoint key. */
static int after_key(struct job *J, const char *key_json, struct gl_buf *out)
{
    json_error_t je;
    json_t *arr = json_loads(key_json, 0, &je);
    struct gl_arena a = GL_ARENA_INIT;
    struct gl_buf vals = GL_BUF_INIT;
    size_t i;
    int rc = -1;

    if (!arr || json_array_size(arr) != J->nkey)
        goto out;
    for (i = 0; i < J->nkey; i++) {
        struct gl_value v;
        if (value_from_json(json_array_get(arr, i), &a, &v))
            goto out;
        if (i)
            gl_buf_adds(&vals, ", ");
        if (J->src->drv->quote_value(J->src, &v, &vals))
            goto out;
    }
    if (J->nkey == 1)
        gl_buf_addf(out, "%s > %s", gl_buf_str(&J->order), gl_buf_str(&vals));
    else
        gl_buf_addf(out, "(%s) > (%s)", gl_buf_str(&J->order),
                    gl_buf_str(&vals));
    rc = 0;
out:
    json_decref(arr);
    gl_buf_release(&vals);
    gl_arena_release(&a);
    return rc;
}

/* ---- the checkpoint, in the target ----------------------------------- */

static int checkpoint_table(struct job *J)
{
    if (J->dst->drv->exec(J->dst, GL_SYNC_CHECKPOINT_DDL, J->err))
        return failed_with(J);
    return GL_OK;
}

static void quote_text(struct job *J, struct gl_db *db, const char *s,
                       struct gl_buf *b)
{
    struct gl_value v = {GL_TEXT, 0, 0, NULL, 0};

    (void)J;
    if (!s) {
        gl_buf_adds(b, "NULL");
        return;
    }
    v.s = s;
    v.len = strlen(s);
    db->drv->quote_value(db, &v, b);
}

struct checkpoint {
    int found, done;
    int64_t batch, read, written, rejected, bytes;
    char *last_key, *watermark;
    char updated[48];
    char token[64]; /* the execution chain (its first execution's id) */
};

static int read_checkpoint(struct job *J, struct checkpoint *cp)
{
    struct gl_buf q = GL_BUF_INIT;
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    int r;

    memset(cp, 0, sizeof(*cp));
    gl_buf_adds(&q, "SELECT batch, last_key, watermark, rows_read,"
                    " rows_written, rows_rejected, bytes, done, updated_at,"
                    " token"
                    " FROM " CHECKPOINT_TABLE " WHERE job = ");
    quote_text(J, J->dst, J->j->id.id, &q);
    r = J->dst->drv->query(J->dst, gl_buf_str(&q), &c, J->err);
    gl_buf_release(&q);
    if (r)
        return failed_with(J);
    r = J->dst->drv->next(c, &row, J->err);
    if (r == 1) {
        cp->found = 1;
        cp->batch = row[0].i;
        if (row[1].type != GL_NULL)
            cp->last_key = strndup(row[1].s, row[1].len);
        if (row[2].type != GL_NULL)
            cp->watermark = strndup(row[2].s, row[2].len);
        cp->read = row[3].i;
        cp->written = row[4].i;
        cp->rejected = row[5].i;
        cp->bytes = row[6].i;
        cp->done = row[7].i != 0;
        if (row[8].type == GL_TEXT)
            snprintf(cp->updated, sizeof(cp->updated), "%.*s", (int)row[8].len,
                     row[8].s);
        if (row[9].type != GL_NULL)
            snprintf(cp->token, sizeof(cp->token), "%.*s", (int)row[9].len,
                     row[9].s);
    }
    J->dst->drv->cursor_close(c);
    return r < 0 ? failed_with(J) : GL_OK;
}

/* Rows the job's rejects file holds by the count of its execution chain:
 * a --retry-rejects takes off the rows that loaded (the rows that still
 * fail were counted already). */
static int64_t rejected_total(const struct job *J)
{
    int64_t n;

    if (!J->o->retry_rejects)
        return J->base_rejected + J->res->rejected;
    n = J->base_rejected - J->res->written;
    return n > 0 ? n : 0;
}

/* Write the checkpoint row (inside the batch's transaction). */
static int write_checkpoint(struct job *J, int done)
{
    struct gl_buf q = GL_BUF_INIT;
    char at[40];
    int rc;

    gl_clock_now_iso(at);
    gl_buf_adds(&q, "DELETE FROM " CHECKPOINT_TABLE " WHERE job = ");
    quote_text(J, J->dst, J->j->id.id, &q);
    rc = J->dst->drv->exec(J->dst, gl_buf_str(&q), J->err);
    gl_buf_reset(&q);
    if (rc)
        goto out;
    gl_buf_adds(&q, "INSERT INTO " CHECKPOINT_TABLE
                    " (job, token, batch, last_key, watermark, rows_read,"
                    " rows_written, rows_rejected, bytes, done, updated_at)"
                    " VALUES (");
    quote_text(J, J->dst, J->j->id.id, &q);
    gl_buf_adds(&q, ", ");
    quote_text(J, J->dst, J->token, &q);
    gl_buf_addf(&q, ", %" PRId64 ", ", J->batch_no);
    quote_text(J, J->dst, J->last_key, &q);
    gl_buf_adds(&q, ", ");
    quote_text(J, J->dst, J->watermark, &q);
    gl_buf_addf(&q,
                ", %" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 ", %d, ",
                J->base_read + J->res->read, J->base_written + J->res->written,
                rejected_total(J), J->base_bytes + J->res->bytes, done);
    quote_text(J, J->dst, at, &q);
    gl_buf_adds(&q, ")");
    rc = J->dst->drv->exec(J->dst, gl_buf_str(&q), J->err);
out:
    gl_buf_release(&q);
    return rc ? failed_with(J) : GL_OK;
}

/* ---- rejects --------------------------------------------------------- */

static void csv_field(struct gl_buf *o, const char *s, size_t len)
{
    size_t i;

    gl_buf_adds(o, "\"");
    for (i = 0; i < len; i++) {
        if (s[i] == '"')
            gl_buf_adds(o, "\"");
        gl_buf_add(o, &s[i], 1);
    }
    gl_buf_adds(o, "\"");
}

/* The rejects file's path (rejects/JOB.csv beside the plan, or in
 * --rejects-dir), in res->rejects_file; its folder is made when mk. */
static int rejects_path(struct job *J, int mk)
{
    const char *dir = J->o->rejects_dir;
    struct gl_buf d = GL_BUF_INIT;
    int rc = GL_OK;

    if (!dir) {
        gl_buf_addf(&d, "%s/rejects", J->p->dir);
        dir = gl_buf_str(&d);
    }
    if (mk && mkdir(dir, 0777) && errno != EEXIST)
        rc = fail(J, GL_EIO, "cannot create '%s': %s", dir, strerror(errno));
    snprintf(J->res->rejects_file, sizeof(J->res->rejects_file),
             "%.3800s/%s.csv", dir, J->j->id.id);
    gl_buf_release(&d);
    return rc;
}

/* The header line the job's rejects file has (without the newline). */
static void rejects_header(struct job *J, struct gl_buf *b)
{
    size_t i;

    gl_buf_adds(b, "execution,batch,error");
    for (i = 0; i < J->nsel; i++) {
        gl_buf_adds(b, i < J->nkey ? ",key:" : ",");
        gl_buf_adds(b, J->sel_names[i]);
    }
}

/* One CSV record (a quoted field may hold newlines) into b, without its
 * line end.  0 at the end of the file. */
static int read_record(FILE *f, struct gl_buf *b)
{
    char *line = NULL;
    size_t cap = 0, quotes = 0, i;
    ssize_t n;

    gl_buf_reset(b);
    while ((n = getline(&line, &cap, f)) > 0) {
        for (i = 0; i < (size_t)n; i++)
            quotes += line[i] == '"';
        gl_buf_add(b, line, (size_t)n);
        if (quotes % 2 == 0)
            break;
    }
    free(line);
    while (b->len &&
           (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r'))
        b->data[--b->len] = '\0';
    return b->len > 0 || n > 0;
}

/* The next field of a record at *p into out (unquoted); *quoted says
 * whether it was quoted (an empty unquoted field is NULL). */
static void next_field(const char **p, struct gl_buf *out, int *quoted)
{
    const char *s = *p;

    gl_buf_reset(out);
    *quoted = *s == '"';
    if (*quoted) {
        s++;
        while (*s && !(*s == '"' && s[1] != '"')) {
            gl_buf_add(out, s, 1);
            s += *s == '"' ? 2 : 1;
        }
        if (*s)
            s++;
    } else {
        while (*s && *s != ',') {
            gl_buf_add(out, s, 1);
            s++;
        }
    }
    if (*s == ',')
        s++;
    *p = s;
    gl_buf_str(out);
}

/* The key of a record (fields after execution, batch, error), or of a
 * loaded row, as one string: parts joined by \x1f, NULL as \x1e. */
static void record_key(struct job *J, const char *rec, struct gl_buf *key)
{
    struct gl_buf f = GL_BUF_INIT;
    size_t k;
    int q;

    gl_buf_reset(key);
    for (k = 0; k < 3; k++)
        next_field(&rec, &f, &q);
    for (k = 0; k < J->nkey; k++) {
        next_field(&rec, &f, &q);
        if (k)
            gl_buf_adds(key, "\x1f");
        if (!q && !f.len)
            gl_buf_adds(key, "\x1e");
        else
            gl_buf_add(key, f.data, f.len);
    }
    gl_buf_str(key);
    gl_buf_release(&f);
}

static void row_key(struct job *J, const struct row *r, struct gl_buf *key)
{
    size_t k;

    gl_buf_reset(key);
    for (k = 0; k < J->nkey; k++) {
        if (k)
            gl_buf_adds(key, "\x1f");
        if (r->src[k].type == GL_NULL)
            gl_buf_adds(key, "\x1e");
        else
            gl_value_text(&r->src[k], key);
    }
    gl_buf_str(key);
}

/* Rewrite the rejects file without the records drop() says to drop
 * (through a temporary file renamed over it: a crash leaves the old or the
 * new file, whole).  *dropped gets their number. */
static int rewrite_rejects(struct job *J,
                           int (*drop)(struct job *, const char *),
                           size_t *dropped)
{
    char tmp[4300];
    struct gl_buf rec = GL_BUF_INIT;
    FILE *in, *out;
    int first = 1, bad;

    *dropped = 0;
    if (!(in = fopen(J->res->rejects_file, "r")))
        return GL_OK;
    snprintf(tmp, sizeof(tmp), "%s.tmp", J->res->rejects_file);
    if (!(out = fopen(tmp, "w"))) {
        fclose(in);
        return fail(J, GL_EIO, "cannot write '%s': %s", tmp, strerror(errno));
    }
    while (read_record(in, &rec)) {
        if (!first && drop(J, gl_buf_str(&rec))) {
            (*dropped)++;
            continue;
        }
        first = 0;
        fwrite(rec.data, 1, rec.len, out);
        fputc('\n', out);
    }
    gl_buf_release(&rec);
    bad = ferror(in);
    fclose(in);
    bad |= fflush(out) != 0 || fsync(fileno(out)) != 0;
    if (fclose(out) || bad || (*dropped && rename(tmp, J->res->rejects_file))) {
        unlink(tmp);
        return fail(J, GL_EIO, "cannot rewrite '%s': %s", J->res->rejects_file,
                    strerror(errno));
    }
    if (!*dropped)
        unlink(tmp);
    return GL_OK;
}

/* The batch in flight's rejects wait in JOB.csv.pending (its first line
 * names the execution chain) until the batch commits, then join the
 * rejects file: a batch that never commits leaves no row there (its rows
 * are read again), a committed one never loses its rows.  At the start
 * of the next execution, what a killed one left pending joins the file
 * when the checkpoint says its batch committed. */
static int recover_pending(struct job *J, const struct checkpoint *cp)
{
    char pend[4300];
    struct gl_buf rec = GL_BUF_INIT, f = GL_BUF_INIT, keep = GL_BUF_INIT,
                  tail = GL_BUF_INIT;
    FILE *in, *out;
    const char *chain;
    int rc = GL_OK, q, first = 1;

    snprintf(pend, sizeof(pend), "%s.pending", J->res->rejects_file);
    if (!(in = fopen(pend, "r")))
        return GL_OK;
    chain = "";
    while (read_record(in, &rec)) {
        const char *p = gl_buf_str(&rec);
        if (first) {
            first = 0;
            if (!strncmp(p, "chain=", 6))
                gl_buf_adds(&tail, p + 6);
            chain = gl_buf_str(&tail);
            continue;
        }
        next_field(&p, &f, &q); /* execution */
        next_field(&p, &f, &q); /* batch */
        if (cp->found && *chain && !strcmp(cp->token, chain) &&
            strtoll(gl_buf_str(&f), NULL, 10) <= cp->batch) {
            gl_buf_add(&keep, rec.data, rec.len);
            gl_buf_adds(&keep, "\n");
        }
    }
    fclose(in);
    if (keep.len && !(out = fopen(J->res->rejects_file, "a+"))) {
        rc = fail(J, GL_EIO, "cannot write '%s': %s", J->res->rejects_file,
                  strerror(errno));
        goto out;
    }
    if (keep.len) {
        /* moved already (killed after the move) when the file ends with
         * them */
        char *tail_bytes = malloc(keep.len);
        int moved = tail_bytes && !fseek(out, -(long)keep.len, SEEK_END) &&
                    fread(tail_bytes, 1, keep.len, out) == keep.len &&
                    !memcmp(tail_bytes, keep.data, keep.len);
        int bad;
        free(tail_bytes);
        fseek(out, 0, SEEK_END);
        bad = !moved && fwrite(keep.data, 1, keep.len, out) != keep.len;
        if (fclose(out) || bad) {
            rc = fail(J, GL_EIO, "cannot write '%s': %s", J->res->rejects_file,
                      strerror(errno));
            goto out;
        }
    }
    unlink(pend);
out:
    gl_buf_release(&rec);
    gl_buf_release(&f);
    gl_buf_release(&keep);
    gl_buf_release(&tail);
    return rc;
}

/* Open the rejects file to append this execution's rows (after what a
 * killed execution left pending, see recover_pending).  A file written for
 * other columns (an older plan, an older golive) is kept aside under
 * JOB-before-EXECUTION.csv, never emptied. */
static int open_rejects(struct job *J, const struct checkpoint *cp)
{
    struct gl_buf head = GL_BUF_INIT, first = GL_BUF_INIT;
    char pend[4300];
    FILE *f;
    int rc;

    if ((rc = rejects_path(J, 1)))
        return rc;
    rejects_header(J, &head);
    if ((f = fopen(J->res->rejects_file, "r"))) {
        int have = read_record(f, &first);
        fclose(f);
        if (have && strcmp(gl_buf_str(&first), gl_buf_str(&head))) {
            char aside[4400], *dot;
            snprintf(aside, sizeof(aside), "%s", J->res->rejects_file);
            dot = strrchr(aside, '.');
            if (dot)
                *dot = '\0';
            snprintf(aside + strlen(aside), sizeof(aside) - strlen(aside),
                     "-before-%s.csv", J->res->execution);
            if (rename(J->res->rejects_file, aside)) {
                rc = fail(J, GL_EIO, "cannot move '%s' aside: %s",
                          J->res->rejects_file, strerror(errno));
                goto out;
            }
        }
    }
    J->rejects = fopen(J->res->rejects_file, "a");
    if (!J->rejects) {
        rc = fail(J, GL_EIO, "cannot write '%s': %s", J->res->rejects_file,
                  strerror(errno));
        goto out;
    }
    if (ftell(J->rejects) == 0) {
        fputs(gl_buf_str(&head), J->rejects);
        fputc('\n', J->rejects);
        fflush(J->rejects);
    }
    if ((rc = recover_pending(J, cp)))
        goto out;
    snprintf(pend, sizeof(pend), "%s.pending", J->res->rejects_file);
    if (!(J->pending = fopen(pend, "w+"))) {
        rc = fail(J, GL_EIO, "cannot write '%s': %s", pend, strerror(errno));
        goto out;
    }
    fprintf(J->pending, "chain=%s\n", J->token);
    fflush(J->pending);
    J->pending_head = ftell(J->pending);
    rc = GL_OK;
out:
    gl_buf_release(&head);
    gl_buf_release(&first);
    return rc;
}

/* Before the batch commits: its rejects wait in the pending file. */
static int rejects_pending(struct job *J)
{
    if (!J->pending || !J->inflight.len)
        return GL_OK;
    if (fwrite(J->inflight.data, 1, J->inflight.len, J->pending) !=
            J->inflight.len ||
        fflush(J->pending))
        return fail(J, GL_EIO, "cannot write '%s.pending': %s",
                    J->res->rejects_file, strerror(errno));
    return GL_OK;
}

/* The batch committed: its rejects join the file. */
static int rejects_commit(struct job *J)
{
    int rc = GL_OK;

    if (!J->rejects || !J->inflight.len)
        return GL_OK;
    if (fwrite(J->inflight.data, 1, J->inflight.len, J->rejects) !=
            J->inflight.len ||
        fflush(J->rejects))
        rc = fail(J, GL_EIO, "cannot write '%s': %s", J->res->rejects_file,
                  strerror(errno));
    else if (ftruncate(fileno(J->pending), J->pending_head) ||
             fseek(J->pending, J->pending_head, SEEK_SET))
        rc = fail(J, GL_EIO, "cannot empty '%s.pending': %s",
                  J->res->rejects_file, strerror(errno));
    gl_buf_reset(&J->inflight);
    return rc;
}

static void write_reject(struct job *J, const struct row *r)
{
    struct gl_buf b = GL_BUF_INIT, *o = &J->inflight;
    size_t i;

    gl_buf_addf(o, "%s,%" PRId64 ",", J->res->execution, J->batch_no);
    csv_field(o, r->reject, strlen(r->reject));
    for (i = 0; i < J->nsel; i++) {
        gl_buf_adds(o, ",");
        if (r->src[i].type == GL_NULL)
            continue; /* an empty field is NULL; "" is an empty string */
        gl_buf_reset(&b);
        gl_value_text(&r->src[i], &b);
        csv_field(o, gl_buf_str(&b), b.len);
    }
    gl_buf_adds(o, "\n");
    gl_buf_release(&b);
}

/* ---- transform ------------------------------------------------------- */

static int copy_value(struct gl_arena *a, const struct gl_value *in,
                      struct gl_value *out)
{
    *out = *in;
    if (in->type == GL_TEXT || in->type == GL_NUMERIC || in->type == GL_BYTES ||
        in->type == GL_SPECIAL) {
        char *s = gl_arena_alloc_raw(a, in->len + 1);
        if (!s)
            return -1;
        memcpy(s, in->s, in->len);
        s[in->len] = '\0';
        out->s = s;
    }
    return 0;
}

static void set_text(struct gl_value *v, const char *s)
{
    memset(v, 0, sizeof(*v));
    if (!s) {
        v->type = GL_NULL;
        return;
    }
    v->type = GL_TEXT;
    v->s = s;
    v->len = strlen(s);
}

/* Fill r->dst from r->src; a value that cannot be mapped or fitted makes
 * the row a reject.  -1 when memory runs out. */
static int transform(struct job *J, struct row *r)
{
    struct gl_buf key = GL_BUF_INIT;
    char why[512];
    size_t i, k;

    for (i = 0; i < J->ncols; i++) {
        const struct colplan *c = &J->cols[i];
        const struct gl_colmap *m = c->map;
        struct gl_value v;
        int rc;

        if (c->sel < 0)
            set_text(&v, m->value);
        else
            v = r->src[c->sel];
        if (m && m->n_map && v.type != GL_NULL) {
            gl_buf_reset(&key);
            gl_value_text(&v, &key);
            for (k = 0; k < m->n_map; k++)
                if (!strcmp(m->map[k].from, gl_buf_str(&key)))
                    break;
            if (k < m->n_map) {
                set_text(&v, m->map[k].to);
            } else if (m->map_else) {
                set_text(&v, m->map_else);
            } else {
                snprintf(why, sizeof(why),
                         "no mapping for value '%.60s' of column '%s' "
                         "(target '%s')",
                         gl_buf_str(&key), m->source ? m->source : c->target,
                         c->target);
                r->reject = gl_arena_strdup(&J->arena, why);
                gl_buf_release(&key);
                return r->reject ? 0 : -1;
            }
        }
        if (v.type == GL_NULL && m && m->has_default)
            set_text(&v, m->dflt);
        rc = gl_convert(&v, &J->t.cols[c->tcol], J->teng, &J->arena, &r->dst[i],
                        why, sizeof(why));
        if (rc < 0) {
            gl_buf_release(&key);
            return -1;
        }
        if (rc == 2 && m && m->unrepresentable == GL_UNREP_NULL) {
            memset(&r->dst[i], 0, sizeof(r->dst[i])); /* the plan says so */
            rc = 0;
        }
        if (rc > 0) {
            r->reject = gl_arena_strdup(&J->arena, why);
            gl_buf_release(&key);
            return r->reject ? 0 : -1;
        }
        for (k = 0; k < J->nkey; k++)
            if (J->key_tcol[k] == c->tcol && r->dst[i].type == GL_NULL) {
                /* a NULL key would be no key (SQLite even numbers it) */
                snprintf(why, sizeof(why), "NULL in key column '%s'",
                         c->target);
                r->reject = gl_arena_strdup(&J->arena, why);
                gl_buf_release(&key);
                return r->reject ? 0 : -1;
            }
    }
    gl_buf_release(&key);
    return 0;
}

static int64_t value_bytes(const struct gl_value *v)
{
    switch (v->type) {
    case GL_NULL:
        return 0;
    case GL_TEXT:
    case GL_NUMERIC:
    case GL_BYTES:
    case GL_SPECIAL:
        return (int64_t)v->len;
    default:
        return 8;
    }
}

static int open_batch(struct job *J);
static int note_loaded(struct job *J, const struct row *r);
static int drop_loaded(struct job *J);
static void stream_row(struct job *J, const struct row *r);

/* Take one source row into the batch, and into the open load. */
static int add_row(struct job *J, const struct gl_value *src)
{
    struct row *r;
    size_t i;

    if (J->nrows == J->cap) {
        size_t cap = J->cap ? J->cap * 2 : 1024;
        struct row *v = realloc(J->rows, cap * sizeof(*v));
        if (!v)
            return -1;
        J->rows = v;
        J->cap = cap;
    }
    r = &J->rows[J->nrows];
    memset(r, 0, sizeof(*r));
    r->src = gl_arena_alloc_raw(&J->arena, J->nsel * sizeof(*r->src));
    r->dst = gl_arena_alloc_raw(&J->arena, J->ncols * sizeof(*r->dst));
    if (!r->src || !r->dst)
        return -1;
    for (i = 0; i < J->nsel; i++) {
        if (copy_value(&J->arena, &src[i], &r->src[i]))
            return -1;
        J->res->bytes += value_bytes(&src[i]);
    }
    J->nrows++;
    J->res->read++;
    if (transform(J, r))
        return -1;
    if (open_batch(J))
        return -2;
    stream_row(J, r);
    return 0;
}

/* ---- loading a batch ------------------------------------------------- */

static int load_open(struct job *J, struct gl_loader **l)
{
    struct gl_load_opts lo;
    size_t i;

    memset(&lo, 0, sizeof(lo));
    lo.table = J->j->to.table;
    lo.cols = J->tnames;
    lo.ncols = J->ncols;
    lo.upsert =
        J->j->mode == GL_SYNC_UPSERT || J->j->mode == GL_SYNC_INCREMENTAL;
    for (i = 0; i < J->nkey && i < 64; i++)
        J->keynames[i] = J->t.cols[J->key_tcol[i]].name;
    lo.key = J->keynames;
    lo.nkey = J->nkey < 64 ? J->nkey : 64;
    return J->dst->drv->load_begin(J->dst, &lo, l, J->err);
}

static int load_rows(struct job *J, size_t from, size_t to)
{
    const struct gl_db_driver *d = J->dst->drv;
    struct gl_loader *l = NULL;
    size_t i;
    int rc;

    if ((rc = load_open(J, &l)))
        return rc;
    for (i = from; i < to; i++) {
        if (J->rows[i].reject)
            continue;
        if ((rc = d->load_row(l, J->rows[i].dst, J->err)))
            break;
    }
    if (!rc)
        rc = d->load_finish(l, J->err);
    d->load_close(l);
    return rc;
}

/* Whether the target holds r's key already: an append job loaded again
 * (--restart) meets the rows of the earlier execution. */
static int key_in_target(struct job *J, const struct row *r)
{
    const struct gl_db_driver *d = J->dst->drv;
    struct gl_buf q = GL_BUF_INIT;
    int64_t n = 0;
    size_t k, c;
    int ok = 1;

    gl_buf_adds(&q, "SELECT count(*) FROM ");
    d->quote_ident(J->j->to.table, &q);
    for (k = 0; k < J->nkey && ok; k++) {
        for (c = 0; c < J->ncols && J->cols[c].tcol != J->key_tcol[k]; c++)
            ;
        if (c == J->ncols || r->dst[c].type == GL_NULL) {
            ok = 0;
            break;
        }
        gl_buf_adds(&q, k ? " AND " : " WHERE ");
        d->quote_ident(J->t.cols[J->key_tcol[k]].name, &q);
        gl_buf_adds(&q, " = ");
        ok = !d->quote_value(J->dst, &r->dst[c], &q);
    }
    if (ok && gl_db_query_int(J->dst, gl_buf_str(&q), &n, NULL))
        n = 0;
    gl_buf_release(&q);
    return ok && n > 0;
}

/* Load rows [from, to) under a savepoint; on failure halve until the bad
 * rows are single, and mark those rejects with the database's error. */
static int load_range(struct job *J, size_t from, size_t to)
{
    const struct gl_db_driver *d = J->dst->drv;
    size_t i, live = 0, mid;
    int rc;

    for (i = from; i < to; i++)
        live += !J->rows[i].reject;
    if (!live)
        return GL_OK;
    if (d->exec(J->dst, "SAVEPOINT golive_batch", J->err))
        return failed_with(J);
    rc = load_rows(J, from, to);
    if (!rc) {
        if (d->exec(J->dst, "RELEASE SAVEPOINT golive_batch", J->err))
            return failed_with(J);
        return GL_OK;
    }
    if (rc == GL_ENOMEM)
        return failed_with(J);
    if (d->exec(J->dst, "ROLLBACK TO SAVEPOINT golive_batch", NULL) ||
        d->exec(J->dst, "RELEASE SAVEPOINT golive_batch", NULL))
        return failed_with(J); /* the connection is gone: not a row error */
    if (live == 1) {
        for (i = from; i < to; i++)
            if (!J->rows[i].reject) {
                const char *why = J->err ? J->err->msg : "";
                char *dup = NULL;
                if (J->dup_check && key_in_target(J, &J->rows[i])) {
                    struct gl_buf b = GL_BUF_INIT;
                    gl_buf_addf(&b,
                                "duplicates a row an earlier execution "
                                "loaded (its key is in the target): %s",
                                why);
                    dup = gl_arena_strdup(&J->arena, gl_buf_str(&b));
                    gl_buf_release(&b);
                    J->dups++;
                }
                J->rows[i].reject = dup ? dup : gl_arena_strdup(&J->arena, why);
                if (!J->rows[i].reject)
                    return fail(J, GL_ENOMEM, "out of memory");
            }
        return GL_OK;
    }
    mid = from + (to - from) / 2;
    if ((rc = load_range(J, from, mid)))
        return rc;
    return load_range(J, mid, to);
}

static int limit_passed(struct job *J)
{
    int64_t rej = rejected_total(J);

    if (J->j->error_limit_pct) {
        int64_t total = J->res->total > 0 ? J->res->total : 0;
        return rej * 100 > J->j->error_limit * total;
    }
    return rej > J->j->error_limit;
}

static char *key_json(struct job *J, const struct row *r)
{
    json_t *arr = json_array();
    size_t i;
    char *s;

    for (i = 0; i < J->nkey; i++)
        json_array_append_new(arr, value_to_json(&r->src[i]));
    s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return s;
}

/* Open the batch's transaction: empty a fresh truncate target, then start
 * the bulk load under a savepoint, so that rows stream to the target while
 * the source is still being read. */
static int open_batch(struct job *J)
{
    const struct gl_db_driver *d = J->dst->drv;
    struct gl_buf q = GL_BUF_INIT;
    int rc;

    if (J->open)
        return GL_OK;
    if (d->begin(J->dst, J->err))
        return failed_with(J);
    J->open = 1;
    if (J->fresh && J->j->mode == GL_SYNC_TRUNCATE) {
        gl_buf_adds(&q, "DELETE FROM ");
        d->quote_ident(J->j->to.table, &q);
        rc = d->exec(J->dst, gl_buf_str(&q), J->err);
        gl_buf_release(&q);
        if (rc)
            return failed_with(J);
    }
    J->fresh = 0;
    if (d->exec(J->dst, "SAVEPOINT golive_batch", J->err))
        return failed_with(J);
    J->streaming = 1;
    if (load_open(J, &J->loader))
        J->streaming = 0; /* the batch is loaded again, row by row */
    return GL_OK;
}

/* A row joins the batch's stream (the batch is open). */
static void stream_row(struct job *J, const struct row *r)
{
    if (!J->streaming || r->reject)
        return;
    if (J->dst->drv->load_row(J->loader, r->dst, J->err))
        J->streaming = 0; /* halving finds the row later */
}

/* Commit the batch: rows, rejects, checkpoint, in one transaction. */
static int flush_batch(struct job *J, int last)
{
    const struct gl_db_driver *d = J->dst->drv;
    int64_t written = 0, rejected = 0;
    size_t i, nloaded = J->nloaded;
    int rc;

    if (!J->nrows && !J->fresh && !last && !J->open)
        return GL_OK;
    J->batch_no++;
    if ((rc = open_batch(J)))
        goto fail;
    if (J->streaming && (rc = d->load_finish(J->loader, J->err)))
        J->streaming = 0;
    if (J->loader) {
        d->load_close(J->loader);
        J->loader = NULL;
    }
    if (J->streaming) {
        if (d->exec(J->dst, "RELEASE SAVEPOINT golive_batch", J->err)) {
            rc = failed_with(J);
            goto fail;
        }
    } else {
        /* something in the batch was refused: back to the savepoint, then
         * halve until the refused rows are found */
        if (d->exec(J->dst, "ROLLBACK TO SAVEPOINT golive_batch", J->err) ||
            d->exec(J->dst, "RELEASE SAVEPOINT golive_batch", J->err)) {
            rc = failed_with(J);
            goto fail;
        }
        if ((rc = load_range(J, 0, J->nrows)))
            goto fail;
    }
    rc = GL_OK;
    gl_crashpoint();
    gl_pausepoint("sync.batch.loaded");
    if (gl_faultpoint("sync.batch.loaded")) {
        rc = fail(J, GL_EIO, "the target's connection was lost (test fault)");
        goto fail;
    }
    for (i = 0; i < J->nrows; i++) {
        if (J->rows[i].reject) {
            /* a retried row that still fails keeps its line */
            if (J->rejects)
                write_reject(J, &J->rows[i]);
            rejected++;
        } else {
            if (J->o->retry_rejects && note_loaded(J, &J->rows[i])) {
                rc = fail(J, GL_ENOMEM, "out of memory");
                goto fail;
            }
            written++;
        }
    }
    if ((rc = rejects_pending(J)))
        goto fail;
    /* counted as the checkpoint will say; taken back below when the
     * batch does not commit (its rows are neither written nor rejected:
     * a resumed job reads them again) */
    J->res->written += written;
    J->res->rejected += rejected;
    if (J->nrows) {
        free(J->last_key);
        J->last_key = key_json(J, &J->rows[J->nrows - 1]);
    }
    if ((rc = write_checkpoint(J, last))) {
        J->res->written -= written;
        J->res->rejected -= rejected;
        goto fail;
    }
    gl_crashpoint();
    if (d->commit(J->dst, J->err)) {
        rc = failed_with(J);
        J->open = 0;
        J->res->written -= written;
        J->res->rejected -= rejected;
        goto fail;
    }
    J->open = 0;
    gl_crashpoint();
    gl_pausepoint("sync.batch.committed");
    J->nrows = 0;
    if ((rc = rejects_commit(J)))
        return rc;
    if (J->o->retry_rejects && (rc = drop_loaded(J)))
        return rc;
    gl_arena_reset(&J->arena);
    if (J->o->progress) {
        struct gl_sync_progress pr;
        pr.job = J->j->id.id;
        pr.read = J->base_read + J->res->read;
        pr.written = J->base_written + J->res->written;
        pr.rejected = rejected_total(J);
        pr.total = J->res->total;
        pr.seconds = gl_clock_mono() - J->t0;
        J->o->progress(J->o->progress_ctx, &pr);
    }
    return GL_OK;
fail:
    if (J->loader) {
        d->load_close(J->loader);
        J->loader = NULL;
    }
    d->rollback(J->dst);
    J->open = 0;
    while (J->nloaded > nloaded)
        free(J->loaded[--J->nloaded]);
    gl_buf_reset(&J->inflight);
    /* the rows of this batch were not written: they are read again by a
     * resumed job */
    J->res->read -= (int64_t)J->nrows;
    return rc;
}

/* ---- the job --------------------------------------------------------- */

static int count_source(struct job *J, const char *where)
{
    struct gl_buf q = GL_BUF_INIT;
    int rc;

    gl_buf_addf(&q, "SELECT count(*) FROM %s", gl_buf_str(&J->from));
    if (where && *where)
        gl_buf_addf(&q, " WHERE %s", where);
    rc = gl_db_query_int(J->src, gl_buf_str(&q), &J->res->total, J->err);
    gl_buf_release(&q);
    return rc ? failed_with(J) : GL_OK;
}

/* The incremental watermark: the target's highest value of the column
 * filled from the source's watermark column, as a source condition. */
static int watermark_filter(struct job *J, struct gl_buf *cond)
{
    const struct gl_sync_job *j = J->j;
    struct gl_buf q = GL_BUF_INIT;
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    const char *tcol = NULL;
    size_t i;
    int r;

    for (i = 0; i < J->ncols; i++) {
        const struct gl_colmap *m = J->cols[i].map;
        const char *src = m ? m->source : J->cols[i].target;
        if (src && !strcmp(src, j->watermark))
            tcol = J->cols[i].target;
    }
    if (!tcol)
        return fail(J, GL_EUSAGE,
                    "watermark column '%s' does not fill any target column",
                    j->watermark);
    if (!J->watermark) {
        gl_buf_adds(&q, "SELECT max(");
        J->dst->drv->quote_ident(tcol, &q);
        gl_buf_adds(&q, ") FROM ");
        J->dst->drv->quote_ident(j->to.table, &q);
        r = J->dst->drv->query(J->dst, gl_buf_str(&q), &c, J->err);
        gl_buf_release(&q);
        if (r)
            return failed_with(J);
        r = J->dst->drv->next(c, &row, J->err);
        if (r == 1 && row[0].type != GL_NULL) {
            json_t *o = value_to_json(&row[0]);
            J->watermark = json_dumps(o, JSON_COMPACT);
            json_decref(o);
        }
        J->dst->drv->cursor_close(c);
        if (r < 0)
            return failed_with(J);
    }
    if (J->watermark) {
        struct gl_arena a = GL_ARENA_INIT;
        json_error_t je;
        json_t *o = json_loads(J->watermark, 0, &je);
        struct gl_value v;
        int bad = !o || value_from_json(o, &a, &v);
        if (!bad) {
            J->src->drv->quote_ident(j->watermark, cond);
            gl_buf_adds(cond, " > ");
            bad = J->src->drv->quote_value(J->src, &v, cond);
        }
        json_decref(o);
        gl_arena_release(&a);
        if (bad)
            return fail(J, GL_EIO, "cannot use the watermark %s", J->watermark);
    }
    return GL_OK;
}

static void and_cond(struct gl_buf *w, const char *cond)
{
    if (!cond || !*cond)
        return;
    gl_buf_addf(w, "%s(%s)", w->len ? " AND " : "", cond);
}

static int stream(struct job *J, const char *extra_where)
{
    struct gl_buf q = GL_BUF_INIT, where = GL_BUF_INIT;
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    int r, rc = GL_OK;

    and_cond(&where, gl_buf_str(&J->where));
    and_cond(&where, extra_where);
    gl_buf_addf(&q, "SELECT %s FROM %s", gl_buf_str(&J->list),
                gl_buf_str(&J->from));
    if (where.len)
        gl_buf_addf(&q, " WHERE %s", gl_buf_str(&where));
    gl_buf_addf(&q, " ORDER BY %s", gl_buf_str(&J->order));
    /* the job's source connection serves only this read until it ends:
     * the driver may stream it */
    J->src->stream = 1;
    r = J->src->drv->query(J->src, gl_buf_str(&q), &c, J->err);
    J->src->stream = 0;
    if (r) {
        rc = failed_with(J);
        goto out;
    }
    while ((r = J->src->drv->next(c, &row, J->err)) == 1) {
        int a;
        if (gl_faultpoint("sync.source.row")) {
            rc = fail(J, GL_EIO,
                      "the source's connection was lost (test "
                      "fault)");
            break;
        }
        a = add_row(J, row);
        if (a == -2) {
            rc = failed_with(J);
            break;
        }
        if (a) {
            rc = fail(J, GL_ENOMEM, "out of memory");
            break;
        }
        if ((int64_t)J->nrows >= J->batch_size) {
            if ((rc = flush_batch(J, 0)))
                break;
            if (limit_passed(J))
                break;
        }
        if (J->o->stop && *J->o->stop) {
            /* the batch in flight commits below; --resume goes on */
            J->res->interrupted = 1;
            break;
        }
    }
    if (r < 0 && !rc)
        rc = failed_with(J);
    J->src->drv->cursor_close(c);
    /* done: the source was read to its end (the job may still fail on its
     * error limit); stopped early, the rest is for --resume */
    if (!rc)
        rc = flush_batch(J, r == 0);
out:
    gl_buf_release(&q);
    gl_buf_release(&where);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A record whose key loaded in this --retry-rejects. */
static int now_loaded(struct job *J, const char *rec)
{
    struct gl_buf key = GL_BUF_INIT;
    const char *k;
    int hit;

    record_key(J, rec, &key);
    k = gl_buf_str(&key);
    hit = bsearch(&k, J->loaded, J->nloaded, sizeof(char *), cmp_str) != NULL;
    gl_buf_release(&key);
    return hit;
}

/* After a committed batch of --retry-rejects: the rows that loaded leave
 * the rejects file; the rest of it stays as it was. */
static int drop_loaded(struct job *J)
{
    size_t dropped;

    if (J->nsorted == J->nloaded)
        return GL_OK;
    qsort(J->loaded, J->nloaded, sizeof(char *), cmp_str);
    J->nsorted = J->nloaded;
    return rewrite_rejects(J, now_loaded, &dropped);
}

static int note_loaded(struct job *J, const struct row *r)
{
    struct gl_buf key = GL_BUF_INIT;

    if (J->nloaded == J->capl) {
        size_t cap = J->capl ? J->capl * 2 : 256;
        char **v = realloc(J->loaded, cap * sizeof(*v));
        if (!v)
            return -1;
        J->loaded = v;
        J->capl = cap;
    }
    row_key(J, r, &key);
    J->loaded[J->nloaded] = gl_buf_detach(&key);
    if (!J->loaded[J->nloaded])
        return -1;
    J->nloaded++;
    return 0;
}

/* --retry-rejects: read the keys of the rejects file, load those rows of
 * the source again through the (fixed) mapping; the rows that load leave
 * the file (after each committed batch), the rows that still fail stay
 * as they were. */
static int retry_rejects(struct job *J)
{
    struct gl_buf cond = GL_BUF_INIT, rec = GL_BUF_INIT, head = GL_BUF_INIT,
                  f = GL_BUF_INIT;
    char **keys = NULL;
    size_t nkeys = 0, capk = 0, i, k, distinct = 0;
    FILE *in;
    int rc = GL_OK;

    if ((rc = rejects_path(J, 0)))
        return rc;
    if (!(in = fopen(J->res->rejects_file, "r")))
        return fail(J, GL_ENOTFOUND, "no rejects file '%s' to retry",
                    J->res->rejects_file);
    rejects_header(J, &head);
    if (read_record(in, &rec) && strcmp(gl_buf_str(&rec), gl_buf_str(&head))) {
        fclose(in);
        rc = fail(J, GL_EUSAGE,
                  "rejects file '%s' was written for other columns (its "
                  "header is not '%s')",
                  J->res->rejects_file, gl_buf_str(&head));
        goto out;
    }
    while (read_record(in, &rec)) {
        struct gl_buf key = GL_BUF_INIT;
        if (nkeys == capk) {
            size_t cap = capk ? capk * 2 : 256;
            char **v = realloc(keys, cap * sizeof(*v));
            if (!v) {
                fclose(in);
                rc = fail(J, GL_ENOMEM, "out of memory");
                goto out;
            }
            keys = v;
            capk = cap;
        }
        record_key(J, gl_buf_str(&rec), &key);
        keys[nkeys++] = gl_buf_detach(&key);
        /* the raw record is kept for the literals below */
        if (!keys[nkeys - 1]) {
            fclose(in);
            rc = fail(J, GL_ENOMEM, "out of memory");
            goto out;
        }
    }
    fclose(in);
    /* each key once, whichever executions rejected it */
    qsort(keys, nkeys, sizeof(char *), cmp_str);
    for (i = 0; i < nkeys; i++) {
        const char *p;
        if (i && !strcmp(keys[i], keys[i - 1]))
            continue;
        gl_buf_adds(&cond, distinct++ ? ", (" : "(");
        /* the keys, as text literals: every engine compares them with the
         * key columns after converting */
        p = keys[i];
        for (k = 0; k < J->nkey; k++) {
            const char *e = strchr(p, '\x1f');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            if (k)
                gl_buf_adds(&cond, ", ");
            if (len == 1 && *p == '\x1e') {
                gl_buf_adds(&cond, "NULL");
            } else {
                struct gl_value v = {GL_TEXT, 0, 0, NULL, 0};
                gl_buf_reset(&f);
                gl_buf_add(&f, p, len);
                v.s = gl_buf_str(&f);
                v.len = len;
                J->src->drv->quote_value(J->src, &v, &cond);
            }
            p += len + (e ? 1 : 0);
        }
        gl_buf_adds(&cond, ")");
    }
    if (distinct) {
        struct gl_buf w = GL_BUF_INIT;
        if (J->nkey == 1)
            gl_buf_addf(&w, "%s IN (%s)", gl_buf_str(&J->order),
                        gl_buf_str(&cond));
        else
            gl_buf_addf(&w, "(%s) IN (%s)", gl_buf_str(&J->order),
                        gl_buf_str(&cond));
        rc = stream(J, gl_buf_str(&w));
        gl_buf_release(&w);
    }
out:
    for (i = 0; i < nkeys; i++)
        free(keys[i]);
    free(keys);
    gl_buf_release(&cond);
    gl_buf_release(&rec);
    gl_buf_release(&head);
    gl_buf_release(&f);
    return rc;
}

/* An execution's id: its UTC start to the microsecond and the process,
 * so that ids sort by time (the rejects file relies on it). */
static void execution_id(char *out, size_t n)
{
    struct timespec ts;
    struct tm tm;
    char at[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(at, sizeof(at), "%Y%m%dT%H%M%S", &tm);
    snprintf(out, n, "%.15s.%06dZ-%ld", at, (int)(ts.tv_nsec / 1000 % 1000000),
             (long)getpid());
}

static void release(struct job *J)
{
    if (J->loader)
        J->dst->drv->load_close(J->loader);
    if (J->open)
        J->dst->drv->rollback(J->dst);
    if (J->rejects)
        fclose(J->rejects);
    if (J->pending) {
        /* nothing waits: the last batch committed or never will */
        char pend[4300];
        int empty = !J->inflight.len && ftell(J->pending) == J->pending_head;
        fclose(J->pending);
        snprintf(pend, sizeof(pend), "%s.pending", J->res->rejects_file);
        if (empty)
            unlink(pend);
    }
    gl_buf_release(&J->inflight);
    while (J->nloaded)
        free(J->loaded[--J->nloaded]);
    free(J->loaded);
    gl_arena_release(&J->arena);
    free(J->rows);
    free(J->cols);
    free(J->tnames);
    free(J->sel_names);
    free(J->key_tcol);
    free(J->last_key);
    free(J->watermark);
    gl_buf_release(&J->from);
    gl_buf_release(&J->where);
    gl_buf_release(&J->order);
    gl_buf_release(&J->list);
    gl_table_desc_release(&J->t);
    gl_db_close(J->src);
    gl_db_close(J->dst);
}

/* ---- one execution: prepare (lock, preflight), clear, run ------------ */

struct gl_sync_exec {
    struct job J;
};

static void init_job(struct job *J, const struct gl_plan *p,
                     const struct gl_sync_job *j, const struct gl_sync_opts *o,
                     struct gl_sync_result *res, struct gl_err *err)
{
    memset(J, 0, sizeof(*J));
    J->p = p;
    J->j = j;
    J->o = o;
    J->res = res;
    J->err = err;
    J->t0 = gl_clock_mono();
    J->arena.limit = 0;
    J->arena.block = (size_t)1 << 20; /* a batch lives in a few blocks */
    J->batch_size = o->batch_size > 0   ? o->batch_size
                    : j->batch_size > 0 ? j->batch_size
                                        : DEFAULT_BATCH;
}

/* The result of an execution starts over; fresh: the execution gets its
 * id (gl_sync_prepare), else it keeps the one its preparation gave it.
 * Its id begins the chain of executions its checkpoint names (--resume
 * and --retry-rejects go on with the checkpoint's). */
static void start_result(struct job *J, int fresh)
{
    struct gl_sync_result *res = J->res;

    memset(res, 0, sizeof(*res));
    snprintf(res->job, sizeof(res->job), "%s", J->j->id.id);
    snprintf(res->mode, sizeof(res->mode), "%s",
             J->o->retry_rejects ? "retry-rejects" : "load");
    gl_clock_now(&res->started);
    if (fresh || !J->execution[0])
        execution_id(J->execution, sizeof(J->execution));
    snprintf(res->execution, sizeof(res->execution), "%s", J->execution);
    snprintf(J->token, sizeof(J->token), "%s", J->execution);
}

/* Who holds the job's lock, as its holder wrote it into golive_lock. */
static void lock_holder(struct job *J, char *out, size_t n)
{
    struct gl_buf q = GL_BUF_INIT;
    struct gl_cursor *c = NULL;
    const struct gl_value *row;

    snprintf(out, n, "another execution");
    gl_buf_adds(&q, "SELECT holder, since FROM " LOCK_TABLE " WHERE job = ");
    quote_text(J, J->dst, J->j->id.id, &q);
    if (!J->dst->drv->query(J->dst, gl_buf_str(&q), &c, NULL)) {
        if (J->dst->drv->next(c, &row, NULL) == 1 && row[0].type == GL_TEXT &&
            row[1].type == GL_TEXT)
            snprintf(out, n, "%.*s since %.*s", (int)row[0].len, row[0].s,
                     (int)row[1].len, row[1].s);
        J->dst->drv->cursor_close(c);
    }
    gl_buf_release(&q);
}

/* One execution of a job at a time: its lock lives with the target (see
 * the driver's lock), held until the execution ends; then the holder is
 * written down for whoever is refused. */
static int job_lock(struct job *J)
{
    const struct gl_db_driver *d = J->dst->drv;
    struct gl_buf q = GL_BUF_INIT;
    char name[256], host[256], at[40], holder[600];
    struct gl_err e2;
    int rc;

    if (!d->lock)
        return GL_OK;
    snprintf(name, sizeof(name), "sync-%.200s", J->j->id.id);
    gl_err_clear(&e2);
    if ((rc = d->lock(J->dst, name, &e2))) {
        if (rc != GL_EREFUSED)
            return fail(J, rc, "cannot take the job's lock: %s", e2.msg);
        lock_holder(J, holder, sizeof(holder));
        J->res->locked_out = 1;
        return fail(J, GL_EREFUSED,
                    "the job is running already (%s, on '%s'); wait for it "
                    "to end: two executions at once lose rows",
                    holder, J->dst->label);
    }
    memset(host, 0, sizeof(host));
    if (gethostname(host, sizeof(host) - 1))
        snprintf(host, sizeof(host), "?");
    gl_clock_now_iso(at);
    snprintf(holder, sizeof(holder), "pid %d on host '%.200s'", (int)getpid(),
             host);
    if ((rc = d->exec(J->dst, LOCK_DDL, J->err)) ||
        (rc = d->begin(J->dst, J->err)))
        return failed_with(J);
    gl_buf_adds(&q, "DELETE FROM " LOCK_TABLE " WHERE job = ");
    quote_text(J, J->dst, J->j->id.id, &q);
    rc = d->exec(J->dst, gl_buf_str(&q), J->err);
    gl_buf_reset(&q);
    gl_buf_adds(&q, "INSERT INTO " LOCK_TABLE " (job, holder, since) VALUES (");
    quote_text(J, J->dst, J->j->id.id, &q);
    gl_buf_adds(&q, ", ");
    quote_text(J, J->dst, holder, &q);
    gl_buf_adds(&q, ", ");
    quote_text(J, J->dst, at, &q);
    gl_buf_adds(&q, ")");
    if (!rc)
        rc = d->exec(J->dst, gl_buf_str(&q), J->err);
    gl_buf_release(&q);
    if (!rc)
        rc = d->commit(J->dst, J->err);
    if (rc) {
        d->rollback(J->dst);
        return failed_with(J);
    }
    return GL_OK;
}

/* The job's SELECT, run once for no rows: the source is reached, the
 * relation, the columns, the expressions and the where all hold. */
static int preflight(struct job *J)
{
    struct gl_buf q = GL_BUF_INIT;
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    int rc;

    gl_buf_addf(&q, "SELECT %s FROM %s", gl_buf_str(&J->list),
                gl_buf_str(&J->from));
    if (J->where.len)
        gl_buf_addf(&q, " WHERE %s", gl_buf_str(&J->where));
    gl_buf_addf(&q, " ORDER BY %s LIMIT 0", gl_buf_str(&J->order));
    rc = J->src->drv->query(J->src, gl_buf_str(&q), &c, J->err);
    gl_buf_release(&q);
    if (rc)
        return failed_with(J);
    rc = J->src->drv->next(c, &row, J->err);
    J->src->drv->cursor_close(c);
    return rc < 0 ? failed_with(J) : GL_OK;
}

int gl_sync_prepare(const struct gl_plan *p, const struct gl_sync_job *j,
                    const struct gl_sync_opts *o, gl_sync_exec **out,
                    struct gl_sync_result *res, struct gl_err *err)
{
    gl_sync_exec *x = calloc(1, sizeof(*x));
    struct job *J;
    int rc;

    *out = NULL;
    if (!x) {
        memset(res, 0, sizeof(*res));
        snprintf(res->job, sizeof(res->job), "%s", j->id.id);
        snprintf(res->error, sizeof(res->error), "out of memory");
        res->failed = 1;
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    J = &x->J;
    init_job(J, p, j, o, res, err);
    start_result(J, 1);
    if ((rc = open_system(J, j->to.system.id, &J->dst)) ||
        (rc = open_system(J, j->from.system.id, &J->src)))
        goto out;
    J->teng = engine_of(J->dst);
    if ((rc = job_lock(J)))
        goto out;
    if (J->dst->drv->describe(J->dst, j->to.table, &J->t, err)) {
        rc = failed_with(J);
        goto out;
    }
    if ((rc = build_plan(J)))
        goto out;
    and_cond(&J->where, j->where);
    if ((rc = preflight(J)))
        goto out;
    /* the load opens its own: a source lost meanwhile fails the job */
    gl_db_close(J->src);
    J->src = NULL;
out:
    if (rc) {
        res->failed = 1;
        if (!res->error[0])
            snprintf(res->error, sizeof(res->error), "%s",
                     err && err->msg[0] ? err->msg : "failed");
        res->seconds = gl_clock_mono() - J->t0;
        gl_clock_now(&res->ended);
        gl_sync_exec_free(x);
        return rc;
    }
    *out = x;
    return GL_OK;
}

int gl_sync_exec_clear(gl_sync_exec *x, struct gl_err *err)
{
    struct job *J = &x->J;
    const struct gl_db_driver *d = J->dst->drv;
    struct gl_buf q = GL_BUF_INIT;
    int rc;

    J->err = err;
    if ((rc = checkpoint_table(J)))
        return rc;
    if (d->begin(J->dst, err))
        return failed_with(J);
    gl_buf_adds(&q, "DELETE FROM ");
    d->quote_ident(J->j->to.table, &q);
    rc = d->exec(J->dst, gl_buf_str(&q), err);
    gl_buf_release(&q);
    /* emptied, nothing loaded: the checkpoint says the job has not
     * finished (--resume loads it from the start) */
    J->batch_no = 0;
    if (rc || (rc = write_checkpoint(J, 0)) || (rc = d->commit(J->dst, err))) {
        d->rollback(J->dst);
        return err && err->code ? err->code : GL_EIO;
    }
    return GL_OK;
}

void gl_sync_exec_free(gl_sync_exec *x)
{
    if (!x)
        return;
    release(&x->J); /* closing the target lets the job's lock go */
    free(x);
}

int gl_sync_run(const struct gl_plan *p, const struct gl_sync_job *j,
                const struct gl_sync_opts *o, struct gl_sync_result *res,
                struct gl_err *err)
{
    gl_sync_exec *x = NULL;
    int rc;

    if ((rc = gl_sync_prepare(p, j, o, &x, res, err)))
        return rc;
    rc = gl_sync_exec_run(x, res, err);
    gl_sync_exec_free(x);
    return rc;
}

int gl_sync_exec_run(gl_sync_exec *x, struct gl_sync_result *res,
                     struct gl_err *err)
{
    struct job *J = &x->J;
    const struct gl_sync_job *j = J->j;
    const struct gl_sync_opts *o = J->o;
    struct checkpoint cp;
    struct gl_buf resume = GL_BUF_INIT, wm = GL_BUF_INIT;
    int rc;
    size_t i;

    memset(&cp, 0, sizeof(cp));
    J->res = res;
    J->err = err;
    J->t0 = gl_clock_mono();
    start_result(J, 0);
    /* recorded from its start, before it reads or writes a row; when it
     * cannot be recorded it does not run */
    if (o->started && (rc = o->started(o->progress_ctx, res, err))) {
        snprintf(res->error, sizeof(res->error), "%s", err->msg);
        res->failed = 1;
        gl_clock_now(&res->ended);
        return rc;
    }
    if ((rc = open_system(J, j->from.system.id, &J->src)) ||
        (rc = checkpoint_table(J)) || (rc = read_checkpoint(J, &cp)))
        goto out;

    if (o->retry_rejects) {
        if (!cp.found || !cp.done) {
            rc = fail(J, GL_EREFUSED,
                      "the job has not finished; finish it (or --resume it) "
                      "before retrying its rejects");
            goto out;
        }
        if (cp.token[0])
            snprintf(J->token, sizeof(J->token), "%s", cp.token);
        J->batch_no = cp.batch;
        J->last_key = cp.last_key;
        cp.last_key = NULL;
        J->watermark = cp.watermark;
        cp.watermark = NULL;
        J->base_read = cp.read;
        J->base_written = cp.written;
        J->base_rejected = cp.rejected;
        J->base_bytes = cp.bytes;
        res->total = cp.read;
        rc = retry_rejects(J);
        goto finish;
    }

    if (cp.found && !cp.done && o->resume) {
        res->resumed = 1;
        snprintf(res->mode, sizeof(res->mode), "resume");
        J->batch_no = cp.batch;
        J->last_key = cp.last_key;
        cp.last_key = NULL;
        J->watermark = cp.watermark;
        cp.watermark = NULL;
        J->base_read = cp.read;
        J->base_written = cp.written;
        J->base_rejected = cp.rejected;
        J->base_bytes = cp.bytes;
        res->skipped = cp.read;
        if (J->last_key && after_key(J, J->last_key, &resume)) {
            rc = fail(J, GL_EIO, "the checkpoint's key %s is unreadable",
                      J->last_key);
            goto out;
        }
        /* the same chain of executions goes on */
        if (cp.token[0])
            snprintf(J->token, sizeof(J->token), "%s", cp.token);
        if ((rc = open_rejects(J, &cp)))
            goto out;
    } else if (cp.found && cp.done && o->resume) {
        /* finished already: nothing left to load */
        res->resumed = 1;
        snprintf(res->mode, sizeof(res->mode), "resume");
        res->skipped = cp.read;
        res->total = cp.read;
        goto finish_noop;
    } else {
        if (cp.found && !cp.done && !o->restart &&
            (j->mode == GL_SYNC_APPEND || j->mode == GL_SYNC_INCREMENTAL)) {
            rc = fail(J, GL_EREFUSED,
                      "an earlier execution stopped after batch %" PRId64
                      " (%" PRId64 " rows); continue it with --resume, or "
                      "start over with --restart",
                      cp.batch, cp.written);
            goto out;
        }
        if (cp.found && cp.done && !o->restart && j->mode == GL_SYNC_APPEND) {
            /* loading again would only duplicate what it loaded */
            snprintf(res->mode, sizeof(res->mode), "none");
            res->skipped = cp.read;
            res->total = cp.read;
            snprintf(res->note, sizeof(res->note),
                     "completed already (%" PRId64 " rows written, at %s): "
                     "nothing loaded; --restart loads every row again",
                     cp.written, cp.updated);
            goto finish_noop;
        }
        /* an append job loaded again meets the rows loaded before */
        J->dup_check = cp.found && j->mode == GL_SYNC_APPEND;
        J->fresh = 1;
        if ((rc = open_rejects(J, &cp)))
            goto out;
    }
    /* --restart reads from the beginning, and so does its --resume (its
     * checkpoint keeps no watermark): a watermark taken from the target
     * would hide every change dated before rows dated in the future */
    if (j->mode == GL_SYNC_INCREMENTAL && !o->restart &&
        !(res->resumed && !J->watermark)) {
        if ((rc = watermark_filter(J, &wm)))
            goto out;
        and_cond(&J->where, gl_buf_str(&wm));
    }
    if ((rc = count_source(J, gl_buf_str(&J->where))))
        goto out;
    if (j->disable_constraints) {
        /* SQLite checks no foreign keys by default: nothing to turn off,
         * but the rows are checked after the load all the same */
        if (J->dst->drv->constraints &&
            J->dst->drv->constraints(J->dst, j->to.table, 0, err)) {
            rc = failed_with(J);
            goto out;
        }
        J->constraints_off = 1;
    }
    rc = stream(J, gl_buf_str(&resume));
finish:
    if (!rc) {
        /* move identity counters past the loaded ids */
        for (i = 0; i < J->t.ncols && J->dst->drv->reset_identity; i++) {
            if (!J->t.cols[i].identity)
                continue;
            if (J->dst->drv->reset_identity(J->dst, j->to.table,
                                            J->t.cols[i].name, err)) {
                rc = failed_with(J);
                break;
            }
        }
    }
    if (!rc && limit_passed(J)) {
        char dups[200] = "";
        res->failed = 1;
        if (J->dups)
            snprintf(dups, sizeof(dups),
                     " (%" PRId64 " of them duplicate rows an earlier "
                     "execution loaded)",
                     J->dups);
        if (j->error_limit_pct)
            snprintf(res->error, sizeof(res->error),
                     "%" PRId64 " rejected rows%s passed the error limit of "
                     "%" PRId64 "%% of %" PRId64 "; see %.300s",
                     rejected_total(J), dups, j->error_limit, res->total,
                     res->rejects_file);
        else
            snprintf(res->error, sizeof(res->error),
                     "%" PRId64 " rejected rows%s passed the error limit of "
                     "%" PRId64 "; see %.300s",
                     rejected_total(J), dups, j->error_limit,
                     res->rejects_file);
    } else if (!rc && J->dups) {
        snprintf(res->note, sizeof(res->note),
                 "%" PRId64 " rejected rows duplicate rows an earlier "
                 "execution loaded",
                 J->dups);
    }
finish_noop:
out:
    if (J->constraints_off) {
        /* on again whatever happened; then the rows must satisfy them */
        int64_t bad = 0;
        struct gl_err e2;
        gl_err_clear(&e2);
        if (J->dst->drv->constraints &&
            J->dst->drv->constraints(J->dst, j->to.table, 1, &e2)) {
            if (!rc)
                rc = fail(J, e2.code, "cannot turn constraints on again: %s",
                          e2.msg);
        } else if (!rc && J->dst->drv->fk_violations) {
            if (J->dst->drv->fk_violations(J->dst, j->to.table, &bad, &e2))
                rc = fail(J, e2.code, "cannot check foreign keys: %s", e2.msg);
            else if (bad) {
                res->failed = 1;
                snprintf(res->error, sizeof(res->error),
                         "%" PRId64 " loaded rows violate a foreign key of "
                         "'%.200s'",
                         bad, j->to.table);
            }
        }
    }
    if (rc) {
        res->failed = 1;
        if (!res->error[0])
            snprintf(res->error, sizeof(res->error), "%s",
                     err && err->msg[0] ? err->msg : "failed");
    }
    res->seconds = gl_clock_mono() - J->t0;
    gl_clock_now(&res->ended);
    free(cp.last_key);
    free(cp.watermark);
    gl_buf_release(&resume);
    gl_buf_release(&wm);
    gl_db_close(J->src);
    J->src = NULL;
    return rc == GL_EREFUSED || rc == GL_EUSAGE || rc == GL_EIO ||
                   rc == GL_ENOMEM || rc == GL_ENOTFOUND
               ? rc
               : GL_OK;
}
