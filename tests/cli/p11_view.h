// The PKCS#11 module as a client sees it, for checking what cngkey stores: the shared library
// loaded with dlopen and used only through CK_FUNCTION_LIST (slot 0 = software/user,
// 1 = software/machine). The stores are the ones named by CNG_PKCS11_USER_DIR/MACHINE_DIR when
// the view is made (C_Initialize); the view finalizes the module when destroyed.
#pragma once

#include <p11-kit/pkcs11.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cngkey_test {

using Bytes = std::vector<std::uint8_t>;

struct P11Object {
  CK_OBJECT_HANDLE handle = 0;
  CK_OBJECT_CLASS object_class = 0;
  std::string label;
  Bytes id;
  Bytes value;  // certificates: CKA_VALUE (the DER)
};

class P11View {
 public:
  P11View();  // fails the current test when the module cannot be loaded or initialized
  P11View(const P11View&) = delete;
  P11View& operator=(const P11View&) = delete;
  ~P11View();

  [[nodiscard]] bool ok() const { return functions_ != nullptr && session_ != 0; }
  // Opens a session on slot (closing the previous one).
  bool open(CK_SLOT_ID slot);
  // The objects of one class on the open session's token.
  std::vector<P11Object> objects(CK_OBJECT_CLASS object_class);
  // The objects of a class with a given CKA_LABEL.
  std::vector<P11Object> objects(CK_OBJECT_CLASS object_class, const std::string& label);
  // C_SignInit + C_Sign; returns the signature (empty on failure, with the CK_RV in *rv).
  Bytes sign(CK_OBJECT_HANDLE key, CK_MECHANISM_TYPE mechanism, const Bytes& data,
             CK_RV* rv = nullptr);
  // C_CreateObject of a token X.509 certificate with that CKA_LABEL and CKA_ID.
  CK_RV create_certificate(const Bytes& der, const std::string& label, const Bytes& id);
  // C_Login(CKU_USER) on the open session.
  CK_RV login(const std::string& pin);
  // C_GetTokenInfo(slot).flags (0 with a test failure when the call fails).
  CK_FLAGS token_flags(CK_SLOT_ID slot);
  // One attribute's value (empty when unavailable).
  Bytes attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);

 private:
  CK_FUNCTION_LIST* functions_ = nullptr;
  CK_SESSION_HANDLE session_ = 0;
};

}  // namespace cngkey_test
