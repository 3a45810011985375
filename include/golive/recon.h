/*
 * recon.h - reconciliation: are old and new the same, row by row?
 *
 * Both sides stream in key order (bytewise order forced on each engine),
 * are merged in C.  A row whose values arrive identical on both sides
 * (same type, same bytes) is equal as it stands; any other row's
 * canonical encoding (recon/canon.h) is hashed with XXH3 on each side,
 * and rows whose hashes differ are compared column by column.  Memory
 * stays flat whatever the table size.
 */
#ifndef GOLIVE_RECON_H
#define GOLIVE_RECON_H

#include <stdint.h>
#include <stdio.h>

#include "golive/db.h"
#include "golive/golive.h"

struct gl_buf;

struct gl_diff_item {
    /* "missing", "extra", "changed", "duplicate", "null_key" (a row with a
     * NULL in a key column: no key, so never matched, on any engine) */
    const char *op;
    const char *side; /* for duplicates and null keys: "source", "target" */
    const char *const *key_names;
    const struct gl_value *key; /* nkey values */
    size_t nkey;
    const char *const *changed; /* changed column names (the source's) */
    size_t nchanged;
    /* changed: each changed column's value on each side (NULL when the
     * comparison ran inside the database and has none) */
    const struct gl_value *src_vals, *dst_vals;
};

/* One side: a relation (a quoted table, or "(query) alias") in db, with
 * its own filter.  Keys and columns are named as the relation names them. */
struct gl_diff_side {
    struct gl_db *db;
    const char *relation;
    const char *where; /* NULL: all rows */
    const char *table; /* the real table, for fix SQL (target only) */
    const enum gl_vtype *key_types; /* per key; text keys sort bytewise */
    const char *const *col_decl;    /* per column, declared type or NULL */
    /* The side's own names of the keys and columns (NULL: the options'
     * names), when the target renamed them (diff --map). */
    const char *const *key_names;
    const char *const *col_names;
    /* Target: the type of each key, then of each column (GL_NULL:
     * unknown), so that fix SQL writes values of the column's own type (a
     * timestamptz literal for a timestamptz column, whatever the source
     * kept). */
    const enum gl_vtype *col_types;
    /* Where more connections to the side come from (gl_diff_run_jobs:
     * one per segment); relative sqlite: paths are under dir (NULL:
     * "."). NULL url: the side is compared on db alone. */
    const char *url;
    const char *dir;
};

struct gl_diff_opts {
    const char *const *key; /* key columns */
    size_t nkey;
    const char *const *cols; /* compared columns (not keys) */
    size_t ncols;
    int float_digits; /* 0: 15 */
    int time_unit;    /* microseconds per unit: 1 (default), 1000, 1e6 */
    int rtrim;
    int64_t max_diffs; /* 0: no limit */
    FILE *fix_sql;     /* NULL: none */
    /* Where fix SQL's INSERTs go (NULL: fix_sql): the caller appends them
     * after every DELETE, so a key that differs only by case (or by what
     * the target's collation ignores) is deleted before it is inserted. */
    FILE *fix_sql_inserts;
    /* Per column (NULL: none): a source zero date or infinity that the
     * target cannot hold compares as NULL, as sync stored it (a sync
     * job's `unrepresentable: null`). */
    const int *unrep_null;
    void (*on_diff)(void *ctx, const struct gl_diff_item *d);
    void *ctx;
};

struct gl_diff_result {
    int64_t source_rows, target_rows;
    int64_t missing, extra, changed, duplicates;
    int64_t null_keys; /* rows with a NULL in a key column, both sides */
    double seconds;
    int stopped; /* --max-diffs was reached */
};

/* Compare src with dst.  GL_OK when the comparison ran (the result says
 * whether they differ); another code with err set otherwise. */
int gl_diff_run(const struct gl_diff_side *src, const struct gl_diff_side *dst,
                const struct gl_diff_opts *o, struct gl_diff_result *res,
                struct gl_err *err);

/* gl_diff_run in `jobs` key-range segments (gl_diff_bounds), each on a
 * thread and a connection to each side of its own (the sides' url and
 * dir), the results added up (seconds: the longest segment's).  o->on_diff
 * is called one segment at a time.  jobs <= 1, or a side without a url:
 * gl_diff_run as it is.  The same codes as gl_diff_run. */
int gl_diff_run_jobs(const struct gl_diff_side *src,
                     const struct gl_diff_side *dst,
                     const struct gl_diff_opts *o, int jobs,
                     struct gl_diff_result *res, struct gl_err *err);

/* How many jobs a diff takes when none are asked for: 1 streaming (the
 * servers are the bottleneck, see bench/diff.sh), every core up to 4 when
 * one connection compares inside the database (attached). */
int gl_diff_default_jobs(int attached);

/* The default key of a diff: src's primary key (up to cap columns, into
 * out; the names are src's).  Returns how many (0: it has none). */
size_t gl_diff_default_keys(const struct gl_table_desc *src, const char **out,
                            size_t cap);

/* The compared columns (not keys) of a diff, into out (up to cap; the
 * names are borrowed): named[0..nnamed) without the keys (a key named
 * among the columns is compared as the key it is, once: fix SQL would
 * insert it twice); named NULL: every column of src that is not a key
 * and that dst has (under map(map_ctx, name) when map is given; any when
 * dst is NULL).  Returns how many. */
size_t gl_diff_columns(const char *const *keys, size_t nkey,
                       const char *const *named, size_t nnamed,
                       const struct gl_table_desc *src,
                       const struct gl_table_desc *dst,
                       const char *(*map)(void *ctx, const char *col),
                       void *map_ctx, const char **out, size_t cap);

/* Keys that cut src into n segments of about equal size: bounds[0..n-1)
 * get JSON texts (malloc'd; NULL when the table is too small to cut).
 * One count and n - 1 LIMITed reads. */
int gl_diff_bounds(const struct gl_diff_side *src, const struct gl_diff_opts *o,
                   int n, char **bounds, struct gl_err *err);

/* Append "key >= bound" (op ">=" or "<"), in side's dialect and key
 * order, to out.  0 or -1 when the bound is unreadable or an append to
 * out failed (see gl_buf_failed). */
int gl_diff_range(const struct gl_diff_side *side, const struct gl_diff_opts *o,
                  const char *bound, const char *op, struct gl_buf *out);

/* Two tables one connection can reach, compared inside the database:
 * with dst_path (SQLite) that file is attached to a connection on
 * src_url, else src_url's server reaches both tables as named (one
 * PostgreSQL database; "db.table" on one MySQL server).  Joins return the
 * candidate rows, confirmed with the canonical comparison; jobs segments
 * run on connections of their own.  src / dst describe the sides as for
 * gl_diff_run (their db is only used for quoting).  No fix SQL and no duplicate
 * check: callers use gl_diff_run for those. */
int gl_diff_attached(const char *src_url, const char *src_table,
                     const char *dst_path, const char *dst_table,
                     const struct gl_diff_side *src,
                     const struct gl_diff_side *dst,
                     const struct gl_diff_opts *o, int jobs,
                     struct gl_diff_result *res, struct gl_err *err);

#endif
