"""What a reviewer out to break `golive serve` found, kept fixed: a forged
access log line, a %00 that cut a path short, a blocked address freed by
a flood of others, a person taken out of the plan still changing the run,
a viewer reading the plan's text, a form posting a sign-in from another
site, a proxy address that is no address, HEAD."""
import re
import socket
import sqlite3

from conftest import golive
from serving import PausedSync, Server, issue_token

API = "/api/v1"


def started(tmp_path, good_plan):
    st = tmp_path / "golive.state"
    r = golive("run", "start", good_plan, "--state", st, "--as", "lead")
    assert r.rc == 0, r
    return st


def raw_request(port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(data)
        out = b""
        while True:
            b = c.recv(65536)
            if not b:
                return out
            out += b


def test_the_access_log_cannot_be_forged(tmp_path, good_plan):
    st = started(tmp_path, good_plan)
    with Server(st) as s:
        s.call("GET", API + "/tasks/t1%0aGET%20/api/v1/status%20200%20lead"
               "%200.1ms")
        s.call("GET", API + "/x%1b[31m%e2%80%ae")
    lines = [l for l in s.err.splitlines() if l.startswith("GET ")]
    assert not any(l.startswith("GET /api/v1/status 200 lead") for l in lines)
    assert any("\\x0aGET\\x20/api/v1/status" in l for l in lines), s.err
    assert "\x1b" not in s.err and "\u202e" not in s.err


def test_a_nul_in_the_path_matches_no_route(tmp_path, good_plan):
    st = started(tmp_path, good_plan)
    ann = issue_token(st, "ann")
    with Server(st) as s:
        code, _, b = s.call("POST", API + "/defects%00/D-1/verify", ann,
                            {"severity": "minor", "title": "x"})
        assert code == 404, b
    db = sqlite3.connect(st)
    assert db.execute("SELECT count(*) FROM defects").fetchone()[0] == 0


def test_head_is_get_without_a_body(tmp_path, good_plan):
    st = started(tmp_path, good_plan)
    with Server(st) as s:
        out = raw_request(s.port, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n"
                          b"Connection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200"), out
    assert out.endswith(b"\r\n\r\n"), out


def test_a_flood_of_other_addresses_does_not_lift_a_block(tmp_path,
                                                          good_plan):
    st = started(tmp_path, good_plan)
    t = issue_token(st, "ann")
    with Server(st, "--trusted-proxy", "127.0.0.1") as s:
        me = {"X-Forwarded-For": "10.1.1.1"}
        for i in range(10):
            assert s.call("GET", API + "/me", "%064x" % i, headers=me)[0] \
                == 401
        assert s.call("GET", API + "/me", t, headers=me)[0] == 429
        for i in range(3000):
            s.call("GET", API + "/me", "f" * 64, headers={
                "X-Forwarded-For": "10.2.%d.%d" % (i // 250, i % 250)})
        assert s.call("GET", API + "/me", t, headers=me)[0] == 429


def test_someone_taken_out_of_the_plan_changes_nothing(tmp_path, good_plan):
    text = good_plan.read_text()
    with_cy = tmp_path / "with-cy.yaml"
    with_cy.write_text(text.replace(
        "people:\n", "people:\n  - {id: cy, name: Cy, roles: [dev, tester]}\n",
        1))
    st = tmp_path / "golive.state"
    r = golive("run", "start", with_cy, "--state", st, "--as", "lead")
    assert r.rc == 0, r
    cy = issue_token(st, "cy")
    r = golive("run", "amend", good_plan, "--as", "lead", "--state", st)
    assert r.rc == 0, r
    with Server(st) as s:
        code, _, b = s.call("POST", API + "/defects", cy,
                            {"severity": "minor", "title": "by cy"})
        assert code == 403, b
        assert "'cy' is not a person of the run's plan" in \
            b["error"]["message"]
        assert s.call("GET", API + "/status", cy)[0] == 200


def test_a_viewer_does_not_read_the_plan(tmp_path, good_plan):
    st = started(tmp_path, good_plan)
    r = golive("token", "issue", "--viewer", "wall", "--as", "lead",
               "--json", "--state", st)
    assert r.rc == 0, r
    import json
    wall = json.loads(r.out)["token"]
    ann = issue_token(st, "ann")
    with Server(st) as s:
        code, _, b = s.call("GET", API + "/plan", wall)
        assert code == 403 and "viewer" in b["error"]["message"], b
        assert s.call("GET", API + "/plan", ann)[0] == 200


def test_a_sign_in_or_cookie_body_is_json(tmp_path, good_plan):
    """A page of another site can post a form (text/plain) unasked, but
    not application/json: a sign-in posted as a form is refused."""
    st = started(tmp_path, good_plan)
    t = issue_token(st, "ann")
    with Server(st) as s:
        code, h, b = s.call("POST", API + "/session",
                            raw=('{"token":"%s","x":"="}' % t).encode(),
                            headers={"Content-Type": "text/plain"})
        assert code == 415 and "Set-Cookie" not in h, b
        code, h, b = s.call("POST", API + "/session", body={"token": t})
        assert code == 200 and "Set-Cookie" in h


def test_the_trusted_proxy_is_an_address(tmp_path, good_plan):
    st = started(tmp_path, good_plan)
    for bad in ("localhost", "127.0.0.1/8", "garbage"):
        r = golive("serve", "--state", st, "--trusted-proxy", bad,
                   "--listen", "127.0.0.1:1")
        assert r.rc == 2 and "--trusted-proxy takes" in r.err, r


def test_a_scenario_being_run_is_its_testers_to_record(tmp_path, good_plan):
    """Another tester cannot record the result of a scenario someone is
    running (new-user trial); the lead may."""
    with_cy = tmp_path / "with-cy.yaml"
    with_cy.write_text(good_plan.read_text().replace(
        "people:\n", "people:\n  - {id: cy, name: Cy, roles: [tester]}\n", 1))
    st = tmp_path / "golive.state"
    assert golive("run", "start", with_cy, "--state", st,
                  "--as", "lead").rc == 0
    r = golive("scenario", "next", "--as", "ann", "--state", st)
    assert r.rc == 0 and "S-1" in r.out, r
    r = golive("scenario", "pass", "S-1", "--as", "cy", "--state", st)
    assert r.rc == 3, r
    assert "scenario 'S-1' is being run by ann" in r.err, r
    cy = issue_token(st, "cy")
    with Server(st) as s:
        code, _, b = s.call("POST", API + "/scenarios/S-1/fail", cy,
                            {"note": "x"})
        assert code == 403 and "being run by ann" in b["error"]["message"]
        code, _, b = s.call("GET", API + "/scenarios/S-1", cy)
        acts = {a["action"]: a for a in b["actions"]}
        assert acts["pass"]["allowed"] is False
        assert acts["pass"]["code"] == "forbidden"
    r = golive("scenario", "pass", "S-1", "--as", "ann", "--state", st)
    assert r.rc == 0, r


def test_the_duty_log_reads_as_the_cli_gives_it(tmp_path, good_plan):
    """GET /duty's times are at the plan's offset, as `duty list --json`
    gives them (they were UTC)."""
    import json
    st = started(tmp_path, good_plan)
    r = golive("duty", "log", "cannot log in", "--channel", "phone",
               "--kind", "question", "--as", "ann", "--state", st)
    assert r.rc == 0, r
    cli = json.loads(golive("duty", "list", "--json", "--state", st).out)
    ann = issue_token(st, "ann")
    with Server(st) as s:
        code, _, b = s.call("GET", API + "/duty", ann)
    assert code == 200
    for x in b["duty"]:
        x.pop("actions")
    assert b["duty"] == cli
    assert cli[0]["at"].endswith("+08:00")


def test_a_running_sync_shows_its_progress(tmp_path, good_plan):
    """GET /syncs shows a running execution's rows so far, which the sync
    keeps in the store as it goes (#13.3)."""
    st = started(tmp_path, good_plan)
    ann = issue_token(st, "ann")
    with PausedSync(good_plan) as sync:
        with Server(st) as s:
            code, _, b = s.call("GET", API + "/syncs", ann)
        assert code == 200, b
        run = [x for x in b["syncs"] if x["outcome"] == "running"]
        assert len(run) == 1, b
        p = run[0]["progress"]
        assert p["rows_written"] >= 500 and p["rows_read"] >= 500, p
        assert p["rows_total"] == 3000, p
    assert sync.rc == 0
    r = golive("audit", "verify", "--state", st)
    assert r.rc == 0, r
    with Server(st) as s:
        code, _, b = s.call("GET", API + "/syncs", ann)
    # the finished one: its final figures only
    assert [x["outcome"] for x in b["syncs"]] == ["ok"]
    assert "progress" not in b["syncs"][0]


def test_ctrl_c_stops_following_a_task_not_the_task(tmp_path, good_plan):
    """Ctrl-C while `task start` follows a run: task through a server says
    the task goes on there and exits 130; the task ends on the server
    (new-user trial: the client died silently)."""
    import os
    import signal
    import subprocess
    import time
    from conftest import BIN
    plan = tmp_path / "nap.yaml"
    plan.write_text(good_plan.read_text().replace(
        "tasks:\n", "tasks:\n  - {id: nap, title: Nap, stage: prepare, "
        "owner: bob, checker: ann, run: \"shell sleep 3\"}\n", 1))
    st = tmp_path / "golive.state"
    assert golive("run", "start", plan, "--state", st, "--as", "lead").rc == 0
    bob = issue_token(st, "bob")
    with Server(st) as s:
        e = dict(os.environ)
        for k in ("GOLIVE_STATE", "GOLIVE_NOW", "GOLIVE_USER"):
            e.pop(k, None)
        e.update({"GOLIVE_SERVER": s.url, "GOLIVE_TOKEN": bob})
        proc = subprocess.Popen([BIN, "task", "start", "nap"], env=e,
                                cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        line = proc.stdout.readline()
        assert "nap: pending -> running" in line or "-> running" in line, \
            line
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, (out, err)
        assert "stopped following task nap: it goes on on the server" in err
        t = time.time() + 20
        while time.time() < t:
            code, _, b = s.call("GET", API + "/tasks/nap", bob)
            if b["state"] != "running":
                break
            time.sleep(0.2)
        assert b["state"] == "done", b
