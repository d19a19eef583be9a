// The mechanism table (DESIGN.md §5) and C_GetMechanismInfo / C_GetMechanismList over it.
#include "mechanisms/registry.h"

#include <array>
#include <mutex>

namespace p11 {
namespace mech {

namespace {

constexpr CK_FLAGS kEcFlags = CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
constexpr CK_FLAGS kSignVerify = CKF_SIGN | CKF_VERIFY;
constexpr CK_FLAGS kCipher = CKF_ENCRYPT | CKF_DECRYPT;
constexpr CK_KEY_TYPE kNoKey = CK_UNAVAILABLE_INFORMATION;

// CKM_RSA_PKCS and CKM_RSA_X_509 serve both factories: sign/verify and encrypt/decrypt.
std::unique_ptr<Operation> make_rsa_pkcs_operation(OpKind kind, const MechanismSpec& spec,
                                                   const DecodedParams& params,
                                                   const KeyView* key) {
  if (kind == OpKind::kSign || kind == OpKind::kVerify) {
    return make_sign_verify_operation(kind, spec, params, key);
  }
  return make_cipher_operation(kind, spec, params, key);
}

using H = HashAlg;
using F = Family;

// SHA-224 has no CNG algorithm id, so it cannot drive NCrypt's PSS or OAEP padding: there is
// no CKM_SHA224_RSA_PKCS_PSS row, and PSS/OAEP parameters naming SHA-224 are rejected.
// PKCS#1 v1.5 with SHA-224 works (we build the DigestInfo), as does ECDSA (hash, then sign).
// TPM rows: what a TPM 2.0 behind the Platform Crypto Provider does (PCP signs PSS with SHA-1
// and SHA-256 only, needs a CNG hash id for PKCS#1; raw RSA is TPM2_RSA_Decrypt with the NULL
// scheme); refined later from the TPM's capabilities.
constexpr std::array kRows = {
    MechanismSpec{CKM_RSA_PKCS_KEY_PAIR_GEN, F::kKeyPairGen, CKK_RSA, kPairClasses, H::kNone,
                  CKF_GENERATE_KEY_PAIR, true, nullptr, nullptr},
    MechanismSpec{CKM_EC_KEY_PAIR_GEN, F::kKeyPairGen, CKK_EC, kPairClasses, H::kNone,
                  CKF_GENERATE_KEY_PAIR | kEcFlags, true, nullptr, nullptr},
    MechanismSpec{CKM_RSA_PKCS, F::kRsaPkcs, CKK_RSA, kPairClasses, H::kNone, kSignVerify | kCipher,
                  true, nullptr, make_rsa_pkcs_operation},
    MechanismSpec{CKM_SHA1_RSA_PKCS, F::kRsaPkcs, CKK_RSA, kPairClasses, H::kSha1, kSignVerify,
                  true, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_SHA224_RSA_PKCS, F::kRsaPkcs, CKK_RSA, kPairClasses, H::kSha224, kSignVerify,
                  false, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_SHA256_RSA_PKCS, F::kRsaPkcs, CKK_RSA, kPairClasses, H::kSha256, kSignVerify,
                  true, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_SHA384_RSA_PKCS, F::kRsaPkcs, CKK_RSA, kPairClasses, H::kSha384, kSignVerify,
                  true, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_SHA512_RSA_PKCS, F::kRsaPkcs, CKK_RSA, kPairClasses, H::kSha512, kSignVerify,
                  true, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_RSA_PKCS_PSS, F::kRsaPss, CKK_RSA, kPairClasses, H::kNone, kSignVerify, true,
                  decode_pss_params, make_sign_verify_operation},
    MechanismSpec{CKM_SHA1_RSA_PKCS_PSS, F::kRsaPss, CKK_RSA, kPairClasses, H::kSha1, kSignVerify,
                  true, decode_pss_params, make_sign_verify_operation},
    MechanismSpec{CKM_SHA256_RSA_PKCS_PSS, F::kRsaPss, CKK_RSA, kPairClasses, H::kSha256,
                  kSignVerify, true, decode_pss_params, make_sign_verify_operation},
    MechanismSpec{CKM_SHA384_RSA_PKCS_PSS, F::kRsaPss, CKK_RSA, kPairClasses, H::kSha384,
                  kSignVerify, false, decode_pss_params, make_sign_verify_operation},
    MechanismSpec{CKM_SHA512_RSA_PKCS_PSS, F::kRsaPss, CKK_RSA, kPairClasses, H::kSha512,
                  kSignVerify, false, decode_pss_params, make_sign_verify_operation},
    MechanismSpec{CKM_RSA_PKCS_OAEP, F::kRsaOaep, CKK_RSA, kPairClasses, H::kNone, kCipher, true,
                  decode_oaep_params, make_cipher_operation},
    MechanismSpec{CKM_RSA_X_509, F::kRsaX509, CKK_RSA, kPairClasses, H::kNone,
                  kSignVerify | kCipher, true, nullptr, make_rsa_pkcs_operation},
    MechanismSpec{CKM_ECDSA, F::kEcdsa, CKK_EC, kPairClasses, H::kNone, kSignVerify | kEcFlags,
                  true, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_ECDSA_SHA1, F::kEcdsa, CKK_EC, kPairClasses, H::kSha1, kSignVerify | kEcFlags,
                  true, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_ECDSA_SHA224, F::kEcdsa, CKK_EC, kPairClasses, H::kSha224,
                  kSignVerify | kEcFlags, true, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_ECDSA_SHA256, F::kEcdsa, CKK_EC, kPairClasses, H::kSha256,
                  kSignVerify | kEcFlags, true, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_ECDSA_SHA384, F::kEcdsa, CKK_EC, kPairClasses, H::kSha384,
                  kSignVerify | kEcFlags, true, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_ECDSA_SHA512, F::kEcdsa, CKK_EC, kPairClasses, H::kSha512,
                  kSignVerify | kEcFlags, true, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_ECDH1_DERIVE, F::kEcdh, CKK_EC, kPairClasses, H::kNone, CKF_DERIVE | kEcFlags,
                  true, nullptr, nullptr},
    MechanismSpec{CKM_SHA_1, F::kDigest, kNoKey, kNoKeyClasses, H::kSha1, CKF_DIGEST, true, nullptr,
                  make_digest_operation},
    MechanismSpec{CKM_SHA224, F::kDigest, kNoKey, kNoKeyClasses, H::kSha224, CKF_DIGEST, true,
                  nullptr, make_digest_operation},
    MechanismSpec{CKM_SHA256, F::kDigest, kNoKey, kNoKeyClasses, H::kSha256, CKF_DIGEST, true,
                  nullptr, make_digest_operation},
    MechanismSpec{CKM_SHA384, F::kDigest, kNoKey, kNoKeyClasses, H::kSha384, CKF_DIGEST, true,
                  nullptr, make_digest_operation},
    MechanismSpec{CKM_SHA512, F::kDigest, kNoKey, kNoKeyClasses, H::kSha512, CKF_DIGEST, true,
                  nullptr, make_digest_operation},
    // Secret keys (software provider only: the platform provider keeps no symmetric keys).
    MechanismSpec{CKM_AES_ECB, F::kAesBlock, CKK_AES, kSecretClasses, H::kNone, kCipher, false,
                  decode_no_params, make_aes_block_operation},
    MechanismSpec{CKM_AES_CBC, F::kAesBlock, CKK_AES, kSecretClasses, H::kNone, kCipher, false,
                  decode_aes_iv_params, make_aes_block_operation},
    MechanismSpec{CKM_AES_CBC_PAD, F::kAesBlock, CKK_AES, kSecretClasses, H::kNone, kCipher, false,
                  decode_aes_iv_params, make_aes_block_operation},
    MechanismSpec{CKM_AES_CTR, F::kAesCtr, CKK_AES, kSecretClasses, H::kNone, kCipher, false,
                  decode_aes_ctr_params, make_aes_ctr_operation},
    MechanismSpec{CKM_AES_GCM, F::kAesGcm, CKK_AES, kSecretClasses, H::kNone, kCipher, false,
                  decode_aes_gcm_params, make_aes_gcm_operation},
    MechanismSpec{CKM_SHA_1_HMAC, F::kHmac, CKK_GENERIC_SECRET, kSecretClasses, H::kSha1,
                  kSignVerify, false, decode_no_params, make_hmac_operation},
    MechanismSpec{CKM_SHA_1_HMAC_GENERAL, F::kHmac, CKK_GENERIC_SECRET, kSecretClasses, H::kSha1,
                  kSignVerify, false, decode_hmac_general_params, make_hmac_operation},
    MechanismSpec{CKM_SHA224_HMAC, F::kHmac, CKK_GENERIC_SECRET, kSecretClasses, H::kSha224,
                  kSignVerify, false, decode_no_params, make_hmac_operation},
    MechanismSpec{CKM_SHA224_HMAC_GENERAL, F::kHmac, CKK_GENERIC_SECRET, kSecretClasses, H::kSha224,
                  kSignVerify, false, decode_hmac_general_params, make_hmac_operation},
    MechanismSpec{CKM_SHA256_HMAC, F::kHmac, CKK_GENERIC_SECRET, kSecretClasses, H::kSha256,
                  kSignVerify, false, decode_no_params, make_hmac_operation},
    MechanismSpec{CKM_SHA256_HMAC_GENERAL, F::kHmac, CKK_GENERIC_SECRET, kSecretClasses, H::kSha256,
                  kSignVerify, false, decode_hmac_general_params, make_hmac_operation},
    MechanismSpec{CKM_SHA384_HMAC, F::kHmac, CKK_GENERIC_SECRET, kSecretClasses, H::kSha384,
                  kSignVerify, false, decode_no_params, make_hmac_operation},
    MechanismSpec{CKM_SHA384_HMAC_GENERAL, F::kHmac, CKK_GENERIC_SECRET, kSecretClasses, H::kSha384,
                  kSignVerify, false, decode_hmac_general_params, make_hmac_operation},
    MechanismSpec{CKM_SHA512_HMAC, F::kHmac, CKK_GENERIC_SECRET, kSecretClasses, H::kSha512,
                  kSignVerify, false, decode_no_params, make_hmac_operation},
    MechanismSpec{CKM_SHA512_HMAC_GENERAL, F::kHmac, CKK_GENERIC_SECRET, kSecretClasses, H::kSha512,
                  kSignVerify, false, decode_hmac_general_params, make_hmac_operation},
};

// Software KSP: RSA 512..16384 bits (its Lengths property), the three NIST curves.
// TPM 2.0: RSA 1024/2048, P-256/P-384 (the PC Client profile minimum).
constexpr KeySizeRange kRsaSoftware{512, 16384};
constexpr KeySizeRange kRsaTpm{1024, 2048};
constexpr KeySizeRange kEcSoftware{256, 521};
constexpr KeySizeRange kEcTpm{256, 384};
// Secret keys, in bytes: AES-128/192/256; generic secrets as cng_model's GENERIC_SECRET allows
// (NCRYPT_GENERIC_SECRET_MIN_LENGTH..MAX_LENGTH bits).
constexpr KeySizeRange kAes{16, 32};
constexpr KeySizeRange kGenericSecret{NCRYPT_GENERIC_SECRET_MIN_LENGTH / 8,
                                      NCRYPT_GENERIC_SECRET_MAX_LENGTH / 8};

}  // namespace

const MechanismSpec* find_mechanism(CK_MECHANISM_TYPE type) noexcept {
  for (const auto& row : kRows) {
    if (row.type == type) {
      return &row;
    }
  }
  return nullptr;
}

std::span<const MechanismSpec> all_mechanisms() noexcept { return kRows; }

namespace {

KeySizeRange range_of(slots::BitRange bits) noexcept { return {bits.min_bits, bits.max_bits}; }

KeySizeRange size_range_for(CK_KEY_TYPE key_type, const slots::Capabilities& caps) noexcept {
  switch (key_type) {
    case CKK_RSA:
      return range_of(caps.rsa_bits);
    case CKK_EC:
      return range_of(caps.ec_bits());
    default:
      return {0, 0};
  }
}

bool supported_by(const MechanismSpec& spec, const slots::Capabilities& caps) noexcept {
  if (!spec.on_tpm) {
    return false;
  }
  switch (spec.family) {
    case Family::kKeyPairGen:
      return spec.key_type == CKK_RSA ? caps.rsa : caps.any_ecdsa() || caps.any_ecdh();
    case Family::kRsaPkcs:
    case Family::kRsaPss:
    case Family::kRsaOaep:
    case Family::kRsaX509:
      return caps.rsa;
    case Family::kEcdsa:
      return caps.any_ecdsa();
    case Family::kEcdh:
      return caps.any_ecdh();
    case Family::kDigest:
      return true;
    case Family::kAesBlock:
    case Family::kAesCtr:
    case Family::kAesGcm:
    case Family::kHmac:
      return false;  // no symmetric keys on the platform provider
  }
  return false;
}

}  // namespace

bool offered_on(const MechanismSpec& spec, bool provider_is_tpm) noexcept {
  if (!provider_is_tpm) {
    return true;
  }
  const slots::Capabilities* caps = slots::platform_capabilities();
  return caps != nullptr ? supported_by(spec, *caps) : spec.on_tpm;
}

KeySizeRange key_size_range(CK_KEY_TYPE key_type, bool provider_is_tpm) noexcept {
  if (provider_is_tpm) {
    if (const slots::Capabilities* caps = slots::platform_capabilities()) {
      return size_range_for(key_type, *caps);
    }
  }
  switch (key_type) {
    case CKK_RSA:
      return provider_is_tpm ? kRsaTpm : kRsaSoftware;
    case CKK_EC:
      return provider_is_tpm ? kEcTpm : kEcSoftware;
    case CKK_AES:
      return kAes;
    case CKK_GENERIC_SECRET:
      return kGenericSecret;
    default:
      return {0, 0};
  }
}

CK_ULONG key_size_unit_bits(CK_KEY_TYPE key_type) noexcept {
  return key_type == CKK_AES || key_type == CKK_GENERIC_SECRET ? 8 : 1;
}

CK_OBJECT_CLASS key_class_for(const MechanismSpec& spec, OpKind kind) noexcept {
  switch (kind) {
    case OpKind::kSign:
      return spec.key_classes.sign;
    case OpKind::kVerify:
      return spec.key_classes.verify;
    case OpKind::kEncrypt:
      return spec.key_classes.encrypt;
    case OpKind::kDecrypt:
      return spec.key_classes.decrypt;
    case OpKind::kDigest:
      break;
  }
  return CK_UNAVAILABLE_INFORMATION;
}

CK_FLAGS flag_for(OpKind kind) noexcept {
  switch (kind) {
    case OpKind::kSign:
      return CKF_SIGN;
    case OpKind::kVerify:
      return CKF_VERIFY;
    case OpKind::kEncrypt:
      return CKF_ENCRYPT;
    case OpKind::kDecrypt:
      return CKF_DECRYPT;
    case OpKind::kDigest:
      return CKF_DIGEST;
  }
  return 0;
}

}  // namespace mech

namespace {

CK_MECHANISM_INFO info_of(const mech::MechanismSpec& spec, bool provider_is_tpm) {
  const mech::KeySizeRange range = mech::key_size_range(spec.key_type, provider_is_tpm);
  return CK_MECHANISM_INFO{range.min_bits, range.max_bits, spec.flags};
}

std::vector<MechanismEntry>* build_table(bool provider_is_tpm) {
  auto* table = new std::vector<MechanismEntry>;
  for (const auto& spec : mech::all_mechanisms()) {
    if (!provider_is_tpm || spec.on_tpm) {
      table->push_back(MechanismEntry{spec.type, info_of(spec, provider_is_tpm)});
    }
  }
  return table;
}

// One table per distinct capability set ever probed (in practice one per process), never
// freed: a reference handed out stays valid across C_Finalize / C_Initialize.
const std::vector<MechanismEntry>& table_for_capabilities(const slots::Capabilities& caps) {
  struct Cached {
    slots::Capabilities caps;
    std::vector<MechanismEntry> table;
  };
  static auto* const mutex = new std::mutex;
  static auto* const cache = new std::vector<Cached*>;
  const std::lock_guard lock(*mutex);
  for (const Cached* cached : *cache) {
    if (cached->caps == caps) {
      return cached->table;
    }
  }
  cache->push_back(new Cached{caps, mechanism_table_for(caps)});
  return cache->back()->table;
}

}  // namespace

std::vector<MechanismEntry> mechanism_table_for(const slots::Capabilities& caps) {
  std::vector<MechanismEntry> table;
  for (const auto& spec : mech::all_mechanisms()) {
    if (mech::supported_by(spec, caps)) {
      const mech::KeySizeRange range = mech::size_range_for(spec.key_type, caps);
      table.push_back(MechanismEntry{spec.type, {range.min_bits, range.max_bits, spec.flags}});
    }
  }
  return table;
}

const std::vector<MechanismEntry>& mechanism_table(bool provider_is_tpm) {
  // Leaky statics: clients may call in from atexit handlers.
  static const auto* const software = build_table(false);
  static const auto* const tpm = build_table(true);
  if (!provider_is_tpm) {
    return *software;
  }
  const slots::Capabilities* caps = slots::platform_capabilities();
  return caps != nullptr ? table_for_capabilities(*caps) : *tpm;
}

CK_MECHANISM_INFO mechanism_info(CK_MECHANISM_TYPE type, bool provider_is_tpm) {
  const mech::MechanismSpec* spec = mech::find_mechanism(type);
  if (spec == nullptr || !mech::offered_on(*spec, provider_is_tpm)) {
    fail(CKR_MECHANISM_INVALID, "mechanism not supported by this slot");
  }
  return info_of(*spec, provider_is_tpm);
}

bool is_key_pair_gen_mechanism(CK_MECHANISM_TYPE type) noexcept {
  return type == CKM_RSA_PKCS_KEY_PAIR_GEN || type == CKM_EC_KEY_PAIR_GEN;
}

}  // namespace p11
