#!/bin/sh
# Configures and builds into ${BUILD_DIR:-build}. Extra arguments go to cmake's configure step.
# TARGETS="a b" builds only those targets (default: everything).
# Developer and CI builds treat warnings as errors: -DCNG_WERROR=ON unless CNG_WERROR=OFF is in
# the environment (CMake's own default is OFF outside a Debug git checkout).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
cmake -S "$ROOT" -B "$BUILD_DIR" -DCNG_WERROR="${CNG_WERROR:-ON}" "$@" >/dev/null
if [ -n "${TARGETS:-}" ]; then
  # shellcheck disable=SC2086
  cmake --build "$BUILD_DIR" -j"${JOBS:-2}" --target $TARGETS
else
  cmake --build "$BUILD_DIR" -j"${JOBS:-2}"
fi
