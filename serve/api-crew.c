/*
 * api-crew.c - the night's changes of people and time over HTTP: the
 * lead moves the switch (POST /shift), someone hands their open work to
 * someone else (POST /handover): gl_shift and gl_handover, the CLI's
 * calls, the same events; the answers are the CLI's --json.
 */
#include <stdlib.h>
#include <string.h>

#include "golive/crew.h"
#include "serve/serve.h"
#include "serve/work.h"
#include "util/clock.h"

static void shift(struct sv_req *q, struct sv_resp *r)
{
    static const char *const fields[] = {"to", "note", NULL};
    const char *to_s, *note;
    char from[40], to_iso[40];
    struct gl_err err;
    int64_t to, off;
    int tz;

    if (!sv_fields_only(q, r, fields) || !sv_field_str(q, r, "to", 1, &to_s) ||
        !sv_field_str(q, r, "note", 0, &note))
        return;
    if (gl_reltime_parse(to_s, &off) == 0) {
        to = q->info->switch_at + off;
    } else if (gl_time_parse(to_s, &to, &tz) != 0) {
        sv_error(r, 400, "bad_request",
                 "'to' takes a time with its UTC offset "
                 "(2026-03-14T01:00:00+08:00) or one relative to the current "
                 "T0 (T+1h), not '%.64s'",
                 to_s);
        return;
    }
    gl_time_format(q->info->switch_at, q->info->switch_offset, from);
    gl_time_format(to, q->info->switch_offset, to_iso);
    gl_err_clear(&err);
    if (gl_shift(q->s, q->plan, &q->actor, to, note, &err)) {
        sv_fail(r, &err);
        return;
    }
    sv_json(r, 200,
            json_pack("{s:s, s:s, s:I, s:s}", "from", from, "to", to_iso,
                      "seconds", (json_int_t)(to - q->info->switch_at), "as",
                      q->who.person));
}

/* "D-3" or "3" as a defect number, 0 when it is neither. */
static int64_t defect_number(const char *s)
{
    char *end;
    long long n;

    if ((s[0] == 'D' || s[0] == 'd') && s[1] == '-')
        s += 2;
    if (*s < '1' || *s > '9')
        return 0;
    n = strtoll(s, &end, 10);
    return *end || n <= 0 ? 0 : (int64_t)n;
}

static void handover(struct sv_req *q, struct sv_resp *r)
{
    static const char *const fields[] = {"to",      "tasks", "scenarios",
                                         "defects", "note",  NULL};
    struct gl_handover_pick pick;
    const char *to, *note, **tasks = NULL, **scen = NULL, **dids = NULL;
    int64_t *defects = NULL;
    json_t *moved = NULL;
    struct gl_err err;
    size_t i, nd = 0;

    memset(&pick, 0, sizeof(pick));
    if (!sv_fields_only(q, r, fields) || !sv_field_str(q, r, "to", 1, &to) ||
        !sv_field_str(q, r, "note", 0, &note) ||
        !sv_field_strs(q, r, "tasks", &tasks, &pick.n_tasks) ||
        !sv_field_strs(q, r, "scenarios", &scen, &pick.n_scenarios) ||
        !sv_field_strs(q, r, "defects", &dids, &nd))
        goto out;
    if (nd && !(defects = calloc(nd, sizeof(*defects)))) {
        sv_error(r, 500, "internal", "out of memory");
        goto out;
    }
    for (i = 0; i < nd; i++)
        if (!(defects[i] = defect_number(dids[i]))) {
            sv_error(r, 400, "bad_request",
                     "'defects' takes defect ids (D-1, D-2...), not '%.64s'",
                     dids[i]);
            goto out;
        }
    pick.tasks = tasks;
    pick.scenarios = scen;
    pick.defects = defects;
    pick.n_defects = nd;
    gl_err_clear(&err);
    if (gl_handover(q->s, q->plan, &q->actor, to, &pick, note, &moved, &err)) {
        sv_fail(r, &err);
        goto out;
    }
    /* what was refused stays, each named with why, in "refused" */
    json_object_set_new(moved, "from", json_string(q->who.person));
    json_object_set_new(moved, "to", json_string(to));
    sv_json(r, 200, moved);
out:
    free(tasks);
    free(scen);
    free(dids);
    free(defects);
}

const struct sv_route sv_routes_crew[] = {
    {"POST", "/shift", shift, SV_CHANGE},
    {"POST", "/handover", handover, SV_CHANGE},
    {NULL, NULL, NULL, 0},
};
