"""Nothing lost, nothing leaked, nothing changed that is not ours: secrets in
URLs, hand-run sync/check against a changed plan, `db exec`, file modes,
the state store's opening and its online backup, NUL in plan scalars."""
import hashlib
import json
import os
import sqlite3
import stat
import subprocess
import threading

from conftest import BIN, golive, write, GOOD_PLAN


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


# ---- the state store ---------------------------------------------------

def legacy_db(path, wal=False):
    db = sqlite3.connect(path)
    if wal:
        db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t_user (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("INSERT INTO t_user VALUES (1, 'ann')")
    db.commit()
    db.close()
    return path


def test_legacy_sqlite_file_is_left_byte_for_byte(tmp_path, good_plan):
    """Opening a file that is not a store used to switch it to WAL mode
    before saying so: the legacy database's file changed."""
    for wal in (False, True):
        old = legacy_db(tmp_path / ("old-%d.db" % wal), wal)
        before = digest(old)
        side = sorted(os.listdir(tmp_path))
        for argv in (["status", "--state", old],
                     ["audit", "verify", "--state", old],
                     ["run", "start", good_plan, "--state", old],
                     ["store", "backup", tmp_path / "copy.db", "--state", old],
                     ["sync", good_plan, "--state", old]):
            r = golive(*argv)
            assert digest(old) == before, (argv, r)
            # no -wal, -shm or -journal appeared beside it, no copy made
            assert sorted(os.listdir(tmp_path)) == side, (argv, r)
            assert r.rc == 2, (argv, r)
            assert "'%s' is not a golive state store" % old in r.err, (argv, r)


def test_a_file_that_is_not_sqlite_is_left_alone(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("x" * 200)
    r = golive("status", "--state", notes)
    assert r.rc == 2 and "not a golive state store" in r.err
    assert notes.read_text() == "x" * 200
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]


def test_store_and_its_wal_files_are_0600(tmp_path, good_plan):
    old = os.umask(0o022)
    try:
        assert golive("run", "start", good_plan).rc == 0
    finally:
        os.umask(old)
    state = tmp_path / "golive.state"
    assert mode(state) == 0o600
    # a reader keeps the -wal and -shm while golive writes
    db = sqlite3.connect(state)
    db.execute("BEGIN")
    db.execute("SELECT count(*) FROM events").fetchone()
    assert golive("defect", "open", "--severity", "minor", "--title", "x",
                  "--as", "ann", "--state", state).rc == 0
    for side in ("-wal", "-shm"):
        assert mode(str(state) + side) == 0o600, side
    db.close()


def test_store_backup_while_another_process_writes(tmp_path, good_plan):
    assert golive("run", "start", good_plan).rc == 0
    state = tmp_path / "golive.state"
    stop = threading.Event()
    wrote = []

    def writer():
        env = dict(os.environ, GOLIVE_STATE=str(state))
        while not stop.is_set():
            p = subprocess.run([BIN, "defect", "open", "--severity", "minor",
                                "--title", "d%d" % len(wrote), "--as", "ann"],
                               env=env, capture_output=True, text=True)
            assert p.returncode == 0, p.stderr
            wrote.append(1)

    t = threading.Thread(target=writer)
    t.start()
    counts = []
    try:
        for i in range(6):
            copy = tmp_path / ("copy-%d.state" % i)
            r = golive("store", "backup", copy, "--state", state, "--json")
            assert r.rc == 0, r
            info = json.loads(r.out)
            assert info["copy"] == str(copy) and info["events"] >= 1
            counts.append(info["events"])
            assert mode(copy) == 0o600
            # the copy stands alone: one file, that opens and verifies
            assert not os.path.exists(str(copy) + "-wal")
            v = golive("audit", "verify", "--state", copy)
            assert v.rc == 0 and "%d event" % info["events"] in v.out, v
    finally:
        stop.set()
        t.join()
    assert len(wrote) > 0 and counts == sorted(counts)
    # the copy holds what was committed when it was taken
    n = sqlite3.connect(tmp_path / "copy-5.state").execute(
        "SELECT count(*) FROM defects").fetchone()[0]
    assert n == counts[-1] - 1
    # never over a file that exists
    before = digest(tmp_path / "copy-0.state")
    r = golive("store", "backup", tmp_path / "copy-0.state", "--state", state)
    assert r.rc == 2 and "exists" in r.err
    assert digest(tmp_path / "copy-0.state") == before
    r = golive("store", "backup", tmp_path / "nope" / "x.state", "--state", state)
    assert r.rc == 2 and "cannot create" in r.err


def test_store_backup_help_and_usage(tmp_path):
    r = golive("store", "--help")
    assert r.rc == 0 and "store backup FILE" in r.out
    r = golive("store", "backup", "--state", tmp_path / "none.state",
               tmp_path / "c")
    assert r.rc == 2 and "no state store" in r.err
    assert not (tmp_path / "c").exists()
    r = golive("store", "backup")
    assert r.rc == 2


# ---- NUL in plan scalars -----------------------------------------------

def test_escaped_nul_in_a_plan_scalar_is_refused(tmp_path):
    """"lead\\0evil" loaded cut short as "lead"."""
    text = GOOD_PLAN.replace("{id: lead, name: The Lead,",
                             '{id: "lead\\0evil", name: The Lead,')
    assert '"lead\\0evil"' in text
    plan = write(tmp_path / "plan.yaml", text)
    r = golive("validate", plan)
    line = [i for i, l in enumerate(text.lstrip("\n").splitlines(), 1)
            if "evil" in l][0]
    assert r.rc == 1, r
    assert "plan.yaml:%d:" % line in r.out and "NUL" in r.out, r
    # a raw NUL is refused with its place too
    raw = tmp_path / "raw.yaml"
    raw.write_bytes(b"cutover: x\nswitch_at: \x00\n")
    r = golive("validate", raw)
    assert r.rc == 1 and "raw.yaml:2:12:" in r.out and "NUL" in r.out, r


# ---- secrets in URLs ----------------------------------------------------

def test_password_with_at_and_hash_from_a_variable(my):
    """A password with '@' or '#' in ${VAR} broke the URL and leaked:
    "cannot connect in 'mysql://golive_ro:***@cy#2019@127.0.0.1...':
    Unknown server host 'cy'"."""
    pw = "x@cy#2019/:?&%41"
    my.server.sql("CREATE USER IF NOT EXISTS 'golive_ro'@'127.0.0.1' "
                  "IDENTIFIED BY '%s'; GRANT SELECT ON *.* TO "
                  "'golive_ro'@'127.0.0.1'" % pw)
    url = my.url.replace("golive@", "golive_ro:${GL_RO_PW}@")
    r = golive("db", "ping", url, env={"GL_RO_PW": pw})
    assert r.rc == 0, r
    assert "golive_ro:***@127.0.0.1" in r.out and "cy" not in r.out
    # a wrong one: the message says who and where, nothing of the password
    r = golive("db", "ping", url, env={"GL_RO_PW": "y@cy#2019"})
    assert r.rc == 2, r
    assert "golive_ro:***@127.0.0.1:%d" % my.server.port in r.err, r
    assert "cy" not in r.err and "2019" not in r.err, r
    # written into the URL itself, such a password is one password too
    lit = my.url.replace("golive@", "golive_ro:y@cy#2019@")
    r = golive("db", "ping", lit)
    assert r.rc == 2 and "Unknown server host" not in r.err, r
    assert "cy" not in r.err and "2019" not in r.err, r


def test_password_with_at_and_hash_in_a_plan(tmp_path, my):
    pw = "p@ss#word"
    my.server.sql("CREATE USER IF NOT EXISTS 'golive_pl'@'127.0.0.1' "
                  "IDENTIFIED BY '%s'; GRANT ALL ON *.* TO "
                  "'golive_pl'@'127.0.0.1'" % pw)
    my.sql("CREATE TABLE users (id int primary key, name varchar(20))")
    sqlite3.connect(tmp_path / "old.db").executescript(
        "CREATE TABLE t_user (id INTEGER PRIMARY KEY, name TEXT);"
        "INSERT INTO t_user VALUES (1, 'ann'), (2, 'bob');")
    url = my.url.replace("golive@", "golive_pl:${GL_PL_PW}@")
    plan = write(tmp_path / "plan.yaml",
                 GOOD_PLAN.replace('"sqlite:new.db"', '"%s"' % url))
    r = golive("sync", plan, env={"GL_PL_PW": pw})
    assert r.rc == 0, r
    assert my.sql("SELECT count(*) FROM users").strip() == "2"
    r = golive("sync", plan, env={"GL_PL_PW": "p@ss#wrong"})
    assert r.rc == 2 and "golive_pl:***@" in r.err, r
    assert "ss#" not in r.err + r.out and "wrong" not in r.err + r.out, r


# ---- golive db exec -------------------------------------------------------

def count(engine, table):
    r = golive("db", "query", engine.url, "SELECT count(*) FROM %s" % table,
               env=engine.env)
    assert r.rc == 0, r
    return int(r.out.splitlines()[1])


def golive_in(stdin, *args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([BIN] + [str(a) for a in args], input=stdin, env=e,
                       capture_output=True, text=True, timeout=120)
    return p


def test_db_exec_truncate_and_rows_affected(engine):
    """`db query URL "TRUNCATE ..."` failed inside a cursor: db exec runs
    statements that change things and says how many rows they changed."""
    engine.sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER);"
               "INSERT INTO t VALUES (1, 1), (2, 1), (3, 2);")
    r = golive("db", "exec", engine.url, "UPDATE t SET v = 5 WHERE v = 1",
               "--yes", env=engine.env)
    assert r.rc == 0 and r.out.strip() == "2 rows affected", r
    r = golive("db", "exec", engine.url, "DELETE FROM t WHERE id = 3",
               "--yes", "--json", env=engine.env)
    assert r.rc == 0 and json.loads(r.out) == {"affected": 1}, r
    stmt = "DELETE FROM t" if engine.kind == "sqlite" else "TRUNCATE TABLE t"
    if engine.kind != "sqlite":
        r = golive("db", "query", engine.url, stmt, env=engine.env)
        assert r.rc == 2 and "db exec" in r.err, r
        if engine.kind == "postgres":  # MariaDB runs it, then finds no rows
            assert count(engine, "t") == 2
    r = golive("db", "exec", engine.url, stmt, "--yes", env=engine.env)
    assert r.rc == 0, r
    assert count(engine, "t") == 0
    r = golive("db", "exec", engine.url, "DROP TABLE nope", "--yes",
               env=engine.env)
    assert r.rc == 2 and "nope" in r.err, r


def test_db_exec_asks_first(lite):
    lite.sql("CREATE TABLE t (id INTEGER PRIMARY KEY);"
             "INSERT INTO t VALUES (1), (2);")
    p = golive_in("no\n", "db", "exec", lite.url, "DELETE FROM t")
    assert p.returncode == 3 and "run it?" in p.stderr and "--yes" in p.stderr
    assert count(lite, "t") == 2
    p = golive_in("", "db", "exec", lite.url, "DELETE FROM t")
    assert p.returncode == 3 and count(lite, "t") == 2
    p = golive_in("yes\n", "db", "exec", lite.url, "DELETE FROM t")
    assert p.returncode == 0 and "2 rows affected" in p.stdout, p.stderr
    assert count(lite, "t") == 0
    r = golive("db", "--help")
    assert "db exec URL SQL [--yes]" in r.out and "--yes" in r.out


# ---- files that hold data -------------------------------------------------

MODES_PLAN = """\
cutover: modes
switch_at: 2026-03-14T00:00:00Z
people:
  - {id: lead, roles: [lead]}
  - {id: ann, roles: [data]}
  - {id: bob, roles: [ops]}
systems:
  old: "sqlite:old.db"
  new: "sqlite:new.db"
sync:
  - {id: people, from: old.people, to: new.people, key: [id], owner: ann,
     checker: bob}
tasks:
  - {id: load, title: Load people, stage: sync, owner: ann, checker: bob,
     run: sync people}
"""


def test_files_with_rows_are_0600_in_folders_0700(tmp_path):
    d = tmp_path / "night"
    d.mkdir()
    (d / "plan.yaml").write_text(MODES_PLAN)
    for name, notnull in (("old.db", ""), ("new.db", " NOT NULL")):
        db = sqlite3.connect(d / name)
        db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT%s)"
                   % notnull)
        if name == "old.db":
            db.executemany("INSERT INTO people VALUES (?, ?)",
                           [(1, "ann"), (2, None), (3, "chen")])
        db.commit()
        db.close()
    old = os.umask(0o022)
    try:
        assert golive("run", "start", d / "plan.yaml").rc == 0
        r = golive("task", "start", "load", "--as", "ann", "--state",
                   d / "golive.state")
        assert r.rc == 1, r  # a row is rejected
        r = golive("report", "--state", d / "golive.state", "--format", "md",
                   "--out", d / "report.md")
        assert r.rc == 0, r
        r = golive("diff", "sqlite:%s" % (d / "old.db"), "people",
                   "sqlite:%s" % (d / "new.db"), "people", "--fix-sql",
                   d / "fix.sql")
        assert r.rc == 1, r
    finally:
        os.umask(old)
    (log,) = os.listdir(d / "golive-output")
    assert "load" in (d / "report.md").read_text()
    assert "INSERT" in (d / "fix.sql").read_text()
    files = {"golive.state": 0o600, "golive-output": 0o700,
             "golive-output/" + log: 0o600, "rejects": 0o700,
             "rejects/people.csv": 0o600, "report.md": 0o600,
             "fix.sql": 0o600}
    got = {f: mode(d / f) for f in files}
    assert got == files


def test_demo_files_are_0600(tmp_path):
    d = tmp_path / "demo"
    old = os.umask(0o022)
    try:
        r = golive("demo", "--dir", d, "--rows", "300")
    finally:
        os.umask(old)
    assert r.rc == 0, r
    assert mode(d) == 0o700
    for f in ("old.db", "new.db", "plan.yaml", "golive.state", "report.html"):
        assert mode(d / f) == 0o600, f
    for sub in ("golive-output", "rejects"):
        if (d / sub).exists():
            assert mode(d / sub) == 0o700, sub
            for f in os.listdir(d / sub):
                assert mode(d / sub / f) == 0o600, (sub, f)


def test_demo_target_password_becomes_a_variable(tmp_path, pg):
    """`golive demo --target 'postgres://gl:S3cr3t@...'` wrote the password
    into plan.yaml and the store."""
    url = pg.url.replace("golive@", "golive:S3cr3t%40x@")
    d = tmp_path / "demo"
    r = golive("demo", "--dir", d, "--rows", "300", "--target", url)
    assert r.rc == 0, r
    assert "GOLIVE_DEMO_PASSWORD" in r.out and "S3cr3t" not in r.out + r.err
    plan = (d / "plan.yaml").read_text()
    assert "golive:${GOLIVE_DEMO_PASSWORD}@127.0.0.1" in plan
    for f in os.listdir(d):
        if os.path.isfile(d / f):
            assert b"S3cr3t" not in (d / f).read_bytes(), f
    # the plan works with the variable set, and says which one without it
    r = golive("validate", d / "plan.yaml", "--online",
               env={"GOLIVE_DEMO_PASSWORD": "S3cr3t@x"})
    assert r.rc in (0, 1) and "databases were not checked" not in r.out, r
    assert "GOLIVE_DEMO_PASSWORD" not in r.err, r
    r = golive("validate", d / "plan.yaml", "--online")
    assert r.rc == 2 and "'GOLIVE_DEMO_PASSWORD'" in r.out + r.err, r


# ---- a hand-run sync or check on a plan that is not the run's --------------

def plan_night(tmp_path):
    d = tmp_path / "night"
    d.mkdir()
    (d / "plan.yaml").write_text(MODES_PLAN + """\
checks:
  - {id: people-count, type: count, job: people}
""")
    for name in ("old.db", "new.db"):
        db = sqlite3.connect(d / name)
        db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)")
        if name == "old.db":
            db.executemany("INSERT INTO people VALUES (?, ?)",
                           [(1, "ann"), (2, "bob")])
        db.commit()
        db.close()
    assert golive("run", "start", d / "plan.yaml").rc == 0
    return d


def payloads(state, kind):
    db = sqlite3.connect(state)
    try:
        return [json.loads(p) for (p,) in db.execute(
            "SELECT payload FROM events WHERE kind = ? ORDER BY seq", (kind,))]
    finally:
        db.close()


def test_hand_run_on_a_changed_plan_is_refused(tmp_path):
    """A hand-run sync or check on a plan file that differs from the run's
    copy said nothing; status did."""
    d = plan_night(tmp_path)
    plan, state = d / "plan.yaml", d / "golive.state"
    run_sha = hashlib.sha256(plan.read_bytes()).hexdigest()
    # the same file runs as before, nothing extra recorded
    assert golive("sync", plan, "--as", "ann").rc == 0
    assert golive("check", plan, "--as", "ann").rc == 0
    assert "plan_sha256" not in payloads(state, "sync.run")[0]
    assert "plan_sha256" not in payloads(state, "check.run")[0]
    plan.write_text(plan.read_text().replace("key: [id]",
                                             "key: [id], mode: append"))
    new_sha = hashlib.sha256(plan.read_bytes()).hexdigest()
    db = sqlite3.connect(d / "new.db")
    before = db.execute("SELECT count(*) FROM people").fetchone()[0]
    db.close()
    for cmd in ("sync", "check"):
        r = golive(cmd, plan, "--as", "ann")
        assert r.rc == 3, r
        assert new_sha in r.err and run_sha in r.err, r
        assert "run amend" in r.err and "--plan-changed" in r.err, r
    assert len(payloads(state, "sync.run")) == 1
    assert len(payloads(state, "check.run")) == 1
    db = sqlite3.connect(d / "new.db")
    assert db.execute("SELECT count(*) FROM people").fetchone()[0] == before
    db.close()
    # the run's copy still runs
    assert golive("check", "@run", "--state", state, "--as", "ann").rc == 0
    # with --plan-changed the file runs, and its hash is recorded
    r = golive("check", plan, "--as", "ann", "--plan-changed")
    assert r.rc == 0 and "--plan-changed" in r.err, r
    assert payloads(state, "check.run")[-1]["plan_sha256"] == new_sha
    r = golive("sync", plan, "--as", "ann", "--plan-changed", "--restart")
    assert r.rc in (0, 1), r
    assert payloads(state, "sync.run")[-1]["plan_sha256"] == new_sha
    assert golive("audit", "verify", "--state", state).rc == 0
    # the way to take it into the run: amend; then it runs as the run's
    assert golive("run", "amend", plan, "--as", "lead").rc == 0
    assert golive("check", plan, "--as", "ann").rc == 0
    assert "plan_sha256" not in payloads(state, "check.run")[-1]
    for cmd in ("sync", "check"):
        assert "--plan-changed" in golive(cmd, "--help").out
