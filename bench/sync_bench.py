"""golive sync vs pgloader vs psql \\copy: see bench/sync.sh."""
import csv
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import servers  # noqa: E402

golive, rows, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
work = tempfile.mkdtemp(prefix="golive-bench-")
os.chmod(work, 0o755)
src = os.path.join(work, "src.db")
csv_path = os.path.join(work, "src.csv")

print("generating %d rows..." % rows, flush=True)
db = sqlite3.connect(src)
db.executescript("""
CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b INTEGER,
  amount NUMERIC(12,2), name TEXT NOT NULL, note TEXT, at TIMESTAMP,
  ok BOOLEAN);
""")
db.executemany("INSERT INTO t VALUES (?,?,?,?,?,?,?,?)", (
    (i, i * 7 % 100000, None if i % 10 == 0 else i % 977,
     "%d.%02d" % (i % 100000, i % 100), "name %08d" % i,
     "note for row %d, with some, commas" % i if i % 3 else None,
     "2026-%02d-%02d %02d:%02d:%02d" % (i % 12 + 1, i % 28 + 1, i % 24,
                                        i % 60, (i * 7) % 60),
     i % 2) for i in range(1, rows + 1)))
db.commit()
with open(csv_path, "w", newline="") as f:
    w = csv.writer(f)
    for r in db.execute("SELECT * FROM t ORDER BY id"):
        w.writerow(["" if v is None else v for v in r])
db.close()
os.chmod(src, 0o644)
os.chmod(csv_path, 0o644)

pg = servers.Postgres()
DDL = ("CREATE TABLE t (id bigint PRIMARY KEY, a integer NOT NULL, b integer,"
       " amount numeric(12,2), name text NOT NULL, note text, at timestamp,"
       " ok boolean)")


def timed(argv, env=None):
    """Wall seconds and peak RSS (KiB) of one command, in a fresh child."""
    code = ("import resource, subprocess, sys, time;"
            "t = time.time();"
            "r = subprocess.run(sys.argv[1:], capture_output=True);"
            "e = time.time() - t;"
            "sys.stderr.write(r.stderr.decode()[-2000:]) if r.returncode else 0;"
            "print(r.returncode, e,"
            " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code] + argv, env=env,
                         capture_output=True, text=True)
    rc, secs, rss = out.stdout.split()
    if rc != "0":
        raise SystemExit("%s failed: %s" % (argv[0], out.stderr))
    return float(secs), int(rss)


def golive_run():
    url = pg.create_db("bench_golive")
    pg.psql(DDL, db="bench_golive")
    plan = os.path.join(work, "plan.yaml")
    with open(plan, "w") as f:
        f.write("""cutover: bench
switch_at: 2026-03-14T00:00:00Z
people: [{id: a, roles: [lead]}, {id: b, roles: [data]}]
systems: {old: "sqlite:%s", new: "%s"}
sync:
  - {id: t, from: old.t, to: new.t, key: [id], batch_size: 20000, owner: a, checker: b}
""" % (src, url))
    return timed([golive, "sync", plan])


def pgloader_run():
    url = pg.create_db("bench_pgloader")
    pg.psql(DDL, db="bench_pgloader")
    load = os.path.join(work, "load.pgl")
    with open(load, "w") as f:
        f.write("LOAD DATABASE FROM sqlite://%s INTO %s\n"
                " WITH data only, truncate, reset no sequences;\n" % (src, url))
    return timed(["pgloader", "--quiet", load])


def copy_run():
    pg.create_db("bench_copy")
    pg.psql(DDL, db="bench_copy")
    return timed(["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(pg.port),
                  "-U", pg.user, "-d", "bench_copy", "-c",
                  "\\copy t FROM '%s' WITH (FORMAT csv)" % csv_path])


def count(dbname):
    return int(pg.psql("SELECT count(*) FROM t", db=dbname).strip())


try:
    results = {"golive": [], "pgloader": [], "copy": []}
    fns = {"golive": golive_run, "pgloader": pgloader_run, "copy": copy_run}
    for i in range(runs):
        for name in ("golive", "pgloader", "copy"):  # interleaved
            secs, rss = fns[name]()
            results[name].append((secs, rss))
            print("run %d %-9s %7.2f s  %7.1f MiB" % (i + 1, name, secs,
                                                        rss / 1024), flush=True)
    for dbname in ("bench_golive", "bench_pgloader", "bench_copy"):
        n = count(dbname)
        assert n == rows, "%s holds %d rows, not %d" % (dbname, n, rows)
    med = {k: statistics.median(s for s, _ in v) for k, v in results.items()}
    peak = {k: max(r for _, r in v) / 1024 for k, v in results.items()}
    print()
    print("rows: %d, runs: %d (interleaved), medians:" % (rows, runs))
    for k in ("golive", "pgloader", "copy"):
        print("  %-9s %7.2f s  %9.0f rows/s  peak RSS %6.1f MiB" %
              (k, med[k], rows / med[k], peak[k]))
    print("golive vs pgloader: %.2fx faster (target >= 2x)" %
          (med["pgloader"] / med["golive"]))
    print("golive vs \\copy floor: %.2fx the floor's time (target <= 1.3x)" %
          (med["golive"] / med["copy"]))
    print("golive peak RSS: %.1f MiB (target < 64 MiB)" % peak["golive"])
finally:
    pg.stop()
    shutil.rmtree(work, ignore_errors=True)
