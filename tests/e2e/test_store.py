"""The state store: `run start`, `status`, `audit verify`, and a store that
survives being killed after every step of `run start`."""
import json
import os
import shutil
import sqlite3

from conftest import golive, write, GOOD_PLAN


def events(state):
    db = sqlite3.connect(state)
    try:
        return db.execute("SELECT seq, kind, actor, os_user, payload FROM events"
                          " ORDER BY seq").fetchall()
    finally:
        db.close()


def test_run_start_creates_store_beside_plan(tmp_path, good_plan):
    r = golive("run", "start", good_plan, "--rehearsal", "--as", "lead",
               "--json", cwd="/")
    assert r.rc == 0, r
    info = json.loads(r.out)
    state = tmp_path / "golive.state"
    assert info["state"] == str(state) and state.exists()
    assert info["rehearsal"] is True and info["tasks"] == 4
    assert info["actor"] == "lead" and info["plan_version"] == 1

    db = sqlite3.connect(state)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 11
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    text, sha = db.execute("SELECT text, sha256 FROM plan_versions").fetchone()
    assert text == good_plan.read_text()
    import hashlib
    assert sha == hashlib.sha256(good_plan.read_bytes()).hexdigest()
    tasks = db.execute("SELECT id, stage, state FROM tasks ORDER BY id").fetchall()
    assert tasks == [("freeze", "prepare", "pending"), ("load", "sync", "pending"),
                     ("rb-1", "rollback", "pending"),
                     ("release", "release", "pending")]
    db.close()
    (ev,) = events(state)
    assert ev[1] == "run.start" and ev[2] == "lead" and ev[3]
    assert json.loads(ev[4])["plan_sha256"] == sha


def test_state_location_rules(tmp_path, good_plan):
    # --state wins, then GOLIVE_STATE, then beside the plan
    r = golive("run", "start", good_plan, "--state", tmp_path / "a.state")
    assert r.rc == 0 and (tmp_path / "a.state").exists()
    r = golive("run", "start", good_plan, env={"GOLIVE_STATE": str(tmp_path / "b.state")})
    assert r.rc == 0 and (tmp_path / "b.state").exists()
    assert not (tmp_path / "golive.state").exists()
    # commands without a plan look in the current folder
    r = golive("status", cwd=tmp_path)
    assert r.rc == 2 and "no state store at 'golive.state'" in r.err
    r = golive("status", "--state", "b.state", cwd=tmp_path)
    assert r.rc == 0, r


def test_one_store_holds_one_run(tmp_path, good_plan):
    assert golive("run", "start", good_plan).rc == 0
    r = golive("run", "start", good_plan)
    assert r.rc == 3 and "already holds" in r.err and "--state" in r.err
    assert len(events(tmp_path / "golive.state")) == 1


def test_unknown_person_is_refused(tmp_path, good_plan):
    r = golive("run", "start", good_plan, "--as", "mallory")
    assert r.rc == 3 and "'mallory' is not a person of the plan" in r.err
    r = golive("run", "start", good_plan, env={"GOLIVE_USER": "eve"})
    assert r.rc == 3
    assert not (tmp_path / "golive.state").exists()
    r = golive("run", "start", good_plan, env={"GOLIVE_USER": "ann"})
    assert r.rc == 0
    assert events(tmp_path / "golive.state")[0][2] == "ann"


def test_plan_with_errors_cannot_start(tmp_path):
    p = write(tmp_path / "plan.yaml", GOOD_PLAN.replace("checker: lead", "checker: nobody"))
    r = golive("run", "start", p)
    assert r.rc == 1 and "unknown person 'nobody'" in r.err
    assert not (tmp_path / "golive.state").exists()


def test_status(tmp_path, good_plan):
    assert golive("run", "start", good_plan).rc == 0
    env = {"GOLIVE_NOW": "2026-03-13T18:00:00+08:00"}
    r = golive("status", good_plan, "--json", env=env)
    assert r.rc == 0, r
    s = json.loads(r.out)
    assert s["cutover"] == "test-night" and s["rehearsal"] is False
    assert s["t"] == "T-6h" and s["t_seconds"] == -21600
    assert s["switch_at"] == "2026-03-14T00:00:00+08:00"
    # the prepare task's time has come and it waits for nothing: ready
    assert s["tasks"]["prepare"]["ready"] == 1
    assert s["tasks"]["rollback"]["pending"] == 1
    assert s["totals"]["all"] == 4 and s["totals"]["pending"] == 3
    assert s["plan_changed"] is False and s["events"] == 1
    r = golive("status", good_plan, env=env)
    assert r.rc == 0 and "T-6h" in r.out
    assert "prepare" in r.out and "total" in r.out


def test_status_warns_when_plan_changed(tmp_path, good_plan):
    assert golive("run", "start", good_plan).rc == 0
    good_plan.write_text(good_plan.read_text() + "# edited\n")
    r = golive("status", good_plan, "--json")
    assert r.rc == 0 and json.loads(r.out)["plan_changed"] is True
    assert "changed on disk" in r.err
    # without the plan argument, the path recorded by run start is checked
    r = golive("status", cwd=tmp_path)
    assert "changed on disk" in r.err


def test_audit_verify_ok(tmp_path, good_plan):
    assert golive("run", "start", good_plan).rc == 0
    r = golive("audit", "verify", "--state", tmp_path / "golive.state")
    assert r.rc == 0 and "1 event, chain intact" in r.out
    r = golive("audit", "verify", "--json", cwd=tmp_path)
    assert r.rc == 0 and json.loads(r.out)["ok"] is True


def test_audit_detects_an_edited_event(tmp_path, good_plan):
    assert golive("run", "start", good_plan).rc == 0
    state = tmp_path / "golive.state"
    db = sqlite3.connect(state)
    payload = db.execute("SELECT payload FROM events WHERE seq = 1").fetchone()[0]
    # one byte: the task count 4 becomes 5
    assert '"tasks":4' in payload
    db.execute("UPDATE events SET payload = ? WHERE seq = 1",
               (payload.replace('"tasks":4', '"tasks":5'),))
    db.commit()
    db.close()
    r = golive("audit", "verify", "--state", state)
    assert r.rc == 1 and "event 1 (run.start" in r.err and "changed" in r.err
    r = golive("audit", "verify", "--state", state, "--json")
    assert r.rc == 1 and json.loads(r.out)["ok"] is False


def test_audit_detects_an_edited_actor(tmp_path, good_plan):
    assert golive("run", "start", good_plan, "--as", "ann").rc == 0
    state = tmp_path / "golive.state"
    db = sqlite3.connect(state)
    db.execute("UPDATE events SET actor = 'bob'")
    db.commit()
    db.close()
    assert golive("audit", "verify", "--state", state).rc == 1


def test_audit_detects_an_edited_plan(tmp_path, good_plan):
    assert golive("run", "start", good_plan).rc == 0
    state = tmp_path / "golive.state"
    db = sqlite3.connect(state)
    db.execute("UPDATE plan_versions SET text = replace(text, 'T-6h', 'T-7h')")
    db.commit()
    db.close()
    r = golive("audit", "verify", "--state", state)
    assert r.rc == 1 and "table plan_versions, row version=1" in r.err


def test_audit_detects_an_edited_run_record(tmp_path, good_plan):
    assert golive("run", "start", good_plan, "--rehearsal").rc == 0
    state = tmp_path / "golive.state"
    db = sqlite3.connect(state)
    db.execute("UPDATE run SET rehearsal = 0")
    db.commit()
    db.close()
    r = golive("audit", "verify", "--state", state)
    assert r.rc == 1 and "run.start" in r.err
    assert ("table run, row id=1, column rehearsal: the store says 0, the"
            " events say 1") in r.err


def test_foreign_sqlite_file_is_refused(tmp_path):
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    r = golive("audit", "verify", "--state", other)
    assert r.rc == 2 and "not a golive state store" in r.err


def test_newer_schema_is_refused(tmp_path, good_plan):
    assert golive("run", "start", good_plan).rc == 0
    state = tmp_path / "golive.state"
    db = sqlite3.connect(state)
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    r = golive("status", "--state", state)
    assert r.rc == 2 and "newer than this golive knows" in r.err


def schema_of(state):
    db = sqlite3.connect(state)
    try:
        return (db.execute("PRAGMA user_version").fetchone()[0],
                db.execute("SELECT count(*) FROM sqlite_master WHERE name ="
                           " 'sync_progress'").fetchone()[0])
    finally:
        db.close()


def test_read_commands_leave_an_older_store_as_they_found_it(tmp_path,
                                                            good_plan):
    """A store of schema 9 (as the golive before sync_progress and the
    events' index by kind made it):
    the commands that only read refuse it (exit 3, naming `golive store
    upgrade`) and leave it at schema 9, which the older golive still
    reads; `store upgrade` migrates it, then they read it."""
    assert golive("run", "start", good_plan, "--as", "lead").rc == 0
    st = tmp_path / "golive.state"
    db = sqlite3.connect(st)
    db.executescript("DROP TABLE sync_progress; DROP INDEX events_kind;"
                     " PRAGMA user_version = 9")
    db.close()
    assert schema_of(st) == (9, 0)
    for cmd in (["status"], ["report"], ["gate"], ["audit", "verify"],
                ["audit", "head"], ["token", "list"], ["defect", "list"],
                ["scenario", "progress"]):
        r = golive(*cmd, "--state", st)
        assert r.rc == 3, (cmd, r)
        assert "schema version 9, older than this golive's (11)" in r.err, r
        assert "golive store upgrade --state %s" % st in r.err, r
        assert schema_of(st) == (9, 0), cmd
    # a backup copies it as it is: the way back before the upgrade
    r = golive("store", "backup", tmp_path / "copy.state", "--state", st)
    assert r.rc == 0, r
    assert schema_of(st) == (9, 0)
    assert schema_of(tmp_path / "copy.state") == (9, 0)
    r = golive("store", "upgrade", "--state", st)
    assert r.rc == 0, r
    assert r.out == "%s: upgraded from schema version 9 to 11 (older golive " \
        "binaries now refuse it)\n" % st, r
    assert schema_of(st) == (11, 1)
    assert golive("status", "--state", st).rc == 0
    assert golive("audit", "verify", "--state", st).rc == 0
    r = golive("store", "upgrade", "--state", st, "--json")
    assert r.rc == 0 and json.loads(r.out) == {
        "state": str(st), "from": 11, "to": 11}, r
    # a command that records upgrades it as before
    db = sqlite3.connect(st)
    db.executescript("DROP TABLE sync_progress; DROP INDEX events_kind;"
                     " PRAGMA user_version = 9")
    db.close()
    r = golive("task", "start", "freeze", "--as", "bob", "--state", st)
    assert r.rc == 0, r
    assert schema_of(st) == (11, 1)
    # and says so: the team's older binaries refuse it from now on
    assert ("state store '%s' upgraded from schema version 9 to 11 (older "
            "golive binaries now refuse it)" % st) in r.err, r


def test_kill_after_every_step_of_run_start(tmp_path, good_plan):
    """GOLIVE_TEST_CRASH_AT=k kills `run start` (SIGKILL) at its k-th step.
    After each kill the store opens and verifies, holds either no run or the
    whole run, and a new `run start` finishes the job."""
    killed = 0
    for k in range(1, 100):
        d = tmp_path / ("k%d" % k)
        d.mkdir()
        plan = d / "plan.yaml"
        shutil.copy(good_plan, plan)
        state = d / "golive.state"
        r = golive("run", "start", plan, env={"GOLIVE_TEST_CRASH_AT": str(k)})
        if r.rc == 0:
            break
        assert r.rc == -9, r
        killed += 1
        if state.exists():
            v = golive("audit", "verify", "--state", state)
            # killed before the schema: an empty file, which only run
            # start turns into a store; a read leaves it as it is
            assert v.rc == 0 or (v.rc == 2 and "holds no golive run" in
                                 v.err), (k, v)
            s = golive("status", "--state", state, "--json")
            if s.rc == 0:
                # the kill came after the commit: the whole run is there
                assert json.loads(s.out)["totals"]["all"] == 4, k
                assert golive("run", "start", plan).rc == 3
                continue
            assert "holds no run" in s.err or \
                "holds no golive run" in s.err, (k, s)
        r = golive("run", "start", plan)
        assert r.rc == 0, (k, r)
        v = golive("audit", "verify", "--state", state)
        assert v.rc == 0 and "1 event" in v.out, (k, v)
        s = golive("status", "--state", state, "--json")
        assert json.loads(s.out)["totals"]["all"] == 4
    else:
        raise AssertionError("run start never finished")
    # every step of run start is a crash point: open, WAL, migration,
    # schema, transaction, event, run, plan, tasks, commit, after commit
    assert killed >= 10, killed


def test_status_sees_a_same_size_change_of_the_plan(tmp_path, good_plan):
    """The plan on disk is compared with the run's copy byte for byte: a
    change that keeps the file's size is seen too."""
    assert golive("run", "start", good_plan).rc == 0
    r = golive("status", good_plan, "--json")
    assert r.rc == 0 and json.loads(r.out)["plan_changed"] is False, r
    assert "changed on disk" not in r.err
    text = good_plan.read_text()
    good_plan.write_text(text.replace("title: Freeze", "title: Frieze"))
    assert good_plan.stat().st_size == len(text.encode())
    r = golive("status", good_plan, "--json")
    assert r.rc == 0 and json.loads(r.out)["plan_changed"] is True, r


NOW = {"GOLIVE_NOW": "2026-03-13T19:00:00+08:00"}


def test_read_commands_load_the_packed_plan_tree(tmp_path, good_plan):
    """Each plan version's YAML tree is kept packed beside its text; a
    command that only reads loads it (no YAML parsed), and what it shows is
    what the text gives.  A store without the tree (made before schema 8)
    reads the text, and the next command that changes the run keeps the
    tree."""
    assert golive("run", "start", good_plan, "--as", "lead").rc == 0
    st = tmp_path / "golive.state"
    (sha,) = sql_rows(st, "SELECT sha256 FROM plan_versions")[0]
    assert sql_rows(st, "SELECT version, sha256, length(tree) > 100"
                    " FROM plan_trees") == [(1, sha, 1)]
    report_tree = golive("report", cwd=tmp_path, env=NOW)
    from_tree = golive("status", "--json", cwd=tmp_path, env=NOW)
    assert from_tree.rc == 0 and report_tree.rc == 0, (from_tree, report_tree)
    sql_rows(st, "DELETE FROM plan_trees")
    from_text = golive("status", "--json", cwd=tmp_path, env=NOW)
    assert from_text.rc == 0 and from_text.out == from_tree.out
    assert golive("report", cwd=tmp_path, env=NOW).out == report_tree.out
    assert sql_rows(st, "SELECT count(*) FROM plan_trees") == [(0,)]
    r = golive("task", "start", "freeze", "--as", "bob", cwd=tmp_path, env=NOW)
    assert r.rc == 0, r
    assert sql_rows(st, "SELECT version, sha256 FROM plan_trees") == [(1, sha)]
    assert golive("audit", "verify", cwd=tmp_path).rc == 0
    # a new version gets its tree
    good_plan.write_text(good_plan.read_text().replace("title: Freeze",
                                                       "title: Freeze all"))
    r = golive("run", "amend", good_plan, "--as", "lead", cwd=tmp_path,
               env=NOW)
    assert r.rc == 0, r
    assert [v for (v,) in sql_rows(st, "SELECT version FROM plan_trees"
                                   " ORDER BY version")] == [1, 2]
    r = golive("status", "--json", cwd=tmp_path, env=NOW)
    assert "Freeze all" in r.out, r
    assert golive("audit", "verify", cwd=tmp_path).rc == 0


def test_an_edited_plan_tree_grants_nothing(tmp_path, good_plan):
    """The packed tree of another plan (one where mallory is a lead) put in
    the store under the run's SHA-256: commands that change the run read
    the text its event recorded, so mallory is nobody; `audit verify` names
    the row."""
    assert golive("run", "start", good_plan, "--as", "lead").rc == 0
    st = tmp_path / "golive.state"
    other = tmp_path / "other"
    other.mkdir()
    evil = other / "plan.yaml"
    evil.write_text(good_plan.read_text().replace(
        "people:\n", "people:\n  - {id: mallory, roles: [lead, ops]}\n"))
    assert golive("run", "start", evil, "--as", "lead").rc == 0
    (tree,) = sql_rows(other / "golive.state", "SELECT tree FROM plan_trees")[0]
    sql_rows(st, "UPDATE plan_trees SET tree = ?", (tree,))
    r = golive("task", "start", "freeze", "--as", "mallory", cwd=tmp_path,
               env=NOW)
    assert r.rc == 3 and "'mallory' is not a person of the plan" in r.err, r
    r = golive("audit", "verify", cwd=tmp_path)
    assert r.rc == 1, r
    assert "table plan_trees, row version=1, column tree" in r.err, r
    r = golive("task", "start", "freeze", "--as", "bob", cwd=tmp_path, env=NOW)
    assert r.rc == 0, r


def sql_rows(state, q, args=()):
    db = sqlite3.connect(state)
    try:
        rows = db.execute(q, args).fetchall()
        db.commit()
        return rows
    finally:
        db.close()


def test_a_broken_plan_tree_is_only_a_cache_miss(tmp_path, good_plan):
    """A tree that loads with errors (another plan's, without its tasks),
    one that is not a blob, one far larger than its text, a dropped table:
    every command reads the text instead, as before schema 8; verify names
    each."""
    assert golive("run", "start", good_plan, "--as", "lead").rc == 0
    st = tmp_path / "golive.state"
    want = golive("status", "--json", cwd=tmp_path, env=NOW)
    assert want.rc == 0, want
    # the tree with its key "tasks" spelled "taskz" (a scalar of the same
    # length in the packed form's text pool): the loader refuses it
    (tree,) = sql_rows(st, "SELECT tree FROM plan_trees")[0]
    notasks = tree.replace(b"\x00tasks\x00", b"\x00taskz\x00", 1)
    assert notasks != tree
    for edit in ("UPDATE plan_trees SET tree = ?",
                 "UPDATE plan_trees SET tree = 5",
                 "UPDATE plan_trees SET tree = zeroblob(50000000)",
                 "DROP TABLE plan_trees"):
        s = tmp_path / "e.state"
        shutil.copy(st, s)
        sql_rows(s, edit, (notasks,) if "?" in edit else ())
        r = golive("status", "--json", "--state", s, env=NOW)
        assert r.rc == 0 and r.out == want.out, (edit, r)
        r = golive("audit", "verify", "--state", s)
        assert r.rc == 1 and "table plan_trees" in r.err, (edit, r)
        r = golive("task", "start", "freeze", "--as", "bob", "--state", s,
                   env=NOW)
        assert r.rc == 0, (edit, r)
