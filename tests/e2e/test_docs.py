"""docs/plan.md stays true: its complete example is the demo's plan and
validates; every validate code in the table is one golive can emit."""
import json
import os
import re

from conftest import ROOT, golive


def doc():
    return open(os.path.join(ROOT, "docs", "plan.md")).read()


def test_complete_example_is_the_demo_plan_and_validates(tmp_path):
    text = doc().split("## A complete example")[1]
    example = text.split("```yaml\n", 1)[1].rsplit("```", 1)[0]
    template = open(os.path.join(ROOT, "demo", "plan.yaml.in")).read()
    assert example == template.replace(
        "@SWITCH_AT@", "2026-03-14T00:00:00+08:00").replace(
        "@NEW_URL@", "sqlite:new.db")
    p = tmp_path / "plan.yaml"
    p.write_text(example)
    # validates: no error (warnings, such as the demo's dead-end state,
    # may come and go without this test depending on them)
    r = golive("validate", p, "--json")
    assert r.rc == 0, r
    assert not [d for d in json.loads(r.out) if d["severity"] == "error"], r
    r = golive("validate", p)
    assert r.rc == 0 and ": ok: " in r.out, r


def test_every_documented_code_exists_in_the_source():
    table = doc().split("## What validate checks")[1].split("## A complete")[0]
    codes = set(re.findall(r"`([a-z0-9][a-z0-9-]*)`", table))
    source = ""
    for d in ("plan", "util", "sync"):
        for f in os.listdir(os.path.join(ROOT, d)):
            if f.endswith(".c"):
                source += open(os.path.join(ROOT, d, f)).read()
    missing = [c for c in codes if '"%s"' % c not in source]
    assert not missing, missing
    emitted = set(re.findall(r'"((?:unknown|no|bad|duplicate|yaml|missing|'
                             r'wrong|self|too|dead|literal|rollback|cannot|'
                             r'unfilled|type|may|unmapped|unsynced)-[a-z-]+)"',
                             source))
    emitted.add("cycle")
    assert emitted <= codes | {"unknown-scenario"}, emitted - codes
