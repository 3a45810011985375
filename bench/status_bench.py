"""golive status and report on large runs: see bench/status.sh."""
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

golive, runs, sizes = sys.argv[1], int(sys.argv[2]), [int(x) for x in sys.argv[3:]]
NOW0 = "2026-03-13T18:00:00+08:00"   # T-6h: the run starts
NOW = "2026-03-13T20:00:00+08:00"    # T-4h: status and report are asked
STAGES = ["prepare", "sync", "release", "verify", "hypercare"]


def plan_text(n):
    """n tasks; task i depends on 1 to 5 of the 50 before it (a random,
    seeded choice); the first ones start at T-6h; the last 5% are
    hypercare; one in the verify stage decides go."""
    rng = random.Random(n)
    lines = ["cutover: bench", "switch_at: 2026-03-14T00:00:00+08:00",
             "people:", "  - {id: lead, roles: [lead]}",
             "  - {id: ann, roles: [data]}", "  - {id: bob, roles: [ops]}",
             "tasks:"]
    decider = n * 90 // 100
    for i in range(n):
        stage = STAGES[min(3, i * 4 // n)] if i < n * 95 // 100 else STAGES[4]
        pool = list(range(max(0, i - 50), i))
        deps = sorted(rng.sample(pool, min(len(pool), rng.randint(1, 5))))
        owner, checker = ("ann", "bob") if i % 2 else ("bob", "ann")
        extra = (", depends_on: [%s]" % ", ".join("t%d" % d for d in deps)
                 if deps else ", at: T-6h")
        if i == decider:
            stage, extra = "verify", extra + ", decides: go"
        lines.append("  - {id: t%d, title: Task %d, stage: %s, owner: %s,"
                     " checker: %s%s, duration: %dm}"
                     % (i, i, stage, owner, checker, extra, rng.randint(1, 10)))
    return "\n".join(lines) + "\n"


def run(args, env_now):
    """One command: (wall seconds, CPU seconds, peak RSS KiB)."""
    env = dict(os.environ, GOLIVE_NOW=env_now)
    t = time.perf_counter()
    p = subprocess.Popen([golive] + args, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit("golive %s failed" % " ".join(args))
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def main():
    work = tempfile.mkdtemp(prefix="golive-statusbench-")
    cmds = [("status", ["status"]), ("status --json", ["status", "--json"]),
            ("report (md)", ["report"]),
            ("report --format json", ["report", "--format", "json"])]
    rows = {}
    try:
        for n in sizes:
            d = os.path.join(work, str(n))
            os.mkdir(d)
            plan = os.path.join(d, "plan.yaml")
            with open(plan, "w") as f:
                f.write(plan_text(n))
            state = os.path.join(d, "golive.state")
            start = run(["run", "start", plan, "--state", state, "--as",
                         "lead"], NOW0)
            # some of the night has happened: the first tasks worked
            for i in range(10):
                who, chk = ("ann", "bob") if i % 2 else ("bob", "ann")
                for act, p in (("start", who), ("done", who), ("check", chk)):
                    run(["task", act, "t%d" % i, "--as", p, "--state", state],
                        NOW0)
            val = run(["validate", plan], NOW0)
            print("%6d tasks: plan %.1f MiB; run start %.2f s; validate "
                  "%.0f ms CPU, peak %.0f MiB"
                  % (n, os.path.getsize(plan) / 2**20, start[0],
                     val[1] * 1000, val[2] / 1024), flush=True)
            samples = {name: [] for name, _ in cmds}
            for _ in range(runs):  # interleaved
                for name, args in cmds:
                    samples[name].append(run(args + ["--state", state], NOW))
            rows[n] = {name: (statistics.median(s[0] for s in v),
                              statistics.median(s[1] for s in v),
                              max(s[2] for s in v))
                       for name, v in samples.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print("%-22s %7s %10s %10s %10s %14s" % (
        "command", "tasks", "wall ms", "CPU ms", "peak MiB",
        "CPU ms / 1000"))
    for name, _ in cmds:
        for n in sizes:
            wall, cpu, rss = rows[n][name]
            print("%-22s %7d %10.0f %10.0f %10.0f %14.1f" % (
                name, n, wall * 1000, cpu * 1000, rss / 1024,
                cpu * 1000 / (n / 1000)))
    if len(sizes) > 1:
        a, b = sizes[-2], sizes[-1]
        print()
        for name, _ in cmds:
            print("%-22s CPU time x%.2f for x%.1f tasks (%d -> %d)" % (
                name, rows[b][name][1] / rows[a][name][1], b / a, a, b))
    if 10000 in rows:
        cpu = rows[10000]["status"][1] * 1000
        print("\nstatus of the 10,000-task run: %.0f ms CPU, %.0f ms wall "
              "(target: under 100 ms)" % (cpu, rows[10000]["status"][0] * 1000))
    print("load average while measuring: %.2f %.2f %.2f" % os.getloadavg())


main()
