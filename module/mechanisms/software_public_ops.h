// Public-key work in software (OpenSSL) on KeyView::spki_der: signature verification and
// RSA encryption. The key is parsed once per C_*Init and its EVP_PKEY_CTX configured once.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "mechanisms/hashes.h"
#include "mechanisms/key_view.h"
#include "mechanisms/ncrypt_private_ops.h"
#include "mechanisms/ossl_util.h"

namespace p11::mech {

class SoftwareVerifier {
 public:
  // kPkcs1: hash is the digest the input is (kNone: the input is a whole DigestInfo);
  // kPss: hash (= MGF1 hash) and salt_len; kEcdsa: hash ignored.
  SoftwareVerifier(const KeyView& key, SignPadding padding, HashAlg hash, ULONG salt_len);
  // Throws CKR_SIGNATURE_LEN_RANGE or CKR_SIGNATURE_INVALID.
  void verify(std::span<const std::uint8_t> input, std::span<const std::uint8_t> signature) const;
  [[nodiscard]] std::size_t signature_size() const noexcept { return signature_size_; }

 private:
  void verify_raw(std::span<const std::uint8_t> input,
                  std::span<const std::uint8_t> signature) const;

  PkeyPtr key_;
  PkeyCtxPtr ctx_;
  SignPadding padding_;
  std::size_t signature_size_ = 0;
  std::size_t field_bytes_ = 0;  // ECDSA
};

class SoftwareEncryptor {
 public:
  // rsa_padding: RSA_PKCS1_PADDING, RSA_PKCS1_OAEP_PADDING (oaep_hash, label) or RSA_NO_PADDING.
  SoftwareEncryptor(const KeyView& key, int rsa_padding, HashAlg oaep_hash,
                    std::span<const std::uint8_t> label);
  // The input length is the caller's to check; RSA_NO_PADDING input must be modulus-sized.
  [[nodiscard]] std::vector<std::uint8_t> encrypt(std::span<const std::uint8_t> input) const;
  [[nodiscard]] std::size_t modulus_bytes() const noexcept { return modulus_bytes_; }

 private:
  PkeyPtr key_;
  PkeyCtxPtr ctx_;
  std::size_t modulus_bytes_ = 0;
};

}  // namespace p11::mech
