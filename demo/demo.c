/*
 * demo.c - the demo go-live (see demo.h).
 *
 * The data is generated from a fixed seed, so that a given --rows always
 * gives the same old system.  It plants what a real night finds: archived
 * claims the sync job skips, rejected requests without a reason, claims in a
 * legacy "finance hold" state the new workflow has no way out of, and a
 * legacy status code ('15', "returned for supplement") that the plan's
 * value map does not cover.
 */
#include "demo.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "golive/db.h"
#include "util/buf.h"
#include "util/clock.h"

extern const char gl_demo_plan_template[];
extern const size_t gl_demo_plan_template_len;

/* xorshift64*: small, fast, and the same everywhere */
static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static int64_t rnd_range(int64_t lo, int64_t hi) /* inclusive */
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static const char *const surnames[] = {"Li",   "Wang", "Zhang", "Liu",
                                       "Chen", "Yang", "Zhao",  "Huang",
                                       "Zhou", "Wu",   "Xu",    "Sun"};
static const char *const given[] = {"Wei", "Fang",  "Na",  "Min", "Jing",
                                    "Lei", "Qiang", "Yan", "Jie", "Tao",
                                    "Xiu", "Hao",   "Lin", "Yu"};
static const char *const depts[] = {"总部 Head Office",
                                    "财务部 Finance",
                                    "人力资源部 HR",
                                    "销售一部 Sales East",
                                    "销售二部 Sales North",
                                    "研发平台部 R&D Platform",
                                    "研发移动部 R&D Mobile",
                                    "采购部 Procurement",
                                    "法务部 Legal",
                                    "信息技术部 IT Ops",
                                    "市场部 Marketing",
                                    "客服部 Customer Care",
                                    "行政部 Administration",
                                    "质量部 Quality",
                                    "物流部 Logistics",
                                    "审计部 Audit",
                                    "战略部 Strategy",
                                    "投资部 Investment",
                                    "培训中心 Training",
                                    "华东分公司 East Branch",
                                    "华北分公司 North Branch",
                                    "华南分公司 South Branch",
                                    "西部分公司 West Branch",
                                    "已撤销部门 Dissolved Unit"};
static const char *const reasons[] = {"Client visit, Shanghai",
                                      "Conference fee",
                                      "Team dinner",
                                      "Taxi to airport",
                                      "Office supplies",
                                      "Hotel, 2 nights",
                                      "Training course",
                                      "出差 Beijing, train tickets",
                                      "Printer toner",
                                      "Software licence (annual)",
                                      "Courier: contract originals",
                                      "Customer gift, approved by VP"};
static const char *const reject_reasons[] = {
    "Missing invoice",
    "Over the travel budget",
    "Duplicate of an earlier claim",
    "Wrong cost centre",
    "Receipt unreadable, please rescan",
    "需补充发票 invoice needed"};
static const char *const opinions[] = {
    "OK", "Agreed", "同意", "Approved", "Please pay", "Checked the invoice"};

#define NSIZE(a) ((int64_t)(sizeof(a) / sizeof((a)[0])))

static void fmt_ts(int64_t t, char out[40])
{
    char iso[40];

    /* legacy systems wrote local time (+08:00) without a zone */
    gl_time_format(t, 480, iso);
    snprintf(out, 40, "%.10s %.8s", iso, iso + 11);
}

struct gen {
    sqlite3 *db;
    sqlite3_stmt *log;
    int64_t log_id, approvals, employees;
    struct gl_err *err;
};

static int sql(sqlite3 *db, const char *q, struct gl_err *err)
{
    char *msg = NULL;

    if (sqlite3_exec(db, q, NULL, NULL, &msg) != SQLITE_OK) {
        gl_err_set(err, GL_ESTORE, "demo: %s", msg ? msg : "sqlite error");
        sqlite3_free(msg);
        return GL_ESTORE;
    }
    return GL_OK;
}

static int step(sqlite3 *db, sqlite3_stmt *st, struct gl_err *err)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return gl_err_set(err, GL_ESTORE, "demo: %s", sqlite3_errmsg(db));
    return GL_OK;
}

static int add_log(struct gen *g, const char *type, int64_t id,
                   int64_t approver, const char *action, const char *opinion,
                   int64_t t)
{
    char ts[40];

    fmt_ts(t, ts);
    sqlite3_bind_int64(g->log, 1, ++g->log_id);
    sqlite3_bind_text(g->log, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(g->log, 3, id);
    sqlite3_bind_int64(g->log, 4, approver);
    sqlite3_bind_text(g->log, 5, action, -1, SQLITE_STATIC);
    if (opinion)
        sqlite3_bind_text(g->log, 6, opinion, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(g->log, 6);
    sqlite3_bind_text(g->log, 7, ts, -1, SQLITE_TRANSIENT);
    g->approvals++;
    return step(g->db, g->log, g->err);
}

static const char *const old_schema =
    "CREATE TABLE t_dept (dept_id INTEGER PRIMARY KEY, dept_name TEXT NOT "
    "NULL, parent_id INTEGER, is_deleted INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE t_user (user_id INTEGER PRIMARY KEY, login_name TEXT NOT "
    "NULL UNIQUE, real_name TEXT NOT NULL, dept_id INTEGER REFERENCES "
    "t_dept(dept_id), email TEXT, mobile TEXT, user_status CHAR(1) NOT NULL,"
    " create_time TEXT NOT NULL);"
    "CREATE TABLE t_expense_apply (apply_id INTEGER PRIMARY KEY, "
    "applicant_id INTEGER NOT NULL REFERENCES t_user(user_id), dept_id "
    "INTEGER NOT NULL, amount NUMERIC(12,2) NOT NULL, currency CHAR(3), "
    "reason TEXT, status_code CHAR(2) NOT NULL, submit_time TEXT, "
    "update_time TEXT NOT NULL, reject_reason TEXT, is_archived INTEGER NOT "
    "NULL DEFAULT 0, is_deleted INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE t_leave_apply (apply_id INTEGER PRIMARY KEY, applicant_id "
    "INTEGER NOT NULL REFERENCES t_user(user_id), leave_type CHAR(2) NOT "
    "NULL, start_date TEXT NOT NULL, end_date TEXT NOT NULL, days "
    "NUMERIC(4,1) NOT NULL, status_code CHAR(2) NOT NULL, submit_time TEXT,"
    " update_time TEXT NOT NULL, reject_reason TEXT, is_deleted INTEGER NOT "
    "NULL DEFAULT 0);"
    "CREATE TABLE t_approve_log (log_id INTEGER PRIMARY KEY, biz_type "
    "CHAR(3) NOT NULL, biz_id INTEGER NOT NULL, approver_id INTEGER, action "
    "VARCHAR(10) NOT NULL, opinion TEXT, op_time TEXT NOT NULL);"
    "CREATE INDEX t_approve_log_biz ON t_approve_log (biz_type, biz_id);"
    "CREATE TABLE t_sys_log (id INTEGER PRIMARY KEY, msg TEXT, created "
    "TEXT);";

static const char *const new_schema =
    "CREATE TABLE departments (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "parent_id INTEGER REFERENCES departments(id));"
    "CREATE TABLE employees (id INTEGER PRIMARY KEY, username TEXT NOT NULL "
    "UNIQUE, display_name TEXT NOT NULL, department_id INTEGER REFERENCES "
    "departments(id), email TEXT, phone TEXT, active INTEGER NOT NULL, "
    "created_at TEXT NOT NULL);"
    "CREATE TABLE expense_claims (id INTEGER PRIMARY KEY, requester_id "
    "INTEGER NOT NULL REFERENCES employees(id), department_id INTEGER NOT "
    "NULL, amount NUMERIC NOT NULL, currency TEXT NOT NULL, purpose TEXT, "
    "status TEXT NOT NULL, submitted_at TEXT, updated_at TEXT NOT NULL, "
    "rejection_reason TEXT, archived INTEGER NOT NULL DEFAULT 0, "
    "source_system TEXT NOT NULL DEFAULT 'new');"
    "CREATE TABLE leave_requests (id INTEGER PRIMARY KEY, requester_id "
    "INTEGER NOT NULL REFERENCES employees(id), kind TEXT NOT NULL, "
    "starts_on TEXT NOT NULL, ends_on TEXT NOT NULL, days NUMERIC NOT NULL,"
    " status TEXT NOT NULL, submitted_at TEXT, updated_at TEXT NOT NULL, "
    "rejection_reason TEXT);"
    "CREATE TABLE approval_steps (id INTEGER PRIMARY KEY, request_type TEXT "
    "NOT NULL, request_id INTEGER NOT NULL, actor_id INTEGER, decision TEXT "
    "NOT NULL, comment TEXT, decided_at TEXT NOT NULL);"
    /* the new system's planted bug: its import trigger drops rejection
     * reasons that are not plain ASCII, so those rejected claims show no
     * reason (the diff check finds them as changed rows) */
    "CREATE TRIGGER claims_reason_import AFTER INSERT ON expense_claims "
    "WHEN NEW.rejection_reason GLOB '*[^ -~]*' BEGIN UPDATE expense_claims "
    "SET rejection_reason = NULL WHERE id = NEW.id; END;";

/* The same schema for the servers (--target). */
static const char *const new_schema_postgres =
    "CREATE TABLE departments (id integer PRIMARY KEY, name text NOT NULL, "
    "parent_id integer REFERENCES departments(id));"
    "CREATE TABLE employees (id integer PRIMARY KEY, username varchar(80) "
    "NOT NULL UNIQUE, display_name varchar(80) NOT NULL, department_id "
    "integer REFERENCES departments(id), email varchar(120), phone "
    "varchar(30), active smallint NOT NULL, created_at timestamp NOT NULL);"
    "CREATE TABLE expense_claims (id serial PRIMARY KEY, requester_id "
    "integer NOT NULL REFERENCES employees(id), department_id integer NOT "
    "NULL, amount numeric(12,2) NOT NULL, currency char(3) NOT NULL, purpose "
    "text, status varchar(20) NOT NULL, submitted_at timestamp, updated_at "
    "timestamp NOT NULL, rejection_reason text, archived smallint NOT NULL "
    "DEFAULT 0, source_system varchar(20) NOT NULL DEFAULT 'new');"
    "CREATE TABLE leave_requests (id serial PRIMARY KEY, requester_id "
    "integer NOT NULL REFERENCES employees(id), kind varchar(20) NOT NULL, "
    "starts_on date NOT NULL, ends_on date NOT NULL, days numeric(4,1) NOT "
    "NULL, status varchar(20) NOT NULL, submitted_at timestamp, updated_at "
    "timestamp NOT NULL, rejection_reason text);"
    "CREATE TABLE approval_steps (id bigserial PRIMARY KEY, request_type "
    "varchar(10) NOT NULL, request_id integer NOT NULL, actor_id integer, "
    "decision varchar(20) NOT NULL, comment text, decided_at timestamp NOT "
    "NULL);"
    "CREATE OR REPLACE FUNCTION claims_reason_import() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN IF NEW.rejection_reason ~ '[^ -~]' THEN "
    "NEW.rejection_reason := NULL; END IF; RETURN NEW; END $$;"
    "CREATE TRIGGER claims_reason_import BEFORE INSERT ON expense_claims "
    "FOR EACH ROW EXECUTE FUNCTION claims_reason_import()";

static const char *const new_schema_mysql =
    "CREATE TABLE departments (id int PRIMARY KEY, name varchar(120) NOT "
    "NULL, parent_id int, FOREIGN KEY (parent_id) REFERENCES "
    "departments(id));"
    "CREATE TABLE employees (id int PRIMARY KEY, username varchar(80) NOT "
    "NULL UNIQUE, display_name varchar(80) NOT NULL, department_id int, "
    "email varchar(120), phone varchar(30), active smallint NOT NULL, "
    "created_at datetime NOT NULL, FOREIGN KEY (department_id) REFERENCES "
    "departments(id));"
    "CREATE TABLE expense_claims (id int AUTO_INCREMENT PRIMARY KEY, "
    "requester_id int NOT NULL, department_id int NOT NULL, amount "
    "decimal(12,2) NOT NULL, currency char(3) NOT NULL, purpose text, status "
    "varchar(20) NOT NULL, submitted_at datetime, updated_at datetime NOT "
    "NULL, rejection_reason text, archived smallint NOT NULL DEFAULT 0, "
    "source_system varchar(20) NOT NULL DEFAULT 'new', FOREIGN KEY "
    "(requester_id) REFERENCES employees(id));"
    "CREATE TABLE leave_requests (id int AUTO_INCREMENT PRIMARY KEY, "
    "requester_id int NOT NULL, kind varchar(20) NOT NULL, starts_on date "
    "NOT NULL, ends_on date NOT NULL, days decimal(4,1) NOT NULL, status "
    "varchar(20) NOT NULL, submitted_at datetime, updated_at datetime NOT "
    "NULL, rejection_reason text, FOREIGN KEY (requester_id) REFERENCES "
    "employees(id));"
    "CREATE TABLE approval_steps (id bigint AUTO_INCREMENT PRIMARY KEY, "
    "request_type varchar(10) NOT NULL, request_id int NOT NULL, actor_id "
    "int, decision varchar(20) NOT NULL, comment text, decided_at datetime "
    "NOT NULL);"
    "CREATE TRIGGER claims_reason_import BEFORE INSERT ON expense_claims "
    "FOR EACH ROW BEGIN IF NEW.rejection_reason REGEXP '[^ -~]' THEN SET "
    "NEW.rejection_reason = NULL; END IF; END";

/* The new system in a server: its tables are (re)created, only with
 * force when they exist, and only the demo's own. */
static int build_target(const struct gl_demo_opts *o, struct gl_err *err)
{
    static const char *const tables[] = {"approval_steps", "leave_requests",
                                         "expense_claims", "employees",
                                         "departments",    "golive_checkpoint"};
    struct gl_db *db = NULL;
    struct gl_table_desc t;
    size_t i;
    int rc, exists = 0;

    gl_db_global_init();
    if ((rc = gl_db_open(o->target, o->dir, &db, err)))
        return rc;
    for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        if (db->drv->describe(db, tables[i], &t, NULL) == GL_OK) {
            exists = 1;
            gl_table_desc_release(&t);
        }
    }
    if (exists && !o->force) {
        rc = gl_err_set(err, GL_EREFUSED,
                        "'%s' already holds the demo's tables; use --force "
                        "to replace them",
                        db->label);
        goto out;
    }
    for (i = 0; i < sizeof(tables) / sizeof(tables[0]) && !rc; i++) {
        struct gl_buf q = GL_BUF_INIT;
        gl_buf_adds(&q, "DROP TABLE IF EXISTS ");
        db->drv->quote_ident(tables[i], &q);
        if (!(rc = gl_buf_check(&q, "the statement", err)))
            rc = db->drv->exec(db, gl_buf_str(&q), err);
        gl_buf_release(&q);
    }
    if (!rc)
        rc = db->drv->exec(db,
                           !strcmp(db->drv->name, "postgres")
                               ? new_schema_postgres
                           : !strcmp(db->drv->name, "mysql") ? new_schema_mysql
                                                             : new_schema,
                           err);
out:
    gl_db_close(db);
    return rc;
}

static int gen_org(struct gen *g, int64_t *ndept)
{
    sqlite3_stmt *st = NULL;
    char login[64], name[64], email[96], mobile[32], ts[40];
    int64_t i, t0 = 1420070400; /* 2015-01-01 */
    int rc = GL_OK;

    if (sqlite3_prepare_v2(g->db, "INSERT INTO t_dept VALUES (?,?,?,?)", -1,
                           &st, NULL) != SQLITE_OK)
        return gl_err_set(g->err, GL_ESTORE, "demo: %s", sqlite3_errmsg(g->db));
    for (i = 0; i < NSIZE(depts) && !rc; i++) {
        sqlite3_bind_int64(st, 1, i + 1);
        sqlite3_bind_text(st, 2, depts[i], -1, SQLITE_STATIC);
        if (i == 0)
            sqlite3_bind_null(st, 3);
        else
            sqlite3_bind_int64(st, 3, i < 19 ? 1 : 10);
        sqlite3_bind_int(st, 4, i == NSIZE(depts) - 1); /* dissolved */
        rc = step(g->db, st, g->err);
    }
    sqlite3_finalize(st);
    *ndept = NSIZE(depts);
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(g->db, "INSERT INTO t_user VALUES (?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_err_set(g->err, GL_ESTORE, "demo: %s", sqlite3_errmsg(g->db));
    for (i = 1; i <= g->employees && !rc; i++) {
        const char *sn = surnames[rnd() % NSIZE(surnames)];
        const char *gn = given[rnd() % NSIZE(given)];
        int64_t r = (int64_t)(rnd() % 100);
        snprintf(name, sizeof(name), "%s %s", sn, gn);
        snprintf(login, sizeof(login), "%s.%s%" PRId64, sn, gn, i);
        for (char *c = login; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        snprintf(email, sizeof(email), "%s@example.com", login);
        snprintf(mobile, sizeof(mobile), "+86 13%09" PRId64,
                 (int64_t)(rnd() % 1000000000));
        fmt_ts(t0 + rnd_range(0, 11 * 365 * 86400LL), ts);
        sqlite3_bind_int64(st, 1, i);
        sqlite3_bind_text(st, 2, login, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, rnd_range(1, NSIZE(depts) - 1));
        if (r < 7)
            sqlite3_bind_null(st, 5); /* no email on file */
        else
            sqlite3_bind_text(st, 5, email, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, mobile, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 7,
                          r < 85   ? "A"
                          : r < 97 ? "L"
                                   : "S",
                          -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, ts, -1, SQLITE_TRANSIENT);
        rc = step(g->db, st, g->err);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Expense status by share (per mille): draft 40, submitted 90, dept
 * approved 80, returned-for-supplement (legacy '15', unmapped) 5, finance
 * hold ('25') 10, finance approved 50, paid 560, rejected 80, withdrawn 45,
 * and archived paid claims for the rest. */
static const char *expense_status(int *archived)
{
    int64_t r = (int64_t)(rnd() % 1000);

    *archived = 0;
    if (r < 40)
        return "00";
    if (r < 130)
        return "10";
    if (r < 210)
        return "20";
    if (r < 215)
        return "15";
    if (r < 225)
        return "25";
    if (r < 275)
        return "30";
    if (r < 835)
        return "40";
    if (r < 915)
        return "90";
    if (r < 960)
        return "95";
    *archived = 1;
    return "40";
}

static int gen_expenses(struct gen *g, int64_t rows)
{
    sqlite3_stmt *st = NULL;
    char amount[32], sub[40], upd[40];
    int64_t i, base = 1735660800; /* 2025-01-01 +08:00 */
    int rc = GL_OK;

    if (sqlite3_prepare_v2(g->db,
                           "INSERT INTO t_expense_apply VALUES "
                           "(?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_err_set(g->err, GL_ESTORE, "demo: %s", sqlite3_errmsg(g->db));
    for (i = 1; i <= rows && !rc; i++) {
        int archived;
        const char *status = expense_status(&archived);
        int64_t who = rnd_range(1, g->employees);
        int64_t boss = rnd_range(1, g->employees);
        int64_t fin = rnd_range(1, g->employees);
        int64_t t = base + rnd_range(0, 430 * 86400LL), u;
        int64_t cents = rnd_range(1000, 5000000);
        int deleted = rnd() % 100 < 2;

        snprintf(amount, sizeof(amount), "%" PRId64 ".%02d", cents / 100,
                 (int)(cents % 100));
        fmt_ts(t, sub);
        u = t + rnd_range(600, 20 * 86400LL);
        fmt_ts(u, upd);
        sqlite3_bind_int64(st, 1, i);
        sqlite3_bind_int64(st, 2, who);
        sqlite3_bind_int64(st, 3, rnd_range(1, NSIZE(depts) - 1));
        sqlite3_bind_text(st, 4, amount, -1, SQLITE_TRANSIENT);
        if (rnd() % 50 == 0)
            sqlite3_bind_null(st, 5); /* old rows before currencies */
        else
            sqlite3_bind_text(st, 5, rnd() % 20 ? "CNY" : "USD", -1,
                              SQLITE_STATIC);
        sqlite3_bind_text(st, 6, reasons[rnd() % NSIZE(reasons)], -1,
                          SQLITE_STATIC);
        sqlite3_bind_text(st, 7, status, -1, SQLITE_STATIC);
        if (!strcmp(status, "00"))
            sqlite3_bind_null(st, 8);
        else
            sqlite3_bind_text(st, 8, sub, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 9, upd, -1, SQLITE_TRANSIENT);
        /* a third of the rejections carry no reason: the old UI allowed it */
        if (!strcmp(status, "90") && rnd() % 3)
            sqlite3_bind_text(st, 10,
                              reject_reasons[rnd() % NSIZE(reject_reasons)], -1,
                              SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 10);
        sqlite3_bind_int(st, 11, archived);
        sqlite3_bind_int(st, 12, deleted);
        if ((rc = step(g->db, st, g->err)))
            break;

        /* the approval history that led to the status */
        if (!strcmp(status, "00"))
            continue;
        if ((rc = add_log(g, "EXP", i, who, "SUBMIT", NULL, t)))
            break;
        if (!strcmp(status, "95")) {
            rc = add_log(g, "EXP", i, who, "WITHDRAW", NULL, u);
            continue;
        }
        if (!strcmp(status, "15")) {
            rc = add_log(g, "EXP", i, boss, "RETURN",
                         "Please add the hotel invoice", u);
            continue;
        }
        if (!strcmp(status, "90")) {
            rc = add_log(g, "EXP", i, boss, "REJECT", NULL, u);
            continue;
        }
        if (!strcmp(status, "10"))
            continue;
        if ((rc = add_log(g, "EXP", i, boss, "APPROVE",
                          opinions[rnd() % NSIZE(opinions)], t + 3600)))
            break;
        if (!strcmp(status, "30") || !strcmp(status, "40"))
            rc = add_log(g, "EXP", i, fin, "APPROVE",
                         opinions[rnd() % NSIZE(opinions)], t + 7200);
    }
    sqlite3_finalize(st);
    return rc;
}

static int gen_leaves(struct gen *g, int64_t rows)
{
    static const char *const types[] = {"AL", "AL", "AL", "SL", "PL"};
    static const char *const states[] = {"00", "10", "10", "40", "40",
                                         "40", "40", "40", "90", "95"};
    sqlite3_stmt *st = NULL;
    char s1[40], s2[40], sub[40], upd[40], days[16];
    int64_t i, base = 1735660800;
    int rc = GL_OK;

    if (sqlite3_prepare_v2(g->db,
                           "INSERT INTO t_leave_apply VALUES "
                           "(?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return gl_err_set(g->err, GL_ESTORE, "demo: %s", sqlite3_errmsg(g->db));
    for (i = 1; i <= rows && !rc; i++) {
        const char *status = states[rnd() % NSIZE(states)];
        int64_t who = rnd_range(1, g->employees);
        int64_t t = base + rnd_range(0, 430 * 86400LL);
        int64_t start = t + rnd_range(1, 30) * 86400, len = rnd_range(1, 20);
        int half = rnd() % 4 == 0;

        fmt_ts(start, s1);
        fmt_ts(start + (len - 1) * 86400, s2);
        fmt_ts(t, sub);
        fmt_ts(t + rnd_range(600, 3 * 86400LL), upd);
        snprintf(days, sizeof(days), "%" PRId64 ".%d", len - half, half * 5);
        sqlite3_bind_int64(st, 1, i);
        sqlite3_bind_int64(st, 2, who);
        sqlite3_bind_text(st, 3, types[rnd() % NSIZE(types)], -1,
                          SQLITE_STATIC);
        sqlite3_bind_text(st, 4, s1, 10, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, s2, 10, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, days, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 7, status, -1, SQLITE_STATIC);
        if (!strcmp(status, "00"))
            sqlite3_bind_null(st, 8);
        else
            sqlite3_bind_text(st, 8, sub, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 9, upd, -1, SQLITE_TRANSIENT);
        if (!strcmp(status, "90") && rnd() % 4)
            sqlite3_bind_text(st, 10, "Project deadline, please move it", -1,
                              SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 10);
        sqlite3_bind_int(st, 11, rnd() % 100 == 0);
        if ((rc = step(g->db, st, g->err)))
            break;
        if (strcmp(status, "00") &&
            (rc = add_log(g, "LEA", i, who, "SUBMIT", NULL, t)))
            break;
        if (!strcmp(status, "40"))
            rc = add_log(g, "LEA", i, rnd_range(1, g->employees), "APPROVE",
                         opinions[rnd() % NSIZE(opinions)], t + 3600);
        else if (!strcmp(status, "90"))
            rc = add_log(g, "LEA", i, rnd_range(1, g->employees), "REJECT",
                         NULL, t + 3600);
    }
    sqlite3_finalize(st);
    return rc;
}

static int gen_syslog(struct gen *g)
{
    return sql(g->db,
               "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM "
               "n WHERE i < 500) INSERT INTO t_sys_log SELECT i, 'login ok', "
               "'2026-01-01 08:00:00' FROM n",
               g->err);
}

static int open_new_db(const char *path, sqlite3 **db, struct gl_err *err)
{
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        NULL) != SQLITE_OK)
        return gl_err_set(err, GL_EIO, "cannot create '%s': %s", path,
                          *db ? sqlite3_errmsg(*db) : "out of memory");
    return GL_OK;
}

static int build_old(const char *path, int64_t rows, struct gl_demo_stats *st,
                     struct gl_err *err)
{
    struct gen g;
    int rc;

    memset(&g, 0, sizeof(g));
    g.err = err;
    g.employees = rows / 20 < 50 ? 50 : rows / 20;
    rng_state = 0x9E3779B97F4A7C15ULL ^ (uint64_t)rows;
    if ((rc = open_new_db(path, &g.db, err)))
        goto out;
    if ((rc =
             sql(g.db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN",
                 err)) ||
        (rc = sql(g.db, old_schema, err)))
        goto out;
    if (sqlite3_prepare_v2(g.db,
                           "INSERT INTO t_approve_log VALUES (?,?,?,?,?,?,?)",
                           -1, &g.log, NULL) != SQLITE_OK) {
        rc = gl_err_set(err, GL_ESTORE, "demo: %s", sqlite3_errmsg(g.db));
        goto out;
    }
    if ((rc = gen_org(&g, &st->departments)) || (rc = gen_expenses(&g, rows)) ||
        (rc = gen_leaves(&g, rows / 2)) || (rc = gen_syslog(&g)) ||
        (rc = sql(g.db, "COMMIT", err)))
        goto out;
    st->employees = g.employees;
    st->expenses = rows;
    st->leaves = rows / 2;
    st->approvals = g.approvals;
out:
    sqlite3_finalize(g.log);
    sqlite3_close(g.db);
    return rc;
}

static int build_new(const char *path, struct gl_err *err)
{
    sqlite3 *db = NULL;
    int rc;

    if (!(rc = open_new_db(path, &db, err)))
        rc = sql(db, new_schema, err);
    sqlite3_close(db);
    return rc;
}

/* The template with @NAME@ marks replaced. */
static int write_plan(const char *path, int64_t switch_at, const char *url,
                      struct gl_err *err)
{
    const char *p = gl_demo_plan_template, *mark;
    char when[40];
    FILE *f;
    int ok = 1;

    gl_time_format(switch_at, 480, when);
    if (!(f = fopen(path, "w")))
        return gl_err_set(err, GL_EIO, "cannot write '%s': %s", path,
                          strerror(errno));
    while ((mark = strchr(p, '@')) != NULL) {
        const char *val = NULL;
        size_t n = 0;
        if (!strncmp(mark, "@SWITCH_AT@", 11)) {
            val = when;
            n = 11;
        } else if (!strncmp(mark, "@NEW_URL@", 9)) {
            val = url;
            n = 9;
        }
        ok &= fwrite(p, 1, (size_t)(mark - p) + !val, f) ==
              (size_t)(mark - p) + !val;
        if (val)
            ok &= fputs(val, f) >= 0;
        p = mark + (val ? n : 1);
    }
    ok &= fputs(p, f) >= 0;
    if (fclose(f) != 0 || !ok)
        return gl_err_set(err, GL_EIO, "cannot write '%s'", path);
    return GL_OK;
}

static int exists(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0;
}

int gl_demo_build(const struct gl_demo_opts *o, struct gl_demo_stats *st,
                  struct gl_err *err)
{
    char tmp_old[4200], tmp_new[4200], tmp_plan[4200];
    int64_t local;
    int rc;

    memset(st, 0, sizeof(st[0]));
    if (o->rows < 1 || o->rows > 100000000)
        return gl_err_set(err, GL_EUSAGE,
                          "--rows must be between 1 and 100000000");
    if (mkdir(o->dir, 0777) != 0 && errno != EEXIST)
        return gl_err_set(err, GL_EIO, "cannot create '%s': %s", o->dir,
                          strerror(errno));
    snprintf(st->old_path, sizeof(st->old_path), "%s/old.db", o->dir);
    snprintf(st->new_path, sizeof(st->new_path), "%s/new.db", o->dir);
    snprintf(st->plan_path, sizeof(st->plan_path), "%s/plan.yaml", o->dir);
    if (!o->force &&
        (exists(st->old_path) || exists(st->new_path) || exists(st->plan_path)))
        return gl_err_set(err, GL_EREFUSED,
                          "'%s' already holds a demo; use --force to "
                          "replace it",
                          o->dir);
    /* T0 is the next midnight at +08:00, unless the caller says */
    local = o->now + 8 * 3600;
    st->switch_at =
        o->switch_at ? o->switch_at : (local / 86400 + 1) * 86400 - 8 * 3600;

    /* build beside, then rename: a failure leaves no half-written demo */
    snprintf(tmp_old, sizeof(tmp_old), "%s.tmp", st->old_path);
    snprintf(tmp_new, sizeof(tmp_new), "%s.tmp", st->new_path);
    snprintf(tmp_plan, sizeof(tmp_plan), "%s.tmp", st->plan_path);
    unlink(tmp_old);
    unlink(tmp_new);
    snprintf(st->new_url, sizeof(st->new_url), "%s",
             o->plan_url ? o->plan_url
             : o->target ? o->target
                         : "sqlite:new.db");
    if ((rc = build_old(tmp_old, o->rows, st, err)) ||
        (!o->target && (rc = build_new(tmp_new, err))) ||
        (o->target && (rc = build_target(o, err))) ||
        (rc = write_plan(tmp_plan, st->switch_at, st->new_url, err)))
        goto fail;
    if (rename(tmp_old, st->old_path) ||
        (!o->target && rename(tmp_new, st->new_path)) ||
        rename(tmp_plan, st->plan_path)) {
        rc = gl_err_set(err, GL_EIO, "cannot move the demo into '%s': %s",
                        o->dir, strerror(errno));
        goto fail;
    }
    return GL_OK;
fail:
    unlink(tmp_old);
    unlink(tmp_new);
    unlink(tmp_plan);
    return rc;
}
