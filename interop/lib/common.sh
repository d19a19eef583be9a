# shellcheck shell=bash
# Shared helpers for the interop scripts. Source it, then call interop_init:
#
#   . "$(dirname "$0")/lib/common.sh"
#   interop_init <client-name> "$@"        # arguments: MODULE [CNGKEY]
#   require_cmd certutil libnss3-tools     # exit 77 (ctest skip) when a client is missing
#   must  "generate keys" gen_keys         # a step the rest depends on: stop on failure
#   step  "sign and verify" sign_verify    # an independent step: count, go on
#   interop_finish                         # summary line, results row, exit status
#
# Each script gets a fresh key store: CNG_PKCS11_USER_DIR / CNG_PKCS11_MACHINE_DIR point into a
# new temporary directory ($WORK, also the current directory), removed at exit unless
# KEEP_WORK=1. Background servers started with `bg_start` are killed by pid at exit.
#
# Environment knobs: MODULE, CNGKEY (when not given as arguments), KEEP_WORK=1,
# INTEROP_RESULTS (file that receives "client<TAB>result<TAB>seconds<TAB>detail" rows; set by
# ctest), TOKEN_USER / TOKEN_MACHINE / SLOT_USER (to point the scripts at another module),
# PIN (default empty: our tokens need no login; pkcs11-tool then logs in with it).

TOKEN_USER=${TOKEN_USER:-CNG Software (user)}
TOKEN_MACHINE=${TOKEN_MACHINE:-CNG Software (machine)}
SLOT_USER=${SLOT_USER:-0}
PIN=${PIN:-}
P11_LOGIN=()
[ -n "$PIN" ] && P11_LOGIN=(--login --pin "$PIN")
INTEROP_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
INTEROP_SRC_DIR=$(dirname "$INTEROP_LIB_DIR")

CLIENT=""
WORK=""
PASSED=0
FAILED=0
RESULT_WRITTEN=0
BG_PIDS=()
INTEROP_T0=$(date +%s.%N)

# Appends this script's row to $INTEROP_RESULTS (once).
record_result() {
  local result=$1 detail=$2 secs
  [ "$RESULT_WRITTEN" = 1 ] && return 0
  RESULT_WRITTEN=1
  secs=$(awk -v a="$INTEROP_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  if [ -n "${INTEROP_RESULTS:-}" ]; then
    printf '%s\t%s\t%s\t%s\n' "$CLIENT" "$result" "$secs" "$detail" >>"$INTEROP_RESULTS"
  fi
  echo "== $CLIENT: $result in ${secs}s ($detail)"
}

interop_cleanup() {
  local rc=$? pid
  for pid in "${BG_PIDS[@]}"; do
    # every background job leads its own process group (setsid): end the group, by pid
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$RESULT_WRITTEN" = 0 ]; then
    record_result FAIL "aborted (exit $rc) after $PASSED passed, $FAILED failed"
    rc=1
  fi
  if [ -n "$WORK" ] && [ "${KEEP_WORK:-0}" != 1 ]; then
    cd / && rm -rf "$WORK"
  elif [ -n "$WORK" ]; then
    echo "work directory kept: $WORK"
  fi
  exit "$rc"
}

interop_init() {
  CLIENT=$1
  MODULE=${2:-${MODULE:-}}
  CNGKEY=${3:-${CNGKEY:-}}
  trap interop_cleanup EXIT
  trap 'exit 130' INT TERM
  if [ -z "$MODULE" ] || [ ! -r "$MODULE" ]; then
    echo "FAIL: PKCS#11 module '$MODULE' is not readable (build target cng_pkcs11)"
    exit 1
  fi
  MODULE=$(readlink -f "$MODULE")
  [ -n "$CNGKEY" ] && CNGKEY=$(readlink -f "$CNGKEY")
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/cng-interop-$CLIENT.XXXXXX")
  mkdir -m 700 "$WORK/user" "$WORK/machine"
  export CNG_PKCS11_USER_DIR="$WORK/user" CNG_PKCS11_MACHINE_DIR="$WORK/machine"
  cd "$WORK" || exit 1
  echo "== $CLIENT: module $MODULE, fresh store $WORK"
}

# require_cmd PROGRAM PACKAGE: skip (exit 77) loudly when a client program is not installed.
require_cmd() {
  command -v "$1" >/dev/null 2>&1 && return 0
  skip_client "'$1' is not installed (Debian package $2)"
}

# require_file PATH PACKAGE: the same for a plug-in file (engine, provider).
require_file() {
  [ -e "$1" ] && return 0
  skip_client "'$1' is missing (Debian package $2)"
}

skip_client() {
  local banner="########################################################################"
  printf '%s\n# SKIPPED %s: %s\n# CI installs every client (scripts/install-deps.sh); a skip there is a bug.\n%s\n' \
    "$banner" "$CLIENT" "$*" "$banner" | tee /dev/stderr
  record_result SKIP "$*"
  exit 77
}

# step NAME COMMAND...: run COMMAND (a function or a program) with its output in step.log;
# print PASS or FAIL (with the log). Returns the command's status.
step() {
  local name=$1 rc t0 secs
  shift
  t0=$(date +%s.%N)
  "$@" >"$WORK/step.log" 2>&1
  rc=$?
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  if [ $rc = 0 ]; then
    echo "PASS: $name (${secs}s)"
    PASSED=$((PASSED + 1))
  else
    echo "FAIL: $name (exit $rc, ${secs}s)"
    sed 's/^/    | /' "$WORK/step.log" | tail -n 80
    FAILED=$((FAILED + 1))
  fi
  return $rc
}

# must NAME COMMAND...: a step that later steps depend on; stops the script when it fails.
must() {
  step "$@" && return 0
  echo "(stopping: later steps need '$1')"
  interop_finish
}

# note TEXT...: an informational line in the test output.
note() { echo "     $*"; }

interop_finish() {
  local result=PASS
  [ "$FAILED" -gt 0 ] && result=FAIL
  [ "$PASSED" -eq 0 ] && [ "$FAILED" -eq 0 ] && result=FAIL   # a test that checked nothing
  record_result "$result" "$PASSED passed, $FAILED failed"
  [ "$result" = PASS ] && exit 0
  exit 1
}

# bg_start LOGFILE COMMAND...: start COMMAND in the background in its own process group;
# its pid is in BG_PID and is killed at exit.
bg_start() {
  local log=$1
  shift
  # Emptied here, not by the background job's own redirection: a caller polling the log must
  # never see what an earlier job (say, a previous server on the same log) wrote there.
  : >"$log"
  setsid "$@" >>"$log" 2>&1 </dev/null &
  BG_PID=$!
  BG_PIDS+=("$BG_PID")
}

# bg_stop PID: end a background job (its process group) and reap it.
bg_stop() {
  kill -TERM -- "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# free_port: an unused TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# free_port_pair: a port P on 127.0.0.1 with P and P + 1 both unused (swtpm's two channels).
free_port_pair() {
  python3 -c '
import socket
while True:
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1))
    except (OSError, OverflowError):
        continue
    print(p)
    break'
}

# wait_for_log FILE PATTERN [SECONDS]: wait until FILE contains PATTERN (grep -E).
wait_for_log() {
  local file=$1 pattern=$2 limit=${3:-15} i
  for ((i = 0; i < limit * 10; i++)); do
    grep -qE "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timeout: '$pattern' not in $file after ${limit}s:"
  tail -n 20 "$file" 2>/dev/null
  return 1
}

# uri_enc TEXT: percent-encode TEXT for an RFC 7512 path attribute value.
uri_enc() {
  local s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [A-Za-z0-9._~\(\)-]) out+=$c ;;
      *) out+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$out"
}

# sw_openssl ARGS...: OpenSSL with its built-in default provider only (the second implementation
# that verifies what the token produced).
sw_openssl() { OPENSSL_CONF=/dev/null openssl "$@"; }

# p11tool ARGS...: pkcs11-tool on the user token.
p11tool() { pkcs11-tool --module "$MODULE" --token-label "$TOKEN_USER" "${P11_LOGIN[@]}" "$@"; }

# sha1_hex FILE: lowercase hex SHA-1 of a file's bytes.
sha1_hex() { sha1sum "$1" | cut -c1-40; }

# pubkey_id PEM: the NSS-style CKA_ID of a public key (SHA-1 of RSA modulus / EC point).
pubkey_id() {
  local pem=$1
  if sw_openssl pkey -pubin -in "$pem" -noout -text 2>/dev/null | grep -q '^Modulus'; then
    sw_openssl rsa -pubin -in "$pem" -noout -modulus | cut -d= -f2 | xxd -r -p | sha1sum | cut -c1-40
  else
    # the last 65/97/133 bytes of the SubjectPublicKeyInfo are the uncompressed point
    local der len
    der=$(sw_openssl pkey -pubin -in "$pem" -outform DER | xxd -p | tr -d '\n')
    len=$(sw_openssl pkey -pubin -in "$pem" -noout -text | awk '/ASN1 OID/ { print $3 }')
    case $len in
      prime256v1) len=65 ;; secp384r1) len=97 ;; secp521r1) len=133 ;; *) return 1 ;;
    esac
    printf '%s' "${der: -$((len * 2))}" | xxd -r -p | sha1sum | cut -c1-40
  fi
}

# same_pubkey A.pem B.pem: both files hold the same public key.
same_pubkey() {
  cmp -s <(sw_openssl pkey -pubin -in "$1" -outform DER) <(sw_openssl pkey -pubin -in "$2" -outform DER) || {
    echo "public keys differ: $1 $2"
    return 1
  }
}

# cert_pubkey CERT.pem OUT.pem: the certificate's public key.
cert_pubkey() { sw_openssl x509 -in "$1" -noout -pubkey >"$2"; }

# make_ca NAME CN: a software test CA (NAME.key, NAME.pem).
make_ca() {
  sw_openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
    -out "$1.pem" -subj "/CN=$2" -days 30 -addext "basicConstraints=critical,CA:true" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>&1
}

# issue_cert CA PUB.pem SUBJECT OUT.pem [EXTFILE]: the CA certifies PUB.pem (a key held on the
# token: the CSR is made with a throwaway key and -force_pubkey puts the token key in).
issue_cert() {
  local ca=$1 pub=$2 subj=$3 out=$4 ext=${5:-}
  sw_openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -subj "$subj" -out "$out.csr" 2>&1 &&
    sw_openssl x509 -req -in "$out.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial \
      -force_pubkey "$pub" -days 30 ${ext:+-extfile "$ext"} -out "$out" 2>&1
}
