#!/usr/bin/env bash
# Times our networks (stock Darknet and our fast layers, bench-vision) and
# face-api.js (tfjs, wasm backend) on the same 640x480 frames, and prints how
# they compare.  Prints figures only: nothing here passes or fails on speed.
#
#   bash bench/vision.sh [RUNS]
#
# Builds bench-vision in build-bench/ (a release build) when needed;
# face-api.js comes from tests/reference (bash build-aux/setup-deps.sh --tests).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${1:-30}
build=${MT_BENCH_BUILDDIR:-$top/build-bench}

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$top" --buildtype=release
fi
ninja -C "$build" bench/bench-vision

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export MT_SHARED_DIR=${MT_SHARED_DIR:-$top/../shared}
export MT_MODELS_DIR=${MT_MODELS_DIR:-$top/models}
"$build/bench/bench-vision" --runs "$runs" --frames-dir "$work/frames" --summary "$work/ours.txt"

echo
if [ ! -d "$top/tests/reference/node_modules/@vladmandic/face-api" ]; then
  echo "face-api.js is not installed (bash build-aux/setup-deps.sh --tests): no comparison"
  exit 0
fi
node "$top/bench/vision-faceapi.mjs" "$work/frames" "$runs" | tee "$work/faceapi.txt"

# ours.txt: "key stock_ms fast_ms"; faceapi.txt: "faceapi key ms".
echo
echo "face-api.js (wasm) against ours (wall-clock medians, ms):"
printf "  %-16s %12s %14s %12s   %s\n" "" "face-api.js" "stock Darknet" "fast layers" "fast layers vs face-api.js"
awk '
  FNR == NR { stock[$1] = $2; fast[$1] = $3; next }
  $1 == "faceapi" && ($2 in fast) {
    printf "  %-16s %12.2f %14.2f %12.2f   %.1fx faster\n", $2, $3, stock[$2], fast[$2], $3 / fast[$2]
  }
' "$work/ours.txt" "$work/faceapi.txt"
echo "  (analyze: face-api.js detects at 416 and runs its expression net; ours is"
echo "   mt_analyzer_analyze with its default expression model, see above)"
