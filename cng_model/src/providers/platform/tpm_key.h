// TpmKey: KeyMaterial whose private part lives in the TPM. It holds the wrapped blob and loads
// it into the TPM on use (TpmConnection's cache); public operations (verify, encrypt, public
// export) run in software on the public half.
#pragma once

#include <memory>
#include <optional>

#include "providers/key_material.h"
#include "providers/platform/tpm_blob.h"
#include "providers/platform/tpm_connection.h"
#include "providers/software/software_key.h"

namespace cng::tpm {

class TpmKey final : public KeyMaterial {
 public:
  // algorithm: kRsa for an RSA public area; kEcdsa or kEcdh for ECC (kEcdh needs the decrypt
  // attribute). NTE_BAD_DATA when the public area does not fit.
  static std::shared_ptr<TpmKey> make(std::shared_ptr<TpmConnection> connection, TpmKeyBlob blob,
                                      KeyAlgorithm algorithm);
  TpmKey(std::shared_ptr<TpmConnection> connection, TpmKeyBlob blob, KeyAlgorithm algorithm,
         std::shared_ptr<soft::SoftwareKey> public_key);
  ~TpmKey() override;
  TpmKey(const TpmKey&) = delete;
  TpmKey& operator=(const TpmKey&) = delete;

  [[nodiscard]] KeyAlgorithm algorithm() const noexcept override { return algorithm_; }
  [[nodiscard]] Curve curve() const noexcept override { return public_->curve(); }
  [[nodiscard]] DWORD bits() const noexcept override { return public_->bits(); }
  [[nodiscard]] bool has_private() const noexcept override { return true; }
  [[nodiscard]] DWORD signature_size() const noexcept override { return public_->signature_size(); }

  // RSA: PKCS#1 v1.5 through TPM2_Sign(RSASSA) for a TPM hash; PKCS#1 v1.5 with no hash (a
  // caller-encoded DigestInfo) or a hash the TPM lacks (MD5) through TPM2_RSA_Decrypt with the
  // NULL scheme on a block padded here (the key has the decrypt attribute); PSS through
  // TPM2_Sign(RSAPSS) — only the salt length the TPM uses can be honoured (checked on the
  // result; others NTE_NOT_SUPPORTED). ECDSA: the digest is truncated to the group order and
  // left-padded to a TPM hash size, so any digest length works; result r||s.
  [[nodiscard]] Bytes sign_hash(const SignPadding& pad,
                                std::span<const std::uint8_t> hash) const override;
  void verify_signature(const SignPadding& pad, std::span<const std::uint8_t> hash,
                        std::span<const std::uint8_t> signature) const override {
    public_->verify_signature(pad, hash, signature);
  }
  [[nodiscard]] Bytes encrypt(const CipherPadding& pad,
                              std::span<const std::uint8_t> plain) const override {
    return public_->encrypt(pad, plain);
  }
  // TPM2_RSA_Decrypt: RSAES (PKCS1), OAEP (label empty or ending in a zero byte, as the TPM
  // requires; other labels NTE_NOT_SUPPORTED), NULL scheme (no padding).
  [[nodiscard]] SecureBytes decrypt(const CipherPadding& pad,
                                    std::span<const std::uint8_t> cipher) const override;
  // TPM2_ECDH_ZGen with the peer's public point: the X coordinate of the shared point.
  [[nodiscard]] SecureBytes agree(const KeyMaterial& peer) const override;

  [[nodiscard]] Bytes public_blob() const override { return public_->public_blob(); }
  // The private key never leaves the TPM: always NTE_NOT_SUPPORTED.
  [[nodiscard]] SecureBytes export_private(std::u16string_view blob_type) const override;
  // PCP_KEY_USAGE_POLICY, PCP_TPM2BNAME, … (pcp_properties.h).
  [[nodiscard]] std::optional<Bytes> key_property(std::u16string_view name) const override;

  [[nodiscard]] const TpmKeyBlob& blob() const noexcept { return blob_; }
  // Loads the key into the TPM now (NTE_BAD_DATA when this TPM cannot unwrap it).
  void ensure_loaded() const;

 private:
  [[nodiscard]] Bytes sign_rsa(const SignPadding& pad, std::span<const std::uint8_t> hash) const;
  [[nodiscard]] Bytes sign_pkcs1_raw(const SignPadding& pad,
                                     std::span<const std::uint8_t> hash) const;
  [[nodiscard]] Bytes sign_ecdsa(std::span<const std::uint8_t> hash) const;
  [[nodiscard]] TPMT_SIGNATURE tpm_sign(const TPMT_SIG_SCHEME& scheme,
                                        std::span<const std::uint8_t> digest) const;
  [[nodiscard]] SecureBytes tpm_decrypt(const TPMT_RSA_DECRYPT& scheme,
                                        std::span<const std::uint8_t> cipher,
                                        std::span<const std::uint8_t> label) const;

  std::shared_ptr<TpmConnection> connection_;
  std::uint64_t id_;
  TpmKeyBlob blob_;
  KeyAlgorithm algorithm_;
  std::shared_ptr<soft::SoftwareKey> public_;
};

}  // namespace cng::tpm
