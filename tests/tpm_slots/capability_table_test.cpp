// The platform slots' mechanism table as a function of the provider's capabilities
// (mechanism_table_for), and the probe itself against the real software provider.
#include <gtest/gtest.h>

#include <set>

#include "mechanisms/operation.h"
#include "slots/capabilities.h"

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

slots::Capabilities full_tpm() {
  slots::Capabilities c;
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
  for (CK_MECHANISM_TYPE t : {CKM_EC_KEY_PAIR_GEN, CKM_ECDSA, CKM_ECDH1_DERIVE}) {
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

  slots::Capabilities no_ecdh = full_tpm();
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
