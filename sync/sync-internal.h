/*
 * sync-internal.h - what the files of the sync engine share (not a public
 * header: golive/sync.h is the interface).  The engine, in reading order:
 *
 *   sync.c        the job: one execution (prepare: lock, preflight; clear;
 *                 run: checkpoint, resume, error limit, constraints)
 *   source.c      the source SELECT: the column plan, the watermark, the
 *                 read that feeds the batches
 *   transform.c   a source row into target values (value maps, constants,
 *                 defaults, type fitting)
 *   batch.c       loading a batch: streamed into the target under a
 *                 savepoint, halved to find rejects, committed with its
 *                 checkpoint
 *   checkpoint.c  the checkpoint row in the target; typed keys in JSON
 *   rejects.c     the rejects file (pending until its batch commits), and
 *                 --retry-rejects
 */
#ifndef GOLIVE_SYNC_INTERNAL_H
#define GOLIVE_SYNC_INTERNAL_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "db/value.h"
#include "golive/db.h"
#include "golive/sync.h"
#include "sync/convert.h"
#include "util/arena.h"
#include "util/buf.h"

#define CHECKPOINT_TABLE "golive_checkpoint"

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
    int boundary;       /* incremental: its watermark equals the target's */
    int kept;           /* a boundary row whose key the target holds: the
                           target's row stays as it is */
};

/* One execution of a job: what its parts share. */
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
    /* incremental: 1 when a row's watermark equals the target's highest
     * (the boundary), read after the SELECT list; empty: no boundary */
    struct gl_buf boundary;
    int64_t kept; /* boundary rows left as the target holds them */
    /* incremental: W as the target holds it, and the colplan index of the
     * column filled from the watermark (wm_set 0: no W).  A row whose
     * target value is not above W is a boundary row, whatever the source's
     * own comparison said (see sync_at_boundary). */
    int wm_set;
    size_t wm_col;
    struct gl_value wm;
    char *wm_text; /* wm.s of a text W, owned */

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

struct checkpoint {
    int found, done;
    int64_t batch, read, written, rejected, bytes;
    char *last_key, *watermark;
    char updated[48];
    char token[64]; /* the execution chain (its first execution's id) */
};

/* ---- sync.c: the job ------------------------------------------------- */

/* The job fails: the message goes to J->res->error and, with the job's
 * name, to J->err.  Returns code. */
int sync_fail(struct job *J, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The job failed with J->err already set by a lower layer. */
int sync_failed_with(struct job *J);

/* GL_OK when no append to b failed (see gl_buf_failed); else the job
 * fails (GL_ENOMEM).  Every statement the job builds is checked so before
 * it runs. */
int sync_buf_check(struct job *J, const struct gl_buf *b);

/* Whether a row's target value v of the watermark column is not above
 * the target's W (J->wm): 1 when it is not (a boundary row), 0 when it is
 * above or the two cannot be compared. */
int sync_at_boundary(const struct job *J, const struct gl_value *v);

/* ---- source.c: the source SELECT ------------------------------------- */

/* The column plan, the SELECT list and the ORDER BY of the job, from its
 * mapping and the target's description (J->t). */
int sync_build_plan(struct job *J);

/* res->total: the source rows the job reads (where: its condition). */
int sync_count_source(struct job *J, const char *where);

/* The incremental watermark as a source condition, appended to cond:
 * rows at or above the target's highest value.  Rows at it (the
 * boundary, J->boundary) are read again but only inserted when their key
 * is missing from the target. */
int sync_watermark_filter(struct job *J, struct gl_buf *cond);

/* Append " AND (cond)" (or "(cond)" to an empty w); nothing for "". */
void sync_and_cond(struct gl_buf *w, const char *cond);

/* Read the source in key order into batches (extra_where: the resume
 * point or the retried keys). */
int sync_stream(struct job *J, const char *extra_where);

/* The job's SELECT, run once for no rows. */
int sync_preflight(struct job *J);

/* ---- checkpoint.c: the checkpoint, typed keys in JSON ---------------- */

/* A typed value as {"t": type, "v": text}, and back (into a). */
json_t *sync_value_to_json(const struct gl_value *v);
int sync_value_from_json(json_t *o, struct gl_arena *a, struct gl_value *v);

/* "(k1, k2) > (v1, v2)" in the source dialect, from a checkpoint key. */
int sync_after_key(struct job *J, const char *key_json, struct gl_buf *out);

/* A row's key as a JSON array of typed values (malloc'd; NULL when out
 * of memory). */
char *sync_key_json(struct job *J, const struct row *r);

/* Create the checkpoint table in the target when missing. */
int sync_checkpoint_table(struct job *J);

/* s as a text literal of db (NULL: NULL), appended to b. */
void sync_quote_text(struct job *J, struct gl_db *db, const char *s,
                     struct gl_buf *b);

/* The job's checkpoint row, when the target holds one. */
int sync_read_checkpoint(struct job *J, struct checkpoint *cp);

/* Rows the rejects file holds, counted over the execution chain. */
int64_t sync_rejected_total(const struct job *J);

/* Write the checkpoint row (inside the batch's transaction). */
int sync_write_checkpoint(struct job *J, int done);

/* ---- rejects.c: the rejects file and --retry-rejects ----------------- */

/* Open the rejects file for this execution (after what a killed one left
 * pending). */
int sync_open_rejects(struct job *J, const struct checkpoint *cp);

/* Before the batch commits: its rejects wait in the pending file. */
int sync_rejects_pending(struct job *J);

/* The batch committed: its rejects join the file. */
int sync_rejects_commit(struct job *J);

/* A rejected row into the batch's rejects (J->inflight). */
void sync_write_reject(struct job *J, const struct row *r);

/* --retry-rejects: a row that loaded, noted; after the batch commits,
 * the rows that loaded leave the rejects file. */
int sync_note_loaded(struct job *J, const struct row *r);
int sync_drop_loaded(struct job *J);

/* --retry-rejects: load the rows the rejects file names again. */
int sync_retry_rejects(struct job *J);

/* ---- transform.c: source values into target values ------------------- */

/* Fill r->dst from r->src; a value that cannot be mapped or fitted makes
 * the row a reject.  -1 when memory runs out. */
int sync_transform(struct job *J, struct row *r);

/* ---- batch.c: loading a batch ---------------------------------------- */

/* Take one source row into the batch (and into the open load): 0, -1 out
 * of memory, -2 the batch could not be opened (J->err says why). */
int sync_add_row(struct job *J, const struct gl_value *src);

/* Whether the rejects passed the job's error limit. */
int sync_limit_passed(struct job *J);

/* "schema.table" and "table" name the same table when one has no schema
 * (order.c; the preflight of emptying, schedule.c, asks it too). */
int sync_same_table(const char *a, const char *b);

/* Commit the batch: rows, rejects, checkpoint, in one transaction. */
int sync_flush_batch(struct job *J, int last);

#endif
