// The NCrypt contract on the platform provider: provider properties, algorithm listing, key
// states, NTE_EXISTS / overwrite, scopes, enumeration, ephemeral keys, unsupported lengths.
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "platform_test_support.h"

namespace platform_test {
namespace {

using ncrypt_test::dword_property;
using ncrypt_test::set_dword;
using ncrypt_test::string_property;

class ContractTest : public PlatformTest {};

TEST_F(ContractTest, ProviderIsHardwareAndListsTpmAlgorithms) {
  EXPECT_EQ(dword_property(provider_, NCRYPT_IMPL_TYPE_PROPERTY),
            static_cast<DWORD>(NCRYPT_IMPL_HARDWARE_FLAG));
  EXPECT_EQ(string_property(provider_, NCRYPT_NAME_PROPERTY), MS_PLATFORM_CRYPTO_PROVIDER);
  DWORD count = 0;
  NCryptAlgorithmName* list = nullptr;
  ASSERT_OK(NCryptEnumAlgorithms(provider_, 0, &count, &list, 0));
  std::set<std::u16string> names;
  std::string listing;
  for (DWORD i = 0; i < count; ++i) {
    names.insert(list[i].pszName);
    for (const char16_t* c = list[i].pszName; *c != 0; ++c) {
      listing.push_back(static_cast<char>(*c & 0x7F));
    }
    listing += ' ';
  }
  std::cout << "[ caps ] " << listing << "\n";
  EXPECT_OK(NCryptFreeBuffer(list));
  // swtpm implements RSA and NIST P-256 with ECDSA and ECDH.
  EXPECT_TRUE(names.count(u"RSA"));
  EXPECT_TRUE(names.count(u"ECDSA_P256"));
  EXPECT_TRUE(names.count(u"ECDH_P256"));
  EXPECT_OK(NCryptIsAlgSupported(provider_, u"RSA", 0));
  EXPECT_OK(NCryptIsAlgSupported(provider_, u"ECDSA_P256", 0));
}

// The software and the platform provider keep separate stores within a scope: the same name
// may exist in both, and each provider enumerates only its own keys.
TEST_F(ContractTest, ProvidersHaveSeparateStoresInOneScope) {
  NCRYPT_PROV_HANDLE software = 0;
  ASSERT_OK(NCryptOpenStorageProvider(&software, MS_KEY_STORAGE_PROVIDER, 0));
  NCRYPT_KEY_HANDLE soft = 0;
  NCRYPT_KEY_HANDLE tpm = 0;
  ASSERT_OK(NCryptCreatePersistedKey(software, &soft, u"ECDSA_P256", u"shared-name", 0, 0));
  ASSERT_OK(NCryptFinalizeKey(soft, 0));
  ASSERT_OK(NCryptCreatePersistedKey(provider_, &tpm, u"ECDSA_P256", u"shared-name", 0, 0));
  ASSERT_OK(NCryptFinalizeKey(tpm, 0));
  const auto names_of = [](NCRYPT_PROV_HANDLE prov) {
    std::vector<std::u16string> names;
    NCryptKeyName* item = nullptr;
    void* state = nullptr;
    while (NCryptEnumKeys(prov, nullptr, &item, &state, 0) == ERROR_SUCCESS) {
      names.emplace_back(item->pszName);
      NCryptFreeBuffer(item);
    }
    NCryptFreeBuffer(state);
    return names;
  };
  EXPECT_EQ(names_of(software), std::vector<std::u16string>{u"shared-name"});
  EXPECT_EQ(names_of(provider_), std::vector<std::u16string>{u"shared-name"});
  EXPECT_OK(NCryptDeleteKey(soft, 0));
  EXPECT_TRUE(names_of(software).empty());
  EXPECT_EQ(names_of(provider_), std::vector<std::u16string>{u"shared-name"});
  EXPECT_OK(NCryptDeleteKey(tpm, 0));
  EXPECT_OK(NCryptFreeObject(software));
}

TEST_F(ContractTest, KeyStatesNamesAndOverwrite) {
  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_OK(NCryptCreatePersistedKey(provider_, &key, u"ECDSA_P256", u"states", 0, 0));
  // Not finalized: no crypto, nothing on disk.
  const Bytes hash(32, 7);
  Bytes sig;
  EXPECT_STATUS(NTE_BAD_KEY_STATE, try_sign(key, nullptr, hash, 0, sig));
  EXPECT_EQ(ncrypt_test::file_count(user_dir()), 0u);
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptFinalizeKey(key, 0));
  EXPECT_EQ(ncrypt_test::file_count(user_dir()), 1u);
  EXPECT_EQ(string_property(key, NCRYPT_NAME_PROPERTY), u"states");
  EXPECT_EQ(dword_property(key, NCRYPT_LENGTH_PROPERTY), 256u);
  EXPECT_STATUS(NTE_PERM, set_dword(key, NCRYPT_KEY_USAGE_PROPERTY, NCRYPT_ALLOW_SIGNING_FLAG));

  // The name is taken in this scope, free in the other.
  NCRYPT_KEY_HANDLE dup = 0;
  EXPECT_STATUS(NTE_EXISTS,
                NCryptCreatePersistedKey(provider_, &dup, u"ECDSA_P256", u"states", 0, 0));
  const NCRYPT_KEY_HANDLE machine = create_key(u"ECDSA_P256", u"states", NCRYPT_MACHINE_KEY_FLAG);
  EXPECT_EQ(ncrypt_test::file_count(machine_dir()), 1u);

  // Overwrite replaces the key: a different public key afterwards.
  const Bytes before = ncrypt_test::export_key(key, BCRYPT_ECCPUBLIC_BLOB);
  const NCRYPT_KEY_HANDLE replaced =
      create_key(u"ECDSA_P256", u"states", NCRYPT_OVERWRITE_KEY_FLAG);
  NCRYPT_KEY_HANDLE reopened = 0;
  ASSERT_OK(NCryptOpenKey(provider_, &reopened, u"states", 0, 0));
  EXPECT_NE(ncrypt_test::export_key(reopened, BCRYPT_ECCPUBLIC_BLOB), before);
  EXPECT_EQ(ncrypt_test::export_key(reopened, BCRYPT_ECCPUBLIC_BLOB),
            ncrypt_test::export_key(replaced, BCRYPT_ECCPUBLIC_BLOB));

  // Custom properties persist with the key file.
  const Bytes value = {1, 2, 3};
  EXPECT_OK(NCryptSetProperty(reopened, u"my prop", const_cast<PBYTE>(value.data()), 3,
                              NCRYPT_PERSIST_FLAG));
  NCRYPT_KEY_HANDLE again = 0;
  ASSERT_OK(NCryptOpenKey(provider_, &again, u"states", 0, 0));
  Bytes read(3);
  DWORD size = 0;
  EXPECT_OK(NCryptGetProperty(again, u"my prop", read.data(), 3, &size, 0));
  EXPECT_EQ(read, value);

  EXPECT_OK(NCryptFreeObject(again));
  EXPECT_OK(NCryptFreeObject(replaced));
  EXPECT_OK(NCryptFreeObject(key));
  EXPECT_OK(NCryptDeleteKey(reopened, 0));
  EXPECT_OK(NCryptDeleteKey(machine, 0));
  EXPECT_EQ(ncrypt_test::file_count(user_dir()), 0u);
  EXPECT_EQ(ncrypt_test::file_count(machine_dir()), 0u);
  NCRYPT_KEY_HANDLE gone = 0;
  EXPECT_STATUS(NTE_BAD_KEYSET, NCryptOpenKey(provider_, &gone, u"states", 0, 0));
}

TEST_F(ContractTest, EphemeralKeysHaveNoNameAndNoCustomProperties) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", nullptr);
  DWORD size = 0;
  EXPECT_STATUS(NTE_NOT_SUPPORTED,
                NCryptGetProperty(key, NCRYPT_NAME_PROPERTY, nullptr, 0, &size, 0));
  const Bytes value = {1};
  EXPECT_STATUS(NTE_NOT_SUPPORTED,
                NCryptSetProperty(key, u"custom", const_cast<PBYTE>(value.data()), 1, 0));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(ContractTest, RsaLengthsAreTheTpmsAndOthersAreRefused) {
  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_OK(NCryptCreatePersistedKey(provider_, &key, u"RSA", nullptr, 0, 0));
  NCRYPT_SUPPORTED_LENGTHS lengths{};
  DWORD size = 0;
  ASSERT_OK(NCryptGetProperty(key, NCRYPT_LENGTHS_PROPERTY, reinterpret_cast<PBYTE>(&lengths),
                              sizeof lengths, &size, 0));
  EXPECT_LE(lengths.dwMinLength, 2048u);
  EXPECT_GE(lengths.dwMaxLength, 2048u);
  EXPECT_EQ(lengths.dwDefaultLength, 2048u);
  std::cout << "[ caps ] RSA lengths " << lengths.dwMinLength << ".." << lengths.dwMaxLength
            << " step " << lengths.dwIncrement << "\n";
  EXPECT_STATUS(NTE_INVALID_PARAMETER, set_dword(key, NCRYPT_LENGTH_PROPERTY, 1536));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, set_dword(key, NCRYPT_LENGTH_PROPERTY, 8192));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(ContractTest, EnumerationListsThisScopesKeys) {
  const NCRYPT_KEY_HANDLE a = create_key(u"ECDSA_P256", u"enum-a");
  const NCRYPT_KEY_HANDLE b = create_key(u"ECDH_P256", u"enum-b");
  const NCRYPT_KEY_HANDLE m = create_key(u"ECDSA_P256", u"enum-m", NCRYPT_MACHINE_KEY_FLAG);
  std::set<std::u16string> user;
  std::set<std::u16string> algs;
  NCryptKeyName* item = nullptr;
  PVOID state = nullptr;
  while (NCryptEnumKeys(provider_, nullptr, &item, &state, 0) == ERROR_SUCCESS) {
    user.insert(item->pszName);
    algs.insert(item->pszAlgid);
    EXPECT_OK(NCryptFreeBuffer(item));
  }
  EXPECT_OK(NCryptFreeBuffer(state));
  EXPECT_EQ(user, (std::set<std::u16string>{u"enum-a", u"enum-b"}));
  EXPECT_EQ(algs, (std::set<std::u16string>{u"ECDSA_P256", u"ECDH_P256"}));
  for (const NCRYPT_KEY_HANDLE k : {a, b, m}) {
    EXPECT_OK(NCryptDeleteKey(k, 0));
  }
}

}  // namespace
}  // namespace platform_test
