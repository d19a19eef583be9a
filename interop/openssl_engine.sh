#!/usr/bin/env bash
# Interop test: OpenSSL 3 through the libp11 engine (libengine-pkcs11-openssl) with RFC 7512
# pkcs11: URIs. Keys are generated on the user token with pkcs11-tool; OpenSSL then makes CSRs
# and self-signed certificates with them, signs with pkeyutl/dgst, and serves TLS 1.2 and 1.3
# (s_server with the token key) to a software s_client on 127.0.0.1, RSA and EC. Everything the
# token signs is verified by OpenSSL's default provider alone.
#   openssl_engine.sh MODULE [CNGKEY]
#   ENGINE_SO (default: Debian's libp11 engine)
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/openssl.sh"
interop_init openssl-engine "$@"
require_cmd openssl openssl
require_file "$ENGINE_SO" libengine-pkcs11-openssl
require_cmd pkcs11-tool opensc

openssl_engine_conf engine.cnf
# eng ARGS...: openssl with the engine configured.
eng() { OPENSSL_CONF=$WORK/engine.cnf openssl "$@"; }
ENG=(-engine pkcs11 -keyform engine)

TOK=$(uri_enc "$TOKEN_USER")
RSA_URI="pkcs11:token=$TOK;id=%e1%01;type=private"
EC_URI="pkcs11:token=$TOK;object=eng-ec;type=private"
MACHINE_URI="pkcs11:token=$(uri_enc "$TOKEN_MACHINE");object=eng-machine-ec;type=private"

echo "interop data for the engine" >data.txt
sw_openssl dgst -sha256 -binary data.txt >data.sha256

gen_keys() {
  p11tool --keypairgen --key-type rsa:2048 --id e101 --label eng-rsa &&
    p11tool --keypairgen --key-type EC:prime256v1 --id e102 --label eng-ec &&
    p11tool --read-object --type pubkey --id e101 -o rsa_pub.der &&
    p11tool --read-object --type pubkey --id e102 -o ec_pub.der &&
    sw_openssl pkey -pubin -inform DER -in rsa_pub.der -out token_rsa_pub.pem &&
    sw_openssl pkey -pubin -inform DER -in ec_pub.der -out token_ec_pub.pem
}
engine_loads() { eng engine -t -c pkcs11 && eng engine -t pkcs11 | grep -q available; }

csr_rsa() {
  eng req -new "${ENG[@]}" -key "$RSA_URI" -subj "/O=Interop/CN=engine rsa csr" -out rsa.csr &&
    sw_openssl req -in rsa.csr -noout -verify &&
    sw_openssl req -in rsa.csr -noout -subject | grep -q 'CN *= *engine rsa csr' &&
    sw_openssl req -in rsa.csr -noout -pubkey >rsa_csr_pub.pem &&
    same_pubkey rsa_csr_pub.pem token_rsa_pub.pem
}
csr_ec() {
  eng req -new "${ENG[@]}" -key "$EC_URI" -subj "/O=Interop/CN=engine ec csr" -out ec.csr &&
    sw_openssl req -in ec.csr -noout -verify &&
    sw_openssl req -in ec.csr -noout -pubkey >ec_csr_pub.pem &&
    same_pubkey ec_csr_pub.pem token_ec_pub.pem
}
selfsigned() { # NAME URI
  eng req -new -x509 -days 30 -sha256 "${ENG[@]}" -key "$2" -subj "/O=Interop/CN=engine $1" \
    -out "$1.pem" &&
    sw_openssl verify -CAfile "$1.pem" "$1.pem" &&
    cert_pubkey "$1.pem" "$1_cert_pub.pem" &&
    same_pubkey "$1_cert_pub.pem" "token_$1_pub.pem"
}

sign_rsa_pkcs1() {
  eng pkeyutl -sign "${ENG[@]}" -inkey "$RSA_URI" -pkeyopt digest:sha256 -in data.sha256 \
    -out rsa_pkcs1.sig &&
    sw_openssl pkeyutl -verify -pubin -inkey token_rsa_pub.pem -pkeyopt digest:sha256 \
      -in data.sha256 -sigfile rsa_pkcs1.sig
}
sign_rsa_pss() {
  eng pkeyutl -sign "${ENG[@]}" -inkey "$RSA_URI" -pkeyopt digest:sha256 \
    -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 -in data.sha256 -out rsa_pss.sig &&
    sw_openssl pkeyutl -verify -pubin -inkey token_rsa_pub.pem -pkeyopt digest:sha256 \
      -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 -in data.sha256 -sigfile rsa_pss.sig
}
sign_ecdsa() {
  eng pkeyutl -sign "${ENG[@]}" -inkey "$EC_URI" -in data.sha256 -out ec.sig &&
    sw_openssl pkeyutl -verify -pubin -inkey token_ec_pub.pem -in data.sha256 -sigfile ec.sig
}
dgst_sign() { # NAME URI PUB
  eng dgst -sha256 "${ENG[@]}" -sign "$2" -out "dgst_$1.sig" data.txt &&
    sw_openssl dgst -sha256 -verify "$3" -signature "dgst_$1.sig" data.txt
}
machine_slot() {
  pkcs11-tool --module "$MODULE" --token-label "$TOKEN_MACHINE" "${P11_LOGIN[@]}" --keypairgen \
    --key-type EC:prime256v1 --id e103 --label eng-machine-ec &&
    pkcs11-tool --module "$MODULE" --token-label "$TOKEN_MACHINE" --read-object --type pubkey \
      --id e103 -o machine_pub.der &&
    sw_openssl pkey -pubin -inform DER -in machine_pub.der -out machine_pub.pem &&
    eng pkeyutl -sign "${ENG[@]}" -inkey "$MACHINE_URI" -in data.sha256 -out machine.sig &&
    sw_openssl pkeyutl -verify -pubin -inkey machine_pub.pem -in data.sha256 -sigfile machine.sig &&
    # the user token must not see the machine key
    ! eng pkeyutl -sign "${ENG[@]}" -inkey "pkcs11:token=$TOK;object=eng-machine-ec;type=private" \
      -in data.sha256 -out /dev/null
}
tls() { # NAME URI VERSION SIGNATURE-TYPE [CLIENT-OPTIONS]
  OPENSSL_CONF=$WORK/engine.cnf tls_roundtrip "$1_$3" "$1.pem" "$3" "$4" "${5:-}" \
    "${ENG[@]}" -key "$2" -cert "$1.pem"
}

must "pkcs11-tool: RSA-2048 and EC P-256 key pairs on '$TOKEN_USER'" gen_keys
must "engine loads through OPENSSL_CONF" engine_loads
step "req -new: CSR with the RSA token key (id=%e1%01), verified in software" csr_rsa
step "req -new: CSR with the EC token key (object=eng-ec), verified in software" csr_ec
must "req -x509: self-signed RSA certificate, verified in software" selfsigned rsa "$RSA_URI"
must "req -x509: self-signed EC certificate, verified in software" selfsigned ec "$EC_URI"
step "pkeyutl -sign RSA PKCS#1 v1.5 (SHA-256), verified in software" sign_rsa_pkcs1
step "pkeyutl -sign RSA-PSS (SHA-256, salt 32), verified in software" sign_rsa_pss
step "pkeyutl -sign ECDSA over a SHA-256 digest, verified in software" sign_ecdsa
step "dgst -sha256 -sign RSA, verified in software" dgst_sign rsa "$RSA_URI" token_rsa_pub.pem
step "dgst -sha256 -sign EC, verified in software" dgst_sign ec "$EC_URI" token_ec_pub.pem
step "machine token: EC key by token=$TOKEN_MACHINE, not visible on the user token" machine_slot
step "TLS 1.3, s_server RSA token key (RSA-PSS)" tls rsa "$RSA_URI" tls1_3 RSA-PSS
step "TLS 1.2, s_server RSA token key (PKCS#1 v1.5 ServerKeyExchange)" tls rsa "$RSA_URI" tls1_2 RSA "-sigalgs RSA+SHA256"
step "TLS 1.2, s_server RSA token key (RSA-PSS ServerKeyExchange)" tls rsa "$RSA_URI" tls1_2 RSA-PSS "-sigalgs RSA-PSS+SHA256"
step "TLS 1.3, s_server EC token key" tls ec "$EC_URI" tls1_3 ECDSA
step "TLS 1.2, s_server EC token key" tls ec "$EC_URI" tls1_2 ECDSA
interop_finish
