#!/usr/bin/env bash
# Quick start: installs what is needed, builds Moodtunes and runs it.
# For now the program is the face and mood analyzer: given no arguments it
# analyzes a sample photo.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$top/build-aux/setup-deps.sh"
cd "$top"
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
if [ "$#" -eq 0 ]; then
  sample="$top/../shared/media/astronaut.png"
  [ -f "$sample" ] || sample=/usr/share/darknet/data/person.jpg
  [ -f "$sample" ] || sample=$(ls /usr/share/darknet/data/*.jpg | head -n 1)
  set -- "$sample"
fi
exec "$top/build/src/cli/moodtunes-analyze" "$@"
