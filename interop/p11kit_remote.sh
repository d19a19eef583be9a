#!/usr/bin/env bash
# Interop test: the module used from "another machine" through p11-kit's RPC, the path Debian 12
# ships (p11-kit server + p11-kit-client.so). The server loads the module with the host's key
# store and exports the user token on a unix socket; pkcs11-tool loads only p11-kit-client.so,
# with P11_KIT_SERVER_ADDRESS and a key store of its own that stays empty (as a container or a
# second machine behind an ssh-forwarded socket would be): keygen, sign (verified by OpenSSL),
# list; the key lands in the host's store (cngkey sees it there).
#   p11kit_remote.sh MODULE [CNGKEY]
#   P11_KIT_CLIENT (default: Debian's p11-kit-client.so)
# set -u only: like every interop script, a failing step is counted and the next one runs
# (lib/common.sh's step/must), which set -e would cut short.
set -u
. "$(dirname "$0")/lib/common.sh"
interop_init p11kit-remote "$@"
MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
P11_KIT_CLIENT=${P11_KIT_CLIENT:-/usr/lib/$MULTIARCH/pkcs11/p11-kit-client.so}
require_cmd p11-kit p11-kit
require_file /usr/libexec/p11-kit/p11-kit-server p11-kit
require_file "$P11_KIT_CLIENT" p11-kit-modules
require_cmd pkcs11-tool opensc
require_cmd openssl openssl

SOCKET=$WORK/p11-kit.sock
HOST_STORE=$CNG_PKCS11_USER_DIR
mkdir -m 700 "$WORK/remote-user" "$WORK/remote-machine"

# remote ARGS...: pkcs11-tool on the client side: only p11-kit-client.so, another store.
remote() {
  CNG_PKCS11_USER_DIR=$WORK/remote-user CNG_PKCS11_MACHINE_DIR=$WORK/remote-machine \
    P11_KIT_SERVER_ADDRESS=unix:path=$SOCKET \
    pkcs11-tool --module "$P11_KIT_CLIENT" --token-label "$TOKEN_USER" "${P11_LOGIN[@]}" "$@"
}

start_server() {
  bg_start server.log p11-kit server --foreground --name "$SOCKET" --provider "$MODULE" \
    "pkcs11:token=$(uri_enc "$TOKEN_USER")"
  wait_for_log server.log "P11_KIT_SERVER_ADDRESS=unix:path=$SOCKET" 15 &&
    for _ in $(seq 50); do [ -S "$SOCKET" ] && return 0; sleep 0.1; done
  echo "no socket $SOCKET"
  return 1
}

# The client sees exactly the exported token (not the machine one).
token_exported() {
  CNG_PKCS11_USER_DIR=$WORK/remote-user P11_KIT_SERVER_ADDRESS=unix:path=$SOCKET \
    pkcs11-tool --module "$P11_KIT_CLIENT" --list-slots >slots.txt || return 1
  cat slots.txt
  grep -q "token label *: $TOKEN_USER" slots.txt && ! grep -q "token label *: $TOKEN_MACHINE" slots.txt
}

keygen() {
  remote --keypairgen --key-type EC:prime256v1 --id 5e01 --label remote-ec &&
    remote --keypairgen --key-type rsa:2048 --id 5e02 --label remote-rsa
}

# The keys are the host's: in the server's store, none in the client's own.
keys_on_host() {
  [ -n "$(ls -A "$HOST_STORE")" ] || { echo "host store $HOST_STORE is empty"; return 1; }
  [ -z "$(ls -A "$WORK/remote-user")" ] || { echo "the client wrote its own store"; return 1; }
  if [ -n "$CNGKEY" ]; then
    "$CNGKEY" list --scope user | tee cngkey.txt && grep -q '^remote-ec' cngkey.txt &&
      grep -q '^remote-rsa' cngkey.txt
  fi
}

# p11-kit 0.24 (Debian 12) forwards only the mechanisms its RPC knows: CKM_ECDSA but not
# CKM_ECDSA_SHA256, CKM_SHA256_RSA_PKCS but not the hashing PSS ones (they are missing from the
# client's mechanism list). The EC signature is made on a SHA-256 digest computed here.
sign_verify() {
  echo "signed on the host, asked for remotely" >data.txt
  sw_openssl dgst -sha256 -binary data.txt >data.sha256 || return 1
  remote --read-object --type pubkey --id 5e01 -o ec_pub.der &&
    remote --read-object --type pubkey --id 5e02 -o rsa_pub.der &&
    sw_openssl pkey -pubin -inform DER -in ec_pub.der -out ec_pub.pem &&
    sw_openssl pkey -pubin -inform DER -in rsa_pub.der -out rsa_pub.pem &&
    remote --sign --mechanism ECDSA --id 5e01 --signature-format openssl \
      --input-file data.sha256 --output-file ec.sig &&
    sw_openssl dgst -sha256 -verify ec_pub.pem -signature ec.sig data.txt &&
    remote --sign --mechanism SHA256-RSA-PKCS --id 5e02 --input-file data.txt \
      --output-file rsa.sig &&
    sw_openssl dgst -sha256 -verify rsa_pub.pem -signature rsa.sig data.txt
}

list_objects() {
  remote --list-objects >objects.txt || return 1
  cat objects.txt
  grep -q 'label: *remote-ec' objects.txt && grep -q 'label: *remote-rsa' objects.txt
}

must "p11-kit server exports the user token on $SOCKET" start_server
must "p11-kit-client.so sees the exported token only" token_exported
must "keygen through the client (EC P-256, RSA 2048)" keygen
step "the keys are in the host's store" keys_on_host
step "sign through the client, verified by OpenSSL (ECDSA, SHA256-RSA-PKCS)" sign_verify
step "list through the client" list_objects
interop_finish
