/*
 * sse.c - GET /api/v1/events/stream: the run's events as they are written,
 * as Server-Sent Events (text/event-stream), whoever writes them (this
 * server, or a CLI process on the store's host).
 *
 * One watcher thread (the hub's) follows the store: every SSE_POLL_MS, and
 * after a change made through this server (at once, or SSE_GATHER_MS
 * after its last round when changes come faster: one write per stream
 * for them all), it reads the events after the last one it knows (an
 * indexed read that finds nothing when nothing changed), keeps the most
 * recent ones formatted in a ring, and resumes the streams that have
 * something to send.  A stream is a libmicrohttpd response read from a
 * callback; with nothing to send the callback suspends its connection
 * and returns 0, so an idle stream costs no thread and no polling of its
 * own.  A stream behind the ring (resumed from an old Last-Event-ID)
 * reads the store itself, SSE_CATCHUP events at a time.  Every stream
 * gets a ": ping"
 * comment after SSE_PING_MS without a write.  Test builds take
 * GOLIVE_TEST_SSE_PING_MS (a sooner ping) and GOLIVE_TEST_SSE_RING (a
 * smaller ring).
 *
 * Locking: hub->lock guards the ring, the list of streams and each
 * stream's fields; a callback suspends its connection with the lock held,
 * and the watcher resumes a connection with it held, so a wake-up is never
 * lost between "nothing to send" and the suspension.
 */
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "golive/reads.h"
#include "serve/serve.h"
#include "util/buf.h"
#include "util/clock.h"

#define SSE_POLL_MS 100
#define SSE_GATHER_MS 50 /* the shortest time between two rounds */
#define SSE_PING_MS 15000
#define SSE_RING 4096            /* events kept formatted */
#define SSE_RING_BYTES (4 << 20) /* and at most so many bytes of them */
#define SSE_BATCH 512            /* events the watcher reads at once */
#define SSE_CATCHUP 256          /* events a stream behind reads at once */
#define SSE_FILL (64 * 1024)     /* bytes a stream takes from the ring */
#define SSE_OUT_MAX (32 << 20)   /* a stream's buffer (a catch-up) */
#define SSE_STOP_WAIT_MS 3000    /* streams' time to end on SIGTERM */

struct sse_frame {
    int64_t seq;
    char *text; /* "id: N\ndata: {...}\n\n" */
    size_t len;
};

struct sv_stream {
    struct sv_hub *hub;
    struct MHD_Connection *conn;
    int64_t sent;      /* the last event queued for this client */
    struct gl_buf out; /* what is to be written */
    size_t off;        /* how much of out is written */
    int suspended;     /* its connection waits for the watcher */
    double last_io;    /* when it last wrote (monotonic ms) */
    /* whose it is: it ends when that token is revoked or expires */
    char token[24];
    int64_t expires_at; /* epoch seconds, 0: never */
    int ended;
    struct sv_stream *prev, *next;
};

struct sv_hub {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* the watcher's sleep; stop wakes it */
    pthread_cond_t gone; /* a stream ended */
    pthread_t thread;
    int thread_on;
    gl_store *s;    /* the watcher's connection */
    gl_store *back; /* streams catching up, under back_lock */
    pthread_mutex_t back_lock;
    struct sse_frame ring[SSE_RING];
    size_t first, n, bytes; /* ring[first] the oldest of n */
    int64_t last;           /* the last event the hub has seen */
    struct sv_stream *streams;
    unsigned n_streams;
    int stopping;
    int poked;       /* a change was made through the server: look now */
    size_t ring_cap; /* events the ring keeps: SSE_RING */
    unsigned ping_ms;
};

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Event e (an element of gl_read_events: seq, at, actor, os_user, kind,
 * payload, hash, as GET /events gives them) as one SSE message. */
static int frame_add(struct gl_buf *b, json_t *e)
{
    /* compact JSON holds no newline: one data: line */
    char *text = json_dumps(e, JSON_COMPACT);
    int rc;

    if (!text)
        return -1;
    rc = gl_buf_addf(b, "id: %" JSON_INTEGER_FORMAT "\ndata: %s\n\n",
                     json_integer_value(json_object_get(e, "seq")), text);
    free(text);
    return rc;
}

/* ---- the ring of recent events ------------------------------------- */

static struct sse_frame *ring_at(struct sv_hub *h, int64_t seq)
{
    struct sse_frame *f;
    int64_t d;

    if (!h->n || seq < h->ring[h->first].seq)
        return NULL;
    d = seq - h->ring[h->first].seq;
    if ((uint64_t)d >= h->n)
        return NULL;
    f = &h->ring[(h->first + (size_t)d) % SSE_RING];
    return f->seq == seq ? f : NULL;
}

static void ring_drop_oldest(struct sv_hub *h)
{
    struct sse_frame *f = &h->ring[h->first];

    h->bytes -= f->len;
    free(f->text);
    memset(f, 0, sizeof(*f));
    h->first = (h->first + 1) % SSE_RING;
    h->n--;
}

/* Keep frame (its text is the ring's now). */
static void ring_push(struct sv_hub *h, struct sse_frame *f)
{
    while (h->n && (h->n == h->ring_cap || h->bytes + f->len > SSE_RING_BYTES))
        ring_drop_oldest(h);
    /* the log's seqs follow each other; a gap starts the ring over */
    if (h->n && h->ring[(h->first + h->n - 1) % SSE_RING].seq + 1 != f->seq)
        while (h->n)
            ring_drop_oldest(h);
    h->ring[(h->first + h->n) % SSE_RING] = *f;
    h->n++;
    h->bytes += f->len;
}

/* ---- the watcher ---------------------------------------------------- */

struct batch {
    struct sse_frame f[SSE_BATCH];
    size_t n;
    char revoked[SSE_BATCH][24]; /* the tokens its token.revoke events end */
    size_t n_revoked;
};

/* The events after from (SSE_BATCH at most) as frames into b. */
static int batch_read(gl_store *s, int64_t from, struct batch *b,
                      struct gl_err *err)
{
    struct gl_buf t = GL_BUF_INIT;
    json_t *evs, *e;
    size_t i;
    int rc;

    b->n = 0;
    b->n_revoked = 0;
    if ((rc = gl_read_events(s, from, SSE_BATCH, &evs, err)))
        return rc;
    json_array_foreach(evs, i, e)
    {
        if (b->n == SSE_BATCH || frame_add(&t, e) || gl_buf_failed(&t)) {
            rc = gl_err_set(err, GL_ENOMEM, "out of memory");
            break;
        }
        const char *kind = json_string_value(json_object_get(e, "kind"));
        if (kind && !strcmp(kind, "token.revoke") && b->n_revoked < SSE_BATCH) {
            const char *id = json_string_value(
                json_object_get(json_object_get(e, "payload"), "id"));
            if (id)
                snprintf(b->revoked[b->n_revoked++], sizeof(b->revoked[0]),
                         "%s", id);
        }
        b->f[b->n].seq = json_integer_value(json_object_get(e, "seq"));
        b->f[b->n].len = t.len;
        b->f[b->n].text = gl_buf_detach(&t);
        b->n++;
    }
    gl_buf_release(&t);
    json_decref(evs);
    return rc;
}

/* Resume the suspended streams that have an event to send, a ping due,
 * or must end.  Under hub->lock. */
static void wake_streams(struct sv_hub *h, double now)
{
    struct sv_stream *st;
    int64_t wall = 0;

    (void)gl_clock_now(&wall);
    for (st = h->streams; st; st = st->next) {
        if (st->expires_at && wall >= st->expires_at)
            st->ended = 1; /* its token expired: no more events */
        if (st->suspended && (h->stopping || st->ended || st->sent < h->last ||
                              now - st->last_io >= (double)h->ping_ms)) {
            st->suspended = 0;
            MHD_resume_connection(st->conn);
        }
    }
}

/* The streams of the tokens b's events revoked end.  Under hub->lock. */
static void end_revoked(struct sv_hub *h, const struct batch *b)
{
    struct sv_stream *st;
    size_t i;

    for (i = 0; i < b->n_revoked; i++)
        for (st = h->streams; st; st = st->next)
            if (!strcmp(st->token, b->revoked[i]))
                st->ended = 1;
}

/* Sleep until the monotonic ms until (pokes do not end it; stopping
 * does).  Under hub->lock. */
static void gather_wait(struct sv_hub *h, double until)
{
    struct timespec ts;
    double now;

    while (!h->stopping && (now = mono_ms()) < until) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)((until - now) * 1e6);
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&h->wake, &h->lock, &ts);
    }
}

static void *watch(void *arg)
{
    struct sv_hub *h = arg;
    struct batch *b = calloc(1, sizeof(*b));
    struct gl_err err;
    struct timespec until;
    int64_t from;
    double last_round = 0;
    size_t i;
    int rc, failing = 0;

    pthread_mutex_lock(&h->lock);
    while (!h->stopping) {
        /* one round per SSE_GATHER_MS at most: the changes of a busy
         * moment reach each stream in one write, not one write each */
        gather_wait(h, last_round + SSE_GATHER_MS);
        if (h->stopping)
            break;
        last_round = mono_ms();
        from = h->last; /* only this thread changes it */
        h->poked = 0;
        pthread_mutex_unlock(&h->lock);
        rc = GL_ENOMEM;
        if (b) {
            gl_err_clear(&err);
            rc = batch_read(h->s, from, b, &err);
        }
        if (rc && !failing) /* said once, until it reads again */
            fprintf(stderr, "golive: serve: events stream: %s\n",
                    b ? err.msg : "out of memory");
        failing = rc != GL_OK;
        pthread_mutex_lock(&h->lock);
        for (i = 0; b && i < b->n; i++) {
            ring_push(h, &b->f[i]);
            h->last = b->f[i].seq;
        }
        if (b && !rc)
            end_revoked(h, b);
        wake_streams(h, mono_ms());
        if (b && b->n == SSE_BATCH)
            continue; /* more to read now */
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += SSE_POLL_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        if (!h->stopping && !h->poked)
            pthread_cond_timedwait(&h->wake, &h->lock, &until);
    }
    wake_streams(h, mono_ms());
    pthread_mutex_unlock(&h->lock);
    free(b);
    return NULL;
}

/* The ring starts with the log's last events: browsers reconnecting to a
 * restarted server are sent them from memory. */
static int ring_seed(struct sv_hub *h, struct gl_err *err)
{
    struct batch *b = calloc(1, sizeof(*b));
    size_t i;
    int rc;

    if (!b)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    rc =
        batch_read(h->s, h->last > SSE_BATCH ? h->last - SSE_BATCH : 0, b, err);
    for (i = 0; i < b->n; i++)
        if (b->f[i].seq <= h->last)
            ring_push(h, &b->f[i]);
        else
            free(b->f[i].text); /* the watcher reads it again */
    free(b);
    return rc;
}

int sv_hub_start(struct sv_hub **out, const char *path, struct gl_err *err)
{
    struct sv_hub *h;
    pthread_condattr_t ca;
    int rc;

    *out = NULL;
    if (!(h = calloc(1, sizeof(*h))))
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    pthread_mutex_init(&h->lock, NULL);
    pthread_mutex_init(&h->back_lock, NULL);
    /* waits are timed on the monotonic clock: the wall clock may jump */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->wake, &ca);
    pthread_cond_init(&h->gone, &ca);
    pthread_condattr_destroy(&ca);
    h->ping_ms = SSE_PING_MS;
    h->ring_cap = SSE_RING;
#ifdef GL_TEST_POINTS
    {
        /* the tests' heartbeat comes sooner than 15 s */
        const char *e = getenv("GOLIVE_TEST_SSE_PING_MS");
        if (e && atoi(e) > 0)
            h->ping_ms = (unsigned)atoi(e);
        /* and a smaller ring, so that streams fall behind it */
        e = getenv("GOLIVE_TEST_SSE_RING");
        if (e && atoi(e) > 0 && atoi(e) <= SSE_RING)
            h->ring_cap = (size_t)atoi(e);
    }
#endif
    if ((rc = gl_store_open(path, 0, &h->s, err)) ||
        (rc = gl_store_open(path, 0, &h->back, err)) ||
        (rc = gl_store_events_last(h->s, &h->last, err)) ||
        (rc = ring_seed(h, err)))
        goto fail;
    if (pthread_create(&h->thread, NULL, watch, h)) {
        rc = gl_err_set(err, GL_EINTERNAL, "cannot start a thread: %s",
                        strerror(errno));
        goto fail;
    }
    h->thread_on = 1;
    *out = h;
    return GL_OK;
fail:
    sv_hub_free(h);
    return rc;
}

void sv_hub_poke(struct sv_hub *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->poked = 1;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
}

void sv_hub_stop(struct sv_hub *h)
{
    struct timespec until;

    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->stopping = 1;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
    if (h->thread_on)
        pthread_join(h->thread, NULL);
    h->thread_on = 0;
    /* every stream was resumed to end; give them time to say so */
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += SSE_STOP_WAIT_MS / 1000;
    pthread_mutex_lock(&h->lock);
    wake_streams(h, mono_ms());
    while (h->n_streams)
        if (pthread_cond_timedwait(&h->gone, &h->lock, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&h->lock);
}

void sv_hub_free(struct sv_hub *h)
{
    if (!h)
        return;
    if (h->thread_on)
        sv_hub_stop(h);
    while (h->n)
        ring_drop_oldest(h);
    gl_store_close(h->s);
    gl_store_close(h->back);
    pthread_mutex_destroy(&h->lock);
    pthread_mutex_destroy(&h->back_lock);
    pthread_cond_destroy(&h->wake);
    pthread_cond_destroy(&h->gone);
    free(h);
}

/* ---- one stream ----------------------------------------------------- */

/* Queue what the stream has to send: events from the ring, or from the
 * store when it is behind the ring, or a ping.  Under hub->lock (which a
 * read of the store lets go meanwhile).  0 when there is nothing, 1 when
 * something was queued, -1 on failure. */
static int stream_fill(struct sv_stream *st, double now)
{
    struct sv_hub *h = st->hub;
    struct sse_frame *f;
    struct gl_err err;
    json_t *evs = NULL, *e;
    size_t i;
    int rc;

    if (st->sent < h->last) {
        if ((f = ring_at(h, st->sent + 1))) {
            for (; f && st->out.len < SSE_FILL; f = ring_at(h, st->sent + 1)) {
                gl_buf_add(&st->out, f->text, f->len);
                st->sent = f->seq;
            }
            return gl_buf_failed(&st->out) ? -1 : 1;
        }
        /* behind the ring: read the store without holding the others */
        pthread_mutex_unlock(&h->lock);
        pthread_mutex_lock(&h->back_lock);
        gl_err_clear(&err);
        rc = gl_read_events(h->back, st->sent, SSE_CATCHUP, &evs, &err);
        pthread_mutex_unlock(&h->back_lock);
        pthread_mutex_lock(&h->lock);
        json_array_foreach(rc ? NULL : evs, i, e)
        {
            frame_add(&st->out, e);
            st->sent = json_integer_value(json_object_get(e, "seq"));
        }
        json_decref(evs);
        if (rc || gl_buf_failed(&st->out)) {
            fprintf(stderr, "golive: serve: events stream: %s\n",
                    rc ? err.msg : "out of memory");
            return -1;
        }
        if (st->out.len)
            return 1;
    }
    if (now - st->last_io >= (double)h->ping_ms) {
        gl_buf_adds(&st->out, ": ping\n\n");
        return gl_buf_failed(&st->out) ? -1 : 1;
    }
    return 0;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct sv_stream *st = cls;
    struct sv_hub *h = st->hub;
    double now = mono_ms();
    size_t n;
    int got;

    (void)pos;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        if (st->off < st->out.len) {
            n = st->out.len - st->off;
            if (n > max)
                n = max;
            memcpy(buf, st->out.data + st->off, n);
            st->off += n;
            if (st->off == st->out.len) {
                gl_buf_reset(&st->out);
                st->off = 0;
            }
            st->last_io = now;
            pthread_mutex_unlock(&h->lock);
            return (ssize_t)n;
        }
        if (h->stopping || st->ended) {
            pthread_mutex_unlock(&h->lock);
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        if ((got = stream_fill(st, now)) < 0) {
            pthread_mutex_unlock(&h->lock);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (!got)
            break;
    }
    /* nothing to send: sleep until the watcher has something */
    st->suspended = 1;
    MHD_suspend_connection(st->conn);
    pthread_mutex_unlock(&h->lock);
    return 0;
}

static void stream_free(void *cls)
{
    struct sv_stream *st = cls;
    struct sv_hub *h = st->hub;

    pthread_mutex_lock(&h->lock);
    if (st->prev)
        st->prev->next = st->next;
    else
        h->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    h->n_streams--;
    pthread_cond_broadcast(&h->gone);
    pthread_mutex_unlock(&h->lock);
    gl_buf_release(&st->out);
    free(st);
}

/* GET /events/stream: from the event after Last-Event-ID (a reconnecting
 * browser sends it), else after ?after=N, else from the next event. */
static void stream(struct sv_req *q, struct sv_resp *r)
{
    struct sv_hub *h = sv_server_hub(q->srv);
    struct sv_stream *st;
    struct MHD_Response *mr;
    const char *from = sv_header(q, "Last-Event-ID"), *what = "Last-Event-ID";
    struct gl_err err;
    int64_t after = 0, last = 0;

    if (!from) {
        from = sv_query(q, "after");
        what = "after";
    }
    gl_err_clear(&err);
    if (from && sv_parse_seq(from, &after)) {
        sv_error(r, 400, "bad_request",
                 "'%s' takes an event number, not '%.40s'", what, from);
        return;
    }
    if (gl_store_events_last(q->s, &last, &err)) {
        sv_fail(r, &err);
        return;
    }
    /* none given, or past the log's end (an id of another run's log):
     * from the next event */
    if (!from || after > last)
        after = last;
    if (!(st = calloc(1, sizeof(*st)))) {
        sv_error(r, 500, "internal", "the server could not do it (ENOMEM)");
        return;
    }
    st->hub = h;
    st->conn = q->conn;
    st->sent = after;
    snprintf(st->token, sizeof(st->token), "%s", q->who.id);
    st->expires_at = q->who.expires_at;
    st->out.max = SSE_OUT_MAX;
    st->last_io = mono_ms();
    /* the first bytes tell the client the stream is open */
    gl_buf_addf(&st->out,
                "retry: 3000\n: the events of run %s after %" PRId64 "\n\n",
                q->info->run_id, after);
    if (gl_buf_failed(&st->out)) {
        gl_buf_release(&st->out);
        free(st);
        sv_error(r, 500, "internal", "the server could not do it (ENOMEM)");
        return;
    }
    pthread_mutex_lock(&h->lock);
    if (h->stopping) {
        pthread_mutex_unlock(&h->lock);
        gl_buf_release(&st->out);
        free(st);
        sv_error(r, 503, "stopping", "the server is stopping");
        return;
    }
    {
        /* one token (a wall screen's, a lost laptop's) cannot take the
         * server's connections from the rest of the team */
        const struct sv_stream *o;
        unsigned mine = 0, cap = sv_server_conf(q->srv)->streams_per_token
                                     ? sv_server_conf(q->srv)->streams_per_token
                                     : 16;
        for (o = h->streams; o; o = o->next)
            mine += !strcmp(o->token, st->token);
        if (mine >= cap) {
            pthread_mutex_unlock(&h->lock);
            gl_buf_release(&st->out);
            free(st);
            r->retry_after = 10;
            sv_error(r, 429, "too_many_requests",
                     "token %s holds %u open event streams already (at "
                     "most %u): close one first",
                     q->who.id, mine, cap);
            return;
        }
    }
    st->next = h->streams;
    if (h->streams)
        h->streams->prev = st;
    h->streams = st;
    h->n_streams++;
    pthread_mutex_unlock(&h->lock);
    /* from here the response frees the stream (stream_free) */
    mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
                                           stream_read, st, stream_free);
    if (!mr) {
        stream_free(st);
        sv_error(r, 500, "internal", "the server could not do it (ENOMEM)");
        return;
    }
    /* a reverse proxy (nginx) passes each event on as it comes */
    MHD_add_response_header(mr, "X-Accel-Buffering", "no");
    r->status = 200;
    r->type = "text/event-stream";
    r->mhd = mr;
}

const struct sv_route sv_routes_stream[] = {
    {"GET", "/events/stream", stream, 0},
    {NULL, NULL, NULL, 0},
};
