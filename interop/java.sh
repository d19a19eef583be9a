#!/usr/bin/env bash
# Interop test: Java SunPKCS11 (OpenJDK 17). A SunPKCS11 configuration names our module and the
# user slot; keytool lists the token, generates RSA and EC key pairs ON the token
# (-providername: C_GenerateKeyPair + C_CopyObject to the token) with self-signed certificates
# stored beside them; java/P11Sign.java (compiled here with javac) signs with every key and
# verifies with the JDK's software providers; keytool's exported certificates are verified by
# OpenSSL. Key entries must come paired with their certificates.
#   java.sh MODULE [CNGKEY]
. "$(dirname "$0")/lib/common.sh"
interop_init java "$@"
require_cmd keytool openjdk-17-jdk-headless
require_cmd javac openjdk-17-jdk-headless
require_cmd java openjdk-17-jdk-headless
require_cmd openssl openssl

STOREPASS=unused-pin # the tokens need no login; SunPKCS11 may still log in, any PIN is accepted
cat >pkcs11.cfg <<CFG
name = CNG
library = $MODULE
slot = $SLOT_USER
CFG
KT=(-keystore NONE -storetype PKCS11 -providerClass sun.security.pkcs11.SunPKCS11
  -providerArg "$WORK/pkcs11.cfg" -storepass "$STOREPASS")
kt() { keytool "$@" "${KT[@]}" </dev/null; }

compile() { mkdir classes && javac -d classes "$INTEROP_SRC_DIR/java/P11Sign.java"; }
list_empty() { kt -list | tee list0.txt && grep -q 'contains 0 entries' list0.txt; }
genkeypair_rsa() {
  kt -genkeypair -alias java-rsa -keyalg RSA -keysize 2048 -sigalg SHA256withRSA \
    -dname "CN=java-rsa,O=Interop" -validity 30 -providername SunPKCS11-CNG
}
genkeypair_ec() {
  kt -genkeypair -alias java-ec -keyalg EC -groupname secp256r1 -sigalg SHA256withECDSA \
    -dname "CN=java-ec,O=Interop" -validity 30 -providername SunPKCS11-CNG
}
list_entries() {
  kt -list | tee list.txt &&
    grep -q 'contains 2 entries' list.txt &&
    grep -q '^java-rsa, PrivateKeyEntry' list.txt &&
    grep -q '^java-ec, PrivateKeyEntry' list.txt
}
export_verify() { # ALIAS
  kt -exportcert -rfc -alias "$1" -file "$1.pem" &&
    sw_openssl verify -CAfile "$1.pem" "$1.pem" &&
    sw_openssl x509 -in "$1.pem" -noout -subject | grep -q "CN *= *$1"
}
sign_program() {
  java -cp classes P11Sign "$WORK/pkcs11.cfg" "$STOREPASS" java-rsa java-ec
}
persisted_in_store() {
  # the key pairs went to our store (token objects), not only to Java's session
  [ "$(find "$CNG_PKCS11_USER_DIR" -maxdepth 1 -type f | wc -l)" -ge 2 ] &&
    [ "$(find "$CNG_PKCS11_USER_DIR/certs" -type f 2>/dev/null | wc -l)" -ge 2 ]
}
delete_entry() {
  kt -delete -alias java-ec && kt -list | tee list2.txt && grep -q 'contains 1 entry' list2.txt &&
    ! grep -q '^java-ec,' list2.txt
}

must "javac P11Sign.java" compile
must "keytool -list: SunPKCS11 opens slot $SLOT_USER ($TOKEN_USER), no entries yet" list_empty
step "keytool -genkeypair RSA-2048 on the token (-providername SunPKCS11-CNG)" genkeypair_rsa
step "keytool -genkeypair EC secp256r1 on the token" genkeypair_ec
step "keytool -list: two PrivateKeyEntry entries (keys paired with certificates)" list_entries
step "key pairs and certificates persisted in the token's store" persisted_in_store
step "keytool -exportcert java-rsa, self-signature verified by OpenSSL" export_verify java-rsa
step "keytool -exportcert java-ec, self-signature verified by OpenSSL" export_verify java-ec
step "P11Sign: SHA256withRSA, RSASSA-PSS, SHA256/384withECDSA on the token, verified in software" sign_program
step "keytool -delete java-ec" delete_entry
interop_finish
