/*
 * serve.h - `golive serve`: the run over HTTP (libmicrohttpd), for the
 * whole team.  Internal to serve/.
 *
 * One route table (serve/routes.c joins the tables of the api-*.c files)
 * maps METHOD + /api/v1/pattern to a handler.  A handler gets the request
 * (its person from a token or a session, the store of the worker thread
 * serving it, the run's plan, the clock) and fills a response: JSON, or an
 * error {"error": {"code", "message"}} with the CLI's wording.  Handlers
 * make the same library calls as the CLI's commands and never print.
 */
#ifndef GOLIVE_SERVE_H
#define GOLIVE_SERVE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/plan.h"
#include "golive/store.h"
#include "golive/token.h"

struct MHD_Connection;
struct sv_server;

/* What `golive serve` was asked. */
struct sv_conf {
    const char *state;    /* the store */
    const char *listen;   /* "127.0.0.1:8420" */
    const char *tls_cert; /* PEM files, or NULL */
    const char *tls_key;
    int insecure_http;         /* a non-loopback address without TLS */
    const char *trusted_proxy; /* take the client from X-Forwarded-For */
    unsigned threads;          /* worker threads (0: default) */
    unsigned max_connections;  /* 0: default */
    /* seconds a connection may stay idle or take to send its headers (0:
     * default, 30) */
    unsigned timeout;
    /* failed sign-ins from one address within a minute that block it for
     * a minute; 0: no limit */
    unsigned sign_in_limit;
    unsigned streams_per_token; /* open event streams one token may hold
                                 * (0: 16) */
};

/* Serve until SIGTERM / SIGINT.  Problems starting (address in use, no
 * store, no run, TLS files unreadable) come back in err; log lines go to
 * the stderr stream given. */
int sv_serve(const struct sv_conf *conf, struct gl_err *err);

/* The largest request body (a larger one is 413). */
#define SV_MAX_BODY (64 * 1024)
/* Path parameters ({id}) a pattern may hold. */
#define SV_MAX_ARGS 4

struct sv_req {
    const char *method;           /* "GET", "POST", "DELETE" */
    const char *path;             /* as asked, without the query */
    const char *arg[SV_MAX_ARGS]; /* the {…} of the pattern, in order */
    const char *body;             /* NUL-terminated; "" when none */
    size_t body_len;
    json_t *json; /* the body parsed: an object, or NULL when empty */
    struct MHD_Connection *conn;
    char client[64]; /* the client's address */
    /* who asks (routes without SV_PUBLIC): a token's or a session's */
    int authed;
    int via_session;
    int tried; /* it presented a credential (a sign-in limit counts it) */
    struct gl_token_info who;
    struct gl_actor actor; /* who.person, os_user "OSUSER@CLIENT" */
    char os_user[192];     /* set for every request, signed in or not */
    /* the worker thread's store and the run's plan, current */
    gl_store *s;
    const struct gl_plan *plan;
    const struct gl_run_info *info;
    int64_t now;
    struct sv_server *srv;
    struct sv_slot *slot; /* the worker's slot (sv_cached) */
    int tls;              /* served over TLS */
};

struct sv_resp {
    unsigned status;
    json_t *json; /* the body as JSON (owned), or */
    char *body;   /* a body of another type (malloc'd, owned) */
    size_t len;
    const char *type;     /* its Content-Type */
    const char *csp;      /* a Content-Security-Policy of its own, or NULL */
    char *set_cookie;     /* a Set-Cookie header (malloc'd), or NULL */
    unsigned retry_after; /* a Retry-After header (seconds), 0: none */
    /* a response of the handler's own making (an event stream's), sent
     * as it is with the headers above; owned */
    struct MHD_Response *mhd;
    /* a body that is not freed (an embedded file of the web interface),
     * its Cache-Control (else no-store) and ETag ("" none) */
    const char *static_body;
    const char *cache;
    char etag[40];
    /* an answer kept by sv_cached, sent as it was made (a hold on it) */
    struct sv_answer *answer;
};

typedef void (*sv_handler)(struct sv_req *req, struct sv_resp *resp);

enum sv_route_flags {
    SV_PUBLIC = 1, /* no token needed (healthz, sign-in) */
    SV_CHANGE = 2, /* changes the run: viewers refused, sessions need CSRF */
    SV_NORUN = 4,  /* needs no run's plan loaded */
    SV_ROOT = 8,   /* the pattern is a path of its own, not under /api/v1 */
};

/* A route: method, pattern under /api/v1 ("/tasks/{id}/start"; with
 * SV_ROOT a path of its own: "/healthz"), "{id}" segments captured. */
struct sv_route {
    const char *method;
    const char *pattern;
    sv_handler fn;
    unsigned flags;
};

/* Each api-*.c exports one table ending with {NULL}; routes.c lists them. */
extern const struct sv_route sv_routes_base[];
extern const struct sv_route sv_routes_defect[];   /* api-defect.c */
extern const struct sv_route sv_routes_duty[];     /* api-duty.c */
extern const struct sv_route sv_routes_decide[];   /* api-decide.c */
extern const struct sv_route sv_routes_task[];     /* api-task.c */
extern const struct sv_route sv_routes_scenario[]; /* api-scenario.c */
extern const struct sv_route sv_routes_crew[];     /* api-crew.c */
extern const struct sv_route sv_routes_read[];
extern const struct sv_route sv_routes_session[];
extern const struct sv_route sv_routes_web[]; /* web.c: the pages */
extern const struct sv_route *const sv_route_tables[];

/* Find the route of method + path: the route (req->arg filled), or NULL
 * with *status 404 (no such path) or 405 (the path exists, not this
 * method; allow gets the methods it takes, "GET, POST"). */
const struct sv_route *sv_route_find(const char *method, const char *path,
                                     const char *arg[SV_MAX_ARGS], char *argbuf,
                                     size_t argbuf_len, unsigned *status,
                                     char *allow, size_t allow_len);

/* Reads whose answer depends only on the store and the clock's second. */
enum sv_cache_key { SV_CACHE_STATUS, SV_CACHE_N };

/* Answer q with build's answer, kept for every worker: given again while
 * the run has the same events and plan version, the clock's second has
 * not moved and the plan file's stat has not changed; else one worker
 * makes it again while the others asking for that state wait for its
 * answer.  So GET /status costs a stamp, not an evaluation, per request,
 * and a change of the run one evaluation, not one per worker. */
void sv_cached(struct sv_req *q, struct sv_resp *r, unsigned key,
               sv_handler build);

/* Whether the plan file on disk differs from the run's copy (status's
 * plan_changed), compared again only when the file's stat changed. */
int sv_plan_changed(struct sv_req *q);

/* Responses. sv_json takes j (a new reference). */
void sv_json(struct sv_resp *r, unsigned status, json_t *j);
void sv_error(struct sv_resp *r, unsigned status, const char *code,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A library error as its HTTP status: GL_EUSAGE 400, GL_ENOTFOUND 404,
 * GL_EDENIED 403 (who may), GL_EREFUSED 409 (what first), GL_ENOMEM 413 (a size
 * cap); a store or internal error is 500 without its internals. */
void sv_fail(struct sv_resp *r, const struct gl_err *err);

/* The body's field name: a string (NULL when absent and !required); a
 * missing required field or another type is a 400 naming it, and 0 is
 * returned. */
int sv_field_str(struct sv_req *q, struct sv_resp *r, const char *name,
                 int required, const char **out);
/* A boolean field, 0 when absent. */
int sv_field_bool(struct sv_req *q, struct sv_resp *r, const char *name,
                  int *out);
/* A query parameter, or NULL. */
const char *sv_query(struct sv_req *q, const char *name);
/* A request header, or NULL. */
const char *sv_header(struct sv_req *q, const char *name);
/* A cookie of the request, or NULL. */
const char *sv_cookie(struct sv_req *q, const char *name);

/* Body parsing, apart from libmicrohttpd (the fuzz target calls it):
 * q->body (q->body_len bytes) as a JSON object into q->json; an empty
 * body leaves q->json NULL.  0 with resp filled (400) when it is not an
 * object. */
int sv_body_parse(struct sv_req *q, struct sv_resp *r);

/* A non-negative event number ("42") as text: 0 and *out, or -1. */
int sv_parse_seq(const char *s, int64_t *out);

/* The live event stream (serve/sse.c): one watcher thread follows the
 * store's log and wakes the streams (suspended connections) that have
 * something to send. */
struct sv_hub;
/* Start following the store at path from its last event. */
int sv_hub_start(struct sv_hub **out, const char *path, struct gl_err *err);
/* End every stream (before MHD_stop_daemon: no connection may stay
 * suspended) and stop the watcher. */
void sv_hub_stop(struct sv_hub *h);
/* Look at the store now (a change was made through this server). */
void sv_hub_poke(struct sv_hub *h);
void sv_hub_free(struct sv_hub *h);
/* The hub of the server serving a request. */
struct sv_hub *sv_server_hub(struct sv_server *sv);
/* What the server serving a request was asked. */
const struct sv_conf *sv_server_conf(struct sv_server *sv);
extern const struct sv_route sv_routes_stream[];

/* The number of an id in a path ("D-3", or "3"; prefix 'D'), or 0 with a
 * 404 in r naming what (a "defect") when the segment is not one. */
int64_t sv_id_number(struct sv_resp *r, const char *arg, char prefix,
                     const char *what);
/* Whether the body holds only the fields named (a NULL-terminated list);
 * otherwise a 400 naming the first other field and those it takes, and 0
 * is returned. */
int sv_fields_only(struct sv_req *q, struct sv_resp *r,
                   const char *const *names);
/* A library's actions list (new reference, taken) as who asks sees it:
 * for a viewer's token every action is refused ("forbidden": the token
 * changes nothing), in the list's own shape; else the list as it is. */
json_t *sv_actions_for(const struct sv_req *q, json_t *acts);

/* The number of an id in a path ("D-3", or "3"; prefix 'D'), or 0 with a
 * 404 in r naming what (a "defect") when the segment is not one. */
int64_t sv_id_number(struct sv_resp *r, const char *arg, char prefix,
                     const char *what);
/* Whether the body holds only the fields named (a NULL-terminated list);
 * otherwise a 400 naming the first other field and those it takes, and 0
 * is returned. */
int sv_fields_only(struct sv_req *q, struct sv_resp *r,
                   const char *const *names);
/* A library's actions list (new reference, taken) as who asks sees it:
 * for a viewer's token every action is refused ("forbidden": the token
 * changes nothing), in the list's own shape; else the list as it is. */
json_t *sv_actions_for(const struct sv_req *q, json_t *acts);

#endif
