#!/bin/sh
# Benchmark golive sync against pgloader and the psql \copy floor on a
# 1,000,000-row SQLite table loaded into PostgreSQL.  Prints the medians of
# interleaved runs, peak memory and the ratios.  Usage:
#   bench/sync.sh [ROWS] [RUNS]          (default 1000000 rows, 5 runs)
# Installs what it needs (pgloader, postgresql) when run as root.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
sh "$ROOT/tools/deps.sh" pgloader postgresql postgresql-client python3
[ -x "$ROOT/build/golive" ] || make -C "$ROOT" build
exec /usr/bin/python3 "$ROOT/bench/sync_bench.py" "$ROOT/build/golive" "${1:-1000000}" "${2:-5}"
