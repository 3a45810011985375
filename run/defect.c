/*
 * defect.c - defects (see golive/defect.h): a row each in the store's
 * defects table, every change an event in the same transaction.
 */
#include "golive/defect.h"
#include "golive/audit.h"

#include "common.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gl_defect_open_in(gl_store *s, const struct gl_plan *p,
                      const struct gl_actor *who, const char *scenario,
                      const char *severity, const char *title, int64_t duty,
                      int64_t *n, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    int64_t seq;
    size_t i;
    int rc;

    if (!gl_defect_rank(severity))
        return gl_err_set(err, GL_EUSAGE,
                          "severity is blocker, major or minor, not '%s'",
                          severity);
    if (!title || !*title)
        return gl_err_set(err, GL_EUSAGE, "a defect needs a title");
    if (scenario) {
        for (i = 0; i < p->n_scenarios; i++)
            if (!strcmp(p->scenarios[i].id.id, scenario))
                break;
        if (i == p->n_scenarios)
            return gl_err_set(err, GL_EUSAGE, "no scenario '%s' in the plan",
                              scenario);
    }
    *n = 1;
    if (sqlite3_prepare_v2(gl_store_db(s),
                           "SELECT COALESCE(max(n), 0) + 1 FROM defects", -1,
                           &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return gl_run_fail_db(s, err);
    }
    *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if ((rc = gl_run_event(
             s, who, "defect.open",
             json_pack("{s:I, s:s?, s:s, s:s, s:o}", "defect", (json_int_t)*n,
                       "scenario", scenario, "severity", severity, "title",
                       title, "duty", duty ? json_integer(duty) : json_null()),
             &seq, err)))
        return rc;
    if (sqlite3_prepare_v2(gl_store_db(s),
                           "INSERT INTO defects (n, scenario, severity,"
                           " title, state, opened_by, event_seq) VALUES"
                           " (?, ?, ?, ?, 'open', ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_run_fail_db(s, err);
    sqlite3_bind_int64(st, 1, *n);
    sqlite3_bind_text(st, 2, scenario, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, severity, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, who->person, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, seq);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    return rc;
}

int gl_defect_open(gl_store *s, const struct gl_plan *p,
                   const struct gl_actor *who, const char *scenario,
                   const char *severity, const char *title, int64_t *n,
                   struct gl_err *err)
{
    int rc;

    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_defect_open_in(s, p, who, scenario, severity, title, 0, n,
                                err))) {
        gl_store_rollback(s);
        return rc;
    }
    return gl_store_commit(s, err);
}

int gl_defect_move(gl_store *s, const struct gl_plan *p,
                   const struct gl_actor *who, int64_t n, const char *action,
                   const char *patch, const char **to, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    char state[16] = "", fixer[128] = "", severity[16] = "";
    const char *next = NULL, *me = who->person;
    const struct gl_person *pe = gl_plan_person(p, me);
    unsigned roles = pe ? pe->roles : 0;
    int64_t seq;
    int rc, step;

    *to = NULL;
    if ((rc = gl_store_begin(s, err)))
        return rc;
    if (sqlite3_prepare_v2(gl_store_db(s),
                           "SELECT state, COALESCE(fixer, ''), severity"
                           " FROM defects WHERE n = ?",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = gl_run_fail_db(s, err);
        goto fail;
    }
    sqlite3_bind_int64(st, 1, n);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        snprintf(state, sizeof(state), "%s", sqlite3_column_text(st, 0));
        snprintf(fixer, sizeof(fixer), "%s", sqlite3_column_text(st, 1));
        snprintf(severity, sizeof(severity), "%s", sqlite3_column_text(st, 2));
    }
    sqlite3_finalize(st);
    if (step != SQLITE_ROW) {
        rc = step == SQLITE_DONE ? gl_err_set(err, GL_ENOTFOUND,
                                              "no defect D-%lld", (long long)n)
                                 : gl_run_fail_db(s, err);
        goto fail;
    }
    {
        char key[32];
        snprintf(key, sizeof(key), "%lld", (long long)n);
        if ((rc = gl_audit_check_row(s, "defects", key, err)))
            goto fail;
    }
#define REFUSE(...)                                                            \
    do {                                                                       \
        rc = gl_err_set(err, GL_EREFUSED, __VA_ARGS__);                        \
        goto fail;                                                             \
    } while (0)
    if (!strcmp(action, "fixing") || !strcmp(action, "fixed")) {
        if (!(roles & GL_ROLE_DEV))
            REFUSE("devs fix defects; %s is not a dev", me);
        if (!strcmp(action, "fixing") && strcmp(state, "open") &&
            strcmp(state, "reopened"))
            REFUSE("D-%lld is %s; only an open or reopened defect is taken "
                   "up",
                   (long long)n, state);
        if (!strcmp(action, "fixed") && strcmp(state, "fixing") &&
            strcmp(state, "open") && strcmp(state, "reopened"))
            REFUSE("D-%lld is %s; it is not being fixed", (long long)n, state);
        next = action;
    } else if (!strcmp(action, "verify")) {
        if (strcmp(state, "fixed"))
            REFUSE("D-%lld is %s; only a fixed defect is verified",
                   (long long)n, state);
        if (!strcmp(me, fixer))
            REFUSE("%s fixed D-%lld and cannot verify it; someone else "
                   "verifies a fix",
                   me, (long long)n);
        next = "verified";
    } else if (!strcmp(action, "reopen")) {
        if (strcmp(state, "fixed") && strcmp(state, "verified") &&
            strcmp(state, "deferred"))
            REFUSE("D-%lld is %s; there is nothing to reopen", (long long)n,
                   state);
        next = "reopened";
    } else if (!strcmp(action, "defer")) {
        if (!patch || !*patch) {
            rc = gl_err_set(err, GL_EUSAGE, "deferring needs --patch NAME");
            goto fail;
        }
        if (!(roles & (GL_ROLE_LEAD | GL_ROLE_DEV)))
            REFUSE("the lead or a dev defers a defect; %s is neither", me);
        if (!strcmp(state, "verified") || !strcmp(state, "deferred"))
            REFUSE("D-%lld is %s already", (long long)n, state);
        /* a blocker stops a workflow: it is fixed tonight, or the lead
         * says first, with a note, that it does not block */
        if (!strcmp(severity, "blocker"))
            REFUSE("D-%lld is a blocker and a blocker is never deferred; "
                   "the lead may lower its severity first ('golive defect "
                   "severity D-%lld major --note TEXT')",
                   (long long)n, (long long)n);
        next = "deferred";
    } else {
        rc = gl_err_set(err, GL_EUSAGE, "no defect action '%s'", action);
        goto fail;
    }
#undef REFUSE
    {
        char kind[32];
        snprintf(kind, sizeof(kind), "defect.%s", action);
        if ((rc = gl_run_event(s, who, kind,
                               json_pack("{s:I, s:s, s:s, s:s?}", "defect",
                                         (json_int_t)n, "from", state, "to",
                                         next, "patch", patch),
                               &seq, err)))
            goto fail;
    }
    if (sqlite3_prepare_v2(
            gl_store_db(s),
            "UPDATE defects SET state = ?1, event_seq = ?2,"
            " fixer = CASE WHEN ?1 IN ('fixing', 'fixed') THEN ?3 ELSE fixer "
            "END,"
            " verifier = CASE WHEN ?1 = 'verified' THEN ?3 ELSE verifier END,"
            " patch = CASE WHEN ?1 = 'deferred' THEN ?4 ELSE patch END"
            " WHERE n = ?5",
            -1, &st, NULL) != SQLITE_OK) {
        rc = gl_run_fail_db(s, err);
        goto fail;
    }
    sqlite3_bind_text(st, 1, next, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_text(st, 3, me, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, patch, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, n);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    if (rc)
        goto fail;
    if ((rc = gl_store_commit(s, err)))
        return rc;
    *to = next;
    return GL_OK;
fail:
    gl_store_rollback(s);
    return rc;
}

/* How bad a severity is: blocker 3, major 2, minor 1, else 0. */
int gl_defect_rank(const char *severity)
{
    return !severity                      ? 0
           : !strcmp(severity, "blocker") ? 3
           : !strcmp(severity, "major")   ? 2
           : !strcmp(severity, "minor")   ? 1
                                          : 0;
}

int gl_defect_severity(gl_store *s, const struct gl_plan *p,
                       const struct gl_actor *who, int64_t n,
                       const char *severity, const char *note,
                       struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    char state[16] = "", was[16] = "", leads[256];
    int64_t seq;
    int rc, step;

    if (!gl_defect_rank(severity))
        return gl_err_set(err, GL_EUSAGE,
                          "severity is blocker, major or minor, not '%s'",
                          severity ? severity : "");
    if (!note || !*note)
        return gl_err_set(err, GL_EUSAGE,
                          "changing a defect's severity needs a reason "
                          "(--note)");
    if (!gl_run_has_role(p, who->person, GL_ROLE_LEAD))
        return gl_err_set(
            err, GL_EREFUSED, "only the lead changes a defect's severity (%s)",
            gl_run_names_with(p, GL_ROLE_LEAD, leads, sizeof(leads)));
    if ((rc = gl_store_begin(s, err)))
        return rc;
    if (sqlite3_prepare_v2(gl_store_db(s),
                           "SELECT state, severity FROM defects WHERE n = ?",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = gl_run_fail_db(s, err);
        goto fail;
    }
    sqlite3_bind_int64(st, 1, n);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        snprintf(state, sizeof(state), "%s", sqlite3_column_text(st, 0));
        snprintf(was, sizeof(was), "%s", sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    if (step != SQLITE_ROW) {
        rc = step == SQLITE_DONE ? gl_err_set(err, GL_ENOTFOUND,
                                              "no defect D-%lld", (long long)n)
                                 : gl_run_fail_db(s, err);
        goto fail;
    }
    if (!strcmp(was, severity)) {
        rc = gl_err_set(err, GL_EUSAGE, "D-%lld is %s already", (long long)n,
                        severity);
        goto fail;
    }
    if (!strcmp(severity, "blocker") && !strcmp(state, "deferred")) {
        rc = gl_err_set(err, GL_EREFUSED,
                        "D-%lld is deferred and a blocker is never deferred; "
                        "reopen it first ('golive defect reopen D-%lld')",
                        (long long)n, (long long)n);
        goto fail;
    }
    if ((rc = gl_run_event(s, who, "defect.severity",
                           json_pack("{s:I, s:s, s:s, s:s}", "defect",
                                     (json_int_t)n, "from", was, "to", severity,
                                     "note", note),
                           &seq, err)))
        goto fail;
    if (sqlite3_prepare_v2(gl_store_db(s),
                           "UPDATE defects SET severity = ?1, event_seq = ?2"
                           " WHERE n = ?3",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = gl_run_fail_db(s, err);
        goto fail;
    }
    sqlite3_bind_text(st, 1, severity, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_int64(st, 3, n);
    rc = sqlite3_step(st) == SQLITE_DONE ? GL_OK : gl_run_fail_db(s, err);
    sqlite3_finalize(st);
    if (rc)
        goto fail;
    return gl_store_commit(s, err);
fail:
    gl_store_rollback(s);
    return rc;
}

char *gl_defect_list(gl_store *s, struct gl_err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *arr = json_array();
    char *out = NULL;
    int step;

    if (sqlite3_prepare_v2(gl_store_db(s),
                           "SELECT n, scenario, severity, title, state,"
                           " opened_by, fixer, verifier, patch FROM defects"
                           " ORDER BY n",
                           -1, &st, NULL) != SQLITE_OK) {
        gl_run_fail_db(s, err);
        json_decref(arr);
        return NULL;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        char id[32];
        static const char *const cols[] = {"scenario", "severity",  "title",
                                           "state",    "opened_by", "fixer",
                                           "verifier", "patch"};
        int c;
        snprintf(id, sizeof(id), "D-%lld",
                 (long long)sqlite3_column_int64(st, 0));
        json_object_set_new(o, "id", json_string(id));
        json_object_set_new(o, "n", json_integer(sqlite3_column_int64(st, 0)));
        for (c = 1; c <= 8; c++) {
            const unsigned char *v = sqlite3_column_text(st, c);
            json_object_set_new(o, cols[c - 1],
                                v ? json_string((const char *)v) : json_null());
        }
        json_array_append_new(arr, o);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        gl_run_fail_db(s, err);
    else if (!(out = json_dumps(arr, JSON_INDENT(2))))
        gl_err_set(err, GL_ENOMEM, "out of memory");
    json_decref(arr);
    return out;
}
