/*
 * client.h - the CLI through a server (`--server URL` / GOLIVE_SERVER):
 * one HTTP request to golive serve's API (libcurl), its answer as the
 * parsed JSON, and its status as the CLI's exit code, so that a run
 * command gives the same output and the same exit code through a server
 * as on the store itself.  The token comes from GOLIVE_TOKEN, else from
 * the file `golive login` wrote for that server; it is never printed and
 * never put in a URL.
 */
#ifndef GOLIVE_CLI_CLIENT_H
#define GOLIVE_CLI_CLIENT_H

#include <stddef.h>

#include <jansson.h>

#include "golive/store.h"

/* A server and the token to ask it with. */
struct client {
    char url[1024];   /* without a trailing '/' */
    char token[512];  /* never printed */
    char person[128]; /* the token's person (after client_open) */
};

/* The server named: opt (--server) when given, else $GOLIVE_SERVER unless
 * state (--state) names a store; NULL when none (the command works on the
 * store itself). */
const char *client_server(const char *opt, const char *state);

/* Get ready to ask the server at url: the token from $GOLIVE_TOKEN, else
 * the credentials `golive login` stored for url; GET /api/v1/me says
 * whose it is (c->person).  With as (--as) named: refused (EXIT_REFUSED)
 * unless as is the token's person.
 * An http:// URL to a host other than loopback is warned about (the token
 * crosses in clear).  Prints what went wrong; returns an exit code. */
int client_open(struct client *c, const char *url, const char *as);

/* Forget the token (client_open in every case, even failed). */
void client_close(struct client *c);

/* The exit code for an HTTP status: 2xx 0; 401, 403, 409, 429 refused
 * (3); anything else 2. */
int client_exit_code(long status);

/* One request: method, path under /api/v1 ("/tasks/t1/start", a query
 * may follow), body a JSON object to send (or NULL; borrowed).  On a 2xx,
 * EXIT_OK with *out the answer parsed (NULL when it is not JSON; the
 * caller frees it) and *status (when not NULL) the status.  Otherwise the
 * error's message is printed as the CLI prints its errors ("golive:
 * error: ...") and its exit code returned (client_exit_code; an
 * unreachable server is EXIT_ERROR).  out may be NULL. */
int client_call(struct client *c, const char *method, const char *path,
                json_t *body, json_t **out);

/* A GET whose answer is not JSON (a report, a task's output): *text
 * (malloc'd, NUL-terminated; the caller frees it) and *len.  Errors as
 * client_call. */
int client_get_text(struct client *c, const char *path, char **text,
                    size_t *len);

/* The run's record as the server holds it (GET /api/v1/status): run id,
 * cutover, rehearsal, the switch time and its offset, plan version and
 * SHA-256, events; *now the server's clock.  Errors as client_call. */
int client_run_info(struct client *c, struct gl_run_info *info, int64_t *now);

/* Where `golive login` keeps the credentials: $XDG_CONFIG_HOME/golive/
 * credentials, else ~/.config/golive/credentials.  0, or -1 when neither
 * variable names a folder. */
int client_credentials_path(char *buf, size_t n);

/* "%2F"-style escaping of one path segment (an id) into buf; returns
 * buf. */
const char *client_escape(const char *s, char *buf, size_t n);

#endif
