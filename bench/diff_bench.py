"""golive diff benchmark: see bench/diff.sh."""
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
work = tempfile.mkdtemp(prefix="golive-diffbench-")
os.chmod(work, 0o755)
a, b = os.path.join(work, "a.db"), os.path.join(work, "b.db")
csv_path = os.path.join(work, "t.csv")

print("generating %d rows and 100 differences..." % rows, flush=True)
for path in (a, b):
    c = sqlite3.connect(path)
    c.executescript("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, "
                    "amount NUMERIC(12,2), name TEXT, at TIMESTAMP);")
    c.executemany("INSERT INTO t VALUES (?,?,?,?,?)", (
        (i, i * 7 % 1000, "%d.%02d" % (i % 10000, i % 100), "name %08d" % i,
         "2026-%02d-%02d 10:00:00" % (i % 12 + 1, i % 28 + 1))
        for i in range(1, rows + 1)))
    c.commit()
    c.close()
c = sqlite3.connect(b)
step = rows // 100
c.executescript("UPDATE t SET name = name || 'x' WHERE id %% %d = 0 AND id %% 2 = 0;"
                "DELETE FROM t WHERE id %% %d = 0 AND id %% 2 = 1;" % (step, step))
c.commit()
c.close()
c = sqlite3.connect(a)
with open(csv_path, "w") as f:
    for r in c.execute("SELECT * FROM t"):
        f.write(",".join(str(x) for x in r) + "\n")
c.close()

pg = servers.Postgres()
my = servers.MariaDB()
env = dict(os.environ, **my.env())
DDL = "CREATE TABLE t (id int PRIMARY KEY, a int, amount numeric(12,2), name varchar(40), at timestamp)"
pga = pg.create_db("a")
pg.psql(DDL, db="a")
pg.psql("\\copy t FROM '%s' WITH (FORMAT csv)" % csv_path, db="a")
pg.psql("ANALYZE t", db="a")
myb = my.create_db("b")
my.sql(DDL.replace("timestamp", "datetime"), db="b")
subprocess.run(["mariadb", "--no-defaults", "-S", my.sock, "-u", "root", "-D", "b",
                "--local-infile=1", "-e",
                "LOAD DATA LOCAL INFILE '%s' INTO TABLE t FIELDS TERMINATED BY ','"
                % csv_path], check=True)
my.sql("UPDATE t SET name = CONCAT(name, 'x') WHERE id %% %d = 0 AND id %% 2 = 0;"
       "DELETE FROM t WHERE id %% %d = 0 AND id %% 2 = 1" % (step, step), db="b")


def timed(argv, ok=(0, 1)):
    code = ("import resource, subprocess, sys, time;"
            "t = time.time();"
            "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL,"
            " stderr=subprocess.PIPE);"
            "e = time.time() - t;"
            "print(r.returncode, e,"
            " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code] + argv, env=env,
                         capture_output=True, text=True)
    rc, secs, rss = out.stdout.split()
    assert int(rc) in ok, (argv, out.stderr)
    return float(secs), int(rss)


la, lb = "sqlite:" + a, "sqlite:" + b
floor = os.path.join(os.path.dirname(golive), "readfloor")
pg_conninfo = "host=127.0.0.1 port=%d user=golive dbname=a" % pg.port
my_read = "%s mysql 127.0.0.1 %d golive b 'SELECT * FROM t'" % (floor, my.port)
cases = {
    "sqlite<->sqlite golive --jobs 1": [golive, "diff", la, "t", lb, "t", "--json", "--jobs", "1"],
    "sqlite<->sqlite golive --jobs 2": [golive, "diff", la, "t", lb, "t", "--json", "--jobs", "2"],
    "sqlite<->sqlite sqldiff": ["sqldiff", "--table", "t", a, b],
    "sqlite<->postgres golive --jobs 2": [golive, "diff", lb, "t", pga, "t", "--json", "--jobs", "2"],
    "sqlite<->postgres floor (read both)": ["sh", "-c",
        "%s sqlite %s 'SELECT * FROM t' >/dev/null & %s pg '%s' t >/dev/null & wait"
        % (floor, b, floor, pg_conninfo)],
    "postgres<->mariadb golive --jobs 2": [golive, "diff", pga, "t", myb, "t", "--json", "--jobs", "2"],
    "postgres<->mariadb floor (read both)": ["sh", "-c",
        "%s pg '%s' t >/dev/null & %s >/dev/null & wait"
        % (floor, pg_conninfo, my_read)],
}
try:
    res = {k: [] for k in cases}
    for i in range(runs):
        for k, argv in cases.items():
            res[k].append(timed(argv))
        print("run %d: %s" % (i + 1, ", ".join("%s %.2fs" % (k, v[-1][0])
                                              for k, v in res.items())), flush=True)
    med = {k: statistics.median(s for s, _ in v) for k, v in res.items()}
    peak = {k: max(r for _, r in v) / 1024 for k, v in res.items()}
    print()
    print("rows: %d, runs: %d (interleaved), medians:" % (rows, runs))
    for k in cases:
        print("  %-38s %7.2f s  peak RSS %6.1f MiB" % (k, med[k], peak[k]))
    print("sqlite<->sqlite: golive --jobs 2 vs sqldiff: %.2fx faster (target >= 1.5x)"
          % (med["sqlite<->sqlite sqldiff"] / med["sqlite<->sqlite golive --jobs 2"]))
    print("--jobs 2 vs --jobs 1: %.2fx faster"
          % (med["sqlite<->sqlite golive --jobs 1"] / med["sqlite<->sqlite golive --jobs 2"]))
    print("sqlite<->postgres: %.2fx the floor (target <= 1.3x)"
          % (med["sqlite<->postgres golive --jobs 2"] / med["sqlite<->postgres floor (read both)"]))
    print("postgres<->mariadb: %.2fx the floor (target <= 1.3x)"
          % (med["postgres<->mariadb golive --jobs 2"] / med["postgres<->mariadb floor (read both)"]))
finally:
    pg.stop()
    my.stop()
    shutil.rmtree(work, ignore_errors=True)
