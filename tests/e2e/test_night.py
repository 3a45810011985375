"""A night on the runbook through the CLI: defects, the go gate and the
lead's decision, rollback, status and ETA, shifts, handover, duty,
report.  The plan is tests/e2e/night.yaml; GOLIVE_NOW replays the clock."""
import json
import os
import shutil
import sqlite3

import pytest

from conftest import golive

HERE = os.path.dirname(os.path.abspath(__file__))
T = {  # times of the night (switch at 2026-03-14T00:00+08:00)
    "T-6h": "2026-03-13T18:00:00+08:00",
    "T-5h30m": "2026-03-13T18:30:00+08:00",
    "T-5h": "2026-03-13T19:00:00+08:00",
    "T-3h30m": "2026-03-13T20:30:00+08:00",
    "T-3h": "2026-03-13T21:00:00+08:00",
    "T-2h": "2026-03-13T22:00:00+08:00",
    "T-1h": "2026-03-13T23:00:00+08:00",
    "T0": "2026-03-14T00:00:00+08:00",
    "T+10m": "2026-03-14T00:10:00+08:00",
    "T+30m": "2026-03-14T00:30:00+08:00",
    "T+1h": "2026-03-14T01:00:00+08:00",
    "T+2h": "2026-03-14T02:00:00+08:00",
}


@pytest.fixture
def night(tmp_path):
    plan = tmp_path / "plan.yaml"
    shutil.copy(os.path.join(HERE, "night.yaml"), plan)
    r = golive("run", "start", plan, env={"GOLIVE_NOW": T["T-6h"]})
    assert r.rc == 0, r
    return tmp_path / "golive.state"


def g(st, *args, at="T-6h"):
    return golive(*args, "--state", st, env={"GOLIVE_NOW": T[at]})


def walk(st, tid, owner, checker, start, done, check=None):
    """Start, finish and check a task at the given times."""
    for action, who, at in (("start", owner, start), ("done", owner, done),
                            ("check", checker, check or done)):
        r = g(st, "task", action, tid, "--as", who, at=at)
        assert r.rc == 0, r


def events(st):
    db = sqlite3.connect(st)
    try:
        return db.execute("SELECT kind, actor, payload FROM events"
                          " ORDER BY seq").fetchall()
    finally:
        db.close()


# ---- defects -------------------------------------------------------------

def test_defect_lifecycle_and_who_may(night):
    st = night
    r = g(st, "defect", "open", "--severity", "blocker", "--title",
          "old claims cannot be approved", "--scenario", "S-1", "--as", "chen")
    assert r.rc == 0 and r.out == "D-1\n"
    r = g(st, "defect", "open", "--severity", "minor", "--title", "typo",
          "--as", "zhou", "--json")
    assert r.rc == 0 and json.loads(r.out)["id"] == "D-2"
    # only devs fix
    r = g(st, "defect", "fixing", "D-1", "--as", "chen")
    assert r.rc == 3 and "devs fix defects" in r.err
    assert g(st, "defect", "fixing", "D-1", "--as", "liu").rc == 0
    assert g(st, "defect", "fixed", "D-1", "--as", "liu").rc == 0
    # the fixer does not verify their own fix
    r = g(st, "defect", "verify", "D-1", "--as", "liu")
    assert r.rc == 3 and "cannot verify" in r.err
    assert g(st, "defect", "reopen", "D-1", "--as", "chen").rc == 0
    r = g(st, "defect", "verify", "D-1", "--as", "chen")
    assert r.rc == 3 and "only a fixed defect" in r.err
    assert g(st, "defect", "fixed", "D-1", "--as", "wu").rc == 0
    assert g(st, "defect", "verify", "D-1", "--as", "liu").rc == 0  # wu fixed it
    # deferring needs a patch, and the lead or a dev
    r = g(st, "defect", "defer", "D-2", "--as", "liu")
    assert r.rc == 2 and "--patch" in r.err
    r = g(st, "defect", "defer", "D-2", "--patch", "1.0.1", "--as", "chen")
    assert r.rc == 3
    assert g(st, "defect", "defer", "D-2", "--patch", "1.0.1",
             "--as", "lead").rc == 0
    # bad input
    r = g(st, "defect", "open", "--severity", "huge", "--title", "x",
          "--as", "chen")
    assert r.rc == 2 and "blocker, major or minor" in r.err
    r = g(st, "defect", "open", "--severity", "minor", "--title", "x",
          "--scenario", "S-9", "--as", "chen")
    assert r.rc == 2 and "no scenario 'S-9'" in r.err
    r = g(st, "defect", "fixing", "D-9", "--as", "liu")
    assert r.rc == 2 and "no defect D-9" in r.err
    r = g(st, "defect", "fixing", "X-1", "--as", "liu")
    assert r.rc == 2 and "not a defect id" in r.err
    r = g(st, "defect", "open", "--severity", "minor", "--title", "x",
          "--as", "mallory")
    assert r.rc == 3 and "not a person of the plan" in r.err
    lst = json.loads(g(st, "defect", "list", "--json").out)
    assert [(d["id"], d["state"], d["fixer"], d["verifier"], d["patch"])
            for d in lst] == [("D-1", "verified", "wu", "liu", None),
                              ("D-2", "deferred", None, None, "1.0.1")]
    kinds = [(k, a) for k, a, _ in events(st)][1:]
    assert kinds == [("defect.open", "chen"), ("defect.open", "zhou"),
                     ("defect.fixing", "liu"), ("defect.fixed", "liu"),
                     ("defect.reopen", "chen"), ("defect.fixed", "wu"),
                     ("defect.verify", "liu"), ("defect.defer", "lead")]
    assert g(st, "audit", "verify").rc == 0


# ---- gate, decision, rollback -------------------------------------------

def test_go_refused_while_a_blocker_is_open_allowed_once_verified(night):
    st = night
    walk(st, "freeze", "bob", "ann", "T-6h", "T-5h30m")
    walk(st, "load", "ann", "bob", "T-5h30m", "T-3h30m")
    walk(st, "banner", "bob", "ann", "T-5h30m", "T-5h")
    walk(st, "release", "bob", "ann", "T0", "T+30m")
    assert g(st, "scenario", "next", "--as", "chen").out.startswith("S-1")
    assert g(st, "defect", "open", "--severity", "blocker", "--title",
             "stuck claims", "--scenario", "S-1", "--as", "chen").rc == 0
    assert g(st, "scenario", "fail", "S-1", "--as", "chen").rc == 0
    r = g(st, "gate", "--json", at="T+30m")
    gate = json.loads(r.out)
    assert r.rc == 1 and gate["passed"] is False
    assert [(x["rule"], x["passed"]) for x in gate["rules"]] == [
        ("no_open_blockers", False), ("p0_scenarios_passed", False),
        ("tasks_checked", True)]
    assert "D-1 stuck claims (open)" in gate["rules"][0]["detail"]
    r = g(st, "decide", "go", "--as", "lead", "--note", "ship it", at="T+30m")
    assert r.rc == 3 and "no_open_blockers" in r.err
    r = g(st, "decide", "go", "--as", "bob", "--note", "ship it", at="T+30m")
    assert r.rc == 3 and "only the lead" in r.err
    assert g(st, "decide", "hold", "--as", "lead", "--note",
             "waiting for D-1", at="T+30m").rc == 0
    # fixed is not enough: a blocker is open until verified
    g(st, "defect", "fixed", "D-1", "--as", "liu", at="T+1h")
    r = g(st, "decide", "go", "--as", "lead", "--note", "ship it", at="T+1h")
    assert r.rc == 3 and "D-1 stuck claims (fixed)" in r.err
    assert g(st, "defect", "verify", "D-1", "--as", "chen", at="T+1h").rc == 0
    g(st, "scenario", "next", "--as", "chen", at="T+1h")  # S-2 now
    # the re-run of S-1 (reopened by the tester) passes
    db = sqlite3.connect(st)
    assert db.execute("SELECT state FROM scenarios WHERE id = 'S-1'"
                      ).fetchone()[0] == "failed"
    db.close()
    r = g(st, "gate", at="T+1h")
    assert r.rc == 1 and "S-1 is failed" in r.out
    assert g(st, "scenario", "pass", "S-1", "--as", "chen", at="T+1h").rc == 0
    r = g(st, "gate", at="T+1h")
    assert r.rc == 0 and r.out.rstrip().endswith("gate: GO")
    r = g(st, "decide", "go", "--as", "lead", "--note", "all green", at="T+1h")
    assert r.rc == 0, r
    decisions = [(json.loads(p)["decision"], a) for k, a, p in events(st)
                 if k == "decide"]
    assert decisions == [("hold", "lead"), ("go", "lead")]
    assert g(st, "audit", "verify").rc == 0


def test_rollback_runs_in_dependency_order(night):
    st = night
    r = g(st, "task", "start", "rb-stop", "--as", "bob")
    assert r.rc == 3 and "has not started" in r.err
    r = g(st, "rollback", "--as", "bob")
    assert r.rc == 3 and "only the lead" in r.err
    r = g(st, "rollback", "--as", "lead", "--note", "claims broken", at="T+1h")
    assert r.rc == 0 and "rb-stop" in r.out
    r = g(st, "rollback", "--as", "lead", at="T+1h")
    assert r.rc == 3 and "started already" in r.err
    r = g(st, "task", "start", "rb-reopen", "--as", "ann", at="T+1h")
    assert r.rc == 3 and "waits for 'rb-stop'" in r.err
    walk(st, "rb-stop", "bob", "ann", "T+1h", "T+1h")
    walk(st, "rb-reopen", "ann", "bob", "T+1h", "T+2h")
    starts = [json.loads(p)["task"] for k, _, p in events(st)
              if k == "task.start"]
    assert starts == ["rb-stop", "rb-reopen"]
    assert g(st, "audit", "verify").rc == 0


# ---- status for the lead and the ETA -------------------------------------

def status(st, at):
    r = g(st, "status", "--json", at=at)
    assert r.rc == 0, r
    return json.loads(r.out)


def test_eta_moves_later_when_a_critical_task_overruns(night):
    st = night
    s = status(st, "T-6h")
    assert (s["eta_t"], s["planned_end_t"], s["chain"]) == (
        "T+1h30m", "T+1h30m", ["release", "smoke"])
    assert [t["id"] for t in s["ready"]] == ["freeze"]
    walk(st, "freeze", "bob", "ann", "T-6h", "T-5h30m")
    walk(st, "load", "ann", "bob", "T-5h30m", "T-3h30m")
    walk(st, "banner", "bob", "ann", "T-5h30m", "T-5h")
    assert g(st, "task", "start", "release", "--as", "bob", at="T0").rc == 0
    s = status(st, "T+10m")
    assert s["running"][0]["id"] == "release"
    assert s["running"][0]["since_t"] == "T0"
    assert (s["eta_t"], s["overrun"], s["late_seconds"]) == ("T+1h30m", 1.0, 0)
    # release, planned 30m, still running after an hour: late, and smoke
    # behind it; nothing that finished took longer than planned yet
    s = status(st, "T+1h")
    assert s["overrun"] == 1.0
    assert (s["eta_t"], s["late_seconds"]) == ("T+2h", 1800)
    assert s["chain"] == ["release", "smoke"]
    assert [(x["id"], x["late"], x["by"]) for x in s["late_tasks"]] == [
        ("release", "end", 1800), ("smoke", "start", 1800)]
    text = g(st, "status", at="T+1h").out
    assert "ETA:       T+2h" in text and "30m late" in text
    assert "chain: release -> smoke" in text
    assert "release (release, bob): running 30m past its planned end T+30m" \
        in text
    assert "release (bob, since T0)" in text
    # release took 1h against 30m: 4h of work against 3h30m planned so far,
    # and smoke (1h) is expected to take as much longer
    assert g(st, "task", "done", "release", "--as", "bob", at="T+1h").rc == 0
    s = status(st, "T+1h")
    assert s["overrun"] == pytest.approx(240 / 210)
    assert s["overrun_basis"] == {"tasks": 4, "actual": 240 * 60,
                                  "planned": 210 * 60}
    assert s["eta_t"] == "T+2h8m34s"  # from T+1h, 1h x 8/7 = 1h8m34s


def test_an_overrun_with_slack_moves_the_eta_only_once_slack_is_used(night):
    st = night
    walk(st, "freeze", "bob", "ann", "T-6h", "T-5h30m")
    walk(st, "banner", "bob", "ann", "T-5h30m", "T-5h")
    assert g(st, "task", "start", "load", "--as", "ann", at="T-5h30m").rc == 0
    # load was planned for 2h; at T-2h it has run 3h30m: still 2h of slack
    s = status(st, "T-2h")
    assert (s["eta_t"], s["overrun"], s["chain"]) == (
        "T+1h30m", 1.0, ["release", "smoke"])
    load = [t for t in s["task_list"] if t["id"] == "load"][0]
    assert load["critical"] is False and load["slack"] == 3 * 3600 + 1800
    # at T+30m the slack is gone: release waits for load
    s = status(st, "T+30m")
    assert s["eta_t"] == "T+2h" and s["chain"] == ["load", "release", "smoke"]


def test_status_shows_blockers_ready_and_scenarios(night):
    st = night
    walk(st, "freeze", "bob", "ann", "T-6h", "T-5h30m")
    assert g(st, "task", "start", "load", "--as", "ann", at="T-5h").rc == 0
    assert g(st, "task", "fail", "load", "--as", "ann", at="T-3h").rc == 0
    g(st, "defect", "open", "--severity", "blocker", "--title", "no data",
      "--as", "ann", at="T-3h")
    g(st, "defect", "open", "--severity", "minor", "--title", "typo",
      "--as", "ann", at="T-3h")
    g(st, "scenario", "next", "--as", "chen", at="T-3h")
    g(st, "scenario", "block", "S-1", "--as", "chen", "--note", "no data",
      at="T-3h")
    s = status(st, "T-3h")
    assert [(b["kind"], b["id"]) for b in s["blockers"]] == [
        ("task", "load"), ("defect", "D-1"), ("scenario", "S-1")]
    assert [t["id"] for t in s["ready"]] == ["banner"]
    assert s["tasks"]["sync"]["failed"] == 1
    assert s["tasks"]["prepare"] == dict(s["tasks"]["prepare"], checked=1,
                                         ready=1)
    assert s["scenarios"]["states"] == {"blocked": 1, "pending": 1}
    assert s["scenarios"]["p0"] == {"passed": 0, "all": 1}
    # a failed task is worked again from now: load 2h from T-3h, then T0
    assert s["eta_t"] == "T+1h30m"
    text = g(st, "status", at="T-3h").out
    assert "D-1: blocker defect, open: no data" in text
    assert "ready:     banner (bob)" in text


def test_status_during_a_rollback_counts_only_its_tasks(night):
    st = night
    assert g(st, "rollback", "--as", "lead", at="T+1h").rc == 0
    s = status(st, "T+1h")
    assert s["rollback"] is True
    assert [t["id"] for t in s["ready"]] == ["rb-stop"]
    assert s["eta_t"] == "T+1h30m" and s["chain"] == ["rb-stop", "rb-reopen"]
    plan = {t["id"]: (t["planned_start_t"], t["planned_end_t"])
            for t in s["task_list"]}
    # the rollback is planned from when the lead started it; the forward
    # tasks keep their plan (the report draws both)
    assert plan["rb-stop"] == ("T+1h", "T+1h15m")
    assert plan["rb-reopen"] == ("T+1h15m", "T+1h30m")
    assert plan["freeze"] == ("T-6h", "T-5h30m")
    assert g(st, "status", at="T+2h").rc == 0
    r = g(st, "task", "start", "freeze", "--as", "bob", at="T+1h")
    assert r.rc == 3 and "rolling back" in r.err


# ---- the night changes: shift, handover -----------------------------------

def test_shift_moves_t0_and_every_relative_time(night):
    st = night
    walk(st, "freeze", "bob", "ann", "T-6h", "T-5h30m")
    walk(st, "load", "ann", "bob", "T-5h30m", "T-3h30m")
    walk(st, "banner", "bob", "ann", "T-5h30m", "T-5h")
    r = g(st, "shift", "T0", "--to", "T+1h", "--as", "bob", at="T-1h")
    assert r.rc == 3 and "only the lead" in r.err
    r = g(st, "shift", "T0", "--to", "tomorrow", "--as", "lead", at="T-1h")
    assert r.rc == 2 and "UTC offset" in r.err
    r = g(st, "shift", "T0", "--to", "T+1h", "--as", "lead", "--note",
          "backend build late", "--json", at="T-1h")
    assert r.rc == 0 and json.loads(r.out)["to"] == "2026-03-14T01:00:00+08:00"
    # release (at: T0) now waits for 01:00
    r = g(st, "task", "start", "release", "--as", "bob", at="T0")
    assert r.rc == 3 and "2026-03-14T01:00:00+08:00" in r.err
    s = status(st, "T0")
    assert s["switch_at"] == "2026-03-14T01:00:00+08:00" and s["t"] == "T-1h"
    assert s["eta"] == "2026-03-14T02:30:00+08:00"
    r = g(st, "shift", "T0", "--to", "T-30m", "--as", "lead", at="T0")
    assert r.rc == 0
    assert g(st, "task", "start", "release", "--as", "bob",
             at="T+1h").rc == 0
    # the switch happened: T0 is history now, not a plan
    r = g(st, "shift", "T0", "--to", "2026-03-14T01:00:00+08:00", "--as",
          "lead", at="T+1h")
    assert r.rc == 3 and "the switch happened" in r.err, r
    ev = [json.loads(p) for k, _, p in events(st) if k == "shift"]
    assert [(e["from"], e["to"], e["seconds"]) for e in ev] == [
        ("2026-03-14T00:00:00+08:00", "2026-03-14T01:00:00+08:00", 3600),
        ("2026-03-14T01:00:00+08:00", "2026-03-14T00:30:00+08:00", -1800)]
    assert ev[0]["note"] == "backend build late"
    assert g(st, "audit", "verify").rc == 0


def test_handover_moves_open_work_to_someone_awake(night):
    st = night
    walk(st, "freeze", "bob", "ann", "T-6h", "T-5h30m")
    assert g(st, "task", "start", "banner", "--as", "bob", at="T-5h30m").rc == 0
    # ann checks banner and release: she cannot take over bob's work
    r = g(st, "handover", "--as", "bob", "--to", "ann", at="T-5h")
    assert r.rc == 3 and "ann checks task 'banner' and cannot also do it" in r.err
    r = g(st, "handover", "--as", "bob", "--to", "zhou", "--note", "sleep",
          "--json", at="T-5h")
    assert r.rc == 0, r
    moved = json.loads(r.out)
    assert moved["tasks"] == ["banner", "rb-stop", "release"]
    assert moved["checks"] == ["load", "rb-reopen"]
    # zhou now finishes banner; bob no longer may
    r = g(st, "task", "done", "banner", "--as", "bob", at="T-5h")
    assert r.rc == 3 and "owner of task 'banner' (zhou)" in r.err
    assert g(st, "task", "done", "banner", "--as", "zhou", at="T-5h").rc == 0
    assert g(st, "task", "check", "banner", "--as", "ann", at="T-5h").rc == 0
    walk(st, "load", "ann", "zhou", "T-5h", "T-3h")
    s = status(st, "T-3h")
    rel = [t for t in s["task_list"] if t["id"] == "release"][0]
    assert rel["owner"] == "zhou"
    # scenarios go to testers only; fixes to devs only: what may not move
    # stays, the rest moves (chen's task smoke goes to liu, S-1 stays)
    g(st, "scenario", "next", "--as", "chen", at="T-3h")
    r = g(st, "handover", "--as", "chen", "--to", "liu", at="T-3h")
    assert r.rc == 3 and "not a tester" in r.err
    assert "tasks to do    smoke" in r.out
    g(st, "defect", "open", "--severity", "major", "--title", "x",
      "--as", "chen", at="T-3h")
    g(st, "defect", "fixing", "D-1", "--as", "liu", at="T-3h")
    r = g(st, "handover", "--as", "liu", "--to", "chen", at="T-3h")
    assert r.rc == 3 and "not a dev" in r.err
    assert "tasks to do    smoke" in r.out and "not moved      D-1" in r.out
    r = g(st, "handover", "--as", "liu", "--to", "wu", at="T-3h")
    assert r.rc == 0 and "D-1" in r.out
    assert g(st, "defect", "fixed", "D-1", "--as", "wu", at="T-3h").rc == 0
    r = g(st, "handover", "--as", "liu", "--to", "wu", at="T-3h")
    assert r.rc == 2 and "no open work" in r.err
    kinds = [k for k, _, _ in events(st)]
    assert kinds.count("handover") == 4
    assert g(st, "audit", "verify").rc == 0


# ---- hypercare -------------------------------------------------------------

def test_duty_log_defects_and_the_patch_plan(night):
    st = night
    r = g(st, "duty", "log", "cannot find my old claims", "--channel",
          "phone", "--kind", "question", "--as", "zhou", at="T+2h")
    assert r.rc == 0 and r.out == "H-1\n"
    assert g(st, "duty", "log", "approval button missing for travel",
             "--channel", "ticket", "--kind", "defect", "--as", "zhou",
             at="T+2h").out == "H-2\n"
    assert g(st, "duty", "log", "export to Excel", "--channel", "chat",
             "--kind", "request", "--patch", "1.1", "--as", "zhou",
             at="T+2h").out == "H-3\n"
    assert g(st, "duty", "log", "bigger font", "--channel", "chat",
             "--kind", "request", "--as", "zhou", at="T+2h").out == "H-4\n"
    r = g(st, "duty", "log", "x", "--channel", "fax", "--kind", "question",
          "--as", "zhou")
    assert r.rc == 2 and "phone, chat or ticket" in r.err
    r = g(st, "duty", "log", "x", "--channel", "chat", "--kind", "rant",
          "--as", "zhou")
    assert r.rc == 2 and "question, defect or request" in r.err
    # an entry becomes a defect, once
    r = g(st, "duty", "defect", "H-2", "--severity", "major", "--as", "zhou",
          at="T+2h")
    assert r.rc == 0 and r.out == "D-1\n"
    r = g(st, "duty", "defect", "H-2", "--severity", "major", "--as", "zhou")
    assert r.rc == 3 and "is defect D-1 already" in r.err
    d = json.loads(g(st, "defect", "list", "--json").out)[0]
    assert d["title"] == "approval button missing for travel"
    assert d["opened_by"] == "zhou"
    assert g(st, "defect", "defer", "D-1", "--patch", "1.0.1",
             "--as", "liu").rc == 0
    r = g(st, "duty", "patch", "H-4", "--patch", "1.1", "--as", "zhou")
    assert r.rc == 3 and "the lead or a dev" in r.err
    plan = json.loads(g(st, "patch", "plan", "--json").out)
    assert plan == {
        "patches": [
            {"patch": "1.0.1", "defects": [
                {"id": "D-1", "severity": "major",
                 "title": "approval button missing for travel"}],
             "requests": []},
            {"patch": "1.1", "defects": [],
             "requests": [{"id": "H-3", "kind": "request",
                           "text": "export to Excel"}]}],
        "unplanned": [{"id": "H-4", "kind": "request", "text": "bigger font"}]}
    assert g(st, "duty", "patch", "H-4", "--patch", "1.1",
             "--as", "liu").rc == 0
    text = g(st, "patch", "plan").out
    assert "patch 1.1\n  H-3" in text and "H-4" in text
    assert "not planned yet" not in text
    lst = json.loads(g(st, "duty", "list", "--json").out)
    assert [(e["id"], e["defect"], e["patch"]) for e in lst] == [
        ("H-1", None, None), ("H-2", "D-1", None), ("H-3", None, "1.1"),
        ("H-4", None, "1.1")]
    assert lst[0]["at"] == "2026-03-14T02:00:00+08:00"  # T+2h, the plan's
    kinds = [k for k, _, _ in events(st)]
    assert kinds.count("duty.log") == 4 and kinds.count("duty.patch") == 1
    assert g(st, "audit", "verify").rc == 0


# ---- a whole night, then the report and the audit --------------------------

def test_a_whole_night_then_report_and_audit(night, tmp_path):
    import re
    import xml.etree.ElementTree as ET
    st = night
    walk(st, "freeze", "bob", "ann", "T-6h", "T-5h30m")
    walk(st, "banner", "bob", "ann", "T-5h30m", "T-5h")
    walk(st, "load", "ann", "bob", "T-5h30m", "T-3h", "T-3h")  # 30m late
    assert g(st, "shift", "T0", "--to", "T+30m", "--as", "lead", "--note",
             "backend late", at="T-1h").rc == 0
    # from here on T0 is 00:30; the T table still names 00:00-based times
    walk(st, "release", "bob", "ann", "T+30m", "T+1h")
    assert g(st, "scenario", "next", "--as", "chen", at="T+1h").rc == 0
    assert g(st, "defect", "open", "--severity", "blocker", "--title",
             "legacy claims stuck in 'on_hold'", "--scenario", "S-1",
             "--as", "chen", at="T+1h").rc == 0
    assert g(st, "scenario", "fail", "S-1", "--as", "chen", "--note", "D-1",
             at="T+1h").rc == 0
    assert g(st, "decide", "go", "--as", "lead", "--note", "now?",
             at="T+1h").rc == 3
    assert g(st, "defect", "fixing", "D-1", "--as", "liu", at="T+1h").rc == 0
    assert g(st, "defect", "fixed", "D-1", "--as", "liu", at="T+2h").rc == 0
    assert g(st, "defect", "verify", "D-1", "--as", "chen", at="T+2h").rc == 0
    assert g(st, "scenario", "pass", "S-1", "--as", "chen", "--note",
             "re-run with claim 100017 from the old system", at="T+2h").rc == 0
    walk(st, "smoke", "chen", "lead", "T+2h", "T+2h")
    assert g(st, "gate", at="T+2h").rc == 0
    assert g(st, "decide", "go", "--as", "lead", "--note",
             "no blocker; P0 passed", at="T+2h").rc == 0
    assert g(st, "duty", "log", "where is my draft <b>claim</b> & co?",
             "--channel", "phone", "--kind", "question", "--as", "zhou",
             at="T+2h").rc == 0

    rep = json.loads(g(st, "report", "--format", "json", at="T+2h").out)
    tasks = {t["id"]: t for t in rep["tasks"]}
    # load started before the shift: it keeps the plan it was held to
    assert tasks["load"]["planned_end"] == "2026-03-13T20:30:00+08:00"
    assert tasks["load"]["ended"] == "2026-03-13T21:00:00+08:00"
    assert tasks["release"]["planned_start"] == "2026-03-14T00:30:00+08:00"
    assert tasks["release"]["started"] == "2026-03-14T00:30:00+08:00"
    assert tasks["release"]["timeline"] == {
        "planned": [0, 1800], "actual": [0, 1800], "running": False}
    assert [d["decision"] for d in rep["decisions"]] == ["go"]
    assert rep["defects"][0]["state"] == "verified"
    assert rep["gate"]["passed"] is True
    assert [c["kind"] for c in rep["changes"]][:1] == ["shift"]
    assert rep["duty"][0]["text"].startswith("where is my draft")
    assert rep["audit"]["verified"] is True
    assert rep["run"]["switch_at"] == "2026-03-14T00:30:00+08:00"

    md = g(st, "report", at="T+2h").out
    assert md.startswith("# Go-live report: night")
    assert "- decision: go" in md
    assert "| D-1 | blocker | verified | S-1 |" in md

    out = tmp_path / "night.html"
    r = g(st, "report", "--format", "html", "--out", str(out), at="T+2h")
    assert r.rc == 0 and r.out.startswith(str(out) + ": the html report")
    html = out.read_text()
    assert "<script" not in html and "src=" not in html
    assert re.search(r"href=|url\(", html) is None  # nothing fetched
    # user text is escaped
    assert "&lt;b&gt;claim&lt;/b&gt; &amp; co?" in html
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", html, re.S).group(0))
    ns = "{http://www.w3.org/2000/svg}"
    groups = svg.findall(ns + "g")
    assert [x.get("data-task") for x in groups] == [t["id"] for t in rep["tasks"]]
    by = {x.get("data-task"): x for x in groups}
    assert len(by["release"].findall(ns + "rect")) == 2   # planned, actual
    assert len(by["rb-stop"].findall(ns + "rect")) == 0   # never planned in
    assert svg.find(ns + "line[@class='t0']") is not None

    # the audit chain holds after the night, and fails after one byte
    assert g(st, "audit", "verify").rc == 0
    db = sqlite3.connect(st)
    seq, payload = db.execute("SELECT seq, payload FROM events WHERE kind ="
                              " 'defect.verify'").fetchone()
    db.execute("UPDATE events SET payload = ? WHERE seq = ?",
               (payload.replace("verified", "verifiee"), seq))
    db.commit()
    db.close()
    r = g(st, "audit", "verify")
    assert r.rc == 1 and str(seq) in (r.out + r.err)
    r = g(st, "report", "--format", "json", at="T+2h")
    assert json.loads(r.out)["audit"]["verified"] is False


# ---- the plan changes during the night --------------------------------------

def test_run_amend_takes_a_new_plan_and_refuses_contradictions(night):
    st = night
    plan = st.parent / "plan.yaml"
    walk(st, "freeze", "bob", "ann", "T-6h", "T-5h30m")
    assert g(st, "task", "start", "load", "--as", "ann", at="T-5h30m").rc == 0
    g(st, "scenario", "next", "--as", "chen", at="T-5h")
    g(st, "scenario", "pass", "S-1", "--as", "chen", at="T-5h")
    text = plan.read_text()
    # a new task and a longer smoke test: taken in
    v2 = text.replace(
        "  - {id: smoke,",
        "  - {id: warm-cache, title: Warm the caches, stage: release,"
        " owner: bob, checker: ann, depends_on: [release], duration: 15m}\n"
        "  - {id: smoke,").replace("depends_on: [release], duration: 1h",
                                   "depends_on: [warm-cache], duration: 2h")
    plan.write_text(v2)
    r = g(st, "run", "amend", str(plan), "--as", "bob", at="T-5h")
    assert r.rc == 3 and "only the lead" in r.err
    r = g(st, "run", "amend", str(plan), "--as", "lead", "--json", at="T-5h")
    assert r.rc == 0, r
    out = json.loads(r.out)
    assert out["plan_version"] == 2
    assert out["diff"]["tasks"]["added"] == ["warm-cache"]
    assert out["diff"]["tasks"]["changed"] == [
        {"id": "smoke", "fields": ["depends_on", "duration"]}]
    s = status(st, "T-5h")
    assert s["plan_version"] == 2 and s["plan_changed"] is False
    assert "warm-cache" in [t["id"] for t in s["task_list"]]
    assert s["eta_t"] == "T+2h45m"  # release 30m, warm 15m, smoke 2h
    r = g(st, "run", "amend", str(plan), "--as", "lead", at="T-5h")
    assert r.rc == 2 and "this very plan already" in r.err
    # contradictions: all named, nothing taken
    bad = (v2.replace("cutover: night", "cutover: other")
             .replace("  - {id: freeze, title: Freeze the old system, stage:"
                      " prepare, owner: bob, checker: ann, at: T-6h,"
                      " duration: 30m}\n", "")
             .replace("depends_on: [freeze], duration: 2h",
                      "depends_on: [banner], duration: 2h")
             .replace("  - {id: chen, roles: [tester]}\n", "")
             .replace("owner: chen, checker: lead", "owner: bob, checker: lead")
             .replace("  - {id: S-1, area: expense, title: Submit a claim,"
                      " priority: P0, risk: 3}\n", "")
             .replace("switch_at: 2026-03-14T00:00:00+08:00",
                      "switch_at: 2026-03-14T01:00:00+08:00"))
    bad = bad.replace("checker: ann, depends_on: [freeze], duration: 30m}",
                      "checker: ann, duration: 30m}")
    assert "freeze" not in bad
    plan.write_text(bad)
    r = g(st, "run", "amend", str(plan), "--as", "lead", at="T-5h")
    assert r.rc == 3, r
    for words in ("cutover 'other'", "golive shift",
                  "task 'freeze' is checked and cannot be left out",
                  "task 'load' is running already but would depend on"
                  " 'banner', which is pending",
                  "scenario 'S-1' is passed", "chen acted in this run"):
        assert words in r.err, words
    assert status(st, "T-5h")["plan_version"] == 2
    ev = [json.loads(p) for k, _, p in events(st) if k == "run.amend"]
    assert len(ev) == 1 and ev[0]["plan_version"] == 2
    assert g(st, "audit", "verify").rc == 0
