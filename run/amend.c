/*
 * amend.c - `golive run amend` (see golive/amend.h).
 */
#include "golive/amend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "store-rows.h"
#include "golive/scenario.h"
#include "util/buf.h"
#include "util/sha256.h"

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Whether refs names id. */
static int has_ref(const struct gl_refs *refs, const char *id)
{
    size_t i;

    for (i = 0; i < refs->n; i++)
        if (same(refs->v[i].id, id))
            return 1;
    return 0;
}

static int same_refs(const struct gl_refs *a, const struct gl_refs *b)
{
    size_t i;

    if (a->n != b->n)
        return 0;
    for (i = 0; i < a->n; i++)
        if (!same(a->v[i].id, b->v[i].id))
            return 0;
    return 1;
}

/* The fields of a task that differ between versions. */
static json_t *task_changes(const struct gl_task *a, const struct gl_task *b)
{
    json_t *f = json_array();

#define FIELD(cond, name)                                                      \
    if (cond)                                                                  \
    json_array_append_new(f, json_string(name))
    FIELD(!same(a->title, b->title), "title");
    FIELD(a->stage != b->stage, "stage");
    FIELD(!same(a->owner.id, b->owner.id), "owner");
    FIELD(!same(a->checker.id, b->checker.id), "checker");
    FIELD(!same_refs(&a->depends_on, &b->depends_on), "depends_on");
    FIELD(a->has_at != b->has_at || a->at != b->at, "at");
    FIELD(a->has_duration != b->has_duration || a->duration != b->duration,
          "duration");
    FIELD(!same(a->run, b->run), "run");
    FIELD(a->timeout != b->timeout, "timeout");
    FIELD(a->decides_go != b->decides_go, "decides");
#undef FIELD
    return f;
}

/* The fields of a scenario that differ between versions. */
static json_t *scenario_changes(const struct gl_scenario *a,
                                const struct gl_scenario *b)
{
    json_t *f = json_array();

#define FIELD(cond, name)                                                      \
    if (cond)                                                                  \
    json_array_append_new(f, json_string(name))
    FIELD(!same(a->area, b->area), "area");
    FIELD(!same(a->title, b->title), "title");
    FIELD(a->priority != b->priority, "priority");
    FIELD(a->risk != b->risk, "risk");
    FIELD(!same(a->assignee.id, b->assignee.id), "assignee");
    FIELD(!same(a->samples_system.id, b->samples_system.id) ||
              !same(a->samples_query, b->samples_query),
          "samples");
    FIELD(!same(a->workflow.id, b->workflow.id), "workflow");
    FIELD(a->has_duration != b->has_duration || a->duration != b->duration,
          "duration");
#undef FIELD
    return f;
}

/* The fields of a person that differ between versions. */
static json_t *person_changes(const struct gl_person *a,
                              const struct gl_person *b)
{
    json_t *f = json_array();

    if (!same(a->name, b->name))
        json_array_append_new(f, json_string("name"));
    if (!same(a->contact, b->contact))
        json_array_append_new(f, json_string("contact"));
    if (a->roles != b->roles)
        json_array_append_new(f, json_string("roles"));
    return f;
}

/* The top-level section of a plan's text that starts at line (a key at
 * column 1), up to the next one: its name into name, its text span. */
static const char *next_section(const char *t, const char *end, char *name,
                                size_t n, const char **body_end)
{
    const char *line = t, *start = NULL;

    for (; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *eol = nl ? nl : end;
        int top = line < eol && *line != ' ' && *line != '\t' && *line != '#' &&
                  *line != '-' && *line != '\r';
        if (top && start) {
            *body_end = line;
            return start;
        }
        if (top) {
            const char *colon = memchr(line, ':', (size_t)(eol - line));
            size_t k = colon ? (size_t)(colon - line) : (size_t)(eol - line);
            snprintf(name, n, "%.*s", (int)k, line);
            start = line;
        }
        line = nl ? nl + 1 : end;
    }
    *body_end = end;
    return start;
}

/* The next line of [*t, end) that says something (not blank, not only a
 * comment): its start, *len its length without trailing blanks; NULL at
 * the end. */
static const char *meaningful_line(const char **t, const char *end, size_t *len)
{
    while (*t < end) {
        const char *line = *t, *nl = memchr(line, '\n', (size_t)(end - line));
        const char *eol = nl ? nl : end, *c = line;
        *t = nl ? nl + 1 : end;
        while (c < eol && (*c == ' ' || *c == '\t'))
            c++;
        if (c == eol || *c == '#' || *c == '\r')
            continue;
        while (eol > line &&
               (eol[-1] == ' ' || eol[-1] == '\t' || eol[-1] == '\r'))
            eol--;
        *len = (size_t)(eol - line);
        return line;
    }
    return NULL;
}

/* Whether two spans of plan text say the same, comments and blank lines
 * aside. */
static int same_text(const char *a, const char *ae, const char *b,
                     const char *be)
{
    for (;;) {
        size_t la = 0, lb = 0;
        const char *x = meaningful_line(&a, ae, &la),
                   *y = meaningful_line(&b, be, &lb);
        if (!x || !y)
            return !x && !y;
        if (la != lb || memcmp(x, y, la))
            return 0;
    }
}

/* The top-level sections (people, tasks, gates...) whose text differs
 * between the two plans, added and removed ones too: the difference that
 * the item-by-item comparison does not describe is never silent. */
static json_t *changed_sections(const char *a, size_t na, const char *b,
                                size_t nb)
{
    json_t *out = json_array(), *seen = json_object();
    const char *ends[2] = {a + na, b + nb}, *texts[2] = {a, b};
    int side;

    for (side = 0; side < 2; side++) {
        const char *t = texts[side], *e, *sec;
        char name[128];
        while ((sec = next_section(t, ends[side], name, sizeof(name), &e))) {
            const char *o = texts[!side], *oe, *osec;
            char oname[128];
            int match = 0;
            while ((osec = next_section(o, ends[!side], oname, sizeof(oname),
                                        &oe))) {
                if (!strcmp(oname, name)) {
                    match = same_text(sec, e, osec, oe);
                    break;
                }
                o = oe;
            }
            if (!match && !json_object_get(seen, name)) {
                json_object_set_new(seen, name, json_true());
                json_array_append_new(out, json_string(name));
            }
            t = e;
        }
    }
    json_decref(seen);
    return out;
}

/* added / removed ids of a list of items with an id, by offset. */
#define ID_AT(base, size, off, i)                                              \
    (((const struct gl_ref *)((const char *)(base) + (size) * (i) + (off)))->id)

static json_t *set_diff(const void *a, size_t na, const void *b, size_t nb,
                        size_t size, size_t off)
{
    json_t *added = json_array(), *removed = json_array();
    size_t i, j;

    for (i = 0; i < nb; i++) {
        for (j = 0; j < na; j++)
            if (same(ID_AT(b, size, off, i), ID_AT(a, size, off, j)))
                break;
        if (j == na)
            json_array_append_new(added, json_string(ID_AT(b, size, off, i)));
    }
    for (j = 0; j < na; j++) {
        for (i = 0; i < nb; i++)
            if (same(ID_AT(b, size, off, i), ID_AT(a, size, off, j)))
                break;
        if (i == nb)
            json_array_append_new(removed, json_string(ID_AT(a, size, off, j)));
    }
    return json_pack("{s:o, s:o}", "added", added, "removed", removed);
}

#define DIFF(fa, na, fb, nb, type, member)                                     \
    set_diff((fa), (na), (fb), (nb), sizeof(type), offsetof(type, member))

static int task_state(gl_store *s, const char *id, char *out, size_t n,
                      struct gl_err *err)
{
    int rc = gl_store_state_of(s, "tasks", id, out, n, err);

    if (!rc && !*out)
        snprintf(out, n, "pending");
    return rc;
}

/* What contradictions() collects from the store's rows. */
struct why {
    const struct gl_plan *cur, *next;
    struct gl_buf *b;
};

static void started_scenario(void *ctx, const char *id, const char *state)
{
    struct why *w = ctx;
    size_t j;

    for (j = 0; j < w->next->n_scenarios; j++)
        if (!strcmp(w->next->scenarios[j].id.id, id))
            return;
    gl_buf_addf(w->b, "\n  scenario '%s' is %s and cannot be left out", id,
                state);
}

static void actor(void *ctx, const char *who)
{
    struct why *w = ctx;

    if (gl_plan_person(w->cur, who) && !gl_plan_person(w->next, who))
        gl_buf_addf(w->b, "\n  %s acted in this run and cannot be left out",
                    who);
}

/* What already happened that next leaves out or contradicts, into b. */
static int contradictions(gl_store *s, const struct gl_plan *cur,
                          const struct gl_plan *next, struct gl_buf *b,
                          struct gl_err *err)
{
    struct why w = {cur, next, b};
    size_t i, j;
    int rc;

    if (!same(cur->cutover, next->cutover))
        gl_buf_addf(b, "\n  the new plan is for cutover '%s', the run is '%s'",
                    next->cutover, cur->cutover);
    if (cur->switch_at != next->switch_at)
        gl_buf_addf(b, "\n  switch_at changed: 'golive shift T0 --to TIME' "
                       "moves the switch");
    for (i = 0; i < cur->n_tasks; i++) {
        const struct gl_task *t = &cur->tasks[i], *u;
        char state[16];
        if ((rc = task_state(s, t->id.id, state, sizeof(state), err)))
            return rc;
        if (!strcmp(state, "pending"))
            continue;
        if (!(u = gl_plan_task(next, t->id.id))) {
            gl_buf_addf(b, "\n  task '%s' is %s and cannot be left out",
                        t->id.id, state);
            continue;
        }
        if (u->checker.id && !same(t->checker.id, u->checker.id) &&
            strcmp(state, "checked") && strcmp(state, "skipped")) {
            /* four eyes: whoever did the task never becomes its checker */
            int did;
            if ((rc = gl_store_task_did(s, t->id.id, u->checker.id,
                                        t->run != NULL, &did, err)))
                return rc;
            if (did)
                gl_buf_addf(b,
                            "\n  task '%s' is %s and %s did it: %s cannot "
                            "be its checker",
                            t->id.id, state, u->checker.id, u->checker.id);
        }
        for (j = 0; j < u->depends_on.n; j++) {
            char dep[16];
            /* only a dependency the new plan adds: one the task had when
             * it moved was passed then (by the lead's --force, with a
             * note on the record), and a plan that keeps it amends */
            if (has_ref(&t->depends_on, u->depends_on.v[j].id))
                continue;
            if ((rc = task_state(s, u->depends_on.v[j].id, dep, sizeof(dep),
                                 err)))
                return rc;
            if (strcmp(dep, "checked") && strcmp(dep, "skipped"))
                gl_buf_addf(b,
                            "\n  task '%s' is %s already but would depend "
                            "on '%s', which is %s",
                            t->id.id, state, u->depends_on.v[j].id, dep);
        }
    }
    if ((rc = gl_store_started_scenarios(s, started_scenario, &w, err)))
        return rc;
    return gl_store_event_actors(s, actor, &w, err);
}

/* Bring the tasks' rows in line with next. */
static int apply_tasks(gl_store *s, const struct gl_plan *cur,
                       const struct gl_plan *next, int64_t seq,
                       struct gl_err *err)
{
    size_t i;
    int rc = GL_OK;

    for (i = 0; i < cur->n_tasks && !rc; i++)
        if (!gl_plan_task(next, cur->tasks[i].id.id))
            rc = gl_store_task_drop_pending(s, cur->tasks[i].id.id, err);
    if (rc)
        return rc;
    return gl_store_tasks_replan(s, cur, next, seq, err);
}

static int apply_scenarios(gl_store *s, const struct gl_plan *cur,
                           const struct gl_plan *next, struct gl_err *err)
{
    size_t i, j;
    int rc = GL_OK;

    for (i = 0; i < cur->n_scenarios && !rc; i++) {
        for (j = 0; j < next->n_scenarios; j++)
            if (!strcmp(next->scenarios[j].id.id, cur->scenarios[i].id.id))
                break;
        if (j == next->n_scenarios)
            rc =
                gl_store_scenario_drop_pending(s, cur->scenarios[i].id.id, err);
    }
    if (rc || (rc = gl_scenario_rows(s, next, err)))
        return rc;
    return gl_store_scenarios_replan(s, next, err);
}

int gl_amend_project(gl_store *s, const struct gl_plan *cur,
                     const struct gl_plan *next, int version, const char *sha,
                     const char *path, const char *text, size_t len,
                     const char *at, int64_t seq, struct gl_err *err)
{
    int rc;

    if ((rc = gl_store_plan_version_insert(s, version, sha, path, text, len, at,
                                           seq, err)) ||
        (rc = gl_store_plan_tree_put(s, version, sha, text, len, err)) ||
        (rc = gl_store_run_set_plan_version(s, version, err)) ||
        (rc = apply_tasks(s, cur, next, seq, err)) ||
        (rc = apply_scenarios(s, cur, next, err)))
        return rc;
    return GL_OK;
}

int gl_run_amend(gl_store *s, const struct gl_plan *cur,
                 const struct gl_plan *next, const char *text, size_t len,
                 const char *path, const struct gl_actor *who, json_t **diff,
                 int *version, struct gl_err *err)
{
    struct gl_buf why = GL_BUF_INIT;
    json_t *d = NULL, *changed, *tasks, *scen, *people, *sections;
    char sha[GL_SHA256_HEX], leads[256];
    int64_t seq;
    size_t i;
    int rc;

    *diff = NULL;
    if (!gl_run_has_role(cur, who->person, GL_ROLE_LEAD))
        return gl_err_set(
            err, GL_EDENIED, "only the lead takes a new plan into the run (%s)",
            gl_run_names_with(cur, GL_ROLE_LEAD, leads, sizeof(leads)));
    if (gl_sha256_hex(text, len, sha))
        return gl_err_set(err, GL_EINTERNAL, "cannot compute SHA-256");
    if ((rc = gl_store_begin(s, err)))
        return rc;
    {
        struct gl_run_info info;
        memset(&info, 0, sizeof(info));
        if ((rc = gl_store_run_info(s, &info, err)))
            goto fail;
        *version = info.plan_version + 1;
        rc = !strcmp(info.plan_sha256, sha);
        gl_run_info_release(&info);
        if (rc) {
            rc = gl_err_set(err, GL_EUSAGE,
                            "the run holds this very plan already");
            goto fail;
        }
    }
    if ((rc = contradictions(s, cur, next, &why, err)) ||
        (rc = gl_buf_check(&why, "the contradictions", err)))
        goto fail;
    if (why.len) {
        rc = gl_err_set(err, GL_EREFUSED,
                        "the new plan contradicts what already happened:%s",
                        gl_buf_str(&why));
        goto fail;
    }
    tasks = DIFF(cur->tasks, cur->n_tasks, next->tasks, next->n_tasks,
                 struct gl_task, id);
    changed = json_array();
    for (i = 0; i < next->n_tasks; i++) {
        const struct gl_task *was = gl_plan_task(cur, next->tasks[i].id.id);
        json_t *f;
        if (!was)
            continue;
        f = task_changes(was, &next->tasks[i]);
        if (json_array_size(f))
            json_array_append_new(changed,
                                  json_pack("{s:s, s:o}", "id",
                                            next->tasks[i].id.id, "fields", f));
        else
            json_decref(f);
    }
    json_object_set_new(tasks, "changed", changed);
    scen = DIFF(cur->scenarios, cur->n_scenarios, next->scenarios,
                next->n_scenarios, struct gl_scenario, id);
    changed = json_array();
    for (i = 0; i < next->n_scenarios; i++) {
        const struct gl_scenario *was = NULL;
        json_t *f;
        size_t j;
        for (j = 0; j < cur->n_scenarios; j++)
            if (!strcmp(cur->scenarios[j].id.id, next->scenarios[i].id.id))
                was = &cur->scenarios[j];
        if (!was)
            continue;
        f = scenario_changes(was, &next->scenarios[i]);
        if (json_array_size(f))
            json_array_append_new(changed, json_pack("{s:s, s:o}", "id",
                                                     next->scenarios[i].id.id,
                                                     "fields", f));
        else
            json_decref(f);
    }
    json_object_set_new(scen, "changed", changed);
    people = DIFF(cur->people, cur->n_people, next->people, next->n_people,
                  struct gl_person, id);
    changed = json_array();
    for (i = 0; i < next->n_people; i++) {
        const struct gl_person *was =
            gl_plan_person(cur, next->people[i].id.id);
        json_t *f;
        if (!was)
            continue;
        f = person_changes(was, &next->people[i]);
        if (json_array_size(f))
            json_array_append_new(changed, json_pack("{s:s, s:o}", "id",
                                                     next->people[i].id.id,
                                                     "fields", f));
        else
            json_decref(f);
    }
    json_object_set_new(people, "changed", changed);
    {
        struct gl_run_info info;
        memset(&info, 0, sizeof(info));
        if ((rc = gl_store_run_info(s, &info, err))) {
            json_decref(tasks);
            json_decref(scen);
            json_decref(people);
            goto fail;
        }
        sections = changed_sections(info.plan_text, info.plan_len, text, len);
        gl_run_info_release(&info);
    }
    d = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "tasks", tasks, "scenarios",
                  scen, "people", people, "sections", sections, "sync",
                  DIFF(cur->sync, cur->n_sync, next->sync, next->n_sync,
                       struct gl_sync_job, id),
                  "checks",
                  DIFF(cur->checks, cur->n_checks, next->checks, next->n_checks,
                       struct gl_check, id));
    if ((rc = gl_run_event(s, who, "run.amend",
                           json_pack("{s:s, s:i, s:i, s:s, s:O}", "plan_sha256",
                                     sha, "from_version", *version - 1,
                                     "plan_version", *version, "plan_path",
                                     path, "diff", d),
                           &seq, err)))
        goto fail;
    if ((rc = gl_amend_project(s, cur, next, *version, sha, path, text, len,
                               gl_store_event_at(s), seq, err)) ||
        (rc = gl_store_commit(s, err)))
        goto fail;
    gl_buf_release(&why);
    *diff = d;
    return GL_OK;
fail:
    gl_store_rollback(s);
    gl_buf_release(&why);
    json_decref(d);
    return rc;
}

json_t *gl_amend_lines(json_t *diff)
{
    static const struct {
        const char *kind, *one, *section;
    } kinds[] = {{"tasks", "task", "tasks"},
                 {"scenarios", "scenario", "scenarios"},
                 {"people", "person", "people"},
                 {"sync", "sync job", "sync"},
                 {"checks", "check", "checks"}};
    static const char *const what[] = {"added", "removed"};
    json_t *out = json_array(), *told = json_object(), *x, *f;
    struct gl_buf b = GL_BUF_INIT;
    size_t k, w, i, j;

    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        json_t *v = json_object_get(diff, kinds[k].kind);
        for (w = 0; w < 2; w++) {
            json_t *a = json_object_get(v, what[w]);
            if (!json_array_size(a))
                continue;
            gl_buf_reset(&b);
            gl_buf_addf(&b, "%s %s:", kinds[k].kind, what[w]);
            json_array_foreach(a, i, x)
                gl_buf_addf(&b, " %s", json_string_value(x));
            json_array_append_new(out, json_string(gl_buf_str(&b)));
            json_object_set_new(told, kinds[k].section, json_true());
        }
        json_array_foreach(json_object_get(v, "changed"), i, x)
        {
            gl_buf_reset(&b);
            gl_buf_addf(&b, "%s %s changed:", kinds[k].one,
                        json_string_value(json_object_get(x, "id")));
            json_array_foreach(json_object_get(x, "fields"), j, f)
                gl_buf_addf(&b, "%s %s", j ? "," : "", json_string_value(f));
            json_array_append_new(out, json_string(gl_buf_str(&b)));
            json_object_set_new(told, kinds[k].section, json_true());
        }
    }
    /* what the comparison above does not describe, by section */
    json_array_foreach(json_object_get(diff, "sections"), i, x)
    {
        if (json_object_get(told, json_string_value(x)))
            continue;
        gl_buf_reset(&b);
        gl_buf_addf(&b, "the text of '%s' changed", json_string_value(x));
        json_array_append_new(out, json_string(gl_buf_str(&b)));
    }
    if (!json_array_size(out))
        json_array_append_new(
            out, json_string("only comments or blank lines changed"));
    if (gl_buf_failed(&b)) { /* lines cut short: none */
        json_decref(out);
        out = NULL;
    }
    gl_buf_release(&b);
    json_decref(told);
    return out;
}
