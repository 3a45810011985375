"""`golive task`: the doer and the checker, in order and on time; every
move audited."""
import json
import sqlite3

from conftest import golive

EVENING = "2026-03-13T18:00:00+08:00"   # T-6h
NIGHT = "2026-03-13T22:30:00+08:00"     # T-1h30m
MIDNIGHT = "2026-03-14T00:00:00+08:00"  # T0


def task(state, action, tid, who, now=EVENING, *extra):
    return golive("task", action, tid, "--as", who, "--state", state, *extra,
                  env={"GOLIVE_NOW": now})


def states(state):
    db = sqlite3.connect(state)
    try:
        return dict(db.execute("SELECT id, state FROM tasks"))
    finally:
        db.close()


def started(tmp_path, good_plan):
    """A run of the good plan, its tasks worked by hand: the load's run:
    (executed by task start, see test_task_run.py) is taken out."""
    text = good_plan.read_text()
    assert ", run: sync users" in text
    good_plan.write_text(text.replace(", run: sync users", ""))
    assert golive("run", "start", good_plan).rc == 0
    return tmp_path / "golive.state"


def test_a_night_in_order(tmp_path, good_plan):
    st = started(tmp_path, good_plan)
    assert task(st, "start", "freeze", "bob").rc == 0
    assert task(st, "done", "freeze", "bob").rc == 0
    assert task(st, "check", "freeze", "ann").rc == 0
    assert task(st, "start", "load", "ann", NIGHT).rc == 0
    assert task(st, "done", "load", "ann", NIGHT).rc == 0
    assert task(st, "check", "load", "bob", NIGHT).rc == 0
    r = task(st, "start", "release", "bob", MIDNIGHT, "--json")
    assert r.rc == 0 and json.loads(r.out) == {
        "task": "release", "from": "pending", "to": "running", "as": "bob"}
    assert states(st)["release"] == "running"
    s = json.loads(golive("status", "--state", st, "--json",
                          env={"GOLIVE_NOW": MIDNIGHT}).out)
    assert s["tasks"]["prepare"]["checked"] == 1
    assert s["tasks"]["release"]["running"] == 1
    # every move is an event with its actor, and the chain holds
    db = sqlite3.connect(st)
    ev = db.execute("SELECT kind, actor FROM events ORDER BY seq").fetchall()
    assert ev[1:4] == [("task.start", "bob"), ("task.done", "bob"),
                       ("task.check", "ann")]
    assert golive("audit", "verify", "--state", st).rc == 0


def test_checker_signing_own_task_is_refused(tmp_path, good_plan):
    st = started(tmp_path, good_plan)
    task(st, "start", "freeze", "bob")
    task(st, "done", "freeze", "bob")
    r = task(st, "check", "freeze", "bob")
    assert r.rc == 3 and "cannot check it" in r.err and "ann" in r.err
    r = task(st, "check", "freeze", "lead")
    assert r.rc == 3 and "only the checker of task 'freeze' (ann)" in r.err
    assert states(st)["freeze"] == "done"


def test_not_ready_before_dependencies_are_checked(tmp_path, good_plan):
    st = started(tmp_path, good_plan)
    r = task(st, "start", "load", "ann", NIGHT)
    assert r.rc == 3 and "waits for 'freeze'" in r.err
    task(st, "start", "freeze", "bob")
    task(st, "done", "freeze", "bob")
    r = task(st, "start", "load", "ann", NIGHT)
    assert r.rc == 3 and "not checked yet" in r.err  # done is not enough
    assert states(st)["load"] == "pending"


def test_a_t0_task_waits_for_t0_unless_the_lead_forces(tmp_path, good_plan):
    st = started(tmp_path, good_plan)
    for tid, who, chk in (("freeze", "bob", "ann"), ("load", "ann", "bob")):
        task(st, "start", tid, who, NIGHT)
        task(st, "done", tid, who, NIGHT)
        task(st, "check", tid, chk, NIGHT)
    r = task(st, "start", "release", "bob", NIGHT)
    assert r.rc == 3 and "starts at T0" in r.err and "--force" in r.err
    r = task(st, "start", "release", "bob", NIGHT, "--force")
    assert r.rc == 3 and "only the lead" in r.err
    r = task(st, "start", "release", "lead", NIGHT, "--force")
    assert r.rc == 0, r
    db = sqlite3.connect(st)
    payload = db.execute("SELECT payload FROM events WHERE kind = 'task.start'"
                         " ORDER BY seq DESC LIMIT 1").fetchone()[0]
    assert json.loads(payload)["force"] is True


def test_who_may_do_what(tmp_path, good_plan):
    st = started(tmp_path, good_plan)
    r = task(st, "start", "freeze", "ann")
    assert r.rc == 3 and "owner of task 'freeze' (bob)" in r.err
    r = task(st, "start", "freeze", "mallory")
    assert r.rc == 3 and "not a person of the plan" in r.err
    r = task(st, "skip", "freeze", "bob")
    assert r.rc == 2 and "--note" in r.err
    assert task(st, "skip", "freeze", "bob", EVENING, "--note", "done by hand").rc == 0
    # a skipped dependency lets the next task start
    assert task(st, "start", "load", "ann", NIGHT).rc == 0
    assert task(st, "fail", "load", "ann", NIGHT).rc == 0
    r = task(st, "reopen", "load", "lead", NIGHT)
    assert r.rc == 0 and states(st)["load"] == "pending"
    r = task(st, "dance", "load", "lead")
    assert r.rc == 2
    r = task(st, "start", "nope", "lead")
    assert r.rc == 2 and "no task 'nope'" in r.err


def test_eight_processes_at_once_lose_nothing(tmp_path):
    """Eight CLI processes changing the same run at once, 200 changes each:
    every command exits 0, the store holds 1,600 new events, the chain
    verifies."""
    import subprocess
    import textwrap
    from conftest import BIN
    people = "".join("  - {id: p%d, roles: [ops]}\n  - {id: q%d, roles: [ops]}\n"
                     % (i, i) for i in range(8))
    tasks = "".join("  - {id: t%d, title: T, stage: prepare, owner: p%d,"
                    " checker: q%d, duration: 1m}\n" % (i, i, i) for i in range(8))
    plan = tmp_path / "plan.yaml"
    plan.write_text(textwrap.dedent("""\
        cutover: busy
        switch_at: 2026-03-14T00:00:00Z
        people:
          - {id: lead, roles: [lead]}
        """) + people + "tasks:\n" + tasks)
    assert golive("run", "start", plan).rc == 0
    st = tmp_path / "golive.state"
    # each worker: start, fail, reopen, over and over: 200 changes
    script = textwrap.dedent("""\
        i=$1; n=0
        while [ $n -lt 200 ]; do
          for a in start fail reopen; do
            [ $n -lt 200 ] || break
            "$BIN" task $a t$i --as p$i --state "$ST" >/dev/null || exit 1
            n=$((n + 1))
          done
        done
        """)
    sh = tmp_path / "w.sh"
    sh.write_text(script)
    import os
    env = dict(os.environ, BIN=BIN, ST=str(st))
    procs = [subprocess.Popen(["sh", str(sh), str(i)], env=env,
                              stderr=subprocess.PIPE, text=True)
             for i in range(8)]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    db = sqlite3.connect(st)
    assert db.execute("SELECT count(*) FROM events").fetchone()[0] == 1 + 1600
    db.close()
    r = golive("audit", "verify", "--state", st)
    assert r.rc == 0 and "1601 events" in r.out


def test_scenarios_riskiest_first_and_results(tmp_path):
    import textwrap
    plan = tmp_path / "plan.yaml"
    plan.write_text(textwrap.dedent("""\
        cutover: verify
        switch_at: 2026-03-14T00:00:00Z
        people:
          - {id: lead, roles: [lead]}
          - {id: chen, roles: [tester]}
          - {id: huang, roles: [tester]}
          - {id: liu, roles: [dev]}
        scenarios:
          - {id: S-1, area: expense, title: a, priority: P2, risk: 1}
          - {id: S-2, area: expense, title: b, priority: P0, risk: 5, assignee: huang}
          - {id: S-3, area: leave, title: c, priority: P0, risk: 5}
          - {id: S-4, area: leave, title: d, priority: P1, risk: 3, assignee: chen}
        """))
    assert golive("run", "start", plan).rc == 0
    st = tmp_path / "golive.state"

    def sc(*a):
        return golive("scenario", *a, "--state", st)
    # chen: S-4 and S-2's equal risk ... highest risk among chen's or
    # nobody's: S-3 (5, P0), then S-4 (3), then S-1; S-2 is huang's
    assert sc("next", "--as", "chen").out.startswith("S-3: yours")
    # one at a time: while chen holds S-3, next answers with it
    r = sc("next", "--as", "chen")
    assert r.rc == 0 and r.out.startswith("S-3: already yours since"), r
    assert sc("pass", "S-3", "--as", "chen").rc == 0
    assert sc("next", "--as", "chen").out.startswith("S-4: yours")
    assert sc("next", "--as", "huang").out.startswith("S-2: yours")
    assert sc("fail", "S-4", "--as", "chen", "--note", "D-1").rc == 0
    assert sc("next", "--as", "chen").out.startswith("S-1: yours")
    assert sc("block", "S-2", "--as", "huang", "--note", "env down").rc == 0
    r = sc("next", "--as", "huang")
    assert r.rc == 1 and "every scenario has been taken" in r.out
    r = sc("next", "--as", "liu")
    assert r.rc == 3 and "not a tester" in r.err and "chen" in r.err
    r = sc("pass", "S-9", "--as", "chen")
    assert r.rc == 2 and "no scenario 'S-9'" in r.err
    prog = json.loads(sc("progress", "--json").out)
    assert prog["testers"]["chen"] == {"passed": 1, "failed": 1, "running": 1}
    assert prog["testers"]["huang"] == {"blocked": 1}
    assert prog["areas"]["leave"] == {"passed": 1, "failed": 1}
    db = sqlite3.connect(st)
    kinds = [k for (k,) in db.execute("SELECT kind FROM events ORDER BY seq")]
    assert kinds.count("scenario.take") == 4
    assert [k for k in kinds if k.startswith("scenario.") and
            k != "scenario.take"] == [
        "scenario.pass", "scenario.fail", "scenario.block"]
    assert golive("audit", "verify", "--state", st).rc == 0
