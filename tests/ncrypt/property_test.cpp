// NCryptGetProperty / NCryptSetProperty: Windows defaults, the size protocol, creation-time
// properties, custom properties with and without NCRYPT_PERSIST_FLAG, per-handle properties.
#include <cstring>

#include "api/testing_hooks.h"
#include "ncrypt_test_support.h"
#include "store/key_store.h"

namespace ncrypt_test {
namespace {

class PropertyTest : public NCryptTest {
 protected:
  static SECURITY_STATUS set_string(NCRYPT_HANDLE h, const char16_t* property, std::u16string value,
                                    DWORD flags = 0) {
    return NCryptSetProperty(h, property, reinterpret_cast<PBYTE>(value.data()),
                             static_cast<DWORD>((value.size() + 1) * 2), flags);
  }
  static SECURITY_STATUS get_bytes(NCRYPT_HANDLE h, const char16_t* property, Bytes& out,
                                   DWORD flags = 0) {
    DWORD size = 0;
    SECURITY_STATUS s = NCryptGetProperty(h, property, nullptr, 0, &size, flags);
    if (s != ERROR_SUCCESS) {
      return s;
    }
    out.resize(size);
    s = NCryptGetProperty(h, property, out.data(), size, &size, flags);
    out.resize(size);
    return s;
  }
};

TEST_F(PropertyTest, WindowsDefaultsOfANewRsaKey) {
  NCRYPT_KEY_HANDLE key = create_key(u"RSA", u"defaults", 0, false);
  EXPECT_EQ(dword_property(key, NCRYPT_LENGTH_PROPERTY), 1024u);
  EXPECT_EQ(dword_property(key, NCRYPT_KEY_USAGE_PROPERTY), DWORD{NCRYPT_ALLOW_ALL_USAGES});
  EXPECT_EQ(dword_property(key, NCRYPT_EXPORT_POLICY_PROPERTY), 0u);
  EXPECT_EQ(dword_property(key, NCRYPT_KEY_TYPE_PROPERTY), 0u);
  EXPECT_EQ(dword_property(key, NCRYPT_BLOCK_LENGTH_PROPERTY), 128u);
  EXPECT_EQ(string_property(key, NCRYPT_ALGORITHM_PROPERTY), u"RSA");
  EXPECT_EQ(string_property(key, NCRYPT_ALGORITHM_GROUP_PROPERTY), u"RSA");
  NCRYPT_SUPPORTED_LENGTHS lengths{};
  DWORD size = 0;
  ASSERT_OK(NCryptGetProperty(key, NCRYPT_LENGTHS_PROPERTY, reinterpret_cast<PBYTE>(&lengths),
                              sizeof lengths, &size, 0));
  EXPECT_EQ(size, sizeof lengths);
  EXPECT_LE(lengths.dwMinLength, 1024u);
  EXPECT_GE(lengths.dwMaxLength, 4096u);
  EXPECT_EQ(lengths.dwDefaultLength, 1024u);
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  EXPECT_EQ(dword_property(key, NCRYPT_LENGTH_PROPERTY), 1024u);  // generated at the default
  EXPECT_EQ(dword_property(key, NCRYPT_PUBLIC_LENGTH_PROPERTY), 1024u);
  EXPECT_EQ(dword_property(key, NCRYPT_SIGNATURE_LENGTH_PROPERTY), 128u);
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(PropertyTest, EcKeyProperties) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDH_P521", nullptr);
  EXPECT_EQ(dword_property(key, NCRYPT_LENGTH_PROPERTY), 521u);
  EXPECT_EQ(dword_property(key, NCRYPT_SIGNATURE_LENGTH_PROPERTY), 132u);
  EXPECT_EQ(string_property(key, NCRYPT_ALGORITHM_GROUP_PROPERTY), u"ECDH");
  EXPECT_EQ(string_property(key, NCRYPT_ECC_CURVE_NAME_PROPERTY), u"nistP521");
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(PropertyTest, SizeProtocol) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", u"sized");
  DWORD size = 0;
  ASSERT_OK(NCryptGetProperty(key, NCRYPT_NAME_PROPERTY, nullptr, 0, &size, 0));
  EXPECT_EQ(size, (5u + 1u) * 2u);
  Bytes small(size - 1);
  DWORD got = 0;
  EXPECT_STATUS(NTE_BUFFER_TOO_SMALL,
                NCryptGetProperty(key, NCRYPT_NAME_PROPERTY, small.data(), size - 1, &got, 0));
  EXPECT_EQ(got, size);
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptGetProperty(key, NCRYPT_NAME_PROPERTY, nullptr, 0, nullptr, 0));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptGetProperty(key, nullptr, nullptr, 0, &size, 0));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(PropertyTest, FlagsPerFunction) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", u"flags", 0, false);
  DWORD value = 0;
  EXPECT_STATUS(NTE_BAD_FLAGS, get_dword(key, NCRYPT_LENGTH_PROPERTY, value, NCRYPT_PERSIST_FLAG));
  EXPECT_STATUS(NTE_BAD_FLAGS, get_dword(key, NCRYPT_LENGTH_PROPERTY, value, 0x1));
  EXPECT_STATUS(NTE_BAD_FLAGS,
                set_dword(key, NCRYPT_KEY_USAGE_PROPERTY, 2, NCRYPT_MACHINE_KEY_FLAG));
  EXPECT_OK(set_dword(key, NCRYPT_KEY_USAGE_PROPERTY, 2, NCRYPT_SILENT_FLAG | NCRYPT_PERSIST_FLAG));
  EXPECT_OK(get_dword(key, NCRYPT_KEY_USAGE_PROPERTY, value, NCRYPT_SILENT_FLAG));
  EXPECT_EQ(value, 2u);
  EXPECT_OK(NCryptFreeObject(key));
}

// Creation-time properties are refused once the key is finalized. We answer NTE_PERM (which
// of NTE_PERM / NTE_NOT_SUPPORTED Windows returns is unverified).
TEST_F(PropertyTest, CreationPropertiesRefusedAfterFinalize) {
  const NCRYPT_KEY_HANDLE key = create_key(u"RSA", u"frozen");
  EXPECT_STATUS(NTE_PERM, set_dword(key, NCRYPT_LENGTH_PROPERTY, 2048));
  EXPECT_STATUS(NTE_PERM,
                set_dword(key, NCRYPT_EXPORT_POLICY_PROPERTY, NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG));
  EXPECT_STATUS(NTE_PERM, set_dword(key, NCRYPT_KEY_USAGE_PROPERTY, NCRYPT_ALLOW_SIGNING_FLAG));
  NCRYPT_UI_POLICY policy{1, NCRYPT_UI_PROTECT_KEY_FLAG, nullptr, nullptr, nullptr};
  EXPECT_STATUS(NTE_PERM, NCryptSetProperty(key, NCRYPT_UI_POLICY_PROPERTY,
                                            reinterpret_cast<PBYTE>(&policy), sizeof policy, 0));
  EXPECT_EQ(dword_property(key, NCRYPT_EXPORT_POLICY_PROPERTY), 0u);
  EXPECT_EQ(dword_property(key, NCRYPT_KEY_USAGE_PROPERTY), DWORD{NCRYPT_ALLOW_ALL_USAGES});
  const NCRYPT_KEY_HANDLE ec = create_key(u"ECDSA", nullptr, 0, false);
  EXPECT_OK(set_string(ec, NCRYPT_ECC_CURVE_NAME_PROPERTY, u"nistP256"));
  ASSERT_OK(NCryptFinalizeKey(ec, 0));
  EXPECT_STATUS(NTE_PERM, set_string(ec, NCRYPT_ECC_CURVE_NAME_PROPERTY, u"nistP384"));
  EXPECT_OK(NCryptFreeObject(ec));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(PropertyTest, ReadOnlyAndInvalidValues) {
  const NCRYPT_KEY_HANDLE key = create_key(u"RSA", u"ro", 0, false);
  EXPECT_STATUS(NTE_NOT_SUPPORTED, set_string(key, NCRYPT_NAME_PROPERTY, u"renamed"));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, set_string(key, NCRYPT_ALGORITHM_PROPERTY, u"ECDSA_P256"));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, set_dword(key, NCRYPT_KEY_TYPE_PROPERTY, 0x20));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, set_dword(key, NCRYPT_LENGTH_PROPERTY, 1000));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, set_dword(key, NCRYPT_LENGTH_PROPERTY, 1 << 20));
  std::uint16_t short_value = 1;
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptSetProperty(key, NCRYPT_LENGTH_PROPERTY,
                                  reinterpret_cast<PBYTE>(&short_value), sizeof short_value, 0));
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptSetProperty(key, NCRYPT_LENGTH_PROPERTY, nullptr, 4, 0));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, set_string(key, NCRYPT_ECC_CURVE_NAME_PROPERTY, u"nistP256"));
  DWORD size = 0;
  EXPECT_STATUS(NTE_NOT_SUPPORTED,
                NCryptGetProperty(key, NCRYPT_IMPL_TYPE_PROPERTY, nullptr, 0, &size, 0));
  EXPECT_STATUS(NTE_NOT_SUPPORTED,
                NCryptGetProperty(key, NCRYPT_ECC_CURVE_NAME_PROPERTY, nullptr, 0, &size, 0));
  const std::u16string long_name(NCRYPT_MAX_PROPERTY_NAME + 1, u'p');
  EXPECT_STATUS(NTE_INVALID_PARAMETER, set_dword(key, long_name.c_str(), 1));
  Bytes huge(NCRYPT_MAX_PROPERTY_DATA + 1);
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptSetProperty(key, u"Big", huge.data(), static_cast<DWORD>(huge.size()),
                                  NCRYPT_PERSIST_FLAG));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(PropertyTest, NoMemoryWhenAllocationFails) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", u"oom");
  Bytes value(4096, 0x42);
  cng::api::testing::set_allocation_failure(true);
  const SECURITY_STATUS set =
      NCryptSetProperty(key, u"Blob", value.data(), static_cast<DWORD>(value.size()), 0);
  NCRYPT_PROV_HANDLE p = 0;
  const SECURITY_STATUS open = NCryptOpenStorageProvider(&p, nullptr, 0);
  cng::api::testing::set_allocation_failure(false);
  EXPECT_STATUS(NTE_NO_MEMORY, set);
  EXPECT_STATUS(NTE_NO_MEMORY, open);
  EXPECT_EQ(p, 0u);
  DWORD size = 0;
  EXPECT_STATUS(NTE_NOT_FOUND, NCryptGetProperty(key, u"Blob", nullptr, 0, &size, 0));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(PropertyTest, CustomPropertiesPersistOnlyWithPersistFlag) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", u"custom");
  DWORD size = 0;
  EXPECT_STATUS(NTE_NOT_FOUND, NCryptGetProperty(key, u"Label", nullptr, 0, &size, 0));
  ASSERT_OK(set_string(key, u"Label", u"persisted label", NCRYPT_PERSIST_FLAG));
  ASSERT_OK(set_string(key, u"Scratch", u"handle only"));
  EXPECT_EQ(string_property(key, u"Label"), u"persisted label");
  EXPECT_EQ(string_property(key, u"Scratch"), u"handle only");
  EXPECT_OK(NCryptFreeObject(key));

  NCRYPT_KEY_HANDLE reopened = 0;
  ASSERT_OK(NCryptOpenKey(provider_, &reopened, u"custom", 0, 0));
  EXPECT_EQ(string_property(reopened, u"Label"), u"persisted label");
  EXPECT_STATUS(NTE_NOT_FOUND, NCryptGetProperty(reopened, u"Scratch", nullptr, 0, &size, 0));
  // Updating a persisted property after reopening rewrites the file; others are kept.
  ASSERT_OK(set_string(reopened, u"Id", u"01:02", NCRYPT_PERSIST_FLAG));
  EXPECT_OK(NCryptFreeObject(reopened));
  cng::KeyStore store(user_dir(), cng::Scope::kUser);
  const auto record = store.load(u"custom");
  EXPECT_TRUE(record.properties.contains(u"Label"));
  EXPECT_TRUE(record.properties.contains(u"Id"));
  EXPECT_FALSE(record.properties.contains(u"Scratch"));
}

TEST_F(PropertyTest, PersistedPropertiesSetBeforeFinalizeAreWrittenAtFinalize) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", u"early", 0, false);
  ASSERT_OK(set_string(key, u"Label", u"early label", NCRYPT_PERSIST_FLAG));
  EXPECT_EQ(file_count(user_dir()), 0u);
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  EXPECT_OK(NCryptFreeObject(key));
  NCRYPT_KEY_HANDLE reopened = 0;
  ASSERT_OK(NCryptOpenKey(provider_, &reopened, u"early", 0, 0));
  EXPECT_EQ(string_property(reopened, u"Label"), u"early label");
  EXPECT_OK(NCryptFreeObject(reopened));
}

TEST_F(PropertyTest, PersistOnlyShadowsABuiltInName) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", u"shadow");
  ASSERT_OK(set_dword(key, NCRYPT_LENGTH_PROPERTY, 7, NCRYPT_PERSIST_ONLY_FLAG));
  EXPECT_EQ(dword_property(key, NCRYPT_LENGTH_PROPERTY), 256u);  // built-in unchanged
  DWORD value = 0;
  ASSERT_OK(get_dword(key, NCRYPT_LENGTH_PROPERTY, value, NCRYPT_PERSIST_ONLY_FLAG));
  EXPECT_EQ(value, 7u);
  EXPECT_STATUS(NTE_NOT_FOUND,
                get_dword(key, NCRYPT_KEY_USAGE_PROPERTY, value, NCRYPT_PERSIST_ONLY_FLAG));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(PropertyTest, ModifiedUniqueNameAndProviderHandle) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", u"meta");
  FILETIME ft{};
  DWORD size = 0;
  ASSERT_OK(NCryptGetProperty(key, NCRYPT_LAST_MODIFIED_PROPERTY, reinterpret_cast<PBYTE>(&ft),
                              sizeof ft, &size, 0));
  const std::uint64_t ticks = (std::uint64_t{ft.dwHighDateTime} << 32) | ft.dwLowDateTime;
  const std::uint64_t now_ticks =
      116444736000000000ULL + static_cast<std::uint64_t>(std::time(nullptr)) * 10000000ULL;
  EXPECT_LT(ticks > now_ticks ? ticks - now_ticks : now_ticks - ticks, 600ULL * 10000000ULL);

  const std::string file = cng::KeyStore::file_name_for(u"meta");
  EXPECT_EQ(string_property(key, NCRYPT_UNIQUE_NAME_PROPERTY),
            std::u16string(file.begin(), file.end()));
  EXPECT_TRUE(std::filesystem::exists(user_dir() / file));

  NCRYPT_PROV_HANDLE p = 0;
  ASSERT_OK(NCryptGetProperty(key, NCRYPT_PROVIDER_HANDLE_PROPERTY, reinterpret_cast<PBYTE>(&p),
                              sizeof p, &size, 0));
  EXPECT_EQ(size, sizeof p);
  EXPECT_EQ(string_property(p, NCRYPT_NAME_PROPERTY), MS_KEY_STORAGE_PROVIDER);
  NCRYPT_KEY_HANDLE again = 0;
  EXPECT_OK(NCryptOpenKey(p, &again, u"meta", 0, 0));  // a working provider handle
  EXPECT_OK(NCryptFreeObject(again));
  EXPECT_OK(NCryptFreeObject(p));  // the caller frees it
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(PropertyTest, UsePolicyAndUseContext) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", u"ui", 0, false);
  DWORD size = 0;
  EXPECT_STATUS(NTE_NOT_FOUND,
                NCryptGetProperty(key, NCRYPT_UI_POLICY_PROPERTY, nullptr, 0, &size, 0));
  EXPECT_STATUS(NTE_NOT_FOUND,
                NCryptGetProperty(key, NCRYPT_USE_CONTEXT_PROPERTY, nullptr, 0, &size, 0));
  NCRYPT_UI_POLICY policy{1, NCRYPT_UI_PROTECT_KEY_FLAG, u"Title", nullptr, u"Description"};
  ASSERT_OK(NCryptSetProperty(key, NCRYPT_UI_POLICY_PROPERTY, reinterpret_cast<PBYTE>(&policy),
                              sizeof policy, 0));
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  ASSERT_OK(set_string(key, NCRYPT_USE_CONTEXT_PROPERTY, u"context"));  // any time
  EXPECT_EQ(string_property(key, NCRYPT_USE_CONTEXT_PROPERTY), u"context");
  EXPECT_OK(NCryptFreeObject(key));

  NCRYPT_KEY_HANDLE reopened = 0;
  ASSERT_OK(NCryptOpenKey(provider_, &reopened, u"ui", 0, 0));
  EXPECT_STATUS(NTE_NOT_FOUND,  // per handle, never persisted
                NCryptGetProperty(reopened, NCRYPT_USE_CONTEXT_PROPERTY, nullptr, 0, &size, 0));
  Bytes out;
  ASSERT_OK(get_bytes(reopened, NCRYPT_UI_POLICY_PROPERTY, out));
  NCRYPT_UI_POLICY got{};
  ASSERT_GE(out.size(), sizeof got);
  std::memcpy(&got, out.data(), sizeof got);
  EXPECT_EQ(got.dwVersion, 1u);
  EXPECT_EQ(got.dwFlags, DWORD{NCRYPT_UI_PROTECT_KEY_FLAG});
  ASSERT_NE(got.pszCreationTitle, nullptr);
  EXPECT_EQ(std::u16string(got.pszCreationTitle), u"Title");
  EXPECT_EQ(got.pszFriendlyName, nullptr);
  ASSERT_NE(got.pszDescription, nullptr);
  EXPECT_EQ(std::u16string(got.pszDescription), u"Description");
  EXPECT_OK(NCryptFreeObject(reopened));
}

}  // namespace
}  // namespace ncrypt_test
