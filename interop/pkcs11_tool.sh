#!/usr/bin/env bash
# Interop test: OpenSC pkcs11-tool against libcng_pkcs11.so, cross-checked with openssl.
#   pkcs11_tool.sh [MODULE]     (or MODULE=... in the environment)
# Knobs: SLOTS (default "0 1"), PIN (default empty: no C_Login; set for modules that need it),
#        SET_PIN=1 (with PIN): first sets PIN as each slot's user PIN (the scope PIN: SO login +
#        C_InitPIN through pkcs11-tool --init-pin) and checks that private keys then need
#        --login, KEEP_WORK=1 keeps the scratch directory.
# Uses a fresh key store in a temporary directory. Prints PASS/FAIL per step; exits 1 on any
# failure and 77 (ctest SKIP_RETURN_CODE) when pkcs11-tool or openssl is missing.
set -u

MODULE=${1:-${MODULE:-}}
SLOTS=${SLOTS:-"0 1"}
PIN=${PIN:-}

if ! command -v pkcs11-tool >/dev/null 2>&1; then
  echo "SKIP: pkcs11-tool not installed (apt-get install opensc)"
  exit 77
fi
if ! command -v openssl >/dev/null 2>&1; then
  echo "SKIP: openssl not installed"
  exit 77
fi
if [ -z "$MODULE" ] || [ ! -r "$MODULE" ]; then
  echo "FAIL: module '$MODULE' not readable"
  exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cng-interop-pkcs11-tool.XXXXXX")
[ "${KEEP_WORK:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
mkdir -m 700 "$WORK/user" "$WORK/machine"
export CNG_PKCS11_USER_DIR="$WORK/user" CNG_PKCS11_MACHINE_DIR="$WORK/machine"
cd "$WORK" || exit 1

LOGIN=()
[ -n "$PIN" ] && LOGIN=(--login --pin "$PIN")
passed=0
failed=0

# step NAME COMMAND...: runs the command (a function or program), output kept in step.log.
step() {
  local name=$1
  shift
  if (set -x; "$@") >step.log 2>&1; then
    echo "PASS: $name"
    passed=$((passed + 1))
  else
    echo "FAIL: $name"
    sed 's/^/    | /' step.log
    failed=$((failed + 1))
  fi
}

p11() { pkcs11-tool --module "$MODULE" "$@"; }
p11s() { p11 --slot "$SLOT" "${LOGIN[@]}" "$@"; }

# The DER DigestInfo of SHA-256(file): input of raw CKM_RSA_PKCS signing.
sha256_digest_info() {
  { printf '\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20'
    openssl dgst -sha256 -binary "$1"; } >"$2"
}

head -c 1500 /dev/urandom >data.bin
openssl dgst -sha256 -binary data.bin >data.sha256
sha256_digest_info data.bin data.digestinfo
echo "a secret for the token to decrypt" >secret.txt

list_slots() { p11 --list-slots | tee slots.txt && grep -q 'CNG Software (user)' slots.txt &&
  grep -q 'CNG Software (machine)' slots.txt; }
list_mechanisms() { p11 --slot "$SLOT" --list-mechanisms | tee mechs.txt &&
  # pkcs11-tool prints CKM_EC_KEY_PAIR_GEN under its old name ECDSA-KEY-PAIR-GEN.
  for m in RSA-PKCS-KEY-PAIR-GEN ECDSA-KEY-PAIR-GEN RSA-PKCS SHA256-RSA-PKCS RSA-PKCS-PSS \
           SHA256-RSA-PKCS-PSS ECDSA ECDSA-SHA256 RSA-PKCS-OAEP ECDH1-DERIVE SHA256; do
    grep -q "^ *$m[ ,]" mechs.txt || { echo "missing mechanism $m"; return 1; }
  done; }

keygen_rsa() { p11s --keypairgen --key-type rsa:2048 --id "$RSA_ID" --label "rsa-$SLOT"; }
keygen_ec() { p11s --keypairgen --key-type EC:prime256v1 --id "$EC_ID" --label "ec-$SLOT"; }
read_pubkeys() {
  p11s --read-object --type pubkey --id "$RSA_ID" -o "rsa$SLOT.der" &&
    openssl pkey -pubin -inform DER -in "rsa$SLOT.der" -out "rsa$SLOT.pem" &&
    p11s --read-object --type pubkey --id "$EC_ID" -o "ec$SLOT.der" &&
    openssl pkey -pubin -inform DER -in "ec$SLOT.der" -out "ec$SLOT.pem" &&
    openssl pkey -pubin -in "rsa$SLOT.pem" -noout -text | grep -q '2048 bit' &&
    openssl pkey -pubin -in "ec$SLOT.pem" -noout -text | grep -q 'prime256v1'
}

sign_rsa_pkcs() {
  p11s --sign --id "$RSA_ID" -m RSA-PKCS -i data.digestinfo -o s1.sig &&
    openssl dgst -sha256 -verify "rsa$SLOT.pem" -signature s1.sig data.bin
}
sign_sha256_rsa_pkcs() {
  p11s --sign --id "$RSA_ID" -m SHA256-RSA-PKCS -i data.bin -o s2.sig &&
    openssl dgst -sha256 -verify "rsa$SLOT.pem" -signature s2.sig data.bin &&
    p11s --verify --id "$RSA_ID" -m SHA256-RSA-PKCS -i data.bin --signature-file s2.sig
}
sign_rsa_pss() {
  p11s --sign --id "$RSA_ID" -m RSA-PKCS-PSS --hash-algorithm SHA256 --mgf MGF1-SHA256 \
    --salt-len 32 -i data.sha256 -o s3.sig &&
    openssl pkeyutl -verify -pubin -inkey "rsa$SLOT.pem" -in data.sha256 -sigfile s3.sig \
      -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 \
      -pkeyopt rsa_mgf1_md:sha256
}
sign_sha256_rsa_pss() {
  p11s --sign --id "$RSA_ID" -m SHA256-RSA-PKCS-PSS --mgf MGF1-SHA256 --salt-len 32 \
    -i data.bin -o s4.sig &&
    openssl dgst -sha256 -verify "rsa$SLOT.pem" -sigopt rsa_padding_mode:pss \
      -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256 -signature s4.sig data.bin
}
sign_ecdsa() {
  p11s --sign --id "$EC_ID" -m ECDSA --signature-format openssl -i data.sha256 -o s5.sig &&
    openssl dgst -sha256 -verify "ec$SLOT.pem" -signature s5.sig data.bin
}
sign_ecdsa_sha256() {
  p11s --sign --id "$EC_ID" -m ECDSA-SHA256 --signature-format openssl -i data.bin -o s6.sig &&
    openssl dgst -sha256 -verify "ec$SLOT.pem" -signature s6.sig data.bin &&
    p11s --verify --id "$EC_ID" -m ECDSA-SHA256 --signature-format openssl -i data.bin \
      --signature-file s6.sig
}

decrypt_rsa_pkcs() {
  openssl pkeyutl -encrypt -pubin -inkey "rsa$SLOT.pem" -in secret.txt -out enc1.bin &&
    p11s --decrypt --id "$RSA_ID" -m RSA-PKCS -i enc1.bin -o dec1.txt &&
    cmp secret.txt dec1.txt
}
decrypt_rsa_oaep() {
  openssl pkeyutl -encrypt -pubin -inkey "rsa$SLOT.pem" -in secret.txt -out enc2.bin \
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 &&
    p11s --decrypt --id "$RSA_ID" -m RSA-PKCS-OAEP --hash-algorithm SHA256 --mgf MGF1-SHA256 \
      -i enc2.bin -o dec2.txt &&
    cmp secret.txt dec2.txt
}

write_read_cert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
    -out ca.pem -subj "/CN=Interop Test CA" -days 30 &&
    openssl req -new -key ca.key -subj "/CN=rsa-$SLOT" -out req.csr &&
    openssl x509 -req -in req.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
      -force_pubkey "rsa$SLOT.pem" -days 30 -outform DER -out "cert$SLOT.der" &&
    p11s --write-object "cert$SLOT.der" --type cert --id "$RSA_ID" --label "cert-$SLOT" &&
    p11s --read-object --type cert --id "$RSA_ID" -o "cert$SLOT.back.der" &&
    cmp "cert$SLOT.der" "cert$SLOT.back.der" &&
    openssl x509 -inform DER -in "cert$SLOT.back.der" -noout -subject | grep -q "rsa-$SLOT"
}
write_read_data() {
  head -c 3000 /dev/urandom >"data$SLOT.bin" &&
    p11s --write-object "data$SLOT.bin" --type data --label "data-$SLOT" \
      --application-label "interop-app" --application-id 1.2.840.113549.1.7.1 &&
    p11s --read-object --type data --label "data-$SLOT" -o "data$SLOT.back.bin" &&
    cmp "data$SLOT.bin" "data$SLOT.back.bin" &&
    p11s --list-objects --type data | tee data_objects.txt &&
    grep -q "Data object" data_objects.txt &&
    grep -q "label: *'\?data-$SLOT'\?\$" data_objects.txt &&
    grep -q "application: *'\?interop-app'\?\$" data_objects.txt &&
    grep -q "app_id: *1.2.840.113549.1.7.1" data_objects.txt
}
list_objects() {
  p11s --list-objects | tee objects.txt &&
    for l in "rsa-$SLOT" "ec-$SLOT" "cert-$SLOT"; do
      grep -q "label: *$l\$" objects.txt || { echo "label $l not listed"; return 1; }
    done &&
    grep -qi "ID: *$RSA_ID" objects.txt && grep -qi "ID: *$EC_ID" objects.txt
}
# Secret keys: an extractable (not sensitive) AES-256 key, its value read back, then
# AES-CBC-PAD encryption and decryption checked against `openssl enc` with that value.
aes_cbc_pad() {
  local iv=000102030405060708090a0b0c0d0e0f
  p11s --keygen --key-type AES:32 --label "aes-$SLOT" --id "c30$SLOT" --extractable \
    --usage-decrypt &&
    p11s --read-object --type secrkey --label "aes-$SLOT" -o aes.key &&
    [ "$(stat -c %s aes.key)" = 32 ] &&
    head -c 1000 /dev/urandom >aes.plain &&
    p11s --encrypt -m AES-CBC-PAD --iv "$iv" --id "c30$SLOT" -i aes.plain -o aes.p11 &&
    openssl enc -aes-256-cbc -K "$(xxd -p -c 64 aes.key)" -iv "$iv" -in aes.plain -out aes.ossl &&
    cmp aes.p11 aes.ossl &&
    p11s --decrypt -m AES-CBC-PAD --iv "$iv" --id "c30$SLOT" -i aes.ossl -o aes.back &&
    cmp aes.plain aes.back
}
# A generic secret: HMAC-SHA256 by the token equals `openssl mac`, and the token verifies it.
hmac_generic() {
  # (--id: without one, pkcs11-tool signs with the first private key it finds)
  p11s --keygen --key-type GENERIC:32 --label "hmac-$SLOT" --id "d40$SLOT" --extractable \
    --usage-sign &&
    p11s --read-object --type secrkey --label "hmac-$SLOT" -o hmac.key &&
    head -c 777 /dev/urandom >hmac.data &&
    p11s --sign -m SHA256-HMAC --id "d40$SLOT" -i hmac.data -o hmac.p11 &&
    openssl mac -digest SHA256 -macopt "hexkey:$(xxd -p -c 64 hmac.key)" -binary \
      -in hmac.data -out hmac.ossl HMAC &&
    cmp hmac.p11 hmac.ossl &&
    p11s --verify -m SHA256-HMAC --id "d40$SLOT" -i hmac.data --signature-file hmac.ossl
}
# AES key wrap (RFC 3394, CKM_AES_KEY_WRAP = 0x2109): a KEK wraps the AES key made above; the
# unwrapped copy has the original's value (read back and compared).
wrap_unwrap() {
  p11s --keygen --key-type AES:32 --label "kek-$SLOT" --id "e50$SLOT" --usage-wrap &&
    p11s --wrap -m 0x2109 --id "e50$SLOT" --application-id "c30$SLOT" -o wrapped.bin &&
    [ "$(stat -c %s wrapped.bin)" = 40 ] &&
    p11s --unwrap -m 0x2109 --id "e50$SLOT" -i wrapped.bin --key-type AES: \
      --application-id "f60$SLOT" --application-label "unwrapped-$SLOT" --extractable &&
    p11s --read-object --type secrkey --id "f60$SLOT" -o unwrapped.key &&
    cmp unwrapped.key aes.key
}
# RSA-PKCS key wrapping of that AES key (pkcs11-tool 0.23 passes no CK_RSA_PKCS_OAEP_PARAMS to
# C_WrapKey/C_UnwrapKey, so RSA-PKCS-OAEP is covered by the conformance suite only). Wrap under
# the public half of an openssl key written to the token (--usage-wrap gives that half
# CKA_WRAP; 0.23 ignores it on a public key written alone): openssl pkeyutl decrypts it to the
# key's value. Unwrap with a token key pair what openssl pkeyutl encrypted: same value back.
rsa_wrap_unwrap() {
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out wrapper.pem &&
    openssl pkey -in wrapper.pem -outform DER -out wrapper.der &&
    p11s --write-object wrapper.der --type privkey --id "b20$SLOT" --usage-wrap &&
    p11s --wrap -m RSA-PKCS --id "b20$SLOT" --application-id "c30$SLOT" -o rsa-wrapped.bin &&
    [ "$(stat -c %s rsa-wrapped.bin)" = 256 ] &&
    openssl pkeyutl -decrypt -inkey wrapper.pem -in rsa-wrapped.bin -out rsa-wrapped.key &&
    cmp rsa-wrapped.key aes.key &&
    p11s --keypairgen --key-type rsa:2048 --id "b10$SLOT" --label "rsawrap-$SLOT" --usage-wrap &&
    p11s --read-object --type pubkey --id "b10$SLOT" -o unwrapper.der &&
    openssl pkey -pubin -inform DER -in unwrapper.der -out unwrapper.pem &&
    openssl pkeyutl -encrypt -pubin -inkey unwrapper.pem -in aes.key -out rsa-enc.bin &&
    p11s --unwrap -m RSA-PKCS --id "b10$SLOT" -i rsa-enc.bin --key-type AES: \
      --application-id "f70$SLOT" --application-label "rsa-unwrapped-$SLOT" --extractable &&
    p11s --read-object --type secrkey --id "f70$SLOT" -o rsa-unwrapped.key &&
    cmp rsa-unwrapped.key aes.key
}
run_builtin_test() { p11s --test | tee test.txt && grep -q 'No errors' test.txt; }
delete_objects() {
  p11s --delete-object --type cert --id "$RSA_ID" &&
    p11s --delete-object --type data --label "data-$SLOT" &&
    p11s --list-objects --type data >data_after.txt &&
    ! grep -q "data-$SLOT" data_after.txt &&
    p11s --delete-object --type privkey --id "$EC_ID" &&
    p11s --delete-object --type pubkey --id "$EC_ID" &&
    p11s --list-objects >after.txt &&
    ! grep -q "label: *ec-$SLOT\$" after.txt && ! grep -q "label: *cert-$SLOT\$" after.txt &&
    grep -q "label: *rsa-$SLOT\$" after.txt
}
set_user_pin() {
  p11 --slot "$SLOT" --login --login-type so --so-pin so --init-pin --new-pin "$PIN" &&
    p11 --slot "$SLOT" --list-token-slots | grep -qi 'login required'
}
# With the scope PIN: no private key without --login, a wrong PIN refused, the right one shows it.
private_keys_need_login() {
  p11 --slot "$SLOT" --list-objects --type privkey >nologin.txt &&
    ! grep -q "rsa-$SLOT" nologin.txt &&
    ! p11 --slot "$SLOT" --login --pin "wrong-$PIN" --list-objects >wrong.txt 2>&1 &&
    grep -q CKR_PIN_INCORRECT wrong.txt &&
    p11s --list-objects --type privkey | grep -q "rsa-$SLOT"
}
other_slot_isolated() {
  [ "$OTHER" = "" ] && return 0
  p11 --slot "$OTHER" "${LOGIN[@]}" --list-objects >other.txt &&
    ! grep -q "label: *rsa-$SLOT\$" other.txt
}

step "list slots (both token labels)" list_slots
for SLOT in $SLOTS; do
  RSA_ID=$(printf 'a1%02x' "$SLOT")
  EC_ID=$(printf 'e2%02x' "$SLOT")
  OTHER=""
  for s in $SLOTS; do [ "$s" != "$SLOT" ] && OTHER=$s; done
  echo "== slot $SLOT"
  if [ "${SET_PIN:-0}" = 1 ] && [ -n "$PIN" ]; then
    step "slot $SLOT: set the user PIN (SO login, --init-pin)" set_user_pin
  fi
  step "slot $SLOT: mechanism list" list_mechanisms
  step "slot $SLOT: RSA-2048 key pair (--id $RSA_ID --label rsa-$SLOT)" keygen_rsa
  step "slot $SLOT: EC P-256 key pair (--id $EC_ID --label ec-$SLOT)" keygen_ec
  step "slot $SLOT: read public keys, DER -> PEM" read_pubkeys
  if [ "${SET_PIN:-0}" = 1 ] && [ -n "$PIN" ]; then
    step "slot $SLOT: private keys need --login --pin" private_keys_need_login
  fi
  step "slot $SLOT: sign RSA-PKCS, openssl verifies" sign_rsa_pkcs
  step "slot $SLOT: sign SHA256-RSA-PKCS, openssl + token verify" sign_sha256_rsa_pkcs
  step "slot $SLOT: sign RSA-PKCS-PSS (SHA256, MGF1-SHA256, salt 32), openssl verifies" sign_rsa_pss
  step "slot $SLOT: sign SHA256-RSA-PKCS-PSS, openssl verifies" sign_sha256_rsa_pss
  step "slot $SLOT: sign ECDSA (hash in software), openssl verifies" sign_ecdsa
  step "slot $SLOT: sign ECDSA-SHA256, openssl + token verify" sign_ecdsa_sha256
  step "slot $SLOT: decrypt RSA-PKCS of an openssl ciphertext" decrypt_rsa_pkcs
  step "slot $SLOT: decrypt RSA-PKCS-OAEP (SHA256) of an openssl ciphertext" decrypt_rsa_oaep
  step "slot $SLOT: write certificate object, read it back" write_read_cert
  step "slot $SLOT: write data object (label, application, OID), read it back, list it" \
    write_read_data
  step "slot $SLOT: AES-256 key (keygen AES:32), AES-CBC-PAD = openssl enc, decrypt" aes_cbc_pad
  step "slot $SLOT: generic secret (keygen GENERIC:32), SHA256-HMAC = openssl mac, verify" \
    hmac_generic
  step "slot $SLOT: AES-KEY-WRAP the AES key under a KEK, unwrap, same value" wrap_unwrap
  step "slot $SLOT: RSA-PKCS wrap = openssl pkeyutl -decrypt; unwrap of pkeyutl -encrypt" \
    rsa_wrap_unwrap
  step "slot $SLOT: list objects shows labels and ids" list_objects
  step "slot $SLOT: keys not visible in slot ${OTHER:-none}" other_slot_isolated
  step "slot $SLOT: pkcs11-tool --test" run_builtin_test
  step "slot $SLOT: delete objects" delete_objects
done

echo "pkcs11-tool interop: $passed passed, $failed failed"
# One row for the interop summary table (interop/summary.sh), when ctest names the file.
if [ -n "${INTEROP_RESULTS:-}" ]; then
  result=PASS
  [ "$failed" -eq 0 ] || result=FAIL
  client=pkcs11-tool
  [ "${SET_PIN:-0}" = 1 ] && client="pkcs11-tool (PIN)"
  printf '%s\t%s\t%s\t%s\n' "$client" "$result" "$SECONDS" "$passed passed, $failed failed" \
    >>"$INTEROP_RESULTS"
fi
[ "$failed" -eq 0 ]
