/*
 * report-render.c - the report (gl_report_build) as Markdown and as one
 * self-contained HTML file (inline CSS, the timeline as inline SVG, no
 * script, nothing fetched); see golive/report.h.  Every surface renders
 * the same document here.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golive/report.h"
#include "util/buf.h"
#include "util/clock.h"

static const char *plural(long long n)
{
    return n == 1 ? "" : "s";
}

static const char *str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    return json_is_string(v) ? json_string_value(v) : "";
}

/* A value as short text: strings as they are, numbers, "-" for null. */
static void text_of(struct gl_buf *b, json_t *v)
{
    if (json_is_string(v))
        gl_buf_adds(b, json_string_value(v));
    else if (json_is_integer(v))
        gl_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        gl_buf_addf(b, "%.2f", json_real_value(v));
    else if (json_is_boolean(v))
        gl_buf_adds(b, json_is_true(v) ? "yes" : "no");
    else
        gl_buf_adds(b, "-");
}

/* ---- Markdown ------------------------------------------------------------ */

static void md_cell(struct gl_buf *b, json_t *v)
{
    struct gl_buf t = GL_BUF_INIT;
    const char *s;

    text_of(&t, v);
    gl_buf_adds(b, " ");
    for (s = gl_buf_str(&t); *s; s++) {
        if (*s == '|')
            gl_buf_adds(b, "\\|");
        else if (*s == '\n' || *s == '\r')
            gl_buf_adds(b, " ");
        else
            gl_buf_add(b, s, 1);
    }
    gl_buf_adds(b, " |");
    if (gl_buf_failed(&t))
        gl_buf_fail(b, gl_buf_failed(&t));
    gl_buf_release(&t);
}

/* A table of the objects in arr, the columns keys (with headings). */
static void md_table(struct gl_buf *b, json_t *arr, const char *const *keys,
                     const char *const *heads)
{
    json_t *o;
    size_t i, k;

    if (!json_array_size(arr)) {
        gl_buf_adds(b, "None.\n\n");
        return;
    }
    gl_buf_adds(b, "|");
    for (k = 0; keys[k]; k++)
        gl_buf_addf(b, " %s |", heads[k]);
    gl_buf_adds(b, "\n|");
    for (k = 0; keys[k]; k++)
        gl_buf_adds(b, "---|");
    gl_buf_adds(b, "\n");
    json_array_foreach(arr, i, o)
    {
        gl_buf_adds(b, "|");
        for (k = 0; keys[k]; k++)
            md_cell(b, json_object_get(o, keys[k]));
        gl_buf_adds(b, "\n");
    }
    gl_buf_adds(b, "\n");
}

/* The sections every format shows as tables: key lists and headings. */
struct section {
    const char *title, *key;
    const char *const *keys, *const *heads;
};

static const char *const task_keys[] = {
    "id",          "stage",   "owner", "checker", "state", "planned_start",
    "planned_end", "started", "ended", NULL};
static const char *const task_heads[] = {
    "task",          "stage",       "owner",   "checker", "state",
    "planned start", "planned end", "started", "ended",   NULL};
static const char *const sync_keys[] = {
    "job",       "mode",    "started",  "ended",   "seconds",
    "rows_read", "written", "rejected", "outcome", NULL};
static const char *const sync_heads[] = {
    "job",  "mode",    "started",  "ended",   "seconds",
    "read", "written", "rejected", "outcome", NULL};
static const char *const check_keys[] = {"at",      "check",   "type",
                                         "outcome", "message", NULL};
static const char *const check_heads[] = {"at",      "check",  "type",
                                          "outcome", "detail", NULL};
static const char *const scen_keys[] = {"id",    "area",   "priority", "risk",
                                        "state", "tester", "note",     NULL};
static const char *const scen_heads[] = {
    "scenario", "area", "priority", "risk", "state", "tester", "note", NULL};
static const char *const fc_keys[] = {
    "at",           "scenario",   "result",   "by",          "left",
    "testing_done", "testing_by", "verified", "verified_by", NULL};
static const char *const fc_heads[] = {
    "at",           "scenario", "result",   "by",     "left",
    "testing done", "set by",   "verified", "set by", NULL};
static const char *const def_keys[] = {
    "id",        "severity", "state",    "scenario", "title",
    "opened_by", "fixer",    "verifier", "patch",    NULL};
static const char *const def_heads[] = {
    "defect",    "severity", "state",    "scenario", "title",
    "opened by", "fixer",    "verifier", "patch",    NULL};
static const char *const dec_keys[] = {"at", "actor", "decision", "note", NULL};
static const char *const dec_heads[] = {"at", "by", "decision", "note", NULL};
static const char *const chg_keys[] = {"at", "actor", "detail", NULL};
static const char *const chg_heads[] = {"at", "by", "change", NULL};
static const char *const duty_keys[] = {
    "id", "at", "actor", "channel", "kind", "text", "defect", "patch", NULL};
static const char *const duty_heads[] = {
    "entry", "at", "by", "channel", "kind", "text", "defect", "patch", NULL};
static const char *const late_keys[] = {"id",   "stage",   "state", "owner",
                                        "late", "planned", "by",    NULL};
static const char *const late_heads[] = {
    "task", "stage", "state", "owner", "late to", "planned", "by (s)", NULL};
static const char *const gate_keys[] = {"rule", "passed", "detail", NULL};
static const char *const gate_heads[] = {"criterion", "passed", "detail", NULL};

static const struct section sections[] = {
    {"Timeline: planned against actual", "tasks", task_keys, task_heads},
    {"Late when the report was written", "late_tasks", late_keys, late_heads},
    {"Sync executions", "syncs", sync_keys, sync_heads},
    {"Checks", "checks", check_keys, check_heads},
    {"Scenarios", "scenarios", scen_keys, scen_heads},
    {"The verification forecast through the night", "forecast_history", fc_keys,
     fc_heads},
    {"Defects", "defects", def_keys, def_heads},
    {"Go criteria now", "gate", gate_keys, gate_heads},
    {"Decisions", "decisions", dec_keys, dec_heads},
    {"Changes during the night", "changes", chg_keys, chg_heads},
    {"Duty log", "duty", duty_keys, duty_heads},
};

static json_t *section_rows(json_t *rep, const struct section *s)
{
    json_t *v = json_object_get(rep, s->key);

    return json_is_object(v) ? json_object_get(v, "rules") : v;
}

static void chain_line(struct gl_buf *b, json_t *chain)
{
    size_t i;
    json_t *x;

    json_array_foreach(chain, i, x)
        gl_buf_addf(b, "%s%s", i ? " -> " : "", json_string_value(x));
    if (!json_array_size(chain))
        gl_buf_adds(b, "-");
}

static void summary_line(struct gl_buf *b, json_t *rep)
{
    json_t *eta = json_object_get(rep, "eta"),
           *dec = json_object_get(eta, "decision");

    if (json_is_object(dec)) {
        gl_buf_addf(b, "go / no-go (%s): ", str(dec, "task"));
        if (json_is_string(json_object_get(dec, "ended")))
            gl_buf_addf(b, "ended %s", str(dec, "ended"));
        else
            gl_buf_addf(b, "ETA %s", str(dec, "eta"));
        gl_buf_addf(b, " (planned end %s); ", str(dec, "planned_end"));
        if (json_is_string(json_object_get(dec, "set_by")) &&
            !strcmp(json_string_value(json_object_get(dec, "set_by")),
                    "forecast"))
            gl_buf_adds(b, "set by the verification forecast");
        else {
            gl_buf_adds(b, "chain: ");
            chain_line(b, json_object_get(dec, "chain"));
        }
        gl_buf_adds(b, "\n- ");
    }
    if (json_is_string(json_object_get(eta, "eta")))
        gl_buf_addf(b, "cutover: ETA %s", str(eta, "eta"));
    else
        gl_buf_addf(b, "cutover: ended %s", str(eta, "ended"));
    gl_buf_addf(
        b, " (planned end %s), overrun x%.2f; chain: ", str(eta, "planned_end"),
        json_real_value(json_object_get(eta, "overrun")));
    chain_line(b, json_object_get(eta, "chain"));
}

/* After the decision: whether the night was rolled back since. */
static const char *rollback_words(json_t *rep)
{
    json_t *eta = json_object_get(rep, "eta");

    if (json_is_true(json_object_get(eta, "rolled_back")))
        return "; then ROLLED BACK (every rollback task ended)";
    if (json_is_true(json_object_get(eta, "rollback")))
        return "; then the ROLLBACK started (in progress)";
    return "";
}

void gl_report_markdown(json_t *rep, struct gl_buf *b)
{
    json_t *run = json_object_get(rep, "run"),
           *audit = json_object_get(rep, "audit"), *dec;
    size_t k, n;

    gl_buf_addf(b, "# Go-live report: %s\n\n", str(run, "cutover"));
    if (*str(run, "title"))
        gl_buf_addf(b, "%s\n\n", str(run, "title"));
    gl_buf_addf(b,
                "- run %s (%s), plan version %" JSON_INTEGER_FORMAT
                " (sha256 %.12s)\n- switch (T0): %s\n- generated: %s\n",
                str(run, "run_id"),
                json_is_true(json_object_get(run, "rehearsal")) ? "rehearsal"
                                                                : "live",
                json_integer_value(json_object_get(run, "plan_version")),
                str(run, "plan_sha256"), str(run, "switch_at"),
                str(run, "generated_at"));
    n = json_array_size(json_object_get(rep, "decisions"));
    dec = json_array_get(json_object_get(rep, "decisions"), n ? n - 1 : 0);
    gl_buf_addf(b, "- decision: %s%s\n- ",
                n ? str(dec, "decision") : "none yet", rollback_words(rep));
    summary_line(b, rep);
    gl_buf_addf(b,
                "\n- audit: %s%s, %" JSON_INTEGER_FORMAT
                " event%s; head %s (write it down: 'golive audit verify"
                " --head' checks it)\n\n",
                json_is_true(json_object_get(audit, "verified"))
                    ? ""
                    : "THE STORE DOES NOT VERIFY: ",
                str(audit, "detail"),
                json_integer_value(json_object_get(audit, "events")),
                plural(json_integer_value(json_object_get(audit, "events"))),
                str(audit, "head"));
    for (k = 0; k < sizeof(sections) / sizeof(sections[0]); k++) {
        gl_buf_addf(b, "## %s\n\n", sections[k].title);
        md_table(b, section_rows(rep, &sections[k]), sections[k].keys,
                 sections[k].heads);
    }
}

/* ---- HTML ---------------------------------------------------------------- */

static void html_esc(struct gl_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            gl_buf_adds(b, "&amp;");
            break;
        case '<':
            gl_buf_adds(b, "&lt;");
            break;
        case '>':
            gl_buf_adds(b, "&gt;");
            break;
        case '"':
            gl_buf_adds(b, "&quot;");
            break;
        case '\'':
            gl_buf_adds(b, "&#39;");
            break;
        default:
            gl_buf_add(b, s, 1);
        }
    }
}

static void html_val(struct gl_buf *b, json_t *v)
{
    struct gl_buf t = GL_BUF_INIT;

    text_of(&t, v);
    html_esc(b, gl_buf_str(&t));
    if (gl_buf_failed(&t))
        gl_buf_fail(b, gl_buf_failed(&t));
    gl_buf_release(&t);
}

static void html_table(struct gl_buf *b, json_t *arr, const char *const *keys,
                       const char *const *heads)
{
    json_t *o;
    size_t i, k;

    if (!json_array_size(arr)) {
        gl_buf_adds(b, "<p class=\"none\">None.</p>\n");
        return;
    }
    gl_buf_adds(b, "<table>\n<tr>");
    for (k = 0; keys[k]; k++) {
        gl_buf_adds(b, "<th>");
        html_esc(b, heads[k]);
        gl_buf_adds(b, "</th>");
    }
    gl_buf_adds(b, "</tr>\n");
    json_array_foreach(arr, i, o)
    {
        gl_buf_adds(b, "<tr>");
        for (k = 0; keys[k]; k++) {
            json_t *v = json_object_get(o, keys[k]);
            const char *cls = "";
            if (json_is_string(v) &&
                (!strcmp(keys[k], "state") || !strcmp(keys[k], "outcome") ||
                 !strcmp(keys[k], "decision")))
                cls = json_string_value(v);
            if (json_is_boolean(v))
                cls = json_is_true(v) ? "passed" : "failed";
            gl_buf_adds(b, "<td class=\"");
            html_esc(b, cls);
            gl_buf_adds(b, "\">");
            html_val(b, v);
            gl_buf_adds(b, "</td>");
        }
        gl_buf_adds(b, "</tr>\n");
    }
    gl_buf_adds(b, "</table>\n");
}

static const char *bar_colour(const char *state)
{
    return !strcmp(state, "checked")   ? "#2e7d32"
           : !strcmp(state, "done")    ? "#7cb342"
           : !strcmp(state, "running") ? "#f9a825"
           : !strcmp(state, "lost")    ? "#ef6c00"
           : !strcmp(state, "failed")  ? "#c62828"
                                       : "#9e9e9e";
}

/* The timeline: one row per task, its planned bar (light, above) and its
 * actual bar (coloured by state, below), T0 and now as vertical lines. */
static void svg_timeline(struct gl_buf *b, json_t *rep)
{
    json_t *tasks = json_object_get(rep, "tasks"), *t;
    const int label = 170, width = 960, row = 22, top = 24;
    int64_t lo = 0, hi = 0, step, x;
    size_t i, n = 0;
    double scale;
    char rel[32];
    int64_t now_rel = 0;
    int have_now = 0;

    json_array_foreach(tasks, i, t)
    {
        json_t *tl = json_object_get(t, "timeline");
        json_t *sp[2] = {json_object_get(tl, "planned"),
                         json_object_get(tl, "actual")};
        int k;
        for (k = 0; k < 2; k++) {
            if (!json_is_array(sp[k]))
                continue;
            if (json_integer_value(json_array_get(sp[k], 0)) < lo)
                lo = json_integer_value(json_array_get(sp[k], 0));
            if (json_integer_value(json_array_get(sp[k], 1)) > hi)
                hi = json_integer_value(json_array_get(sp[k], 1));
        }
        if (json_is_true(json_object_get(tl, "running"))) {
            now_rel = json_integer_value(json_array_get(sp[1], 1));
            have_now = 1;
        }
        n++;
    }
    if (hi <= lo)
        hi = lo + 3600;
    step = hi - lo <= 4 * 3600    ? 1800
           : hi - lo <= 12 * 3600 ? 3600
           : hi - lo <= 48 * 3600 ? 4 * 3600
                                  : 24 * 3600;
    lo = (lo / step - (lo % step < 0)) * step;
    scale = (double)(width - label - 10) / (double)(hi - lo);
    gl_buf_addf(b,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
                "height=\"%d\" role=\"img\" aria-label=\"timeline\" "
                "font-family=\"sans-serif\" font-size=\"11\">\n",
                width, top + (int)n * row + 10);
    for (x = lo; x <= hi; x += step) {
        double px = label + (double)(x - lo) * scale;
        gl_reltime_format(x, rel);
        gl_buf_addf(b,
                    "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
                    "stroke=\"#e0e0e0\"/><text x=\"%.1f\" y=\"14\" "
                    "text-anchor=\"middle\" fill=\"#555\">%s</text>\n",
                    px, top - 4, px, top + (int)n * row, px, rel);
    }
    gl_buf_addf(b,
                "<line class=\"t0\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
                "y2=\"%d\" stroke=\"#1565c0\" stroke-width=\"2\"/>\n",
                label + (double)(0 - lo) * scale, top - 4,
                label + (double)(0 - lo) * scale, top + (int)n * row);
    if (have_now)
        gl_buf_addf(b,
                    "<line class=\"now\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
                    "y2=\"%d\" stroke=\"#f9a825\" stroke-dasharray=\"4 3\"/>\n",
                    label + (double)(now_rel - lo) * scale, top - 4,
                    label + (double)(now_rel - lo) * scale, top + (int)n * row);
    i = 0;
    json_array_foreach(tasks, i, t)
    {
        json_t *tl = json_object_get(t, "timeline"),
               *pl = json_object_get(tl, "planned"),
               *ac = json_object_get(tl, "actual");
        int y = top + (int)i * row;
        gl_buf_addf(b, "<g class=\"task\" data-task=\"");
        html_esc(b, str(t, "id"));
        gl_buf_addf(b, "\"><text x=\"4\" y=\"%d\">", y + 14);
        html_esc(b, str(t, "id"));
        gl_buf_adds(b, "</text>");
        if (json_is_array(pl))
            gl_buf_addf(
                b,
                "<rect class=\"planned\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
                "height=\"7\" fill=\"#cfd8dc\"/>",
                label +
                    (double)(json_integer_value(json_array_get(pl, 0)) - lo) *
                        scale,
                y + 2,
                (double)(json_integer_value(json_array_get(pl, 1)) -
                         json_integer_value(json_array_get(pl, 0))) *
                        scale +
                    1.0);
        if (json_is_array(ac))
            gl_buf_addf(
                b,
                "<rect class=\"actual\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
                "height=\"9\" fill=\"%s\"/>",
                label +
                    (double)(json_integer_value(json_array_get(ac, 0)) - lo) *
                        scale,
                y + 10,
                (double)(json_integer_value(json_array_get(ac, 1)) -
                         json_integer_value(json_array_get(ac, 0))) *
                        scale +
                    1.0,
                bar_colour(str(t, "state")));
        gl_buf_adds(b, "<title>");
        html_esc(b, str(t, "id"));
        gl_buf_adds(b, ": ");
        html_esc(b, str(t, "title"));
        gl_buf_adds(b, " (");
        html_esc(b, str(t, "state"));
        gl_buf_adds(b, ")</title></g>\n");
    }
    gl_buf_adds(b, "</svg>\n");
}

void gl_report_html(json_t *rep, struct gl_buf *b)
{
    json_t *run = json_object_get(rep, "run"),
           *audit = json_object_get(rep, "audit"), *dec;
    struct gl_buf line = GL_BUF_INIT;
    size_t k, n;

    gl_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                   "<meta charset=\"utf-8\">\n<title>Go-live report: ");
    html_esc(b, str(run, "cutover"));
    gl_buf_adds(
        b, "</title>\n<style>\n"
           "body{font-family:sans-serif;margin:2em;color:#222}\n"
           "table{border-collapse:collapse;margin-bottom:1.5em}\n"
           "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;"
           "font-size:13px}\n"
           "th{background:#f0f0f0}\n"
           ".checked,.passed,.verified,.go{color:#2e7d32;font-weight:bold}\n"
           ".failed,.error,.no-go,.lost{color:#c62828;font-weight:bold}\n"
           ".running,.hold,.blocked,.fixing,.fixed{color:#ef6c00}\n"
           ".none{color:#777}\n"
           "</style>\n</head>\n<body>\n<h1>Go-live report: ");
    html_esc(b, str(run, "cutover"));
    gl_buf_adds(b, "</h1>\n<ul>\n<li>run ");
    html_esc(b, str(run, "run_id"));
    gl_buf_addf(b,
                " (%s), plan version %" JSON_INTEGER_FORMAT "</li>\n<li>"
                "switch (T0): ",
                json_is_true(json_object_get(run, "rehearsal")) ? "rehearsal"
                                                                : "live",
                json_integer_value(json_object_get(run, "plan_version")));
    html_esc(b, str(run, "switch_at"));
    gl_buf_adds(b, "</li>\n<li>generated: ");
    html_esc(b, str(run, "generated_at"));
    n = json_array_size(json_object_get(rep, "decisions"));
    dec = json_array_get(json_object_get(rep, "decisions"), n ? n - 1 : 0);
    gl_buf_adds(b, "</li>\n<li>decision: <span class=\"");
    html_esc(b, n ? str(dec, "decision") : "none");
    gl_buf_adds(b, "\">");
    html_esc(b, n ? str(dec, "decision") : "none yet");
    gl_buf_adds(b, "</span>");
    html_esc(b, rollback_words(rep));
    gl_buf_adds(b, "</li>\n<li>");
    summary_line(&line, rep);
    html_esc(b, gl_buf_str(&line));
    if (gl_buf_failed(&line))
        gl_buf_fail(b, gl_buf_failed(&line));
    gl_buf_adds(b, "</li>\n<li>audit: ");
    if (!json_is_true(json_object_get(audit, "verified")))
        gl_buf_adds(b, "THE STORE DOES NOT VERIFY: ");
    html_esc(b, str(audit, "detail"));
    gl_buf_addf(b, ", %" JSON_INTEGER_FORMAT " event%s; head ",
                json_integer_value(json_object_get(audit, "events")),
                plural(json_integer_value(json_object_get(audit, "events"))));
    html_esc(b, str(audit, "head"));
    gl_buf_adds(b, "</li>\n</ul>\n");
    for (k = 0; k < sizeof(sections) / sizeof(sections[0]); k++) {
        gl_buf_adds(b, "<h2>");
        html_esc(b, sections[k].title);
        gl_buf_adds(b, "</h2>\n");
        if (k == 0)
            svg_timeline(b, rep);
        html_table(b, section_rows(rep, &sections[k]), sections[k].keys,
                   sections[k].heads);
    }
    gl_buf_adds(b, "</body>\n</html>\n");
    gl_buf_release(&line);
}
