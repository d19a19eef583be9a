# shellcheck shell=bash
# OpenSSL helpers for the interop scripts (source after common.sh): configuration files for
# the libp11 engine and for pkcs11-provider, and a TLS round trip with s_server/s_client.

ENGINE_SO=${ENGINE_SO:-/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so}
PROVIDER_SO=${PROVIDER_SO:-/usr/lib/x86_64-linux-gnu/ossl-modules/pkcs11.so}

# openssl_engine_conf FILE: an openssl.cnf that loads the libp11 engine for $MODULE.
openssl_engine_conf() {
  cat >"$1" <<CNF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE_SO
MODULE_PATH = $MODULE
init = 0
[req]
distinguished_name = dn
[dn]
CNF
}

# openssl_provider_conf FILE: an openssl.cnf with the default provider and pkcs11-provider for
# $MODULE. No no-deinit quirk: the provider finalizes the module from OpenSSL's atexit handler,
# and the module must survive that. PROVIDER_CONF_EXTRA: more lines for the provider section.
openssl_provider_conf() {
  cat >"$1" <<CNF
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
pkcs11 = pkcs11_sect
[default_sect]
activate = 1
[pkcs11_sect]
module = $PROVIDER_SO
pkcs11-module-path = $MODULE
${PROVIDER_CONF_EXTRA:-}
activate = 1
[req]
distinguished_name = dn
[dn]
CNF
}

# s_server_start LOG ARGS...: `openssl s_server ARGS` on a free 127.0.0.1 port (S_PORT) in the
# background (S_PID, killed at exit); tried again on another port if it does not come up.
s_server_start() {
  local log=$1 try i
  shift
  for try in 1 2 3; do
    S_PORT=$(free_port)
    bg_start "$log" openssl s_server "$@" -accept "127.0.0.1:$S_PORT"
    S_PID=$BG_PID
    for ((i = 0; i < 200; i++)); do
      grep -q '^ACCEPT' "$log" && return 0
      kill -0 "$S_PID" 2>/dev/null || break
      sleep 0.1
    done
    bg_stop "$S_PID"
    echo "s_server did not start (try $try):"
    cat "$log"
    grep -qiE 'address already in use|bind' "$log" || return 1 # only a port clash is retried
  done
  return 1
}

# tls_roundtrip TAG CAFILE tls1_2|tls1_3 SIGNATURE-TYPE "CLIENT-OPTIONS" SERVER-OPTIONS...:
# `openssl s_server -www` (with SERVER-OPTIONS: the token key) on a free 127.0.0.1 port, one
# HTTPS request from a software `s_client` that must verify the server certificate against
# CAFILE, negotiate the requested version, see the server sign with SIGNATURE-TYPE (as s_client
# -brief names it: RSA, RSA-PSS, ECDSA) and get the server's page.
tls_roundtrip() {
  local tag=$1 ca=$2 ver=$3 sigtype=$4 copts=$5 port log out sp want
  shift 5
  log=$WORK/s_server_$tag.log
  s_server_start "$log" "$@" -www -naccept 1 || return 1
  port=$S_PORT
  sp=$S_PID
  # shellcheck disable=SC2086 # CLIENT-OPTIONS is a word list
  out=$(printf 'GET / HTTP/1.0\r\n\r\n' | OPENSSL_CONF=/dev/null timeout 30 openssl s_client \
    -connect "127.0.0.1:$port" "-$ver" -CAfile "$ca" -verify_return_error -brief -ign_eof $copts 2>&1)
  bg_stop "$sp"
  echo "$out"
  echo "--- server log:"
  cat "$log"
  want=TLSv1.3
  [ "$ver" = tls1_2 ] && want=TLSv1.2
  echo "$out" | grep -q 'Verification: OK' &&
    echo "$out" | grep -q "Protocol version: $want" &&
    echo "$out" | grep -q "^Signature type: $sigtype\$" &&
    echo "$out" | grep -q 'HTTP/1.0 200 ok'
}

# ---- TLS servers that require a client certificate (for Firefox and NSS clients) -------------
# One `openssl s_server -Verify 1` per client certificate; each server asks for certificates
# issued by its own CA (it sends that CA's name), so a client set to choose automatically picks
# the one certificate that fits.
declare -A SRV_URL SRV_LOG

# server_pki: software CA (server_ca.pem, trusted by the clients) and a 127.0.0.1 certificate.
server_pki() {
  make_ca server_ca "Interop TLS server CA $$" &&
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:false\n' \
      >server.ext &&
    sw_openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key \
      -subj "/CN=127.0.0.1" -out server.csr 2>&1 &&
    sw_openssl x509 -req -in server.csr -CA server_ca.pem -CAkey server_ca.key \
      -CAcreateserial -days 30 -extfile server.ext -out server.pem 2>&1
}

# client_ext FILE: X.509 extensions of a TLS client certificate.
client_ext() {
  printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:false\n' \
    >"$1"
}

# client_auth_server TAG CLIENT_CA: s_server -www on a free port requiring a client certificate
# issued by CLIENT_CA (CLIENT_CA.pem); SRV_URL[TAG], SRV_LOG[TAG]. Killed at exit.
client_auth_server() {
  local tag=$1 ca=$2
  SRV_LOG[$tag]=$WORK/s_server_$tag.log
  s_server_start "${SRV_LOG[$tag]}" -cert server.pem -key server.key -CAfile "$ca.pem" \
    -Verify 1 -verify_return_error -www || return 1
  SRV_URL[$tag]=https://127.0.0.1:$S_PORT/$tag
}

# server_saw_client TAG CN: the server verified a client certificate whose subject has this CN.
server_saw_client() {
  local tag=$1 cn=$2
  echo "--- server log ($tag):"
  grep -E '^(depth|verify|ERROR|ACCEPT)' "${SRV_LOG[$tag]}" | sort -u
  grep -Eq "^depth=0 .*CN ?= ?$cn(,|\$)" "${SRV_LOG[$tag]}" &&
    ! grep -q '^verify error' "${SRV_LOG[$tag]}"
}

# nss_tls_client DB NICKNAME TAG VERSION: NSS's tstclnt connects to server TAG with the client
# certificate NICKNAME (key on the token); the server must report that certificate.
nss_tls_client() {
  local db=$1 nick=$2 tag=$3 ver=$4 port rc
  port=${SRV_URL[$tag]#https://127.0.0.1:}
  port=${port%%/*}
  printf 'GET /%s HTTP/1.0\r\n\r\n' "$tag" >"$WORK/tstclnt_$tag.req"
  # -A: send the request file, print the answer, exit (reading stdin instead never ends)
  timeout 30 tstclnt -h 127.0.0.1 -p "$port" -d "$db" -n "$nick" -V "$ver:$ver" -4 \
    -A "$WORK/tstclnt_$tag.req" </dev/null >"$WORK/tstclnt_$tag.out" 2>&1
  rc=$?
  cat "$WORK/tstclnt_$tag.out"
  # s_server's page shows the certificate the client presented
  [ $rc = 0 ] && grep -q '^Client certificate' "$WORK/tstclnt_$tag.out"
}
