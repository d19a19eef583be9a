#include "p11_fixture.h"

#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <system_error>

namespace conf {

TempDir::TempDir(const std::string& tag) {
  std::string tmpl =
      std::filesystem::temp_directory_path().string() + "/cng-conf-" + tag + "-XXXXXX";
  if (mkdtemp(tmpl.data()) != nullptr) {
    path_ = tmpl;
  }
}

TempDir::~TempDir() {
  if (!path_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
}

CK_SLOT_ID SlotUnderTest() {
  const char* env = std::getenv("CNG_CONF_SLOT");
  if (env == nullptr || *env == '\0') {
    return 0;
  }
  char* end = nullptr;
  const unsigned long slot = std::strtoul(env, &end, 10);
  if (*end != '\0' || slot > 3) {
    std::fprintf(stderr, "CNG_CONF_SLOT=%s: not a slot id 0-3\n", env);
    std::abort();
  }
  return slot;
}

std::string ExpectedTokenLabel(CK_SLOT_ID slot) {
  static const char* const kLabels[] = {"CNG Software (user)", "CNG Software (machine)",
                                        "CNG Platform (user)", "CNG Platform (machine)"};
  return slot < std::size(kLabels) ? kLabels[slot] : "";
}

bool IsHardwareSlot(CK_SLOT_ID slot) {
  CK_FUNCTION_LIST* f = FunctionList();
  CK_SLOT_INFO info{};
  EXPECT_CKR(CKR_OK, f == nullptr ? CKR_GENERAL_ERROR : f->C_GetSlotInfo(slot, &info))
      << " (slot " << slot << ")";
  return (info.flags & CKF_HW_SLOT) != 0;
}

std::string MissingMechanism(CK_MECHANISM_TYPE type, const char* name, CK_ULONG key_size) {
  CK_FUNCTION_LIST* f = FunctionList();
  const std::string where = "slot " + std::to_string(kUserSlot) + " (" +
                            ExpectedTokenLabel(kUserSlot) + ") does not offer " + name;
  CK_ULONG n = 0;
  if (f == nullptr || f->C_GetMechanismList(kUserSlot, nullptr, &n) != CKR_OK) {
    return where + ": C_GetMechanismList failed";
  }
  std::vector<CK_MECHANISM_TYPE> list(n);
  if (f->C_GetMechanismList(kUserSlot, list.data(), &n) != CKR_OK) {
    return where + ": C_GetMechanismList failed";
  }
  list.resize(n);
  if (std::find(list.begin(), list.end(), type) == list.end()) {
    return where;
  }
  CK_MECHANISM_INFO info{};
  if (f->C_GetMechanismInfo(kUserSlot, type, &info) != CKR_OK) {
    return where + ": C_GetMechanismInfo failed";
  }
  if (key_size != 0 && (key_size < info.ulMinKeySize || key_size > info.ulMaxKeySize)) {
    return where + " with key size " + std::to_string(key_size) + " (its range is " +
           std::to_string(info.ulMinKeySize) + "-" + std::to_string(info.ulMaxKeySize) + ")";
  }
  return "";
}

std::string ConfPin() {
  const char* pin = std::getenv("CNG_CONF_PIN");
  return pin != nullptr ? std::string(pin) : std::string();
}

namespace {

// The PIN run: the pin-state file of a scope with ConfPin() set, made once per process through
// the module (C_Login(CKU_SO) + C_InitPIN on a fresh store) and copied into each test's fresh
// store, so that the expensive PIN derivation is not repeated for every test.
const std::string& PinStateTemplate(CK_FUNCTION_LIST* f, const std::string& scope_dir) {
  static TempDir kept("pin-template");
  static std::string file;
  if (!file.empty()) {
    return file;
  }
  const std::string pin = ConfPin();
  EXPECT_CKR(CKR_OK, f->C_Initialize(nullptr));
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_OK, f->C_OpenSession(kUserSlot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr,
                                      nullptr, &s));
  CK_UTF8CHAR so_pin[] = "so";
  EXPECT_CKR(CKR_OK, f->C_Login(s, CKU_SO, so_pin, 2));
  std::string copy = pin;
  EXPECT_CKR(CKR_OK, f->C_InitPIN(s, reinterpret_cast<CK_UTF8CHAR_PTR>(copy.data()),
                                  static_cast<CK_ULONG>(copy.size())));
  EXPECT_CKR(CKR_OK, f->C_Finalize(nullptr));
  std::error_code ec;
  std::filesystem::copy_file(scope_dir + "/pin-state", kept.path() + "/pin-state", ec);
  EXPECT_FALSE(ec) << ec.message();
  std::filesystem::remove(scope_dir + "/pin-state", ec);
  file = kept.path() + "/pin-state";
  return file;
}

}  // namespace

void P11Test::LoginSession() {
  const std::string pin = ConfPin();
  if (pin.empty()) {
    return;
  }
  login_session_ = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, f_->C_OpenSession(kUserSlot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr,
                                       nullptr, &login_session_));
  std::string copy = pin;
  ASSERT_CKR(CKR_OK,
             f_->C_Login(login_session_, CKU_USER, reinterpret_cast<CK_UTF8CHAR_PTR>(copy.data()),
                         static_cast<CK_ULONG>(copy.size())));
}

void PointStoresAt(const std::string& user_dir, const std::string& machine_dir) {
  setenv("CNG_PKCS11_USER_DIR", user_dir.c_str(), 1);
  setenv("CNG_PKCS11_MACHINE_DIR", machine_dir.c_str(), 1);
}

CK_FUNCTION_LIST* FunctionList() {
  const ModuleEntry& m = Module();
  CK_FUNCTION_LIST* list = nullptr;
  if (m.get_function_list == nullptr || m.get_function_list(&list) != CKR_OK) {
    return nullptr;
  }
  return list;
}

CK_FUNCTION_LIST_3_0* FunctionList30() {
  const ModuleEntry& m = Module();
  if (m.get_interface == nullptr) {
    return nullptr;
  }
  CK_UTF8CHAR name[] = "PKCS 11";
  CK_VERSION v30{3, 0};
  CK_INTERFACE* iface = nullptr;
  if (m.get_interface(name, &v30, &iface, 0) != CKR_OK || iface == nullptr) {
    return nullptr;
  }
  return static_cast<CK_FUNCTION_LIST_3_0*>(iface->pFunctionList);
}

void P11Test::SetUp() {
  if (IsPlatformSlot(kUserSlot) && std::getenv("CNG_PKCS11_TCTI") == nullptr) {
    GTEST_SKIP() << "slot " << kUserSlot << " needs a TPM: swtpm is not installed";
  }
  ASSERT_FALSE(user_dir().empty());
  ASSERT_FALSE(machine_dir().empty());
  PointStoresAt(user_dir(), machine_dir());
  f_ = FunctionList();
  ASSERT_NE(f_, nullptr) << "C_GetFunctionList failed (" << Module().description << ")";
  f3_ = FunctionList30();
  if (!ConfPin().empty()) {
    const std::string& pin_state = PinStateTemplate(f_, scope_dir(kUserSlot));
    std::error_code ec;
    std::filesystem::copy_file(pin_state, scope_dir(kUserSlot) + "/pin-state", ec);
    ASSERT_FALSE(ec) << ec.message();
    std::filesystem::permissions(
        scope_dir(kUserSlot) + "/pin-state",
        std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  }
  if (InitializeInSetUp()) {
    ASSERT_CKR(CKR_OK, f_->C_Initialize(nullptr));
    LoginSession();
  }
}

void P11Test::TearDown() {
  if (f_ != nullptr) {
    f_->C_Finalize(nullptr);  // CKR_CRYPTOKI_NOT_INITIALIZED is fine here
  }
}

void P11Test::Reinitialize() {
  EXPECT_CKR(CKR_OK, f_->C_Finalize(nullptr));
  EXPECT_CKR(CKR_OK, f_->C_Initialize(nullptr));
  LoginSession();
}

CK_SESSION_HANDLE P11Test::OpenSession(CK_SLOT_ID slot, bool rw) {
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  CK_FLAGS flags = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
  EXPECT_CKR(CKR_OK, f_->C_OpenSession(slot, flags, nullptr, nullptr, &s));
  return s;
}

namespace {

void AddCommon(Template& pub, Template& priv, const KeyOptions& o) {
  pub.Bool(CKA_TOKEN, o.token);
  priv.Bool(CKA_TOKEN, o.token);
  priv.Bool(CKA_SENSITIVE, true);
  priv.Bool(CKA_EXTRACTABLE, o.extractable);
  priv.Bool(CKA_SIGN, o.sign);
  if (o.always_authenticate) {
    priv.Bool(CKA_ALWAYS_AUTHENTICATE, true);
  }
  pub.Bool(CKA_VERIFY, true);
  if (!o.label.empty()) {
    pub.Str(CKA_LABEL, o.label);
    priv.Str(CKA_LABEL, o.label);
  }
  if (!o.id.empty()) {
    pub.Raw(CKA_ID, o.id);
    priv.Raw(CKA_ID, o.id);
  }
}

}  // namespace

KeyPair P11Test::GenerateRsa(CK_SESSION_HANDLE s, CK_ULONG bits, const KeyOptions& o) {
  Template pub;
  Template priv;
  AddCommon(pub, priv, o);
  pub.Ulong(CKA_MODULUS_BITS, bits).Raw(CKA_PUBLIC_EXPONENT, {1, 0, 1}).Bool(CKA_ENCRYPT, true);
  priv.Bool(CKA_DECRYPT, o.decrypt);
  CK_MECHANISM mech{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
  KeyPair kp;
  kp.rv = f_->C_GenerateKeyPair(s, &mech, pub.data(), pub.size(), priv.data(), priv.size(), &kp.pub,
                                &kp.priv);
  EXPECT_CKR(CKR_OK, kp.rv) << "RSA-" << bits << " key pair generation";
  return kp;
}

KeyPair P11Test::GenerateEc(CK_SESSION_HANDLE s, const Bytes& ec_params, const KeyOptions& o) {
  Template pub;
  Template priv;
  AddCommon(pub, priv, o);
  pub.Raw(CKA_EC_PARAMS, ec_params);
  priv.Bool(CKA_DERIVE, o.derive);
  CK_MECHANISM mech{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  KeyPair kp;
  kp.rv = f_->C_GenerateKeyPair(s, &mech, pub.data(), pub.size(), priv.data(), priv.size(), &kp.pub,
                                &kp.priv);
  EXPECT_CKR(CKR_OK, kp.rv) << "EC key pair generation, params " << Hex(ec_params);
  return kp;
}

Bytes P11Test::GetBytes(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t,
                        CK_RV* rv_out) {
  CK_ATTRIBUTE a{t, nullptr, 0};
  CK_RV rv = f_->C_GetAttributeValue(s, o, &a, 1);
  Bytes out;
  if (rv == CKR_OK && a.ulValueLen != CK_UNAVAILABLE_INFORMATION) {
    out.resize(a.ulValueLen);
    a.pValue = out.data();
    rv = f_->C_GetAttributeValue(s, o, &a, 1);
    out.resize(rv == CKR_OK ? a.ulValueLen : 0);
  }
  if (rv_out != nullptr) {
    *rv_out = rv;
  } else {
    EXPECT_CKR(CKR_OK, rv) << "reading attribute 0x" << std::hex << t;
  }
  return out;
}

CK_ULONG P11Test::GetUlong(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t) {
  CK_ULONG v = CK_UNAVAILABLE_INFORMATION;
  CK_ATTRIBUTE a{t, &v, sizeof v};
  EXPECT_CKR(CKR_OK, f_->C_GetAttributeValue(s, o, &a, 1)) << "attribute 0x" << std::hex << t;
  EXPECT_EQ(a.ulValueLen, sizeof v);
  return v;
}

bool P11Test::GetBool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t) {
  CK_BBOOL v = 0xAA;
  CK_ATTRIBUTE a{t, &v, sizeof v};
  EXPECT_CKR(CKR_OK, f_->C_GetAttributeValue(s, o, &a, 1)) << "attribute 0x" << std::hex << t;
  EXPECT_EQ(a.ulValueLen, sizeof v);
  EXPECT_TRUE(v == CK_TRUE || v == CK_FALSE) << "CK_BBOOL value " << int{v};
  return v == CK_TRUE;
}

std::vector<CK_OBJECT_HANDLE> P11Test::Find(CK_SESSION_HANDLE s, Template& tmpl) {
  std::vector<CK_OBJECT_HANDLE> found;
  EXPECT_CKR(CKR_OK, f_->C_FindObjectsInit(s, tmpl.data(), tmpl.size()));
  for (;;) {
    CK_OBJECT_HANDLE batch[3];
    CK_ULONG n = 0;
    CK_RV rv = f_->C_FindObjects(s, batch, 3, &n);
    EXPECT_CKR(CKR_OK, rv);
    if (rv != CKR_OK || n == 0) {
      break;
    }
    found.insert(found.end(), batch, batch + n);
  }
  EXPECT_CKR(CKR_OK, f_->C_FindObjectsFinal(s));
  return found;
}

std::vector<CK_OBJECT_HANDLE> P11Test::FindByLabel(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
                                                   const std::string& label) {
  Template t;
  t.Ulong(CKA_CLASS, cls).Str(CKA_LABEL, label);
  return Find(s, t);
}

Bytes P11Test::Sign(CK_SESSION_HANDLE s, CK_MECHANISM* mech, CK_OBJECT_HANDLE key,
                    const Bytes& data, CK_RV* rv_out) {
  Bytes sig;
  CK_RV rv = f_->C_SignInit(s, mech, key);
  if (rv == CKR_OK) {
    CK_ULONG len = 0;
    Bytes in = data;
    rv = f_->C_Sign(s, in.data(), static_cast<CK_ULONG>(in.size()), nullptr, &len);
    if (rv == CKR_OK) {
      sig.resize(len);
      rv = f_->C_Sign(s, in.data(), static_cast<CK_ULONG>(in.size()), sig.data(), &len);
      sig.resize(rv == CKR_OK ? len : 0);
    }
  }
  if (rv_out != nullptr) {
    *rv_out = rv;
  } else {
    EXPECT_CKR(CKR_OK, rv) << "sign with mechanism 0x" << std::hex << mech->mechanism;
  }
  return sig;
}

Bytes P11Test::SignMultiPart(CK_SESSION_HANDLE s, CK_MECHANISM* mech, CK_OBJECT_HANDLE key,
                             const Bytes& data, size_t chunk) {
  const CK_RV init = f_->C_SignInit(s, mech, key);
  EXPECT_CKR(CKR_OK, init) << "multi-part sign with mechanism 0x" << std::hex << mech->mechanism;
  if (init != CKR_OK) {
    return {};
  }
  Bytes in = data;
  for (size_t off = 0; off < in.size(); off += chunk) {
    const size_t n = std::min(chunk, in.size() - off);
    EXPECT_CKR(CKR_OK, f_->C_SignUpdate(s, in.data() + off, static_cast<CK_ULONG>(n)));
  }
  CK_ULONG len = 0;
  EXPECT_CKR(CKR_OK, f_->C_SignFinal(s, nullptr, &len));
  Bytes sig(len);
  EXPECT_CKR(CKR_OK, f_->C_SignFinal(s, sig.data(), &len));
  sig.resize(len);
  return sig;
}

Bytes P11Test::Decrypt(CK_SESSION_HANDLE s, CK_MECHANISM* mech, CK_OBJECT_HANDLE key,
                       const Bytes& cipher, CK_RV* rv_out) {
  Bytes plain;
  Bytes in = cipher;
  CK_RV rv = f_->C_DecryptInit(s, mech, key);
  if (rv == CKR_OK) {
    CK_ULONG len = 0;
    rv = f_->C_Decrypt(s, in.data(), static_cast<CK_ULONG>(in.size()), nullptr, &len);
    if (rv == CKR_OK) {
      plain.resize(len);
      rv = f_->C_Decrypt(s, in.data(), static_cast<CK_ULONG>(in.size()), plain.data(), &len);
      plain.resize(rv == CKR_OK ? len : 0);
    }
  }
  if (rv_out != nullptr) {
    *rv_out = rv;
  } else {
    EXPECT_CKR(CKR_OK, rv) << "decrypt with mechanism 0x" << std::hex << mech->mechanism;
  }
  return plain;
}

}  // namespace conf
