/*
 * api-read.c - the run's reads: status, gate, syncs, checks, report,
 * audit, plan, events.  Each is the library call of the CLI command that
 * shows the same, and answers the JSON that command's --json prints.
 */
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golive/audit.h"
#include "golive/gate.h"
#include "golive/reads.h"
#include "golive/report.h"
#include "golive/status.h"
#include "serve/serve.h"
#include "util/buf.h"
#include "util/num.h"

/* The largest page of GET /events. */
#define SV_EVENTS_MAX 1000

static void status_build(struct sv_req *q, struct sv_resp *r)
{
    struct gl_err err;
    json_t *doc = NULL;

    gl_err_clear(&err);
    if (gl_status_json(q->s, q->plan, q->info, q->now, sv_plan_changed(q), &doc,
                       &err)) {
        sv_fail(r, &err);
        return;
    }
    sv_json(r, 200, doc);
}

/* GET /status?view=cli: what `golive status --server` prints its text
 * from (src/cmd-status.c's renderer): the evaluation as the library gives
 * it (times in epoch seconds, with the audit line), the run's record
 * (id, cutover, rehearsal, plan version and SHA-256, events, switch time
 * and offset), the clock, whether the plan file differs.  Not kept. */
static void status_cli(struct sv_req *q, struct sv_resp *r)
{
    struct gl_err err;
    json_t *st = NULL;

    gl_err_clear(&err);
    if (gl_status_eval(q->s, q->plan, q->info->switch_at, q->now, 0, &st,
                       &err) ||
        gl_status_audit(q->s, st, &err)) {
        json_decref(st);
        sv_fail(r, &err);
        return;
    }
    sv_json(r, 200,
            json_pack("{s:s, s:s, s:b, s:i, s:s, s:I, s:I, s:I, s:i, s:b, "
                      "s:o}",
                      "run_id", q->info->run_id, "cutover", q->info->cutover,
                      "rehearsal", q->info->rehearsal, "plan_version",
                      q->info->plan_version, "plan_sha256",
                      q->info->plan_sha256, "events",
                      (json_int_t)q->info->events, "now", (json_int_t)q->now,
                      "switch_at", (json_int_t)q->info->switch_at,
                      "switch_offset", q->info->switch_offset, "plan_changed",
                      sv_plan_changed(q), "status", st));
}

/* GET /status: `golive status --json`, kept while nothing moved. */
static void status(struct sv_req *q, struct sv_resp *r)
{
    const char *view = sv_query(q, "view");

    if (view && !strcmp(view, "cli"))
        status_cli(q, r);
    else
        sv_cached(q, r, SV_CACHE_STATUS, status_build);
}

/* GET /gate: `golive gate --json`, 200 whether it passes or not. */
static void gate(struct sv_req *q, struct sv_resp *r)
{
    struct gl_err err;
    json_t *g = NULL;

    gl_err_clear(&err);
    if (gl_gate_eval(q->s, q->plan, &g, &err)) {
        sv_fail(r, &err);
        return;
    }
    sv_json(r, 200, g);
}

/* GET /syncs: the sync executions as the run recorded them. */
static void syncs(struct sv_req *q, struct sv_resp *r)
{
    struct gl_err err;
    json_t *x = NULL;

    gl_err_clear(&err);
    if (gl_read_syncs(q->s, &x, &err)) {
        sv_fail(r, &err);
        return;
    }
    sv_json(r, 200, json_pack("{s:o}", "syncs", x));
}

/* GET /checks: the latest result of each check of the plan. */
static void checks(struct sv_req *q, struct sv_resp *r)
{
    struct gl_err err;
    json_t *x = NULL;

    gl_err_clear(&err);
    if (gl_read_checks(q->s, q->plan, &x, &err)) {
        sv_fail(r, &err);
        return;
    }
    sv_json(r, 200, json_pack("{s:o}", "checks", x));
}

/* The CSP of the HTML report: its one inline <style> by its SHA-256, no
 * script, images only inline (the SVG timeline is markup, not a fetch). */
static void report_csp(const char *html, char *out, size_t n)
{
    const char *a = strstr(html, "<style>"), *b;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    unsigned len = 0;

    snprintf(out, n,
             "default-src 'none'; img-src data:; frame-ancestors 'none'; "
             "base-uri 'none'; form-action 'none'");
    if (!a || !(b = strstr(a, "</style>")))
        return;
    a += strlen("<style>");
    if (EVP_Digest(a, (size_t)(b - a), md, &len, EVP_sha256(), NULL) != 1)
        return;
    EVP_EncodeBlock(b64, md, (int)len);
    snprintf(out, n,
             "default-src 'none'; style-src 'sha256-%s'; img-src data:; "
             "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
             b64);
}

/* GET /report?format=md|html|json: `golive report`. */
static void report(struct sv_req *q, struct sv_resp *r)
{
    /* r->csp is not freed: it points here, and the response is sent by
     * this thread before it serves another request */
    static _Thread_local char csp[256];
    const char *format = sv_query(q, "format");
    struct gl_buf b = GL_BUF_INIT;
    struct gl_err err;
    json_t *rep = NULL;

    if (!format)
        format = "md";
    if (strcmp(format, "md") && strcmp(format, "html") &&
        strcmp(format, "json")) {
        sv_error(r, 400, "bad_request",
                 "'format' takes md, html or json, not '%.40s'", format);
        return;
    }
    gl_err_clear(&err);
    if (gl_report_build(q->s, q->plan, q->info, q->now, &rep, &err)) {
        sv_fail(r, &err);
        return;
    }
    if (!strcmp(format, "json")) {
        sv_json(r, 200, rep);
        return;
    }
    if (!strcmp(format, "html"))
        gl_report_html(rep, &b);
    else
        gl_report_markdown(rep, &b);
    json_decref(rep);
    if (gl_buf_check(&b, "the report", &err)) {
        gl_buf_release(&b);
        sv_fail(r, &err);
        return;
    }
    r->status = 200;
    r->len = b.len;
    r->body = gl_buf_detach(&b);
    if (!strcmp(format, "html")) {
        report_csp(r->body, csp, sizeof(csp));
        r->csp = csp;
        r->type = "text/html; charset=utf-8";
    } else {
        r->type = "text/markdown; charset=utf-8";
    }
}

/* GET /audit[?head=N:HASH]: `golive audit verify [--head N:HASH] --json`. */
static void audit(struct sv_req *q, struct sv_resp *r)
{
    struct gl_audit a;
    struct gl_err err;
    char head[100];
    int rc;

    const char *head_arg = sv_query(q, "head");
    struct gl_audit_head expect;

    if (head_arg && gl_audit_head_parse(head_arg, &expect)) {
        sv_error(r, 400, "bad_request",
                 "'head' takes N:HASH as 'golive audit head' prints it (the "
                 "hash: its 64 hex digits, or at least the first 16), not "
                 "'%.80s'",
                 head_arg);
        return;
    }
    gl_err_clear(&err);
    rc = gl_audit_verify(q->s, head_arg ? &expect : NULL, &a, &err);
    if (rc && rc != GL_ECORRUPT) {
        gl_audit_release(&a);
        sv_fail(r, &err);
        return;
    }
    snprintf(head, sizeof(head), "%" PRId64 ":%s", a.head.seq, a.head.hash);
    sv_json(r, 200,
            json_pack("{s:s, s:b, s:I, s:s, s:s?, s:O, s:O}", "state",
                      gl_store_path(q->s), "ok", rc == GL_OK, "events",
                      (json_int_t)a.events, "head", head, "problem",
                      rc ? err.msg : NULL, "problems", a.problems, "warnings",
                      a.warnings));
    gl_audit_release(&a);
}

/* GET /plan: the run's own copy of the plan. */
static void plan(struct sv_req *q, struct sv_resp *r)
{
    /* the plan is code: its people read it, a wall screen does not */
    if (q->who.viewer) {
        sv_error(r, 403, "forbidden",
                 "'%s' holds a viewer's token: the plan's text is for the "
                 "plan's people",
                 q->who.person);
        return;
    }
    sv_json(r, 200,
            json_pack("{s:i, s:s, s:s, s:s%}", "version", q->info->plan_version,
                      "sha256", q->info->plan_sha256, "path",
                      q->info->plan_path, "text", q->info->plan_text,
                      q->info->plan_len));
}

/* A query parameter as a number from min to max (def when absent); 0
 * with a 400 naming it when it is not one. */
static int query_num(struct sv_req *q, struct sv_resp *r, const char *name,
                     int64_t def, int64_t min, int64_t max, int64_t *out)
{
    const char *v = sv_query(q, name);
    int64_t n;

    *out = def;
    if (!v)
        return 1;
    /* the CLI's reading of a number (util/num.h): "+2" is 2 */
    if (gl_int_parse(v, &n) || n < min || n > max) {
        sv_error(r, 400, "bad_request",
                 "'%s' takes a whole number from %" PRId64 " to %" PRId64
                 ", not '%.40s'",
                 name, min, max, v);
        return 0;
    }
    *out = n;
    return 1;
}

/* GET /events?after=N&limit=M: the event log from after N, M at most
 * (capped at SV_EVENTS_MAX). */
static void events(struct sv_req *q, struct sv_resp *r)
{
    struct gl_err err;
    int64_t after, limit;
    json_t *x = NULL, *last;

    if (!query_num(q, r, "after", 0, 0, INT64_MAX, &after) ||
        !query_num(q, r, "limit", 100, 1, INT64_MAX, &limit))
        return;
    if (limit > SV_EVENTS_MAX)
        limit = SV_EVENTS_MAX;
    gl_err_clear(&err);
    if (gl_read_events(q->s, after, limit, &x, &err)) {
        sv_fail(r, &err);
        return;
    }
    last = json_array_get(x, json_array_size(x) - 1);
    sv_json(r, 200,
            json_pack("{s:o, s:I, s:I, s:b}", "events", x, "after",
                      (json_int_t)after, "next",
                      last ? json_integer_value(json_object_get(last, "seq"))
                           : (json_int_t)after,
                      "more", (json_int_t)json_array_size(x) == limit));
}

const struct sv_route sv_routes_read[] = {
    {"GET", "/status", status, 0}, {"GET", "/gate", gate, 0},
    {"GET", "/syncs", syncs, 0},   {"GET", "/checks", checks, 0},
    {"GET", "/report", report, 0}, {"GET", "/audit", audit, 0},
    {"GET", "/plan", plan, 0},     {"GET", "/events", events, 0},
    {NULL, NULL, NULL, 0},
};
