"""`golive sync` under a real night's faults (#10): nothing is emptied
before every job reached both sides, jobs after a failed one are skipped,
a completed append job is not loaded twice, --restart of an incremental
job reads from the beginning, one execution of a job at a time, and the
plan's SQL fragments in brackets."""
import json
import os
import sqlite3
import subprocess
import time

import pytest

from conftest import BIN, golive
from test_sync import lite_pair, mode_job, plan, rows, sync

DOWN = {"postgres": "postgres://golive@127.0.0.1:1/gone",
        "mariadb": "mysql://golive@127.0.0.1:1/gone"}


def target_of(engine, tmp_path, lite):
    """The engine's database as a target apart from the SQLite source."""
    if engine.kind == "sqlite":
        t = lite_pair(tmp_path, lite)
        t.kind = "sqlite"
        return t
    return engine


def count(db, table="tgt"):
    return rows(db, "SELECT count(*) AS n FROM %s" % table)[0]["n"]


def run_json(p, *args, env=None):
    r = golive("sync", p, "--json", *args, env=env)
    return r, ({j["job"]: j for j in json.loads(r.out)["jobs"]} if r.out else {})


# ---- #10.1: nothing emptied before both sides are reached ----------------

@pytest.mark.parametrize("down", ["postgres", "mariadb"])
def test_truncate_keeps_its_target_while_its_source_is_down(
        down, engine, tmp_path, lite):
    tgt = target_of(engine, tmp_path, lite)
    tgt.sql("CREATE TABLE tgt (id int PRIMARY KEY, v varchar(20))")
    tgt.sql("INSERT INTO tgt VALUES " +
            ",".join("(%d, 'kept %d')" % (i, i) for i in range(1, 11)))
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT);"
             "INSERT INTO src VALUES (1, 'a')")

    class Old:
        url = DOWN[down]
    p = plan(tmp_path, Old, tgt, mode_job("truncate"))
    r, res = run_json(p, env=tgt.env)
    assert r.rc == 2, r
    assert res["j"]["outcome"] == "failed" and "connect" in res["j"]["error"]
    assert count(tgt) == 10


def test_no_target_is_emptied_when_one_source_query_fails(engine, tmp_path, lite):
    """Two truncate jobs: one's source query cannot run.  The other loads;
    the failing one's target keeps its rows."""
    tgt = target_of(engine, tmp_path, lite)
    tgt.sql("CREATE TABLE tgt (id int PRIMARY KEY, v varchar(20));"
            "CREATE TABLE tgt2 (id int PRIMARY KEY, v varchar(20))")
    tgt.sql("INSERT INTO tgt VALUES (1, 'kept'), (2, 'kept');"
            "INSERT INTO tgt2 VALUES (1, 'old')")
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT);"
             "INSERT INTO src VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    jobs = """
    - {id: bad, from: old.src, to: new.tgt, key: [id], mode: truncate,
       where: "no_such_column = 1", owner: ann, checker: bob}
    - {id: good, from: old.src, to: new.tgt2, key: [id], mode: truncate,
       owner: ann, checker: bob}
    """
    p = plan(tmp_path, lite, tgt, jobs)
    r, res = run_json(p, env=tgt.env)
    assert r.rc == 2, r
    assert res["bad"]["outcome"] == "failed"
    assert "no_such_column" in res["bad"]["error"]
    assert res["good"]["outcome"] == "ok" and res["good"]["written"] == 3
    assert rows(tgt, "SELECT id, v FROM tgt ORDER BY id") == [
        {"id": 1, "v": "kept"}, {"id": 2, "v": "kept"}]
    assert count(tgt, "tgt2") == 3


# ---- #10.2: a job after a failed one does not run ------------------------

LEAVES = """
- id: leaves
  from: old.l
  to: new.leaves
  key: [id]
  columns:
    state: {from: code, map: {A: approved%s}}
  owner: ann
  checker: bob
- id: approvals
  from: old.a
  to: new.approvals
  key: [id]
  after: [leaves]
  owner: ann
  checker: bob
"""


def leaves_source(lite):
    lite.sql("CREATE TABLE l (id INTEGER PRIMARY KEY, code TEXT);"
             "CREATE TABLE a (id INTEGER PRIMARY KEY, leave_id INTEGER);"
             "INSERT INTO l VALUES (1, 'A'), (2, 'X');"
             "INSERT INTO a VALUES (10, 1), (11, 2)")


def test_job_after_a_failed_job_is_skipped(tmp_path, lite):
    tgt = lite_pair(tmp_path, lite)
    leaves_source(lite)
    tgt.sql("CREATE TABLE leaves (id INTEGER PRIMARY KEY, state TEXT NOT NULL);"
            "CREATE TABLE approvals (id INTEGER PRIMARY KEY, leave_id INTEGER)")
    p = plan(tmp_path, lite, tgt, LEAVES % "")
    assert golive("run", "start", p).rc == 0
    r, res = run_json(p, "leaves", "approvals", "--restart")
    assert r.rc == 1, r
    assert res["leaves"]["outcome"] == "failed"
    assert res["approvals"]["outcome"] == "skipped"
    assert "'leaves'" in res["approvals"]["error"]
    assert res["approvals"]["written"] == 0
    assert count(tgt, "approvals") == 0
    r = golive("sync", p)
    assert r.rc == 1 and "approvals" in r.out and "skipped" in r.out, r
    # alone, it looks at leaves' latest recorded execution: failed
    r, res = run_json(p, "approvals")
    assert r.rc == 1, r
    assert res["approvals"]["outcome"] == "skipped"
    assert "leaves" in res["approvals"]["error"] and \
        "latest execution" in res["approvals"]["error"]
    assert count(tgt, "approvals") == 0
    # nothing recorded for the skipped job
    db = sqlite3.connect(tmp_path / "golive.state")
    assert [r[0] for r in db.execute("SELECT job FROM sync_runs")] == \
        ["leaves", "leaves"]
    db.close()
    # leaves' source fixed and loaded: approvals runs
    lite.sql("UPDATE l SET code = 'A' WHERE id = 2")
    r, res = run_json(p, "leaves")
    assert res["leaves"]["outcome"] == "ok", r
    r, res = run_json(p, "approvals")
    assert r.rc == 0 and res["approvals"]["written"] == 2, r


def test_interrupted_predecessor_outside_the_invocation(tmp_path, lite):
    """No run: the predecessor's checkpoint in the target says it stopped."""
    tgt = lite_pair(tmp_path, lite)
    leaves_source(lite)
    lite.sql("INSERT INTO l SELECT id + 100, 'A' FROM l")
    tgt.sql("CREATE TABLE leaves (id INTEGER PRIMARY KEY, state TEXT NOT NULL);"
            "CREATE TABLE approvals (id INTEGER PRIMARY KEY, leave_id INTEGER)")
    p = plan(tmp_path, lite, tgt, (LEAVES % ", X: rejected").replace(
        "  key: [id]\n  columns", "  key: [id]\n  mode: append\n  columns", 1))
    r = golive("sync", p, "leaves", "--batch-size", "1",
               env={"GOLIVE_TEST_CRASH_AT": "4"})
    assert r.rc == -9, r
    r, res = run_json(p, "approvals")
    assert r.rc == 1, r
    assert res["approvals"]["outcome"] == "skipped"
    assert "'leaves'" in res["approvals"]["error"] and \
        "not finished" in res["approvals"]["error"]
    assert count(tgt, "approvals") == 0


@pytest.mark.parametrize("with_run", [True, False])
def test_job_after_a_predecessor_that_never_ran_is_refused(
        with_run, tmp_path, lite):
    """approvals comes after leaves, which never ran (in the run; without
    a run, its target holds no checkpoint): refused, exit 3, naming leaves;
    both in one invocation, leaves runs first and approvals after it."""
    tgt = lite_pair(tmp_path, lite)
    leaves_source(lite)
    tgt.sql("CREATE TABLE leaves (id INTEGER PRIMARY KEY, state TEXT NOT NULL);"
            "CREATE TABLE approvals (id INTEGER PRIMARY KEY, leave_id INTEGER)")
    p = plan(tmp_path, lite, tgt, LEAVES % ", X: rejected")
    if with_run:
        assert golive("run", "start", p).rc == 0
    r, res = run_json(p, "approvals")
    assert r.rc == 3, r
    assert res["approvals"]["outcome"] == "failed"
    err = res["approvals"]["error"]
    assert err.startswith("refused: it comes after 'leaves', which has "), err
    assert "sync 'leaves' first" in err
    assert "refused" in r.err and "leaves" in r.err
    assert count(tgt, "approvals") == 0
    r, res = run_json(p, "approvals", "leaves")
    assert r.rc == 0, r
    assert (res["leaves"]["written"], res["approvals"]["written"]) == (2, 2)
    # leaves ran ok: approvals alone runs
    r, res = run_json(p, "approvals")
    assert r.rc == 0 and res["approvals"]["outcome"] == "ok", r


def parent_outside(tmp_path, lite, engine, child_rows=""):
    """A parent and a child job; the parent's target is referenced by a
    table outside the plan that holds a row."""
    lite.sql("CREATE TABLE p (id INTEGER PRIMARY KEY);"
             "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER);"
             "INSERT INTO p VALUES (1), (2); INSERT INTO c VALUES (10, 1)")
    engine.sql("CREATE TABLE parent (id int PRIMARY KEY);"
               "CREATE TABLE child (id int PRIMARY KEY, p_id int NOT NULL"
               " REFERENCES parent(id));"
               "CREATE TABLE outside (id int PRIMARY KEY, p_id int"
               " REFERENCES parent(id));"
               "INSERT INTO parent VALUES (1); " + child_rows +
               "INSERT INTO outside VALUES (5, 1)")
    jobs = """
    - {id: kids, from: old.c, to: new.child, key: [id], owner: ann, checker: bob}
    - {id: parents, from: old.p, to: new.parent, key: [id], owner: ann, checker: bob}
    """
    return plan(tmp_path, lite, engine, jobs)


@pytest.mark.parametrize("kind", ["pg", "my"])
def test_child_of_a_parent_that_cannot_be_emptied_is_skipped(
        kind, request, tmp_path, lite):
    """The parent's target is referenced by a table outside the plan: it
    cannot be emptied, so the child (by its foreign key) is skipped."""
    engine = request.getfixturevalue(kind)
    p = parent_outside(tmp_path, lite, engine)
    r, res = run_json(p, env=engine.env)
    assert r.rc in (1, 2), r
    assert res["parents"]["outcome"] == "failed"
    assert "cannot empty" in res["parents"]["error"]
    assert res["kids"]["outcome"] == "skipped"
    assert "'parents'" in res["kids"]["error"]
    assert count(engine, "child") == 0


# ---- #10.8: a completed append job is not loaded twice -------------------

def test_rerun_of_a_completed_append_job(engine, tmp_path, lite):
    tgt = target_of(engine, tmp_path, lite)
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT);"
             "INSERT INTO src VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    tgt.sql("CREATE TABLE tgt (id int PRIMARY KEY, v varchar(10))")
    p = plan(tmp_path, lite, tgt, mode_job("append", "error_limit: 5"))
    assert sync(p, dbs=(tgt,))["j"]["written"] == 3
    r, res = run_json(p, env=tgt.env)
    assert r.rc == 0, r
    assert (res["j"]["outcome"], res["j"]["read"], res["j"]["written"],
            res["j"]["rejected"]) == ("ok", 0, 0, 0)
    assert "completed already" in res["j"]["note"]
    assert "--restart" in res["j"]["note"]
    r = golive("sync", p, env=tgt.env)
    assert r.rc == 0 and "completed already" in r.out, r
    assert count(tgt) == 3
    # --restart loads every row again: each a duplicate of the earlier one
    r, res = run_json(p, "--restart", env=tgt.env)
    assert r.rc == 0, r
    assert (res["j"]["written"], res["j"]["rejected"]) == (0, 3)
    assert "3 rejected rows duplicate rows an earlier execution loaded" in \
        res["j"]["note"]
    rej = (tmp_path / "rejects" / "j.csv").read_text().splitlines()
    assert len(rej) == 4
    assert all("duplicates a row an earlier execution loaded" in l
               for l in rej[1:])
    # past the error limit, the error says why
    p = plan(tmp_path, lite, tgt, mode_job("append", "error_limit: 1"))
    r, res = run_json(p, "--restart", env=tgt.env)
    assert r.rc == 1, r
    assert "3 rejected rows (3 of them duplicate rows an earlier execution " \
        "loaded) passed the error limit of 1" in res["j"]["error"]
    assert count(tgt) == 3


# ---- #10.9 and #10.15: incremental jobs ----------------------------------

INCR = """
- id: j
  from: old.src
  to: new.tgt
  key: [id]
  mode: incremental
  watermark: updated
  %s
  owner: ann
  checker: bob
"""


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_restart_of_an_incremental_job_reads_from_the_beginning(
        kind, request, tmp_path, lite):
    engine = request.getfixturevalue({"sqlite": "lite", "postgres": "pg"}[kind])
    engine.kind = kind
    tgt = target_of(engine, tmp_path, lite)
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT,"
             " updated DATETIME);"
             "INSERT INTO src VALUES (1, 'a', '2026-01-01 10:00:00'),"
             " (2, 'b', '2026-01-01 10:00:00'),"
             " (3, 'legacy', '2099-12-31 00:00:00')")
    tgt.sql("CREATE TABLE tgt (id int PRIMARY KEY, v varchar(20),"
            " updated timestamp)")
    p = plan(tmp_path, lite, tgt, INCR % "")
    assert sync(p, dbs=(tgt,))["j"]["written"] == 3
    # a late approval, dated before the legacy row's future date
    lite.sql("UPDATE src SET v = 'late', updated = '2026-02-01 00:00:00'"
             " WHERE id = 2")
    # the watermark hides it: only the boundary (the legacy row) is read
    res = sync(p, dbs=(tgt,))["j"]
    assert (res["read"], res["written"]) == (1, 0)
    assert rows(tgt, "SELECT v FROM tgt WHERE id = 2") == [{"v": "b"}]
    res = sync(p, "--restart", dbs=(tgt,))["j"]
    assert (res["read"], res["outcome"]) == (3, "ok")
    assert rows(tgt, "SELECT v FROM tgt WHERE id = 2") == [{"v": "late"}]
    # validate --online says so beforehand
    r = golive("validate", p, "--online", env=tgt.env)
    assert "1 source row" in r.out + r.err, r
    assert "later than now" in r.out + r.err
    assert "future-watermark" in r.out + r.err


def test_validate_online_quiet_without_future_watermarks(tmp_path, lite):
    tgt = lite_pair(tmp_path, lite)
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT,"
             " updated DATETIME);"
             "INSERT INTO src VALUES (1, 'a', '2026-01-01 10:00:00')")
    tgt.sql("CREATE TABLE tgt (id int PRIMARY KEY, v text, updated timestamp)")
    p = plan(tmp_path, lite, tgt, INCR % "")
    r = golive("validate", p, "--online")
    assert r.rc == 0 and "later than now" not in r.out + r.err, r


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "mariadb"])
def test_incremental_where_with_or_keeps_the_watermark(
        kind, request, tmp_path, lite):
    engine = request.getfixturevalue({"sqlite": "lite", "postgres": "pg",
                                      "mariadb": "my"}[kind])
    engine.kind = kind
    tgt = target_of(engine, tmp_path, lite)
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, kind TEXT, v TEXT,"
             " updated DATETIME);"
             "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c"
             " WHERE x < 60) INSERT INTO src SELECT x,"
             " CASE x % 3 WHEN 0 THEN 'A' WHEN 1 THEN 'B' ELSE 'C' END,"
             " 'v' || x, '2026-01-01 10:00:00' FROM c")
    tgt.sql("CREATE TABLE tgt (id int PRIMARY KEY, kind varchar(1),"
            " v varchar(20), updated %s)" %
            ("datetime" if kind == "mariadb" else "timestamp"))
    p = plan(tmp_path, lite, tgt,
             INCR % "where: \"kind = 'A' OR kind = 'B'\"")
    assert sync(p, dbs=(tgt,))["j"]["written"] == 40
    # the new system edits a row; the old one gets two new rows
    tgt.sql("UPDATE tgt SET v = 'edited in new' WHERE id = 3")
    lite.sql("INSERT INTO src VALUES (61, 'A', 'new', '2026-02-01 00:00:00'),"
             " (62, 'C', 'not mine', '2026-02-01 00:00:00')")
    res = sync(p, dbs=(tgt,))["j"]
    # the 40 rows at the watermark are read again, none is updated
    assert (res["read"], res["written"]) == (41, 1)
    assert rows(tgt, "SELECT v FROM tgt WHERE id = 3") == [{"v": "edited in new"}]
    assert count(tgt) == 41


# ---- watermark ties: rows written in the same instant as the boundary ----

TS = {"sqlite": "timestamp", "postgres": "timestamp", "mariadb": "datetime"}


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "mariadb"])
def test_incremental_reads_rows_tied_with_the_watermark(
        kind, request, tmp_path, lite):
    """A row written after the previous read, in the same second as the
    target's highest watermark (and with a key below the last one read), is
    loaded; the boundary rows the new system edited stay as it left them."""
    engine = request.getfixturevalue({"sqlite": "lite", "postgres": "pg",
                                      "mariadb": "my"}[kind])
    engine.kind = kind
    tgt = target_of(engine, tmp_path, lite)
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT,"
             " updated DATETIME);"
             "INSERT INTO src VALUES (5, 'a', '2026-01-01 09:00:00'),"
             " (10, 'b', '2026-01-01 10:00:00'),"
             " (20, 'c', '2026-01-01 10:00:00')")
    tgt.sql("CREATE TABLE tgt (id int PRIMARY KEY, v varchar(20), updated %s)"
            % TS[kind])
    p = plan(tmp_path, lite, tgt, INCR % "")
    assert sync(p, dbs=(tgt,))["j"]["written"] == 3
    # the new system edits a boundary row; the old one writes a row in the
    # same second as the boundary, after the read, with a lower key
    tgt.sql("UPDATE tgt SET v = 'edited in new' WHERE id = 10")
    lite.sql("INSERT INTO src VALUES (7, 'tied', '2026-01-01 10:00:00')")
    res = sync(p, dbs=(tgt,))["j"]
    assert (res["read"], res["written"], res["outcome"]) == (3, 1, "ok"), res
    assert "2 rows at the watermark are in the target already" in res["note"]
    assert rows(tgt, "SELECT id, v FROM tgt ORDER BY id") == [
        {"id": 5, "v": "a"}, {"id": 7, "v": "tied"},
        {"id": 10, "v": "edited in new"}, {"id": 20, "v": "c"}]
    # again: nothing new, nothing overwritten
    res = sync(p, dbs=(tgt,))["j"]
    assert (res["read"], res["written"]) == (3, 0), res
    assert rows(tgt, "SELECT v FROM tgt WHERE id = 10") == [
        {"v": "edited in new"}]


def test_incremental_tie_with_a_composite_key_between_servers(pg, my, tmp_path):
    """PostgreSQL to MariaDB, a two-column key: the tied row is found by
    both key columns."""
    pg.sql("CREATE TABLE src (a int, b varchar(5), v text, updated timestamp,"
           " PRIMARY KEY (a, b));"
           "INSERT INTO src VALUES (1, 'x', 'one', '2026-01-01 10:00:00'),"
           " (1, 'y', 'two', '2026-01-01 10:00:00')")
    my.sql("CREATE TABLE tgt (a int, b varchar(5), v varchar(20),"
           " updated datetime, PRIMARY KEY (a, b))")
    jobs = INCR.replace("key: [id]", "key: [a, b]") % ""
    p = plan(tmp_path, pg, my, jobs)
    assert sync(p, dbs=(pg, my))["j"]["written"] == 2
    my.sql("UPDATE tgt SET v = 'edited' WHERE a = 1 AND b = 'y'")
    pg.sql("INSERT INTO src VALUES (1, 'w', 'tied', '2026-01-01 10:00:00')")
    res = sync(p, dbs=(pg, my))["j"]
    assert (res["read"], res["written"]) == (3, 1), res
    assert rows(my, "SELECT a, b, v FROM tgt ORDER BY a, b") == [
        {"a": 1, "b": "w", "v": "tied"}, {"a": 1, "b": "x", "v": "one"},
        {"a": 1, "b": "y", "v": "edited"}]


def test_incremental_sqlite_text_times_into_timestamptz(pg, tmp_path, lite):
    """SQLite TEXT times ('2026-11-30T12:00:00Z') into a PostgreSQL
    timestamptz: the watermark is compared as the source writes its times,
    only the boundary rows are read again, and a boundary row the new system
    changed is never put back."""
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT, updated TEXT);"
             "INSERT INTO src VALUES (1, 'a', '2026-11-30T08:00:00Z'),"
             " (2, 'b', '2026-11-30T10:00:00Z'),"
             " (3, 'c', '2026-11-30T12:00:00Z'),"
             " (4, 'd', '2026-11-30T12:00:00Z')")
    pg.sql("CREATE TABLE tgt (id int PRIMARY KEY, v varchar(20),"
           " updated timestamptz)")
    p = plan(tmp_path, lite, pg, INCR % "")
    assert sync(p, dbs=(pg,))["j"]["written"] == 4
    pg.sql("UPDATE tgt SET v = 'done' WHERE id IN (2, 3)")
    lite.sql("INSERT INTO src VALUES (5, 'e', '2026-11-30T12:00:01Z')")
    res = sync(p, dbs=(pg,))["j"]
    # only the two boundary rows and the new one are read
    assert (res["read"], res["written"], res["outcome"]) == (3, 1, "ok"), res
    assert "at the watermark are in the target already" in res.get("note", "")
    assert rows(pg, "SELECT id, v FROM tgt ORDER BY id") == [
        {"id": 1, "v": "a"}, {"id": 2, "v": "done"}, {"id": 3, "v": "done"},
        {"id": 4, "v": "d"}, {"id": 5, "v": "e"}]
    pg.sql("UPDATE tgt SET v = 'done' WHERE id = 5")
    res = sync(p, dbs=(pg,))["j"]
    assert (res["read"], res["written"]) == (1, 0), res
    assert rows(pg, "SELECT v FROM tgt WHERE id = 5") == [{"v": "done"}]


def test_incremental_row_not_above_the_watermark_is_never_updated(
        pg, tmp_path, lite):
    """Source times with a zone golive cannot write W in (+02:00): the
    source's text comparison takes in too many rows, but none that is not
    above W as the target compares it is overwritten."""
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT, updated TEXT);"
             "INSERT INTO src VALUES (1, 'a', '2026-11-30T10:00:00+02:00'),"
             " (2, 'b', '2026-11-30T14:00:00+02:00')")
    pg.sql("CREATE TABLE tgt (id int PRIMARY KEY, v varchar(20),"
           " updated timestamptz)")
    p = plan(tmp_path, lite, pg, INCR % "")
    assert sync(p, dbs=(pg,))["j"]["written"] == 2
    pg.sql("UPDATE tgt SET v = 'done'")
    lite.sql("INSERT INTO src VALUES (3, 'c', '2026-11-30T14:00:01+02:00')")
    res = sync(p, dbs=(pg,))["j"]
    assert (res["written"], res["outcome"]) == (1, "ok"), res
    assert rows(pg, "SELECT id, v FROM tgt ORDER BY id") == [
        {"id": 1, "v": "done"}, {"id": 2, "v": "done"}, {"id": 3, "v": "c"}]


# ---- #10.14: one execution of a job at a time ----------------------------

def hold_source(path):
    """Lock the SQLite source so that a sync blocks reading it."""
    c = sqlite3.connect(path, isolation_level=None, timeout=0)
    c.execute("BEGIN EXCLUSIVE")
    return c


def start(p, *args, env=None):
    e = dict(os.environ)
    for k in ("GOLIVE_STATE", "GOLIVE_USER", "GOLIVE_NOW", "GOLIVE_TEST_CRASH_AT"):
        e.pop(k, None)
    e.update(env or {})
    return subprocess.Popen([BIN, "sync", str(p), "--json"] + list(args),
                            env=e, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for_lock(tgt, job="j", timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = golive("db", "query", tgt.url,
                   "SELECT holder FROM golive_lock WHERE job = '%s'" % job,
                   "--json", env=tgt.env)
        if r.rc == 0 and r.out.strip():
            return json.loads(r.out.splitlines()[0])["holder"]
        time.sleep(0.1)
    raise AssertionError("no lock holder written")


@pytest.mark.parametrize("mode", ["truncate", "append"])
def test_second_execution_of_a_running_job_is_refused(
        mode, engine, tmp_path, lite):
    tgt = target_of(engine, tmp_path, lite)
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT);"
             "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c"
             " WHERE x < 500) INSERT INTO src SELECT x, 'v' || x FROM c")
    tgt.sql("CREATE TABLE tgt (id int PRIMARY KEY, v varchar(20))")
    p = plan(tmp_path, lite, tgt, mode_job(mode))
    held = hold_source(lite.path)
    first = start(p, "--batch-size", "50", env=tgt.env)
    try:
        holder = wait_for_lock(tgt)
        assert "pid %d" % first.pid in holder
        for args in ([], ["--resume"], ["--restart"]):
            r, res = run_json(p, *args, env=tgt.env)
            assert r.rc == 3, r
            err = res["j"]["error"]
            assert "running already" in err and "pid %d" % first.pid in err, err
    finally:
        held.execute("ROLLBACK")
        held.close()
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert json.loads(out)["jobs"][0]["written"] == 500
    assert count(tgt) == 500
    # the lock went with the first execution
    r, res = run_json(p, env=tgt.env)
    assert r.rc == 0, r
    assert count(tgt) == 500


def test_sqlite_lock_file_is_per_job_and_goes_with_a_kill(tmp_path, lite):
    import fcntl
    tgt = lite_pair(tmp_path, lite)
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT);"
             "INSERT INTO src VALUES (1, 'a')")
    tgt.sql("CREATE TABLE tgt (id INTEGER PRIMARY KEY, v TEXT);"
            "CREATE TABLE tgt2 (id INTEGER PRIMARY KEY, v TEXT)")
    jobs = """
    - {id: j, from: old.src, to: new.tgt, key: [id], mode: truncate,
       owner: ann, checker: bob}
    - {id: k, from: old.src, to: new.tgt2, key: [id], mode: truncate,
       owner: ann, checker: bob}
    """
    p = plan(tmp_path, lite, tgt, jobs)
    lock = tmp_path / "new.db-golive-sync-j.lock"
    # whoever holds the lock file holds the job; not the other job
    with open(lock, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        r, res = run_json(p)
        assert r.rc == 3, r
        assert "running already" in res["j"]["error"]
        assert res["k"]["outcome"] == "ok" and res["k"]["written"] == 1
    lock.unlink()  # golive makes its own, 0600
    # kill -9 of the holder lets the lock go
    held = hold_source(lite.path)
    first = start(p, "j")
    try:
        wait_for_lock(tgt)
        first.kill()
        first.wait()
    finally:
        held.execute("ROLLBACK")
        held.close()
    assert (lock.stat().st_mode & 0o777) == 0o600
    r, res = run_json(p, "j")
    assert r.rc == 0 and res["j"]["written"] == 1, r


def test_emptied_then_killed_job_is_unfinished_and_resumable(tmp_path, lite):
    """The night dies after the targets were emptied: a job emptied and not
    loaded counts as unfinished (what comes after it is skipped), and
    --resume loads it."""
    tgt = lite_pair(tmp_path, lite)
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT);"
             "INSERT INTO src VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    tgt.sql("CREATE TABLE ta (id INTEGER PRIMARY KEY, v TEXT);"
            "CREATE TABLE tc (id INTEGER PRIMARY KEY, v TEXT);"
            "CREATE TABLE td (id INTEGER PRIMARY KEY, v TEXT);"
            "INSERT INTO tc VALUES (7, 'before')")
    jobs = """
    - {id: a, from: old.src, to: new.ta, key: [id], owner: ann, checker: bob}
    - {id: c, from: old.src, to: new.tc, key: [id], after: [a],
       owner: ann, checker: bob}
    - {id: d, from: old.src, to: new.td, key: [id], after: [c],
       owner: ann, checker: bob}
    """
    p = plan(tmp_path, lite, tgt, jobs)
    r = golive("sync", p, "a", "c", "--batch-size", "1",
               env={"GOLIVE_TEST_CRASH_AT": "2"})
    assert r.rc == -9, r
    assert count(tgt, "tc") == 0  # emptied before a's first batch
    r, res = run_json(p, "d")
    assert r.rc == 1 and res["d"]["outcome"] == "skipped", r
    assert "'c'" in res["d"]["error"] and "not finished" in res["d"]["error"]
    r, res = run_json(p, "c", "--resume")
    assert r.rc == 1 and res["c"]["outcome"] == "skipped", r  # a died too
    r, res = run_json(p, "a", "--resume")
    assert r.rc == 0 and res["a"]["outcome"] == "ok", r
    r, res = run_json(p, "c", "--resume")
    assert r.rc == 0 and (res["c"]["outcome"], res["c"]["written"]) == ("ok", 3)
    r, res = run_json(p, "d")
    assert r.rc == 0 and res["d"]["written"] == 3, r


def test_skips_name_the_job_that_failed_down_the_chain(tmp_path, lite):
    tgt = lite_pair(tmp_path, lite)
    leaves_source(lite)
    tgt.sql("CREATE TABLE leaves (id INTEGER PRIMARY KEY, state TEXT NOT NULL);"
            "CREATE TABLE approvals (id INTEGER PRIMARY KEY, leave_id INTEGER);"
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, leave_id INTEGER)")
    p = plan(tmp_path, lite, tgt, LEAVES % "" + """
- {id: notes, from: old.a, to: new.notes, key: [id], after: [approvals],
   owner: ann, checker: bob}
- {id: other, from: old.a, to: new.approvals_copy, key: [id], owner: ann,
   checker: bob}
""".replace("new.approvals_copy", "new.notes2"))
    tgt.sql("CREATE TABLE notes2 (id INTEGER PRIMARY KEY, leave_id INTEGER)")
    r, res = run_json(p, "--jobs", "2")
    assert r.rc == 1, r
    assert res["leaves"]["outcome"] == "failed"
    for j in ("approvals", "notes"):
        assert res[j]["outcome"] == "skipped"
        assert res[j]["error"].startswith("skipped: it comes after 'leaves', "
                                          "which failed"), res[j]
    assert res["other"]["outcome"] == "ok" and res["other"]["written"] == 2


def test_sqlite_lock_file_is_the_same_for_a_symlink_to_the_target(tmp_path,
                                                                  lite):
    """A plan naming the target through a symlink (sqlite:.../link.db ->
    new.db) takes the same lock as one naming new.db: the lock file is
    named from the database's real path (two lock files let two executions
    of the job run at once)."""
    import fcntl
    tgt = lite_pair(tmp_path, lite)
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT);"
             "INSERT INTO src VALUES (1, 'a')")
    tgt.sql("CREATE TABLE tgt (id INTEGER PRIMARY KEY, v TEXT)")
    (tmp_path / "sub").mkdir()
    link = tmp_path / "sub" / "link.db"
    os.symlink(str(tgt.path), str(link))
    tgt.url = "sqlite:%s" % link
    p = plan(tmp_path, lite, tgt, """
    - {id: j, from: old.src, to: new.tgt, key: [id], mode: truncate,
       owner: ann, checker: bob}
    """)
    lock = tmp_path / "new.db-golive-sync-j.lock"
    with open(lock, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        r, res = run_json(p)
        assert r.rc == 3, r
        assert "running already" in res["j"]["error"], res
    assert not list((tmp_path / "sub").glob("*.lock"))
    r, res = run_json(p)
    assert r.rc == 0 and res["j"]["written"] == 1, r


@pytest.mark.parametrize("kind", ["pg", "my"])
def test_a_child_is_not_emptied_when_its_parent_cannot_be(kind, request,
                                                          tmp_path, lite):
    """New-user trial: the child (a truncate job after its parent) was
    emptied, then skipped when the parent's emptying failed on a table
    outside the invocation.  Nothing is emptied: the child keeps its rows."""
    engine = request.getfixturevalue(kind)
    p = parent_outside(tmp_path, lite, engine,
                       "INSERT INTO child VALUES (7, 1);")
    r, res = run_json(p, env=engine.env)
    assert r.rc == 1, r
    assert res["parents"]["outcome"] == "failed"
    assert "table 'outside' references it" in res["parents"]["error"]
    assert res["kids"]["outcome"] == "skipped"
    assert count(engine, "child") == 1 and count(engine, "parent") == 1


def test_a_person_the_run_does_not_know_loads_nothing(tmp_path, lite):
    """New-user trial: `sync --as nobody` loaded 2,000 rows, then said the
    executions were not recorded.  Refused before the target is touched."""
    new = lite_pair(tmp_path, lite)
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT);"
             "INSERT INTO src VALUES (1, 'a'), (2, 'b')")
    new.sql("CREATE TABLE tgt (id INTEGER PRIMARY KEY, v TEXT);"
            "INSERT INTO tgt VALUES (9, 'kept')")
    p = plan(tmp_path, lite, new, mode_job("truncate"))
    assert golive("run", "start", p).rc == 0
    r = golive("sync", p, "--as", "nobody")
    assert r.rc == 3, r
    assert "'nobody' is not a person of the plan" in r.err
    assert "nothing was run" in r.err
    assert count(new) == 1


def clinic_chain(tmp_path, lite, tgt):
    """clinics <- doctors <- appointments in the target, all loaded; clinics
    and doctors truncate jobs, appts incremental."""
    lite.sql("CREATE TABLE c (id INTEGER PRIMARY KEY);"
             "CREATE TABLE d (id INTEGER PRIMARY KEY, c_id INTEGER);"
             "CREATE TABLE a (id INTEGER PRIMARY KEY, d_id INTEGER,"
             " updated TEXT);"
             "INSERT INTO c VALUES (1), (2);"
             "INSERT INTO d SELECT value, 1 + value % 2 FROM"
             " (WITH RECURSIVE s(value) AS (SELECT 1 UNION ALL"
             "  SELECT value + 1 FROM s WHERE value < 10) SELECT value FROM s);"
             "INSERT INTO a VALUES (1, 3, '2026-11-30 10:00:00')")
    tgt.sql("CREATE TABLE clinics (id int PRIMARY KEY);"
            "CREATE TABLE doctors (id int PRIMARY KEY, c_id int NOT NULL"
            " REFERENCES clinics(id));"
            "CREATE TABLE appointments (id int PRIMARY KEY, d_id int NOT NULL"
            " REFERENCES doctors(id), updated %s)" % TS[tgt.kind])
    jobs = """
    - {id: clinics, from: old.c, to: new.clinics, key: [id], mode: truncate,
       owner: ann, checker: bob}
    - {id: doctors, from: old.d, to: new.doctors, key: [id], mode: truncate,
       after: [clinics], owner: ann, checker: bob}
    - {id: appts, from: old.a, to: new.appointments, key: [id],
       mode: incremental, watermark: updated, after: [doctors],
       owner: ann, checker: bob}
    """
    return plan(tmp_path, lite, tgt, jobs)


def test_a_parent_is_not_emptied_when_its_child_cannot_be(engine, tmp_path,
                                                          lite):
    """New-user trial (SQLite): `sync plan clinics doctors` emptied and
    reloaded clinics, then refused to empty doctors (appointments references
    it): 10 doctors pointed at a missing clinic.  The refusal is found
    before any target is emptied, and clinics is not emptied either."""
    tgt = target_of(engine, tmp_path, lite)
    p = clinic_chain(tmp_path, lite, tgt)
    r, res = run_json(p, env=tgt.env)
    assert r.rc == 0, r
    # a clinic only the new system has: gone if clinics is emptied
    tgt.sql("INSERT INTO clinics VALUES (99)")
    before = (count(tgt, "clinics"), count(tgt, "doctors"))
    r, res = run_json(p, "clinics", "doctors", env=tgt.env)
    assert r.rc == 1, r
    assert res["doctors"]["outcome"] == "failed"
    assert "cannot empty 'doctors': table 'appointments' references it" in \
        res["doctors"]["error"], res
    assert res["clinics"]["outcome"] == "failed", res
    assert "cannot empty 'clinics'" in res["clinics"]["error"], res
    assert "and job 'doctors' cannot empty it" in res["clinics"]["error"], res
    assert (count(tgt, "clinics"), count(tgt, "doctors")) == before
    assert rows(tgt, "SELECT count(*) AS n FROM doctors WHERE c_id NOT IN"
                " (SELECT id FROM clinics)") == [{"n": 0}]


def test_a_job_after_a_failed_one_says_what_to_run(tmp_path, lite):
    """New-user trial: after doctors failed ("nothing was emptied"), `sync
    plan appts` was skipped for good with no way out, and the summary's
    hint named doctors alone where its refusal asks for its predecessor
    too.  The skip and the hint name the jobs to run together; that command
    runs once the cause is repaired."""
    tgt = target_of(type("E", (), {"kind": "sqlite"})(), tmp_path, lite)
    p = clinic_chain(tmp_path, lite, tgt)
    r = golive("run", "start", p)
    assert r.rc == 0, r
    # never ran in this run: refused, the hint names what the refusal asks
    r, res = run_json(p, "doctors")
    assert r.rc == 3, r
    assert "golive sync PLAN clinics doctors" in res["doctors"]["error"], res
    assert "run again: golive sync %s clinics doctors\n" % p in r.err, r
    r, res = run_json(p)
    assert r.rc == 0, r
    r, res = run_json(p, "clinics", "doctors")
    assert r.rc == 1, r
    assert "run again: golive sync %s clinics doctors\n" % p in r.err, r
    r, res = run_json(p, "appts")
    assert r.rc == 1, r
    err = res["appts"]["error"]
    assert err.startswith("skipped: it comes after 'doctors', which did not "
                          "end ok in its latest execution"), err
    assert "once repaired, sync them together: golive sync PLAN clinics " \
        "doctors appts" in err, err
    assert "run again: golive sync %s clinics doctors appts\n" % p in r.err, r
    # repaired (the appointments doctors' emptying would break go first):
    # the command named runs
    tgt.sql("DELETE FROM appointments")
    r, res = run_json(p, "clinics", "doctors", "appts")
    assert r.rc == 0, r
    assert [res[j]["outcome"] for j in ("clinics", "doctors", "appts")] == \
        ["ok"] * 3
