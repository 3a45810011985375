"""`golive sync`: every mapping kind, every mode, sequences, rejects and
retry, kills then --resume, values across engines, flat memory."""
import json
import os
import sqlite3
import textwrap

import pytest

from conftest import golive

HEAD = """
cutover: sync-test
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


def plan(tmp_path, old, new, jobs):
    p = tmp_path / "plan.yaml"
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
    return {j["job"]: j for j in json.loads(r.out)["jobs"]} if r.out else {}


def rows(db, sql):
    r = golive("db", "query", db.url, sql, "--json", env=db.env)
    assert r.rc == 0, r
    return [json.loads(l) for l in r.out.splitlines()]


# ---- mapping kinds, into each engine ------------------------------------

TARGET_DDL = {
    "sqlite": "CREATE TABLE tgt (id INTEGER PRIMARY KEY, full_name TEXT NOT NULL,"
              " status TEXT NOT NULL, origin TEXT, amount NUMERIC(12,2),"
              " qty INTEGER, note TEXT, upper_name TEXT, untouched TEXT DEFAULT 'd')",
    "postgres": "CREATE TABLE tgt (id integer PRIMARY KEY, full_name text NOT NULL,"
                " status text NOT NULL, origin text, amount numeric(12,2),"
                " qty integer, note text, upper_name text, untouched text DEFAULT 'd')",
    "mariadb": "CREATE TABLE tgt (id int PRIMARY KEY, full_name text NOT NULL,"
               " status varchar(20) NOT NULL, origin text, amount decimal(12,2),"
               " qty int, note text, upper_name text, untouched varchar(5) DEFAULT 'd')",
}


def source(lite, n=3):
    lite.sql("""
        CREATE TABLE src (id INTEGER PRIMARY KEY, name TEXT, code TEXT,
          amount TEXT, n TEXT, extra TEXT, dropme TEXT);
        INSERT INTO src VALUES (1, 'Ann', 'A', '12.50', '7', 'x', 'z');
        INSERT INTO src VALUES (2, 'Bob', 'D', '3', '8', NULL, 'z');
        INSERT INTO src VALUES (3, 'Cy', 'X', '1', '9', 'y', 'z');
    """)


MAPPING_JOB = """
- id: people
  from: old.src
  to: new.tgt
  key: [id]
  columns:
    full_name: name                                 # rename
    status: {from: code, map: {A: active, D: deleted}}  # value map
    origin: {value: legacy}                         # constant
    qty: {from: n, cast: INTEGER}                   # cast in the source
    note: {from: extra, default: none}              # default for NULL
    upper_name: {expr: "upper(name)"}               # source expression
  ignore: [dropme]
  error_limit: 1
  owner: ann
  checker: bob
"""


def test_every_mapping_kind(tmp_path, lite, engine):
    if engine.kind == "sqlite":
        import conftest  # a second SQLite file for the target
        tgt = tmp_path / "tgt.db"
        sqlite3.connect(tgt).close()
        engine.url = "sqlite:%s" % tgt
        engine.path = tgt

        def run(q, path=tgt):
            c = sqlite3.connect(path)
            c.executescript(q)
            c.commit()
            c.close()
        engine.sql = run
    source(lite)
    engine.sql(TARGET_DDL[engine.kind])
    p = plan(tmp_path, lite, engine, MAPPING_JOB)
    res = sync(p, dbs=(engine,))["people"]
    assert (res["read"], res["written"], res["rejected"]) == (3, 2, 1)
    assert res["outcome"] == "ok"
    got = rows(engine, "SELECT id, full_name, status, origin, amount, qty,"
                       " note, upper_name, untouched FROM tgt ORDER BY id")
    assert got == [
        {"id": 1, "full_name": "Ann", "status": "active", "origin": "legacy",
         "amount": "12.50" if engine.kind != "sqlite" else "12.5", "qty": 7,
         "note": "x", "upper_name": "ANN", "untouched": "d"},
        {"id": 2, "full_name": "Bob", "status": "deleted", "origin": "legacy",
         "amount": "3.00" if engine.kind != "sqlite" else 3, "qty": 8,
         "note": "none", "upper_name": "BOB", "untouched": "d"},
    ]
    rej = (tmp_path / "rejects" / "people.csv").read_text().splitlines()
    assert len(rej) == 2
    # execution, batch, error, the row
    assert rej[1].split(",", 1)[1].startswith(
        '1,"no mapping for value \'X\' of column \'code\'')
    assert '"3"' in rej[1]


# ---- modes ----------------------------------------------------------------

def mode_job(mode, extra=""):
    return """
    - id: j
      from: old.src
      to: new.tgt
      key: [id]
      mode: %s
      %s
      owner: ann
      checker: bob
    """ % (mode, extra)


def lite_pair(tmp_path, lite):
    tgt = tmp_path / "new.db"
    sqlite3.connect(tgt).close()

    class DB:
        pass
    d = DB()
    d.url = "sqlite:%s" % tgt
    d.env = {}
    d.path = tgt

    def run(q):
        c = sqlite3.connect(tgt)
        c.executescript(q)
        c.commit()
        c.close()
    d.sql = run
    return d


def test_truncate_reloads_exactly(tmp_path, lite):
    new = lite_pair(tmp_path, lite)
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT);"
             "INSERT INTO src VALUES (1,'a'),(2,'b'),(3,'c')")
    new.sql("CREATE TABLE tgt (id INTEGER PRIMARY KEY, v TEXT);"
            "INSERT INTO tgt VALUES (9, 'old')")
    p = plan(tmp_path, lite, new, mode_job("truncate"))
    for _ in range(2):
        assert sync(p)["j"]["written"] == 3
        assert rows(new, "SELECT id FROM tgt ORDER BY id") == \
            [{"id": 1}, {"id": 2}, {"id": 3}]


def test_append_keeps_what_is_there(tmp_path, lite):
    new = lite_pair(tmp_path, lite)
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT);"
             "INSERT INTO src VALUES (1,'a'),(2,'b')")
    new.sql("CREATE TABLE tgt (id INTEGER PRIMARY KEY, v TEXT);"
            "INSERT INTO tgt VALUES (9, 'old')")
    p = plan(tmp_path, lite, new, mode_job("append"))
    assert sync(p)["j"]["written"] == 2
    assert [r["id"] for r in rows(new, "SELECT id FROM tgt ORDER BY id")] == \
        [1, 2, 9]


def test_upsert_updates_by_key(engine, tmp_path, lite):
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT);"
             "INSERT INTO src VALUES (1,'new1'),(2,'new2')")
    if engine.kind == "sqlite":
        engine = lite_pair(tmp_path, lite)
        engine.kind = "sqlite"
    engine.sql("CREATE TABLE tgt (id int PRIMARY KEY, v varchar(10));"
               "INSERT INTO tgt VALUES (1, 'old1'), (50, 'keep')")
    p = plan(tmp_path, lite, engine, mode_job("upsert"))
    assert sync(p, dbs=(engine,))["j"]["written"] == 2
    assert rows(engine, "SELECT id, v FROM tgt ORDER BY id") == [
        {"id": 1, "v": "new1"}, {"id": 2, "v": "new2"}, {"id": 50, "v": "keep"}]


def test_incremental_catches_up_by_watermark(engine, tmp_path, lite):
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT, updated_at TEXT);"
             "INSERT INTO src VALUES (1,'a','2026-03-01 10:00:00'),"
             " (2,'b','2026-03-02 10:00:00'), (3,'c','2026-03-03 10:00:00')")
    if engine.kind == "sqlite":
        engine = lite_pair(tmp_path, lite)
        engine.kind = "sqlite"
    ts = {"postgres": "timestamp", "mariadb": "datetime"}.get(engine.kind, "TIMESTAMP")
    engine.sql("CREATE TABLE tgt (id int PRIMARY KEY, v varchar(10), updated_at %s)" % ts)
    p = plan(tmp_path, lite, engine, mode_job("incremental", "watermark: updated_at"))
    assert sync(p, dbs=(engine,))["j"]["read"] == 3
    # the old system goes on: one row changes, one arrives
    lite.sql("UPDATE src SET v = 'b2', updated_at = '2026-03-04 10:00:00' WHERE id = 2;"
             "INSERT INTO src VALUES (4, 'd', '2026-03-05 10:00:00')")
    res = sync(p, dbs=(engine,))["j"]
    # row 3 holds the target's watermark: read again, kept as it is
    assert (res["read"], res["written"]) == (3, 2)
    assert rows(engine, "SELECT id, v FROM tgt ORDER BY id") == [
        {"id": 1, "v": "a"}, {"id": 2, "v": "b2"}, {"id": 3, "v": "c"},
        {"id": 4, "v": "d"}]


def test_interrupted_append_needs_resume_or_restart(tmp_path, lite):
    new = lite_pair(tmp_path, lite)
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT);"
             "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c"
             " WHERE x < 50) INSERT INTO src SELECT x, 'v' || x FROM c")
    new.sql("CREATE TABLE tgt (id INTEGER PRIMARY KEY, v TEXT)")
    p = plan(tmp_path, lite, new, mode_job("append"))
    r = golive("sync", p, "--batch-size", "10", env={"GOLIVE_TEST_CRASH_AT": "5"})
    assert r.rc == -9
    r = golive("sync", p)
    assert r.rc == 3 and "--resume" in r.err
    # crash point 5 is batch 2 before its commit: batch 1 (10 rows) stays
    assert sync(p, "--resume")["j"]["written"] == 50 - 10
    assert rows(new, "SELECT count(*) AS n FROM tgt") == [{"n": 50}]


# ---- sequences -----------------------------------------------------------

def test_identity_counters_move_past_loaded_ids(engine, tmp_path, lite):
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT);"
             "INSERT INTO src VALUES (1,'a'),(2,'b'),(10,'c')")
    if engine.kind == "sqlite":
        engine = lite_pair(tmp_path, lite)
        engine.kind = "sqlite"
    ddl = {"sqlite": "CREATE TABLE tgt (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)",
           "postgres": "CREATE TABLE tgt (id serial PRIMARY KEY, v text)",
           "mariadb": "CREATE TABLE tgt (id int AUTO_INCREMENT PRIMARY KEY, v text)"}
    engine.sql(ddl[engine.kind])
    p = plan(tmp_path, lite, engine, mode_job("truncate"))
    assert sync(p, dbs=(engine,))["j"]["written"] == 3
    engine.sql("INSERT INTO tgt (v) VALUES ('after')")
    assert rows(engine, "SELECT id FROM tgt WHERE v = 'after'") == [{"id": 11}]


# ---- rejects, error limit, retry -------------------------------------------

def test_error_limit_and_retry_rejects(tmp_path, lite):
    new = lite_pair(tmp_path, lite)
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, code TEXT);"
             "INSERT INTO src VALUES (1,'A'),(2,'X'),(3,'X'),(4,'A')")
    new.sql("CREATE TABLE tgt (id INTEGER PRIMARY KEY, status TEXT NOT NULL)")
    job = """
    - id: j
      from: old.src
      to: new.tgt
      key: [id]
      columns:
        status: {from: code, map: {A: active%s}}
      owner: ann
      checker: bob
    """
    p = plan(tmp_path, lite, new, job % "")
    res = sync(p, expect=1)["j"]
    assert res["outcome"] == "failed" and res["rejected"] == 2
    assert "error limit of 0" in res["error"]
    lines = (tmp_path / "rejects" / "j.csv").read_text().splitlines()
    assert len(lines) == 3 and all("'X'" in l for l in lines[1:])
    # the mapping is fixed; the rejected rows load
    p = plan(tmp_path, lite, new, job % ", X: expired")
    res = sync(p, "--retry-rejects")["j"]
    assert (res["mode"], res["read"], res["written"], res["rejected"]) == \
        ("retry-rejects", 2, 2, 0)
    assert rows(new, "SELECT id, status FROM tgt ORDER BY id") == [
        {"id": 1, "status": "active"}, {"id": 2, "status": "expired"},
        {"id": 3, "status": "expired"}, {"id": 4, "status": "active"}]
    assert len((tmp_path / "rejects" / "j.csv").read_text().splitlines()) == 1


def test_database_errors_become_rejects_with_the_message(engine, tmp_path, lite):
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT);"
             "INSERT INTO src VALUES (1,'ok'),(2,NULL),(3,'ok'),(4,NULL),(5,'ok')")
    if engine.kind == "sqlite":
        engine = lite_pair(tmp_path, lite)
        engine.kind = "sqlite"
    engine.sql("CREATE TABLE tgt (id int PRIMARY KEY, v varchar(10) NOT NULL)")
    p = plan(tmp_path, lite, engine, mode_job("truncate", "error_limit: 40%"))
    res = sync(p, dbs=(engine,))["j"]
    assert (res["written"], res["rejected"]) == (3, 2)
    rej = (tmp_path / "rejects" / "j.csv").read_text().lower()
    assert "null" in rej and ("not null" in rej or "not-null" in rej or
                              "cannot be null" in rej)


# ---- kills, then --resume ----------------------------------------------------

def fill(lite, n):
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, name TEXT, amount TEXT);"
             "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c"
             " WHERE x < %d) INSERT INTO src SELECT x, 'name ' || x,"
             " CASE WHEN x = 77 THEN 'bad' ELSE (x * 7 %% 1000) || '.25' END FROM c" % n)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6, 8, 11, 14, 17, 20, 26, 31, 33])
def test_kill_then_resume_gives_exactly_the_source(k, tmp_path, lite):
    new = lite_pair(tmp_path, lite)
    fill(lite, 1000)
    new.sql("CREATE TABLE tgt (id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " amount NUMERIC(10,2))")
    p = plan(tmp_path, lite, new, mode_job("append", "error_limit: 5"))
    r = golive("sync", p, "--batch-size", "100", env={"GOLIVE_TEST_CRASH_AT": str(k)})
    assert r.rc == -9, r
    res = sync(p, "--resume", "--batch-size", "100")["j"]
    assert res["outcome"] == "ok"
    got = rows(new, "SELECT id, name, amount FROM tgt ORDER BY id")
    assert len(got) == 999  # row 77 is a reject
    assert got[0] == {"id": 1, "name": "name 1", "amount": "7.25"}
    assert [g["id"] for g in got] == [i for i in range(1, 1001) if i != 77]
    # nothing read twice: this execution read only what was left
    assert res["read"] + res["skipped"] == 1000
    rej = (tmp_path / "rejects" / "j.csv").read_text().splitlines()
    assert len(rej) == 2 and '"77"' in rej[1]


@pytest.mark.parametrize("k", [2, 7, 12])
def test_kill_then_resume_on_servers(k, tmp_path, lite, pg, my):
    fill(lite, 1000)
    for tgt in (pg, my):
        tgt.sql("CREATE TABLE tgt (id int PRIMARY KEY, name varchar(40) NOT NULL,"
                " amount decimal(10,2))")
    for tgt in (pg, my):
        p = plan(tmp_path, lite, tgt, mode_job("append", "error_limit: 5"))
        r = golive("sync", p, "--batch-size", "100",
                   env=dict(tgt.env, GOLIVE_TEST_CRASH_AT=str(k)))
        assert r.rc == -9, r
        sync(p, "--resume", "--batch-size", "100", dbs=(tgt,))
        got = rows(tgt, "SELECT id, name, amount FROM tgt ORDER BY id")
        assert len(got) == 999 and got[-1] == {"id": 1000, "name": "name 1000",
                                               "amount": "0.25"}


# ---- values across engines -------------------------------------------------

VALUES_PG = """
CREATE TABLE v (id int PRIMARY KEY, t text, e text, n numeric(38,10),
  ts timestamptz, tl timestamp, b bytea, f double precision, d date, ok boolean);
INSERT INTO v VALUES
 (1, 'Zhang 张伟 😀', '', '1234567890123456789012345678.1234567890',
  '2026-03-14 09:02:03.000004+08', '2026-03-14 01:02:03.5', '\\x00ff0010',
  0.1, '2026-03-14', true),
 (2, E'e\\u0301 tab\\there "q" ''s'' back\\\\slash', NULL,
  '-0.0000000001', '1999-12-31 23:59:59.999999+00', NULL, '\\x', -1e300,
  NULL, false),
 (3, NULL, 'x', NULL, NULL, NULL, NULL, NULL, NULL, NULL);
"""

VALUES_MY = """
CREATE TABLE v (id int PRIMARY KEY, t text, e text, n decimal(38,10),
  ts datetime(6), tl datetime(6), b varbinary(20), f double, d date,
  ok boolean);
"""


def test_values_round_trip_postgres_mariadb_postgres(tmp_path, pg, my, pg_server):
    pg.sql(VALUES_PG)
    my.sql(VALUES_MY)
    job = mode_job("truncate")
    p = plan(tmp_path, pg, my, job.replace("old.src", "old.v").replace("new.tgt", "new.v"))
    assert sync(p, dbs=(my,))["j"]["written"] == 3
    back_url = pg_server.create_db("back_" + tmp_path.name[-20:].lower().replace("-", "_"))

    class DB:
        pass
    back = DB()
    back.url = back_url
    back.env = {}
    back.sql = lambda q: pg_server.psql(q, db=back_url.rsplit("/", 1)[1])
    back.sql(VALUES_PG.split("INSERT")[0])
    (tmp_path / "b").mkdir()
    p2 = plan(tmp_path / "b", my, back, job.replace("old.src", "old.v").replace("new.tgt", "new.v"))
    assert sync(p2, dbs=(my,))["j"]["written"] == 3
    q = "SELECT * FROM v ORDER BY id"
    orig, there, back_rows = rows(pg, q), rows(my, q), rows(back, q)
    # everything survives the trip exactly; the zone is kept as UTC where
    # MariaDB keeps none
    assert back_rows == orig
    assert there[0]["ts"] == "2026-03-14T01:02:03.000004"
    assert there[0]["n"] == "1234567890123456789012345678.1234567890"
    assert there[0]["t"] == "Zhang 张伟 😀" and there[2]["t"] is None
    assert there[0]["b"] == "00ff0010" and there[1]["b"] == ""
    assert there[1]["e"] is None and there[0]["e"] == ""


def test_numerics_into_sqlite_text_exact_and_numeric_rejected(tmp_path, pg):
    pg.sql("CREATE TABLE v (id int PRIMARY KEY, n numeric(38,10));"
           "INSERT INTO v VALUES (1, '1234567890123456789012345678.1234567890'),"
           " (2, '12.5')")
    for decl, written, rejected in (("TEXT", 2, 0), ("NUMERIC", 1, 1),
                                    ("REAL", 1, 1)):
        d = tmp_path / decl
        d.mkdir()
        tgt = d / "t.db"
        c = sqlite3.connect(tgt)
        c.execute("CREATE TABLE v (id INTEGER PRIMARY KEY, n %s)" % decl)
        c.close()

        class DB:
            pass
        new = DB()
        new.url = "sqlite:%s" % tgt
        new.env = {}
        p = plan(d, pg, new, mode_job("truncate", "error_limit: 1").replace(
            "old.src", "old.v").replace("new.tgt", "new.v"))
        res = sync(p)["j"]
        assert (res["written"], res["rejected"]) == (written, rejected), decl
        got = rows(new, "SELECT n FROM v ORDER BY id")
        if decl == "TEXT":
            assert got[0]["n"] == "1234567890123456789012345678.1234567890"
        else:
            assert len(got) == 1 and got[0]["n"] in ("12.5", 12.5)
            assert "more digits" in (d / "rejects" / "j.csv").read_text()


# ---- records and output ------------------------------------------------------

def test_execution_is_recorded_in_the_run(tmp_path, lite):
    new = lite_pair(tmp_path, lite)
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT);"
             "INSERT INTO src VALUES (1,'a'),(2,'b')")
    new.sql("CREATE TABLE tgt (id INTEGER PRIMARY KEY, v TEXT)")
    p = plan(tmp_path, lite, new, mode_job("truncate"))
    r = golive("sync", p)
    assert r.rc == 0 and "not recorded" in r.err
    assert "j " in r.out and "total" in r.out
    assert golive("run", "start", p).rc == 0
    assert golive("sync", p, "--as", "ann").rc == 0
    db = sqlite3.connect(tmp_path / "golive.state")
    ev = db.execute("SELECT kind, actor, payload FROM events ORDER BY seq").fetchall()
    assert [e[0] for e in ev] == ["run.start", "sync.start", "sync.run"]
    assert ev[2][1] == "ann"
    pay = json.loads(ev[2][2])
    assert (pay["job"], pay["read"], pay["written"], pay["outcome"]) == ("j", 2, 2, "ok")
    assert db.execute("SELECT job, rows_written, outcome FROM sync_runs").fetchall() == \
        [("j", 2, "ok")]
    assert golive("audit", "verify", "--state", tmp_path / "golive.state").rc == 0


def test_unknown_job_and_connection_errors(tmp_path, lite):
    new = lite_pair(tmp_path, lite)
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT)")
    new.sql("CREATE TABLE tgt (id INTEGER PRIMARY KEY, v TEXT)")
    p = plan(tmp_path, lite, new, mode_job("truncate"))
    r = golive("sync", p, "jj")
    assert r.rc == 2 and "did you mean 'j'" in r.err
    p.write_text(p.read_text().replace(new.url, "postgres://nobody@127.0.0.1:1/x"))
    r = golive("sync", p, "--json")
    assert r.rc == 2
    assert json.loads(r.out)["jobs"][0]["outcome"] == "failed"


@pytest.mark.skipif(os.environ.get("GOLIVE_SANITIZED") == "1",
                    reason="ASan's shadow memory and quarantine make RSS "
                           "meaningless; the plain build measures it")
def test_memory_stays_flat(tmp_path, lite):
    """Peak RSS syncing 200,000 rows is within 8 MiB of syncing 2,000."""
    import os
    import subprocess
    import sys
    from conftest import BIN
    peaks = {}
    for n in (2000, 200000):
        d = tmp_path / str(n)
        d.mkdir()
        old = d / "old.db"
        new = d / "new.db"
        c = sqlite3.connect(old)
        c.executescript("CREATE TABLE src (id INTEGER PRIMARY KEY, a TEXT, b INTEGER,"
                        " c TEXT); WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL"
                        " SELECT x+1 FROM s WHERE x < %d) INSERT INTO src SELECT x,"
                        " printf('name %%08d', x), x * 3, '2026-01-01 10:00:00'"
                        " FROM s" % n)
        c.close()
        c = sqlite3.connect(new)
        c.execute("CREATE TABLE tgt (id INTEGER PRIMARY KEY, a TEXT, b INTEGER, c TEXT)")
        c.close()

        class DB:
            pass
        o, t = DB(), DB()
        o.url, t.url = "sqlite:%s" % old, "sqlite:%s" % new
        p = plan(d, o, t, mode_job("truncate"))
        code = ("import resource, subprocess, sys;"
                "r = subprocess.run(sys.argv[1:], capture_output=True);"
                "assert r.returncode == 0, r;"
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        out = subprocess.run([sys.executable, "-c", code, BIN, "sync", str(p)],
                             capture_output=True, text=True, env=dict(os.environ))
        assert out.returncode == 0, out.stderr
        peaks[n] = int(out.stdout.strip())  # KiB
    assert peaks[200000] - peaks[2000] < 8 * 1024, peaks


@pytest.mark.parametrize("kind", ["pg", "my"])
def test_foreign_key_order_and_rerun(kind, request, tmp_path, lite):
    """Jobs listed child first, no 'after': the parent loads first because
    the child's table references it; a second run empties the child before
    the parent."""
    lite.sql("CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT);"
             "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER);"
             "INSERT INTO p VALUES (1,'a'),(2,'b');"
             "INSERT INTO c VALUES (10,1),(11,2),(12,2)")
    # (SQLite enforces foreign keys only when a connection asks: the
    # servers show the order)
    engine = request.getfixturevalue(kind)
    engine.sql("CREATE TABLE parent (id int PRIMARY KEY, name varchar(10));"
               "CREATE TABLE child (id int PRIMARY KEY, p_id int NOT NULL"
               " REFERENCES parent(id))")
    jobs = """
    - {id: kids, from: old.c, to: new.child, key: [id], owner: ann, checker: bob}
    - {id: parents, from: old.p, to: new.parent, key: [id], owner: ann, checker: bob}
    """
    p = plan(tmp_path, lite, engine, jobs)
    for _ in range(2):
        res = sync(p, "--jobs", "2", dbs=(engine,))
        assert res["parents"]["written"] == 2 and res["kids"]["written"] == 3, res
        assert res["kids"]["outcome"] == "ok"


@pytest.mark.parametrize("kind", ["pg", "my", "lite2"])
def test_disable_constraints_then_revalidate(kind, request, tmp_path, lite):
    """disable_constraints: a row whose parent is missing loads with the
    checks off (with them on, it would be a reject), and the check after
    the load finds it: the job fails naming the count."""
    lite.sql("CREATE TABLE p (id INTEGER PRIMARY KEY);"
             "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER);"
             "INSERT INTO p VALUES (1),(2);"
             "INSERT INTO c VALUES (10,1),(11,2)")
    if kind == "lite2":
        engine = lite_pair(tmp_path, lite)
    else:
        engine = request.getfixturevalue(kind)
    engine.sql("CREATE TABLE parent (id int PRIMARY KEY);"
               "CREATE TABLE child (id int PRIMARY KEY, p_id int NOT NULL"
               " REFERENCES parent(id))")
    jobs = """
    - {id: parents, from: old.p, to: new.parent, key: [id], owner: ann, checker: bob}
    - {id: kids, from: old.c, to: new.child, key: [id], disable_constraints: true,
       owner: ann, checker: bob}
    """
    p = plan(tmp_path, lite, engine, jobs)
    res = sync(p, dbs=(engine,))
    assert res["kids"]["outcome"] == "ok" and res["kids"]["written"] == 2, res
    lite.sql("INSERT INTO c VALUES (12, 99)")
    res = sync(p, dbs=(engine,), expect=1)
    assert (res["kids"]["outcome"], res["kids"]["written"]) == ("failed", 3)
    assert "1 loaded rows violate a foreign key" in res["kids"]["error"]
    # and the checks are on again: a new orphan is refused by the database
    if kind != "lite2":
        with pytest.raises(RuntimeError):
            engine.sql("INSERT INTO child VALUES (13, 98)")
