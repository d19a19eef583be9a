#include "p11_view.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstring>

namespace cngkey_test {
namespace {

CK_FUNCTION_LIST* load_module() {
  // Loaded once per process and never unloaded (the module may keep threads or atexit hooks).
  static CK_FUNCTION_LIST* const functions = []() -> CK_FUNCTION_LIST* {
    void* library = dlopen(CNG_PKCS11_MODULE_PATH, RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) {
      ADD_FAILURE() << "dlopen(" << CNG_PKCS11_MODULE_PATH << "): " << dlerror();
      return nullptr;
    }
    void* symbol = dlsym(library, "C_GetFunctionList");
    CK_C_GetFunctionList get_function_list = nullptr;
    static_assert(sizeof get_function_list == sizeof symbol);
    std::memcpy(&get_function_list, &symbol, sizeof symbol);
    CK_FUNCTION_LIST* list = nullptr;
    if (get_function_list == nullptr || get_function_list(&list) != CKR_OK) {
      ADD_FAILURE() << "C_GetFunctionList failed";
      return nullptr;
    }
    return list;
  }();
  return functions;
}

}  // namespace

P11View::P11View() {
  CK_FUNCTION_LIST* list = load_module();
  if (list == nullptr) {
    return;
  }
  const CK_RV rv = list->C_Initialize(nullptr);
  if (rv != CKR_OK) {
    ADD_FAILURE() << "C_Initialize: 0x" << std::hex << rv;
    return;
  }
  functions_ = list;
}

P11View::~P11View() {
  if (functions_ != nullptr) {
    if (session_ != 0) {
      functions_->C_CloseSession(session_);
    }
    functions_->C_Finalize(nullptr);
  }
}

bool P11View::open(CK_SLOT_ID slot) {
  if (functions_ == nullptr) {
    return false;
  }
  if (session_ != 0) {
    functions_->C_CloseSession(session_);
    session_ = 0;
  }
  const CK_RV rv = functions_->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr,
                                             nullptr, &session_);
  EXPECT_EQ(rv, CKR_OK) << "C_OpenSession(" << slot << ")";
  return rv == CKR_OK;
}

CK_RV P11View::login(const std::string& pin) {
  std::vector<CK_UTF8CHAR> text(pin.begin(), pin.end());
  return functions_->C_Login(session_, CKU_USER, text.data(), text.size());
}

CK_FLAGS P11View::token_flags(CK_SLOT_ID slot) {
  CK_TOKEN_INFO info{};
  const CK_RV rv = functions_->C_GetTokenInfo(slot, &info);
  EXPECT_EQ(rv, CKR_OK) << "C_GetTokenInfo(" << slot << ")";
  return rv == CKR_OK ? info.flags : 0;
}

Bytes P11View::attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE attr{type, nullptr, 0};
  if (functions_->C_GetAttributeValue(session_, object, &attr, 1) != CKR_OK ||
      attr.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
    return {};
  }
  Bytes value(attr.ulValueLen);
  attr.pValue = value.data();
  EXPECT_EQ(functions_->C_GetAttributeValue(session_, object, &attr, 1), CKR_OK);
  value.resize(attr.ulValueLen);
  return value;
}

std::vector<P11Object> P11View::objects(CK_OBJECT_CLASS object_class) {
  std::vector<P11Object> found;
  if (!ok()) {
    ADD_FAILURE() << "no PKCS#11 session";
    return found;
  }
  CK_ATTRIBUTE filter{CKA_CLASS, &object_class, sizeof object_class};
  EXPECT_EQ(functions_->C_FindObjectsInit(session_, &filter, 1), CKR_OK);
  for (;;) {
    CK_OBJECT_HANDLE handles[16];
    CK_ULONG count = 0;
    EXPECT_EQ(functions_->C_FindObjects(session_, handles, 16, &count), CKR_OK);
    if (count == 0) {
      break;
    }
    for (CK_ULONG i = 0; i < count; ++i) {
      P11Object& object = found.emplace_back();
      object.handle = handles[i];
      object.object_class = object_class;
      const Bytes label = attribute(handles[i], CKA_LABEL);
      object.label.assign(label.begin(), label.end());
      object.id = attribute(handles[i], CKA_ID);
      if (object_class == CKO_CERTIFICATE) {
        object.value = attribute(handles[i], CKA_VALUE);
      }
    }
  }
  EXPECT_EQ(functions_->C_FindObjectsFinal(session_), CKR_OK);
  return found;
}

std::vector<P11Object> P11View::objects(CK_OBJECT_CLASS object_class, const std::string& label) {
  std::vector<P11Object> found;
  for (P11Object& object : objects(object_class)) {
    if (object.label == label) {
      found.push_back(std::move(object));
    }
  }
  return found;
}

CK_RV P11View::create_certificate(const Bytes& der, const std::string& label, const Bytes& id) {
  CK_OBJECT_CLASS object_class = CKO_CERTIFICATE;
  CK_CERTIFICATE_TYPE type = CKC_X_509;
  CK_BBOOL token = CK_TRUE;
  Bytes value = der;
  std::string label_copy = label;
  Bytes id_copy = id;
  CK_ATTRIBUTE attrs[] = {
      {CKA_CLASS, &object_class, sizeof object_class},
      {CKA_CERTIFICATE_TYPE, &type, sizeof type},
      {CKA_TOKEN, &token, sizeof token},
      {CKA_VALUE, value.data(), value.size()},
      {CKA_LABEL, label_copy.data(), label_copy.size()},
      {CKA_ID, id_copy.data(), id_copy.size()},
  };
  CK_OBJECT_HANDLE handle = 0;
  return functions_->C_CreateObject(session_, attrs, sizeof attrs / sizeof attrs[0], &handle);
}

Bytes P11View::sign(CK_OBJECT_HANDLE key, CK_MECHANISM_TYPE mechanism, const Bytes& data,
                    CK_RV* rv) {
  CK_MECHANISM mech{mechanism, nullptr, 0};
  CK_RV status = functions_->C_SignInit(session_, &mech, key);
  Bytes signature;
  if (status == CKR_OK) {
    CK_ULONG length = 0;
    Bytes input = data;
    status = functions_->C_Sign(session_, input.data(), input.size(), nullptr, &length);
    if (status == CKR_OK) {
      signature.resize(length);
      status = functions_->C_Sign(session_, input.data(), input.size(), signature.data(), &length);
      signature.resize(status == CKR_OK ? length : 0);
    }
  }
  if (rv != nullptr) {
    *rv = status;
  }
  return signature;
}

}  // namespace cngkey_test
