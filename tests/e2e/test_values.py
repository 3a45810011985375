"""Values one engine has and the others lack (MariaDB's zero dates,
PostgreSQL's infinities) and NULL keys, through sync, validate --online and
diff; fix SQL literals that mean the same in any session (#10 items 5, 6,
12, 16, 17, 18, 19)."""
import json
import subprocess
import textwrap

import pytest

from conftest import golive

HEAD = """
cutover: values-test
switch_at: 2026-03-14T00:00:00+08:00
people:
  - {id: lead, roles: [lead]}
  - {id: ann, roles: [data]}
  - {id: bob, roles: [data]}
systems:
  old: "%s"
  new: "%s"
sync:
"""


def plan(tmp_path, old, new, jobs, name="plan.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(HEAD % (old.url, new.url)).lstrip() +
                 textwrap.indent(textwrap.dedent(jobs).strip(), "  ") + "\n")
    r = golive("validate", p)
    assert r.rc == 0, r
    return p


def env_of(*dbs):
    e = {}
    for d in dbs:
        e.update(d.env)
    return e


def sync(p, *args, dbs=(), expect=0):
    r = golive("sync", p, "--json", *args, env=env_of(*dbs))
    assert r.rc == expect, r
    return {j["job"]: j for j in json.loads(r.out)["jobs"]}


def rows(db, sql):
    r = golive("db", "query", db.url, sql, "--json", env=db.env)
    assert r.rc == 0, r
    return [json.loads(l) for l in r.out.splitlines()]


def rejects(tmp_path, job):
    return (tmp_path / "rejects" / ("%s.csv" % job)).read_text().splitlines()[1:]


DATE_DDL = {
    "sqlite": "CREATE TABLE emp (id INTEGER PRIMARY KEY, hire_dt DATE,"
              " seen_at TIMESTAMP)",
    "postgres": "CREATE TABLE emp (id int PRIMARY KEY, hire_dt date,"
                " seen_at timestamp)",
    "mariadb": "CREATE TABLE emp (id int PRIMARY KEY, hire_dt date,"
               " seen_at datetime)",
}

ZERO_DATES = ("SET SESSION sql_mode = '';"
              "CREATE TABLE emp_src (id int PRIMARY KEY, hire_dt date,"
              " seen_at datetime);"
              "INSERT INTO emp_src VALUES (1, '2019-03-04', '2019-03-04 10:00:00'),"
              " (2, '0000-00-00', '2019-03-04 10:00:00'),"
              " (3, '2019-00-10', '0000-00-00 00:00:00'),"
              " (4, '2020-01-02', '2020-01-02 03:04:05')")

JOB = """
- id: emp
  from: old.emp_src
  to: new.emp
  key: [id]
  error_limit: 10
  columns:
    hire_dt: %s
    seen_at: %s
  owner: ann
  checker: bob
"""


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_zero_dates_are_rejects_or_nulls_never_an_aborted_job(kind, request,
                                                              tmp_path, my):
    new = request.getfixturevalue({"sqlite": "lite", "postgres": "pg"}[kind])
    my.sql(ZERO_DATES)
    new.sql(DATE_DDL[kind])
    # default: a reject that names the column and the value
    p = plan(tmp_path, my, new, JOB % ("hire_dt", "seen_at"))
    res = sync(p, dbs=(my, new))["emp"]
    assert (res["read"], res["written"], res["rejected"]) == (4, 2, 2), res
    rj = rejects(tmp_path, "emp")
    assert any("'0000-00-00'" in l and "hire_dt" in l for l in rj), rj
    assert any("'2019-00-10'" in l and "hire_dt" in l for l in rj), rj
    assert [r["id"] for r in rows(new, "SELECT id FROM emp ORDER BY id")] == [1, 4]
    # unrepresentable: null stores NULL for those values only
    p = plan(tmp_path, my, new, JOB % ("{from: hire_dt, unrepresentable: null}",
                                       "{from: seen_at, unrepresentable: null}"))
    res = sync(p, dbs=(my, new))["emp"]
    assert (res["read"], res["written"], res["rejected"]) == (4, 4, 0), res
    got = rows(new, "SELECT id, hire_dt FROM emp ORDER BY id")
    assert [r["hire_dt"] for r in got][1:3] == [None, None], got
    assert got[0]["hire_dt"] == "2019-03-04"
    got = rows(new, "SELECT seen_at FROM emp WHERE id = 3")
    assert got == [{"seen_at": None}]


def test_zero_dates_into_mariadb_and_a_bad_option(tmp_path, my, my_server):
    my.sql(ZERO_DATES + ";" + DATE_DDL["mariadb"])
    p = plan(tmp_path, my, my, JOB % ("hire_dt", "seen_at"))
    res = sync(p, dbs=(my,))["emp"]
    assert (res["written"], res["rejected"]) == (2, 2), res
    bad = tmp_path / "bad.yaml"
    bad.write_text(p.read_text().replace(
        "hire_dt: hire_dt", "hire_dt: {from: hire_dt, unrepresentable: zero}"))
    r = golive("validate", bad)
    assert r.rc == 1 and "'unrepresentable'" in r.out + r.err, r
    assert "bad.yaml:" in r.out + r.err


INF_SRC = ("CREATE TABLE emp_src (id int PRIMARY KEY, hire_dt date,"
           " seen_at timestamp);"
           "INSERT INTO emp_src VALUES (1, '2019-03-04', '2019-03-04 10:00'),"
           " (2, 'infinity', '2019-03-04 10:00'),"
           " (3, '2019-01-10', '-infinity'), (4, '-infinity', 'infinity')")


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "mariadb"])
def test_postgres_infinities_kept_rejected_or_null(kind, request, tmp_path, pg):
    new = request.getfixturevalue({"sqlite": "lite", "mariadb": "my",
                                   "postgres": "pg"}[kind])
    pg.sql(INF_SRC)
    new.sql(DATE_DDL[kind])
    p = plan(tmp_path, pg, new, JOB % ("hire_dt", "seen_at"))
    res = sync(p, dbs=(pg, new))["emp"]
    if kind == "postgres":  # PostgreSQL holds them: kept as they are
        assert (res["written"], res["rejected"]) == (4, 0), res
        got = rows(new, "SELECT hire_dt::text AS h, seen_at::text AS s"
                        " FROM emp ORDER BY id")
        assert got[1]["h"] == "infinity" and got[2]["s"] == "-infinity"
        assert got[3] == {"h": "-infinity", "s": "infinity"}
        return
    assert (res["written"], res["rejected"]) == (1, 3), res
    rj = rejects(tmp_path, "emp")
    assert any("infinity 'infinity'" in l and "hire_dt" in l for l in rj), rj
    assert any("'-infinity'" in l and "seen_at" in l for l in rj), rj
    p = plan(tmp_path, pg, new, JOB % ("{from: hire_dt, unrepresentable: null}",
                                       "{from: seen_at, unrepresentable: null}"))
    res = sync(p, dbs=(pg, new))["emp"]
    assert (res["written"], res["rejected"]) == (4, 0), res
    got = rows(new, "SELECT hire_dt, seen_at FROM emp WHERE id = 4")
    assert got == [{"hire_dt": None, "seen_at": None}]


NULLKEY_DDL = {
    "sqlite": "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)",
    "postgres": "CREATE TABLE t (k int PRIMARY KEY, v text)",
    "mariadb": "CREATE TABLE t (k int PRIMARY KEY, v text)",
}


def test_null_key_is_a_reject_on_every_target(tmp_path, lite, engine):
    lite.sql("CREATE TABLE s (k INTEGER, v TEXT);"
             "INSERT INTO s VALUES (NULL, 'nokey'), (2, 'two'), (3, 'three')")
    engine.sql(NULLKEY_DDL[engine.kind])
    p = plan(tmp_path, lite, engine, """
    - id: j
      from: old.s
      to: new.t
      key: [k]
      error_limit: 5
      owner: ann
      checker: bob
    """)
    res = sync(p, dbs=(engine,))["j"]
    assert (res["read"], res["written"], res["rejected"]) == (3, 2, 1), res
    rj = rejects(tmp_path, "j")
    assert len(rj) == 1 and "NULL in key column 'k'" in rj[0], rj
    assert rows(engine, "SELECT k FROM t ORDER BY k") == [{"k": 2}, {"k": 3}]


# ---- diff: special values are compared, never an abort ------------------

def diff(*args, env=None, expect=None):
    r = golive("diff", *args, "--json", env=env)
    if expect is not None:
        assert r.rc == expect, r
    lines = [json.loads(l) for l in r.out.splitlines()]
    return r, lines[:-1], (lines[-1]["summary"] if lines else None)


def test_diff_reports_zero_dates_without_stopping(tmp_path, my, pg, lite):
    my.sql(ZERO_DATES)
    pg.sql(DATE_DDL["postgres"] + ";"
           "INSERT INTO emp VALUES (1, '2019-03-04', '2019-03-04 10:00:00'),"
           " (2, NULL, '2019-03-04 10:00:00'), (3, NULL, NULL),"
           " (4, '2020-01-02', '2020-01-02 03:04:05')")
    r, ops, summ = diff(my.url, "emp_src", pg.url, "emp", env=my.env, expect=1)
    got = {o["key"]["id"]: o for o in ops}
    assert sorted(got) == [2, 3] and summ["changed"] == 2, r
    assert got[2]["values"]["hire_dt"] == {"source": "0000-00-00",
                                           "target": None}
    assert got[3]["values"]["seen_at"]["source"] == "0000-00-00 00:00:00"
    # PostgreSQL has no literal for them: the statements stay commented out
    fix = tmp_path / "fix.sql"
    r = golive("diff", my.url, "emp_src", pg.url, "emp", "--fix-sql", fix,
               env=my.env)
    text = fix.read_text()
    assert r.rc == 1 and text.count("-- not written:") == 2, text
    assert "special value '0000-00-00' of column 'hire_dt'" in text, text
    pg.sql(text)
    # the same text kept by SQLite is the same value
    lite.sql("CREATE TABLE emp (id INTEGER PRIMARY KEY, hire_dt DATE,"
             " seen_at DATETIME);"
             "INSERT INTO emp VALUES (1, '2019-03-04', '2019-03-04 10:00:00'),"
             " (2, '0000-00-00', '2019-03-04 10:00:00'),"
             " (3, '2019-00-10', '0000-00-00 00:00:00'),"
             " (4, '2020-01-02', '2020-01-02 03:04:05')")
    diff(my.url, "emp_src", lite.url, "emp", env=my.env, expect=0)
    # on one server, compared inside the database: equal to itself
    my.sql("SET SESSION sql_mode = ''; CREATE TABLE emp2 AS SELECT * FROM emp_src;"
           "ALTER TABLE emp2 ADD PRIMARY KEY (id)")
    diff(my.url, "emp_src", my.url, "emp2", env=my.env, expect=0)


def test_diff_reports_infinities_without_stopping(pg, my, lite):
    pg.sql(INF_SRC + ";CREATE TABLE emp2 AS SELECT * FROM emp_src;"
           "ALTER TABLE emp2 ADD PRIMARY KEY (id)")
    diff(pg.url, "emp_src", pg.url, "emp2", expect=0)
    pg.sql("UPDATE emp2 SET seen_at = 'infinity' WHERE id = 3")
    r, ops, summ = diff(pg.url, "emp_src", pg.url, "emp2", expect=1)
    assert [o["values"] for o in ops] == [
        {"seen_at": {"source": "-infinity", "target": "infinity"}}], r
    my.sql(DATE_DDL["mariadb"] + ";"
           "INSERT INTO emp VALUES (1, '2019-03-04', '2019-03-04 10:00:00'),"
           " (2, NULL, '2019-03-04 10:00:00'), (3, '2019-01-10', NULL),"
           " (4, NULL, NULL)")
    r, ops, summ = diff(pg.url, "emp_src", my.url, "emp", env=my.env, expect=1)
    assert sorted(o["key"]["id"] for o in ops) == [2, 3, 4], r
    lite.sql(DATE_DDL["sqlite"] + ";"
             "INSERT INTO emp VALUES (1, '2019-03-04', '2019-03-04 10:00:00'),"
             " (2, 'infinity', '2019-03-04 10:00:00'),"
             " (3, '2019-01-10', '-infinity'), (4, '-infinity', 'infinity')")
    diff(pg.url, "emp_src", lite.url, "emp", expect=0)


# ---- NULL keys: one answer in every mode --------------------------------

def test_null_keys_are_their_own_difference_in_every_mode(tmp_path, lite, pg):
    import sqlite3
    other = tmp_path / "o.db"
    rows_a = [(None, "a-null")] + [(i, "v%d" % i) for i in range(1, 21)]
    rows_b = [(None, "b-null")] + [(i, "v%d" % i) for i in range(1, 21)
                                   if i != 5] + [(99, "extra")]
    c = sqlite3.connect(other)
    # INT PRIMARY KEY (not INTEGER): SQLite lets such a key be NULL
    c.executescript("CREATE TABLE a (k INT PRIMARY KEY, v TEXT);"
                    "CREATE TABLE b (k INT PRIMARY KEY, v TEXT);")
    c.executemany("INSERT INTO a VALUES (?, ?)", rows_a)
    c.executemany("INSERT INTO b VALUES (?, ?)", rows_b)
    c.commit()
    c.close()
    pg.sql("CREATE TABLE b (k int, v text);" + "".join(
        "INSERT INTO b VALUES (%s, '%s');" % ("NULL" if k is None else k, v)
        for k, v in rows_b))
    url = "sqlite:%s" % other
    answers = []
    for args in ([url, "a", url, "b"],                   # inside SQLite
                 [url, "a", url, "b", "--jobs", "3"],    # in segments there
                 [url, "a", pg.url, "b", "--key", "k"],  # streamed
                 [url, "a", pg.url, "b", "--key", "k", "--jobs", "3"]):
        r, ops, summ = diff(*args, expect=1)
        answers.append(sorted(json.dumps({k: v for k, v in o.items()
                                          if k != "values"}, sort_keys=True)
                              for o in ops))
        assert summ["null_keys"] == 2 and summ["missing"] == 1, (args, r)
        assert summ["extra"] == 1 and summ["changed"] == 0, (args, r)
        assert (summ["source_rows"], summ["target_rows"]) == (21, 21), r
    assert all(a == answers[0] for a in answers), answers
    assert {"op": "null_key", "side": "source", "key": {"k": None},
            "columns": []} in [json.loads(x) for x in answers[0]]
    fix = tmp_path / "fix.sql"
    r = golive("diff", url, "a", pg.url, "b", "--key", "k", "--fix-sql", fix)
    assert r.rc == 1 and "2 with a NULL key" in r.out, r
    assert "= NULL" not in fix.read_text()


# ---- fix SQL: literals that mean the same in any session ----------------

SENTINEL = "x', 4); DROP TABLE sentinel; -- "
HARD_TEXT = "back\\slash \\' 'q' \"dq\" \u00e9 \U0001d11e\nline\t\\x41"

FIX_DDL = {
    "sqlite": "CREATE TABLE f (id INTEGER PRIMARY KEY, tz TIMESTAMPTZ,"
              " ts TIMESTAMP, d DATE, t TIME, n NUMERIC(12,3), fl REAL,"
              " b BLOB, ok BOOLEAN, s TEXT)",
    "postgres": "CREATE TABLE f (id int PRIMARY KEY, tz timestamptz,"
                " ts timestamp(6), d date, t time(6), n numeric(12,3),"
                " fl float8, b bytea, ok boolean, s text)",
    "mariadb": "CREATE TABLE f (id int PRIMARY KEY, tz timestamp(6) NULL,"
               " ts datetime(6), d date, t time(6), n decimal(12,3),"
               " fl double, b blob, ok tinyint, s text)",
}

# the source: SQLite, whose timestamps carry no zone (the case:
# a plain timestamp going into a timestamptz column)
FIX_SRC = [
    (1, "2026-04-06 03:50:00", "2026-04-06 03:50:00.123456", "2026-04-06",
     "03:50:00.5", "12.345", 0.1, b"\x00\xff'\\", 1, SENTINEL),
    (2, "1999-12-31 23:59:59.999999", "0044-03-15 12:00:00", "0001-01-01",
     "23:59:59", "-0.001", -2.5e-300, b"", 0, HARD_TEXT),
    (3, None, None, None, None, None, None, None, None, None),
    (4, "2026-10-25 00:30:00", "2026-10-25 01:30:00", "2026-10-25",
     "00:00:00", "0", 1e300, b"\\x41", 1, "\\"),
]


def fix_source(tmp_path):
    import sqlite3
    path = tmp_path / "src.db"
    c = sqlite3.connect(path)
    c.execute(FIX_DDL["sqlite"].replace("TIMESTAMPTZ", "TIMESTAMP"))
    c.executemany("INSERT INTO f VALUES (?,?,?,?,?,?,?,?,?,?)", FIX_SRC)
    c.commit()
    c.close()
    return "sqlite:%s" % path


def apply_fix(db, kind, path, mode):
    sql = path.read_text()
    if kind == "sqlite":
        db.sql(sql)
    elif kind == "postgres":
        env = dict(__import__("os").environ)
        env["PGOPTIONS"] = ("-c TimeZone=Europe/Berlin -c DateStyle=SQL,DMY"
                            " -c standard_conforming_strings=%s"
                            " -c IntervalStyle=sql_standard" %
                            ("off" if mode else "on"))
        db.server.psql  # the server's own client
        p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                            "-h", "127.0.0.1", "-p", str(db.server.port),
                            "-U", db.server.user, "-d", db.url.rsplit("/", 1)[1],
                            "-f", str(path)], env=env, capture_output=True,
                           text=True)
        assert p.returncode == 0, p.stderr
    else:
        modes = ("NO_BACKSLASH_ESCAPES,ANSI_QUOTES,PAD_CHAR_TO_FULL_LENGTH"
                 if mode else "")
        p = subprocess.run(
            ["mariadb", "--no-defaults", "-S", db.server.sock, "-u", "root",
             "-D", db.url.rsplit("/", 1)[1],
             "--init-command=SET SESSION sql_mode = '%s', "
             "time_zone = '+05:30'" % modes],
            input=sql, capture_output=True, text=True)
        assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("mode", [0, 1], ids=["default", "hostile"])
def test_fix_sql_applied_under_any_session_settings(tmp_path, engine, mode):
    src = fix_source(tmp_path)
    engine.sql(FIX_DDL[engine.kind] + ";CREATE TABLE sentinel (x int)")
    engine.sql("INSERT INTO f (id, s) VALUES (2, 'old'), (9, 'extra')")
    fix = tmp_path / "fix.sql"
    r = golive("diff", src, "f", engine.url, "f", "--fix-sql", fix,
               env=engine.env)
    assert r.rc == 1, r
    assert "3 missing, 1 extra, 1 changed" in r.out, r
    assert (fix.stat().st_mode & 0o777) == 0o600
    apply_fix(engine, engine.kind, fix, mode)
    r = golive("diff", src, "f", engine.url, "f", env=engine.env)
    assert r.rc == 0, (r, fix.read_text())
    assert rows(engine, "SELECT count(*) AS n FROM sentinel") == [{"n": 0}]


def test_a_diff_that_stops_leaves_no_fix_file(tmp_path, lite):
    src = fix_source(tmp_path)
    lite.sql(FIX_DDL["sqlite"])
    fix = tmp_path / "fix.sql"
    fix.write_text("-- an old script\n")
    r = golive("diff", src, "f", lite.url, "f", "--fix-sql", fix,
               "--where", "no_such_column > 1")
    assert r.rc == 2, r
    assert not fix.exists() and not list(tmp_path.glob("fix.sql*")), r


def test_columns_naming_the_key_insert_it_once(tmp_path, lite):
    src = fix_source(tmp_path)
    lite.sql(FIX_DDL["sqlite"])
    fix = tmp_path / "fix.sql"
    r = golive("diff", src, "f", lite.url, "f", "--columns", "id,s",
               "--fix-sql", fix)
    assert r.rc == 1, r
    inserts = [l for l in fix.read_text().splitlines()
               if l.startswith("INSERT")]
    assert len(inserts) == 4 and all(
        l.startswith('INSERT INTO "f" ("id", "s") VALUES') for l in inserts), \
        inserts
    lite.sql(fix.read_text())
    r = golive("diff", src, "f", lite.url, "f", "--columns", "id,s")
    assert r.rc == 0, r


# ---- diff --map, --where-source / --where-target ------------------------

def test_map_renamed_columns_and_a_where_per_side(tmp_path, my, pg):
    my.sql("CREATE TABLE employees (emp_no int PRIMARY KEY, name text,"
           " dept varchar(10), active int);"
           "INSERT INTO employees VALUES (1, 'Ann', 'HR', 1), (2, 'Bob', 'IT', 1),"
           " (3, '%s', 'IT', 1), (4, 'Gone', 'IT', 0)" % ("long " * 30))
    pg.sql("CREATE TABLE staff (id int PRIMARY KEY, full_name text,"
           " dept text, archived boolean);"
           "INSERT INTO staff VALUES (1, 'Ann', 'HR', false),"
           " (2, 'Robert', 'IT', false), (3, 'short', 'IT', false),"
           " (5, 'Old', 'IT', true)")
    r = golive("diff", my.url, "employees", pg.url, "staff", env=my.env)
    assert r.rc == 2 and "key column 'emp_no' is not in the target" in r.err
    base = [my.url, "employees", pg.url, "staff", "--map", "emp_no=id",
            "--map", "name=full_name", "--where-source", "active = 1",
            "--where-target", "NOT archived"]
    r, ops, summ = diff(*base, env=my.env, expect=1)
    assert summ["changed"] == 2 and summ["missing"] == summ["extra"] == 0, r
    got = {o["key"]["emp_no"]: o for o in ops}
    assert got[2]["columns"] == ["name"]
    assert got[2]["values"] == {"name": {"source": "Bob", "target": "Robert"}}
    v = got[3]["values"]["name"]
    assert v["source_length"] == 150 and len(v["source"]) == 60, v
    r = golive("diff", *base, env=my.env)
    assert r.rc == 1 and "name 'Bob' -> 'Robert'" in r.out, r
    assert "... (150 characters)" in r.out, r
    fix = tmp_path / "fix.sql"
    r = golive("diff", *base, "--fix-sql", fix, env=my.env)
    assert 'UPDATE "staff" SET "full_name" = ' in fix.read_text()
    assert 'WHERE "id" = 2' in fix.read_text()
    pg.sql(fix.read_text())
    diff(*base, env=my.env, expect=0)
    r = golive("diff", *base, "--where", "1 = 1", env=my.env)
    assert r.rc == 2, r
    r = golive("diff", *base[:4], "--map", "emp_no", env=my.env)
    assert r.rc == 2 and "--map takes" in r.err, r


# ---- validate --online counts them; check compares as sync stored -------

def test_online_counts_zero_dates_and_check_compares_them_as_stored(tmp_path,
                                                                    my, pg):
    my.sql(ZERO_DATES)
    pg.sql(DATE_DDL["postgres"])
    env = env_of(my, pg)
    p = plan(tmp_path, my, pg, JOB % ("hire_dt", "seen_at"))
    r = golive("validate", p, "--online", "--json", env=env)
    found = [d for d in json.loads(r.out) if d["code"] == "unrepresentable"]
    assert r.rc == 1 and len(found) == 2, r
    msgs = sorted(d["message"] for d in found)
    assert "2 values of 'hire_dt' are zero dates" in msgs[1], msgs
    assert "1 value of 'seen_at' is one of the zero dates" in msgs[0], msgs
    assert all("will be rejects" in m for m in msgs)
    p = plan(tmp_path, my, pg, JOB % ("{from: hire_dt, unrepresentable: null}",
                                      "{from: seen_at, unrepresentable: null}"))
    p.write_text(p.read_text() + "checks:\n  - {id: rows, type: diff, job: emp}\n"
                 "  - {id: agg, type: aggregate, job: emp, columns: [hire_dt,"
                 " seen_at], aggregates: [min, max, nulls, distinct]}\n")
    r = golive("validate", p, "--online", "--json", env=env)
    found = [d for d in json.loads(r.out) if d["code"] == "unrepresentable"]
    assert r.rc == 0 and len(found) == 2, r
    assert all(d["severity"] == "warning" and "stored as NULL" in d["message"]
               for d in found), found
    sync(p, dbs=(my, pg))
    r = golive("check", p, "--json", env=env)
    assert r.rc == 0, r
    assert {c["check"] for c in json.loads(r.out)["checks"]
            if c["outcome"] == "passed"} == {"rows", "agg"}, r
    # a real difference is still one
    pg.sql("UPDATE emp SET hire_dt = '2000-01-01' WHERE id = 2")
    r = golive("check", p, "rows", "--json", env=env)
    assert r.rc == 1 and "1 changed" in r.out, r


def test_checks_keep_infinities_postgres_holds(tmp_path, pg, pg_server):
    pg.sql(INF_SRC + ";" + DATE_DDL["postgres"])
    p = plan(tmp_path, pg, pg, JOB % ("{from: hire_dt, unrepresentable: null}",
                                      "{from: seen_at, unrepresentable: null}"))
    p.write_text(p.read_text() + "checks:\n  - {id: rows, type: diff, job: emp}\n"
                 "  - {id: agg, type: aggregate, job: emp, columns: [hire_dt,"
                 " seen_at], aggregates: [min, max, nulls]}\n")
    sync(p, dbs=(pg,))
    r = golive("check", p, "--json")
    assert r.rc == 0, r


def test_null_keys_from_every_source_engine(tmp_path, engine, lite):
    if engine.kind == "sqlite":
        import sqlite3
        other = tmp_path / "other.db"
        sqlite3.connect(other).close()
        engine.url = "sqlite:%s" % other
        engine.path = other
        engine.sql = lambda q: sqlite3.connect(other).executescript(q).close()
    engine.sql("CREATE TABLE s (k int, v varchar(10));"
               "INSERT INTO s VALUES (2, 'two'), (NULL, 'nokey'), (1, 'one'),"
               " (NULL, 'again')")
    # the case: SQLite's INTEGER PRIMARY KEY would number a NULL
    lite.sql("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
    p = plan(tmp_path, engine, lite, """
    - id: j
      from: old.s
      to: new.t
      key: [k]
      error_limit: 5
      owner: ann
      checker: bob
    """)
    res = sync(p, dbs=(engine,))["j"]
    assert (res["read"], res["written"], res["rejected"]) == (4, 2, 2), res
    assert all("NULL in key column 'k'" in l for l in rejects(tmp_path, "j"))
    assert rows(lite, "SELECT k, v FROM t ORDER BY k") == [
        {"k": 1, "v": "one"}, {"k": 2, "v": "two"}]
    r, ops, summ = diff(engine.url, "s", lite.url, "t", "--key", "k",
                        env=engine.env, expect=1)
    assert summ["null_keys"] == 2 and summ["missing"] == summ["extra"] == 0, r
    assert sorted(o["key"]["k"] is None and o["side"] for o in ops) == \
        ["source", "source"], ops


# ---- dates BC, years past 9999, TIME past a day (review finding 2) -------

BC_SRC = ("CREATE TABLE emp_src (id int PRIMARY KEY, hire_dt date,"
          " seen_at timestamp, at_tz timestamptz);"
          "INSERT INTO emp_src VALUES (1, '2019-03-04', '2019-03-04 10:00',"
          " '2019-03-04 10:00+00'),"
          " (2, '0044-03-15 BC', '0010-01-01 10:00 BC',"
          " '0010-01-01 10:00+00 BC'),"
          " (3, '12345-06-07', '12345-06-07 08:09:10', '2019-03-04 10:00+00')")
BC_DDL = {
    "postgres": "CREATE TABLE emp (id int PRIMARY KEY, hire_dt date,"
                " seen_at timestamp, at_tz timestamptz)",
    "mariadb": "CREATE TABLE emp (id int PRIMARY KEY, hire_dt date,"
               " seen_at datetime, at_tz datetime)",
}
BC_JOB = """
- id: emp
  from: old.emp_src
  to: new.emp
  key: [id]
  error_limit: 10
  columns:
    hire_dt: %s
    seen_at: %s
    at_tz: %s
  owner: ann
  checker: bob
"""


@pytest.mark.parametrize("kind", ["postgres", "mariadb"])
def test_postgres_dates_bc_and_past_9999_sync(kind, request, tmp_path, pg):
    """They aborted the job ('cannot read date value'): kept where the
    target holds them, else a reject or NULL by `unrepresentable:`."""
    new = request.getfixturevalue({"mariadb": "my", "postgres": "pg"}[kind])
    pg.sql(BC_SRC)
    new.sql(BC_DDL[kind])
    p = plan(tmp_path, pg, new, BC_JOB % ("hire_dt", "seen_at", "at_tz"))
    res = sync(p, dbs=(pg, new))["emp"]
    if kind == "postgres":
        assert (res["written"], res["rejected"]) == (3, 0), res
        got = rows(new, "SELECT hire_dt::text AS h, seen_at::text AS s,"
                        " at_tz::text AS z FROM emp ORDER BY id")
        assert got[1] == {"h": "0044-03-15 BC", "s": "0010-01-01 10:00:00 BC",
                          "z": "0010-01-01 10:00:00+00 BC"}, got
        assert got[2]["h"] == "12345-06-07", got
        assert got[2]["s"] == "12345-06-07 08:09:10", got
        diff(pg.url, "emp_src", new.url, "emp", "--fix-sql",
             tmp_path / "f.sql", expect=0)
        return
    assert (res["written"], res["rejected"]) == (1, 2), res
    r = golive("validate", p, "--online", "--json", env=env_of(pg, new))
    found = sorted(d["message"] for d in json.loads(r.out)
                   if d["code"] == "unrepresentable")
    assert r.rc == 1 and len(found) == 3, r
    assert "2 values of 'hire_dt' are zero dates, infinities, dates BC" \
        in found[1], found
    rj = rejects(tmp_path, "emp")
    assert any("'0044-03-15 BC'" in l and "hire_dt" in l for l in rj), rj
    assert any("'12345-06-07'" in l for l in rj), rj
    p = plan(tmp_path, pg, new, BC_JOB % (
        "{from: hire_dt, unrepresentable: null}",
        "{from: seen_at, unrepresentable: null}",
        "{from: at_tz, unrepresentable: null}"))
    res = sync(p, dbs=(pg, new))["emp"]
    assert (res["written"], res["rejected"]) == (3, 0), res
    got = rows(new, "SELECT hire_dt, seen_at, at_tz FROM emp WHERE id = 2")
    assert got == [{"hire_dt": None, "seen_at": None, "at_tz": None}]


def test_postgres_dates_bc_diff_and_fix_sql(tmp_path, pg):
    pg.sql(BC_SRC + ";" + BC_DDL["postgres"] + ";"
           "INSERT INTO emp VALUES (1, '2019-03-04', '2019-03-04 10:00',"
           " '2019-03-04 10:00+00'),"
           " (2, '0044-03-16 BC', '0010-01-01 10:00', '0010-01-01 10:00+00 BC')")
    fix = tmp_path / "fix.sql"
    r, ops, summ = diff(pg.url, "emp_src", pg.url, "emp", "--fix-sql", fix,
                        expect=1)
    assert (summ["changed"], summ["missing"]) == (1, 1), r
    assert ops[0]["values"]["hire_dt"] == {"source": "0044-03-15 BC",
                                           "target": "0044-03-16 BC"}, ops
    assert ops[0]["values"]["seen_at"]["source"] == "0010-01-01 10:00:00 BC"
    pg.sql("SET TimeZone = 'Asia/Tokyo'; SET DateStyle = 'SQL, DMY';" +
           fix.read_text())
    diff(pg.url, "emp_src", pg.url, "emp", "--fix-sql", fix, expect=0)


TIME_SRC = ("CREATE TABLE t_src (id int PRIMARY KEY, d time(1));"
            "INSERT INTO t_src VALUES (1, '10:00:00'), (2, '-00:00:01'),"
            " (3, '-838:59:59'), (4, '100:00:00'), (5, '-12:00:00.5')")


@pytest.mark.parametrize("kind", ["mariadb", "postgres"])
def test_mariadb_times_past_a_day_sync(kind, request, tmp_path, my):
    """They aborted the job ('cannot read time value')."""
    new = request.getfixturevalue({"mariadb": "my", "postgres": "pg"}[kind])
    my.sql(TIME_SRC)
    new.sql("CREATE TABLE t (id int PRIMARY KEY, d time(1))")
    job = """
    - id: t
      from: old.t_src
      to: new.t
      key: [id]
      error_limit: 10
      columns:
        d: %s
      owner: ann
      checker: bob
    """
    p = plan(tmp_path, my, new, job % "d")
    res = sync(p, dbs=(my, new))["t"]
    if kind == "mariadb":
        assert (res["written"], res["rejected"]) == (5, 0), res
        got = rows(new, "SELECT CAST(d AS char) AS d FROM t ORDER BY id")
        assert [g["d"] for g in got] == ["10:00:00.0", "-00:00:01.0",
                                         "-838:59:59.0", "100:00:00.0",
                                         "-12:00:00.5"], got
        diff(my.url, "t_src", new.url, "t", "--fix-sql", tmp_path / "f.sql",
             env=my.env, expect=0)
        return
    assert (res["written"], res["rejected"]) == (1, 4), res
    assert any("'-838:59:59" in l for l in rejects(tmp_path, "t"))
    r = golive("validate", p, "--online", "--json", env=env_of(my, new))
    found = [d["message"] for d in json.loads(r.out)
             if d["code"] == "unrepresentable"]
    assert r.rc == 1 and len(found) == 1 and "4 values of 'd'" in found[0], r
    p = plan(tmp_path, my, new, job % "{from: d, unrepresentable: null}")
    res = sync(p, dbs=(my, new))["t"]
    assert (res["written"], res["rejected"]) == (5, 0), res
    assert rows(new, "SELECT d FROM t WHERE id = 3") == [{"d": None}]


def test_mariadb_times_past_a_day_diff_and_fix_sql(tmp_path, my):
    my.sql(TIME_SRC + "; CREATE TABLE t (id int PRIMARY KEY, d time(1));"
           "INSERT INTO t VALUES (1, '10:00:00'), (2, '00:00:01'),"
           " (3, '-838:59:58')")
    fix = tmp_path / "fix.sql"
    r, ops, summ = diff(my.url, "t_src", my.url, "t", "--fix-sql", fix,
                        env=my.env, expect=1)
    assert (summ["changed"], summ["missing"]) == (2, 2), r
    my.sql("SET SESSION sql_mode = 'TRADITIONAL';" + fix.read_text())
    diff(my.url, "t_src", my.url, "t", "--fix-sql", fix, env=my.env, expect=0)


@pytest.mark.parametrize("modes", ["", "NO_ZERO_IN_DATE,NO_ZERO_DATE",
                                   "TRADITIONAL", "ANSI,NO_BACKSLASH_ESCAPES"])
def test_mariadb_fix_sql_the_same_under_every_sql_mode(tmp_path, my, modes):
    """Zero dates have no literal that means the same under every sql_mode
    (NO_ZERO_IN_DATE stored 0000-00-00 for 2026-00-15, TRADITIONAL failed):
    their statements stay commented out.  DELETEs come before INSERTs: with
    a case-insensitive key 'a' is deleted before 'A' is inserted (the file
    failed on a duplicate key)."""
    ddl = ("CREATE TABLE %s (k varchar(10) COLLATE utf8mb4_general_ci"
           " PRIMARY KEY, d date)")
    my.sql("SET SESSION sql_mode = '';" + ddl % "t_src" + ";"
           "INSERT INTO t_src VALUES ('A', '2020-01-01'), ('b', '2026-00-15'),"
           " ('c', '0000-00-00'), ('e', '2021-01-01');" + ddl % "t" + ";"
           "INSERT INTO t VALUES ('a', '2020-01-01'), ('b', '2026-01-15'),"
           " ('e', '2021-01-02')")
    fix = tmp_path / "fix.sql"
    r = golive("diff", my.url, "t_src", my.url, "t", "--fix-sql", fix,
               env=my.env)
    assert r.rc == 1, r
    text = fix.read_text()
    assert text.count("-- not written:") == 2, text
    assert text.index("DELETE") < text.index("INSERT"), text
    p = subprocess.run(
        ["mariadb", "--no-defaults", "-S", my.server.sock, "-u", "root",
         "-D", my.url.rsplit("/", 1)[1],
         "--init-command=SET SESSION sql_mode = '%s'" % modes],
        input=text, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    got = rows(my, "SELECT k, CAST(d AS char) AS d FROM t ORDER BY k")
    assert got == [{"k": "A", "d": "2020-01-01"}, {"k": "b", "d": "2026-01-15"},
                   {"k": "e", "d": "2021-01-01"}], got
