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
