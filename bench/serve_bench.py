"""golive serve under load: see bench/serve.sh."""
import http.client
import json
import os
import re
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

golive = sys.argv[1]
SECONDS, CONNS, STREAMS, WRITERS = (int(x) for x in sys.argv[2:6])
SAMPLED = 20  # streams whose events are parsed and timed (all are read)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args, **kw):
    r = subprocess.run([golive] + list(args), capture_output=True, text=True,
                       **kw)
    if r.returncode != 0:
        raise SystemExit("golive %s failed:\n%s" % (" ".join(args), r.stderr))
    return r.stdout


class Streams:
    """STREAMS open event streams on raw sockets, drained by one thread;
    the first SAMPLED are parsed: seen[text] = [arrival times]."""

    def __init__(self, port, token):
        self.sel = selectors.DefaultSelector()
        self.seen = {}
        self.bytes = 0
        self.ended = 0
        self.stop = False
        req = ("GET /api/v1/events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Authorization: Bearer %s\r\n\r\n" % token).encode()
        for i in range(STREAMS):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(req)
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ,
                              {"i": i, "buf": b""})
        self.thread = threading.Thread(target=self.drain, daemon=True)
        self.thread.start()

    def drain(self):
        while not self.stop:
            for key, _ in self.sel.select(timeout=0.2):
                try:
                    data = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                now = time.time()
                if not data:
                    self.sel.unregister(key.fileobj)
                    key.fileobj.close()
                    self.ended += 1
                    continue
                self.bytes += len(data)
                st = key.data
                if st["i"] >= SAMPLED:
                    continue
                st["buf"] += data
                *lines, st["buf"] = st["buf"].split(b"\n")
                for line in lines:
                    if line.startswith(b"data: "):
                        ev = json.loads(line[6:])
                        text = ev.get("payload", {}).get("text")
                        if text:
                            self.seen.setdefault(text, []).append(now)

    def close(self):
        self.stop = True
        self.thread.join()
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()


def writer(port, token, k, sent, answered, errors, stop):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    hdr = {"Authorization": "Bearer " + token,
           "Content-Type": "application/json"}
    n, t = 0, time.time()
    while not stop.is_set():
        text = "bench writer %d change %d" % (k, n)
        body = json.dumps({"text": text, "channel": "chat",
                           "kind": "question"})
        sent[text] = time.time()
        try:
            conn.request("POST", "/api/v1/duty", body=body, headers=hdr)
            resp = conn.getresponse()
            resp.read()
            answered[text] = time.time()
            if resp.status != 201:
                errors.append(resp.status)
        except (OSError, http.client.HTTPException) as e:
            errors.append(str(e))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n += 1
        t += 0.1
        time.sleep(max(0, t - time.time()))
    conn.close()


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else 0


def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    return float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)]


def main():
    work = tempfile.mkdtemp(prefix="golive-servebench-")
    try:
        demo = os.path.join(work, "demo")
        run("demo", "--dir", demo, "--rows", "2000")
        state = os.path.join(demo, "golive.state")
        tokens = [json.loads(run("token", "issue", "--state", state, "--for",
                                 p, "--as", "zhang", "--json"))["token"]
                  for p in ("zhang", "huang", "zhou", "lifei")]
        port = free_port()
        log = open(os.path.join(work, "serve.log"), "w")
        srv = subprocess.Popen([golive, "serve", "--state", state, "--listen",
                                "127.0.0.1:%d" % port, "--streams-per-token",
                                "1000"], stderr=log)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                time.sleep(0.05)
        streams = Streams(port, tokens[3])
        time.sleep(1)
        sent, answered, errors, stop = {}, {}, [], threading.Event()
        writers = [threading.Thread(target=writer,
                                    args=(port, tokens[k % 3], k, sent,
                                          answered, errors, stop))
                   for k in range(WRITERS)]
        for w in writers:
            w.start()
        out = subprocess.run(
            ["wrk", "-t2", "-c%d" % CONNS, "-d%ds" % SECONDS, "--latency",
             "-H", "Authorization: Bearer " + tokens[0],
             "http://127.0.0.1:%d/api/v1/status" % port],
            capture_output=True, text=True).stdout
        stop.set()
        for w in writers:
            w.join()
        time.sleep(1.5)  # the last events reach the streams
        with open("/proc/%d/status" % srv.pid) as f:
            hwm = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1))
        with open("/proc/%d/stat" % srv.pid) as f:
            ticks = f.read().rsplit(")", 1)[1].split()
            cpu = (int(ticks[11]) + int(ticks[12])) / os.sysconf("SC_CLK_TCK")
        open_streams = STREAMS - streams.ended
        streams.close()
        srv.send_signal(signal.SIGTERM)
        srv.wait(timeout=30)
        log.close()
    finally:
        pass
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s*(50|99)(?:\.0+)?%\s+(\S+)\s*$", out, re.M))
    if "50" not in lat or "99" not in lat:
        raise SystemExit("cannot read wrk's latencies:\n" + out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors:.*", out)
    delays, after = [], []
    missing = 0
    for text, t0 in sent.items():
        arr = streams.seen.get(text, [])
        missing += SAMPLED - len(arr)
        delays += [(t - t0) * 1e3 for t in arr]
        if text in answered:
            after += [(t - answered[text]) * 1e3 for t in arr]
    print("golive serve, %d s: %d status readers (wrk), %d writers every "
          "100 ms, %d event streams" % (SECONDS, CONNS, WRITERS, STREAMS))
    print("  status reads/s      %.0f" % rps)
    print("  status p50 / p99    %.2f ms / %.2f ms"
          % (ms(lat["50"]), ms(lat["99"])))
    print("  non-2xx reads       %s" % (non2xx.group(1) if non2xx else 0))
    if errs:
        print("  wrk %s" % errs.group(0))
    print("  changes posted      %d (%d errors)" % (len(sent), len(errors)))
    print("  event delivery      p50 %.0f ms, p99 %.0f ms, max %.0f ms "
          "(%d deliveries on %d sampled streams, %d missing)"
          % (pct(delays, 50), pct(delays, 99), max(delays or [0]),
             len(delays), SAMPLED, missing))
    print("  after the answer    p50 %.0f ms, p99 %.0f ms (the post's own "
          "time left out; < 0: the stream was first)"
          % (pct(after, 50), pct(after, 99)))
    print("  streams open at end %d of %d (%.1f MB read)"
          % (open_streams, STREAMS, streams.bytes / 1e6))
    print("  server peak RSS     %.1f MiB (VmHWM)" % (hwm / 1024))
    print("  server CPU          %.1f s (user + system, %d s run)"
          % (cpu, SECONDS))
    print("  server exit         %d" % srv.returncode)
    shutil.rmtree(work, ignore_errors=True)


main()
