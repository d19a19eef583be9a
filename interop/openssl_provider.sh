#!/usr/bin/env bash
# Interop test: OpenSSL 3 through pkcs11-provider (Debian package from bookworm-backports).
# Token keys are opened by pkcs11: URI through the provider's OSSL_STORE (no -engine): store
# listing, CSR and self-signed certificates, pkeyutl signatures (RSA PKCS#1 v1.5, RSA-PSS,
# ECDSA) verified by OpenSSL's default provider alone, a key pair generated through the provider
# (genpkey), and TLS 1.2 / 1.3 handshakes with s_server's key on the token, RSA and EC.
# The provider is NOT given the no-deinit quirk: it finalizes the module from OpenSSL's atexit
# handler, and every openssl run must still exit cleanly.
#   openssl_provider.sh MODULE [CNGKEY]
#   PROVIDER_SO (default: Debian's pkcs11-provider), PROVIDER_CONF_EXTRA (lines added to the
#   provider section, e.g. for another module: "pkcs11-module-quirks = no-deinit")
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/openssl.sh"
interop_init openssl-provider "$@"
require_cmd openssl openssl
require_file "$PROVIDER_SO" "pkcs11-provider (bookworm-backports)"
require_cmd pkcs11-tool opensc

openssl_provider_conf provider.cnf
prov() { OPENSSL_CONF=$WORK/provider.cnf openssl "$@"; }

TOK=$(uri_enc "$TOKEN_USER")
RSA_URI="pkcs11:token=$TOK;id=%c1%01;type=private"
EC_URI="pkcs11:token=$TOK;object=prov-ec;type=private"
GEN_URI="pkcs11:token=$TOK;object=prov-gen-ec"

echo "interop data for the provider" >data.txt
sw_openssl dgst -sha256 -binary data.txt >data.sha256

gen_keys() {
  p11tool --keypairgen --key-type rsa:2048 --id c101 --label prov-rsa &&
    p11tool --keypairgen --key-type EC:prime256v1 --id c102 --label prov-ec &&
    p11tool --read-object --type pubkey --id c101 -o rsa_pub.der &&
    p11tool --read-object --type pubkey --id c102 -o ec_pub.der &&
    sw_openssl pkey -pubin -inform DER -in rsa_pub.der -out token_rsa_pub.pem &&
    sw_openssl pkey -pubin -inform DER -in ec_pub.der -out token_ec_pub.pem
}
store_listing() {
  prov storeutl -keys -text "pkcs11:token=$TOK" >store.txt &&
    cat store.txt &&
    grep -q "^URI pkcs11:.*object=prov-rsa;type=private" store.txt &&
    grep -q "^URI pkcs11:.*object=prov-ec;type=private" store.txt
}
public_from_store() {
  prov pkey -pubin -in "pkcs11:token=$TOK;id=%c1%01;type=public" -out store_rsa_pub.pem &&
    same_pubkey store_rsa_pub.pem token_rsa_pub.pem &&
    prov pkey -pubin -in "pkcs11:token=$TOK;object=prov-ec;type=public" -out store_ec_pub.pem &&
    same_pubkey store_ec_pub.pem token_ec_pub.pem
}
selfsigned() { # NAME URI
  prov req -new -x509 -days 30 -sha256 -key "$2" -subj "/O=Interop/CN=provider $1" -out "$1.pem" &&
    sw_openssl verify -CAfile "$1.pem" "$1.pem" &&
    cert_pubkey "$1.pem" "$1_cert_pub.pem" &&
    same_pubkey "$1_cert_pub.pem" "token_$1_pub.pem"
}
csr() { # NAME URI
  prov req -new -key "$2" -subj "/O=Interop/CN=provider $1 csr" -out "$1.csr" &&
    sw_openssl req -in "$1.csr" -noout -verify &&
    sw_openssl req -in "$1.csr" -noout -pubkey >"$1_csr_pub.pem" &&
    same_pubkey "$1_csr_pub.pem" "token_$1_pub.pem"
}
sign_rsa_pkcs1() {
  prov pkeyutl -sign -inkey "$RSA_URI" -pkeyopt digest:sha256 -in data.sha256 -out rsa_pkcs1.sig &&
    sw_openssl pkeyutl -verify -pubin -inkey token_rsa_pub.pem -pkeyopt digest:sha256 \
      -in data.sha256 -sigfile rsa_pkcs1.sig
}
sign_rsa_pss() {
  prov pkeyutl -sign -inkey "$RSA_URI" -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss \
    -pkeyopt rsa_pss_saltlen:32 -in data.sha256 -out rsa_pss.sig &&
    sw_openssl pkeyutl -verify -pubin -inkey token_rsa_pub.pem -pkeyopt digest:sha256 \
      -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 -in data.sha256 -sigfile rsa_pss.sig
}
sign_ecdsa() {
  prov pkeyutl -sign -inkey "$EC_URI" -in data.sha256 -out ec.sig &&
    sw_openssl pkeyutl -verify -pubin -inkey token_ec_pub.pem -in data.sha256 -sigfile ec.sig
}
dgst_sign() { # NAME URI PUB
  prov dgst -sha256 -sign "$2" -out "dgst_$1.sig" data.txt &&
    sw_openssl dgst -sha256 -verify "$3" -signature "dgst_$1.sig" data.txt
}
provider_genpkey() {
  # genpkey makes the key pair on the token, then fails to write the (unexportable) private
  # key: "Error writing key" is expected; the key must be on the token and sign.
  prov genpkey -propquery '?provider=pkcs11' -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -pkeyopt "pkcs11_uri:$GEN_URI;id=%c1%03" -out /dev/null </dev/null || true
  p11tool --list-objects | tee objects.txt | grep -q 'label: *prov-gen-ec' &&
    prov pkey -pubin -in "$GEN_URI;type=public" -out gen_pub.pem &&
    prov pkeyutl -sign -inkey "$GEN_URI;type=private" -in data.sha256 -out gen.sig &&
    sw_openssl pkeyutl -verify -pubin -inkey gen_pub.pem -in data.sha256 -sigfile gen.sig
}
tls() { # NAME URI VERSION SIGNATURE-TYPE [CLIENT-OPTIONS]
  OPENSSL_CONF=$WORK/provider.cnf tls_roundtrip "$1_$3" "$1.pem" "$3" "$4" "${5:-}" \
    -key "$2" -cert "$1.pem"
}

must "pkcs11-tool: RSA-2048 and EC P-256 key pairs on '$TOKEN_USER'" gen_keys
step "storeutl -keys lists the token keys with their URIs" store_listing
step "public keys through the provider store equal the token's" public_from_store
must "req -x509: self-signed RSA certificate, verified in software" selfsigned rsa "$RSA_URI"
must "req -x509: self-signed EC certificate, verified in software" selfsigned ec "$EC_URI"
step "req -new: CSR with the EC token key, verified in software" csr ec "$EC_URI"
step "pkeyutl -sign RSA PKCS#1 v1.5 (SHA-256), verified in software" sign_rsa_pkcs1
step "pkeyutl -sign RSA-PSS (SHA-256, salt 32), verified in software" sign_rsa_pss
step "pkeyutl -sign ECDSA over a SHA-256 digest, verified in software" sign_ecdsa
step "dgst -sha256 -sign RSA, verified in software" dgst_sign rsa "$RSA_URI" token_rsa_pub.pem
step "dgst -sha256 -sign EC, verified in software" dgst_sign ec "$EC_URI" token_ec_pub.pem
step "genpkey through the provider: EC key pair on the token, signs" provider_genpkey
step "TLS 1.3, s_server RSA token key (RSA-PSS)" tls rsa "$RSA_URI" tls1_3 RSA-PSS
step "TLS 1.2, s_server RSA token key (PKCS#1 v1.5 ServerKeyExchange)" tls rsa "$RSA_URI" tls1_2 RSA "-sigalgs RSA+SHA256"
step "TLS 1.3, s_server EC token key" tls ec "$EC_URI" tls1_3 ECDSA
step "TLS 1.2, s_server EC token key" tls ec "$EC_URI" tls1_2 ECDSA
interop_finish
