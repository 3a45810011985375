/*
 * test-token.c - identity for `golive serve` (golive/token.h): tokens
 * checked at a time (unknown, expired, revoked), browser sessions opened
 * with them, the CSRF rule, sessions ending with their token, and the
 * audit catching an edited sessions row; comments on defects by the
 * plan's people only.  Real store in a temp folder,
 * real plan; the clock is set (gl_clock_set) so that events carry times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "golive/audit.h"
#include "golive/comment.h"
#include "golive/defect.h"
#include "golive/store.h"
#include "golive/token.h"
#include "util/clock.h"
#include "util/sha256.h"

static const char plan_text[] = "cutover: t\n"
                                "switch_at: 2026-03-14T00:00:00Z\n"
                                "people:\n"
                                "  - {id: ann, roles: [lead]}\n"
                                "  - {id: bob, roles: [ops]}\n"
                                "tasks:\n"
                                "  - {id: a, stage: prepare, owner: ann, "
                                "checker: bob, at: T-2h, duration: 1h}\n";

#define T0 ((int64_t)1773446400) /* 2026-03-14T00:00:00Z */
#define H 3600

static char dir[64], path[128];
static const struct gl_actor lead = {"ann", "root"}, bob = {"bob", "root"};

struct fix {
    gl_store *s;
    struct gl_plan *p;
};

static int setup(void **state)
{
    static struct fix f;
    struct gl_diags d;
    struct gl_err err;
    struct gl_run_info info;

    snprintf(dir, sizeof(dir), "/tmp/golive-test-token-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/s.state", dir);
    memset(&d, 0, sizeof(d));
    memset(&info, 0, sizeof(info));
    f.p = gl_plan_parse("plan.yaml", plan_text, sizeof(plan_text) - 1, &d);
    if (!f.p || d.n_errors)
        return -1;
    gl_diags_release(&d);
    gl_clock_set(GL_CLOCK_FIXED, T0 - 3 * H);
    if (gl_store_open(path, GL_STORE_CREATE, &f.s, &err) ||
        gl_run_start(f.s, f.p, plan_text, sizeof(plan_text) - 1, "plan.yaml", 1,
                     &lead, &info, &err))
        return -1;
    gl_run_info_release(&info);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    char buf[200];

    gl_store_close(f->s);
    gl_plan_free(f->p);
    gl_clock_set(GL_CLOCK_SYSTEM, 0);
    snprintf(buf, sizeof(buf), "%s-wal", path);
    unlink(buf);
    snprintf(buf, sizeof(buf), "%s-shm", path);
    unlink(buf);
    unlink(path);
    rmdir(dir);
    return 0;
}

/* Issue a token at now (the clock too) for person, expiring at exp. */
static void issue(struct fix *f, const char *person, int viewer, int64_t exp,
                  int64_t now, char secret[GL_SECRET_LEN],
                  struct gl_token_info *t)
{
    struct gl_err err;

    gl_clock_set(GL_CLOCK_FIXED, now);
    gl_err_clear(&err);
    if (gl_token_issue(f->s, f->p, &lead, person, viewer, exp, now, secret, t,
                       &err))
        fail_msg("issue %s: %s", person, err.msg);
}

static void audit_ok(struct fix *f)
{
    struct gl_audit a;
    struct gl_err err;
    int rc;

    gl_err_clear(&err);
    rc = gl_audit_verify(f->s, NULL, &a, &err);
    if (rc)
        fail_msg("audit: %s", err.msg);
    gl_audit_release(&a);
}

static int64_t count(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t n = -1;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void token_check_at_a_time(void **state)
{
    struct fix *f = *state;
    char a[GL_SECRET_LEN], b[GL_SECRET_LEN], wrong[GL_SECRET_LEN];
    struct gl_token_info t, got;
    struct gl_err err;
    int64_t now = T0 - 2 * H;

    issue(f, "bob", 0, now + H, now, a, &t);
    assert_string_equal(t.id, "T-1");
    assert_string_equal(t.person, "bob");
    assert_string_equal(t.issued_by, "ann");
    assert_int_equal(t.issued_at, now);
    assert_int_equal(t.expires_at, now + H);
    assert_int_equal(strlen(a), 64);
    issue(f, "wall", 1, 0, now, b, &t);
    assert_string_equal(t.id, "T-2");
    assert_int_equal(t.viewer, 1);

    assert_int_equal(gl_token_check(f->s, a, now + 10, &got, &err), GL_OK);
    assert_string_equal(got.id, "T-1");
    assert_string_equal(got.person, "bob");
    assert_int_equal(got.viewer, 0);
    assert_int_equal(gl_token_check(f->s, b, now + 300 * H, &got, &err), GL_OK);
    assert_int_equal(got.viewer, 1);
    /* expired at its time, not a second before */
    assert_int_equal(gl_token_check(f->s, a, now + H - 1, &got, &err), GL_OK);
    assert_int_equal(gl_token_check(f->s, a, now + H, &got, &err), GL_EREFUSED);
    assert_string_equal(err.msg, "token T-1 expired at 2026-03-13T23:00:00Z");
    /* unknown: another secret, not a secret at all, the hash itself */
    memcpy(wrong, a, sizeof(wrong));
    wrong[0] = wrong[0] == '0' ? '1' : '0';
    assert_int_equal(gl_token_check(f->s, wrong, now, &got, &err),
                     GL_ENOTFOUND);
    assert_string_equal(err.msg, "unknown token");
    assert_int_equal(gl_token_check(f->s, "abc", now, &got, &err),
                     GL_ENOTFOUND);
    {
        char sha[GL_SHA256_HEX];
        assert_int_equal(gl_sha256_hex(a, 64, sha), 0);
        assert_int_equal(gl_token_check(f->s, sha, now, &got, &err),
                         GL_ENOTFOUND);
    }
    /* revoked */
    gl_clock_set(GL_CLOCK_FIXED, now + 60);
    assert_int_equal(gl_token_revoke(f->s, f->p, &bob, "T-2", now + 60, &err),
                     GL_EDENIED);
    assert_non_null(strstr(err.msg, "only a lead revokes tokens (ann)"));
    assert_int_equal(gl_token_revoke(f->s, f->p, &lead, "2", now + 60, &err),
                     GL_OK);
    assert_int_equal(gl_token_check(f->s, b, now + 61, &got, &err),
                     GL_EREFUSED);
    assert_string_equal(err.msg,
                        "token T-2 was revoked at 2026-03-13T22:01:00Z");
    /* refused issues change nothing */
    assert_int_equal(
        gl_token_issue(f->s, f->p, &bob, "bob", 0, 0, now, a, &t, &err),
        GL_EDENIED);
    assert_int_equal(a[0], '\0');
    assert_int_equal(
        gl_token_issue(f->s, f->p, &lead, "bobb", 0, 0, now, a, &t, &err),
        GL_EUSAGE);
    assert_non_null(strstr(err.msg, "did you mean 'bob'?"));
    assert_int_equal(
        gl_token_issue(f->s, f->p, &lead, "bob", 0, now - 1, now, a, &t, &err),
        GL_EUSAGE);
    assert_int_equal(count("SELECT count(*) FROM tokens"), 2);
    audit_ok(f);
}

static void sessions_live_with_their_token(void **state)
{
    struct fix *f = *state;
    char tok[GL_SECRET_LEN], tok2[GL_SECRET_LEN], ses[GL_SECRET_LEN],
        csrf[GL_SECRET_LEN], ses2[GL_SECRET_LEN], csrf2[GL_SECRET_LEN];
    struct gl_token_info t, got;
    struct gl_err err;
    int64_t now = T0 - 2 * H;

    issue(f, "bob", 0, now + H, now, tok, &t);
    issue(f, "wall", 1, 0, now, tok2, &t);
    gl_clock_set(GL_CLOCK_FIXED, now + 10);
    assert_int_equal(
        gl_session_open(f->s, tok, now + 10, "www", ses, csrf, &got, &err),
        GL_OK);
    assert_string_equal(got.person, "bob");
    assert_int_equal(strlen(ses), 64);
    assert_int_equal(strlen(csrf), 64);
    assert_string_not_equal(ses, csrf);
    assert_string_not_equal(ses, tok);
    /* its event: the token's person, the OS user given, the hashes only */
    assert_int_equal(count("SELECT count(*) FROM events WHERE kind ="
                           " 'session.open' AND actor = 'bob' AND"
                           " os_user = 'www'"),
                     1);
    {
        char sql[400], sha[GL_SHA256_HEX], csha[GL_SHA256_HEX];
        assert_int_equal(gl_sha256_hex(ses, 64, sha), 0);
        assert_int_equal(gl_sha256_hex(csrf, 64, csha), 0);
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM sessions WHERE sha256 = '%s' AND"
                 " csrf_sha256 = '%s' AND token = 1 AND closed_at IS NULL",
                 sha, csha);
        assert_int_equal(count(sql), 1);
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM events WHERE instr(payload, '%s') OR"
                 " instr(payload, '%s')",
                 ses, csrf);
        assert_int_equal(count(sql), 0);
    }
    /* a read needs no CSRF; a change needs the right one */
    assert_int_equal(gl_session_check(f->s, ses, NULL, now + 20, &got, &err),
                     GL_OK);
    assert_string_equal(got.person, "bob");
    assert_string_equal(got.id, "T-1");
    assert_int_equal(gl_session_check(f->s, ses, csrf, now + 20, &got, &err),
                     GL_OK);
    assert_int_equal(gl_session_check(f->s, ses, "", now + 20, &got, &err),
                     GL_EREFUSED);
    assert_string_equal(err.msg, "missing or wrong X-Golive-CSRF");
    assert_int_equal(gl_session_check(f->s, ses, tok, now + 20, &got, &err),
                     GL_EREFUSED);
    assert_string_equal(err.msg, "missing or wrong X-Golive-CSRF");
    /* the CSRF secret is not a session; a token is not a session */
    assert_int_equal(gl_session_check(f->s, csrf, NULL, now + 20, &got, &err),
                     GL_ENOTFOUND);
    assert_int_equal(gl_session_check(f->s, tok, NULL, now + 20, &got, &err),
                     GL_ENOTFOUND);
    /* the session ends when its token expires */
    assert_int_equal(gl_session_check(f->s, ses, NULL, now + H, &got, &err),
                     GL_EREFUSED);
    assert_non_null(strstr(err.msg, "token T-1 expired"));
    assert_int_equal(
        gl_session_open(f->s, tok, now + H, "www", ses2, csrf2, &got, &err),
        GL_EREFUSED);
    assert_int_equal(ses2[0], '\0');
    /* ... or is revoked */
    assert_int_equal(
        gl_session_open(f->s, tok2, now + 20, "www", ses2, csrf2, &got, &err),
        GL_OK);
    assert_int_equal(got.viewer, 1);
    assert_int_equal(gl_session_check(f->s, ses2, NULL, now + 30, &got, &err),
                     GL_OK);
    gl_clock_set(GL_CLOCK_FIXED, now + 40);
    assert_int_equal(gl_token_revoke(f->s, f->p, &lead, "T-2", now + 40, &err),
                     GL_OK);
    assert_int_equal(gl_session_check(f->s, ses2, NULL, now + 41, &got, &err),
                     GL_EREFUSED);
    assert_non_null(strstr(err.msg, "token T-2 was revoked"));
    /* signing out: the session is closed, twice is once */
    assert_int_equal(gl_session_close(f->s, ses, "www", now + 50, &err), GL_OK);
    assert_int_equal(gl_session_close(f->s, ses, "www", now + 51, &err), GL_OK);
    assert_int_equal(count("SELECT count(*) FROM events WHERE kind ="
                           " 'session.close' AND actor = 'bob'"),
                     1);
    assert_int_equal(gl_session_check(f->s, ses, NULL, now + 52, &got, &err),
                     GL_EREFUSED);
    assert_string_equal(err.msg, "the session was closed; sign in again");
    assert_int_equal(gl_session_close(f->s, tok, "www", now + 53, &err),
                     GL_ENOTFOUND);
    assert_int_equal(gl_session_close(f->s, "nonsense", "www", now, &err),
                     GL_ENOTFOUND);
    audit_ok(f);
}

/* Every column of a sessions row edited (a closed session reopened, a
 * session moved to another token, its hashes swapped): the audit names
 * the table. */
static void an_edited_session_is_caught(void **state)
{
    static const char *const edits[] = {
        "UPDATE sessions SET closed_at = NULL WHERE n = 1",
        "UPDATE sessions SET token = 2 WHERE n = 1",
        "UPDATE sessions SET sha256 = '0000' WHERE n = 1",
        "UPDATE sessions SET csrf_sha256 = '0000' WHERE n = 1",
        "UPDATE sessions SET opened_at = '2026-01-01T00:00:00Z' WHERE n = 1",
        "DELETE FROM sessions WHERE n = 1",
        NULL,
    };
    struct fix *f = *state;
    char tok[GL_SECRET_LEN], ses[GL_SECRET_LEN], csrf[GL_SECRET_LEN],
        tok2[GL_SECRET_LEN];
    struct gl_token_info t;
    struct gl_err err;
    int64_t now = T0 - 2 * H;
    int i;

    issue(f, "bob", 0, 0, now, tok, &t);
    issue(f, "ann", 0, 0, now, tok2, &t);
    assert_int_equal(
        gl_session_open(f->s, tok, now, "www", ses, csrf, &t, &err), GL_OK);
    assert_int_equal(gl_session_close(f->s, ses, "www", now, &err), GL_OK);
    audit_ok(f);
    for (i = 0; edits[i]; i++) {
        sqlite3 *db;
        struct gl_audit a;
        int rc;

        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, edits[i], NULL, NULL, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(db);
        gl_err_clear(&err);
        rc = gl_audit_verify(f->s, NULL, &a, &err);
        assert_int_equal(rc, GL_ECORRUPT);
        assert_non_null(strstr(err.msg, "table sessions"));
        gl_audit_release(&a);
        /* put it back: replace the row with what the events made */
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        {
            char sql[600], sha[GL_SHA256_HEX], csha[GL_SHA256_HEX];
            assert_int_equal(gl_sha256_hex(ses, 64, sha), 0);
            assert_int_equal(gl_sha256_hex(csrf, 64, csha), 0);
            snprintf(sql, sizeof(sql),
                     "DELETE FROM sessions; INSERT INTO sessions SELECT 1,"
                     " '%s', '%s', 1, '2026-03-13T22:00:00Z',"
                     " '2026-03-13T22:00:00Z', (SELECT seq FROM events"
                     " WHERE kind = 'session.open')",
                     sha, csha);
            assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL),
                             SQLITE_OK);
        }
        sqlite3_close(db);
        audit_ok(f);
    }
}

/* A comment comes from a person of the plan: a viewer (whose name is no
 * person's) is refused by the library itself, as `golive serve` calls it
 * with the token's person. */
static void only_the_plans_people_comment(void **state)
{
    struct fix *f = *state;
    const struct gl_actor wall = {"wall", "www"};
    struct gl_err err;
    json_t *d = NULL;
    int64_t n, k;

    gl_err_clear(&err);
    assert_int_equal(
        gl_defect_open(f->s, f->p, &bob, NULL, "major", "slow", &n, &err),
        GL_OK);
    assert_int_equal(gl_defect_comment(f->s, f->p, &wall, n, "x", &k, &err),
                     GL_EDENIED);
    assert_non_null(strstr(err.msg, "'wall' is not a person of the plan"));
    assert_int_equal(
        gl_defect_comment(f->s, f->p, &bob, n, "\xff\xfe", &k, &err),
        GL_EUSAGE);
    assert_int_equal(gl_defect_comment(f->s, f->p, &bob, n + 1, "x", &k, &err),
                     GL_ENOTFOUND);
    assert_int_equal(gl_defect_comment(f->s, f->p, &bob, n, "R-1", &k, &err),
                     GL_OK);
    assert_int_equal(k, 1);
    assert_int_equal(gl_defect_show(f->s, n, &d, &err), GL_OK);
    assert_string_equal(json_string_value(json_object_get(d, "id")), "D-1");
    assert_int_equal(json_array_size(json_object_get(d, "comments")), 1);
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(d, "comments"), 0), "actor")),
        "bob");
    json_decref(d);
    assert_int_equal(gl_defect_show(f->s, n + 1, &d, &err), GL_ENOTFOUND);
    assert_null(d);
    assert_int_equal(count("SELECT count(*) FROM defect_comments"), 1);
    audit_ok(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(token_check_at_a_time, setup, teardown),
        cmocka_unit_test_setup_teardown(sessions_live_with_their_token, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(an_edited_session_is_caught, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(only_the_plans_people_comment, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
