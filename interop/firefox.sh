#!/usr/bin/env bash
# Interop test: headless Firefox ESR, TLS client-certificate authentication with the client key
# and certificate in our user slot. The module is registered in a prepared profile
# (modutil -add → pkcs11.txt), security.default_personal_cert = "Select Automatically".
# Two client key pairs are generated on the token by NSS (certutil -R, RSA-2048 and EC P-256),
# certified by two software CAs, and their certificates written to the token. One Firefox run
# (driven over Marionette by firefox/ff_client.py) visits one `openssl s_server -Verify 1` per
# CA on 127.0.0.1; each server's log must show the client certificate's subject.
#   firefox.sh MODULE [CNGKEY]
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/openssl.sh"
. "$(dirname "$0")/lib/firefox.sh"
interop_init firefox "$@"
require_cmd "$FIREFOX" firefox-esr
require_cmd certutil libnss3-tools
require_cmd modutil libnss3-tools
require_cmd python3 python3
require_cmd openssl openssl

# A scratch NSS database generates the keys on the token and writes the certificates there;
# the Firefox profile gets only the module and the server CA.
TOKDB=sql:$WORK/tokdb
head -c 64 /dev/urandom >noise.bin
tokdb() { certutil -d "$TOKDB" -h "$TOKEN_USER" "$@" </dev/null; }

scratch_db() {
  mkdir tokdb && certutil -N -d "$TOKDB" --empty-password &&
    modutil -force -dbdir "$TOKDB" -add "CNG PKCS11" -libfile "$MODULE"
}
client_cert() { # NICK CN KEY-ARGS...
  local nick=$1 cn=$2
  shift 2
  make_ca "ca_$nick" "Interop Firefox client CA $nick $$" &&
    tokdb -R -z noise.bin "$@" -s "CN=$cn,O=Interop" -o "$nick.csr" &&
    sw_openssl x509 -req -inform DER -in "$nick.csr" -CA "ca_$nick.pem" -CAkey "ca_$nick.key" \
      -CAcreateserial -days 30 -extfile client.ext -out "$nick.pem" &&
    tokdb -A -n "$nick" -t ",," -a -i "$nick.pem" &&
    tokdb -K | tee keys.txt | grep -q "$TOKEN_USER:$nick\$"
}
certs_only_on_token() {
  certutil -L -d "sql:$FF_PROFILE" -h "$TOKEN_USER" </dev/null | tee ff_token_certs.txt &&
    grep -q "$TOKEN_USER:ff-rsa" ff_token_certs.txt &&
    grep -q "$TOKEN_USER:ff-ec" ff_token_certs.txt &&
    ! certutil -L -d "sql:$FF_PROFILE" -h internal </dev/null | grep -q 'ff-'
}
servers() {
  client_auth_server rsa ca_ff-rsa && client_auth_server ec ca_ff-ec
}

must "software PKI: server CA and 127.0.0.1 server certificate" server_pki
client_ext client.ext
must "scratch NSS db with the module" scratch_db
must "RSA-2048 client key generated on the token (certutil -R), CA certificate written to the token" \
  client_cert ff-rsa "Firefox RSA client" -k rsa -g 2048
must "EC P-256 client key generated on the token, CA certificate written to the token" \
  client_cert ff-ec "Firefox EC client" -k ec -q nistp256
must "Firefox profile: module in pkcs11.txt, server CA trusted, Select Automatically" ff_profile
step "client certificates are on the token only (not in the profile's own db)" certs_only_on_token
must "s_server -Verify 1 -www on 127.0.0.1, one per client CA" servers
step "one headless Firefox run visits both servers" ff_run rsa ec
step "RSA: server log shows the client certificate subject (Firefox signed with the token key)" \
  ff_client_auth_ok rsa "Firefox RSA client"
step "EC: server log shows the client certificate subject (Firefox signed with the token key)" \
  ff_client_auth_ok ec "Firefox EC client"
interop_finish
