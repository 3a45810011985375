"""The runbook's rules where an earlier session left a way around them:
four eyes whatever the plan says now, forcing past dependencies, skipping
past a failure, reopening what rests on a task, moving T0 after the
switch.  Each move is checked against the events it leaves."""
import json
import sqlite3

from conftest import golive

EVENING = "2026-03-13T18:00:00+08:00"   # T-6h
NIGHT = "2026-03-13T22:30:00+08:00"     # T-1h30m
MIDNIGHT = "2026-03-14T00:00:00+08:00"  # T0
LATE = "2026-03-14T01:00:00+08:00"      # T+1h


def g(st, *args, now=EVENING):
    return golive(*args, "--state", st, env={"GOLIVE_NOW": now})


def task(st, action, tid, who, now=EVENING, *extra):
    return g(st, "task", action, tid, "--as", who, *extra, now=now)


def states(st):
    db = sqlite3.connect(st)
    try:
        return dict(db.execute("SELECT id, state FROM tasks"))
    finally:
        db.close()


def events(st, kind):
    db = sqlite3.connect(st)
    try:
        return [(a, json.loads(p)) for a, p in db.execute(
            "SELECT actor, payload FROM events WHERE kind = ? ORDER BY seq",
            (kind,))]
    finally:
        db.close()


def started(tmp_path, good_plan):
    text = good_plan.read_text()
    good_plan.write_text(text.replace(", run: sync users", ""))
    assert golive("run", "start", good_plan).rc == 0
    return tmp_path / "golive.state"


def walk(st, tid, owner, checker, now=EVENING):
    assert task(st, "start", tid, owner, now).rc == 0
    assert task(st, "done", tid, owner, now).rc == 0
    assert task(st, "check", tid, checker, now).rc == 0


# ---- 1. four eyes whatever the plan says now ------------------------------

def test_who_did_a_task_never_checks_it_after_a_handover(tmp_path, good_plan):
    """bob starts freeze and hands it to lead, who finishes it; ann hands
    the check to bob (not the owner now): bob still did it."""
    st = started(tmp_path, good_plan)
    assert task(st, "start", "freeze", "bob").rc == 0
    r = g(st, "handover", "--as", "bob", "--to", "lead", "--task", "freeze")
    assert r.rc == 0, r
    assert task(st, "done", "freeze", "lead").rc == 0
    r = g(st, "handover", "--as", "ann", "--to", "bob", "--task", "freeze")
    assert r.rc == 0, r
    r = task(st, "check", "freeze", "bob")
    assert r.rc == 3 and "bob did task 'freeze' and cannot check it" in r.err
    assert "handover" in r.err
    assert states(st)["freeze"] == "done"
    # ... and someone who did not do it may
    r = g(st, "handover", "--as", "bob", "--to", "ann", "--task", "freeze")
    assert r.rc == 0, r
    assert task(st, "check", "freeze", "ann").rc == 0
    assert g(st, "audit", "verify").rc == 0


def test_the_lead_who_forced_a_run_task_does_not_check_it(tmp_path,
                                                         good_plan):
    """A run: task's start runs it: the lead who forced the start of bob's
    run: task did the work, and its checker (the lead) may not sign it off;
    a lead's forced start of a task done by hand is not the work."""
    text = good_plan.read_text().replace(", run: sync users", "")
    fr = "  - {id: freeze,"
    assert fr in text
    good_plan.write_text(text.replace(fr, (
        "  - {id: backup, title: Back up, stage: prepare, owner: bob,"
        " checker: lead, at: T-6h, duration: 5m, run: shell echo did-it}\n"
        + fr), 1))
    assert golive("run", "start", good_plan).rc == 0
    st = tmp_path / "golive.state"
    r = task(st, "start", "backup", "lead", EVENING, "--force", "--note",
             "bob is late")
    assert r.rc == 0, r
    assert states(st)["backup"] == "done", r
    r = task(st, "check", "backup", "lead")
    assert r.rc == 3 and "lead did task 'backup'" in r.err, r
    # nor passes its check by with a skip
    r = task(st, "skip", "backup", "lead", EVENING, "--note", "done anyway")
    assert r.rc == 3 and "cannot skip its check" in r.err, r
    assert states(st)["backup"] == "done"
    # a task done by hand: the lead's forced start is not the work
    r = task(st, "start", "freeze", "lead", EVENING, "--force", "--note",
             "bob is late")
    assert r.rc == 0, r
    assert task(st, "done", "freeze", "bob").rc == 0
    assert task(st, "check", "freeze", "ann").rc == 0
    assert g(st, "audit", "verify").rc == 0


def test_amend_cannot_make_the_doer_the_checker(tmp_path, good_plan):
    st = started(tmp_path, good_plan)
    assert task(st, "start", "freeze", "bob").rc == 0
    assert task(st, "done", "freeze", "bob").rc == 0
    text = good_plan.read_text()
    old = "{id: freeze, title: Freeze, stage: prepare, owner: bob, checker: ann"
    assert old in text
    good_plan.write_text(text.replace(old, "{id: freeze, title: Freeze, stage:"
                                      " prepare, owner: ann, checker: bob"))
    r = g(st, "run", "amend", str(good_plan), "--as", "lead")
    assert r.rc == 3, r
    assert "task 'freeze' is done and bob did it: bob cannot be its checker" \
        in r.err
    r = task(st, "check", "freeze", "bob")
    assert r.rc == 3 and "cannot check it" in r.err
    assert states(st)["freeze"] == "done"
    # once reopened, the task is anyone's to do again: the same plan is
    # taken, and bob checks what ann does
    assert task(st, "reopen", "freeze", "lead").rc == 0
    r = g(st, "run", "amend", str(good_plan), "--as", "lead")
    assert r.rc == 0, r
    walk(st, "freeze", "ann", "bob")
    assert g(st, "audit", "verify").rc == 0


# ---- 2. forcing past dependencies needs a note, recorded -------------------

def test_forcing_past_dependencies_needs_a_note(tmp_path, good_plan):
    st = started(tmp_path, good_plan)
    assert task(st, "start", "freeze", "bob").rc == 0
    r = task(st, "start", "load", "lead", NIGHT, "--force")
    assert r.rc == 2 and "--note" in r.err and "'freeze'" in r.err, r
    # a note of only blanks is no note
    r = task(st, "start", "load", "lead", NIGHT, "--force", "--note", "  \t ")
    assert r.rc == 2 and "needs a reason (--note)" in r.err, r
    assert states(st)["load"] == "pending"
    r = task(st, "start", "load", "lead", NIGHT, "--force", "--note",
             "freeze is done by hand")
    assert r.rc == 0, r
    (actor, ev), = events(st, "task.start")[1:]
    assert actor == "lead" and ev["task"] == "load" and ev["force"] is True
    assert ev["unchecked_dependencies"] == ["freeze"]
    assert ev["note"] == "freeze is done by hand"
    # a forced start whose dependencies are checked needs no note
    assert task(st, "done", "load", "ann", NIGHT).rc == 0
    assert task(st, "done", "freeze", "bob", NIGHT).rc == 0
    assert task(st, "check", "freeze", "ann", NIGHT).rc == 0
    assert task(st, "check", "load", "bob", NIGHT).rc == 0
    assert task(st, "start", "release", "lead", NIGHT, "--force").rc == 0
    assert "unchecked_dependencies" not in events(st, "task.start")[-1][1]
    assert g(st, "audit", "verify").rc == 0


# ---- 3. skipping past a failure is the lead's ------------------------------

def test_skipping_after_a_failed_dependency(tmp_path, good_plan):
    st = started(tmp_path, good_plan)
    walk(st, "freeze", "bob", "ann")
    assert task(st, "start", "load", "ann", NIGHT).rc == 0
    assert task(st, "fail", "load", "ann", NIGHT).rc == 0
    r = task(st, "skip", "release", "bob", NIGHT, "--note", "not needed")
    assert r.rc == 3 and "depends on 'load', which failed" in r.err, r
    assert "lead" in r.err and "--force" in r.err
    r = task(st, "skip", "release", "bob", NIGHT, "--note", "x", "--force")
    assert r.rc == 3 and "only the lead" in r.err and "'load'" in r.err
    r = task(st, "skip", "release", "lead", NIGHT, "--force")
    assert r.rc == 2 and "--note" in r.err
    r = task(st, "skip", "release", "lead", NIGHT, "--force", "--note", "   ")
    assert r.rc == 2 and "needs a reason (--note)" in r.err, r
    # who may comes before the reason: ann neither owns it nor leads
    r = task(st, "skip", "release", "ann", NIGHT)
    assert r.rc == 3 and "only the owner of task 'release'" in r.err, r
    assert states(st)["release"] == "pending"
    r = task(st, "skip", "release", "lead", NIGHT, "--force", "--note",
             "released by hand")
    assert r.rc == 0, r
    (actor, ev), = events(st, "task.skip")
    assert actor == "lead" and ev["failed_dependencies"] == ["load"]
    assert g(st, "audit", "verify").rc == 0


# ---- 4. reopening takes back what rests on the task ------------------------

def test_reopen_takes_back_the_dependents(tmp_path, good_plan):
    st = started(tmp_path, good_plan)
    walk(st, "freeze", "bob", "ann")
    walk(st, "load", "ann", "bob", NIGHT)
    assert task(st, "start", "release", "bob", MIDNIGHT).rc == 0
    assert task(st, "done", "release", "bob", MIDNIGHT).rc == 0
    # ann checked freeze; load (checked by bob) and release (done) rest on
    # it: ann may not take back bob's sign-off of load
    r = task(st, "reopen", "freeze", "ann", MIDNIGHT)
    assert r.rc == 3 and "reopens 'load' too" in r.err, r
    assert "bob" in r.err and "lead" in r.err
    assert states(st) == {"freeze": "checked", "load": "checked",
                          "release": "done", "rb-1": "pending"}
    r = task(st, "reopen", "freeze", "lead", MIDNIGHT, "--note", "bad freeze",
              "--json")
    assert r.rc == 0, r
    assert states(st) == {"freeze": "pending", "load": "pending",
                          "release": "pending", "rb-1": "pending"}
    ev = events(st, "task.reopen")
    assert [(a, e["task"], e["from"], e.get("with")) for a, e in ev] == [
        ("lead", "freeze", "checked", None),
        ("lead", "load", "checked", "freeze"),
        ("lead", "release", "done", "freeze")]
    assert ev[0][1]["reopens"] == ["load", "release"]
    # the move says what it took back with it
    assert json.loads(r.out)["reopens"] == [
        {"task": "load", "from": "checked", "to": "pending"},
        {"task": "release", "from": "done", "to": "pending"}]
    assert all(e["note"] == "bad freeze" for _, e in ev)
    # a dependent reopened starts again only after freeze is checked again
    r = task(st, "start", "load", "ann", NIGHT)
    assert r.rc == 3 and "waits for 'freeze'" in r.err
    assert g(st, "audit", "verify").rc == 0


def test_reopen_refused_while_a_dependent_runs(tmp_path, good_plan):
    """load runs on freeze: freeze is not taken back under it; once load
    ended, a reopen takes it back too and says so, line by line."""
    st = started(tmp_path, good_plan)
    walk(st, "freeze", "bob", "ann")
    assert task(st, "start", "load", "ann", NIGHT).rc == 0
    for who in ("ann", "lead"):
        r = task(st, "reopen", "freeze", who, NIGHT)
        assert r.rc == 3, r
        assert "'load', which depends on it, is running" in r.err, r
        assert "its owner ann reports it done or failed first" in r.err
    assert states(st)["load"] == "running"
    assert events(st, "task.reopen") == []
    assert task(st, "done", "load", "ann", NIGHT).rc == 0
    r = task(st, "reopen", "freeze", "lead", NIGHT)
    assert r.rc == 0, r
    assert r.out.splitlines() == [
        "task freeze: checked -> pending (lead)",
        "task load: done -> pending (lead, with freeze)"]
    assert states(st)["load"] == "pending"
    assert g(st, "audit", "verify").rc == 0


def test_reopen_leaves_failed_dependents(tmp_path, good_plan):
    st = started(tmp_path, good_plan)
    walk(st, "freeze", "bob", "ann")
    assert task(st, "start", "load", "ann", NIGHT).rc == 0
    assert task(st, "fail", "load", "ann", NIGHT).rc == 0
    r = task(st, "reopen", "freeze", "ann", NIGHT)
    assert r.rc == 0, r
    assert r.out.splitlines() == ["task freeze: checked -> pending (ann)"]
    assert states(st)["load"] == "failed"
    assert len(events(st, "task.reopen")) == 1


# ---- 4b. notes and who may, for decide too --------------------------------

def test_decide_says_who_may_before_the_note(tmp_path, good_plan):
    st = started(tmp_path, good_plan)
    r = g(st, "decide", "no-go", "--as", "bob")
    assert r.rc == 3 and "only the lead decides" in r.err, r
    r = g(st, "decide", "no-go", "--as", "lead")
    assert r.rc == 2 and "a decision needs a --note" in r.err, r
    r = g(st, "decide", "no-go", "--as", "lead", "--note", " \n ")
    assert r.rc == 2 and "a decision needs a --note" in r.err, r
    assert events(st, "decide") == []


# ---- 4c. an amend refuses only what it changes ----------------------------

def test_amend_after_the_leads_forced_skip(tmp_path, good_plan):
    """freeze failed, the lead skipped load past it: a plan that keeps
    load's dependencies amends; one that adds a dependency not done yet
    is still refused."""
    st = started(tmp_path, good_plan)
    assert task(st, "start", "freeze", "bob").rc == 0
    assert task(st, "fail", "freeze", "bob").rc == 0
    r = task(st, "skip", "load", "lead", NIGHT, "--force", "--note",
             "loaded by hand")
    assert r.rc == 0, r
    text = good_plan.read_text()
    good_plan.write_text(text.replace("    key: [id]\n",
                                      "    key: [id]\n    mode: upsert\n"))
    r = g(st, "run", "amend", str(good_plan), "--as", "lead")
    assert r.rc == 0, r
    text = good_plan.read_text()
    old = "depends_on: [freeze], at: T-2h"
    assert old in text
    text = text.replace(old, "depends_on: [freeze, prep], at: T-2h")
    text = text.replace("tasks:\n", "tasks:\n  - {id: prep, title: Prep, "
                        "stage: prepare, owner: bob, checker: ann}\n")
    good_plan.write_text(text)
    r = g(st, "run", "amend", str(good_plan), "--as", "lead")
    assert r.rc == 3, r
    assert ("task 'load' is skipped already but would depend on 'prep', "
            "which is pending") in r.err
    assert "'freeze'" not in r.err
    assert g(st, "audit", "verify").rc == 0


# ---- 5. T0 stays once the switch happened or the run rolls back ----------

def test_shift_refused_after_the_switch(tmp_path, good_plan):
    st = started(tmp_path, good_plan)
    walk(st, "freeze", "bob", "ann")
    walk(st, "load", "ann", "bob", NIGHT)
    r = g(st, "shift", "T0", "--to", "T+30m", "--as", "lead", now=NIGHT)
    assert r.rc == 0, r
    assert task(st, "start", "release", "bob", LATE).rc == 0
    r = g(st, "shift", "T0", "--to", "T+30m", "--as", "lead", now=LATE)
    assert r.rc == 3 and "the switch happened" in r.err, r
    assert "'release'" in r.err
    # reopening the release does not undo the switch
    assert task(st, "fail", "release", "bob", LATE).rc == 0
    assert task(st, "reopen", "release", "lead", LATE).rc == 0
    r = g(st, "shift", "T0", "--to", "T+30m", "--as", "lead", now=LATE)
    assert r.rc == 3 and "the switch happened" in r.err
    assert len(events(st, "shift")) == 1


def test_shift_refused_after_the_rollback(tmp_path, good_plan):
    st = started(tmp_path, good_plan)
    r = g(st, "rollback", "--as", "lead", "--note", "broken", now=NIGHT)
    assert r.rc == 0, r
    r = g(st, "shift", "T0", "--to", "T+1h", "--as", "lead", now=NIGHT)
    assert r.rc == 3 and "rolling back" in r.err, r
    assert events(st, "shift") == []
