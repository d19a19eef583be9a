// Helper modes of the conformance binary, run as separate processes by the multi-process
// tests (see subprocess.h). They use only the function list and print "key=value" lines.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "data_helper_modes.h"
#include "p11_fixture.h"
#include "p11_support.h"
#include "subprocess.h"

namespace conf {
namespace {

CK_FUNCTION_LIST* g_list = nullptr;  // for the atexit handlers

void Print(const std::string& key, const std::string& value) {
  std::printf("%s=%s\n", key.c_str(), value.c_str());
}

Bytes FromHex(const std::string& hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<unsigned char>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// Every attribute the cross-process comparison looks at.
void DumpObject(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                const std::string& prefix) {
  static constexpr CK_ATTRIBUTE_TYPE kTypes[] = {
      CKA_CLASS,  CKA_KEY_TYPE,   CKA_TOKEN,           CKA_PRIVATE,      CKA_LABEL,
      CKA_ID,     CKA_MODULUS,    CKA_PUBLIC_EXPONENT, CKA_MODULUS_BITS, CKA_SIGN,
      CKA_VERIFY, CKA_DECRYPT,    CKA_ENCRYPT,         CKA_SENSITIVE,    CKA_EXTRACTABLE,
      CKA_LOCAL,  CKA_MODIFIABLE, CKA_EC_PARAMS,       CKA_EC_POINT};
  for (CK_ATTRIBUTE_TYPE t : kTypes) {
    CK_ATTRIBUTE a{t, nullptr, 0};
    CK_RV rv = f->C_GetAttributeValue(s, o, &a, 1);
    char name[32];
    std::snprintf(name, sizeof name, "%s.0x%lx", prefix.c_str(), t);
    if (rv != CKR_OK) {
      Print(name, "ERR:" + RvName(rv));
      continue;
    }
    Bytes v(a.ulValueLen);
    a.pValue = v.data();
    rv = f->C_GetAttributeValue(s, o, &a, 1);
    Print(name, rv == CKR_OK ? Hex(v) : "ERR:" + RvName(rv));
  }
}

std::vector<CK_OBJECT_HANDLE> FindLabeled(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s,
                                          CK_OBJECT_CLASS cls, const std::string& label) {
  Template t;
  t.Ulong(CKA_CLASS, cls).Str(CKA_LABEL, label);
  std::vector<CK_OBJECT_HANDLE> out;
  if (f->C_FindObjectsInit(s, t.data(), t.size()) != CKR_OK) {
    return out;
  }
  CK_OBJECT_HANDLE h[16];
  CK_ULONG n = 0;
  while (f->C_FindObjects(s, h, 16, &n) == CKR_OK && n > 0) {
    out.insert(out.end(), h, h + n);
  }
  f->C_FindObjectsFinal(s);
  return out;
}

// The PIN run: helper processes log the user in as the test process does (conf::ConfPin()).
void LoginIfPinRun(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s) {
  std::string pin = ConfPin();
  if (!pin.empty()) {
    (void)f->C_Login(s, CKU_USER, reinterpret_cast<CK_UTF8CHAR_PTR>(pin.data()),
                     static_cast<CK_ULONG>(pin.size()));
  }
}

CK_RV GenerateLabeled(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, bool token,
                      const std::string& label, const Bytes& id) {
  Template pub;
  Template priv;
  pub.Bool(CKA_TOKEN, token).Ulong(CKA_MODULUS_BITS, 2048).Raw(CKA_PUBLIC_EXPONENT, {1, 0, 1});
  pub.Str(CKA_LABEL, label).Bool(CKA_VERIFY, true);
  priv.Bool(CKA_TOKEN, token).Str(CKA_LABEL, label).Bool(CKA_SIGN, true).Bool(CKA_SENSITIVE, true);
  if (!id.empty()) {
    pub.Raw(CKA_ID, id);
    priv.Raw(CKA_ID, id);
  }
  CK_MECHANISM mech{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
  CK_OBJECT_HANDLE hpub = 0;
  CK_OBJECT_HANDLE hpriv = 0;
  return f->C_GenerateKeyPair(s, &mech, pub.data(), pub.size(), priv.data(), priv.size(), &hpub,
                              &hpriv);
}

// gen-token <slot> <label> <idhex>: a token RSA key pair plus a session key "<label>-session".
int GenToken(CK_FUNCTION_LIST* f, CK_SLOT_ID slot, const std::string& label, const Bytes& id) {
  CK_SESSION_HANDLE s = 0;
  CK_RV rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s);
  Print("open", RvName(rv));
  if (rv != CKR_OK) {
    return 1;
  }
  LoginIfPinRun(f, s);
  Print("gen_token", RvName(rv = GenerateLabeled(f, s, true, label, id)));
  if (rv != CKR_OK) {
    return 1;
  }
  Print("gen_session", RvName(GenerateLabeled(f, s, false, label + "-session", {})));
  for (CK_OBJECT_HANDLE o : FindLabeled(f, s, CKO_PRIVATE_KEY, label)) {
    DumpObject(f, s, o, "priv");
  }
  for (CK_OBJECT_HANDLE o : FindLabeled(f, s, CKO_PUBLIC_KEY, label)) {
    DumpObject(f, s, o, "pub");
  }
  Print("session_keys_here",
        std::to_string(FindLabeled(f, s, CKO_PRIVATE_KEY, label + "-session").size()));
  return 0;  // exits with the session open: the session key must die with the process
}

// dump <slot> <label>: what another process sees of those keys.
int Dump(CK_FUNCTION_LIST* f, CK_SLOT_ID slot, const std::string& label) {
  CK_SESSION_HANDLE s = 0;
  CK_RV rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &s);
  Print("open", RvName(rv));
  if (rv != CKR_OK) {
    return 1;
  }
  LoginIfPinRun(f, s);
  const auto privs = FindLabeled(f, s, CKO_PRIVATE_KEY, label);
  const auto pubs = FindLabeled(f, s, CKO_PUBLIC_KEY, label);
  Print("priv_count", std::to_string(privs.size()));
  Print("pub_count", std::to_string(pubs.size()));
  Print("session_keys_here",
        std::to_string(FindLabeled(f, s, CKO_PRIVATE_KEY, label + "-session").size()));
  for (CK_OBJECT_HANDLE o : privs) {
    DumpObject(f, s, o, "priv");
  }
  for (CK_OBJECT_HANDLE o : pubs) {
    DumpObject(f, s, o, "pub");
  }
  f->C_CloseSession(s);
  return 0;
}

constexpr int kAtexitAllGood = 42;
constexpr int kAtexitBadRv = 43;

// Registered before the module is loaded, so it runs after the module's static destructors.
void LateTeardown() {
  CK_FUNCTION_LIST* f = g_list;
  const CK_RV close_all = f->C_CloseAllSessions(kUserSlot);
  const CK_RV fin = f->C_Finalize(nullptr);
  const CK_RV after = f->C_CloseAllSessions(kUserSlot);
  std::printf("late_close_all=%s\nlate_finalize=%s\nafter_finalize=%s\n", RvName(close_all).c_str(),
              RvName(fin).c_str(), RvName(after).c_str());
  std::fflush(stdout);
  const bool good = close_all == CKR_OK && fin == CKR_OK && after == CKR_CRYPTOKI_NOT_INITIALIZED;
  _exit(good ? kAtexitAllGood : kAtexitBadRv);
}

// atexit: sessions and objects open at exit, C_CloseAllSessions/C_Finalize from atexit.
int AtExit() {
  std::atexit(LateTeardown);
  g_list = FunctionList();
  if (g_list == nullptr || g_list->C_Initialize(nullptr) != CKR_OK) {
    return 1;
  }
  CK_SESSION_HANDLE s = 0;
  if (g_list->C_OpenSession(kUserSlot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s) !=
      CKR_OK) {
    return 1;
  }
  LoginIfPinRun(g_list, s);
  Print("session_key", RvName(GenerateLabeled(g_list, s, false, "atexit", {})));
  return 0;  // normal exit: static destructors, then LateTeardown
}

CK_RV CreateTokenData(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s) {
  Template t;
  t.Ulong(CKA_CLASS, CKO_DATA).Bool(CKA_TOKEN, true).Str(CKA_LABEL, "nobody-data");
  CK_OBJECT_HANDLE h = 0;
  return f->C_CreateObject(s, t.data(), t.size(), &h);
}

// machine-ro-probe: run as an unprivileged user against a machine store it cannot write.
int MachineReadOnlyProbe(CK_FUNCTION_LIST* f) {
  CK_TOKEN_INFO info{};
  CK_RV rv = f->C_GetTokenInfo(kMachineSlot, &info);
  Print("token_info", RvName(rv));
  Print("write_protected", (info.flags & CKF_WRITE_PROTECTED) ? "1" : "0");
  CK_SESSION_HANDLE rw = 0;
  rv = f->C_OpenSession(kMachineSlot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &rw);
  Print("open_rw", RvName(rv));
  if (rv == CKR_OK) {
    Print("gen_token_rw", RvName(GenerateLabeled(f, rw, true, "nobody-rw", {})));
    Print("data_token_rw", RvName(CreateTokenData(f, rw)));
  }
  CK_SESSION_HANDLE ro = 0;
  rv = f->C_OpenSession(kMachineSlot, CKF_SERIAL_SESSION, nullptr, nullptr, &ro);
  Print("open_ro", RvName(rv));
  if (rv == CKR_OK) {
    Print("gen_token_ro", RvName(GenerateLabeled(f, ro, true, "nobody-ro", {})));
    Print("gen_session_ro", RvName(GenerateLabeled(f, ro, false, "nobody-session", {})));
    Print("data_token_ro", RvName(CreateTokenData(f, ro)));
  }
  return 0;
}

// destroy-pub <slot> <label>: destroys the public key objects of that label (their private
// keys stay).
int DestroyPublic(CK_FUNCTION_LIST* f, CK_SLOT_ID slot, const std::string& label) {
  CK_SESSION_HANDLE s = 0;
  CK_RV rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s);
  Print("open", RvName(rv));
  if (rv != CKR_OK) {
    return 1;
  }
  LoginIfPinRun(f, s);
  const auto pubs = FindLabeled(f, s, CKO_PUBLIC_KEY, label);
  Print("pub_count", std::to_string(pubs.size()));
  for (CK_OBJECT_HANDLE o : pubs) {
    rv = f->C_DestroyObject(s, o);
    Print("destroy", RvName(rv));
  }
  return rv == CKR_OK ? 0 : 1;
}

// login <slot> <pin>: one C_Login(CKU_USER) in a fresh process (the scope PIN's counter).
int Login(CK_FUNCTION_LIST* f, CK_SLOT_ID slot, std::string pin) {
  CK_SESSION_HANDLE s = 0;
  CK_RV rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &s);
  Print("open", RvName(rv));
  if (rv != CKR_OK) {
    return 1;
  }
  rv = f->C_Login(s, CKU_USER, reinterpret_cast<CK_UTF8CHAR_PTR>(pin.data()),
                  static_cast<CK_ULONG>(pin.size()));
  Print("login", RvName(rv));
  return 0;
}

}  // namespace

int RunHelperMode(int argc, char** argv) {
  if (argc < 1) {
    return 2;
  }
  const std::string mode = argv[0];
  if (mode == "atexit") {
    return AtExit();
  }
  CK_FUNCTION_LIST* f = FunctionList();
  if (f == nullptr) {
    Print("error", "no function list");
    return 2;
  }
  CK_RV rv = f->C_Initialize(nullptr);
  Print("initialize", RvName(rv));
  if (rv != CKR_OK) {
    return 1;
  }
  int code = 2;
  if (mode == "gen-token" && argc == 4) {
    code = GenToken(f, std::strtoul(argv[1], nullptr, 10), argv[2], FromHex(argv[3]));
  } else if (mode == "dump" && argc == 3) {
    code = Dump(f, std::strtoul(argv[1], nullptr, 10), argv[2]);
  } else if (mode == "destroy-pub" && argc == 3) {
    code = DestroyPublic(f, std::strtoul(argv[1], nullptr, 10), argv[2]);
  } else if (mode == "login" && argc == 3) {
    code = Login(f, std::strtoul(argv[1], nullptr, 10), argv[2]);
  } else if (mode == "machine-ro-probe") {
    code = MachineReadOnlyProbe(f);
  } else if (mode.rfind("data-", 0) == 0) {
    code = RunDataHelperMode(f, argc, argv);
  }
  if (mode != "gen-token" && mode != "data-put") {
    Print("finalize", RvName(f->C_Finalize(nullptr)));
  }
  std::fflush(stdout);
  return code;
}

}  // namespace conf
