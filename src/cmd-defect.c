/*
 * cmd-defect.c - `golive defect open|fixing|fixed|verify|reopen|defer|list`,
 * `defect comment|show`: the defects of the night.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "cmd.h"
#include "golive/comment.h"
#include "golive/defect.h"
#include "util/clock.h"

/* The defects a as a table (`defect list`, here or through a server). */
static void print_list(json_t *a)
{
    json_t *o;
    size_t i;

    printf("%-6s %-8s %-9s %-10s %-10s %s\n", "id", "severity", "state",
           "scenario", "patch", "title");
    json_array_foreach(a, i, o)
    {
        const char *sc = json_string_value(json_object_get(o, "scenario")),
                   *pa = json_string_value(json_object_get(o, "patch"));
        printf("%-6s %-8s %-9s %-10s %-10s %s\n",
               json_string_value(json_object_get(o, "id")),
               json_string_value(json_object_get(o, "severity")),
               json_string_value(json_object_get(o, "state")), sc ? sc : "-",
               pa ? pa : "-", json_string_value(json_object_get(o, "title")));
    }
}

/* `defect list`: JSON as the library gives it, or a table. */
static int defect_list(struct cli_run *r, int json)
{
    struct gl_err err;
    char *js;

    gl_err_clear(&err);
    if (!(js = gl_defect_list(r->s, &err)))
        return cli_fail(&err);
    if (json) {
        printf("%s\n", js);
    } else {
        json_t *a = json_loads(js, 0, NULL);
        print_list(a);
        json_decref(a);
    }
    free(js);
    return EXIT_OK;
}

/* What a change SUB of defect n did, as `defect SUB` prints it (here or
 * through a server): what is the severity (open, severity) or the state
 * it moved to; k the comment's number; as who made it. */
static void print_change(const char *sub, int64_t n, const char *what,
                         int64_t k, const char *as, int json)
{
    char id[32];

    snprintf(id, sizeof(id), "D-%lld", (long long)n);
    if (!strcmp(sub, "open")) {
        if (json)
            cli_print_json(json_pack("{s:s, s:I, s:s, s:s?, s:s?}", "id", id,
                                     "n", (json_int_t)n, "state", "open",
                                     "severity", what, "as", as),
                           0);
        else
            printf("%s\n", id);
    } else if (!strcmp(sub, "comment")) {
        if (json)
            cli_print_json(json_pack("{s:I, s:I, s:s?}", "n", (json_int_t)n,
                                     "comment", (json_int_t)k, "as", as),
                           0);
        else
            printf("%s: comment %lld (%s)\n", id, (long long)k, as ? as : "?");
    } else if (json) {
        cli_print_json(json_pack("{s:I, s:s?, s:s?}", "n", (json_int_t)n,
                                 strcmp(sub, "severity") ? "to" : "severity",
                                 what, "as", as),
                       0);
    } else {
        printf("%s: %s%s (%s)\n", id,
               strcmp(sub, "severity") ? "" : "severity ", what ? what : "?",
               as ? as : "?");
    }
}

/* `defect open`: the new defect's id. */
static int defect_open(struct cli_run *r, const char *scenario,
                       const char *severity, const char *title, int json)
{
    struct gl_err err;
    int64_t n = 0;

    gl_err_clear(&err);
    if (gl_defect_open(r->s, r->plan, &r->who, scenario, severity, title, &n,
                       &err))
        return cli_fail(&err);
    print_change("open", n, severity, 0, r->who.person, json);
    return EXIT_OK;
}

/* `defect severity D-n SEVERITY` */
static int defect_severity(struct cli_run *r, int64_t n, const char *severity,
                           const char *note, int json)
{
    struct gl_err err;

    gl_err_clear(&err);
    if (gl_defect_severity(r->s, r->plan, &r->who, n, severity, note, &err))
        return cli_fail(&err);
    print_change("severity", n, severity, 0, r->who.person, json);
    return EXIT_OK;
}

/* `defect fixing|fixed|verify|reopen|defer D-n` */
static int defect_move(struct cli_run *r, int64_t n, const char *sub,
                       const char *patch, const char *note, int json)
{
    struct gl_err err;
    const char *to;

    gl_err_clear(&err);
    if (gl_defect_move(r->s, r->plan, &r->who, n, sub, patch, note, &to, &err))
        return cli_fail(&err);
    print_change(sub, n, to, 0, r->who.person, json);
    return EXIT_OK;
}

/* `defect comment D-n TEXT` */
static int defect_comment(struct cli_run *r, int64_t n, const char *text,
                          int json)
{
    struct gl_err err;
    int64_t k = 0;

    gl_err_clear(&err);
    if (gl_defect_comment(r->s, r->plan, &r->who, n, text, &k, &err))
        return cli_fail(&err);
    print_change("comment", n, NULL, k, r->who.person, json);
    return EXIT_OK;
}

/* Defect d (gl_defect_show's) and its comments, times at offset: JSON
 * or text (`defect show`, here or through a server).  Takes d. */
static void print_show(json_t *d, int offset, int json)
{
    static const char *const keys[] = {"scenario", "opened_by", "fixer",
                                       "verifier", "patch"};
    json_t *c;
    size_t i, k;

    json_array_foreach(json_object_get(d, "comments"), i, c)
    {
        int64_t at;
        int off;
        char t[40];
        if (!gl_time_parse(json_string_value(json_object_get(c, "at")), &at,
                           &off)) {
            gl_time_format(at, offset, t);
            json_object_set_new(c, "at", json_string(t));
        }
    }
    if (json) {
        cli_print_json(d, 1);
        return;
    }
    printf("%s %s %s: %s\n", json_string_value(json_object_get(d, "id")),
           json_string_value(json_object_get(d, "severity")),
           json_string_value(json_object_get(d, "state")),
           json_string_value(json_object_get(d, "title")));
    for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        const char *v = json_string_value(json_object_get(d, keys[k]));
        if (v)
            printf("  %-10s %s\n", keys[k], v);
    }
    if (!json_array_size(json_object_get(d, "comments")))
        printf("no comments\n");
    json_array_foreach(json_object_get(d, "comments"), i, c)
        printf("%s %s: %s\n", json_string_value(json_object_get(c, "at")),
               json_string_value(json_object_get(c, "actor")),
               json_string_value(json_object_get(c, "text")));
    json_decref(d);
}

/* `defect show D-n` */
static int defect_show(struct cli_run *r, int64_t n, int json)
{
    struct gl_err err;
    json_t *d = NULL;

    gl_err_clear(&err);
    if (gl_defect_show(r->s, n, &d, &err))
        return cli_fail(&err);
    print_show(d, r->info.switch_offset, json);
    return EXIT_OK;
}

/* The defect answers of the API without what only the API adds. */
static void strip_actions(json_t *d)
{
    json_object_del(d, "actions");
}

/* The route and body of a change SUB of defect n through a server. */
static void remote_change(const char *sub, int64_t n, const char *scenario,
                          const char *severity, const char *title,
                          const char *patch, const char *note, const char *text,
                          json_t *body, char *path, size_t len)
{
    if (!strcmp(sub, "open")) {
        json_object_set_new(body, "severity", json_string(severity));
        json_object_set_new(body, "title", json_string(title));
        if (scenario)
            json_object_set_new(body, "scenario", json_string(scenario));
        snprintf(path, len, "/defects");
        return;
    }
    if (!strcmp(sub, "comment")) {
        json_object_set_new(body, "text", json_string(text));
        snprintf(path, len, "/defects/D-%lld/comments", (long long)n);
        return;
    }
    if (!strcmp(sub, "severity"))
        json_object_set_new(body, "severity", json_string(severity));
    if (patch && !strcmp(sub, "defer"))
        json_object_set_new(body, "patch", json_string(patch));
    if (note)
        json_object_set_new(body, "note", json_string(note));
    snprintf(path, len, "/defects/D-%lld/%s", (long long)n, sub);
}

/* `defect SUB` through a server: the route of each form, then the same
 * printing as on the store. */
static int defect_remote(const char *server, const char *as, const char *sub,
                         int64_t n, const char *scenario, const char *severity,
                         const char *title, const char *patch, const char *note,
                         const char *text, int json)
{
    const int change = strcmp(sub, "list") && strcmp(sub, "show");
    json_t *body = json_object(), *o = NULL, *x, *last;
    struct gl_run_info info;
    char path[128];
    struct client c;
    int64_t now;
    size_t i;
    int rc;

    if ((rc = client_open(&c, server, change ? as : NULL)))
        goto out;
    if (!strcmp(sub, "list")) {
        if ((rc = client_call(&c, "GET", "/defects", NULL, &o)))
            goto out;
        json_array_foreach(json_object_get(o, "defects"), i, x)
            strip_actions(x);
        if (json)
            cli_print_json(json_incref(json_object_get(o, "defects")), 0);
        else
            print_list(json_object_get(o, "defects"));
        goto out;
    }
    if (!strcmp(sub, "show")) {
        snprintf(path, sizeof(path), "/defects/D-%lld", (long long)n);
        if ((rc = client_run_info(&c, &info, &now)) ||
            (rc = client_call(&c, "GET", path, NULL, &o)))
            goto out;
        strip_actions(o);
        print_show(json_incref(o), info.switch_offset, json);
        goto out;
    }
    remote_change(sub, n, scenario, severity, title, patch, note, text, body,
                  path, sizeof(path));
    if ((rc = client_call(&c, "POST", path, body, &o)))
        goto out;
    if (!strcmp(sub, "open"))
        print_change(sub, json_integer_value(json_object_get(o, "n")), severity,
                     0, json_string_value(json_object_get(o, "opened_by")),
                     json);
    else if (!strcmp(sub, "comment") &&
             (last = json_array_get(
                  json_object_get(o, "comments"),
                  json_array_size(json_object_get(o, "comments")) - 1)))
        print_change(sub, n, NULL,
                     json_integer_value(json_object_get(last, "n")),
                     json_string_value(json_object_get(last, "actor")), json);
    else
        print_change(sub, n,
                     strcmp(sub, "severity")
                         ? json_string_value(json_object_get(o, "state"))
                         : severity,
                     0, c.person[0] ? c.person : NULL, json);
out:
    json_decref(body);
    json_decref(o);
    client_close(&c);
    return rc;
}

static int run(int argc, char **argv)
{
    const char *as = NULL, *scenario = NULL, *severity = NULL, *title = NULL,
               *patch = NULL, *note = NULL, *state_opt = NULL, *sub,
               *server = NULL;
    struct cli_run r;
    int json = 0, rc;
    int64_t n = 0;
    static const struct po_sub subs[] = {
        {"open", 0, 0, "no id"},
        {"fixing", 1, 1, "a defect id"},
        {"fixed", 1, 1, "a defect id"},
        {"verify", 1, 1, "a defect id"},
        {"reopen", 1, 1, "a defect id"},
        {"defer", 1, 1, "a defect id"},
        {"severity", 2, 2,
         "a defect id and a severity: defect severity D-1 major --note TEXT"},
        {"list", 0, 0, "no id"},
        {"comment", 2, 2, "a defect id and the comment's text"},
        {"show", 1, 1, "a defect id"},
        {NULL, 0, 0, NULL},
    };
    struct po_option opts[] = {
        OPT_STRING("severity", 0, &severity, "S",
                   "open: blocker, major or minor"),
        OPT_STRING("title", 0, &title, "TEXT", "open: what is wrong"),
        OPT_STRING("scenario", 0, &scenario, "ID",
                   "open: the scenario that found it"),
        OPT_STRING("patch", 0, &patch, "NAME",
                   "defer: the patch that will fix it"),
        OPT_NOTE(&note, "severity: why it changes (required); a move: kept "
                        "with its event"),
        OPT_AS(&as),
        OPT_STATE(&state_opt),
        OPT_SERVER(&server),
        OPT_JSON(&json, "print the outcome, or the list, as JSON"),
        OPT_SUBCOMMANDS(subs),
    };

    if ((rc = cli_parse(&cmd_defect, opts, argc, argv)) >= 0)
        return rc;
    sub = argv[optind];
    if (!strcmp(sub, "open") && (!severity || !title || !*title))
        return cli_usage("defect",
                         "'defect open' needs --severity and --title");
    if (argc - optind > 1 && !(n = cli_id_number(argv[optind + 1], 'D')))
        return cli_usage("defect", "'%s' is not a defect id (D-1, D-2...)",
                         argv[optind + 1]);
    if (!strcmp(sub, "severity"))
        severity = argv[optind + 2];
    if ((server = client_server(server, state_opt)))
        return defect_remote(
            server, as, sub, n, scenario, severity, title, patch, note,
            !strcmp(sub, "comment") ? argv[optind + 2] : NULL, json);
    rc = cli_run_open(&r, state_opt, NULL, as,
                      strcmp(sub, "list") && strcmp(sub, "show"));
    if (rc == EXIT_OK) {
        if (!strcmp(sub, "list"))
            rc = defect_list(&r, json);
        else if (!strcmp(sub, "open"))
            rc = defect_open(&r, scenario, severity, title, json);
        else if (!strcmp(sub, "severity"))
            rc = defect_severity(&r, n, severity, note, json);
        else if (!strcmp(sub, "comment"))
            rc = defect_comment(&r, n, argv[optind + 2], json);
        else if (!strcmp(sub, "show"))
            rc = defect_show(&r, n, json);
        else
            rc = defect_move(&r, n, sub, patch, note, json);
    }
    cli_run_close(&r);
    return rc;
}

const struct gl_cmd cmd_defect = {
    "defect",
    "defects: open, fixing, fixed, verify, reopen, defer, severity",
    "usage: golive defect open --severity blocker|major|minor --title TEXT\n"
    "                          [--scenario ID] --as PERSON\n"
    "       golive defect fixing|fixed|verify|reopen ID [--note TEXT]\n"
    "                              --as PERSON\n"
    "       golive defect defer ID --patch NAME [--note TEXT] --as PERSON\n"
    "       golive defect severity ID blocker|major|minor --note TEXT\n"
    "                              --as LEAD\n"
    "       golive defect list [--json]\n"
    "       golive defect comment ID TEXT --as PERSON\n"
    "       golive defect show ID [--json]\n"
    "       (every form takes --state FILE and --json)\n"
    "\n"
    "'open' logs a defect and prints its id (D-1, D-2, ...); anyone may.\n"
    "A defect moves open -> fixing -> fixed -> verified, or back to\n"
    "reopened, or is deferred to a named patch (the lead or a dev).  Devs\n"
    "take it up and fix it; someone other than its fixer verifies the fix.\n"
    "A blocker is a defect that stops a workflow: while one is open, the\n"
    "go gate fails, and it is never deferred.  'severity' (the lead, with\n"
    "a note saying why) changes a defect's severity: a blocker that does\n"
    "not block after all is lowered first, then it can be deferred.\n"
    "Every move is an event of the run with its actor.  'comment' adds\n"
    "what someone tried (which record, what happened) to a defect; any\n"
    "person of the plan may, in any state.  'show' prints a defect and its\n"
    "comments (--json: as 'list --json' gives it, with \"comments\": [{n,\n"
    "at, actor, text}]).\n"
    "\n",
    "exit: 0 done, 2 usage, no such defect or store error, 3 refused (the\n"
    "      message says who may)\n",
    run,
};
