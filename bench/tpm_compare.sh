#!/usr/bin/env bash
# Signing with a TPM key: cng-pkcs11's platform slot "CNG Platform (user)" against tpm2-pkcs11
# and against raw ESAPI, in ONE run on the SAME swtpm TPM 2.0 simulator, with the team's
# p11bench (P11BENCH_DIR, default ../shared/tools/p11bench next to the repository). The
# simulator, dbus, tpm2-abrmd and the tpm2-pkcs11 token "bench" come from p11bench's peers.sh
# (kept in a fresh directory and stopped at exit). swtpm serves one connection at a time and
# abrmd holds it, so our module reaches the same TPM through abrmd too
# (CNG_PKCS11_TCTI=tabrmd:bus_type=session).
# The third column, raw_esys, is the physical limit: bench/esys_sign_bench, Esys_Sign with keys
# loaded once, through the same abrmd. After p11bench's table (ratios to the first column) it
# prints ours / raw_esys per sign figure; the target is at least 0.9.
# Measurement only: never part of the test suite, never a pass/fail on timing.
#
#   bench/tpm_compare.sh [extra p11bench args, e.g. --duration 2]
#   MODULE=path/to/libcng_pkcs11.so           use that build instead of building $BUILD_DIR
#   ESYS_SIGN_BENCH=path/to/esys_sign_bench   likewise for the raw ESAPI program
# Debian packages: swtpm tpm2-tools tpm2-abrmd libtss2-tcti-tabrmd0 libtpm2-pkcs11-1
#   libtpm2-pkcs11-tools dbus softhsm2 (peers.sh sets up SoftHSM too; it is not measured here)
set -euo pipefail
if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,18s/^# \{0,1\}//p' "$0"
  exit 0
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
P11BENCH_DIR=${P11BENCH_DIR:-$ROOT/../shared/tools/p11bench}
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
REPEATS=${REPEATS:-3}
TPM2_PKCS11=${TPM2_PKCS11:-/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so}
[[ -d $P11BENCH_DIR ]] || { echo "bench: p11bench not found at $P11BENCH_DIR" >&2; exit 1; }
[[ -r $TPM2_PKCS11 ]] || { echo "bench: tpm2-pkcs11 not installed ($TPM2_PKCS11)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/cng-tpm-bench.XXXXXX)
PEERS=$WORK/peers
cleanup() {
  "$P11BENCH_DIR/peers.sh" down "$PEERS" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
cp -r "$P11BENCH_DIR/." "$WORK/p11bench"
make -s -C "$WORK/p11bench" >/dev/null

targets=()
[[ -n ${MODULE:-} ]] || targets+=(cng_pkcs11)
[[ -n ${ESYS_SIGN_BENCH:-} ]] || targets+=(esys_sign_bench)
if ((${#targets[@]} > 0)); then
  BUILD_DIR=$BUILD_DIR TARGETS="${targets[*]}" "$ROOT/scripts/build.sh" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
MODULE=${MODULE:-$BUILD_DIR/module/libcng_pkcs11.so}
ESYS_SIGN_BENCH=${ESYS_SIGN_BENCH:-$BUILD_DIR/bench/esys_sign_bench}

# p11bench's compare.sh runs one binary for every column: this one hands a run whose arguments
# hold --raw-esys to esys_sign_bench (without that argument), every other run to p11bench.
cat >"$WORK/bench-bin" <<EOF
#!/usr/bin/env bash
args=() raw=0
for a in "\$@"; do
  if [[ \$a == --raw-esys ]]; then raw=1; else args+=("\$a"); fi
done
((raw)) && exec "$ESYS_SIGN_BENCH" "\${args[@]}"
exec "$WORK/p11bench/p11bench" "\$@"
EOF
chmod +x "$WORK/bench-bin"

# A free port pair for the simulator (server, ctrl).
TPM_PORT=$(python3 -c 'import socket
for p in range(23000, 24000, 2):
    try:
        a = socket.socket(); a.bind(("127.0.0.1", p)); b = socket.socket(); b.bind(("127.0.0.1", p + 1))
        a.close(); b.close(); print(p); break
    except OSError: pass')
export TPM_PORT
"$P11BENCH_DIR/peers.sh" up "$PEERS" >&2
eval "$("$P11BENCH_DIR/peers.sh" env "$PEERS")"
export CNG_PKCS11_TCTI=tabrmd:bus_type=session
export CNG_PKCS11_USER_DIR=$WORK/cng-user CNG_PKCS11_MACHINE_DIR=$WORK/cng-machine

P11BENCH=$WORK/bench-bin "$WORK/p11bench/compare.sh" -r "$REPEATS" -o "$WORK/out" \
  -a "--quiet --only sign $*" \
  cng_tpm="--token 'CNG Platform (user)' --pin 1234 $MODULE" \
  tpm2_pkcs11="--token bench --pin 1234 $TPM2_PKCS11" \
  raw_esys="--raw-esys" 2> >(grep -v '^raw outputs:' >&2) | tee "$WORK/table.md"

# Ours against the physical limit: the first column over the third, per sign figure.
echo
echo "cng_tpm / raw_esys (target >= 0.9):"
awk -F'|' '$2 ~ /_sign_ops_per_s/ && $3 + 0 > 0 && $5 + 0 > 0 {
  name = $2; gsub(/ /, "", name); r = $3 / $5
  printf "- %s: %.2f%s\n", name, r, (r >= 0.9 ? "" : "  (below 0.9)")
}' "$WORK/table.md"
