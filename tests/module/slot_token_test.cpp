// C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo, mechanisms and write protection.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "module_test_support.h"

namespace module_test {
namespace {

namespace fs = std::filesystem;

class Slots : public InitializedTest {};

std::vector<CK_SLOT_ID> slot_list(CK_FUNCTION_LIST_3_0* p11, CK_BBOOL present) {
  CK_ULONG count = 0;
  EXPECT_EQ(p11->C_GetSlotList(present, nullptr, &count), CKR_OK);
  std::vector<CK_SLOT_ID> ids(count);
  EXPECT_EQ(p11->C_GetSlotList(present, ids.data(), &count), CKR_OK);
  ids.resize(count);
  return ids;
}

TEST_F(Slots, SlotListTwoCallProtocol) {
  const auto all = slot_list(p11, CK_FALSE);
  const auto present = slot_list(p11, CK_TRUE);
  EXPECT_EQ(all, present);
  ASSERT_GE(all.size(), 2U);
  EXPECT_EQ(all[0], 0U);
  EXPECT_EQ(all[1], 1U);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));

  CK_SLOT_ID one = 99;
  CK_ULONG count = 1;
  EXPECT_EQ(p11->C_GetSlotList(CK_TRUE, &one, &count), CKR_BUFFER_TOO_SMALL);
  EXPECT_EQ(count, all.size());
  EXPECT_EQ(p11->C_GetSlotList(CK_TRUE, &one, nullptr), CKR_ARGUMENTS_BAD);
}

TEST_F(Slots, PlatformSlotsOnlyWithATpm) {
  // The platform provider has no TPM in this environment (NTE_DEVICE_NOT_FOUND), so slots 2
  // and 3 are absent; if one ever answers, they must carry the platform labels.
  for (const CK_SLOT_ID id : slot_list(p11, CK_TRUE)) {
    CK_TOKEN_INFO token{};
    ASSERT_EQ(p11->C_GetTokenInfo(id, &token), CKR_OK);
    CK_SLOT_INFO slot{};
    ASSERT_EQ(p11->C_GetSlotInfo(id, &slot), CKR_OK);
    if (id >= 2) {
      EXPECT_NE(slot.flags & CKF_HW_SLOT, 0U);
      EXPECT_EQ(field(token.label),
                padded(id == 2 ? "CNG Platform (user)" : "CNG Platform (machine)", 32));
    }
  }
  CK_SLOT_INFO info{};
  EXPECT_EQ(p11->C_GetSlotInfo(4, &info), CKR_SLOT_ID_INVALID);
}

TEST_F(Slots, SlotInfo) {
  for (const CK_SLOT_ID id : {CK_SLOT_ID{0}, CK_SLOT_ID{1}}) {
    CK_SLOT_INFO info{};
    ASSERT_EQ(p11->C_GetSlotInfo(id, &info), CKR_OK);
    EXPECT_EQ(info.flags, CKF_TOKEN_PRESENT);  // not removable, not hardware
    EXPECT_EQ(field(info.manufacturerID), padded("cng-pkcs11", 32));
    EXPECT_NE(field(info.slotDescription).find(id == 0 ? "user" : "machine"), std::string::npos);
    EXPECT_EQ(field(info.slotDescription),
              padded(std::string("Microsoft Software Key Storage Provider, ") +
                         (id == 0 ? "user" : "machine") + " scope",
                     64));
  }
  EXPECT_EQ(p11->C_GetSlotInfo(0, nullptr), CKR_ARGUMENTS_BAD);
}

TEST_F(Slots, TokenInfo) {
  std::string serials[2];
  for (const CK_SLOT_ID id : {CK_SLOT_ID{0}, CK_SLOT_ID{1}}) {
    CK_TOKEN_INFO info{};
    ASSERT_EQ(p11->C_GetTokenInfo(id, &info), CKR_OK);
    EXPECT_EQ(field(info.label),
              padded(id == 0 ? "CNG Software (user)" : "CNG Software (machine)", 32));
    EXPECT_EQ(field(info.manufacturerID), padded("cng-pkcs11", 32));
    EXPECT_EQ(field(info.model), padded("Software KSP", 16));
    serials[id] = field(info.serialNumber);
    EXPECT_EQ(serials[id].find(' '), std::string::npos) << "16 significant characters";
    EXPECT_EQ(info.flags, CKF_TOKEN_INITIALIZED | CKF_RNG);  // writable temp stores, no PIN
    EXPECT_EQ(info.ulMaxSessionCount, CK_EFFECTIVELY_INFINITE);
    EXPECT_EQ(info.ulMaxRwSessionCount, CK_EFFECTIVELY_INFINITE);
    EXPECT_EQ(info.ulSessionCount, 0U);
    EXPECT_EQ(info.ulTotalPublicMemory, CK_UNAVAILABLE_INFORMATION);
    EXPECT_EQ(info.ulFreePrivateMemory, CK_UNAVAILABLE_INFORMATION);
  }
  EXPECT_NE(serials[0], serials[1]);
  // Stable across initialisations.
  ASSERT_EQ(p11->C_Finalize(nullptr), CKR_OK);
  ASSERT_EQ(p11->C_Initialize(nullptr), CKR_OK);
  CK_TOKEN_INFO again{};
  ASSERT_EQ(p11->C_GetTokenInfo(0, &again), CKR_OK);
  EXPECT_EQ(field(again.serialNumber), serials[0]);
  EXPECT_EQ(p11->C_GetTokenInfo(7, &again), CKR_SLOT_ID_INVALID);
  EXPECT_EQ(p11->C_GetTokenInfo(0, nullptr), CKR_ARGUMENTS_BAD);
}

TEST_F(Slots, TokenInfoCountsSessions) {
  const CK_SESSION_HANDLE ro = open(1, false);
  const CK_SESSION_HANDLE rw = open(1, true);
  CK_TOKEN_INFO info{};
  ASSERT_EQ(p11->C_GetTokenInfo(1, &info), CKR_OK);
  EXPECT_EQ(info.ulSessionCount, 2U);
  EXPECT_EQ(info.ulRwSessionCount, 1U);
  ASSERT_EQ(p11->C_GetTokenInfo(0, &info), CKR_OK);
  EXPECT_EQ(info.ulSessionCount, 0U);
  EXPECT_EQ(p11->C_CloseSession(ro), CKR_OK);
  EXPECT_EQ(p11->C_CloseSession(rw), CKR_OK);
}

TEST_F(Slots, MechanismListAndInfoAgree) {
  CK_ULONG count = 0;
  ASSERT_EQ(p11->C_GetMechanismList(0, nullptr, &count), CKR_OK);
  ASSERT_GT(count, 0U);
  std::vector<CK_MECHANISM_TYPE> types(count);
  if (count > 1) {
    CK_ULONG small = 1;
    EXPECT_EQ(p11->C_GetMechanismList(0, types.data(), &small), CKR_BUFFER_TOO_SMALL);
    EXPECT_EQ(small, count);
  }
  ASSERT_EQ(p11->C_GetMechanismList(0, types.data(), &count), CKR_OK);
  for (const CK_MECHANISM_TYPE type : types) {
    CK_MECHANISM_INFO info{};
    EXPECT_EQ(p11->C_GetMechanismInfo(0, type, &info), CKR_OK) << std::hex << type;
    EXPECT_NE(info.flags, 0U) << std::hex << type;
    EXPECT_EQ(info.flags & CKF_HW, 0U) << "software slot";
  }
  CK_MECHANISM_INFO info{};
  EXPECT_EQ(p11->C_GetMechanismInfo(0, CKM_VENDOR_DEFINED + 0x1234, &info), CKR_MECHANISM_INVALID);
  EXPECT_EQ(p11->C_GetMechanismInfo(9, types[0], &info), CKR_SLOT_ID_INVALID);
  EXPECT_EQ(p11->C_GetMechanismList(9, nullptr, &count), CKR_SLOT_ID_INVALID);
}

TEST_F(Slots, WaitForSlotEventNeverHasEvents) {
  CK_SLOT_ID slot = 0;
  EXPECT_EQ(p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, nullptr), CKR_NO_EVENT);
  EXPECT_EQ(p11->C_WaitForSlotEvent(0, &slot, nullptr), CKR_FUNCTION_NOT_SUPPORTED);
  EXPECT_EQ(p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, nullptr, nullptr), CKR_ARGUMENTS_BAD);
}

// ---- write protection -------------------------------------------------------------------------

struct ProtectedStores {
  fs::path user;     // writable by the child
  fs::path machine;  // inside a directory the child may not write
};

// Child: drop to nobody when root, then check the machine token is write-protected and the
// user token not. Exit codes name the first failed check.
int check_write_protected(void* arg) {
  const auto* stores = static_cast<const ProtectedStores*>(arg);
  if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
    return 10;
  }
  ::setenv("CNG_PKCS11_USER_DIR", stores->user.c_str(), 1);
  ::setenv("CNG_PKCS11_MACHINE_DIR", stores->machine.c_str(), 1);
  CK_FUNCTION_LIST_3_0* p11 = list30();
  if (p11 == nullptr || p11->C_Initialize(nullptr) != CKR_OK) {
    return 11;
  }
  CK_TOKEN_INFO info{};
  if (p11->C_GetTokenInfo(1, &info) != CKR_OK || (info.flags & CKF_WRITE_PROTECTED) == 0) {
    return 12;
  }
  if (p11->C_GetTokenInfo(0, &info) != CKR_OK || (info.flags & CKF_WRITE_PROTECTED) != 0) {
    return 13;
  }
  CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
  if (p11->C_OpenSession(1, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &h) !=
      CKR_TOKEN_WRITE_PROTECTED) {
    return 14;
  }
  if (p11->C_OpenSession(1, CKF_SERIAL_SESSION, nullptr, nullptr, &h) != CKR_OK) {
    return 15;
  }
  if (p11->C_Finalize(nullptr) != CKR_OK) {
    return 16;
  }
  return 0;
}

TEST(WriteProtection, MachineTokenIsWriteProtectedWhenItsStoreIsNotWritable) {
  const fs::path base = store_root() / "protected";
  ProtectedStores stores{base / "user", base / "readonly" / "machine"};
  fs::create_directories(stores.user);
  fs::create_directories(base / "readonly");
  // user: writable by anyone (the child may run as nobody); readonly: r-x for everyone.
  fs::permissions(base, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(stores.user, fs::perms::all);
  fs::permissions(base / "readonly", fs::perms::owner_read | fs::perms::owner_exec |
                                         fs::perms::group_read | fs::perms::group_exec |
                                         fs::perms::others_read | fs::perms::others_exec);
  EXPECT_EQ(run_in_child(&check_write_protected, &stores), 0);
  EXPECT_FALSE(fs::exists(stores.machine)) << "the probe must leave nothing behind";
  fs::permissions(base / "readonly", fs::perms::owner_all);
  std::error_code ec;
  fs::remove_all(base, ec);
}

}  // namespace
}  // namespace module_test
