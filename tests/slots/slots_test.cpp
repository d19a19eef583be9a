// The slot table of DESIGN.md §2 over the real cng_model providers.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "slots/slot.h"

namespace {

namespace fs = std::filesystem;

class SlotTable : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cng-slots-test-XXXXXX").string();
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

TEST_F(SlotTable, SoftwareSlotsAlwaysPlatformSlotsOnlyWithATpm) {
  const auto slots = slots::open_present_slots();
  ASSERT_GE(slots.size(), 2U);
  const auto& user = slots[0]->descriptor();
  const auto& machine = slots[1]->descriptor();
  EXPECT_EQ(user.id, 0U);
  EXPECT_EQ(user.token_label, "CNG Software (user)");
  EXPECT_EQ(user.profile.provider, MS_KEY_STORAGE_PROVIDER);
  EXPECT_FALSE(user.machine_scope);
  EXPECT_FALSE(user.profile.hardware_slot);
  EXPECT_EQ(slots[0]->scope_flag(), 0U);
  EXPECT_EQ(machine.id, 1U);
  EXPECT_EQ(machine.token_label, "CNG Software (machine)");
  EXPECT_TRUE(machine.machine_scope);
  EXPECT_EQ(slots[1]->scope_flag(), static_cast<DWORD>(NCRYPT_MACHINE_KEY_FLAG));
  EXPECT_NE(slots[0]->provider(), 0U);
  EXPECT_NE(slots[0]->provider(), slots[1]->provider()) << "one provider handle per slot";

  // The platform provider decides whether slots 2 and 3 exist.
  NCRYPT_PROV_HANDLE tpm = 0;
  const SECURITY_STATUS status = NCryptOpenStorageProvider(&tpm, MS_PLATFORM_CRYPTO_PROVIDER, 0);
  if (status == 0) {
    NCryptFreeObject(tpm);
    ASSERT_EQ(slots.size(), 4U);
    EXPECT_EQ(slots[2]->descriptor().token_label, "CNG Platform (user)");
    EXPECT_EQ(slots[3]->descriptor().token_label, "CNG Platform (machine)");
    EXPECT_TRUE(slots[2]->descriptor().profile.hardware_slot);
  } else {
    EXPECT_EQ(slots.size(), 2U) << "platform provider status " << std::hex << status;
  }
  for (std::size_t i = 1; i < slots.size(); ++i) {
    EXPECT_LT(slots[i - 1]->descriptor().id, slots[i]->descriptor().id);
  }
}

TEST_F(SlotTable, SerialNumbersAreStableDistinctAndSixteenCharacters) {
  std::string first[2];
  {
    const auto slots = slots::open_present_slots();
    first[0] = slots[0]->serial_number();
    first[1] = slots[1]->serial_number();
  }
  EXPECT_EQ(first[0].size(), 16U);
  EXPECT_EQ(first[1].size(), 16U);
  EXPECT_NE(first[0], first[1]);
  const auto again = slots::open_present_slots();
  EXPECT_EQ(again[0]->serial_number(), first[0]);
  EXPECT_EQ(again[1]->serial_number(), first[1]);
  // A different store is a different token.
  ::setenv("CNG_PKCS11_USER_DIR", (root_ / "elsewhere").c_str(), 1);
  EXPECT_NE(again[0]->serial_number(), first[0]);
}

TEST_F(SlotTable, WritableStoresAreNotWriteProtected) {
  const auto slots = slots::open_present_slots();
  EXPECT_FALSE(slots[0]->write_protected());
  EXPECT_FALSE(slots[1]->write_protected());
  // The probe created nothing: the stores do not exist yet and still do not.
  EXPECT_FALSE(fs::exists(root_ / "user"));
  EXPECT_FALSE(fs::exists(root_ / "machine"));
}

}  // namespace
