"""Tasks whose run: is interrupted or whose supervisor dies (#10.4,
#10.10, #10.14): Ctrl-C on `golive task start` reaches the sync, which
records that it was interrupted; `task start --resume` continues the sync;
a task is not lost while anything of its command still runs."""
import json
import os
import signal
import sqlite3
import subprocess
import time

from conftest import BIN, golive

PLAN = """\
cutover: exec
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
     batch_size: 100, owner: ann, checker: bob}
tasks:
  - {id: load, title: Load people, stage: sync, owner: ann, checker: bob,
     run: sync people}
  - {id: forks, title: Forks, stage: prepare, owner: ann, checker: bob,
     run: "shell sleep 61.5 & wait"}
  - {id: hello, title: Hello, stage: prepare, owner: ann, checker: bob,
     run: "shell echo hello"}
"""

N = 60000


def night(tmp_path):
    d = tmp_path / "cutover"
    d.mkdir()
    (d / "plan.yaml").write_text(PLAN)
    for name in ("old.db", "new.db"):
        db = sqlite3.connect(d / name)
        db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)")
        if name == "old.db":
            db.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT"
                       " x + 1 FROM c WHERE x < %d) INSERT INTO people"
                       " SELECT x, 'p' || x FROM c" % N)
        db.commit()
        db.close()
    assert golive("run", "start", d / "plan.yaml").rc == 0
    return d / "golive.state"


def q(path, sql):
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return None
    finally:
        db.close()


def task_row(st, tid):
    db = sqlite3.connect(st)
    db.row_factory = sqlite3.Row
    try:
        return dict(db.execute("SELECT * FROM tasks WHERE id = ?",
                               (tid,)).fetchone())
    finally:
        db.close()


def status(st):
    return json.loads(golive("status", "--json", "--state", st).out)


def wait_for(cond, what, seconds=60):
    for _ in range(int(seconds * 20)):
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("waited in vain for " + what)


def popen(*args, env=None):
    e = dict(os.environ)
    for k in ("GOLIVE_STATE", "GOLIVE_USER", "GOLIVE_NOW"):
        e.pop(k, None)
    e.update(env or {})
    return subprocess.Popen([BIN] + [str(a) for a in args], env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def paused_after_a_batch(tmp_path):
    """The sync's environment: it waits after its first committed batch
    until the file tmp_path/paused is gone (a signal meanwhile is acted on
    where the code would have seen it), so that a fast sync cannot end
    before the test's signal reaches it."""
    return {"GOLIVE_TEST_PAUSE": "sync.batch.committed:1",
            "GOLIVE_TEST_PAUSE_FILE": str(tmp_path / "paused")}


def resume_paused(tmp_path):
    time.sleep(0.05)
    (tmp_path / "paused").unlink()


def test_ctrl_c_reaches_the_sync_and_start_resume_continues(tmp_path):
    st = night(tmp_path)
    new = st.parent / "new.db"
    proc = popen("task", "start", "load", "--as", "ann", "--state", st,
                 env=paused_after_a_batch(tmp_path))
    wait_for(lambda: (tmp_path / "paused").exists(), "a first batch")
    proc.send_signal(signal.SIGINT)       # Ctrl-C on the supervisor
    resume_paused(tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "interrupted (SIGINT)" in out
    assert "golive task start load --resume" in out
    assert task_row(st, "load")["state"] == "failed"
    # the sync recorded its own end, as the task's owner
    runs = q(st, "SELECT outcome, rows_written, ended_at IS NOT NULL"
                 " FROM sync_runs")
    (written,), = q(new, "SELECT rows_written FROM golive_checkpoint")
    assert runs == [("interrupted", written, 1)]
    assert q(new, "SELECT count(*) FROM people") == [(written,)]
    assert written < N
    # status says that its sync can resume
    s = status(st)
    assert [t["sync_resumable"] for t in s["task_list"] if t["id"] == "load"] \
        == [True]
    assert [b["detail"] for b in s["blockers"] if b["id"] == "load"] == \
        ["task failed; its sync can resume (reopen, then start --resume)"]
    # --resume goes with a sync task and with start only
    r = golive("task", "start", "hello", "--resume", "--as", "ann",
               "--state", st)
    assert r.rc == 2 and "sync" in r.err
    assert task_row(st, "hello")["state"] == "pending"
    assert golive("task", "reopen", "load", "--as", "ann",
                  "--state", st).rc == 0
    text = golive("status", "--state", st).out
    assert "load (ann; its sync can resume: start --resume)" in text
    r = golive("task", "start", "load", "--resume", "--as", "ann",
               "--state", st)
    assert r.rc == 0, r
    assert q(new, "SELECT count(*) FROM people") == [(N,)]
    last = q(st, "SELECT mode, rows_written, outcome FROM sync_runs"
                 " ORDER BY id DESC LIMIT 1")
    assert last == [("resume", N - written, "ok")]
    assert not [t for t in status(st)["task_list"] if t["sync_resumable"]]
    assert golive("audit", "verify", "--state", st).rc == 0


def test_sigterm_on_a_detached_supervisor_is_recorded(tmp_path):
    st = night(tmp_path)
    assert golive("task", "start", "load", "--detach", "--as", "ann",
                  "--state", st, env=paused_after_a_batch(tmp_path)).rc == 0
    wait_for(lambda: (tmp_path / "paused").exists(), "a first batch")
    os.kill(task_row(st, "load")["pid"], signal.SIGTERM)
    resume_paused(tmp_path)
    wait_for(lambda: task_row(st, "load")["state"] == "failed", "the end")
    assert q(st, "SELECT outcome FROM sync_runs") == [("interrupted",)]


def test_not_lost_while_its_command_runs(tmp_path):
    st = night(tmp_path)
    assert golive("task", "start", "forks", "--detach", "--as", "ann",
                  "--state", st).rc == 0
    row = wait_for(lambda: task_row(st, "forks")["pgid"] and
                   task_row(st, "forks"), "the command")
    try:
        os.kill(row["pid"], signal.SIGKILL)   # the supervisor dies
        wait_for(lambda: q(st, "SELECT 1") and
                 subprocess.run(["kill", "-0", str(row["pid"])],
                                capture_output=True).returncode != 0,
                 "the supervisor's end")
        # the shell and the sleep it forked run on: the task is not lost,
        # and its owner cannot start a second copy
        s = status(st)
        assert s["tasks"]["prepare"]["running"] == 1
        assert s["tasks"]["prepare"]["lost"] == 0
        r = golive("task", "start", "forks", "--as", "ann", "--state", st)
        assert r.rc == 3, r
    finally:
        os.killpg(row["pgid"], signal.SIGKILL)
    # all of it gone: lost, and its owner may start it again
    wait_for(lambda: status(st)["tasks"]["prepare"]["lost"] == 1, "lost")
    assert golive("task", "start", "forks", "--detach", "--as", "ann",
                  "--state", st).rc == 0
    row2 = wait_for(lambda: task_row(st, "forks")["pgid"] and
                    task_row(st, "forks")["pgid"] != row["pgid"] and
                    task_row(st, "forks"), "the second command")
    os.killpg(row2["pgid"], signal.SIGKILL)
    os.kill(row2["pid"], signal.SIGTERM)
