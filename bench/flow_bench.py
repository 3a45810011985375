"""golive flow vs the GROUP BY floor: see bench/flow.sh."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import servers  # noqa: E402

golive, rows, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
work = tempfile.mkdtemp(prefix="golive-flowbench-")
pg = servers.Postgres()
try:
    url = pg.create_db("flow")
    print("generating %d records..." % rows, flush=True)
    pg.psql("""
CREATE TABLE req (id int PRIMARY KEY, status text NOT NULL, reason text,
  amount numeric(12,2), approver int);
INSERT INTO req SELECT i,
  (ARRAY['draft','submitted','approved','paid','rejected','on_hold',
         'withdrawn','legacy'])[1 + i %% 8],
  CASE WHEN i %% 3 = 0 THEN NULL ELSE 'reason ' || i END,
  i %% 10000, CASE WHEN i %% 5 = 0 THEN NULL ELSE i %% 100 END
FROM generate_series(1, %d) i;
ANALYZE req;""" % rows, db="flow")
    plan = os.path.join(work, "plan.yaml")
    with open(plan, "w") as f:
        f.write("""cutover: flow-bench
switch_at: 2026-03-14T00:00:00Z
people: [{id: a, roles: [lead]}, {id: b, roles: [data]}]
systems: {new: "%s"}
workflows:
  w:
    table: new.req
    key: [id]
    state_column: status
    states:
      - {name: draft, editable: true}
      - {name: submitted, requires: [amount]}
      - {name: approved, requires: [approver]}
      - paid
      - {name: rejected, rejection: true, requires: [reason]}
      - on_hold
      - withdrawn
    initial: draft
    terminal: [paid, withdrawn]
    transitions:
      - {from: draft, to: submitted, action: submit}
      - {from: submitted, to: approved, action: approve, requires: [approver]}
      - {from: approved, to: paid, action: pay}
      - {from: submitted, to: rejected, action: reject}
      - {from: rejected, to: draft, action: revise}
      - {from: [draft, submitted], to: withdrawn, action: withdraw}
""" % url)

    def t_golive():
        t = time.time()
        r = subprocess.run([golive, "flow", plan, "--json"], capture_output=True)
        assert r.returncode == 1, r.stderr
        return time.time() - t

    def t_floor():
        t = time.time()
        pg.psql("SELECT status, count(*) FROM req GROUP BY status", db="flow")
        return time.time() - t

    res = {"flow": [], "group by": []}
    for i in range(runs):
        res["flow"].append(t_golive())
        res["group by"].append(t_floor())
        print("run %d  golive flow %.3f s  GROUP BY %.3f s" %
              (i + 1, res["flow"][-1], res["group by"][-1]), flush=True)
    med = {k: statistics.median(v) for k, v in res.items()}
    print()
    print("records: %d, runs: %d (interleaved), medians:" % (rows, runs))
    print("  golive flow          %.3f s" % med["flow"])
    print("  SELECT ... GROUP BY  %.3f s" % med["group by"])
    print("golive flow / GROUP BY: %.2fx (target <= 3x)" %
          (med["flow"] / med["group by"]))
finally:
    pg.stop()
