#!/usr/bin/env bash
# Times our networks (stock Darknet and our fast layers, bench-vision, with
# each layer's GFLOP/s against one core's measured peak), OpenCV DNN
# (bench/vision-opencv.py, Debian's python3-opencv, one thread) and
# face-api.js (tfjs, wasm backend) on the same 640x480 frames, and prints how
# they compare, each pair the same work, in the same run.  Prints figures
# only: nothing here passes or fails on speed.
#
#   bash bench/vision.sh [RUNS]
#
# Builds bench-vision in build-bench/ (a release build) when needed; OpenCV
# (build-aux/apt-bench.txt) and face-api.js (tests/reference) are installed
# by bash build-aux/setup-deps.sh --tests.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${1:-30}
build=${MT_BENCH_BUILDDIR:-$top/build-bench}

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$top" --buildtype=release
fi
ninja -C "$build" bench/bench-vision bench/bench-fma-peak

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export MT_SHARED_DIR=${MT_SHARED_DIR:-$top/../shared}
export MT_MODELS_DIR=${MT_MODELS_DIR:-$top/models}
"$build/bench/bench-vision" --runs "$runs" --frames-dir "$work/frames" --summary "$work/ours.txt"

# ours.txt: "key stock_ms fast_ms"; opencv.txt and faceapi.txt: "opencv key ms",
# "faceapi key ms".  Every pair below is the same work on the same frames.
echo
if /usr/bin/python3 "$top/bench/vision-opencv.py" "$work/frames" "$runs" "$MT_MODELS_DIR" >"$work/opencv.log"; then
  cat "$work/opencv.log"
  grep '^opencv ' "$work/opencv.log" >"$work/opencv.txt" || true
  echo
  echo "OpenCV DNN (one thread) against our fast layers, same run (wall-clock medians, ms):"
  printf "  %-44s %10s %12s   %s\n" "" "OpenCV DNN" "fast layers" "ours vs OpenCV"
  awk '
    FNR == NR { fast[$1] = $3; next }
    $1 == "opencv" && $2 == "default-networks" { networks = $3; next }
    $1 == "opencv" { cv[$2] = $3 }
    function row(label, c, f) {
      if (c > 0 && f > 0 && c >= f)
        printf "  %-44s %10.2f %12.2f   %.2fx faster\n", label, c, f, c / f
      else if (c > 0 && f > 0)
        printf "  %-44s %10.2f %12.2f   %.2fx slower\n", label, c, f, f / c
    }
    END {
      row("face-detector 224 (network alone)", cv["detector-224"], fast["detector-224"])
      row("face-detector 320 (network alone)", cv["detector-320"], fast["detector-320"])
      row("face-detector 416 (network alone)", cv["detector-416"], fast["detector-416"])
      row("blazeface-back 192 (network alone)", cv["blazeface-192"], fast["blazeface-192"])
      row("blazeface-back 256 (network alone)", cv["blazeface-256"], fast["blazeface-256"])
      row("face-expression 112 (network alone)", cv["face-expression"], fast["face-expression"])
      row("emotion-xception 64 (network alone)", cv["emotion-xception"], fast["emotion-xception"])
      row("moodtunes-expression 48 (network alone)", cv["moodtunes-expression"], fast["moodtunes-expression"])
      # The networks of the default model (vision-opencv.py reads them from the manifest).
      n = split(networks, names, "+")
      total = cv["blazeface-192"]
      for (i = 1; i <= n; i++)
        total += cv[names[i]]
      row("networks of a frame (BlazeFace 192 + default)", total, fast["networks-frame"])
      row("whole frame, single pass (*)", cv["analyze-single"], fast["analyze-single"])
      row("OpenCV detector pass vs our whole frame (**)", cv["blazeface-192"], fast["analyze-single"])
    }
  ' "$work/ours.txt" "$work/opencv.txt"
  echo "  (*) OpenCV: blobFromImage/cvtColor preprocessing, BlazeFace 192 and the default model's networks"
  echo "      on the known face (no decoding, NMS or fitted head); ours: mt_analyzer_analyze() single"
  echo "      pass with its default model, all of that included."
  echo "  (**) issue 12's target: our whole frame no slower than OpenCV's detector pass alone."
else
  echo "OpenCV DNN is not installed (bash build-aux/setup-deps.sh --tests): no comparison"
fi

echo
if [ ! -d "$top/tests/reference/node_modules/@vladmandic/face-api" ]; then
  echo "face-api.js is not installed (bash build-aux/setup-deps.sh --tests): no comparison"
  exit 0
fi
node "$top/bench/vision-faceapi.mjs" "$work/frames" "$runs" | tee "$work/faceapi.txt"

echo
echo "face-api.js (wasm, one thread) against ours, same run (wall-clock medians, ms):"
printf "  %-44s %12s %14s %12s   %s\n" "" "face-api.js" "stock Darknet" "fast layers" "fast layers vs face-api.js"
awk '
  FNR == NR { stock[$1] = $2; fast[$1] = $3; next }
  $1 == "faceapi" && ($2 in fast) {
    if ($2 == "analyze-tiny-320")
      label = "whole frame, Tiny 320 + face-expression (*)"
    else
      label = $2 " (network alone)"
    if (stock[$2] > 0)
      s = sprintf("%.2f", stock[$2])
    else
      s = "-"
    printf "  %-44s %12.2f %14s %12.2f   %.1fx faster\n", label, $3, s, fast[$2], $3 / fast[$2]
  }
' "$work/ours.txt" "$work/faceapi.txt"
echo "  (*) the whole pipeline on both sides (input conversion, resize, detector, decoding, NMS, crop,"
echo "      expression network): face-api.js detectAllFaces().withFaceExpressions(), ours"
echo "      mt_analyzer_analyze() single pass with the same two networks (Tiny Face Detector at 320,"
echo "      model face-expression)."
