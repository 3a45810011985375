/*
 * cmd-duty.c - hypercare: `golive duty log|list|defect|patch` and
 * `golive patch plan`.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "cmd.h"
#include "golive/duty.h"
#include "util/clock.h"

/* Print the duty log list (taken), times at offset. */
static int duty_print(json_t *list, int offset, int json)
{
    json_t *x;
    size_t i;

    /* the store keeps UTC; people read the plan's offset */
    json_array_foreach(list, i, x)
    {
        int64_t at;
        int off;
        char t[40];
        if (!gl_time_parse(json_string_value(json_object_get(x, "at")), &at,
                           &off)) {
            gl_time_format(at, offset, t);
            json_object_set_new(x, "at", json_string(t));
        }
    }
    if (json) {
        cli_print_json(list, 1);
        return EXIT_OK;
    }
    json_array_foreach(list, i, x)
    {
        /* null when there is none: a JSON null, not a NULL pointer */
        const char *def = json_string_value(json_object_get(x, "defect")),
                   *pa = json_string_value(json_object_get(x, "patch"));
        printf("%-6s %s %-8s %-6s %-8s %s%s%s%s%s%s\n",
               json_string_value(json_object_get(x, "id")),
               json_string_value(json_object_get(x, "at")),
               json_string_value(json_object_get(x, "actor")),
               json_string_value(json_object_get(x, "channel")),
               json_string_value(json_object_get(x, "kind")),
               json_string_value(json_object_get(x, "text")), def ? " -> " : "",
               def ? def : "", pa ? " [patch " : "", pa ? pa : "",
               pa ? "]" : "");
    }
    json_decref(list);
    return EXIT_OK;
}

/* `duty list`: the log, times at the plan's offset. */
static int duty_list(struct cli_run *r, int json)
{
    json_t *list = NULL;
    struct gl_err err;

    gl_err_clear(&err);
    if (gl_duty_list(r->s, &list, &err))
        return cli_fail(&err);
    return duty_print(list, r->info.switch_offset, json);
}

/* `duty SUB` through a server: the routes of each form, printed as on the
 * store. */
static int duty_remote(const char *server, const char *as, const char *sub,
                       const char *arg, int64_t n, const char *channel,
                       const char *kind, const char *patch,
                       const char *severity, const char *title, int json)
{
    json_t *body = json_object(), *o = NULL, *x;
    struct gl_run_info info;
    char path[96];
    struct client c;
    int64_t now;
    size_t i;
    int rc;

    if ((rc = client_open(&c, server, strcmp(sub, "list") ? as : NULL)))
        goto out;
    if (!strcmp(sub, "list")) {
        if ((rc = client_run_info(&c, &info, &now)) ||
            (rc = client_call(&c, "GET", "/duty", NULL, &o)))
            goto out;
        json_array_foreach(json_object_get(o, "duty"), i, x)
            json_object_del(x, "actions");
        rc = duty_print(json_incref(json_object_get(o, "duty")),
                        info.switch_offset, json);
        goto out;
    }
    if (!strcmp(sub, "log")) {
        json_object_set_new(body, "text", json_string(arg));
        if (channel)
            json_object_set_new(body, "channel", json_string(channel));
        if (kind)
            json_object_set_new(body, "kind", json_string(kind));
        if (patch)
            json_object_set_new(body, "patch", json_string(patch));
        snprintf(path, sizeof(path), "/duty");
    } else if (!strcmp(sub, "defect")) {
        json_object_set_new(body, "severity", json_string(severity));
        if (title)
            json_object_set_new(body, "title", json_string(title));
        snprintf(path, sizeof(path), "/duty/H-%lld/defect", (long long)n);
    } else {
        if (patch)
            json_object_set_new(body, "patch", json_string(patch));
        snprintf(path, sizeof(path), "/duty/H-%lld/patch", (long long)n);
    }
    if ((rc = client_call(&c, "POST", path, body, &o)))
        goto out;
    if (!strcmp(sub, "log"))
        printf(json ? "{\"id\":\"%s\"}\n" : "%s\n",
               json_string_value(json_object_get(o, "id")));
    else if (!strcmp(sub, "defect"))
        printf(json ? "{\"id\":\"%s\"}\n" : "%s\n",
               json_string_value(json_object_get(o, "defect")));
    else
        printf("H-%lld: for patch %s (%s)\n", (long long)n, patch, c.person);
out:
    json_decref(body);
    json_decref(o);
    client_close(&c);
    return rc;
}

static int duty_run(int argc, char **argv)
{
    const char *as = NULL, *channel = NULL, *kind = NULL, *patch = NULL,
               *severity = NULL, *title = NULL, *state = NULL, *sub,
               *server = NULL;
    struct cli_run r;
    struct gl_err err;
    int64_t n = 0, d;
    int json = 0, rc;
    static const struct po_sub subs[] = {
        {"log", 1, 1, "the entry's text"},
        {"list", 0, 0, "no argument"},
        {"defect", 1, 1, "an entry id (H-1...)"},
        {"patch", 1, 1, "an entry id (H-1...)"},
        {NULL, 0, 0, NULL},
    };
    struct po_option opts[] = {
        OPT_STRING("channel", 0, &channel, "C",
                   "log: how the user asked: phone, chat or ticket"),
        OPT_STRING("kind", 0, &kind, "K", "log: question, defect or request"),
        OPT_STRING("patch", 0, &patch, "NAME",
                   "log, patch: the patch that will answer it"),
        OPT_STRING("severity", 0, &severity, "S",
                   "defect: blocker, major or minor"),
        OPT_STRING("title", 0, &title, "TEXT",
                   "defect: the defect's title (default: the entry's text)"),
        OPT_AS(&as),
        OPT_STATE(&state),
        OPT_SERVER(&server),
        OPT_JSON(&json, "print the outcome, or the list, as JSON"),
        OPT_SUBCOMMANDS(subs),
    };

    if ((rc = cli_parse(&cmd_duty, opts, argc, argv)) >= 0)
        return rc;
    sub = argv[optind];
    if ((!strcmp(sub, "defect") || !strcmp(sub, "patch")) &&
        !(n = cli_id_number(argv[optind + 1], 'H')))
        return cli_usage("duty", "'%s' is not a duty entry id (H-1, H-2...)",
                         argv[optind + 1]);
    if (!strcmp(sub, "defect") && !severity)
        return cli_usage("duty", "'duty defect' needs --severity");
    if ((server = client_server(server, state)))
        return duty_remote(server, as, sub,
                           argc - optind > 1 ? argv[optind + 1] : NULL, n,
                           channel, kind, patch, severity, title, json);
    gl_err_clear(&err);
    if ((rc = cli_run_open(&r, state, NULL, as, strcmp(sub, "list") != 0)))
        goto out;
    if (!strcmp(sub, "log")) {
        if (gl_duty_log(r.s, r.plan, &r.who, channel, kind, argv[optind + 1],
                        patch, &n, &err)) {
            rc = cli_fail(&err);
            goto out;
        }
        printf(json ? "{\"id\":\"H-%lld\"}\n" : "H-%lld\n", (long long)n);
    } else if (!strcmp(sub, "defect")) {
        if (gl_duty_defect(r.s, r.plan, &r.who, n, severity, title, &d, &err)) {
            rc = cli_fail(&err);
            goto out;
        }
        printf(json ? "{\"id\":\"D-%lld\"}\n" : "D-%lld\n", (long long)d);
    } else if (!strcmp(sub, "patch")) {
        if (gl_duty_patch(r.s, r.plan, &r.who, n, patch, &err)) {
            rc = cli_fail(&err);
            goto out;
        }
        printf("H-%lld: for patch %s (%s)\n", (long long)n, patch,
               r.who.person);
    } else {
        rc = duty_list(&r, json);
    }
out:
    cli_run_close(&r);
    return rc;
}

static int patch_run(int argc, char **argv)
{
    struct cli_opts o;
    struct cli_run r;
    struct client c;
    struct gl_err err;
    const char *server = NULL;
    json_t *plan = NULL, *x, *y;
    size_t i, j;
    int rc;
    static const struct po_sub subs[] = {{"plan", 0, 0, NULL},
                                         {NULL, 0, 0, NULL}};
    struct po_option opts[] = {
        OPT_STATE(&o.state),
        OPT_SERVER(&server),
        OPT_JSON(&o.json, "{patches: [{patch, defects: [{id, severity, "
                          "title}], requests: [{id, kind, text}]}], "
                          "unplanned: [{id, kind, text}]}"),
        OPT_SUBCOMMANDS(subs),
    };

    memset(&o, 0, sizeof(o));
    if ((rc = cli_parse(&cmd_patch, opts, argc, argv)) >= 0)
        return rc;
    gl_err_clear(&err);
    memset(&r, 0, sizeof(r));
    memset(&c, 0, sizeof(c));
    if ((server = client_server(server, o.state))) {
        /* through a server: the same plan, GET /patch-plan */
        if ((rc = client_open(&c, server, NULL)) ||
            (rc = client_call(&c, "GET", "/patch-plan", NULL, &plan)))
            goto out;
    } else if ((rc = cli_run_open(&r, o.state, NULL, NULL, 0))) {
        goto out;
    } else if (gl_patch_plan(r.s, &plan, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (o.json) {
        cli_print_json(plan, 1);
        plan = NULL;
        goto out;
    }
    json_array_foreach(json_object_get(plan, "patches"), i, x)
    {
        printf("patch %s\n", json_string_value(json_object_get(x, "patch")));
        json_array_foreach(json_object_get(x, "defects"), j, y) printf(
            "  %-6s %-8s %s\n", json_string_value(json_object_get(y, "id")),
            json_string_value(json_object_get(y, "severity")),
            json_string_value(json_object_get(y, "title")));
        json_array_foreach(json_object_get(x, "requests"), j, y) printf(
            "  %-6s %-8s %s\n", json_string_value(json_object_get(y, "id")),
            json_string_value(json_object_get(y, "kind")),
            json_string_value(json_object_get(y, "text")));
    }
    if (json_array_size(json_object_get(plan, "unplanned"))) {
        printf("not planned yet\n");
        json_array_foreach(json_object_get(plan, "unplanned"), j, y) printf(
            "  %-6s %-8s %s\n", json_string_value(json_object_get(y, "id")),
            json_string_value(json_object_get(y, "kind")),
            json_string_value(json_object_get(y, "text")));
    }
    if (!json_array_size(json_object_get(plan, "patches")) &&
        !json_array_size(json_object_get(plan, "unplanned")))
        printf("nothing deferred, nothing requested\n");
out:
    json_decref(plan);
    client_close(&c);
    if (!server)
        cli_run_close(&r);
    return rc;
}

const struct gl_cmd cmd_duty = {
    "duty",
    "hypercare: log user requests, turn them into defects or patch work",
    "usage: golive duty log TEXT --channel phone|chat|ticket\n"
    "                       --kind question|defect|request [--patch NAME]\n"
    "                       --as PERSON\n"
    "       golive duty defect H-N --severity blocker|major|minor\n"
    "                          [--title TEXT] --as PERSON\n"
    "       golive duty patch H-N --patch NAME --as PERSON\n"
    "       golive duty list [--json]\n"
    "       (every form takes --state FILE and --json)\n"
    "\n"
    "After go-live someone is on duty: 'log' records what a user asked and\n"
    "prints its id (H-1, H-2, ...); anyone of the plan may.  'defect' turns\n"
    "an entry into a defect (its text the title), 'patch' plans a request\n"
    "into a named patch (the lead or a dev).  Every entry is an event.\n"
    "'list' shows each entry's time at the UTC offset of the plan's\n"
    "switch_at, as every time golive prints.\n"
    "\n",
    "exit: 0 done, 2 usage, no such entry or store error, 3 refused\n",
    duty_run,
};

const struct gl_cmd cmd_patch = {
    "patch",
    "the patch plan: deferred defects and requests by target patch",
    "usage: golive patch plan [--state FILE] [--json]\n"
    "\n"
    "List the defects deferred to a patch ('golive defect defer') and the\n"
    "duty log's entries planned into one ('golive duty patch', of any\n"
    "kind, or logged with --patch), grouped by target patch; requests not\n"
    "yet planned into one are listed last.\n"
    "\n",
    "exit: 0 shown, 2 no run or store error\n",
    patch_run,
};
