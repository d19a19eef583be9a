// KeyView: what a cryptographic operation needs to know about a key object. The object
// layer (module/objects) builds one per C_*Init; the mechanism layer never sees objects.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "ncrypt.h"
#include "pkcs11/pkcs11_all.h"

namespace p11 {

struct KeyView {
  CK_OBJECT_CLASS object_class =
      CKO_PRIVATE_KEY;             // CKO_PRIVATE_KEY / CKO_PUBLIC_KEY / CKO_SECRET_KEY
  CK_KEY_TYPE key_type = CKK_RSA;  // CKK_RSA / CKK_EC / CKK_AES / CKK_GENERIC_SECRET
  CK_ULONG bits = 0;  // RSA modulus bits, EC field bits, secret bits (8 × CKA_VALUE_LEN)
  // The CNG key for private operations (sign, decrypt, derive) and for every operation of a
  // secret key; 0 for public objects.
  // The object layer keeps it open for the object's lifetime.
  NCRYPT_KEY_HANDLE ncrypt_key = 0;
  // Keeps ncrypt_key open while this KeyView (or a copy) lives, even if the object is
  // destroyed meanwhile: an operation should keep its KeyView (or this pointer) until it ends.
  std::shared_ptr<const void> key_owner;
  // The provider that holds ncrypt_key (ECDH derive imports the peer's public key there).
  NCRYPT_PROV_HANDLE ncrypt_provider = 0;
  // Secret keys (CKO_SECRET_KEY over a CNG AES or generic-secret key): ncrypt_key is the key
  // itself. Its NCRYPT_CHAINING_MODE_PROPERTY is per handle and the handle is shared by every
  // object and operation over the key, so a cipher call sets the mode and encrypts while
  // holding handle_lock (one mutex per CNG key handle, never held across calls).
  std::shared_ptr<std::mutex> handle_lock;
  // DER SubjectPublicKeyInfo for public operations (verify, encrypt) done in software.
  std::vector<std::uint8_t> spki_der;
  // The object's usage attributes (CKA_SIGN, CKA_VERIFY, …).
  bool can_sign = false;
  bool can_verify = false;
  bool can_encrypt = false;
  bool can_decrypt = false;
  bool can_derive = false;
  bool can_wrap = false;
  bool can_unwrap = false;
  // CKA_ALWAYS_AUTHENTICATE: each private operation needs C_Login(CKU_CONTEXT_SPECIFIC).
  bool always_authenticate = false;
  // CKA_ALLOWED_MECHANISMS; empty means any.
  std::vector<CK_MECHANISM_TYPE> allowed_mechanisms;
};

}  // namespace p11
