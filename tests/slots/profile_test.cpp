// The provider profile table and the slot list built from it (profiles × scopes): the two
// real profiles, and test-only rows appended to a copy of the table, which get their own slots
// and answers without any other change.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "slots/slot.h"

namespace {

namespace fs = std::filesystem;
using A = slots::Ability;

class ProfileTable : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cng-profile-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    root_ = templ;
    ::setenv("CNG_PKCS11_USER_DIR", (root_ / "user").c_str(), 1);
    ::setenv("CNG_PKCS11_MACHINE_DIR", (root_ / "machine").c_str(), 1);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  fs::path root_;
};

// A third provider as a test-only row. cng_model has two providers, so it reuses the software
// KSP under a profile of its own: other strings, store, flags and declared abilities.
constexpr slots::ProviderProfile kTestProfile{
    .provider = MS_KEY_STORAGE_PROVIDER,
    .store_subdirectory = "test-ksp",
    .token_label = "CNG Test",
    .slot_description = "Test Key Storage Provider",
    .manufacturer = "test maker",
    .model = "Test KSP",
    .hardware_slot = true,
    .required = false,
    .abilities = A::kRsaOaep,
};

std::vector<slots::ProviderProfile> with_rows(std::initializer_list<slots::ProviderProfile> rows) {
  std::vector<slots::ProviderProfile> table(slots::provider_profiles().begin(),
                                            slots::provider_profiles().end());
  table.insert(table.end(), rows);
  return table;
}

TEST_F(ProfileTable, OneRowPerProviderInSlotIdOrder) {
  const auto profiles = slots::provider_profiles();
  ASSERT_EQ(profiles.size(), 2U);
  EXPECT_EQ(profiles[0].provider, MS_KEY_STORAGE_PROVIDER);
  EXPECT_EQ(profiles[0].store_subdirectory, "");
  EXPECT_EQ(profiles[0].model, "Software KSP");
  EXPECT_FALSE(profiles[0].hardware_slot);
  EXPECT_TRUE(profiles[0].required);
  EXPECT_EQ(profiles[1].provider, MS_PLATFORM_CRYPTO_PROVIDER);
  EXPECT_EQ(profiles[1].store_subdirectory, "platform");
  EXPECT_EQ(profiles[1].model, "Platform KSP");
  EXPECT_TRUE(profiles[1].hardware_slot);
  EXPECT_FALSE(profiles[1].required);
  // What the Platform Crypto Provider cannot do, the software KSP can.
  // (RSA key wrapping is of secret keys, which only the software KSP keeps.)
  for (const A a : {A::kRsaPssSha384, A::kRsaPssSha512, A::kRsaPkcs1Sha224, A::kRsaKeyWrap}) {
    EXPECT_TRUE(profiles[0].abilities.contains(a));
    EXPECT_FALSE(profiles[1].abilities.contains(a));
  }
  // Raw RSA: TPM2_RSA_Decrypt with the NULL scheme on the TPM.
  for (const A a : {A::kRsaOaep, A::kRsaPss, A::kRsaRaw}) {
    EXPECT_TRUE(profiles[0].abilities.contains(a));
    EXPECT_TRUE(profiles[1].abilities.contains(a));
  }
  EXPECT_EQ(slots::slot_id_of(0, false), 0U);
  EXPECT_EQ(slots::slot_id_of(0, true), 1U);
  EXPECT_EQ(slots::slot_id_of(1, false), 2U);
  EXPECT_EQ(slots::slot_id_of(1, true), 3U);
}

TEST_F(ProfileTable, SoftwareSlotsAnswerFromTheirProfile) {
  const auto slots = slots::open_present_slots();
  ASSERT_GE(slots.size(), 2U);
  for (const bool machine : {false, true}) {
    const slots::Slot& slot = *slots[machine ? 1 : 0];
    const std::string scope = machine ? "machine" : "user";
    EXPECT_EQ(slot.descriptor().slot_description,
              "Microsoft Software Key Storage Provider, " + scope + " scope");
    EXPECT_EQ(slot.profile().model, "Software KSP");
    EXPECT_EQ(slot.profile().manufacturer, "cng-pkcs11");
    EXPECT_EQ(slot.key_store_dir(), root_ / scope) << "the scope directory itself";
    EXPECT_EQ(slot.capabilities().declared, slots::provider_profiles()[0].abilities);
    EXPECT_TRUE(slot.capabilities().has(A::kRsa | A::kEcdsa | A::kEcdh | A::kRsaRaw));
    EXPECT_EQ(slot.capabilities().rsa_bits, (slots::BitRange{512, 16384}));
  }
}

TEST_F(ProfileTable, AThirdProfileGetsItsOwnSlots) {
  const auto table = with_rows({kTestProfile});
  const auto slots = slots::open_present_slots(table);
  // Slots 2 and 3 exist only with a TPM; the test rows' ids do not depend on it.
  ASSERT_GE(slots.size(), 4U);
  const slots::Slot& user = *slots[slots.size() - 2];
  const slots::Slot& machine = *slots[slots.size() - 1];
  EXPECT_EQ(user.descriptor().id, 4U);
  EXPECT_EQ(machine.descriptor().id, 5U);
  EXPECT_EQ(user.descriptor().token_label, "CNG Test (user)");
  EXPECT_EQ(machine.descriptor().token_label, "CNG Test (machine)");
  EXPECT_EQ(user.descriptor().slot_description, "Test Key Storage Provider, user scope");
  EXPECT_EQ(machine.descriptor().slot_description, "Test Key Storage Provider, machine scope");
  EXPECT_FALSE(user.descriptor().machine_scope);
  EXPECT_TRUE(machine.descriptor().machine_scope);
  EXPECT_EQ(machine.scope_flag(), static_cast<DWORD>(NCRYPT_MACHINE_KEY_FLAG));
  EXPECT_EQ(user.profile().model, "Test KSP");
  EXPECT_TRUE(user.profile().hardware_slot);
  EXPECT_EQ(user.key_store_dir(), root_ / "user" / "test-ksp");
  EXPECT_EQ(machine.key_store_dir(), root_ / "machine" / "test-ksp");
  // Probed algorithms are the provider's; declared abilities the row's.
  EXPECT_EQ(user.capabilities().declared, slots::Abilities(A::kRsaOaep));
  EXPECT_TRUE(user.capabilities().has(A::kRsa | A::kRsaOaep));
  EXPECT_FALSE(user.capabilities().has(A::kRsaPss));
  EXPECT_NE(user.serial_number(), slots[0]->serial_number());
  // The real rows are unchanged by an appended one.
  EXPECT_EQ(slots[0]->descriptor().token_label, "CNG Software (user)");
  EXPECT_EQ(slots[1]->descriptor().token_label, "CNG Software (machine)");
}

TEST_F(ProfileTable, AnOptionalProviderThatDoesNotOpenHasNoSlots) {
  slots::ProviderProfile missing = kTestProfile;
  missing.provider = u"No Such Key Storage Provider";
  const auto table = with_rows({missing, kTestProfile});
  const auto slots = slots::open_present_slots(table);
  std::vector<std::uint32_t> ids;
  for (const auto& slot : slots) {
    ids.push_back(slot->descriptor().id);
  }
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 4U), 0);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 5U), 0);
  ASSERT_GE(ids.size(), 4U);
  EXPECT_EQ(ids[ids.size() - 2], 6U) << "a row's ids follow from its position, not presence";
  EXPECT_EQ(ids[ids.size() - 1], 7U);

  missing.required = true;
  const auto required = with_rows({missing});
  EXPECT_THROW(slots::open_present_slots(required), slots::ProviderError);
}

}  // namespace
