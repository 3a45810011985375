"""`golive demo`: the old system, the new schema, the plan, the run."""
import json
import sqlite3

import pytest

from conftest import golive


def count(db, sql):
    c = sqlite3.connect(db)
    try:
        return c.execute(sql).fetchone()[0]
    finally:
        c.close()


def test_demo_builds_everything(tmp_path):
    d = tmp_path / "demo"
    r = golive("demo", "--dir", d, "--rows", "2000",
               env={"GOLIVE_NOW": "2026-03-13T10:00:00+08:00"})
    assert r.rc == 0, r
    for f in ("old.db", "new.db", "plan.yaml", "golive.state"):
        assert (d / f).exists(), f
    old = d / "old.db"
    assert count(old, "SELECT count(*) FROM t_expense_apply") == 2000
    assert count(old, "SELECT count(*) FROM t_leave_apply") == 1000
    assert count(old, "SELECT count(*) FROM t_user") == 100
    assert count(old, "SELECT count(*) FROM t_dept") == 24
    # the approval history matches the statuses: every submitted claim has
    # a SUBMIT step, drafts have none
    assert count(old, "SELECT count(*) FROM t_expense_apply e WHERE status_code"
                      " <> '00' AND NOT EXISTS (SELECT 1 FROM t_approve_log l"
                      " WHERE l.biz_type = 'EXP' AND l.biz_id = e.apply_id"
                      " AND l.action = 'SUBMIT')") == 0
    assert count(old, "SELECT count(*) FROM t_approve_log l JOIN t_expense_apply"
                      " e ON l.biz_type = 'EXP' AND l.biz_id = e.apply_id"
                      " WHERE e.status_code = '00'") == 0
    # what the night must find is planted
    assert count(old, "SELECT count(*) FROM t_expense_apply WHERE status_code"
                      " = '90' AND reject_reason IS NULL") > 0
    assert count(old, "SELECT count(*) FROM t_expense_apply WHERE status_code"
                      " = '90' AND reject_reason IS NOT NULL") > 0
    assert count(old, "SELECT count(*) FROM t_expense_apply WHERE status_code"
                      " = '15'") > 0
    assert count(old, "SELECT count(*) FROM t_expense_apply WHERE status_code"
                      " = '25'") > 0
    assert count(old, "SELECT count(*) FROM t_expense_apply WHERE is_archived"
                      " = 1 AND is_deleted = 0") > 0
    assert count(old, "SELECT count(*) FROM t_dept WHERE dept_name LIKE '%财务%'") == 1
    # the new system's schema, filled by the demo's sync
    new = d / "new.db"
    for t in ("departments", "employees", "expense_claims", "leave_requests",
              "approval_steps"):
        assert count(new, "SELECT count(*) FROM %s" % t) > 0
    # the plan switches at the next midnight (+08:00) and the run is started
    assert "switch_at: 2026-03-14T00:00:00+08:00" in (d / "plan.yaml").read_text()
    s = golive("status", "--state", d / "golive.state", "--json",
               env={"GOLIVE_NOW": "2026-03-13T18:00:00+08:00"})
    assert s.rc == 0, s
    st = json.loads(s.out)
    assert st["rehearsal"] is True and st["t"] == "T-6h"
    assert st["totals"]["all"] == 22
    assert golive("audit", "verify", "--state", d / "golive.state").rc == 0
    assert "golive validate" in r.out and "run start" in r.out


def test_demo_plan_exercises_every_section(tmp_path):
    d = tmp_path / "demo"
    assert golive("demo", "--dir", d, "--rows", "100").rc == 0
    text = (d / "plan.yaml").read_text()
    for key in ("cutover:", "switch_at:", "people:", "systems:", "sync:",
                "checks:", "workflows:", "tasks:", "scenarios:", "gates:",
                "rollback:", "exclude:", "map:", "mode: upsert",
                "mode: incremental", "error_limit:", "type: aggregate",
                "type: diff", "type: sql", "requires:", "rejection: true",
                "samples:", "tasks_checked:", "max_open_defects:"):
        assert key in text, key
    for role in ("lead", "data", "tester", "dev", "ops", "duty"):
        assert role in text
    for t in ("T-6h", "T0", "T+9h"):
        assert "at: %s" % t in text


def test_demo_is_deterministic(tmp_path):
    for name in ("a", "b"):
        assert golive("demo", "--dir", tmp_path / name, "--rows", "300").rc == 0
    q = "SELECT group_concat(apply_id || status_code || amount, ',') FROM t_expense_apply"
    assert count(tmp_path / "a" / "old.db", q) == count(tmp_path / "b" / "old.db", q)


def test_demo_refuses_to_overwrite_without_force(tmp_path):
    d = tmp_path / "demo"
    assert golive("demo", "--dir", d, "--rows", "100").rc == 0
    r = golive("demo", "--dir", d, "--rows", "100")
    assert r.rc == 3 and "--force" in r.err
    r = golive("demo", "--dir", d, "--rows", "150", "--force")
    assert r.rc == 0, r
    assert count(d / "old.db", "SELECT count(*) FROM t_expense_apply") == 150
    assert golive("audit", "verify", "--state", d / "golive.state").rc == 0


def test_demo_bad_rows(tmp_path):
    assert golive("demo", "--dir", tmp_path / "x", "--rows", "0").rc == 2
    assert golive("demo", "--dir", tmp_path / "x", "--rows", "abc").rc == 2


def test_demo_syncs_and_flags_the_legacy_code(tmp_path):
    d = tmp_path / "demo"
    r = golive("demo", "--dir", d, "--rows", "3000")
    assert r.rc == 0, r
    assert "golive validate" in r.out and "--online" in r.out
    assert "carry '15' in 'status_code'" in r.out
    # the sync jobs ran as the night's tasks, by their owners
    assert "$ golive task start sync-expenses --as lifei" in r.out
    new = d / "new.db"
    old = d / "old.db"
    # every non-deleted, non-archived claim arrived but the unmapped ones
    want = count(old, "SELECT count(*) FROM t_expense_apply WHERE is_deleted = 0"
                      " AND is_archived = 0 AND status_code <> '15'")
    assert count(new, "SELECT count(*) FROM expense_claims") == want
    fifteen = count(old, "SELECT count(*) FROM t_expense_apply WHERE is_deleted"
                         " = 0 AND is_archived = 0 AND status_code = '15'")
    rej = (d / "rejects" / "expenses.csv").read_text().splitlines()
    assert len(rej) == fifteen + 1 and fifteen > 0
    assert count(new, "SELECT count(*) FROM approval_steps") == \
        count(old, "SELECT count(*) FROM t_approve_log")
    assert golive("audit", "verify", "--state", d / "golive.state").rc == 0


def test_demo_plays_a_scripted_night(tmp_path):
    """The rehearsal night: every command printed with who types it, the
    checks' findings become blockers, go is refused, the lead decides
    no-go and the rollback is worked in order; a report at the end."""
    import re
    import sqlite3
    d = tmp_path / "demo"
    r = golive("demo", "--dir", d, "--rows", "2000")
    assert r.rc == 0, r
    steps = re.findall(r"^\[(T[^\]]*)\] \$ golive (\S+)(.*)$", r.out, re.M)
    assert len(steps) > 40
    # every command that changes the run names the person typing it
    for at, cmd, rest in steps:
        if cmd in ("task", "defect", "decide", "rollback", "duty"):
            assert "--as " in rest, (at, cmd, rest)
    assert re.search(r"expenses-count +count +FAILED", r.out)
    assert "go refused: the gate does not pass" in r.err
    db = sqlite3.connect(d / "golive.state")
    decisions = db.execute("SELECT decision, actor FROM decisions").fetchall()
    assert decisions == [("no-go", "zhang")]
    states = dict(db.execute("SELECT id, state FROM tasks"))
    assert states["check-volumes"] == "failed"
    assert all(states[t] == "checked" for t in
               ("rb-stop-new", "rb-reopen-old", "rb-announce"))
    starts = [json.loads(p)["task"] for (p,) in db.execute(
        "SELECT payload FROM events WHERE kind = 'task.start' ORDER BY seq")]
    assert starts[-3:] == ["rb-stop-new", "rb-reopen-old", "rb-announce"]
    sev = db.execute("SELECT severity, state FROM defects ORDER BY n").fetchall()
    assert sev == [("major", "deferred"), ("blocker", "fixing"),
                   ("blocker", "open")]
    # the sync executions and checks are in the run, by their owners
    actors = db.execute("SELECT DISTINCT actor FROM events WHERE kind ="
                        " 'sync.run' ORDER BY 1").fetchall()
    assert actors == [("lifei",), ("wang",)]
    db.close()
    html = (d / "report.html").read_text()
    assert "<svg" in html and "no-go" in html
    assert golive("audit", "verify", "--state", d / "golive.state").rc == 0


@pytest.mark.parametrize("kind", ["pg", "my"])
def test_demo_into_a_server(kind, request, tmp_path):
    srv = request.getfixturevalue(kind)
    d = tmp_path / "demo"
    r = golive("demo", "--dir", d, "--rows", "2000", "--target", srv.url,
               env=srv.env)
    assert r.rc == 0, r
    assert not (d / "new.db").exists()
    assert "carry '15'" in r.out
    old = d / "old.db"
    want = count(old, "SELECT count(*) FROM t_expense_apply WHERE is_deleted = 0"
                      " AND is_archived = 0 AND status_code <> '15'")
    got = golive("db", "query", srv.url, "SELECT count(*) AS n FROM expense_claims",
                 "--json", env=srv.env)
    assert json.loads(got.out)["n"] == want
    # the demo's tables are there: replacing them needs --force
    r = golive("demo", "--dir", tmp_path / "again", "--rows", "100", "--target",
               srv.url, env=srv.env)
    assert r.rc == 3 and "--force" in r.err


def test_demo_runs_as_the_readme_says(tmp_path):
    # `make demo` runs `golive demo` from the checkout with a relative
    # --dir: every command of its night must work from there
    r = golive("demo", "--dir", "golive-demo", "--rows", "2000", cwd=tmp_path)
    assert r.rc == 0, r
    assert "went off script" not in r.err
    assert (tmp_path / "golive-demo" / "report.html").exists()
    # the night's status at T-30m says when testing is done and when
    # everything is verified (#15): the verify stage is expected to start
    # at T+1h10m; four scenarios each at scenario_duration (20m), lifei's
    # S-002 its own 30m; D-3, open, fixed in fix_duration (45m) from now
    # and re-verified after lifei's list
    assert "testing:   testing done at T+2h40m" in r.out, r.out
    assert "lifei sets it; 12 scenarios left" in r.out
    assert "chen: 4 left, pace 20m (planned), done at T+2h30m" in r.out
    assert "verified:  everything verified at T+3h" in r.out
    assert "D-3 sets it; a fix takes 45m (fix_duration)" in r.out
    v = golive("audit", "verify", cwd=tmp_path / "golive-demo")
    assert v.rc == 0, v
    # the lead's decision and the rollback are what status and the report
    # say first (they said nothing, or "decision: go" after a rollback)
    s = golive("status", cwd=tmp_path / "golive-demo")
    assert "\ndecision: no-go by zhang at " in s.out, s
    assert "; ROLLED BACK\n" in s.out, s
    j = json.loads(golive("status", "--json", cwd=tmp_path / "golive-demo").out)
    assert j["decided"]["decision"] == "no-go" and j["rolled_back"] is True
    md = golive("report", cwd=tmp_path / "golive-demo").out
    assert "- decision: no-go; then ROLLED BACK" in md
