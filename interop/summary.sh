#!/usr/bin/env bash
# Prints the interop results table: one row per client with PASS/FAIL/SKIP, wall time and the
# step counts, from the file the interop scripts append to ("client<TAB>result<TAB>seconds
# <TAB>detail", see lib/common.sh).
#   summary.sh RESULTS_FILE
# ctest runs it last (fixture cleanup of the interop tests); scripts/run-tests.sh can call it
# after ctest. Exit status 1 when a client FAILed, else 0.
set -u
RESULTS=${1:?usage: summary.sh RESULTS_FILE}
EXPECTED=(pkcs11-tool openssl-engine openssl-provider nss java firefox cross-client)

echo
echo "=== interop clients ==="
if [ ! -s "$RESULTS" ]; then
  echo "no results in $RESULTS (no interop test ran)"
  exit 0
fi
awk -F '\t' -v expected="${EXPECTED[*]}" '
  BEGIN { printf "%-18s %-6s %9s  %s\n", "client", "result", "seconds", "steps"
          printf "%-18s %-6s %9s  %s\n", "------", "------", "-------", "-----" }
  { order[++n] = $1; result[$1] = $2; secs[$1] = $3; detail[$1] = $4 }
  END {
    for (i = 1; i <= n; i++) {
      c = order[i]
      if (c in shown) continue
      shown[c] = 1
      printf "%-18s %-6s %9.1f  %s\n", c, result[c], secs[c], detail[c]
      total += secs[c]
      count[result[c]]++
    }
    m = split(expected, want, " ")
    for (i = 1; i <= m; i++) if (!(want[i] in shown)) printf "%-18s %-6s %9s  %s\n", want[i], "-", "-", "no result recorded"
    printf "%-18s %-6s %9.1f  %d passed, %d failed, %d skipped\n", "total", "", total,
      count["PASS"], count["FAIL"], count["SKIP"]
  }' "$RESULTS"
if grep -qP '\tSKIP\t' "$RESULTS"; then
  echo "WARNING: skipped clients are not installed; CI installs all of them (scripts/install-deps.sh)"
fi
! grep -qP '\tFAIL\t' "$RESULTS"
