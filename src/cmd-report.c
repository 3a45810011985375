/*
 * cmd-report.c - `golive report [--format md|html|json] [--out FILE]`: the
 * night as one document.  The data comes from gl_report_build(), its
 * Markdown and HTML from gl_report_markdown() / gl_report_html()
 * (run/report-render.c); this file writes it where it goes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "cmd.h"
#include "golive/report.h"
#include "util/buf.h"
#include "util/clock.h"

/* Write text to path through a temporary file renamed into place. */
static int write_out(const char *path, const char *text)
{
    char tmp[4200];
    FILE *f;
    int ok;

    snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
    if (!(f = fopen(tmp, "w"))) {
        cli_error("cannot write '%s'", tmp);
        return EXIT_ERROR;
    }
    ok = fputs(text, f) >= 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path)) {
        unlink(tmp);
        cli_error("cannot write '%s'", path);
        return EXIT_ERROR;
    }
    return EXIT_OK;
}

/* `report` through a server: GET /report?format=F, written the same way. */
static int report_remote(const char *server, const char *format,
                         const char *out)
{
    struct gl_run_info info;
    struct client c;
    char path[64], *text = NULL;
    json_t *rep = NULL;
    int64_t now;
    size_t len;
    int rc;

    snprintf(path, sizeof(path), "/report?format=%s", format);
    if ((rc = client_open(&c, server, NULL)))
        goto out;
    if (!strcmp(format, "json")) {
        /* the same document, laid out as the local one is */
        char *s;
        if ((rc = client_call(&c, "GET", path, NULL, &rep)))
            goto out;
        s = json_dumps(rep, JSON_INDENT(2));
        len = s ? strlen(s) : 0;
        if (!(text = malloc(len + 2))) {
            free(s);
            cli_error("out of memory");
            rc = EXIT_ERROR;
            goto out;
        }
        snprintf(text, len + 2, "%s\n", s ? s : "{}");
        free(s);
    } else if ((rc = client_get_text(&c, path, &text, &len))) {
        goto out;
    }
    if (out) {
        if ((rc = client_run_info(&c, &info, &now)) ||
            (rc = write_out(out, text)))
            goto out;
        printf("%s: the %s report of run %s\n", out, format, info.run_id);
    } else {
        fputs(text, stdout);
    }
out:
    free(text);
    json_decref(rep);
    client_close(&c);
    return rc;
}

static int run(int argc, char **argv)
{
    const char *format = "md", *out = NULL, *state = NULL, *server = NULL;
    struct gl_buf b = GL_BUF_INIT;
    struct cli_run r;
    struct gl_err err;
    json_t *rep = NULL;
    int rc, fmt = 0;
    static const struct po_choice formats[] = {
        {"md", 0}, {"html", 1}, {"json", 2}, {NULL, 0}};
    struct po_option opts[] = {
        OPT_ENUM("format", 0, &fmt, formats, "F", "md (default), html or json"),
        OPT_STRING("out", 0, &out, "FILE",
                   "write to FILE (atomically) instead of stdout"),
        OPT_STATE(&state),
        OPT_SERVER(&server),
        OPT_END(),
    };

    if ((rc = cli_parse(&cmd_report, opts, argc, argv)) >= 0)
        return rc;
    format = formats[fmt].name;
    if ((server = client_server(server, state)))
        return report_remote(server, format, out);
    gl_err_clear(&err);
    if ((rc = cli_run_open(&r, state, NULL, NULL, 0)))
        goto done;
    if (gl_report_build(r.s, r.plan, &r.info, r.now, &rep, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    if (!strcmp(format, "json")) {
        char *s = json_dumps(rep, JSON_INDENT(2));
        gl_buf_adds(&b, s ? s : "{}");
        gl_buf_adds(&b, "\n");
        free(s);
    } else if (!strcmp(format, "html")) {
        gl_report_html(rep, &b);
    } else {
        gl_report_markdown(rep, &b);
    }
    if ((rc = cli_buf_check(&b, "the report")))
        goto done;
    if (out && !(rc = write_out(out, gl_buf_str(&b))))
        printf("%s: the %s report of run %s\n", out, format, r.info.run_id);
    else if (!out)
        fputs(gl_buf_str(&b), stdout);
done:
    gl_buf_release(&b);
    json_decref(rep);
    cli_run_close(&r);
    return rc;
}

const struct gl_cmd cmd_report = {
    "report",
    "the night as one document: Markdown, HTML (with an SVG timeline), JSON",
    "usage: golive report [--format md|html|json] [--out FILE]\n"
    "                     [--state FILE]\n"
    "\n"
    "Write the night: the timeline planned against actual per task, sync\n"
    "executions, checks, scenarios, defects, the go criteria and the\n"
    "decisions, changes (shift, handover, rollback), the duty log, and\n"
    "the audit: whether the store verifies (a full 'golive audit verify':\n"
    "the chain, and every table against a replay of the events) and its\n"
    "head (N:HASH, to keep elsewhere).  HTML is one self-contained file\n"
    "with the timeline drawn as inline SVG.  No password or connection\n"
    "string is ever written.  GOLIVE_NOW replaces the clock.\n"
    "\n",
    "exit: 0 written, 2 usage, no run or store error\n",
    run,
};
