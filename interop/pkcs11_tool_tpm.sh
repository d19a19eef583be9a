#!/usr/bin/env bash
# Interop test: OpenSC pkcs11-tool in the platform (TPM) slot 2 "CNG Platform (user)" of
# libcng_pkcs11.so, on a swtpm TPM 2.0 simulator this script starts (and stops by pid). Key pairs
# are generated in the TPM; every signature is verified and every ciphertext made by OpenSSL's
# default provider alone, on the public key read back from the token.
#   pkcs11_tool_tpm.sh MODULE
# PASS/FAIL per step; exit 1 on any failure, 77 when swtpm or pkcs11-tool is missing.
TOKEN_USER="CNG Platform (user)"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/tpm.sh"
interop_init pkcs11-tool-tpm "$@"
require_cmd swtpm swtpm
require_cmd pkcs11-tool opensc
require_cmd openssl openssl

slot2_is_tpm() {
  local list
  list=$(pkcs11-tool --module "$MODULE" --list-slots 2>&1)
  echo "$list"
  # slot id 2 holds the platform token with this exact label
  echo "$list" | grep -A4 '^Slot .*(0x2)' | grep -q "token label *: $TOKEN_USER\$"
}

echo "signed in the TPM by pkcs11-tool" >data.txt
sw_openssl dgst -sha256 -binary data.txt >data.sha256
# SHA-256 DigestInfo (RFC 8017 §9.2 note 1) + the digest: the input of raw CKM_RSA_PKCS signing.
{ printf '3031300d060960864801650304020105000420' | xxd -r -p; cat data.sha256; } >data.di
head -c 48 /dev/urandom >secret.bin

gen_rsa() {
  p11tool --keypairgen --key-type rsa:2048 --id 7101 --label tpm-rsa &&
    p11tool --read-object --type pubkey --id 7101 -o rsa_pub.der &&
    sw_openssl pkey -pubin -inform DER -in rsa_pub.der -out rsa_pub.pem &&
    sw_openssl pkey -pubin -in rsa_pub.pem -noout -text | grep -q 'Public-Key: (2048 bit)'
}
gen_ec() {
  p11tool --keypairgen --key-type EC:prime256v1 --id 7102 --label tpm-ec &&
    p11tool --read-object --type pubkey --id 7102 -o ec_pub.der &&
    sw_openssl pkey -pubin -inform DER -in ec_pub.der -out ec_pub.pem &&
    sw_openssl pkey -pubin -in ec_pub.pem -noout -text | grep -q 'prime256v1'
}
sign_rsa_pkcs() {
  p11tool --sign -m RSA-PKCS --id 7101 -i data.di -o rsa_pkcs.sig &&
    sw_openssl pkeyutl -verify -pubin -inkey rsa_pub.pem -pkeyopt digest:sha256 \
      -in data.sha256 -sigfile rsa_pkcs.sig
}
sign_sha256_rsa_pkcs() {
  p11tool --sign -m SHA256-RSA-PKCS --id 7101 -i data.txt -o sha256_rsa.sig &&
    sw_openssl dgst -sha256 -verify rsa_pub.pem -signature sha256_rsa.sig data.txt
}
sign_sha256_rsa_pss() {
  p11tool --sign -m SHA256-RSA-PKCS-PSS --salt-len 32 --id 7101 -i data.txt -o pss.sig &&
    sw_openssl dgst -sha256 -verify rsa_pub.pem -sigopt rsa_padding_mode:pss \
      -sigopt rsa_pss_saltlen:32 -signature pss.sig data.txt
}
sign_ecdsa() {
  p11tool --sign -m ECDSA --id 7102 --signature-format openssl -i data.sha256 -o ecdsa.sig &&
    sw_openssl pkeyutl -verify -pubin -inkey ec_pub.pem -in data.sha256 -sigfile ecdsa.sig
}
decrypt_rsa_pkcs() {
  sw_openssl pkeyutl -encrypt -pubin -inkey rsa_pub.pem -pkeyopt rsa_padding_mode:pkcs1 \
    -in secret.bin -out pkcs.ct &&
    p11tool --decrypt -m RSA-PKCS --id 7101 -i pkcs.ct -o pkcs.pt &&
    cmp secret.bin pkcs.pt
}
decrypt_rsa_oaep() {
  # No OAEP label: the TPM fixes its own label rules, plain OAEP has none.
  sw_openssl pkeyutl -encrypt -pubin -inkey rsa_pub.pem -pkeyopt rsa_padding_mode:oaep \
    -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 -in secret.bin -out oaep.ct &&
    p11tool --decrypt -m RSA-PKCS-OAEP --hash-algorithm SHA256 --mgf MGF1-SHA256 --id 7101 \
      -i oaep.ct -o oaep.pt &&
    cmp secret.bin oaep.pt
}
keys_listed() {
  local out
  out=$(p11tool --list-objects 2>&1)
  echo "$out"
  echo "$out" | grep -q 'label: *tpm-rsa' && echo "$out" | grep -q 'label: *tpm-ec'
}

must "swtpm TPM 2.0 simulator started" start_swtpm
must "slot 2 is the TPM token '$TOKEN_USER'" slot2_is_tpm
must "--keypairgen RSA-2048 in the TPM, public key read back" gen_rsa
must "--keypairgen EC P-256 in the TPM, public key read back" gen_ec
step "--list-objects shows both token key pairs" keys_listed
step "--sign RSA-PKCS (SHA-256 DigestInfo), verified by openssl" sign_rsa_pkcs
step "--sign SHA256-RSA-PKCS, verified by openssl" sign_sha256_rsa_pkcs
step "--sign SHA256-RSA-PKCS-PSS (salt 32), verified by openssl" sign_sha256_rsa_pss
step "--sign ECDSA (P-256), verified by openssl" sign_ecdsa
step "--decrypt RSA-PKCS of openssl ciphertext" decrypt_rsa_pkcs
step "--decrypt RSA-PKCS-OAEP (SHA-256, MGF1-SHA-256, no label) of openssl ciphertext" decrypt_rsa_oaep
interop_finish
