// The mechanism table (DESIGN.md §5) and C_GetMechanismInfo / C_GetMechanismList over it.
#include "mechanisms/registry.h"

#include <array>
#include <mutex>

#include "bridge/key_types/key_type.h"
#include "core/no_destructor.h"
#include "core/unload.h"

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
using A = slots::Ability;
constexpr slots::Abilities kNothing{};
// RSA key wrapping of secret keys (objects/layer_wrap.cpp decodes the parameter), inside NCrypt.
constexpr FlagGrant kRsaWrap{CKF_WRAP | CKF_UNWRAP, A::kRsaKeyWrap};

// SHA-224 has no CNG algorithm id, so it cannot drive NCrypt's PSS or OAEP padding: there is
// no CKM_SHA224_RSA_PKCS_PSS row, and PSS/OAEP parameters naming SHA-224 are rejected.
// PKCS#1 v1.5 with SHA-224 works (we build the DigestInfo), as does ECDSA (hash, then sign).
// The abilities column says what a slot's provider must be able to do for the row to be
// offered there: algorithms are probed, the rest its profile declares (slots/profile.h; the
// Platform Crypto Provider signs PSS with SHA-1 and SHA-256 only, needs a CNG hash id for
// PKCS#1; raw RSA is TPM2_RSA_Decrypt with the NULL scheme).
constexpr std::array kRows = {
    MechanismSpec{CKM_RSA_PKCS_KEY_PAIR_GEN, F::kKeyPairGen, CKK_RSA, kPairClasses, H::kNone,
                  CKF_GENERATE_KEY_PAIR, A::kRsa, nullptr, nullptr},
    MechanismSpec{CKM_EC_KEY_PAIR_GEN, F::kKeyPairGen, CKK_EC, kPairClasses, H::kNone,
                  CKF_GENERATE_KEY_PAIR | kEcFlags, A::kEcKeys, nullptr, nullptr},
    MechanismSpec{CKM_RSA_PKCS, F::kRsaPkcs, CKK_RSA, kPairClasses, H::kNone, kSignVerify | kCipher,
                  A::kRsa, nullptr, make_rsa_pkcs_operation, kRsaWrap},
    MechanismSpec{CKM_SHA1_RSA_PKCS, F::kRsaPkcs, CKK_RSA, kPairClasses, H::kSha1, kSignVerify,
                  A::kRsa, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_SHA224_RSA_PKCS, F::kRsaPkcs, CKK_RSA, kPairClasses, H::kSha224, kSignVerify,
                  A::kRsa | A::kRsaPkcs1Sha224, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_SHA256_RSA_PKCS, F::kRsaPkcs, CKK_RSA, kPairClasses, H::kSha256, kSignVerify,
                  A::kRsa, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_SHA384_RSA_PKCS, F::kRsaPkcs, CKK_RSA, kPairClasses, H::kSha384, kSignVerify,
                  A::kRsa, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_SHA512_RSA_PKCS, F::kRsaPkcs, CKK_RSA, kPairClasses, H::kSha512, kSignVerify,
                  A::kRsa, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_RSA_PKCS_PSS, F::kRsaPss, CKK_RSA, kPairClasses, H::kNone, kSignVerify,
                  A::kRsa | A::kRsaPss, decode_pss_params, make_sign_verify_operation},
    MechanismSpec{CKM_SHA1_RSA_PKCS_PSS, F::kRsaPss, CKK_RSA, kPairClasses, H::kSha1, kSignVerify,
                  A::kRsa | A::kRsaPss, decode_pss_params, make_sign_verify_operation},
    MechanismSpec{CKM_SHA256_RSA_PKCS_PSS, F::kRsaPss, CKK_RSA, kPairClasses, H::kSha256,
                  kSignVerify, A::kRsa | A::kRsaPss, decode_pss_params, make_sign_verify_operation},
    MechanismSpec{CKM_SHA384_RSA_PKCS_PSS, F::kRsaPss, CKK_RSA, kPairClasses, H::kSha384,
                  kSignVerify, A::kRsa | A::kRsaPssSha384, decode_pss_params,
                  make_sign_verify_operation},
    MechanismSpec{CKM_SHA512_RSA_PKCS_PSS, F::kRsaPss, CKK_RSA, kPairClasses, H::kSha512,
                  kSignVerify, A::kRsa | A::kRsaPssSha512, decode_pss_params,
                  make_sign_verify_operation},
    MechanismSpec{CKM_RSA_PKCS_OAEP, F::kRsaOaep, CKK_RSA, kPairClasses, H::kNone, kCipher,
                  A::kRsa | A::kRsaOaep, decode_oaep_params, make_cipher_operation, kRsaWrap},
    MechanismSpec{CKM_RSA_X_509, F::kRsaX509, CKK_RSA, kPairClasses, H::kNone,
                  kSignVerify | kCipher, A::kRsa | A::kRsaRaw, nullptr, make_rsa_pkcs_operation},
    MechanismSpec{CKM_ECDSA, F::kEcdsa, CKK_EC, kPairClasses, H::kNone, kSignVerify | kEcFlags,
                  A::kEcdsa, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_ECDSA_SHA1, F::kEcdsa, CKK_EC, kPairClasses, H::kSha1, kSignVerify | kEcFlags,
                  A::kEcdsa, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_ECDSA_SHA224, F::kEcdsa, CKK_EC, kPairClasses, H::kSha224,
                  kSignVerify | kEcFlags, A::kEcdsa, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_ECDSA_SHA256, F::kEcdsa, CKK_EC, kPairClasses, H::kSha256,
                  kSignVerify | kEcFlags, A::kEcdsa, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_ECDSA_SHA384, F::kEcdsa, CKK_EC, kPairClasses, H::kSha384,
                  kSignVerify | kEcFlags, A::kEcdsa, nullptr, make_sign_verify_operation},
    MechanismSpec{CKM_ECDSA_SHA512, F::kEcdsa, CKK_EC, kPairClasses, H::kSha512,
                  kSignVerify | kEcFlags, A::kEcdsa, nullptr, make_sign_verify_operation},
    // ECDH derives a secret key, by default a CKK_GENERIC_SECRET one: offered where the
    // provider keeps generic secrets (not the platform provider, which keeps no secret keys).
    MechanismSpec{CKM_ECDH1_DERIVE, F::kEcdh, CKK_EC, kPairClasses, H::kNone, CKF_DERIVE | kEcFlags,
                  A::kEcdh | A::kGenericSecret, decoded_by_caller, nullptr},
    MechanismSpec{CKM_SHA_1, F::kDigest, kNoKey, kNoKeyClasses, H::kSha1, CKF_DIGEST, kNothing,
                  nullptr, make_digest_operation},
    MechanismSpec{CKM_SHA224, F::kDigest, kNoKey, kNoKeyClasses, H::kSha224, CKF_DIGEST, kNothing,
                  nullptr, make_digest_operation},
    MechanismSpec{CKM_SHA256, F::kDigest, kNoKey, kNoKeyClasses, H::kSha256, CKF_DIGEST, kNothing,
                  nullptr, make_digest_operation},
    MechanismSpec{CKM_SHA384, F::kDigest, kNoKey, kNoKeyClasses, H::kSha384, CKF_DIGEST, kNothing,
                  nullptr, make_digest_operation},
    MechanismSpec{CKM_SHA512, F::kDigest, kNoKey, kNoKeyClasses, H::kSha512, CKF_DIGEST, kNothing,
                  nullptr, make_digest_operation},
    // Secret keys: offered where the provider keeps AES / generic-secret keys (the software KSP;
    // the platform provider keeps no symmetric keys).
    MechanismSpec{CKM_AES_KEY_GEN, F::kKeyGen, CKK_AES, kSecretClasses, H::kNone, CKF_GENERATE,
                  A::kAes, nullptr, nullptr},
    MechanismSpec{CKM_GENERIC_SECRET_KEY_GEN, F::kKeyGen, CKK_GENERIC_SECRET, kSecretClasses,
                  H::kNone, CKF_GENERATE, A::kGenericSecret, nullptr, nullptr},
    MechanismSpec{CKM_AES_ECB, F::kAesBlock, CKK_AES, kSecretClasses, H::kNone, kCipher, A::kAes,
                  nullptr, make_aes_block_operation},
    MechanismSpec{CKM_AES_CBC, F::kAesBlock, CKK_AES, kSecretClasses, H::kNone, kCipher, A::kAes,
                  decode_aes_iv_params, make_aes_block_operation},
    MechanismSpec{CKM_AES_CBC_PAD, F::kAesBlock, CKK_AES, kSecretClasses, H::kNone, kCipher,
                  A::kAes, decode_aes_iv_params, make_aes_block_operation},
    MechanismSpec{CKM_AES_CTR, F::kAesCtr, CKK_AES, kSecretClasses, H::kNone, kCipher, A::kAes,
                  decode_aes_ctr_params, make_aes_ctr_operation},
    // Also message-based (C_MessageEncryptInit & co., mechanisms/aes_gcm_message.cpp).
    MechanismSpec{CKM_AES_GCM, F::kAesGcm, CKK_AES, kSecretClasses, H::kNone,
                  kCipher | CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT | CKF_MULTI_MESSAGE, A::kAes,
                  decode_aes_gcm_params, make_aes_gcm_operation},
    // Key wrapping (objects/layer_wrap.cpp decodes the parameter: it has no operation).
    MechanismSpec{CKM_AES_KEY_WRAP, F::kAesKeyWrap, CKK_AES, kSecretClasses, H::kNone,
                  CKF_WRAP | CKF_UNWRAP, A::kAes, decoded_by_caller, nullptr},
    MechanismSpec{CKM_AES_KEY_WRAP_PAD, F::kAesKeyWrap, CKK_AES, kSecretClasses, H::kNone,
                  CKF_WRAP | CKF_UNWRAP, A::kAes, decoded_by_caller, nullptr},
    MechanismSpec{CKM_AES_KEY_WRAP_KWP, F::kAesKeyWrap, CKK_AES, kSecretClasses, H::kNone,
                  CKF_WRAP | CKF_UNWRAP, A::kAes, decoded_by_caller, nullptr},
    MechanismSpec{CKM_SHA_1_HMAC, F::kHmac, CKK_GENERIC_SECRET, kSecretClasses, H::kSha1,
                  kSignVerify, A::kGenericSecret, decode_hmac_params, make_hmac_operation},
    MechanismSpec{CKM_SHA_1_HMAC_GENERAL, F::kHmac, CKK_GENERIC_SECRET, kSecretClasses, H::kSha1,
                  kSignVerify, A::kGenericSecret, decode_hmac_general_params, make_hmac_operation},
    MechanismSpec{CKM_SHA224_HMAC, F::kHmac, CKK_GENERIC_SECRET, kSecretClasses, H::kSha224,
                  kSignVerify, A::kGenericSecret, decode_hmac_params, make_hmac_operation},
    MechanismSpec{CKM_SHA224_HMAC_GENERAL, F::kHmac, CKK_GENERIC_SECRET, kSecretClasses, H::kSha224,
                  kSignVerify, A::kGenericSecret, decode_hmac_general_params, make_hmac_operation},
    MechanismSpec{CKM_SHA256_HMAC, F::kHmac, CKK_GENERIC_SECRET, kSecretClasses, H::kSha256,
                  kSignVerify, A::kGenericSecret, decode_hmac_params, make_hmac_operation},
    MechanismSpec{CKM_SHA256_HMAC_GENERAL, F::kHmac, CKK_GENERIC_SECRET, kSecretClasses, H::kSha256,
                  kSignVerify, A::kGenericSecret, decode_hmac_general_params, make_hmac_operation},
    MechanismSpec{CKM_SHA384_HMAC, F::kHmac, CKK_GENERIC_SECRET, kSecretClasses, H::kSha384,
                  kSignVerify, A::kGenericSecret, decode_hmac_params, make_hmac_operation},
    MechanismSpec{CKM_SHA384_HMAC_GENERAL, F::kHmac, CKK_GENERIC_SECRET, kSecretClasses, H::kSha384,
                  kSignVerify, A::kGenericSecret, decode_hmac_general_params, make_hmac_operation},
    MechanismSpec{CKM_SHA512_HMAC, F::kHmac, CKK_GENERIC_SECRET, kSecretClasses, H::kSha512,
                  kSignVerify, A::kGenericSecret, decode_hmac_params, make_hmac_operation},
    MechanismSpec{CKM_SHA512_HMAC_GENERAL, F::kHmac, CKK_GENERIC_SECRET, kSecretClasses, H::kSha512,
                  kSignVerify, A::kGenericSecret, decode_hmac_general_params, make_hmac_operation},
};

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

void decode_params(const MechanismSpec& spec, const CK_MECHANISM& mechanism, DecodedParams& out) {
  if (spec.decode != nullptr) {
    spec.decode(spec, mechanism, out);
    return;
  }
  if (mechanism.pParameter != nullptr || mechanism.ulParameterLen != 0) {
    fail(CKR_MECHANISM_PARAM_INVALID, "this mechanism takes no parameter");
  }
}

void decoded_by_caller(const MechanismSpec& /*spec*/, const CK_MECHANISM& /*mechanism*/,
                       DecodedParams& /*out*/) noexcept {}

bool offered_on(const MechanismSpec& spec, const slots::Capabilities& caps) noexcept {
  return caps.has(spec.needs);
}

CK_FLAGS flags_on(const MechanismSpec& spec, const slots::Capabilities& caps) noexcept {
  return spec.flags | (caps.has(spec.extra.needs) ? spec.extra.flags : 0);
}

KeySizeRange key_size_range(CK_KEY_TYPE key_type, const slots::Capabilities& caps) noexcept {
  const bridge::KeyTypeDescriptor* type = bridge::find_key_type(key_type);
  return type != nullptr ? type->size_range(caps) : KeySizeRange{0, 0};
}

CK_ULONG key_size_unit_bits(CK_KEY_TYPE key_type) noexcept {
  const bridge::KeyTypeDescriptor* type = bridge::find_key_type(key_type);
  return type != nullptr ? type->size_unit_bits : 1;
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

CK_MECHANISM_INFO info_of(const mech::MechanismSpec& spec, const slots::Capabilities& caps) {
  const mech::KeySizeRange range = mech::key_size_range(spec.key_type, caps);
  return CK_MECHANISM_INFO{range.min_bits, range.max_bits, mech::flags_on(spec, caps)};
}

}  // namespace

std::vector<MechanismEntry> mechanism_table_for(const slots::Capabilities& caps) {
  std::vector<MechanismEntry> table;
  for (const auto& spec : mech::all_mechanisms()) {
    if (mech::offered_on(spec, caps)) {
      table.push_back(MechanismEntry{spec.type, info_of(spec, caps)});
    }
  }
  return table;
}

namespace {

struct CachedTable {
  slots::Capabilities caps;
  std::vector<MechanismEntry> table;
};
std::vector<CachedTable*>* g_table_cache = nullptr;  // freed at unload (core/unload.h)

}  // namespace

// One table per distinct capability set ever probed (in practice one per provider), kept
// until the library is unloaded: a reference handed out stays valid across C_Finalize /
// C_Initialize.
const std::vector<MechanismEntry>& mechanism_table(const slots::Capabilities& caps) {
  static NoDestructor<std::mutex> mutex;
  const std::lock_guard lock(*mutex);
  if (g_table_cache == nullptr) {
    g_table_cache = new std::vector<CachedTable*>;
    release_at_unload([]() noexcept {
      for (const CachedTable* cached : *g_table_cache) {
        delete cached;
      }
      delete g_table_cache;
    });
  }
  for (const CachedTable* cached : *g_table_cache) {
    if (cached->caps == caps) {
      return cached->table;
    }
  }
  g_table_cache->reserve(g_table_cache->size() + 1);
  g_table_cache->push_back(new CachedTable{caps, mechanism_table_for(caps)});
  return g_table_cache->back()->table;
}

CK_MECHANISM_INFO mechanism_info(CK_MECHANISM_TYPE type, const slots::Capabilities& caps) {
  const mech::MechanismSpec* spec = mech::find_mechanism(type);
  if (spec == nullptr || !mech::offered_on(*spec, caps)) {
    fail(CKR_MECHANISM_INVALID, "mechanism not supported by this slot");
  }
  return info_of(*spec, caps);
}

bool is_key_pair_gen_mechanism(CK_MECHANISM_TYPE type) noexcept {
  const mech::MechanismSpec* spec = mech::find_mechanism(type);
  return spec != nullptr && spec->family == mech::Family::kKeyPairGen;
}

}  // namespace p11
