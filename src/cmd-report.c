/*
 * cmd-report.c - `golive report [--format md|html|json] [--out FILE]`: the
 * night as one document.  The data comes from gl_report_build(), its
 * Markdown and HTML from gl_report_markdown() / gl_report_html()
 * (run/report-render.c); this file writes it where it goes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
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

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"out", required_argument, NULL, 'o'},
        {"state", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *format = "md", *out = NULL, *state = NULL;
    struct gl_buf b = GL_BUF_INIT;
    struct cli_run r;
    struct gl_err err;
    json_t *rep = NULL;
    int c, rc;

    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            format = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 's':
            state = optarg;
            break;
        case 'h':
            fputs(cmd_report.usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage("report", "unknown option");
        }
    }
    if (strcmp(format, "md") && strcmp(format, "html") &&
        strcmp(format, "json"))
        return cli_usage("report", "--format is md, html or json, not '%s'",
                         format);
    if (argc - optind != 0)
        return cli_usage("report", "report takes no arguments");
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
    "\n"
    "options:\n"
    "  --format F   md (default), html or json\n"
    "  --out FILE   write to FILE (atomically) instead of stdout\n"
    "\n"
    "exit: 0 written, 2 usage, no run or store error\n",
    run,
};
