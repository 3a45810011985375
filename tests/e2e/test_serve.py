"""`golive serve`: the server's core and its reads.  A real server over a
real store (the demo's rehearsal night), real tokens issued by the CLI,
real HTTP from the standard library: each read answers what the CLI's
--json prints; tokens, sessions, CSRF, sign-in limits, TLS, limits and
the errors."""
import base64
import concurrent.futures
import hashlib
import json
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import time

import pytest

from conftest import golive
from serving import Server, free_port, issue_token, request

# the morning after the demo's night (T+9h): its tokens live 12 hours
NOW = "2026-12-02T09:00:00+08:00"
ENV = {"GOLIVE_NOW": NOW}
LEAD = "zhang"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    d = tmp_path_factory.mktemp("serve") / "demo"
    r = golive("demo", "--dir", d, "--rows", "300")
    assert r.rc == 0, r
    return d


@pytest.fixture
def state(demo, tmp_path):
    """A copy of the demo's store of its own (the plan stays the demo's)."""
    st = tmp_path / "golive.state"
    shutil.copy(demo / "golive.state", st)
    return st


def cli_json(state, *args, rc=0):
    r = golive(*args, "--state", state, "--json", env=ENV)
    assert r.rc == rc, r
    return json.loads(r.out)


def golive_json(state, *args):
    r = golive(*args, "--state", state, "--json", env=ENV)
    assert r.rc == 0, r
    return json.loads(r.out)


def token(state, person=LEAD, *extra):
    return issue_token(state, person, LEAD, *extra, env=ENV)


def test_each_read_answers_what_the_cli_prints(state):
    t = token(state, "liu")
    with Server(state, env=ENV) as s:
        st, h, body = s.call("GET", "/api/v1/status", t)
        assert st == 200, body
        assert body == cli_json(state, "status")
        # the same again from the worker's cache
        assert s.call("GET", "/api/v1/status", t)[2] == body
        st, _, body = s.call("GET", "/api/v1/gate", t)
        assert st == 200 and body == cli_json(state, "gate", rc=1)
        assert body["passed"] is False  # 200 all the same
        st, _, body = s.call("GET", "/api/v1/report?format=json", t)
        r = golive("report", "--format", "json", "--state", state, env=ENV)
        assert st == 200 and body == json.loads(r.out)
        st, h, md = s.call("GET", "/api/v1/report?format=md", t)
        r = golive("report", "--state", state, env=ENV)
        assert st == 200 and md == r.out
        assert h["Content-Type"].startswith("text/markdown")
        st, _, body = s.call("GET", "/api/v1/audit", t)
        cli = cli_json(state, "audit", "verify")
        assert st == 200 and body["ok"] is True
        for k in ("ok", "events", "head", "problems"):
            assert body[k] == cli[k], k
        st, _, body = s.call("GET", "/api/v1/plan", t)
        db = sqlite3.connect(state)
        text, sha = db.execute(
            "SELECT text, sha256 FROM plan_versions WHERE version = 1").fetchone()
        assert st == 200 and body["text"] == text and body["version"] == 1
        assert body["sha256"] == sha == hashlib.sha256(text.encode()).hexdigest()
        st, _, body = s.call("GET", "/api/v1/me", t)
        assert st == 200 and body["person"] == "liu" and body["viewer"] is False
        # the executions as sync recorded them, the latest result per check
        st, _, body = s.call("GET", "/api/v1/syncs", t)
        rows = db.execute("SELECT job, rows_written, outcome FROM sync_runs"
                          " ORDER BY id").fetchall()
        assert st == 200 and len(rows) >= 5
        assert [(x["job"], x["rows_written"], x["outcome"])
                for x in body["syncs"]] == rows
        st, _, body = s.call("GET", "/api/v1/checks", t)
        last = {}
        for (p,) in db.execute("SELECT payload FROM events WHERE kind ="
                               " 'check.run' ORDER BY seq"):
            last[json.loads(p)["check"]] = json.loads(p)["outcome"]
        assert st == 200 and last
        got = {x["check"]: x["outcome"] for x in body["checks"]}
        assert {k: v for k, v in got.items() if v is not None} == last
        assert "failed" in last.values()


def test_events_pages_and_bad_numbers(state):
    t = token(state)
    db = sqlite3.connect(state)
    n = db.execute("SELECT count(*) FROM events").fetchone()[0]
    with Server(state, env=ENV) as s:
        st, _, body = s.call("GET", "/api/v1/events?after=3&limit=2", t)
        assert st == 200
        rows = db.execute("SELECT seq, at, actor, os_user, kind, payload, hash"
                          " FROM events WHERE seq > 3 ORDER BY seq LIMIT 2")
        assert body["events"] == [
            {"seq": a, "at": b, "actor": c, "os_user": d, "kind": e,
             "payload": json.loads(f), "hash": g}
            for a, b, c, d, e, f, g in rows]
        assert body["next"] == 5 and body["more"] is True
        # a number reads as the CLI reads it: "+2" is 2 (%2B: a bare +
        # in a query is a blank, refused)
        st, _, plus = s.call("GET", "/api/v1/events?after=%2B3&limit=%2B2", t)
        assert st == 200 and plus == body
        st, _, _ = s.call("GET", "/api/v1/events?after=+3", t)
        assert st == 400
        # limit capped at 1000; the token.issue event is the last
        st, _, body = s.call("GET", "/api/v1/events?limit=5000", t)
        assert st == 200 and len(body["events"]) == min(n, 1000)
        assert body["events"][-1]["kind"] == "token.issue"
        for q, name in (("after=-1", "after"), ("after=x", "after"),
                        ("limit=0", "limit"), ("limit=1e3", "limit"),
                        ("after=99999999999999999999", "after")):
            st, _, body = s.call("GET", "/api/v1/events?" + q, t)
            assert st == 400, q
            assert "'%s'" % name in body["error"]["message"], q
        st, _, body = s.call("GET", "/api/v1/report?format=pdf", t)
        assert st == 400 and "'format'" in body["error"]["message"]


def test_status_follows_changes_made_by_the_cli(state):
    """Every worker's connection sees what a CLI process commits: the
    cached status moves with the store.  A store opened a second time in
    the server's process once dropped the first connection's locks, so a
    CLI process deleted the -wal under the server, which then read an old
    log forever."""
    t = token(state)
    with Server(state, env=ENV) as s:
        # several workers, each with its own connection
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: s.call("GET", "/api/v1/status", t),
                          range(64)))
        before = s.call("GET", "/api/v1/status", t)[2]
        # a refused command (it verifies the store first), then a change
        r = golive("decide", "hold", "--as", "liu", "--note", "x",
                   "--state", state, env=ENV)
        assert r.rc == 3, r
        r = golive("decide", "hold", "--as", LEAD, "--note", "wait for D-2",
                   "--state", state, env=ENV)
        assert r.rc == 0, r
        for _ in range(8):
            after = s.call("GET", "/api/v1/status", t)[2]
            assert after["events"] == before["events"] + 1
            assert after["decided"]["note"] == "wait for D-2"
        st, _, ev = s.call("GET", "/api/v1/events?after=%d"
                           % before["events"], t)
        assert [e["kind"] for e in ev["events"]] == ["decide"]
    assert cli_json(state, "status") == after


def test_status_moves_with_the_clock(state):
    t = token(state, LEAD, "--expires", "0")
    with Server(state) as s:  # the real clock
        a = s.call("GET", "/api/v1/status", t)[2]
        time.sleep(1.1)
        b = s.call("GET", "/api/v1/status", t)[2]
        assert a["now"] != b["now"] and a["t_seconds"] < b["t_seconds"]


def test_who_is_refused(state):
    good = token(state, "liu")
    gone = token(state, "zhao")
    short = token(state, "chen", "--expires", "1h")
    ids = [x["id"] for x in golive_json(state, "token", "list")
           if x["person"] == "zhao"]
    r = golive("token", "revoke", ids[0], "--as", LEAD, "--state", state,
               env=ENV)
    assert r.rc == 0, r
    with Server(state, env={"GOLIVE_NOW": "2026-12-02T10:30:00+08:00"}) as s:
        assert s.call("GET", "/api/v1/me", good)[0] == 200
        # the scheme in any case, the token's hex in any case (RFC 7235)
        st, _, _ = s.call("GET", "/api/v1/me", headers={
            "Authorization": "bearer  " + good.upper()})
        assert st == 200
        for tok, says in ((None, "no token"), ("0" * 64, "unknown token"),
                          (gone, "revoked"), (short, "expired")):
            st, h, body = s.call("GET", "/api/v1/status", tok)
            assert st == 401, tok
            assert body["error"]["code"] == "unauthorized"
            assert says in body["error"]["message"], body
        st, _, body = s.call("GET", "/api/v1/status",
                             headers={"Authorization": "Basic eDp4"})
        assert st == 401
        # the health check needs no token
        st, _, body = s.call("GET", "/healthz")
        assert st == 200 and body == {"ok": True}
    # the access log: one line per request, the person, never a token
    assert re.search(r"^GET /api/v1/me 200 liu [0-9.]+ms$", s.err, re.M)
    assert re.search(r"^GET /api/v1/status 401 - [0-9.]+ms$", s.err, re.M)
    for tok in (good, gone, short):
        assert tok not in s.err
    assert s.rc == 0


def test_errors_and_headers(state):
    t = token(state)
    with Server(state, env=ENV) as s:
        st, h, body = s.call("GET", "/api/v1/nothing", t)
        assert st == 404 and body["error"]["code"] == "not_found"
        st, h, body = s.call("GET", "/nothing")
        assert st == 404
        st, h, body = s.call("POST", "/api/v1/status", t, body={})
        assert st == 405 and "GET" in body["error"]["message"]
        st, h, body = s.call("DELETE", "/api/v1/status", t)
        assert st == 405
        st, h, body = s.call("POST", "/api/v1/session",
                             raw=b"x" * (64 * 1024 + 1),
                             headers={"Content-Type": "application/json"})
        assert st == 413 and body["error"]["code"] == "too_large"
        for raw in (b"{", b"[1]", b'{"token": "a", "token": "b"}'):
            st, h, body = s.call("POST", "/api/v1/session", raw=raw,
                                 headers={"Content-Type": "application/json"})
            assert st == 400 and body["error"]["code"] == "bad_json", raw
        st, h, body = s.call("POST", "/api/v1/session", body={"token": 5})
        assert st == 400 and "'token'" in body["error"]["message"]
        st, h, body = s.call("POST", "/api/v1/session", body={})
        assert st == 400 and "'token'" in body["error"]["message"]
        st, h, body = s.call("GET", "/api/v1/status", t)
        assert h["Content-Security-Policy"] == \
            "default-src 'self'; frame-ancestors 'none'"
        assert h["X-Content-Type-Options"] == "nosniff"
        assert "Access-Control-Allow-Origin" not in h
        # the HTML report: its own CSP, its inline style by hash, no script
        st, h, html = s.call("GET", "/api/v1/report?format=html", t)
        assert st == 200 and h["Content-Type"].startswith("text/html")
        style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
        digest = base64.b64encode(
            hashlib.sha256(style.encode()).digest()).decode()
        csp = h["Content-Security-Policy"]
        assert "style-src 'sha256-%s'" % digest in csp
        assert csp.startswith("default-src 'none'")
        assert "script" not in csp and "<script" not in html
        assert h["X-Content-Type-Options"] == "nosniff"
        r = golive("report", "--format", "html", "--state", state, env=ENV)
        assert html == r.out


def test_a_store_error_is_500_without_its_internals(state):
    t = token(state)
    with Server(state, env=ENV) as s:
        assert s.call("GET", "/api/v1/syncs", t)[0] == 200
        db = sqlite3.connect(state)
        db.execute("DROP TABLE sync_runs")
        db.commit()
        db.close()
        st, h, body = s.call("GET", "/api/v1/syncs", t)
        assert st == 500 and body["error"]["code"] == "internal"
        assert "sync_runs" not in json.dumps(body)
        assert "no such table" not in json.dumps(body)
    # the server's own log keeps it
    assert "sync_runs" in s.err


def test_sessions_and_csrf(state):
    t = token(state, "liu")
    r = golive("token", "issue", "--viewer", "war-room", "--as", LEAD,
               "--json", "--state", state, env=ENV)
    assert r.rc == 0, r
    viewer = json.loads(r.out)["token"]
    with Server(state, env=ENV) as s:
        st, h, body = s.call("POST", "/api/v1/session", body={"token": t})
        assert st == 200, body
        assert body["person"] == "liu" and re.fullmatch(r"[0-9a-f]{64}",
                                                        body["csrf"])
        cookie = h["Set-Cookie"]
        assert re.fullmatch(r"golive_session=[0-9a-f]{64}; HttpOnly; "
                            r"SameSite=Strict; Path=/", cookie), cookie
        assert "Secure" not in cookie
        jar = {"Cookie": cookie.split(";")[0]}
        csrf = body["csrf"]
        # the cookie signs in reads without CSRF
        st, _, body = s.call("GET", "/api/v1/me", headers=jar)
        assert st == 200 and body["person"] == "liu"
        assert s.call("GET", "/api/v1/status", headers=jar)[0] == 200
        # a change by cookie needs the CSRF: signing out is one
        st, _, body = s.call("DELETE", "/api/v1/session", headers=jar)
        assert st == 403 and "X-Golive-CSRF" in body["error"]["message"]
        st, _, body = s.call("DELETE", "/api/v1/session",
                             headers=dict(jar, **{"X-Golive-CSRF": "0" * 64}))
        assert st == 403
        # a bearer token holds no session
        st, _, body = s.call("DELETE", "/api/v1/session", t)
        assert st == 400
        st, h, body = s.call("DELETE", "/api/v1/session",
                             headers=dict(jar, **{"X-Golive-CSRF": csrf}))
        assert st == 200, body
        assert "Max-Age=0" in h["Set-Cookie"]
        st, _, body = s.call("GET", "/api/v1/me", headers=jar)
        assert st == 401
        # a viewer's screen signs in too (and changes nothing)
        st, h, body = s.call("POST", "/api/v1/session",
                             body={"token": viewer})
        assert st == 200 and body["viewer"] is True
        st, _, body = s.call("GET", "/api/v1/me", headers={
            "Cookie": h["Set-Cookie"].split(";")[0]})
        assert st == 200 and body["person"] == "war-room"
        # a bad token signs nobody in
        st, _, body = s.call("POST", "/api/v1/session",
                             body={"token": "f" * 64})
        assert st == 401
        # a session survives a restart of the server (kept in the store)
        st, h, body = s.call("POST", "/api/v1/session", body={"token": t})
        jar = {"Cookie": h["Set-Cookie"].split(";")[0]}
    with Server(state, env=ENV) as s:
        assert s.call("GET", "/api/v1/me", headers=jar)[0] == 200
    kinds = [k for (k,) in sqlite3.connect(state).execute(
        "SELECT kind FROM events WHERE kind LIKE 'session.%' ORDER BY seq")]
    assert kinds == ["session.open", "session.close", "session.open",
                     "session.open"]
    assert golive("audit", "verify", "--state", state, env=ENV).rc == 0


def test_ten_failed_sign_ins_a_minute_block_the_address(state):
    t = token(state)
    with Server(state, env=ENV) as s:
        # requests that bring no credential guess nothing: not counted
        for i in range(12):
            assert s.call("GET", "/api/v1/status")[0] == 401
        assert s.call("GET", "/api/v1/me", t)[0] == 200
        for i in range(9):
            assert s.call("GET", "/api/v1/me", "%064x" % i)[0] == 401
        # the tenth: a wrong sign-in, or a cookie of no session
        st, _, _ = s.call("GET", "/api/v1/me",
                          headers={"Cookie": "golive_session=" + "e" * 64})
        assert st == 401
        st, h, body = s.call("GET", "/api/v1/me", t)
        assert st == 429, body
        assert 50 <= int(h["Retry-After"]) <= 60
        assert s.call("POST", "/api/v1/session", body={"token": t})[0] == 429
        assert s.call("GET", "/healthz")[0] == 200
    # behind a trusted proxy each client is its own address; the header
    # from anyone else is not believed
    with Server(state, "--trusted-proxy", "127.0.0.1", env=ENV) as s:
        bad = {"X-Forwarded-For": "198.51.100.7, 10.0.0.1"}
        for i in range(10):
            assert s.call("GET", "/api/v1/me", "%064x" % i,
                          headers=bad)[0] == 401
        assert s.call("GET", "/api/v1/me", t, headers=bad)[0] == 429
        st, _, body = s.call("GET", "/api/v1/me", t, headers={
            "X-Forwarded-For": "10.0.0.1, 10.0.0.2"})
        assert st == 200
        assert s.call("GET", "/api/v1/me", t)[0] == 200
        st, _, body = s.call("GET", "/api/v1/me", t, headers={
            "X-Forwarded-For": "not-an-address"})
        assert st == 200
        # the proxy says the client came over TLS: the cookie is Secure
        st, h, body = s.call("POST", "/api/v1/session", body={"token": t},
                             headers={"X-Forwarded-Proto": "https"})
        assert st == 200 and h["Set-Cookie"].endswith("; Secure")
    with Server(state, env=ENV) as s:
        for i in range(10):
            s.call("GET", "/api/v1/me", "%064x" % i, headers=bad)
        # without --trusted-proxy the peer (127.0.0.1) is the client
        assert s.call("GET", "/api/v1/me", t, headers={
            "X-Forwarded-For": "10.9.9.9"})[0] == 429
    with Server(state, env=ENV) as s:
        st, h, body = s.call("POST", "/api/v1/session", body={"token": t},
                             headers={"X-Forwarded-Proto": "https"})
        assert st == 200 and "Secure" not in h["Set-Cookie"]
    # another limit, or none
    with Server(state, "--sign-in-limit", "3", env=ENV) as s:
        for i in range(3):
            assert s.call("GET", "/api/v1/me", "%064x" % i)[0] == 401
        assert s.call("GET", "/api/v1/me", t)[0] == 429
    with Server(state, "--sign-in-limit", "0", env=ENV) as s:
        for i in range(30):
            assert s.call("GET", "/api/v1/me", "%064x" % i)[0] == 401
        assert s.call("GET", "/api/v1/me", t)[0] == 200


def test_tls(state, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-subj", "/CN=localhost", "-days", "1",
                        "-keyout", str(key), "-out", str(cert)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    t = token(state)
    with Server(state, env=ENV, tls=(cert, key)) as s:
        assert s.url.startswith("https://")
        st, _, body = s.call("GET", "/api/v1/me", t)
        assert st == 200 and body["person"] == LEAD
        st, h, body = s.call("POST", "/api/v1/session", body={"token": t})
        assert st == 200 and h["Set-Cookie"].endswith("; Secure")
        # plain HTTP to the TLS port gets no answer
        with pytest.raises(Exception):
            request("http://127.0.0.1:%d" % s.port, "GET", "/healthz",
                    timeout=5)
    assert s.rc == 0
    # TLS on an address that is not loopback is allowed
    r = golive("serve", "--state", state, "--listen", "0.0.0.0:1",
               "--tls-cert", cert, env=ENV)
    assert r.rc == 2 and "--tls-key" in r.err


def test_listen_refusals_and_sigterm(state):
    for addr in ("0.0.0.0:%d" % free_port(), "[::]:%d" % free_port()):
        r = golive("serve", "--state", state, "--listen", addr, env=ENV)
        assert r.rc == 3, r
        assert "not a loopback address" in r.err and "--tls-cert" in r.err
    r = golive("serve", "--state", state, "--listen", "nowhere", env=ENV)
    assert r.rc == 2 and "--listen" in r.err
    r = golive("serve", "--state", state, "--listen", "127.0.0.1:1",
               env={"GOLIVE_NOW": "tomorrow"})
    assert r.rc == 2 and "GOLIVE_NOW" in r.err
    r = golive("serve", "--state", state.parent / "none.state", env=ENV)
    assert r.rc == 2 and "none.state" in r.err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        r = golive("serve", "--state", state, "--listen",
                   "127.0.0.1:%d" % taken.getsockname()[1], env=ENV)
        assert r.rc == 2 and "cannot serve" in r.err
    s = Server(state, env=ENV).start()
    assert s.stop(signal.SIGTERM) == 0
    assert "terminated: stopping" in s.err
    s = Server(state, env=ENV).start()
    assert s.stop(signal.SIGINT) == 0


def test_slow_clients_and_the_connection_cap(state):
    t = token(state)
    with Server(state, "--timeout", "2", "--max-connections", "8",
                "--threads", "1", env=ENV) as s:
        # headers that never end: closed after the timeout
        c = socket.create_connection(("127.0.0.1", s.port))
        c.sendall(b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n")
        c.settimeout(10)
        t0 = time.time()
        assert c.recv(100) == b""
        assert 1.5 < time.time() - t0 < 8
        c.close()
        # eight idle connections take every place: the ninth waits (in
        # the listen queue) until one is closed, by the client or by the
        # timeout
        idle = [socket.create_connection(("127.0.0.1", s.port))
                for _ in range(8)]
        time.sleep(0.2)
        with pytest.raises(OSError):
            request(s.url, "GET", "/api/v1/me", t, timeout=1)
        for c in idle:
            c.close()
        time.sleep(0.3)
        assert s.call("GET", "/api/v1/me", t)[0] == 200
        idle = [socket.create_connection(("127.0.0.1", s.port))
                for _ in range(8)]
        t0 = time.time()
        assert s.call("GET", "/api/v1/me", t)[0] == 200
        assert time.time() - t0 > 1
        for c in idle:
            c.close()


def test_cookie_changes_need_the_csrf_bearer_changes_do_not(state):
    """The CSRF rule on a route that changes the run (the work lane's
    POST /scenarios/next; skipped where this branch has no such route)."""
    t = token(state, "chen")
    with Server(state, env=ENV) as s:
        st, h, body = s.call("POST", "/api/v1/session", body={"token": t})
        assert st == 200
        jar = {"Cookie": h["Set-Cookie"].split(";")[0]}
        csrf = body["csrf"]
        st, _, body = s.call("POST", "/api/v1/scenarios/next", headers=jar,
                             body={})
        if st == 404 and body["error"]["message"].startswith("no such route"):
            pytest.skip("no change route on this branch")
        assert st == 403 and "X-Golive-CSRF" in body["error"]["message"]
        st, _, body = s.call("POST", "/api/v1/scenarios/next", body={},
                             headers=dict(jar, **{"X-Golive-CSRF": "x"}))
        assert st == 403
        n = sqlite3.connect(state).execute(
            "SELECT count(*) FROM events").fetchone()[0]
        st, _, body = s.call("POST", "/api/v1/scenarios/next", body={},
                             headers=dict(jar, **{"X-Golive-CSRF": csrf}))
        assert st != 403, body
        # a bearer token needs none
        st, _, body = s.call("POST", "/api/v1/scenarios/next", t, body={})
        assert st != 403, body
        assert sqlite3.connect(state).execute(
            "SELECT count(*) FROM events").fetchone()[0] > n
