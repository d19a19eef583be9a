// NCryptOpenKey / NCryptDeleteKey, user and machine scopes, corrupt files, lazy loading.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <vector>

#include "cng_key_store_issues.h"
#include "ncrypt_test_support.h"
#include "store/key_file.h"
#include "store/key_store.h"

namespace ncrypt_test {
namespace {

class OpenDeleteTest : public NCryptTest {
 protected:
  std::filesystem::path key_file(const std::filesystem::path& dir, std::u16string_view name) {
    return dir / cng::KeyStore::file_name_for(name);
  }
};

TEST_F(OpenDeleteTest, OpenAbsentIsBadKeyset) {
  NCRYPT_KEY_HANDLE key = 0;
  EXPECT_STATUS(NTE_BAD_KEYSET, NCryptOpenKey(provider_, &key, u"missing", 0, 0));
  EXPECT_STATUS(NTE_BAD_KEYSET,
                NCryptOpenKey(provider_, &key, u"missing", 0, NCRYPT_MACHINE_KEY_FLAG));
  EXPECT_EQ(key, 0u);
}

TEST_F(OpenDeleteTest, OpenArgumentsAndFlags) {
  NCRYPT_KEY_HANDLE key = 0;
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptOpenKey(provider_, nullptr, u"k", 0, 0));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptOpenKey(provider_, &key, nullptr, 0, 0));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptOpenKey(provider_, &key, u"k", 7, 0));
  EXPECT_STATUS(NTE_BAD_FLAGS, NCryptOpenKey(provider_, &key, u"k", 0, NCRYPT_OVERWRITE_KEY_FLAG));
  EXPECT_STATUS(NTE_BAD_FLAGS, NCryptOpenKey(provider_, &key, u"k", 0, 0x1));
}

TEST_F(OpenDeleteTest, DeleteRemovesTheFileAndFreesTheHandle) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", u"doomed");
  const NCRYPT_KEY_HANDLE other = create_key(u"ECDSA_P256", u"kept");
  ASSERT_TRUE(std::filesystem::exists(key_file(user_dir(), u"doomed")));
  EXPECT_STATUS(NTE_BAD_FLAGS, NCryptDeleteKey(key, NCRYPT_MACHINE_KEY_FLAG));
  ASSERT_OK(NCryptDeleteKey(key, NCRYPT_SILENT_FLAG));
  EXPECT_FALSE(std::filesystem::exists(key_file(user_dir(), u"doomed")));
  EXPECT_EQ(NCryptIsKeyHandle(key), FALSE);
  EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptFreeObject(key));
  NCRYPT_KEY_HANDLE reopened = 0;
  EXPECT_STATUS(NTE_BAD_KEYSET, NCryptOpenKey(provider_, &reopened, u"doomed", 0, 0));
  EXPECT_OK(NCryptOpenKey(provider_, &reopened, u"kept", 0, 0));
  EXPECT_OK(NCryptFreeObject(reopened));
  EXPECT_OK(NCryptFreeObject(other));
}

TEST_F(OpenDeleteTest, DeleteOfUnfinalizedOrEphemeralKeyOnlyFreesTheHandle) {
  const NCRYPT_KEY_HANDLE existing = create_key(u"ECDSA_P256", u"name");
  NCRYPT_KEY_HANDLE pending = 0;
  ASSERT_OK(NCryptCreatePersistedKey(provider_, &pending, u"ECDSA_P256", u"name", 0,
                                     NCRYPT_OVERWRITE_KEY_FLAG));
  EXPECT_OK(NCryptDeleteKey(pending, 0));  // never written: the existing key stays
  EXPECT_TRUE(std::filesystem::exists(key_file(user_dir(), u"name")));
  const NCRYPT_KEY_HANDLE ephemeral = create_key(u"ECDSA_P256", nullptr);
  EXPECT_OK(NCryptDeleteKey(ephemeral, 0));
  EXPECT_EQ(NCryptIsKeyHandle(ephemeral), FALSE);
  EXPECT_OK(NCryptFreeObject(existing));
}

TEST_F(OpenDeleteTest, ScopesAreSeparateNamespaces) {
  const NCRYPT_KEY_HANDLE user = create_key(u"ECDSA_P256", u"shared-name");
  NCRYPT_KEY_HANDLE key = 0;
  EXPECT_STATUS(NTE_BAD_KEYSET,
                NCryptOpenKey(provider_, &key, u"shared-name", 0, NCRYPT_MACHINE_KEY_FLAG));
  // The same name in the machine scope is a different key.
  const NCRYPT_KEY_HANDLE machine =
      create_key(u"ECDSA_P256", u"shared-name", NCRYPT_MACHINE_KEY_FLAG);
  EXPECT_EQ(file_count(user_dir()), 1u);
  EXPECT_EQ(file_count(machine_dir()), 1u);
  EXPECT_NE(export_key(user, BCRYPT_ECCPUBLIC_BLOB), export_key(machine, BCRYPT_ECCPUBLIC_BLOB));
  EXPECT_EQ(dword_property(user, NCRYPT_KEY_TYPE_PROPERTY), 0u);
  EXPECT_EQ(dword_property(machine, NCRYPT_KEY_TYPE_PROPERTY), DWORD{NCRYPT_MACHINE_KEY_FLAG});

  ASSERT_OK(NCryptOpenKey(provider_, &key, u"shared-name", 0, NCRYPT_MACHINE_KEY_FLAG));
  EXPECT_EQ(export_key(key, BCRYPT_ECCPUBLIC_BLOB), export_key(machine, BCRYPT_ECCPUBLIC_BLOB));
  EXPECT_EQ(dword_property(key, NCRYPT_KEY_TYPE_PROPERTY), DWORD{NCRYPT_MACHINE_KEY_FLAG});
  // Deleting the machine key leaves the user key.
  ASSERT_OK(NCryptDeleteKey(key, 0));
  EXPECT_EQ(file_count(machine_dir()), 0u);
  ASSERT_OK(NCryptOpenKey(provider_, &key, u"shared-name", 0, 0));
  EXPECT_EQ(export_key(key, BCRYPT_ECCPUBLIC_BLOB), export_key(user, BCRYPT_ECCPUBLIC_BLOB));
  for (const auto h : {key, user, machine}) {
    EXPECT_OK(NCryptFreeObject(h));
  }
}

// A corrupt key file opens (without parsing) only so that it can be deleted: everything else
// fails, the other keys are unaffected, and once deleted its name is free again.
TEST_F(OpenDeleteTest, CorruptFileOpensOnlyForDeleteOthersUnaffected) {
  EXPECT_OK(NCryptFreeObject(create_key(u"ECDSA_P256", u"good")));
  EXPECT_OK(NCryptFreeObject(create_key(u"ECDSA_P256", u"bad")));
  const auto bad = key_file(user_dir(), u"bad");
  {
    std::fstream f(bad, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(60);
    f.put('\x5a');
  }
  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_OK(NCryptOpenKey(provider_, &key, u"bad", 0, 0));
  DWORD size = 0;
  EXPECT_STATUS(NTE_BAD_DATA,
                NCryptGetProperty(key, NCRYPT_ALGORITHM_PROPERTY, nullptr, 0, &size, 0));
  EXPECT_STATUS(NTE_BAD_DATA, set_dword(key, NCRYPT_LENGTH_PROPERTY, 256));
  Bytes hash(32, 3);
  BYTE sig[64];
  EXPECT_STATUS(NTE_BAD_KEY_STATE,
                NCryptSignHash(key, nullptr, hash.data(), 32, sig, sizeof sig, &size, 0));
  Bytes out;
  EXPECT_STATUS(NTE_BAD_KEY_STATE, try_export(key, BCRYPT_ECCPUBLIC_BLOB, out));
  EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptFinalizeKey(key, 0));
  // A corrupt file blocks its name for a create without overwrite until it is removed.
  NCRYPT_KEY_HANDLE blocked = 0;
  EXPECT_STATUS(NTE_EXISTS,
                NCryptCreatePersistedKey(provider_, &blocked, u"ECDSA_P256", u"bad", 0, 0));
  ASSERT_OK(NCryptDeleteKey(key, 0));
  EXPECT_FALSE(std::filesystem::exists(bad));
  EXPECT_OK(NCryptFreeObject(create_key(u"ECDSA_P256", u"bad")));  // the name is free again

  ASSERT_OK(NCryptOpenKey(provider_, &key, u"good", 0, 0));
  EXPECT_OK(NCryptSignHash(key, nullptr, hash.data(), 32, sig, sizeof sig, &size, 0));
  EXPECT_OK(NCryptFreeObject(key));
  // Truncated to nothing: still opens for delete, not a crash.
  std::filesystem::resize_file(bad, 0);
  ASSERT_OK(NCryptOpenKey(provider_, &key, u"bad", 0, 0));
  EXPECT_STATUS(NTE_BAD_DATA,
                NCryptGetProperty(key, NCRYPT_ALGORITHM_PROPERTY, nullptr, 0, &size, 0));
  ASSERT_OK(NCryptDeleteKey(key, 0));
  EXPECT_FALSE(std::filesystem::exists(bad));
}

// A key file of another owner (or readable by others) could have been planted or swapped:
// NCryptOpenKey refuses it (NTE_PERM), NCryptEnumKeys leaves it out, and the issue says why.
TEST_F(OpenDeleteTest, UntrustedKeyFileIsRefused) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to give a file to another uid";
  }
  EXPECT_OK(NCryptFreeObject(create_key(u"ECDSA_P256", u"planted")));
  EXPECT_OK(NCryptFreeObject(create_key(u"ECDSA_P256", u"loose")));
  ASSERT_EQ(::chown(key_file(user_dir(), u"planted").c_str(), 65534, 65534), 0);
  ASSERT_EQ(::chmod(key_file(user_dir(), u"loose").c_str(), 0644), 0);
  NCRYPT_KEY_HANDLE key = 0;
  EXPECT_STATUS(NTE_PERM, NCryptOpenKey(provider_, &key, u"planted", 0, 0));
  EXPECT_STATUS(NTE_PERM, NCryptOpenKey(provider_, &key, u"loose", 0, 0));
  NCryptKeyName* item = nullptr;
  PVOID state = nullptr;
  EXPECT_STATUS(NTE_NO_MORE_ITEMS, NCryptEnumKeys(provider_, nullptr, &item, &state, 0));
  if (state != nullptr) {
    NCryptFreeBuffer(state);
  }
  cng::KeyStoreIssue issue;
  bool found = false;
  ASSERT_OK(cng::CngGetKeyIssue(provider_, u"planted", 0, &issue, &found));
  ASSERT_TRUE(found);
  EXPECT_TRUE(issue.refused);
  EXPECT_EQ(issue.reason, "owned by uid 65534, not 0");
  std::vector<cng::KeyStoreIssue> issues;
  ASSERT_OK(cng::CngListKeyStoreIssues(provider_, 0, &issues));
  ASSERT_EQ(issues.size(), 2U);
  for (const auto& i : issues) {
    EXPECT_TRUE(i.refused);
  }
}

// Opening parses only the record; the private part is parsed at its first use. A file whose
// private blob is unusable therefore opens and exports its public key, and fails (NTE_BAD_DATA)
// only when the private key is needed.
TEST_F(OpenDeleteTest, PrivatePartIsParsedLazily) {
  const NCRYPT_KEY_HANDLE original = create_key(u"ECDSA_P256", u"lazy");
  const Bytes public_blob = export_key(original, BCRYPT_ECCPUBLIC_BLOB);
  EXPECT_OK(NCryptFreeObject(original));
  cng::KeyStore store(user_dir(), cng::Scope::kUser);
  if (!testing_platform()) {
    store.protect_at_rest();  // as the software provider's store: encrypted at rest
  }
  cng::KeyRecord record = store.load(u"lazy");
  record.private_blob.assign(16, 0xEE);  // a well-formed file with a useless private blob
  store.update(record);

  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_OK(NCryptOpenKey(provider_, &key, u"lazy", 0, 0));
  EXPECT_EQ(export_key(key, BCRYPT_ECCPUBLIC_BLOB), public_blob);
  EXPECT_EQ(string_property(key, NCRYPT_ALGORITHM_PROPERTY), u"ECDSA_P256");
  Bytes hash(32, 3);
  BYTE sig[64];
  DWORD size = 0;
  EXPECT_STATUS(NTE_BAD_DATA,
                NCryptSignHash(key, nullptr, hash.data(), 32, sig, sizeof sig, &size, 0));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(OpenDeleteTest, KeyOpenedThroughOneProviderHandleOutlivesIt) {
  EXPECT_OK(NCryptFreeObject(create_key(u"ECDSA_P256", u"outlive")));
  NCRYPT_PROV_HANDLE p = 0;
  ASSERT_OK(NCryptOpenStorageProvider(&p, nullptr, 0));
  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_OK(NCryptOpenKey(p, &key, u"outlive", 0, 0));
  ASSERT_OK(NCryptFreeObject(p));
  Bytes hash(32, 3);
  BYTE sig[64];
  DWORD size = 0;
  EXPECT_OK(NCryptSignHash(key, nullptr, hash.data(), 32, sig, sizeof sig, &size, 0));
  EXPECT_OK(NCryptDeleteKey(key, 0));
}

}  // namespace
}  // namespace ncrypt_test
