/*
 * duty.c - the hypercare log and the patch plan (see golive/duty.h).
 */
#include "golive/duty.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "store-rows.h"
#include "golive/defect.h"

static int one_of(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(v, *set))
            return 1;
    return 0;
}

int gl_duty_log(gl_store *s, const struct gl_plan *p,
                const struct gl_actor *who, const char *channel,
                const char *kind, const char *text, const char *patch,
                int64_t *n, struct gl_err *err)
{
    static const char *const channels[] = {"phone", "chat", "ticket", NULL};
    static const char *const kinds[] = {"question", "defect", "request", NULL};
    sqlite3_stmt *st = NULL;
    char at[40];
    int64_t seq;
    int rc;

    if (!channel || !one_of(channel, channels))
        return gl_err_set(err, GL_EUSAGE, "--channel is phone, chat or ticket");
    if (!kind || !one_of(kind, kinds))
        return gl_err_set(err, GL_EUSAGE,
                          "--kind is question, defect or request");
    if (!text || !*text)
        return gl_err_set(err, GL_EUSAGE, "a duty entry needs its text");
    if (!gl_plan_person(p, who->person))
        return gl_err_set(err, GL_EREFUSED, "'%s' is not a person of the plan",
                          who->person);
    if ((rc = gl_store_begin(s, err)))
        return rc;
    if (sqlite3_prepare_v2(gl_store_db(s),
                           "SELECT COALESCE(max(n), 0) + 1 FROM duty", -1, &st,
                           NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        rc = gl_run_fail_db(s, err);
        goto fail;
    }
    *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if ((rc = gl_run_event(s, who, "duty.log",
                           json_pack("{s:I, s:s, s:s, s:s, s:s?}", "entry",
                                     (json_int_t)*n, "channel", channel, "kind",
                                     kind, "text", text, "patch", patch),
                           &seq, err)))
        goto fail;
    snprintf(at, sizeof(at), "%s", gl_store_event_at(s));
    if (sqlite3_prepare_v2(gl_store_db(s),
                           "INSERT INTO duty (n, at, actor, channel, kind,"
                           " text, patch, event_seq) VALUES"
                           " (?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = gl_run_fail_db(s, err);
        goto fail;
    }
    sqlite3_bind_int64(st, 1, *n);
    sqlite3_bind_text(st, 2, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, who->person, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, text, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, patch, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, seq);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    if (rc)
        goto fail;
    return gl_store_commit(s, err);
fail:
    gl_store_rollback(s);
    return rc;
}

/* Read entry n's text and defect (0 when none) inside a transaction. */
static int entry(gl_store *s, int64_t n, char **text, int64_t *defect,
                 struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (sqlite3_prepare_v2(gl_store_db(s),
                           "SELECT text, COALESCE(defect, 0) FROM duty"
                           " WHERE n = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_int64(st, 1, n);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *text = strdup((const char *)sqlite3_column_text(st, 0));
        *defect = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (step == SQLITE_DONE)
        return gl_err_set(err, GL_ENOTFOUND, "no duty entry H-%lld",
                          (long long)n);
    if (step != SQLITE_ROW)
        return gl_run_fail_db(s, err);
    return *text ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory");
}

static int set_col(gl_store *s, const char *sql, int64_t n, const char *text,
                   int64_t num, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(gl_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    if (text)
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, num);
    sqlite3_bind_int64(st, 2, n);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    return rc;
}

int gl_duty_defect(gl_store *s, const struct gl_plan *p,
                   const struct gl_actor *who, int64_t n, const char *severity,
                   const char *title, int64_t *defect, struct gl_err *err)
{
    char *text = NULL;
    int64_t existing = 0;
    int rc;

    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = entry(s, n, &text, &existing, err)))
        goto fail;
    if (existing) {
        rc = gl_err_set(err, GL_EREFUSED, "H-%lld is defect D-%lld already",
                        (long long)n, (long long)existing);
        goto fail;
    }
    if ((rc = gl_defect_open_in(s, p, who, NULL, severity,
                                title && *title ? title : text, n, defect,
                                err)) ||
        (rc = set_col(s, "UPDATE duty SET defect = ? WHERE n = ?", n, NULL,
                      *defect, err)))
        goto fail;
    free(text);
    return gl_store_commit(s, err);
fail:
    free(text);
    gl_store_rollback(s);
    return rc;
}

int gl_duty_patch(gl_store *s, const struct gl_plan *p,
                  const struct gl_actor *who, int64_t n, const char *patch,
                  struct gl_err *err)
{
    char *text = NULL, names[256];
    int64_t defect = 0;
    int rc;

    if (!patch || !*patch)
        return gl_err_set(err, GL_EUSAGE, "planning needs --patch NAME");
    if (!gl_run_has_role(p, who->person, GL_ROLE_LEAD | GL_ROLE_DEV))
        return gl_err_set(err, GL_EREFUSED,
                          "the lead or a dev plans a patch (%s)",
                          gl_run_names_with(p, GL_ROLE_LEAD | GL_ROLE_DEV,
                                            names, sizeof(names)));
    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = entry(s, n, &text, &defect, err)) ||
        (rc = gl_run_event(
             s, who, "duty.patch",
             json_pack("{s:I, s:s}", "entry", (json_int_t)n, "patch", patch),
             NULL, err)) ||
        (rc = set_col(s, "UPDATE duty SET patch = ? WHERE n = ?", n, patch, 0,
                      err)))
        goto fail;
    free(text);
    return gl_store_commit(s, err);
fail:
    free(text);
    gl_store_rollback(s);
    return rc;
}

int gl_duty_list(gl_store *s, json_t **out, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    *out = json_array();
    if (sqlite3_prepare_v2(gl_store_db(s),
                           "SELECT n, at, actor, channel, kind, text, defect,"
                           " patch FROM duty ORDER BY n",
                           -1, &st, NULL) != SQLITE_OK) {
        json_decref(*out);
        *out = NULL;
        return gl_run_fail_db(s, err);
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char id[32], def[32];
        snprintf(id, sizeof(id), "H-%lld",
                 (long long)sqlite3_column_int64(st, 0));
        snprintf(def, sizeof(def), "D-%lld",
                 (long long)sqlite3_column_int64(st, 6));
        json_array_append_new(
            *out,
            json_pack(
                "{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "id", id, "n",
                (json_int_t)sqlite3_column_int64(st, 0), "at",
                (const char *)sqlite3_column_text(st, 1), "actor",
                (const char *)sqlite3_column_text(st, 2), "channel",
                (const char *)sqlite3_column_text(st, 3), "kind",
                (const char *)sqlite3_column_text(st, 4), "text",
                (const char *)sqlite3_column_text(st, 5), "defect",
                sqlite3_column_type(st, 6) == SQLITE_NULL ? json_null()
                                                          : json_string(def),
                "patch",
                sqlite3_column_text(st, 7)
                    ? json_string((const char *)sqlite3_column_text(st, 7))
                    : json_null()));
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        json_decref(*out);
        *out = NULL;
        return gl_run_fail_db(s, err);
    }
    return GL_OK;
}

/* The entry of patches for name, made when first needed. */
static json_t *patch_entry(json_t *patches, const char *name)
{
    json_t *x;
    size_t i;

    json_array_foreach(patches, i, x)
    {
        if (!strcmp(json_string_value(json_object_get(x, "patch")), name))
            return x;
    }
    x = json_pack("{s:s, s:[], s:[]}", "patch", name, "defects", "requests");
    json_array_append_new(patches, x);
    return x;
}

int gl_patch_plan(gl_store *s, json_t **out, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *patches = json_array(), *unplanned = json_array();
    int step;

    *out = NULL;
    /* deferred defects, then duty entries: every entry planned into a
     * patch ('duty patch', whatever its kind) and every request not yet
     * planned, unless it became a defect that is deferred (listed as
     * that defect); each ordered by patch name */
    if (sqlite3_prepare_v2(gl_store_db(s),
                           "SELECT 'D', n, patch, severity, title FROM"
                           " defects WHERE state = 'deferred'"
                           " UNION ALL"
                           " SELECT 'H', n, patch, kind, text FROM duty"
                           " WHERE (patch IS NOT NULL OR kind = 'request')"
                           " AND (defect IS NULL OR defect NOT IN (SELECT n"
                           " FROM defects WHERE state = 'deferred'))"
                           " AND (patch IS NOT NULL OR defect IS NULL)"
                           " ORDER BY 3, 1, 2",
                           -1, &st, NULL) != SQLITE_OK)
        goto fail;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        const unsigned char *patch = sqlite3_column_text(st, 2);
        char id[32];
        snprintf(id, sizeof(id), "%s-%lld", kind,
                 (long long)sqlite3_column_int64(st, 1));
        if (*kind == 'D')
            json_array_append_new(
                json_object_get(patch_entry(patches, (const char *)patch),
                                "defects"),
                json_pack("{s:s, s:s, s:s}", "id", id, "severity",
                          (const char *)sqlite3_column_text(st, 3), "title",
                          (const char *)sqlite3_column_text(st, 4)));
        else
            json_array_append_new(
                patch
                    ? json_object_get(patch_entry(patches, (const char *)patch),
                                      "requests")
                    : unplanned,
                json_pack("{s:s, s:s, s:s}", "id", id, "kind",
                          (const char *)sqlite3_column_text(st, 3), "text",
                          (const char *)sqlite3_column_text(st, 4)));
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        goto fail;
    *out = json_pack("{s:o, s:o}", "patches", patches, "unplanned", unplanned);
    return GL_OK;
fail:
    json_decref(patches);
    json_decref(unplanned);
    return gl_run_fail_db(s, err);
}
