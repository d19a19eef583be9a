// The storage parent: a storage key provisioned at 0x81000001 is used when present; otherwise
// the provider recreates the TCG primary, which yields the same key on the same TPM.
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tctildr.h>

#include "core/cng_error.h"
#include "platform_test_support.h"
#include "providers/platform/platform_provider.h"
#include "providers/platform/tpm_blob.h"
#include "providers/platform/tpm_key.h"
#include "providers/platform/tpm_templates.h"
#include "providers/platform/tss_ptr.h"

namespace platform_test {
namespace {

using cng::tpm::ParentKind;

// Provisions an RSA-2048 SRK at 0x81000001, as TCG provisioning (and Windows) does.
void provision_srk(const std::string& tcti_config) {
  TSS2_TCTI_CONTEXT* raw_tcti = nullptr;
  ASSERT_EQ(Tss2_TctiLdr_Initialize(tcti_config.c_str(), &raw_tcti), 0u);
  const cng::tpm::TctiPtr tcti(raw_tcti);
  ESYS_CONTEXT* raw_esys = nullptr;
  ASSERT_EQ(Esys_Initialize(&raw_esys, tcti.get(), nullptr), 0u);
  const cng::tpm::EsysPtr esys(raw_esys);
  const TPM2B_PUBLIC templ = cng::tpm::srk_template(ParentKind::kRsaSrk);
  const TPM2B_SENSITIVE_CREATE sensitive{};
  const TPM2B_DATA outside{};
  const TPML_PCR_SELECTION pcrs{};
  ESYS_TR primary = ESYS_TR_NONE;
  ASSERT_EQ(Esys_CreatePrimary(esys.get(), ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                               ESYS_TR_NONE, &sensitive, &templ, &outside, &pcrs, &primary, nullptr,
                               nullptr, nullptr, nullptr),
            0u);
  ESYS_TR persistent = ESYS_TR_NONE;
  ASSERT_EQ(Esys_EvictControl(esys.get(), ESYS_TR_RH_OWNER, primary, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                              ESYS_TR_NONE, cng::tpm::kSrkPersistentHandle, &persistent),
            0u);
  EXPECT_EQ(Esys_FlushContext(esys.get(), primary), 0u);
}

const cng::tpm::TpmKey& as_tpm_key(const cng::KeyMaterial& key) {
  return dynamic_cast<const cng::tpm::TpmKey&>(key);
}

TEST(SrkTest, ProvisionedSrkAtPersistentHandleIsUsedAndRecreatedPrimaryIsStable) {
  if (main_tpm() == nullptr) {
    GTEST_SKIP() << "swtpm is not installed";
  }
  SwtpmProcess tpm(test_root() / "tpm-srk");
  const cng::KeySpec p256{cng::KeyAlgorithm::kEcdsa, 0, cng::Curve::kP256, 0, {}};
  cng::KeyRecord record;
  record.algorithm = u"ECDSA_P256";
  record.curve_name = u"nistP256";
  {
    // No SRK provisioned: our own ECC primary, recreated identically after a power cycle.
    auto provider = cng::make_platform_provider(tpm.tcti());
    const auto key = provider->generate(p256);
    EXPECT_EQ(as_tpm_key(*key).blob().parent, ParentKind::kEccSrk);
    record.private_blob = provider->to_storage(*key);
    record.public_blob = key->public_blob();
  }
  tpm.stop();
  tpm.start();
  {
    auto provider = cng::make_platform_provider(tpm.tcti());
    const auto again = provider->from_storage(record);
    EXPECT_EQ(again->sign_hash({}, Bytes(32, 9)).size(), 64u);
  }
  provision_srk(tpm.tcti());
  {
    auto provider = cng::make_platform_provider(tpm.tcti());
    const auto key = provider->generate(p256);
    const cng::tpm::TpmKeyBlob& blob = as_tpm_key(*key).blob();
    EXPECT_EQ(blob.parent, ParentKind::kPersistentSrk);
    const auto srk = provider->provider_property(NCRYPT_PCP_SRKPUB_PROPERTY);
    ASSERT_TRUE(srk.has_value());
    TPM2B_PUBLIC srk_pub{};
    std::size_t offset = 0;
    ASSERT_EQ(Tss2_MU_TPM2B_PUBLIC_Unmarshal(srk->data(), srk->size(), &offset, &srk_pub), 0u);
    EXPECT_EQ(srk_pub.publicArea.type, TPM2_ALG_RSA);  // the provisioned one, not ours
    EXPECT_EQ(cng::tpm::object_name(srk_pub.publicArea), blob.parent_name);
    cng::KeyRecord persistent = record;
    persistent.private_blob = provider->to_storage(*key);
    const auto reloaded = provider->from_storage(persistent);
    const Bytes hash(32, 4);
    const Bytes sig = reloaded->sign_hash({}, hash);
    EXPECT_NO_THROW(key->verify_signature({}, hash, sig));
    // Keys made under the recreated primary before provisioning still load.
    const auto old_key = provider->from_storage(record);
    EXPECT_EQ(as_tpm_key(*old_key).blob().parent, ParentKind::kEccSrk);
    EXPECT_EQ(old_key->sign_hash({}, hash).size(), 64u);
  }
}

}  // namespace
}  // namespace platform_test
