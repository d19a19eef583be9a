// The conformance fixture: fresh user and machine stores per test, the module initialised
// through its function list, and helpers for the common PKCS#11 calls.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "module_entry.h"
#include "p11_support.h"

namespace conf {

// The slot under test: $CNG_CONF_SLOT (0-3), default 0. ctest runs the suite once per slot
// (tests/conformance/CMakeLists.txt); for the platform slots 2-3 the test main starts a swtpm
// and points CNG_PKCS11_TCTI at it (conformance_main.cpp).
CK_SLOT_ID SlotUnderTest();
// kUserSlot is the slot every test runs on unless it is about one scope (the name is from the
// default, slot 0: the software provider's user scope). kOtherScopeSlot is the other scope of
// the same provider (for tests of what two scopes keep apart); kMachineSlot the provider's
// machine-scope slot (for tests about the machine scope).
inline const CK_SLOT_ID kUserSlot = SlotUnderTest();
inline const CK_SLOT_ID kOtherScopeSlot = kUserSlot ^ 1;
inline const CK_SLOT_ID kMachineSlot = kUserSlot | 1;
// True for the platform (TPM) provider's slots.
inline bool IsPlatformSlot(CK_SLOT_ID slot) { return slot >= 2; }
// True when C_GetSlotInfo says CKF_HW_SLOT: the slot's keys live in a hardware device (the
// TPM), so a private key never leaves it, not even wrapped, and cannot become a second token
// key by C_CopyObject.
bool IsHardwareSlot(CK_SLOT_ID slot);
// The token label DESIGN.md section 2 gives each slot.
std::string ExpectedTokenLabel(CK_SLOT_ID slot);

// A directory made with mkdtemp and removed (recursively) on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The 2.40 function list (C_GetFunctionList) and the 3.0 one (C_GetInterface("PKCS 11")).
CK_FUNCTION_LIST* FunctionList();
CK_FUNCTION_LIST_3_0* FunctionList30();

struct KeyPair {
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;
  CK_RV rv = CKR_GENERAL_ERROR;
  [[nodiscard]] bool ok() const { return rv == CKR_OK; }
};

struct KeyOptions {
  bool token = false;
  std::string label{};  // empty: no CKA_LABEL in the template
  Bytes id{};           // empty: no CKA_ID in the template
  bool extractable = false;
  bool sign = true;
  bool decrypt = true;
  bool derive = true;
  bool always_authenticate = false;  // CKA_ALWAYS_AUTHENTICATE on the private key
};

// Skips the current test (GTEST_SKIP, naming the mechanism) when the slot under test does not
// list the mechanism, or lists it without the key size min_bits (0: any) in its range:
//   REQUIRE_MECHANISM(CKM_AES_GCM);  REQUIRE_MECHANISM_SIZE(CKM_RSA_PKCS_KEY_PAIR_GEN, 4096);
#define REQUIRE_MECHANISM_SIZE(type, key_size)                                    \
  do {                                                                            \
    const std::string lacking_ = ::conf::MissingMechanism(type, #type, key_size); \
    if (!lacking_.empty()) {                                                      \
      GTEST_SKIP() << lacking_;                                                   \
    }                                                                             \
  } while (0)
#define REQUIRE_MECHANISM(type) REQUIRE_MECHANISM_SIZE(type, 0)

// Empty when the slot under test offers the mechanism (with key_size in its ulMin/ulMaxKeySize
// range, when key_size is not 0), else why not. Asks C_GetMechanismList/C_GetMechanismInfo of
// the module (initialised by the fixture).
std::string MissingMechanism(CK_MECHANISM_TYPE type, const char* name, CK_ULONG key_size = 0);
// For a loop over cases: true when the slot under test offers the mechanism (and key size).
inline bool Offers(CK_MECHANISM_TYPE type, CK_ULONG key_size = 0) {
  return MissingMechanism(type, "", key_size).empty();
}

// The PIN run (ctest prefix "pin."): $CNG_CONF_PIN, empty when unset. With it, every test's
// slot under test starts with that user PIN set on its fresh store (CKF_LOGIN_REQUIRED) and the
// fixture keeps the user logged in through a session of its own (P11Test::LoginSession), so
// the tests run as a logged-in client would. Tests that only make sense without a PIN skip:
//   SKIP_WITH_PIN("why");
std::string ConfPin();
#define SKIP_WITH_PIN(reason)                                 \
  do {                                                        \
    if (!::conf::ConfPin().empty()) {                         \
      GTEST_SKIP() << "only without a scope PIN: " << reason; \
    }                                                         \
  } while (0)

// Sets the store environment variables to the given directories (before C_Initialize).
void PointStoresAt(const std::string& user_dir, const std::string& machine_dir);

class P11Test : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Tests of C_Initialize itself override this to start uninitialised.
  virtual bool InitializeInSetUp() { return true; }

  [[nodiscard]] const std::string& user_dir() const { return user_dir_.path(); }
  [[nodiscard]] const std::string& machine_dir() const { return machine_dir_.path(); }
  // The store directory of a slot's scope (user_dir() or machine_dir()).
  [[nodiscard]] const std::string& scope_dir(CK_SLOT_ID slot = kUserSlot) const {
    return (slot & 1) != 0 ? machine_dir() : user_dir();
  }
  // The directory of a slot's key files: its scope directory, or the provider's subdirectory
  // of it ("platform" for the platform provider, slots/src/profiles.cpp).
  [[nodiscard]] std::string key_store_dir(CK_SLOT_ID slot = kUserSlot) const {
    return IsPlatformSlot(slot) ? scope_dir(slot) + "/platform" : scope_dir(slot);
  }
  // Points the store of the slot's scope at dir (the other scope keeps its directory); takes
  // effect at the next C_Initialize.
  void PointScopeAt(const std::string& dir, CK_SLOT_ID slot = kUserSlot) const {
    PointStoresAt((slot & 1) != 0 ? user_dir() : dir, (slot & 1) != 0 ? dir : machine_dir());
  }

  // Reinitialise the library (C_Finalize + C_Initialize): drops all sessions and handles.
  // In the PIN run, logs the user in again.
  void Reinitialize();
  // The PIN run: opens the fixture's own R/W session on the slot under test and logs the user
  // in with ConfPin() (login is shared by all sessions of the application). No-op without it.
  void LoginSession();
  CK_SESSION_HANDLE login_session_ = CK_INVALID_HANDLE;
  CK_SESSION_HANDLE OpenSession(CK_SLOT_ID slot = kUserSlot, bool rw = true);

  KeyPair GenerateRsa(CK_SESSION_HANDLE s, CK_ULONG bits, const KeyOptions& o = {});
  KeyPair GenerateEc(CK_SESSION_HANDLE s, const Bytes& ec_params, const KeyOptions& o = {});

  // C_GetAttributeValue of one attribute (two-call); rv_out gets the CK_RV.
  Bytes GetBytes(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t,
                 CK_RV* rv_out = nullptr);
  CK_ULONG GetUlong(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t);
  bool GetBool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t);

  std::vector<CK_OBJECT_HANDLE> Find(CK_SESSION_HANDLE s, Template& tmpl);
  std::vector<CK_OBJECT_HANDLE> FindByLabel(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
                                            const std::string& label);

  // Single-part sign; empty on failure (rv_out gets the CK_RV).
  Bytes Sign(CK_SESSION_HANDLE s, CK_MECHANISM* mech, CK_OBJECT_HANDLE key, const Bytes& data,
             CK_RV* rv_out = nullptr);
  Bytes SignMultiPart(CK_SESSION_HANDLE s, CK_MECHANISM* mech, CK_OBJECT_HANDLE key,
                      const Bytes& data, size_t chunk);
  Bytes Decrypt(CK_SESSION_HANDLE s, CK_MECHANISM* mech, CK_OBJECT_HANDLE key, const Bytes& cipher,
                CK_RV* rv_out = nullptr);

  CK_FUNCTION_LIST* f_ = nullptr;
  CK_FUNCTION_LIST_3_0* f3_ = nullptr;

 private:
  TempDir user_dir_{"user"};
  TempDir machine_dir_{"machine"};
};

}  // namespace conf
