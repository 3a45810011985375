"""What keeps `golive serve` fast must keep it right: a token found good
once is not asked of the store again while the store holds still, yet a
revocation or an expiry refuses it at once; a status answer is made once
per state of the run and handed to every reader, yet a reader never sees
the run go back and a change answered is in the next status; changes are
made by one writer thread, yet SIGTERM answers every change handed to it;
the access log is written in blocks, yet within a second; the chain since
the last audit is checked from where the server last checked it, yet an
edited event shows in status within seconds."""
import http.client
import json
import os
import signal
import sqlite3
import subprocess
import threading
import time

from conftest import BIN, golive
from serving import Server, free_port, issue_token, request


def duty(text):
    return {"text": text, "channel": "chat", "kind": "question"}


def start(tmp_path, good_plan):
    st = tmp_path / "golive.state"
    r = golive("run", "start", good_plan, "--state", st, "--as", "lead")
    assert r.rc == 0, r
    return st


def test_a_kept_token_is_refused_once_revoked(tmp_path, good_plan):
    st = start(tmp_path, good_plan)
    t = issue_token(st, "ann")
    with Server(st) as s:
        for _ in range(3):  # found good, then kept
            assert s.call("GET", "/api/v1/me", t)[0] == 200
        tid = s.call("GET", "/api/v1/me", t)[2]["token"]
        r = golive("token", "revoke", tid, "--as", "lead", "--state", st)
        assert r.rc == 0, r
        st_, _, body = s.call("GET", "/api/v1/me", t)
        assert st_ == 401 and "revoked" in body["error"]["message"], body
    assert s.rc == 0


def test_a_kept_token_is_refused_once_expired(tmp_path, good_plan):
    st = start(tmp_path, good_plan)
    t = issue_token(st, "ann", "lead", "--expires", "3s")
    with Server(st) as s:
        t0 = time.time()
        for _ in range(3):
            assert s.call("GET", "/api/v1/me", t)[0] == 200
        time.sleep(max(0, 4.2 - (time.time() - t0)))
        st_, _, body = s.call("GET", "/api/v1/me", t)
        assert st_ == 401 and "expired" in body["error"]["message"], body


def test_readers_never_see_the_run_go_back(tmp_path, good_plan):
    """Four readers ask for status without pause while changes are made:
    each reader's events never go back, and a change answered is in the
    status read right after it by the one who made it."""
    st = start(tmp_path, good_plan)
    lead = issue_token(st, "lead")
    reader = issue_token(st, "ann")
    stop = threading.Event()
    seen = [[] for _ in range(4)]

    def read(k):
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        while not stop.is_set():
            c.request("GET", "/api/v1/status",
                      headers={"Authorization": "Bearer " + reader})
            r = c.getresponse()
            body = r.read()
            assert r.status == 200
            seen[k].append(json.loads(body)["events"])
        c.close()

    with Server(st) as s:
        threads = [threading.Thread(target=read, args=(k,)) for k in range(4)]
        for th in threads:
            th.start()
        try:
            for i in range(30):
                code, _, entry = s.call("POST", "/api/v1/duty", lead,
                                        duty("change %d" % i))
                assert code == 201, entry
                ev = s.call("GET", "/api/v1/events?after=0&limit=100000",
                            lead)[2]["events"]
                mine = max(e["seq"] for e in ev
                           if e["kind"].startswith("duty")
                           and e["payload"].get("text") == "change %d" % i)
                now = s.call("GET", "/api/v1/status", lead)[2]["events"]
                assert now >= mine, (i, now, mine)
        finally:
            stop.set()
            for th in threads:
                th.join()
    for k in range(4):
        assert seen[k], "reader %d read nothing" % k
        assert seen[k] == sorted(seen[k]), "reader %d saw the run go back" % k
    assert max(max(v) for v in seen) >= 30


def test_sigterm_answers_the_changes_handed_over(tmp_path, good_plan):
    """SIGTERM in the middle of twelve clients' changes: every change
    answered 2xx is in the store, and every change in the store was
    answered (none made and then cut off unanswered)."""
    st = start(tmp_path, good_plan)
    t = issue_token(st, "lead")
    answered, cut, lock = [], [], threading.Lock()

    def post(k):
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        for i in range(200):
            text = "c%d-%d" % (k, i)
            try:
                c.request("POST", "/api/v1/duty",
                          body=json.dumps(duty(text)),
                          headers={"Authorization": "Bearer " + t,
                                   "Content-Type": "application/json"})
                r = c.getresponse()
                r.read()
            except (OSError, http.client.HTTPException):
                with lock:
                    cut.append(text)
                return
            if r.status == 201:
                with lock:
                    answered.append(text)

    with Server(st) as s:
        threads = [threading.Thread(target=post, args=(k,)) for k in range(12)]
        for th in threads:
            th.start()
        deadline = time.time() + 60
        while len(answered) < 40 and time.time() < deadline:
            time.sleep(0.01)
        assert len(answered) >= 40
        s.proc.send_signal(signal.SIGTERM)
        for th in threads:
            th.join()
        s.stop()
    assert s.rc == 0, s.err
    r = golive("duty", "list", "--json", "--state", st)
    kept = {e["text"] for e in json.loads(r.out)}
    assert set(answered) <= kept
    assert not set(cut) & kept, "made, not answered: %s" % (set(cut) & kept)
    assert golive("audit", "verify", "--state", st).rc == 0


def test_the_access_log_is_written_while_serving(tmp_path, good_plan):
    st = start(tmp_path, good_plan)
    t = issue_token(st, "ann")
    with Server(st) as s:
        assert s.call("GET", "/api/v1/me", t)[0] == 200
        deadline, log = time.time() + 5, b""
        while time.time() < deadline and b"GET /api/v1/me 200 ann" not in log:
            time.sleep(0.05)
            log = os.pread(s._errf.fileno(), 1 << 20, 0)
        assert b"GET /api/v1/me 200 ann" in log, log


def test_an_edited_event_shows_in_status(tmp_path, good_plan):
    """The server checks the chain since the last audit from where it
    last checked it, and from the audit's head every few seconds: an
    event edited behind its back is seen within seconds, the last one it
    checked at once."""
    st = start(tmp_path, good_plan)
    t = issue_token(st, "lead")
    for i in range(5):
        r = golive("duty", "log", "request %d" % i, "--channel", "chat",
                   "--kind", "request", "--as", "lead", "--state", st)
        assert r.rc == 0, r
    assert golive("audit", "verify", "--state", st).rc == 0
    for i in range(5):
        r = golive("duty", "log", "later %d" % i, "--channel", "chat",
                   "--kind", "request", "--as", "lead", "--state", st)
        assert r.rc == 0, r
    with Server(st) as s:
        a = s.call("GET", "/api/v1/status", t)[2]["audit"]
        assert a["verified"] is True and a["since"] == 5, a
        # a change through the server: checked from where it was
        assert s.call("POST", "/api/v1/duty", t, duty("x"))[0] == 201
        a = s.call("GET", "/api/v1/status", t)[2]["audit"]
        assert a["verified"] is True and a["since"] == 6, a
        last = a["verified_through"] + 3  # an event between the two
        db = sqlite3.connect(st)
        db.execute("UPDATE events SET payload = replace(payload, 'later',"
                   " 'LATER') WHERE seq = ?", (last,))
        db.commit()
        db.close()
        deadline = time.time() + 15
        while time.time() < deadline:
            # something must change for status to be made again
            s.call("POST", "/api/v1/duty", t, duty("y"))
            a = s.call("GET", "/api/v1/status", t)[2]["audit"]
            if a["verified"] is not True:
                break
            time.sleep(0.5)
        assert a["verified"] is False, a
        assert str(last) in a["detail"], a


def test_sigterm_stops_the_server_whose_stderr_is_full(tmp_path, good_plan):
    """Its log unread (a pipe gone full), the server's threads wait on it;
    SIGTERM then waits too, and stops the server cleanly (exit 0, every
    line written) once the log is read, instead of killing it."""
    st = start(tmp_path, good_plan)
    t = issue_token(st, "ann")
    port = free_port()
    proc = subprocess.Popen([BIN, "serve", "--state", str(st), "--listen",
                             "127.0.0.1:%d" % port], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if request("http://127.0.0.1:%d" % port, "GET",
                           "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        # ~250 kB of log lines: more than the log's buffer and the pipe
        stop = threading.Event()

        def hammer():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
            while not stop.is_set():
                try:
                    c.request("GET", "/api/v1/me", headers={
                        "Authorization": "Bearer " + t})
                    c.getresponse().read()
                except (OSError, http.client.HTTPException):
                    c.close()
                    c = http.client.HTTPConnection("127.0.0.1", port,
                                                   timeout=3)
        hs = [threading.Thread(target=hammer) for _ in range(4)]
        for h in hs:
            h.start()
        time.sleep(4)
        stop.set()
        for h in hs:
            h.join()
        proc.send_signal(signal.SIGTERM)
        time.sleep(1)
        err = proc.stderr.read()  # reads until the server closes it
        assert proc.wait(timeout=30) == 0, err[-2000:]
        assert b"terminated: stopping" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_reads_go_on_while_another_process_holds_the_write_lock(
        tmp_path, good_plan):
    st = start(tmp_path, good_plan)
    t = issue_token(st, "lead")
    with Server(st) as s:
        db = sqlite3.connect(st, isolation_level=None, timeout=60)
        db.execute("BEGIN IMMEDIATE")  # a CLI process in the middle of a change
        try:
            result = {}

            def change():
                result["post"] = s.call("POST", "/api/v1/duty", t,
                                        duty("waits for the lock"))[0]
            th = threading.Thread(target=change)
            th.start()
            time.sleep(0.5)
            for path in ("/api/v1/me", "/api/v1/status", "/api/v1/tasks",
                         "/api/v1/duty", "/api/v1/events?after=0"):
                t0 = time.time()
                code = request(s.url, "GET", path, t, timeout=5)[0]
                assert code == 200 and time.time() - t0 < 3, path
            assert th.is_alive()  # the change waits for the lock
        finally:
            db.execute("ROLLBACK")
            db.close()
        th.join(timeout=30)
        assert result.get("post") == 201


def test_status_is_made_again_under_a_clock_that_holds_still(
        tmp_path, good_plan):
    """GOLIVE_NOW holds the run's clock still and nothing writes an event:
    status is still made again every second, so an event edited behind
    the server's back shows (within the chain's 10 s)."""
    st = start(tmp_path, good_plan)
    t = issue_token(st, "lead", "lead", "--expires", "0")
    for i in range(3):
        r = golive("duty", "log", "note %d" % i, "--channel", "chat",
                   "--kind", "request", "--as", "lead", "--state", st)
        assert r.rc == 0, r
    with Server(st, env={"GOLIVE_NOW": "2026-03-13T20:00:00+08:00"}) as s:
        a = s.call("GET", "/api/v1/status", t)[2]["audit"]
        assert a["verified"] is not False, a
        db = sqlite3.connect(st)
        seq = db.execute("SELECT max(seq) FROM events WHERE kind ="
                         " 'duty.log'").fetchone()[0] - 1
        db.execute("UPDATE events SET payload = replace(payload, 'note',"
                   " 'NOTE') WHERE seq = ?", (seq,))
        db.commit()
        db.close()
        deadline = time.time() + 15
        while time.time() < deadline:
            a = s.call("GET", "/api/v1/status", t)[2]["audit"]
            if a["verified"] is False:
                break
            time.sleep(0.5)
        assert a["verified"] is False, a


def test_a_cut_log_shows_in_status(tmp_path, good_plan):
    """The log's last event deleted behind the server's back: the chain
    before it holds, but the server read that event: status says the log
    was cut."""
    st = start(tmp_path, good_plan)
    t = issue_token(st, "lead")
    with Server(st) as s:
        assert s.call("POST", "/api/v1/duty", t, duty("the last"))[0] == 201
        a = s.call("GET", "/api/v1/status", t)[2]
        last = a["events"]
        db = sqlite3.connect(st)
        db.execute("DELETE FROM events WHERE seq = ?", (last,))
        db.commit()
        db.close()
        deadline = time.time() + 5
        while time.time() < deadline:
            a = s.call("GET", "/api/v1/status", t)[2]["audit"]
            if a["verified"] is False:
                break
            time.sleep(0.3)
        assert a["verified"] is False, a
        assert "event %d is missing" % last in a["detail"], a
        assert "cut" in a["detail"], a


def test_a_revoked_token_polling_locks_nobody_out(tmp_path, good_plan):
    st = start(tmp_path, good_plan)
    old = issue_token(st, "ann")
    good = issue_token(st, "bob")
    with Server(st) as s:
        tid = s.call("GET", "/api/v1/me", old)[2]["token"]
        assert golive("token", "revoke", tid, "--as", "lead", "--state",
                      st).rc == 0
        for _ in range(15):  # a forgotten tab, polling
            assert s.call("GET", "/api/v1/status", old)[0] == 401
        assert s.call("GET", "/api/v1/me", good)[0] == 200
        # a browser's session whose token was revoked, polling: neither
        cut = issue_token(st, "ann")
        code, h, _ = s.call("POST", "/api/v1/session", body={"token": cut})
        assert code in (200, 201), code
        jar = {"Cookie": h["Set-Cookie"].split(";")[0]}
        cid = s.call("GET", "/api/v1/me", headers=jar)[2]["token"]
        assert golive("token", "revoke", cid, "--as", "lead", "--state",
                      st).rc == 0
        for _ in range(15):
            assert s.call("GET", "/api/v1/status", headers=jar)[0] == 401
        assert s.call("GET", "/api/v1/me", good)[0] == 200
        # unknown tokens still count: ten guesses block the address
        for _ in range(10):
            s.call("GET", "/api/v1/me", "0" * 64)
        assert s.call("GET", "/api/v1/me", good)[0] == 429


def test_a_bearer_with_more_than_the_token_is_refused(tmp_path, good_plan):
    st = start(tmp_path, good_plan)
    t = issue_token(st, "ann")
    with Server(st) as s:
        for h in ("Bearer %s junk" % t, "Bearer %s x" % t):
            code, _, body = s.call("GET", "/api/v1/me",
                                   headers={"Authorization": h})
            assert code == 401, body
        assert s.call("GET", "/api/v1/me", headers={
            "Authorization": "Bearer %s  " % t})[0] == 200


def test_a_body_announced_too_big_is_refused_before_it_is_sent(
        tmp_path, good_plan):
    """Content-Length over 64 KiB: 413 at once, without waiting for (or
    reading) a body the client may take minutes to send."""
    import socket
    st = start(tmp_path, good_plan)
    with Server(st) as s:
        c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        c.sendall(b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/json\r\n"
                  b"Content-Length: 1000000000\r\n\r\n{")
        t0 = time.time()
        got = b""
        while b"\r\n\r\n" not in got:
            part = c.recv(4096)
            if not part:
                break
            got += part
        c.close()
        assert got.startswith(b"HTTP/1.1 413"), got
        assert time.time() - t0 < 3
