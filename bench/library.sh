#!/usr/bin/env bash
# Music library benchmarks: prints figures, asserts nothing.
#   bash bench/library.sh [BUILD-DIR]
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$top/build}
export MT_BUILD_DIR=$build MT_SOURCE_DIR=$top MT_DATA_DIR=$top/data
bench=$build/bench/bench-library
[ -x "$bench" ] || { echo "Build first: ninja -C $build" >&2; exit 1; }
echo "== import throughput (Debian tracks linked 2000 times)"
"$bench" import 2000
echo "== no-change rescan of 10,000 files"
"$bench" rescan 10000
echo "== recommendation latency, 100,000 songs"
"$bench" recommend 100000
