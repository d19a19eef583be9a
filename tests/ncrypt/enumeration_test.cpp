// NCryptEnumKeys (one item per call, NTE_NO_MORE_ITEMS, per scope, legacy key spec recorded)
// and NCryptFreeBuffer of things that are not NCrypt buffers.
#include <map>

#include "ncrypt_test_support.h"

namespace ncrypt_test {
namespace {

class EnumerationTest : public NCryptTest {
 protected:
  struct Listed {
    std::u16string algorithm;
    DWORD legacy_key_spec;
    DWORD flags;
  };
  std::map<std::u16string, Listed> enumerate(DWORD flags) {
    std::map<std::u16string, Listed> out;
    void* state = nullptr;
    for (;;) {
      NCryptKeyName* item = nullptr;
      const SECURITY_STATUS s = NCryptEnumKeys(provider_, nullptr, &item, &state, flags);
      if (s == NTE_NO_MORE_ITEMS) {
        break;
      }
      EXPECT_OK(s);
      if (s != ERROR_SUCCESS) {
        break;
      }
      out[item->pszName] = {item->pszAlgid, item->dwLegacyKeySpec, item->dwFlags};
      EXPECT_OK(NCryptFreeBuffer(item));
    }
    EXPECT_OK(NCryptFreeBuffer(state));
    return out;
  }
};

TEST_F(EnumerationTest, ListsKeysWithLegacySpecPerScope) {
  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_OK(
      NCryptCreatePersistedKey(provider_, &key, u"ECDH_P256", u"exchange", AT_KEYEXCHANGE, 0));
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  EXPECT_OK(NCryptFreeObject(key));
  ASSERT_OK(
      NCryptCreatePersistedKey(provider_, &key, u"ECDSA_P384", u"signature", AT_SIGNATURE, 0));
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  EXPECT_OK(NCryptFreeObject(key));
  ASSERT_OK(NCryptCreatePersistedKey(provider_, &key, u"ECDSA_P256", u"machine-key", 0,
                                     NCRYPT_MACHINE_KEY_FLAG));
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  EXPECT_OK(NCryptFreeObject(key));
  EXPECT_OK(NCryptFreeObject(create_key(u"ECDSA_P256", nullptr)));  // ephemeral: not listed
  EXPECT_OK(NCryptFreeObject(create_key(u"ECDSA_P256", u"never-finalized", 0, false)));

  const auto user = enumerate(0);
  ASSERT_EQ(user.size(), 2u);
  EXPECT_EQ(user.at(u"exchange").legacy_key_spec, DWORD{AT_KEYEXCHANGE});
  EXPECT_EQ(user.at(u"exchange").algorithm, u"ECDH_P256");
  EXPECT_EQ(user.at(u"signature").legacy_key_spec, DWORD{AT_SIGNATURE});
  EXPECT_EQ(user.at(u"signature").flags, 0u);

  const auto machine = enumerate(NCRYPT_MACHINE_KEY_FLAG | NCRYPT_SILENT_FLAG);
  ASSERT_EQ(machine.size(), 1u);
  EXPECT_EQ(machine.at(u"machine-key").legacy_key_spec, 0u);
  EXPECT_EQ(machine.at(u"machine-key").flags, DWORD{NCRYPT_MACHINE_KEY_FLAG});
}

TEST_F(EnumerationTest, EmptyStoreIsNoMoreItems) {
  NCryptKeyName* item = nullptr;
  void* state = nullptr;
  EXPECT_STATUS(NTE_NO_MORE_ITEMS, NCryptEnumKeys(provider_, nullptr, &item, &state, 0));
  EXPECT_EQ(item, nullptr);
  EXPECT_OK(NCryptFreeBuffer(state));
}

TEST_F(EnumerationTest, ArgumentsAndFlags) {
  NCryptKeyName* item = nullptr;
  void* state = nullptr;
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptEnumKeys(provider_, u"scope", &item, &state, 0));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptEnumKeys(provider_, nullptr, nullptr, &state, 0));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptEnumKeys(provider_, nullptr, &item, nullptr, 0));
  EXPECT_STATUS(NTE_BAD_FLAGS,
                NCryptEnumKeys(provider_, nullptr, &item, &state, NCRYPT_OVERWRITE_KEY_FLAG));
  int not_a_state = 0;
  state = &not_a_state;
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptEnumKeys(provider_, nullptr, &item, &state, 0));
}

TEST_F(EnumerationTest, FreeBufferOfGarbageIsInvalidParameter) {
  int local = 0;
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptFreeBuffer(&local));
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptFreeBuffer(reinterpret_cast<void*>(std::uintptr_t{0x1234})));
  EXPECT_OK(NCryptFreeBuffer(nullptr));
  DWORD count = 0;
  NCryptProviderName* list = nullptr;
  ASSERT_OK(NCryptEnumStorageProviders(&count, &list, 0));
  EXPECT_OK(NCryptFreeBuffer(list));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptFreeBuffer(list));  // double free is caught
}

TEST_F(EnumerationTest, KeysDeletedDuringEnumerationAreStillReportedFromTheSnapshot) {
  EXPECT_OK(NCryptFreeObject(create_key(u"ECDSA_P256", u"a")));
  const NCRYPT_KEY_HANDLE b = create_key(u"ECDSA_P256", u"b");
  NCryptKeyName* item = nullptr;
  void* state = nullptr;
  ASSERT_OK(NCryptEnumKeys(provider_, nullptr, &item, &state, 0));
  EXPECT_OK(NCryptFreeBuffer(item));
  EXPECT_OK(NCryptDeleteKey(b, 0));
  ASSERT_OK(NCryptEnumKeys(provider_, nullptr, &item, &state, 0));
  EXPECT_OK(NCryptFreeBuffer(item));
  EXPECT_STATUS(NTE_NO_MORE_ITEMS, NCryptEnumKeys(provider_, nullptr, &item, &state, 0));
  EXPECT_OK(NCryptFreeBuffer(state));
}

}  // namespace
}  // namespace ncrypt_test
