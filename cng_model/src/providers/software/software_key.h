// SoftwareKey: KeyMaterial on an OpenSSL 3 EVP_PKEY (RSA or a NIST-curve EC key).
#pragma once

#include <openssl/evp.h>

#include <memory>

#include "cng_common/ossl_ptr.h"
#include "providers/key_material.h"
#include "providers/software/context_pool.h"

namespace cng::soft {

class SoftwareKey final : public KeyMaterial {
 public:
  // key: an RSA or EC (P-256/384/521) key; algorithm kEcdsa/kEcdh for EC keys records whether
  // the key was made for signing or agreement (an ECDH key may also sign, as on Windows).
  // NTE_NOT_SUPPORTED for another key type or curve.
  static std::shared_ptr<SoftwareKey> make(ossl::PkeyPtr key, KeyAlgorithm algorithm,
                                           bool has_private);

  [[nodiscard]] KeyAlgorithm algorithm() const noexcept override { return algorithm_; }
  [[nodiscard]] Curve curve() const noexcept override { return curve_; }
  [[nodiscard]] DWORD bits() const noexcept override { return bits_; }
  [[nodiscard]] bool has_private() const noexcept override { return has_private_; }
  [[nodiscard]] DWORD signature_size() const noexcept override { return signature_size_; }

  [[nodiscard]] Bytes sign_hash(const SignPadding& pad,
                                std::span<const std::uint8_t> hash) const override;
  void verify_signature(const SignPadding& pad, std::span<const std::uint8_t> hash,
                        std::span<const std::uint8_t> signature) const override;
  [[nodiscard]] Bytes encrypt(const CipherPadding& pad,
                              std::span<const std::uint8_t> plain) const override;
  [[nodiscard]] SecureBytes decrypt(const CipherPadding& pad,
                                    std::span<const std::uint8_t> cipher) const override;
  [[nodiscard]] SecureBytes agree(const KeyMaterial& peer) const override;

  [[nodiscard]] Bytes public_blob() const override { return public_blob_; }
  [[nodiscard]] SecureBytes export_private(std::u16string_view blob_type) const override;

  // The key itself, for serialisation (read-only use; operations go through the pool).
  [[nodiscard]] const EVP_PKEY* pkey() const noexcept { return key_.get(); }

  // Use make(), which checks the key type and curve.
  SoftwareKey(ossl::PkeyPtr key, KeyAlgorithm algorithm, Curve curve, bool has_private);

 private:
  [[nodiscard]] std::size_t modulus_bytes() const noexcept { return signature_size_; }
  void require_private(const char* operation) const;
  void set_rsa_sign_padding(EVP_PKEY_CTX* ctx, const SignPadding& pad, std::size_t input_len) const;
  void set_rsa_cipher_padding(EVP_PKEY_CTX* ctx, const CipherPadding& pad, std::size_t plain_len,
                              bool encrypting) const;
  [[nodiscard]] Bytes sign_ecdsa(std::span<const std::uint8_t> hash) const;
  void verify_ecdsa(std::span<const std::uint8_t> hash, std::span<const std::uint8_t> sig) const;

  ossl::PkeyPtr key_;
  KeyAlgorithm algorithm_;
  Curve curve_;
  bool has_private_;
  DWORD bits_ = 0;
  DWORD signature_size_ = 0;
  std::size_t max_der_signature_ = 0;  // EVP_PKEY_get_size: DER ECDSA bound / RSA modulus
  Bytes public_blob_;
  ContextPool pool_;
};

}  // namespace cng::soft
