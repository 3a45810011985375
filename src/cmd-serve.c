/*
 * cmd-serve.c - `golive serve`: the run over HTTP for the whole team.
 */
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "serve/serve.h"

static int run(int argc, char **argv)
{
    struct sv_conf c;
    struct gl_err err;
    char state[4096];
    const char *state_opt = NULL;
    int rc, threads = 4, max_conn = 1000, timeout = 30, sign_in_limit = 10,
            streams = 16;
    struct po_option opts[] = {
        OPT_STATE(&state_opt),
        OPT_STRING("listen", 0, &c.listen, "ADDR:PORT",
                   "where to listen (default 127.0.0.1:8420)"),
        OPT_STRING("tls-cert", 0, &c.tls_cert, "FILE",
                   "serve HTTPS with this PEM certificate (with --tls-key)"),
        OPT_STRING("tls-key", 0, &c.tls_key, "FILE",
                   "the certificate's PEM private key"),
        OPT_FLAG("insecure-http", 0, &c.insecure_http,
                 "serve plain HTTP on an address that is not loopback "
                 "(tokens cross the network in clear)"),
        OPT_STRING("trusted-proxy", 0, &c.trusted_proxy, "ADDR",
                   "a reverse proxy at ADDR: the client's address is the "
                   "last of its X-Forwarded-For"),
        OPT_INT("threads", 0, &threads, 1, 64, "N",
                "worker threads answering requests (default 4)"),
        OPT_INT("max-connections", 0, &max_conn, 8, 100000, "N",
                "connections served at once (default 1000)"),
        OPT_INT("timeout", 0, &timeout, 1, 3600, "SECONDS",
                "a connection idle this long, or this slow to send its "
                "request, is closed (default 30)"),
        OPT_INT("sign-in-limit", 0, &sign_in_limit, 0, 1000000, "N",
                "N failed sign-ins (a wrong token or session) from one "
                "address within a minute refuse it for a minute (default "
                "10; 0: no limit)"),
        OPT_INT("streams-per-token", 0, &streams, 1, 100000, "N",
                "open event streams one token may hold (default 16): one "
                "token cannot take the connections of the rest"),
        OPT_END(),
    };

    memset(&c, 0, sizeof(c));
    c.listen = "127.0.0.1:8420";
    if ((rc = cli_parse(&cmd_serve, opts, argc, argv)) >= 0)
        return rc;
    cli_state_path(state_opt, NULL, state, sizeof(state));
    c.state = state;
    c.threads = (unsigned)threads;
    c.max_connections = (unsigned)max_conn;
    c.timeout = (unsigned)timeout;
    c.sign_in_limit = (unsigned)sign_in_limit;
    c.streams_per_token = (unsigned)streams;
    gl_err_clear(&err);
    if (sv_serve(&c, &err))
        return cli_fail(&err);
    return EXIT_OK;
}

const struct gl_cmd cmd_serve = {
    "serve",
    "serve the run over HTTP to the whole team (a JSON API)",
    "usage: golive serve [--state FILE] [--listen ADDR:PORT]\n"
    "                    [--tls-cert FILE --tls-key FILE] [--insecure-http]\n"
    "                    [--trusted-proxy ADDR] [--threads N]\n"
    "                    [--max-connections N] [--timeout SECONDS]\n"
    "                    [--sign-in-limit N]\n"
    "\n"
    "Serve the run in the state store over HTTP: a JSON API under /api/v1\n"
    "that the team's own machines (and 'golive --server') use, each person\n"
    "with a token of their own ('golive token issue'), and the web interface\n"
    "at / (the war room, each person's work: docs/web.md).  Runs until "
    "SIGTERM\n"
    "or Ctrl-C; one line per request on stderr (method, path, status,\n"
    "person, milliseconds).  See docs/serve.md.\n"
    "\n",
    "exit: 0 stopped by a signal, 2 cannot listen or open the store, 3 a\n"
    "      non-loopback address without TLS or --insecure-http\n",
    run,
};
