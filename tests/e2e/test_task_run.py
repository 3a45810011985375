"""Tasks with run: executed by `golive task start`: shell with a timeout,
sync and check on the run's own plan, --detach, output captured and
linked, lost tasks retried by their owner."""
import json
import os
import signal
import sqlite3
import textwrap
import time

from conftest import golive

PLAN = """\
cutover: exec
switch_at: 2026-03-14T00:00:00Z
people:
  - {id: lead, roles: [lead]}
  - {id: ann, roles: [data]}
  - {id: bob, roles: [ops]}
  - {id: cy, roles: [ops]}
systems:
  old: "sqlite:old.db"
  new: "sqlite:new.db"
sync:
  - {id: people, from: old.people, to: new.people, key: [id], owner: ann,
     checker: bob}
checks:
  - {id: people-count, type: count, job: people}
tasks:
  - {id: hello, title: Say hello, stage: prepare, owner: ann, checker: bob,
     run: "shell echo hello from $GOLIVE_TASK in $(basename $PWD)"}
  - {id: bad, title: Fail, stage: prepare, owner: ann, checker: bob,
     run: "shell echo about to fail >&2; exit 3"}
  - {id: slow, title: Too slow, stage: prepare, owner: ann, checker: bob,
     run: "shell sleep 30", timeout: 1s}
  - {id: load, title: Load people, stage: sync, owner: ann, checker: bob,
     run: sync people}
  - {id: count, title: Count people, stage: verify, owner: bob,
     checker: ann, depends_on: [load], run: check people-count}
  - {id: nap, title: Nap, stage: prepare, owner: ann, checker: bob,
     run: "shell sleep 1; echo rested"}
  - {id: long, title: Long, stage: prepare, owner: ann, checker: bob,
     run: "shell sleep 60.123"}
"""


def night(tmp_path):
    d = tmp_path / "cutover"
    d.mkdir()
    (d / "plan.yaml").write_text(PLAN)
    for name, rows in (("old.db", [(1, "ann"), (2, "bob"), (3, "chen")]),
                       ("new.db", [])):
        db = sqlite3.connect(d / name)
        db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)")
        db.executemany("INSERT INTO people VALUES (?, ?)", rows)
        db.commit()
        db.close()
    assert golive("run", "start", d / "plan.yaml").rc == 0
    return d / "golive.state"


def t(st, *args):
    return golive("task", *args, "--state", st)


def row(st, tid):
    db = sqlite3.connect(st)
    db.row_factory = sqlite3.Row
    try:
        return dict(db.execute("SELECT * FROM tasks WHERE id = ?",
                               (tid,)).fetchone())
    finally:
        db.close()


def kinds(st):
    db = sqlite3.connect(st)
    try:
        return [k for (k,) in db.execute("SELECT kind FROM events"
                                         " ORDER BY seq")]
    finally:
        db.close()


def test_shell_task_runs_and_its_output_is_linked(tmp_path):
    st = night(tmp_path)
    r = t(st, "start", "hello", "--as", "ann")
    assert r.rc == 0, r
    assert "running -> done" in r.out
    rw = row(st, "hello")
    assert rw["state"] == "done" and os.path.isabs(rw["output"])
    with open(rw["output"]) as f:
        assert f.read() == "hello from hello in cutover\n"
    assert kinds(st)[-3:] == ["task.start", "task.exec", "task.done"]
    # the checker signs it off as for any task
    assert t(st, "check", "hello", "--as", "bob").rc == 0


def test_a_failing_command_fails_the_task_with_its_last_line(tmp_path):
    st = night(tmp_path)
    r = t(st, "start", "bad", "--as", "ann", "--json")
    assert r.rc == 1
    out = json.loads(r.out)
    assert out["to"] == "failed"
    assert "exit 3" in out["note"] and "about to fail" in out["note"]
    assert row(st, "bad")["state"] == "failed"


def test_timeout_kills_the_command(tmp_path):
    st = night(tmp_path)
    t0 = time.monotonic()
    r = t(st, "start", "slow", "--as", "ann")
    assert r.rc == 1 and "timed out after 1s" in r.out
    assert time.monotonic() - t0 < 20
    assert row(st, "slow")["state"] == "failed"


def test_sync_and_check_tasks_use_the_run_plan(tmp_path):
    st = night(tmp_path)
    r = t(st, "start", "load", "--as", "ann")
    assert r.rc == 0, r
    db = sqlite3.connect(st.parent / "new.db")
    assert db.execute("SELECT count(*) FROM people").fetchone()[0] == 3
    db.close()
    assert t(st, "check", "load", "--as", "bob").rc == 0
    r = t(st, "start", "count", "--as", "bob")
    assert r.rc == 0, r
    k = kinds(st)
    # sync and check recorded their own events, as the task's owner
    assert "sync.run" in k and "check.run" in k
    db = sqlite3.connect(st)
    actors = dict(db.execute("SELECT kind, actor FROM events WHERE kind IN"
                             " ('sync.run', 'check.run')"))
    db.close()
    assert actors == {"sync.run": "ann", "check.run": "bob"}
    s = json.loads(golive("gate", "--json", "--state", st).out)
    assert s["passed"] is True
    assert golive("audit", "verify", "--state", st).rc == 0


def test_detached_task_ends_in_the_background(tmp_path):
    st = night(tmp_path)
    r = t(st, "start", "hello", "--as", "ann", "--detach")
    assert r.rc == 0 and "in the background" in r.out
    for _ in range(200):
        if row(st, "hello")["state"] == "done":
            break
        time.sleep(0.05)
    assert row(st, "hello")["state"] == "done"
    assert golive("audit", "verify", "--state", st).rc == 0


def test_a_task_whose_process_died_is_lost_and_retried(tmp_path):
    st = night(tmp_path)
    assert t(st, "start", "long", "--as", "ann", "--detach").rc == 0
    for _ in range(200):
        pid = row(st, "long")["pid"]
        if pid:
            break
        time.sleep(0.05)
    assert pid
    s = json.loads(golive("status", "--json", "--state", st).out)
    assert s["tasks"]["prepare"]["running"] == 1
    os.kill(pid, signal.SIGKILL)   # the supervisor dies
    for _ in range(100):
        try:
            os.kill(pid, 0)
            time.sleep(0.05)
        except ProcessLookupError:
            break
    # its command still runs: not lost (#10.14)
    s = json.loads(golive("status", "--json", "--state", st).out)
    assert s["tasks"]["prepare"]["running"] == 1
    assert s["tasks"]["prepare"]["lost"] == 0
    os.killpg(row(st, "long")["pgid"], signal.SIGKILL)
    for _ in range(200):   # until the orphans are reaped
        s = json.loads(golive("status", "--json", "--state", st).out)
        if s["tasks"]["prepare"]["lost"]:
            break
        time.sleep(0.05)
    assert s["tasks"]["prepare"]["lost"] == 1
    assert [(b["kind"], b["id"]) for b in s["blockers"]] == [("lost", "long")]
    assert "LOST" in golive("status", "--state", st).out
    r = t(st, "start", "long", "--as", "bob")
    assert r.rc == 3 and "lost" in r.err and "ann" in r.err
    # its owner retries it: running again under a new supervisor
    assert t(st, "start", "long", "--as", "ann", "--detach").rc == 0
    for _ in range(200):
        pid2 = row(st, "long")["pid"]
        if pid2:
            break
        time.sleep(0.05)
    assert pid2 and pid2 != pid
    s = json.loads(golive("status", "--json", "--state", st).out)
    assert s["tasks"]["prepare"]["running"] == 1
    assert kinds(st).count("task.exec") == 2
    # or fails it: the supervisor ends the command and records the failure
    os.kill(pid2, signal.SIGTERM)
    for _ in range(200):
        if row(st, "long")["state"] == "failed":
            break
        time.sleep(0.05)
    assert row(st, "long")["state"] == "failed"
    os.system("pkill -f 'sleep 60.123' >/dev/null 2>&1")


def test_a_running_task_handed_over_ends_as_its_new_owner(tmp_path):
    st = night(tmp_path)
    assert t(st, "start", "nap", "--as", "ann", "--detach").rc == 0
    r = golive("handover", "--as", "ann", "--to", "cy", "--state", st)
    assert r.rc == 0 and "nap" in r.out
    for _ in range(200):
        if row(st, "nap")["state"] == "done":
            break
        time.sleep(0.05)
    assert row(st, "nap")["state"] == "done"
    db = sqlite3.connect(st)
    actor = db.execute("SELECT actor FROM events WHERE kind = 'task.done'"
                       ).fetchone()[0]
    db.close()
    assert actor == "cy"


def test_a_failed_check_task_is_a_blocker_naming_the_check(tmp_path):
    st = night(tmp_path)
    assert t(st, "start", "load", "--as", "ann").rc == 0
    assert t(st, "check", "load", "--as", "bob").rc == 0
    db = sqlite3.connect(st.parent / "new.db")
    db.execute("DELETE FROM people WHERE id = 2")
    db.commit()
    db.close()
    r = t(st, "start", "count", "--as", "bob")
    assert r.rc == 1 and "people-count" in r.out and "FAILED" in r.out
    s = json.loads(golive("status", "--json", "--state", st).out)
    kinds = {(b["kind"], b["id"]) for b in s["blockers"]}
    assert kinds == {("task", "count"), ("check", "people-count")}
    detail = [b["detail"] for b in s["blockers"] if b["kind"] == "check"][0]
    assert "3 source rows" in detail and "2 target rows" in detail


def test_a_relative_state_path_reaches_the_task(tmp_path):
    # the task's golive runs in the plan's folder: a --state relative to
    # where the user stands must still name the store (make demo failed so)
    st = night(tmp_path)
    r = golive("task", "start", "load", "--as", "ann", "--state",
               "cutover/golive.state", cwd=tmp_path)
    assert r.rc == 0, r
    assert row(st, "load")["state"] == "done"
    db = sqlite3.connect(st.parent / "new.db")
    assert db.execute("SELECT count(*) FROM people").fetchone()[0] == 3
    db.close()
