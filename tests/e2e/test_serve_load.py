"""golive serve under load: eight HTTP clients making 200 changes each at
once (POST /duty: each one event), and the same load cut by `kill -9` of
the server.  Every change answered 2xx is in the store, the chain
verifies, an open event stream carries every event once and in order.
A real server, real connections, a real store."""
import http.client
import json
import os
import signal
import threading
import time

from conftest import golive
from serving import Server, issue_token
from test_serve_stream import Stream

CLIENTS = 8
CHANGES = 200


def start(tmp_path, good_plan):
    st = tmp_path / "golive.state"
    r = golive("run", "start", good_plan, "--state", st, "--as", "lead")
    assert r.rc == 0, r
    return st


def events(st):
    r = golive("audit", "verify", "--state", st, "--json")
    assert r.rc == 0, r
    return json.loads(r.out)["events"]


def duty_texts(st):
    r = golive("duty", "list", "--json", "--state", st)
    assert r.rc == 0, r
    return [e["text"] for e in json.loads(r.out)]


def client(port, token, k, answered, stop):
    """CHANGES changes on one keep-alive connection; answered[k] gets the
    text of each change answered 2xx.  A broken connection (the server
    killed) ends the client."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    hdr = {"Authorization": "Bearer " + token,
           "Content-Type": "application/json"}
    try:
        for i in range(CHANGES):
            if stop.is_set():
                break
            text = "client %d change %d" % (k, i)
            body = json.dumps({"text": text, "channel": "chat",
                               "kind": "question"})
            conn.request("POST", "/api/v1/duty", body=body, headers=hdr)
            resp = conn.getresponse()
            data = resp.read()
            if 200 <= resp.status < 300:
                assert json.loads(data)["text"] == text
                answered[k].append(text)
            else:
                answered[k].append(("error", resp.status, data))
    except (OSError, http.client.HTTPException):
        pass
    finally:
        conn.close()


def run_clients(srv, tokens, stop):
    answered = [[] for _ in range(CLIENTS)]
    threads = [threading.Thread(target=client,
                                args=(srv.port, tokens[k % len(tokens)], k,
                                      answered, stop))
               for k in range(CLIENTS)]
    for t in threads:
        t.start()
    return threads, answered


def test_eight_clients_200_changes_each(tmp_path, good_plan):
    st = start(tmp_path, good_plan)
    tokens = [issue_token(st, p) for p in ("lead", "ann", "bob")]
    before = events(st)
    with Server(st) as srv:
        stream = Stream(srv, tokens[1], timeout=60)
        stream.message()
        t0 = time.time()
        threads, answered = run_clients(srv, tokens, threading.Event())
        # the stream carries every change, once, in order, as it comes
        got = stream.events(CLIENTS * CHANGES, deadline=120)
        for t in threads:
            t.join()
        took = time.time() - t0
        stream.close()
    errors = [a for per in answered for a in per if isinstance(a, tuple)]
    assert not errors, errors[:5]
    texts = [a for per in answered for a in per]
    assert len(texts) == CLIENTS * CHANGES
    assert sorted(duty_texts(st)) == sorted(texts)
    after = events(st)  # verifies the chain
    assert after - before == CLIENTS * CHANGES
    assert [seq for seq, _ in got] == list(range(before + 1, after + 1))
    assert sorted(ev["payload"]["text"] for _, ev in got) == sorted(texts)
    print("%d changes in %.1f s" % (len(texts), took))


def test_kill_9_in_the_middle_loses_no_answered_change(tmp_path, good_plan):
    st = start(tmp_path, good_plan)
    tokens = [issue_token(st, p) for p in ("lead", "ann", "bob")]
    before = events(st)
    srv = Server(st).start()
    stop = threading.Event()
    threads, answered = run_clients(srv, tokens, stop)
    # kill it once a few hundred changes were answered
    deadline = time.time() + 60
    while sum(len(a) for a in answered) < 300 and time.time() < deadline:
        time.sleep(0.01)
    os.kill(srv.proc.pid, signal.SIGKILL)
    srv.proc.wait()
    stop.set()
    for t in threads:
        t.join()
    srv.proc.communicate()
    srv.proc = None
    errors = [a for per in answered for a in per if isinstance(a, tuple)]
    assert not errors, errors[:5]
    texts = [a for per in answered for a in per]
    assert 300 <= len(texts) < CLIENTS * CHANGES
    stored = duty_texts(st)
    # every change answered 2xx is there; at most one more per client (its
    # commit done, its answer lost with the server)
    assert set(texts) <= set(stored)
    assert len(stored) - len(texts) <= CLIENTS
    after = events(st)  # the chain verifies after the kill
    assert after - before == len(stored)
    # and the store goes on: a new server serves it
    with Server(st) as srv2:
        status, _, body = srv2.call("POST", "/api/v1/duty", tokens[0],
                                    {"text": "after", "channel": "chat",
                                     "kind": "question"})
        assert status == 201, body
    assert events(st) == after + 1
