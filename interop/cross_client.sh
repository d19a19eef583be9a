#!/usr/bin/env bash
# Interop test: the same keys through every client, in one store.
#   - "x-p11tool": RSA-2048 generated with pkcs11-tool (CKA_ID 7a01),
#   - "x-cng-ec" and "x-cng-rsa": ECDSA P-256 and RSA-2048 created with cngkey, outside PKCS#11
#     (they appear with CKA_LABEL = key name, CKA_ID = SHA-1 of the EC point / RSA modulus).
# Each gets a certificate from its own software CA, written to the token with its key's CKA_ID
# and label. Then every key signs through pkcs11-tool, the libp11 engine and pkcs11-provider
# (verified by OpenSSL's default provider), is listed by NSS with its certificate and signs a CMS
# TLS client authentication through NSS (tstclnt against `openssl s_server -Verify 1`), is a
# Java key entry that signs (verified by
# the JDK's software providers), and authenticates Firefox to an `openssl s_server -Verify 1`
# (one Firefox run for all three).
#   cross_client.sh MODULE CNGKEY
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/openssl.sh"
. "$(dirname "$0")/lib/firefox.sh"
interop_init cross-client "$@"
require_cmd openssl openssl
require_cmd pkcs11-tool opensc
require_file "$ENGINE_SO" libengine-pkcs11-openssl
require_file "$PROVIDER_SO" "pkcs11-provider (bookworm-backports)"
require_cmd certutil libnss3-tools
require_cmd tstclnt libnss3-tools
require_cmd modutil libnss3-tools
require_cmd keytool openjdk-17-jdk-headless
require_cmd javac openjdk-17-jdk-headless
require_cmd "$FIREFOX" firefox-esr
require_cmd python3 python3
if [ -z "$CNGKEY" ] || [ ! -x "$CNGKEY" ]; then
  echo "FAIL: cngkey '$CNGKEY' is not executable (build target cngkey)"
  exit 1
fi

KEYS=(x-p11tool x-cng-ec x-cng-rsa)
declare -A KEY_ID
TOK=$(uri_enc "$TOKEN_USER")
echo "the same data for every client" >data.txt
sw_openssl dgst -sha256 -binary data.txt >data.sha256
openssl_engine_conf engine.cnf
openssl_provider_conf provider.cnf

# ---- keys and certificates ------------------------------------------------------------------
keygen_p11tool() {
  p11tool --keypairgen --key-type rsa:2048 --id 7a01 --label x-p11tool &&
    p11tool --read-object --type pubkey --id 7a01 -o x-p11tool.der &&
    sw_openssl pkey -pubin -inform DER -in x-p11tool.der -out x-p11tool_pub.pem
}
keygen_cngkey() { # NAME ALGORITHM-ARGS...
  local name=$1
  shift
  "$CNGKEY" create --name "$name" "$@" --scope user &&
    "$CNGKEY" export-public --name "$name" --format pem --out "${name}_pub.pem" &&
    "$CNGKEY" show --name "$name" | tee "$name.show"
}
cngkey_objects() {
  # the cngkey keys appear as PKCS#11 objects: label = name, ID = SHA-1 of the public value
  local name id
  p11tool --list-objects | tee objects.txt || return 1
  for name in x-cng-ec x-cng-rsa; do
    id=$(pubkey_id "${name}_pub.pem") || return 1
    grep -qi "Public key SHA-1: *$id" "$name.show" || { echo "cngkey show: not $id"; return 1; }
    grep -A2 "label: *$name\$" objects.txt | grep -qi "ID: *$id" ||
      { echo "$name: no object with CKA_ID $id"; return 1; }
    p11tool --read-object --type pubkey --id "$id" -o "${name}_token.der" &&
      sw_openssl pkey -pubin -inform DER -in "${name}_token.der" -out "${name}_token.pem" &&
      same_pubkey "${name}_token.pem" "${name}_pub.pem" || return 1
  done
}
certificates() {
  local name
  client_ext client.ext
  for name in "${KEYS[@]}"; do
    make_ca "ca_$name" "Interop cross-client CA $name $$" >/dev/null &&
      issue_cert "ca_$name" "${name}_pub.pem" "/O=Interop/CN=cross $name" "$name.pem" client.ext &&
      sw_openssl x509 -in "$name.pem" -outform DER -out "$name.crt.der" &&
      p11tool --write-object "$name.crt.der" --type cert --id "${KEY_ID[$name]}" --label "$name" ||
      return 1
  done
}

# ---- clients ------------------------------------------------------------------------------
p11tool_sign() { # NAME
  local name=$1
  if ! sw_openssl pkey -pubin -in "${name}_pub.pem" -noout -text | grep -q '^Modulus'; then
    p11tool --sign --id "${KEY_ID[$name]}" -m ECDSA --signature-format openssl -i data.sha256 \
      -o "$name.p11.sig"
  else
    p11tool --sign --id "${KEY_ID[$name]}" -m SHA256-RSA-PKCS -i data.txt -o "$name.p11.sig"
  fi && sw_openssl dgst -sha256 -verify "${name}_pub.pem" -signature "$name.p11.sig" data.txt
}
engine_sign() { # NAME
  local name=$1
  OPENSSL_CONF=$WORK/engine.cnf openssl dgst -sha256 -engine pkcs11 -keyform engine \
    -sign "pkcs11:token=$TOK;object=$name;type=private" -out "$name.eng.sig" data.txt &&
    sw_openssl dgst -sha256 -verify "${name}_pub.pem" -signature "$name.eng.sig" data.txt
}
provider_sign() { # NAME
  local name=$1
  OPENSSL_CONF=$WORK/provider.cnf openssl dgst -sha256 \
    -sign "pkcs11:token=$TOK;object=$name;type=private" -out "$name.prov.sig" data.txt &&
    sw_openssl dgst -sha256 -verify "${name}_pub.pem" -signature "$name.prov.sig" data.txt
}
nss_db() {
  mkdir nssdb && certutil -N -d "sql:$WORK/nssdb" --empty-password &&
    modutil -force -dbdir "sql:$WORK/nssdb" -add "CNG PKCS11" -libfile "$MODULE"
}
nss_listing() {
  local name
  certutil -L -d "sql:$WORK/nssdb" -h "$TOKEN_USER" </dev/null | tee nss_certs.txt &&
    certutil -K -d "sql:$WORK/nssdb" -h "$TOKEN_USER" </dev/null | tee nss_keys.txt || return 1
  for name in "${KEYS[@]}"; do
    grep -q "^$TOKEN_USER:$name " nss_certs.txt || { echo "NSS: no certificate $name"; return 1; }
    # the key's row: its CKA_ID, then its own label or its certificate's nickname
    grep -Eqi "${KEY_ID[$name]} +($TOKEN_USER:)?$name\$" nss_keys.txt ||
      { echo "NSS: key $name not linked to its certificate"; return 1; }
  done
  ! grep -q orphan nss_keys.txt
}
servers() {
  local name
  server_pki || return 1
  for name in "${KEYS[@]}"; do
    client_auth_server "nss-$name" "ca_$name" && client_auth_server "ff-$name" "ca_$name" || return 1
  done
  certutil -A -d "sql:$WORK/nssdb" -n "Interop TLS server CA" -t "C,," -i server_ca.pem </dev/null
}
nss_tls() { # NAME VERSION
  nss_tls_client "sql:$WORK/nssdb" "$TOKEN_USER:$1" "nss-$1" "$2" &&
    server_saw_client "nss-$1" "cross $1"
}
java_setup() {
  printf 'name = CNG\nlibrary = %s\nslot = %s\n' "$MODULE" "$SLOT_USER" >pkcs11.cfg &&
    mkdir classes && javac -d classes "$INTEROP_SRC_DIR/java/P11Sign.java"
}
java_listing() {
  local name
  keytool -list -keystore NONE -storetype PKCS11 -providerClass sun.security.pkcs11.SunPKCS11 \
    -providerArg "$WORK/pkcs11.cfg" -storepass unused-pin </dev/null | tee java_list.txt || return 1
  for name in "${KEYS[@]}"; do
    grep -q "^$name, PrivateKeyEntry" java_list.txt || { echo "Java: no key entry $name"; return 1; }
  done
}
java_sign() { java -cp classes P11Sign "$WORK/pkcs11.cfg" unused-pin "${KEYS[@]}"; }

must "pkcs11-tool: RSA-2048 key pair x-p11tool (id 7a01)" keygen_p11tool
must "cngkey create x-cng-ec (ECDSA_P256)" keygen_cngkey x-cng-ec --algorithm ECDSA_P256
must "cngkey create x-cng-rsa (RSA 2048)" keygen_cngkey x-cng-rsa --algorithm RSA --length 2048
KEY_ID[x-p11tool]=7a01
KEY_ID[x-cng-ec]=$(pubkey_id x-cng-ec_pub.pem)
KEY_ID[x-cng-rsa]=$(pubkey_id x-cng-rsa_pub.pem)
must "cngkey keys are PKCS#11 objects: label = name, CKA_ID = SHA-1 of the public value" cngkey_objects
must "CA certificates for the three keys written to the token (same CKA_ID, label = name)" certificates
for name in "${KEYS[@]}"; do
  step "$name: pkcs11-tool signs, OpenSSL verifies" p11tool_sign "$name"
  step "$name: libp11 engine signs (object=$name), OpenSSL verifies" engine_sign "$name"
  step "$name: pkcs11-provider signs (object=$name), OpenSSL verifies" provider_sign "$name"
done
must "NSS: fresh database with the module" nss_db
step "NSS: certutil -L/-K list the three certificates with their keys (no orphans)" nss_listing
must "TLS servers (s_server -Verify 1), one per key and client; server CA trusted by NSS" servers
step "x-p11tool: NSS tstclnt TLS 1.2 client authentication, server verifies" nss_tls x-p11tool tls1.2
step "x-cng-ec: NSS tstclnt TLS 1.3 client authentication, server verifies" nss_tls x-cng-ec tls1.3
step "x-cng-rsa: NSS tstclnt TLS 1.3 client authentication, server verifies" nss_tls x-cng-rsa tls1.3
must "Java: SunPKCS11 configuration, javac P11Sign.java" java_setup
step "Java: keytool -list shows the three keys as PrivateKeyEntry" java_listing
step "Java: P11Sign signs with the three keys, software verifies" java_sign
must "Firefox: profile with the module" ff_profile
step "Firefox: one headless run visits the three servers" ff_run ff-x-p11tool ff-x-cng-ec ff-x-cng-rsa
for name in "${KEYS[@]}"; do
  step "$name: authenticates Firefox (server log shows CN=cross $name)" ff_client_auth_ok "ff-$name" "cross $name"
done
interop_finish
