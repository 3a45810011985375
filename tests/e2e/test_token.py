"""`golive token issue|list|revoke`: who signs in to `golive serve`.  A
lead issues a token for a person of the plan (or a viewer: a screen); it
is printed once, the store keeps its SHA-256 only (in the token.issue
event and the tokens table, a projection like every other); list never
shows a token or a hash; revoke ends it."""
import json
import re
import sqlite3

from conftest import golive

NIGHT = "2026-03-13T20:00:00+08:00"


def start(tmp_path, good_plan):
    st = tmp_path / "golive.state"
    r = golive("run", "start", good_plan, "--state", st, "--as", "lead",
               env={"GOLIVE_NOW": NIGHT})
    assert r.rc == 0, r
    return st


def tk(st, *args, now=NIGHT):
    return golive("token", *args, "--state", st, env={"GOLIVE_NOW": now})


def issue(st, *args, now=NIGHT):
    r = tk(st, "issue", *args, "--json", now=now)
    assert r.rc == 0, r
    return json.loads(r.out)


def verify(st):
    return golive("audit", "verify", "--state", st)


def test_issue_prints_the_token_once_and_the_store_keeps_its_hash(
        tmp_path, good_plan):
    st = start(tmp_path, good_plan)
    r = tk(st, "issue", "--for", "ann", "--as", "lead")
    assert r.rc == 0, r
    token = re.search(r"^token: ([0-9a-f]{64})$", r.out, re.M).group(1)
    assert "sign in: http://127.0.0.1:8420/login#t=%s\n" % token in r.out
    assert r.out.startswith("T-1 for ann, expires 2026-03-14T08:00:00+08:00")
    j = issue(st, "--viewer", "war-room", "--as", "lead", "--expires", "0",
              "--listen", "[::1]:9000")
    assert j["id"] == "T-2" and j["viewer"] is True
    assert j["person"] == "war-room" and j["expires_at"] is None
    assert j["link"] == "http://[::1]:9000/login#t=" + j["token"]
    assert re.fullmatch(r"[0-9a-f]{64}", j["token"]) and j["token"] != token
    # neither token anywhere in the store's bytes (nor its WAL); their
    # hashes in the events and the table
    for t in (token, j["token"]):
        for f in tmp_path.glob("golive.state*"):
            assert t.encode() not in f.read_bytes(), f
    sha = {t: __import__("hashlib").sha256(t.encode()).hexdigest()
           for t in (token, j["token"])}
    db = sqlite3.connect(st)
    rows = db.execute("SELECT n, sha256, person, viewer, issued_by, issued_at,"
                      " expires_at, revoked_at FROM tokens ORDER BY n").fetchall()
    assert rows == [
        (1, sha[token], "ann", 0, "lead", "2026-03-13T12:00:00Z",
         "2026-03-14T00:00:00Z", None),
        (2, sha[j["token"]], "war-room", 1, "lead", "2026-03-13T12:00:00Z",
         None, None)]
    ev = [json.loads(p) for (p,) in db.execute(
        "SELECT payload FROM events WHERE kind = 'token.issue' ORDER BY seq")]
    assert ev[0] == {"id": "T-1", "person": "ann", "viewer": False,
                     "expires_at": "2026-03-14T00:00:00Z",
                     "sha256": sha[token], "golive_now": True}
    assert ev[1]["expires_at"] is None and ev[1]["viewer"] is True
    db.close()
    assert verify(st).rc == 0


def test_only_a_lead_issues_and_revokes(tmp_path, good_plan):
    st = start(tmp_path, good_plan)
    r = tk(st, "issue", "--for", "ann", "--as", "bob")
    assert r.rc == 3 and "only a lead issues tokens (lead)" in r.err, r
    r = tk(st, "issue", "--for", "ann", "--as", "nobody")
    assert r.rc == 3 and "not a person of the plan" in r.err, r
    issue(st, "--for", "ann", "--as", "lead")
    r = tk(st, "revoke", "T-1", "--as", "ann")
    assert r.rc == 3 and "only a lead revokes tokens (lead)" in r.err, r
    assert "token" not in r.out
    db = sqlite3.connect(st)
    assert db.execute("SELECT count(*) FROM events WHERE kind LIKE 'token.%'"
                      ).fetchone() == (1,)


def test_who_a_token_may_be_for(tmp_path, good_plan):
    st = start(tmp_path, good_plan)
    r = tk(st, "issue", "--for", "an", "--as", "lead")
    assert r.rc == 2 and "'an' is not a person of the plan; did you mean" \
        " 'ann'?" in r.err, r
    r = tk(st, "issue", "--viewer", "bob", "--as", "lead")
    assert r.rc == 2 and "'bob' is a person of the plan" in r.err, r
    r = tk(st, "issue", "--viewer", "wall\x1b[2J", "--as", "lead")
    assert r.rc == 2 and "without control characters" in r.err, r
    r = tk(st, "issue", "--viewer", "w" * 200, "--as", "lead")
    assert r.rc == 2 and "is too long" in r.err, r
    r = tk(st, "issue", "--as", "lead")
    assert r.rc == 2 and "--for PERSON or --viewer NAME" in r.err, r
    r = tk(st, "issue", "--for", "ann", "--viewer", "x", "--as", "lead")
    assert r.rc == 2, r
    r = tk(st, "issue", "--for", "ann", "--as", "lead", "--listen", "host")
    assert r.rc == 2 and "--listen takes HOST:PORT" in r.err, r
    r = tk(st, "issue", "--for", "ann", "--as", "lead", "--expires", "soon")
    assert r.rc == 2 and "--expires" in r.err, r
    assert "token.issue" not in sqlite3.connect(st).execute(
        "SELECT group_concat(kind) FROM events").fetchone()[0]


def test_list_and_revoke(tmp_path, good_plan):
    st = start(tmp_path, good_plan)
    a = issue(st, "--for", "ann", "--as", "lead", "--expires", "1h")
    b = issue(st, "--for", "bob", "--as", "lead")
    c = issue(st, "--viewer", "wall", "--as", "lead", "--expires", "0")
    r = tk(st, "revoke", "2", "--as", "lead")
    assert r.rc == 0 and r.out == "T-2 revoked (lead); its sessions end\n", r
    r = tk(st, "revoke", "T-2", "--as", "lead")
    assert r.rc == 3 and "token T-2 was revoked at 2026-03-13T12:00:00Z" \
        " already" in r.err, r
    r = tk(st, "revoke", "T-9", "--as", "lead")
    assert r.rc == 2 and "no token T-9" in r.err, r
    r = tk(st, "revoke", "x-1", "--as", "lead")
    assert r.rc == 2 and "'x-1' is not a token id" in r.err, r
    # two hours later: T-1 has expired (GOLIVE_NOW is the clock)
    later = "2026-03-13T22:00:00+08:00"
    r = tk(st, "list", "--json", now=later)
    assert r.rc == 0, r
    got = json.loads(r.out)
    assert [(t["id"], t["person"], t["viewer"], t["state"]) for t in got] == [
        ("T-1", "ann", False, "expired"), ("T-2", "bob", False, "revoked"),
        ("T-3", "wall", True, "live")]
    assert got[0]["expires_at"] == "2026-03-13T21:00:00+08:00"
    assert got[1]["revoked_at"] == "2026-03-13T20:00:00+08:00"
    assert got[0]["issued_by"] == "lead"
    assert got[0]["issued_at"] == "2026-03-13T20:00:00+08:00"
    r = tk(st, "list", now=later)
    assert r.rc == 0, r
    assert re.search(r"^T-1 +ann +person +lead +2026-03-13T20:00:00\+08:00"
                     r" +2026-03-13T21:00:00\+08:00 +expired$", r.out, re.M), r
    assert re.search(r"^T-3 +wall +viewer .* never +live$", r.out, re.M), r
    # never a token or a hash
    for out in (r.out, json.dumps(got)):
        assert not re.search(r"[0-9a-f]{64}", out), out
        for t in (a, b, c):
            assert t["token"] not in out
    assert verify(st).rc == 0


def test_an_edited_token_row_is_caught_by_audit_verify(tmp_path, good_plan):
    st = start(tmp_path, good_plan)
    issue(st, "--for", "ann", "--as", "lead", "--expires", "1h")
    issue(st, "--for", "bob", "--as", "lead")
    assert tk(st, "revoke", "T-2", "--as", "lead").rc == 0
    assert verify(st).rc == 0
    edits = [
        # a token made eternal, one brought back, one given to someone else,
        # one swapped for a hash whose token the editor knows
        ("UPDATE tokens SET expires_at = NULL WHERE n = 1", "expires_at"),
        ("UPDATE tokens SET revoked_at = NULL WHERE n = 2", "revoked_at"),
        ("UPDATE tokens SET person = 'lead' WHERE n = 1", "person"),
        ("UPDATE tokens SET sha256 = '%s' WHERE n = 1" % ("0" * 64), "sha256"),
        ("INSERT INTO tokens VALUES (3, '%s', 'lead', 0, 'lead',"
         " '2026-03-13T12:00:00Z', NULL, NULL, NULL, 9)" % ("1" * 64), None),
    ]
    for sql, col in edits:
        copy = tmp_path / "edited.state"
        src = sqlite3.connect(st)
        dst = sqlite3.connect(copy)
        src.backup(dst)
        src.close()
        dst.execute(sql)
        dst.commit()
        dst.close()
        r = verify(copy)
        assert r.rc == 1, (sql, r)
        assert "table tokens" in r.err, (sql, r.err)
        if col:
            assert "column %s" % col in r.err, (sql, r.err)
        copy.unlink()


def test_an_older_store_takes_the_new_schema(tmp_path, good_plan):
    """A store of schema 8 (made before tokens, sync progress and the
    events' index by kind) is
    migrated on open, and a token issued in it verifies."""
    st = start(tmp_path, good_plan)
    db = sqlite3.connect(st)
    db.executescript("DROP TABLE tokens; DROP TABLE sessions;"
                     " DROP TABLE defect_comments; DROP TABLE sync_progress;"
                     " DROP INDEX events_kind; PRAGMA user_version = 8;")
    db.close()
    issue(st, "--for", "ann", "--as", "lead")
    db = sqlite3.connect(st)
    assert db.execute("PRAGMA user_version").fetchone() == (11,)
    db.close()
    assert verify(st).rc == 0
