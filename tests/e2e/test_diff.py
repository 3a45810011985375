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


@pytest.mark.parametrize("src,dst", [("sqlite", "postgres"), ("postgres", "mariadb"),
                                     ("mariadb", "sqlite")])
def test_segments_find_the_same_differences(src, dst, request):
    """--jobs 3 cuts the key range in three and finds exactly what one
    pass finds, text keys included."""
    s = request.getfixturevalue(FIX[src])
    d = request.getfixturevalue(FIX[dst])
    rows = [("key %04d" % i, i % 7, "n%d" % i, "%d.50" % i,
             "2026-01-01 10:00:00", "x") for i in range(600)]
    other = [r for r in rows if r[1] != 3]                    # missing
    other = [(r[0], r[1], "changed" if r[1] == 5 else r[2]) + r[3:]
             for r in other]                                   # changed
    other += [("zzz %d" % i, 1, "e", "1.00", "2026-01-01 10:00:00", "x")
              for i in range(4)]                               # extra
    fill(s, src, "a", rows)
    fill(d, dst, "b", other)
    env = dict(s.env, **d.env)
    outs = []
    for jobs in ("1", "3"):
        r = golive("diff", s.url, "a", d.url, "b", "--json", "--jobs", jobs,
                   env=env)
        assert r.rc == 1, r
        lines = [json.loads(l) for l in r.out.splitlines()]
        outs.append((sorted(json.dumps(x, sort_keys=True) for x in lines[:-1]),
                     {k: v for k, v in lines[-1]["summary"].items()
                      if k not in ("seconds",)}))
    assert outs[0] == outs[1]
    assert outs[0][1]["missing"] == len([r for r in rows if r[1] == 3])
    assert outs[0][1]["extra"] == 4


@pytest.mark.skipif(__import__("os").environ.get("GOLIVE_SANITIZED") == "1",
                    reason="ASan makes RSS meaningless; the plain build measures it")
def test_diff_memory_stays_flat(tmp_path):
    """Peak RSS diffing 200,000-row tables is within 8 MiB of 2,000."""
    import resource
    import sqlite3
    import subprocess
    import sys
    from conftest import BIN
    peaks = {}
    for n in (2000, 200000):
        a, b = tmp_path / ("a%d.db" % n), tmp_path / ("b%d.db" % n)
        for path, bump in ((a, 0), (b, 1)):
            c = sqlite3.connect(path)
            c.executescript(
                "CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT, v INTEGER,"
                " w TEXT); WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT"
                " x+1 FROM s WHERE x < %d) INSERT INTO t SELECT x, printf("
                "'key-%%08d', x), x * 3 + (x %% 1000 = 0) * %d, 'some text'"
                " FROM s" % (n, bump))
            c.close()
        code = ("import resource, subprocess, sys;"
                "r = subprocess.run(sys.argv[1:], capture_output=True);"
                "assert r.returncode == 1, r;"
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        out = subprocess.run([sys.executable, "-c", code, BIN, "diff",
                              "sqlite:%s" % a, "t", "sqlite:%s" % b, "t",
                              "--json"], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        peaks[n] = int(out.stdout.strip())
    assert peaks[200000] - peaks[2000] < 8 * 1024, peaks


def test_sqlite_pair_inside_sqlite_matches_the_merge(tmp_path, lite):
    """Two SQLite files keyed by their primary keys are compared inside
    SQLite (attached); the result is exactly the streaming merge's (which
    --fix-sql forces), in one segment or two."""
    import sqlite3
    fill(lite, "sqlite", "a", SOURCE)
    other = tmp_path / "other.db"
    c = sqlite3.connect(other)
    c.executescript(DDL["sqlite"] % "b" + ";" + "".join(
        "INSERT INTO b VALUES (%s);" % ", ".join(lit(x) for x in r)
        for r in TARGET))
    c.close()
    url = "sqlite:%s" % other
    runs = []
    for extra in (["--fix-sql", str(tmp_path / "f.sql")], [], ["--jobs", "2"]):
        r = golive("diff", lite.url, "a", url, "b", "--json", *extra)
        assert r.rc == 1, r
        lines = [json.loads(l) for l in r.out.splitlines()]
        s = lines[-1]["summary"]
        runs.append((sorted(json.dumps(x, sort_keys=True) for x in lines[:-1]),
                     (s["source_rows"], s["target_rows"], s["missing"],
                      s["extra"], s["changed"])))
    assert runs[0] == runs[1] == runs[2]
    assert runs[0][1] == (8, 8, 2, 2, 4)


@pytest.mark.parametrize("kind", ["pg", "my"])
def test_one_server_compares_inside_the_database(kind, request, tmp_path):
    """Two tables one connection reaches (one PostgreSQL database; two
    databases on one MariaDB server) are compared inside the database:
    the same answer as the merge, case- and accent-different keys apart."""
    db = request.getfixturevalue(kind)
    engine = {"pg": "postgres", "my": "mariadb"}[kind]
    fill(db, engine, "a", SOURCE)
    if kind == "pg":
        fill(db, engine, "b", TARGET)
        durl = db.url
    else:
        other = db.server.create_db("other_" + tmp_path.name[-12:].lower().replace("-", "_"))
        db.server.sql((DDL[engine] % "b") + ";" + "".join(
            "INSERT INTO b VALUES (%s);" % ", ".join(lit(x) for x in r)
            for r in TARGET), db=other.rsplit("/", 1)[1])
        durl = other
    runs = []
    for extra in (["--fix-sql", str(tmp_path / "f.sql")], [], ["--jobs", "2"]):
        r = golive("diff", db.url, "a", durl, "b", "--json", *extra, env=db.env)
        assert r.rc == 1, r
        lines = [json.loads(l) for l in r.out.splitlines()]
        s = lines[-1]["summary"]
        runs.append((sorted(json.dumps(x, sort_keys=True) for x in lines[:-1]),
                     (s["source_rows"], s["target_rows"], s["missing"],
                      s["extra"], s["changed"])))
    assert runs[0] == runs[1] == runs[2]
    assert runs[0][1] == (8, 8, 2, 2, 4)


def test_postgres_rows_stream_with_escapes_nulls_and_duplicates(lite, pg):
    """The PostgreSQL side is read by COPY: tabs, newlines, backslashes,
    \\N-looking text, NULL and '' survive; duplicate keys are reported."""
    pg.sql("CREATE TABLE s (id int, v text, b bytea);"
           "INSERT INTO s VALUES (1, E'a\\tb', '\\x00ff'),"
           " (2, E'line\\nnext\\r', NULL), (3, E'back\\\\slash', '\\x'),"
           " (4, '\\N', '\\x5c4e'), (5, NULL, NULL), (6, '', NULL),"
           " (6, '', NULL), (7, E'\\u00e9\\t', NULL)")
    lite.sql("CREATE TABLE s (id INTEGER PRIMARY KEY, v TEXT, b BLOB);"
             "INSERT INTO s VALUES (1, 'a' || char(9) || 'b', x'00ff'),"
             " (2, 'line' || char(10) || 'next' || char(13), NULL),"
             " (3, 'back\\slash', x''), (4, '\\N', x'5c4e'), (5, NULL, NULL),"
             " (6, '', NULL), (7, 'é' || char(9), NULL)")
    r = golive("diff", pg.url, "s", lite.url, "s", "--key", "id", "--json")
    lines = [json.loads(l) for l in r.out.splitlines()]
    assert lines[:-1] == [{"op": "duplicate", "side": "source",
                           "key": {"id": 6}, "columns": []}], r
    s = lines[-1]["summary"]
    assert (s["missing"], s["extra"], s["changed"], s["duplicates"]) == \
        (0, 0, 0, 1), r
    assert s["source_rows"] == 8 and s["target_rows"] == 7


def test_fix_sql_temp_file_never_follows_a_symlink(tmp_path):
    """The fix-SQL temporary file is created fresh (O_EXCL|O_NOFOLLOW,
    unique name, 0600): symlinks planted at the old fixed name and at FILE
    itself are never followed (they overwrote the victim before)."""
    import glob
    import os
    import sqlite3
    for name in ("s.db", "d.db"):
        c = sqlite3.connect(str(tmp_path / name))
        c.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
        if name == "s.db":
            c.executemany("INSERT INTO t VALUES (?, ?)",
                          [(i, "secret %d" % i) for i in range(100)])
        c.commit()
        c.close()
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    fix = tmp_path / "evil.sql"
    os.symlink(str(victim), str(tmp_path / "evil.sql.golive-tmp"))
    os.symlink(str(victim), str(tmp_path / ".evil.sql.golive-tmp"))
    r = golive("diff", "sqlite:" + str(tmp_path / "s.db"), "t",
               "sqlite:" + str(tmp_path / "d.db"), "t", "--fix-sql", fix)
    assert r.rc == 1, r.err
    assert victim.read_text() == "precious\n"
    assert not fix.is_symlink() and "secret 99" in fix.read_text()
    assert (os.stat(str(fix)).st_mode & 0o777) == 0o600
    # FILE itself a symlink: replaced, not followed
    os.unlink(str(fix))
    os.symlink(str(victim), str(fix))
    r = golive("diff", "sqlite:" + str(tmp_path / "s.db"), "t",
               "sqlite:" + str(tmp_path / "d.db"), "t", "--fix-sql", fix)
    assert r.rc == 1, r.err
    assert victim.read_text() == "precious\n"
    assert not fix.is_symlink()
    left = [p for p in glob.glob(str(tmp_path / ".*golive-tmp*"))
            + glob.glob(str(tmp_path / "*golive-tmp*"))
            if not os.path.islink(p)]
    assert left == []


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_fix_sql_temp_file_removed_when_interrupted(tmp_path, sig):
    """SIGINT / SIGTERM mid-diff: exit 130 / 143 and no temporary file full
    of row data left behind (it stayed before)."""
    import glob
    import os
    import signal
    import sqlite3
    import subprocess
    import time
    from conftest import BIN
    for name in ("s.db", "d.db"):
        c = sqlite3.connect(str(tmp_path / name))
        c.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
        if name == "s.db":
            c.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1"
                      " FROM n WHERE i < 3000000) INSERT INTO t"
                      " SELECT i, 'secret row ' || i FROM n")
        c.commit()
        c.close()
    fix = tmp_path / "f.sql"
    e = dict(os.environ)
    e.pop("GOLIVE_STATE", None)
    p = subprocess.Popen([BIN, "diff", "sqlite:" + str(tmp_path / "s.db"),
                          "t", "sqlite:" + str(tmp_path / "d.db"), "t",
                          "--fix-sql", str(fix), "--json"],
                         env=e, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    deadline = time.time() + 60
    tmp = []
    while time.time() < deadline and p.poll() is None:
        tmp = glob.glob(str(tmp_path / "*golive-tmp*")) + \
            glob.glob(str(tmp_path / ".*golive-tmp*"))
        if tmp and os.path.getsize(tmp[0]) > 100000:
            break
        time.sleep(0.01)
    assert tmp and p.poll() is None, "no temporary file seen mid-diff"
    p.send_signal(getattr(signal, sig))
    p.communicate(timeout=60)
    assert p.returncode == 128 + getattr(signal, sig)
    assert glob.glob(str(tmp_path / "*golive-tmp*")) == []
    assert glob.glob(str(tmp_path / ".*golive-tmp*")) == []
    assert not fix.exists()


@pytest.mark.parametrize("pair", [("sqlite", "sqlite"), ("postgres", "mariadb")])
def test_segments_report_in_key_order_every_time(pair, request, tmp_path):
    """--jobs 4: the differences come in key order and the fix SQL is the
    same file every run, whatever segment ends first (a later segment's
    output waits for the ones before it).  SQLite to SQLite compares
    inside the database (attached) unless fix SQL is asked for."""
    import sqlite3
    if pair == ("sqlite", "sqlite"):
        urls = []
        for name, bump in (("a", 0), ("b", 1)):
            path = tmp_path / ("%s.db" % name)
            c = sqlite3.connect(path)
            c.executescript(
                "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER);"
                "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1"
                " FROM s WHERE x < 4000) INSERT INTO t SELECT x,"
                " x + (x %% 7 = 0) * %d FROM s WHERE %d OR x %% 11 <> 0"
                % (bump, 1 - bump))
            c.close()
            urls.append("sqlite:%s" % path)
        env = {}
        args = [urls[0], "t", urls[1], "t"]
    else:
        s = request.getfixturevalue(FIX[pair[0]])
        d = request.getfixturevalue(FIX[pair[1]])
        rows = [("key %05d" % i, i % 3, "n%d" % i, "%d.50" % i,
                 "2026-01-01 10:00:00", "x") for i in range(900)]
        fill(s, pair[0], "a", rows)
        fill(d, pair[1], "b", [
            r[:2] + (("changed",) if i % 7 == 0 else r[2:3]) + r[3:]
            for i, r in enumerate(rows) if i % 11])
        env = dict(s.env, **d.env)
        args = [s.url, "a", d.url, "b"]
    outs, fixes = set(), set()
    for run in range(4):
        fix = tmp_path / ("fix%d.sql" % run)
        for extra in ([], ["--fix-sql", str(fix)]):
            r = golive("diff", *args, "--json", "--jobs", "4", *extra, env=env)
            assert r.rc == 1, r
            lines = [json.loads(l) for l in r.out.splitlines()][:-1]
            keys = [tuple(x["key"].values()) for x in lines]
            assert len(keys) > 150
            if extra or pair != ("sqlite", "sqlite"):
                # the streaming merge: in key order across the segments
                assert keys == sorted(keys), keys[:5]
            # the summary's seconds vary; the differences do not
            outs.add((bool(extra), "\n".join(r.out.splitlines()[:-1])))
        fixes.add(fix.read_text())
    assert len(outs) == 2, "the output differs from run to run"
    assert len(fixes) == 1, "the fix SQL differs from run to run"
