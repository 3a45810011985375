/*
 * client.c - the CLI through a server (see client.h): libcurl, one
 * request at a time, the answer's status mapped to the CLI's exit codes.
 */
#include "client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "util/buf.h"
#include "util/clock.h"

/* A string member's value, "" when it is not one. */
static const char *jstr(json_t *v)
{
    const char *s = json_string_value(v);

    return s ? s : "";
}

/* The most of an answer kept (a report, a task's last MiB of output). */
#define CLIENT_MAX_ANSWER (64 * 1024 * 1024)

const char *client_server(const char *opt, const char *state)
{
    const char *env = getenv("GOLIVE_SERVER");

    if (opt && *opt)
        return opt;
    if (state && *state)
        return NULL; /* a store named on the command line: that one */
    return env && *env ? env : NULL;
}

int client_credentials_path(char *buf, size_t n)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

    if (xdg && *xdg == '/')
        snprintf(buf, n, "%s/golive/credentials", xdg);
    else if (home && *home)
        snprintf(buf, n, "%s/.config/golive/credentials", home);
    else
        return -1;
    return 0;
}

/* The token `golive login` stored for url into c->token; 0 when found. */
static int stored_token(struct client *c)
{
    char path[4200];
    json_t *j, *t;
    int rc = -1;

    if (client_credentials_path(path, sizeof(path)))
        return -1;
    if (!(j = json_load_file(path, 0, NULL)))
        return -1;
    t = json_object_get(j, "token");
    if (json_is_string(t) && !strcmp(jstr(json_object_get(j, "url")), c->url) &&
        json_string_length(t) < sizeof(c->token)) {
        snprintf(c->token, sizeof(c->token), "%s", json_string_value(t));
        rc = 0;
    }
    json_decref(j);
    return rc;
}

/* Whether url's host is a loopback address (or localhost). */
static int loopback(const char *url)
{
    const char *h = strstr(url, "://");
    size_t n;

    h = h ? h + 3 : url;
    if (*h == '[')
        return !strncmp(h, "[::1]", 5);
    n = strcspn(h, ":/");
    return (n == 9 && !strncasecmp(h, "localhost", 9)) ||
           !strncmp(h, "127.", 4);
}

int client_open(struct client *c, const char *url, const char *as)
{
    const char *tok = getenv("GOLIVE_TOKEN");
    size_t n;

    memset(c, 0, sizeof(*c));
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
        cli_error("the server '%s' is not an http:// or https:// URL", url);
        return EXIT_ERROR;
    }
    if (strlen(url) >= sizeof(c->url)) {
        cli_error("the server's URL is too long");
        return EXIT_ERROR;
    }
    snprintf(c->url, sizeof(c->url), "%s", url);
    n = strlen(c->url);
    while (n > 0 && c->url[n - 1] == '/')
        c->url[--n] = '\0';
    if (tok && *tok) {
        if (strlen(tok) >= sizeof(c->token)) {
            cli_error("GOLIVE_TOKEN is too long to be a token");
            return EXIT_ERROR;
        }
        snprintf(c->token, sizeof(c->token), "%s", tok);
    } else if (stored_token(c)) {
        cli_error("no token for the server '%s': set GOLIVE_TOKEN, or sign "
                  "in with 'golive login %s'",
                  c->url, c->url);
        return EXIT_REFUSED;
    }
    if (!strncmp(c->url, "http://", 7) && !loopback(c->url))
        cli_warn("the server '%s' is plain http: your token crosses the "
                 "network in clear (use https://)",
                 c->url);
    {
        /* who the token is: the actor of what follows */
        json_t *me = NULL;
        int rc = client_call(c, "GET", "/me", NULL, &me);
        const char *p;
        if (rc)
            return rc;
        p = json_string_value(json_object_get(me, "person"));
        snprintf(c->person, sizeof(c->person), "%s", p ? p : "");
        json_decref(me);
    }
    if (as && *as && strcmp(as, c->person)) {
        cli_error("--as '%s' refused: the token is %s's; through a server "
                  "you act as the token's person (sign in with %s's token "
                  "to act as them)",
                  as, c->person, as);
        return EXIT_REFUSED;
    }
    return EXIT_OK;
}

void client_close(struct client *c)
{
    volatile char *p = c->token;
    size_t i;

    for (i = 0; i < sizeof(c->token); i++)
        p[i] = 0;
}

int client_exit_code(long status)
{
    if (status >= 200 && status < 300)
        return EXIT_OK;
    if (status == 401 || status == 403 || status == 409 || status == 429)
        return EXIT_REFUSED;
    return EXIT_ERROR;
}

const char *client_escape(const char *s, char *buf, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *s && o + 4 < n; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || strchr("-._~", ch))
            buf[o++] = (char)ch;
        else {
            buf[o++] = '%';
            buf[o++] = hex[ch >> 4];
            buf[o++] = hex[ch & 15];
        }
    }
    buf[o] = '\0';
    return buf;
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    struct gl_buf *b = ctx;

    if (b->len + size * n > CLIENT_MAX_ANSWER)
        return 0; /* too much: the transfer fails */
    if (gl_buf_add(b, p, size * n))
        return 0;
    return size * n;
}

/* The request; *status the HTTP status (0: no answer, printed). */
static int request(struct client *c, const char *method, const char *path,
                   json_t *body, long *status, struct gl_buf *answer)
{
    static int inited;
    struct curl_slist *h = NULL;
    char *send = NULL, url[2200], auth[600], errbuf[CURL_ERROR_SIZE] = "";
    CURL *cu;
    CURLcode cc;

    *status = 0;
    if (!inited) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
            cli_error("cannot start libcurl");
            return EXIT_ERROR;
        }
        inited = 1;
    }
    if (!(cu = curl_easy_init())) {
        cli_error("cannot start libcurl");
        return EXIT_ERROR;
    }
    snprintf(url, sizeof(url), "%s/api/v1%s", c->url, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Accept: application/json");
    memset(auth, 0, sizeof(auth));
    curl_easy_setopt(cu, CURLOPT_URL, url);
    curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(cu, CURLOPT_WRITEDATA, answer);
    curl_easy_setopt(cu, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "http,https");
    /* a proxy of the environment is not for the team's own server on
     * this host */
    curl_easy_setopt(cu, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
    if (body) {
        if (!(send = json_dumps(body, JSON_COMPACT))) {
            cli_error("out of memory");
            curl_slist_free_all(h);
            curl_easy_cleanup(cu);
            return EXIT_ERROR;
        }
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(cu, CURLOPT_POSTFIELDS, send);
    } else if (!strcmp(method, "POST")) {
        curl_easy_setopt(cu, CURLOPT_POSTFIELDS, "");
    }
    curl_easy_setopt(cu, CURLOPT_HTTPHEADER, h);
    cc = curl_easy_perform(cu);
    if (cc == CURLE_OK)
        curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(h);
    curl_easy_cleanup(cu);
    free(send);
    if (cc != CURLE_OK) {
        cli_error("cannot reach the server '%s': %s", c->url,
                  errbuf[0] ? errbuf : curl_easy_strerror(cc));
        return EXIT_ERROR;
    }
    if (gl_buf_failed(answer)) {
        cli_error("the answer of the server '%s' is too large", c->url);
        return EXIT_ERROR;
    }
    return EXIT_OK;
}

/* A non-2xx answer: its message printed, its exit code. */
static int answer_error(struct client *c, long status, const struct gl_buf *b)
{
    json_t *j = json_loadb(b->data ? b->data : "", b->len, 0, NULL);
    const char *msg = json_string_value(
        json_object_get(json_object_get(j, "error"), "message"));

    if (msg)
        cli_error("%s", msg);
    else
        cli_error("the server '%s' answered %ld", c->url, status);
    json_decref(j);
    return client_exit_code(status);
}

int client_call(struct client *c, const char *method, const char *path,
                json_t *body, json_t **out)
{
    struct gl_buf b = GL_BUF_INIT;
    long status;
    int rc;

    if (out)
        *out = NULL;
    if ((rc = request(c, method, path, body, &status, &b)))
        goto out;
    if (status < 200 || status >= 300) {
        rc = answer_error(c, status, &b);
        goto out;
    }
    if (out)
        *out = json_loadb(b.data ? b.data : "", b.len, 0, NULL);
out:
    gl_buf_release(&b);
    return rc;
}

int client_get_text(struct client *c, const char *path, char **text,
                    size_t *len)
{
    struct gl_buf b = GL_BUF_INIT;
    long status;
    int rc;

    *text = NULL;
    *len = 0;
    if ((rc = request(c, "GET", path, NULL, &status, &b)))
        goto out;
    if (status < 200 || status >= 300) {
        rc = answer_error(c, status, &b);
        goto out;
    }
    *len = b.len;
    if (gl_buf_add(&b, "", 1)) {
        cli_error("out of memory");
        rc = EXIT_ERROR;
        goto out;
    }
    *text = gl_buf_detach(&b);
out:
    gl_buf_release(&b);
    return rc;
}

int client_run_info(struct client *c, struct gl_run_info *info, int64_t *now)
{
    json_t *st = NULL;
    const char *s;
    int rc, off = 0;

    memset(info, 0, sizeof(*info));
    if ((rc = client_call(c, "GET", "/status", NULL, &st)))
        return rc;
    snprintf(info->run_id, sizeof(info->run_id), "%s",
             jstr(json_object_get(st, "run_id")));
    snprintf(info->cutover, sizeof(info->cutover), "%s",
             jstr(json_object_get(st, "cutover")));
    info->rehearsal = json_is_true(json_object_get(st, "rehearsal"));
    info->plan_version =
        (int)json_integer_value(json_object_get(st, "plan_version"));
    snprintf(info->plan_sha256, sizeof(info->plan_sha256), "%s",
             jstr(json_object_get(st, "plan_sha256")));
    info->events = json_integer_value(json_object_get(st, "events"));
    s = json_string_value(json_object_get(st, "switch_at"));
    if (!s || gl_time_parse(s, &info->switch_at, &off)) {
        json_decref(st);
        cli_error("the server '%s' gave no run's switch time", c->url);
        return EXIT_ERROR;
    }
    info->switch_offset = off;
    s = json_string_value(json_object_get(st, "now"));
    if (!s || gl_time_parse(s, now, &off))
        *now = 0;
    json_decref(st);
    return EXIT_OK;
}
