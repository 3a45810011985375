/*
 * order.c - in which order sync jobs run (see golive/sync.h).
 */
#include <stdlib.h>
#include <string.h>

#include "golive/db.h"
#include "golive/sync.h"
#include "util/buf.h"
#include "sync/sync-internal.h"

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

int sync_same_table(const char *a, const char *b)
{
    const char *da = strrchr(a, '.'), *db = strrchr(b, '.');

    if (!strcmp(a, b))
        return 1;
    if (da && !db)
        return !strcmp(da + 1, b);
    if (db && !da)
        return !strcmp(a, db + 1);
    return 0;
}

static void free_names(char **v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int gl_sync_empty_blocker(const struct gl_plan *p,
                          const struct gl_sync_job *const *jobs, size_t n,
                          size_t i, char **blocker, struct gl_err *err)
{
    const struct gl_sync_job *j = jobs[i];
    const struct gl_system *s = gl_plan_system(p, j->to.system.id);
    struct gl_db *db = NULL;
    char **tables = NULL;
    size_t nt = 0, t, k;
    int rc;

    *blocker = NULL;
    if (!s || !s->url)
        return GL_OK;
    if ((rc = gl_db_open(s->url, p->dir, &db, err)))
        return rc;
    if (!db->drv->references || !db->drv->tables)
        goto out;
    if ((rc = db->drv->tables(db, &tables, &nt, err)))
        goto out;
    for (t = 0; t < nt && !*blocker; t++) {
        char **refs = NULL;
        size_t nr = 0, r;
        int refers = 0, emptied = 0;

        if (sync_same_table(tables[t], j->to.table))
            continue;
        if (db->drv->references(db, tables[t], &refs, &nr, NULL))
            nr = 0;
        for (r = 0; r < nr; r++)
            refers |= sync_same_table(refs[r], j->to.table);
        free_names(refs, nr);
        if (!refers)
            continue;
        for (k = 0; k < n; k++)
            emptied |= k != i && jobs[k]->mode == GL_SYNC_TRUNCATE &&
                       !strcmp(jobs[k]->to.system.id, j->to.system.id) &&
                       sync_same_table(jobs[k]->to.table, tables[t]);
        if (!emptied) {
            /* a referencing table without rows breaks nothing */
            struct gl_buf q = GL_BUF_INIT;
            struct gl_cursor *c = NULL;
            const struct gl_value *row;
            int has = 0;

            gl_buf_adds(&q, "SELECT 1 FROM ");
            db->drv->quote_ident(tables[t], &q);
            gl_buf_adds(&q, " LIMIT 1");
            if (gl_buf_failed(&q)) {
                rc = gl_buf_check(&q, "the query", err);
                gl_buf_release(&q);
                break;
            }
            if (!db->drv->query(db, gl_buf_str(&q), &c, NULL)) {
                has = db->drv->next(c, &row, NULL) == 1;
                db->drv->cursor_close(c);
            }
            gl_buf_release(&q);
            if (has && !(*blocker = strdup(tables[t])))
                rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        }
    }
out:
    free_names(tables, nt);
    gl_db_close(db);
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
    if ((rc = gl_buf_check(&q, "the query", err)) == GL_OK) {
        int64_t v = 0;
        /* no checkpoint table: no execution ever reached this target */
        if (!gl_db_query_int(db, gl_buf_str(&q), &v, NULL))
            *state = v == 0 ? -1 : v == 1 ? 0 : 1;
    }
    gl_buf_release(&q);
    gl_db_close(db);
    return rc;
}
