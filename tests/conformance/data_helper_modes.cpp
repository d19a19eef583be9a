#include "data_helper_modes.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace conf {
namespace {

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

std::vector<CK_OBJECT_HANDLE> FindData(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s,
                                       const std::string& label) {
  Template t;
  t.Ulong(CKA_CLASS, CKO_DATA).Str(CKA_LABEL, label);
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

std::string Attribute(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                      CK_ATTRIBUTE_TYPE t) {
  CK_ATTRIBUTE a{t, nullptr, 0};
  CK_RV rv = f->C_GetAttributeValue(s, o, &a, 1);
  if (rv != CKR_OK) {
    return "ERR:" + RvName(rv);
  }
  Bytes v(a.ulValueLen);
  a.pValue = v.data();
  rv = f->C_GetAttributeValue(s, o, &a, 1);
  return rv == CKR_OK ? Hex(v) : "ERR:" + RvName(rv);
}

CK_RV Create(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, bool token, const std::string& label,
             const std::string& app, const Bytes& value) {
  Template t;
  t.Ulong(CKA_CLASS, CKO_DATA).Bool(CKA_TOKEN, token).Str(CKA_LABEL, label);
  t.Str(CKA_APPLICATION, app).Raw(CKA_OBJECT_ID, {0x06, 0x03, 0x55, 0x04, 0x03});
  t.Raw(CKA_VALUE, value);
  CK_OBJECT_HANDLE h = 0;
  return f->C_CreateObject(s, t.data(), t.size(), &h);
}

void Dump(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, const std::string& label) {
  const auto found = FindData(f, s, label);
  Print("count", std::to_string(found.size()));
  Print("session_count", std::to_string(FindData(f, s, label + "-session").size()));
  if (found.size() == 1) {
    Print("token", Attribute(f, s, found[0], CKA_TOKEN));
    Print("application", Attribute(f, s, found[0], CKA_APPLICATION));
    Print("object_id", Attribute(f, s, found[0], CKA_OBJECT_ID));
    Print("value", Attribute(f, s, found[0], CKA_VALUE));
    Print("unique_id", Attribute(f, s, found[0], CKA_UNIQUE_ID));
  }
}

}  // namespace

int RunDataHelperMode(CK_FUNCTION_LIST* f, int argc, char** argv) {
  const std::string mode = argv[0];
  if (mode.rfind("data-", 0) != 0 || argc < 3) {
    return -1;
  }
  const CK_SLOT_ID slot = std::strtoul(argv[1], nullptr, 10);
  const std::string label = argv[2];
  CK_SESSION_HANDLE s = 0;
  const CK_RV rv =
      f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s);
  Print("open", RvName(rv));
  if (rv != CKR_OK) {
    return 1;
  }
  if (mode == "data-put" && argc == 5) {
    Print("create_token", RvName(Create(f, s, true, label, argv[3], FromHex(argv[4]))));
    Print("create_session",
          RvName(Create(f, s, false, label + "-session", argv[3], FromHex(argv[4]))));
    Dump(f, s, label);
    return 0;  // exits with the session open: the session object must die with the process
  }
  if (mode == "data-dump" && argc == 3) {
    Dump(f, s, label);
    return 0;
  }
  const auto found = FindData(f, s, label);
  Print("count", std::to_string(found.size()));
  if (found.size() != 1) {
    return 1;
  }
  if (mode == "data-set" && argc == 4) {
    Template t;
    t.Raw(CKA_VALUE, FromHex(argv[3]));
    Print("set", RvName(f->C_SetAttributeValue(s, found[0], t.data(), t.size())));
    return 0;
  }
  if (mode == "data-destroy" && argc == 3) {
    Print("destroy", RvName(f->C_DestroyObject(s, found[0])));
    return 0;
  }
  return 2;
}

}  // namespace conf
