// Software keys at rest through the NCrypt API (cng_key_protection.h): no private key bytes in
// any file of a store, rekey keeping every key usable (OpenSSL verifies), a store moved with and
// without its keyring. Private values come from OpenSSL: keys it generates and we import, and
// the PKCS#8 of keys we generate, parsed by OpenSSL into scalars and primes.
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "cng_key_protection.h"
#include "ncrypt_test_support.h"
#include "openssl_check.h"

namespace ncrypt_test {
namespace {

namespace fs = std::filesystem;

Bytes file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Every regular file below root holding needle.
std::vector<std::string> files_holding(const fs::path& root, const Bytes& needle) {
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) {
      continue;
    }
    const Bytes content = file_bytes(entry.path());
    if (std::search(content.begin(), content.end(), needle.begin(), needle.end()) !=
        content.end()) {
      out.push_back(entry.path().string());
    }
  }
  return out;
}

Bytes pkcs8_of(EVP_PKEY* key) {
  PKCS8_PRIV_KEY_INFO* info = EVP_PKEY2PKCS8(key);
  unsigned char* der = nullptr;
  const int n = info != nullptr ? i2d_PKCS8_PRIV_KEY_INFO(info, &der) : -1;
  Bytes out = n > 0 ? Bytes(der, der + n) : Bytes{};
  OPENSSL_free(der);
  PKCS8_PRIV_KEY_INFO_free(info);
  return out;
}

// A private BIGNUM parameter, big-endian, minimal length (OpenSSL's own encoding of it).
Bytes bn_param(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) {
    return {};
  }
  Bytes out(static_cast<std::size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  BN_clear_free(bn);
  return out;
}

Pkey generate(const char* type, const char* param) {
  EVP_PKEY* key = std::string_view(type) == "RSA"
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", param);
  return Pkey(key);
}

class AtRestTest : public NCryptTest {
 protected:
  void SetUp() override {
    if (testing_platform()) {
      GTEST_SKIP() << "software provider keys only (TPM keys are TPM-wrapped)";
    }
    NCryptTest::SetUp();
  }

  NCRYPT_KEY_HANDLE import_pkcs8(const Bytes& der, const char16_t* name) {
    std::u16string n = name;
    NCryptBuffer buffer{static_cast<ULONG>((n.size() + 1) * 2), NCRYPTBUFFER_PKCS_KEY_NAME,
                        n.data()};
    NCryptBufferDesc desc{NCRYPTBUFFER_VERSION, 1, &buffer};
    NCRYPT_KEY_HANDLE key = 0;
    EXPECT_OK(NCryptImportKey(provider_, 0, NCRYPT_PKCS8_PRIVATE_KEY_BLOB, &desc, &key,
                              const_cast<PBYTE>(der.data()), static_cast<DWORD>(der.size()), 0));
    return key;
  }

  // Signs a SHA-256 hash with the key and checks the signature with OpenSSL.
  void expect_signs(NCRYPT_KEY_HANDLE key, bool rsa) {
    const Bytes hash = digest("SHA256", "at rest");
    const Pkey pub = pkey_from_bcrypt_public(
        export_key(key, rsa ? BCRYPT_RSAPUBLIC_BLOB : BCRYPT_ECCPUBLIC_BLOB));
    ASSERT_TRUE(pub);
    BCRYPT_PKCS1_PADDING_INFO pkcs1{BCRYPT_SHA256_ALGORITHM};
    void* padding = rsa ? &pkcs1 : nullptr;
    const DWORD flags = rsa ? BCRYPT_PAD_PKCS1 : 0;
    DWORD size = 0;
    ASSERT_OK(NCryptSignHash(key, padding, const_cast<PBYTE>(hash.data()),
                             static_cast<DWORD>(hash.size()), nullptr, 0, &size, flags));
    Bytes sig(size);
    ASSERT_OK(NCryptSignHash(key, padding, const_cast<PBYTE>(hash.data()),
                             static_cast<DWORD>(hash.size()), sig.data(), size, &size, flags));
    sig.resize(size);
    EXPECT_TRUE(rsa ? verify_rsa(pub.get(), "SHA256", hash, sig)
                    : verify_ecdsa_raw(pub.get(), hash, sig));
  }

  cng::KeyProtectionStatus status() {
    cng::KeyProtectionStatus s;
    EXPECT_OK(cng::CngGetKeyProtectionStatus(provider_, 0, &s));
    return s;
  }
};

TEST_F(AtRestTest, NoFileOfTheStoreHoldsAnyPrivateKeyBytes) {
  // Keys OpenSSL made, imported from their PKCS#8.
  const Pkey rsa = generate("RSA", nullptr);
  const Pkey ec = generate("EC", "P-256");
  const Bytes rsa_der = pkcs8_of(rsa.get());
  const Bytes ec_der = pkcs8_of(ec.get());
  ASSERT_FALSE(rsa_der.empty());
  ASSERT_FALSE(ec_der.empty());
  EXPECT_OK(NCryptFreeObject(import_pkcs8(rsa_der, u"imported-rsa")));
  EXPECT_OK(NCryptFreeObject(import_pkcs8(ec_der, u"imported-ec")));
  // Keys we generate (exportable, so OpenSSL can tell us their private values), an AES key.
  const NCRYPT_KEY_HANDLE made_ec =
      create_key(u"ECDSA_P384", u"made-ec", 0, true, 0, NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG);
  const Pkey made = pkey_from_pkcs8(export_key(made_ec, NCRYPT_PKCS8_PRIVATE_KEY_BLOB));
  ASSERT_TRUE(made);
  const NCRYPT_KEY_HANDLE aes =
      create_key(u"AES", u"made-aes", 0, true, 0, NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG);
  const Bytes cipher_blob = export_key(aes, NCRYPT_CIPHER_KEY_BLOB);
  ASSERT_GE(cipher_blob.size(), 16u);
  // A property write (a rewrite of the file) keeps it encrypted.
  ASSERT_OK(NCryptSetProperty(made_ec, u"Label",
                              reinterpret_cast<PBYTE>(const_cast<char16_t*>(u"x")), 4,
                              NCRYPT_PERSIST_FLAG));

  std::vector<std::pair<const char*, Bytes>> needles = {
      {"RSA PKCS#8", rsa_der},
      {"EC PKCS#8", ec_der},
      {"RSA d", bn_param(rsa.get(), OSSL_PKEY_PARAM_RSA_D)},
      {"RSA p", bn_param(rsa.get(), OSSL_PKEY_PARAM_RSA_FACTOR1)},
      {"RSA q", bn_param(rsa.get(), OSSL_PKEY_PARAM_RSA_FACTOR2)},
      {"EC scalar", bn_param(ec.get(), OSSL_PKEY_PARAM_PRIV_KEY)},
      {"generated EC scalar", bn_param(made.get(), OSSL_PKEY_PARAM_PRIV_KEY)},
      {"generated EC PKCS#8", pkcs8_of(made.get())},
      // The last 16 bytes of the cipher key blob are key bytes whatever the AES length.
      {"AES key", Bytes(cipher_blob.end() - 16, cipher_blob.end())},
  };
  const fs::path root = user_dir().parent_path();  // both scopes and their keyrings
  for (const auto& [what, needle] : needles) {
    ASSERT_GE(needle.size(), 16u) << what;
    EXPECT_EQ(files_holding(root, needle), std::vector<std::string>{}) << what;
  }
  EXPECT_EQ(status().encrypted_keys, 4u);
  EXPECT_EQ(status().clear_keys, 0u);
  EXPECT_OK(NCryptFreeObject(made_ec));
  EXPECT_OK(NCryptFreeObject(aes));
}

TEST_F(AtRestTest, RekeyKeepsEveryKeyUsable) {
  NCRYPT_KEY_HANDLE rsa = create_key(u"RSA", u"rk-rsa", 0, true, 2048);
  NCRYPT_KEY_HANDLE ec = create_key(u"ECDSA_P256", u"rk-ec");
  const std::string before = status().master_key_id;
  ASSERT_EQ(before.size(), 32u);
  const std::string protector = status().protector;
  EXPECT_TRUE(protector == "file" || protector == "tpm-sealed") << protector;

  ASSERT_OK(cng::CngRekeyScope(provider_, 0));
  const cng::KeyProtectionStatus after = status();
  EXPECT_NE(after.master_key_id, before);
  EXPECT_EQ(after.protector, protector);
  EXPECT_EQ(after.encrypted_keys, 2u);
  expect_signs(rsa, true);  // handles opened before still work
  expect_signs(ec, false);
  EXPECT_OK(NCryptFreeObject(rsa));
  EXPECT_OK(NCryptFreeObject(ec));
  ASSERT_OK(NCryptOpenKey(provider_, &rsa, u"rk-rsa", 0, 0));
  ASSERT_OK(NCryptOpenKey(provider_, &ec, u"rk-ec", 0, 0));
  expect_signs(rsa, true);
  expect_signs(ec, false);
  EXPECT_OK(NCryptFreeObject(rsa));
  EXPECT_OK(NCryptFreeObject(ec));
}

TEST_F(AtRestTest, StoreMovedWithoutItsKeyringFailsPerKeyAndStillLists) {
  EXPECT_OK(NCryptFreeObject(create_key(u"ECDSA_P256", u"travel")));
  const TempDir elsewhere;
  fs::copy(user_dir(), elsewhere.path() / "user", fs::copy_options::recursive);
  fs::copy(fs::path(user_dir().string() + ".keyring"), elsewhere.path() / "with.keyring",
           fs::copy_options::recursive);
  fs::copy(user_dir(), elsewhere.path() / "with", fs::copy_options::recursive);
  const std::string original = user_dir().string();

  // Without the keyring: opens and lists, every private use says why it cannot.
  ::setenv("CNG_PKCS11_USER_DIR", (elsewhere.path() / "user").c_str(), 1);
  NCRYPT_PROV_HANDLE moved = 0;
  ASSERT_OK(NCryptOpenStorageProvider(&moved, MS_KEY_STORAGE_PROVIDER, 0));
  NCryptKeyName* item = nullptr;
  PVOID state = nullptr;
  ASSERT_OK(NCryptEnumKeys(moved, nullptr, &item, &state, 0));
  EXPECT_EQ(std::u16string(item->pszName), u"travel");
  NCryptFreeBuffer(item);
  NCryptFreeBuffer(state);
  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_OK(NCryptOpenKey(moved, &key, u"travel", 0, 0));
  const Bytes hash(32, 7);
  DWORD size = 0;
  EXPECT_STATUS(NTE_BAD_KEY_STATE, NCryptSignHash(key, nullptr, const_cast<PBYTE>(hash.data()), 32,
                                                  nullptr, 0, &size, 0));
  EXPECT_OK(NCryptDeleteKey(key, 0));  // still deletable
  EXPECT_OK(NCryptFreeObject(moved));

  // With it: works.
  ::setenv("CNG_PKCS11_USER_DIR", (elsewhere.path() / "with").c_str(), 1);
  ASSERT_OK(NCryptOpenStorageProvider(&moved, MS_KEY_STORAGE_PROVIDER, 0));
  ASSERT_OK(NCryptOpenKey(moved, &key, u"travel", 0, 0));
  expect_signs(key, false);
  EXPECT_OK(NCryptFreeObject(key));
  EXPECT_OK(NCryptFreeObject(moved));
  ::setenv("CNG_PKCS11_USER_DIR", original.c_str(), 1);
}

}  // namespace
}  // namespace ncrypt_test
