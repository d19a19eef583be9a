// CKM_AES_CTR and CKM_AES_GCM.
//
// CTR is not a CNG chaining mode: the counter blocks are encrypted with NCrypt's ECB mode (one
// call per update, under the handle lock) and XORed with the data here. Output is produced as
// the input arrives (byte for byte); unused key stream of the last block is kept for the next
// part. The counter is the low ulCounterBits bits of the counter block, incremented by one per
// block (big-endian, the bits above never change); data that would need the counter to wrap
// past its maximum is refused before anything is produced (encrypt: CKR_DATA_LEN_RANGE,
// decrypt: CKR_ENCRYPTED_DATA_LEN_RANGE) and the operation ends.
//
// GCM goes through NCrypt's GCM mode in one call at C_*Final (CNG's chained GCM calls are not
// available): updates return nothing and buffer the input. Encryption returns the ciphertext
// with the tag appended; decryption checks the tag before releasing any plaintext (a wrong
// tag: CKR_ENCRYPTED_DATA_INVALID; input shorter than the tag: CKR_ENCRYPTED_DATA_LEN_RANGE).
#include <openssl/crypto.h>

#include <array>
#include <cstring>

#include "mechanisms/registry.h"
#include "mechanisms/secret_bytes.h"
#include "mechanisms/secret_ops.h"

namespace p11::mech {

namespace {

using Block = std::array<std::uint8_t, kAesBlock>;

// Adds one to the low `bits` bits of the big-endian block. False when they wrap to zero.
bool increment_counter(Block& block, CK_ULONG bits) {
  for (std::size_t k = 0; k < kAesBlock && bits > 8 * k; ++k) {
    const std::size_t index = kAesBlock - 1 - k;
    const CK_ULONG field_bits = bits - 8 * k >= 8 ? 8 : bits - 8 * k;
    const auto mask = static_cast<std::uint8_t>((1U << field_bits) - 1U);
    const auto value = static_cast<unsigned>(block[index] & mask) + 1U;
    const auto high = static_cast<std::uint8_t>(block[index] & ~mask);
    if (value <= mask) {
      block[index] = static_cast<std::uint8_t>(high | value);
      return true;
    }
    block[index] = high;  // this byte's part of the counter wraps: carry on
  }
  return false;
}

class AesCtrOperation final : public CipherOperation {
 public:
  AesCtrOperation(const KeyView& key, bool encrypt, std::span<const std::uint8_t> counter_block,
                  CK_ULONG counter_bits)
      : CipherOperation(encrypt), key_(key), bits_(counter_bits) {
    require(counter_block.size() == kAesBlock && bits_ >= 1 && bits_ <= 128,
            CKR_MECHANISM_PARAM_INVALID, "bad CK_AES_CTR_PARAMS");
    std::memcpy(counter_.data(), counter_block.data(), kAesBlock);
  }
  AesCtrOperation(const AesCtrOperation&) = delete;
  AesCtrOperation& operator=(const AesCtrOperation&) = delete;
  ~AesCtrOperation() override { OPENSSL_cleanse(counter_.data(), counter_.size()); }

 protected:
  [[nodiscard]] std::size_t pending_output_size(std::size_t input_len) const override {
    return input_len;
  }

  [[nodiscard]] std::vector<std::uint8_t> do_update(std::span<const std::uint8_t> in) override {
    if (in.size() > kMaxNcryptInput) {
      fail_length(encrypting(), "CTR part too long for NCrypt");
    }
    std::vector<std::uint8_t> out(in.begin(), in.end());
    const std::size_t from_leftover = std::min(in.size(), leftover_.size());
    const std::size_t rest = in.size() - from_leftover;
    const std::size_t blocks = (rest + kAesBlock - 1) / kAesBlock;
    // The counter blocks this part needs, on copies: nothing changes if the counter runs out.
    Block counter = counter_;
    bool exhausted = exhausted_;
    SecretBytes stream(blocks * kAesBlock);
    for (std::size_t b = 0; b < blocks; ++b) {
      if (exhausted) {
        fail_length(encrypting(), "the CTR counter would wrap past ulCounterBits");
      }
      std::memcpy(stream.data() + b * kAesBlock, counter.data(), kAesBlock);
      exhausted = !increment_counter(counter, bits_);
    }
    if (blocks != 0) {
      NCRYPT_CIPHER_PADDING_INFO info{sizeof(NCRYPT_CIPHER_PADDING_INFO),
                                      NCRYPT_CIPHER_NO_PADDING_FLAG,
                                      nullptr,
                                      0,
                                      nullptr,
                                      0};
      // Encrypting the counter blocks in place turns them into key stream.
      const std::size_t written = key_.crypt(true, BCRYPT_CHAIN_MODE_ECB, info, stream, stream);
      require(written == stream.size(), CKR_GENERAL_ERROR, "short ECB output");
    }
    for (std::size_t i = 0; i < from_leftover; ++i) {
      out[i] ^= leftover_[i];
    }
    for (std::size_t i = 0; i < rest; ++i) {
      out[from_leftover + i] ^= stream[i];
    }
    if (blocks != 0) {
      leftover_.assign(stream.begin() + static_cast<std::ptrdiff_t>(rest), stream.end());
    } else {
      leftover_.erase(leftover_.begin(),
                      leftover_.begin() + static_cast<std::ptrdiff_t>(from_leftover));
    }
    counter_ = counter;
    exhausted_ = exhausted;
    return out;
  }

  [[nodiscard]] std::size_t final_output_size() const override { return 0; }
  [[nodiscard]] std::vector<std::uint8_t> do_final() override { return {}; }
  [[nodiscard]] std::size_t whole_output_size(std::size_t input_len) const override {
    return input_len;
  }
  void check_whole_length(std::size_t /*input_len*/) const override {}

 private:
  AesKey key_;
  CK_ULONG bits_;
  Block counter_{};         // the next counter block
  bool exhausted_ = false;  // the counter has wrapped: no further block may be used
  SecretBytes leftover_;    // unused key stream of the last block
};

class AesGcmOperation final : public CipherOperation {
 public:
  AesGcmOperation(const KeyView& key, bool encrypt, const DecodedParams& params)
      : CipherOperation(encrypt),
        key_(key),
        iv_(params.iv.begin(), params.iv.end()),
        aad_(params.aad.begin(), params.aad.end()),
        tag_bytes_(params.tag_bytes) {
    require(!iv_.empty() && tag_bytes_ >= 4 && tag_bytes_ <= kAesBlock, CKR_MECHANISM_PARAM_INVALID,
            "bad CK_GCM_PARAMS");
  }

 protected:
  [[nodiscard]] std::size_t pending_output_size(std::size_t /*input_len*/) const override {
    return 0;
  }

  [[nodiscard]] std::vector<std::uint8_t> do_update(std::span<const std::uint8_t> in) override {
    if (in.size() > kMaxNcryptInput - buffer_.size()) {
      fail_length(encrypting(), "GCM input too long for NCrypt");
    }
    buffer_.insert(buffer_.end(), in.begin(), in.end());
    return {};
  }

  [[nodiscard]] std::size_t final_output_size() const override {
    return whole_output_size(buffer_.size());
  }

  [[nodiscard]] std::vector<std::uint8_t> do_final() override {
    if (!encrypting() && buffer_.size() < tag_bytes_) {
      fail_length(false, "GCM ciphertext shorter than its tag");
    }
    const std::size_t data_len = encrypting() ? buffer_.size() : buffer_.size() - tag_bytes_;
    std::vector<std::uint8_t> out(encrypting() ? data_len + tag_bytes_ : data_len);
    const auto data = std::span<const std::uint8_t>(buffer_).first(data_len);
    if (encrypting()) {
      gcm_crypt(key_, true, iv_, aad_, data, std::span<std::uint8_t>(out).first(data_len),
                std::span<std::uint8_t>(out).subspan(data_len));
    } else {
      Block tag{};
      std::memcpy(tag.data(), buffer_.data() + data_len, tag_bytes_);
      gcm_crypt(key_, false, iv_, aad_, data, out, std::span<std::uint8_t>(tag).first(tag_bytes_));
    }
    buffer_.clear();
    return out;
  }

  [[nodiscard]] std::size_t whole_output_size(std::size_t input_len) const override {
    if (encrypting()) {
      return input_len + tag_bytes_;
    }
    return input_len >= tag_bytes_ ? input_len - tag_bytes_ : 0;
  }

  void check_whole_length(std::size_t input_len) const override {
    if (input_len > kMaxNcryptInput) {
      fail_length(encrypting(), "GCM input too long for NCrypt");
    }
    if (!encrypting() && input_len < tag_bytes_) {
      fail_length(false, "GCM ciphertext shorter than its tag");
    }
  }

 private:
  AesKey key_;
  std::vector<std::uint8_t> iv_;
  std::vector<std::uint8_t> aad_;
  std::size_t tag_bytes_;
  SecretBytes buffer_;  // all input so far
};

}  // namespace

void gcm_crypt(const AesKey& key, bool encrypt, std::span<const std::uint8_t> iv,
               std::span<const std::uint8_t> aad, std::span<const std::uint8_t> in,
               std::span<std::uint8_t> out, std::span<std::uint8_t> tag) {
  require(out.size() >= in.size() && !iv.empty() && tag.size() >= 4 && tag.size() <= kAesBlock,
          CKR_GENERAL_ERROR, "bad GCM call");
  BCRYPT_AUTHENTICATED_CIPHER_MODE_INFO auth{};
  auth.cbSize = sizeof(auth);
  auth.dwInfoVersion = BCRYPT_AUTHENTICATED_CIPHER_MODE_INFO_VERSION;
  // NCrypt takes non-const pointers; it only reads the nonce and the additional data.
  auth.pbNonce = const_cast<PUCHAR>(iv.data());
  auth.cbNonce = static_cast<ULONG>(iv.size());
  auth.pbAuthData = aad.empty() ? nullptr : const_cast<PUCHAR>(aad.data());
  auth.cbAuthData = static_cast<ULONG>(aad.size());
  auth.pbTag = tag.data();
  auth.cbTag = static_cast<ULONG>(tag.size());
  NCRYPT_CIPHER_PADDING_INFO info{sizeof(NCRYPT_CIPHER_PADDING_INFO),
                                  NCRYPT_CIPHER_OTHER_PADDING_FLAG,
                                  nullptr,
                                  0,
                                  reinterpret_cast<PUCHAR>(&auth),
                                  sizeof(auth)};
  const std::size_t written =
      key.crypt(encrypt, BCRYPT_CHAIN_MODE_GCM, info, in, out.first(in.size()));
  require(written == in.size(), CKR_GENERAL_ERROR, "short GCM output");
}

std::unique_ptr<Operation> make_aes_ctr_operation(OpKind kind, const MechanismSpec& /*spec*/,
                                                  const DecodedParams& params, const KeyView* key) {
  require(key != nullptr, CKR_KEY_HANDLE_INVALID, "no key");
  require(kind == OpKind::kEncrypt || kind == OpKind::kDecrypt, CKR_GENERAL_ERROR,
          "not a cipher operation");
  return std::make_unique<AesCtrOperation>(*key, kind == OpKind::kEncrypt, params.iv,
                                           params.counter_bits);
}

std::unique_ptr<Operation> make_aes_gcm_operation(OpKind kind, const MechanismSpec& /*spec*/,
                                                  const DecodedParams& params, const KeyView* key) {
  require(key != nullptr, CKR_KEY_HANDLE_INVALID, "no key");
  require(kind == OpKind::kEncrypt || kind == OpKind::kDecrypt, CKR_GENERAL_ERROR,
          "not a cipher operation");
  return std::make_unique<AesGcmOperation>(*key, kind == OpKind::kEncrypt, params);
}

}  // namespace p11::mech
