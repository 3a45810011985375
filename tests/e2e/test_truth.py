"""The run tells the truth (#11): partial handover, who reopens a checked
task, a blocker is never deferred (the lead lowers its severity first),
and small untruths in what golive prints.  The plan is
tests/e2e/night.yaml, as in test_night.py."""
import json
import re
import os
import shutil

from conftest import golive
from test_night import HERE, T, events, g, night, walk  # noqa: F401


def gate_rules(st, at="T-6h"):
    r = g(st, "gate", "--json", at=at)
    return {x["rule"]: x for x in json.loads(r.out)["rules"]}


# ---- #11.6: reopen after the sign-off ---------------------------------------

def test_only_the_checker_or_the_lead_reopens_a_checked_task(night):
    st = night
    walk(st, "freeze", "bob", "ann", "T-6h", "T-5h30m")
    # bob owns freeze; ann signed it off: bob cannot take that back
    r = g(st, "task", "reopen", "freeze", "--as", "bob", at="T-5h30m")
    assert r.rc == 3, r
    assert "is checked; only its checker ann or the lead" in r.err
    r = g(st, "status", "--json", at="T-5h30m")
    assert [t["state"] for t in json.loads(r.out)["task_list"]
            if t["id"] == "freeze"] == ["checked"]
    assert g(st, "task", "reopen", "freeze", "--as", "ann",
             at="T-5h30m").rc == 0
    walk(st, "freeze", "bob", "ann", "T-5h30m", "T-5h30m")
    assert g(st, "task", "reopen", "freeze", "--as", "lead",
             at="T-5h30m").rc == 0
    # a task that is not signed off: its owner still reopens it
    walk(st, "freeze", "bob", "ann", "T-5h30m", "T-5h30m")
    assert g(st, "task", "start", "load", "--as", "ann", at="T-5h").rc == 0
    assert g(st, "task", "fail", "load", "--as", "ann", at="T-5h").rc == 0
    assert g(st, "task", "reopen", "load", "--as", "ann", at="T-5h").rc == 0
    reopens = [a for k, a, _ in events(st) if k == "task.reopen"]
    assert reopens == ["ann", "lead", "ann"]


# ---- #11.6: a blocker is never deferred ---------------------------------------

def test_a_blocker_is_never_deferred_until_the_lead_lowers_it(night):
    st = night
    assert g(st, "defect", "open", "--severity", "blocker", "--title",
             "claims stuck", "--as", "chen").rc == 0
    r = g(st, "defect", "defer", "D-1", "--patch", "1.0.1", "--as", "liu")
    assert r.rc == 3 and "a blocker is never deferred" in r.err, r
    assert "golive defect severity D-1 major --note" in r.err
    r = g(st, "defect", "defer", "D-1", "--patch", "1.0.1", "--as", "lead")
    assert r.rc == 3 and "never deferred" in r.err
    assert gate_rules(st)["no_open_blockers"]["passed"] is False
    # only the lead changes a severity, and says why
    r = g(st, "defect", "severity", "D-1", "major", "--note", "x",
          "--as", "liu")
    assert r.rc == 3 and "only the lead" in r.err and "lead" in r.err
    r = g(st, "defect", "severity", "D-1", "major", "--as", "lead")
    assert r.rc == 2 and "--note" in r.err
    r = g(st, "defect", "severity", "D-1", "huge", "--note", "x",
          "--as", "lead")
    assert r.rc == 2 and "blocker, major or minor" in r.err
    r = g(st, "defect", "severity", "D-9", "major", "--note", "x",
          "--as", "lead")
    assert r.rc == 2 and "no defect D-9" in r.err
    r = g(st, "defect", "severity", "D-1", "blocker", "--note", "x",
          "--as", "lead")
    assert r.rc == 2 and "blocker already" in r.err
    r = g(st, "defect", "severity", "D-1", "major", "--note",
          "only claims from 2019; a workaround exists", "--as", "lead")
    assert r.rc == 0 and r.out == "D-1: severity major (lead)\n", r
    lst = json.loads(g(st, "defect", "list", "--json").out)
    assert (lst[0]["severity"], lst[0]["state"]) == ("major", "open")
    assert gate_rules(st)["no_open_blockers"]["passed"] is True
    assert g(st, "defect", "defer", "D-1", "--patch", "1.0.1",
             "--as", "liu").rc == 0
    # a deferred defect is not raised to a blocker: reopen it first
    r = g(st, "defect", "severity", "D-1", "blocker", "--note", "worse",
          "--as", "lead")
    assert r.rc == 3 and "reopen it first" in r.err
    ev = [(k, a, json.loads(p)) for k, a, p in events(st)
          if k == "defect.severity"]
    for _, _, p in ev:
        p.pop("golive_now", None)  # the replayed clock's mark
    assert ev == [("defect.severity", "lead",
                   {"defect": 1, "from": "blocker", "to": "major",
                    "note": "only claims from 2019; a workaround exists"})]
    assert g(st, "audit", "verify").rc == 0
    r = g(st, "defect", "--help")
    assert "defect severity ID blocker|major|minor --note TEXT" in r.out


def test_max_open_defects_counts_that_severity_or_worse(tmp_path):
    plan = tmp_path / "plan.yaml"
    text = open(os.path.join(HERE, "night.yaml")).read()
    plan.write_text(text.replace(
        "    - tasks_checked: [release]\n",
        "    - tasks_checked: [release]\n"
        "    - max_open_defects: {severity: major, count: 1}\n"))
    assert golive("run", "start", plan,
                  env={"GOLIVE_NOW": T["T-6h"]}).rc == 0
    st = tmp_path / "golive.state"
    for sev, title in (("blocker", "stuck"), ("major", "slow"),
                       ("minor", "typo")):
        assert g(st, "defect", "open", "--severity", sev, "--title", title,
                 "--as", "chen").rc == 0
    rule = gate_rules(st)["max_open_defects"]
    assert rule["passed"] is False, rule
    assert rule["detail"] == (
        "2 open defects of severity major or worse, at most 1 allowed: "
        "D-1 stuck (blocker, open), D-2 slow (open)")


# ---- #11.5: a handover moves what it may -------------------------------------

def owners(st):
    import sqlite3
    db = sqlite3.connect(st)
    try:
        return {r[0]: (r[1], r[2]) for r in db.execute(
            "SELECT id, owner, checker FROM tasks")}
    finally:
        db.close()


def test_handover_moves_what_q_may_take_and_names_what_stays(night):
    st = night
    walk(st, "freeze", "bob", "ann", "T-6h", "T-5h30m")
    assert g(st, "task", "start", "banner", "--as", "bob", at="T-5h30m").rc == 0
    # ann checks every task bob does and does every task bob checks:
    # nothing can go to her, and each item says why
    r = g(st, "handover", "--as", "bob", "--to", "ann", at="T-5h")
    assert r.rc == 3 and "nothing handed over to ann" in r.err, r
    for tid in ("banner", "rb-stop", "release"):
        assert "ann checks task '%s' and cannot also do it" % tid in r.err
    for tid in ("load", "rb-reopen"):
        assert "ann does task '%s' and cannot also check it" % tid in r.err
    assert [k for k, _, _ in events(st)].count("handover") == 0
    # chen, a tester, hands to zhou, who is not: the task smoke moves,
    # the running scenario S-1 stays with chen
    assert g(st, "scenario", "next", "--as", "chen", at="T-5h").rc == 0
    r = g(st, "handover", "--as", "chen", "--to", "zhou", "--json", at="T-5h")
    assert r.rc == 3, r
    out = json.loads(r.out)
    assert (out["tasks"], out["scenarios"]) == (["smoke"], [])
    assert [(x["kind"], x["id"]) for x in out["refused"]] == [
        ("scenario", "S-1")]
    assert "zhou is not a tester and cannot take scenario S-1" in r.err
    assert owners(st)["smoke"] == ("zhou", "lead")
    prog = json.loads(g(st, "scenario", "progress", "--json").out)
    assert prog["testers"]["chen"] == {"running": 1}
    # what is named moves, and only that
    r = g(st, "handover", "--as", "bob", "--to", "zhou", "--task", "banner",
          "--task", "load", "--task", "freeze", "--json", at="T-5h")
    assert r.rc == 3, r
    out = json.loads(r.out)
    assert (out["tasks"], out["checks"]) == (["banner"], ["load"])
    assert [x["id"] for x in out["refused"]] == ["freeze"]
    assert "bob does not hold task 'freeze' (checked" in r.err
    o = owners(st)
    assert o["banner"] == ("zhou", "ann") and o["load"] == ("ann", "zhou")
    assert o["release"] == ("bob", "ann") and o["rb-stop"] == ("bob", "ann")
    r = g(st, "handover", "--as", "bob", "--to", "zhou", "--task", "release",
          at="T-5h")
    assert r.rc == 0 and r.out == ("bob handed over to zhou:\n"
                                   "  tasks to do    release\n"), r
    r = g(st, "handover", "--as", "bob", "--to", "zhou", "--task", "nope")
    assert r.rc == 2 and "no task 'nope'" in r.err
    r = g(st, "handover", "--as", "bob", "--to", "zhou", "--defect", "D-9")
    assert r.rc == 2 and "no defect D-9" in r.err
    r = g(st, "handover", "--as", "chen", "--to", "zhou", "--scenario", "S-2")
    assert r.rc == 3 and "scenario S-2 is not in chen's hands" in r.err
    ev = [json.loads(p) for k, _, p in events(st) if k == "handover"]
    assert [(e["from"], e["tasks"], e["checks"], e["scenarios"],
             [x["id"] for x in e["refused"]]) for e in ev] == [
        ("chen", ["smoke"], [], [], ["S-1"]),
        ("bob", ["banner"], ["load"], [], ["freeze"]),
        ("bob", ["release"], [], [], [])]
    assert g(st, "audit", "verify").rc == 0


# ---- #11.9: small untruths ---------------------------------------------------

def test_duty_list_says_no_null_and_times_at_the_plans_offset(night):
    st = night
    assert g(st, "duty", "log", "where is my claim", "--channel", "phone",
             "--kind", "question", "--as", "zhou", at="T+2h").rc == 0
    assert g(st, "duty", "log", "export", "--channel", "chat", "--kind",
             "request", "--patch", "hr-next-1.2", "--as", "zhou",
             at="T+2h").rc == 0
    r = g(st, "duty", "list")
    assert r.rc == 0 and "(null)" not in r.out, r
    lines = r.out.splitlines()
    assert lines[0].split()[:2] == ["H-1", "2026-03-14T02:00:00+08:00"]
    assert lines[0].endswith("where is my claim")
    assert lines[1].endswith("export [patch hr-next-1.2]")
    lst = json.loads(g(st, "duty", "list", "--json").out)
    assert lst[1]["at"] == "2026-03-14T02:00:00+08:00"


def test_patch_plan_lists_every_entry_put_on_a_patch(night):
    st = night
    assert g(st, "duty", "log", "the old menu is gone", "--channel", "phone",
             "--kind", "question", "--as", "zhou", at="T+2h").rc == 0
    assert g(st, "duty", "patch", "H-1", "--patch", "1.1", "--as", "liu",
             at="T+2h").rc == 0
    plan = json.loads(g(st, "patch", "plan", "--json").out)
    assert plan["patches"] == [{"patch": "1.1", "defects": [], "requests": [
        {"id": "H-1", "kind": "question", "text": "the old menu is gone"}]}]
    r = g(st, "patch", "plan")
    assert r.out == ("patch 1.1\n"
                     "  H-1    question the old menu is gone\n"), r


def test_status_names_who_blocked_a_scenario_and_report_its_tester(night):
    st = night
    # recorded without 'scenario next': nobody took them first
    assert g(st, "scenario", "block", "S-1", "--as", "chen", "--note",
             "no test data", at="T-3h").rc == 0
    assert g(st, "scenario", "pass", "S-2", "--as", "chen", at="T-3h").rc == 0
    s = json.loads(g(st, "status", "--json", at="T-3h").out)
    assert [b["detail"] for b in s["blockers"] if b["id"] == "S-1"] == [
        "scenario blocked by chen: no test data"]
    text = g(st, "status", at="T-3h").out
    assert "S-1: scenario blocked by chen: no test data" in text
    assert "()" not in text
    rep = json.loads(g(st, "report", "--format", "json", at="T-3h").out)
    assert [(x["id"], x["tester"]) for x in rep["scenarios"]] == [
        ("S-1", "chen"), ("S-2", "chen")]
    md = g(st, "report", at="T-3h").out
    assert "| S-1 | expense | P0 | 3 | blocked | chen | no test data |" in md
    assert "| S-2 | expense | P1 | 1 | passed | chen |" in md


def test_run_amend_says_what_changed_and_the_report_per_amendment(night):
    st = night
    plan = st.parent / "plan.yaml"
    text = plan.read_text()
    # a scenario's risk and a gate: neither a task nor an id added
    plan.write_text(text.replace("priority: P1, risk: 1}",
                                 "priority: P1, risk: 4}")
                    .replace("    - no_open_blockers\n",
                             "    - no_open_blockers\n"
                             "    - all_checks_passed\n"))
    r = g(st, "run", "amend", plan, "--as", "lead")
    assert r.rc == 0, r
    assert r.out == ("plan version 2 taken into the run (lead)\n"
                     "  scenario S-2 changed: risk\n"
                     "  the text of 'gates' changed\n"), r
    plan.write_text(plan.read_text().replace(
        "  - {id: chen, roles: [tester]}", "  - {id: chen, roles: [tester, dev]}")
        + "# a comment\n")
    r = g(st, "run", "amend", plan, "--as", "lead", "--json")
    assert r.rc == 0, r
    d = json.loads(r.out)["diff"]
    assert d["people"]["changed"] == [{"id": "chen", "fields": ["roles"]}]
    assert d["sections"] == ["people"]
    plan.write_text(plan.read_text() + "# another\n")
    r = g(st, "run", "amend", plan, "--as", "lead")
    assert r.out.endswith("  only comments or blank lines changed\n"), r
    rep = json.loads(g(st, "report", "--format", "json").out)
    assert [c["detail"] for c in rep["changes"]] == [
        "plan version 2: scenario S-2 changed: risk; the text of 'gates'"
        " changed",
        "plan version 3: person chen changed: roles",
        "plan version 4: only comments or blank lines changed"]
    assert g(st, "audit", "verify").rc == 0


def test_scenario_progress_speaks_text_and_json_on_asking(night):
    st = night
    assert g(st, "scenario", "next", "--as", "chen").rc == 0
    assert g(st, "scenario", "pass", "S-2", "--as", "chen").rc == 0
    r = g(st, "scenario", "progress")
    assert r.rc == 0 and r.out == ("by tester:\n"
                                   "  chen        1 running, 1 passed\n"
                                   "\n"
                                   "by area:\n"
                                   "  expense     1 running, 1 passed\n"), r
    prog = json.loads(g(st, "scenario", "progress", "--json").out)
    assert prog == {"testers": {"chen": {"running": 1, "passed": 1}},
                    "areas": {"expense": {"running": 1, "passed": 1}}}


def test_one_is_singular(night):
    st = night
    r = g(st, "status")
    assert "; 1 event\n" in r.out, r
    md = g(st, "report").out
    assert re.search(r"every table matches the events, 1 event; head ", md)
    html = g(st, "report", "--format", "html").out
    assert ", 1 event; head " in html


def test_a_tab_in_the_indentation_is_named_at_its_line_and_column(tmp_path):
    p = tmp_path / "plan.yaml"
    text = open(os.path.join(HERE, "night.yaml")).read()
    # a key indented with a tab: libfyaml said 'invalid multiline plain
    # key' at the line before
    p.write_text(text.replace("switch_at:", "\tswitch_at:", 1))
    r = golive("validate", p, "--json")
    assert r.rc == 1, r
    (d,) = json.loads(r.out)
    assert (d["line"], d["col"], d["code"]) == (2, 1, "yaml-syntax")
    assert d["message"] == ("a tab indents this line; YAML indents with "
                            "spaces only")
    # after spaces too, and in the text output
    p.write_text(text.replace("scenarios:\n  - {id: S-1",
                              "scenarios:\n  \t- {id: S-1", 1))
    r = golive("validate", p)
    line = text[:text.index("scenarios:")].count("\n") + 2
    assert "plan.yaml:%d:3: error: a tab indents this line" % line in r.out, r


def test_the_rollback_lists_who_holds_its_tasks_now(night):
    # ann handed the check of rb-stop to zhou: the list the lead reads when
    # the rollback starts names zhou (it named the plan's checker)
    st = night
    r = g(st, "handover", "--as", "ann", "--to", "zhou", "--task", "rb-stop",
          at="T-6h")
    assert r.rc in (0, 3), r
    assert g(st, "decide", "no-go", "--note", "x", "--as", "lead",
             at="T-5h").rc == 0
    r = g(st, "rollback", "--as", "lead", at="T-5h")
    assert r.rc == 0, r
    line = [x for x in r.out.splitlines() if x.strip().startswith("rb-stop ")]
    assert line and line[0].split()[-1] == "zhou", r.out


def test_scenario_next_never_hands_out_someone_elses_scenario(tmp_path):
    # S-1 is ann's: dan's next is the unassigned S-2, however risky S-1 is;
    # once ann hands S-1 over, it is dan's (it went to whoever asked)
    from conftest import GOOD_PLAN, write
    text = GOOD_PLAN.replace(
        "  - {id: bob, name: Bob, roles: [ops, dev]}\n",
        "  - {id: bob, name: Bob, roles: [ops, dev]}\n"
        "  - {id: dan, name: Dan, roles: [tester]}\n").replace(
        "risk: 2, assignee: ann}\n",
        "risk: 2, assignee: ann}\n"
        "  - {id: S-2, area: approval, title: Reject, priority: P1, risk: 1}\n")
    p = write(tmp_path / "plan.yaml", text)
    assert golive("run", "start", p).rc == 0
    st = tmp_path / "golive.state"
    r = golive("scenario", "next", "--as", "dan", "--state", st)
    assert r.rc == 0 and "S-2" in r.out, r
    assert golive("scenario", "pass", "S-2", "--as", "dan", "--state",
                  st).rc == 0
    r = golive("scenario", "next", "--as", "dan", "--state", st)
    assert r.rc == 1, r  # S-1 is ann's
    r = golive("handover", "--as", "ann", "--to", "dan", "--scenario", "S-1",
               "--state", st)
    assert r.rc == 0, r
    assert golive("scenario", "next", "--as", "ann", "--state", st).rc == 1
    r = golive("scenario", "next", "--as", "dan", "--state", st)
    assert r.rc == 0 and "S-1" in r.out, r
