#!/usr/bin/env bash
# Interop test: NSS tools (libnss3-tools). The module is added with modutil to a fresh NSS
# database; certutil lists the token's certificates and keys (-L/-K -h "CNG Software (user)"),
# makes a PKCS#10 request with a key pair generated on the token (-R), self-signed
# certificates with token keys (-S, RSA and EC), and imports a CA-issued certificate for the
# request key onto the token (-A -h). Every signature NSS made with a token key is verified by
# OpenSSL; certificates must be stored on the token and linked to their keys (no "(orphan)").
#   nss.sh MODULE [CNGKEY]
. "$(dirname "$0")/lib/common.sh"
interop_init nss "$@"
require_cmd certutil libnss3-tools
require_cmd modutil libnss3-tools
require_cmd openssl openssl

DB=sql:$WORK/nssdb
MODNAME="CNG PKCS11"
head -c 64 /dev/urandom >noise.bin
cu() { certutil -d "$DB" "$@" </dev/null; }
cu_tok() { cu -h "$TOKEN_USER" "$@"; }

add_module() {
  mkdir nssdb && certutil -N -d "$DB" --empty-password &&
    modutil -force -dbdir "$DB" -add "$MODNAME" -libfile "$MODULE" &&
    modutil -dbdir "$DB" -list "$MODNAME" | tee modlist.txt &&
    grep -q "Token Name: *$TOKEN_USER" modlist.txt &&
    grep -q "Token Name: *$TOKEN_MACHINE" modlist.txt &&
    grep -q "library=$MODULE" nssdb/pkcs11.txt
}
empty_listing() {
  cu_tok -L | tee list0.txt &&
    ! grep -q "$TOKEN_USER:" list0.txt &&
    cu -h "$TOKEN_MACHINE" -L
}
request() {
  cu_tok -R -z noise.bin -k rsa -g 2048 -s "CN=nss request,O=Interop" -a -o req.csr &&
    sw_openssl req -in req.csr -noout -verify &&
    sw_openssl req -in req.csr -noout -subject | tee /dev/stderr | grep -q 'CN *= *nss request' &&
    sw_openssl req -in req.csr -noout -pubkey >req_pub.pem
}
issue_for_request() {
  # a software CA signs the request; the certificate goes onto the token beside its key
  make_ca ca "Interop NSS CA" &&
    sw_openssl x509 -req -in req.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
      -out req_cert.pem &&
    cu_tok -A -n nss-req -t ",," -a -i req_cert.pem &&
    cu_tok -L -n "$TOKEN_USER:nss-req" -a >req_cert_back.pem &&
    cmp <(sw_openssl x509 -in req_cert.pem -outform DER) <(sw_openssl x509 -in req_cert_back.pem -outform DER)
}
selfsigned() { # NICK KEY-ARGS...
  local nick=$1
  shift
  cu_tok -S -z noise.bin "$@" -n "$nick" -s "CN=$nick selfsigned,O=Interop" -x -t "u,u,u" -v 12 &&
    cu_tok -L -n "$TOKEN_USER:$nick" -a >"$nick.pem" &&
    sw_openssl verify -CAfile "$nick.pem" "$nick.pem" &&
    sw_openssl x509 -in "$nick.pem" -noout -subject | grep -q "CN *= *$nick selfsigned"
}
listing() {
  # a new certutil process: what the token keeps, as NSS sees it
  cu_tok -L | tee list.txt &&
    for n in nss-req nss-rsa nss-ec; do
      grep -q "^$TOKEN_USER:$n " list.txt || { echo "certificate $n not on the token"; return 1; }
    done &&
    cu_tok -K | tee keys.txt &&
    for n in nss-req nss-rsa nss-ec; do
      grep -q "$TOKEN_USER:$n\$" keys.txt || { echo "key of $n not linked to its certificate"; return 1; }
    done &&
    if grep -q orphan keys.txt; then echo "orphan keys listed"; return 1; fi
}
key_ids() {
  # CKA_ID as NSS sets it (SHA-1 of the public value) is what -K prints; the request key
  # must carry the ID of its public key
  local want
  want=$(pubkey_id req_pub.pem) &&
    echo "request key CKA_ID $want" &&
    grep -qi "$want" keys.txt
}
in_token_not_nss_db() {
  # a second, fresh NSS database sees the same certificates and keys: they live in our
  # store, and NSS's own key database holds no key
  mkdir nssdb2 && certutil -N -d "sql:$WORK/nssdb2" --empty-password &&
    modutil -force -dbdir "sql:$WORK/nssdb2" -add "$MODNAME" -libfile "$MODULE" &&
    certutil -L -d "sql:$WORK/nssdb2" -h "$TOKEN_USER" </dev/null | tee list_db2.txt &&
    for n in nss-req nss-rsa nss-ec; do
      grep -q "^$TOKEN_USER:$n " list_db2.txt || { echo "$n not seen from a fresh db"; return 1; }
    done &&
    ! certutil -K -d "$DB" -h internal </dev/null
}
verify_usage() {
  # NSS verifies the CA-issued certificate (trust for the CA in the NSS db) and the self-signed one
  cu -A -n "Interop NSS CA" -t "CT,," -a -i ca.pem &&
    cu -V -n "$TOKEN_USER:nss-req" -u C &&
    cu -M -n "$TOKEN_USER:nss-rsa" -t "CTu,u,u" &&
    cu -V -n "$TOKEN_USER:nss-rsa" -u C
}
delete_key_and_cert() {
  cu_tok -F -n "$TOKEN_USER:nss-ec" &&
    cu_tok -L | tee list2.txt &&
    ! grep -q "^$TOKEN_USER:nss-ec " list2.txt &&
    cu_tok -K | tee keys2.txt &&
    ! grep -q "nss-ec" keys2.txt
}

must "modutil -add into a fresh NSS db; both tokens listed" add_module
step "certutil -L -h (fresh token: no certificates), machine token too" empty_listing
must "certutil -R: RSA-2048 key pair on the token, request verified by OpenSSL" request
step "CA-issued certificate for the request key stored on the token (certutil -A -h)" issue_for_request
step "certutil -S: EC P-256 key on the token, self-signed, verified by OpenSSL" selfsigned nss-ec -k ec -q nistp256
step "certutil -S: RSA-2048 key on the token, self-signed, verified by OpenSSL" selfsigned nss-rsa -k rsa -g 2048
step "certutil -L/-K -h: certificates on the token, keys linked to them (no orphans)" listing
step "request key CKA_ID = SHA-1 of its modulus" key_ids
step "a second NSS db sees the token certificates; no key in NSS's own db" in_token_not_nss_db
step "certutil -V: NSS validates the token certificates" verify_usage
step "certutil -F: deleting a key removes it and its certificate" delete_key_and_cert
interop_finish
