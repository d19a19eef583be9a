// The mechanism table against start_operation: every flag C_GetMechanismInfo reports is an
// operation start_operation accepts and vice versa; the check order and error codes of
// start_operation; the platform (TPM) subset, from the slots' capabilities.
#include "mechanisms/registry.h"

#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <map>
#include <set>

#include "cng_common/ossl_ptr.h"
#include "secret_test_support.h"

namespace mechtest {
namespace {

using p11::OpKind;

constexpr CK_MECHANISM_TYPE kPssMechs[] = {CKM_RSA_PKCS_PSS, CKM_SHA1_RSA_PKCS_PSS,
                                           CKM_SHA256_RSA_PKCS_PSS, CKM_SHA384_RSA_PKCS_PSS,
                                           CKM_SHA512_RSA_PKCS_PSS};

// A valid parameter for each mechanism that needs one.
struct ValidParams {
  CK_RSA_PKCS_PSS_PARAMS pss{};
  CK_RSA_PKCS_OAEP_PARAMS oaep{CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, nullptr, 0};
  Bytes iv = Bytes(16, 0x42);
  CK_AES_CTR_PARAMS ctr{64, {}};
  CK_GCM_PARAMS gcm{iv.data(), 12, 96, nullptr, 0, 128};
  CK_ULONG mac_len = 16;

  CK_MECHANISM for_type(CK_MECHANISM_TYPE type) {
    if (std::find(std::begin(kPssMechs), std::end(kPssMechs), type) != std::end(kPssMechs)) {
      pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
      if (type == CKM_SHA1_RSA_PKCS_PSS) {
        pss = {CKM_SHA_1, CKG_MGF1_SHA1, 20};
      } else if (type == CKM_SHA384_RSA_PKCS_PSS) {
        pss = {CKM_SHA384, CKG_MGF1_SHA384, 48};
      } else if (type == CKM_SHA512_RSA_PKCS_PSS) {
        pss = {CKM_SHA512, CKG_MGF1_SHA512, 64};
      }
      return mechanism(type, &pss, sizeof(pss));
    }
    if (type == CKM_RSA_PKCS_OAEP) {
      return mechanism(type, &oaep, sizeof(oaep));
    }
    if (type == CKM_AES_CBC || type == CKM_AES_CBC_PAD) {
      return mechanism(type, iv.data(), 16);
    }
    if (type == CKM_AES_CTR) {
      return mechanism(type, &ctr, sizeof(ctr));
    }
    if (type == CKM_AES_GCM) {
      return mechanism(type, &gcm, sizeof(gcm));
    }
    const p11::mech::MechanismSpec* spec = p11::mech::find_mechanism(type);
    if (spec != nullptr && spec->decode == p11::mech::decode_hmac_general_params) {
      return mechanism(type, &mac_len, sizeof(mac_len));
    }
    return mechanism(type);
  }
};

// Written from PKCS#11 3.0 (Current Mechanisms, the "Mechanisms vs. Functions" table), not from
// registry.cpp: the functions the specification allows each mechanism (a flag outside them is a
// bug), and the ones DESIGN.md section 5 promises wherever the mechanism is offered.
struct SpecFunctions {
  CK_FLAGS allowed;
  CK_FLAGS promised;
};
constexpr CK_FLAGS kSV = CKF_SIGN | CKF_VERIFY;
constexpr CK_FLAGS kED = CKF_ENCRYPT | CKF_DECRYPT;
constexpr CK_FLAGS kWU = CKF_WRAP | CKF_UNWRAP;
constexpr CK_FLAGS kRecover = CKF_SIGN_RECOVER | CKF_VERIFY_RECOVER;
const std::map<CK_MECHANISM_TYPE, SpecFunctions>& spec_functions() {
  static const std::map<CK_MECHANISM_TYPE, SpecFunctions> table = [] {
    std::map<CK_MECHANISM_TYPE, SpecFunctions> t;
    t[CKM_RSA_PKCS_KEY_PAIR_GEN] = {CKF_GENERATE_KEY_PAIR, CKF_GENERATE_KEY_PAIR};
    t[CKM_EC_KEY_PAIR_GEN] = {CKF_GENERATE_KEY_PAIR, CKF_GENERATE_KEY_PAIR};
    t[CKM_RSA_PKCS] = {kED | kSV | kRecover | kWU, kED | kSV};
    t[CKM_RSA_X_509] = {kED | kSV | kRecover | kWU, kED | kSV};
    t[CKM_RSA_PKCS_OAEP] = {kED | kWU, kED};
    t[CKM_RSA_PKCS_PSS] = {kSV, kSV};
    for (CK_MECHANISM_TYPE m :
         {CKM_SHA1_RSA_PKCS, CKM_SHA224_RSA_PKCS, CKM_SHA256_RSA_PKCS, CKM_SHA384_RSA_PKCS,
          CKM_SHA512_RSA_PKCS, CKM_SHA1_RSA_PKCS_PSS, CKM_SHA224_RSA_PKCS_PSS,
          CKM_SHA256_RSA_PKCS_PSS, CKM_SHA384_RSA_PKCS_PSS, CKM_SHA512_RSA_PKCS_PSS, CKM_ECDSA,
          CKM_ECDSA_SHA1, CKM_ECDSA_SHA224, CKM_ECDSA_SHA256, CKM_ECDSA_SHA384, CKM_ECDSA_SHA512}) {
      t[m] = {kSV, kSV};
    }
    t[CKM_ECDH1_DERIVE] = {CKF_DERIVE, CKF_DERIVE};
    for (CK_MECHANISM_TYPE m : {CKM_SHA_1, CKM_SHA224, CKM_SHA256, CKM_SHA384, CKM_SHA512}) {
      t[m] = {CKF_DIGEST, CKF_DIGEST};
    }
    t[CKM_AES_KEY_GEN] = {CKF_GENERATE, CKF_GENERATE};
    t[CKM_GENERIC_SECRET_KEY_GEN] = {CKF_GENERATE, CKF_GENERATE};
    for (CK_MECHANISM_TYPE m :
         {CKM_AES_ECB, CKM_AES_CBC, CKM_AES_CBC_PAD, CKM_AES_CTR, CKM_AES_GCM}) {
      t[m] = {kED | kWU, kED};
    }
    // 3.0 §2.11 (AES-GCM): the mechanism also serves the message-based encryption functions,
    // single-part and multi-part (CKF_MULTI_MESSAGE: C_EncryptMessageBegin/Next).
    t[CKM_AES_GCM].allowed |= CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT | CKF_MULTI_MESSAGE;
    for (CK_MECHANISM_TYPE m : {CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_PAD, CKM_AES_KEY_WRAP_KWP}) {
      t[m] = {kED | kWU, kWU};
    }
    for (CK_MECHANISM_TYPE m :
         {CKM_SHA_1_HMAC, CKM_SHA_1_HMAC_GENERAL, CKM_SHA224_HMAC, CKM_SHA224_HMAC_GENERAL,
          CKM_SHA256_HMAC, CKM_SHA256_HMAC_GENERAL, CKM_SHA384_HMAC, CKM_SHA384_HMAC_GENERAL,
          CKM_SHA512_HMAC, CKM_SHA512_HMAC_GENERAL}) {
      t[m] = {kSV, kSV};
    }
    return t;
  }();
  return table;
}

// The order of a named curve in bits, as OpenSSL knows the curve.
CK_ULONG curve_bits(int nid) {
  const cng::ossl::Owned<EC_GROUP> group(EC_GROUP_new_by_curve_name(nid));
  return group ? static_cast<CK_ULONG>(EC_GROUP_get_degree(group.get())) : 0;
}

// Whether OpenSSL accepts an RSA modulus of this many bits for key generation (asked of its
// key generation parameters; nothing is generated).
bool openssl_accepts_rsa_bits(int bits) {
  const cng::ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  return ctx && EVP_PKEY_keygen_init(ctx.get()) == 1 &&
         EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), bits) > 0;
}

bool is_ec(const CK_MECHANISM_INFO& info) { return (info.flags & CKF_EC_F_P) != 0; }

CK_KEY_TYPE key_type_of(CK_MECHANISM_TYPE type) {
  return p11::mech::find_mechanism(type)->key_type;
}

// The key an operation kind takes for a mechanism.
p11::KeyView key_for(OpKind kind, CK_MECHANISM_TYPE type, const CK_MECHANISM_INFO& info) {
  static const auto aes = random_aes(16);
  static const auto generic = import_secret(CKK_GENERIC_SECRET, random_bytes(32));
  if (key_type_of(type) == CKK_AES) {
    return aes->view();
  }
  if (key_type_of(type) == CKK_GENERIC_SECRET) {
    return generic->view();
  }
  const TestKey& key = is_ec(info) ? ec_key(256) : rsa2048();
  return (kind == OpKind::kSign || kind == OpKind::kDecrypt) ? key.private_view()
                                                             : key.public_view();
}

TEST(MechanismTable, InfoFlagsMatchWhatStartOperationAccepts) {
  struct KindFlag {
    OpKind kind;
    CK_FLAGS flag;
  };
  const KindFlag kinds[] = {{OpKind::kSign, CKF_SIGN},
                            {OpKind::kVerify, CKF_VERIFY},
                            {OpKind::kEncrypt, CKF_ENCRYPT},
                            {OpKind::kDecrypt, CKF_DECRYPT},
                            {OpKind::kDigest, CKF_DIGEST}};
  for (bool tpm : {false, true}) {
    const slots::Capabilities& caps = tpm ? platform_caps() : software_caps();
    for (const p11::MechanismEntry& entry : p11::mechanism_table(caps)) {
      SCOPED_TRACE("mechanism 0x" + std::to_string(entry.type) + (tpm ? " tpm" : " sw"));
      const CK_MECHANISM_INFO info = p11::mechanism_info(entry.type, caps);
      const auto spec = spec_functions().find(entry.type);
      ASSERT_NE(spec, spec_functions().end()) << "a mechanism the specification table lacks";
      const CK_FLAGS ec_caps = CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
      const CK_FLAGS functions = info.flags & ~ec_caps;
      EXPECT_EQ(functions & ~spec->second.allowed, 0U) << "functions the specification forbids";
      EXPECT_EQ(functions & spec->second.promised, spec->second.promised);
      ValidParams params;
      const CK_MECHANISM m = params.for_type(entry.type);
      for (const KindFlag& k : kinds) {
        const p11::KeyView key = key_for(k.kind, entry.type, info);
        const CK_RV rv = rv_of([&] {
          auto op = p11::start_operation(k.kind, m, &key, caps);
          EXPECT_NE(op, nullptr);
        });
        EXPECT_EQ(rv, (info.flags & k.flag) != 0 ? CKR_OK : CKR_MECHANISM_INVALID)
            << "kind flag 0x" << std::hex << k.flag;
      }
      EXPECT_EQ((info.flags & CKF_GENERATE_KEY_PAIR) != 0,
                p11::is_key_pair_gen_mechanism(entry.type));
      if ((info.flags & CKF_DERIVE) != 0) {
        EXPECT_EQ(entry.type, static_cast<CK_MECHANISM_TYPE>(CKM_ECDH1_DERIVE));
      }
      if ((info.flags & CKF_DIGEST) != 0) {
        EXPECT_EQ(info.ulMinKeySize, 0U);
        EXPECT_EQ(info.ulMaxKeySize, 0U);
      } else if (key_type_of(entry.type) == CKK_AES) {
        // PKCS#11 counts AES key sizes in bytes; FIPS 197 keys are 128, 192 or 256 bits.
        EXPECT_FALSE(tpm);
        EXPECT_EQ(info.ulMinKeySize, 128U / 8);
        EXPECT_EQ(info.ulMaxKeySize, 256U / 8);
      } else if (key_type_of(entry.type) == CKK_GENERIC_SECRET) {
        // In bytes: at least one byte, and keys as long as the largest HMAC block (SHA-512's
        // 128 bytes, FIPS 198-1) must fit.
        EXPECT_FALSE(tpm);
        EXPECT_EQ(info.ulMinKeySize, 1U);
        EXPECT_GE(info.ulMaxKeySize, 128U);
      } else if (is_ec(info)) {
        // In bits, the order of the smallest and largest curve offered (DESIGN section 5:
        // P-256 to P-521; the platform capabilities this test gives: P-256 and P-384).
        EXPECT_EQ(info.ulMinKeySize, curve_bits(NID_X9_62_prime256v1));
        EXPECT_EQ(info.ulMaxKeySize, curve_bits(tpm ? NID_secp384r1 : NID_secp521r1));
        EXPECT_EQ(info.flags & ec_caps, ec_caps);
      } else {
        // RSA, in bits. Software: whatever OpenSSL generates (its smallest accepted modulus,
        // up to OPENSSL_RSA_MAX_MODULUS_BITS). Platform: the range given to its capabilities.
        EXPECT_EQ(info.flags & ec_caps, 0U);
        if (tpm) {
          EXPECT_EQ(info.ulMinKeySize, platform_caps().rsa_bits.min_bits);
          EXPECT_EQ(info.ulMaxKeySize, platform_caps().rsa_bits.max_bits);
        } else {
          const int min = static_cast<int>(info.ulMinKeySize);
          EXPECT_TRUE(openssl_accepts_rsa_bits(min));
          EXPECT_FALSE(openssl_accepts_rsa_bits(min - 1));
          EXPECT_EQ(info.ulMaxKeySize, static_cast<CK_ULONG>(OPENSSL_RSA_MAX_MODULUS_BITS));
        }
      }
    }
  }
}

TEST(MechanismTable, ContentsAndTpmSubset) {
  std::set<CK_MECHANISM_TYPE> software;
  for (const auto& e : p11::mechanism_table(software_caps())) {
    EXPECT_TRUE(software.insert(e.type).second) << "duplicate " << e.type;
  }
  for (CK_MECHANISM_TYPE t : {CKM_RSA_PKCS_KEY_PAIR_GEN,
                              CKM_EC_KEY_PAIR_GEN,
                              CKM_RSA_PKCS,
                              CKM_SHA1_RSA_PKCS,
                              CKM_SHA224_RSA_PKCS,
                              CKM_SHA256_RSA_PKCS,
                              CKM_SHA384_RSA_PKCS,
                              CKM_SHA512_RSA_PKCS,
                              CKM_RSA_PKCS_PSS,
                              CKM_SHA1_RSA_PKCS_PSS,
                              CKM_SHA256_RSA_PKCS_PSS,
                              CKM_SHA384_RSA_PKCS_PSS,
                              CKM_SHA512_RSA_PKCS_PSS,
                              CKM_ECDSA,
                              CKM_ECDSA_SHA1,
                              CKM_ECDSA_SHA224,
                              CKM_ECDSA_SHA256,
                              CKM_ECDSA_SHA384,
                              CKM_ECDSA_SHA512,
                              CKM_RSA_PKCS_OAEP,
                              CKM_RSA_X_509,
                              CKM_ECDH1_DERIVE,
                              CKM_SHA_1,
                              CKM_SHA224,
                              CKM_SHA256,
                              CKM_SHA384,
                              CKM_SHA512,
                              CKM_AES_ECB,
                              CKM_AES_CBC,
                              CKM_AES_CBC_PAD,
                              CKM_AES_CTR,
                              CKM_AES_GCM,
                              CKM_AES_KEY_WRAP,
                              CKM_AES_KEY_WRAP_PAD,
                              CKM_AES_KEY_WRAP_KWP,
                              CKM_SHA_1_HMAC,
                              CKM_SHA_1_HMAC_GENERAL,
                              CKM_SHA224_HMAC,
                              CKM_SHA224_HMAC_GENERAL,
                              CKM_SHA256_HMAC,
                              CKM_SHA256_HMAC_GENERAL,
                              CKM_SHA384_HMAC,
                              CKM_SHA384_HMAC_GENERAL,
                              CKM_SHA512_HMAC,
                              CKM_SHA512_HMAC_GENERAL}) {
    EXPECT_EQ(software.count(t), 1U) << "missing 0x" << std::hex << t;
  }
  std::set<CK_MECHANISM_TYPE> tpm;
  for (const auto& e : p11::mechanism_table(platform_caps())) {
    tpm.insert(e.type);
    EXPECT_EQ(software.count(e.type), 1U);
  }
  EXPECT_LT(tpm.size(), software.size());
  for (CK_MECHANISM_TYPE t : {CKM_RSA_PKCS, CKM_RSA_PKCS_PSS, CKM_RSA_PKCS_OAEP, CKM_ECDSA,
                              CKM_SHA256, CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_EC_KEY_PAIR_GEN}) {
    EXPECT_EQ(tpm.count(t), 1U) << "TPM lacks 0x" << std::hex << t;
  }
  // ECDH1 derives a secret key (PKCS#11 3.0 Current Mechanisms, elliptic curve Diffie-Hellman
  // key derivation), which a provider without secret keys cannot hold: not offered, though the
  // TPM has ECDH; a platform provider that kept generic secrets would offer it.
  EXPECT_TRUE(platform_caps().has(slots::Ability::kEcdh));
  EXPECT_EQ(tpm.count(CKM_ECDH1_DERIVE), 0U);
  slots::Capabilities with_secrets = platform_caps();
  with_secrets.generic_secret = true;
  bool ecdh_with_secrets = false;
  for (const auto& e : p11::mechanism_table(with_secrets)) {
    ecdh_with_secrets = ecdh_with_secrets || e.type == CKM_ECDH1_DERIVE;
  }
  EXPECT_TRUE(ecdh_with_secrets);
  // Raw RSA is TPM2_RSA_Decrypt with the NULL scheme: offered on both providers.
  EXPECT_EQ(tpm.count(CKM_RSA_X_509), 1U);
  EXPECT_EQ(tpm.count(CKM_SHA224_RSA_PKCS), 0U);
  // The platform provider keeps no symmetric keys: it has neither ability.
  EXPECT_FALSE(platform_caps().has(slots::Ability::kAes));
  for (const auto& spec : p11::mech::all_mechanisms()) {
    if (spec.key_type == CKK_AES || spec.key_type == CKK_GENERIC_SECRET) {
      EXPECT_EQ(tpm.count(spec.type), 0U) << "TPM offers 0x" << std::hex << spec.type;
      EXPECT_EQ(software.count(spec.type), 1U) << "software lacks 0x" << std::hex << spec.type;
    }
  }
  EXPECT_EQ(rv_of([] { p11::mechanism_info(CKM_SHA224_RSA_PKCS, platform_caps()); }),
            CKR_MECHANISM_INVALID);
  EXPECT_EQ(rv_of([] { p11::mechanism_info(CKM_MD5, software_caps()); }), CKR_MECHANISM_INVALID);
  const p11::KeyView pub = rsa2048().public_view();
  const CK_MECHANISM sha224 = mechanism(CKM_SHA224_RSA_PKCS);
  EXPECT_EQ(rv_of([&] { p11::start_operation(OpKind::kVerify, sha224, &pub, platform_caps()); }),
            CKR_MECHANISM_INVALID);
}

// RSA key wrapping is of secret keys: the wrap flags come with the software KSP's RSA-wrap
// blob (a profile ability), so the TPM slots, which keep no secret keys, do not offer them.
TEST(MechanismTable, RsaWrapFlagsOnlyWhereTheProfileCanWrap) {
  for (const CK_MECHANISM_TYPE type : {CKM_RSA_PKCS, CKM_RSA_PKCS_OAEP}) {
    const CK_MECHANISM_INFO sw = p11::mechanism_info(type, software_caps());
    EXPECT_EQ(sw.flags & (CKF_WRAP | CKF_UNWRAP), CKF_WRAP | CKF_UNWRAP);
    const CK_MECHANISM_INFO tpm = p11::mechanism_info(type, platform_caps());
    EXPECT_EQ(tpm.flags & (CKF_WRAP | CKF_UNWRAP), 0U);
    EXPECT_EQ(tpm.flags & (CKF_ENCRYPT | CKF_DECRYPT), CKF_ENCRYPT | CKF_DECRYPT);
    const slots::Capabilities& caps = platform_caps();
    EXPECT_EQ(rv_of([&] { p11::mech::offered_mechanism(type, CKF_WRAP, caps); }),
              CKR_MECHANISM_INVALID);
    EXPECT_EQ(rv_of([&] { p11::mech::offered_mechanism(type, CKF_WRAP, software_caps()); }),
              CKR_OK);
  }
  EXPECT_TRUE(software_caps().has(slots::Ability::kRsaKeyWrap));
  EXPECT_FALSE(platform_caps().has(slots::Ability::kRsaKeyWrap));
}

CK_RV start(OpKind kind, const CK_MECHANISM& m, const p11::KeyView& key, bool tpm = false) {
  const slots::Capabilities& caps = tpm ? platform_caps() : software_caps();
  return rv_of([&] { static_cast<void>(p11::start_operation(kind, m, &key, caps)); });
}

TEST(StartOperation, KeyErrors) {
  const CK_MECHANISM rsa = mechanism(CKM_SHA256_RSA_PKCS);
  const CK_MECHANISM ecdsa = mechanism(CKM_ECDSA);
  const p11::KeyView rsa_priv = rsa2048().private_view();
  const p11::KeyView rsa_pub = rsa2048().public_view();
  EXPECT_EQ(start(OpKind::kSign, rsa, rsa_priv), CKR_OK);
  EXPECT_EQ(start(OpKind::kSign, ecdsa, rsa_priv), CKR_KEY_TYPE_INCONSISTENT);
  EXPECT_EQ(start(OpKind::kSign, rsa, ec_key(256).private_view()), CKR_KEY_TYPE_INCONSISTENT);
  EXPECT_EQ(start(OpKind::kSign, rsa, rsa_pub), CKR_KEY_TYPE_INCONSISTENT);
  EXPECT_EQ(start(OpKind::kVerify, rsa, rsa_priv), CKR_KEY_TYPE_INCONSISTENT);
  EXPECT_EQ(start(OpKind::kEncrypt, mechanism(CKM_RSA_PKCS), rsa_priv), CKR_KEY_TYPE_INCONSISTENT);
  EXPECT_EQ(start(OpKind::kDecrypt, mechanism(CKM_RSA_PKCS), rsa_pub), CKR_KEY_TYPE_INCONSISTENT);

  p11::KeyView no_sign = rsa_priv;
  no_sign.can_sign = false;
  EXPECT_EQ(start(OpKind::kSign, rsa, no_sign), CKR_KEY_FUNCTION_NOT_PERMITTED);
  p11::KeyView no_verify = rsa_pub;
  no_verify.can_verify = false;
  EXPECT_EQ(start(OpKind::kVerify, rsa, no_verify), CKR_KEY_FUNCTION_NOT_PERMITTED);
  p11::KeyView no_encrypt = rsa_pub;
  no_encrypt.can_encrypt = false;
  EXPECT_EQ(start(OpKind::kEncrypt, mechanism(CKM_RSA_PKCS), no_encrypt),
            CKR_KEY_FUNCTION_NOT_PERMITTED);
  p11::KeyView no_decrypt = rsa_priv;
  no_decrypt.can_decrypt = false;
  EXPECT_EQ(start(OpKind::kDecrypt, mechanism(CKM_RSA_PKCS), no_decrypt),
            CKR_KEY_FUNCTION_NOT_PERMITTED);

  p11::KeyView allowed = rsa_priv;
  allowed.allowed_mechanisms = {CKM_SHA384_RSA_PKCS, CKM_RSA_PKCS_PSS};
  EXPECT_EQ(start(OpKind::kSign, rsa, allowed), CKR_MECHANISM_INVALID);
  EXPECT_EQ(start(OpKind::kSign, mechanism(CKM_SHA384_RSA_PKCS), allowed), CKR_OK);

  p11::KeyView too_big = rsa_priv;
  too_big.bits = 4096;
  EXPECT_EQ(start(OpKind::kSign, rsa, too_big, true), CKR_KEY_SIZE_RANGE);
  p11::KeyView too_small = rsa_priv;
  too_small.bits = 256;
  EXPECT_EQ(start(OpKind::kSign, rsa, too_small), CKR_KEY_SIZE_RANGE);
  p11::KeyView p521 = ec_key(521).private_view();
  EXPECT_EQ(start(OpKind::kSign, ecdsa, p521, true), CKR_KEY_SIZE_RANGE);

  EXPECT_EQ(rv_of([&] { p11::start_operation(OpKind::kSign, rsa, nullptr, software_caps()); }),
            CKR_KEY_HANDLE_INVALID);
  p11::KeyView no_handle = rsa_priv;
  no_handle.ncrypt_key = 0;
  EXPECT_EQ(start(OpKind::kSign, rsa, no_handle), CKR_KEY_HANDLE_INVALID);
}

TEST(StartOperation, MechanismErrors) {
  const p11::KeyView rsa_priv = rsa2048().private_view();
  EXPECT_EQ(start(OpKind::kSign, mechanism(CKM_MD5_RSA_PKCS), rsa_priv), CKR_MECHANISM_INVALID);
  EXPECT_EQ(start(OpKind::kSign, mechanism(0x80001234UL), rsa_priv), CKR_MECHANISM_INVALID);
  EXPECT_EQ(start(OpKind::kSign, mechanism(CKM_SHA256), rsa_priv), CKR_MECHANISM_INVALID);
  EXPECT_EQ(start(OpKind::kSign, mechanism(CKM_RSA_PKCS_OAEP), rsa_priv), CKR_MECHANISM_INVALID);
  EXPECT_EQ(start(OpKind::kSign, mechanism(CKM_RSA_PKCS_KEY_PAIR_GEN), rsa_priv),
            CKR_MECHANISM_INVALID);
  EXPECT_EQ(start(OpKind::kSign, mechanism(CKM_ECDH1_DERIVE), ec_key(256, true).private_view()),
            CKR_MECHANISM_INVALID);
  EXPECT_EQ(rv_of([] {
              const CK_MECHANISM m = mechanism(CKM_SHA256_RSA_PKCS);
              p11::start_operation(OpKind::kDigest, m, nullptr, software_caps());
            }),
            CKR_MECHANISM_INVALID);
}

// Each check wins over the ones after it.
TEST(StartOperation, CheckOrder) {
  p11::KeyView everything_wrong = rsa2048().private_view();
  everything_wrong.object_class = CKO_PUBLIC_KEY;  // wrong class for signing
  everything_wrong.can_sign = false;
  everything_wrong.allowed_mechanisms = {CKM_ECDSA};
  everything_wrong.bits = 100;
  const CK_MECHANISM pss_no_params = mechanism(CKM_RSA_PKCS_PSS);
  EXPECT_EQ(start(OpKind::kSign, mechanism(CKM_SHA512), everything_wrong), CKR_MECHANISM_INVALID);
  EXPECT_EQ(start(OpKind::kSign, pss_no_params, everything_wrong), CKR_KEY_TYPE_INCONSISTENT);
  everything_wrong.object_class = CKO_PRIVATE_KEY;
  EXPECT_EQ(start(OpKind::kSign, pss_no_params, everything_wrong), CKR_KEY_FUNCTION_NOT_PERMITTED);
  everything_wrong.can_sign = true;
  EXPECT_EQ(start(OpKind::kSign, pss_no_params, everything_wrong), CKR_MECHANISM_INVALID);
  everything_wrong.allowed_mechanisms.push_back(CKM_RSA_PKCS_PSS);
  EXPECT_EQ(start(OpKind::kSign, pss_no_params, everything_wrong), CKR_MECHANISM_PARAM_INVALID);
  CK_RSA_PKCS_PSS_PARAMS params{CKM_SHA256, CKG_MGF1_SHA256, 32};
  const CK_MECHANISM pss = mechanism(CKM_RSA_PKCS_PSS, &params, sizeof(params));
  EXPECT_EQ(start(OpKind::kSign, pss, everything_wrong), CKR_KEY_SIZE_RANGE);
  everything_wrong.bits = 2048;
  EXPECT_EQ(start(OpKind::kSign, pss, everything_wrong), CKR_OK);
}

// Sign and decrypt keep the CNG handle's owner alive until the operation ends, even when the
// object (and its KeyView) goes away meanwhile.
TEST(StartOperation, PrivateKeyOperationsHoldTheKeyOwner) {
  CK_RSA_PKCS_OAEP_PARAMS oaep{CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, nullptr, 0};
  const struct {
    OpKind kind;
    CK_MECHANISM m;
  } cases[] = {{OpKind::kSign, mechanism(CKM_SHA256_RSA_PKCS)},
               {OpKind::kSign, mechanism(CKM_RSA_PKCS)},
               {OpKind::kDecrypt, mechanism(CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep))}};
  for (const auto& c : cases) {
    auto owner = std::make_shared<int>(7);
    auto view = std::make_unique<p11::KeyView>(rsa2048().private_view());
    view->key_owner = owner;
    auto op = p11::start_operation(c.kind, c.m, view.get(), software_caps());
    view.reset();
    EXPECT_EQ(owner.use_count(), 2);
    op.reset();
    EXPECT_EQ(owner.use_count(), 1);
  }
}

}  // namespace
}  // namespace mechtest
