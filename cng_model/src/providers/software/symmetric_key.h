// SymmetricKey: KeyMaterial for secret keys (AES, generic secret) on OpenSSL 3. The secret is
// kept in zeroizing memory; cipher and MAC contexts are made per operation (no shared state,
// so one object is safe from many threads).
#pragma once

#include <memory>

#include "providers/key_material.h"

namespace cng::soft {

class SymmetricKey final : public KeyMaterial {
 public:
  // A new random key of bits (OpenSSL RAND); NTE_NOT_SUPPORTED for a length the algorithm's
  // table row does not allow.
  static std::shared_ptr<SymmetricKey> generate(KeyAlgorithm algorithm, DWORD bits);
  // A key from its bytes; NTE_NOT_SUPPORTED for an unsupported length or algorithm.
  static std::shared_ptr<SymmetricKey> make(KeyAlgorithm algorithm, SecureBytes secret);

  SymmetricKey(KeyAlgorithm algorithm, SecureBytes secret)
      : algorithm_(algorithm), secret_(std::move(secret)) {}

  [[nodiscard]] KeyAlgorithm algorithm() const noexcept override { return algorithm_; }
  [[nodiscard]] Curve curve() const noexcept override { return Curve::kNone; }
  [[nodiscard]] DWORD bits() const noexcept override {
    return static_cast<DWORD>(secret_.size() * 8);
  }
  [[nodiscard]] bool has_private() const noexcept override { return true; }
  [[nodiscard]] DWORD signature_size() const noexcept override { return 0; }

  [[nodiscard]] Bytes sign_hash(const SignPadding& pad,
                                std::span<const std::uint8_t> hash) const override;
  void verify_signature(const SignPadding& pad, std::span<const std::uint8_t> hash,
                        std::span<const std::uint8_t> signature) const override;
  [[nodiscard]] Bytes encrypt(const CipherPadding& pad,
                              std::span<const std::uint8_t> plain) const override;
  [[nodiscard]] SecureBytes decrypt(const CipherPadding& pad,
                                    std::span<const std::uint8_t> cipher) const override;
  [[nodiscard]] SecureBytes agree(const KeyMaterial& peer) const override;
  [[nodiscard]] Bytes public_blob() const override { return {}; }
  // NCRYPT_CIPHER_KEY_BLOB only (NTE_BAD_TYPE otherwise).
  [[nodiscard]] SecureBytes export_private(std::u16string_view blob_type) const override;

  [[nodiscard]] SymmetricResult symmetric_crypt(bool encrypt, const SymmetricParams& params,
                                                std::span<const std::uint8_t> in) const override;
  [[nodiscard]] Bytes hmac(HashId hash, std::span<const std::uint8_t> data) const override;
  [[nodiscard]] Bytes wrap_key(WrapMode mode, std::span<const std::uint8_t> plain) const override;
  [[nodiscard]] SecureBytes unwrap_key(WrapMode mode,
                                       std::span<const std::uint8_t> wrapped) const override;

  [[nodiscard]] const SecureBytes& secret() const noexcept { return secret_; }

 private:
  KeyAlgorithm algorithm_;
  SecureBytes secret_;
};

// AES-ECB/CBC/GCM with key (16/24/32 bytes), in aes_cipher.cpp.
SymmetricResult aes_crypt(std::span<const std::uint8_t> key, bool encrypt,
                          const SymmetricParams& params, std::span<const std::uint8_t> in);

// AES key wrap with key as the key-encryption key, in key_wrap.cpp.
Bytes aes_wrap(std::span<const std::uint8_t> key, WrapMode mode,
               std::span<const std::uint8_t> plain);
SecureBytes aes_unwrap(std::span<const std::uint8_t> key, WrapMode mode,
                       std::span<const std::uint8_t> wrapped);

}  // namespace cng::soft
