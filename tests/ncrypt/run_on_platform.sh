#!/usr/bin/env bash
# Runs the NCrypt contract suite against the platform (TPM) provider: starts a swtpm TPM 2.0
# simulator on a free loopback port with its state in a temporary directory, points
# CNG_PKCS11_TCTI at it, runs the suite with CNG_TEST_PROVIDER=platform (unless the caller set
# it: CNG_TEST_PROVIDER=software runs the software provider with a TPM answering), and stops
# swtpm by pid.
#   run_on_platform.sh <ncrypt_contract_tests binary> [gtest args...]
# Exit 77 (skipped) only when swtpm is not installed.
set -euo pipefail
binary=$1
shift
command -v swtpm >/dev/null || { echo "SKIP: swtpm not installed" >&2; exit 77; }
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 20); do
  port=$((20000 + RANDOM % 20000))
  if swtpm socket --tpm2 --tpmstate dir="$work" \
      --server type=tcp,port=$port,bindaddr=127.0.0.1 \
      --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
      --flags not-need-init,startup-clear --pid file="$work/swtpm.pid" --daemon 2>/dev/null; then
    pid=$(cat "$work/swtpm.pid")
    break
  fi
done
[ -n "$pid" ] || { echo "could not start swtpm" >&2; exit 1; }
CNG_TEST_PROVIDER=${CNG_TEST_PROVIDER:-platform} CNG_PKCS11_TCTI="swtpm:host=127.0.0.1,port=$port" TSS2_LOG=all+none \
  "$binary" "$@"
