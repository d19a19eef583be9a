// CKM_AES_ECB, CKM_AES_CBC and CKM_AES_CBC_PAD over NCrypt's ECB and CBC chaining modes.
//
// Multi-part: whole blocks are processed as they arrive; a partial block waits for more data.
// CBC carries its chaining value from call to call (NCrypt writes it back into pbIV).
// CBC_PAD encryption pads (PKCS#7) in C_EncryptFinal; CBC_PAD decryption holds back the last
// block (even a complete one) until C_DecryptFinal, which removes and checks the padding.
// Lengths: ECB/CBC input must be a multiple of 16 bytes (encrypt: CKR_DATA_LEN_RANGE,
// decrypt: CKR_ENCRYPTED_DATA_LEN_RANGE, reported by C_*Final or by the single-part call);
// CBC_PAD ciphertext must be a non-zero multiple of 16. Bad padding: CKR_ENCRYPTED_DATA_INVALID.
#include <openssl/crypto.h>

#include <array>
#include <cstring>

#include "mechanisms/registry.h"
#include "mechanisms/secret_bytes.h"
#include "mechanisms/secret_ops.h"

namespace p11::mech {

namespace {

class AesBlockOperation final : public CipherOperation {
 public:
  AesBlockOperation(const KeyView& key, bool encrypt, CK_MECHANISM_TYPE type,
                    std::span<const std::uint8_t> iv)
      : CipherOperation(encrypt),
        key_(key),
        ecb_(type == CKM_AES_ECB),
        pad_(type == CKM_AES_CBC_PAD) {
    if (!ecb_) {
      require(iv.size() == kAesBlock, CKR_MECHANISM_PARAM_INVALID, "the IV must be 16 bytes");
      std::memcpy(iv_.data(), iv.data(), kAesBlock);
    }
  }
  AesBlockOperation(const AesBlockOperation&) = delete;
  AesBlockOperation& operator=(const AesBlockOperation&) = delete;
  ~AesBlockOperation() override { OPENSSL_cleanse(iv_.data(), iv_.size()); }

 protected:
  [[nodiscard]] std::size_t pending_output_size(std::size_t input_len) const override {
    const std::size_t total = pending_.size() + input_len;
    if (pad_ && !encrypting()) {
      // Keep the last block (complete or not) for C_DecryptFinal.
      return total == 0 ? 0 : (total - 1) / kAesBlock * kAesBlock;
    }
    return total / kAesBlock * kAesBlock;
  }

  [[nodiscard]] std::vector<std::uint8_t> do_update(std::span<const std::uint8_t> in) override {
    const std::size_t ready = pending_output_size(in.size());
    SecretBytes work(pending_.begin(), pending_.end());
    work.insert(work.end(), in.begin(), in.end());
    std::vector<std::uint8_t> out(ready);
    if (ready != 0) {
      crypt_blocks(std::span<const std::uint8_t>(work).first(ready), out,
                   NCRYPT_CIPHER_NO_PADDING_FLAG);
    }
    pending_.assign(work.begin() + static_cast<std::ptrdiff_t>(ready), work.end());
    return out;
  }

  [[nodiscard]] std::size_t final_output_size() const override {
    if (!pad_) {
      return 0;
    }
    // Encrypt: the padded last block. Decrypt: at most 15 bytes survive the padding.
    return encrypting() ? kAesBlock : (pending_.size() == kAesBlock ? kAesBlock - 1 : 0);
  }

  [[nodiscard]] std::vector<std::uint8_t> do_final() override {
    if (!pad_) {
      if (!pending_.empty()) {
        fail_length(encrypting(), "ECB/CBC data must be a multiple of the block size");
      }
      return {};
    }
    if (!encrypting() && pending_.size() != kAesBlock) {
      fail_length(false, "CBC_PAD ciphertext must be a non-zero multiple of the block size");
    }
    std::vector<std::uint8_t> out(kAesBlock);
    const std::size_t written = crypt_blocks(pending_, out, NCRYPT_CIPHER_BLOCK_PADDING_FLAG);
    out.resize(written);
    pending_.clear();
    return out;
  }

  [[nodiscard]] std::size_t whole_output_size(std::size_t input_len) const override {
    if (pad_ && encrypting()) {
      return (input_len / kAesBlock + 1) * kAesBlock;
    }
    return input_len;  // exact, or for CBC_PAD decryption an upper bound
  }

  void check_whole_length(std::size_t input_len) const override {
    if (input_len % kAesBlock != 0 && !(pad_ && encrypting())) {
      fail_length(encrypting(), "input must be a multiple of the block size");
    }
    if (pad_ && !encrypting() && input_len == 0) {
      fail_length(false, "CBC_PAD ciphertext must be a non-zero multiple of the block size");
    }
  }

 private:
  // One NCrypt call; on success the chaining value moves on (NCrypt writes it into pbIV).
  std::size_t crypt_blocks(std::span<const std::uint8_t> in, std::span<std::uint8_t> out,
                           DWORD padding) {
    std::array<std::uint8_t, kAesBlock> iv = iv_;
    NCRYPT_CIPHER_PADDING_INFO info{
        sizeof(NCRYPT_CIPHER_PADDING_INFO),        padding, ecb_ ? nullptr : iv.data(),
        ecb_ ? 0U : static_cast<ULONG>(kAesBlock), nullptr, 0};
    const std::size_t written = key_.crypt(
        encrypting(), ecb_ ? BCRYPT_CHAIN_MODE_ECB : BCRYPT_CHAIN_MODE_CBC, info, in, out);
    iv_ = iv;
    OPENSSL_cleanse(iv.data(), iv.size());
    return written;
  }

  AesKey key_;
  bool ecb_;
  bool pad_;
  std::array<std::uint8_t, kAesBlock> iv_{};
  SecretBytes pending_;  // input not processed yet (below a block; CBC_PAD decrypt: ≤ 1 block)
};

}  // namespace

std::unique_ptr<Operation> make_aes_block_operation(OpKind kind, const MechanismSpec& spec,
                                                    const DecodedParams& params,
                                                    const KeyView* key) {
  require(key != nullptr, CKR_KEY_HANDLE_INVALID, "no key");
  require(kind == OpKind::kEncrypt || kind == OpKind::kDecrypt, CKR_GENERAL_ERROR,
          "not a cipher operation");
  return std::make_unique<AesBlockOperation>(*key, kind == OpKind::kEncrypt, spec.type, params.iv);
}

}  // namespace p11::mech
