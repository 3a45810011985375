/*
 * rejects.c - a sync job's rejects file (rejects/JOB.csv): the rows a
 * batch could not take, with why; a batch's rejects wait in JOB.csv.pending
 * until the batch commits.  And --retry-rejects, which loads the rows the
 * file names again and takes out of it those that load.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sync/sync-internal.h"

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
        if (gl_buf_failed(&d))
            return sync_fail(J, GL_ENOMEM, "out of memory");
        dir = gl_buf_str(&d);
    }
    if (mk && mkdir(dir, 0777) && errno != EEXIST)
        rc = sync_fail(J, GL_EIO, "cannot create '%s': %s", dir,
                       strerror(errno));
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
 * line end.  0 at the end of the file, -1 when b failed (out of memory:
 * see gl_buf_failed). */
static int read_record(FILE *f, struct gl_buf *b)
{
    char *line = NULL;
    size_t cap = 0, quotes = 0, i;
    ssize_t n;

    gl_buf_reset(b);
    if (gl_buf_failed(b))
        return -1;
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
    if (gl_buf_failed(b))
        return -1;
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
    int first = 1, bad, d = 0;

    *dropped = 0;
    if (!(in = fopen(J->res->rejects_file, "r")))
        return GL_OK;
    snprintf(tmp, sizeof(tmp), "%s.tmp", J->res->rejects_file);
    if (!(out = fopen(tmp, "w"))) {
        fclose(in);
        return sync_fail(J, GL_EIO, "cannot write '%s': %s", tmp,
                         strerror(errno));
    }
    while (read_record(in, &rec) > 0) {
        if (!first && (d = drop(J, gl_buf_str(&rec))) > 0) {
            (*dropped)++;
            continue;
        }
        if (d < 0)
            break;
        first = 0;
        fwrite(rec.data, 1, rec.len, out);
        fputc('\n', out);
    }
    bad = ferror(in);
    fclose(in);
    bad |= fflush(out) != 0 || fsync(fileno(out)) != 0;
    if (gl_buf_failed(&rec) || d < 0) {
        /* the file stays as it was: never a record lost */
        gl_buf_release(&rec);
        fclose(out);
        unlink(tmp);
        return sync_fail(J, GL_ENOMEM, "out of memory");
    }
    gl_buf_release(&rec);
    if (fclose(out) || bad || (*dropped && rename(tmp, J->res->rejects_file))) {
        unlink(tmp);
        return sync_fail(J, GL_EIO, "cannot rewrite '%s': %s",
                         J->res->rejects_file, strerror(errno));
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
    while (read_record(in, &rec) > 0) {
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
    if (gl_buf_failed(&rec) || gl_buf_failed(&f) || gl_buf_failed(&keep) ||
        gl_buf_failed(&tail)) {
        rc = sync_fail(J, GL_ENOMEM, "out of memory"); /* left pending */
        goto out;
    }
    if (keep.len && !(out = fopen(J->res->rejects_file, "a+"))) {
        rc = sync_fail(J, GL_EIO, "cannot write '%s': %s", J->res->rejects_file,
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
            rc = sync_fail(J, GL_EIO, "cannot write '%s': %s",
                           J->res->rejects_file, strerror(errno));
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
int sync_open_rejects(struct job *J, const struct checkpoint *cp)
{
    struct gl_buf head = GL_BUF_INIT, first = GL_BUF_INIT;
    char pend[4300];
    FILE *f;
    int rc;

    if ((rc = rejects_path(J, 1)))
        return rc;
    rejects_header(J, &head);
    if (gl_buf_failed(&head)) {
        rc = sync_fail(J, GL_ENOMEM, "out of memory");
        goto out;
    }
    if ((f = fopen(J->res->rejects_file, "r"))) {
        int have = read_record(f, &first);
        fclose(f);
        if (have < 0) {
            rc = sync_fail(J, GL_ENOMEM, "out of memory");
            goto out;
        }
        if (have && strcmp(gl_buf_str(&first), gl_buf_str(&head))) {
            char aside[4400], *dot;
            snprintf(aside, sizeof(aside), "%s", J->res->rejects_file);
            dot = strrchr(aside, '.');
            if (dot)
                *dot = '\0';
            snprintf(aside + strlen(aside), sizeof(aside) - strlen(aside),
                     "-before-%s.csv", J->res->execution);
            if (rename(J->res->rejects_file, aside)) {
                rc = sync_fail(J, GL_EIO, "cannot move '%s' aside: %s",
                               J->res->rejects_file, strerror(errno));
                goto out;
            }
        }
    }
    J->rejects = fopen(J->res->rejects_file, "a");
    if (!J->rejects) {
        rc = sync_fail(J, GL_EIO, "cannot write '%s': %s", J->res->rejects_file,
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
        rc = sync_fail(J, GL_EIO, "cannot write '%s': %s", pend,
                       strerror(errno));
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
int sync_rejects_pending(struct job *J)
{
    if (gl_buf_failed(&J->inflight)) /* this batch's rejects are lost */
        return sync_fail(J, GL_ENOMEM, "out of memory");
    if (!J->pending || !J->inflight.len)
        return GL_OK;
    if (fwrite(J->inflight.data, 1, J->inflight.len, J->pending) !=
            J->inflight.len ||
        fflush(J->pending))
        return sync_fail(J, GL_EIO, "cannot write '%s.pending': %s",
                         J->res->rejects_file, strerror(errno));
    return GL_OK;
}

/* The batch committed: its rejects join the file. */
int sync_rejects_commit(struct job *J)
{
    int rc = GL_OK;

    if (!J->rejects || !J->inflight.len)
        return GL_OK;
    if (fwrite(J->inflight.data, 1, J->inflight.len, J->rejects) !=
            J->inflight.len ||
        fflush(J->rejects))
        rc = sync_fail(J, GL_EIO, "cannot write '%s': %s", J->res->rejects_file,
                       strerror(errno));
    else if (ftruncate(fileno(J->pending), J->pending_head) ||
             fseek(J->pending, J->pending_head, SEEK_SET))
        rc = sync_fail(J, GL_EIO, "cannot empty '%s.pending': %s",
                       J->res->rejects_file, strerror(errno));
    gl_buf_reset(&J->inflight);
    return rc;
}

void sync_write_reject(struct job *J, const struct row *r)
{
    struct gl_buf b = GL_BUF_INIT, *o = &J->inflight;
    size_t i;

    if (gl_buf_failed(o))
        return;
    gl_buf_addf(o, "%s,%" PRId64 ",", J->res->execution, J->batch_no);
    csv_field(o, r->reject, strlen(r->reject));
    for (i = 0; i < J->nsel; i++) {
        gl_buf_adds(o, ",");
        if (r->src[i].type == GL_NULL)
            continue; /* an empty field is NULL; "" is an empty string */
        gl_buf_reset(&b);
        gl_value_text(&r->src[i], &b);
        if (gl_buf_failed(&b)) {
            /* o fails too: the batch does not commit without its rejects */
            gl_buf_fail(o, gl_buf_failed(&b));
            break;
        }
        csv_field(o, gl_buf_str(&b), b.len);
    }
    gl_buf_adds(o, "\n");
    gl_buf_release(&b);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A record whose key loaded in this --retry-rejects (-1: out of
 * memory). */
static int now_loaded(struct job *J, const char *rec)
{
    struct gl_buf key = GL_BUF_INIT;
    const char *k;
    int hit;

    record_key(J, rec, &key);
    if (gl_buf_failed(&key))
        return -1;
    k = gl_buf_str(&key);
    hit = bsearch(&k, J->loaded, J->nloaded, sizeof(char *), cmp_str) != NULL;
    gl_buf_release(&key);
    return hit;
}

/* After a committed batch of --retry-rejects: the rows that loaded leave
 * the rejects file; the rest of it stays as it was. */
int sync_drop_loaded(struct job *J)
{
    size_t dropped;

    if (J->nsorted == J->nloaded)
        return GL_OK;
    qsort(J->loaded, J->nloaded, sizeof(char *), cmp_str);
    J->nsorted = J->nloaded;
    return rewrite_rejects(J, now_loaded, &dropped);
}

int sync_note_loaded(struct job *J, const struct row *r)
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
int sync_retry_rejects(struct job *J)
{
    struct gl_buf cond = GL_BUF_INIT, rec = GL_BUF_INIT, head = GL_BUF_INIT,
                  f = GL_BUF_INIT;
    char **keys = NULL;
    size_t nkeys = 0, capk = 0, i, k, distinct = 0;
    FILE *in;
    int rc = GL_OK, have;

    if ((rc = rejects_path(J, 0)))
        return rc;
    if (!(in = fopen(J->res->rejects_file, "r")))
        return sync_fail(J, GL_ENOTFOUND, "no rejects file '%s' to retry",
                         J->res->rejects_file);
    rejects_header(J, &head);
    have = gl_buf_failed(&head) ? -1 : read_record(in, &rec);
    if (have < 0) {
        fclose(in);
        rc = sync_fail(J, GL_ENOMEM, "out of memory");
        goto out;
    }
    if (have && strcmp(gl_buf_str(&rec), gl_buf_str(&head))) {
        fclose(in);
        rc = sync_fail(J, GL_EUSAGE,
                       "rejects file '%s' was written for other columns (its "
                       "header is not '%s')",
                       J->res->rejects_file, gl_buf_str(&head));
        goto out;
    }
    while (read_record(in, &rec) > 0) {
        struct gl_buf key = GL_BUF_INIT;
        if (nkeys == capk) {
            size_t cap = capk ? capk * 2 : 256;
            char **v = realloc(keys, cap * sizeof(*v));
            if (!v) {
                fclose(in);
                rc = sync_fail(J, GL_ENOMEM, "out of memory");
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
            rc = sync_fail(J, GL_ENOMEM, "out of memory");
            goto out;
        }
    }
    fclose(in);
    if (gl_buf_failed(&rec)) {
        rc = sync_fail(J, GL_ENOMEM, "out of memory");
        goto out;
    }
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
                if (gl_buf_add(&f, p, len))
                    break; /* f and cond are checked below */
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
        if (!(rc = sync_buf_check(J, &f)) && !(rc = sync_buf_check(J, &cond)) &&
            !(rc = sync_buf_check(J, &w)))
            rc = sync_stream(J, gl_buf_str(&w));
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
