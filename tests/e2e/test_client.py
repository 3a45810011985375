"""The CLI through a server (#13.7): `--server URL` / GOLIVE_SERVER with a
token from GOLIVE_TOKEN or `golive login`: the same output, the same exit
codes and the same events as on the store itself.  A real `golive serve`
on loopback (serving.py), real stores; nothing mocked."""
import json
import os
import re
import shlex
import shutil
import sqlite3
import stat
import subprocess

import pytest

from conftest import BIN, golive
from serving import Server, issue_token

# The demo's night (src/cmd-demo.c night_steps): time, command, exit.
NIGHT = [
    ("T-6h", "token issue --viewer war-room --as zhang", 0),
    ("T-6h", "task start announce-freeze --as zhang", 0),
    ("T-6h", "task done announce-freeze --as zhang", 0),
    ("T-5h55m", "task check announce-freeze --as wang", 0),
    ("T-5h45m", "task start backup-old --as zhou", 0),
    ("T-5h30m", "task check backup-old --as zhao", 0),
    ("T-5h", "task start validate-config --as lifei", 0),
    ("T-4h50m", "defect open --severity major --as lifei --title \"legacy "
     "expense status '15' has no mapping: its claims are rejected\"", 0),
    ("T-4h45m", "task done validate-config --as lifei --note \"online check: "
     "code '15' unmapped (D-1)\"", 0),
    ("T-4h40m", "task check validate-config --as wang", 0),
    ("T-4h", "task start freeze-old --as zhou", 0),
    ("T-3h55m", "task done freeze-old --as zhou", 0),
    ("T-3h50m", "task check freeze-old --as zhang", 0),
    ("T-3h30m", "task start sync-departments --as wang", 0),
    ("T-3h25m", "task check sync-departments --as lifei", 0),
    ("T-3h20m", "task start sync-employees --as wang", 0),
    ("T-3h05m", "task check sync-employees --as lifei", 0),
    ("T-3h", "task start sync-expenses --as lifei", 0),
    ("T-2h", "task check sync-expenses --as wang", 0),
    ("T-2h", "task start sync-leaves --as lifei", 0),
    ("T-1h40m", "task check sync-leaves --as wang", 0),
    ("T-1h40m", "task start sync-approvals --as wang", 0),
    ("T-1h", "task check sync-approvals --as lifei", 0),
    ("T-1h", "task start check-volumes --as lifei", 1),
    ("T-55m", "check @run expenses-rows rejected-have-reasons --as lifei", 1),
    ("T-50m", "defect open --severity blocker --as lifei --title \"archived "
     "expense claims never arrive: the job skips them, the count says they "
     "must\"", 0),
    ("T-45m", "defect open --severity blocker --as lifei --title \"rejection "
     "reasons of rejected claims are dropped in the new system\"", 0),
    ("T-40m", "defect fixing D-2 --as liu", 0),
    ("T-35m", "defect comment D-2 \"claim EXP-000042 is archived in the old "
     "system and absent in the new one\" --as wang", 0),
    ("T-30m", "status", 0),
    ("T-20m", "gate", 1),
    ("T-15m", "decide go --as zhang --note \"midnight release\"", 3),
    ("T-10m", "decide no-go --as zhang --note \"D-2 and D-3 are open and the "
     "volume checks fail: practise the way back, fix the jobs before the "
     "real night\"", 0),
    ("T-10m", "rollback --as zhang --note \"rehearsal of the rollback\"", 0),
    ("T-5m", "task start rb-stop-new --as zhao", 0),
    ("T0", "task done rb-stop-new --as zhao", 0),
    ("T+5m", "task check rb-stop-new --as liu", 0),
    ("T+5m", "task start rb-reopen-old --as zhou", 0),
    ("T+20m", "task done rb-reopen-old --as zhou", 0),
    ("T+25m", "task check rb-reopen-old --as zhang", 0),
    ("T+25m", "task start rb-announce --as zhang", 0),
    ("T+35m", "task done rb-announce --as zhang", 0),
    ("T+40m", "task check rb-announce --as wang", 0),
    ("T+40m", "status", 0),
    ("T+40m", "duty log \"can I submit claims again?\" --channel phone "
     "--kind question --as zhou", 0),
    ("T+45m", "defect defer D-1 --patch cutover-2 --as liu", 0),
    ("T+45m", "patch plan", 0),
    ("T+50m", "report --format html --out report.html", 0),
    ("T+50m", "audit verify", 0),
]

PEOPLE = ["zhang", "lifei", "wang", "chen", "liu", "zhao", "huang", "zhou"]
SWITCH = "2026-03-14T00:00:00+08:00"


def at(rel):
    """T-relative time of the demo's night as GOLIVE_NOW (T0 is midnight
    of 2026-03-14 at +08:00)."""
    import datetime
    t0 = datetime.datetime(2026, 3, 14, tzinfo=datetime.timezone(
        datetime.timedelta(hours=8)))
    sign = -1 if rel.startswith("T-") else 1
    rest = rel[2:] if len(rel) > 2 else ""
    sec = 0
    num = ""
    for ch in rest:
        if ch.isdigit():
            num += ch
        else:
            sec += int(num) * {"h": 3600, "m": 60, "s": 1}[ch]
            num = ""
    return (t0 + datetime.timedelta(seconds=sign * sec)).isoformat()


@pytest.fixture(scope="module")
def demo_base(tmp_path_factory):
    """A demo built once (its night played), to copy fresh runs from."""
    d = tmp_path_factory.mktemp("client") / "demo"
    r = golive("demo", "--dir", d, "--rows", "200",
               env={"GOLIVE_NOW": "2026-03-13T10:00:00+08:00"})
    assert r.rc == 0, r
    return d


def fresh(base, dest):
    """A copy of the demo before its night: the old system, the plan, an
    empty new system and a run just started."""
    shutil.copytree(base, dest)
    for name in os.listdir(dest):
        p = dest / name
        if name.startswith("golive.state") or name in (
                "golive-output", "rejects", "report.html", "old-backup.db") \
                or name.endswith(".lock"):
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    c = sqlite3.connect(dest / "new.db")
    for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type = "
                          "'table' AND name NOT LIKE 'sqlite_%'").fetchall():
        c.execute('DELETE FROM "%s"' % t)
    c.commit()
    c.close()
    r = golive("run", "start", dest / "plan.yaml", "--rehearsal", "--as",
               "zhang", "--state", dest / "golive.state",
               env={"GOLIVE_NOW": at("T-6h")})
    assert r.rc == 0, r
    return dest / "golive.state"


def events(state):
    c = sqlite3.connect(state)
    try:
        cols = [r[1] for r in c.execute("PRAGMA table_info(events)")]
        rows = c.execute("SELECT * FROM events ORDER BY seq").fetchall()
    finally:
        c.close()
    keep = [i for i, n in enumerate(cols)
            if n not in ("at", "hash", "prev_hash", "prev", "os_user")]
    out = []
    for row in rows:
        x = {cols[i]: row[i] for i in keep}
        p = x.get("payload")
        if isinstance(p, str) and p.startswith("{"):
            p = json.loads(p)
            for k in list(p):
                if k in ("at", "token_sha256", "pid", "pgid", "host") or \
                        isinstance(p[k], float):
                    # times, hashes, processes and measured durations
                    p.pop(k)
            x["payload"] = p
        out.append(x)
    return out


def play(state, cmd, now, server=None, token=None):
    args = shlex.split(cmd)
    env = {"GOLIVE_NOW": now}
    if server:
        env.update(GOLIVE_SERVER=server, GOLIVE_TOKEN=token)
    else:
        args += ["--state", state]
    if "report.html" in args:
        args[args.index("report.html")] = str(state.parent / "report.html")
    return golive(*args, env=env)


def same_out(text, folder):
    """Output with what differs between two stores (their folder, a run's
    output file named by its pid, the run's id and the hashes) made the
    same."""
    text = re.sub(r"-[0-9]+\.log", "-PID.log", text.replace(str(folder), "D"))
    # a sync execution's id: the wall clock and the pid
    text = re.sub(r"[0-9]{8}T[0-9]{6}\.[0-9]+Z-[0-9]+", "EXEC", text)
    # the run's id and the chain's hashes (which cover it) are the store's
    return re.sub(r"\b[0-9a-f]{32,64}\b", "HEX", text)


def test_the_demo_night_through_a_server(demo_base, tmp_path):
    """Every step of the demo's night played through `golive serve` with
    each person's token gives the same exit codes, the same output and the
    same events (actors, kinds, order) as played on the store itself."""
    direct = fresh(demo_base, tmp_path / "direct")
    served = fresh(demo_base, tmp_path / "served")
    tokens = {}
    for st in (direct, served):
        for p in PEOPLE:
            t = issue_token(st, p, "zhang", env={"GOLIVE_NOW": at("T-6h")})
            if st == served:
                tokens[p] = t
    for when, cmd, want in NIGHT:
        now = at(when)
        a = play(direct, cmd, now)
        assert a.rc == want, (cmd, a)
        if cmd.startswith(("token ", "check ")):
            # not a run command through the API: on the store, as a
            # person on the server's host would
            b = play(served, cmd, now)
        else:
            words = shlex.split(cmd)
            who = words[words.index("--as") + 1] if "--as" in words \
                else "zhang"
            with Server(served, env={"GOLIVE_NOW": now}) as srv:
                b = play(served, cmd, now, srv.url, tokens[who])
        assert b.rc == want, (cmd, b)
        if not cmd.startswith("token "):
            ta, tb = same_out(a.out, direct.parent), same_out(b.out,
                                                              served.parent)
            if cmd.startswith("task start sync-"):
                # a sync's table says how long it took and its pace
                ta, tb = (re.sub(r"[0-9.]+", "9", re.sub(r" +", " ", t))
                          for t in (ta, tb))
            assert tb == ta, cmd
    ea, eb = events(direct), events(served)
    assert [(e["actor"], e["kind"]) for e in eb] == \
        [(e["actor"], e["kind"]) for e in ea]
    assert len(ea) > 60
    # and what each event says, but for the store's own folder, run id,
    # hashes and output files
    for x, y in zip(ea, eb):
        assert same_out(json.dumps(y, sort_keys=True), served.parent) == \
            same_out(json.dumps(x, sort_keys=True), direct.parent)
    for st in (direct, served):
        r = golive("audit", "verify", "--state", st)
        assert r.rc == 0, r
    assert (served.parent / "report.html").read_text().startswith("<!")


PLAN = """\
cutover: api
switch_at: 2026-03-14T00:00:00Z
people:
  - {id: lead, roles: [lead]}
  - {id: ann, roles: [ops, tester]}
  - {id: bob, roles: [ops, dev, tester]}
  - {id: cy, roles: [ops, duty]}
tasks:
  - {id: t1, title: First, stage: prepare, owner: ann, checker: bob,
     duration: 10m}
  - {id: t2, title: Second, stage: prepare, owner: bob, checker: ann,
     depends_on: [t1], duration: 10m}
  - {id: hello, title: Hello, stage: prepare, owner: ann, checker: bob,
     run: "shell echo hello from $GOLIVE_TASK"}
  - {id: oops, title: Oops, stage: prepare, owner: ann, checker: bob,
     run: "shell echo about to fail; exit 3"}
scenarios:
  - {id: S1, title: Order, area: sales, priority: P0, risk: 3}
  - {id: S2, title: Invoice, area: finance, priority: P1, risk: 1,
     assignee: bob}
gates:
  go: [no_open_blockers, {tasks_checked: [t2]}]
rollback:
  - {id: rb-1, title: Switch back, owner: bob, checker: lead, duration: 10m}
"""

NOW = "2026-03-13T23:00:00Z"

# A small night touching every run command the API serves: (command,
# exit).  Each runs --as its person, directly or with that person's token.
SMALL_NIGHT = [
    ("task start t1 --as ann", 0),
    ("task done t1 --as ann --note finished", 0),
    ("task check t1 --as ann", 3),           # the owner checks nothing
    ("task check t1 --as bob", 0),
    ("task done t2 --as bob", 3),            # not running: 409
    ("task start hello --as ann", 0),
    ("task start oops --as ann", 1),         # its run: fails
    ("task start t2 --as bob --json", 0),
    ("scenario next --as ann", 0),
    ("scenario next --as ann", 0),           # already hers
    ("scenario fail S1 --as ann --note \"total wrong\"", 0),
    ("defect open --severity blocker --title \"bad total\" --scenario S1 "
     "--as ann", 0),
    ("defect open --severity minor --title \"label\" --as bob --json", 0),
    ("defect fixing D-1 --as bob", 0),
    ("defect fixed D-1 --as bob --note \"rounding\"", 0),
    ("defect verify D-1 --as bob", 3),       # not the fixer: 403
    ("defect verify D-1 --as ann", 0),
    ("defect comment D-2 \"seen on the report\" --as cy", 0),
    ("defect severity D-2 major --note \"users see it\" --as lead", 0),
    ("defect defer D-2 --patch p1 --as lead", 0),
    ("defect show D-2", 0),
    ("defect list", 0),
    ("scenario pass S1 --as ann", 0),
    ("scenario progress", 0),
    ("scenario progress --json", 0),
    ("duty log \"password reset?\" --channel chat --kind question --as cy", 0),
    ("duty log \"export fails\" --channel ticket --kind defect --as cy", 0),
    ("duty defect H-2 --severity minor --as cy", 0),
    ("duty patch H-1 --patch p1 --as bob", 0),
    ("duty list", 0),
    ("patch plan", 0),
    ("handover --to cy --as ann", 0),
    ("handover --to cy --task t2 --as bob", 3),  # cy checks it now
    ("shift T0 --to T+1h --as lead --note \"late\"", 0),
    ("shift T0 --to T+2h --as ann", 3),      # only the lead
    ("task done t2 --as bob", 0),
    ("gate", 1),
    ("gate --json", 1),
    ("decide go --as lead --note now", 3),   # the gate does not pass
    ("decide hold --as lead --note wait --json", 0),
    ("rollback --as lead --note back", 0),
    ("rollback --as lead", 3),               # started already
    ("status", 0),
    ("status --json", 0),
    ("report", 0),
    ("report --format json", 0),
    ("audit verify", 0),
]


def small_run(d):
    d.mkdir()
    plan = d / "plan.yaml"
    plan.write_text(PLAN)
    r = golive("run", "start", plan, "--as", "lead", env={"GOLIVE_NOW": NOW})
    assert r.rc == 0, r
    st = d / "golive.state"
    tok = {p: issue_token(st, p, env={"GOLIVE_NOW": NOW})
           for p in ("lead", "ann", "bob", "cy")}
    return st, tok


def test_every_run_command_through_a_server(tmp_path):
    """A night of every run command, on the store and through a server:
    the same exit codes (refusals 3, a failed run: 1, a closed gate 1),
    the same output and the same events."""
    direct, _ = small_run(tmp_path / "direct")
    served, tok = small_run(tmp_path / "served")
    with Server(served, env={"GOLIVE_NOW": NOW}) as srv:
        for cmd, want in SMALL_NIGHT:
            words = shlex.split(cmd)
            who = words[words.index("--as") + 1] if "--as" in words \
                else "lead"
            a = play(direct, cmd, NOW)
            b = play(served, cmd, NOW, srv.url, tok[who])
            assert (a.rc, b.rc) == (want, want), (cmd, a, b)
            assert same_out(b.out, served.parent) == \
                same_out(a.out, direct.parent), cmd
            if cmd.startswith("task start oops"):
                # the run's output, then its end, as a run on this host
                assert "about to fail\n" in b.out
                assert "running -> failed (run: exit 3" in b.out, b
            if cmd.startswith("task start hello"):
                assert "hello from hello" in b.out, b
            if want == 3:
                # the same refusal, worded the same
                assert same_out(b.err, served.parent) == \
                    same_out(a.err, direct.parent), cmd
    ea, eb = events(direct), events(served)
    assert [(e["actor"], e["kind"]) for e in eb] == \
        [(e["actor"], e["kind"]) for e in ea]
    for x, y in zip(ea, eb):
        assert same_out(json.dumps(y, sort_keys=True), served.parent) == \
            same_out(json.dumps(x, sort_keys=True), direct.parent)
    assert golive("audit", "verify", "--state", served).rc == 0


def test_exit_codes_through_a_server(tmp_path):
    """401, 403 and 409 exit 3; 400, 404, 413 and an unreachable server
    exit 2; a 2xx whose answer is no exits 1; --as another person than
    the token's is refused."""
    st, tok = small_run(tmp_path / "run")
    with Server(st, env={"GOLIVE_NOW": NOW}) as srv:
        def via(who, *args, token=None):
            return golive(*args, env={"GOLIVE_SERVER": srv.url,
                                      "GOLIVE_TOKEN": token or tok[who],
                                      "GOLIVE_NOW": NOW})
        r = via("ann", "gate")
        assert r.rc == 1 and "gate: NO-GO" in r.out, r
        r = via("bob", "task", "start", "t1")                 # 403
        assert r.rc == 3 and "golive: error: " in r.err, r
        r = via("ann", "task", "done", "t1")                  # 409
        assert r.rc == 3 and "pending" in r.err, r
        r = via("ann", "task", "start", "nosuch")             # 404
        assert r.rc == 2 and "nosuch" in r.err, r
        r = via("ann", "defect", "open", "--severity", "huge", "--title",
                "x")                                          # 400
        assert r.rc == 2 and "huge" in r.err, r
        r = via("ann", "task", "start", "t1", "--note",
                "x" * (70 * 1024))                            # 413
        assert r.rc == 2 and "KiB" in r.err, r
        r = via("ann", "status", token="0" * 64)              # 401
        assert r.rc == 3 and "token" in r.err, r
        assert "0" * 64 not in r.err + r.out
        r = via("ann", "task", "start", "t1", "--as", "bob")  # not hers
        assert r.rc == 3 and "--as 'bob' refused" in r.err, r
        r = via("ann", "task", "start", "t1", "--as", "ann")
        assert r.rc == 0 and "task t1: pending -> running (ann)" in r.out, r
        # the refused --as moved nothing: one start, by ann
        kinds = [(e["actor"], e["kind"]) for e in events(st)
                 if e["kind"].startswith("task.")]
        assert kinds == [("ann", kinds[0][1])], kinds
    # the server is gone: unreachable
    r = golive("status", "--server", srv.url,
               env={"GOLIVE_TOKEN": tok["ann"]})
    assert r.rc == 2 and "cannot reach the server" in r.err, r
    assert tok["ann"] not in r.err + r.out
    # no token at all
    r = golive("status", "--server", srv.url,
               env={"GOLIVE_TOKEN": "", "XDG_CONFIG_HOME": str(tmp_path)})
    assert r.rc == 3 and "golive login" in r.err, r
    # plain http to a host that is not loopback by name: the token would
    # cross in clear (0.0.0.0 reaches this host: nothing leaves it)
    r = golive("status", "--server", "http://0.0.0.0:1",
               env={"GOLIVE_TOKEN": tok["ann"]})
    assert r.rc == 2 and "in clear" in r.err, r
    # a store named with --state is that store, whatever GOLIVE_SERVER says
    r = golive("status", "--state", st, env={"GOLIVE_SERVER": srv.url,
                                             "GOLIVE_NOW": NOW})
    assert r.rc == 0 and "switch at" in r.out, r


def login(url, token, cfg):
    e = dict(os.environ, XDG_CONFIG_HOME=str(cfg))
    for k in ("GOLIVE_TOKEN", "GOLIVE_SERVER", "GOLIVE_STATE"):
        e.pop(k, None)
    return subprocess.run([BIN, "login", url], input=token + "\n", env=e,
                          capture_output=True, text=True, timeout=60)


def test_login_keeps_the_token_for_the_run_commands(tmp_path):
    st, tok = small_run(tmp_path / "run")
    cfg = tmp_path / "cfg"
    with Server(st, env={"GOLIVE_NOW": NOW}) as srv:
        # a token the server does not know is not kept
        r = login(srv.url, "f" * 64, cfg)
        assert r.returncode == 3, r
        assert not (cfg / "golive" / "credentials").exists()
        r = login(srv.url, tok["ann"], cfg)
        assert r.returncode == 0, r
        assert "as ann" in r.stdout and tok["ann"] not in r.stdout + r.stderr
        f = cfg / "golive" / "credentials"
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
        assert stat.S_IMODE(f.parent.stat().st_mode) == 0o700
        assert json.loads(f.read_text()) == {"url": srv.url,
                                             "token": tok["ann"]}
        env = {"GOLIVE_SERVER": srv.url, "XDG_CONFIG_HOME": str(cfg),
               "GOLIVE_TOKEN": "", "GOLIVE_NOW": NOW}
        r = golive("task", "start", "t1", env=env)
        assert r.rc == 0 and "(ann)" in r.out, r
        # another server's URL does not get this token
        r = golive("status", "--server", srv.url + "0", env=dict(
            env, GOLIVE_SERVER=""))
        assert r.rc == 3 and "no token" in r.err, r
        r = golive("logout", env=env)
        assert r.rc == 0 and not f.exists(), r
        assert r.out.startswith("signed out: "), r
        r = golive("logout", env=env)
        assert r.rc == 0 and r.out.startswith("not signed in: "), r
        r = golive("status", env=env)
        assert r.rc == 3, r
    assert [e["actor"] for e in events(st) if e["kind"].startswith("task.")] \
        == ["ann"]


def test_audit_verify_with_the_head_through_a_server(tmp_path):
    """`audit verify --head N:HASH` through a server: the server checks its
    store against the head written down; a rewritten head exits 1 (a 200
    whose answer is no), as on the store."""
    st, tok = small_run(tmp_path / "run")
    head = golive("audit", "head", "--state", st).out.strip()
    seq, h = head.split(":")
    wrong = "%s:%s" % (seq, "0123456789abcdef")
    with Server(st, env={"GOLIVE_NOW": NOW}) as srv:
        env = {"GOLIVE_SERVER": srv.url, "GOLIVE_TOKEN": tok["ann"]}
        for arg, want in ((head, 0), (wrong, 1)):
            a = golive("audit", "verify", "--head", arg, "--state", st)
            b = golive("audit", "verify", "--head", arg, env=env)
            assert (a.rc, b.rc) == (want, want), (a, b)
            assert b.out == a.out and b.err == a.err, (a, b)
        assert "the head written down is there" in golive(
            "audit", "verify", "--head", head, env=env).out
        r = golive("audit", "verify", "--head", "nonsense", env=env)
        assert r.rc == 2 and "--head takes N:HASH" in r.err, r
        st_, _, body = srv.call("GET", "/api/v1/audit?head=x", tok["ann"])
        assert st_ == 400 and "'head'" in body["error"]["message"], body


def test_a_store_only_command_says_so_when_a_server_is_set(tmp_path):
    """With GOLIVE_SERVER set, a command that works on a store only
    (token list, run start, sync...) says which store it takes rather
    than quietly using the folder's (new-user trial)."""
    r = golive("token", "list", cwd=tmp_path,
               env={"GOLIVE_SERVER": "http://127.0.0.1:9"})
    assert r.rc == 2, r
    assert "GOLIVE_SERVER is set, but this command works on a state " \
        "store, not through a server: 'golive.state' here" in r.err, r
    r = golive("token", "list", "--state", tmp_path / "x.state",
               env={"GOLIVE_SERVER": "http://127.0.0.1:9"})
    assert "GOLIVE_SERVER is set" not in r.err, r
