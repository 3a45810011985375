"""Shared helpers for the end-to-end tests: they drive the golive binary
the way a user does.  GOLIVE_BIN names the binary (tests/run.sh sets it)."""
import os
import subprocess
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("GOLIVE_BIN", os.path.join(ROOT, "build", "golive"))
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
  - {id: release, title: Release, stage: release, owner: bob, checker: lead, depends_on: [load], at: T0, duration: 30m}
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
