/*
 * token.c - who a request to `golive serve` comes from (see
 * golive/token.h): tokens issued by a lead, and the browser sessions
 * opened with them.
 *
 * A secret (token, session, CSRF) is 32 random bytes as 64 lowercase hex
 * digits, handed to the caller once.  The store keeps its SHA-256 only,
 * in the event that makes it and in the row that event projects; a
 * secret presented later is hashed and looked up by its hash, so no
 * secret is ever compared, stored or logged.
 */
#include "golive/token.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "store-rows.h"
#include "util/clock.h"
#include "util/sha256.h"
#include "util/suggest.h"

/* 32 random bytes as 64 lowercase hex digits. */
static int new_secret(char out[GL_SECRET_LEN], struct gl_err *err)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[32];
    size_t i;

    if (RAND_bytes(b, (int)sizeof(b)) != 1)
        return gl_err_set(err, GL_EINTERNAL, "cannot draw random bytes");
    for (i = 0; i < sizeof(b); i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[64] = '\0';
    OPENSSL_cleanse(b, sizeof(b));
    return GL_OK;
}

/* Whether s has the shape of a secret: 64 lowercase hex digits. */
static int is_secret(const char *s)
{
    size_t i;

    if (!s)
        return 0;
    for (i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[64] == '\0';
}

/* SHA-256 of a secret into sha; GL_ENOTFOUND (what: "token", "session")
 * for text that is not one, so that it is looked up nowhere. */
static int hash_secret(const char *secret, const char *what,
                       char sha[GL_SHA256_HEX], struct gl_err *err)
{
    if (!is_secret(secret))
        return gl_err_set(err, GL_ENOTFOUND, "unknown %s", what);
    if (gl_sha256_hex(secret, 64, sha))
        return gl_err_set(err, GL_EINTERNAL, "cannot compute SHA-256");
    return GL_OK;
}

/* "T-3", "t-3" or "3" -> 3; 0 when neither. */
static int64_t token_number(const char *id)
{
    char *end;
    long long n;

    if (!id)
        return 0;
    if ((id[0] == 'T' || id[0] == 't') && id[1] == '-')
        id += 2;
    if (*id < '1' || *id > '9')
        return 0;
    n = strtoll(id, &end, 10);
    return *end || n <= 0 ? 0 : (int64_t)n;
}

/* The live token's check at now: GL_EREFUSED when it was revoked or has
 * expired. */
static int token_live(const struct gl_token_info *t, int64_t now,
                      struct gl_err *err)
{
    char at[40];

    if (t->revoked_at) {
        gl_time_format(t->revoked_at, 0, at);
        return gl_err_set(err, GL_EREFUSED, "token %s was revoked at %s", t->id,
                          at);
    }
    if (t->expires_at && now >= t->expires_at) {
        gl_time_format(t->expires_at, 0, at);
        return gl_err_set(err, GL_EREFUSED, "token %s expired at %s", t->id,
                          at);
    }
    return GL_OK;
}

/* GL_EDENIED unless who is a lead of p; doing: "issues tokens". */
static int must_lead(const struct gl_plan *p, const struct gl_actor *who,
                     const char *doing, struct gl_err *err)
{
    char leads[256];

    if (gl_run_has_role(p, who->person, GL_ROLE_LEAD))
        return GL_OK;
    return gl_err_set(err, GL_EDENIED, "only a lead %s (%s)", doing,
                      gl_run_names_with(p, GL_ROLE_LEAD, leads, sizeof(leads)));
}

/* GL_EUSAGE for a name a token cannot be for: a person who is not p's
 * (with a "did you mean"), or a viewer's name that is a person's. */
static int check_holder(const struct gl_plan *p, const char *person, int viewer,
                        struct gl_err *err)
{
    const char **ids, *hint;
    size_t i;
    int rc;

    if (!person || !*person)
        return gl_err_set(err, GL_EUSAGE,
                          "a token is for a person of the plan (--for) or a "
                          "viewer (--viewer)");
    if (strlen(person) >= sizeof(((struct gl_token_info *)0)->person))
        return gl_err_set(err, GL_EUSAGE, "the name '%.40s...' is too long",
                          person);
    if (viewer) {
        const unsigned char *c;
        json_t *utf8 = json_string(person);
        /* a name that goes into log lines and pages as it is */
        for (c = (const unsigned char *)person; *c; c++)
            if (*c < 0x20 || *c == 0x7f)
                break;
        if (!utf8 || *c) {
            json_decref(utf8);
            return gl_err_set(err, GL_EUSAGE,
                              "a viewer's name is UTF-8 text without control "
                              "characters");
        }
        json_decref(utf8);
        if (gl_plan_person(p, person))
            return gl_err_set(err, GL_EUSAGE,
                              "'%s' is a person of the plan: a viewer is a "
                              "screen, named apart from the people; issue "
                              "--for %s for them",
                              person, person);
        return GL_OK;
    }
    if (gl_plan_person(p, person))
        return GL_OK;
    ids = malloc((p->n_people ? p->n_people : 1) * sizeof(*ids));
    for (i = 0; ids && i < p->n_people; i++)
        ids[i] = p->people[i].id.id;
    hint = ids ? gl_suggest(person, ids, p->n_people) : NULL;
    rc = gl_err_set(err, GL_EUSAGE, "'%s' is not a person of the plan%s%s%s",
                    person, hint ? "; did you mean '" : "", hint ? hint : "",
                    hint ? "'?" : "");
    free(ids);
    return rc;
}

int gl_token_issue(gl_store *s, const struct gl_plan *p,
                   const struct gl_actor *who, const char *person, int viewer,
                   int64_t expires_at, int64_t now, char secret[GL_SECRET_LEN],
                   struct gl_token_info *out, struct gl_err *err)
{
    char sha[GL_SHA256_HEX], id[24], expires[40], at[40];
    int64_t n, seq;
    int rc;

    secret[0] = '\0';
    if ((rc = must_lead(p, who, "issues tokens", err)) ||
        (rc = check_holder(p, person, viewer, err)))
        return rc;
    if (expires_at < 0 || (expires_at && expires_at <= now)) {
        gl_time_format(expires_at, 0, expires);
        return gl_err_set(err, GL_EUSAGE,
                          "a token cannot expire before it is issued (%s)",
                          expires);
    }
    if (expires_at)
        gl_time_format(expires_at, 0, expires);
    if ((rc = new_secret(secret, err)))
        return rc;
    if (gl_sha256_hex(secret, 64, sha)) {
        rc = gl_err_set(err, GL_EINTERNAL, "cannot compute SHA-256");
        goto wipe;
    }
    if ((rc = gl_store_begin(s, err)))
        goto wipe;
    if ((rc = gl_store_token_next(s, &n, err)))
        goto fail;
    snprintf(id, sizeof(id), "T-%lld", (long long)n);
    if ((rc = gl_run_event(s, who, "token.issue",
                           json_pack("{s:s, s:s, s:b, s:s?, s:s}", "id", id,
                                     "person", person, "viewer", viewer ? 1 : 0,
                                     "expires_at", expires_at ? expires : NULL,
                                     "sha256", sha),
                           &seq, err)))
        goto fail;
    snprintf(at, sizeof(at), "%s", gl_store_event_at(s));
    if ((rc = gl_store_token_insert(s, n, sha, person, viewer, who->person, at,
                                    expires_at ? expires : NULL, seq, err)) ||
        (rc = gl_store_token_get(s, NULL, n, out, err)))
        goto fail;
    if ((rc = gl_store_commit(s, err)))
        goto wipe;
    return GL_OK;
fail:
    gl_store_rollback(s);
wipe:
    OPENSSL_cleanse(secret, GL_SECRET_LEN);
    secret[0] = '\0';
    return rc;
}

int gl_token_revoke(gl_store *s, const struct gl_plan *p,
                    const struct gl_actor *who, const char *id, int64_t now,
                    struct gl_err *err)
{
    struct gl_token_info t;
    char at[40];
    int64_t n = token_number(id);
    int rc;

    (void)now; /* the revocation's time is its event's */
    if ((rc = must_lead(p, who, "revokes tokens", err)))
        return rc;
    if (!n)
        return gl_err_set(err, GL_EUSAGE,
                          "'%s' is not a token id (T-1, T-2...)", id ? id : "");
    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_store_token_get(s, NULL, n, &t, err)))
        goto fail;
    if (t.revoked_at) {
        gl_time_format(t.revoked_at, 0, at);
        rc = gl_err_set(err, GL_EREFUSED, "token %s was revoked at %s already",
                        t.id, at);
        goto fail;
    }
    if ((rc = gl_run_event(s, who, "token.revoke",
                           json_pack("{s:s}", "id", t.id), NULL, err)))
        goto fail;
    snprintf(at, sizeof(at), "%s", gl_store_event_at(s));
    if ((rc = gl_store_token_revoke(s, n, at, who->person, err)))
        goto fail;
    return gl_store_commit(s, err);
fail:
    gl_store_rollback(s);
    return rc;
}

int gl_token_list(gl_store *s, struct gl_token_info **out, size_t *n,
                  struct gl_err *err)
{
    return gl_store_token_list(s, out, n, err);
}

int gl_token_check(gl_store *s, const char *secret, int64_t now,
                   struct gl_token_info *out, struct gl_err *err)
{
    char sha[GL_SHA256_HEX];
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = hash_secret(secret, "token", sha, err)) ||
        (rc = gl_store_token_get(s, sha, 0, out, err)))
        return rc;
    return token_live(out, now, err);
}

int gl_session_open(gl_store *s, const char *token_secret, int64_t now,
                    const char *os_user, char session[GL_SECRET_LEN],
                    char csrf[GL_SECRET_LEN], struct gl_token_info *out,
                    struct gl_err *err)
{
    char sha[GL_SHA256_HEX], ssha[GL_SHA256_HEX], csha[GL_SHA256_HEX], at[40];
    struct gl_actor who;
    int64_t n, seq;
    int rc;

    session[0] = csrf[0] = '\0';
    memset(out, 0, sizeof(*out));
    if ((rc = hash_secret(token_secret, "token", sha, err)))
        return rc;
    if ((rc = new_secret(session, err)) || (rc = new_secret(csrf, err)))
        goto wipe;
    if (gl_sha256_hex(session, 64, ssha) || gl_sha256_hex(csrf, 64, csha)) {
        rc = gl_err_set(err, GL_EINTERNAL, "cannot compute SHA-256");
        goto wipe;
    }
    if ((rc = gl_store_begin(s, err)))
        goto wipe;
    /* checked in the transaction that opens it: a revocation between the
     * check and the session cannot slip through */
    if ((rc = gl_store_token_get(s, sha, 0, out, err)) ||
        (rc = token_live(out, now, err)) ||
        (rc = gl_store_session_next(s, &n, err)))
        goto fail;
    who.person = out->person;
    who.os_user = os_user ? os_user : "";
    if ((rc = gl_run_event(s, &who, "session.open",
                           json_pack("{s:I, s:s, s:s, s:s}", "session",
                                     (json_int_t)n, "token", out->id, "sha256",
                                     ssha, "csrf_sha256", csha),
                           &seq, err)))
        goto fail;
    snprintf(at, sizeof(at), "%s", gl_store_event_at(s));
    if ((rc = gl_store_session_insert(s, n, ssha, csha,
                                      (int64_t)strtoll(out->id + 2, NULL, 10),
                                      at, seq, err)))
        goto fail;
    if ((rc = gl_store_commit(s, err)))
        goto wipe;
    return GL_OK;
fail:
    gl_store_rollback(s);
wipe:
    OPENSSL_cleanse(session, GL_SECRET_LEN);
    OPENSSL_cleanse(csrf, GL_SECRET_LEN);
    session[0] = csrf[0] = '\0';
    return rc;
}

int gl_session_check(gl_store *s, const char *session, const char *csrf,
                     int64_t now, struct gl_token_info *out, struct gl_err *err)
{
    char sha[GL_SHA256_HEX], csrf_sha[GL_SHA256_HEX], got[GL_SHA256_HEX];
    int64_t n, token;
    int closed, rc;

    memset(out, 0, sizeof(*out));
    if ((rc = hash_secret(session, "session", sha, err)) ||
        (rc = gl_store_session_get(s, sha, &n, &token, csrf_sha, &closed,
                                   err)) ||
        (rc = gl_store_token_get(s, NULL, token, out, err)))
        return rc;
    if (closed)
        return gl_err_set(err, GL_EREFUSED,
                          "the session was closed; sign in again");
    if ((rc = token_live(out, now, err)))
        return rc;
    if (csrf) {
        /* the header's hash against the stored hash: equal length, and
         * compared in constant time all the same */
        if (!is_secret(csrf) || gl_sha256_hex(csrf, 64, got) ||
            CRYPTO_memcmp(got, csrf_sha, 64) != 0)
            return gl_err_set(err, GL_EREFUSED,
                              "missing or wrong "
                              "X-Golive-CSRF");
    }
    return GL_OK;
}

int gl_session_close(gl_store *s, const char *session, const char *os_user,
                     int64_t now, struct gl_err *err)
{
    struct gl_token_info t;
    struct gl_actor who;
    char sha[GL_SHA256_HEX], csrf_sha[GL_SHA256_HEX], at[40];
    int64_t n, token;
    int closed, rc;

    (void)now; /* the closing's time is its event's */
    if ((rc = hash_secret(session, "session", sha, err)))
        return rc;
    if ((rc = gl_store_begin(s, err)))
        return rc;
    if ((rc = gl_store_session_get(s, sha, &n, &token, csrf_sha, &closed,
                                   err)) ||
        (rc = gl_store_token_get(s, NULL, token, &t, err)))
        goto fail;
    if (closed) { /* signing out twice is signing out */
        gl_store_rollback(s);
        return GL_OK;
    }
    who.person = t.person;
    who.os_user = os_user ? os_user : "";
    if ((rc = gl_run_event(s, &who, "session.close",
                           json_pack("{s:I}", "session", (json_int_t)n), NULL,
                           err)))
        goto fail;
    snprintf(at, sizeof(at), "%s", gl_store_event_at(s));
    if ((rc = gl_store_session_close(s, n, at, err)))
        goto fail;
    return gl_store_commit(s, err);
fail:
    gl_store_rollback(s);
    return rc;
}
