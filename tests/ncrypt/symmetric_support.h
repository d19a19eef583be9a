// Helpers for the symmetric-key contract tests: the reference results come from plain OpenSSL
// EVP calls (independent of cng_model's code) or from published vectors.
#pragma once

#include <string>
#include <string_view>

#include "ncrypt_test_support.h"

namespace ncrypt_test {

Bytes hex(std::string_view h);
Bytes text(std::string_view s);
Bytes random_bytes(std::size_t n);

// OpenSSL reference: cipher "AES-128-CBC" etc.; pad = PKCS#7.
Bytes ref_cipher(const char* cipher, const Bytes& key, const Bytes& iv, const Bytes& in,
                 bool encrypt, bool pad);
// OpenSSL reference AES-GCM encryption: ciphertext, and the tag (tag_len bytes) in tag.
Bytes ref_gcm_encrypt(const Bytes& key, const Bytes& nonce, const Bytes& aad, const Bytes& plain,
                      std::size_t tag_len, Bytes& tag);
// OpenSSL reference HMAC ("SHA256"…).
Bytes ref_hmac(const char* md, const Bytes& key, const Bytes& data);

// A CipherKeyBlob built by hand from the documented layout (not by the library).
Bytes cipher_key_blob(std::u16string_view algorithm, const Bytes& key);

// NCryptEncrypt/NCryptDecrypt with the two-call protocol; returns the status of the second
// call (or of the size query when it fails).
SECURITY_STATUS aes_call(bool encrypt, NCRYPT_KEY_HANDLE key, const Bytes& in,
                         NCRYPT_CIPHER_PADDING_INFO* info, Bytes& out);

// An NCRYPT_CIPHER_PADDING_INFO for ECB/CBC (iv may be empty).
struct CipherInfo {
  Bytes iv;
  NCRYPT_CIPHER_PADDING_INFO info{};
  explicit CipherInfo(Bytes iv_in, DWORD flags = NCRYPT_CIPHER_NO_PADDING_FLAG);
  NCRYPT_CIPHER_PADDING_INFO* get() { return &info; }
};

// GCM parameters wired into NCRYPT_CIPHER_PADDING_INFO + BCRYPT_AUTHENTICATED_CIPHER_MODE_INFO.
struct GcmInfo {
  Bytes nonce;
  Bytes aad;
  Bytes tag;
  BCRYPT_AUTHENTICATED_CIPHER_MODE_INFO auth{};
  NCRYPT_CIPHER_PADDING_INFO info{};
  GcmInfo(Bytes nonce_in, Bytes aad_in, std::size_t tag_len);
  GcmInfo(const GcmInfo&) = delete;
  GcmInfo& operator=(const GcmInfo&) = delete;
  NCRYPT_CIPHER_PADDING_INFO* get() { return &info; }
};

// The symmetric-key fixture: the software provider only (the TPM provider keeps no
// symmetric keys), with helpers to create and import keys.
class SymmetricTest : public NCryptTest {
 protected:
  void SetUp() override;
  // Imports raw key bytes as an (ephemeral unless named) key, finalized.
  NCRYPT_KEY_HANDLE import_secret(std::u16string_view algorithm, const Bytes& key,
                                  const char16_t* name = nullptr, DWORD flags = 0);
  NCRYPT_KEY_HANDLE import_aes(const Bytes& key, const char16_t* mode = BCRYPT_CHAIN_MODE_CBC);
  static SECURITY_STATUS set_mode(NCRYPT_KEY_HANDLE key, const char16_t* mode);
};

}  // namespace ncrypt_test
