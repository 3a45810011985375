"""The defects, duty, patch plan, decision and rollback routes of
`golive serve` (#13.3, #13.4): a real server over a real store, tokens
issued with the CLI.  Each change is the CLI's library call and event with
the token's person as its actor; every defect and duty entry carries its
`actions`, the library's own dry run of the rules; errors are 400 naming
the field, 401, 403 with who may, 409 with what first, 404, 413."""
import json
import sqlite3
from datetime import datetime

import pytest

from conftest import golive
from serving import Server, issue_token

API = "/api/v1"


@pytest.fixture
def night(tmp_path, good_plan):
    """A started run of the good plan (lead; ann: data, tester; bob: ops,
    dev), a token for each of them and a server over its store."""
    assert golive("run", "start", good_plan).rc == 0
    st = tmp_path / "golive.state"

    class Night:
        pass
    n = Night()
    n.state = st
    n.tok = {p: issue_token(st, p) for p in ("lead", "ann", "bob")}
    with Server(st) as srv:
        n.srv = srv

        def call(method, path, who=None, body=None, **kw):
            return srv.call(method, API + path,
                            n.tok[who] if who else None, body, **kw)
        n.call = call
        yield n
    assert srv.rc == 0, srv.err
    r = golive("audit", "verify", "--state", st)
    assert r.rc == 0, r


def events(state, kind_prefix):
    db = sqlite3.connect(state)
    try:
        return db.execute(
            "SELECT kind, actor, os_user, payload FROM events"
            " WHERE kind LIKE ? ORDER BY seq", (kind_prefix + "%",)).fetchall()
    finally:
        db.close()


def actions(obj):
    return {a["action"]: (a["allowed"], a.get("reason")) for a in obj["actions"]}


def err(body):
    return body["error"]["message"]


def test_a_defect_from_open_to_verified(night):
    st, _, d = night.call("POST", "/defects", "ann",
                          {"severity": "major", "title": "total is wrong",
                           "scenario": "S-1"})
    assert st == 201, d
    assert (d["id"], d["state"], d["severity"], d["scenario"],
            d["opened_by"]) == ("D-1", "open", "major", "S-1", "ann")
    a = actions(d)
    # ann is a tester: she may not fix, nor change the severity
    assert a["fixing"] == (False, "devs fix defects (bob); ann is not a dev")
    assert a["severity"][0] is False and "only the lead" in a["severity"][1]
    assert a["comment"] == (True, None)
    assert a["reopen"][0] is False and "nothing to reopen" in a["reopen"][1]

    st, _, d = night.call("POST", "/defects/D-1/fixing", "bob",
                          {"note": "looking at the rounding"})
    assert st == 200 and d["state"] == "fixing" and d["fixer"] == "bob", d
    st, _, d = night.call("POST", "/defects/1/fixed", "bob")
    assert st == 200 and d["state"] == "fixed", d
    # the fixer does not verify their own fix: 403, who may
    assert actions(d)["verify"] == (
        False, "bob fixed D-1 and cannot verify it; someone else verifies a "
        "fix")
    st, _, b = night.call("POST", "/defects/D-1/verify", "bob", {})
    assert st == 403 and b["error"]["code"] == "forbidden", b
    assert err(b) == actions(d)["verify"][1]
    # someone else does
    st, _, d = night.call("GET", "/defects/D-1", "ann")
    assert st == 200 and actions(d)["verify"] == (True, None), d
    st, _, d = night.call("POST", "/defects/D-1/verify", "ann")
    assert st == 200 and d["state"] == "verified" and d["verifier"] == "ann"
    # twice: not now, and what first
    st, _, b = night.call("POST", "/defects/D-1/verify", "ann")
    assert st == 409 and b["error"]["code"] == "conflict", b
    assert err(b) == "D-1 is verified; only a fixed defect is verified"

    # every event's actor is the token's person, the client beside the OS
    # user; the note went into the move's event
    ev = events(night.state, "defect.")
    assert [(k, a) for k, a, _, _ in ev] == [
        ("defect.open", "ann"), ("defect.fixing", "bob"),
        ("defect.fixed", "bob"), ("defect.verify", "ann")]
    assert all(o.endswith("@127.0.0.1") for _, _, o, _ in ev), ev
    assert json.loads(ev[1][3])["note"] == "looking at the rounding"
    assert "note" not in json.loads(ev[2][3])


def test_actions_are_what_the_moves_answer(night):
    """For every person and every action shown as not allowed, making it
    is refused with the reason shown (403 for who, 409 for when); the ones
    allowed succeed."""
    assert night.call("POST", "/defects", "ann",
                      {"severity": "blocker", "title": "cannot submit"})[0] \
        == 201
    assert night.call("POST", "/defects/D-1/fixing", "bob")[0] == 200
    body = {"note": "n", "patch": "p-1"}
    tried = set()
    for who in ("lead", "ann", "bob"):
        st, _, lst = night.call("GET", "/defects", who)
        assert st == 200
        (d,) = lst["defects"]
        assert d["state"] == "fixing"
        for a in d["actions"]:
            if a["allowed"] or a["action"] in ("severity", "comment"):
                continue
            st, _, b = night.call("POST", "/defects/D-1/" + a["action"], who,
                                  body)
            assert st in (403, 409), (who, a, b)
            assert err(b) == a["reason"], (who, a, b)
            assert b["error"]["code"] == a["code"], (who, a, b)
            assert (st == 403) == (a["code"] == "forbidden")
            tried.add((who, a["action"], st))
    # a who (a tester fixing) and a when (verifying what is being fixed)
    assert ("ann", "fixed", 403) in tried and ("lead", "verify", 409) in \
        tried, tried
    # bob may defer by role, but a blocker is never deferred: 409, and
    # what first
    st, _, lst = night.call("GET", "/defects", "bob")
    a = actions(lst["defects"][0])
    assert a["defer"][0] is False and "lower its severity first" in \
        a["defer"][1]
    st, _, b = night.call("POST", "/defects/D-1/defer", "bob",
                          {"patch": "p-1"})
    assert st == 409 and err(b) == a["defer"][1]
    # the lead lowers it, with a note; then bob may defer it
    st, _, b = night.call("POST", "/defects/D-1/severity", "ann",
                          {"severity": "major", "note": "works around"})
    assert st == 403 and "only the lead" in err(b) and "(lead)" in err(b)
    st, _, d = night.call("POST", "/defects/D-1/severity", "lead",
                          {"severity": "major", "note": "a workaround"})
    assert st == 200 and d["severity"] == "major", d
    st, _, lst = night.call("GET", "/defects", "bob")
    assert actions(lst["defects"][0])["defer"] == (True, None)
    st, _, d = night.call("POST", "/defects/D-1/defer", "bob",
                          {"patch": "p-1", "note": "next week"})
    assert st == 200 and d["state"] == "deferred" and d["patch"] == "p-1"
    # a deferred defect is not raised to a blocker: not now, reopen first
    st, _, b = night.call("POST", "/defects/D-1/severity", "lead",
                          {"severity": "blocker", "note": "it does block"})
    assert st == 409 and "reopen it first" in err(b), b
    ev = events(night.state, "defect.severity")
    assert [(k, a) for k, a, _, _ in ev] == [("defect.severity", "lead")]
    assert json.loads(ev[0][3])["note"] == "a workaround"


def test_bad_requests_name_the_field(night):
    def post(path, body, who="ann", **kw):
        st, _, b = night.call("POST", path, who, body, **kw)
        return st, (b or {}).get("error", {}).get("message"), b

    st, msg, _ = post("/defects", {"severity": "huge", "title": "x"})
    assert st == 400 and msg == \
        "severity is blocker, major or minor, not 'huge'", msg
    st, msg, _ = post("/defects", {"severity": "minor"})
    assert st == 400 and msg == "'title' is required"
    st, msg, _ = post("/defects", {"severity": 3, "title": "x"})
    assert st == 400 and msg == "'severity' takes a string"
    st, msg, _ = post("/defects", {"severity": "minor", "title": "x",
                                   "severty": "major"})
    assert st == 400 and "'severty' is not a field" in msg and \
        "severity, title, scenario" in msg, msg
    st, msg, _ = post("/defects", {"severity": "minor", "title": "x",
                                   "scenario": "S-9"})
    assert st == 400 and "no scenario 'S-9'" in msg
    st, _, b = night.srv.call("POST", API + "/defects", night.tok["ann"],
                              raw=b"{nope")
    assert st == 400 and b["error"]["code"] == "bad_json", b
    assert night.call("POST", "/defects", "ann",
                      {"severity": "minor", "title": "ok"})[0] == 201
    st, msg, _ = post("/defects/D-1/defer", {}, who="bob")
    assert st == 400 and msg == "'patch' is required"
    st, msg, _ = post("/defects/D-1/severity", {"severity": "major"},
                      who="lead")
    assert st == 400 and msg == "'note' is required"
    st, msg, _ = post("/defects/D-1/severity",
                      {"severity": "huge", "note": "x"}, who="lead")
    assert st == 400 and "blocker, major or minor, not 'huge'" in msg
    st, msg, _ = post("/duty", {"text": "x", "channel": "fax",
                                "kind": "question"})
    assert st == 400 and msg == "channel is phone, chat or ticket, not 'fax'"
    st, msg, _ = post("/decisions", {"decision": "maybe", "note": "x"},
                      who="lead")
    assert st == 400 and "go, no-go or hold, not 'maybe'" in msg
    # none of these left an event
    assert [k for k, *_ in events(night.state, "defect.")] == ["defect.open"]


def test_unknown_ids_unauthenticated_and_too_large(night):
    for path in ("/defects/D-99", "/defects/xyz", "/defects/D-0",
                 "/defects/D-99999999999999999999"):
        st, _, b = night.call("GET", path, "ann")
        assert st == 404 and b["error"]["code"] == "not_found", (path, b)
        assert err(b).startswith("no defect"), (path, b)
    st, _, b = night.call("POST", "/defects/D-99/fixing", "bob")
    assert st == 404 and err(b) == "no defect D-99"
    st, _, b = night.call("POST", "/duty/H-7/patch", "bob", {"patch": "p"})
    assert st == 404 and err(b) == "no duty entry H-7", b
    # no token, an unknown one; over 64 KiB: on every route
    routes = [("GET", "/defects"), ("GET", "/defects/D-1"),
              ("POST", "/defects"), ("GET", "/duty"), ("POST", "/duty"),
              ("GET", "/patch-plan"), ("POST", "/decisions"),
              ("POST", "/rollback"), ("POST", "/duty/H-1/defect"),
              ("POST", "/duty/H-1/patch"), ("POST", "/defects/D-1/comments"),
              ("POST", "/defects/D-1/severity")] + [
        ("POST", "/defects/D-1/" + a)
        for a in ("fixing", "fixed", "verify", "reopen", "defer")]
    # (the sign-in limit would answer 429 after ten wrong tokens: a token
    # that is wrong on every route is tried on the first eight only)
    for i, (method, path) in enumerate(routes):
        for tok in (None, "x" * 64) if i < 8 else (None,):
            st, _, b = night.srv.call(method, API + path, tok,
                                      {"severity": "minor", "title": "x"})
            assert st == 401 and b["error"]["code"] == "unauthorized", \
                (method, path, b)
        if method == "POST":
            st, _, b = night.call(method, path, "lead",
                                  {"severity": "minor", "title": "x" * 70000})
            assert st == 413 and b["error"]["code"] == "too_large", (path, b)
    st, _, b = night.call("DELETE", "/defects/D-1", "ann")
    assert st == 405
    assert events(night.state, "defect.") == []


def test_a_viewer_sees_everything_and_changes_nothing(night):
    r = golive("token", "issue", "--viewer", "wallboard", "--as", "lead",
               "--json", "--state", night.state)
    assert r.rc == 0, r
    viewer = json.loads(r.out)["token"]
    assert night.call("POST", "/defects", "ann",
                      {"severity": "minor", "title": "typo"})[0] == 201
    assert night.call("POST", "/duty", "ann",
                      {"text": "where is it", "channel": "phone",
                       "kind": "question"})[0] == 201
    st, _, lst = night.srv.call("GET", API + "/defects", viewer)
    assert st == 200 and len(lst["defects"]) == 1
    for a in lst["defects"][0]["actions"]:
        assert a["allowed"] is False and "viewer" in a["reason"], a
    st, _, lst = night.srv.call("GET", API + "/duty", viewer)
    assert st == 200 and all(not a["allowed"]
                             for a in lst["duty"][0]["actions"])
    for path, body in (("/defects", {"severity": "minor", "title": "x"}),
                       ("/defects/D-1/fixing", {}),
                       ("/defects/D-1/comments", {"text": "x"}),
                       ("/duty", {"text": "x", "channel": "chat",
                                  "kind": "question"}),
                       ("/duty/H-1/defect", {"severity": "minor"}),
                       ("/decisions", {"decision": "hold", "note": "x"}),
                       ("/rollback", {})):
        st, _, b = night.srv.call("POST", API + path, viewer, body)
        assert st == 403 and "viewer" in err(b), (path, b)
    assert night.srv.call("GET", API + "/patch-plan", viewer)[0] == 200


def test_the_cli_and_the_api_list_the_same_defects(night):
    assert night.call("POST", "/defects", "ann",
                      {"severity": "major", "title": "a", "scenario": "S-1"}
                      )[0] == 201
    r = golive("defect", "open", "--severity", "minor", "--title", "b",
               "--state", night.state, "--as", "bob")
    assert r.rc == 0, r
    assert night.call("POST", "/defects/D-2/fixed", "bob")[0] == 200
    cli = json.loads(golive("defect", "list", "--json", "--state",
                            night.state).out)
    st, _, api = night.call("GET", "/defects", "lead")
    assert st == 200
    for d in api["defects"]:
        d.pop("actions")
    assert api["defects"] == cli and len(cli) == 2
    # the CLI keeps a move's note in its event as the API does
    r = golive("defect", "reopen", "D-2", "--note", "still wrong for USD",
               "--state", night.state, "--as", "ann")
    assert r.rc == 0, r
    ev = events(night.state, "defect.reopen")
    assert [(a, json.loads(p)["note"]) for _, a, _, p in ev] == [
        ("ann", "still wrong for USD")]


def test_duty_and_the_patch_plan(night):
    st, _, e = night.call("POST", "/duty", "ann",
                          {"text": "export to Excel", "channel": "chat",
                           "kind": "request"})
    assert st == 201 and e["id"] == "H-1" and e["actor"] == "ann", e
    a = actions(e)
    assert a["patch"] == (False, "the lead or a dev plans a patch (lead, "
                          "bob)")
    assert a["defect"] == (True, None)
    st, _, b = night.call("POST", "/duty/H-1/patch", "ann", {"patch": "p-2"})
    assert st == 403 and err(b) == a["patch"][1]
    st, _, e = night.call("POST", "/duty/H-1/patch", "bob", {"patch": "p-2"})
    assert st == 200 and e["patch"] == "p-2", e
    st, _, e = night.call("POST", "/duty", "ann",
                          {"text": "the total is wrong", "channel": "phone",
                           "kind": "defect"})
    assert st == 201 and e["id"] == "H-2"
    st, _, e = night.call("POST", "/duty/H-2/defect", "ann",
                          {"severity": "minor"})
    assert st == 201 and e["defect"] == "D-1", e
    assert actions(e)["defect"] == (False, "H-2 is defect D-1 already")
    st, _, b = night.call("POST", "/duty/H-2/defect", "ann",
                          {"severity": "minor"})
    assert st == 409 and err(b) == "H-2 is defect D-1 already"
    st, _, d = night.call("GET", "/defects/D-1", "ann")
    assert d["title"] == "the total is wrong" and d["opened_by"] == "ann"
    assert night.call("POST", "/defects/D-1/defer", "bob",
                      {"patch": "p-2"})[0] == 200
    st, _, lst = night.call("GET", "/duty", "lead")
    assert st == 200 and [x["id"] for x in lst["duty"]] == ["H-1", "H-2"]
    assert all(actions(x)["patch"] == (True, None) for x in lst["duty"])
    st, _, plan = night.call("GET", "/patch-plan", "ann")
    assert st == 200, plan
    cli = json.loads(golive("patch", "plan", "--json", "--state",
                            night.state).out)
    assert plan == cli
    (p2,) = plan["patches"]
    assert p2["patch"] == "p-2" and [x["id"] for x in p2["defects"]] == \
        ["D-1"] and [x["id"] for x in p2["requests"]] == ["H-1"]
    ev = events(night.state, "duty.")
    assert [(k, a) for k, a, _, _ in ev] == [
        ("duty.log", "ann"), ("duty.patch", "bob"), ("duty.log", "ann")]


def test_decisions_and_the_rollback(night):
    st, _, b = night.call("POST", "/decisions", "ann",
                          {"decision": "no-go", "note": "x"})
    assert st == 403 and err(b) == "only the lead decides go / no-go (lead)"
    # who may comes before the note; a note of only blanks is none
    st, _, b = night.call("POST", "/decisions", "ann", {"decision": "no-go"})
    assert st == 403 and err(b) == "only the lead decides go / no-go (lead)"
    st, _, b = night.call("POST", "/decisions", "lead",
                          {"decision": "no-go", "note": "  "})
    assert st == 400 and err(b) == "a decision needs a --note", b
    # go while the gate fails: 409, naming the failed criteria
    st, _, b = night.call("POST", "/decisions", "lead",
                          {"decision": "go", "note": "ship it"})
    assert st == 409 and err(b).startswith("go refused: the gate does not "
                                           "pass") and "release" in err(b), b
    st, _, b = night.call("POST", "/decisions", "lead",
                          {"decision": "no-go", "note": "release not out"})
    assert st == 201 and b == {"decision": "no-go", "note": "release not out",
                               "by": "lead"}, b
    st, _, b = night.call("POST", "/rollback", "bob", {"note": "back"})
    assert st == 403 and err(b) == "only the lead starts the rollback (lead)"
    st, _, b = night.call("POST", "/rollback", "lead", {"note": "back"})
    assert st == 201 and b["tasks"] == ["rb-1"] and b["by"] == "lead", b
    st, _, b = night.call("POST", "/rollback", "lead")
    assert st == 409 and err(b) == "the rollback has started already"
    ev = [(k, a) for k, a, _, _ in events(night.state, "decide")] + \
        [(k, a) for k, a, _, _ in events(night.state, "rollback")]
    assert ev == [("decide", "lead"), ("rollback", "lead")]
    r = golive("report", "--format", "json", "--state", night.state)
    rep = json.loads(r.out)
    assert [d["decision"] for d in rep["decisions"]] == ["no-go"], rep.keys()


def test_comments_on_a_defect(night):
    assert night.call("POST", "/defects", "ann",
                      {"severity": "major", "title": "old total"})[0] == 201
    st, _, d = night.call("POST", "/defects/D-1/comments", "ann",
                          {"text": "claim 4711 shows 12.30, the old one 12.03"})
    assert st == 201, d
    assert [(c["actor"], c["text"]) for c in d["comments"]] == [
        ("ann", "claim 4711 shows 12.30, the old one 12.03")]
    assert d["comments"][0]["at"].endswith("Z")
    assert actions(d)["comment"] == (True, None)
    # a dev comments too; the defect shows both, oldest first, in the API
    # and in the CLI's `defect show --json`
    assert night.call("POST", "/defects/D-1/fixing", "bob",
                      {"note": "rounding"})[0] == 200
    assert night.call("POST", "/defects/1/comments", "bob",
                      {"text": "half-up now"})[0] == 201
    st, _, d = night.call("GET", "/defects/D-1", "lead")
    assert st == 200 and d["state"] == "fixing"
    assert [c["actor"] for c in d["comments"]] == ["ann", "bob"]
    cli = json.loads(golive("defect", "show", "D-1", "--json", "--state",
                            night.state).out)
    d.pop("actions")
    # the same instants (the API in UTC, the CLI at the plan's offset)
    for c in d["comments"] + cli["comments"]:
        c["at"] = datetime.fromisoformat(c["at"].replace("Z", "+00:00"))
    assert d == cli
    # bad, missing, too long; no such defect
    st, _, b = night.call("POST", "/defects/D-1/comments", "ann", {})
    assert st == 400 and err(b) == "'text' is required"
    st, _, b = night.call("POST", "/defects/D-1/comments", "ann",
                          {"text": ""})
    assert st == 400 and "needs its text" in err(b)
    st, _, b = night.call("POST", "/defects/D-1/comments", "ann",
                          {"text": "x" * 4001})
    assert st == 400 and "at most 4000 bytes" in err(b)
    st, _, b = night.call("POST", "/defects/D-1/comments", "ann",
                          {"text": "x", "note": "y"})
    assert st == 400 and "'note' is not a field" in err(b)
    st, _, b = night.call("POST", "/defects/D-9/comments", "ann",
                          {"text": "x"})
    assert st == 404 and err(b) == "no defect D-9"
    st, _, b = night.call("POST", "/defects/D-1/comments", None,
                          {"text": "x"})
    assert st == 401
    ev = events(night.state, "defect.comment")
    assert [a for _, a, _, _ in ev] == ["ann", "bob"]
    assert all(o.endswith("@127.0.0.1") for _, _, o, _ in ev)


def test_text_that_reaches_terminals_holds_no_control_characters(night):
    """A title, a duty text, a comment and a patch's name go to the lead's
    terminal and pages as they are: an escape sequence in one is refused,
    as an empty patch name is (new-user trial)."""
    bad = "Bed board \u001b]0;pwned\u0007 \u001b[2J cleared"
    st, _, b = night.call("POST", "/defects", "ann",
                          {"severity": "minor", "title": bad})
    assert st == 400 and "a defect's title holds a control character" \
        in err(b), b
    st, _, b = night.call("POST", "/duty", "ann",
                          {"text": bad, "channel": "chat",
                           "kind": "question"})
    assert st == 400 and "control character" in err(b), b
    st, _, b = night.call("POST", "/duty", "ann",
                          {"text": "two\nlines\tare fine", "channel": "chat",
                           "kind": "question", "patch": ""})
    assert st == 400 and err(b) == "a patch's name is not empty", b
    st, _, b = night.call("POST", "/duty", "ann",
                          {"text": "two\nlines\tare fine", "channel": "chat",
                           "kind": "question"})
    assert st == 201, b
    r = golive("duty", "log", "x", "--channel", "chat", "--kind", "question",
               "--patch", "", "--as", "ann", "--state", night.state)
    assert r.rc == 2 and "a patch's name is not empty" in r.err, r
    st, _, b = night.call("POST", "/defects", "ann",
                          {"severity": "minor", "title": "x" * 301})
    assert st == 400 and "at most 300 bytes" in err(b), b
    assert events(night.state, "defect.") == []
