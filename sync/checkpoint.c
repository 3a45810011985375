/*
 * checkpoint.c - a sync job's checkpoint, a row in the target written in
 * each batch's transaction (the last committed key, the counts, the
 * execution chain), and the typed values in JSON that its keys and the
 * watermark are kept as.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/sync-internal.h"
#include "util/clock.h"

json_t *sync_value_to_json(const struct gl_value *v)
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
    /* NULL when out of memory: never a key cut short */
    o = gl_buf_failed(&b)
            ? NULL
            : json_pack("{s:s, s:s%}", "t", gl_vtype_name(v->type), "v",
                        gl_buf_str(&b), b.len);
    gl_buf_release(&b);
    return o;
}

int sync_value_from_json(json_t *o, struct gl_arena *a, struct gl_value *v)
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
        if (gl_hex_decode(s, len, &b) || gl_buf_failed(&b)) {
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
int sync_after_key(struct job *J, const char *key_json, struct gl_buf *out)
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
        if (sync_value_from_json(json_array_get(arr, i), &a, &v))
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
    rc = gl_buf_failed(&vals) || gl_buf_failed(out) ? -1 : 0;
out:
    json_decref(arr);
    gl_buf_release(&vals);
    gl_arena_release(&a);
    return rc;
}

int sync_checkpoint_table(struct job *J)
{
    if (J->dst->drv->exec(J->dst, GL_SYNC_CHECKPOINT_DDL, J->err))
        return sync_failed_with(J);
    return GL_OK;
}

void sync_quote_text(struct job *J, struct gl_db *db, const char *s,
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

int sync_read_checkpoint(struct job *J, struct checkpoint *cp)
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
    sync_quote_text(J, J->dst, J->j->id.id, &q);
    if ((r = sync_buf_check(J, &q))) {
        gl_buf_release(&q);
        return r;
    }
    r = J->dst->drv->query(J->dst, gl_buf_str(&q), &c, J->err);
    gl_buf_release(&q);
    if (r)
        return sync_failed_with(J);
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
    return r < 0 ? sync_failed_with(J) : GL_OK;
}

/* Rows the job's rejects file holds by the count of its execution chain:
 * a --retry-rejects takes off the rows that loaded (the rows that still
 * fail were counted already). */
int64_t sync_rejected_total(const struct job *J)
{
    int64_t n;

    if (!J->o->retry_rejects)
        return J->base_rejected + J->res->rejected;
    n = J->base_rejected - J->res->written;
    return n > 0 ? n : 0;
}

/* Write the checkpoint row (inside the batch's transaction). */
int sync_write_checkpoint(struct job *J, int done)
{
    struct gl_buf q = GL_BUF_INIT;
    char at[40];
    int rc;

    gl_clock_now_iso(at);
    gl_buf_adds(&q, "DELETE FROM " CHECKPOINT_TABLE " WHERE job = ");
    sync_quote_text(J, J->dst, J->j->id.id, &q);
    if ((rc = sync_buf_check(J, &q))) {
        gl_buf_release(&q);
        return rc;
    }
    rc = J->dst->drv->exec(J->dst, gl_buf_str(&q), J->err);
    gl_buf_reset(&q);
    if (rc)
        goto out;
    gl_buf_adds(&q, "INSERT INTO " CHECKPOINT_TABLE
                    " (job, token, batch, last_key, watermark, rows_read,"
                    " rows_written, rows_rejected, bytes, done, updated_at)"
                    " VALUES (");
    sync_quote_text(J, J->dst, J->j->id.id, &q);
    gl_buf_adds(&q, ", ");
    sync_quote_text(J, J->dst, J->token, &q);
    gl_buf_addf(&q, ", %" PRId64 ", ", J->batch_no);
    sync_quote_text(J, J->dst, J->last_key, &q);
    gl_buf_adds(&q, ", ");
    sync_quote_text(J, J->dst, J->watermark, &q);
    gl_buf_addf(&q,
                ", %" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 ", %d, ",
                J->base_read + J->res->read, J->base_written + J->res->written,
                sync_rejected_total(J), J->base_bytes + J->res->bytes, done);
    sync_quote_text(J, J->dst, at, &q);
    gl_buf_adds(&q, ")");
    if ((rc = sync_buf_check(J, &q))) {
        gl_buf_release(&q);
        return rc;
    }
    rc = J->dst->drv->exec(J->dst, gl_buf_str(&q), J->err);
out:
    gl_buf_release(&q);
    return rc ? sync_failed_with(J) : GL_OK;
}

char *sync_key_json(struct job *J, const struct row *r)
{
    json_t *arr = json_array();
    size_t i;
    char *s = NULL;

    /* every part or none: a key cut short would resume elsewhere */
    for (i = 0; arr && i < J->nkey; i++)
        if (json_array_append_new(arr, sync_value_to_json(&r->src[i])))
            goto out;
    s = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
out:
    json_decref(arr);
    return s;
}
