/*
 * defect.h - defects found on the night: open -> fixing -> fixed ->
 * verified, or reopened, or deferred to a named patch.  Anyone opens one;
 * devs fix; a fixed defect is verified by someone other than its fixer.
 * A blocker is a defect that stops a workflow: it is never deferred
 * (the lead may lower its severity, with a note, first).
 */
#ifndef GOLIVE_DEFECT_H
#define GOLIVE_DEFECT_H

#include <jansson.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/plan.h"
#include "golive/store.h"

/* Open a defect; *n gets its number (shown as D-n). */
int gl_defect_open(gl_store *s, const struct gl_plan *p,
                   const struct gl_actor *who, const char *scenario,
                   const char *severity, const char *title, int64_t *n,
                   struct gl_err *err);

/* gl_defect_open inside the caller's transaction; duty: the duty-log
 * entry it comes from (0 for none), recorded in the event. */
int gl_defect_open_in(gl_store *s, const struct gl_plan *p,
                      const struct gl_actor *who, const char *scenario,
                      const char *severity, const char *title, int64_t duty,
                      int64_t *n, struct gl_err *err);

/* Move defect n: "fixing", "fixed", "verify", "reopen" or "defer" (with
 * patch); note (may be NULL) is kept in the event.  *to gets the new
 * state.  Refused as gl_defect_may says. */
int gl_defect_move(gl_store *s, const struct gl_plan *p,
                   const struct gl_actor *who, int64_t n, const char *action,
                   const char *patch, const char *note, const char **to,
                   struct gl_err *err);

/* A defect as its rules see it. */
struct gl_defect_state {
    int64_t n;
    const char *state;    /* open, fixing, fixed, verified, reopened, ... */
    const char *severity; /* blocker, major, minor */
    const char *fixer;    /* who fixed it; NULL or "" for nobody yet */
};

/* What can be done with a defect, in the order a client shows them:
 * "fixing", "fixed", "verify", "reopen", "defer", "severity", "comment";
 * NULL ends it. */
extern const char *const gl_defect_action_names[];

/* May person make action (one of gl_defect_action_names) on defect d now?  The
 * rules gl_defect_move and gl_defect_severity apply (they call this): GL_OK,
 * or GL_EDENIED with who may (a non-dev fixing, the fixer verifying their
 * own fix), or GL_EREFUSED with what must happen first (the state is not
 * one the move starts from; a blocker is lowered before it is deferred).
 * A dry run: the fields a move also needs (a patch, a note) are not
 * checked.  GL_EUSAGE for an unknown action. */
int gl_defect_may(const struct gl_plan *p, const char *person,
                  const struct gl_defect_state *d, const char *action,
                  struct gl_err *err);

/* What person may do with defect d now: *out gets (new reference) one
 * entry per gl_defect_action_names, each gl_defect_may's answer in the
 * shape every actions list shares: {"action", "allowed": true} or
 * {"action", "allowed": false, "reason", "code": "forbidden" (the reason
 * says who may) | "conflict" (what must happen first)}. */
int gl_defect_actions(const struct gl_plan *p, const char *person,
                      const struct gl_defect_state *d, json_t **out,
                      struct gl_err *err);

/* Change defect n's severity to severity, with a note saying why: the
 * lead only; a "defect.severity" event {defect, from, to, note}.  A
 * blocker is never deferred: lowering one is how it can be; a deferred
 * defect is not raised to a blocker (reopen it first). */
int gl_defect_severity(gl_store *s, const struct gl_plan *p,
                       const struct gl_actor *who, int64_t n,
                       const char *severity, const char *note,
                       struct gl_err *err);

/* How bad a severity is: blocker 3, major 2, minor 1; 0 for anything else
 * (NULL too). */
int gl_defect_rank(const char *severity);

/* Every defect as a JSON array (malloc'd text): {id, n, scenario,
 * severity, title, state, opened_by, fixer, verifier, patch}. */
char *gl_defect_list(gl_store *s, struct gl_err *err);

#endif
