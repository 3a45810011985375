"""The fault matrix: a sync job under every fault a real night brings, on
engine pairs x modes.  `make check` runs three pairs that take each engine
once as source and once as target; `make check-faults` (GOLIVE_FAULTS=all)
runs all nine.

Each cell: a source of N rows (one of which every target refuses, so that
rejects are kept across the fault), a target prepared for the mode, a run
in the store; the fault; then the command golive names as the next one,
run with the world repaired.  Expected in every cell: the target is
unchanged by a fault at the start, and after the next command it holds
exactly the source (content compared, not counts); the execution that met
the fault is recorded with its outcome; the rejected row is in the rejects
file; a dependent job is skipped; the message names what failed and what
to run next."""
import json
import os
import re
import signal
import sqlite3
import subprocess
import textwrap
import time

import pytest

from conftest import BIN, golive
import servers

ENGINES = ["sqlite", "postgres", "mariadb"]
SHORT = {"sqlite": "s", "postgres": "p", "mariadb": "m"}
if os.environ.get("GOLIVE_FAULTS") == "all":
    PAIRS = [(a, b) for a in ENGINES for b in ENGINES]
else:
    PAIRS = [("sqlite", "postgres"), ("postgres", "mariadb"),
             ("mariadb", "sqlite")]
MODES = ["truncate", "append", "upsert", "incremental"]
FAULTS = ["source-down", "target-down", "source-killed", "target-killed",
          "sigint", "sigterm", "sigkill", "after-failed"]

N = 6000         # rows in the source
BATCH = 1000     # rows a batch: the faults land in the middle of the job
REJECT_ID = 77   # its name is NULL: every target refuses it (NOT NULL)
PAD = "x" * 400  # wide rows, so that a server's stream outgrows buffers


class Side:
    """One database of a cell: an engine, a URL with ${VAR}s that a fault
    can point elsewhere, SQL and reads."""

    def __init__(self, kind, role, cell, tmp_path, pg_server, my_server):
        self.kind, self.role = kind, role
        self.var = "GL_%s" % role.upper()
        self.env = {}
        name = "f_%s_%s" % (cell, role)
        if kind == "sqlite":
            d = tmp_path / role
            d.mkdir()
            self.path = d / "db.sqlite"
            sqlite3.connect(self.path).close()
            self.good = str(d)
            self.plan_url = "sqlite:${%s}/db.sqlite" % self.var
        elif kind == "postgres":
            self.server = pg_server
            pg_server.create_db(name)
            self.good = str(pg_server.port)
            self.plan_url = "postgres://golive@127.0.0.1:${%s}/%s" % (
                self.var, name)
        else:
            self.server = my_server
            my_server.create_db(name)
            self.good = str(my_server.port)
            self.env = my_server.env()
            self.plan_url = "mysql://golive@127.0.0.1:${%s}/%s" % (self.var,
                                                                   name)
        self.db = name
        self.url = self.plan_url.replace("${%s}" % self.var, self.good)

    def bad(self):
        """Where the database is not: a closed port, a missing folder."""
        if self.kind == "sqlite":
            return self.good + "/missing"
        return str(servers.free_port())

    def sql(self, q):
        if self.kind == "sqlite":
            c = sqlite3.connect(self.path)
            try:
                c.executescript(q)
                c.commit()
            finally:
                c.close()
        elif self.kind == "postgres":
            self.server.psql(q, db=self.db)
        else:
            self.server.sql(q, db=self.db)

    def rows(self, table):
        r = golive("db", "query", self.url,
                   "SELECT id, name, qty FROM %s ORDER BY id" % table,
                   "--json", env=self.env)
        assert r.rc == 0, r
        return [(j["id"], j["name"], int(j["qty"]) if j["qty"] is not None
                 else None) for j in map(json.loads, r.out.splitlines())]

    def kill_connections(self):
        """End every connection to this database but the test's own."""
        if self.kind == "postgres":
            self.server.psql("SELECT pg_terminate_backend(pid) FROM"
                             " pg_stat_activity WHERE datname = '%s' AND pid"
                             " <> pg_backend_pid()" % self.db)
            return True
        if self.kind == "mariadb":
            ids = self.server.sql("SELECT id FROM information_schema."
                                  "processlist WHERE db = '%s' AND id <>"
                                  " connection_id()" % self.db).split()
            for i in ids:
                try:
                    self.server.sql("KILL CONNECTION %s" % i)
                except RuntimeError:
                    pass  # it ended meanwhile
            return True
        return False  # SQLite has no connection to kill: a test fault


TYPES = {
    "sqlite": ("INTEGER", "TEXT", "TEXT"),
    "postgres": ("integer", "varchar(300)", "timestamp"),
    "mariadb": ("int", "varchar(300)", "datetime"),
}


def make_source(src):
    i, t, ts = TYPES[src.kind]
    src.sql("CREATE TABLE src (id %s PRIMARY KEY, name %s, qty %s, pad %s,"
            " updated_at %s)" % (i, t, i, "text", ts))
    if src.kind == "postgres":
        src.sql("INSERT INTO src SELECT x, CASE WHEN x = %d THEN NULL ELSE"
                " 'name ' || x END, x * 7 %% 1000, '%s', timestamp"
                " '2026-01-01' + x * interval '1 minute' FROM"
                " generate_series(1, %d) x" % (REJECT_ID, PAD, N))
    else:
        cat = ("concat('name ', x)" if src.kind == "mariadb" else
               "'name ' || x")
        ts = ("timestamp '2026-01-01 00:00:00' + interval x minute"
              if src.kind == "mariadb" else
              "datetime('2026-01-01', '+' || x || ' minutes')")
        rec = ("SET SESSION max_recursive_iterations = 100000;"
               if src.kind == "mariadb" else "")
        src.sql("%sINSERT INTO src WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL"
                " SELECT x + 1 FROM c WHERE x < %d) SELECT x, CASE WHEN x = %d"
                " THEN NULL ELSE %s END, x * 7 %% 1000, '%s', %s FROM c" %
                (rec, N, REJECT_ID, cat, PAD, ts))


def expected_rows():
    return [(x, "name %d" % x, x * 7 % 1000) for x in range(1, N + 1)
            if x != REJECT_ID]


def make_target(dst, mode, table="tgt"):
    """The target as the mode finds it before the night's load."""
    i, t, ts = TYPES[dst.kind]
    dst.sql("CREATE TABLE %s (id %s PRIMARY KEY, name %s NOT NULL, qty %s,"
            " updated_at %s)" % (table, i, t, i, ts))
    if mode == "truncate":    # stale rows the load replaces
        dst.sql("INSERT INTO %s (id, name, qty) VALUES (900001, 'stale', 1),"
                " (900002, 'stale', 2)" % table)
    elif mode == "upsert":    # old versions of some rows
        dst.sql("INSERT INTO %s (id, name, qty) VALUES (1, 'old 1', 0),"
                " (500, 'old 500', 0), (3000, 'old 3000', 0)" % table)
    elif mode == "incremental":  # what an earlier load brought
        stamp = {"sqlite": "'2026-01-01 00:01:00'",
                 "postgres": "timestamp '2026-01-01 00:01:00'",
                 "mariadb": "timestamp '2026-01-01 00:01:00'"}[dst.kind]
        dst.sql("INSERT INTO %s (id, name, qty, updated_at) VALUES"
                " (1, 'name 1', 7, %s)" % (table, stamp))


def job(jid, mode, src_table="src", table="tgt", after=None):
    extra = ""
    if mode == "incremental":
        extra = "watermark: updated_at\n"
    if after:
        extra += "after: [%s]\n" % after
    return textwrap.indent(textwrap.dedent("""\
        - id: %s
          from: old.%s
          to: new.%s
          key: [id]
          mode: %s
          ignore: [pad]
          error_limit: 10
          owner: ann
          checker: bob
        """) % (jid, src_table, table, mode) + textwrap.indent(extra, "  "),
        "  ")


def write_plan(tmp_path, src, dst, jobs):
    p = tmp_path / "plan.yaml"
    p.write_text(textwrap.dedent("""\
        cutover: fault-night
        switch_at: 2026-03-14T00:00:00+08:00
        people:
          - {id: lead, roles: [lead]}
          - {id: ann, roles: [data]}
          - {id: bob, roles: [data]}
        systems:
          old: "%s"
          new: "%s"
        sync:
        """) % (src.plan_url, dst.plan_url) + jobs)
    return p


class Cell:
    def __init__(self, tmp_path, pair, mode, fault, pg_server, my_server):
        cell = "%s%s_%s_%s" % (SHORT[pair[0]], SHORT[pair[1]], mode[:3],
                               fault.replace("-", "")[:8])
        self.tmp = tmp_path
        self.mode, self.fault = mode, fault
        self.src = Side(pair[0], "src", cell, tmp_path, pg_server, my_server)
        self.dst = Side(pair[1], "dst", cell, tmp_path, pg_server, my_server)
        self.pause = tmp_path / "paused"

    def env(self, **over):
        e = dict(self.src.env)
        e.update(self.dst.env)
        e[self.src.var] = self.src.good
        e[self.dst.var] = self.dst.good
        e["GOLIVE_USER"] = "ann"
        e.update(over)
        return e

    def start(self, env, *args):
        """golive sync in the background (Popen: SIGINT reaches it)."""
        e = dict(os.environ)
        for k in ("GOLIVE_STATE", "GOLIVE_NOW", "GOLIVE_TEST_CRASH_AT"):
            e.pop(k, None)
        e.update(env)
        return subprocess.Popen([BIN, "sync", str(self.plan), *args,
                                 "--batch-size", str(BATCH)],
                                env=e, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def wait_paused(self, proc):
        deadline = time.time() + 60
        while not self.pause.exists():
            if proc.poll() is not None:
                out, err = proc.communicate()
                pytest.fail("golive ended before its pause point (rc %d):\n"
                            "%s\n%s" % (proc.returncode, out, err))
            assert time.time() < deadline, "golive never paused"
            time.sleep(0.01)

    def executions(self, jid):
        r = golive("report", "--format", "json", "--state",
                   self.tmp / "golive.state")
        assert r.rc in (0, 1), r
        return [s for s in json.loads(r.out)["syncs"] if s["job"] == jid]


def next_command(text):
    """The `golive sync ...` line golive says to run next (the last one)."""
    cmds = re.findall(r"golive sync [^\n'\"]*", text)
    assert cmds, "no next command named in:\n" + text
    return cmds[-1].split()


def cells():
    for pair in PAIRS:
        for mode in MODES:
            for fault in FAULTS:
                yield pytest.param(pair, mode, fault, id="%s%s-%s-%s" % (
                    SHORT[pair[0]], SHORT[pair[1]], mode, fault))


@pytest.mark.parametrize("pair,mode,fault", list(cells()))
def test_fault(pair, mode, fault, tmp_path, pg_server, my_server):
    c = Cell(tmp_path, pair, mode, fault, pg_server, my_server)
    make_source(c.src)
    make_target(c.dst, c.mode)
    jobs = job("j", mode, after="j0" if fault == "after-failed" else None)
    if fault == "after-failed":
        # the job it comes after fails: its target table is not there yet
        jobs = job("j0", "append", table="tgt0") + jobs
    c.plan = write_plan(tmp_path, c.src, c.dst, jobs)
    assert golive("run", "start", c.plan, env=c.env()).rc == 0
    before = c.dst.rows("tgt")
    expect_rc = {"source-down": 2, "target-down": 2, "sigint": 130,
                 "sigterm": 143, "sigkill": -9}.get(fault)
    fault_env = {}
    if fault == "source-down":
        fault_env = {c.src.var: c.src.bad()}
    elif fault == "target-down":
        fault_env = {c.dst.var: c.dst.bad()}
    elif fault == "source-killed" and c.src.kind == "sqlite":
        fault_env = {"GOLIVE_TEST_FAULT": "sync.source.row:%d" % (BATCH + 500)}
    elif fault == "target-killed" and c.dst.kind == "sqlite":
        fault_env = {"GOLIVE_TEST_FAULT": "sync.batch.loaded:2"}
    elif fault in ("source-killed", "target-killed", "sigint", "sigterm",
                   "sigkill"):
        point = ("sync.batch.committed:1" if fault == "source-killed" else
                 "sync.batch.loaded:2")
        fault_env = {"GOLIVE_TEST_PAUSE": point,
                     "GOLIVE_TEST_PAUSE_FILE": str(c.pause)}

    proc = c.start(c.env(**fault_env), *(["j"] if fault != "after-failed"
                                         else []))
    if "GOLIVE_TEST_PAUSE" in fault_env:
        c.wait_paused(proc)
        if fault == "source-killed":
            assert c.src.kill_connections()
        elif fault == "target-killed":
            assert c.dst.kill_connections()
        else:
            proc.send_signal({"sigint": signal.SIGINT,
                              "sigterm": signal.SIGTERM,
                              "sigkill": signal.SIGKILL}[fault])
            time.sleep(0.05)
        c.pause.unlink()
    out, err = proc.communicate(timeout=300)
    said = out + err
    for mark in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
        assert mark not in err, err
    if expect_rc is not None:
        assert proc.returncode == expect_rc, said
    else:
        assert proc.returncode in (0, 1, 2), said

    # a fault at the start, or a job skipped: its target was not touched
    if fault in ("source-down", "target-down", "after-failed"):
        assert c.dst.rows("tgt") == before, said
    if fault == "after-failed":
        # the skip alone is exit 1; j0's own error (no such table) is 2
        assert proc.returncode in (1, 2), said
        assert re.search(r"\bj\b.*skipped.*\bj0\b|skipped.*\bj0\b", said), said
        # repair: the table j0 needs
        make_target(c.dst, "append", table="tgt0")
    # the execution that met the fault is recorded, with its outcome and
    # its true start
    if fault not in ("after-failed",) and not (proc.returncode == 0):
        ex = c.executions("j")
        assert ex, "no execution of 'j' recorded:\n" + said
        last = ex[-1]
        want = {"sigint": "interrupted", "sigterm": "interrupted",
                "sigkill": "died"}.get(fault, "failed")
        assert last["outcome"] == want, (last, said)
        assert not str(last["started"]).startswith("1970"), last

    if proc.returncode != 0:
        rerun_ok = False
        if fault == "sigkill":
            # a killed process says nothing: the next plain sync of the job
            # either loads it again from the start (truncate, upsert: that
            # is safe) or refuses, saying what to run
            r = golive("sync", c.plan, "j", "--batch-size", str(BATCH),
                       env=c.env(), timeout=300)
            said = r.out + r.err
            rerun_ok = r.rc in (0, 1) and mode in ("truncate", "upsert")
            assert rerun_ok or r.rc == 3, r
        if not rerun_ok:
            # what failed, and what to run next
            argv = next_command(said)
            r = golive(*argv[1:], "--batch-size", str(BATCH),
                       env=c.env(), timeout=300)
            assert r.rc in (0, 1), r  # 1: the reject of row 77
            assert "skipped" not in (r.out + r.err), r
    got = c.dst.rows("tgt")
    want = expected_rows()
    assert len(got) == len(want), (len(got), len(want), said)
    assert got == want, said
    # the refused row is kept in the rejects file, once per load of it
    rej = (tmp_path / "rejects" / "j.csv")
    assert rej.exists(), said
    assert ('"%d"' % REJECT_ID) in rej.read_text() or \
        (",%d," % REJECT_ID) in rej.read_text(), rej.read_text()
