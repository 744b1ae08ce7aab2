#!/usr/bin/env bash
# Quick start: installs what is needed, builds Moodtunes and starts the app.
#   bash build-aux/run.sh [APP OPTIONS…]        e.g. --camera=test, --camera=FILE
#   bash build-aux/run.sh --analyze PATH…       the command-line analyzer instead
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$top/build-aux/setup-deps.sh"
cd "$top"
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

if [ "${1:-}" = "--analyze" ]; then
  shift
  if [ "$#" -eq 0 ]; then
    sample="$top/../shared/media/astronaut.png"
    [ -f "$sample" ] || sample=/usr/share/darknet/data/person.jpg
    set -- "$sample"
  fi
  exec "$top/build/src/cli/moodtunes-analyze" "$@"
fi

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display: start this from a desktop session (or try: bash build-aux/run.sh --analyze PHOTO)" >&2
  exit 1
fi
# Run from the build tree: the settings schema is compiled into build/data.
export GSETTINGS_SCHEMA_DIR="$top/build/data${GSETTINGS_SCHEMA_DIR:+:$GSETTINGS_SCHEMA_DIR}"
# No camera on this machine: start with the demo clip (the app offers it too).
clip="$top/../shared/media/short_hamilton_clip.mp4"
if [ "$#" -eq 0 ] && ! ls /dev/video* >/dev/null 2>&1 && [ -f "$clip" ]; then
  set -- --camera="$clip"
fi
exec "$top/build/src/app/moodtunes" "$@"
