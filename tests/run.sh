#!/bin/sh
# Run every test against the build in $1: the cmocka unit tests (TAP), then
# the end-to-end pytest suite driving $1/golive.  The last line is the
# total: "N passed, N failed".  Exits non-zero when anything failed or
# nothing ran.
set -u
B=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/$B/test-results
rm -rf "$OUT"
mkdir -p "$OUT"

# A sanitizer report must never pass for an ordinary exit code 1 or 2.
export ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=86:detect_leaks=1:abort_on_error=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/lsan.supp}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:exitcode=87:print_stacktrace=1}

for t in "$ROOT/$B"/test-*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    name=$(basename "$t")
    echo "== unit: $name"
    CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$OUT/$name.tap" 2>"$OUT/$name.err"
    echo $? >"$OUT/$name.rc"
    grep -E "^(not )?ok " "$OUT/$name.tap" | grep -v "^ok " || true
    cat "$OUT/$name.err"
done

echo "== end to end (pytest)"
GOLIVE_BIN="$ROOT/$B/golive" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
    "$ROOT/tests/e2e" --junitxml="$OUT/e2e.xml"
echo $? >"$OUT/e2e.rc"

/usr/bin/python3 "$ROOT/tests/summary.py" "$OUT"
