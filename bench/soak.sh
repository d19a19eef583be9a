#!/usr/bin/env bash
# Soak test of the built module (bench/soak.cpp): 2 processes x 8 threads x 60 s on one fresh
# store, every thread looping key-pair generation, signing (verified by OpenSSL), finds, label
# changes and destruction. Prints operations per kind, unexpected CK_RVs and bad signatures per
# process and in total; exits non-zero if any unexpected CK_RV or bad signature was seen.
#
#   bench/soak.sh [--procs N] [--threads N] [--seconds N]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
BUILD_DIR=$BUILD_DIR TARGETS="cng_pkcs11 soak" "$ROOT/scripts/build.sh" >/dev/null

WORK=$(mktemp -d /tmp/cng-soak.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export CNG_PKCS11_USER_DIR=$WORK/user CNG_PKCS11_MACHINE_DIR=$WORK/machine
"$BUILD_DIR/bench/soak" --module "$BUILD_DIR/module/libcng_pkcs11.so" "$@"
