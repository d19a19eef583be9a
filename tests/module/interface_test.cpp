// C_GetFunctionList, C_GetInterfaceList, C_GetInterface: the rules of clients.md §1.
#include <cstddef>
#include <cstring>

#include "module_test_support.h"

namespace module_test {
namespace {

template <class List>
std::vector<void*> entries(const List* list) {
  // Every member after `version` is a function pointer.
  const auto* first = reinterpret_cast<const unsigned char*>(list) + offsetof(List, C_Initialize);
  const std::size_t count = (sizeof(List) - offsetof(List, C_Initialize)) / sizeof(void*);
  std::vector<void*> out(count);
  std::memcpy(out.data(), first, count * sizeof(void*));
  return out;
}

CK_UTF8CHAR* name(const char* text) {
  return reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(text));
}

TEST(Interfaces, FunctionListIsTheCompleteVersion240List) {
  CK_FUNCTION_LIST* list = nullptr;
  ASSERT_EQ(C_GetFunctionList(&list), CKR_OK);
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->version.major, 2);
  EXPECT_EQ(list->version.minor, 40);
  const auto fns = entries(list);
  EXPECT_EQ(fns.size(), 68U);
  for (std::size_t i = 0; i < fns.size(); ++i) {
    EXPECT_NE(fns[i], nullptr) << "entry " << i;
  }
  EXPECT_EQ(C_GetFunctionList(nullptr), CKR_ARGUMENTS_BAD);
}

TEST(Interfaces, InterfaceListTwoCallProtocol) {
  CK_ULONG count = 0;
  ASSERT_EQ(C_GetInterfaceList(nullptr, &count), CKR_OK);
  ASSERT_EQ(count, 2U);
  std::vector<CK_INTERFACE> ifaces(1);
  CK_ULONG small = 1;
  EXPECT_EQ(C_GetInterfaceList(ifaces.data(), &small), CKR_BUFFER_TOO_SMALL);
  EXPECT_EQ(small, 2U);
  ifaces.resize(count);
  ASSERT_EQ(C_GetInterfaceList(ifaces.data(), &count), CKR_OK);
  for (const auto& iface : ifaces) {
    EXPECT_STREQ(reinterpret_cast<const char*>(iface.pInterfaceName), "PKCS 11");
    EXPECT_EQ(iface.flags & CKF_INTERFACE_FORK_SAFE, 0U);
  }
  const auto* first = static_cast<CK_FUNCTION_LIST_3_0*>(ifaces[0].pFunctionList);
  const auto* second = static_cast<CK_FUNCTION_LIST*>(ifaces[1].pFunctionList);
  EXPECT_EQ(first->version.major, 3);
  EXPECT_EQ(first->version.minor, 0);
  EXPECT_EQ(second->version.major, 2);
  EXPECT_EQ(second->version.minor, 40);
  EXPECT_EQ(C_GetInterfaceList(ifaces.data(), nullptr), CKR_ARGUMENTS_BAD);
}

TEST(Interfaces, DefaultAndNamedRequestsGiveTheComplete30List) {
  for (CK_UTF8CHAR* requested : {static_cast<CK_UTF8CHAR*>(nullptr), name("PKCS 11")}) {
    CK_INTERFACE* iface = nullptr;
    ASSERT_EQ(C_GetInterface(requested, nullptr, &iface, 0), CKR_OK);
    ASSERT_NE(iface, nullptr);
    const auto* list = static_cast<CK_FUNCTION_LIST_3_0*>(iface->pFunctionList);
    ASSERT_NE(list, nullptr);
    EXPECT_EQ(list->version.major, 3);
    EXPECT_EQ(list->version.minor, 0);
    const auto fns = entries(list);
    EXPECT_EQ(fns.size(), 68U + 24U);
    for (std::size_t i = 0; i < fns.size(); ++i) {
      EXPECT_NE(fns[i], nullptr) << "entry " << i;
    }
  }
}

TEST(Interfaces, VersionedRequests) {
  CK_VERSION v240{2, 40};
  CK_INTERFACE* iface = nullptr;
  ASSERT_EQ(C_GetInterface(name("PKCS 11"), &v240, &iface, 0), CKR_OK);
  CK_FUNCTION_LIST* list = nullptr;
  ASSERT_EQ(C_GetFunctionList(&list), CKR_OK);
  EXPECT_EQ(iface->pFunctionList, list);

  CK_VERSION v30{3, 0};
  ASSERT_EQ(C_GetInterface(nullptr, &v30, &iface, 0), CKR_OK);
  EXPECT_EQ(static_cast<CK_FUNCTION_LIST_3_0*>(iface->pFunctionList)->version.major, 3);

  // No 3.1 interface: of the return values PKCS#11 3.0 (5.4, C_GetInterface) lists, the one
  // for a request the module cannot satisfy is CKR_ARGUMENTS_BAD.
  CK_VERSION v31{3, 1};
  EXPECT_EQ(C_GetInterface(name("PKCS 11"), &v31, &iface, 0), CKR_ARGUMENTS_BAD);
}

TEST(Interfaces, ForkSafeAndUnknownNamesAreRefused) {
  CK_INTERFACE* iface = nullptr;
  EXPECT_EQ(C_GetInterface(name("PKCS 11"), nullptr, &iface, CKF_INTERFACE_FORK_SAFE),
            CKR_ARGUMENTS_BAD);
  EXPECT_EQ(C_GetInterface(nullptr, nullptr, &iface, CKF_INTERFACE_FORK_SAFE), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(C_GetInterface(name("Vendor NSS FIPS Interface"), nullptr, &iface, 0),
            CKR_ARGUMENTS_BAD);
  EXPECT_EQ(C_GetInterface(name("PKCS 11"), nullptr, nullptr, 0), CKR_ARGUMENTS_BAD);
}

TEST(Interfaces, ThirtyListSharesTheEntryPointsOfThe240List) {
  CK_FUNCTION_LIST* l240 = list240();
  CK_FUNCTION_LIST_3_0* l30 = list30();
  ASSERT_NE(l240, nullptr);
  ASSERT_NE(l30, nullptr);
  const auto a = entries(l240);
  const auto b = entries(l30);
  const std::size_t get_info_index = 2;  // C_Initialize, C_Finalize, C_GetInfo
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (i == get_info_index) {
      EXPECT_NE(a[i], b[i]) << "C_GetInfo reports the list's own version";
    } else {
      EXPECT_EQ(a[i], b[i]) << "entry " << i;
    }
  }
}

TEST(Interfaces, GetInfoReportsTheVersionOfTheListUsed) {
  ASSERT_EQ(list30()->C_Initialize(nullptr), CKR_OK);
  CK_INFO info{};
  ASSERT_EQ(list30()->C_GetInfo(&info), CKR_OK);
  EXPECT_EQ(info.cryptokiVersion.major, 3);
  EXPECT_EQ(info.cryptokiVersion.minor, 0);
  EXPECT_EQ(field(info.manufacturerID), padded("cng-pkcs11", 32));
  EXPECT_EQ(info.flags, 0U);
  ASSERT_EQ(list240()->C_GetInfo(&info), CKR_OK);
  EXPECT_EQ(info.cryptokiVersion.major, 2);
  EXPECT_EQ(info.cryptokiVersion.minor, 40);
  EXPECT_EQ(list30()->C_GetInfo(nullptr), CKR_ARGUMENTS_BAD);
  ASSERT_EQ(list30()->C_Finalize(nullptr), CKR_OK);
}

}  // namespace
}  // namespace module_test
