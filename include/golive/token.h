/*
 * token.h - who a request to `golive serve` comes from.
 *
 * A token is 256 random bits, shown once (64 hex digits) to whoever
 * issues it.  The store keeps only its SHA-256: "token.issue" and
 * "token.revoke" events carry that hash (never the token), and the
 * tokens table is their projection, like every other table.  A token
 * belongs to a person of the run's plan, or, read-only, to a viewer (a
 * war-room screen) whose name is not a person.  Only a lead of the plan
 * issues and revokes tokens.
 *
 * A browser session is opened with a token: the session's secret (the
 * cookie) and its CSRF secret are random too, kept as SHA-256 hashes by a
 * "session.open" event; "session.close" ends it.  A session lives as long
 * as its token: expiring or revoking the token ends its sessions.
 */
#ifndef GOLIVE_TOKEN_H
#define GOLIVE_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/plan.h"
#include "golive/store.h"

/* A secret as text: 64 lowercase hex digits and a NUL. */
#define GL_SECRET_LEN 65

struct gl_token_info {
    char id[24];         /* "T-3": its number among the run's tokens */
    char person[128];    /* the plan's person, or the viewer's name */
    int viewer;          /* read-only: changes nothing */
    char issued_by[128]; /* the lead who issued it */
    int64_t issued_at;   /* epoch seconds */
    int64_t expires_at;  /* epoch seconds; 0: never */
    int64_t revoked_at;  /* epoch seconds; 0: not revoked */
};

/* Issue a token as who (a lead of plan p): for person, who must be a
 * person of p, or with viewer set for any name that is not one.
 * expires_at: epoch seconds, 0 for never.  secret gets the token (shown
 * once, never stored); *out what the store keeps of it.  GL_EREFUSED when
 * who is not a lead (the message names the leads), GL_EUSAGE for a person
 * that is not the plan's (with a "did you mean"). */
int gl_token_issue(gl_store *s, const struct gl_plan *p,
                   const struct gl_actor *who, const char *person, int viewer,
                   int64_t expires_at, int64_t now, char secret[GL_SECRET_LEN],
                   struct gl_token_info *out, struct gl_err *err);

/* Revoke token id ("T-3" or "3") as who (a lead); its sessions end.
 * GL_ENOTFOUND, GL_EREFUSED (not a lead; already revoked). */
int gl_token_revoke(gl_store *s, const struct gl_plan *p,
                    const struct gl_actor *who, const char *id, int64_t now,
                    struct gl_err *err);

/* Every token of the run, oldest first; *out is malloc'd (free()). */
int gl_token_list(gl_store *s, struct gl_token_info **out, size_t *n,
                  struct gl_err *err);

/* Who holds secret at now: GL_OK with *out filled; GL_ENOTFOUND when no
 * token has that hash; GL_EREFUSED when it expired or was revoked (the
 * message says which, and when).  Reads only: no event. */
int gl_token_check(gl_store *s, const char *secret, int64_t now,
                   struct gl_token_info *out, struct gl_err *err);

/* Open a browser session with a live token (a "session.open" event, its
 * actor the token's person): session and csrf get the two new secrets.
 * Errors as gl_token_check. */
int gl_session_open(gl_store *s, const char *token_secret, int64_t now,
                    const char *os_user, char session[GL_SECRET_LEN],
                    char csrf[GL_SECRET_LEN], struct gl_token_info *out,
                    struct gl_err *err);

/* Who holds session secret at now.  csrf: the X-Golive-CSRF header of a
 * change, or NULL for a read; a change whose csrf is missing or wrong is
 * GL_EREFUSED ("missing or wrong X-Golive-CSRF"; a change that came
 * without the header passes "").  Errors otherwise as
 * gl_token_check (a closed session is GL_EREFUSED). */
int gl_session_check(gl_store *s, const char *session, const char *csrf,
                     int64_t now, struct gl_token_info *out,
                     struct gl_err *err);

/* End the session (a "session.close" event, its actor the token's
 * person); GL_ENOTFOUND when none.  Closing a closed session again is
 * GL_OK and writes nothing (signing out twice is signing out). */
int gl_session_close(gl_store *s, const char *session, const char *os_user,
                     int64_t now, struct gl_err *err);

#endif
