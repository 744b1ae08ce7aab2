#!/usr/bin/env bash
# Installs what the tests need, builds Moodtunes and runs every test, then
# the fuzz targets in a clang build of their own.
# Ends with "N passed, N failed[, N skipped]" from both builds' test logs.
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$top/build-aux/setup-deps.sh" --tests || exit 1
cd "$top"
builddir=${MT_BUILDDIR:-build-tests}
if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" -Db_sanitize=address,undefined -Db_lundef=false || exit 1
fi
ninja -C "$builddir" || { echo "0 passed, 1 failed"; exit 1; }
rm -f "$builddir/meson-logs/testlog.json"
# Darknet itself leaks on load; our code is checked for leaks under valgrind
# in its own tests, so LeakSanitizer is off here.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
xvfb-run -a meson test -C "$builddir" --print-errorlogs --num-processes 2 "$@"
status=$?
logs=("$builddir/meson-logs/testlog.json")

# The fuzz targets (tests/fuzz) need clang's libFuzzer: a build of their own,
# each target run for about 20 s (suite "fuzz").  Without clang that build
# uses the default compiler and its fuzz tests skip, saying why.  Only when
# no test was named on the command line.
if [ "$#" -eq 0 ]; then
  fuzzdir=${MT_FUZZ_BUILDDIR:-build-fuzz}
  if [ ! -f "$fuzzdir/build.ninja" ]; then
    if command -v clang >/dev/null 2>&1; then
      CC=clang meson setup "$fuzzdir" -Dfuzzing=true >/dev/null
    else
      meson setup "$fuzzdir" -Dfuzzing=true >/dev/null
    fi
  fi
  rm -f "$fuzzdir/meson-logs/testlog.json"
  meson test -C "$fuzzdir" --suite fuzz --print-errorlogs --num-processes 2 || status=1
  logs+=("$fuzzdir/meson-logs/testlog.json")
fi

python3 "$top/build-aux/test-summary.py" "${logs[@]}"
summary=$?
[ "$status" -eq 0 ] && [ "$summary" -eq 0 ]
