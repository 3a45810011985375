"""Helpers for the tests of `golive serve`: start a real server on a free
loopback port over a state store, issue tokens with the CLI, and make
HTTP requests with the standard library (no mock anywhere)."""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from conftest import BIN, SANITIZER_MARKS, golive


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`golive serve --state STATE` on 127.0.0.1:PORT, as a context manager:
    started and ready (GET /healthz answers) on enter, stopped with
    SIGTERM on exit (its exit code and stderr kept for the test)."""

    def __init__(self, state, *args, env=None, cwd=None, tls=None):
        self.state = str(state)
        self.args = [str(a) for a in args]
        # tls: (certificate, key) PEM files: served over HTTPS, the
        # certificate trusted by the test's requests
        self.context = None
        if tls:
            import ssl
            self.args += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
            self.context = ssl.create_default_context(cafile=str(tls[0]))
            self.context.check_hostname = False
        self.env = env
        self.cwd = cwd
        self.port = None
        self.proc = None
        self.rc = None
        self.err = ""

    def _log(self):
        """The server's stderr: a file, never a pipe nobody reads while the
        test runs (a busy server would block on a full pipe)."""
        self._errf = tempfile.TemporaryFile()
        return self._errf

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.context else "http",
                                      self.port)

    def start(self):
        e = dict(os.environ)
        for k in ("GOLIVE_STATE", "GOLIVE_USER", "GOLIVE_TEST_CRASH_AT"):
            e.pop(k, None)
        if self.env:
            e.update(self.env)
        for _ in range(5):
            self.port = free_port()
            self.proc = subprocess.Popen(
                [BIN, "serve", "--state", self.state, "--listen",
                 "127.0.0.1:%d" % self.port] + self.args,
                cwd=self.cwd, env=e, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=self._log(), text=True)
            deadline = time.time() + 20
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    st, _, _ = request(self.url, "GET", "/healthz",
                                       context=self.context)
                    if st == 200:
                        return self
                except OSError:
                    pass
                time.sleep(0.05)
            self.stop()
            if "cannot serve" not in self.err:
                raise AssertionError("golive serve did not start:\n%s"
                                     % self.err)
        raise AssertionError("no free port for golive serve")

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.proc.wait()
            self._errf.seek(0)
            err = self._errf.read().decode(errors="replace")
            self._errf.close()
            self.rc = self.proc.returncode
            self.err += err or ""
            self.proc = None
        for mark in SANITIZER_MARKS:
            assert mark not in self.err, "sanitizer report:\n%s" % self.err
        return self.rc

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def call(self, method, path, token=None, body=None, headers=None,
             raw=None):
        """(status, response headers, parsed JSON or text) of one request;
        path under the server ('/api/v1/status')."""
        return request(self.url, method, path, token, body, headers, raw,
                       context=self.context)


def request(base, method, path, token=None, body=None, headers=None,
            raw=None, timeout=30, context=None):
    h = dict(headers or {})
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    if token:
        h["Authorization"] = "Bearer " + token
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout,
                                    context=context) as r:
            status, hdrs, text = r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        status, hdrs, text = e.code, e.headers, e.read().decode()
    ctype = hdrs.get("Content-Type", "")
    if ctype.startswith("application/json"):
        return status, hdrs, json.loads(text) if text else None
    return status, hdrs, text


def issue_token(state, person, lead="lead", *extra, env=None):
    """A token for person, issued by lead with the CLI; returns it."""
    r = golive("token", "issue", "--state", state, "--for", person, "--as",
               lead, "--json", *extra, env=env)
    assert r.rc == 0, r
    return json.loads(r.out)["token"]


class PausedSync:
    """The good plan's `users` job over 3,000 rows (old.db and new.db made
    beside plan), `golive sync` started and held after its third batch of
    500 (a test pause point) as a context manager: on exit it goes on to
    its end; .rc is its exit code."""

    def __init__(self, plan, rows=3000):
        import sqlite3
        d = os.path.dirname(str(plan))
        old = sqlite3.connect(os.path.join(d, "old.db"))
        old.execute("CREATE TABLE t_user (id INTEGER PRIMARY KEY, name TEXT)")
        old.executemany("INSERT INTO t_user VALUES (?, ?)",
                        [(i, "u%d" % i) for i in range(1, rows + 1)])
        old.commit()
        old.close()
        new = sqlite3.connect(os.path.join(d, "new.db"))
        new.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        new.commit()
        new.close()
        self.plan = str(plan)
        self.pause = os.path.join(d, "paused")
        self.rc = None

    def __enter__(self):
        e = dict(os.environ)
        for k in ("GOLIVE_STATE", "GOLIVE_NOW", "GOLIVE_USER"):
            e.pop(k, None)
        e.update({"GOLIVE_TEST_PAUSE": "sync.batch.loaded:3",
                  "GOLIVE_TEST_PAUSE_FILE": self.pause})
        self.proc = subprocess.Popen(
            [BIN, "sync", self.plan, "users", "--batch-size", "500", "--as",
             "ann"], env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        for _ in range(1200):
            if os.path.exists(self.pause) or self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if not os.path.exists(self.pause):
            out, err = self.proc.communicate()
            raise AssertionError("the sync did not pause:\n%s%s" % (out, err))
        return self

    def __exit__(self, *exc):
        if os.path.exists(self.pause):
            os.unlink(self.pause)
        self.proc.communicate(timeout=60)
        self.rc = self.proc.returncode
