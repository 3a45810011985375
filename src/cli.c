/*
 * cli.c - helpers shared by the commands (see cli.h).
 */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "golive/sync.h"
#include "util/clock.h"
#include "util/buf.h"
#include "util/sha256.h"

int cli_exit_code(int code)
{
    switch (code) {
    case GL_OK:
        return EXIT_OK;
    case GL_ECORRUPT:
    case GL_EPLAN:
        return EXIT_NO;
    case GL_EREFUSED:
    case GL_EDENIED: /* who asks may not: refused as well */
        return EXIT_REFUSED;
    default:
        return EXIT_ERROR;
    }
}

static void vmsg(const char *kind, const char *fmt, va_list ap)
{
    fprintf(stderr, "golive: %s: ", kind);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmsg("error", fmt, ap);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmsg("warning", fmt, ap);
    va_end(ap);
}

int cli_store_open(const char *path, int flags, gl_store **s,
                   struct gl_err *err)
{
    int rc = gl_store_open(path, flags, s, err), before;

    if (!rc && (before = gl_store_schema_before(*s)) > 0 &&
        before < GL_STORE_SCHEMA)
        fprintf(stderr,
                "golive: state store '%s' upgraded from schema version %d to "
                "%d (older golive binaries now refuse it)\n",
                path, before, GL_STORE_SCHEMA);
    return rc;
}

int cli_fail(const struct gl_err *err)
{
    cli_error("%s", err->msg[0] ? err->msg : gl_code_name(err->code));
    return cli_exit_code(err->code);
}

int cli_buf_check(const struct gl_buf *b, const char *what)
{
    struct gl_err err;

    gl_err_clear(&err);
    return gl_buf_check(b, what, &err) ? cli_fail(&err) : EXIT_OK;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmsg("usage", fmt, ap);
    va_end(ap);
    fprintf(stderr, "see 'golive %s --help'\n", cmd);
    return EXIT_ERROR;
}

const char *cli_s(long long n)
{
    return n == 1 ? "" : "s";
}

const char *cli_state_path(const char *opt_state, const char *plan_path,
                           char *buf, size_t n)
{
    const char *env = getenv("GOLIVE_STATE"), *slash;

    if (opt_state && *opt_state)
        snprintf(buf, n, "%s", opt_state);
    else if (env && *env)
        snprintf(buf, n, "%s", env);
    else if (plan_path && (slash = strrchr(plan_path, '/')))
        snprintf(buf, n, "%.*s/golive.state", (int)(slash - plan_path),
                 plan_path);
    else
        snprintf(buf, n, "golive.state");
    {
        /* a command that works on a store only, run by someone whose
         * commands go through a server: say which store it takes */
        static int said;
        const char *server = getenv("GOLIVE_SERVER");
        if (!said && server && *server && !(opt_state && *opt_state) &&
            !(env && *env)) {
            said = 1;
            cli_warn("GOLIVE_SERVER is set, but this command works on a "
                     "state store, not through a server: '%s' here",
                     buf);
        }
    }
    return buf;
}

int cli_actor(const char *opt_as, const struct gl_plan *plan,
              struct gl_actor *who, struct gl_err *err)
{
    static char person[256], os_user[256];
    const char *env = getenv("GOLIVE_USER"), *named = NULL;
    struct passwd *pw = getpwuid(geteuid());

    snprintf(os_user, sizeof(os_user), "%s",
             pw && pw->pw_name ? pw->pw_name : "unknown");
    if (opt_as && *opt_as)
        named = opt_as;
    else if (env && *env)
        named = env;
    snprintf(person, sizeof(person), "%s", named ? named : os_user);
    who->person = person;
    who->os_user = os_user;
    if (named && plan && !gl_plan_person(plan, named)) {
        struct gl_buf b = GL_BUF_INIT;
        size_t i;
        for (i = 0; i < plan->n_people; i++)
            gl_buf_addf(&b, "%s%s", i ? ", " : "", plan->people[i].id.id);
        if (gl_buf_check(&b, "the plan's people", err)) {
            gl_buf_release(&b);
            return err->code;
        }
        gl_err_set(err, GL_EREFUSED,
                   "'%s' is not a person of the plan (%s); name one with "
                   "--as or GOLIVE_USER",
                   named, gl_buf_str(&b));
        gl_buf_release(&b);
        return GL_EREFUSED;
    }
    return GL_OK;
}

void cli_print_diags(FILE *out, const struct gl_diags *d, int json)
{
    size_t i;

    if (json) {
        json_t *arr = json_array();
        char *s;
        for (i = 0; arr && i < d->n; i++) {
            const struct gl_diag *g = &d->v[i];
            json_array_append_new(
                arr,
                json_pack("{s:s, s:i, s:i, s:s, s:s, s:s}", "file", d->file,
                          "line", g->line, "col", g->col, "severity",
                          g->sev == GL_SEV_ERROR ? "error" : "warning", "code",
                          g->code, "message", g->message));
        }
        s = arr ? json_dumps(arr, JSON_INDENT(2)) : NULL;
        fprintf(out, "%s\n", s ? s : "[]");
        free(s);
        json_decref(arr);
        return;
    }
    for (i = 0; i < d->n; i++) {
        const struct gl_diag *g = &d->v[i];
        if (g->line)
            fprintf(out, "%s:%d:%d: ", d->file, g->line, g->col);
        else
            fprintf(out, "%s: ", d->file);
        fprintf(out, "%s: %s [%s]\n",
                g->sev == GL_SEV_ERROR ? "error" : "warning", g->message,
                g->code);
    }
    if (d->dropped)
        fprintf(out, "%s: %zu more problem%s not shown\n", d->file, d->dropped,
                cli_s((long long)d->dropped));
}

int cli_load_plan(const char *path, int json, int quiet, struct gl_plan **plan)
{
    return cli_check_plan(path, json, quiet, 0, plan);
}

int cli_check_plan(const char *path, int json, int quiet, int online,
                   struct gl_plan **plan)
{
    struct gl_diags d;
    struct gl_err err;
    struct gl_plan *p;
    int rc, unreachable = 0;

    *plan = NULL;
    memset(&d, 0, sizeof(d));
    gl_err_clear(&err);
    d.file = path;
    if (!strcmp(path, CLI_RUN_PLAN)) {
        /* the run's own copy, parsed under its original name so that
         * relative paths resolve from the plan's folder */
        struct gl_run_info info;
        gl_store *s = NULL;
        char state[4096];
        memset(&info, 0, sizeof(info));
        cli_state_path(NULL, NULL, state, sizeof(state));
        if (gl_store_open(state, GL_STORE_READ, &s, &err) ||
            gl_store_run_info(s, &info, &err)) {
            gl_store_close(s);
            gl_diags_release(&d);
            return cli_fail(&err);
        }
        p = gl_plan_parse(info.plan_path, info.plan_text, info.plan_len, &d);
        gl_run_info_release(&info);
        gl_store_close(s);
    } else {
        p = gl_plan_load(path, &d, &err);
    }
    if (!p && err.code == GL_EIO) {
        gl_diags_release(&d);
        return cli_fail(&err);
    }
    if (p)
        gl_plan_check(p, &d);
    if (p && online) {
        if (d.n_errors && !json)
            fprintf(quiet ? stderr : stdout,
                    "%s: the databases were not checked: fix the errors "
                    "below first\n",
                    path);
        else if (!d.n_errors && gl_sync_check_online(p, &d, &err) == GL_EIO)
            unreachable = 1;
    }
    gl_diags_sort(&d);
    if (json)
        cli_print_diags(stdout, &d, 1);
    else if (!quiet)
        cli_print_diags(stdout, &d, 0);
    else if (d.n_errors)
        cli_print_diags(stderr, &d, 0);
    else if (d.n_warnings && quiet > 1)
        cli_warn("plan '%s' has %zu warning%s; 'golive validate' shows them",
                 path, d.n_warnings, d.n_warnings == 1 ? "" : "s");
    rc = unreachable ? EXIT_ERROR : d.n_errors ? EXIT_NO : EXIT_OK;
    if (!json && !quiet) {
        if (d.n_errors || d.n_warnings)
            printf("%s: %zu error%s, %zu warning%s\n", path, d.n_errors,
                   d.n_errors == 1 ? "" : "s", d.n_warnings,
                   d.n_warnings == 1 ? "" : "s");
        if (!d.n_errors && p && online)
            printf("%s: the databases agree with the plan\n", path);
        if (!d.n_errors && p)
            printf("%s: ok: %zu %s, %zu system%s, %zu sync job%s, %zu "
                   "check%s, %zu workflow%s, %zu task%s, %zu scenario%s\n",
                   path, p->n_people, p->n_people == 1 ? "person" : "people",
                   p->n_systems, cli_s((long long)p->n_systems), p->n_sync,
                   cli_s((long long)p->n_sync), p->n_checks,
                   cli_s((long long)p->n_checks), p->n_workflows,
                   cli_s((long long)p->n_workflows), p->n_tasks,
                   cli_s((long long)p->n_tasks), p->n_scenarios,
                   cli_s((long long)p->n_scenarios));
    }
    gl_diags_release(&d);
    *plan = p;
    return rc;
}

int cli_isatty_err(void)
{
    return isatty(STDERR_FILENO);
}

json_t *cli_value_json(const struct gl_value *v)
{
    struct gl_buf b = GL_BUF_INIT;
    json_t *j;

    switch (v->type) {
    case GL_NULL:
        return json_null();
    case GL_INT:
        return json_integer(v->i);
    case GL_BOOL:
        return json_boolean(v->i);
    case GL_FLOAT:
        return json_real(v->f);
    default:
        /* exact numerics as strings, bytes as hex, times as ISO 8601 */
        gl_value_text(v, &b);
        if (gl_buf_failed(&b)) {
            gl_buf_release(&b);
            return json_string("(out of memory)");
        }
        j = json_stringn(gl_buf_str(&b), b.len);
        gl_buf_release(&b);
        return j ? j : json_string("(not UTF-8)");
    }
}

void cli_clock_from_env(void)
{
    const char *env = getenv("GOLIVE_NOW");
    int64_t at;

    if (!env || !*env)
        gl_clock_set(GL_CLOCK_SYSTEM, 0);
    else if (gl_time_parse(env, &at, NULL))
        gl_clock_set(GL_CLOCK_BROKEN, 0);
    else
        gl_clock_set(GL_CLOCK_FIXED, at);
}

int cli_run_open(struct cli_run *r, const char *state_opt, const char *plan_arg,
                 const char *as, int need_person)
{
    struct gl_err err;

    memset(r, 0, sizeof(*r));
    gl_err_clear(&err);
    if (gl_clock_now(&r->now)) {
        cli_error("GOLIVE_NOW is not an ISO 8601 time with an offset");
        return EXIT_ERROR;
    }
    cli_state_path(state_opt, plan_arg, r->state, sizeof(r->state));
    /* a command that needs no person only reads: an older store stays
     * as it is (see GL_STORE_READ) */
    if (cli_store_open(r->state, need_person ? 0 : GL_STORE_READ, &r->s, &err))
        return cli_fail(&err);
    {
        /* the store is handed to children (run: tasks, the supervisor)
         * that run in the plan's folder: the path must not depend on
         * where the user stands */
        char abs[PATH_MAX];
        if (realpath(r->state, abs))
            snprintf(r->state, sizeof(r->state), "%s", abs);
    }
    if (gl_run_load(r->s, need_person, &r->info, &r->plan, &err)) {
        if (err.code == GL_EPLAN) {
            cli_error("the run's plan cannot be read");
            return EXIT_ERROR;
        }
        return cli_fail(&err);
    }
    if (cli_actor(as, r->plan, &r->who, &err))
        return cli_fail(&err);
    if (need_person && !gl_plan_person(r->plan, r->who.person)) {
        cli_error("'%s' is not a person of the plan; name yourself with --as "
                  "or GOLIVE_USER",
                  r->who.person);
        return EXIT_REFUSED;
    }
    return EXIT_OK;
}

void cli_run_close(struct cli_run *r)
{
    gl_plan_free(r->plan);
    gl_run_info_release(&r->info);
    gl_store_close(r->s);
    memset(r, 0, sizeof(*r));
}

int cli_plan_matches_run(const char *plan_path, const char *state,
                         int plan_changed, char sha[65])
{
    struct gl_buf b = GL_BUF_INIT;
    struct gl_run_info info;
    struct gl_err err;
    gl_store *s = NULL;
    struct stat sb;
    int rc = EXIT_OK;

    sha[0] = '\0';
    memset(&info, 0, sizeof(info));
    gl_err_clear(&err);
    if (!strcmp(plan_path, CLI_RUN_PLAN) || stat(state, &sb) != 0)
        return EXIT_OK;
    if (cli_store_open(state, 0, &s, &err))
        return cli_fail(&err);
    if (gl_store_run_info(s, &info, &err)) {
        gl_store_close(s);
        return err.code == GL_ENOTFOUND ? EXIT_OK : cli_fail(&err);
    }
    gl_store_close(s);
    if (gl_buf_read_file(&b, plan_path, 0) ||
        gl_sha256_hex(b.data, b.len, sha)) {
        cli_error("cannot read plan '%s'", plan_path);
        rc = EXIT_ERROR;
    } else if (!strcmp(sha, info.plan_sha256)) {
        sha[0] = '\0';
    } else if (!plan_changed) {
        cli_error("plan '%s' (sha256 %s) is not the run's plan (version %d, "
                  "sha256 %s); 'golive run amend %s --as LEAD' takes it into "
                  "the run, '@run' runs the run's copy, --plan-changed runs "
                  "the file as it is and records its hash",
                  plan_path, sha, info.plan_version, info.plan_sha256,
                  plan_path);
        sha[0] = '\0';
        rc = EXIT_REFUSED;
    } else {
        cli_warn("running plan '%s' (sha256 %s), not the run's plan (version "
                 "%d, sha256 %s), as --plan-changed says; its hash is "
                 "recorded with each result",
                 plan_path, sha, info.plan_version, info.plan_sha256);
    }
    gl_buf_release(&b);
    gl_run_info_release(&info);
    return rc;
}

void cli_print_json(json_t *v, int indent)
{
    char *s = v ? json_dumps(v, indent ? JSON_INDENT(2) : JSON_COMPACT) : NULL;

    printf("%s\n", s ? s : "null");
    free(s);
    json_decref(v);
}

int64_t cli_id_number(const char *s, char prefix)
{
    char *end;
    long long n;

    if ((s[0] == prefix || s[0] == prefix + ('a' - 'A')) && s[1] == '-')
        s += 2;
    if (*s < '1' || *s > '9')
        return 0;
    errno = 0;
    n = strtoll(s, &end, 10);
    return *end || errno ? 0 : (int64_t)n;
}

int cli_parse(const struct gl_cmd *cmd, const struct po_option *opts, int argc,
              char **argv)
{
    struct gl_buf msg = GL_BUF_INIT;
    int first, rc;

    rc = po_parse(opts, cmd->name, argc, argv, &first, &msg);
    optind = first;
    if (rc == PO_HELP)
        cli_help(stdout, cmd, opts);
    else if (rc != PO_OK && gl_buf_failed(&msg))
        cli_buf_check(&msg, "the message");
    else if (rc != PO_OK)
        cli_usage(cmd->name, "%s", gl_buf_str(&msg));
    gl_buf_release(&msg);
    return rc == PO_OK ? -1 : rc == PO_HELP ? EXIT_OK : EXIT_ERROR;
}

void cli_help(FILE *out, const struct gl_cmd *cmd, const struct po_option *opts)
{
    struct gl_buf b = GL_BUF_INIT;

    fputs(cmd->usage, out);
    if (opts)
        po_help(opts, &b);
    cli_buf_check(&b, "the options' help"); /* said; the rest still helps */
    if (b.len)
        fprintf(out, "options:\n%s\n", gl_buf_str(&b));
    fputs(cmd->help_end ? cmd->help_end : "", out);
    gl_buf_release(&b);
}
