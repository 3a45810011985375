"""`golive defect comment ID TEXT --as PERSON` and `golive defect show ID`:
anyone of the plan says what they tried on a defect; a comment is a
defect.comment event projected into defect_comments, shown with its
defect."""
import json
import sqlite3

from conftest import golive

NIGHT = "2026-03-13T20:00:00+08:00"


def run(st, *args, now=NIGHT):
    return golive(*args, "--state", st, env={"GOLIVE_NOW": now})


def start(tmp_path, good_plan):
    st = tmp_path / "golive.state"
    assert run(st, "run", "start", good_plan, "--as", "lead").rc == 0
    r = run(st, "defect", "open", "--severity", "blocker", "--title",
            "approvals lose their reason", "--scenario", "S-1", "--as", "ann")
    assert r.rc == 0 and r.out == "D-1\n", r
    r = run(st, "defect", "open", "--severity", "minor", "--title", "typo",
            "--as", "ann")
    assert r.rc == 0, r
    return st


def test_anyone_of_the_plan_comments_and_show_lists_them(tmp_path,
                                                         good_plan):
    st = start(tmp_path, good_plan)
    odd = "tried 'R-7'; DROP TABLE defects; -- \"quoted\" 审批"
    r = run(st, "defect", "comment", "D-1", "record R-42 shows no reason",
            "--as", "bob")
    assert r.rc == 0 and r.out == "D-1: comment 1 (bob)\n", r
    r = run(st, "defect", "comment", "2", "seen on the login page too",
            "--as", "lead", "--json", now="2026-03-13T20:05:00+08:00")
    assert r.rc == 0 and json.loads(r.out) == {"n": 2, "comment": 2,
                                               "as": "lead"}, r
    # in any state: a fixed defect takes comments too
    assert run(st, "defect", "fixing", "D-1", "--as", "bob").rc == 0
    assert run(st, "defect", "fixed", "D-1", "--as", "bob").rc == 0
    r = run(st, "defect", "comment", "D-1", odd, "--as", "ann",
            now="2026-03-13T20:10:00+08:00")
    assert r.rc == 0 and r.out == "D-1: comment 3 (ann)\n", r
    r = run(st, "defect", "show", "D-1", "--json")
    assert r.rc == 0, r
    d = json.loads(r.out)
    assert d["id"] == "D-1" and d["state"] == "fixed"
    assert d["severity"] == "blocker" and d["scenario"] == "S-1"
    assert d["comments"] == [
        {"n": 1, "at": "2026-03-13T20:00:00+08:00", "actor": "bob",
         "text": "record R-42 shows no reason"},
        {"n": 3, "at": "2026-03-13T20:10:00+08:00", "actor": "ann",
         "text": odd}]
    # the same defect as the list shows it, plus its comments
    listed = [x for x in json.loads(run(st, "defect", "list", "--json").out)
              if x["id"] == "D-1"][0]
    del d["comments"]
    assert d == listed
    r = run(st, "defect", "show", "D-1")
    assert r.rc == 0, r
    assert r.out.startswith("D-1 blocker fixed: approvals lose their reason\n")
    assert "2026-03-13T20:00:00+08:00 bob: record R-42 shows no reason\n" \
        in r.out
    assert "2026-03-13T20:10:00+08:00 ann: %s\n" % odd in r.out
    r = run(st, "defect", "show", "D-2")
    assert "lead: seen on the login page too" in r.out, r
    db = sqlite3.connect(st)
    ev = db.execute("SELECT actor, payload FROM events WHERE kind ="
                    " 'defect.comment' ORDER BY seq").fetchall()
    assert [a for a, _ in ev] == ["bob", "lead", "ann"]
    p = json.loads(ev[2][1])
    assert (p["defect"], p["comment"], p["text"]) == (1, 3, odd)
    assert db.execute("SELECT count(*) FROM defects").fetchone() == (2,)
    db.close()
    assert run(st, "audit", "verify").rc == 0


def test_refusals(tmp_path, good_plan):
    st = start(tmp_path, good_plan)
    r = run(st, "defect", "comment", "D-1", "x", "--as", "mallory")
    assert r.rc == 3 and "'mallory' is not a person of the plan" in r.err, r
    r = run(st, "defect", "comment", "D-9", "x", "--as", "ann")
    assert r.rc == 2 and "no defect D-9" in r.err, r
    r = run(st, "defect", "comment", "D-1", "", "--as", "ann")
    assert r.rc == 2 and "a comment needs its text" in r.err, r
    r = run(st, "defect", "comment", "D-1", "x" * 4001, "--as", "ann")
    assert r.rc == 2 and "at most 4000 bytes" in r.err, r
    r = run(st, "defect", "comment", "D-1", "--as", "ann")
    assert r.rc == 2, r
    r = run(st, "defect", "show", "D-9")
    assert r.rc == 2 and "no defect D-9" in r.err, r
    r = run(st, "defect", "show", "D-1")
    assert r.rc == 0 and "no comments" in r.out, r
    db = sqlite3.connect(st)
    assert db.execute("SELECT count(*) FROM events WHERE kind ="
                      " 'defect.comment'").fetchone() == (0,)


def test_an_edited_comment_is_caught_by_audit_verify(tmp_path, good_plan):
    st = start(tmp_path, good_plan)
    assert run(st, "defect", "comment", "D-1", "R-42 has no reason", "--as",
               "bob").rc == 0
    assert run(st, "audit", "verify").rc == 0
    for sql, what in (
            ("UPDATE defect_comments SET text = 'all fine'", "column text"),
            ("UPDATE defect_comments SET actor = 'lead'", "column actor"),
            ("UPDATE defect_comments SET defect = 2", "column defect"),
            ("DELETE FROM defect_comments", "table defect_comments")):
        copy = tmp_path / "e.state"
        src, dst = sqlite3.connect(st), sqlite3.connect(copy)
        src.backup(dst)
        src.close()
        dst.execute(sql)
        dst.commit()
        dst.close()
        r = run(copy, "audit", "verify")
        assert r.rc == 1 and "table defect_comments" in r.err, (sql, r)
        assert what in r.err, (sql, r.err)
        copy.unlink()
