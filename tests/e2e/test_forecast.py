"""The verification forecast (#15): "when will testing be done?" from the
testers' own pace, the fixes still open and their re-verification.

A night replayed with GOLIVE_NOW: three testers at different paces (ann
10m, bob 20m, cat 45m a scenario), 20 scenarios, two blockers (D-1
fixing, D-2 open).  Every time asserted is worked out by hand in the
comments, the way docs/plan.md's worked example does it."""
import json
import shutil
import sqlite3

import pytest

from conftest import golive

PLAN = """\
cutover: night
switch_at: 2026-03-14T00:00:00+08:00
scenario_duration: 15m
fix_duration: 1h30m
people:
  - {id: lead, roles: [lead]}
  - {id: ann, roles: [tester]}
  - {id: bob, roles: [tester]}
  - {id: cat, roles: [tester]}
  - {id: dev1, roles: [dev]}
  - {id: dev2, roles: [dev]}
tasks:
  - {id: e2e, stage: verify, owner: lead, checker: dev2, at: T0, duration: 1h}
scenarios:
""" + "".join(
    "  - {id: S-%02d, title: scenario %d, risk: %d}\n" % (i, i, 21 - i)
    for i in range(1, 21))


def at(rel):
    """'T+1h55m' -> the ISO time of the night (T0 = 2026-03-14T00:00+08:00)."""
    secs = 0
    if rel != "T0":
        rest = rel[2:]
        for unit, mult in (("h", 3600), ("m", 60)):
            if unit in rest:
                n, rest = rest.split(unit, 1)
                secs += int(n) * mult
    h, m = divmod(secs // 60, 60)
    return "2026-03-14T%02d:%02d:00+08:00" % (h, m)


def g(st, when, *args):
    r = golive(*args, "--state", st, env={"GOLIVE_NOW": at(when)})
    assert r.rc == 0, r
    return r


def next_(st, when, who, want):
    r = g(st, when, "scenario", "next", "--as", who)
    assert want in r.out, r


def forecast(st, when):
    s = json.loads(g(st, when, "status", "--json").out)
    return s, s["forecast"]


def per_tester(fc):
    return {t["id"]: (t["left"], t["pace"] // 60, t.get("done_at_t"))
            for t in fc["testers"]}


@pytest.fixture
def night(tmp_path):
    """The night up to T+50m (ann takes each next scenario as she ends one):
      T0     ann S-01, bob S-02, cat S-03
      T+10m  ann passes S-01 (10m), takes S-04
      T+20m  ann passes S-04 (10m), takes S-05; bob fails S-02 (20m),
             opens blocker D-1 on it, takes S-06
      T+30m  ann passes S-05 (10m), takes S-07
      T+40m  ann blocks S-07 (10m), opens blocker D-2 on it, takes S-08;
             bob passes S-06 (20m), takes S-09
      T+45m  cat passes S-03 (45m), takes S-10; dev1 starts fixing D-1
      T+50m  ann passes S-08 (10m), takes S-11"""
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    r = golive("run", "start", plan, env={"GOLIVE_NOW": at("T0")})
    assert r.rc == 0, r
    st = tmp_path / "golive.state"
    for who, s in (("ann", "S-01"), ("bob", "S-02"), ("cat", "S-03")):
        next_(st, "T0", who, s)
    g(st, "T+10m", "scenario", "pass", "S-01", "--as", "ann")
    next_(st, "T+10m", "ann", "S-04")
    g(st, "T+20m", "scenario", "pass", "S-04", "--as", "ann")
    next_(st, "T+20m", "ann", "S-05")
    g(st, "T+20m", "scenario", "fail", "S-02", "--as", "bob")
    g(st, "T+20m", "defect", "open", "--scenario", "S-02", "--severity",
      "blocker", "--title", "approval lost", "--as", "bob")
    next_(st, "T+20m", "bob", "S-06")
    g(st, "T+30m", "scenario", "pass", "S-05", "--as", "ann")
    next_(st, "T+30m", "ann", "S-07")
    g(st, "T+40m", "scenario", "block", "S-07", "--as", "ann")
    g(st, "T+40m", "defect", "open", "--scenario", "S-07", "--severity",
      "blocker", "--title", "cannot submit", "--as", "ann")
    next_(st, "T+40m", "ann", "S-08")
    g(st, "T+40m", "scenario", "pass", "S-06", "--as", "bob")
    next_(st, "T+40m", "bob", "S-09")
    g(st, "T+45m", "scenario", "pass", "S-03", "--as", "cat")
    next_(st, "T+45m", "cat", "S-10")
    g(st, "T+45m", "defect", "fixing", "D-1", "--as", "dev1")
    g(st, "T+50m", "scenario", "pass", "S-08", "--as", "ann")
    next_(st, "T+50m", "ann", "S-11")
    return st


def copy(st, name):
    dst = st.parent / name
    shutil.copy(st, dst)
    return dst


def test_the_night_at_one_in_the_morning(night):
    s, fc = forecast(night, "T+1h")
    # Paces: ann 10m (median of 5), bob 20m (of 2), cat 45m (of 1).
    # Held: ann S-11 (taken T+50m) ends T+1h, bob S-09 (T+40m) T+1h, cat
    # S-10 (T+45m) T+1h30m.  S-02 and S-07 wait for their blockers' fixes
    # (their re-run is the re-verification).  S-12..S-20, riskiest first,
    # each to whoever would finish it first (ties: the plan's order):
    #   S-12 ann 1:00-1:10 (bob 1:20, cat 2:15), S-13 ann -1:20 (tie with
    #   bob), S-14 bob 1:00-1:20, S-15 ann -1:30, S-16 ann -1:40 (tie),
    #   S-17 bob -1:40, S-18 ann -1:50, S-19 ann -2:00 (tie), S-20 bob
    #   -2:00; cat, 45m a scenario, finishes none of them first
    t = fc["testing"]
    assert (t["done"], t["at_t"], t["by"], t["left"]) == (
        False, "T+2h", "ann", 12)
    assert per_tester(fc) == {"ann": (7, 10, "T+2h"), "bob": (4, 20, "T+2h"),
                           "cat": (1, 45, "T+1h30m")}
    # Fixes (no defect fixed yet: fix_duration 1h30m): D-1 fixing since
    # T+45m is in at T+2h15m, D-2 open from now at T+2h30m.  Re-verified
    # by whoever (not dev1) finishes first once their list is done: D-1 by
    # ann 2:15-2:25, D-2 by ann 2:30-2:40 (bob: 2:50, cat: 3:15).
    assert fc["fix"] == {"seconds": 5400, "basis": "plan", "fixed": 0}
    d = {x["id"]: (x["fix_end_t"], x["reverify_by"], x["verified_eta_t"])
         for x in fc["defects"]}
    assert d == {"D-1": ("T+2h15m", "ann", "T+2h25m"),
                 "D-2": ("T+2h30m", "ann", "T+2h40m")}
    v = fc["verified"]
    assert (v["done"], v["at_t"], v["by"]) == (False, "T+2h40m", "D-2")
    # the verify stage (its task: T+1h to T+2h) ends when all is verified
    sg = {x["stage"]: x for x in s["stages"]}["verify"]
    assert (sg["eta_t"], sg["set_by"], sg["late"]) == (
        "T+2h40m", "forecast", 6000)
    assert (s["eta_t"], s["eta_set_by"]) == ("T+2h40m", "forecast")

    text = g(night, "T+1h", "status").out
    assert "testing done at T+2h (2026-03-14T02:00:00+08:00), ann sets " \
        "it; 12 scenarios left" in text, text
    assert "ann: 7 left, pace 10m (median of 5), done at T+2h" in text
    assert "everything verified at T+2h40m (2026-03-14T02:40:00+08:00), " \
        "D-2 sets it" in text, text
    assert "D-1 (blocker, fixing; fixer dev1): fix in at T+2h15m" in text

    # the report: what the forecast said at each of the 8 results
    rep = json.loads(g(night, "T+1h", "report", "--format", "json").out)
    h = rep["forecast_history"]
    assert [(x["scenario"], x["result"]) for x in h] == [
        ("S-01", "passed"), ("S-04", "passed"), ("S-02", "failed"),
        ("S-05", "passed"), ("S-07", "blocked"), ("S-06", "passed"),
        ("S-03", "passed"), ("S-08", "passed")]
    # at T+50m (ann free, S-11..S-20 to lay out; bob free 1:00, cat 1:30):
    # ann S-11 0:50-1:00, ann S-12 -1:10, ann S-13 -1:20 (tie with bob),
    # bob S-14 1:00-1:20, ann S-15 -1:30, ann S-16 -1:40 (tie), bob S-17
    # -1:40, ann S-18 -1:50, ann S-19 -2:00 (tie), bob S-20 -2:00; D-1 in
    # at 2:15 (ann -2:25), D-2 from T+50m in at 2:20 (ann -2:35)
    assert (h[-1]["at"], h[-1]["testing_done"], h[-1]["testing_by"],
            h[-1]["verified"], h[-1]["verified_by"]) == (
        "2026-03-14T00:50:00+08:00", "2026-03-14T02:00:00+08:00", "ann",
        "2026-03-14T02:35:00+08:00", "D-2")
    md = g(night, "T+1h", "report", "--format", "md").out
    assert "## The verification forecast through the night" in md


def test_a_faster_tester_takes_more_of_what_is_left(night):
    # cat passes S-10 at T+1h: 15m, her pace the median of 45m and 15m;
    # all three free at T+1h, each scenario to who finishes it first:
    # S-12 ann -1:10, S-13 ann -1:20 (tie with bob), S-14 bob -1:20, S-15
    # ann -1:30 (tie with cat), S-16 cat 1:00-1:30 (at 45m she finished
    # none first), S-17 ann -1:40, S-18 bob -1:40, S-19 ann -1:50, S-20
    # ann -2:00 (tie with bob and cat)
    g(night, "T+1h", "scenario", "pass", "S-10", "--as", "cat")
    _, fc = forecast(night, "T+1h")
    t = fc["testing"]
    assert (t["at_t"], t["by"], t["left"]) == ("T+2h", "ann", 11)
    assert per_tester(fc) == {"ann": (7, 10, "T+2h"), "bob": (3, 20, "T+1h40m"),
                           "cat": (1, 30, "T+1h30m")}


def test_a_reopened_blocker_moves_verified_later(night):
    # dev1 fixes D-1 at T+1h50m (1h30m after it was opened: the median)
    g(night, "T+1h50m", "defect", "fixed", "D-1", "--as", "dev1")
    reopened = copy(night, "reopened.state")
    g(reopened, "T+2h", "defect", "reopen", "D-1", "--as", "bob")
    # At T+2h nobody recorded anything since T+50m: the held scenarios
    # end now, and S-12..S-20 go from T+2h: ann S-12 -2:10, ann S-13
    # -2:20 (tie with bob), bob S-14 -2:20, ann S-15 -2:30, ann S-16 -2:40
    # (tie), bob S-17 -2:40, ann S-18 -2:50, ann S-19 -3:00 (tie), bob
    # S-20 -3:00.
    _, fc = forecast(night, "T+2h")
    assert (fc["testing"]["at_t"], fc["testing"]["by"]) == ("T+3h", "ann")
    assert fc["fix"] == {"seconds": 5400, "basis": "median", "fixed": 1}
    # D-1 fixed (in at T+1h50m): cat, free, 2:00-2:45 (ann: 3:00-3:10);
    # D-2 open, in at 3:30: ann 3:30-3:40
    v = fc["verified"]
    assert (v["at_t"], v["by"]) == ("T+3h40m", "D-2")
    _, fc = forecast(reopened, "T+2h")
    # D-1 reopened: in again at 3:30, ann 3:30-3:40; D-2 then ann 3:40-3:50
    assert fc["testing"]["at_t"] == "T+3h"
    d = {x["id"]: (x["state"], x["fix_end_t"], x["verified_eta_t"])
         for x in fc["defects"]}
    assert d == {"D-1": ("reopened", "T+3h30m", "T+3h40m"),
                 "D-2": ("open", "T+3h30m", "T+3h50m")}
    v = fc["verified"]
    assert (v["at_t"], v["by"]) == ("T+3h50m", "D-2")


def test_a_handed_over_testers_scenarios_go_to_the_others(night):
    g(night, "T+1h", "handover", "--as", "ann", "--to", "bob")
    _, fc = forecast(night, "T+1h")
    # ann is off; her S-11 is bob's from the handover: S-09 ends T+1h,
    # then S-11 T+1h20m.  Each to who finishes it first: bob S-12
    # 1:20-1:40, bob S-13 -2:00, cat S-14 1:30-2:15, bob S-15 -2:20, bob
    # S-16 -2:40, bob S-17 -3:00 (tie with cat: the plan's order), cat
    # S-18 2:15-3:00, bob S-19 -3:20, bob S-20 -3:40
    assert [(t["id"], t["off"]) for t in fc["testers"]] == [
        ("ann", True), ("bob", False), ("cat", False)]
    assert per_tester(fc) == {"ann": (0, 10, None), "bob": (9, 20, "T+3h40m"),
                           "cat": (3, 45, "T+3h")}
    t = fc["testing"]
    assert (t["at_t"], t["by"], t["left"]) == ("T+3h40m", "bob", 12)
    # D-1 (in at 2:15) by cat 3:00-3:45, D-2 (2:30) by bob 3:40-4:00
    v = fc["verified"]
    assert (v["at_t"], v["by"]) == ("T+4h", "D-2")
    text = g(night, "T+1h", "status").out
    assert "ann: off (handed over)" in text
    # back at work: ann records a result and counts again
    g(night, "T+1h10m", "scenario", "pass", "S-12", "--as", "ann")
    _, fc = forecast(night, "T+1h10m")
    assert not fc["testers"][0]["off"]


def events(st):
    db = sqlite3.connect(st)
    try:
        return db.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        db.close()


def test_one_named_item_handed_over_times_from_the_handover(night):
    # ann hands over only S-11 (taken at T+50m) to cat: ann is not off
    # and is laid out work; cat holds S-10 and S-11
    g(night, "T+1h", "handover", "--as", "ann", "--to", "cat", "--scenario",
      "S-11")
    _, fc = forecast(night, "T+1h")
    assert [(t["id"], t["off"]) for t in fc["testers"]] == [
        ("ann", False), ("bob", False), ("cat", False)]
    assert fc["testers"][0]["left"] > 0
    assert fc["testers"][2]["running"] == 2
    assert "ann: off" not in g(night, "T+1h", "status").out
    # cat passes it at T+1h10m: 10m since the handover (not 20m since
    # ann took it); her pace the median of 45m and 10m
    g(night, "T+1h10m", "scenario", "pass", "S-11", "--as", "cat")
    _, fc = forecast(night, "T+1h10m")
    cat = fc["testers"][2]
    assert (cat["timed"], cat["pace"]) == (2, (45 + 10) * 60 // 2)


def test_a_partial_handover_keeps_the_running_scenario(night):
    # ann passes S-11 to cat; cat hands only S-11 on to bob: cat keeps her
    # own S-10 running (not handed out again) and is not off
    g(night, "T+1h", "handover", "--as", "ann", "--to", "cat", "--scenario",
      "S-11")
    g(night, "T+1h", "handover", "--as", "cat", "--to", "bob", "--scenario",
      "S-11")
    _, fc = forecast(night, "T+1h")
    cat = fc["testers"][2]
    assert (cat["off"], cat["running"]) == (False, 1)
    assert fc["testers"][1]["running"] == 2


def test_scenario_next_with_one_running_answers_with_it(night):
    n = events(night)
    r = g(night, "T+1h", "scenario", "next", "--as", "ann")
    assert r.out == "S-11: already yours since 00:50; record its result " \
        "first\n", r
    r = g(night, "T+1h", "scenario", "next", "--as", "ann", "--json")
    assert json.loads(r.out) == {"scenario": "S-11", "tester": "ann"}
    assert events(night) == n


def test_the_same_result_twice_is_refused(night):
    n = events(night)
    r = golive("scenario", "pass", "S-01", "--as", "ann", "--state", night,
               env={"GOLIVE_NOW": at("T+1h")})
    assert r.rc == 3, r
    assert "scenario 'S-01' is passed already (recorded by ann at 00:10)" \
        in r.err, r
    r = golive("scenario", "fail", "S-02", "--as", "bob", "--state", night,
               env={"GOLIVE_NOW": at("T+1h")})
    assert r.rc == 3 and "is failed already (recorded by bob at 00:20)" \
        in r.err, r
    assert events(night) == n
    # another result is a re-run: fail after pass is recorded
    g(night, "T+1h", "scenario", "fail", "S-01", "--as", "ann")
    rep = json.loads(g(night, "T+1h", "report", "--format", "json").out)
    assert [x["scenario"] for x in rep["forecast_history"]].count("S-01") == 2
    # a typo gets a hint
    r = golive("scenario", "pass", "S01", "--as", "ann", "--state", night)
    assert r.rc == 2 and "no scenario 'S01' in the plan; did you mean " \
        "'S-01'?" in r.err, r


def test_a_verified_defects_scenario_is_done(night):
    _, fc = forecast(night, "T+1h")
    assert fc["testing"]["left"] == 12
    g(night, "T+1h", "defect", "fixed", "D-1", "--as", "dev1")
    g(night, "T+1h", "defect", "verify", "D-1", "--as", "bob")
    # S-02 (failed) has its only defect verified: re-verified, not run
    # again; D-2 is the one fix left
    _, fc = forecast(night, "T+1h")
    assert fc["testing"]["left"] == 12
    assert [d["id"] for d in fc["defects"]] == ["D-2"]
    # the tester records the re-run: pass after fail is accepted
    g(night, "T+1h", "scenario", "pass", "S-02", "--as", "bob")


def test_the_decision_waits_for_everything_verified(night):
    s, fc = forecast(night, "T+1h")
    assert fc["verified"]["at_t"] == "T+2h40m"
    d = s["decision"]
    assert (d["task"], d["eta_t"], d["set_by"]) == ("e2e", "T+2h40m",
                                                    "forecast")
    text = g(night, "T+1h", "status").out
    line = text[text.index("go/no-go:"):]
    line = line[:line.index("\n", line.index("\n") + 1)]
    assert "ETA T+2h40m" in line and "set by the verification forecast" \
        in line, text


def test_small_words(night):
    md = g(night, "T+1h", "report", "--format", "md").out
    assert "- cutover: ETA " in md, md
    assert "go / no-go (e2e): ETA 2026-03-14T02:40:00+08:00 (planned end " \
        "2026-03-14T01:00:00+08:00); set by the verification forecast" in md, md
    r = golive("handover", "--as", "ann", "--to", "dev1", "--scenario",
               "S-11", "--state", night, env={"GOLIVE_NOW": at("T+1h")})
    assert r.rc == 3, r
    assert "(testers: bob, cat)" in r.err, r
