// AES keys in the software KSP: creation properties, persistence across provider handles and
// scopes, CipherKeyBlob export/import and their errors.
#include "symmetric_support.h"

namespace ncrypt_test {
namespace {

class AesKeyTest : public SymmetricTest {
 protected:
  // A finalized AES key of bits with a plaintext-exportable policy.
  NCRYPT_KEY_HANDLE exportable_aes(const char16_t* name, DWORD bits, DWORD flags = 0) {
    NCRYPT_KEY_HANDLE key = 0;
    EXPECT_OK(NCryptCreatePersistedKey(provider_, &key, NCRYPT_AES_ALGORITHM, name, 0, flags));
    EXPECT_OK(set_dword(key, NCRYPT_LENGTH_PROPERTY, bits));
    EXPECT_OK(set_dword(key, NCRYPT_EXPORT_POLICY_PROPERTY,
                        NCRYPT_ALLOW_EXPORT_FLAG | NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG));
    EXPECT_OK(NCryptFinalizeKey(key, 0));
    return key;
  }
  // The key bytes, through the exported cipher key blob (layout checked).
  static Bytes key_bytes(NCRYPT_KEY_HANDLE key) {
    const Bytes blob = export_key(key, NCRYPT_CIPHER_KEY_BLOB);
    EXPECT_GE(blob.size(), 16u + 8u + 12u);
    if (blob.size() < 36) {
      return {};
    }
    const std::size_t key_len = blob.size() - 36;
    EXPECT_EQ(blob,
              cipher_key_blob(u"AES", Bytes(blob.end() - static_cast<long>(key_len), blob.end())));
    return Bytes(blob.end() - static_cast<long>(key_len), blob.end());
  }
};

TEST_F(AesKeyTest, SupportedAndEnumeratedAsCipher) {
  EXPECT_OK(NCryptIsAlgSupported(provider_, NCRYPT_AES_ALGORITHM, 0));
  EXPECT_OK(NCryptIsAlgSupported(provider_, NCRYPT_GENERIC_SECRET_ALGORITHM, 0));
  DWORD count = 0;
  NCryptAlgorithmName* list = nullptr;
  ASSERT_OK(NCryptEnumAlgorithms(provider_, NCRYPT_CIPHER_OPERATION, &count, &list, 0));
  ASSERT_EQ(count, 1u);
  EXPECT_EQ(std::u16string(list[0].pszName), u"AES");
  EXPECT_EQ(list[0].dwClass, static_cast<DWORD>(NCRYPT_CIPHER_INTERFACE));
  EXPECT_OK(NCryptFreeBuffer(list));
}

TEST_F(AesKeyTest, PropertiesOfANewKey) {
  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_OK(NCryptCreatePersistedKey(provider_, &key, NCRYPT_AES_ALGORITHM, u"aes", 0, 0));
  EXPECT_EQ(dword_property(key, NCRYPT_LENGTH_PROPERTY), 256u);  // default
  NCRYPT_SUPPORTED_LENGTHS lengths{};
  DWORD size = 0;
  ASSERT_OK(NCryptGetProperty(key, NCRYPT_LENGTHS_PROPERTY, reinterpret_cast<PBYTE>(&lengths),
                              sizeof lengths, &size, 0));
  EXPECT_EQ(lengths.dwMinLength, 128u);
  EXPECT_EQ(lengths.dwMaxLength, 256u);
  EXPECT_EQ(lengths.dwIncrement, 64u);
  EXPECT_EQ(lengths.dwDefaultLength, 256u);
  for (const DWORD bad : {0u, 64u, 129u, 320u, 512u}) {
    EXPECT_STATUS(NTE_INVALID_PARAMETER, set_dword(key, NCRYPT_LENGTH_PROPERTY, bad));
  }
  ASSERT_OK(set_dword(key, NCRYPT_LENGTH_PROPERTY, 192));
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  EXPECT_EQ(dword_property(key, NCRYPT_LENGTH_PROPERTY), 192u);
  EXPECT_EQ(string_property(key, NCRYPT_ALGORITHM_PROPERTY), u"AES");
  EXPECT_EQ(string_property(key, NCRYPT_ALGORITHM_GROUP_PROPERTY), u"AES");
  EXPECT_EQ(dword_property(key, NCRYPT_BLOCK_LENGTH_PROPERTY), 16u);
  EXPECT_EQ(string_property(key, NCRYPT_CHAINING_MODE_PROPERTY), BCRYPT_CHAIN_MODE_CBC);
  EXPECT_STATUS(NTE_PERM, set_dword(key, NCRYPT_LENGTH_PROPERTY, 128));
  EXPECT_STATUS(NTE_NOT_SUPPORTED,
                NCryptGetProperty(key, NCRYPT_PUBLIC_LENGTH_PROPERTY, nullptr, 0, &size, 0));
  EXPECT_STATUS(NTE_NOT_SUPPORTED,
                NCryptGetProperty(key, NCRYPT_ECC_CURVE_NAME_PROPERTY, nullptr, 0, &size, 0));
  // Chaining mode: per handle, settable after finalize; unknown and unsupported values.
  EXPECT_OK(set_mode(key, BCRYPT_CHAIN_MODE_GCM));
  EXPECT_EQ(string_property(key, NCRYPT_CHAINING_MODE_PROPERTY), BCRYPT_CHAIN_MODE_GCM);
  EXPECT_STATUS(NTE_NOT_SUPPORTED, set_mode(key, BCRYPT_CHAIN_MODE_CFB));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, set_mode(key, u"ChainingModeXYZ"));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, set_dword(key, NCRYPT_BLOCK_LENGTH_PROPERTY, 32));
  NCRYPT_KEY_HANDLE again = 0;
  ASSERT_OK(NCryptOpenKey(provider_, &again, u"aes", 0, 0));
  EXPECT_EQ(string_property(again, NCRYPT_CHAINING_MODE_PROPERTY), BCRYPT_CHAIN_MODE_CBC);
  EXPECT_OK(NCryptFreeObject(again));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(AesKeyTest, PersistedKeySurvivesANewProviderHandle) {
  const NCRYPT_KEY_HANDLE key = exportable_aes(u"persisted", 128);
  const char16_t custom[] = u"CKA_LABEL";
  Bytes label = text("my label");
  ASSERT_OK(NCryptSetProperty(key, custom, label.data(), static_cast<DWORD>(label.size()),
                              NCRYPT_PERSIST_FLAG));
  const Bytes secret = key_bytes(key);
  ASSERT_EQ(secret.size(), 16u);
  const Bytes plain = random_bytes(48);
  CipherInfo iv(Bytes(16, 7));
  Bytes cipher;
  ASSERT_OK(aes_call(true, key, plain, iv.get(), cipher));
  EXPECT_EQ(cipher, ref_cipher("AES-128-CBC", secret, Bytes(16, 7), plain, true, false));
  EXPECT_OK(NCryptFreeObject(key));
  EXPECT_EQ(file_count(user_dir()), 1u);

  NCRYPT_PROV_HANDLE other = 0;
  ASSERT_OK(NCryptOpenStorageProvider(&other, MS_KEY_STORAGE_PROVIDER, 0));
  NCRYPT_KEY_HANDLE reopened = 0;
  ASSERT_OK(NCryptOpenKey(other, &reopened, u"persisted", 0, 0));
  EXPECT_EQ(string_property(reopened, NCRYPT_ALGORITHM_PROPERTY), u"AES");
  EXPECT_EQ(dword_property(reopened, NCRYPT_LENGTH_PROPERTY), 128u);
  DWORD size = 0;
  Bytes value(32);
  ASSERT_OK(NCryptGetProperty(reopened, custom, value.data(), 32, &size, 0));
  value.resize(size);
  EXPECT_EQ(value, label);
  CipherInfo div(Bytes(16, 7));
  Bytes back;
  ASSERT_OK(aes_call(false, reopened, cipher, div.get(), back));
  EXPECT_EQ(back, plain);
  EXPECT_EQ(key_bytes(reopened), secret);
  // Enumeration lists it with its algorithm.
  NCryptKeyName* name = nullptr;
  PVOID state = nullptr;
  ASSERT_OK(NCryptEnumKeys(other, nullptr, &name, &state, 0));
  EXPECT_EQ(std::u16string(name->pszAlgid), u"AES");
  EXPECT_OK(NCryptFreeBuffer(name));
  EXPECT_OK(NCryptFreeBuffer(state));
  EXPECT_OK(NCryptDeleteKey(reopened, 0));
  EXPECT_EQ(file_count(user_dir()), 0u);
  EXPECT_OK(NCryptFreeObject(other));
}

TEST_F(AesKeyTest, MachineAndUserScopesAreSeparate) {
  const NCRYPT_KEY_HANDLE machine = exportable_aes(u"scoped", 256, NCRYPT_MACHINE_KEY_FLAG);
  EXPECT_EQ(file_count(machine_dir()), 1u);
  EXPECT_EQ(file_count(user_dir()), 0u);
  EXPECT_EQ(dword_property(machine, NCRYPT_KEY_TYPE_PROPERTY),
            static_cast<DWORD>(NCRYPT_MACHINE_KEY_FLAG));
  NCRYPT_KEY_HANDLE h = 0;
  EXPECT_STATUS(NTE_BAD_KEYSET, NCryptOpenKey(provider_, &h, u"scoped", 0, 0));
  ASSERT_OK(NCryptOpenKey(provider_, &h, u"scoped", 0, NCRYPT_MACHINE_KEY_FLAG));
  EXPECT_EQ(key_bytes(h), key_bytes(machine));
  // The same name in the user scope is another key.
  const NCRYPT_KEY_HANDLE user = exportable_aes(u"scoped", 256);
  EXPECT_NE(key_bytes(user), key_bytes(machine));
  for (const auto k : {h, user, machine}) {
    EXPECT_OK(NCryptFreeObject(k));
  }
}

TEST_F(AesKeyTest, ExportNeedsPlaintextExportPolicy) {
  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_OK(NCryptCreatePersistedKey(provider_, &key, NCRYPT_AES_ALGORITHM, nullptr, 0, 0));
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  Bytes out;
  EXPECT_STATUS(NTE_NOT_SUPPORTED, try_export(key, NCRYPT_CIPHER_KEY_BLOB, out));
  EXPECT_OK(NCryptFreeObject(key));
  ASSERT_OK(NCryptCreatePersistedKey(provider_, &key, NCRYPT_AES_ALGORITHM, nullptr, 0, 0));
  ASSERT_OK(set_dword(key, NCRYPT_EXPORT_POLICY_PROPERTY, NCRYPT_ALLOW_EXPORT_FLAG));
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, try_export(key, NCRYPT_CIPHER_KEY_BLOB, out));
  EXPECT_OK(NCryptFreeObject(key));

  const NCRYPT_KEY_HANDLE ok = exportable_aes(nullptr, 128);
  for (const char16_t* wrong : {BCRYPT_PUBLIC_KEY_BLOB, BCRYPT_PRIVATE_KEY_BLOB,
                                NCRYPT_PKCS8_PRIVATE_KEY_BLOB, BCRYPT_RSAPUBLIC_BLOB}) {
    EXPECT_STATUS(NTE_BAD_TYPE, try_export(ok, wrong, out));
  }
  DWORD size = 0;
  ASSERT_OK(NCryptExportKey(ok, 0, NCRYPT_CIPHER_KEY_BLOB, nullptr, nullptr, 0, &size, 0));
  EXPECT_EQ(size, 16u + 8u + 12u + 16u);  // header, u"AES\0", key data header, key
  out.assign(size - 1, 0);
  EXPECT_STATUS(NTE_BUFFER_TOO_SMALL, NCryptExportKey(ok, 0, NCRYPT_CIPHER_KEY_BLOB, nullptr,
                                                      out.data(), size - 1, &size, 0));
  EXPECT_OK(NCryptFreeObject(ok));
  // RSA keys do not export as a cipher key blob.
  const NCRYPT_KEY_HANDLE rsa =
      create_key(u"RSA", nullptr, 0, true, 0, NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG);
  EXPECT_STATUS(NTE_BAD_TYPE, try_export(rsa, NCRYPT_CIPHER_KEY_BLOB, out));
  EXPECT_OK(NCryptFreeObject(rsa));
}

TEST_F(AesKeyTest, ImportNamedKeyWithDoNotFinalize) {
  const Bytes secret = random_bytes(32);
  Bytes blob = cipher_key_blob(u"AES", secret);
  std::u16string name = u"imported";
  NCryptBuffer buffer{static_cast<ULONG>((name.size() + 1) * 2), NCRYPTBUFFER_PKCS_KEY_NAME,
                      name.data()};
  NCryptBufferDesc params{NCRYPTBUFFER_VERSION, 1, &buffer};
  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_OK(NCryptImportKey(provider_, 0, NCRYPT_CIPHER_KEY_BLOB, &params, &key, blob.data(),
                            static_cast<DWORD>(blob.size()), NCRYPT_DO_NOT_FINALIZE_FLAG));
  EXPECT_EQ(file_count(user_dir()), 0u);
  ASSERT_OK(set_dword(key, NCRYPT_EXPORT_POLICY_PROPERTY, NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG));
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  EXPECT_EQ(file_count(user_dir()), 1u);
  EXPECT_EQ(dword_property(key, NCRYPT_LENGTH_PROPERTY), 256u);
  EXPECT_EQ(key_bytes(key), secret);
  EXPECT_OK(NCryptFreeObject(key));
  NCRYPT_KEY_HANDLE again = 0;
  EXPECT_STATUS(NTE_EXISTS, NCryptImportKey(provider_, 0, NCRYPT_CIPHER_KEY_BLOB, &params, &again,
                                            blob.data(), static_cast<DWORD>(blob.size()), 0));
  ASSERT_OK(NCryptOpenKey(provider_, &again, u"imported", 0, 0));
  CipherInfo none({});
  ASSERT_OK(set_mode(again, BCRYPT_CHAIN_MODE_ECB));
  Bytes out;
  ASSERT_OK(aes_call(true, again, Bytes(16, 0), none.get(), out));
  EXPECT_EQ(out, ref_cipher("AES-256-ECB", secret, {}, Bytes(16, 0), true, false));
  EXPECT_OK(NCryptFreeObject(again));
}

TEST_F(AesKeyTest, ImportRejectsMalformedBlobs) {
  const Bytes good = cipher_key_blob(u"AES", random_bytes(16));
  auto import = [&](Bytes blob) {
    NCRYPT_KEY_HANDLE key = 0;
    const SECURITY_STATUS s = NCryptImportKey(provider_, 0, NCRYPT_CIPHER_KEY_BLOB, nullptr, &key,
                                              blob.data(), static_cast<DWORD>(blob.size()), 0);
    if (s == ERROR_SUCCESS) {
      NCryptFreeObject(key);
    }
    return s;
  };
  EXPECT_OK(import(good));
  Bytes b = good;
  b[4] ^= 1;  // outer magic
  EXPECT_STATUS(NTE_INVALID_PARAMETER, import(b));
  b = good;
  b[0] = 20;  // cbSize
  EXPECT_STATUS(NTE_BAD_DATA, import(b));
  b = good;
  b.pop_back();  // truncated
  EXPECT_STATUS(NTE_BAD_DATA, import(b));
  b = good;
  b[24] ^= 1;  // inner magic (after 16-byte header and u"AES\0")
  EXPECT_STATUS(NTE_BAD_DATA, import(b));
  b = good;
  b[28] = 2;  // inner version
  EXPECT_STATUS(NTE_BAD_DATA, import(b));
  EXPECT_STATUS(NTE_BAD_DATA, import(Bytes(good.begin(), good.begin() + 10)));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, import(cipher_key_blob(u"AES", random_bytes(20))));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, import(cipher_key_blob(u"DES", random_bytes(8))));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, import(cipher_key_blob(u"RSA", random_bytes(16))));
}

}  // namespace
}  // namespace ncrypt_test
