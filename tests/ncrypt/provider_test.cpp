// Providers: opening by name, enumeration of providers and algorithms, provider properties.
#include <set>

#include "ncrypt_test_support.h"

namespace ncrypt_test {
namespace {

class ProviderTest : public NCryptTest {};

TEST_F(ProviderTest, NullNameOpensTheSoftwareProvider) {
  NCRYPT_PROV_HANDLE p = 0;
  ASSERT_OK(NCryptOpenStorageProvider(&p, nullptr, 0));
  EXPECT_EQ(string_property(p, NCRYPT_NAME_PROPERTY), MS_KEY_STORAGE_PROVIDER);
  EXPECT_EQ(dword_property(p, NCRYPT_IMPL_TYPE_PROPERTY) & NCRYPT_IMPL_SOFTWARE_FLAG,
            DWORD{NCRYPT_IMPL_SOFTWARE_FLAG});
  EXPECT_EQ(dword_property(p, NCRYPT_MAX_NAME_LENGTH_PROPERTY), DWORD{NCRYPT_MAX_KEY_NAME_LENGTH});
  EXPECT_NE(dword_property(p, NCRYPT_VERSION_PROPERTY), 0u);
  EXPECT_OK(NCryptFreeObject(p));
}

TEST_F(ProviderTest, PlatformProviderIsNotAvailableYet) {
  NCRYPT_PROV_HANDLE p = 0;
  EXPECT_STATUS(NTE_DEVICE_NOT_FOUND,
                NCryptOpenStorageProvider(&p, MS_PLATFORM_CRYPTO_PROVIDER, 0));
  EXPECT_EQ(p, 0u);
}

TEST_F(ProviderTest, UnknownNameIsProviderNotFound) {
  NCRYPT_PROV_HANDLE p = 0;
  EXPECT_STATUS(NTE_PROV_DLL_NOT_FOUND, NCryptOpenStorageProvider(&p, u"No Such Provider", 0));
  EXPECT_STATUS(NTE_PROV_DLL_NOT_FOUND,
                NCryptOpenStorageProvider(&p, MS_SMART_CARD_KEY_STORAGE_PROVIDER, 0));
}

TEST_F(ProviderTest, OpenArgumentsAndFlags) {
  NCRYPT_PROV_HANDLE p = 0;
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptOpenStorageProvider(nullptr, nullptr, 0));
  EXPECT_STATUS(NTE_BAD_FLAGS, NCryptOpenStorageProvider(&p, nullptr, NCRYPT_MACHINE_KEY_FLAG));
  ASSERT_OK(NCryptOpenStorageProvider(&p, MS_KEY_STORAGE_PROVIDER, NCRYPT_SILENT_FLAG));
  EXPECT_OK(NCryptFreeObject(p));
}

TEST_F(ProviderTest, EnumStorageProvidersListsRegisteredProviders) {
  DWORD count = 0;
  NCryptProviderName* list = nullptr;
  ASSERT_OK(NCryptEnumStorageProviders(&count, &list, 0));
  std::set<std::u16string> names;
  for (DWORD i = 0; i < count; ++i) {
    names.insert(list[i].pszName);
  }
  EXPECT_TRUE(names.contains(MS_KEY_STORAGE_PROVIDER));
  EXPECT_TRUE(names.contains(MS_PLATFORM_CRYPTO_PROVIDER));
  EXPECT_OK(NCryptFreeBuffer(list));
  EXPECT_STATUS(NTE_BAD_FLAGS, NCryptEnumStorageProviders(&count, &list, 0x1));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptEnumStorageProviders(nullptr, &list, 0));
}

TEST_F(ProviderTest, EnumAlgorithmsFiltersByOperation) {
  DWORD count = 0;
  NCryptAlgorithmName* list = nullptr;
  ASSERT_OK(NCryptEnumAlgorithms(provider_, NCRYPT_SIGNATURE_OPERATION, &count, &list, 0));
  std::set<std::u16string> signing;
  for (DWORD i = 0; i < count; ++i) {
    EXPECT_NE(list[i].dwAlgOperations & NCRYPT_SIGNATURE_OPERATION, 0u);
    signing.insert(list[i].pszName);
  }
  EXPECT_TRUE(signing.contains(u"RSA"));
  EXPECT_TRUE(signing.contains(u"ECDSA_P256"));
  EXPECT_FALSE(signing.contains(u"ECDH_P256"));
  EXPECT_OK(NCryptFreeBuffer(list));

  ASSERT_OK(NCryptEnumAlgorithms(provider_, NCRYPT_SECRET_AGREEMENT_OPERATION, &count, &list, 0));
  std::set<std::u16string> agreement;
  for (DWORD i = 0; i < count; ++i) {
    agreement.insert(list[i].pszName);
  }
  EXPECT_TRUE(agreement.contains(u"ECDH_P384"));
  EXPECT_FALSE(agreement.contains(u"RSA"));
  EXPECT_OK(NCryptFreeBuffer(list));

  DWORD all = 0;
  ASSERT_OK(NCryptEnumAlgorithms(provider_, 0, &all, &list, 0));
  EXPECT_GE(all, count);
  EXPECT_OK(NCryptFreeBuffer(list));
  EXPECT_STATUS(NTE_BAD_FLAGS, NCryptEnumAlgorithms(provider_, 0, &all, &list, 0x1));
  EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptEnumAlgorithms(0, 0, &all, &list, 0));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptEnumAlgorithms(provider_, 0, nullptr, &list, 0));
}

TEST_F(ProviderTest, IsAlgSupported) {
  EXPECT_OK(NCryptIsAlgSupported(provider_, u"RSA", 0));
  EXPECT_OK(NCryptIsAlgSupported(provider_, u"ecdsa_p384", NCRYPT_SILENT_FLAG));
  EXPECT_OK(NCryptIsAlgSupported(provider_, u"ECDH_P521", 0));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, NCryptIsAlgSupported(provider_, u"SHA256", 0));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, NCryptIsAlgSupported(provider_, u"RSA_SIGN", 0));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, NCryptIsAlgSupported(provider_, u"NOPE", 0));
  // Windows: flags 20 (0x14) → NTE_BAD_FLAGS.
  EXPECT_STATUS(NTE_BAD_FLAGS, NCryptIsAlgSupported(provider_, u"RSA", 20));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptIsAlgSupported(provider_, nullptr, 0));
  EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptIsAlgSupported(0, u"RSA", 0));
}

TEST_F(ProviderTest, UseContextIsPerHandleAndNotFoundUntilSet) {
  DWORD size = 0;
  EXPECT_STATUS(NTE_NOT_FOUND,
                NCryptGetProperty(provider_, NCRYPT_USE_CONTEXT_PROPERTY, nullptr, 0, &size, 0));
  std::u16string context = u"signing service";
  ASSERT_OK(NCryptSetProperty(provider_, NCRYPT_USE_CONTEXT_PROPERTY,
                              reinterpret_cast<PBYTE>(context.data()),
                              static_cast<DWORD>((context.size() + 1) * 2), 0));
  EXPECT_EQ(string_property(provider_, NCRYPT_USE_CONTEXT_PROPERTY), context);
  NCRYPT_PROV_HANDLE other = 0;
  ASSERT_OK(NCryptOpenStorageProvider(&other, nullptr, 0));
  EXPECT_STATUS(NTE_NOT_FOUND,
                NCryptGetProperty(other, NCRYPT_USE_CONTEXT_PROPERTY, nullptr, 0, &size, 0));
  EXPECT_OK(NCryptFreeObject(other));
}

TEST_F(ProviderTest, ProviderPropertiesRefuseUnknownAndReadOnly) {
  DWORD size = 0;
  EXPECT_STATUS(NTE_NOT_SUPPORTED,
                NCryptGetProperty(provider_, u"My Custom", nullptr, 0, &size, 0));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, set_dword(provider_, NCRYPT_IMPL_TYPE_PROPERTY, 1));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, set_dword(provider_, u"My Custom", 1));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, set_dword(provider_, u"My Custom", 1, NCRYPT_PERSIST_FLAG));
}

}  // namespace
}  // namespace ncrypt_test
