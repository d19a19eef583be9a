// The conformance fixture: fresh user and machine stores per test, the module initialised
// through its function list, and helpers for the common PKCS#11 calls.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "module_entry.h"
#include "p11_support.h"

namespace conf {

inline constexpr CK_SLOT_ID kUserSlot = 0;
inline constexpr CK_SLOT_ID kMachineSlot = 1;
inline constexpr const char* kUserTokenLabel = "CNG Software (user)";
inline constexpr const char* kMachineTokenLabel = "CNG Software (machine)";

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
};

class P11Test : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Tests of C_Initialize itself override this to start uninitialised.
  virtual bool InitializeInSetUp() { return true; }

  [[nodiscard]] const std::string& user_dir() const { return user_dir_.path(); }
  [[nodiscard]] const std::string& machine_dir() const { return machine_dir_.path(); }

  // Reinitialise the library (C_Finalize + C_Initialize): drops all sessions and handles.
  void Reinitialize();
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

// Sets the store environment variables to the given directories (before C_Initialize).
void PointStoresAt(const std::string& user_dir, const std::string& machine_dir);

}  // namespace conf
