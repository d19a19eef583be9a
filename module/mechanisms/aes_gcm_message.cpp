// Message-based CKM_AES_GCM (PKCS#11 3.0 current mechanisms, AES-GCM with CK_GCM_MESSAGE_PARAMS)
// and start_message_operation.
//
// Each message goes through gcm_crypt (NCrypt's GCM mode, one call): CNG's chained GCM calls are
// not available, so C_EncryptMessageNext / C_DecryptMessageNext return nothing until the part
// flagged CKF_END_OF_MESSAGE, which returns the whole message's output. Decryption therefore
// checks the tag before any plaintext leaves. The ciphertext is as long as the plaintext (the tag
// goes to pTag), so every output length is exact before the work is done.
//
// IV generators (encrypt; a decrypting operation uses pIv as given and ignores ivGenerator and
// ulIvFixedBits): the leading ulIvFixedBits bits of pIv are kept and the rest is made here, then
// written back to pIv.
//   CKG_NO_GENERATE       pIv is used as given.
//   CKG_GENERATE,         a big-endian counter in the free bits, zero for the operation's first
//   CKG_GENERATE_COUNTER  generated IV and one more for each next one (our CKG_GENERATE is the
//                         counter). Once the free bits are used up: CKR_DATA_LEN_RANGE (as
//                         kryoptic answers), the message is not encrypted. The counter lives as
//                         long as the operation: IVs repeat across operations unless the caller's
//                         fixed part differs.
//   CKG_GENERATE_RANDOM   the free bits are random; at least 64 of them (a shorter random part
//                         makes a repeated IV under one key likely: CKR_MECHANISM_PARAM_INVALID).
#include <cstring>
#include <vector>

#include "mechanisms/message_operation.h"
#include "mechanisms/registry.h"
#include "mechanisms/secret_ops.h"

namespace p11 {

namespace mech {

namespace {

constexpr CK_ULONG kMinRandomIvBits = 64;  // see CKG_GENERATE_RANDOM above
constexpr unsigned kCounterBits = 64;      // the counter's width (std::uint64_t)

// The checked CK_GCM_MESSAGE_PARAMS of one call.
CK_GCM_MESSAGE_PARAMS decode(MessageParam param, bool encrypt) {
  if (param.data == nullptr || param.len != sizeof(CK_GCM_MESSAGE_PARAMS)) {
    fail(CKR_ARGUMENTS_BAD, "CK_GCM_MESSAGE_PARAMS required");
  }
  CK_GCM_MESSAGE_PARAMS p{};
  std::memcpy(&p, param.data, sizeof(p));  // the caller's pointer need not be aligned
  if (p.pIv == nullptr || !gcm_iv_len_ok(p.ulIvLen)) {
    fail(CKR_MECHANISM_PARAM_INVALID, "the GCM IV must be 1..256 bytes");
  }
  if (!gcm_tag_bits_ok(p.ulTagBits)) {
    fail(CKR_MECHANISM_PARAM_INVALID, "the GCM tag must be 32..128 bits, a multiple of 8");
  }
  if (p.pTag == nullptr) {
    fail(CKR_ARGUMENTS_BAD, "pTag is NULL");
  }
  if (!encrypt) {
    return p;
  }
  const CK_ULONG iv_bits = p.ulIvLen * 8;
  switch (p.ivGenerator) {
    case CKG_NO_GENERATE:
      return p;
    case CKG_GENERATE:
    case CKG_GENERATE_COUNTER:
      if (p.ulIvFixedBits >= iv_bits) {
        fail(CKR_MECHANISM_PARAM_INVALID, "no IV bits left to generate");
      }
      return p;
    case CKG_GENERATE_RANDOM:
      if (p.ulIvFixedBits > iv_bits || iv_bits - p.ulIvFixedBits < kMinRandomIvBits) {
        fail(CKR_MECHANISM_PARAM_INVALID, "a random IV part needs at least 64 bits");
      }
      return p;
    default:
      fail(CKR_MECHANISM_PARAM_INVALID, "unknown ivGenerator");
  }
}

// Replaces the low `bits` bits of the big-endian iv by the same bits of source (as long as iv).
void merge_low_bits(std::vector<std::uint8_t>& iv, CK_ULONG bits,
                    const std::vector<std::uint8_t>& source) {
  for (std::size_t k = 0; k < iv.size() && bits > 8 * k; ++k) {
    const std::size_t index = iv.size() - 1 - k;
    const CK_ULONG field_bits = bits - 8 * k >= 8 ? 8 : bits - 8 * k;
    const auto mask = static_cast<std::uint8_t>((1U << field_bits) - 1U);
    iv[index] = static_cast<std::uint8_t>((iv[index] & ~mask) | (source[index] & mask));
  }
}

class AesGcmMessageOperation final : public MessageOperation {
 public:
  AesGcmMessageOperation(const KeyView& key, bool encrypt) : key_(key), encrypt_(encrypt) {}

  [[nodiscard]] bool in_message() const noexcept override { return in_message_; }

  void check_param(MessageParam param) const override { (void)decode(param, encrypt_); }

  void begin(MessageParam param, std::span<const std::uint8_t> aad) override {
    const CK_GCM_MESSAGE_PARAMS p = decode(param, encrypt_);
    std::vector<std::uint8_t> iv(p.pIv, p.pIv + p.ulIvLen);
    if (encrypt_ && p.ivGenerator != CKG_NO_GENERATE) {
      generate_iv(p, iv);
      std::memcpy(p.pIv, iv.data(), iv.size());
    }
    iv_ = std::move(iv);
    aad_.assign(aad.begin(), aad.end());
    tag_bytes_ = p.ulTagBits / 8;
    buffer_.clear();
    in_message_ = true;
  }

  [[nodiscard]] std::size_t next_output_size(std::size_t input_len, bool end) const override {
    return end ? buffer_.size() + input_len : 0;
  }

  [[nodiscard]] SecretBytes next(MessageParam param, std::span<const std::uint8_t> part,
                                 bool end) override {
    require(in_message_, CKR_OPERATION_NOT_INITIALIZED, "no message begun");
    const CK_GCM_MESSAGE_PARAMS p = decode(param, encrypt_);
    if (p.ulIvLen != iv_.size() || p.ulTagBits / 8 != tag_bytes_) {
      fail(CKR_ARGUMENTS_BAD, "the parameter differs from the message's begin");
    }
    if (part.size() > kMaxNcryptInput - buffer_.size()) {
      fail_length(encrypt_, "GCM message too long for NCrypt");
    }
    buffer_.insert(buffer_.end(), part.begin(), part.end());
    if (!end) {
      return {};
    }
    SecretBytes out(buffer_.size());
    std::span<std::uint8_t> tag(p.pTag, tag_bytes_);
    gcm_crypt(key_, encrypt_, iv_, aad_, buffer_, out, tag);
    abort_message();
    return out;
  }

  void abort_message() noexcept override {
    buffer_.clear();
    aad_.clear();
    in_message_ = false;
  }

 private:
  void generate_iv(const CK_GCM_MESSAGE_PARAMS& p, std::vector<std::uint8_t>& iv) {
    const CK_ULONG free_bits = p.ulIvLen * 8 - p.ulIvFixedBits;
    std::vector<std::uint8_t> source(iv.size());
    if (p.ivGenerator == CKG_GENERATE_RANDOM) {
      generate_random(source);
      merge_low_bits(iv, free_bits, source);
      return;
    }
    const bool fits = free_bits >= kCounterBits || counter_ >> free_bits == 0;
    if (counter_exhausted_ || !fits) {
      fail(CKR_DATA_LEN_RANGE, "the IV counter is used up");
    }
    // The counter, big-endian in the last (up to) 8 bytes; the free bits above it are zero.
    for (std::size_t k = 0; k < source.size() && k < kCounterBits / 8; ++k) {
      source[source.size() - 1 - k] = static_cast<std::uint8_t>(counter_ >> (8 * k));
    }
    merge_low_bits(iv, free_bits, source);
    ++counter_;
    counter_exhausted_ = counter_ == 0;  // wrapped past 2^64 - 1
  }

  AesKey key_;
  bool encrypt_;
  bool in_message_ = false;
  std::vector<std::uint8_t> iv_;
  std::vector<std::uint8_t> aad_;
  std::size_t tag_bytes_ = 0;
  SecretBytes buffer_;  // the message's input so far
  std::uint64_t counter_ = 0;
  bool counter_exhausted_ = false;
};

std::unique_ptr<MessageOperation> make_aes_gcm_message(const KeyView& key, bool encrypt) {
  return std::make_unique<AesGcmMessageOperation>(key, encrypt);
}

// The mechanisms whose registry row has CKF_MESSAGE_ENCRYPT / CKF_MESSAGE_DECRYPT, and who makes
// their message operations.
struct MessageFactory {
  CK_MECHANISM_TYPE type;
  std::unique_ptr<MessageOperation> (*make)(const KeyView& key, bool encrypt);
};
constexpr MessageFactory kMessageFactories[] = {{CKM_AES_GCM, make_aes_gcm_message}};

}  // namespace

}  // namespace mech

std::unique_ptr<MessageOperation> start_message_operation(MessageKind kind,
                                                          const CK_MECHANISM& mechanism,
                                                          const KeyView& key,
                                                          const slots::Capabilities& caps) {
  const bool encrypt = kind == MessageKind::kEncrypt;
  const mech::MechanismSpec& spec = mech::offered_mechanism(
      mechanism.mechanism, encrypt ? CKF_MESSAGE_ENCRYPT : CKF_MESSAGE_DECRYPT, caps);
  const OpKind op = encrypt ? OpKind::kEncrypt : OpKind::kDecrypt;
  mech::check_key_use(spec, key, mech::key_class_for(spec, op),
                      encrypt ? key.can_encrypt : key.can_decrypt);
  // Every message brings its own parameter; the Init takes none.
  if (mechanism.pParameter != nullptr || mechanism.ulParameterLen != 0) {
    fail(CKR_MECHANISM_PARAM_INVALID, "the message operation's parameter comes with each message");
  }
  mech::check_key_size(spec, key, caps);
  for (const auto& factory : mech::kMessageFactories) {
    if (factory.type == spec.type) {
      return factory.make(key, encrypt);
    }
  }
  fail(CKR_GENERAL_ERROR, "message mechanism without a factory");
}

}  // namespace p11
