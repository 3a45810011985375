/*
 * report.h - the night as one document: the timeline planned against
 * actual per task, sync executions, checks, scenarios, defects, decisions,
 * changes (shift, handover, rollback), the duty log, and the audit chain.
 * Rendered as Markdown, HTML or JSON by `golive report`.
 */
#ifndef GOLIVE_REPORT_H
#define GOLIVE_REPORT_H

#include <jansson.h>
#include <stdint.h>

#include "golive/golive.h"
#include "golive/plan.h"
#include "golive/store.h"

/* Build the report (new reference in *out).  Times are ISO 8601 at the
 * switch's UTC offset; each task also has "timeline": {"planned": [from,
 * to] | null, "actual": [from, to] | null, "running": bool} in seconds from
 * T0 (a running task's actual bar ends now).  No password or connection
 * string is ever part of it. */
int gl_report_build(gl_store *s, const struct gl_plan *p,
                    const struct gl_run_info *info, int64_t now, json_t **out,
                    struct gl_err *err);

struct gl_buf;

/* The report rep (gl_report_build) as Markdown, or as one self-contained
 * HTML file (inline CSS, the timeline as inline SVG, no script, nothing
 * fetched), appended to b.  A failed append (of b or of a part built
 * apart) fails b: the caller checks b once (gl_buf_check) before it uses
 * the text. */
void gl_report_markdown(json_t *rep, struct gl_buf *b);
void gl_report_html(json_t *rep, struct gl_buf *b);

#endif
