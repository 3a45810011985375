#!/bin/sh
# Benchmark golive diff on a 1,000,000-row table pair with 100 planted
# differences: SQLite<->SQLite against sqldiff (sqlite3-tools), with
# --jobs 1 and 2; SQLite<->PostgreSQL and PostgreSQL<->MariaDB against the
# floor of reading both tables.  Medians of interleaved runs.
#   bench/diff.sh [ROWS] [RUNS]          (default 1000000 rows, 5 runs)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
sh "$ROOT/tools/deps.sh" sqlite3-tools postgresql postgresql-client \
    mariadb-server mariadb-client python3
[ -x "$ROOT/build/golive" ] || make -C "$ROOT" build
# the floor: reading both tables with the engines' own C APIs
cc -O2 -o "$ROOT/build/readfloor" "$ROOT/bench/readfloor.c" \
    $(pkg-config --cflags --libs sqlite3 libpq libmariadb)
exec /usr/bin/python3 "$ROOT/bench/diff_bench.py" "$ROOT/build/golive" "${1:-1000000}" "${2:-5}"
