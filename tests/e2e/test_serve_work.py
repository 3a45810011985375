"""`golive serve`: tasks, scenarios, shift and handover over HTTP (#13.3,
#13.4).  Each change is the CLI's library call and the same audited event,
its actor the token's person; every task and scenario carries the actions
its reader may take now, and why not; refusals are 403 (who may) or 409
(what first)."""
import json
import os
import pwd
import sqlite3
import threading
import time

import pytest

from conftest import golive
from serving import Server, issue_token

PLAN = """\
cutover: api
switch_at: 2026-03-14T00:00:00Z
people:
  - {id: lead, roles: [lead]}
  - {id: ann, roles: [ops, tester]}
  - {id: bob, roles: [ops, dev, tester]}
  - {id: cy, roles: [ops]}
tasks:
  - {id: t1, title: First, stage: prepare, owner: ann, checker: bob,
     duration: 10m}
  - {id: t2, title: Second, stage: prepare, owner: bob, checker: ann,
     depends_on: [t1], duration: 10m}
  - {id: race, title: Raced, stage: prepare, owner: cy, checker: ann}
  - {id: hello, title: Hello, stage: prepare, owner: ann, checker: bob,
     run: "shell echo hello from $GOLIVE_TASK"}
scenarios:
  - {id: S1, title: Order, area: sales, priority: P0, risk: 3}
  - {id: S2, title: Invoice, area: finance, priority: P1, risk: 1,
     assignee: bob}
"""

OS_USER = pwd.getpwuid(os.geteuid()).pw_name


@pytest.fixture
def run(tmp_path):
    """A started run of PLAN and tokens for its people and a viewer."""
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    assert golive("run", "start", plan).rc == 0
    st = tmp_path / "golive.state"
    tok = {p: issue_token(st, p) for p in ("lead", "ann", "bob", "cy")}
    r = golive("token", "issue", "--state", st, "--viewer", "wall", "--as",
               "lead", "--json")
    assert r.rc == 0, r
    tok["wall"] = json.loads(r.out)["token"]
    return st, tok


def actions(obj):
    return {a["action"]: a for a in obj["actions"]}


def events(st, after=0):
    db = sqlite3.connect(st)
    try:
        return db.execute("SELECT kind, actor, os_user, payload FROM events"
                          " WHERE seq > ? ORDER BY seq", (after,)).fetchall()
    finally:
        db.close()


def last_seq(st):
    db = sqlite3.connect(st)
    try:
        return db.execute("SELECT max(seq) FROM events").fetchone()[0]
    finally:
        db.close()


def verified(st):
    r = golive("audit", "verify", "--state", st)
    return r.rc == 0 and "chain intact" in r.out


def test_tasks_list_each_with_its_actions(run):
    st, tok = run
    with Server(st) as s:
        code, _, body = s.call("GET", "/api/v1/tasks", tok["ann"])
        assert code == 200
        tasks = {t["id"]: t for t in body["tasks"]}
        assert set(tasks) == {"t1", "t2", "race", "hello"}
        t1 = tasks["t1"]
        assert (t1["state"], t1["owner"], t1["checker"]) == \
            ("ready", "ann", "bob")
        assert t1["planned_start"] == "2026-03-14T00:00:00Z"
        assert t1["planned_start_t"] == "T0"
        assert t1["planned_end"] == "2026-03-14T00:10:00Z"
        assert t1["started"] is None
        a = actions(t1)
        assert list(a) == ["start", "done", "fail", "skip", "check",
                           "reopen"]
        assert a["start"] == {"action": "start", "allowed": True}
        assert a["done"]["allowed"] is False
        assert a["done"]["code"] == "conflict"
        assert "only a running task is done" in a["done"]["reason"]
        # the owner never checks: the reason names the checker
        assert a["check"]["code"] == "forbidden"
        assert "its checker bob signs it off" in a["check"]["reason"]
        # t2 is bob's: not for ann ...
        a = actions(tasks["t2"])
        assert a["start"]["code"] == "forbidden"
        assert "only the owner of task 't2' (bob)" in a["start"]["reason"]
        assert tasks["t2"]["depends_on"] == ["t1"]
        # ... not now for bob: it waits for t1 ...
        code, _, t2 = s.call("GET", "/api/v1/tasks/t2", tok["bob"])
        a = actions(t2)
        assert a["start"]["code"] == "conflict"
        assert "waits for 't1'" in a["start"]["reason"]
        assert "force" not in a["start"]
        assert tasks["hello"]["run"].startswith("shell echo")
        # ... and the lead may start it early with force
        code, _, t2 = s.call("GET", "/api/v1/tasks/t2", tok["lead"])
        assert code == 200
        assert actions(t2)["start"]["force"] is True
        assert actions(t2)["start"]["allowed"] is False
        # a viewer may read, and takes no action
        code, _, t1 = s.call("GET", "/api/v1/tasks/t1", tok["wall"])
        assert code == 200
        assert all(not a["allowed"] and a["code"] == "forbidden" and
                   "viewer" in a["reason"] for a in t1["actions"])
        code, _, body = s.call("GET", "/api/v1/tasks/nope", tok["ann"])
        assert code == 404 and "no task 'nope'" in body["error"]["message"]
        code, _, body = s.call("GET", "/api/v1/tasks")
        assert code == 401
    # reading wrote nothing
    assert [e[0] for e in events(st)].count("task.start") == 0


def test_a_task_worked_through_the_api(run):
    st, tok = run
    seq = last_seq(st)
    with Server(st) as s:
        code, _, t = s.call("POST", "/api/v1/tasks/t1/start", tok["ann"],
                            {"note": "on it"})
        assert code == 200, t
        assert (t["from"], t["to"], t["as"], t["state"]) == \
            ("pending", "running", "ann", "running")
        assert actions(t)["done"]["allowed"] is True
        assert actions(t)["start"]["code"] == "conflict"
        code, _, t = s.call("POST", "/api/v1/tasks/t1/done", tok["ann"])
        assert code == 200 and t["state"] == "done"
        # the checker now may check, the owner may not
        assert actions(t)["check"]["code"] == "forbidden"
        code, _, t = s.call("GET", "/api/v1/tasks/t1", tok["bob"])
        assert actions(t)["check"]["allowed"] is True
        code, _, t = s.call("POST", "/api/v1/tasks/t1/check", tok["bob"], {})
        assert code == 200 and t["state"] == "checked"
        # reopen a sign-off: its checker or the lead only
        code, _, body = s.call("POST", "/api/v1/tasks/t1/reopen", tok["ann"])
        assert code == 403
        assert "only its checker bob or the lead (lead)" in \
            body["error"]["message"]
        code, _, t = s.call("POST", "/api/v1/tasks/t1/reopen", tok["bob"],
                            {"note": "count again"})
        assert code == 200 and (t["from"], t["state"]) == ("checked", "ready")
        code, _, t = s.call("POST", "/api/v1/tasks/t1/start", tok["ann"])
        code, _, t = s.call("POST", "/api/v1/tasks/t1/fail", tok["ann"],
                            {"note": "counts differ"})
        assert code == 200 and t["state"] == "failed"
        assert actions(t)["reopen"]["allowed"] is True
        # t2 depends on t1, which failed: the lead skips it, with force
        code, _, t = s.call("GET", "/api/v1/tasks/t2", tok["lead"])
        assert actions(t)["skip"]["force"] is True
        code, _, body = s.call("POST", "/api/v1/tasks/t2/skip", tok["lead"],
                               {"note": "not tonight"})
        assert code == 409
        assert "depends on 't1', which failed" in body["error"]["message"]
        code, _, t = s.call("POST", "/api/v1/tasks/t2/skip", tok["lead"],
                            {"note": "not tonight", "force": True})
        assert code == 200 and t["state"] == "skipped"
        code, _, body = s.call("POST", "/api/v1/tasks/race/skip", tok["cy"])
        assert code == 400 and "needs a reason" in body["error"]["message"]
    ev = events(st, seq)
    assert [(k, a) for k, a, _, _ in ev] == [
        ("task.start", "ann"), ("task.done", "ann"), ("task.check", "bob"),
        ("task.reopen", "bob"), ("task.start", "ann"), ("task.fail", "ann"),
        ("task.skip", "lead")]
    # the token's person, and the server's OS user at the client's address
    assert {o for _, _, o, _ in ev} == {OS_USER + "@127.0.0.1"}
    assert json.loads(ev[0][3])["note"] == "on it"
    assert verified(st)


def test_reopen_under_a_running_dependent(run):
    """t2 runs on t1: the lead's actions say t1 is not reopened now, the
    move is 409; once t2 is done the reopen takes it back, listed."""
    st, tok = run
    with Server(st) as s:
        for path, who in (("t1/start", "ann"), ("t1/done", "ann"),
                          ("t1/check", "bob"), ("t2/start", "bob")):
            code, _, t = s.call("POST", "/api/v1/tasks/" + path, tok[who])
            assert code == 200, t
        code, _, t = s.call("GET", "/api/v1/tasks/t1", tok["lead"])
        a = actions(t)["reopen"]
        assert a["allowed"] is False and a["code"] == "conflict", a
        assert "'t2', which depends on it, is running" in a["reason"]
        code, _, body = s.call("POST", "/api/v1/tasks/t1/reopen", tok["lead"])
        assert code == 409, body
        code, _, t = s.call("POST", "/api/v1/tasks/t2/done", tok["bob"])
        assert code == 200, t
        code, _, t = s.call("GET", "/api/v1/tasks/t1", tok["lead"])
        assert actions(t)["reopen"]["allowed"] is True
        code, _, t = s.call("POST", "/api/v1/tasks/t1/reopen", tok["lead"],
                            {"note": "again"})
        assert code == 200, t
        assert t["reopens"] == [{"task": "t2", "from": "done",
                                 "to": "pending"}]
    assert verified(st)


def test_refusals_say_who_may_or_what_first(run):
    st, tok = run
    seq = last_seq(st)
    with Server(st) as s:
        # 409: not now, and what must happen first
        code, _, body = s.call("POST", "/api/v1/tasks/t1/done", tok["ann"])
        assert code == 409 and body["error"]["code"] == "conflict"
        assert body["error"]["message"] == \
            "task 't1' is pending; only a running task is done"
        code, _, body = s.call("POST", "/api/v1/tasks/t2/start", tok["bob"])
        assert code == 409
        assert "waits for 't1', which is pending" in body["error"]["message"]
        # 403: not this person, and who may
        code, _, body = s.call("POST", "/api/v1/tasks/t1/start", tok["cy"])
        assert code == 403 and body["error"]["code"] == "forbidden"
        assert "only the owner of task 't1' (ann) starts it" in \
            body["error"]["message"]
        code, _, body = s.call("POST", "/api/v1/tasks/t2/start", tok["bob"],
                               {"force": True})
        assert code == 403
        assert "only the lead (lead) starts a task early" in \
            body["error"]["message"]
        s.call("POST", "/api/v1/tasks/t1/start", tok["ann"])
        s.call("POST", "/api/v1/tasks/t1/done", tok["ann"])
        code, _, body = s.call("POST", "/api/v1/tasks/t1/check", tok["ann"])
        assert code == 403
        assert body["error"]["message"] == (
            "ann owns task 't1' and cannot check it; its checker bob signs "
            "it off")
        # a viewer changes nothing
        code, _, body = s.call("POST", "/api/v1/tasks/t1/check", tok["wall"])
        assert code == 403 and "viewer" in body["error"]["message"]
        # the lead forces t2 before its dependency is checked: with a
        # reason, on the record (a missing one is a bad request, as a
        # skip's or a decision's)
        code, _, body = s.call("POST", "/api/v1/tasks/t2/start", tok["lead"],
                               {"force": True})
        assert code == 400 and "needs a reason (--note)" in \
            body["error"]["message"]
        code, _, t = s.call("POST", "/api/v1/tasks/t2/start", tok["lead"],
                            {"force": True, "note": "t1 is fine"})
        assert code == 200 and t["state"] == "running"
        assert t["owner"] == "bob"
    kinds = [(k, a) for k, a, _, _ in events(st, seq)]
    assert kinds == [("task.start", "ann"), ("task.done", "ann"),
                     ("task.start", "lead")]
    assert verified(st)


def test_bad_requests_name_the_field(run):
    st, tok = run
    seq = last_seq(st)
    with Server(st) as s:
        cases = [
            ({"force": "yes"}, "'force' takes true or false"),
            ({"note": 3}, "'note' takes a string"),
            ({"forse": True}, "'forse' is not a field of this request"),
            ({"resume": True, "restart": True}, "exclude each other"),
            ({"resume": True}, "'resume' is for a task whose run: is a sync"),
        ]
        for body, text in cases:
            code, _, r = s.call("POST", "/api/v1/tasks/t1/start", tok["ann"],
                                body)
            assert code == 400, (body, r)
            assert r["error"]["code"] == "bad_request"
            assert text in r["error"]["message"], (body, r)
        code, _, r = s.call("POST", "/api/v1/tasks/t1/done", tok["ann"],
                            {"resume": True})
        assert code == 400 and "'resume' goes with start" in \
            r["error"]["message"]
        code, _, r = s.call("POST", "/api/v1/tasks/t1/start", tok["ann"],
                            raw=b"{not json")
        assert code == 400 and r["error"]["code"] == "bad_json"
        code, _, r = s.call("POST", "/api/v1/tasks/nope/start", tok["ann"])
        assert code == 404 and "no task 'nope' in the plan" in \
            r["error"]["message"]
        code, _, r = s.call("POST", "/api/v1/tasks/t1/start", tok["ann"],
                            {"note": "x" * (65 * 1024)})
        assert code == 413
        code, _, r = s.call("POST", "/api/v1/tasks/t1/start", None, {})
        assert code == 401
        code, _, r = s.call("POST", "/api/v1/tasks/t1/start", "0" * 64, {})
        assert code == 401
        code, _, r = s.call("GET", "/api/v1/tasks/t1/start", tok["ann"])
        assert code == 405
    assert last_seq(st) == seq  # none of them wrote anything


def test_eight_clients_racing_one_move(run):
    st, tok = run
    seq = last_seq(st)
    with Server(st) as s:
        go = threading.Barrier(8)
        codes, lock = [], threading.Lock()

        def start():
            go.wait()
            code, _, body = s.call("POST", "/api/v1/tasks/race/start",
                                   tok["cy"])
            with lock:
                codes.append((code, body))

        threads = [threading.Thread(target=start) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(c for c, _ in codes) == [200] + [409] * 7
        for code, body in codes:
            if code == 409:
                assert body["error"]["message"] == (
                    "task 'race' is running; only a pending task starts "
                    "('golive task reopen' takes it back)")
    assert [k for k, _, _, _ in events(st, seq)] == ["task.start"]
    assert verified(st)


def test_a_run_task_runs_on_the_servers_host(run):
    st, tok = run
    with Server(st) as s:
        code, _, body = s.call("GET", "/api/v1/tasks/hello/output",
                               tok["ann"])
        assert code == 404 and "has not run yet" in body["error"]["message"]
        code, _, t = s.call("POST", "/api/v1/tasks/hello/start", tok["ann"])
        assert code == 200, t
        assert t["detached"] is True and t["to"] == "running"
        assert os.path.dirname(t["output"]) == \
            str(st.parent / "golive-output")
        deadline = time.time() + 20
        while time.time() < deadline:
            code, _, t = s.call("GET", "/api/v1/tasks/hello", tok["ann"])
            if t["state"] == "done":
                break
            time.sleep(0.1)
        assert t["state"] == "done"
        code, hdrs, text = s.call("GET", "/api/v1/tasks/hello/output",
                                  tok["bob"])
        assert code == 200 and hdrs["Content-Type"].startswith("text/plain")
        assert text == "hello from hello\n"
        assert actions(t)["check"]["allowed"] is False  # ann is its owner
    kinds = [(k, a) for k, a, _, _ in events(st)][-3:]
    # the start by the API; the supervisor records as the owner
    assert kinds == [("task.start", "ann"), ("task.exec", "ann"),
                     ("task.done", "ann")]
    assert verified(st)


def test_scenarios_over_http(run):
    st, tok = run
    seq = last_seq(st)
    with Server(st) as s:
        code, _, body = s.call("GET", "/api/v1/scenarios", tok["ann"])
        assert code == 200
        sc = {x["id"]: x for x in body["scenarios"]}
        assert sc["S1"]["state"] == "pending" and sc["S1"]["priority"] == "P0"
        assert sc["S2"]["assignee"] == "bob"
        assert [a["action"] for a in sc["S1"]["actions"]] == \
            ["pass", "fail", "block"]
        assert all(a["allowed"] for a in sc["S1"]["actions"])
        # cy is no tester: 403 naming the testers
        code, _, x = s.call("GET", "/api/v1/scenarios/S1", tok["cy"])
        a = actions(x)["pass"]
        assert a["code"] == "forbidden" and "testers run scenarios (ann, bob)" \
            in a["reason"]
        code, _, body = s.call("POST", "/api/v1/scenarios/S1/pass", tok["cy"])
        assert code == 403
        assert body["error"]["message"] == \
            "cy is not a tester; testers run scenarios (ann, bob)"
        code, _, body = s.call("POST", "/api/v1/scenarios/next", tok["cy"])
        assert code == 403
        # the riskiest first, one at a time
        code, _, body = s.call("POST", "/api/v1/scenarios/next", tok["ann"])
        assert code == 200 and body["scenario"]["id"] == "S1"
        assert body["scenario"]["state"] == "running"
        assert body["scenario"]["taken_by"] == "ann"
        assert body["since"] is None and body["tester"] == "ann"
        code, _, body = s.call("POST", "/api/v1/scenarios/next", tok["ann"])
        assert code == 200 and body["scenario"]["id"] == "S1"
        assert body["since"] is not None
        code, _, x = s.call("POST", "/api/v1/scenarios/S1/pass", tok["ann"],
                            {"note": "ok with record 42"})
        assert code == 200 and x["state"] == "passed"
        assert x["result_by"] == "ann" and x["note"] == "ok with record 42"
        a = actions(x)
        assert a["pass"]["code"] == "conflict"
        assert "is passed already" in a["pass"]["reason"]
        assert a["fail"]["allowed"] is True
        code, _, body = s.call("POST", "/api/v1/scenarios/S1/pass",
                               tok["bob"])
        assert code == 409 and "is passed already (recorded by ann" in \
            body["error"]["message"]
        code, _, body = s.call("POST", "/api/v1/scenarios/S1/block",
                               tok["bob"], {"note": 1})
        assert code == 400 and "'note' takes a string" in \
            body["error"]["message"]
        code, _, body = s.call("POST", "/api/v1/scenarios/S9/fail",
                               tok["bob"])
        assert code == 404 and "no scenario 'S9'" in body["error"]["message"]
        code, _, body = s.call("GET", "/api/v1/scenarios/S9", tok["bob"])
        assert code == 404
        # S2 is bob's; nothing is left for ann
        code, _, body = s.call("POST", "/api/v1/scenarios/next", tok["ann"])
        assert code == 200 and body["scenario"] is None
        assert "every scenario has been taken" in body["message"]
        code, _, body = s.call("POST", "/api/v1/scenarios/next", tok["wall"])
        assert code == 403
    ev = events(st, seq)
    assert [(k, a) for k, a, _, _ in ev] == [
        ("scenario.take", "ann"), ("scenario.pass", "ann")]
    assert {o for _, _, o, _ in ev} == {OS_USER + "@127.0.0.1"}
    assert verified(st)


def test_shift_moves_t0_for_every_reader(run):
    st, tok = run
    seq = last_seq(st)
    with Server(st) as s:
        code, _, body = s.call("POST", "/api/v1/shift", tok["ann"],
                               {"to": "T+1h"})
        assert code == 403
        assert body["error"]["message"] == \
            "only the lead moves the switch (lead)"
        code, _, body = s.call("POST", "/api/v1/shift", tok["lead"], {})
        assert code == 400 and body["error"]["message"] == "'to' is required"
        code, _, body = s.call("POST", "/api/v1/shift", tok["lead"],
                               {"to": "tomorrow"})
        assert code == 400 and "'to' takes a time" in body["error"]["message"]
        code, _, body = s.call("POST", "/api/v1/shift", tok["lead"],
                               {"to": "T+1h", "note": "release slipped"})
        assert code == 200
        assert body == {"from": "2026-03-14T00:00:00Z",
                        "to": "2026-03-14T01:00:00Z", "seconds": 3600,
                        "as": "lead"}
        # every answer after it holds the new T0
        for _ in range(4):
            code, _, t = s.call("GET", "/api/v1/tasks/t1", tok["ann"])
            assert t["planned_start"] == "2026-03-14T01:00:00Z"
            assert t["planned_start_t"] == "T0"
        code, _, body = s.call("POST", "/api/v1/shift", tok["lead"],
                               {"to": "2026-03-14T01:00:00Z"})
        assert code == 400 and "already" in body["error"]["message"]
    ev = events(st, seq)
    assert [(k, a) for k, a, _, _ in ev] == [("shift", "lead")]
    assert json.loads(ev[0][3])["note"] == "release slipped"
    assert verified(st)


def test_handover_over_http(run):
    st, tok = run
    seq = last_seq(st)
    with Server(st) as s:
        # ann checks t2, which bob does: he cannot take the check
        code, _, body = s.call("POST", "/api/v1/handover", tok["ann"],
                               {"to": "bob", "tasks": ["t2"]})
        assert code == 403
        assert body["error"]["message"] == (
            "nothing handed over to bob: bob does task 't2' and cannot also "
            "check it")
        code, _, body = s.call("POST", "/api/v1/handover", tok["ann"],
                               {"to": "bob", "tasks": "t2"})
        assert code == 400 and "'tasks' takes a list of strings" in \
            body["error"]["message"]
        code, _, body = s.call("POST", "/api/v1/handover", tok["ann"],
                               {"to": "bob", "defects": ["X-1"]})
        assert code == 400 and "'defects' takes defect ids" in \
            body["error"]["message"]
        code, _, body = s.call("POST", "/api/v1/handover", tok["ann"],
                               {"to": "bob", "tasks": ["nope"]})
        assert code == 404 and "no task 'nope'" in body["error"]["message"]
        code, _, body = s.call("POST", "/api/v1/handover", tok["ann"],
                               {"to": "zed"})
        assert code == 403
        assert body["error"]["message"] == "'zed' is not a person of the plan"
        code, _, body = s.call("POST", "/api/v1/handover", tok["ann"],
                               {"tasks": ["t1"]})
        assert code == 400 and "'to' is required" in body["error"]["message"]
        # all of ann's open work to cy
        code, _, body = s.call("POST", "/api/v1/handover", tok["ann"],
                               {"to": "cy", "note": "going to sleep"})
        assert code == 200, body
        assert body["from"] == "ann" and body["to"] == "cy"
        assert body["tasks"] == ["hello", "t1"]
        assert body["checks"] == ["t2"]
        # what cy may not take stays, and says why
        assert body["refused"] == [{
            "kind": "task", "id": "race",
            "why": "cy does task 'race' and cannot also check it"}]
        code, _, t1 = s.call("GET", "/api/v1/tasks/t1", tok["cy"])
        assert t1["owner"] == "cy"
        assert actions(t1)["start"]["allowed"] is True
        code, _, t1 = s.call("GET", "/api/v1/tasks/t1", tok["ann"])
        assert actions(t1)["start"]["code"] == "forbidden"
        code, _, body = s.call("POST", "/api/v1/handover", tok["wall"],
                               {"to": "cy"})
        assert code == 403
    ev = events(st, seq)
    assert [(k, a) for k, a, _, _ in ev] == [("handover", "ann")]
    assert ev[0][2] == OS_USER + "@127.0.0.1"
    assert verified(st)


ROUTES = [("GET", "/api/v1/tasks"), ("GET", "/api/v1/tasks/t1"),
          ("GET", "/api/v1/tasks/hello/output"),
          ("GET", "/api/v1/scenarios"), ("GET", "/api/v1/scenarios/S1")] + \
    [("POST", "/api/v1/tasks/t1/" + a)
     for a in ("start", "done", "fail", "skip", "check", "reopen")] + \
    [("POST", "/api/v1/scenarios/next")] + \
    [("POST", "/api/v1/scenarios/S1/" + a) for a in ("pass", "fail", "block")] + \
    [("POST", "/api/v1/shift"), ("POST", "/api/v1/handover")]


def test_every_route_needs_a_token_and_viewers_change_nothing(run):
    st, tok = run
    seq = last_seq(st)
    with Server(st) as s:
        for method, path in ROUTES:
            body = {} if method == "POST" else None
            code, _, r = s.call(method, path, None, body)
            assert code == 401 and r["error"]["code"] == "unauthorized", path
            if method == "POST":
                code, _, r = s.call(method, path, tok["wall"], body)
                assert code == 403 and "viewer" in r["error"]["message"], path
    assert last_seq(st) == seq
