#!/usr/bin/env bash
# Installs what the tests need, builds Moodtunes and runs every test.
# Ends with "N passed, N failed[, N skipped]" from meson's test log.
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
python3 "$top/build-aux/test-summary.py" "$builddir/meson-logs/testlog.json"
summary=$?
[ "$status" -eq 0 ] && [ "$summary" -eq 0 ]
