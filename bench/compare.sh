#!/usr/bin/env bash
# Benchmarks cng-pkcs11 side by side with SoftHSMv2 and raw OpenSSL in ONE run, with the
# team's module-agnostic p11bench (P11BENCH_DIR, default ../shared/tools/p11bench next to the
# repository). Prints p11bench's table: every figure as a ratio to the first column (ours).
# Measurement only: never part of the test suite, never a pass/fail on timing.
#
# Two columns for our module, both with keys sealed at rest (AES-256-GCM under the scope's master
# key, the default): "cng" is the user scope, whose master key is a 0600 file; "cng_pin" is the
# machine scope with a scope PIN set, so its master key is wrapped under the PIN's key and the
# run logs in with that PIN. Signing uses the key once it is open, so both should match.
#
#   bench/compare.sh [extra p11bench args, e.g. --duration 2 --only sign,mt,find,cold]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
P11BENCH_DIR=${P11BENCH_DIR:-$ROOT/../shared/tools/p11bench}
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
REPEATS=${REPEATS:-3}
[[ -d $P11BENCH_DIR ]] || { echo "bench: p11bench not found at $P11BENCH_DIR" >&2; exit 1; }

WORK=$(mktemp -d /tmp/cng-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cp -r "$P11BENCH_DIR/." "$WORK/p11bench"
make -s -C "$WORK/p11bench" >/dev/null

# Our module with a fresh store.
BUILD_DIR=$BUILD_DIR "$ROOT/scripts/build.sh" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
export CNG_PKCS11_USER_DIR=$WORK/cng-user CNG_PKCS11_MACHINE_DIR=$WORK/cng-machine

# SoftHSMv2 with a token "bench", user PIN 1234.
mkdir -p "$WORK/softhsm/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
  "$WORK/softhsm/tokens" >"$WORK/softhsm/softhsm2.conf"
export SOFTHSM2_CONF=$WORK/softhsm/softhsm2.conf
# The machine scope gets a PIN: its master key is then wrapped under the PIN's key.
echo 1234 | "$BUILD_DIR/cli/cngkey" pin set --scope machine --pin-file - >/dev/null

softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 5678 >/dev/null

"$WORK/p11bench/compare.sh" -r "$REPEATS" -a "--quiet $*" \
  cng="--token 'CNG Software (user)' --pin 1234 $BUILD_DIR/module/libcng_pkcs11.so" \
  cng_pin="--token 'CNG Software (machine)' --pin 1234 $BUILD_DIR/module/libcng_pkcs11.so" \
  softhsm="--token bench --pin 1234 /usr/lib/softhsm/libsofthsm2.so" \
  openssl="--raw-openssl"
