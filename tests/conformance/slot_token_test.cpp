// C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo, C_GetMechanismList, C_GetMechanismInfo.
#include <unistd.h>

#include <algorithm>
#include <map>

#include "p11_fixture.h"

namespace conf {
namespace {

using SlotTest = P11Test;

TEST_F(SlotTest, SlotListHasUserAndMachineSlots) {
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetSlotList(CK_FALSE, nullptr, nullptr));
  for (CK_BBOOL present : {CK_BBOOL{CK_FALSE}, CK_BBOOL{CK_TRUE}}) {
    CK_ULONG n = 0;
    ASSERT_CKR(CKR_OK, f_->C_GetSlotList(present, nullptr, &n));
    ASSERT_GE(n, 2u);
    std::vector<CK_SLOT_ID> slots(n);
    CK_ULONG small = 1;
    EXPECT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_GetSlotList(present, slots.data(), &small));
    EXPECT_EQ(small, n);
    ASSERT_CKR(CKR_OK, f_->C_GetSlotList(present, slots.data(), &n));
    EXPECT_NE(std::find(slots.begin(), slots.end(), kUserSlot), slots.end());
    EXPECT_NE(std::find(slots.begin(), slots.end(), kOtherScopeSlot), slots.end());
  }
}

TEST_F(SlotTest, SlotInfo) {
  CK_SLOT_INFO info;
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetSlotInfo(kUserSlot, nullptr));
  EXPECT_CKR(CKR_SLOT_ID_INVALID, f_->C_GetSlotInfo(9999, &info));
  for (CK_SLOT_ID slot : {kUserSlot, kOtherScopeSlot}) {
    ASSERT_CKR(CKR_OK, f_->C_GetSlotInfo(slot, &info));
    EXPECT_TRUE(info.flags & CKF_TOKEN_PRESENT) << "slot " << slot;
    EXPECT_FALSE(info.flags & CKF_REMOVABLE_DEVICE) << "slot " << slot;
    EXPECT_TRUE(IsBlankPaddedText(info.slotDescription, sizeof info.slotDescription));
    EXPECT_TRUE(IsBlankPaddedText(info.manufacturerID, sizeof info.manufacturerID));
  }
}

TEST_F(SlotTest, TokenInfoLabelsAndFlags) {
  CK_TOKEN_INFO info;
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetTokenInfo(kUserSlot, nullptr));
  EXPECT_CKR(CKR_SLOT_ID_INVALID, f_->C_GetTokenInfo(9999, &info));
  std::map<CK_SLOT_ID, std::string> serials;
  for (CK_SLOT_ID slot : {kUserSlot, kOtherScopeSlot}) {
    ASSERT_CKR(CKR_OK, f_->C_GetTokenInfo(slot, &info));
    EXPECT_EQ(Trimmed(info.label, sizeof info.label), ExpectedTokenLabel(slot));
    EXPECT_TRUE(IsBlankPaddedText(info.label, sizeof info.label));
    EXPECT_TRUE(IsBlankPaddedText(info.manufacturerID, sizeof info.manufacturerID));
    EXPECT_TRUE(IsBlankPaddedText(info.model, sizeof info.model));
    EXPECT_TRUE(IsBlankPaddedText(info.serialNumber, sizeof info.serialNumber));
    EXPECT_FALSE(Trimmed(info.manufacturerID, sizeof info.manufacturerID).empty());
    EXPECT_FALSE(Trimmed(info.model, sizeof info.model).empty());
    serials[slot] = Trimmed(info.serialNumber, sizeof info.serialNumber);
    EXPECT_FALSE(serials[slot].empty());
    EXPECT_TRUE(info.flags & CKF_TOKEN_INITIALIZED) << "slot " << slot;
    EXPECT_TRUE(info.flags & CKF_RNG) << "slot " << slot;
    // Only a scope with a PIN needs a login: in the PIN run the scope of the slot under test
    // (both providers' slots of that scope).
    const bool pin_scope = !ConfPin().empty() && (slot & 1) == (kUserSlot & 1);
    EXPECT_EQ((info.flags & CKF_LOGIN_REQUIRED) != 0, pin_scope) << "slot " << slot;
    EXPECT_EQ((info.flags & CKF_USER_PIN_INITIALIZED) != 0, pin_scope) << "slot " << slot;
    EXPECT_LE(info.ulMinPinLen, info.ulMaxPinLen);
    // Root (this test's machine store is a fresh temp dir) can write both stores.
    EXPECT_FALSE(info.flags & CKF_WRITE_PROTECTED) << "slot " << slot;
  }
  EXPECT_NE(serials[kUserSlot], serials[kOtherScopeSlot])
      << "the two tokens need distinct serial numbers";
}

TEST_F(SlotTest, TokenInfoStableAcrossReinitialize) {
  CK_TOKEN_INFO before;
  CK_TOKEN_INFO after;
  ASSERT_CKR(CKR_OK, f_->C_GetTokenInfo(kUserSlot, &before));
  Reinitialize();
  ASSERT_CKR(CKR_OK, f_->C_GetTokenInfo(kUserSlot, &after));
  EXPECT_EQ(0, std::memcmp(before.label, after.label, sizeof before.label));
  EXPECT_EQ(0, std::memcmp(before.serialNumber, after.serialNumber, sizeof before.serialNumber));
}

struct ExpectedMechanism {
  CK_MECHANISM_TYPE type;
  CK_FLAGS flags;       // flags that must be set
  CK_ULONG needs_size;  // a key size (bits) that must be inside [min, max]; 0: no check
  CK_ULONG needs_size2;
};

const ExpectedMechanism kExpected[] = {
    {CKM_RSA_PKCS_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR, 2048, 4096},
    {CKM_EC_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR, 256, 521},
    {CKM_RSA_PKCS, CKF_SIGN | CKF_VERIFY | CKF_ENCRYPT | CKF_DECRYPT, 2048, 4096},
    {CKM_SHA1_RSA_PKCS, CKF_SIGN | CKF_VERIFY, 2048, 4096},
    {CKM_SHA224_RSA_PKCS, CKF_SIGN | CKF_VERIFY, 2048, 4096},
    {CKM_SHA256_RSA_PKCS, CKF_SIGN | CKF_VERIFY, 2048, 4096},
    {CKM_SHA384_RSA_PKCS, CKF_SIGN | CKF_VERIFY, 2048, 4096},
    {CKM_SHA512_RSA_PKCS, CKF_SIGN | CKF_VERIFY, 2048, 4096},
    {CKM_RSA_PKCS_PSS, CKF_SIGN | CKF_VERIFY, 2048, 4096},
    {CKM_SHA1_RSA_PKCS_PSS, CKF_SIGN | CKF_VERIFY, 2048, 4096},
    // No CKM_SHA224_RSA_PKCS_PSS: CNG has no SHA-224 algorithm id for PSS padding (see
    // SlotTest.Sha224PssIsNotOffered).
    {CKM_SHA256_RSA_PKCS_PSS, CKF_SIGN | CKF_VERIFY, 2048, 4096},
    {CKM_SHA384_RSA_PKCS_PSS, CKF_SIGN | CKF_VERIFY, 2048, 4096},
    {CKM_SHA512_RSA_PKCS_PSS, CKF_SIGN | CKF_VERIFY, 2048, 4096},
    {CKM_RSA_PKCS_OAEP, CKF_ENCRYPT | CKF_DECRYPT, 2048, 4096},
    {CKM_RSA_X_509, CKF_SIGN | CKF_VERIFY | CKF_ENCRYPT | CKF_DECRYPT, 2048, 4096},
    {CKM_ECDSA, CKF_SIGN | CKF_VERIFY, 256, 521},
    {CKM_ECDSA_SHA1, CKF_SIGN | CKF_VERIFY, 256, 521},
    {CKM_ECDSA_SHA224, CKF_SIGN | CKF_VERIFY, 256, 521},
    {CKM_ECDSA_SHA256, CKF_SIGN | CKF_VERIFY, 256, 521},
    {CKM_ECDSA_SHA384, CKF_SIGN | CKF_VERIFY, 256, 521},
    {CKM_ECDSA_SHA512, CKF_SIGN | CKF_VERIFY, 256, 521},
    {CKM_ECDH1_DERIVE, CKF_DERIVE, 256, 521},
    {CKM_SHA_1, CKF_DIGEST, 0, 0},
    {CKM_SHA224, CKF_DIGEST, 0, 0},
    {CKM_SHA256, CKF_DIGEST, 0, 0},
    {CKM_SHA384, CKF_DIGEST, 0, 0},
    {CKM_SHA512, CKF_DIGEST, 0, 0},
};

TEST_F(SlotTest, Sha224PssIsNotOffered) {
  CK_MECHANISM_INFO info{};
  EXPECT_CKR(CKR_MECHANISM_INVALID,
             f_->C_GetMechanismInfo(kUserSlot, CKM_SHA224_RSA_PKCS_PSS, &info));
}

TEST_F(SlotTest, MechanismListContainsTheDocumentedSet) {
  if (IsPlatformSlot(kUserSlot)) {
    GTEST_SKIP()
        << "the documented set is the software provider's; the platform slots list "
           "what the TPM reports (tpm_slot_tests, MechanismsFollowTheProviderCapabilities)";
  }
  for (CK_SLOT_ID slot : {kUserSlot, kOtherScopeSlot}) {
    EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetMechanismList(slot, nullptr, nullptr));
    CK_ULONG n = 0;
    ASSERT_CKR(CKR_OK, f_->C_GetMechanismList(slot, nullptr, &n));
    EXPECT_GE(n, std::size(kExpected));
    std::vector<CK_MECHANISM_TYPE> mechs(n);
    CK_ULONG small = 2;
    EXPECT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_GetMechanismList(slot, mechs.data(), &small));
    EXPECT_EQ(small, n);
    ASSERT_CKR(CKR_OK, f_->C_GetMechanismList(slot, mechs.data(), &n));
    for (const auto& e : kExpected) {
      EXPECT_NE(std::find(mechs.begin(), mechs.end(), e.type), mechs.end())
          << "slot " << slot << " lacks mechanism 0x" << std::hex << e.type;
    }
    // Every listed mechanism has info.
    for (CK_MECHANISM_TYPE m : mechs) {
      CK_MECHANISM_INFO info;
      EXPECT_CKR(CKR_OK, f_->C_GetMechanismInfo(slot, m, &info)) << "mechanism 0x" << std::hex << m;
    }
  }
  CK_ULONG n = 0;
  EXPECT_CKR(CKR_SLOT_ID_INVALID, f_->C_GetMechanismList(9999, nullptr, &n));
}

TEST_F(SlotTest, MechanismInfoFlagsAndSizes) {
  if (IsPlatformSlot(kUserSlot)) {
    GTEST_SKIP()
        << "the documented set is the software provider's; the platform slots list "
           "what the TPM reports (tpm_slot_tests, MechanismsFollowTheProviderCapabilities)";
  }
  for (const auto& e : kExpected) {
    CK_MECHANISM_INFO info{};
    ASSERT_CKR(CKR_OK, f_->C_GetMechanismInfo(kUserSlot, e.type, &info))
        << "mechanism 0x" << std::hex << e.type;
    EXPECT_EQ(info.flags & e.flags, e.flags)
        << "mechanism 0x" << std::hex << e.type << " flags 0x" << info.flags;
    if (e.needs_size != 0) {
      EXPECT_LE(info.ulMinKeySize, e.needs_size) << "mechanism 0x" << std::hex << e.type;
      EXPECT_GE(info.ulMaxKeySize, e.needs_size2) << "mechanism 0x" << std::hex << e.type;
    }
  }
  CK_MECHANISM_INFO info;
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetMechanismInfo(kUserSlot, CKM_SHA256, nullptr));
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_GetMechanismInfo(kUserSlot, kUnknownMechanism, &info));
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_GetMechanismInfo(kUserSlot, CKM_DSA, &info));
  EXPECT_CKR(CKR_SLOT_ID_INVALID, f_->C_GetMechanismInfo(9999, CKM_SHA256, &info));
}

TEST_F(SlotTest, WaitForSlotEventDoesNotBlockOrCrash) {
  CK_SLOT_ID slot = 0;
  EXPECT_CKR_ONE_OF(f_->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, nullptr), CKR_NO_EVENT,
                    CKR_FUNCTION_NOT_SUPPORTED);
}

TEST_F(SlotTest, InitTokenRefusedAndPinCallsNeedTheirStateWithoutDamage) {
  CK_UTF8CHAR pin[] = "1234";
  CK_UTF8CHAR label[32];
  std::memset(label, ' ', sizeof label);
  // There is no SO PIN and no token to (re)initialise: a documented refusal, never CKR_OK
  // wiping the user's keys.
  EXPECT_CKR_ONE_OF(f_->C_InitToken(kUserSlot, pin, 4, label), CKR_FUNCTION_NOT_SUPPORTED,
                    CKR_PIN_INCORRECT, CKR_TOKEN_WRITE_PROTECTED);
  const CK_SESSION_HANDLE s = OpenSession();
  ASSERT_NE(s, CK_INVALID_HANDLE);
  // C_InitPIN only in the R/W SO functions state (PKCS#11 3.0 §5.6).
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, f_->C_InitPIN(s, pin, 4));
  // C_SetPIN changes the user PIN: a wrong old PIN in the PIN run, and without a PIN no old PIN
  // matches (C_SetPIN may not return CKR_USER_PIN_NOT_INITIALIZED, PKCS#11 3.0 §5.6.3).
  EXPECT_CKR(CKR_PIN_INCORRECT, f_->C_SetPIN(s, pin, 4, pin, 4));
  CK_TOKEN_INFO info;
  EXPECT_CKR(CKR_OK, f_->C_GetTokenInfo(kUserSlot, &info));
}

}  // namespace
}  // namespace conf
