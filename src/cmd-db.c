/*
 * cmd-db.c - `golive db`: reach a database the way golive does.  Answers
 * "can we connect, what does this table look like, what does this query
 * return" on the night, with the same drivers, URL rules and secrets
 * handling as sync and checks.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "cmd.h"
#include "golive/db.h"
#include "util/buf.h"

/* Whether sql starts as a statement that changes things (for a hint). */
static int changes_things(const char *sql)
{
    static const char *const words[] = {
        "insert", "update", "delete", "truncate", "create", "drop",
        "alter",  "grant",  "revoke", "merge",    "rename", NULL};
    size_t i, n;

    sql += strspn(sql, " \t\r\n(");
    n = strspn(sql, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
    for (i = 0; words[i]; i++)
        if (n == strlen(words[i]) && !strncasecmp(sql, words[i], n))
            return 1;
    return 0;
}

static int db_query(struct gl_db *db, const char *sql, int json)
{
    struct gl_cursor *c = NULL;
    const struct gl_value *row;
    struct gl_err err;
    struct gl_buf b = GL_BUF_INIT;
    size_t i, n;
    int r;

    gl_err_clear(&err);
    if (db->drv->query(db, sql, &c, &err)) {
        int rc = cli_fail(&err);
        if (changes_things(sql))
            fprintf(stderr, "golive: hint: 'golive db exec URL SQL' runs "
                            "statements that change things\n");
        return rc;
    }
    n = db->drv->ncols(c);
    if (!json) {
        for (i = 0; i < n; i++)
            printf("%s%s", i ? "\t" : "", db->drv->col_name(c, i));
        printf("\n");
    }
    while ((r = db->drv->next(c, &row, &err)) == 1) {
        if (json) {
            json_t *o = json_object();
            char *s;
            for (i = 0; i < n; i++)
                json_object_set_new(o, db->drv->col_name(c, i),
                                    cli_value_json(&row[i]));
            s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
            printf("%s\n", s ? s : "{}");
            free(s);
            json_decref(o);
            continue;
        }
        for (i = 0; i < n; i++) {
            gl_buf_reset(&b);
            if (row[i].type == GL_NULL)
                gl_buf_adds(&b, "NULL");
            else
                gl_value_text(&row[i], &b);
            if (gl_buf_failed(&b))
                break;
            printf("%s%s", i ? "\t" : "", gl_buf_str(&b));
        }
        printf("\n");
        if (gl_buf_failed(&b))
            break;
    }
    db->drv->cursor_close(c);
    if (gl_buf_failed(&b)) {
        r = cli_buf_check(&b, "a value");
        gl_buf_release(&b);
        return r;
    }
    gl_buf_release(&b);
    return r < 0 ? cli_fail(&err) : EXIT_OK;
}

/* Whether the person at the terminal says yes to running sql on db. */
static int confirmed(struct gl_db *db, const char *sql)
{
    char line[64];

    fprintf(stderr, "golive: db exec changes '%s':\n  %s\nrun it? (yes/no) ",
            db->label, sql);
    fflush(stderr);
    if (!fgets(line, sizeof(line), stdin))
        return 0;
    line[strcspn(line, "\r\n")] = '\0';
    return !strcmp(line, "y") || !strcmp(line, "yes");
}

static int db_exec(struct gl_db *db, const char *sql, int yes, int json)
{
    struct gl_err err;
    int64_t n = -1;

    if (!db->drv->change) {
        cli_error("'%s': db exec is not supported by the %s driver", db->label,
                  db->drv->name);
        return EXIT_ERROR;
    }
    if (!yes && !confirmed(db, sql)) {
        cli_error("not run: db exec changes the database; answer 'yes', or "
                  "give --yes");
        return EXIT_REFUSED;
    }
    gl_err_clear(&err);
    if (db->drv->change(db, sql, &n, &err))
        return cli_fail(&err);
    if (json)
        cli_print_json(n < 0 ? json_pack("{s:n}", "affected")
                             : json_pack("{s:I}", "affected", (json_int_t)n),
                       0);
    else if (n < 0)
        printf("done (%s does not count the rows)\n", db->drv->name);
    else
        printf("%lld row%s affected\n", (long long)n, n == 1 ? "" : "s");
    return EXIT_OK;
}

static int db_describe(struct gl_db *db, const char *table, int json)
{
    struct gl_table_desc t;
    struct gl_err err;
    size_t i, k;

    gl_err_clear(&err);
    if (db->drv->describe(db, table, &t, &err))
        return cli_fail(&err);
    if (json) {
        json_t *o = json_object(), *cols = json_array(), *pk = json_array();
        char *s;
        for (i = 0; i < t.ncols; i++) {
            const struct gl_column *c = &t.cols[i];
            json_array_append_new(
                cols, json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:i, s:i, s:i}",
                                "name", c->name, "decl_type", c->decl_type,
                                "type", gl_vtype_name(c->type), "nullable",
                                c->nullable, "has_default", c->has_default,
                                "identity", c->identity, "length", c->length,
                                "precision", c->precision, "scale", c->scale));
        }
        for (k = 0; k < t.npk; k++)
            json_array_append_new(pk, json_string(t.cols[t.pk[k]].name));
        json_object_set_new(o, "table", json_string(t.name));
        json_object_set_new(o, "columns", cols);
        json_object_set_new(o, "primary_key", pk);
        s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s ? s : "{}");
        free(s);
        json_decref(o);
    } else {
        printf("%s\n", t.name);
        for (i = 0; i < t.ncols; i++) {
            const struct gl_column *c = &t.cols[i];
            int inpk = 0;
            for (k = 0; k < t.npk; k++)
                inpk |= t.pk[k] == i;
            printf("  %-24s %-24s %-11s%s%s%s\n", c->name, c->decl_type,
                   gl_vtype_name(c->type), c->nullable ? "" : " not null",
                   c->has_default ? " default" : "", inpk ? " key" : "");
        }
    }
    gl_table_desc_release(&t);
    return EXIT_OK;
}

static int db_tables(struct gl_db *db, int json)
{
    struct gl_err err;
    char **names = NULL;
    size_t n = 0, i;
    json_t *arr = json ? json_array() : NULL;

    gl_err_clear(&err);
    if (db->drv->tables(db, &names, &n, &err)) {
        json_decref(arr);
        return cli_fail(&err);
    }
    for (i = 0; i < n; i++) {
        if (arr)
            json_array_append_new(arr, json_string(names[i]));
        else
            printf("%s\n", names[i]);
        free(names[i]);
    }
    free(names);
    if (arr) {
        char *s = json_dumps(arr, 0);
        printf("%s\n", s ? s : "[]");
        free(s);
        json_decref(arr);
    }
    return EXIT_OK;
}

static int run(int argc, char **argv)
{
    const char *sub, *url;
    struct gl_db *db = NULL;
    struct gl_err err;
    int json = 0, yes = 0, rc;
    static const struct po_sub subs[] = {
        {"ping", 1, 1, "a URL"},
        {"tables", 1, 1, "a URL"},
        {"describe", 2, 2, "a URL and a table"},
        {"query", 2, 2, "a URL and the SQL"},
        {"exec", 2, 2, "a URL and the SQL"},
        {NULL, 0, 0, NULL},
    };
    struct po_option opts[] = {
        OPT_FLAG("yes", 0, &yes, "exec: run without asking"),
        OPT_JSON(&json, "tables, describe, query: JSON; exec: "
                        "{\"affected\": N}"),
        OPT_SUBCOMMANDS(subs),
    };

    if ((rc = cli_parse(&cmd_db, opts, argc, argv)) >= 0)
        return rc;
    sub = argv[optind];
    url = argv[optind + 1];
    gl_err_clear(&err);
    if (gl_db_open(url, ".", &db, &err))
        return cli_fail(&err);
    if (!strcmp(sub, "ping")) {
        printf("%s: connected (%s)\n", db->label, db->drv->name);
        rc = EXIT_OK;
    } else if (!strcmp(sub, "tables")) {
        rc = db_tables(db, json);
    } else if (!strcmp(sub, "describe")) {
        rc = db_describe(db, argv[optind + 2], json);
    } else if (!strcmp(sub, "exec")) {
        rc = db_exec(db, argv[optind + 2], yes, json);
    } else {
        rc = db_query(db, argv[optind + 2], json);
    }
    gl_db_close(db);
    return rc;
}

const struct gl_cmd cmd_db = {
    "db",
    "reach a database as golive does: ping, tables, describe, query, exec",
    "usage: golive db ping URL\n"
    "       golive db tables URL [--json]\n"
    "       golive db describe URL TABLE [--json]\n"
    "       golive db query URL SQL [--json]\n"
    "       golive db exec URL SQL [--yes] [--json]\n"
    "\n"
    "URL is sqlite:PATH, postgres://USER@HOST:PORT/DB or\n"
    "mysql://USER@HOST:PORT/DB; ${VAR} is taken from the environment, and\n"
    "PGPASSWORD / .pgpass or MYSQL_PWD supply passwords.  Passwords are\n"
    "never printed.  'query' streams rows (tab-separated, or JSON Lines\n"
    "with --json: integers as numbers, exact numerics as strings, bytes as\n"
    "hex, times as ISO 8601).  'exec' runs statements that change things\n"
    "(TRUNCATE, DELETE, UPDATE, DDL; a query's cursor refuses them) as\n"
    "written, in autocommit, and prints the rows affected; it asks first\n"
    "on the terminal unless --yes.\n"
    "\n",
    "exit: 0 ok, 2 usage, connection or statement error, 3 exec not\n"
    "      confirmed\n",
    run,
};
