"""`golive audit`: every table of the store is a projection of the events.
`audit verify` replays the events into a fresh store and compares it with
every table, row by row and column by column; `audit head` and
`verify --head` catch a log cut off at the end; commands that change a task
or a defect refuse a row its events did not make; status and the report
say when the store does not verify."""
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time

import pytest

from conftest import BIN, golive

HERE = os.path.dirname(os.path.abspath(__file__))
# the log itself; a cache (plan_trees, a cache too, is checked against the
# plan's text by verify, so it stays in the loops below); a running sync's
# progress so far (its end event holds its figures)
NOT_PROJECTIONS = {"events", "audit_cache", "sync_progress"}
# projections the demo's night leaves empty: browser sessions are opened by
# `golive serve` only (tests/unit/test-token.c edits them)
EMPTY_IN_DEMO = {"sessions"}


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    """The demo's whole rehearsal night: syncs, checks, defects, scenarios,
    a no-go decision, the rollback, the duty log."""
    d = tmp_path_factory.mktemp("audit") / "demo"
    r = golive("demo", "--dir", d, "--rows", "300")
    assert r.rc == 0, r
    return d / "golive.state"


def copy(src, dst):
    shutil.copy(src, dst)
    for ext in ("-wal", "-shm"):
        if os.path.exists(str(src) + ext):
            shutil.copy(str(src) + ext, str(dst) + ext)
    return dst


def sql(state, q, args=()):
    db = sqlite3.connect(state)
    try:
        rows = db.execute(q, args).fetchall()
        db.commit()
        return rows
    finally:
        db.close()


def verify(state, *more):
    return golive("audit", "verify", "--state", state, *more)


def test_the_demo_night_untouched_verifies(demo_store, tmp_path):
    st = copy(demo_store, tmp_path / "s.state")
    r = verify(st)
    assert r.rc == 0, r
    assert "every table matches the events" in r.out
    # the demo replays its night with GOLIVE_NOW: the audit says so
    assert re.search(r"of \d+ events were written with GOLIVE_NOW", r.err)
    j = json.loads(verify(st, "--json").out)
    assert j["ok"] is True and j["problems"] == []
    (n,) = sql(st, "SELECT max(seq) FROM events")[0]
    assert j["events"] == n and j["head"].startswith("%d:" % n)


def edited(v, decl, pk):
    if v is None:
        return 1 if re.search("INT|REAL", decl or "", re.I) else "edited"
    if isinstance(v, int):
        return v + (1000 if pk else 1)
    if isinstance(v, float):
        return v + 0.5
    if isinstance(v, bytes):
        return v + b"x"
    return v + "x"


def event_hash(seq, at, actor, os_user, kind, payload, prev):
    r"""An event's hash, as the top of run/store-chain.c documents it (version 1):
    SHA-256 over "golive-event-v1\n", then each field as
    "<decimal length>:<bytes>\n" (length in bytes), in the order seq, at,
    actor, os_user, kind, payload, prev_hash."""
    h = hashlib.sha256(b"golive-event-v1\n")
    for field in (str(seq), at, actor, os_user, kind, payload, prev):
        b = field.encode("utf-8")
        h.update(b"%d:" % len(b) + b + b"\n")
    return h.hexdigest()


def test_every_event_hash_recomputed_from_the_documented_format(demo_store,
                                                                 tmp_path):
    """The hash of every event of a real night, recomputed here from the
    format as documented, equals the stored one, and each event chains to
    the one before: a change of the format (or of its documentation)
    cannot pass without this test changing too."""
    with open(os.path.join(HERE, "..", "..", "run", "store-chain.c")) as f:
        doc = f.read().split("*/", 1)[0]
    assert "Event hash (version 1)" in doc
    assert '"golive-event-v1\\n"' in doc
    assert '"<decimal length>:<bytes>\\n"' in doc
    assert "seq, at, actor, os_user, kind, payload, prev_hash." in " ".join(
        doc.replace("*", " ").split())
    st = copy(demo_store, tmp_path / "s.state")
    rows = sql(st, "SELECT seq, at, actor, os_user, kind, payload, prev_hash,"
                   " hash FROM events ORDER BY seq")
    assert len(rows) > 50
    # the night has events of many kinds
    assert len({r[4] for r in rows}) > 10
    prev = "0" * 64
    for seq, at, actor, os_user, kind, payload, prev_hash, stored in rows:
        assert prev_hash == prev, "event %d does not chain" % seq
        assert event_hash(seq, at, actor, os_user, kind, payload,
                          prev_hash) == stored, "event %d (%s)" % (seq, kind)
        prev = stored


def test_editing_any_column_of_any_row_of_any_table_is_named(demo_store,
                                                             tmp_path):
    """Tables from sqlite_master (so that tables added later are covered),
    every column, the first and the last row of each."""
    tables = [t for (t,) in sql(demo_store, "SELECT name FROM sqlite_master"
                                " WHERE type = 'table' AND name NOT LIKE"
                                " 'sqlite_%' ORDER BY name")
              if t not in NOT_PROJECTIONS]
    assert {"run", "tasks", "defects", "decisions", "sync_runs", "duty",
            "scenarios", "plan_versions"} <= set(tables)
    tried = 0
    for t in tables:
        cols = sql(demo_store, "SELECT name, type, pk FROM pragma_table_info(?)",
                   (t,))
        rowids = sql(demo_store, 'SELECT min(rowid), max(rowid) FROM "%s"' % t)[0]
        if t in EMPTY_IN_DEMO:
            continue
        assert rowids[0] is not None, "table %s has no row in the demo" % t
        for rowid in sorted(set(rowids)):
            for name, decl, pk in cols:
                st = copy(demo_store, tmp_path / "e.state")
                (v,) = sql(st, 'SELECT "%s" FROM "%s" WHERE rowid = ?'
                           % (name, t), (rowid,))[0]
                try:
                    sql(st, 'UPDATE "%s" SET "%s" = ? WHERE rowid = ?'
                        % (t, name), (edited(v, decl, pk), rowid))
                except sqlite3.IntegrityError:
                    assert (t, name) == ("run", "id")  # CHECK (id = 1)
                    continue
                r = verify(st)
                assert r.rc == 1, (t, name, rowid, r)
                assert "table %s" % t in r.err, (t, name, r.err)
                if not pk:  # an edited key is a row no event made
                    assert "column %s" % name in r.err, (t, name, r.err)
                tried += 1
    assert tried > 100


def test_what_the_reviewer_edited_is_caught(demo_store, tmp_path):
    """The edits of the issue: a blocker made minor, rejected rows set to
    0, a decision's note rewritten; a blocker set to verified, a failed
    task to checked, the decision to go."""
    st = copy(demo_store, tmp_path / "s.state")
    (n,) = sql(st, "SELECT min(n) FROM defects WHERE severity = 'blocker'")[0]
    (task,) = sql(st, "SELECT min(id) FROM tasks WHERE state = 'failed'")[0]
    (job,) = sql(st, "SELECT min(id) FROM sync_runs")[0]
    sql(st, "UPDATE defects SET severity = 'minor' WHERE n = ?", (n,))
    sql(st, "UPDATE sync_runs SET rows_rejected = rows_rejected + 7"
        " WHERE id = ?", (job,))
    sql(st, "UPDATE decisions SET note = 'all fine', decision = 'go'")
    sql(st, "UPDATE tasks SET state = 'checked' WHERE id = ?", (task,))
    r = verify(st)
    assert r.rc == 1
    for want in ("table defects, row n=%d, column severity: the store says"
                 " 'minor', the events say 'blocker'" % n,
                 "table sync_runs, row id=%d, column rows_rejected" % job,
                 "table decisions, row id=1, column note: the store says"
                 " 'all fine'",
                 "table decisions, row id=1, column decision: the store says"
                 " 'go', the events say 'no-go'",
                 "table tasks, row id='%s', column state: the store says"
                 " 'checked', the events say 'failed'" % task):
        assert want in r.err, (want, r.err)
    assert "does not verify: 5 problems" in r.out
    j = json.loads(verify(st, "--json").out)
    assert j["ok"] is False and len(j["problems"]) == 5
    sev = [p for p in j["problems"] if p.get("column") == "severity"][0]
    assert sev == {"table": "defects", "row": "n=%d" % n, "column": "severity",
                   "stored": "'minor'", "derived": "'blocker'",
                   "message": sev["message"]}
    # the report and status say so
    rep = json.loads(golive("report", "--format", "json", "--state", st).out)
    assert rep["audit"]["verified"] is False
    assert "(and 4 more)" in rep["audit"]["detail"]
    assert "severity" in [p.get("column") for p in rep["audit"]["problems"]]
    md = golive("report", "--state", st).out
    assert "THE STORE DOES NOT VERIFY" in md
    s = golive("status", "--state", st)
    assert s.rc == 0 and "THE STORE DOES NOT VERIFY" in s.out, s
    s = json.loads(golive("status", "--json", "--state", st).out)
    assert s["audit"]["verified"] is False


def test_a_cut_tail_is_caught_against_the_head_written_down(demo_store,
                                                            tmp_path):
    st = copy(demo_store, tmp_path / "s.state")
    head = golive("audit", "head", "--state", st)
    assert head.rc == 0
    (n, h) = sql(st, "SELECT seq, hash FROM events ORDER BY seq DESC"
                 " LIMIT 1")[0]
    assert head.out.strip() == "%d:%s" % (n, h)
    assert verify(st, "--head", head.out.strip()).rc == 0
    assert verify(st, "--head", "%d:%s" % (n, h[:16])).rc == 0
    # the no-go and the whole rollback cut off the end
    sql(st, "DELETE FROM events WHERE seq > ?", (n - 13,))
    r = verify(st, "--head", head.out.strip())
    assert r.rc == 1
    assert ("event %d of the head written down is missing: the log ends at"
            " event %d; it was cut" % (n, n - 13)) in r.err
    # the tables still hold what the cut events did
    assert "table decisions, row id=1: in the store, but no event made it" \
        in r.err
    r = verify(st, "--head", "%d:%s" % (n - 13, "0" * 64))
    assert r.rc == 1 and "the log was rewritten" in r.err
    r = verify(st, "--head", "13")
    assert r.rc == 2 and "N:HASH" in r.err


def test_a_store_copied_before_the_end_verifies_only_without_the_head(
        tmp_path):
    """A consistent older copy (events and tables cut together) cannot be
    told from inside; the head written down tells it."""
    plan = tmp_path / "plan.yaml"
    shutil.copy(os.path.join(HERE, "night.yaml"), plan)
    st = tmp_path / "golive.state"
    now = {"GOLIVE_NOW": "2026-03-13T18:00:00+08:00"}
    assert golive("run", "start", plan, env=now).rc == 0
    assert golive("task", "start", "freeze", "--as", "bob", "--state", st,
                  env=now).rc == 0
    old = copy(st, tmp_path / "old.state")
    assert golive("task", "done", "freeze", "--as", "bob", "--state", st,
                  env=now).rc == 0
    assert golive("decide", "no-go", "--as", "lead", "--note", "no",
                  "--state", st, env=now).rc == 0
    head = golive("audit", "head", "--state", st).out.strip()
    assert head.startswith("4:")
    assert verify(old).rc == 0
    r = verify(old, "--head", head)
    assert r.rc == 1 and "event 4 of the head written down is missing" in r.err


@pytest.fixture
def night(tmp_path):
    plan = tmp_path / "plan.yaml"
    shutil.copy(os.path.join(HERE, "night.yaml"), plan)
    r = golive("run", "start", plan,
               env={"GOLIVE_NOW": "2026-03-13T18:00:00+08:00"})
    assert r.rc == 0, r
    return tmp_path / "golive.state"


def g(st, *args, now="2026-03-13T18:00:00+08:00"):
    return golive(*args, "--state", st, env={"GOLIVE_NOW": now})


def test_a_command_refuses_a_row_its_events_did_not_make(night):
    st = night
    assert g(st, "task", "start", "freeze", "--as", "bob").rc == 0
    assert g(st, "task", "done", "freeze", "--as", "bob").rc == 0
    # someone else made the checker, who then signs it off
    sql(st, "UPDATE tasks SET checker = 'chen' WHERE id = 'freeze'")
    r = g(st, "task", "check", "freeze", "--as", "chen")
    assert r.rc == 2, r
    assert "task 'freeze'" in r.err and "column checker" in r.err
    assert "the store says 'chen', the events say 'ann'" in r.err
    assert sql(st, "SELECT state FROM tasks WHERE id = 'freeze'") == \
        [("done",)]
    sql(st, "UPDATE tasks SET checker = 'ann' WHERE id = 'freeze'")
    assert g(st, "task", "check", "freeze", "--as", "ann").rc == 0
    # a defect's severity lowered in the table
    assert g(st, "defect", "open", "--severity", "blocker", "--title", "x",
             "--as", "chen").rc == 0
    sql(st, "UPDATE defects SET severity = 'minor', state = 'fixed'")
    r = g(st, "defect", "verify", "D-1", "--as", "chen")
    assert r.rc == 2 and "defect D-1" in r.err and "column" in r.err, r
    sql(st, "UPDATE defects SET severity = 'blocker', state = 'open'")
    assert g(st, "defect", "fixing", "D-1", "--as", "liu").rc == 0
    # a scenario's result written into the table
    assert g(st, "scenario", "next", "--as", "chen").rc == 0
    sql(st, "UPDATE scenarios SET state = 'passed' WHERE id = 'S-1'")
    r = g(st, "scenario", "fail", "S-1", "--as", "chen", "--note", "no")
    assert r.rc == 2 and "scenario 'S-1'" in r.err and "column state" in r.err
    sql(st, "UPDATE scenarios SET state = 'running' WHERE id = 'S-1'")
    assert g(st, "scenario", "pass", "S-1", "--as", "chen").rc == 0
    assert verify(st).rc == 0


def test_status_from_the_last_verify_and_the_chain_since(night):
    st = night
    s = json.loads(g(st, "status", "--json").out)
    assert s["audit"]["verified"] is None
    assert "never compared" in s["audit"]["detail"]
    assert s["audit"]["head"] == golive("audit", "head", "--state",
                                        st).out.strip()
    assert verify(st).rc == 0
    assert g(st, "task", "start", "freeze", "--as", "bob").rc == 0
    assert g(st, "task", "done", "freeze", "--as", "bob").rc == 0
    s = json.loads(g(st, "status", "--json").out)
    assert s["audit"]["verified"] is True
    assert s["audit"]["verified_through"] == 1 and s["audit"]["since"] == 2
    out = g(st, "status").out
    assert re.search(r"audit: head 3:[0-9a-f]{64}; verified through event 1",
                     out), out
    # an event after the last verify edited: the chain since catches it
    sql(st, "UPDATE events SET actor = 'lead' WHERE seq = 3")
    s = g(st, "status")
    assert "THE STORE DOES NOT VERIFY: event 3 (task.done" in s.out, s
    sql(st, "UPDATE events SET actor = 'bob' WHERE seq = 3")
    # the head of the last verify cut off
    assert verify(st).rc == 0
    sql(st, "DELETE FROM events WHERE seq >= 2")
    s = json.loads(g(st, "status", "--json").out)
    assert s["audit"]["verified"] is False
    assert "event 3, the head at the last audit, is missing" in \
        s["audit"]["detail"]


def test_golive_now_is_marked_and_a_clock_going_back_warned(night):
    st = night
    # the system clock (after the night's dates), then GOLIVE_NOW again
    r = golive("scenario", "next", "--as", "chen", "--state", st)
    assert r.rc == 0, r
    assert g(st, "task", "start", "freeze", "--as", "bob").rc == 0
    marks = [json.loads(p).get("golive_now") for (p,) in
             sql(st, "SELECT payload FROM events ORDER BY seq")]
    assert marks == [True, None, True]
    r = verify(st)
    assert r.rc == 0, r
    assert "2 of 3 events were written with GOLIVE_NOW" in r.err
    assert ": 1, 3" in r.err
    assert re.search(r"event 3 \(task\.start by bob\) is dated "
                     r"2026-03-13T10:00:00Z, before event 2 \(.*\): the clock"
                     r" went back", r.err), r.err


SYNC_PLAN = """\
cutover: syncs
switch_at: 2026-03-14T00:00:00Z
people:
  - {id: lead, roles: [lead]}
  - {id: ann, roles: [data]}
  - {id: bob, roles: [ops]}
systems:
  old: "sqlite:old.db"
  new: "sqlite:new.db"
sync:
  - {id: people, from: old.people, to: new.people, key: [id], mode: append,
     owner: ann, checker: bob}
  - {id: gone, from: old.people, to: new.missing, key: [id], mode: append,
     owner: ann, checker: bob}
tasks:
  - {id: load, title: Load people, stage: sync, owner: ann, checker: bob,
     run: sync people}
  - {id: hello, title: Hello, stage: prepare, owner: ann, checker: bob,
     run: "shell echo hello"}
"""


def test_a_night_of_syncs_interrupted_killed_and_tasks_verifies(tmp_path):
    """sync.start makes the 'running' row, sync.run completes it by its
    execution (or adds one: a job that failed before it started), an
    interrupted and a killed execution, --plan-changed, a task's process
    group: the replay makes every row the live commands made."""
    (tmp_path / "plan.yaml").write_text(SYNC_PLAN)
    for name in ("old.db", "new.db"):
        db = sqlite3.connect(tmp_path / name)
        db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)")
        if name == "old.db":
            db.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT"
                       " x + 1 FROM c WHERE x < 3000) INSERT INTO people"
                       " SELECT x, 'p' || x FROM c")
        db.commit()
        db.close()
    plan, st = tmp_path / "plan.yaml", tmp_path / "golive.state"
    assert golive("run", "start", plan).rc == 0
    # a job whose target is not there: failed before it started
    assert golive("sync", plan, "gone", "--as", "ann").rc == 2
    # interrupted between batches, then killed, then resumed
    pause = tmp_path / "paused"
    for sig in (signal.SIGINT, signal.SIGKILL):
        e = dict(os.environ)
        for k in ("GOLIVE_STATE", "GOLIVE_NOW", "GOLIVE_USER"):
            e.pop(k, None)
        e.update({"GOLIVE_TEST_PAUSE": "sync.batch.loaded:2",
                  "GOLIVE_TEST_PAUSE_FILE": str(pause)})
        args = [BIN, "sync", str(plan), "people", "--batch-size", "500",
                "--as", "ann"]
        if sig == signal.SIGKILL:
            args.append("--resume")
        proc = subprocess.Popen(args, env=e, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        for _ in range(1200):
            if pause.exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert pause.exists(), proc.communicate()
        proc.send_signal(sig)
        time.sleep(0.05)
        pause.unlink()
        proc.communicate(timeout=60)
        assert proc.returncode == (130 if sig == signal.SIGINT else -9)
    # the plan file changed by hand: run anyway, its SHA-256 recorded
    with open(plan, "a") as f:
        f.write("# changed\n")
    assert golive("sync", plan, "people", "--resume", "--plan-changed",
                  "--as", "ann").rc == 0
    assert golive("task", "start", "hello", "--as", "ann",
                  "--state", st).rc == 0
    outcomes = sql(st, "SELECT job, outcome, execution IS NOT NULL, pid"
                       " IS NOT NULL FROM sync_runs ORDER BY id")
    assert outcomes == [("gone", "failed", 1, 0),
                        ("people", "interrupted", 1, 1),
                        ("people", "running", 1, 1),
                        ("people", "ok", 1, 1)]
    assert sql(st, "SELECT pgid IS NOT NULL FROM tasks WHERE id = 'hello'") \
        == [(1,)]
    r = verify(st)
    assert r.rc == 0, r
    # the replay says which execution's row was edited
    sql(st, "UPDATE sync_runs SET outcome = 'ok' WHERE outcome = 'running'")
    r = verify(st)
    assert r.rc == 1 and "table sync_runs" in r.err and "outcome" in r.err, r
