"""`golive check`: count (naming the rows), aggregate, diff with the
job's mapping applied, sql; results in the run; the demo's defects."""
import json
import sqlite3
import textwrap

import pytest

from conftest import golive

PLAN = """
cutover: check-test
switch_at: 2026-03-14T00:00:00+08:00
people:
  - {id: lead, roles: [lead]}
  - {id: ann, roles: [data]}
  - {id: bob, roles: [tester]}
systems:
  old: "%s"
  new: "%s"
sync:
  - id: j
    from: old.src
    to: new.tgt
    key: [id]
    where: "gone = 0"
    columns:
      id: sid
      label: name
      status: {from: code, map: {A: active, D: done}}
      origin: {value: legacy}
      note: {from: note, default: none}
    ignore: [gone]
    owner: ann
    checker: bob
checks:
  - {id: c-count, type: count, job: j}
  - {id: c-all, type: count, job: j, source_where: "1 = 1"}
  - {id: c-loose, type: count, job: j, source_where: "1 = 1", tolerance: 1}
  - {id: c-agg, type: aggregate, job: j, columns: [amount, status],
     aggregates: [sum, min, max, nulls, distinct]}
  - {id: c-rows, type: diff, job: j}
  - {id: c-sql, type: sql, system: new, sql: "SELECT count(*) FROM tgt WHERE status = 'active'", expect: "2"}
  - {id: c-cmp, type: sql, system: new, sql: "SELECT 41 + 1", compare: old}
"""

TARGET = {
    "sqlite": "CREATE TABLE tgt (id INTEGER PRIMARY KEY, label TEXT, status TEXT,"
              " origin TEXT, note TEXT, amount NUMERIC(10,2))",
    "postgres": "CREATE TABLE tgt (id int PRIMARY KEY, label text, status text,"
                " origin text, note text, amount numeric(10,2))",
    "mariadb": "CREATE TABLE tgt (id int PRIMARY KEY, label text, status text,"
               " origin text, note text, amount decimal(10,2))",
}


def prepare(tmp_path, lite, engine):
    lite.sql("CREATE TABLE src (sid INTEGER PRIMARY KEY, name TEXT, code TEXT,"
             " note TEXT, amount NUMERIC(10,2), gone INTEGER);"
             "INSERT INTO src VALUES (1,'a','A',NULL,'1.50',0),(2,'b','D','n','2.25',0),"
             "(3,'c','A','m','3.00',0),(4,'d','A','x','4.00',1)")
    if engine.kind == "sqlite":
        t = tmp_path / "new.db"
        c = sqlite3.connect(t)
        c.execute(TARGET["sqlite"])
        c.close()
        url = "sqlite:%s" % t

        def run(q):
            c = sqlite3.connect(t)
            c.executescript(q)
            c.commit()
            c.close()
        target_sql = run
    else:
        engine.sql(TARGET[engine.kind])
        url, target_sql = engine.url, engine.sql
    p = tmp_path / "plan.yaml"
    p.write_text(textwrap.dedent(PLAN).lstrip() % (lite.url, url))
    assert golive("validate", p).rc == 0
    r = golive("sync", p, env=engine.env)
    assert r.rc == 0, r
    return p, target_sql


def results(r):
    return {c["check"]: c for c in json.loads(r.out)["checks"]}


def test_checks_after_a_correct_sync(tmp_path, lite, engine):
    p, _ = prepare(tmp_path, lite, engine)
    r = golive("check", p, "--json", env=engine.env)
    got = results(r)
    assert r.rc == 1  # c-all fails on purpose: the job skips a row
    assert got["c-count"]["outcome"] == "passed"
    assert (got["c-count"]["source"], got["c-count"]["target"]) == (3, 3)
    # renamed columns, value maps, constants and defaults compare correctly
    assert got["c-rows"]["outcome"] == "passed", got["c-rows"]
    assert got["c-agg"]["outcome"] == "passed", got["c-agg"]
    assert got["c-sql"]["outcome"] == "passed"
    assert got["c-cmp"]["outcome"] == "passed"
    # the count that says every row must arrive names the one that did not
    assert got["c-all"]["outcome"] == "failed"
    assert got["c-all"]["samples"] == ['missing {"id":4}']
    assert got["c-loose"]["outcome"] == "passed"  # within tolerance 1


def test_checks_find_what_changed_in_the_target(tmp_path, lite, engine):
    p, target_sql = prepare(tmp_path, lite, engine)
    target_sql("UPDATE tgt SET note = NULL WHERE id = 2;"
               "UPDATE tgt SET amount = 9 WHERE id = 3;"
               "DELETE FROM tgt WHERE id = 1;"
               "INSERT INTO tgt VALUES (7, 'x', 'active', 'legacy', 'n', 1)")
    r = golive("check", p, "c-rows", "c-agg", "c-sql", "--json", env=engine.env)
    assert r.rc == 1
    got = results(r)
    rows = got["c-rows"]
    assert rows["outcome"] == "failed"
    assert (rows["missing"], rows["extra"], rows["changed"]) == (1, 1, 2)
    assert sorted(rows["samples"]) == sorted([
        'missing {"id":1}', 'changed {"id":2} columns: note',
        'changed {"id":3} columns: amount', 'extra {"id":7}'])
    # cut into key-range segments, the diff check finds the same rows
    r = golive("check", p, "c-rows", "--jobs", "3", "--json", env=engine.env)
    assert r.rc == 1, r
    seg = results(r)["c-rows"]
    assert (seg["missing"], seg["extra"], seg["changed"]) == (1, 1, 2)
    assert sorted(seg["samples"]) == sorted(rows["samples"])
    r = golive("check", p, "c-rows", "--jobs", "3abc", env=engine.env)
    assert r.rc == 2 and "--jobs" in r.err, r
    agg = got["c-agg"]["message"]
    assert agg.startswith("sum(amount): source 6.75, target ")
    assert "min(amount)" in agg and "max(amount)" in agg
    assert got["c-sql"]["outcome"] == "passed"  # 2 active: 3 and 7


def test_results_are_recorded(tmp_path, lite, engine):
    p, _ = prepare(tmp_path, lite, engine)
    assert golive("run", "start", p).rc == 0
    r = golive("check", p, "c-count", "c-sql", "--as", "bob", env=engine.env)
    assert r.rc == 0, r
    assert "c-count" in r.out and "passed" in r.out
    db = sqlite3.connect(tmp_path / "golive.state")
    ev = db.execute("SELECT kind, actor, payload FROM events WHERE kind ="
                    " 'check.run' ORDER BY seq").fetchall()
    assert [(k, a, json.loads(pl)["check"], json.loads(pl)["outcome"])
            for k, a, pl in ev] == [("check.run", "bob", "c-count", "passed"),
                                    ("check.run", "bob", "c-sql", "passed")]
    assert golive("audit", "verify", "--state", tmp_path / "golive.state").rc == 0


def test_the_recorded_result_is_the_json_one(tmp_path, lite, engine):
    # one library call runs a check, records it and gives it back: the
    # check.run event's payload is the --json result, samples, a failure's
    # counts and an error's reason alike
    p, _ = prepare(tmp_path, lite, engine)
    assert golive("run", "start", p).rc == 0
    r = golive("check", p, "--json", "--as", "bob", env=engine.env)
    assert r.rc in (1, 2), r
    shown = json.loads(r.out)["checks"]
    db = sqlite3.connect(tmp_path / "golive.state")
    recorded = [json.loads(pl) for (pl,) in db.execute(
        "SELECT payload FROM events WHERE kind = 'check.run' ORDER BY seq")]
    assert recorded == shown
    assert {c["outcome"] for c in shown} >= {"passed", "failed"}


def test_unknown_check_and_errors(tmp_path, lite):
    lite.kind = "sqlite"
    p, _ = prepare(tmp_path, lite, lite)
    r = golive("check", p, "nope")
    assert r.rc == 2 and "no check 'nope'" in r.err
    p.write_text(p.read_text().replace('SELECT 41 + 1', 'SELECT * FROM nowhere'))
    r = golive("check", p, "c-cmp", "--json")
    assert r.rc == 2
    assert results(r)["c-cmp"]["outcome"] == "error"


def test_demo_checks_name_the_planted_defects(tmp_path):
    d = tmp_path / "demo"
    r = golive("demo", "--dir", d, "--rows", "4000")
    assert r.rc == 0, r
    assert "golive check" in r.out
    r = golive("check", d / "plan.yaml", "--json", "--samples", "1000")
    assert r.rc == 1
    got = results(r)
    old = sqlite3.connect(d / "old.db")
    archived = old.execute("SELECT count(*) FROM t_expense_apply WHERE"
                           " is_deleted = 0 AND is_archived = 1").fetchone()[0]
    unmapped = old.execute("SELECT count(*) FROM t_expense_apply WHERE"
                           " is_deleted = 0 AND status_code = '15'").fetchone()[0]
    # the job skips archived claims, the count says they must arrive
    assert got["expenses-count"]["outcome"] == "failed"
    assert got["expenses-count"]["missing"] == archived + unmapped
    # rejection reasons the new system dropped: changed rows, named
    rows = got["expenses-rows"]
    dropped = old.execute("SELECT count(*) FROM t_expense_apply WHERE"
                          " is_deleted = 0 AND is_archived = 0 AND status_code"
                          " = '90' AND reject_reason GLOB '*[^ -~]*'").fetchone()[0]
    assert rows["changed"] == dropped > 0
    assert all(s.endswith("columns: rejection_reason")
               for s in rows["samples"] if s.startswith("changed"))
    for ok in ("departments-count", "employees-count", "leaves-count",
               "approvals-count"):
        assert got[ok]["outcome"] == "passed", got[ok]


# ---- the gate: a check older than its job's latest execution is stale ----

def test_gate_counts_a_check_older_than_its_jobs_execution_as_stale(
        tmp_path, lite):
    """c-count passed, then job j ran again: the gate does not take the
    old pass (stale, naming the job and when it ran) and status names it a
    blocker; checked again, the gate passes."""
    lite.sql("CREATE TABLE src (sid INTEGER PRIMARY KEY, name TEXT, code TEXT,"
             " note TEXT, amount NUMERIC(10,2), gone INTEGER);"
             "INSERT INTO src VALUES (1,'a','A',NULL,'1.50',0)")
    t = tmp_path / "new.db"
    c = sqlite3.connect(t)
    c.execute(TARGET["sqlite"])
    c.close()
    p = tmp_path / "plan.yaml"
    p.write_text(textwrap.dedent(PLAN).lstrip() % (lite.url, "sqlite:%s" % t)
                 + "gates:\n  go:\n    - checks_passed: [c-count]\n")
    st = tmp_path / "golive.state"
    assert golive("run", "start", p).rc == 0
    assert golive("sync", p).rc == 0
    assert golive("check", p, "c-count").rc == 0
    r = golive("gate", "--state", st, "--json")
    assert r.rc == 0, r
    assert json.loads(r.out)["rules"][0]["detail"] == "all 1 passed"
    # the job runs again (the old system moved on): the pass is stale
    lite.sql("INSERT INTO src VALUES (2,'b','A',NULL,'2.00',0)")
    assert golive("sync", p).rc == 0
    db = sqlite3.connect(st)
    ended = db.execute("SELECT ended_at FROM sync_runs ORDER BY event_seq"
                       " DESC LIMIT 1").fetchone()[0]
    db.close()
    r = golive("gate", "--state", st, "--json")
    assert r.rc == 1, r
    rule = json.loads(r.out)["rules"][0]
    assert not rule["passed"]
    assert rule["detail"] == (
        "check 'c-count' passed before job 'j' ran again at %s: run it "
        "again" % ended), rule
    assert "run it again" in golive("gate", "--state", st).out
    # the API's checks say so
    from serving import Server, issue_token
    tok = issue_token(st, "ann")
    with Server(st) as srv:
        got = {c["check"]: c for c in
               srv.call("GET", "/api/v1/checks", tok)[2]["checks"]}
    assert got["c-count"]["outcome"] == "passed"
    assert got["c-count"]["stale"] == (
        "passed before job 'j' ran again at %s: run it again" % ended)
    # status names it among the blockers, as the gate does
    r = golive("status", "--state", st, "--json")
    assert r.rc == 0, r
    assert {"kind": "check", "id": "c-count", "detail":
            "check stale: passed before job 'j' ran again at %s: run it "
            "again" % ended} in json.loads(r.out)["blockers"], r.out
    # checked again: fresh
    assert golive("check", p, "c-count").rc == 0
    r = golive("gate", "--state", st, "--json")
    assert r.rc == 0, r
    r = golive("status", "--state", st, "--json")
    assert not [b for b in json.loads(r.out)["blockers"]
                if b["kind"] == "check"], r.out
    assert golive("audit", "verify", "--state", st).rc == 0


def test_diff_check_samples_in_key_order_with_jobs(tmp_path, lite):
    """check --jobs 4: the samples are the first differing keys, the same
    every run (segments report in key order)."""
    lite.sql("CREATE TABLE src (sid INTEGER PRIMARY KEY, name TEXT, code TEXT,"
             " note TEXT, amount NUMERIC(10,2), gone INTEGER);"
             "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s"
             " WHERE x < 2000) INSERT INTO src SELECT x, 'n' || x, 'A', 'x',"
             " x, 0 FROM s")
    t = tmp_path / "new.db"
    c = sqlite3.connect(t)
    c.execute(TARGET["sqlite"])
    c.close()
    p = tmp_path / "plan.yaml"
    p.write_text(textwrap.dedent(PLAN).lstrip() % (lite.url, "sqlite:%s" % t))
    assert golive("sync", p).rc == 0
    c = sqlite3.connect(t)
    c.executescript("UPDATE tgt SET note = 'y' WHERE id % 7 = 0 AND id > 400;"
                    "DELETE FROM tgt WHERE id % 11 = 0 AND id > 300;")
    c.close()
    want = ['missing {"id":308}', 'missing {"id":319}',
            'missing {"id":330}', 'missing {"id":341}',
            'missing {"id":352}']
    for run in range(4):
        r = golive("check", p, "c-rows", "--jobs", "4", "--samples", "5",
                   "--json")
        assert r.rc == 1, r
        assert results(r)["c-rows"]["samples"] == want, r
