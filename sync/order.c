/*
 * order.c - in which order sync jobs run (see golive/sync.h).
 */
#include <stdlib.h>
#include <string.h>

#include "golive/db.h"
#include "golive/sync.h"
#include "util/buf.h"

/* Whether k is reachable from i over dep (n x n). */
static int reaches(const unsigned char *dep, size_t n, size_t i, size_t k)
{
    size_t *stack = malloc((n + 1) * sizeof(*stack)), sp = 0, v, w;
    unsigned char *seen = calloc(n + 1, 1);
    int found = 0;

    if (!stack || !seen) {
        free(stack);
        free(seen);
        return 1; /* unsure: report a cycle, so no edge is added */
    }
    stack[sp++] = i;
    seen[i] = 1;
    while (sp && !found) {
        v = stack[--sp];
        for (w = 0; w < n; w++) {
            if (!dep[v * n + w] || seen[w])
                continue;
            if (w == k) {
                found = 1;
                break;
            }
            seen[w] = 1;
            stack[sp++] = w;
        }
    }
    free(stack);
    free(seen);
    return found;
}

int gl_sync_dependencies(const struct gl_plan *p,
                         const struct gl_sync_job *const *jobs, size_t n,
                         unsigned char *dep, struct gl_err *err)
{
    size_t i, k, a;
    int rc = GL_OK;

    (void)err;
    memset(dep, 0, n * n);
    for (i = 0; i < n; i++)
        for (a = 0; a < jobs[i]->after.n; a++)
            for (k = 0; k < n; k++)
                if (k != i && !strcmp(jobs[k]->id.id, jobs[i]->after.v[a].id))
                    dep[i * n + k] = 1;
    /* foreign keys between targets on one system: the referenced table
     * loads first, unless 'after' says otherwise */
    for (i = 0; i < n; i++) {
        const struct gl_system *s = gl_plan_system(p, jobs[i]->to.system.id);
        struct gl_db *db = NULL;
        char **refs = NULL;
        size_t nrefs = 0, r;

        if (!s || !s->url)
            continue;
        if (gl_db_open(s->url, p->dir, &db, NULL))
            continue; /* the job reports it when it runs */
        if (db->drv->references &&
            db->drv->references(db, jobs[i]->to.table, &refs, &nrefs, NULL))
            nrefs = 0;
        gl_db_close(db);
        for (r = 0; r < nrefs; r++) {
            for (k = 0; k < n; k++)
                if (k != i &&
                    !strcmp(jobs[k]->to.system.id, jobs[i]->to.system.id) &&
                    !strcmp(jobs[k]->to.table, refs[r]) &&
                    !reaches(dep, n, k, i))
                    dep[i * n + k] = 1;
            free(refs[r]);
        }
        free(refs);
    }
    return rc;
}

int gl_sync_checkpoint_state(const struct gl_plan *p,
                             const struct gl_sync_job *j, int *state,
                             struct gl_err *err)
{
    const struct gl_system *s = gl_plan_system(p, j->to.system.id);
    struct gl_buf q = GL_BUF_INIT;
    struct gl_value id = {GL_TEXT, 0, 0, NULL, 0};
    struct gl_db *db = NULL;
    int rc;

    *state = -1;
    if (!s || !s->url)
        return GL_OK;
    if ((rc = gl_db_open(s->url, p->dir, &db, err)))
        return rc;
    id.s = j->id.id;
    id.len = strlen(j->id.id);
    gl_buf_adds(&q, "SELECT count(*) + coalesce(max(done), 0) FROM "
                    "golive_checkpoint WHERE job = ");
    db->drv->quote_value(db, &id, &q);
    {
        int64_t v = 0;
        /* no checkpoint table: no execution ever reached this target */
        if (!gl_db_query_int(db, gl_buf_str(&q), &v, NULL))
            *state = v == 0 ? -1 : v == 1 ? 0 : 1;
    }
    gl_buf_release(&q);
    gl_db_close(db);
    return rc;
}
