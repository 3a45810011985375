/*
 * test-db.c - URLs: ${VAR} substitution (percent-encoded where a value
 * lands in a user, a password or a query) and password redaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "golive/db.h"

static void expect_expand(const char *url, const char *want)
{
    struct gl_err err;
    char *got;

    gl_err_clear(&err);
    got = gl_db_expand_url(url, &err);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void expect_redact(const char *url, const char *want)
{
    char *got = gl_db_redact_url(url);

    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void values_in_userinfo_are_encoded(void **state)
{
    (void)state;
    setenv("GL_T_PW", "x@cy#2019/:?&%41", 1);
    setenv("GL_T_USER", "ops@corp", 1);
    setenv("GL_T_HOST", "db.local", 1);
    setenv("GL_T_DIR", "/srv/data", 1);
    expect_expand("mysql://golive_ro:${GL_T_PW}@127.0.0.1:3306/oa",
                  "mysql://golive_ro:x%40cy%232019%2F%3A%3F%26%2541@"
                  "127.0.0.1:3306/oa");
    expect_expand("postgres://${GL_T_USER}:${GL_T_PW}@${GL_T_HOST}/db",
                  "postgres://ops%40corp:x%40cy%232019%2F%3A%3F%26%2541@"
                  "db.local/db");
    /* a query parameter's value too; a host or a path is left alone */
    expect_expand("postgres://u@${GL_T_HOST}/db?password=${GL_T_PW}",
                  "postgres://u@db.local/db?password=x%40cy%232019%2F%3A%3F"
                  "%26%2541");
    expect_expand("sqlite:${GL_T_DIR}/old.db", "sqlite:/srv/data/old.db");
    /* a literal password with '@' or '#' stays one password */
    expect_expand("mysql://u:p@ss#1@h/db", "mysql://u:p%40ss%231@h/db");
    expect_expand("mysql://u:a%40b@h/db", "mysql://u:a%40b@h/db");
}

static void redaction_hides_the_whole_password(void **state)
{
    (void)state;
    expect_redact("mysql://golive_ro:x@cy#2019@127.0.0.1/oa",
                  "mysql://golive_ro:***@127.0.0.1/oa");
    expect_redact("mysql://golive_ro:x%40cy%232019@127.0.0.1/oa",
                  "mysql://golive_ro:***@127.0.0.1/oa");
    expect_redact("postgres://u@h/db", "postgres://u@h/db");
    expect_redact("postgres://u@h/db?sslmode=require&password=a@b#c",
                  "postgres://u@h/db?sslmode=require&password=***");
    expect_redact("postgres://u:${PW}@h/db", "postgres://u:***@h/db");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(values_in_userinfo_are_encoded),
        cmocka_unit_test(redaction_hides_the_whole_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
