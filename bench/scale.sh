#!/usr/bin/env bash
# Scale: cng-pkcs11 beside SoftHSMv2 and raw OpenSSL in ONE run with many keys per token, with
# the team's p11bench (P11BENCH_DIR, default ../shared/tools/p11bench next to the repository).
#
# 1. p11bench --only keygen,find,cold --find-k 100,1000,10000 for our module (slot "CNG
#    Software (user)"), SoftHSMv2 (token "bench", user PIN 1234) and --raw-openssl (key
#    generation only: it has no object store), each module on a fresh store. After its last
#    figure p11bench would destroy its K keys one by one, which takes SoftHSM's file store far
#    longer than the measurement; the store is thrown away anyway, so that step is cut short.
# 2. Peak RSS (getrusage, whole process) with --keys P-256 key pairs (default 10000) on a fresh
#    token, populated by bench/scale_probe: (a) a fresh process that initialises, logs in, finds
#    one private key by label and signs with it; (b) a fresh process that lists every object
#    (empty template) and reads CKA_LABEL of each; both also timed from C_Initialize to
#    C_Finalize. rss_empty is (b) on the empty token: the baseline of process and module.
# It prints one table: every figure per column, and each column's ratio to ours (above 1 is
# better for *_ops_per_s, worse for *_ms, *_us and *_kb).
# Measurement only: never part of the test suite, never a pass/fail on timing.
#
#   bench/scale.sh [--keys N] [--find-k LIST] [extra p11bench args, e.g. --find-n 100]
#   MODULE=path/to/libcng_pkcs11.so   use that build instead of building $BUILD_DIR
#   SCALE_PROBE=path/to/scale_probe    likewise for the probe
#   REPEATS=N                           p11bench runs per column (default 1; the table: medians)
#   SCALE_TMP=DIR                       where the stores live (default /dev/shm, else /tmp)
# The stores are on tmpfs by default: what is measured is the stores' code, not a (shared, noisy)
# disk's fsync; on this machine's disk SoftHSM took 170 ms per key pair, on tmpfs 2 ms.
# Every temporary store is under one mktemp directory, removed at exit.
set -euo pipefail
usage() { sed -n '2,30s/^# \{0,1\}//p' "$0"; }
KEYS=10000 FIND_K=100,1000,10000 extra=()
while (($# > 0)); do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --keys) KEYS=${2:?--keys needs a number}; shift 2 ;;
    --find-k) FIND_K=${2:?--find-k needs a list}; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done
[[ $KEYS =~ ^[1-9][0-9]*$ ]] || { echo "scale.sh: bad --keys '$KEYS'" >&2; usage >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
P11BENCH_DIR=${P11BENCH_DIR:-$ROOT/../shared/tools/p11bench}
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
REPEATS=${REPEATS:-1}
SOFTHSM=${SOFTHSM:-/usr/lib/softhsm/libsofthsm2.so}
[[ -d $P11BENCH_DIR ]] || { echo "scale.sh: p11bench not found at $P11BENCH_DIR" >&2; exit 1; }
[[ -r $SOFTHSM ]] || { echo "scale.sh: SoftHSMv2 not installed ($SOFTHSM)" >&2; exit 1; }

SCALE_TMP=${SCALE_TMP:-/dev/shm}
[[ -d $SCALE_TMP && -w $SCALE_TMP ]] || SCALE_TMP=/tmp
WORK=$(mktemp -d "$SCALE_TMP/cng-scale.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cp -r "$P11BENCH_DIR/." "$WORK/p11bench"
make -s -C "$WORK/p11bench" >/dev/null

targets=()
[[ -n ${MODULE:-} ]] || targets+=(cng_pkcs11)
[[ -n ${SCALE_PROBE:-} ]] || targets+=(scale_probe)
if ((${#targets[@]} > 0)); then
  BUILD_DIR=$BUILD_DIR TARGETS="${targets[*]}" "$ROOT/scripts/build.sh" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
MODULE=${MODULE:-$BUILD_DIR/module/libcng_pkcs11.so}
SCALE_PROBE=${SCALE_PROBE:-$BUILD_DIR/bench/scale_probe}
OURS_TOKEN='CNG Software (user)'

# Fresh stores under $WORK/$1: ours (user and machine scope) and a SoftHSM token "bench".
fresh_stores() {
  export CNG_PKCS11_USER_DIR=$WORK/$1/cng-user CNG_PKCS11_MACHINE_DIR=$WORK/$1/cng-machine
  mkdir -p "$WORK/$1/softhsm/tokens"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$WORK/$1/softhsm/tokens" >"$WORK/$1/softhsm2.conf"
  export SOFTHSM2_CONF=$WORK/$1/softhsm2.conf
  softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 5678 >/dev/null
}

# p11bench's compare.sh runs one binary for every column. This one runs p11bench and stops it
# (SIGKILL) once it printed find_key_create_ms, its last figure, instead of letting it destroy
# the K keys of a store that is thrown away.
cat >"$WORK/bench-bin" <<EOF
#!/usr/bin/env bash
out=\$(mktemp "$WORK/run.XXXXXX")
"$WORK/p11bench/p11bench" "\$@" >"\$out" &
pid=\$! rc=0
while kill -0 "\$pid" 2>/dev/null; do
  if grep -q '^find_key_create_ms=' "\$out"; then
    kill -KILL "\$pid"
    echo "meta.cleanup=skipped (fresh store, discarded)" >>"\$out"
    break
  fi
  sleep 0.5
done
wait "\$pid" || rc=\$?
cat "\$out"
grep -q '^meta.cleanup=skipped' "\$out" && rc=0
exit "\$rc"
EOF
chmod +x "$WORK/bench-bin"

fresh_stores p11bench
P11BENCH=$WORK/bench-bin "$WORK/p11bench/compare.sh" -r "$REPEATS" -o "$WORK/out" \
  -a "--quiet --only keygen,find,cold --find-k $FIND_K --find-n 50 --cold-n 3 --keygen-n 3 \
${extra[*]}" \
  cng="--token '$OURS_TOKEN' --pin 1234 $MODULE" \
  softhsm="--token bench --pin 1234 $SOFTHSM" \
  openssl="--raw-openssl" 2>&1 >"$WORK/table.md" | grep -v '^raw outputs:' >&2 || true

# Peak RSS and time of the probe processes; figures go to $WORK/rss.<module>.txt.
probe() {  # column, figure stem, scale_probe arguments...
  local col=$1 stem=$2
  shift 2
  "$SCALE_PROBE" "$@" >"$WORK/probe.txt"
  awk -F= -v stem="$stem" '$1 == "peak_rss_kb" { print "rss_" stem "_kb=" $2 }
    $1 == "elapsed_ms" { print stem "_process_ms=" $2 }' "$WORK/probe.txt" >>"$WORK/rss.$col.txt"
}
fresh_stores rss
ours=(--module "$MODULE" --token "$OURS_TOKEN" --pin 1234)
hsm=(--module "$SOFTHSM" --token bench --pin 1234)
probe cng empty "${ours[@]}" enumerate
probe softhsm empty "${hsm[@]}" enumerate
echo "== populating both tokens with $KEYS P-256 key pairs (not timed)" >&2
"$SCALE_PROBE" populate --count "$KEYS" --prefix scale- "${ours[@]}" >/dev/null &
pop_ours=$!
"$SCALE_PROBE" populate --count "$KEYS" --prefix scale- "${hsm[@]}" >/dev/null &
pop_hsm=$!
wait "$pop_ours"
wait "$pop_hsm"
label=scale-$((KEYS / 2))
for col in cng softhsm; do
  if [[ $col == cng ]]; then args=("${ours[@]}"); else args=("${hsm[@]}"); fi
  probe "$col" "find_sign_k$KEYS" "${args[@]}" sign-one --label "$label"
  probe "$col" "enumerate_k$KEYS" "${args[@]}" enumerate
done

# The table from compare.sh with the RSS rows after its last row.
awk -v cfile="$WORK/rss.cng.txt" -v sfile="$WORK/rss.softhsm.txt" '
function fmt(v) {
  if (v >= 1000) return sprintf("%.0f", v)
  if (v >= 100) return sprintf("%.1f", v)
  return sprintf("%.2f", v)
}
BEGIN {
  while ((getline line < cfile) > 0) { split(line, kv, "="); order[++n] = kv[1]; c[kv[1]] = kv[2] }
  while ((getline line < sfile) > 0) { split(line, kv, "="); s[kv[1]] = kv[2] }
}
/^\|/ { in_table = 1; print; next }
in_table && !done {
  for (i = 1; i <= n; i++) {
    k = order[i]
    printf "| %s | %s | %s | – | %s | – |\n", k, fmt(c[k]), (k in s) ? fmt(s[k]) : "–",
      (k in s && c[k] > 0) ? sprintf("%.2f", s[k] / c[k]) : "–"
  }
  done = 1
}
{ print }' "$WORK/table.md"
echo "- stores on $(df --output=fstype "$WORK" | tail -1) under $SCALE_TMP; $KEYS key pairs for the rss rows"
