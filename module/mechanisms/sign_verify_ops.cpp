// Sign and verify operations: RSA PKCS#1 v1.5, RSA PSS and ECDSA, raw (single-part: the
// caller hashes) or hash-combined (multi-part: we hash in OpenSSL). Signing goes through
// NCryptSignHash; verification is done in software on the public key.
#include <array>
#include <optional>

#include "mechanisms/ncrypt_private_ops.h"
#include "mechanisms/registry.h"
#include "mechanisms/software_public_ops.h"

namespace p11::mech {

namespace {

constexpr std::size_t kPkcs1Overhead = 11;  // RFC 8017 §9.2 / §7.2.1: at least 8 bytes of PS
constexpr std::size_t kMaxDigestInfoPrefix = 19;

// What a single-part input must look like.
struct InputRule {
  enum class Kind : std::uint8_t { kAny, kAtMost, kExactly } kind = Kind::kAny;
  std::size_t length = 0;

  void check(std::size_t size) const {
    if ((kind == Kind::kAtMost && size > length) || (kind == Kind::kExactly && size != length)) {
      fail(CKR_DATA_LEN_RANGE, "input length out of range for the mechanism");
    }
  }
};

[[noreturn]] void single_part_only() {
  fail(CKR_OPERATION_NOT_INITIALIZED, "single-part mechanism: no C_*Update/C_*Final");
}

// Hashes the data of a hash-combined operation into buf: DigestInfo prefix (PKCS#1 with a
// hash CNG cannot name, i.e. SHA-224) followed by the digest.
std::span<const std::uint8_t> finish_hash(Hasher& hasher, std::span<const std::uint8_t> prefix,
                                          std::span<std::uint8_t> buf) {
  std::copy(prefix.begin(), prefix.end(), buf.begin());
  hasher.final(buf.subspan(prefix.size(), hasher.size()));
  return buf.first(prefix.size() + hasher.size());
}

using DigestBuffer = std::array<std::uint8_t, kMaxDigestInfoPrefix + kMaxDigestSize>;

class SignOperation final : public Operation {
 public:
  SignOperation(const NcryptSigner& signer, std::shared_ptr<const void> key_owner,
                std::optional<Hasher> hasher, std::span<const std::uint8_t> prefix, InputRule rule)
      : signer_(signer),
        key_owner_(std::move(key_owner)),
        hasher_(std::move(hasher)),
        prefix_(prefix),
        rule_(rule) {}

  void update(std::span<const std::uint8_t> data) override {
    if (!hasher_) {
      single_part_only();
    }
    hasher_->update(data);
  }

  [[nodiscard]] std::size_t output_size() const override { return signer_.signature_size; }

  [[nodiscard]] std::vector<std::uint8_t> final() override {
    if (!hasher_) {
      single_part_only();
    }
    DigestBuffer buf{};
    return signer_.sign(finish_hash(*hasher_, prefix_, buf));
  }

  [[nodiscard]] std::vector<std::uint8_t> one_shot(std::span<const std::uint8_t> data) override {
    if (hasher_) {
      hasher_->update(data);
      return final();
    }
    require(!done_, CKR_OPERATION_NOT_INITIALIZED, "operation already finished");
    done_ = true;
    rule_.check(data.size());
    return signer_.sign(data);
  }

  [[nodiscard]] bool multi_part() const noexcept override { return hasher_.has_value(); }

  [[nodiscard]] bool needs_context_login() const noexcept override {
    return signer_.auth != nullptr && signer_.auth->waiting();
  }
  void context_login(std::span<const std::uint8_t> pin) override {
    require(needs_context_login(), CKR_OPERATION_NOT_INITIALIZED, "no context login needed");
    signer_.auth->login(pin);
  }

 private:
  NcryptSigner signer_;
  std::shared_ptr<const void> key_owner_;  // keeps signer_.key open until the operation ends
  std::optional<Hasher> hasher_;
  std::span<const std::uint8_t> prefix_;
  InputRule rule_;
  bool done_ = false;
};

class VerifyOperation final : public Operation {
 public:
  VerifyOperation(SoftwareVerifier verifier, std::optional<Hasher> hasher, InputRule rule)
      : verifier_(std::move(verifier)), hasher_(std::move(hasher)), rule_(rule) {}

  void update(std::span<const std::uint8_t> data) override {
    if (!hasher_) {
      single_part_only();
    }
    hasher_->update(data);
  }

  [[nodiscard]] std::size_t output_size() const override { return verifier_.signature_size(); }

  [[nodiscard]] std::vector<std::uint8_t> final() override {
    fail(CKR_GENERAL_ERROR, "verify operations end with verify_final");
  }

  void verify_final(std::span<const std::uint8_t> signature) override {
    if (!hasher_) {
      single_part_only();
    }
    DigestBuffer buf{};
    verifier_.verify(finish_hash(*hasher_, {}, buf), signature);
  }

  void verify_one_shot(std::span<const std::uint8_t> data,
                       std::span<const std::uint8_t> signature) override {
    if (hasher_) {
      hasher_->update(data);
      verify_final(signature);
      return;
    }
    require(!done_, CKR_OPERATION_NOT_INITIALIZED, "operation already finished");
    done_ = true;
    rule_.check(data.size());
    verifier_.verify(data, signature);
  }

  [[nodiscard]] bool multi_part() const noexcept override { return hasher_.has_value(); }

 private:
  SoftwareVerifier verifier_;
  std::optional<Hasher> hasher_;
  InputRule rule_;
  bool done_ = false;
};

std::optional<Hasher> hasher_for(const MechanismSpec& spec) {
  if (spec.hash == HashAlg::kNone) {
    return std::nullopt;
  }
  return std::optional<Hasher>(std::in_place, spec.hash);
}

std::size_t bytes_of(CK_ULONG bits) { return (static_cast<std::size_t>(bits) + 7) / 8; }

// RFC 8017 §9.1.1: emLen = ceil((modBits − 1) / 8) ≥ hLen + sLen + 2.
void check_pss_salt(const KeyView& key, const DecodedParams& params) {
  const std::size_t em_len = (static_cast<std::size_t>(key.bits) - 1 + 7) / 8;
  const std::size_t h_len = hash_spec(params.hash).size;
  if (em_len < h_len + 2 || params.salt_len > em_len - h_len - 2) {
    fail(CKR_MECHANISM_PARAM_INVALID, "PSS sLen too large for the key");
  }
}

// The signer/verifier configuration of a mechanism and the rule for raw inputs.
struct SignatureScheme {
  SignPadding padding = SignPadding::kPkcs1;
  HashAlg padding_hash = HashAlg::kNone;  // PKCS#1 DigestInfo hash; PSS hash
  ULONG salt_len = 0;
  std::span<const std::uint8_t> prefix;  // DigestInfo prefix we add before signing
  InputRule rule;
};

SignatureScheme scheme_for(const MechanismSpec& spec, const DecodedParams& params,
                           const KeyView& key) {
  SignatureScheme scheme;
  switch (spec.family) {
    case Family::kRsaPkcs:
      scheme.padding = SignPadding::kPkcs1;
      scheme.padding_hash = spec.hash;
      if (spec.hash == HashAlg::kNone) {
        const std::size_t k = bytes_of(key.bits);
        scheme.rule = {InputRule::Kind::kAtMost, k > kPkcs1Overhead ? k - kPkcs1Overhead : 0};
      }
      break;
    case Family::kRsaPss:
      check_pss_salt(key, params);
      scheme.padding = SignPadding::kPss;
      scheme.padding_hash = params.hash;
      scheme.salt_len = static_cast<ULONG>(params.salt_len);
      scheme.rule = {InputRule::Kind::kExactly, hash_spec(params.hash).size};
      break;
    case Family::kEcdsa:
      scheme.padding = SignPadding::kEcdsa;
      break;
    case Family::kRsaX509:  // the input is an integer of at most k bytes (PKCS#11 §2.1.6)
      scheme.padding = SignPadding::kRawRsa;
      scheme.rule = {InputRule::Kind::kAtMost, bytes_of(key.bits)};
      break;
    default:
      fail(CKR_GENERAL_ERROR, "not a signature mechanism");
  }
  return scheme;
}

std::unique_ptr<Operation> make_sign(const MechanismSpec& spec, const SignatureScheme& scheme,
                                     const KeyView& key) {
  require(key.ncrypt_key != 0, CKR_KEY_HANDLE_INVALID, "private key has no CNG key");
  NcryptSigner signer;
  signer.key = key.ncrypt_key;
  signer.padding = scheme.padding;
  signer.salt_len = scheme.salt_len;
  if (key.always_authenticate) {
    signer.auth = std::make_shared<ContextAuth>(key.ncrypt_key, key.handle_lock);
  }
  std::span<const std::uint8_t> prefix;
  if (scheme.padding == SignPadding::kEcdsa) {
    signer.max_ecdsa_input = bytes_of(key.bits);
    signer.signature_size = 2 * signer.max_ecdsa_input;
  } else {
    signer.signature_size = bytes_of(key.bits);
    if (scheme.padding_hash != HashAlg::kNone) {
      const HashSpec& hash = hash_spec(scheme.padding_hash);
      signer.hash_alg_id = hash.cng_alg_id;
      if (hash.cng_alg_id == nullptr) {  // PKCS#1 with SHA-224: sign our own DigestInfo
        prefix = hash.digest_info_prefix;
      }
    }
  }
  return std::make_unique<SignOperation>(signer, key.key_owner, hasher_for(spec), prefix,
                                         scheme.rule);
}

std::unique_ptr<Operation> make_verify(const MechanismSpec& spec, const SignatureScheme& scheme,
                                       const KeyView& key) {
  SoftwareVerifier verifier(key, scheme.padding, scheme.padding_hash, scheme.salt_len);
  return std::make_unique<VerifyOperation>(std::move(verifier), hasher_for(spec), scheme.rule);
}

}  // namespace

std::unique_ptr<Operation> make_sign_verify_operation(OpKind kind, const MechanismSpec& spec,
                                                      const DecodedParams& params,
                                                      const KeyView* key) {
  require(key != nullptr, CKR_KEY_HANDLE_INVALID, "no key");
  const SignatureScheme scheme = scheme_for(spec, params, *key);
  if (kind == OpKind::kSign) {
    return make_sign(spec, scheme, *key);
  }
  require(kind == OpKind::kVerify, CKR_GENERAL_ERROR, "not a signature operation");
  return make_verify(spec, scheme, *key);
}

}  // namespace p11::mech
