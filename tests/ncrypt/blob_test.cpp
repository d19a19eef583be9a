// NCryptExportKey (export policy) and NCryptImportKey (named / ephemeral / overwrite / machine /
// NCRYPT_DO_NOT_FINALIZE_FLAG).
#include <algorithm>

#include "ncrypt_test_support.h"
#include "openssl_check.h"

namespace ncrypt_test {
namespace {

class BlobTest : public NCryptTest {
 protected:
  SECURITY_STATUS import(const char16_t* blob_type, const Bytes& data, NCRYPT_KEY_HANDLE& key,
                         const char16_t* name = nullptr, DWORD flags = 0) {
    std::u16string n = name != nullptr ? name : u"";
    NCryptBuffer buffer{static_cast<ULONG>((n.size() + 1) * 2), NCRYPTBUFFER_PKCS_KEY_NAME,
                        n.data()};
    NCryptBufferDesc desc{NCRYPTBUFFER_VERSION, 1, &buffer};
    return NCryptImportKey(provider_, 0, blob_type, name != nullptr ? &desc : nullptr, &key,
                           const_cast<PBYTE>(data.data()), static_cast<DWORD>(data.size()), flags);
  }
};

TEST_F(BlobTest, PublicBlobsAlwaysExportablePrivateNeedsPlaintextPolicy) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", u"locked");
  Bytes out;
  EXPECT_OK(try_export(key, BCRYPT_ECCPUBLIC_BLOB, out));
  EXPECT_EQ(out.size(), 8u + 64u);
  EXPECT_OK(try_export(key, BCRYPT_PUBLIC_KEY_BLOB, out));
  for (const char16_t* priv :
       {BCRYPT_ECCPRIVATE_BLOB, BCRYPT_PRIVATE_KEY_BLOB, NCRYPT_PKCS8_PRIVATE_KEY_BLOB}) {
    EXPECT_STATUS(NTE_NOT_SUPPORTED, try_export(key, priv, out));
  }
  EXPECT_STATUS(NTE_BAD_TYPE, try_export(key, BCRYPT_RSAPUBLIC_BLOB, out));
  EXPECT_STATUS(NTE_BAD_TYPE, try_export(key, u"NoSuchBlob", out));
  DWORD size = 0;
  EXPECT_STATUS(NTE_BAD_FLAGS, NCryptExportKey(key, 0, BCRYPT_ECCPUBLIC_BLOB, nullptr, nullptr, 0,
                                               &size, NCRYPT_MACHINE_KEY_FLAG));
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptExportKey(key, 0, nullptr, nullptr, nullptr, 0, &size, 0));
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptExportKey(key, 0, BCRYPT_ECCPUBLIC_BLOB, nullptr, nullptr, 0, nullptr, 0));
  Bytes small(10);
  EXPECT_STATUS(NTE_BUFFER_TOO_SMALL, NCryptExportKey(key, 0, BCRYPT_ECCPUBLIC_BLOB, nullptr,
                                                      small.data(), 10, &size, 0));
  EXPECT_EQ(size, 72u);
  // ALLOW_EXPORT alone (encrypted export) is not enough for plaintext.
  const NCRYPT_KEY_HANDLE wrapped_only =
      create_key(u"ECDSA_P256", nullptr, 0, true, 0, NCRYPT_ALLOW_EXPORT_FLAG);
  EXPECT_STATUS(NTE_NOT_SUPPORTED, try_export(wrapped_only, BCRYPT_ECCPRIVATE_BLOB, out));
  EXPECT_OK(NCryptFreeObject(wrapped_only));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(BlobTest, PlaintextExportableKeyRoundTripsThroughImport) {
  const NCRYPT_KEY_HANDLE key =
      create_key(u"RSA", nullptr, 0, true, 0, NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG);
  const Bytes full = export_key(key, BCRYPT_RSAFULLPRIVATE_BLOB);
  const Bytes priv = export_key(key, BCRYPT_RSAPRIVATE_BLOB);
  EXPECT_EQ(priv.size(), 283u);  // RSA-1024 sizes observed on Windows
  EXPECT_EQ(full.size(), 603u);
  const Bytes pkcs8 = export_key(key, NCRYPT_PKCS8_PRIVATE_KEY_BLOB);
  EXPECT_TRUE(pkey_from_pkcs8(pkcs8));
  const Bytes pub = export_key(key, BCRYPT_RSAPUBLIC_BLOB);

  NCRYPT_KEY_HANDLE imported = 0;
  ASSERT_OK(import(BCRYPT_RSAPRIVATE_BLOB, priv, imported));
  EXPECT_EQ(export_key(imported, BCRYPT_RSAPUBLIC_BLOB), pub);
  EXPECT_EQ(dword_property(imported, NCRYPT_EXPORT_POLICY_PROPERTY), 0u);  // Windows default
  EXPECT_EQ(file_count(user_dir()), 0u);                                   // no name: ephemeral
  EXPECT_OK(NCryptFreeObject(imported));
  ASSERT_OK(import(NCRYPT_PKCS8_PRIVATE_KEY_BLOB, pkcs8, imported));
  EXPECT_EQ(export_key(imported, BCRYPT_RSAPUBLIC_BLOB), pub);
  EXPECT_OK(NCryptFreeObject(imported));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(BlobTest, NamedImportIsPersistedWithExistsAndOverwrite) {
  const NCRYPT_KEY_HANDLE source =
      create_key(u"ECDSA_P384", nullptr, 0, true, 0, NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG);
  const Bytes pkcs8 = export_key(source, NCRYPT_PKCS8_PRIVATE_KEY_BLOB);
  const Bytes pub = export_key(source, BCRYPT_ECCPUBLIC_BLOB);
  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_OK(import(NCRYPT_PKCS8_PRIVATE_KEY_BLOB, pkcs8, key, u"imported"));
  EXPECT_OK(NCryptFreeObject(key));
  EXPECT_EQ(file_count(user_dir()), 1u);
  EXPECT_STATUS(NTE_EXISTS, import(NCRYPT_PKCS8_PRIVATE_KEY_BLOB, pkcs8, key, u"imported"));
  EXPECT_OK(
      import(NCRYPT_PKCS8_PRIVATE_KEY_BLOB, pkcs8, key, u"imported", NCRYPT_OVERWRITE_KEY_FLAG));
  EXPECT_OK(NCryptFreeObject(key));
  ASSERT_OK(
      import(NCRYPT_PKCS8_PRIVATE_KEY_BLOB, pkcs8, key, u"imported", NCRYPT_MACHINE_KEY_FLAG));
  EXPECT_EQ(dword_property(key, NCRYPT_KEY_TYPE_PROPERTY), DWORD{NCRYPT_MACHINE_KEY_FLAG});
  EXPECT_OK(NCryptFreeObject(key));
  EXPECT_EQ(file_count(machine_dir()), 1u);

  ASSERT_OK(NCryptOpenKey(provider_, &key, u"imported", 0, 0));
  // A PKCS#8 EC key does not say whether it is for ECDSA or ECDH; as on Windows it may come
  // back labelled ECDH (which can also sign), so compare the point, not the magic.
  const Bytes reopened_pub = export_key(key, BCRYPT_ECCPUBLIC_BLOB);
  ASSERT_EQ(reopened_pub.size(), pub.size());
  EXPECT_TRUE(std::equal(pub.begin() + 4, pub.end(), reopened_pub.begin() + 4));
  Bytes hash = digest("SHA384", "imported key signs");
  BYTE sig[96];
  DWORD size = 0;
  ASSERT_OK(NCryptSignHash(key, nullptr, hash.data(), 48, sig, sizeof sig, &size, 0));
  const Pkey pkey = pkey_from_bcrypt_public(pub);
  EXPECT_TRUE(verify_ecdsa_raw(pkey.get(), hash, Bytes(sig, sig + size)));
  EXPECT_OK(NCryptFreeObject(key));
  EXPECT_OK(NCryptFreeObject(source));
}

TEST_F(BlobTest, DoNotFinalizeAllowsSettingExportPolicy) {
  const NCRYPT_KEY_HANDLE source =
      create_key(u"ECDSA_P256", nullptr, 0, true, 0, NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG);
  const Bytes pkcs8 = export_key(source, NCRYPT_PKCS8_PRIVATE_KEY_BLOB);
  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_OK(import(NCRYPT_PKCS8_PRIVATE_KEY_BLOB, pkcs8, key, u"pfx-style",
                   NCRYPT_DO_NOT_FINALIZE_FLAG | NCRYPT_OVERWRITE_KEY_FLAG));
  EXPECT_EQ(file_count(user_dir()), 0u);
  Bytes out;
  EXPECT_STATUS(NTE_BAD_KEY_STATE, try_export(key, BCRYPT_ECCPUBLIC_BLOB, out));
  ASSERT_OK(set_dword(key, NCRYPT_EXPORT_POLICY_PROPERTY, NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG,
                      NCRYPT_PERSIST_FLAG));
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  EXPECT_EQ(file_count(user_dir()), 1u);
  EXPECT_OK(NCryptFreeObject(key));
  ASSERT_OK(NCryptOpenKey(provider_, &key, u"pfx-style", 0, 0));
  EXPECT_EQ(dword_property(key, NCRYPT_EXPORT_POLICY_PROPERTY),
            DWORD{NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG});
  EXPECT_OK(try_export(key, BCRYPT_ECCPRIVATE_BLOB, out));
  EXPECT_OK(NCryptFreeObject(key));
  EXPECT_OK(NCryptFreeObject(source));
}

TEST_F(BlobTest, ImportArgumentsAndFlags) {
  const NCRYPT_KEY_HANDLE source = create_key(u"ECDSA_P256", nullptr);
  const Bytes pub = export_key(source, BCRYPT_ECCPUBLIC_BLOB);
  NCRYPT_KEY_HANDLE key = 0;
  // Windows: NCryptImportKey(..., 49) → NTE_BAD_FLAGS.
  EXPECT_STATUS(NTE_BAD_FLAGS, import(BCRYPT_ECCPUBLIC_BLOB, pub, key, nullptr, 49));
  EXPECT_STATUS(NTE_BAD_FLAGS,
                import(BCRYPT_ECCPUBLIC_BLOB, pub, key, nullptr, NCRYPT_USE_PER_BOOT_KEY_FLAG));
  EXPECT_STATUS(NTE_VBS_UNAVAILABLE,
                import(BCRYPT_ECCPUBLIC_BLOB, pub, key, nullptr, NCRYPT_REQUIRE_VBS_FLAG));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, import(nullptr, pub, key));
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptImportKey(provider_, 0, BCRYPT_ECCPUBLIC_BLOB, nullptr, &key, nullptr, 0, 0));
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptImportKey(provider_, 0, BCRYPT_ECCPUBLIC_BLOB, nullptr, nullptr,
                                const_cast<PBYTE>(pub.data()), static_cast<DWORD>(pub.size()), 0));
  Bytes bad_magic = pub;
  bad_magic[0] ^= 0xFF;
  EXPECT_NE(import(BCRYPT_ECCPUBLIC_BLOB, bad_magic, key), ERROR_SUCCESS);
  Bytes truncated(pub.begin(), pub.end() - 5);
  EXPECT_NE(import(BCRYPT_ECCPUBLIC_BLOB, truncated, key), ERROR_SUCCESS);
  // A public key imports as an ephemeral key that verifies but cannot sign.
  ASSERT_OK(import(BCRYPT_ECCPUBLIC_BLOB, pub, key));
  Bytes hash(32, 5);
  BYTE sig[64];
  DWORD size = 0;
  EXPECT_NE(NCryptSignHash(key, nullptr, hash.data(), 32, sig, sizeof sig, &size, 0),
            ERROR_SUCCESS);
  ASSERT_OK(NCryptSignHash(source, nullptr, hash.data(), 32, sig, sizeof sig, &size, 0));
  EXPECT_OK(NCryptVerifySignature(key, nullptr, hash.data(), 32, sig, size, 0));
  EXPECT_OK(NCryptFreeObject(key));
  EXPECT_OK(NCryptFreeObject(source));
}

// A named public blob is persisted as a public-only key. Windows' software KSP behaviour for
// this case is not documented; this model persists (the PKCS#11 module stores token public
// keys this way), see PersistedPublicOnlyKeyLifecycle.
TEST_F(BlobTest, PersistedPublicOnlyKeyLifecycle) {
  for (const auto& [alg, blob_type] :
       {std::pair{u"RSA", BCRYPT_RSAPUBLIC_BLOB}, std::pair{u"ECDSA_P384", BCRYPT_ECCPUBLIC_BLOB},
        std::pair{u"ECDH_P256", BCRYPT_PUBLIC_KEY_BLOB}}) {
    SCOPED_TRACE(std::string(alg, alg + std::char_traits<char16_t>::length(alg)).c_str());
    const NCRYPT_KEY_HANDLE source = create_key(alg, nullptr);
    const Bytes pub = export_key(source, blob_type);
    NCRYPT_KEY_HANDLE key = 0;
    // Not finalized: custom properties go in first, the file is written at finalize.
    ASSERT_OK(import(blob_type, pub, key, u"public-only", NCRYPT_DO_NOT_FINALIZE_FLAG));
    EXPECT_EQ(file_count(user_dir()), 0u);
    const Bytes marker = {2, 0, 0, 0};
    ASSERT_OK(NCryptSetProperty(key, u"PKCS11 Class", const_cast<PBYTE>(marker.data()),
                                static_cast<DWORD>(marker.size()), NCRYPT_PERSIST_FLAG));
    ASSERT_OK(NCryptFinalizeKey(key, 0));
    EXPECT_EQ(file_count(user_dir()), 1u);
    EXPECT_OK(NCryptFreeObject(key));
    // The name is taken now, as for any persisted key.
    EXPECT_STATUS(NTE_EXISTS, import(blob_type, pub, key, u"public-only"));

    // Listed by NCryptEnumKeys with its algorithm.
    NCryptKeyName* item = nullptr;
    void* state = nullptr;
    ASSERT_OK(NCryptEnumKeys(provider_, nullptr, &item, &state, 0));
    EXPECT_EQ(std::u16string(item->pszName), u"public-only");
    EXPECT_EQ(std::u16string(item->pszAlgid), string_property(source, NCRYPT_ALGORITHM_PROPERTY));
    EXPECT_OK(NCryptFreeBuffer(item));
    item = nullptr;
    EXPECT_STATUS(NTE_NO_MORE_ITEMS, NCryptEnumKeys(provider_, nullptr, &item, &state, 0));
    EXPECT_OK(NCryptFreeBuffer(state));

    // Opened again: the public blob and the custom property come back.
    ASSERT_OK(NCryptOpenKey(provider_, &key, u"public-only", 0, 0));
    EXPECT_EQ(export_key(key, blob_type), pub);
    EXPECT_EQ(string_property(key, NCRYPT_ALGORITHM_PROPERTY),
              string_property(source, NCRYPT_ALGORITHM_PROPERTY));
    BYTE stored[8] = {};
    DWORD size = 0;
    ASSERT_OK(NCryptGetProperty(key, u"PKCS11 Class", stored, sizeof stored, &size, 0));
    EXPECT_EQ(Bytes(stored, stored + size), marker);
    // Private operations are refused (as for an ephemeral public key); private export too.
    Bytes out;
    EXPECT_NE(try_export(key, BCRYPT_PRIVATE_KEY_BLOB, out), ERROR_SUCCESS);
    if (std::u16string_view(alg) != u"ECDH_P256") {
      Bytes hash(32, 9);
      BYTE sig[1024];
      EXPECT_STATUS(NTE_INVALID_PARAMETER,
                    NCryptSignHash(key, nullptr, hash.data(), 32, sig, sizeof sig, &size, 0));
      // Public operations work: the source's signature verifies with the persisted key.
      BCRYPT_PKCS1_PADDING_INFO pkcs1{BCRYPT_SHA256_ALGORITHM};
      void* padding = std::u16string_view(alg) == u"RSA" ? &pkcs1 : nullptr;
      const DWORD pad_flag = padding != nullptr ? BCRYPT_PAD_PKCS1 : 0;
      ASSERT_OK(NCryptSignHash(source, padding, hash.data(), 32, sig, sizeof sig, &size, pad_flag));
      EXPECT_OK(NCryptVerifySignature(key, padding, hash.data(), 32, sig, size, pad_flag));
    } else {
      NCRYPT_SECRET_HANDLE secret = 0;
      EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptSecretAgreement(key, source, &secret, 0));
    }
    // NCryptDeleteKey removes it.
    ASSERT_OK(NCryptDeleteKey(key, 0));
    EXPECT_EQ(file_count(user_dir()), 0u);
    EXPECT_STATUS(NTE_BAD_KEYSET, NCryptOpenKey(provider_, &key, u"public-only", 0, 0));
    EXPECT_OK(NCryptFreeObject(source));
  }
}

TEST_F(BlobTest, PublicOnlyKeyOverwritesAKeyPairOfTheSameName) {
  // NCRYPT_OVERWRITE_KEY_FLAG replaces a key pair by its public half in one step (what the
  // PKCS#11 module does when only the private key object of a token pair is destroyed).
  NCRYPT_KEY_HANDLE pair = create_key(u"ECDSA_P256", u"pair");
  const Bytes pub = export_key(pair, BCRYPT_ECCPUBLIC_BLOB);
  EXPECT_OK(NCryptFreeObject(pair));
  NCRYPT_KEY_HANDLE key = 0;
  EXPECT_STATUS(NTE_EXISTS, import(BCRYPT_ECCPUBLIC_BLOB, pub, key, u"pair"));
  ASSERT_OK(import(BCRYPT_ECCPUBLIC_BLOB, pub, key, u"pair", NCRYPT_OVERWRITE_KEY_FLAG));
  EXPECT_OK(NCryptFreeObject(key));
  EXPECT_EQ(file_count(user_dir()), 1u);
  ASSERT_OK(NCryptOpenKey(provider_, &key, u"pair", 0, 0));
  EXPECT_EQ(export_key(key, BCRYPT_ECCPUBLIC_BLOB), pub);
  Bytes hash(32, 3);
  BYTE sig[64];
  DWORD size = 0;
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptSignHash(key, nullptr, hash.data(), 32, sig, sizeof sig, &size, 0));
  EXPECT_OK(NCryptDeleteKey(key, 0));
}

}  // namespace
}  // namespace ncrypt_test
