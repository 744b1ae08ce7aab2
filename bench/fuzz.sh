#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for longer than the test suite
# does (10 minutes each by default), one after the other, and prints per
# target the runs, runs per second and coverage libFuzzer reached.  A finding
# stops that target; the input is kept in BUILD/tests/fuzz/findings/ (fix the
# bug, then add the file to tests/fuzz/corpus/NAME/).  Exit status 1 if any
# target found something.
#   bash bench/fuzz.sh [SECONDS-PER-TARGET] [NAME...]
# Uses build-fuzz (or $MT_FUZZ_BUILDDIR), set up with clang when missing.
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-600}
[ $# -gt 0 ] && shift
build=${MT_FUZZ_BUILDDIR:-$top/build-fuzz}
cd "$top"
if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" -Dfuzzing=true || exit 1
fi
ninja -C "$build" fuzz-targets || exit 1

names=("$@")
[ "${#names[@]}" -gt 0 ] || names=(model-check server-frame ws-meter tag-reply audio-reply json-input)
declare -A dicts=([model-check]=cfg [server-frame]=jpeg [tag-reply]=json [audio-reply]=json [json-input]=json)
status=0
summary=()
for name in "${names[@]}"; do
  dict=${dicts[$name]:-}
  log=$build/tests/fuzz/bench-$name.log
  echo "== fuzz-$name for $seconds s (log: $log)"
  seeds=()   # the shipped models' cfgs seed model-check, as in tests/fuzz/meson.build
  [ "$name" = model-check ] && seeds=(models/face-detector.cfg models/face-expression.cfg
                                      models/emotion-xception.cfg models/expression-head.cfg)
  python3 tests/fuzz/run-fuzzer.py "$build/tests/fuzz/fuzz-$name" "tests/fuzz/corpus/$name" "$seconds" \
    "$build/tests/fuzz/findings" "${dict:+tests/fuzz/$dict.dict}" "${seeds[@]}" >"$log" 2>&1 || status=1
  grep -E "^(FINDING|Reproduce)" "$log"
  summary+=("$(grep -E "^fuzz-$name: " "$log" | tail -n 1)")
done
echo "== summary ($seconds s per target)"
printf '%s\n' "${summary[@]}"
exit $status
