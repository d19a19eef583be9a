#!/usr/bin/env bash
# Interop test: a private key that asks for the PIN at each use (CKA_ALWAYS_AUTHENTICATE,
# PKCS#11 3.0 §5.5/§5.13: C_Login(CKU_CONTEXT_SPECIFIC) between C_SignInit and C_Sign) with
# OpenSC pkcs11-tool and NSS certutil. The token first gets a user PIN (SO login,
# pkcs11-tool --init-pin), so the context PIN is that PIN and a wrong one is refused.
#   - pkcs11-tool makes the key (--keypairgen --always-auth), shows it as "always
#     authenticate", and signs with it: after C_SignInit it sees the attribute and logs in
#     with CKU_CONTEXT_SPECIFIC and --pin; a wrong PIN fails with CKR_PIN_INCORRECT.
#   - certutil -R signs a PKCS#10 request with that key (-k its CKA_ID); NSS logs in to the
#     token and again, context-specifically, for each use of the key, with the PIN of -f pwfile.
# Every signature is verified by OpenSSL.
#   always_auth.sh MODULE [CNGKEY]
. "$(dirname "$0")/lib/common.sh"
interop_init always_auth "$@"
require_cmd pkcs11-tool opensc
require_cmd certutil libnss3-tools
require_cmd modutil libnss3-tools
require_cmd openssl openssl

USER_PIN=aa-user-pin-42
KEY_ID=a1a1a1a1
p11() { pkcs11-tool --module "$MODULE" --slot "$SLOT_USER" "$@" </dev/null; }
printf 'signed by a key that asks for its PIN at each use\n' >data.bin

set_user_pin() {
  p11 --login --login-type so --so-pin so --init-pin --new-pin "$USER_PIN" &&
    p11 --list-token-slots | grep -qi 'login required'
}
make_key() {
  p11 --login --pin "$USER_PIN" --keypairgen --key-type EC:prime256v1 --id "$KEY_ID" \
    --label always-auth --usage-sign --always-auth &&
    p11 --login --pin "$USER_PIN" --read-object --type pubkey --id "$KEY_ID" -o pub.der &&
    sw_openssl pkey -pubin -inform DER -in pub.der -out pub.pem
}
shown_always_authenticate() {
  p11 --login --pin "$USER_PIN" --list-objects --type privkey | tee objects.txt &&
    grep -qi 'always authenticate' objects.txt
}
sign_with_context_login() {
  p11 --login --pin "$USER_PIN" --sign --id "$KEY_ID" --mechanism ECDSA-SHA256 \
    --signature-format openssl -i data.bin -o sig.der &&
    sw_openssl dgst -sha256 -verify pub.pem -signature sig.der data.bin
}
context_login_outside_an_operation() {
  # (pkcs11-tool has one --pin for the user and the context login, so a wrong context PIN
  # cannot be given with the right user PIN; the conformance suite covers that.)
  ! p11 --login --login-type context-specific --pin "$USER_PIN" --list-objects >ctx.txt 2>&1 &&
    grep -q CKR_OPERATION_NOT_INITIALIZED ctx.txt
}

DB=sql:$WORK/nssdb
nss_request() {
  printf '%s\n' "$USER_PIN" >pwfile &&
    head -c 64 /dev/urandom >noise.bin &&
    mkdir nssdb && certutil -N -d "$DB" --empty-password &&
    modutil -force -dbdir "$DB" -add "CNG PKCS11" -libfile "$MODULE" &&
    certutil -d "$DB" -h "$TOKEN_USER" -f pwfile -K </dev/null | tee keys.txt &&
    grep -qi "$KEY_ID" keys.txt &&
    certutil -d "$DB" -h "$TOKEN_USER" -f pwfile -R -k "$KEY_ID" -z noise.bin \
      -s "CN=always authenticate,O=Interop" -a -o req.csr </dev/null &&
    sw_openssl req -in req.csr -noout -verify &&
    sw_openssl req -in req.csr -noout -pubkey >req_pub.pem &&
    same_pubkey req_pub.pem pub.pem
}

must "set the token's user PIN (SO login, pkcs11-tool --init-pin)" set_user_pin
must "pkcs11-tool --keypairgen --always-auth: EC P-256 key that asks for the PIN" make_key
step "pkcs11-tool --list-objects shows the key as always authenticate" shown_always_authenticate
step "pkcs11-tool --sign: context-specific login after C_SignInit, OpenSSL verifies" sign_with_context_login
step "pkcs11-tool --login-type context-specific outside an operation is refused" context_login_outside_an_operation
step "certutil -R -k: NSS signs a request with the key (PIN from -f pwfile), OpenSSL verifies" nss_request
interop_finish
