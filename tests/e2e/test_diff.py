"""`golive diff` on every engine pair: exactly the planted differences and
nothing else; fix SQL that makes the target equal, on each target engine."""
import json

import pytest

from conftest import golive

NFC = "\u00e9"        # é
NFD = "e\u0301"       # e + combining acute

DDL = {
    "sqlite": "CREATE TABLE %s (k1 TEXT, k2 INTEGER, name TEXT,"
              " amount NUMERIC(12,2), ts TIMESTAMP, note TEXT,"
              " PRIMARY KEY (k1, k2))",
    "postgres": "CREATE TABLE %s (k1 text, k2 int, name text,"
                " amount numeric(12,2), ts timestamp(6), note text,"
                " PRIMARY KEY (k1, k2))",
    "mariadb": "CREATE TABLE %s (k1 varchar(20) COLLATE utf8mb4_bin, k2 int,"
               " name text, amount decimal(12,2), ts datetime(6), note text,"
               " PRIMARY KEY (k1, k2))",
}

# (k1, k2, name, amount, ts, note)
SOURCE = [
    ("a-b", 1, "x", "1.50", "2026-01-01 10:00:00.000001", None),
    ("A-b", 1, "y", "2.00", "2026-01-01 10:00:00", ""),
    ("ab", 1, "z", "3.10", "2026-01-01 10:00:00", "n"),
    ("ab", 2, "gone", "4.00", "2026-01-01 10:00:00", "n"),
    (NFC, 1, "nfc", "5.00", "2026-01-01 10:00:00", "n"),
    ("k", 1, "same", "6.00", "2026-01-01 10:00:00.000001", "n"),
    ("t", 1, "pad", "7.00", "2026-01-01 10:00:00", "n"),
    ("u", 1, "O'Brien \\ \"q\"\nline 2", "8.00", "2026-01-01 10:00:00", "n"),
]
TARGET = [
    ("a-b", 1, "x", "1.5", "2026-01-01 10:00:00.000001", ""),     # NULL -> ''
    ("A-b", 1, "y", "2", "2026-01-01 10:00:00", ""),              # 2.00 = 2
    ("ab", 1, "z", "3.1", "2026-01-01 10:00:00", "n"),
    (NFD, 1, "nfc", "5.00", "2026-01-01 10:00:00", "n"),          # other key
    ("k", 1, "same", "6.00", "2026-01-01 10:00:00.000002", "n"),  # 1 us
    ("t", 1, "pad  ", "7.00", "2026-01-01 10:00:00", "n"),        # spaces
    ("u", 1, "changed", "8.00", "2026-01-01 10:00:00", "n"),
    ("zz", 9, "extra", "9.00", "2026-01-01 10:00:00", "n"),
]


def lit(v):
    if v is None:
        return "NULL"
    if isinstance(v, int):
        return str(v)
    return "'" + v.replace("'", "''") + "'"


def fill(db, kind, table, rows):
    db.sql((DDL[kind] % table) + ";" + "".join(
        "INSERT INTO %s VALUES (%s);" % (table, ", ".join(lit(x) for x in r))
        for r in rows))


PAIRS = [(a, b) for a in ("sqlite", "postgres", "mariadb")
         for b in ("sqlite", "postgres", "mariadb")]
FIX = {"sqlite": "lite", "postgres": "pg", "mariadb": "my"}


@pytest.mark.parametrize("src,dst", PAIRS)
def test_planted_differences_then_fix_sql(src, dst, request, tmp_path):
    s = request.getfixturevalue(FIX[src])
    d = request.getfixturevalue(FIX[dst])
    fill(s, src, "a", SOURCE)
    fill(d, dst, "b", TARGET)
    env = dict(s.env, **d.env)
    if src == "mariadb" and dst != "mariadb":
        env = dict(s.env)
    env.update(d.env)
    fix = tmp_path / "fix.sql"
    r = golive("diff", s.url, "a", d.url, "b", "--json", "--fix-sql", fix,
               env=dict(env, **s.env))
    assert r.rc == 1, r
    lines = [json.loads(l) for l in r.out.splitlines()]
    summary = lines[-1]["summary"]
    got = sorted((x["op"], x["key"]["k1"], x["key"]["k2"], tuple(x["columns"]))
                 for x in lines[:-1])
    assert got == sorted([
        ("missing", "ab", 2, ()),
        ("missing", NFC, 1, ()),
        ("extra", NFD, 1, ()),
        ("extra", "zz", 9, ()),
        ("changed", "a-b", 1, ("note",)),
        ("changed", "k", 1, ("ts",)),
        ("changed", "t", 1, ("name",)),
        ("changed", "u", 1, ("name",)),
    ]), got
    assert (summary["source_rows"], summary["target_rows"]) == (8, 8)
    assert (summary["missing"], summary["extra"], summary["changed"]) == (2, 2, 4)
    # the fix makes the target equal
    d.sql(fix.read_text())
    r = golive("diff", s.url, "a", d.url, "b", env=dict(env, **s.env))
    assert r.rc == 0, r


def test_rtrim_time_precision_and_max_diffs(lite, pg):
    fill(lite, "sqlite", "a", SOURCE)
    fill(pg, "postgres", "b", TARGET)
    base = ["diff", lite.url, "a", pg.url, "b", "--json"]
    r = golive(*base, "--rtrim", "--time-precision", "ms")
    ops = [json.loads(l) for l in r.out.splitlines()][:-1]
    changed = {x["key"]["k1"]: x["columns"] for x in ops if x["op"] == "changed"}
    assert changed == {"a-b": ["note"], "u": ["name"]}  # 't' and 'k' equal now
    r = golive(*base, "--max-diffs", "2")
    lines = r.out.splitlines()
    assert len(lines) == 3 and json.loads(lines[-1])["summary"]["stopped"]


def test_duplicate_keys_are_reported(lite, tmp_path):
    import sqlite3
    other = tmp_path / "o.db"
    c = sqlite3.connect(other)
    c.executescript("CREATE TABLE a (id INTEGER, v TEXT);"
                    "INSERT INTO a VALUES (1,'x'),(2,'y'),(2,'y2'),(3,'z')")
    c.close()
    lite.sql("CREATE TABLE b (id INTEGER PRIMARY KEY, v TEXT);"
             "INSERT INTO b VALUES (1,'x'),(2,'y'),(3,'z')")
    r = golive("diff", "sqlite:%s" % other, "a", lite.url, "b", "--key", "id",
               "--json")
    assert r.rc == 1
    ops = [json.loads(l) for l in r.out.splitlines()][:-1]
    assert ops == [{"op": "duplicate", "side": "source", "key": {"id": 2},
                    "columns": []}]


def test_human_output_and_errors(lite, pg):
    fill(lite, "sqlite", "a", SOURCE)
    fill(pg, "postgres", "b", TARGET)
    r = golive("diff", lite.url, "a", pg.url, "b")
    assert r.rc == 1
    assert 'missing   {"k1":"ab","k2":2}' in r.out
    assert "2 missing, 2 extra, 4 changed" in r.out
    r = golive("diff", lite.url, "a", pg.url, "nope")
    assert r.rc == 2 and "no table 'nope'" in r.err
    r = golive("diff", lite.url, "a", pg.url, "b", "--key", "zz")
    assert r.rc == 2
