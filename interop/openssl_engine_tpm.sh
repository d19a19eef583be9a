#!/usr/bin/env bash
# Interop test: OpenSSL 3 through the libp11 engine with a key held in the TPM: slot 2
# "CNG Platform (user)" of libcng_pkcs11.so on a swtpm TPM 2.0 simulator this script starts (and
# stops by pid). pkcs11-tool generates RSA-2048 and P-256 key pairs in the TPM; `openssl req
# -engine pkcs11` makes self-signed certificates with them, and `openssl s_server -engine
# pkcs11` serves TLS 1.3 and 1.2 with the TPM key to a software s_client on 127.0.0.1, which
# must verify the certificate, the protocol version and the server's signature type.
#   openssl_engine_tpm.sh MODULE
# PASS/FAIL per step; exit 1 on any failure, 77 when swtpm, pkcs11-tool or the engine is missing.
TOKEN_USER="CNG Platform (user)"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/tpm.sh"
. "$(dirname "$0")/lib/openssl.sh"
interop_init openssl-engine-tpm "$@"
require_cmd swtpm swtpm
require_cmd openssl openssl
require_file "$ENGINE_SO" libengine-pkcs11-openssl
require_cmd pkcs11-tool opensc


openssl_engine_conf engine.cnf
eng() { OPENSSL_CONF=$WORK/engine.cnf openssl "$@"; }
ENG=(-engine pkcs11 -keyform engine)
TOK=$(uri_enc "$TOKEN_USER")
RSA_URI="pkcs11:token=$TOK;object=tpm-tls-rsa;type=private"
EC_URI="pkcs11:token=$TOK;object=tpm-tls-ec;type=private"

gen_keys() {
  p11tool --keypairgen --key-type rsa:2048 --id 7201 --label tpm-tls-rsa &&
    p11tool --keypairgen --key-type EC:prime256v1 --id 7202 --label tpm-tls-ec &&
    p11tool --read-object --type pubkey --id 7201 -o rsa_pub.der &&
    p11tool --read-object --type pubkey --id 7202 -o ec_pub.der &&
    sw_openssl pkey -pubin -inform DER -in rsa_pub.der -out token_rsa_pub.pem &&
    sw_openssl pkey -pubin -inform DER -in ec_pub.der -out token_ec_pub.pem
}
selfsigned() { # NAME URI
  eng req -new -x509 -days 30 -sha256 "${ENG[@]}" -key "$2" \
    -subj "/O=Interop/CN=tpm $1" -addext "subjectAltName=IP:127.0.0.1" -out "$1.pem" &&
    sw_openssl verify -CAfile "$1.pem" "$1.pem" &&
    cert_pubkey "$1.pem" "$1_cert_pub.pem" &&
    same_pubkey "$1_cert_pub.pem" "token_$1_pub.pem"
}
tls() { # NAME URI VERSION SIGNATURE-TYPE [CLIENT-OPTIONS]
  OPENSSL_CONF=$WORK/engine.cnf tls_roundtrip "$1_$3" "$1.pem" "$3" "$4" "${5:-}" \
    "${ENG[@]}" -key "$2" -cert "$1.pem"
}

must "swtpm TPM 2.0 simulator started" start_swtpm
must "pkcs11-tool: RSA-2048 and EC P-256 key pairs in the TPM ('$TOKEN_USER')" gen_keys
must "req -x509 -engine pkcs11: self-signed RSA certificate with the TPM key" selfsigned rsa "$RSA_URI"
must "req -x509 -engine pkcs11: self-signed EC certificate with the TPM key" selfsigned ec "$EC_URI"
# TLS 1.3 with the RSA key: libp11's engine pads RSA-PSS itself and signs the block raw
# (CKM_RSA_X_509), which the platform slot does as TPM2_RSA_Decrypt with the NULL scheme.
step "TLS 1.3 handshake, s_server with the TPM RSA key (RSA-PSS through raw RSA)" tls rsa "$RSA_URI" tls1_3 RSA-PSS
step "TLS 1.2 handshake, s_server with the TPM RSA key (PKCS#1 v1.5)" tls rsa "$RSA_URI" tls1_2 RSA "-sigalgs RSA+SHA256"
step "TLS 1.3 handshake, s_server with the TPM EC key" tls ec "$EC_URI" tls1_3 ECDSA
step "TLS 1.2 handshake, s_server with the TPM EC key" tls ec "$EC_URI" tls1_2 ECDSA
interop_finish
