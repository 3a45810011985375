#!/bin/sh
# Benchmark golive serve on the demo's run (a demo-sized plan, its night
# played): 200 connections reading GET /api/v1/status with wrk for 20 s
# while 8 writers each post a change (POST /duty) every 100 ms and 200
# event streams (GET /api/v1/events/stream) stay open.  Prints status
# reads per second, their p50 / p99 latency, the event delivery latency
# (a writer's post -> the event seen on a stream) and the server's peak
# RSS (VmHWM).  Targets on 2 cores: >= 5,000 reads/s, p99 < 50 ms, event
# delivery p99 < 1 s, RSS < 64 MiB.  Prints figures; asserts nothing.
#   bench/serve.sh [SECONDS] [CONNECTIONS] [STREAMS] [WRITERS]
#                  (default 20 200 200 8)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
sh "$ROOT/tools/deps.sh" python3 wrk
[ -x "$ROOT/build/golive" ] || make -C "$ROOT" build
# 200 streams + 200 readers + the writers: more descriptors than 1024
ulimit -n 4096 2>/dev/null || true
exec /usr/bin/python3 "$ROOT/bench/serve_bench.py" "$ROOT/build/golive" \
    "${1:-20}" "${2:-200}" "${3:-200}" "${4:-8}"
