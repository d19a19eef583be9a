#!/bin/sh
# The whole test suite: a normal build with every test (unit, conformance, interop), the Debian
# packages built from it and tested installed (scripts/package-test.sh, as root), a clang
# MinSizeRel build, then the address+undefined sanitizer build with every test, then the thread
# sanitizer build with the concurrency tests, then each fuzz target for a short run. Every build
# treats warnings as errors. Fails when any test fails.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
cd "$ROOT"

step() { printf '\n=== %s ===\n' "$*"; }

step "build (RelWithDebInfo)"
BUILD_DIR=$ROOT/build scripts/build.sh -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCNG_WERROR=ON
step "tests (RelWithDebInfo)"
status=0
ctest --test-dir build --output-on-failure -j2 --timeout 600 || status=$?
step "interop: pass/fail and wall time per client"
bash interop/summary.sh build/interop/interop-results.tsv || true
[ "$status" = 0 ] || { echo "tests failed" >&2; exit "$status"; }

step "package: build the .debs from the main build, dpkg -i, use, apt-get remove"
if [ "$(id -u)" = 0 ]; then
  BUILD_DIR=$ROOT/build scripts/package-test.sh
else
  echo "package test SKIPPED: it installs with dpkg -i and needs root (CI runs as root)"
fi

step "build (clang, MinSizeRel, distro-style -D_FORTIFY_SOURCE=3, warnings as errors)"
# The caller's _FORTIFY_SOURCE must replace the project's own, not clash with it.
CC=clang CXX=clang++ CFLAGS=-D_FORTIFY_SOURCE=3 CXXFLAGS=-D_FORTIFY_SOURCE=3 \
  BUILD_DIR=$ROOT/build-clang-minsize TARGETS="cng_pkcs11 cngkey cng_ncrypt" \
  scripts/build.sh -DCMAKE_BUILD_TYPE=MinSizeRel -DCNG_WERROR=ON -DCNG_BUILD_TESTS=OFF

step "build (address,undefined sanitizers)"
BUILD_DIR=$ROOT/build-asan scripts/build.sh -DCMAKE_BUILD_TYPE=Debug -DCNG_SANITIZE=address,undefined -DCNG_WERROR=ON
step "tests (address,undefined sanitizers)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2 --timeout 900 -LE interop

step "build (thread sanitizer)"
BUILD_DIR=$ROOT/build-tsan TARGETS="cng_pkcs11 conformance_threads" \
  scripts/build.sh -DCMAKE_BUILD_TYPE=Debug -DCNG_SANITIZE=thread -DCNG_WERROR=ON
step "concurrency tests (thread sanitizer)"
# Only the concurrency executable is built here, so it is run directly (ctest would need every
# test executable of the tree to list the tests).
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 build-tsan/tests/conformance/conformance_threads

step "fuzz targets (clang, libFuzzer, ${FUZZ_SECONDS}s each)"
FUZZ_TARGETS="fuzz_key_file fuzz_cert_file fuzz_data_file fuzz_index_file fuzz_bcrypt_blob fuzz_ecdsa_der fuzz_tpm_blob fuzz_key_blobs fuzz_cipher_key_blob fuzz_abi"
CC=clang CXX=clang++ BUILD_DIR=$ROOT/build-fuzz TARGETS="$FUZZ_TARGETS" \
  scripts/build.sh -DCNG_FUZZ=ON -DCNG_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCNG_WERROR=ON
for name in $FUZZ_TARGETS; do
  f=build-fuzz/fuzz/$name
  corpus=$(mktemp -d)
  seeds=fuzz/corpus/${name#fuzz_}
  if [ -d "$seeds" ]; then cp -r "$seeds/." "$corpus/"; fi
  echo "-- $name"
  log=$(mktemp)
  if ! "$f" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 "$corpus" >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz target $name found a crash" >&2
    exit 1
  fi
  tail -3 "$log"
  rm -rf "$corpus" "$log"
done
step "all tests passed"
