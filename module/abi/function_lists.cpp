// The two function lists, the interface list, and the library's only three exports.
//   C_GetFunctionList  → the 2.40 CK_FUNCTION_LIST (what 2.x callers such as Java and libp11 use);
//   C_GetInterfaceList → {"PKCS 11" 3.0, "PKCS 11" 2.40};
//   C_GetInterface     → ("PKCS 11" or NULL, version NULL/3.0/2.40, flags 0); anything else,
//                        including CKF_INTERFACE_FORK_SAFE (we are not fork-safe: a child must
//                        call C_Initialize) and vendor names, → CKR_ARGUMENTS_BAD, never CKR_OK.
// All three work without C_Initialize.
#include <cstring>

#include "abi/dispatch.h"
#include "abi/entry_points.h"

namespace p11::entry {

namespace {

constexpr CK_VERSION kVersion30{3, 0};
constexpr CK_VERSION kVersion240{2, 40};

// Built by name, so member order cannot go wrong; mutable because the spec's pointers are.
constexpr CK_FUNCTION_LIST make_list_240() {
  CK_FUNCTION_LIST list{};
  list.version = kVersion240;
#define P11_SET(name) list.C_##name = &C_##name;
  P11_FUNCTIONS_240(P11_SET)
#undef P11_SET
  list.C_GetInfo = &C_GetInfo_v240;
  return list;
}

constexpr CK_FUNCTION_LIST_3_0 make_list_30() {
  CK_FUNCTION_LIST_3_0 list{};
  list.version = kVersion30;
#define P11_SET(name) list.C_##name = &C_##name;
  P11_FUNCTIONS_240(P11_SET)
  P11_FUNCTIONS_30(P11_SET)
#undef P11_SET
  return list;
}

constinit CK_FUNCTION_LIST g_list_240 = make_list_240();
constinit CK_FUNCTION_LIST_3_0 g_list_30 = make_list_30();

constinit CK_CHAR g_interface_name[] = "PKCS 11";
constinit CK_INTERFACE g_interfaces[] = {
    {g_interface_name, &g_list_30, 0},
    {g_interface_name, &g_list_240, 0},
};
constexpr CK_ULONG kInterfaceCount = sizeof(g_interfaces) / sizeof(g_interfaces[0]);

const CK_VERSION& version_of(const CK_INTERFACE& interface) {
  return static_cast<const CK_FUNCTION_LIST*>(interface.pFunctionList)->version;
}

void get_function_list(CK_FUNCTION_LIST_PTR_PTR out) {
  require(out != nullptr, CKR_ARGUMENTS_BAD, "ppFunctionList is NULL");
  *out = &g_list_240;
}

CK_RV get_interface_list(CK_INTERFACE_PTR list, CK_ULONG_PTR count) {
  require(count != nullptr, CKR_ARGUMENTS_BAD, "pulCount is NULL");
  if (list == nullptr) {
    *count = kInterfaceCount;
    return CKR_OK;
  }
  if (*count < kInterfaceCount) {
    *count = kInterfaceCount;
    return CKR_BUFFER_TOO_SMALL;
  }
  for (CK_ULONG i = 0; i < kInterfaceCount; ++i) {
    list[i] = g_interfaces[i];
  }
  *count = kInterfaceCount;
  return CKR_OK;
}

void get_interface(CK_UTF8CHAR_PTR name, CK_VERSION_PTR version, CK_INTERFACE_PTR_PTR out,
                   CK_FLAGS flags) {
  require(out != nullptr, CKR_ARGUMENTS_BAD, "ppInterface is NULL");
  for (auto& interface : g_interfaces) {  // preferred (3.0) first
    const bool name_ok =
        name == nullptr || std::strcmp(reinterpret_cast<const char*>(name),
                                       reinterpret_cast<const char*>(g_interface_name)) == 0;
    const CK_VERSION& v = version_of(interface);
    const bool version_ok =
        version == nullptr || (version->major == v.major && version->minor == v.minor);
    const bool flags_ok = (flags & ~interface.flags) == 0;
    if (name_ok && version_ok && flags_ok) {
      *out = &interface;
      return;
    }
  }
  fail(CKR_ARGUMENTS_BAD, "no such interface");
}

}  // namespace

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR l) noexcept {
  return abi::call_unchecked<&get_function_list>("C_GetFunctionList", l);
}
CK_RV C_GetInterfaceList(CK_INTERFACE_PTR l, CK_ULONG_PTR c) noexcept {
  return abi::call_unchecked<&get_interface_list>("C_GetInterfaceList", l, c);
}
CK_RV C_GetInterface(CK_UTF8CHAR_PTR n, CK_VERSION_PTR v, CK_INTERFACE_PTR_PTR i,
                     CK_FLAGS f) noexcept {
  return abi::call_unchecked<&get_interface>("C_GetInterface", n, v, i, f);
}

}  // namespace p11::entry

// ---- the exports --------------------------------------------------------------------------------
// pkcs11.h declares these without noexcept, so the definitions cannot add it; each is a single
// call of a noexcept function, so nothing can propagate out of them either.
#define P11_EXPORT __attribute__((visibility("default")))

extern "C" P11_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList) {
  return p11::entry::C_GetFunctionList(ppFunctionList);
}

extern "C" P11_EXPORT CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList,
                                               CK_ULONG_PTR pulCount) {
  return p11::entry::C_GetInterfaceList(pInterfacesList, pulCount);
}

extern "C" P11_EXPORT CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
                                           CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags) {
  return p11::entry::C_GetInterface(pInterfaceName, pVersion, ppInterface, flags);
}
