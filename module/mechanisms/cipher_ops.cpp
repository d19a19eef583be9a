// RSA encryption (software, on the public key) and decryption (NCryptDecrypt) for
// CKM_RSA_PKCS, CKM_RSA_PKCS_OAEP and CKM_RSA_X_509. All single-part.
#include <openssl/crypto.h>
#include <openssl/rsa.h>

#include "mechanisms/ncrypt_private_ops.h"
#include "mechanisms/registry.h"
#include "mechanisms/software_public_ops.h"

namespace p11::mech {

namespace {

constexpr std::size_t kPkcs1Overhead = 11;  // RFC 8017 §7.2.1

[[noreturn]] void single_part_only() {
  fail(CKR_OPERATION_NOT_INITIALIZED, "single-part mechanism: no C_*Update/C_*Final");
}

std::size_t bytes_of(CK_ULONG bits) { return (static_cast<std::size_t>(bits) + 7) / 8; }

// Largest plaintext a padding takes for a k-byte modulus.
std::size_t max_plaintext(Family family, HashAlg oaep_hash, std::size_t k) {
  std::size_t overhead = 0;
  if (family == Family::kRsaPkcs) {
    overhead = kPkcs1Overhead;
  } else if (family == Family::kRsaOaep) {
    overhead = 2 * hash_spec(oaep_hash).size + 2;  // RFC 8017 §7.1.1
  }
  return k > overhead ? k - overhead : 0;
}

class EncryptOperation final : public Operation {
 public:
  EncryptOperation(SoftwareEncryptor encryptor, Family family, HashAlg oaep_hash)
      : encryptor_(std::move(encryptor)),
        raw_(family == Family::kRsaX509),
        max_input_(max_plaintext(family, oaep_hash, encryptor_.modulus_bytes())) {}

  void update(std::span<const std::uint8_t> /*data*/) override { single_part_only(); }
  [[nodiscard]] std::size_t output_size() const override { return encryptor_.modulus_bytes(); }
  [[nodiscard]] std::vector<std::uint8_t> final() override { single_part_only(); }

  [[nodiscard]] std::vector<std::uint8_t> one_shot(std::span<const std::uint8_t> data) override {
    require(!done_, CKR_OPERATION_NOT_INITIALIZED, "operation already finished");
    done_ = true;
    if (data.size() > max_input_) {
      fail(CKR_DATA_LEN_RANGE, "plaintext too long for the key and padding");
    }
    if (!raw_ || data.size() == max_input_) {
      return encryptor_.encrypt(data);
    }
    // Raw RSA: PKCS#11 treats a shorter input as a big-endian number (zeros on the left).
    std::vector<std::uint8_t> block(max_input_ - data.size(), 0);
    block.insert(block.end(), data.begin(), data.end());
    auto out = encryptor_.encrypt(block);
    OPENSSL_cleanse(block.data(), block.size());
    return out;
  }

  [[nodiscard]] bool multi_part() const noexcept override { return false; }

 private:
  SoftwareEncryptor encryptor_;
  bool raw_;
  std::size_t max_input_;
  bool done_ = false;
};

class DecryptOperation final : public Operation {
 public:
  DecryptOperation(const KeyView& key, Family family, HashAlg oaep_hash,
                   std::span<const std::uint8_t> label, std::size_t modulus_bytes)
      : key_(key.ncrypt_key),
        key_owner_(key.key_owner),
        family_(family),
        label_(label.begin(), label.end()),
        k_(modulus_bytes) {
    if (key.always_authenticate) {
      auth_ = std::make_unique<ContextAuth>(key.ncrypt_key, key.handle_lock);
    }
    if (family == Family::kRsaOaep) {
      oaep_.pszAlgId = hash_spec(oaep_hash).cng_alg_id;
      oaep_.pbLabel = label_.empty() ? nullptr : label_.data();
      oaep_.cbLabel = static_cast<ULONG>(label_.size());
    }
  }
  DecryptOperation(const DecryptOperation&) = delete;
  DecryptOperation& operator=(const DecryptOperation&) = delete;
  ~DecryptOperation() override { OPENSSL_cleanse(result_.data(), result_.size()); }

  void update(std::span<const std::uint8_t> /*data*/) override { single_part_only(); }

  [[nodiscard]] std::size_t output_size() const override { return done_ ? result_.size() : k_; }

  // Only after one_shot: the same plaintext again (a retry after a too-small buffer).
  [[nodiscard]] std::vector<std::uint8_t> final() override {
    if (!done_) {
      single_part_only();
    }
    return result_;
  }

  [[nodiscard]] std::vector<std::uint8_t> one_shot(std::span<const std::uint8_t> data) override {
    if (done_) {
      return result_;
    }
    if (data.size() != k_) {
      fail(CKR_ENCRYPTED_DATA_LEN_RANGE, "ciphertext length must equal the modulus length");
    }
    DWORD flags = NCRYPT_PAD_PKCS1_FLAG;
    void* padding_info = nullptr;
    if (family_ == Family::kRsaOaep) {
      flags = NCRYPT_PAD_OAEP_FLAG;
      padding_info = &oaep_;
    } else if (family_ == Family::kRsaX509) {
      flags = NCRYPT_NO_PADDING_FLAG;
    }
    ncrypt_decrypt(key_, flags, padding_info, data, k_, result_, auth_.get());
    if (family_ == Family::kRsaX509 && result_.size() < k_) {
      // Raw RSA output is the whole k-byte block, leading zeros included.
      result_.insert(result_.begin(), k_ - result_.size(), 0);
    }
    done_ = true;
    return result_;
  }

  [[nodiscard]] bool multi_part() const noexcept override { return false; }

  [[nodiscard]] bool needs_context_login() const noexcept override {
    return auth_ != nullptr && !done_ && auth_->waiting();
  }
  void context_login(std::span<const std::uint8_t> pin) override {
    require(needs_context_login(), CKR_OPERATION_NOT_INITIALIZED, "no context login needed");
    auth_->login(pin);
  }

 private:
  NCRYPT_KEY_HANDLE key_;
  std::shared_ptr<const void> key_owner_;  // keeps key_ open until the operation ends
  std::unique_ptr<ContextAuth> auth_;      // CKA_ALWAYS_AUTHENTICATE keys
  Family family_;
  std::vector<std::uint8_t> label_;
  BCRYPT_OAEP_PADDING_INFO oaep_{nullptr, nullptr, 0};
  std::size_t k_;
  std::vector<std::uint8_t> result_;
  bool done_ = false;
};

int openssl_padding(Family family) {
  switch (family) {
    case Family::kRsaPkcs:
      return RSA_PKCS1_PADDING;
    case Family::kRsaOaep:
      return RSA_PKCS1_OAEP_PADDING;
    case Family::kRsaX509:
      return RSA_NO_PADDING;
    default:
      fail(CKR_GENERAL_ERROR, "not an RSA encryption mechanism");
  }
}

}  // namespace

std::unique_ptr<Operation> make_cipher_operation(OpKind kind, const MechanismSpec& spec,
                                                 const DecodedParams& params, const KeyView* key) {
  require(key != nullptr, CKR_KEY_HANDLE_INVALID, "no key");
  const int padding = openssl_padding(spec.family);
  if (kind == OpKind::kEncrypt) {
    SoftwareEncryptor encryptor(*key, padding, params.hash, params.label);
    return std::make_unique<EncryptOperation>(std::move(encryptor), spec.family, params.hash);
  }
  require(kind == OpKind::kDecrypt, CKR_GENERAL_ERROR, "not a cipher operation");
  require(key->ncrypt_key != 0, CKR_KEY_HANDLE_INVALID, "private key has no CNG key");
  return std::make_unique<DecryptOperation>(*key, spec.family, params.hash, params.label,
                                            bytes_of(key->bits));
}

}  // namespace p11::mech
