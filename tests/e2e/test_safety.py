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
            assert r.rc == 2, (argv, r)
            assert "'%s' is not a golive state store" % old in r.err, (argv, r)
            assert digest(old) == before, argv
            # no -wal, -shm or -journal appeared beside it, no copy made
            assert sorted(os.listdir(tmp_path)) == side, argv


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
