/*
 * api-task.c - the runbook over HTTP: the tasks as they stand, each with
 * what the caller may do with it now (actions: the move's own checks, a
 * dry run), a run: task's output, and the moves start, done, fail, skip,
 * check, reopen: gl_task_act, the CLI's call, the same event, its actor
 * the token's person.  A run: task started here runs on the server's
 * host under a supervisor of its own, as `task start --detach`.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "golive/runbook.h"
#include "golive/status.h"
#include "golive/task-exec.h"
#include "serve/serve.h"
#include "serve/work.h"

/* The most of a task's output one answer carries: its last bytes (where
 * a failure shows). */
#define OUTPUT_CAP (1024 * 1024)

/* The tasks as the API shows them (all, or only the one id), with their
 * actions for q's person; GL_ENOTFOUND for an unknown only. */
static int tasks_json(struct sv_req *q, const char *only, json_t **out,
                      struct gl_err *err)
{
    static const char *const times[] = {"started",
                                        "ended",
                                        "expected_start",
                                        "expected_end",
                                        "planned_start",
                                        "planned_end",
                                        NULL};
    json_t *st = NULL, *list = NULL, *x;
    size_t i, k;
    int rc;

    *out = NULL;
    if (only && !gl_plan_task(q->plan, only))
        return gl_err_set(err, GL_ENOTFOUND, "no task '%s' in the plan", only);
    if ((rc = gl_status_eval(q->s, q->plan, q->info->switch_at, q->now,
                             GL_STATUS_TASKS, &st, err)))
        return rc;
    if (!(list = json_array())) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto out;
    }
    json_array_foreach(json_object_get(st, "tasks"), i, x)
    {
        const char *id = json_string_value(json_object_get(x, "id"));
        const struct gl_task *t = gl_plan_task(q->plan, id);
        json_t *deps, *acts = NULL;
        char output[4300];
        if (only && strcmp(id, only))
            continue;
        for (k = 0; times[k]; k++)
            sv_time_field(q, x, times[k]);
        deps = json_array();
        for (k = 0; t && k < t->depends_on.n; k++)
            json_array_append_new(deps, json_string(t->depends_on.v[k].id));
        json_object_set_new(x, "depends_on", deps);
        json_object_set_new(x, "run",
                            t && t->run ? json_string(t->run) : json_null());
        rc = gl_task_output(q->s, q->plan, id, output, sizeof(output), err);
        if (rc && rc != GL_ENOTFOUND)
            goto out;
        json_object_set_new(x, "output",
                            rc ? json_null() : json_string(output));
        if ((rc = gl_task_actions(q->s, q->plan, q->info->switch_at,
                                  q->who.person, id, q->now, &acts, err)))
            goto out;
        json_object_set_new(x, "actions", sv_actions_for(q, acts));
        json_array_append(list, x);
    }
    *out = list;
    list = NULL;
out:
    json_decref(list);
    json_decref(st);
    return rc;
}

static void tasks_get(struct sv_req *q, struct sv_resp *r)
{
    struct gl_err err;
    json_t *list;

    gl_err_clear(&err);
    if (tasks_json(q, NULL, &list, &err))
        sv_fail(r, &err);
    else
        sv_json(r, 200, json_pack("{s:o}", "tasks", list));
}

static void task_get(struct sv_req *q, struct sv_resp *r)
{
    struct gl_err err;
    json_t *list;

    gl_err_clear(&err);
    if (tasks_json(q, q->arg[0], &list, &err)) {
        sv_fail(r, &err);
        return;
    }
    sv_json(r, 200, json_incref(json_array_get(list, 0)));
    json_decref(list);
}

/* Whether path is a file of the folder golive-output/ beside the store
 * (where gl_task_output_file puts them): the store says which file, and
 * nothing else of the host is served. */
static int in_output_dir(struct sv_req *q, const char *path, char *real,
                         size_t n)
{
    char dir[PATH_MAX + 32], rdir[PATH_MAX], rp[PATH_MAX], *slash;
    size_t l;

    snprintf(dir, sizeof(dir), "%s", gl_store_path(q->s));
    slash = strrchr(dir, '/');
    snprintf(slash ? slash + 1 : dir,
             sizeof(dir) - (size_t)(slash ? slash + 1 - dir : 0),
             "golive-output");
    if (!realpath(dir, rdir) || !realpath(path, rp))
        return 0;
    l = strlen(rdir);
    if (strncmp(rp, rdir, l) || rp[l] != '/')
        return 0;
    snprintf(real, n, "%s", rp);
    return 1;
}

static void task_output(struct sv_req *q, struct sv_resp *r)
{
    char path[4300], real[PATH_MAX];
    struct gl_err err;
    FILE *f = NULL;
    long size, from = 0;
    size_t got;
    char *body;

    gl_err_clear(&err);
    if (gl_task_output(q->s, q->plan, q->arg[0], path, sizeof(path), &err)) {
        sv_fail(r, &err);
        return;
    }
    if (!in_output_dir(q, path, real, sizeof(real)) ||
        !(f = fopen(real, "rb"))) {
        sv_error(r, 404, "not_found",
                 "the output of task '%s' is gone from the server's host",
                 q->arg[0]);
        return;
    }
    if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0) {
        fclose(f);
        sv_error(r, 500, "internal", "cannot read the output of task '%s'",
                 q->arg[0]);
        return;
    }
    if (size > OUTPUT_CAP)
        from = size - OUTPUT_CAP;
    if (!(body = malloc((size_t)(size - from) + 1)) ||
        fseek(f, from, SEEK_SET)) {
        free(body);
        fclose(f);
        sv_error(r, 500, "internal", "cannot read the output of task '%s'",
                 q->arg[0]);
        return;
    }
    got = fread(body, 1, (size_t)(size - from), f);
    fclose(f);
    r->status = 200;
    r->body = body;
    r->len = got;
    r->type = "text/plain; charset=utf-8";
}

/* Start a run: task's supervisor on this host: the owner runs it, also
 * when the lead forced the start; its output file into out. */
static int task_detach(struct sv_req *q, const struct gl_task *t,
                       const char *sync_opt, char *out, size_t n,
                       struct gl_err *err)
{
    char owner[128], self[PATH_MAX];
    ssize_t len;
    int rc;

    if ((rc = gl_task_owner(q->s, q->plan, t->id.id, owner, sizeof(owner),
                            err)) ||
        (rc = gl_task_output_file(gl_store_path(q->s), t, q->now, out, n, err)))
        return rc;
    len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (len <= 0)
        return gl_err_set(err, GL_EIO, "cannot find this golive's own path");
    self[len] = '\0';
    return gl_task_detach(self, gl_store_path(q->s), t, owner, out, sync_opt,
                          err);
}

static void task_move(struct sv_req *q, struct sv_resp *r)
{
    static const char *const fields[] = {"note", "force", "resume", "restart",
                                         NULL};
    const char *id = q->arg[0], *note, *from, *to, *sync_opt, *action;
    const struct gl_task *t;
    char output[4300] = "";
    struct gl_err err;
    json_t *list, *o, *also = NULL;
    int act, force, resume, restart;

    action = strrchr(q->path, '/') + 1;
    act = gl_task_action_parse(action);
    if (!sv_fields_only(q, r, fields) ||
        !sv_field_str(q, r, "note", 0, &note) ||
        !sv_field_bool(q, r, "force", &force) ||
        !sv_field_bool(q, r, "resume", &resume) ||
        !sv_field_bool(q, r, "restart", &restart))
        return;
    if (resume && restart) {
        sv_error(r, 400, "bad_request",
                 "'resume' and 'restart' exclude each other");
        return;
    }
    sync_opt = resume ? "--resume" : restart ? "--restart" : NULL;
    if (sync_opt && act != GL_ACT_START) {
        sv_error(r, 400, "bad_request", "'%s' goes with start", sync_opt + 2);
        return;
    }
    if (!(t = gl_plan_task(q->plan, id))) {
        sv_error(r, 404, "not_found", "no task '%s' in the plan", id);
        return;
    }
    if (sync_opt && (!t->run || strncmp(t->run, "sync ", 5))) {
        sv_error(r, 400, "bad_request",
                 "'%s' is for a task whose run: is a sync; task '%s' has "
                 "%s%s",
                 sync_opt + 2, id,
                 t->run ? "run: " : "no run:", t->run ? t->run : "");
        return;
    }
    gl_err_clear(&err);
    if (gl_task_act_also(q->s, q->plan, q->info->switch_at, &q->actor, id,
                         (enum gl_task_action)act, force, note, q->now, &from,
                         &to, &also, &err)) {
        sv_fail(r, &err);
        return;
    }
    if (act == GL_ACT_START && t->run &&
        task_detach(q, t, sync_opt, output, sizeof(output), &err)) {
        /* moved, but not run: the owner fails it (or it is retried) */
        json_decref(also);
        sv_fail(r, &err);
        return;
    }
    if (tasks_json(q, id, &list, &err)) {
        json_decref(also);
        sv_fail(r, &err);
        return;
    }
    o = json_incref(json_array_get(list, 0));
    json_decref(list);
    json_object_set_new(o, "from", json_string(from));
    json_object_set_new(o, "to", json_string(to));
    json_object_set_new(o, "as", json_string(q->who.person));
    if (act == GL_ACT_REOPEN) /* the dependents taken back with it */
        json_object_set(o, "reopens", also);
    json_decref(also);
    if (output[0]) {
        json_object_set_new(o, "output", json_string(output));
        json_object_set_new(o, "detached", json_true());
    }
    sv_json(r, 200, o);
}

const struct sv_route sv_routes_task[] = {
    {"GET", "/tasks", tasks_get, 0},
    {"GET", "/tasks/{id}", task_get, 0},
    {"GET", "/tasks/{id}/output", task_output, 0},
    {"POST", "/tasks/{id}/start", task_move, SV_CHANGE},
    {"POST", "/tasks/{id}/done", task_move, SV_CHANGE},
    {"POST", "/tasks/{id}/fail", task_move, SV_CHANGE},
    {"POST", "/tasks/{id}/skip", task_move, SV_CHANGE},
    {"POST", "/tasks/{id}/check", task_move, SV_CHANGE},
    {"POST", "/tasks/{id}/reopen", task_move, SV_CHANGE},
    {NULL, NULL, NULL, 0},
};
