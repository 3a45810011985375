"""Shared helpers for the end-to-end tests: they drive the golive binary
the way a user does.  GOLIVE_BIN names the binary (tests/run.sh sets it);
it must be a test build (build-test/, build-asan/: `make check` makes them),
since some tests use the GOLIVE_TEST_* points that build/ does not carry."""
import os
import subprocess
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("GOLIVE_BIN", os.path.join(ROOT, "build-test", "golive"))
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer")


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return "rc=%d\nstdout:\n%s\nstderr:\n%s" % (self.rc, self.out, self.err)


def golive(*args, cwd=None, env=None, check_sanitizers=True, timeout=300):
    """Run golive with args; returns a Result.  A sanitizer report fails the
    test whatever the exit code."""
    e = dict(os.environ)
    e.pop("GOLIVE_STATE", None)
    e.pop("GOLIVE_USER", None)
    e.pop("GOLIVE_NOW", None)
    e.pop("GOLIVE_TEST_CRASH_AT", None)
    if env:
        e.update(env)
    proc = subprocess.run([BIN] + [str(a) for a in args], cwd=cwd, env=e,
                          capture_output=True, text=True, timeout=timeout)
    r = Result(proc)
    if check_sanitizers:
        for mark in SANITIZER_MARKS:
            assert mark not in r.err, "sanitizer report:\n%s" % r.err
    return r


def write(path, text):
    """Write dedented text to path (a pathlib.Path) and return the path."""
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


# The smallest complete plan; tests add or break one thing in it.
GOOD_PLAN = """
cutover: test-night
switch_at: 2026-03-14T00:00:00+08:00
people:
  - {id: lead, name: The Lead, roles: [lead]}
  - {id: ann, name: Ann, roles: [data, tester]}
  - {id: bob, name: Bob, roles: [ops, dev]}
systems:
  old: "sqlite:old.db"
  new: "sqlite:new.db"
sync:
  - id: users
    from: old.t_user
    to: new.users
    key: [id]
    owner: ann
    checker: bob
checks:
  - {id: users-count, type: count, job: users}
workflows:
  approval:
    states: [draft, submitted, approved, rejected]
    initial: draft
    terminal: [approved]
    transitions:
      - {from: draft, to: submitted, action: submit}
      - {from: submitted, to: approved, action: approve}
      - {from: submitted, to: rejected, action: reject}
      - {from: rejected, to: draft, action: revise}
tasks:
  - {id: freeze, title: Freeze, stage: prepare, owner: bob, checker: ann, at: T-6h, duration: 15m}
  - {id: load, title: Load, stage: sync, owner: ann, checker: bob, depends_on: [freeze], at: T-2h, duration: 1h, run: sync users}
  - {id: release, title: Release, stage: release, owner: bob, checker: lead, depends_on: [load], at: T0, duration: 30m, decides: go}
scenarios:
  - {id: S-1, area: approval, title: Approve a request, priority: P0, risk: 2, assignee: ann}
gates:
  go: [no_open_blockers, all_checks_passed, {tasks_checked: [release]}]
rollback:
  - {id: rb-1, title: Switch back, owner: bob, checker: lead, duration: 10m}
"""


@pytest.fixture
def good_plan(tmp_path):
    return write(tmp_path / "plan.yaml", GOOD_PLAN)


# ---- real database servers, one of each per session --------------------

import re  # noqa: E402

import servers  # noqa: E402


@pytest.fixture(scope="session")
def pg_server():
    s = servers.Postgres()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def my_server():
    s = servers.MariaDB()
    yield s
    s.stop()


def _db_name(request):
    return "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:50]


@pytest.fixture
def pg(pg_server, request):
    """A fresh PostgreSQL database for this test; .url, .sql(text)."""
    name = _db_name(request)
    url = pg_server.create_db(name)

    class DB:
        pass
    d = DB()
    d.url = url
    d.env = {}
    d.sql = lambda q: pg_server.psql(q, db=name)
    d.server = pg_server
    return d


@pytest.fixture
def my(my_server, request):
    """A fresh MariaDB database for this test; .url, .env, .sql(text)."""
    name = _db_name(request)
    url = my_server.create_db(name)

    class DB:
        pass
    d = DB()
    d.url = url
    d.env = my_server.env()
    d.sql = lambda q: my_server.sql(q, db=name)
    d.server = my_server
    return d


@pytest.fixture
def lite(tmp_path):
    """A fresh SQLite database file; .url, .env, .sql(text)."""
    import sqlite3
    path = tmp_path / "lite.db"
    sqlite3.connect(path).close()

    class DB:
        pass
    d = DB()
    d.url = "sqlite:%s" % path
    d.env = {}
    d.path = path

    def run(q):
        c = sqlite3.connect(path)
        try:
            c.executescript(q)
            c.commit()
        finally:
            c.close()
        return ""
    d.sql = run
    return d


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def engine(request):
    """Each engine in turn: a fresh database of it (see lite, pg, my)."""
    d = request.getfixturevalue({"sqlite": "lite", "postgres": "pg",
                                 "mariadb": "my"}[request.param])
    d.kind = request.param
    return d
