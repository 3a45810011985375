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

#endif
