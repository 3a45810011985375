"""What status tells the lead about time (#11 items 3 and 4): the ETA of
each stage and of the go / no-go decision with their chains, the late
tasks, the overrun factor, never an ETA before now; planned times fixed
when a task starts, so that a shift does not rewrite history.

test_the_night_the_release_ran_late replays the night of the issue with
GOLIVE_NOW: the release ran 50 min against 30 planned, the go / no-go
started 55 min late; every figure asserted is the one a person computes
by hand from the plan below."""
import json
import os
import shutil
import sqlite3

import pytest

from conftest import golive

HERE = os.path.dirname(os.path.abspath(__file__))

PLAN = """\
cutover: night
switch_at: 2026-03-14T00:00:00+08:00
people:
  - {id: lead, roles: [lead]}
  - {id: ann, roles: [data]}
  - {id: bob, roles: [ops]}
  - {id: chen, roles: [tester]}
  - {id: zhou, roles: [duty]}
tasks:
  - {id: freeze, stage: prepare, owner: bob, checker: ann, at: T-1h, duration: 30m}
  - {id: release, stage: release, owner: bob, checker: ann, depends_on: [freeze], at: T0, duration: 30m}
  - {id: smoke, stage: verify, owner: chen, checker: lead, depends_on: [release], duration: 30m}
  - {id: reconcile, stage: verify, owner: ann, checker: bob, depends_on: [release], duration: 20m}
  - {id: regression, stage: verify, owner: chen, checker: lead, depends_on: [release], duration: 1h30m}
  - {id: gonogo, title: Go / no-go, stage: verify, owner: lead, checker: ann, depends_on: [smoke, reconcile], duration: 15m, decides: go}
  - {id: watch, stage: hypercare, owner: zhou, checker: lead, depends_on: [gonogo], at: T+10h, duration: 2h}
"""
# As planned (T0 = 2026-03-14T00:00+08:00):
#   freeze     T-1h   .. T-30m      release  T0     .. T+30m
#   smoke      T+30m  .. T+1h       reconcile T+30m .. T+50m
#   regression T+30m  .. T+2h       gonogo   T+1h   .. T+1h15m
#   watch      T+10h  .. T+12h (hypercare: no ETA)


def at(rel):
    """'T+1h55m' -> the ISO time of the night."""
    sign, rest = rel[1], rel[2:]
    secs = 0
    for unit, mult in (("h", 3600), ("m", 60), ("s", 1)):
        if unit in rest:
            n, rest = rest.split(unit, 1)
            secs += int(n) * mult
    if rel == "T0":
        secs = 0
    elif sign == "-":
        secs = -secs
    base = 1773417600  # 2026-03-14T00:00:00+08:00
    import datetime
    tz = datetime.timezone(datetime.timedelta(hours=8))
    return datetime.datetime.fromtimestamp(base + secs, tz).isoformat()


@pytest.fixture
def night(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    r = golive("validate", plan, "--json")
    assert r.rc == 0 and json.loads(r.out) == [], r
    r = golive("run", "start", plan, env={"GOLIVE_NOW": at("T-1h")})
    assert r.rc == 0, r
    return tmp_path / "golive.state"


def g(st, *args, when="T-1h"):
    return golive(*args, "--state", st, env={"GOLIVE_NOW": at(when)})


def act(st, action, tid, who, when):
    r = g(st, "task", action, tid, "--as", who, when=when)
    assert r.rc == 0, r


def status(st, when):
    r = g(st, "status", "--json", when=when)
    assert r.rc == 0, r
    return json.loads(r.out)


def stages(s):
    return {x["stage"]: x for x in s["stages"]}


def test_the_night_the_release_ran_late(night):
    st = night
    for a, who, when in (("start", "bob", "T-1h"), ("done", "bob", "T-30m"),
                         ("check", "ann", "T-30m"), ("start", "bob", "T0")):
        act(st, a, "freeze" if when != "T0" else "release", who, when)

    # T+40m: the release, planned to end at T+30m, still runs
    s = status(st, "T+40m")
    assert s["overrun"] == 1.0  # freeze: 30m against 30m
    assert s["overrun_basis"] == {"tasks": 1, "actual": 1800,
                                  "planned": 1800}
    sg = stages(s)
    assert list(sg) == ["prepare", "release", "verify"]  # no hypercare
    assert (sg["prepare"]["done"], sg["prepare"]["ended_t"],
            sg["prepare"]["late"]) == (True, "T-30m", 0)
    # the release ends no earlier than now
    assert (sg["release"]["eta_t"], sg["release"]["planned_end_t"],
            sg["release"]["late"], sg["release"]["chain"]) == (
        "T+40m", "T+30m", 600, ["release"])
    # regression (1h30m) from now: T+2h10m against T+2h
    assert (sg["verify"]["eta_t"], sg["verify"]["planned_end_t"],
            sg["verify"]["late"], sg["verify"]["chain"]) == (
        "T+2h10m", "T+2h", 600, ["release", "regression"])
    d = s["decision"]
    assert (d["task"], d["marked"], d["state"]) == ("gonogo", True, "pending")
    # smoke 30m from now, then the 15m meeting
    assert (d["expected_start_t"], d["eta_t"], d["planned_start_t"],
            d["planned_end_t"], d["start_late"], d["late"]) == (
        "T+1h10m", "T+1h25m", "T+1h", "T+1h15m", 600, 600)
    assert d["chain"] == ["release", "smoke", "gonogo"]
    # the cutover: the hypercare duty pinned at T+10h is not its end
    assert (s["eta_t"], s["planned_end_t"], s["late_seconds"],
            s["chain"]) == ("T+2h10m", "T+2h", 600, ["release", "regression"])
    assert [(x["id"], x["late"], x["planned_t"], x["by"])
            for x in s["late_tasks"]] == [
        ("release", "end", "T+30m", 600), ("smoke", "start", "T+30m", 600),
        ("reconcile", "start", "T+30m", 600),
        ("regression", "start", "T+30m", 600)]
    text = g(st, "status", when="T+40m").out
    assert "ETA:       T+2h10m" in text and "10m late" in text
    assert "go/no-go:  gonogo (decides: go), pending, expected to start " \
        "T+1h10m" in text
    assert "release (release, bob): running 10m past its planned end " \
        "T+30m" in text
    assert "smoke (verify, chen): not started, 10m past its planned start " \
        "T+30m" in text

    # the release ends at T+50m: 50 min against 30 planned
    act(st, "done", "release", "bob", "T+50m")
    act(st, "check", "release", "ann", "T+50m")
    for tid, who in (("smoke", "chen"), ("reconcile", "ann"),
                     ("regression", "chen")):
        act(st, "start", tid, who, "T+50m")
    act(st, "done", "reconcile", "ann", "T+1h10m")
    act(st, "check", "reconcile", "bob", "T+1h10m")
    act(st, "done", "smoke", "chen", "T+1h55m")   # 65m against 30m
    act(st, "check", "smoke", "lead", "T+1h55m")
    act(st, "start", "gonogo", "lead", "T+1h55m")  # planned at T+1h

    # T+1h55m: 165 min of work against 110 planned: x1.5
    s = status(st, "T+1h55m")
    assert s["overrun"] == 1.5
    assert s["overrun_basis"] == {"tasks": 4, "actual": 165 * 60,
                                  "planned": 110 * 60}
    d = s["decision"]
    # the meeting started 55 min late and lasts 15m x 1.5
    assert (d["state"], d["started_t"], d["planned_start_t"],
            d["start_late"]) == ("running", "T+1h55m", "T+1h", 3300)
    assert (d["eta_t"], d["planned_end_t"], d["late"]) == (
        "T+2h17m30s", "T+1h15m", 3750)
    sg = stages(s)
    assert (sg["release"]["done"], sg["release"]["ended_t"],
            sg["release"]["late"]) == (True, "T+50m", 1200)
    # regression runs since T+50m: 1h30m x 1.5 = 2h15m
    assert (sg["verify"]["eta_t"], sg["verify"]["late"],
            sg["verify"]["chain"]) == ("T+3h5m", 3900, ["regression"])
    assert [(x["id"], x["late"], x["by"]) for x in s["late_tasks"]] == [
        ("gonogo", "end", 2400)]
    text = g(st, "status", when="T+1h55m").out
    assert "go/no-go:  gonogo (decides: go), running, started T+1h55m" in text
    assert "(planned T+1h, 55m late)" in text
    assert "overrun x1.50 (4 finished tasks: 2h45m against 1h50m planned)" \
        in text

    act(st, "done", "gonogo", "lead", "T+2h15m")   # 20m against 15m
    act(st, "check", "gonogo", "ann", "T+2h15m")
    assert g(st, "decide", "go", "--as", "lead", "--note", "go",
             when="T+2h15m").rc == 0

    # T+3h10m: regression should have ended at T+3h3m12s (1h30m x 185/125)
    # but still runs: the ETA is now, never earlier
    s = status(st, "T+3h10m")
    assert s["overrun"] == pytest.approx(185 / 125)
    assert s["eta"] == s["now"] and s["eta_t"] == "T+3h10m"
    assert stages(s)["verify"]["eta_t"] == "T+3h10m"
    assert (s["decision"]["ended_t"], s["decision"]["eta"]) == (
        "T+2h15m", None)

    # T+3h30m: all but hypercare finished: no ETA, the time it ended
    act(st, "done", "regression", "chen", "T+3h20m")
    act(st, "check", "regression", "lead", "T+3h20m")
    s = status(st, "T+3h30m")
    assert (s["eta"], s["ended_t"], s["late_seconds"]) == (
        None, "T+3h20m", 4800)
    assert all(x["done"] for x in s["stages"])
    assert s["late_tasks"] == []  # watch is planned at T+10h
    text = g(st, "status", when="T+3h30m").out
    assert "ended:     T+3h20m" in text and "1h20m late" in text
    assert g(st, "audit", "verify").rc == 0


def test_without_decides_the_last_verify_task_decides(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN.replace(", decides: go", ""))
    r = golive("validate", plan, "--json")
    assert r.rc == 0 and [d["code"] for d in json.loads(r.out)] == [
        "no-decision"], r
    assert golive("run", "start", plan,
                  env={"GOLIVE_NOW": at("T-1h")}).rc == 0
    s = status(tmp_path / "golive.state", "T-1h")
    # regression is the verify task planned to end last (T+2h)
    d = s["decision"]
    assert (d["task"], d["marked"], d["planned_end_t"]) == (
        "regression", False, "T+2h")
    two = PLAN.replace("duration: 30m}\n  - {id: reconcile",
                       "duration: 30m, decides: go}\n  - {id: reconcile")
    plan.write_text(two)
    r = golive("validate", plan, "--json")
    assert r.rc == 1 and [d["code"] for d in json.loads(r.out)] == [
        "decides-twice"], r


def test_a_shift_does_not_rewrite_what_a_started_task_was_planned(tmp_path):
    plan = tmp_path / "plan.yaml"
    shutil.copy(os.path.join(HERE, "night.yaml"), plan)
    T = lambda rel: at(rel)  # noqa: E731
    assert golive("run", "start", plan,
                  env={"GOLIVE_NOW": T("T-6h")}).rc == 0
    st = tmp_path / "golive.state"
    act(st, "start", "freeze", "bob", "T-6h")
    act(st, "done", "freeze", "bob", "T-5h30m")
    act(st, "check", "freeze", "ann", "T-5h30m")
    act(st, "start", "load", "ann", "T-5h30m")
    r = g(st, "shift", "T0", "--to", "T+30m", "--as", "lead", "--note",
          "backend late", when="T-5h")
    assert r.rc == 0, r
    rep = json.loads(g(st, "report", "--format", "json", when="T-5h").out)
    tasks = {t["id"]: t for t in rep["tasks"]}
    # freeze (at: T-6h) was planned at 18:00 and started then; the shift
    # moves what has not started: banner and release
    assert (tasks["freeze"]["planned_start"], tasks["freeze"]["started"]) == (
        "2026-03-13T18:00:00+08:00", "2026-03-13T18:00:00+08:00")
    assert tasks["freeze"]["planned_end"] == "2026-03-13T18:30:00+08:00"
    assert (tasks["load"]["planned_start"], tasks["load"]["planned_end"]) == (
        "2026-03-13T18:30:00+08:00", "2026-03-13T20:30:00+08:00")
    assert tasks["banner"]["planned_start"] == "2026-03-13T19:00:00+08:00"
    assert tasks["release"]["planned_start"] == "2026-03-14T00:30:00+08:00"
    assert [c["detail"] for c in rep["changes"]] == [
        "T0 moved from 2026-03-14T00:00:00+08:00 to "
        "2026-03-14T00:30:00+08:00: backend late"]
    # the plan a task was held to is in its task.start event
    db = sqlite3.connect(st)
    starts = {json.loads(p)["task"]: json.loads(p) for (p,) in db.execute(
        "SELECT payload FROM events WHERE kind = 'task.start'")}
    row = db.execute("SELECT planned_start, planned_end FROM tasks WHERE"
                     " id = 'freeze'").fetchone()
    db.close()
    assert (starts["freeze"]["planned_start"],
            starts["freeze"]["planned_end"]) == (
        "2026-03-13T10:00:00Z", "2026-03-13T10:30:00Z")
    assert row == ("2026-03-13T10:00:00Z", "2026-03-13T10:30:00Z")
    # status holds freeze to that plan too; the late list to the new one
    s = status(st, "T-5h")
    fr = [t for t in s["task_list"] if t["id"] == "freeze"][0]
    assert fr["planned_start"] == "2026-03-13T18:00:00+08:00"
    # reopened (once load, resting on it, has ended), freeze is planned
    # anew: from the shifted T0
    act(st, "done", "load", "ann", "T-5h")
    act(st, "reopen", "freeze", "ann", "T-5h")
    s = status(st, "T-5h")
    fr = [t for t in s["task_list"] if t["id"] == "freeze"][0]
    assert fr["planned_start"] == "2026-03-13T18:30:00+08:00"
    assert g(st, "audit", "verify").rc == 0


def test_a_large_run_is_answered_in_linear_time(tmp_path):
    """5,000 tasks, each depending on the five before it (the issue's
    status ran past 10 minutes on such a run; every pass is now linear):
    status and the report answer within the subprocess timeout, and the
    critical path is the whole chain."""
    n = 5000
    lines = ["cutover: big", "switch_at: 2026-03-14T00:00:00+08:00",
             "people: [{id: lead, roles: [lead]}, {id: ann, roles: [ops]}]",
             "tasks:"]
    for i in range(n):
        deps = ", ".join("t%d" % j for j in range(max(0, i - 5), i))
        lines.append("  - {id: t%d, stage: %s, owner: ann, checker: lead, %s,"
                     " duration: 1m%s}" % (
                         i, "verify" if i == n - 1 else "sync",
                         "depends_on: [%s]" % deps if deps else "at: T-6h",
                         ", decides: go" if i == n - 1 else ""))
    plan = tmp_path / "plan.yaml"
    plan.write_text("\n".join(lines) + "\n")
    env = {"GOLIVE_NOW": at("T-6h")}
    r = golive("run", "start", plan, env=env, timeout=60)
    assert r.rc == 0, r
    st = tmp_path / "golive.state"
    r = golive("status", "--json", "--state", st, env=env, timeout=60)
    assert r.rc == 0, r
    s = json.loads(r.out)
    # 5,000 one-minute tasks one after the other from T-6h
    assert s["eta_t"] == s["planned_end_t"] == "T+3d5h20m"
    assert len(s["chain"]) == n and s["chain"][-1] == "t4999"
    assert s["decision"]["task"] == "t4999"
    r = golive("status", "--state", st, env=env, timeout=60)
    assert r.rc == 0 and "(4992 more)" in r.out, r
    r = golive("report", "--format", "json", "--state", st, env=env,
               timeout=60)
    assert r.rc == 0 and len(json.loads(r.out)["tasks"]) == n


def test_an_overrun_under_one_says_it_is_not_applied(night):
    """freeze took 10 minutes of its 30: the factor is x0.33, but what
    remains is never planned shorter, and status says so."""
    act(night, "start", "freeze", "bob", "T-1h")
    act(night, "done", "freeze", "bob", "T-50m")
    s = status(night, "T-45m")
    assert round(s["overrun"], 2) == 0.33
    text = g(night, "status", when="T-45m").out
    assert ("overrun x0.33 (1 finished task: 10m against 30m planned; under "
            "x1, the rest keeps its planned durations)") in text, text
    # the release stays planned at T0 .. T+30m, not shortened
    assert stages(s)["release"]["eta_t"] == "T+30m"
