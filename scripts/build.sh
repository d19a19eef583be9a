#!/bin/sh
# Configures and builds into ${BUILD_DIR:-build}. Extra arguments go to cmake's configure step.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
cmake -S "$ROOT" -B "$BUILD_DIR" "$@" >/dev/null
cmake --build "$BUILD_DIR" -j"${JOBS:-2}"
