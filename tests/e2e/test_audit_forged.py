"""Forged rows and a forged plan copy: commands that open the run check the
store's copy of the plan against its event, decide runs the full audit,
commands check the rows they act on (dependencies, handed-over items, the
scenario handed out); triggers and views planted in the store do not run
and the audit names them; a read of an empty file leaves it as it was."""
import hashlib
import os
import shutil
import sqlite3

import pytest

from conftest import golive

HERE = os.path.dirname(os.path.abspath(__file__))
NOW = "2026-03-13T18:00:00+08:00"


def sql(state, q, args=()):
    db = sqlite3.connect(state)
    try:
        rows = db.execute(q, args).fetchall()
        db.commit()
        return rows
    finally:
        db.close()


@pytest.fixture
def night(tmp_path):
    plan = tmp_path / "plan.yaml"
    shutil.copy(os.path.join(HERE, "night.yaml"), plan)
    r = golive("run", "start", plan, env={"GOLIVE_NOW": NOW})
    assert r.rc == 0, r
    return tmp_path / "golive.state"


def g(st, *args):
    return golive(*args, "--state", st, env={"GOLIVE_NOW": NOW})


def verify(st):
    return golive("audit", "verify", "--state", st)


def test_a_plan_copy_edited_in_the_store_is_refused_by_every_command(night):
    st = night
    (text, sha) = sql(st, "SELECT text, sha256 FROM plan_versions")[0]
    forged = text.replace("{id: bob, roles: [ops]}",
                          "{id: bob, roles: [ops, lead]}")
    assert forged != text
    for own_sha in (sha, hashlib.sha256(forged.encode()).hexdigest()):
        # then the row's own SHA-256 edited too: the event still says
        sql(st, "UPDATE plan_versions SET text = ?, sha256 = ?",
            (forged, own_sha))
        for args in (("decide", "go", "--as", "bob", "--note", "x"),
                     ("task", "start", "freeze", "--as", "bob", "--force"),
                     ("defect", "open", "--severity", "minor", "--title",
                      "x", "--as", "bob"),
                     ("status",), ("gate",), ("report",),
                     ("scenario", "next", "--as", "chen"),
                     ("handover", "--as", "bob", "--to", "zhou")):
            r = g(st, *args)
            assert r.rc == 2, (args, r)
            assert "the store's copy of the plan does not match its event" \
                in r.err, (args, r)
            assert "'golive audit verify' lists every difference" in r.err
        assert sql(st, "SELECT count(*) FROM events") == [(1,)]
        assert verify(st).rc == 1
        sql(st, "UPDATE plan_versions SET text = ?, sha256 = ?", (text, sha))
    assert g(st, "status").rc == 0
    r = g(st, "decide", "go", "--as", "bob", "--note", "x")
    assert r.rc == 3, r
    assert verify(st).rc == 0


def test_decide_refuses_a_store_that_does_not_verify(night):
    st = night
    assert g(st, "defect", "open", "--severity", "blocker", "--title", "x",
             "--as", "chen").rc == 0
    saved = {t: sql(st, "SELECT * FROM %s" % t)
             for t in ("tasks", "defects", "scenarios")}
    sql(st, "UPDATE tasks SET state = 'checked'")
    sql(st, "UPDATE defects SET state = 'verified'")
    sql(st, "UPDATE scenarios SET state = 'passed'")
    assert g(st, "gate").rc == 0  # a read: the forged rows pass
    events = sql(st, "SELECT count(*) FROM events")
    r = g(st, "decide", "go", "--as", "lead", "--note", "all green")
    assert r.rc == 2, r
    assert "the go decision is not recorded: the store does not verify" \
        in r.err and "column state" in r.err, r
    assert "'golive audit verify' lists every difference" in r.err
    assert sql(st, "SELECT count(*) FROM events") == events
    assert sql(st, "SELECT count(*) FROM decisions") == [(0,)]
    # no-go and hold too: nothing is recorded on a store that lies
    assert g(st, "decide", "hold", "--as", "lead", "--note", "h").rc == 2
    for t, rows in saved.items():
        sql(st, "DELETE FROM %s" % t)
        for row in rows:
            sql(st, "INSERT INTO %s VALUES (%s)" %
                (t, ",".join("?" * len(row))), row)
    assert verify(st).rc == 0
    assert g(st, "decide", "hold", "--as", "lead", "--note", "h").rc == 0
    assert sql(st, "SELECT decision FROM decisions") == [("hold",)]


def test_task_start_checks_its_dependencies_rows(night):
    st = night
    sql(st, "UPDATE tasks SET state = 'checked' WHERE id = 'freeze'")
    r = g(st, "task", "start", "load", "--as", "ann")
    assert r.rc == 2, r
    assert "the store's row of task 'freeze' does not agree with its " \
        "events" in r.err and "column state" in r.err, r
    assert sql(st, "SELECT state FROM tasks WHERE id = 'load'") == \
        [("pending",)]
    sql(st, "UPDATE tasks SET state = 'pending' WHERE id = 'freeze'")
    r = g(st, "task", "start", "load", "--as", "ann")
    assert r.rc == 3 and "waits for 'freeze'" in r.err, r
    assert verify(st).rc == 0


def test_handover_checks_the_rows_of_what_it_moves(night):
    st = night
    sql(st, "UPDATE tasks SET owner = 'wu' WHERE id = 'freeze'")
    for pick in (("--task", "freeze"), ()):
        r = g(st, "handover", "--as", "wu", "--to", "liu", *pick)
        assert r.rc == 2, (pick, r)
        assert "the store's row of task 'freeze' does not agree" in r.err
    assert sql(st, "SELECT owner FROM tasks WHERE id = 'freeze'") == \
        [("wu",)]
    sql(st, "UPDATE tasks SET owner = 'bob' WHERE id = 'freeze'")
    # a scenario and a defect held only in a forged row
    assert g(st, "defect", "open", "--severity", "major", "--title", "x",
             "--as", "chen").rc == 0
    sql(st, "UPDATE defects SET state = 'fixing', fixer = 'wu'")
    r = g(st, "handover", "--as", "wu", "--to", "liu", "--defect", "D-1")
    assert r.rc == 2 and "the store's row of defect D-1" in r.err, r
    sql(st, "UPDATE defects SET state = 'open', fixer = NULL")
    sql(st, "UPDATE scenarios SET state = 'running', taken_by = 'wu' "
        "WHERE id = 'S-1'")
    r = g(st, "handover", "--as", "wu", "--to", "chen", "--scenario", "S-1")
    assert r.rc == 2 and "the store's row of scenario 'S-1'" in r.err, r
    sql(st, "UPDATE scenarios SET state = 'pending', taken_by = NULL "
        "WHERE id = 'S-1'")
    assert verify(st).rc == 0
    assert g(st, "handover", "--as", "bob", "--to", "zhou", "--task",
             "freeze").rc == 0
    assert verify(st).rc == 0


def test_scenario_next_checks_the_row_it_hands_out(night):
    st = night
    sql(st, "UPDATE scenarios SET assignee = 'chen' WHERE id = 'S-1'")
    r = g(st, "scenario", "next", "--as", "chen")
    assert r.rc == 2, r
    assert "the store's row of scenario 'S-1' does not agree" in r.err, r
    assert sql(st, "SELECT state FROM scenarios WHERE id = 'S-1'") == \
        [("pending",)]
    sql(st, "UPDATE scenarios SET assignee = NULL WHERE id = 'S-1'")
    assert g(st, "scenario", "next", "--as", "chen").rc == 0
    assert verify(st).rc == 0


def test_a_trigger_planted_in_the_store_does_not_run_and_is_named(night):
    st = night
    sql(st, "CREATE TRIGGER green AFTER INSERT ON audit_cache BEGIN"
        " UPDATE audit_cache SET ok = 1, problem = NULL; END")
    sql(st, "CREATE TRIGGER green2 AFTER UPDATE ON audit_cache"
        " WHEN NEW.ok = 0 BEGIN UPDATE audit_cache SET ok = 1; END")
    sql(st, "CREATE VIEW v AS SELECT * FROM tasks")
    sql(st, "CREATE INDEX i ON tasks (owner)")
    r = verify(st)
    assert r.rc == 1, r
    for what in ("trigger green is in the store, but no migration",
                 "trigger green2 is in the store", "view v is in the store",
                 "index i is in the store"):
        assert what in r.out + r.err, (what, r)
    s = g(st, "status")
    assert "THE STORE DOES NOT VERIFY" in s.out, s
    assert sql(st, "SELECT ok FROM audit_cache") == [(0,)]
    sql(st, "DROP TRIGGER green")
    sql(st, "DROP TRIGGER green2")
    sql(st, "DROP VIEW v")
    sql(st, "DROP INDEX i")
    assert verify(st).rc == 0
    # an object golive makes, made differently
    (tsql,) = sql(st, "SELECT sql FROM sqlite_master WHERE name = 'tasks'")[0]
    db = sqlite3.connect(st)
    db.execute("PRAGMA writable_schema = ON")
    db.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'tasks'",
               (tsql + " ",))
    db.commit()
    db.close()
    r = verify(st)
    assert r.rc == 1 and "table tasks in the store is not as golive's " \
        "migrations make it" in r.out + r.err, r


def test_a_read_of_an_empty_file_leaves_it_as_it_was(tmp_path):
    def files():
        return sorted((p.name, p.stat().st_size, p.stat().st_mode)
                      for p in tmp_path.iterdir())
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    os.chmod(empty, 0o644)
    tableless = tmp_path / "tableless.db"
    sqlite3.connect(tableless).execute("PRAGMA user_version").fetchall()
    assert tableless.exists()
    db = sqlite3.connect(tableless)  # an SQLite file with no table
    db.execute("CREATE TABLE t (x)")
    db.execute("DROP TABLE t")
    db.commit()
    db.close()
    before = files()
    blobs = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for st in (empty, tableless):
        for args in (("status",), ("gate",), ("report",),
                     ("task", "start", "freeze", "--as", "bob"),
                     ("decide", "hold", "--as", "lead", "--note", "x"),
                     ("audit", "verify"), ("audit", "head")):
            r = golive(*args, "--state", st)
            # byte for byte, mode and all, no -wal or -shm beside it
            assert files() == before, (st, args, r)
            assert {p.name: p.read_bytes()
                    for p in tmp_path.iterdir()} == blobs
            assert r.rc == 2, (st, args, r)
            assert "holds no golive run" in r.err, (st, args, r)
    # run start makes its store of an empty file
    plan = tmp_path / "plan.yaml"
    shutil.copy(os.path.join(HERE, "night.yaml"), plan)
    r = golive("run", "start", plan, "--state", empty)
    assert r.rc == 0, r
    assert golive("status", "--state", empty).rc == 0
