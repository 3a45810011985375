/*
 * relation.c - a sync job's source as SQL whose columns carry the target's
 * names (see mapping.h): what checks compare against the target.
 */
#include <stdlib.h>
#include <string.h>

#include "golive/db.h"
#include "sync/mapping.h"
#include "util/buf.h"

static void lit(struct gl_db *db, const char *s, struct gl_buf *b)
{
    struct gl_value v = {GL_TEXT, 0, 0, NULL, 0};

    if (!s) {
        gl_buf_adds(b, "NULL");
        return;
    }
    v.s = s;
    v.len = strlen(s);
    db->drv->quote_value(db, &v, b);
}

void gl_sync_source_relation(const struct gl_sync_job *j,
                             const struct gl_db *src, struct gl_buf *b)
{
    if (j->query)
        gl_buf_addf(b, "(%s) golive_src", j->query);
    else
        src->drv->quote_ident(j->from.table, b);
}

static int source_names(const struct gl_sync_job *j, struct gl_db *src,
                        char ***names, size_t *n, struct gl_err *err)
{
    struct gl_buf q = GL_BUF_INIT;
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    size_t i;
    int rc;

    gl_buf_adds(&q, "SELECT * FROM ");
    gl_sync_source_relation(j, src, &q);
    gl_buf_adds(&q, " WHERE 1 = 0");
    if (!(rc = gl_buf_check(&q, "the query", err)))
        rc = src->drv->query(src, gl_buf_str(&q), &c, err);
    gl_buf_release(&q);
    if (rc)
        return rc;
    *n = src->drv->ncols(c);
    *names = calloc(*n + 1, sizeof(char *));
    for (i = 0; *names && i < *n; i++)
        (*names)[i] = strdup(src->drv->col_name(c, i));
    src->drv->next(c, &row, err);
    src->drv->cursor_close(c);
    return *names ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory");
}

/* e, with the zero dates and infinities that the target cannot hold as
 * NULL, in the source's dialect (as sync stores them with
 * 'unrepresentable: null'; see gl_db_holds_special).  keep_inf: the
 * target holds infinities. */
static void null_specials(struct gl_db *src, int keep_inf, const char *e,
                          struct gl_buf *rel)
{
    const char *d = src->drv->name;

    if (!strcmp(d, "mysql"))
        gl_buf_addf(rel,
                    "CASE WHEN CAST(%s AS CHAR) REGEXP "
                    "'^[0-9]{4}-(00-[0-9]{2}|[0-9]{2}-00)' THEN NULL ELSE %s "
                    "END",
                    e, e);
    else if (!strcmp(d, "postgres") && !keep_inf)
        gl_buf_addf(rel,
                    "CASE WHEN CAST(%s AS text) IN ('infinity', '-infinity') "
                    "THEN NULL ELSE %s END",
                    e, e);
    else if (!strcmp(d, "sqlite"))
        gl_buf_addf(rel,
                    "CASE WHEN %s GLOB '[0-9][0-9][0-9][0-9]-00-*' OR %s GLOB "
                    "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-00*'%s%s%s THEN NULL "
                    "ELSE %s END",
                    e, e, keep_inf ? "" : " OR ", keep_inf ? "" : e,
                    keep_inf ? "" : " IN ('infinity', '-infinity')", e);
    else
        gl_buf_adds(rel, e);
}

int gl_sync_mapped_relation(const struct gl_sync_job *j, struct gl_db *src,
                            const struct gl_db *dst,
                            const struct gl_table_desc *t, const char *where,
                            struct gl_buf *rel, const char ***cols,
                            size_t *ncols, struct gl_err *err)
{
    const struct gl_db_driver *d = src->drv;
    char **names = NULL;
    size_t n = 0, i, k;
    int rc, any = 0;

    *cols = calloc(t->ncols + 1, sizeof(char *));
    *ncols = 0;
    if (!*cols)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    if ((rc = source_names(j, src, &names, &n, err)))
        return rc;
    gl_buf_adds(rel, "(SELECT ");
    for (i = 0; i < t->ncols; i++) {
        const char *tn = t->cols[i].name;
        const struct gl_colmap *m = gl_sync_mapping(j, tn);
        int have = 0;

        for (k = 0; k < n; k++)
            have |= !strcmp(names[k], tn);
        if (!m && (!have || gl_sync_ignored(j, tn)))
            continue;
        if (!strcmp(tn, "golive_checkpoint"))
            continue;
        if (any++)
            gl_buf_adds(rel, ", ");
        if (m && m->has_default)
            gl_buf_adds(rel, "COALESCE(");
        if (m && m->kind == GL_COL_VALUE) {
            lit(src, m->value, rel);
        } else {
            struct gl_buf e = GL_BUF_INIT;
            if (m && m->kind == GL_COL_EXPR) {
                gl_buf_addf(&e, "(%s)", m->expr);
            } else {
                if (m && m->cast)
                    gl_buf_adds(&e, "CAST(");
                d->quote_ident(m && m->source ? m->source : tn, &e);
                if (m && m->cast)
                    gl_buf_addf(&e, " AS %s)", m->cast);
            }
            if (m && m->n_map) {
                /* the value map, pushed down; codes it does not map give
                 * NULL (or 'else'), as the sync rejects them */
                gl_buf_addf(rel, "CASE %s", gl_buf_str(&e));
                for (k = 0; k < m->n_map; k++) {
                    gl_buf_adds(rel, " WHEN ");
                    lit(src, m->map[k].from, rel);
                    gl_buf_adds(rel, " THEN ");
                    lit(src, m->map[k].to, rel);
                }
                gl_buf_adds(rel, " ELSE ");
                lit(src, m->map_else, rel);
                gl_buf_adds(rel, " END");
            } else if (m && m->unrepresentable == GL_UNREP_NULL &&
                       t->cols[i].type != GL_TEXT) {
                struct gl_value inf = {GL_SPECIAL, 0, 0, "infinity", 8};
                null_specials(src,
                              gl_db_holds_special(dst, &inf, t->cols[i].type),
                              gl_buf_str(&e), rel);
            } else {
                gl_buf_adds(rel, gl_buf_str(&e));
            }
            if (gl_buf_failed(&e)) /* rel is not what it says */
                gl_buf_fail(rel, gl_buf_failed(&e));
            gl_buf_release(&e);
        }
        if (m && m->has_default) {
            gl_buf_adds(rel, ", ");
            lit(src, m->dflt, rel);
            gl_buf_adds(rel, ")");
        }
        gl_buf_adds(rel, " AS ");
        d->quote_ident(tn, rel);
        (*cols)[(*ncols)++] = tn;
    }
    gl_buf_adds(rel, " FROM ");
    gl_sync_source_relation(j, src, rel);
    if (where && *where)
        gl_buf_addf(rel, " WHERE (%s)", where);
    gl_buf_adds(rel, ") golive_m");
    for (k = 0; k < n; k++)
        free(names[k]);
    free(names);
    if (gl_buf_failed(rel))
        return gl_buf_check(rel, "the mapped relation", err);
    return any ? GL_OK
               : gl_err_set(err, GL_EUSAGE, "sync job '%s' fills no column",
                            j->id.id);
}
