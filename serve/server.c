/*
 * server.c - the HTTP server: libmicrohttpd's daemon, one request's life
 * (body, route, identity, handler, response, access log line), the pool
 * of store connections the worker threads share, and the signals that
 * stop it.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "golive/reads.h"
#include "golive/status.h"
#include "serve/serve.h"
#include "util/buf.h"
#include "util/clock.h"

/* A made answer every worker may send: libmicrohttpd queues one response
 * on many connections (it counts them itself); refs counts the cache and
 * the requests about to queue it (under the server's cache_lock). */
struct sv_answer {
    struct MHD_Response *mr;
    unsigned status;
    unsigned refs;
};

/* What a kept answer was made of: the run at its events and plan
 * version, the plan file's state, the clock's second, and the second
 * of the machine's own clock (status also reads what no event changes,
 * an audit's outcome, a chain edited behind the server's back, a run:
 * task's process gone: made again every second even under a GOLIVE_NOW
 * that holds still). */
struct sv_kept {
    int64_t tick;
    int64_t now;
    int64_t events;
    int plan_version;
    int plan_changed;
};

/* One connection to the store and the run's plan as it loaded there. */
struct sv_slot {
    gl_store *s;
    struct gl_run_info info;
    struct gl_plan *plan;
    int busy;
    /* what the slot saw last: while it holds, the run is as loaded */
    struct gl_store_stamp stamp;
    int stamped;
    /* the plan file's stat when it was last compared with the run's copy */
    struct stat plan_st;
    int plan_st_ok, plan_changed, plan_checked;
    /* the last bearer token this slot found good, while the store has not
     * moved since (a revocation moves it): no hash and query per request */
    char tok[GL_SECRET_LEN];
    struct gl_token_info tok_who;
    struct gl_store_stamp tok_stamp;
    int tok_ok;
};

/* Failed authentications of one client address (sign-in limits). */
struct sv_client {
    char addr[64];
    double window; /* monotonic ms the minute of failures began */
    unsigned fails;
    double blocked_until; /* monotonic ms; 0: not blocked */
};

#define SV_LOG_FLUSH_MS 100 /* the access log's longest wait for stderr */
#define SV_CLIENTS 1024     /* addresses remembered (a hash table) */
#define SV_BLOCK_MS 60000.0 /* failures within a minute block this long */

struct sv_server {
    const struct sv_conf *conf;
    struct MHD_Daemon *d;
    pthread_mutex_t lock;
    pthread_cond_t freed;
    struct sv_slot *slots;
    unsigned n_slots;
    char os_user[128];
    struct sv_hub *hub; /* the live event stream's (serve/sse.c) */
    pthread_mutex_t limit_lock;
    struct sv_client *clients; /* SV_CLIENTS */
    /* the answers every worker may serve: made once per state of the
     * run (its events, its plan, the clock's second) by one worker while
     * the others asking for that state wait for it (under cache_lock) */
    pthread_mutex_t cache_lock;
    pthread_cond_t made;
    /* the workers' changes one after another: a worker waiting for the
     * store's write lock would sleep in SQLite's busy handler (1 ms, then
     * longer) with every connection of its thread waiting too */
    pthread_mutex_t write_lock;
    /* the changes waiting for the writer thread, which makes them one
     * after another while the workers go on answering reads (a change
     * waits for the disk: fsync) */
    pthread_mutex_t work_lock;
    pthread_cond_t work_cond;
    struct sv_call *work_head, *work_tail;
    int work_stop, writer_on;
    pthread_t writer;
    unsigned unsent; /* changes made, their answers not sent yet */
    pthread_cond_t sent;
    struct sv_answer *kept[SV_CACHE_N];
    struct sv_kept kept_of[SV_CACHE_N];
    int making[SV_CACHE_N]; /* a worker makes making_of's answer */
    struct sv_kept making_of[SV_CACHE_N];
};

struct sv_hub *sv_server_hub(struct sv_server *sv)
{
    return sv->hub;
}

const struct sv_conf *sv_server_conf(struct sv_server *sv)
{
    return sv->conf;
}

/* One request, from its first byte to its log line. */
struct sv_call {
    char method[16];
    char path[512];
    struct gl_buf body;
    int too_big;
    double t0;
    unsigned status;
    char person[128];
    /* a change handed to the writer thread: its connection suspended
     * meanwhile, its answer made there, sent when it is resumed */
    struct MHD_Connection *conn;
    const char *url, *meth;
    struct sv_resp resp;
    int answered;
    struct sv_call *next;
};

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The run in slot sl as the store has it now: nothing read while the
 * store's stamp holds; the record alone (gl_store_run_brief) when it
 * moved; the plan loaded again only when the run's plan changed (an
 * amend). */
static int slot_refresh(struct sv_slot *sl, struct gl_err *err)
{
    struct gl_store_stamp now;
    struct gl_run_info info;
    struct gl_plan *plan = NULL;
    int rc;

    if ((rc = gl_store_stamp(sl->s, &now, err)))
        return rc;
    if (sl->plan && sl->stamped && now.data == sl->stamp.data &&
        now.own == sl->stamp.own)
        return GL_OK;
    if (sl->plan) {
        memset(&info, 0, sizeof(info));
        if ((rc = gl_store_run_brief(sl->s, &info, err)))
            return rc;
        if (info.plan_version == sl->info.plan_version &&
            !strcmp(info.plan_sha256, sl->info.plan_sha256)) {
            /* the same plan: keep its text, take the record's fields */
            info.plan_text = sl->info.plan_text;
            info.plan_len = sl->info.plan_len;
            info.plan_tree = sl->info.plan_tree;
            info.plan_tree_len = sl->info.plan_tree_len;
            sl->info = info;
            sl->stamp = now;
            sl->stamped = 1;
            return GL_OK;
        }
    }
    memset(&info, 0, sizeof(info));
    if ((rc = gl_run_load(sl->s, 0, &info, &plan, err))) {
        gl_run_info_release(&info);
        return rc;
    }
    gl_plan_free(sl->plan);
    gl_run_info_release(&sl->info);
    sl->info = info;
    sl->plan = plan;
    sl->plan_checked = 0;
    sl->stamp = now;
    sl->stamped = 1;
    return GL_OK;
}

/* A free slot of the pool, its run current; NULL with resp filled when
 * the store fails. */
static struct sv_slot *slot_take(struct sv_server *sv, int need_run,
                                 struct sv_resp *resp)
{
    struct sv_slot *sl = NULL;
    struct gl_err err;
    unsigned i;

    pthread_mutex_lock(&sv->lock);
    for (;;) {
        for (i = 0; i < sv->n_slots && sv->slots[i].busy; i++)
            ;
        if (i < sv->n_slots)
            break;
        pthread_cond_wait(&sv->freed, &sv->lock);
    }
    sl = &sv->slots[i];
    sl->busy = 1;
    pthread_mutex_unlock(&sv->lock);
    gl_err_clear(&err);
    if (!sl->s && gl_store_open(sv->conf->state, 0, &sl->s, &err))
        goto fail;
    if (!need_run || !slot_refresh(sl, &err))
        return sl;
fail:
    sv_fail(resp, &err);
    pthread_mutex_lock(&sv->lock);
    sl->busy = 0;
    pthread_cond_signal(&sv->freed);
    pthread_mutex_unlock(&sv->lock);
    return NULL;
}

int sv_plan_changed(struct sv_req *q)
{
    struct sv_slot *sl = q->slot;
    struct stat st;
    int ok = stat(sl->info.plan_path, &st) == 0;

    if (sl->plan_checked && ok == sl->plan_st_ok &&
        (!ok ||
         (st.st_mtim.tv_sec == sl->plan_st.st_mtim.tv_sec &&
          st.st_mtim.tv_nsec == sl->plan_st.st_mtim.tv_nsec &&
          st.st_size == sl->plan_st.st_size &&
          st.st_ino == sl->plan_st.st_ino && st.st_dev == sl->plan_st.st_dev)))
        return sl->plan_changed;
    sl->plan_changed = gl_status_plan_differs(sl->info.plan_path, &sl->info);
    sl->plan_st_ok = ok;
    if (ok)
        sl->plan_st = st;
    sl->plan_checked = 1;
    return sl->plan_changed;
}

static void kept_of(struct sv_kept *k, const struct sv_req *q, int changed)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    k->tick = (int64_t)ts.tv_sec;
    k->now = q->now;
    k->events = q->info->events;
    k->plan_version = q->info->plan_version;
    k->plan_changed = changed;
}

static int kept_same(const struct sv_kept *a, const struct sv_kept *b)
{
    return a->tick == b->tick && a->now == b->now && a->events == b->events &&
           a->plan_version == b->plan_version &&
           a->plan_changed == b->plan_changed;
}

/* Let go of one hold on a (the cache's, or a request's).  Under
 * cache_lock. */
static void answer_drop(struct sv_answer *a)
{
    if (a && !--a->refs) {
        MHD_destroy_response(a->mr);
        free(a);
    }
}

static void add_headers(struct MHD_Response *mr, const struct sv_resp *r);

/* r's JSON as an answer to keep (its headers on), or NULL. */
static struct sv_answer *answer_make(struct sv_resp *r)
{
    struct sv_answer *a = calloc(1, sizeof(*a));
    char *text = json_dumps(r->json, JSON_COMPACT);

    if (!a || !text ||
        !(a->mr = MHD_create_response_from_buffer(strlen(text), text,
                                                  MHD_RESPMEM_MUST_FREE))) {
        free(a);
        free(text);
        return NULL;
    }
    r->type = "application/json";
    add_headers(a->mr, r);
    a->status = r->status;
    a->refs = 1;
    return a;
}

void sv_cached(struct sv_req *q, struct sv_resp *r, unsigned key,
               sv_handler build)
{
    struct sv_server *sv = q->srv;
    struct sv_kept want;
    struct sv_answer *a = NULL;
    struct gl_store_stamp after;
    struct gl_err err;
    int mine;

    kept_of(&want, q, sv_plan_changed(q));
    pthread_mutex_lock(&sv->cache_lock);
    for (;;) {
        if (sv->kept[key] && kept_same(&sv->kept_of[key], &want)) {
            r->answer = sv->kept[key];
            r->answer->refs++;
            r->status = r->answer->status;
            pthread_mutex_unlock(&sv->cache_lock);
            return;
        }
        /* another worker makes it for this state of the run: its answer,
         * not the same work again (with writers moving the run many times
         * a second, every worker would evaluate it after each change) */
        if (!sv->making[key] || !kept_same(&sv->making_of[key], &want))
            break;
        pthread_cond_wait(&sv->made, &sv->cache_lock);
    }
    if ((mine = !sv->making[key])) {
        sv->making[key] = 1;
        sv->making_of[key] = want;
    }
    pthread_mutex_unlock(&sv->cache_lock);
    build(q, r);
    gl_err_clear(&err);
    /* kept when nothing changed the run while it was made (else it may
     * be of either state) */
    if (r->json && r->status < 500 && !gl_store_stamp(q->s, &after, &err) &&
        after.data == q->slot->stamp.data) {
        a = answer_make(r);
        /* the slot's own stamp follows: its run did not change */
        q->slot->stamp = after;
    }
    pthread_mutex_lock(&sv->cache_lock);
    if (mine)
        sv->making[key] = 0;
    if (a) {
        answer_drop(sv->kept[key]);
        sv->kept[key] = a;
        sv->kept_of[key] = want;
        a->refs++; /* this request's */
        r->answer = a;
        json_decref(r->json);
        r->json = NULL;
    }
    pthread_cond_broadcast(&sv->made);
    pthread_mutex_unlock(&sv->cache_lock);
}

static void slot_give(struct sv_server *sv, struct sv_slot *sl)
{
    pthread_mutex_lock(&sv->lock);
    sl->busy = 0;
    pthread_cond_signal(&sv->freed);
    pthread_mutex_unlock(&sv->lock);
}

static void client_addr(struct MHD_Connection *c, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;

    snprintf(out, n, "unknown");
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
                  (socklen_t)n);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
                  (socklen_t)n);
}

/* The client's address: the peer's, or behind the trusted proxy the
 * last address of its X-Forwarded-For (the one the proxy saw; earlier
 * entries are whatever the client wrote), and whether the proxy was
 * reached over TLS (X-Forwarded-Proto: https). */
static void client_of(struct sv_req *q)
{
    const char *xff, *last;
    char addr[64];
    unsigned char bin[sizeof(struct in6_addr)];
    size_t n;

    client_addr(q->conn, q->client, sizeof(q->client));
    if (!q->srv->conf->trusted_proxy ||
        strcmp(q->client, q->srv->conf->trusted_proxy))
        return;
    /* the proxy served the client over TLS: its cookie is Secure too */
    if ((last = sv_header(q, "X-Forwarded-Proto")) &&
        !strcasecmp(last, "https"))
        q->tls = 1;
    if (!(xff = sv_header(q, "X-Forwarded-For")))
        return;
    last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ' || *last == '\t')
        last++;
    n = strcspn(last, " \t");
    if (!n || n >= sizeof(addr))
        return;
    memcpy(addr, last, n);
    addr[n] = '\0';
    /* only an address: anything else is not the proxy's */
    if (inet_pton(AF_INET, addr, bin) == 1 ||
        inet_pton(AF_INET6, addr, bin) == 1)
        snprintf(q->client, sizeof(q->client), "%s", addr);
}

/* The slot of addr in the table of clients, or NULL.  With insert, a
 * free slot of its probe window when it is not there, else the one whose
 * window is oldest among those not blocked now: a blocked address is
 * never forgotten to make room (a flood of other addresses would lift its
 * block); NULL when all are.  Under limit_lock. */
static struct sv_client *client_slot(struct sv_server *sv, const char *addr,
                                     int insert, double now)
{
    uint32_t h = 2166136261u;
    const char *c;
    struct sv_client *pick = NULL, *x;
    unsigned i;

    for (c = addr; *c; c++)
        h = (h ^ (unsigned char)*c) * 16777619u;
    for (i = 0; i < 8; i++) {
        x = &sv->clients[(h + i) % SV_CLIENTS];
        if (!strcmp(x->addr, addr))
            return x;
        if (x->addr[0] && x->blocked_until > now)
            continue;
        if (!pick || !x->addr[0] || (pick->addr[0] && x->window < pick->window))
            pick = x;
    }
    if (!insert || !pick)
        return NULL;
    memset(pick, 0, sizeof(*pick));
    snprintf(pick->addr, sizeof(pick->addr), "%s", addr);
    return pick;
}

/* Seconds addr stays blocked (0: it is not). */
static unsigned client_blocked(struct sv_server *sv, const char *addr)
{
    struct sv_client *x;
    double now = mono_ms();
    unsigned left = 0;

    pthread_mutex_lock(&sv->limit_lock);
    x = client_slot(sv, addr, 0, now);
    if (x && x->blocked_until > now)
        left = (unsigned)((x->blocked_until - now) / 1000.0) + 1;
    pthread_mutex_unlock(&sv->limit_lock);
    return left;
}

/* One more failed sign-in from addr (a token, session or cookie that is
 * not good): the tenth within a minute blocks it for a minute. */
static void client_failed(struct sv_server *sv, const char *addr)
{
    struct sv_client *x;
    double now = mono_ms();

    pthread_mutex_lock(&sv->limit_lock);
    x = client_slot(sv, addr, 1, now);
    if (!x) { /* every slot of its window blocks another address */
        pthread_mutex_unlock(&sv->limit_lock);
        return;
    }
    if (!x->fails || now - x->window > 60000.0) {
        x->window = now;
        x->fails = 0;
    }
    if (++x->fails >= sv->conf->sign_in_limit) {
        x->blocked_until = now + SV_BLOCK_MS;
        x->fails = 0;
    }
    pthread_mutex_unlock(&sv->limit_lock);
}

/* A 401 for a token or session that is not (or no longer) good. */
static void refuse(struct sv_resp *resp, const struct gl_err *err,
                   const char *what)
{
    if (err->code == GL_ENOTFOUND)
        sv_error(resp, 401, "unauthorized", "unknown %s", what);
    else if (err->code == GL_EREFUSED)
        sv_error(resp, 401, "unauthorized", "%s", err->msg);
    else
        sv_fail(resp, err);
}

/* Whether tok is the token slot sl found good last, the store unmoved
 * since (so not revoked) and its expiry not reached: then *who is its. */
static int token_known(const struct sv_slot *sl, const char *tok, int64_t now,
                       struct gl_token_info *who)
{
    unsigned char diff = 0;
    size_t i;

    if (!sl->tok_ok || sl->tok_stamp.data != sl->stamp.data ||
        sl->tok_stamp.own != sl->stamp.own ||
        (sl->tok_who.expires_at && now >= sl->tok_who.expires_at))
        return 0;
    /* every byte compared, whichever differs: no timing to learn from */
    for (i = 0; i < sizeof(sl->tok); i++)
        diff |= (unsigned char)(sl->tok[i] ^ tok[i]);
    if (diff)
        return 0;
    *who = sl->tok_who;
    return 1;
}

static void token_keep(struct sv_slot *sl, const char *tok,
                       const struct gl_token_info *who)
{
    memset(sl->tok, 0, sizeof(sl->tok));
    snprintf(sl->tok, sizeof(sl->tok), "%s", tok);
    sl->tok_who = *who;
    sl->tok_stamp = sl->stamp;
    sl->tok_ok = sl->stamped;
}

/* Who asks: "Authorization: Bearer TOKEN", else the golive_session cookie
 * (whose changes must carry the session's X-Golive-CSRF: 403 when it is
 * missing or wrong).  0 when resp was filled. */
static int authenticate(struct sv_req *q, int change, struct sv_resp *resp)
{
    const char *h = sv_header(q, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *sess = sv_cookie(q, "golive_session");
    struct gl_err err;

    gl_err_clear(&err);
    if (h && !strncasecmp(h, "Bearer ", 7)) {
        /* the scheme in any case (RFC 7235), the token's hex too */
        char tok[GL_SECRET_LEN + 1] = {0};
        size_t i = 0;
        for (h += 7; *h == ' '; h++)
            ;
        for (; h[i] && h[i] != ' ' && i < sizeof(tok) - 1; i++)
            tok[i] = (char)tolower((unsigned char)h[i]);
        tok[i] = '\0';
        q->tried = 1;
        for (h += i; *h == ' ' || *h == '\t'; h++)
            ;
        if (*h) {
            /* "Bearer TOKEN junk" is no token of ours */
            sv_error(resp, 401, "unauthorized",
                     "unknown token: 'Authorization: Bearer TOKEN' holds the "
                     "token alone");
            return 0;
        }
        if (!token_known(q->slot, tok, q->now, &q->who)) {
            if (gl_token_check(q->s, tok, q->now, &q->who, &err)) {
                /* a token of the run, revoked or expired, guesses nothing:
                 * a laptop left polling with it must not lock everyone
                 * behind its address out; only unknown ones count */
                if (err.code == GL_EREFUSED)
                    q->tried = 0;
                refuse(resp, &err, "token");
                return 0;
            }
            token_keep(q->slot, tok, &q->who);
        }
    } else if (!h && sess && *sess) {
        q->tried = 1;
        if (gl_session_check(q->s, sess, NULL, q->now, &q->who, &err)) {
            /* a session of the run whose token was revoked or expired
             * guesses nothing (a tab left polling): not counted */
            if (err.code == GL_EREFUSED)
                q->tried = 0;
            refuse(resp, &err, "session: sign in again");
            return 0;
        }
        if (change) {
            const char *csrf = sv_header(q, "X-Golive-CSRF");
            if (!csrf ||
                gl_session_check(q->s, sess, csrf, q->now, &q->who, &err)) {
                sv_error(resp, 403, "forbidden",
                         "missing or wrong X-Golive-CSRF: a change made "
                         "with the session's cookie sends the csrf that "
                         "signing in returned");
                return 0;
            }
        }
        q->via_session = 1;
    } else {
        sv_error(resp, 401, "unauthorized",
                 "no token: send 'Authorization: Bearer TOKEN' ('golive "
                 "token issue' makes one), or sign in (POST "
                 "/api/v1/session)");
        return 0;
    }
    q->authed = 1;
    q->actor.person = q->who.person;
    q->actor.os_user = q->os_user;
    return 1;
}

static void dispatch(struct sv_server *sv, struct MHD_Connection *c,
                     const char *method, const char *url, struct sv_call *call,
                     struct sv_resp *resp)
{
    const struct sv_route *rt;
    struct sv_req q;
    struct sv_slot *sl = NULL;
    char argbuf[1024], allow[64];
    unsigned status = 0, blocked;

    memset(&q, 0, sizeof(q));
    q.method = method;
    q.path = url;
    q.conn = c;
    q.srv = sv;
    q.tls = sv->conf->tls_cert != NULL;
    q.body = gl_buf_str(&call->body);
    q.body_len = call->body.len;
    client_of(&q);
    snprintf(q.os_user, sizeof(q.os_user), "%s@%s", sv->os_user, q.client);
    rt = sv_route_find(method, url, q.arg, argbuf, sizeof(argbuf), &status,
                       allow, sizeof(allow));
    if (!rt) {
        if (status == 405)
            sv_error(resp, 405, "method_not_allowed", "%s takes %s, not %s",
                     url, allow, method);
        else
            sv_error(resp, 404, "not_found", "no such route: %s", url);
        return;
    }
    /* an address that failed to sign in too often waits, whatever it asks
     * but the health check */
    if (!(rt->flags & SV_PUBLIC && rt->flags & SV_NORUN) &&
        (blocked = client_blocked(sv, q.client))) {
        sv_error(resp, 429, "too_many_requests",
                 "too many failed sign-ins from %s: try again in %u s",
                 q.client, blocked);
        resp->retry_after = blocked;
        return;
    }
    if (call->too_big) {
        sv_error(resp, 413, "too_large", "the request body is over %d KiB",
                 SV_MAX_BODY / 1024);
        return;
    }
    if (q.body_len && !sv_header(&q, MHD_HTTP_HEADER_AUTHORIZATION)) {
        /* a browser's form can post to another site without asking
         * (text/plain, urlencoded): a body for a session or a cookie is
         * JSON, which a page of another site cannot send unasked */
        const char *ct = sv_header(&q, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (!ct || strncasecmp(ct, "application/json", 16) ||
            (ct[16] && ct[16] != ';' && ct[16] != ' ')) {
            sv_error(resp, 415, "unsupported_media_type",
                     "the body is sent as Content-Type: application/json");
            return;
        }
    }
    if (!sv_body_parse(&q, resp))
        return;
    if (gl_clock_now(&q.now)) {
        sv_error(resp, 500, "internal", "the server's clock is broken");
        goto out;
    }
    if (!(sl = slot_take(sv, !(rt->flags & SV_NORUN), resp)))
        goto out;
    q.s = sl->s;
    q.plan = sl->plan;
    q.info = &sl->info;
    q.slot = sl;
    if (!(rt->flags & SV_PUBLIC)) {
        if (!authenticate(&q, rt->flags & SV_CHANGE, resp))
            goto out;
        snprintf(call->person, sizeof(call->person), "%s", q.who.person);
        if ((rt->flags & SV_CHANGE) && q.who.viewer) {
            sv_error(resp, 403, "forbidden",
                     "'%s' holds a viewer's token, which changes nothing",
                     q.who.person);
            goto out;
        }
        /* an amend may have taken the person out of the plan: their
         * token reads on, but changes nothing, as the CLI refuses them */
        if ((rt->flags & SV_CHANGE) && q.plan &&
            !gl_plan_person(q.plan, q.who.person)) {
            sv_error(resp, 403, "forbidden",
                     "'%s' is not a person of the run's plan (version %d): "
                     "their token changes nothing",
                     q.who.person, q.info->plan_version);
            goto out;
        }
    }
    if (rt->flags & SV_CHANGE) {
        pthread_mutex_lock(&sv->write_lock);
        rt->fn(&q, resp);
        pthread_mutex_unlock(&sv->write_lock);
    } else {
        rt->fn(&q, resp);
    }
    /* a change made here reaches the event streams without waiting for
     * the watcher's next look */
    if ((rt->flags & SV_CHANGE) && resp->status < 300)
        sv_hub_poke(sv->hub);
    if (q.authed)
        snprintf(call->person, sizeof(call->person), "%s", q.who.person);
out:
    /* a wrong credential counts, not a request that brought none (a
     * page asking before its person signed in guesses nothing) */
    if (resp->status == 401 && q.tried && sv->conf->sign_in_limit)
        client_failed(sv, q.client);
    if (sl)
        slot_give(sv, sl);
    json_decref(q.json);
}

static const char *const default_csp =
    "default-src 'self'; frame-ancestors 'none'";

/* Our headers on mr: r's type, CSP and caching, nosniff, its cookie. */
static void add_headers(struct MHD_Response *mr, const struct sv_resp *r)
{
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->type ? r->type : "text/plain; charset=utf-8");
    MHD_add_response_header(mr, "Content-Security-Policy",
                            r->csp ? r->csp : default_csp);
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(mr, "Cache-Control",
                            r->cache ? r->cache : "no-store");
    if (r->etag[0])
        MHD_add_response_header(mr, MHD_HTTP_HEADER_ETAG, r->etag);
    if (r->set_cookie)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie);
    if (r->retry_after) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%u", r->retry_after);
        MHD_add_response_header(mr, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
}

static enum MHD_Result respond(struct sv_server *sv, struct MHD_Connection *c,
                               struct sv_resp *r, struct sv_call *call)
{
    struct MHD_Response *mr;
    enum MHD_Result ok;
    char *text = NULL;
    size_t len;

    if (r->answer) {
        /* a kept answer: its response, headers on, queued once more */
        call->status = r->answer->status;
        ok = MHD_queue_response(c, r->answer->status, r->answer->mr);
        pthread_mutex_lock(&sv->cache_lock);
        answer_drop(r->answer);
        pthread_mutex_unlock(&sv->cache_lock);
        r->answer = NULL;
        return ok;
    }
    if (r->mhd) {
        mr = r->mhd; /* the handler's own (an event stream) */
        r->mhd = NULL;
    } else if (r->json) {
        text = json_dumps(r->json, JSON_COMPACT);
        len = text ? strlen(text) : 0;
        mr = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
        r->type = "application/json";
    } else if (r->static_body) {
        mr = MHD_create_response_from_buffer(r->len, (void *)r->static_body,
                                             MHD_RESPMEM_PERSISTENT);
    } else {
        mr = MHD_create_response_from_buffer(r->len, r->body ? r->body : "",
                                             r->body ? MHD_RESPMEM_MUST_FREE
                                                     : MHD_RESPMEM_PERSISTENT);
        r->body = NULL;
    }
    if (!mr) {
        free(text);
        return MHD_NO;
    }
    add_headers(mr, r);
    call->status = r->status;
    ok = MHD_queue_response(c, r->status, mr);
    MHD_destroy_response(mr);
    return ok;
}

/* src as one field of a log line: a byte that is not printable ASCII,
 * a space or a backslash as \xNN, so that no request can end the line
 * or forge another (a path's %0a, an escape sequence, U+202E). */
static void log_escape(char *dst, size_t n, const char *src)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *c;
    size_t k = 0;

    for (c = (const unsigned char *)src; *c && k + 5 < n; c++) {
        if (*c > 0x20 && *c < 0x7f && *c != '\\') {
            dst[k++] = (char)*c;
            continue;
        }
        dst[k++] = '\\';
        dst[k++] = 'x';
        dst[k++] = hex[*c >> 4];
        dst[k++] = hex[*c & 15];
    }
    dst[k] = '\0';
}

/* The URI's %XX decoded in place, but %00: a NUL would cut the path
 * short ("/defects%00/D-1/verify" is not "/defects"), so it stays as
 * written and matches no route. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    char *r = s, *w = s;

    (void)cls;
    (void)c;
    while (*r) {
        if (r[0] == '%' && isxdigit((unsigned char)r[1]) &&
            isxdigit((unsigned char)r[2]) && !(r[1] == '0' && r[2] == '0')) {
            char h[3] = {r[1], r[2], '\0'};
            *w++ = (char)strtol(h, NULL, 16);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

static void resp_release(struct sv_resp *r)
{
    json_decref(r->json);
    free(r->body);
    free(r->set_cookie);
    if (r->mhd)
        MHD_destroy_response(r->mhd);
    memset(r, 0, sizeof(*r));
}

/* Hand a change to the writer thread, its connection suspended until
 * the answer is made: 1 handed over, 0 when it is to be made here (not
 * a change, or no writer thread), -1 when the server is stopping (the
 * change is not made: the daemon may close its connection before an
 * answer made now is sent). */
static int hand_over(struct sv_server *sv, struct MHD_Connection *c,
                     const char *url, const char *method, struct sv_call *call)
{
    const struct sv_route *rt;
    const char *arg[SV_MAX_ARGS];
    char argbuf[1024], allow[64];
    unsigned status = 0;

    rt = sv_route_find(method, url, arg, argbuf, sizeof(argbuf), &status, allow,
                       sizeof(allow));
    if (!rt || !(rt->flags & SV_CHANGE))
        return 0;
    pthread_mutex_lock(&sv->work_lock);
    if (sv->work_stop) {
        pthread_mutex_unlock(&sv->work_lock);
        return -1;
    }
    if (!sv->writer_on) {
        pthread_mutex_unlock(&sv->work_lock);
        return 0;
    }
    call->conn = c;
    call->url = url;
    call->meth = method;
    call->next = NULL;
    /* suspended before the writer can see it, so before it resumes it */
    MHD_suspend_connection(c);
    if (sv->work_tail)
        sv->work_tail->next = call;
    else
        sv->work_head = call;
    sv->work_tail = call;
    pthread_cond_signal(&sv->work_cond);
    pthread_mutex_unlock(&sv->work_lock);
    return 1;
}

/* The writer thread: the changes handed over, in their order, until
 * stopped with none left. */
static void *writer(void *arg)
{
    struct sv_server *sv = arg;
    struct sv_call *call;

    pthread_mutex_lock(&sv->work_lock);
    for (;;) {
        while (!sv->work_head && !sv->work_stop)
            pthread_cond_wait(&sv->work_cond, &sv->work_lock);
        if (!(call = sv->work_head))
            break;
        if (!(sv->work_head = call->next))
            sv->work_tail = NULL;
        pthread_mutex_unlock(&sv->work_lock);
        memset(&call->resp, 0, sizeof(call->resp));
        dispatch(sv, call->conn, call->meth, call->url, call, &call->resp);
        call->answered = 1;
        pthread_mutex_lock(&sv->work_lock);
        sv->unsent++; /* until on_done: stopping waits for it */
        pthread_mutex_unlock(&sv->work_lock);
        /* from here the connection's thread may answer and free call */
        MHD_resume_connection(call->conn);
        pthread_mutex_lock(&sv->work_lock);
    }
    pthread_mutex_unlock(&sv->work_lock);
    return NULL;
}

#define SV_SEND_WAIT_MS 5000 /* stopping: the made changes' answers */

/* The writer ends once the changes handed to it are made; then their
 * answers are sent (a change made is answered, SIGTERM or not), for
 * SV_SEND_WAIT_MS at most (a client that reads nothing). */
static void writer_stop(struct sv_server *sv)
{
    struct timespec until;

    pthread_mutex_lock(&sv->work_lock);
    sv->work_stop = 1;
    pthread_cond_signal(&sv->work_cond);
    pthread_mutex_unlock(&sv->work_lock);
    if (sv->writer_on)
        pthread_join(sv->writer, NULL);
    sv->writer_on = 0;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += SV_SEND_WAIT_MS / 1000;
    pthread_mutex_lock(&sv->work_lock);
    while (sv->unsent)
        if (pthread_cond_timedwait(&sv->sent, &sv->work_lock, &until) ==
            ETIMEDOUT)
            break;
    pthread_mutex_unlock(&sv->work_lock);
}

/* A body announced over SV_MAX_BODY is answered 413 before it is read
 * (the connection then closes): a client sending a gigabyte holds no
 * connection while it uploads. */
static enum MHD_Result too_big_now(struct sv_server *sv,
                                   struct MHD_Connection *c,
                                   struct sv_call *call)
{
    const char *cl = MHD_lookup_connection_value(
        c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    struct sv_resp resp;
    enum MHD_Result ok;
    char *end;
    unsigned long long n;

    if (!cl)
        return MHD_YES;
    errno = 0;
    n = strtoull(cl, &end, 10);
    if (end == cl || *end || errno || n <= SV_MAX_BODY)
        return MHD_YES;
    memset(&resp, 0, sizeof(resp));
    sv_error(&resp, 413, "too_large", "the request body is over %d KiB",
             SV_MAX_BODY / 1024);
    ok = respond(sv, c, &resp, call);
    resp_release(&resp);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct sv_server *sv = cls;
    struct sv_call *call = *con_cls;
    struct sv_resp resp;
    enum MHD_Result ok;

    (void)version;
    if (!call) {
        if (!(call = calloc(1, sizeof(*call))))
            return MHD_NO;
        call->body.max = SV_MAX_BODY;
        call->t0 = mono_ms();
        log_escape(call->method, sizeof(call->method), method);
        log_escape(call->path, sizeof(call->path), url);
        *con_cls = call;
        return too_big_now(sv, c, call);
    }
    if (*upload_size) {
        if (!call->too_big && (call->body.len + *upload_size > SV_MAX_BODY ||
                               gl_buf_add(&call->body, upload, *upload_size)))
            call->too_big = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    if (call->answered) {
        /* the writer thread made its answer and resumed it */
        ok = respond(sv, c, &call->resp, call);
        resp_release(&call->resp);
        return ok;
    }
    memset(&resp, 0, sizeof(resp));
    switch (hand_over(sv, c, url, method, call)) {
    case 1:
        return MHD_YES;
    case -1:
        resp.retry_after = 5;
        sv_error(&resp, 503, "stopping",
                 "the server is stopping: nothing was changed; send it "
                 "again to the next one");
        break;
    default:
        dispatch(sv, c, method, url, call, &resp);
    }
    ok = respond(sv, c, &resp, call);
    resp_release(&resp);
    return ok;
}

/* The access log line: method, path, status, person, milliseconds (never
 * a token: none travels in a path, and headers are not logged). */
static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode why)
{
    struct sv_call *call = *con_cls;

    (void)c;
    if (!call)
        return;
    if (call->answered) {
        /* a change the writer made: sent (or its client gone) */
        struct sv_server *sv = cls;
        resp_release(&call->resp);
        pthread_mutex_lock(&sv->work_lock);
        sv->unsent--;
        pthread_cond_broadcast(&sv->sent);
        pthread_mutex_unlock(&sv->work_lock);
    }
    fprintf(stderr, "%s %s %u %s %.1fms%s\n", call->method, call->path,
            call->status, call->person[0] ? call->person : "-",
            mono_ms() - call->t0,
            why == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (cut)");
    gl_buf_release(&call->body);
    free(call);
    *con_cls = NULL;
}

/* ADDR:PORT ("127.0.0.1:8420", "[::1]:8420") as a socket address. */
static int parse_listen(const char *s, struct sockaddr_storage *ss,
                        int *loopback, struct gl_err *err)
{
    char host[128];
    const char *colon;
    char *end;
    long port;
    size_t hl;

    memset(ss, 0, sizeof(*ss));
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            goto bad;
        hl = (size_t)(rb - s - 1);
        colon = rb + 1;
        s++;
    } else {
        if (!(colon = strrchr(s, ':')))
            goto bad;
        hl = (size_t)(colon - s);
    }
    if (!hl || hl >= sizeof(host))
        goto bad;
    memcpy(host, s, hl);
    host[hl] = '\0';
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
        goto bad;
    if (!strcmp(host, "localhost"))
        snprintf(host, sizeof(host), "127.0.0.1");
    {
        struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
            in4->sin_family = AF_INET;
            in4->sin_port = htons((uint16_t)port);
            *loopback = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
        } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons((uint16_t)port);
            *loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
        } else {
            goto bad;
        }
    }
    return GL_OK;
bad:
    return gl_err_set(err, GL_EUSAGE,
                      "--listen takes ADDRESS:PORT (127.0.0.1:8420, "
                      "[::1]:8420), not '%s'",
                      s);
}

int sv_serve(const struct sv_conf *conf, struct gl_err *err)
{
    struct sv_server sv;
    struct sockaddr_storage ss;
    struct gl_buf cert = GL_BUF_INIT, key = GL_BUF_INIT;
    struct passwd *pw = getpwuid(geteuid());
    struct gl_run_info info;
    struct gl_plan *plan = NULL;
    gl_store *s = NULL;
    unsigned flags, threads = conf->threads ? conf->threads : 4, i;
    sigset_t set;
    int loopback = 0, sig, rc;

    /* the access log is written in blocks, not a write per request: it
     * reaches stderr within SV_LOG_FLUSH_MS (the main thread flushes it
     * while it waits for a signal), and at once on stopping */
    setvbuf(stderr, NULL, _IOFBF, 1 << 16);
    memset(&sv, 0, sizeof(sv));
    memset(&info, 0, sizeof(info));
    sv.conf = conf;
    snprintf(sv.os_user, sizeof(sv.os_user), "%s",
             pw && pw->pw_name ? pw->pw_name : "unknown");
    if ((rc = parse_listen(conf->listen, &ss, &loopback, err)))
        return rc;
    if (conf->trusted_proxy) {
        unsigned char bin[16];
        if (inet_pton(AF_INET, conf->trusted_proxy, bin) != 1 &&
            inet_pton(AF_INET6, conf->trusted_proxy, bin) != 1)
            return gl_err_set(err, GL_EUSAGE,
                              "--trusted-proxy takes the proxy's IP address "
                              "(127.0.0.1, ::1), not '%s'",
                              conf->trusted_proxy);
    }
    {
        int64_t now;
        if (gl_clock_now(&now))
            return gl_err_set(err, GL_EUSAGE,
                              "GOLIVE_NOW is not an ISO 8601 time with an "
                              "offset");
    }
    if (!loopback && !conf->tls_cert && !conf->insecure_http)
        return gl_err_set(err, GL_EREFUSED,
                          "'%s' is not a loopback address: serve it with "
                          "--tls-cert and --tls-key, or say --insecure-http "
                          "(tokens would cross the network in clear)",
                          conf->listen);
    if (!conf->tls_cert != !conf->tls_key)
        return gl_err_set(err, GL_EUSAGE,
                          "--tls-cert and --tls-key go together");
    if (conf->tls_cert && (gl_buf_read_file(&cert, conf->tls_cert, 1 << 20) ||
                           gl_buf_read_file(&key, conf->tls_key, 1 << 20))) {
        rc = gl_err_set(err, GL_EIO, "cannot read '%s'",
                        cert.len ? conf->tls_key : conf->tls_cert);
        goto out;
    }
    /* the store must hold a run before anyone is told to connect */
    if ((rc = gl_store_open(conf->state, 0, &s, err)) ||
        (rc = gl_run_load(s, 0, &info, &plan, err)))
        goto out;
    if (gl_store_schema_before(s) > 0 &&
        gl_store_schema_before(s) < GL_STORE_SCHEMA)
        fprintf(stderr,
                "golive: state store '%s' upgraded from schema version %d to "
                "%d (older golive binaries now refuse it)\n",
                conf->state, gl_store_schema_before(s), GL_STORE_SCHEMA);
    sv.n_slots = threads * 2;
    if (!(sv.slots = calloc(sv.n_slots, sizeof(*sv.slots))) ||
        !(sv.clients = calloc(SV_CLIENTS, sizeof(*sv.clients)))) {
        free(sv.slots);
        free(sv.clients);
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto out;
    }
    sv.slots[0].s = s;
    sv.slots[0].info = info;
    sv.slots[0].plan = plan;
    s = NULL;
    plan = NULL;
    memset(&info, 0, sizeof(info));
    pthread_mutex_init(&sv.lock, NULL);
    pthread_mutex_init(&sv.cache_lock, NULL);
    pthread_cond_init(&sv.made, NULL);
    pthread_mutex_init(&sv.write_lock, NULL);
    pthread_mutex_init(&sv.work_lock, NULL);
    pthread_cond_init(&sv.work_cond, NULL);
    {
        /* waited for on the monotonic clock (writer_stop) */
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&sv.sent, &ca);
        pthread_condattr_destroy(&ca);
    }
    pthread_mutex_init(&sv.limit_lock, NULL);
    pthread_cond_init(&sv.freed, NULL);
    /* SIGTERM / SIGINT are waited for here, never delivered to another
     * thread: blocked before the first one starts (they inherit it) */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* every slot's connection opened now: one opened later checks the
     * schema in a write transaction, and would wait for a writer (a CLI
     * process's change) with the requests of its thread */
    for (i = 1; i < sv.n_slots; i++)
        if ((rc = gl_store_open(conf->state, 0, &sv.slots[i].s, err)))
            goto stop;
    if ((rc = sv_hub_start(&sv.hub, conf->state, err)))
        goto stop;
    signal(SIGPIPE, SIG_IGN);
    /* the changes are made by one writer thread (hand_over) */
    sv.writer_on = !pthread_create(&sv.writer, NULL, writer, &sv);
    flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
            MHD_ALLOW_SUSPEND_RESUME;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (conf->tls_cert)
        flags |= MHD_USE_TLS;
    {
        /* the TLS files only under TLS, a pool only of more than one
         * thread: libmicrohttpd warns of options that do not apply */
        struct MHD_OptionItem ops[4] = {{MHD_OPTION_END, 0, NULL}};
        size_t k = 0;
        if (threads > 1)
            ops[k++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE,
                                               (intptr_t)threads, NULL};
        if (conf->tls_cert) {
            ops[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0,
                                               (void *)gl_buf_str(&cert)};
            ops[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0,
                                               (void *)gl_buf_str(&key)};
        }
        ops[k] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
        sv.d = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, &sv, MHD_OPTION_SOCK_ADDR,
            (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
            conf->max_connections ? conf->max_connections : 1000u,
            MHD_OPTION_CONNECTION_TIMEOUT, conf->timeout ? conf->timeout : 30u,
            MHD_OPTION_NOTIFY_COMPLETED, on_done, &sv,
            MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_ARRAY, ops,
            MHD_OPTION_END);
    }
    if (!sv.d) {
        rc = gl_err_set(err, GL_EIO,
                        "cannot serve on %s (in use, or not this host's)",
                        conf->listen);
        goto stop;
    }
    fprintf(stderr, "golive: serving %s on %s://%s\n", conf->state,
            conf->tls_cert ? "https" : "http", conf->listen);
    for (;;) {
        struct timespec wait = {0, SV_LOG_FLUSH_MS * 1000000L};
        fflush(stderr);
        sig = sigtimedwait(&set, NULL, &wait);
        if (sig == SIGTERM || sig == SIGINT)
            break;
        if (sig < 0 && errno != EAGAIN && errno != EINTR) {
            sig = SIGTERM;
            break;
        }
    }
    fprintf(stderr, "golive: %s: stopping\n",
            sig == SIGINT ? "interrupted" : "terminated");
    fflush(stderr);
    /* no connection may stay suspended when the daemon stops: the
     * streams end, the changes handed over are made and answered */
    sv_hub_stop(sv.hub);
    writer_stop(&sv);
    MHD_stop_daemon(sv.d);
    rc = GL_OK;
stop:
    if (sv.writer_on)
        writer_stop(&sv);
    for (i = 0; i < sv.n_slots; i++) {
        gl_plan_free(sv.slots[i].plan);
        gl_run_info_release(&sv.slots[i].info);
        gl_store_close(sv.slots[i].s);
    }
    free(sv.slots);
    for (i = 0; i < SV_CACHE_N; i++)
        answer_drop(sv.kept[i]);
    pthread_cond_destroy(&sv.made);
    pthread_mutex_destroy(&sv.write_lock);
    pthread_mutex_destroy(&sv.work_lock);
    pthread_cond_destroy(&sv.work_cond);
    pthread_cond_destroy(&sv.sent);
    pthread_mutex_destroy(&sv.cache_lock);
    sv_hub_free(sv.hub);
    free(sv.clients);
    pthread_mutex_destroy(&sv.limit_lock);
    pthread_mutex_destroy(&sv.lock);
    pthread_cond_destroy(&sv.freed);
out:
    gl_plan_free(plan);
    gl_run_info_release(&info);
    gl_store_close(s);
    gl_buf_release(&cert);
    gl_buf_release(&key);
    return rc;
}
