"""GET /api/v1/events/stream: the run's events as Server-Sent Events.
Whoever writes an event (a CLI process on the store, or the server) the
open streams get it within a second; Last-Event-ID (or ?after=N) resumes
with nothing lost and nothing repeated; an idle stream gets a ': ping'
comment; SIGTERM ends the open streams cleanly.  A real server, real CLI
processes, a real store: nothing mocked."""
import http.client
import json
import os
import signal
import time

from conftest import golive
from serving import Server, issue_token


def start(tmp_path, good_plan):
    st = tmp_path / "golive.state"
    r = golive("run", "start", good_plan, "--state", st, "--as", "lead")
    assert r.rc == 0, r
    return st


class Stream:
    """One open event stream read message by message (a real HTTP/1.1
    connection; the response is chunked)."""

    def __init__(self, srv, token, path="/api/v1/events/stream",
                 headers=None, timeout=15):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        self.conn = http.client.HTTPConnection("127.0.0.1", srv.port,
                                               timeout=timeout)
        self.conn.request("GET", path, headers=h)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status

    def message(self):
        """The next message: a dict of its fields ('id', 'data', 'retry')
        and its comments (':'), or None at the end of the stream."""
        msg = {}
        while True:
            line = self.resp.readline()
            if not line:
                return None
            line = line.decode().rstrip("\n")
            if not line:
                if msg:
                    return msg
                continue
            if line.startswith(":"):
                msg.setdefault(":", []).append(line[1:].strip())
                continue
            k, _, v = line.partition(":")
            msg[k] = v[1:] if v.startswith(" ") else v

    def events(self, n, deadline=10):
        """The next n events (id and parsed data), comments skipped."""
        out, t = [], time.time() + deadline
        while len(out) < n:
            assert time.time() < t, "only %d of %d events came" % (len(out), n)
            m = self.message()
            assert m is not None, "the stream ended after %d events" % len(out)
            if "data" in m:
                out.append((int(m["id"]), json.loads(m["data"])))
        return out

    def close(self):
        self.conn.close()


def last_seq(st):
    r = golive("audit", "verify", "--state", st, "--json")
    assert r.rc == 0, r
    return json.loads(r.out)["events"]


def test_a_cli_change_reaches_an_open_stream(tmp_path, good_plan):
    st = start(tmp_path, good_plan)
    token = issue_token(st, "ann")
    with Server(st) as srv:
        s = Stream(srv, token)
        assert s.status == 200
        assert s.resp.getheader("Content-Type") == "text/event-stream"
        hello = s.message()
        assert "retry" in hello and hello[":"], hello
        t0 = time.time()
        r = golive("task", "start", "freeze", "--state", st, "--as", "bob")
        assert r.rc == 0, r
        [(seq, ev)] = s.events(1, deadline=10)
        took = time.time() - t0
        assert ev["seq"] == seq == last_seq(st)
        assert ev["kind"] == "task.start"
        assert ev["actor"] == "bob" and ev["os_user"]
        assert ev["payload"]["task"] == "freeze"
        assert ev["at"].endswith("Z")
        assert took < 10
        s.close()


def test_a_viewer_reads_the_stream_and_no_token_is_401(tmp_path, good_plan):
    st = start(tmp_path, good_plan)
    r = golive("token", "issue", "--state", st, "--viewer", "wall", "--as",
               "lead", "--json")
    assert r.rc == 0, r
    screen = json.loads(r.out)["token"]
    with Server(st) as srv:
        s = Stream(srv, None)
        assert s.status == 401
        body = json.loads(s.resp.read())
        assert body["error"]["code"] == "unauthorized"
        s.close()
        s = Stream(srv, "0" * 64)
        assert s.status == 401
        s.close()
        s = Stream(srv, screen, path="/api/v1/events/stream?after=0")
        assert s.status == 200
        (seq, ev), = s.events(1)
        assert seq == 1 and ev["kind"] == "run.start"
        s.close()
        # a bad event number is the client's error, named
        for hdr, path in ((None, "/api/v1/events/stream?after=x"),
                          ({"Last-Event-ID": "-3"}, "/api/v1/events/stream")):
            s = Stream(srv, screen, path=path, headers=hdr)
            assert s.status == 400
            msg = json.loads(s.resp.read())["error"]["message"]
            assert "takes an event number" in msg
            s.close()
        st_, _, _ = srv.call("POST", "/api/v1/events/stream", screen)
        assert st_ == 405


def test_resuming_misses_nothing_and_repeats_nothing(tmp_path, good_plan):
    st = start(tmp_path, good_plan)
    token = issue_token(st, "ann")
    for _ in range(5):
        issue_token(st, "bob")
    with Server(st) as srv:
        # from the start of the log: the store's events, in order
        s = Stream(srv, token, path="/api/v1/events/stream?after=0")
        seen = [seq for seq, _ in s.events(last_seq(st))]
        assert seen == list(range(1, last_seq(st) + 1))
        # events written while it is open come after them
        issue_token(st, "bob")
        issue_token(st, "ann")
        seen += [seq for seq, _ in s.events(2)]
        s.close()
        # events written while nobody listens, then a reconnect with the
        # last id seen, as a browser does
        for _ in range(4):
            issue_token(st, "bob")
        s = Stream(srv, token, headers={"Last-Event-ID": str(seen[-1])})
        hello = s.message()
        assert "after %d" % seen[-1] in hello[":"][0]
        r = golive("task", "start", "freeze", "--state", st, "--as", "bob")
        assert r.rc == 0, r
        seen += [seq for seq, _ in s.events(5)]
        s.close()
        n = last_seq(st)
        assert seen == list(range(1, n + 1)), seen
        # Last-Event-ID wins over ?after, and an id at the end sends nothing
        # old: the next event is the first
        s = Stream(srv, token, path="/api/v1/events/stream?after=1",
                   headers={"Last-Event-ID": str(n)})
        issue_token(st, "bob")
        (seq, ev), = s.events(1)
        assert seq == n + 1 and ev["kind"] == "token.issue"
        s.close()
    assert golive("audit", "verify", "--state", st).rc == 0


def test_an_idle_stream_gets_a_ping(tmp_path, good_plan):
    st = start(tmp_path, good_plan)
    token = issue_token(st, "ann")
    # a test build's heartbeat comes after 300 ms, not 15 s
    with Server(st, env={"GOLIVE_TEST_SSE_PING_MS": "300"}) as srv:
        s = Stream(srv, token)
        s.message()
        t0 = time.time()
        m = s.message()
        assert m == {":": ["ping"]}, m
        assert time.time() - t0 < 5
        # and the stream still carries events after pings
        issue_token(st, "bob")
        (_, ev), = s.events(1)
        assert ev["kind"] == "token.issue"
        s.close()


def test_sigterm_ends_the_open_streams(tmp_path, good_plan):
    st = start(tmp_path, good_plan)
    token = issue_token(st, "ann")
    srv = Server(st, "--streams-per-token", "20").start()
    streams = [Stream(srv, token) for _ in range(20)]
    for s in streams:
        assert s.message()[":"]
    t0 = time.time()
    rc = srv.stop(signal.SIGTERM)
    assert rc == 0, srv.err
    assert time.time() - t0 < 10
    for s in streams:
        assert s.message() is None  # the end of the stream, no error
        s.close()
    assert "stopping" in srv.err


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        ticks = f.read().rsplit(")", 1)[1].split()
    return (int(ticks[11]) + int(ticks[12])) / os.sysconf("SC_CLK_TCK")


def test_200_idle_streams_cost_nothing(tmp_path, good_plan):
    """An idle stream is a suspended connection: no thread spins for it
    (a content reader returning 0 without suspending would burn a core)."""
    st = start(tmp_path, good_plan)
    token = issue_token(st, "ann")
    with Server(st, "--streams-per-token", "200") as srv:
        streams = [Stream(srv, token) for _ in range(200)]
        for s in streams:
            assert s.message()[":"]
        time.sleep(0.5)
        c0 = cpu_seconds(srv.proc.pid)
        time.sleep(3)
        idle = cpu_seconds(srv.proc.pid) - c0
        assert idle < 0.5, "200 idle streams took %.2f s of CPU in 3 s" % idle
        # and every one of them is awake for the next event
        issue_token(st, "bob")
        for s in streams:
            (_, ev), = s.events(1)
            assert ev["kind"] == "token.issue"
            s.close()


def test_a_stream_behind_the_ring_reads_the_store(tmp_path, good_plan):
    """The server keeps the latest events formatted (4,096); a stream
    further behind reads the store.  A test build's ring of 3 events puts
    every resume and every burst behind it."""
    st = start(tmp_path, good_plan)
    token = issue_token(st, "ann")
    for _ in range(8):
        issue_token(st, "bob")
    with Server(st, env={"GOLIVE_TEST_SSE_RING": "3"}) as srv:
        n = last_seq(st)
        s = Stream(srv, token, path="/api/v1/events/stream?after=0")
        seen = [seq for seq, _ in s.events(n)]
        # a burst of changes while the stream sleeps: more than the ring
        streams = [Stream(srv, token) for _ in range(3)]
        for x in streams:
            x.message()
        r = golive("task", "start", "freeze", "--state", st, "--as", "bob")
        assert r.rc == 0, r
        for _ in range(6):
            issue_token(st, "lead")
        seen += [seq for seq, _ in s.events(7)]
        for x in streams:
            assert [seq for seq, _ in x.events(7)] == list(range(n + 1, n + 8))
            x.close()
        s.close()
        assert seen == list(range(1, last_seq(st) + 1)), seen
        # an id past the log's end (another run's): from the next event
        s = Stream(srv, token, headers={"Last-Event-ID": "100000"})
        assert "after %d" % last_seq(st) in s.message()[":"][0]
        issue_token(st, "bob")
        (seq, _), = s.events(1)
        assert seq == last_seq(st)
        s.close()


def test_a_revoked_or_expired_tokens_stream_ends(tmp_path, good_plan):
    """Revoking a token (or its expiry) ends its open streams: they carry
    no event written after it, as its requests get 401."""
    st = start(tmp_path, good_plan)
    ann = issue_token(st, "ann")
    brief = issue_token(st, "bob", "lead", "--expires", "3s")
    with Server(st) as srv:
        s1 = Stream(srv, ann)
        s2 = Stream(srv, brief)
        assert s1.status == 200 and s2.status == 200
        r = golive("token", "revoke", "T-1", "--as", "lead", "--state", st)
        assert r.rc == 0, r
        # the revoke itself may be the last event s1 carries; then it ends
        t = time.time() + 10
        while True:
            assert time.time() < t, "the revoked token's stream goes on"
            m = s1.message()
            if m is None:
                break
            if "data" in m:
                assert json.loads(m["data"])["kind"] == "token.revoke", m
        s1.close()
        time.sleep(3.5)
        r = golive("duty", "log", "after expiry", "--channel", "chat",
                   "--kind", "question", "--as", "ann", "--state", st)
        assert r.rc == 0, r
        t = time.time() + 10
        while True:
            assert time.time() < t, "the expired token's stream goes on"
            m = s2.message()
            if m is None:
                break
            if "data" in m:
                assert json.loads(m["data"])["kind"] != "duty.log", m
        s2.close()


def test_one_token_holds_a_bounded_number_of_streams(tmp_path, good_plan):
    """One token (a wall screen's, a lost laptop's) cannot take every
    connection of the server with event streams (reviewer: 1,005 streams
    of a viewer's token locked the team out)."""
    st = start(tmp_path, good_plan)
    ann = issue_token(st, "ann")
    bob = issue_token(st, "bob")
    # (a closed stream is noticed at its next write: a ping every 300 ms)
    with Server(st, "--streams-per-token", "4",
                env={"GOLIVE_TEST_SSE_PING_MS": "300"}) as srv:
        mine = [Stream(srv, ann) for _ in range(4)]
        assert all(s.status == 200 for s in mine)
        extra = Stream(srv, ann)
        assert extra.status == 429
        extra.close()
        other = Stream(srv, bob)
        assert other.status == 200
        other.close()
        mine[0].close()
        time.sleep(1.5)
        again = Stream(srv, ann)
        assert again.status == 200
        again.close()
        for s in mine[1:]:
            s.close()
