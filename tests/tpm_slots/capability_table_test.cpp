// The platform slots' mechanism table as a function of the provider's capabilities
// (mechanism_table_for: probed algorithms and the platform profile's abilities), and the probe
// itself against the real software provider.
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "mechanisms/operation.h"
#include "slots/capabilities.h"
#include "slots/profile.h"

namespace {

std::set<CK_MECHANISM_TYPE> types_of(const std::vector<p11::MechanismEntry>& table) {
  std::set<CK_MECHANISM_TYPE> out;
  for (const auto& e : table) {
    out.insert(e.type);
  }
  return out;
}

const p11::MechanismEntry* entry(const std::vector<p11::MechanismEntry>& table,
                                 CK_MECHANISM_TYPE type) {
  for (const auto& e : table) {
    if (e.type == type) {
      return &e;
    }
  }
  return nullptr;
}

const slots::ProviderProfile& profile_of(std::u16string_view provider) {
  for (const slots::ProviderProfile& profile : slots::provider_profiles()) {
    if (profile.provider == provider) {
      return profile;
    }
  }
  throw std::runtime_error("no such provider profile");
}

// A TPM's probed algorithms with the platform profile's abilities, as a platform Slot has them.
slots::Capabilities full_tpm() {
  slots::Capabilities c;
  c.declared = profile_of(MS_PLATFORM_CRYPTO_PROVIDER).abilities;
  c.rsa = true;
  c.rsa_bits = {1024, 3072};
  c.ecdsa_p256 = c.ecdsa_p384 = c.ecdh_p256 = c.ecdh_p384 = true;
  return c;
}

TEST(CapabilityTable, KeySizesComeFromLengthsAndCurves) {
  const auto table = p11::mechanism_table_for(full_tpm());
  for (CK_MECHANISM_TYPE t :
       {CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_RSA_PKCS, CKM_SHA256_RSA_PKCS_PSS, CKM_RSA_PKCS_OAEP}) {
    const auto* e = entry(table, t);
    ASSERT_NE(e, nullptr) << "0x" << std::hex << t;
    EXPECT_EQ(e->info.ulMinKeySize, 1024U);
    EXPECT_EQ(e->info.ulMaxKeySize, 3072U);
  }
  // (ECDH is sized like the others where it is offered: with generic secrets to derive.)
  slots::Capabilities with_secrets = full_tpm();
  with_secrets.generic_secret = true;
  const auto secrets_table = p11::mechanism_table_for(with_secrets);
  ASSERT_NE(entry(secrets_table, CKM_ECDH1_DERIVE), nullptr);
  EXPECT_EQ(entry(secrets_table, CKM_ECDH1_DERIVE)->info.ulMinKeySize, 256U);
  EXPECT_EQ(entry(secrets_table, CKM_ECDH1_DERIVE)->info.ulMaxKeySize, 384U);
  for (CK_MECHANISM_TYPE t : {CKM_EC_KEY_PAIR_GEN, CKM_ECDSA}) {
    const auto* e = entry(table, t);
    ASSERT_NE(e, nullptr) << "0x" << std::hex << t;
    EXPECT_EQ(e->info.ulMinKeySize, 256U);
    EXPECT_EQ(e->info.ulMaxKeySize, 384U);
  }
  slots::Capabilities with_p521 = full_tpm();
  with_p521.ecdsa_p521 = true;
  EXPECT_EQ(entry(p11::mechanism_table_for(with_p521), CKM_ECDSA)->info.ulMaxKeySize, 521U);
  slots::Capabilities only_p384 = full_tpm();
  only_p384.ecdsa_p256 = only_p384.ecdh_p256 = false;
  EXPECT_EQ(entry(p11::mechanism_table_for(only_p384), CKM_ECDSA)->info.ulMinKeySize, 384U);
}

TEST(CapabilityTable, AbsentAlgorithmsDropTheirMechanisms) {
  slots::Capabilities no_rsa = full_tpm();
  no_rsa.rsa = false;
  no_rsa.rsa_bits = {};
  const auto ec_only = types_of(p11::mechanism_table_for(no_rsa));
  for (CK_MECHANISM_TYPE t : {CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_RSA_PKCS, CKM_SHA256_RSA_PKCS,
                              CKM_RSA_PKCS_PSS, CKM_RSA_PKCS_OAEP}) {
    EXPECT_EQ(ec_only.count(t), 0U) << "0x" << std::hex << t;
  }
  EXPECT_EQ(ec_only.count(CKM_ECDSA), 1U);
  EXPECT_EQ(ec_only.count(CKM_SHA256), 1U);  // digests are OpenSSL's, always there

  // ECDH needs both the TPM's ECDH and secret keys to derive into (the derived key's default
  // type, a generic secret): the platform provider has no secret keys, so no ECDH row.
  EXPECT_EQ(types_of(p11::mechanism_table_for(full_tpm())).count(CKM_ECDH1_DERIVE), 0U);
  slots::Capabilities with_secrets = full_tpm();
  with_secrets.generic_secret = true;
  EXPECT_EQ(types_of(p11::mechanism_table_for(with_secrets)).count(CKM_ECDH1_DERIVE), 1U);
  slots::Capabilities no_ecdh = with_secrets;
  no_ecdh.ecdh_p256 = no_ecdh.ecdh_p384 = false;
  const auto sign_only = types_of(p11::mechanism_table_for(no_ecdh));
  EXPECT_EQ(sign_only.count(CKM_ECDH1_DERIVE), 0U);
  EXPECT_EQ(sign_only.count(CKM_EC_KEY_PAIR_GEN), 1U);
  EXPECT_EQ(sign_only.count(CKM_ECDSA_SHA256), 1U);

  const auto nothing = types_of(p11::mechanism_table_for(slots::Capabilities{}));
  EXPECT_EQ(nothing.count(CKM_EC_KEY_PAIR_GEN), 0U);
  EXPECT_EQ(nothing.count(CKM_ECDSA), 0U);
  EXPECT_EQ(nothing.count(CKM_RSA_PKCS), 0U);
  EXPECT_EQ(nothing.count(CKM_RSA_X_509), 0U);
  EXPECT_EQ(types_of(p11::mechanism_table_for(full_tpm())).count(CKM_RSA_X_509), 1U);
}

TEST(CapabilityTable, NeverOffersWhatThePlatformProviderCannotDo) {
  // Rows outside the TPM profile stay out whatever the capabilities say.
  const auto types = types_of(p11::mechanism_table_for(full_tpm()));
  EXPECT_EQ(types.count(CKM_SHA384_RSA_PKCS_PSS), 0U);
  EXPECT_EQ(types.count(CKM_SHA224_RSA_PKCS), 0U);
}

// The two profiles' mechanism lists, exactly and in order: the software slots offer every row,
// the platform slots (with every algorithm probed) all but three RSA rows, ECDH (it derives
// secret keys) and the symmetric rows.
TEST(CapabilityTable, ExactListsOfTheSoftwareAndPlatformProfiles) {
  NCRYPT_PROV_HANDLE prov = 0;
  ASSERT_EQ(NCryptOpenStorageProvider(&prov, MS_KEY_STORAGE_PROVIDER, 0), 0);
  slots::Capabilities software = slots::probe_capabilities(prov);
  EXPECT_EQ(NCryptFreeObject(prov), 0);
  software.declared = profile_of(MS_KEY_STORAGE_PROVIDER).abilities;
  const std::vector<CK_MECHANISM_TYPE> all = {CKM_RSA_PKCS_KEY_PAIR_GEN,
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
                                              CKM_RSA_PKCS_OAEP,
                                              CKM_RSA_X_509,
                                              CKM_ECDSA,
                                              CKM_ECDSA_SHA1,
                                              CKM_ECDSA_SHA224,
                                              CKM_ECDSA_SHA256,
                                              CKM_ECDSA_SHA384,
                                              CKM_ECDSA_SHA512,
                                              CKM_ECDH1_DERIVE,
                                              CKM_SHA_1,
                                              CKM_SHA224,
                                              CKM_SHA256,
                                              CKM_SHA384,
                                              CKM_SHA512,
                                              CKM_AES_KEY_GEN,
                                              CKM_GENERIC_SECRET_KEY_GEN,
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
                                              CKM_SHA512_HMAC_GENERAL};
  // The platform provider keeps no symmetric keys: no AES or generic-secret rows there, and no
  // ECDH, whose derived keys are secret keys.
  const std::set<CK_MECHANISM_TYPE> symmetric(all.begin() + (all.size() - 20), all.end());
  std::vector<CK_MECHANISM_TYPE> platform;
  for (const CK_MECHANISM_TYPE t : all) {
    if (t != CKM_SHA224_RSA_PKCS && t != CKM_SHA384_RSA_PKCS_PSS && t != CKM_SHA512_RSA_PKCS_PSS &&
        t != CKM_ECDH1_DERIVE && !symmetric.contains(t)) {
      platform.push_back(t);
    }
  }
  const auto list = [](const std::vector<p11::MechanismEntry>& table) {
    std::vector<CK_MECHANISM_TYPE> out;
    for (const auto& e : table) {
      out.push_back(e.type);
    }
    return out;
  };
  EXPECT_EQ(list(p11::mechanism_table(software)), all);
  slots::Capabilities tpm = full_tpm();
  tpm.ecdsa_p521 = tpm.ecdh_p521 = true;
  EXPECT_EQ(list(p11::mechanism_table(tpm)), platform);
  // The software slots' key sizes: the provider's Lengths (512..16384) and all three curves.
  EXPECT_EQ(p11::mechanism_info(CKM_RSA_PKCS, software).ulMinKeySize, 512U);
  EXPECT_EQ(p11::mechanism_info(CKM_RSA_PKCS, software).ulMaxKeySize, 16384U);
  EXPECT_EQ(p11::mechanism_info(CKM_ECDSA, software).ulMinKeySize, 256U);
  EXPECT_EQ(p11::mechanism_info(CKM_ECDSA, software).ulMaxKeySize, 521U);
}

TEST(CapabilityProbe, SoftwareProviderReportsItsAlgorithmsAndLengths) {
  NCRYPT_PROV_HANDLE prov = 0;
  ASSERT_EQ(NCryptOpenStorageProvider(&prov, MS_KEY_STORAGE_PROVIDER, 0), 0);
  const slots::Capabilities caps = slots::probe_capabilities(prov);
  EXPECT_EQ(NCryptFreeObject(prov), 0);
  EXPECT_TRUE(caps.rsa);
  EXPECT_LE(caps.rsa_bits.min_bits, 1024U);
  EXPECT_GE(caps.rsa_bits.max_bits, 4096U);
  EXPECT_TRUE(caps.ecdsa_p256 && caps.ecdsa_p384 && caps.ecdsa_p521);
  EXPECT_TRUE(caps.ecdh_p256 && caps.ecdh_p384 && caps.ecdh_p521);
  EXPECT_EQ(caps.ec_bits(), (slots::BitRange{256, 521}));
}

TEST(CapabilityProbe, InvalidHandleMeansNothingSupported) {
  EXPECT_EQ(slots::probe_capabilities(0), slots::Capabilities{});
}

}  // namespace
