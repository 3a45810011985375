/*
 * mapping.h - how a sync job's column mapping is read, shared by the
 * engine (sync.c) and the online checks (online.c).
 */
#ifndef GOLIVE_SYNC_MAPPING_H
#define GOLIVE_SYNC_MAPPING_H

#include "golive/plan.h"

/* The mapping that fills target column target, or NULL (then the source
 * column of the same name fills it, unless ignored). */
const struct gl_colmap *gl_sync_mapping(const struct gl_sync_job *j,
                                        const char *target);

/* Whether source column src is listed under the job's 'ignore'. */
int gl_sync_ignored(const struct gl_sync_job *j, const char *src);

struct gl_db;
struct gl_table_desc;
struct gl_buf;
struct gl_err;

/* Append the job's source relation, in src's dialect, to b: its table
 * (quoted), or its query as "(query) golive_src".  Every SELECT on a
 * job's source reads it through this one spelling. */
void gl_sync_source_relation(const struct gl_sync_job *j,
                             const struct gl_db *src, struct gl_buf *b);

/* The job's source as a relation whose columns carry the names of the
 * target columns they fill, in the target's order: "(SELECT expr AS col,
 * ... FROM source [WHERE where]) golive_m", with renames, casts and
 * expressions as the sync writes them and value maps, defaults and
 * constants pushed down (CASE, COALESCE, literals), and zero dates and
 * infinities that the target dst cannot hold as NULL where the column
 * says 'unrepresentable: null'.  *cols (malloc'd
 * array; the names belong to t) lists the columns.  where replaces the
 * job's filter (NULL or "" for none). */
int gl_sync_mapped_relation(const struct gl_sync_job *j, struct gl_db *src,
                            const struct gl_db *dst,
                            const struct gl_table_desc *t, const char *where,
                            struct gl_buf *rel, const char ***cols,
                            size_t *ncols, struct gl_err *err);

#endif
