#!/bin/sh
# Configures and builds into ${BUILD_DIR:-build}. Extra arguments go to cmake's configure step.
# TARGETS="a b" builds only those targets (default: everything).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
cmake -S "$ROOT" -B "$BUILD_DIR" "$@" >/dev/null
if [ -n "${TARGETS:-}" ]; then
  # shellcheck disable=SC2086
  cmake --build "$BUILD_DIR" -j"${JOBS:-2}" --target $TARGETS
else
  cmake --build "$BUILD_DIR" -j"${JOBS:-2}"
fi
