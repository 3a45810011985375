/*
 * store-run.c - the run record of the state store: starting the run, the
 * plan versions (and their packed trees) and what the store knows of its
 * run.
 */
#include "golive/store.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "golive/scenario.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/crashpoint.h"
#include "util/sha256.h"

#include "run/store-internal.h"
#include "run/store-rows.h"

/* ---- the run --------------------------------------------------------- */

int gl_store_plan_tree_put(gl_store *s, int version, const char *sha,
                           const char *text, size_t len, struct gl_err *err)
{
    struct gl_buf tree = GL_BUF_INIT;
    sqlite3_stmt *st = NULL;
    int rc = GL_OK;

    /* a replay's projection leaves the cache out; a text that is not YAML
     * has no tree (the commands parse it and say why) */
    if (s->memory || gl_plan_pack(text, len, &tree) || gl_buf_failed(&tree))
        goto out;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO plan_trees (version,"
                           " sha256, tree) VALUES (?,?,?)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = gl_store_db_err(s, err, "cannot record the plan");
        goto out;
    }
    sqlite3_bind_int(st, 1, version);
    sqlite3_bind_text(st, 2, sha, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, tree.data, (int)tree.len, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = gl_store_db_err(s, err, "cannot record the plan");
out:
    sqlite3_finalize(st);
    gl_buf_release(&tree);
    return rc;
}

/* A packed tree is at most about 9 bytes per byte of its text ("a,"
 * makes a 16-byte record and "a\0"); one larger was not made by golive. */
#define PLAN_TREE_MAX(len) ((len)*10 + 4096)

int gl_store_plan_tree_kept(gl_store *s, const struct gl_run_info *info)
{
    sqlite3_stmt *st = NULL;
    int found;

    /* only a cache: any problem with it (a store without the table, a
     * value that is not a blob, one too large) means no tree */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT 1 FROM plan_trees WHERE version = ? AND"
                           " sha256 = ? AND typeof(tree) = 'blob' AND"
                           " length(tree) <= ?",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_int(st, 1, info->plan_version);
    sqlite3_bind_text(st, 2, info->plan_sha256, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)PLAN_TREE_MAX(info->plan_len));
    found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

int gl_store_plan_tree(gl_store *s, struct gl_run_info *info)
{
    sqlite3_blob *blob = NULL;

    free(info->plan_tree);
    info->plan_tree = NULL;
    info->plan_tree_len = 0;
    if (!gl_store_plan_tree_kept(s, info) ||
        sqlite3_blob_open(s->db, "main", "plan_trees", "tree",
                          info->plan_version, 0, &blob) != SQLITE_OK)
        return 0;
    info->plan_tree_len = (size_t)sqlite3_blob_bytes(blob);
    if (info->plan_tree_len > PLAN_TREE_MAX(info->plan_len) ||
        !(info->plan_tree = gl_big_alloc(info->plan_tree_len + 1)) ||
        sqlite3_blob_read(blob, info->plan_tree, (int)info->plan_tree_len, 0) !=
            SQLITE_OK) {
        free(info->plan_tree);
        info->plan_tree = NULL;
        info->plan_tree_len = 0;
    }
    sqlite3_blob_close(blob);
    return info->plan_tree != NULL;
}

/* mmap_size while gl_store_run_info reads: a plan's text is at most
 * YT_MAX_INPUT (32 MiB); the rest of the store is read as before */
#define MMAP_PLAN_READ "67108864"

/* The run's plan text against the event that introduced its version. */
static int check_plan_event(gl_store *s, const struct gl_run_info *info,
                            const char *payload, int64_t seq,
                            struct gl_err *err)
{
    char hex[GL_SHA256_HEX];
    json_t *j;
    json_error_t je;
    const char *sha;
    int ok;

    if (gl_sha256_hex(info->plan_text, info->plan_len, hex))
        return gl_err_set(err, GL_EINTERNAL, "cannot compute SHA-256");
    j = json_loads(payload, 0, &je);
    sha = j ? json_string_value(json_object_get(j, "plan_sha256")) : NULL;
    ok = sha && !strcmp(sha, hex) && !strcmp(info->plan_sha256, hex) &&
         json_integer_value(json_object_get(j, "plan_version")) ==
             info->plan_version;
    json_decref(j);
    if (ok)
        return GL_OK;
    return gl_err_set(err, GL_ESTORE,
                      "the store's copy of the plan does not match its event "
                      "(version %d, event %lld) in '%s'; the store was "
                      "edited: 'golive audit verify' lists every difference",
                      info->plan_version, (long long)seq, s->path);
}

void gl_store_run_row(sqlite3_stmt *st, struct gl_run_info *info)
{
    snprintf(info->run_id, sizeof(info->run_id), "%s",
             gl_store_col_text(st, 0));
    snprintf(info->cutover, sizeof(info->cutover), "%s",
             gl_store_col_text(st, 1));
    info->rehearsal = sqlite3_column_int(st, 2);
    info->switch_at = sqlite3_column_int64(st, 3);
    info->switch_offset = sqlite3_column_int(st, 4);
    snprintf(info->started_at, sizeof(info->started_at), "%s",
             gl_store_col_text(st, 5));
    info->plan_version = sqlite3_column_int(st, 6);
    snprintf(info->plan_sha256, sizeof(info->plan_sha256), "%s",
             gl_store_col_text(st, 7));
    snprintf(info->plan_path, sizeof(info->plan_path), "%s",
             gl_store_col_text(st, 8));
    info->events = sqlite3_column_int64(st, 9);
}

int gl_store_run_info(gl_store *s, struct gl_run_info *info, struct gl_err *err)
{
    sqlite3_blob *blob = NULL;
    sqlite3_stmt *st = NULL;
    int rc = GL_OK, step;

    memset(info, 0, sizeof(*info));
    /* The plan's text fills hundreds of pages: read them mapped rather
     * than through fresh page-cache memory (a page fault each, the most
     * expensive part of reading a large plan), for this read only. */
    sqlite3_exec(s->db, "PRAGMA mmap_size=" MMAP_PLAN_READ, NULL, NULL, NULL);
    if (sqlite3_prepare_v2(s->db,
                           "SELECT " GL_STORE_RUN_COLUMNS ","
                           " (SELECT payload FROM events WHERE kind IN"
                           " ('run.start', 'run.amend') ORDER BY seq DESC"
                           " LIMIT 1),"
                           " (SELECT seq FROM events WHERE kind IN"
                           " ('run.start', 'run.amend') ORDER BY seq DESC"
                           " LIMIT 1)"
                           " FROM run r JOIN plan_versions p"
                           " ON p.version = r.plan_version",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot read the run");
    step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        rc = gl_err_set(err, GL_ENOTFOUND,
                        "state store '%s' holds no run yet; start one with "
                        "'golive run start PLAN'",
                        s->path);
        goto out;
    }
    if (step != SQLITE_ROW) {
        rc = gl_store_db_err(s, err, "cannot read the run");
        goto out;
    }
    gl_store_run_row(st, info);
    /* The text straight into our buffer, in the statement's read
     * transaction: a column value would first be assembled in SQLite's
     * own buffer and copied, two fresh megabytes for a large plan. */
    if (sqlite3_blob_open(s->db, "main", "plan_versions", "text",
                          info->plan_version, 0, &blob) != SQLITE_OK) {
        rc = gl_store_db_err(s, err, "cannot read the run's plan");
        goto out;
    }
    info->plan_len = (size_t)sqlite3_blob_bytes(blob);
    /* huge pages: a fault per 4 KiB of a large plan otherwise */
    info->plan_text = gl_big_alloc(info->plan_len + 1);
    if (!info->plan_text) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto out;
    }
    if (sqlite3_blob_read(blob, info->plan_text, (int)info->plan_len, 0) !=
        SQLITE_OK) {
        rc = gl_store_db_err(s, err, "cannot read the run's plan");
        gl_run_info_release(info);
        goto out;
    }
    info->plan_text[info->plan_len] = '\0';
    /* plan_versions is a projection that can be edited: the plan the
     * commands act on (and the roles they grant) must be the one whose
     * SHA-256 the last run.start / run.amend event recorded */
    if ((rc = check_plan_event(s, info, gl_store_col_text(st, 10),
                               sqlite3_column_int64(st, 11), err)))
        gl_run_info_release(info);
out:
    sqlite3_blob_close(blob);
    sqlite3_finalize(st);
    sqlite3_exec(s->db, "PRAGMA mmap_size=0", NULL, NULL, NULL);
    return rc;
}

void gl_run_info_release(struct gl_run_info *info)
{
    free(info->plan_text);
    info->plan_text = NULL;
    free(info->plan_tree);
    info->plan_tree = NULL;
    info->plan_tree_len = 0;
}

void gl_store_bind_task(struct sqlite3_stmt *st, const struct gl_task *t,
                        int64_t seq)
{
    sqlite3_bind_text(st, 1, t->id.id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, gl_stage_name(t->stage), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, t->owner.id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, t->checker.id, -1, SQLITE_STATIC);
    if (t->has_at)
        sqlite3_bind_int64(st, 5, t->at);
    else
        sqlite3_bind_null(st, 5);
    if (t->has_duration)
        sqlite3_bind_int64(st, 6, t->duration);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_int64(st, 7, seq);
}

static int insert_tasks(gl_store *s, const struct gl_plan *p, int64_t seq,
                        struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    int rc = GL_OK;

    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO tasks (id, stage, owner, checker,"
                           " planned_at, duration, event_seq) VALUES"
                           " (?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot record tasks");
    for (i = 0; i < p->n_tasks; i++) {
        const struct gl_task *t = &p->tasks[i];
        sqlite3_reset(st);
        gl_store_bind_task(st, t, seq);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = gl_store_db_err(s, err, "cannot record tasks");
            break;
        }
        if (i == 0)
            gl_crashpoint();
    }
    sqlite3_finalize(st);
    return rc;
}

int gl_store_project_start(gl_store *s, const struct gl_plan *p,
                           const char *run_id, int rehearsal, const char *sha,
                           const char *plan_path, const char *text, size_t len,
                           const char *at, int64_t seq, int scenarios,
                           struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO run (id, run_id, cutover, rehearsal,"
                           " switch_at, switch_offset, started_at,"
                           " plan_version) VALUES (1,?,?,?,?,?,?,1)",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot record the run");
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->cutover, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, rehearsal);
    sqlite3_bind_int64(st, 4, p->switch_at);
    sqlite3_bind_int(st, 5, p->switch_offset);
    sqlite3_bind_text(st, 6, at, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = gl_store_db_err(s, err, "cannot record the run");
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    gl_crashpoint();
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO plan_versions (version, sha256, path,"
                           " text, taken_at, event_seq) VALUES"
                           " (1,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_store_db_err(s, err, "cannot record the plan");
    sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, plan_path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, text, (int)len, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, at, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, seq);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = gl_store_db_err(s, err, "cannot record the plan");
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    if ((rc = gl_store_plan_tree_put(s, 1, sha, text, len, err)))
        return rc;
    gl_crashpoint();
    if ((rc = insert_tasks(s, p, seq, err)))
        return rc;
    /* payload version 2: the scenario rows are made with the run (before,
     * they were made the first time a command needed them) */
    if (scenarios && (rc = gl_scenario_rows(s, p, err)))
        return rc;
    return GL_OK;
fail:
    sqlite3_finalize(st);
    return rc;
}

int gl_run_start(gl_store *s, const struct gl_plan *p, const char *text,
                 size_t len, const char *plan_path, int rehearsal,
                 const struct gl_actor *who, struct gl_run_info *info,
                 struct gl_err *err)
{
    unsigned char rnd[16];
    char run_id[33], sha[GL_SHA256_HEX];
    json_t *payload = NULL;
    char *ptext = NULL;
    int64_t seq = 0;
    int rc, i;

    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return gl_err_set(err, GL_EINTERNAL, "no random bytes for a run id");
    for (i = 0; i < 16; i++)
        snprintf(run_id + 2 * i, 3, "%02x", rnd[i]);
    if (gl_sha256_hex(text, len, sha))
        return gl_err_set(err, GL_EINTERNAL, "cannot compute SHA-256");

    if ((rc = gl_store_begin(s, err)))
        return rc;
    gl_crashpoint();
    if (gl_store_query_int(s, "SELECT count(*) FROM run") != 0) {
        struct gl_run_info old;
        gl_store_rollback(s);
        if (gl_store_run_info(s, &old, NULL) == GL_OK) {
            rc = gl_err_set(err, GL_EREFUSED,
                            "state store '%s' already holds %s run %s of "
                            "'%s' (started %s); one store holds one run: "
                            "name another with --state",
                            s->path, old.rehearsal ? "rehearsal" : "live",
                            old.run_id, old.cutover, old.started_at);
            gl_run_info_release(&old);
            return rc;
        }
        return gl_err_set(err, GL_EREFUSED,
                          "state store '%s' already holds a run", s->path);
    }
    payload =
        json_pack("{s:s, s:s, s:b, s:s, s:i, s:s, s:I, s:I, s:i}", "run_id",
                  run_id, "cutover", p->cutover, "rehearsal", rehearsal,
                  "plan_sha256", sha, "plan_version", 1, "plan_path", plan_path,
                  "switch_at", (json_int_t)p->switch_at, "tasks",
                  (json_int_t)p->n_tasks, "v", GL_PAYLOAD_VERSION);
    if (!payload ||
        !(ptext = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS))) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = gl_store_event(s, who, "run.start", ptext, &seq, err)))
        goto fail;
    gl_crashpoint();
    if ((rc = gl_store_project_start(s, p, run_id, rehearsal, sha, plan_path,
                                     text, len, s->event_at, seq, 1, err)))
        goto fail;
    gl_crashpoint();
    if ((rc = gl_store_commit(s, err)))
        goto fail;
    gl_crashpoint();
    free(ptext);
    json_decref(payload);
    return info ? gl_store_run_info(s, info, err) : GL_OK;
fail:
    gl_store_rollback(s);
    free(ptext);
    json_decref(payload);
    return rc;
}
