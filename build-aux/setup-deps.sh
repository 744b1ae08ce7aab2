#!/usr/bin/env bash
# Installs what Moodtunes needs to build, run and test, from Debian's packages
# and the npm registry.  Idempotent: does nothing when all is already there.
#   setup-deps.sh            what the app needs to build and run
#   setup-deps.sh --train    also the training tools' packages (PyTorch)
#   setup-deps.sh --tests    also everything the tests and benchmarks need,
#                            the training tools' packages included
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")

apt_packages=(
  build-essential meson ninja-build pkg-config gettext python3
  darknet
  libglib2.0-dev libjson-glib-dev libgdk-pixbuf-2.0-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  libsqlite3-dev
)
if [ "${1:-}" = "--tests" ]; then
  apt_packages+=(xvfb xauth)
  # Node runs the reference models; a machine that already has a node and npm
  # (from any source) keeps them, since Debian's npm would conflict with them.
  command -v node >/dev/null 2>&1 || apt_packages+=(nodejs)
  command -v npm >/dev/null 2>&1 || apt_packages+=(npm)
fi
# Extra packages added by components live in build-aux/apt-*.txt, one per
# line; a line marked "[tests]" is needed only by the tests and benchmarks,
# one marked "[train]" only by the training tools (src/train) and their tests.
for list in "$here"/apt-*.txt; do
  [ -e "$list" ] || continue
  while read -r pkg marker _; do
    case "$pkg" in ''|'#'*) continue ;; esac
    if [ "$marker" = "[tests]" ] && [ "${1:-}" != "--tests" ]; then
      continue
    fi
    if [ "$marker" = "[train]" ] && [ "${1:-}" != "--tests" ] && [ "${1:-}" != "--train" ]; then
      continue
    fi
    apt_packages+=("$pkg")
  done <"$list"
done

missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The reference checks run the original TensorFlow.js models in Node.
if [ "${1:-}" = "--tests" ] && [ -f "$top/tests/reference/package.json" ]; then
  if [ ! -d "$top/tests/reference/node_modules" ] || \
     [ "$top/tests/reference/package-lock.json" -nt "$top/tests/reference/node_modules" ]; then
    echo "Installing the reference models' npm packages"
    (cd "$top/tests/reference" && npm ci --no-audit --no-fund --loglevel=error && touch node_modules)
  fi
fi

# The server's browser and API checks: playwright-core (driving Debian's
# chromium, never a downloaded browser) and ajv.
if [ "${1:-}" = "--tests" ] && [ -f "$top/tests/server/package.json" ]; then
  if [ ! -d "$top/tests/server/node_modules" ] || \
     [ "$top/tests/server/package-lock.json" -nt "$top/tests/server/node_modules" ]; then
    echo "Installing the server tests' npm packages"
    (cd "$top/tests/server" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error && touch node_modules)
  fi
fi
