"""The CLI's conventions: --help everywhere, exit codes, typo hints."""
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
