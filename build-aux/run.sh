#!/usr/bin/env bash
# Quick start: installs what is needed, builds Moodtunes and starts the app.
#   bash build-aux/run.sh [APP OPTIONS…]        e.g. --camera=test, --camera=FILE
#   bash build-aux/run.sh --analyze PATH…       the command-line analyzer instead
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
workdir=$PWD   # relative paths on the command line are the caller's
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
  # meson devenv points the build tree's programs at the tree's models and
  # data (an installed program reads its prefix instead).
  exec meson devenv -C "$top/build" -w "$workdir" moodtunes-analyze "$@"
fi

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display: start this from a desktop session (or try: bash build-aux/run.sh --analyze PHOTO)" >&2
  exit 1
fi
# No camera on this machine: start with the demo (the shared face clip when
# it is beside the project, else the demo picture every install has).
clip="$top/../shared/media/short_hamilton_clip.mp4"
if [ "$#" -eq 0 ] && ! ls /dev/video* >/dev/null 2>&1; then
  if [ -f "$clip" ]; then set -- --camera="$clip"; else set -- --camera=demo; fi
fi
# meson devenv runs the build tree with its own schema, models, data and
# helper (see meson.build); `meson install` gives the same app system-wide.
exec meson devenv -C "$top/build" -w "$workdir" moodtunes "$@"
