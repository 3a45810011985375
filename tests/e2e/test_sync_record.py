"""What the run records of sync executions whatever ends them (#10.3,
#10.4, #10.20): the rejects file only grows (each row names its
execution), --retry-rejects removes exactly the rows that load, an
execution is recorded from its start, SIGINT / SIGTERM end it cleanly,
one killed with -9 shows as died, and the counters say what committed."""
import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest

from conftest import BIN, golive
from test_sync import lite_pair, mode_job, plan, rows, sync


def fill(lite, n, table="src"):
    lite.sql("CREATE TABLE %s (id INTEGER PRIMARY KEY, v TEXT);"
             "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c"
             " WHERE x < %d) INSERT INTO %s SELECT x, 'v' || x FROM c"
             % (table, n, table))


def store_rows(st, sql, args=()):
    db = sqlite3.connect(st)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


# ---- #10.20: the counters after a batch that did not commit ---------------

def test_written_counts_only_committed_batches(tmp_path, lite):
    new = lite_pair(tmp_path, lite)
    fill(lite, 50)
    new.sql("CREATE TABLE tgt (id INTEGER PRIMARY KEY, v TEXT)")
    # the third batch cannot commit (as on a full disk): its checkpoint is
    # refused inside the batch's transaction
    new.sql("CREATE TABLE golive_checkpoint (job VARCHAR(200) NOT NULL"
            " PRIMARY KEY, token VARCHAR(64) NOT NULL, batch BIGINT NOT NULL,"
            " last_key TEXT, watermark TEXT, rows_read BIGINT NOT NULL,"
            " rows_written BIGINT NOT NULL, rows_rejected BIGINT NOT NULL,"
            " bytes BIGINT NOT NULL, done INTEGER NOT NULL,"
            " updated_at VARCHAR(40) NOT NULL);"
            "CREATE TRIGGER full BEFORE INSERT ON golive_checkpoint"
            " WHEN NEW.batch >= 3 BEGIN SELECT RAISE(ABORT, 'disk is full');"
            " END")
    p = plan(tmp_path, lite, new, mode_job("append"))
    assert golive("run", "start", p).rc == 0
    res = sync(p, "--batch-size", "10", expect=2)["j"]
    assert res["outcome"] == "failed" and "disk is full" in res["error"]
    assert rows(new, "SELECT count(*) AS n FROM tgt") == [{"n": 20}]
    assert (res["read"], res["written"], res["rejected"]) == (20, 20, 0)
    assert store_rows(tmp_path / "golive.state",
                      "SELECT rows_read, rows_written FROM sync_runs") == \
        [(20, 20)]


# ---- #10.3: the rejects file only grows ---------------------------------

INCR_JOB = """
- id: j
  from: old.src
  to: new.tgt
  key: [id]
  mode: incremental
  watermark: updated_at
  columns:
    status: {from: code, map: {A: active%s}}
  error_limit: 100
  owner: ann
  checker: bob
"""


def rejects(tmp_path, job="j"):
    return (tmp_path / "rejects" / ("%s.csv" % job)).read_text().splitlines()


def test_an_execution_that_reads_nothing_keeps_the_rejects(tmp_path, lite):
    new = lite_pair(tmp_path, lite)
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, code TEXT,"
             " updated_at TEXT);"
             "INSERT INTO src VALUES (1,'A','2026-03-01'), (2,'X','2026-03-02'),"
             " (3,'Y','2026-03-03'), (4,'A','2026-03-04')")
    new.sql("CREATE TABLE tgt (id INTEGER PRIMARY KEY, status TEXT NOT NULL,"
            " updated_at TEXT)")
    p = plan(tmp_path, lite, new, INCR_JOB % "")
    res = sync(p)["j"]
    assert (res["read"], res["written"], res["rejected"]) == (4, 2, 2)
    first = rejects(tmp_path)
    assert first[0] == "execution,batch,error,key:id,code,updated_at"
    assert len(first) == 3
    # nothing new in the source: the rows rejected before stay
    res = sync(p)["j"]
    # only row 4, at the target's watermark, is read again, and kept
    assert (res["read"], res["written"], res["rejected"]) == (1, 0, 0)
    assert rejects(tmp_path) == first
    # a later execution adds its rows, each naming its execution
    lite.sql("INSERT INTO src VALUES (5,'Z','2026-03-05')")
    assert sync(p)["j"]["rejected"] == 1
    now = rejects(tmp_path)
    assert now[:3] == first and len(now) == 4
    execs = [l.split(",", 1)[0] for l in now[1:]]
    assert execs[0] == execs[1] != execs[2]
    # X is mapped now: --retry-rejects removes exactly the row that loads
    p = plan(tmp_path, lite, new, INCR_JOB % ", X: expired")
    res = sync(p, "--retry-rejects")["j"]
    assert (res["read"], res["written"], res["rejected"]) == (3, 1, 2)
    assert rejects(tmp_path) == [first[0], first[2], now[3]]
    assert rows(new, "SELECT id, status FROM tgt WHERE id = 2") == \
        [{"id": 2, "status": "expired"}]
    # and a retry that loads nothing changes nothing
    sync(p, "--retry-rejects")
    assert rejects(tmp_path) == [first[0], first[2], now[3]]


def test_a_truncate_rerun_adds_to_the_rejects(tmp_path, lite):
    new = lite_pair(tmp_path, lite)
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT);"
             "INSERT INTO src VALUES (1,'a'), (2,NULL), (3,'c')")
    new.sql("CREATE TABLE tgt (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    p = plan(tmp_path, lite, new, mode_job("truncate", "error_limit: 5"))
    sync(p)
    sync(p)
    lines = rejects(tmp_path)
    assert len(lines) == 3 and all('"2"' in l for l in lines[1:])
    assert lines[1].split(",")[0] != lines[2].split(",")[0]
    # key 2 is tried once and loads: both of its rows leave the file
    lite.sql("UPDATE src SET v = 'b' WHERE id = 2")
    new.sql("DELETE FROM tgt WHERE id = 2")
    res = sync(p, "--retry-rejects")["j"]
    assert (res["read"], res["written"]) == (1, 1)
    assert rejects(tmp_path) == lines[:1]


def test_a_rejects_file_of_other_columns_is_kept_aside(tmp_path, lite):
    new = lite_pair(tmp_path, lite)
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT);"
             "INSERT INTO src VALUES (1,'a'), (2,NULL)")
    new.sql("CREATE TABLE tgt (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    p = plan(tmp_path, lite, new, mode_job("truncate", "error_limit: 5"))
    (tmp_path / "rejects").mkdir()
    old = 'batch,error,key:id,v\n1,"old reason","9","x"\n'
    (tmp_path / "rejects" / "j.csv").write_text(old)
    sync(p)
    aside = [f for f in os.listdir(tmp_path / "rejects")
             if f.startswith("j-before-")]
    assert len(aside) == 1
    assert (tmp_path / "rejects" / aside[0]).read_text() == old
    assert len(rejects(tmp_path)) == 2


# ---- #10.4: executions recorded from their start, whatever ends them -----

def slow_pair(tmp_path, lite, n=200000):
    new = lite_pair(tmp_path, lite)
    fill(lite, n)
    new.sql("CREATE TABLE tgt (id INTEGER PRIMARY KEY, v TEXT)")
    p = plan(tmp_path, lite, new, mode_job("append"))
    assert golive("run", "start", p).rc == 0
    return new, p


def start(*args, env=None):
    e = dict(os.environ)
    for k in ("GOLIVE_STATE", "GOLIVE_USER", "GOLIVE_NOW"):
        e.pop(k, None)
    e.update(env or {})
    return subprocess.Popen([BIN] + [str(a) for a in args], env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def checkpoint(new):
    try:
        got = store_rows(new.path, "SELECT rows_written, done FROM"
                         " golive_checkpoint WHERE job = 'j'")
    except sqlite3.OperationalError:
        return None
    return got[0] if got else None


def wait_for(cond, what, seconds=60):
    for _ in range(int(seconds * 20)):
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("waited in vain for " + what)


def sync_runs(tmp_path):
    return store_rows(tmp_path / "golive.state",
                      "SELECT mode, started_at, ended_at, rows_read,"
                      " rows_written, outcome, execution FROM sync_runs"
                      " ORDER BY id")


def test_an_execution_is_recorded_while_it_runs(tmp_path, lite):
    new, p = slow_pair(tmp_path, lite)
    pause = tmp_path / "paused"
    proc = start("sync", p, "--batch-size", "100", "--as", "ann",
                 env={"GOLIVE_TEST_PAUSE": "sync.batch.committed:1",
                      "GOLIVE_TEST_PAUSE_FILE": str(pause)})
    try:
        wait_for(lambda: pause.exists(), "the pause after a first batch")
        run = sync_runs(tmp_path)
        assert len(run) == 1
        mode, started, ended, _, _, outcome, execution = run[0]
        assert (mode, ended, outcome) == ("load", None, "running")
        assert started.startswith(time.strftime("%Y-", time.gmtime()))
        assert execution
    finally:
        proc.kill()
        proc.communicate()


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130),
                                      (signal.SIGTERM, 143)])
def test_a_signal_commits_the_batch_records_and_hints(sig, code, tmp_path,
                                                      lite):
    new, p = slow_pair(tmp_path, lite)
    # the signal lands while the sync waits after its first batch (a fast
    # sync could end before a signal sent on seeing the checkpoint)
    pause = tmp_path / "paused"
    proc = start("sync", p, "--batch-size", "100", "--as", "ann",
                 env={"GOLIVE_TEST_PAUSE": "sync.batch.committed:1",
                      "GOLIVE_TEST_PAUSE_FILE": str(pause)})
    wait_for(lambda: pause.exists(), "the pause after a first batch")
    proc.send_signal(sig)
    time.sleep(0.05)
    pause.unlink()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, (out, err)
    assert "interrupted" in out and "--resume" in err
    assert "golive sync %s j --resume" % p in err
    written, done = checkpoint(new)
    assert done == 0
    assert store_rows(new.path, "SELECT count(*) FROM tgt") == [(written,)]
    (mode, started, ended, read, wrote, outcome, _), = sync_runs(tmp_path)
    assert (outcome, wrote, read) == ("interrupted", written, written)
    assert ended >= started and not started.startswith("1970")
    # what the hint says finishes the job, nothing doubled
    res = sync(p, "--resume")["j"]
    assert res["written"] == 200000 - written
    assert store_rows(new.path, "SELECT count(*) FROM tgt") == [(200000,)]
    assert golive("audit", "verify", "--state",
                  tmp_path / "golive.state").rc == 0


def test_an_execution_killed_shows_as_died(tmp_path, lite):
    new, p = slow_pair(tmp_path, lite)
    pause = tmp_path / "paused"
    proc = start("sync", p, "--batch-size", "100", "--as", "ann",
                 env={"GOLIVE_TEST_PAUSE": "sync.batch.committed:1",
                      "GOLIVE_TEST_PAUSE_FILE": str(pause)})
    wait_for(lambda: pause.exists(), "the pause after a first batch")
    proc.kill()
    proc.communicate()
    pause.unlink()
    r = golive("report", "--format", "json", "--state",
               tmp_path / "golive.state")
    assert r.rc == 0, r
    syncs = json.loads(r.out)["syncs"]
    assert [(s["job"], s["outcome"]) for s in syncs] == [("j", "died")]
    assert syncs[0]["started"] and not syncs[0]["started"].startswith("1970")
    md = golive("report", "--format", "md", "--state",
                tmp_path / "golive.state").out
    assert "died" in md
    assert golive("audit", "verify", "--state",
                  tmp_path / "golive.state").rc == 0


def test_a_job_that_fails_before_loading_has_its_true_start(tmp_path, lite):
    new = lite_pair(tmp_path, lite)
    fill(lite, 10)
    # no table tgt: emptying the truncate job's target fails
    p = plan(tmp_path, lite, new, mode_job("truncate"))
    assert golive("run", "start", p).rc == 0
    r = golive("sync", p)
    assert r.rc != 0
    run = sync_runs(tmp_path)
    assert len(run) == 1 and run[0][5] == "failed"
    assert not run[0][1].startswith("1970") and run[0][2] >= run[0][1]


@pytest.mark.parametrize("kind", ["postgres", "mariadb"])
def test_sigint_on_servers_commits_and_resumes(kind, request, tmp_path, lite):
    db = request.getfixturevalue({"postgres": "pg", "mariadb": "my"}[kind])
    n = 100000
    fill(lite, n)
    db.sql("CREATE TABLE tgt (id int PRIMARY KEY, v varchar(20))")
    p = plan(tmp_path, lite, db, mode_job("append"))
    assert golive("run", "start", p).rc == 0

    def committed():
        r = golive("db", "query", db.url, "SELECT rows_written FROM"
                   " golive_checkpoint", "--json", env=db.env)
        return r.rc == 0 and r.out.strip() and \
            json.loads(r.out.splitlines()[0])["rows_written"]
    proc = start("sync", p, "--batch-size", "100", env=db.env)
    wait_for(committed, "a first batch")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    written = committed()
    assert rows(db, "SELECT count(*) AS n FROM tgt") == [{"n": written}]
    assert [r[5] for r in sync_runs(tmp_path)] == ["interrupted"]
    assert sync(p, "--resume", dbs=(db,))["j"]["written"] == n - written
    assert rows(db, "SELECT count(*) AS n FROM tgt") == [{"n": n}]
