"""`golive validate`: every static rule, each with a plan that breaks it
and the exact line and column of the offending node."""
import json

import pytest

from conftest import GOOD_PLAN, golive, write


def pos(text, needle, nth=1):
    """1-based (line, col) of the nth occurrence of needle in text."""
    at = -1
    for _ in range(nth):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at) + 1
    col = at - (text.rfind("\n", 0, at) + 1) + 1
    return line, col


def plan_text(old=None, new=None, extra=""):
    import textwrap
    text = textwrap.dedent(GOOD_PLAN).lstrip("\n")
    if old is not None:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text + textwrap.dedent(extra)


def validate(tmp_path, text, *args):
    p = tmp_path / "plan.yaml"
    p.write_text(text)
    return golive("validate", p, "--json", *args, cwd=tmp_path), p


def problems(r):
    return json.loads(r.out)


def expect(tmp_path, text, code, needle, nth=1, severity="error",
           message=None):
    """Validate text; assert exactly one problem with code, at needle."""
    r, p = validate(tmp_path, text)
    got = [d for d in problems(r) if d["code"] == code]
    assert len(got) == 1, r
    d = got[0]
    line, col = pos(text, needle, nth)
    assert (d["line"], d["col"]) == (line, col), (d, r)
    assert d["severity"] == severity
    assert d["file"] == str(p)
    if message:
        assert message in d["message"], d
    assert r.rc == (1 if severity == "error" else 0), r
    return d


def test_good_plan_passes(tmp_path, good_plan):
    r = golive("validate", good_plan)
    assert r.rc == 0, r
    assert "ok: 3 people, 2 systems, 1 sync job, 1 check, 1 workflow," in r.out
    r = golive("validate", good_plan, "--json")
    assert r.rc == 0 and json.loads(r.out) == []


def test_yaml_syntax_error(tmp_path):
    text = plan_text("  - {id: ann, name: Ann, roles: [data, tester]}",
                     "  - {id: ann, name: Ann, roles: [data, tester}")
    r, _ = validate(tmp_path, text)
    assert r.rc == 1
    (d,) = problems(r)
    assert d["code"] == "yaml-syntax"
    # the mapping's closing bracket is where the parser saw the mismatch
    line, col = pos(text, "tester}")
    assert (d["line"], d["col"]) == (line, col + len("tester"))


def test_unknown_key_with_hint(tmp_path):
    text = plan_text("owner: bob, checker: ann, at: T-6h",
                     "ownr: bob, checker: ann, at: T-6h")
    d = expect(tmp_path, text, "unknown-key", "ownr")
    assert "did you mean 'owner'?" in d["message"]


def test_unknown_top_level_key(tmp_path):
    text = plan_text(extra="senarios: []\n")
    d = expect(tmp_path, text, "unknown-key", "senarios")
    assert "did you mean 'scenarios'?" in d["message"]


def test_duplicate_key(tmp_path):
    text = plan_text("    key: [id]\n", "    key: [id]\n    key: [name]\n")
    expect(tmp_path, text, "duplicate-key", "key: [name]")


def test_wrong_type(tmp_path):
    text = plan_text("priority: P0, risk: 2", "priority: P0, risk: high")
    expect(tmp_path, text, "wrong-type", "high", message="'risk'")


def test_wrong_type_for_section(tmp_path):
    text = plan_text("scenarios:\n  - {id: S-1", "scenarios:\n  S-1: {id: S-1")
    d = expect(tmp_path, text, "wrong-type", "S-1:", message="a list")


def test_missing_required_field(tmp_path):
    text = plan_text("    to: new.users\n", "")
    expect(tmp_path, text, "missing-field", "id: users",
           message="missing required key 'to'")


def test_missing_switch_at(tmp_path):
    text = plan_text("switch_at: 2026-03-14T00:00:00+08:00\n", "")
    expect(tmp_path, text, "missing-field", "cutover",
           message="'switch_at'")


def test_bad_time_and_duration(tmp_path):
    text = plan_text("at: T-6h, duration: 15m", "at: T-6x, duration: 15 min")
    r, _ = validate(tmp_path, text)
    codes = {d["code"]: d for d in problems(r)}
    assert (codes["bad-time"]["line"], codes["bad-time"]["col"]) == \
        pos(text, "T-6x")
    assert (codes["bad-duration"]["line"], codes["bad-duration"]["col"]) == \
        pos(text, "15 min")


def test_switch_at_needs_offset(tmp_path):
    text = plan_text("2026-03-14T00:00:00+08:00", "2026-03-14T00:00:00")
    expect(tmp_path, text, "bad-time", "2026-03-14T00:00:00",
           message="UTC offset")


def test_unknown_role_with_hint(tmp_path):
    text = plan_text("roles: [ops, dev]", "roles: [ops, deve]")
    d = expect(tmp_path, text, "bad-value", "deve")
    assert "did you mean 'dev'?" in d["message"]


def test_owner_not_in_people(tmp_path):
    text = plan_text("stage: prepare, owner: bob", "stage: prepare, owner: bobb")
    d = expect(tmp_path, text, "unknown-person", "bobb")
    assert "did you mean 'bob'?" in d["message"]


def test_checker_not_in_people(tmp_path):
    text = plan_text("    checker: bob\n", "    checker: carol\n")
    expect(tmp_path, text, "unknown-person", "carol")


def test_depends_on_unknown_task(tmp_path):
    text = plan_text("depends_on: [freeze]", "depends_on: [freez]")
    d = expect(tmp_path, text, "unknown-task", "freez]")
    assert "did you mean 'freeze'?" in d["message"]


def test_check_names_unknown_job(tmp_path):
    text = plan_text("type: count, job: users}", "type: count, job: user}")
    expect(tmp_path, text, "unknown-job", "user}")


def test_task_runs_unknown_job(tmp_path):
    text = plan_text("run: sync users", "run: sync usres")
    expect(tmp_path, text, "unknown-job", "sync usres")


def test_job_names_undeclared_system(tmp_path):
    text = plan_text("from: old.t_user", "from: legacy.t_user")
    expect(tmp_path, text, "unknown-system", "legacy.t_user")


def test_checker_is_owner(tmp_path):
    text = plan_text("stage: sync, owner: ann, checker: bob",
                     "stage: sync, owner: ann, checker: ann")
    d = expect(tmp_path, text, "self-check", "ann, depends_on")
    assert "own owner 'ann'" in d["message"]


def test_sync_job_checker_is_owner(tmp_path):
    text = plan_text("    owner: ann\n    checker: bob\n",
                     "    owner: ann\n    checker: ann\n")
    expect(tmp_path, text, "self-check", "ann\n", nth=2)


def test_task_without_owner(tmp_path):
    text = plan_text("stage: release, owner: bob, checker: lead",
                     "stage: release, checker: lead")
    expect(tmp_path, text, "no-owner", "{id: release")


def test_task_without_checker(tmp_path):
    text = plan_text("stage: release, owner: bob, checker: lead",
                     "stage: release, owner: bob")
    expect(tmp_path, text, "no-checker", "{id: release")


def test_sync_job_without_owner(tmp_path):
    text = plan_text("    owner: ann\n", "")
    expect(tmp_path, text, "no-owner", "id: users")


def test_dependency_cycle_names_every_task(tmp_path):
    text = plan_text("depends_on: [freeze]", "depends_on: [freeze, release]")
    text = text.replace("at: T-6h, duration: 15m}",
                        "depends_on: [load], at: T-6h, duration: 15m}")
    r, _ = validate(tmp_path, text)
    cycles = [d for d in problems(r) if d["code"] == "cycle"]
    assert len(cycles) == 1, r
    d = cycles[0]
    assert (d["line"], d["col"]) == pos(text, "freeze, title")
    assert "freeze -> load -> freeze" in d["message"]
    assert "release" in d["message"]  # also on the cycle
    assert r.rc == 1


def test_three_task_cycle(tmp_path):
    text = plan_text(extra="""\
        rollback:
        """) if False else plan_text()
    text = text.replace(
        "at: T-6h, duration: 15m}",
        "depends_on: [release], at: T-6h, duration: 15m}")
    r, _ = validate(tmp_path, text)
    (d,) = [d for d in problems(r) if d["code"] == "cycle"]
    assert "freeze -> release -> load -> freeze" in d["message"]
    assert (d["line"], d["col"]) == pos(text, "freeze, title")


def test_task_earlier_than_dependencies(tmp_path):
    # load takes 1h from T-2h, so release at T-1h30m is too early
    text = plan_text("depends_on: [load], at: T0", "depends_on: [load], at: T-1h30m")
    d = expect(tmp_path, text, "too-early", "T-1h30m")
    assert "T-1h" in d["message"] and "'load'" in d["message"]


def test_absolute_time_too_early(tmp_path):
    text = plan_text("depends_on: [load], at: T0",
                     "depends_on: [load], at: 2026-03-13T14:30:00Z")
    expect(tmp_path, text, "too-early", "2026-03-13T14:30:00Z")


def test_sync_job_without_key(tmp_path):
    text = plan_text("    key: [id]\n", "")
    expect(tmp_path, text, "no-key", "id: users")


def test_two_jobs_same_target(tmp_path):
    text = plan_text("checks:", """\
  - id: users-again
    from: old.t_user2
    to: new.users
    key: [id]
    owner: ann
    checker: bob
checks:""")
    d = expect(tmp_path, text, "duplicate-target", "new.users", nth=2)
    assert "'users'" in d["message"]


@pytest.mark.parametrize("old,new,needle,nth", [
    ("id: freeze", "id: load", "id: load", 2),                 # tasks
    ("{id: bob, name: Bob", "{id: ann, name: Bob", "id: ann", 2),  # people
    ("{id: users-count", "{id: users-count, title: a}\n  - {id: users-count",
     "id: users-count", 2),                                     # checks
    ("id: S-1, area", "id: S-1, area: x, title: y}\n  - {id: S-1, area",
     "id: S-1", 2),                                             # scenarios
])
def test_duplicate_ids(tmp_path, old, new, needle, nth):
    text = plan_text(old, new)
    r, _ = validate(tmp_path, text)
    dups = [d for d in problems(r) if d["code"] == "duplicate-id"]
    assert len(dups) == 1, r
    line, col = pos(text, needle, nth)
    assert (dups[0]["line"], dups[0]["col"]) == (line, col + len("id: "))


def test_transition_to_unknown_state(tmp_path):
    text = plan_text("to: approved, action: approve", "to: aproved, action: approve")
    d = expect(tmp_path, text, "unknown-state", "aproved")
    assert "did you mean 'approved'?" in d["message"]


def test_workflow_without_initial(tmp_path):
    text = plan_text("    initial: draft\n", "")
    expect(tmp_path, text, "no-initial", "approval:")


def test_dead_end_state_is_a_warning(tmp_path):
    text = plan_text("      - {from: rejected, to: draft, action: revise}\n", "")
    d = expect(tmp_path, text, "dead-end-state", "rejected]",
               severity="warning")
    assert "'rejected'" in d["message"]


def test_literal_password_is_a_warning(tmp_path):
    text = plan_text('new: "sqlite:new.db"',
                     'new: "postgres://golive:s3cret@127.0.0.1/oa"')
    d = expect(tmp_path, text, "literal-password", "\"postgres://",
               severity="warning")
    assert "s3cret" not in d["message"]


def test_password_from_environment_is_fine(tmp_path):
    text = plan_text('new: "sqlite:new.db"',
                     'new: "postgres://golive:${PGPASS}@127.0.0.1/oa"')
    r, _ = validate(tmp_path, text)
    assert r.rc == 0 and problems(r) == []


def test_text_output_is_sorted_and_once(tmp_path):
    text = plan_text("stage: release, owner: bob", "stage: release, owner: nobody")
    text = text.replace("ownr", "owner").replace("assignee: ann", "assignee: nobody")
    text = text.replace("from: old.t_user", "from: legacy.t_user")
    p = write(tmp_path / "p.yaml", text)
    r = golive("validate", p)
    assert r.rc == 1
    lines = [l for l in r.out.splitlines() if ": error: " in l]
    assert len(lines) == 3
    positions = [tuple(int(x) for x in l.split(":")[1:3]) for l in lines]
    assert positions == sorted(positions)
    assert lines[0].startswith("%s:%d:%d: error: " % ((p,) + pos(text, "legacy.t_user")))
    assert len(set(lines)) == len(lines)
    assert r.out.rstrip().endswith("3 errors, 0 warnings")


def test_json_fields(tmp_path):
    text = plan_text("stage: release, owner: bob", "stage: release, owner: nobody")
    r, p = validate(tmp_path, text)
    (d,) = problems(r)
    assert set(d) == {"file", "line", "col", "severity", "code", "message"}
    assert isinstance(d["line"], int) and isinstance(d["col"], int)


def test_missing_file_is_exit_2(tmp_path):
    r = golive("validate", tmp_path / "nope.yaml")
    assert r.rc == 2 and "cannot read plan" in r.err


def test_usage_errors(tmp_path):
    assert golive("validate").rc == 2
    assert golive("validate", "a", "b").rc == 2
    assert golive("validate", "--bogus", "a").rc == 2


def test_empty_plan(tmp_path):
    r, _ = validate(tmp_path, "")
    assert r.rc == 1
    assert problems(r)[0]["code"] == "missing-field"


def test_rollback_and_gates_references(tmp_path):
    text = plan_text("{tasks_checked: [release]}", "{tasks_checked: [relase]}")
    text += "  - freez\n"
    r, _ = validate(tmp_path, text)
    got = sorted((d["code"], d["line"], d["col"]) for d in problems(r))
    assert ("unknown-task",) + pos(text, "relase") in got
    assert ("unknown-task",) + pos(text, "freez\n") in got


def test_demo_plan_validates(tmp_path):
    r = golive("demo", "--dir", tmp_path / "d", "--rows", "200")
    assert r.rc == 0, r
    r = golive("validate", tmp_path / "d" / "plan.yaml", "--json")
    assert r.rc == 0, r
    assert [d["code"] for d in problems(r)] == ["dead-end-state"]


def test_invalid_utf8_is_reported_with_position(tmp_path):
    p = tmp_path / "plan.yaml"
    p.write_bytes(b"cutover: x\nswitch_at: \xc0\xaf\n")  # overlong '/'
    r = golive("validate", p, "--json")
    assert r.rc == 1
    (d,) = problems(r)
    assert (d["line"], d["col"], d["code"]) == (2, 12, "yaml-syntax")
    assert "UTF-8" in d["message"]


def test_known_libfyaml_traps_are_guarded(tmp_path):
    """Inputs that hang or leak inside Debian's libfyaml 0.7.12 (found by
    `make fuzz`): golive answers quickly and cleanly."""
    import glob
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    files = sorted(glob.glob(os.path.join(here, "..", "fuzz", "known", "*")))
    assert len(files) >= 2
    for f in files:
        r = golive("validate", f, timeout=20)
        assert r.rc == 1, (f, r)
