"""The CLI's conventions: --help everywhere, exit codes, typo hints."""
import os
import re

import pytest

from conftest import golive

COMMANDS = ["validate", "sync", "check", "diff", "flow", "scenario", "run", "task", "defect", "status",
            "gate", "decide", "rollback", "shift", "handover", "duty", "patch",
            "report",
            "audit",
            "demo", "db"]


def test_top_level_help():
    r = golive("--help")
    assert r.rc == 0
    for c in COMMANDS:
        assert "  %s " % c in r.out


@pytest.mark.parametrize("cmd", COMMANDS)
def test_every_command_has_help(cmd):
    r = golive(cmd, "--help")
    assert r.rc == 0 and r.out.startswith("usage: golive %s" % cmd), r
    assert "exit:" in r.out
    r2 = golive("help", cmd)
    assert r2.rc == 0 and r2.out == r.out
    # --help takes no value, like every flag
    r3 = golive(cmd, "--help=1")
    assert r3.rc == 2 and "--help takes no value" in r3.err and not r3.out, r3


# every command that takes a subcommand (or an action) first
WITH_SUBCOMMANDS = ["task", "scenario", "defect", "duty", "patch", "token",
                    "run", "store", "audit", "db", "diff"]


@pytest.mark.parametrize("cmd", WITH_SUBCOMMANDS)
def test_help_as_a_subcommand_is_the_help(cmd):
    """`golive task help` is `golive task --help`: exit 0, the same text
    (it exited 2: 'task takes an action and a task id')."""
    r = golive(cmd, "--help")
    r2 = golive(cmd, "help")
    assert r2.rc == 0 and r2.out == r.out and not r2.err, r2


def test_a_number_may_carry_a_plus(tmp_path):
    """A leading '+' reads as strtol and YAML read it ("+2" is 2) in every
    option that takes a number (one reading, util/num.h); it was refused
    as "not a whole number"."""
    import sqlite3
    for name, rows in (("a.db", [(1, "x"), (2, "y"), (3, "z")]),
                       ("b.db", [(1, "x")])):
        db = sqlite3.connect(tmp_path / name)
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        db.executemany("INSERT INTO t VALUES (?, ?)", rows)
        db.commit()
        db.close()
    args = ["diff", "sqlite:%s" % (tmp_path / "a.db"), "t",
            "sqlite:%s" % (tmp_path / "b.db"), "t"]
    plain = golive(*args, "--max-diffs", "1", "--jobs", "2")
    plus = golive(*args, "--max-diffs", "+1", "--jobs", "+2")
    assert plain.rc == 1 and plus.rc == 1, plus
    assert plus.out == plain.out
    for bad in ("++1", "+-1", "+", " 1", "1e3"):
        r = golive(*args, "--max-diffs", bad)
        assert r.rc == 2 and "a whole number" in r.err, (bad, r)
    r = golive(*args, "--jobs", "+65")
    assert r.rc == 2 and "from 1 to 64, not '+65'" in r.err


def test_no_command_is_usage_error():
    r = golive()
    assert r.rc == 2 and "usage:" in r.err


def test_unknown_command_hint():
    r = golive("valdate", "x")
    assert r.rc == 2 and "did you mean 'validate'?" in r.err


def test_unknown_subcommand():
    assert golive("run", "stop").rc == 2
    assert golive("audit", "check").rc == 2


def test_version():
    r = golive("--version")
    assert r.rc == 0 and r.out.startswith("golive ")


# ---- option values: checked once, by the option tables ----------------

@pytest.fixture
def small_night(good_plan):
    """good_plan with its databases: old.t_user has two rows, new.users is
    empty; a sync would load them."""
    import sqlite3
    d = good_plan.parent
    c = sqlite3.connect(d / "old.db")
    c.executescript("CREATE TABLE t_user (id INTEGER PRIMARY KEY, name TEXT);"
                    "INSERT INTO t_user VALUES (1, 'a'), (2, 'b');")
    c.commit()
    c.close()
    c = sqlite3.connect(d / "new.db")
    c.executescript("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);")
    c.commit()
    c.close()
    return good_plan


def new_rows(plan):
    import sqlite3
    c = sqlite3.connect(plan.parent / "new.db")
    try:
        return c.execute("SELECT count(*) FROM users").fetchone()[0]
    finally:
        c.close()


# (command, the option and its value, the option, the value, what it takes)
BAD_NUMBERS = [
    ("diff", ["--jobs", "3abc"], "--jobs", "3abc", "from 1 to 64"),
    ("diff", ["--max-diffs", "1e9"], "--max-diffs", "1e9", "of at least 1"),
    ("diff", ["--float-digits=7x"], "--float-digits", "7x", "from 1 to 17"),
    ("diff", ["--jobs", "65"], "--jobs", "65", "from 1 to 64"),
    ("sync", ["--batch-size", "10k"], "--batch-size", "10k", "of at least 1"),
    ("sync", ["--jobs", "2x"], "--jobs", "2x", "from 1 to 64"),
    ("sync", ["--batch-size", " 5"], "--batch-size", " 5", "of at least 1"),
    ("flow", ["--samples", "abc"], "--samples", "abc", "from 0 to 1000"),
    ("check", ["--samples", "5x"], "--samples", "5x", "from 0 to 1000"),
    ("scenario", ["--limit", "3x"], "--limit", "3x", "from 1 to 500"),
    ("demo", ["--rows", "10k"], "--rows", "10k", "from 1 to 100000000"),
]


def command_line(cmd, plan):
    d = plan.parent
    return {
        "diff": ["diff", "sqlite:%s" % (d / "old.db"), "t_user",
                 "sqlite:%s" % (d / "old.db"), "t_user"],
        "sync": ["sync", plan],
        "flow": ["flow", plan],
        "check": ["check", plan],
        "scenario": ["scenario", "samples", "S-1", "--plan", plan],
        "demo": ["demo", "--dir", d / "demo"],
    }[cmd]


@pytest.mark.parametrize("cmd,opt,name,bad,takes", BAD_NUMBERS,
                         ids=["%s%s" % (b[0], b[2]) for b in BAD_NUMBERS])
def test_a_bad_number_is_a_usage_error_naming_the_option(
        small_night, cmd, opt, name, bad, takes):
    r = golive(*command_line(cmd, small_night), *opt, cwd=small_night.parent)
    assert r.rc == 2, r
    lines = r.err.splitlines()
    assert lines[0] == "golive: usage: %s takes a whole number %s, not '%s'" % (
        name, takes, bad), r
    assert lines[1] == "see 'golive %s --help'" % cmd, r
    assert r.out == ""
    # nothing ran: no target touched, no demo built
    assert new_rows(small_night) == 0
    assert not (small_night.parent / "demo").exists()


def test_the_same_values_well_formed_run(small_night):
    d = small_night.parent
    r = golive(*command_line("diff", small_night), "--jobs", "3",
               "--max-diffs=5", "--float-digits", "7", cwd=d)
    assert r.rc == 0, r
    r = golive("sync", small_night, "--batch-size", "1", "--jobs", "2",
               cwd=d)
    assert r.rc == 0, r
    assert new_rows(small_night) == 2


def test_enumerations_say_what_they_take_and_suggest(small_night):
    r = golive(*command_line("diff", small_night), "--time-precision", "mss")
    assert r.rc == 2
    assert "--time-precision takes us, ms or s, not 'mss'; did you mean " \
        "'ms'?" in r.err, r
    r = golive("report", "--format", "htm", "--state", small_night.parent / "x")
    assert r.rc == 2
    assert "--format takes md, html or json, not 'htm'; did you mean " \
        "'html'?" in r.err, r


def test_unknown_options_and_missing_values(small_night):
    r = golive("sync", small_night, "--jbos", "2")
    assert r.rc == 2 and "unknown option '--jbos'; did you mean '--jobs'?" \
        in r.err, r
    r = golive("sync", small_night, "--jobs")
    assert r.rc == 2 and "--jobs takes a whole number from 1 to 64\n" in r.err
    r = golive("validate", small_night, "--json=yes")
    assert r.rc == 2 and "--json takes no value" in r.err
    assert new_rows(small_night) == 0


def test_options_anywhere_and_double_dash(small_night):
    d = small_night.parent
    # options before, between and after the arguments; "--opt=value"
    r = golive("sync", "--as=ann", small_night,
               "users", "--batch-size=1", cwd=d)
    assert r.rc == 0, r
    # after "--" a word starting with "-" is an argument
    r = golive("validate", "--", "-plan.yaml", cwd=d)
    assert r.rc == 2 and "cannot read plan '-plan.yaml'" in r.err, r


def test_positional_counts_and_subcommands():
    r = golive("db", "describe", "sqlite:x.db")
    assert r.rc == 2 and "'db describe' takes a URL and a table" in r.err, r
    r = golive("db", "tabels", "sqlite:x.db")
    assert r.rc == 2 and "did you mean 'tables'?" in r.err, r
    r = golive("run")
    assert r.rc == 2 and "run takes a subcommand: start or amend" in r.err, r
    r = golive("audit", "head", "--head", "1:abc")
    assert r.rc == 2 and "--head goes with 'audit verify'" in r.err, r
    assert golive("run", "help").out == golive("run", "--help").out


def test_help_lists_every_option_of_the_table():
    r = golive("sync", "--help")
    opts = [l.split()[0] for l in r.out.split("options:\n")[1].split("\n\n")[0]
            .splitlines() if l.startswith("  -")]
    assert opts == ["--jobs", "--resume", "--restart", "--retry-rejects",
                    "--batch-size", "-j,", "--state", "--as",
                    "--plan-changed"], opts
    # the internal option of the task supervisor is not listed
    assert "--output" not in golive("task", "--help").out


def help_options(cmd):
    """The options a command's --help lists (written from its table)."""
    out = golive(cmd, "--help").out
    if "options:\n" not in out:
        return []
    block = out.split("options:\n", 1)[1].split("\n\n", 1)[0]
    return [re.search(r"--[a-z-]+", line).group(0)
            for line in block.splitlines() if line.startswith("  -")]


def test_every_option_of_every_command_is_documented():
    from conftest import ROOT
    docs = ""
    for f in ("README.md", os.path.join("docs", "plan.md")):
        docs += open(os.path.join(ROOT, f)).read()
    missing = ["%s %s" % (c, o) for c in COMMANDS + ["store"]
               for o in help_options(c) if o not in docs]
    assert not missing, missing
    assert "--batch-size" in help_options("sync")
