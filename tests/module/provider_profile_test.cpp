// A third provider profile, as a test-only row appended to a copy of the profile table, gets
// its own slots and the module answers them from that row alone: slot and token info, the
// mechanism list and what C_*Init accepts. Nothing but the row is added for it.
#include <algorithm>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "abi/impl.h"
#include "module_test_support.h"
#include "slots/profile.h"

namespace module_test {
namespace {

using A = slots::Ability;

// cng_model has two providers, so the row reuses the software KSP under its own profile:
// other strings, store, hardware flag, and only OAEP among the declared abilities (no PSS,
// no raw RSA, no PKCS#1 with SHA-224).
constexpr slots::ProviderProfile kThirdProfile{
    .provider = MS_KEY_STORAGE_PROVIDER,
    .store_subdirectory = "third",
    .token_label = "CNG Third",
    .slot_description = "Third Key Storage Provider",
    .manufacturer = "third maker",
    .model = "Third KSP",
    .hardware_slot = true,
    .required = true,
    .abilities = A::kRsaOaep,
};

class ThirdProfile : public ::testing::Test {
 protected:
  void SetUp() override {
    table_.assign(slots::provider_profiles().begin(), slots::provider_profiles().end());
    table_.push_back(kThirdProfile);
    state_ = std::make_unique<p11::ModuleState>(p11::make_os_lock_factory(), table_);
  }
  void TearDown() override { state_.reset(); }

  // Runs f; the CK_RV of the P11Error it throws, CKR_OK when none.
  template <class F>
  static CK_RV rv_of(F&& f) {
    try {
      f();
    } catch (const p11::P11Error& e) {
      return e.rv();
    }
    return CKR_OK;
  }

  std::vector<CK_MECHANISM_TYPE> mechanisms(CK_SLOT_ID slot) {
    CK_ULONG count = 0;
    EXPECT_EQ(p11::impl::get_mechanism_list(*state_, slot, nullptr, &count), CKR_OK);
    std::vector<CK_MECHANISM_TYPE> out(count);
    EXPECT_EQ(p11::impl::get_mechanism_list(*state_, slot, out.data(), &count), CKR_OK);
    return out;
  }

  std::vector<slots::ProviderProfile> table_;
  std::unique_ptr<p11::ModuleState> state_;
};

TEST_F(ThirdProfile, SlotAndTokenInfoComeFromTheRow) {
  CK_ULONG count = 0;
  ASSERT_EQ(p11::impl::get_slot_list(*state_, CK_TRUE, nullptr, &count), CKR_OK);
  std::vector<CK_SLOT_ID> ids(count);
  ASSERT_EQ(p11::impl::get_slot_list(*state_, CK_TRUE, ids.data(), &count), CKR_OK);
  ASSERT_GE(ids.size(), 4U);
  EXPECT_EQ(ids[0], 0U);
  EXPECT_EQ(ids[1], 1U);
  EXPECT_EQ(ids[ids.size() - 2], 4U);
  EXPECT_EQ(ids[ids.size() - 1], 5U);

  for (const CK_SLOT_ID id : {CK_SLOT_ID{4}, CK_SLOT_ID{5}}) {
    const std::string scope = id == 4 ? "user" : "machine";
    CK_SLOT_INFO slot{};
    p11::impl::get_slot_info(*state_, id, &slot);
    EXPECT_EQ(field(slot.slotDescription),
              padded("Third Key Storage Provider, " + scope + " scope", 64));
    EXPECT_EQ(field(slot.manufacturerID), padded("third maker", 32));
    EXPECT_EQ(slot.flags, CKF_TOKEN_PRESENT | CKF_HW_SLOT);
    CK_TOKEN_INFO token{};
    p11::impl::get_token_info(*state_, id, &token);
    EXPECT_EQ(field(token.label), padded("CNG Third (" + scope + ")", 32));
    EXPECT_EQ(field(token.manufacturerID), padded("third maker", 32));
    EXPECT_EQ(field(token.model), padded("Third KSP", 16));
  }
  // The software slots keep their own answers beside it.
  CK_SLOT_INFO software{};
  p11::impl::get_slot_info(*state_, 0, &software);
  EXPECT_EQ(software.flags, CKF_TOKEN_PRESENT);
  CK_TOKEN_INFO token{};
  p11::impl::get_token_info(*state_, 0, &token);
  EXPECT_EQ(field(token.model), padded("Software KSP", 16));
}

TEST_F(ThirdProfile, MechanismsFollowTheRowsAbilities) {
  const auto software = mechanisms(0);
  const auto third = mechanisms(4);
  EXPECT_EQ(mechanisms(5), third);
  const std::set<CK_MECHANISM_TYPE> offered(third.begin(), third.end());
  // Its provider's probed algorithms (the software KSP's) and OAEP, nothing it does not declare.
  for (const CK_MECHANISM_TYPE t :
       {CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_RSA_PKCS, CKM_SHA256_RSA_PKCS, CKM_RSA_PKCS_OAEP,
        CKM_EC_KEY_PAIR_GEN, CKM_ECDSA, CKM_ECDH1_DERIVE, CKM_SHA256}) {
    EXPECT_EQ(offered.count(t), 1U) << "0x" << std::hex << t;
  }
  for (const CK_MECHANISM_TYPE t :
       {CKM_RSA_PKCS_PSS, CKM_SHA1_RSA_PKCS_PSS, CKM_SHA256_RSA_PKCS_PSS, CKM_SHA384_RSA_PKCS_PSS,
        CKM_SHA512_RSA_PKCS_PSS, CKM_RSA_X_509, CKM_SHA224_RSA_PKCS}) {
    EXPECT_EQ(offered.count(t), 0U) << "0x" << std::hex << t;
    CK_MECHANISM_INFO info{};
    EXPECT_EQ(rv_of([&] { p11::impl::get_mechanism_info(*state_, 4, t, &info); }),
              CKR_MECHANISM_INVALID);
    EXPECT_EQ(rv_of([&] { p11::impl::get_mechanism_info(*state_, 0, t, &info); }), CKR_OK);
  }
  EXPECT_EQ(software.size(), third.size() + 7);
  CK_MECHANISM_INFO info{};
  p11::impl::get_mechanism_info(*state_, 4, CKM_RSA_PKCS, &info);
  EXPECT_EQ(info.ulMinKeySize, 512U);
  EXPECT_EQ(info.ulMaxKeySize, 16384U);
}

TEST_F(ThirdProfile, OperationsFollowTheRowsAbilities) {
  CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
  p11::impl::open_session(*state_, 4, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &h);
  const auto session = state_->sessions().get(h);
  ASSERT_NE(session, nullptr);
  const std::lock_guard lock(session->mutex());
  CK_MECHANISM gen{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
  CK_ULONG bits = 2048;
  CK_BBOOL yes = CK_TRUE;
  CK_ATTRIBUTE pub[] = {{CKA_MODULUS_BITS, &bits, sizeof bits}, {CKA_VERIFY, &yes, sizeof yes}};
  CK_ATTRIBUTE priv[] = {{CKA_SIGN, &yes, sizeof yes}};
  CK_OBJECT_HANDLE pub_key = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE priv_key = CK_INVALID_HANDLE;
  p11::impl::generate_key_pair(*state_, *session, &gen, pub, 2, priv, 1, &pub_key, &priv_key);

  CK_RSA_PKCS_PSS_PARAMS pss_params{CKM_SHA256, CKG_MGF1_SHA256, 32};
  CK_MECHANISM pss{CKM_SHA256_RSA_PKCS_PSS, &pss_params, sizeof pss_params};
  EXPECT_EQ(rv_of([&] {
              p11::impl::operation_init(*state_, *session, p11::OpKind::kSign, &pss, priv_key);
            }),
            CKR_MECHANISM_INVALID);
  CK_MECHANISM pkcs{CKM_SHA256_RSA_PKCS, nullptr, 0};
  EXPECT_EQ(rv_of([&] {
              p11::impl::operation_init(*state_, *session, p11::OpKind::kSign, &pkcs, priv_key);
            }),
            CKR_OK);
  p11::impl::close_session(*state_, *session);
}

}  // namespace
}  // namespace module_test
