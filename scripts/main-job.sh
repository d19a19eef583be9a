#!/bin/sh
# The main job: build the module, then a real PKCS#11 client (OpenSC's pkcs11-tool) generates a
# persisted key in the user slot, signs with it, the signature is verified with OpenSSL, and the
# key is listed both through PKCS#11 and with `cngkey list` (the CNG view of the same store).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
BUILD_DIR=$BUILD_DIR "$ROOT/scripts/build.sh" -DCMAKE_BUILD_TYPE=RelWithDebInfo

MODULE=$BUILD_DIR/module/libcng_pkcs11.so
CNGKEY=$BUILD_DIR/cli/cngkey
# A store of its own unless the caller chose one.
export CNG_PKCS11_USER_DIR=${CNG_PKCS11_USER_DIR:-$BUILD_DIR/main-job/user}
export CNG_PKCS11_MACHINE_DIR=${CNG_PKCS11_MACHINE_DIR:-$BUILD_DIR/main-job/machine}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
LABEL="main-job-$(date +%s)"
P11="pkcs11-tool --module $MODULE --slot 0"

echo "== slots"
pkcs11-tool --module "$MODULE" --list-slots
echo "== generate a persisted EC P-256 key pair labelled $LABEL in slot 0 (CNG Software (user))"
$P11 --keypairgen --key-type EC:prime256v1 --id 4d4a --label "$LABEL"
echo "== sign with it (ECDSA over SHA-256)"
printf 'signed by the CNG software key storage provider\n' >"$WORK/data"
$P11 --sign --mechanism ECDSA-SHA256 --id 4d4a --signature-format openssl \
  --input-file "$WORK/data" --output-file "$WORK/sig"
echo "== verify the signature with OpenSSL on the exported public key"
$P11 --read-object --type pubkey --id 4d4a --output-file "$WORK/pub.der"
openssl pkey -pubin -inform DER -in "$WORK/pub.der" -out "$WORK/pub.pem"
openssl dgst -sha256 -verify "$WORK/pub.pem" -signature "$WORK/sig" "$WORK/data"
echo "== objects in the token"
$P11 --list-objects
echo "== the same key seen through CNG: cngkey list --scope user"
"$CNGKEY" list --scope user
echo "main job: OK (store: $CNG_PKCS11_USER_DIR)"
