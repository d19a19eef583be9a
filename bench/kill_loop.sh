#!/usr/bin/env bash
# SIGKILL loop against the built module (bench/kill_loop.cpp): a writer process is killed at a
# random moment (0-50 ms) at least 300 times on one fresh store, and a fresh checker process
# loads the store after every kill: every object loads, every private key signs and verifies
# with OpenSSL, no pair is half destroyed unless meant, no temporary or probe file is left.
# Exits non-zero on any problem.
#
#   bench/kill_loop.sh [--kills N] [--check-every N] [--max-delay-ms N]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
BUILD_DIR=$BUILD_DIR TARGETS="cng_pkcs11 kill_loop" "$ROOT/scripts/build.sh" >/dev/null

WORK=$(mktemp -d /tmp/cng-kill-loop.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export CNG_PKCS11_USER_DIR=$WORK/user CNG_PKCS11_MACHINE_DIR=$WORK/machine
"$BUILD_DIR/bench/kill_loop" --module "$BUILD_DIR/module/libcng_pkcs11.so" "$@"
