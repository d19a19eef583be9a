#!/bin/sh
# Long fuzzing run of every libFuzzer target (fuzz/README.md): builds them as run-tests.sh does
# (clang, -DCNG_FUZZ=ON, into build-fuzz/), then runs each from its committed seeds plus the
# corpus earlier long runs left in build-fuzz/long-corpus/<target>, until 10 million executions
# or 30 minutes, whichever comes first. Prints executions, exec/s, coverage (edges) and features,
# peak RSS and corpus size per target, and a Markdown table for fuzz/README.md at the end.
# Environment: FUZZ_LONG_SECONDS (default 1800), FUZZ_LONG_RUNS (default 10000000),
# FUZZ_LONG_TARGETS (default: all), NICE (default 10; the niceness the fuzzers run at).
# Exits 1 when a target found a crash (its reproducer is kept in build-fuzz/long-artifacts/).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_EACH=${FUZZ_LONG_SECONDS:-1800}
RUNS=${FUZZ_LONG_RUNS:-10000000}
NICE=${NICE:-10}
TARGETS=${FUZZ_LONG_TARGETS:-"fuzz_key_file fuzz_cert_file fuzz_data_file fuzz_bcrypt_blob fuzz_tpm_blob fuzz_key_blobs fuzz_cipher_key_blob fuzz_abi"}
cd "$ROOT"

# shellcheck disable=SC2086
CC=clang CXX=clang++ BUILD_DIR=$ROOT/build-fuzz TARGETS="$TARGETS" \
  scripts/build.sh -DCNG_FUZZ=ON -DCNG_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCNG_WERROR=ON

artifacts=$ROOT/build-fuzz/long-artifacts
mkdir -p "$artifacts"
table=$(mktemp)
failed=0
printf '| target | executions | exec/s | coverage (edges) | features | corpus files | peak RSS (MB) | result |\n' >"$table"
printf '|---|---|---|---|---|---|---|---|\n' >>"$table"
for name in $TARGETS; do
  corpus=$ROOT/build-fuzz/long-corpus/$name
  mkdir -p "$corpus"
  seeds=fuzz/corpus/${name#fuzz_}
  if [ -d "$seeds" ]; then cp -r "$seeds/." "$corpus/"; fi
  log=$ROOT/build-fuzz/long-$name.log
  echo "-- $name (up to $RUNS executions or ${SECONDS_EACH}s, nice $NICE)"
  result=ok
  # -rss_limit_mb: above libFuzzer's 2 GB default, for ASan's quarantine on long runs.
  if ! nice -n "$NICE" "build-fuzz/fuzz/$name" -runs="$RUNS" -max_total_time="$SECONDS_EACH" \
      -print_final_stats=1 -rss_limit_mb=4096 -artifact_prefix="$artifacts/$name-" \
      "$corpus" >"$log" 2>&1; then
    result="CRASH (see $log)"
    failed=1
    tail -30 "$log"
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | grep ' cov: ' | tail -1)
  cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  files=$(find "$corpus" -type f | wc -l)
  echo "   executions=${execs:-?} exec/s=${rate:-?} coverage=${cov:-?} features=${ft:-?} corpus=$files peak_rss_mb=${rss:-?} $result"
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "$files" "${rss:-?}" "$result" >>"$table"
done
echo
echo "Budget per target: ${RUNS} executions or ${SECONDS_EACH}s, nice $NICE, $(nproc) CPUs, $(date -u +%Y-%m-%d)"
cat "$table"
rm -f "$table"
exit "$failed"
