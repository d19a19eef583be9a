// Test support for the secret-key mechanisms: CNG AES and generic-secret keys imported through
// NCryptImportKey(NCRYPT_CIPHER_KEY_BLOB) from random or published key bytes, KeyViews over
// them (as the object layer builds them), OpenSSL EVP references, and drivers that run an
// Operation the way the ABI does while checking its size announcements.
#pragma once

#include <memory>
#include <string_view>

#include "mech_test_support.h"

namespace mechtest {

Bytes hex(std::string_view h);
Bytes text(std::string_view s);
Bytes concat(const Bytes& a, const Bytes& b);

// An ephemeral CNG key holding known key bytes; the handle is freed when the last view or
// operation over it lets go of its owner.
struct SecretKey {
  NCRYPT_KEY_HANDLE handle = 0;
  CK_KEY_TYPE key_type = CKK_AES;
  Bytes value;
  std::shared_ptr<const void> owner;
  std::shared_ptr<std::mutex> lock;

  // CKO_SECRET_KEY with every usage allowed; tests switch usages off as needed.
  [[nodiscard]] p11::KeyView view() const;
};

// CKK_AES (16/24/32 bytes) or CKK_GENERIC_SECRET (1..512 bytes), with the CNG Key Usage given.
std::shared_ptr<SecretKey> import_secret(CK_KEY_TYPE type, const Bytes& value,
                                         DWORD key_usage = NCRYPT_ALLOW_ALL_USAGES);
std::shared_ptr<SecretKey> random_aes(std::size_t bytes);

// OpenSSL references. cipher: "AES-128-CBC" etc.; pad = PKCS#7.
Bytes ossl_cipher(const char* cipher, const Bytes& key, const Bytes& iv, const Bytes& in,
                  bool encrypt, bool pad);
std::string aes_name(std::size_t key_bytes, const char* mode);
// Ciphertext || tag.
Bytes ossl_gcm_encrypt(const Bytes& key, const Bytes& iv, const Bytes& aad, const Bytes& plain,
                       std::size_t tag_len);
Bytes ossl_hmac(const char* md_name, const Bytes& key, const Bytes& data);

// C_Encrypt / C_Decrypt / C_Sign through one_shot(), checking one_shot_output_size() (exact
// for encrypt and sign, an upper bound for decrypt that becomes exact) and, for decrypt, that
// a repeated call returns the same plaintext.
Bytes one_shot(p11::OpKind kind, const CK_MECHANISM& m, const p11::KeyView& key, const Bytes& in);
// C_*Update in chunks of the given sizes (cycled), then C_*Final, checking that every
// update returns exactly update_output_size() bytes and the final size announcement.
Bytes multi_part(p11::OpKind kind, const CK_MECHANISM& m, const p11::KeyView& key, const Bytes& in,
                 const std::vector<std::size_t>& chunks);
// Odd chunk sizes used throughout.
const std::vector<std::size_t>& odd_chunks();

// HMAC verification through verify_one_shot / update + verify_final; returns the CK_RV.
CK_RV verify_multi(const CK_MECHANISM& m, const p11::KeyView& key, const Bytes& data,
                   const Bytes& mac, std::size_t chunk);

// start_operation on the software provider's slot (tpm: the platform profile's capabilities).
inline std::unique_ptr<p11::Operation> start_sw(p11::OpKind kind, const CK_MECHANISM& m,
                                                const p11::KeyView* key, bool tpm = false) {
  return p11::start_operation(kind, m, key, tpm ? platform_caps() : software_caps());
}

}  // namespace mechtest
