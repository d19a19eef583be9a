// Per-key authentication (api/key_auth.h): a key whose UI policy protects it, or that got a
// PIN before finalize, refuses silent private use (NTE_SILENT_CONTEXT, what Windows gives for
// a UI-protected key used silently) and performs ONE private operation per
// NCRYPT_PIN_PROPERTY. Signatures are checked with OpenSSL on the exported public blob. Runs on
// the software provider and (run_on_platform.sh) on the platform provider, where the TPM
// itself checks a key's PIN at use.
#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>

#include "cng_scope_pin.h"
#include "ncrypt_test_support.h"
#include "openssl_check.h"

namespace ncrypt_test {
namespace {

class KeyAuthTest : public NCryptTest {
 protected:
  static SECURITY_STATUS set_pin(NCRYPT_KEY_HANDLE key, const std::u16string& pin) {
    return NCryptSetProperty(key, NCRYPT_PIN_PROPERTY,
                             reinterpret_cast<PBYTE>(const_cast<char16_t*>(pin.c_str())),
                             static_cast<DWORD>((pin.size() + 1) * sizeof(char16_t)), 0);
  }
  static SECURITY_STATUS set_ui_policy(NCRYPT_KEY_HANDLE key, DWORD flags) {
    NCRYPT_UI_POLICY policy{1, flags, nullptr, u"protected key", nullptr};
    return NCryptSetProperty(key, NCRYPT_UI_POLICY_PROPERTY, reinterpret_cast<PBYTE>(&policy),
                             sizeof policy, 0);
  }
  // One NCryptSignHash into a buffer of the key's signature size.
  static SECURITY_STATUS sign(NCRYPT_KEY_HANDLE key, void* padding, DWORD flags, const Bytes& hash,
                              Bytes& sig) {
    DWORD size = 0;
    const SECURITY_STATUS query =
        NCryptSignHash(key, padding, const_cast<PBYTE>(hash.data()),
                       static_cast<DWORD>(hash.size()), nullptr, 0, &size, flags);
    if (query != ERROR_SUCCESS) {
      return query;
    }
    sig.assign(size, 0);
    const SECURITY_STATUS status =
        NCryptSignHash(key, padding, const_cast<PBYTE>(hash.data()),
                       static_cast<DWORD>(hash.size()), sig.data(), size, &size, flags);
    sig.resize(size);
    return status;
  }
  NCRYPT_KEY_HANDLE protected_ecdsa_key(const char16_t* name, DWORD ui_flags) {
    const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", name, 0, false);
    EXPECT_OK(set_ui_policy(key, ui_flags));
    EXPECT_OK(NCryptFinalizeKey(key, 0));
    return key;
  }
};

TEST_F(KeyAuthTest, UiProtectedKeyRefusesSilentUseAndSignsOnceWithPin) {
  const NCRYPT_KEY_HANDLE key = protected_ecdsa_key(u"ui-protected", NCRYPT_UI_PROTECT_KEY_FLAG);
  const Pkey pub = pkey_from_bcrypt_public(export_key(key, BCRYPT_ECCPUBLIC_BLOB));
  ASSERT_TRUE(pub);
  const Bytes hash = digest("SHA256", "consent needed");
  Bytes sig;
  EXPECT_STATUS(NTE_SILENT_CONTEXT, sign(key, nullptr, 0, hash, sig));
  EXPECT_STATUS(NTE_SILENT_CONTEXT, sign(key, nullptr, NCRYPT_SILENT_FLAG, hash, sig));
  // Without a password or a scope PIN any PIN is consent; it allows one signature.
  ASSERT_OK(set_pin(key, u"0000"));
  ASSERT_OK(sign(key, nullptr, 0, hash, sig));  // the size query does not use it up
  EXPECT_TRUE(verify_ecdsa_raw(pub.get(), hash, sig));
  EXPECT_STATUS(NTE_SILENT_CONTEXT, sign(key, nullptr, 0, hash, sig));
  // cbInput = 0 withdraws a given authorisation.
  ASSERT_OK(set_pin(key, u"0000"));
  ASSERT_OK(NCryptSetProperty(key, NCRYPT_PIN_PROPERTY, nullptr, 0, 0));
  EXPECT_STATUS(NTE_SILENT_CONTEXT, sign(key, nullptr, 0, hash, sig));
  // Public operations need no PIN.
  ASSERT_OK(set_pin(key, u"0000"));
  ASSERT_OK(sign(key, nullptr, 0, hash, sig));
  EXPECT_OK(NCryptVerifySignature(key, nullptr, const_cast<PBYTE>(hash.data()),
                                  static_cast<DWORD>(hash.size()), sig.data(),
                                  static_cast<DWORD>(sig.size()), 0));
  EXPECT_OK(NCryptFreeObject(key));

  // The policy is persisted: a reopened handle refuses silent use too.
  NCRYPT_KEY_HANDLE reopened = 0;
  ASSERT_OK(NCryptOpenKey(provider_, &reopened, u"ui-protected", 0, 0));
  EXPECT_STATUS(NTE_SILENT_CONTEXT, sign(reopened, nullptr, 0, hash, sig));
  EXPECT_OK(NCryptFreeObject(reopened));
}

TEST_F(KeyAuthTest, UnprotectedKeySignsWithoutPin) {
  const NCRYPT_KEY_HANDLE key = protected_ecdsa_key(u"plain", 0);
  const Pkey pub = pkey_from_bcrypt_public(export_key(key, BCRYPT_ECCPUBLIC_BLOB));
  const Bytes hash = digest("SHA256", "no consent needed");
  Bytes sig;
  ASSERT_OK(sign(key, nullptr, 0, hash, sig));
  EXPECT_TRUE(verify_ecdsa_raw(pub.get(), hash, sig));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(KeyAuthTest, ForceHighKeyNeedsItsOwnPassword) {
  const std::u16string password = u"correct horse";
  const NCRYPT_KEY_HANDLE created = create_key(u"RSA", u"high", 0, false, 2048);
  ASSERT_OK(set_ui_policy(created, NCRYPT_UI_FORCE_HIGH_PROTECTION_FLAG));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, set_pin(created, u"abc"));  // 4..255 bytes
  ASSERT_OK(set_pin(created, password));
  ASSERT_OK(NCryptFinalizeKey(created, 0));
  const Pkey pub = pkey_from_bcrypt_public(export_key(created, BCRYPT_RSAPUBLIC_BLOB));
  ASSERT_TRUE(pub);
  EXPECT_OK(NCryptFreeObject(created));

  // Neither the password nor its UTF-16 form is in the key file; the verifier is not a
  // readable property.
  for (const auto& [file, content] : snapshot(user_dir())) {
    const std::string text(content.begin(), content.end());
    EXPECT_EQ(text.find("correct horse"), std::string::npos) << file;
    const std::string wide(reinterpret_cast<const char*>(password.data()), password.size() * 2);
    EXPECT_EQ(text.find(wide), std::string::npos) << file;
  }

  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_OK(NCryptOpenKey(provider_, &key, u"high", 0, 0));
  DWORD size = 0;
  EXPECT_STATUS(NTE_NOT_FOUND, NCryptGetProperty(key, u"Key PIN Verifier", nullptr, 0, &size, 0));
  const Bytes hash = digest("SHA256", "high protection");
  BCRYPT_PKCS1_PADDING_INFO pkcs1{BCRYPT_SHA256_ALGORITHM};
  Bytes sig;
  EXPECT_STATUS(NTE_SILENT_CONTEXT, sign(key, &pkcs1, NCRYPT_PAD_PKCS1_FLAG, hash, sig));
  if (testing_platform()) {
    // The TPM checks the PIN (the key's authValue) when the key is used: one wrong try only,
    // as the TPM counts it towards its dictionary-attack lockout.
    ASSERT_OK(set_pin(key, u"wrong horse"));
    EXPECT_STATUS(NTE_INCORRECT_PASSWORD, sign(key, &pkcs1, NCRYPT_PAD_PKCS1_FLAG, hash, sig));
  } else {
    EXPECT_STATUS(NTE_INCORRECT_PASSWORD, set_pin(key, u"wrong horse"));
    // The scope has no PIN: a wrong password is not consent either.
    EXPECT_STATUS(NTE_SILENT_CONTEXT, sign(key, &pkcs1, NCRYPT_PAD_PKCS1_FLAG, hash, sig));
  }
  ASSERT_OK(set_pin(key, password));
  ASSERT_OK(sign(key, &pkcs1, NCRYPT_PAD_PKCS1_FLAG, hash, sig));
  EXPECT_TRUE(verify_rsa(pub.get(), "SHA256", hash, sig));
  EXPECT_STATUS(NTE_SILENT_CONTEXT, sign(key, &pkcs1, NCRYPT_PAD_PKCS1_FLAG, hash, sig));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(KeyAuthTest, ScopePinIsTheKeyPinWhenTheKeyHasNone) {
  const std::string scope_pin = "scope-pin-1";
  const cng::PinBytes pin_bytes{reinterpret_cast<const std::uint8_t*>(scope_pin.data()),
                                scope_pin.size()};
  ASSERT_OK(cng::CngSetScopePin(provider_, 0, pin_bytes));
  const NCRYPT_KEY_HANDLE key = protected_ecdsa_key(u"scope-protected", NCRYPT_UI_PROTECT_KEY_FLAG);
  const Pkey pub = pkey_from_bcrypt_public(export_key(key, BCRYPT_ECCPUBLIC_BLOB));
  EXPECT_STATUS(SCARD_W_WRONG_CHV, set_pin(key, u"not-the-pin"));
  cng::ScopePinStatus status{};
  ASSERT_OK(cng::CngGetScopePinStatus(provider_, 0, &status));
  EXPECT_EQ(status.failures, 1u);  // counted as a scope PIN check
  const Bytes hash = digest("SHA256", "scope pin");
  Bytes sig;
  EXPECT_STATUS(NTE_SILENT_CONTEXT, sign(key, nullptr, 0, hash, sig));
  ASSERT_OK(set_pin(key, u"scope-pin-1"));
  ASSERT_OK(sign(key, nullptr, 0, hash, sig));
  EXPECT_TRUE(verify_ecdsa_raw(pub.get(), hash, sig));
  ASSERT_OK(cng::CngGetScopePinStatus(provider_, 0, &status));
  EXPECT_EQ(status.failures, 0u);
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(KeyAuthTest, DecryptAndPrivateExportNeedThePinToo) {
  const NCRYPT_KEY_HANDLE key =
      create_key(u"RSA", u"ui-rsa", 0, false, 2048,
                 NCRYPT_ALLOW_EXPORT_FLAG | NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG);
  ASSERT_OK(set_ui_policy(key, NCRYPT_UI_PROTECT_KEY_FLAG));
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  const Pkey pub = pkey_from_bcrypt_public(export_key(key, BCRYPT_RSAPUBLIC_BLOB));
  const Bytes plain = {'s', 'e', 'c', 'r', 'e', 't'};
  Bytes cipher = rsa_encrypt(pub.get(), plain);
  Bytes out(256);
  DWORD size = 0;
  EXPECT_STATUS(
      NTE_SILENT_CONTEXT,
      NCryptDecrypt(key, cipher.data(), static_cast<DWORD>(cipher.size()), nullptr, out.data(),
                    static_cast<DWORD>(out.size()), &size, NCRYPT_PAD_PKCS1_FLAG));
  ASSERT_OK(set_pin(key, u"1234"));
  ASSERT_OK(NCryptDecrypt(key, cipher.data(), static_cast<DWORD>(cipher.size()), nullptr,
                          out.data(), static_cast<DWORD>(out.size()), &size,
                          NCRYPT_PAD_PKCS1_FLAG));
  out.resize(size);
  EXPECT_EQ(out, plain);
  if (!testing_platform()) {  // a TPM key's private part never leaves the TPM
    Bytes blob;
    EXPECT_STATUS(NTE_SILENT_CONTEXT, try_export(key, BCRYPT_RSAPRIVATE_BLOB, blob));
    ASSERT_OK(set_pin(key, u"1234"));
    EXPECT_OK(try_export(key, BCRYPT_RSAPRIVATE_BLOB, blob));
  }
  EXPECT_OK(NCryptFreeObject(key));
}

// NCryptSecretAgreement is a private operation too: a UI-protected ECDH key agrees only after
// NCRYPT_PIN_PROPERTY, once per PIN; the raw secret matches OpenSSL's ECDH (CNG's TRUNCATE
// output is little-endian).
TEST_F(KeyAuthTest, SecretAgreementNeedsThePinEachTime) {
  if (testing_platform()) {
    GTEST_SKIP() << "the platform run leaves secret agreement out (AgreementTest)";
  }
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDH_P256", u"ui-ecdh", 0, false);
  ASSERT_OK(set_ui_policy(key, NCRYPT_UI_PROTECT_KEY_FLAG));
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  const NCRYPT_KEY_HANDLE peer =
      create_key(u"ECDH_P256", nullptr, 0, true, 0, NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG);
  const Bytes peer_blob = export_key(peer, BCRYPT_ECCPUBLIC_BLOB);
  NCRYPT_KEY_HANDLE peer_pub = 0;
  ASSERT_OK(NCryptImportKey(provider_, 0, BCRYPT_ECCPUBLIC_BLOB, nullptr, &peer_pub,
                            const_cast<PBYTE>(peer_blob.data()),
                            static_cast<DWORD>(peer_blob.size()), 0));
  const Pkey peer_priv = pkey_from_pkcs8(export_key(peer, NCRYPT_PKCS8_PRIVATE_KEY_BLOB));
  const Pkey key_pub = pkey_from_bcrypt_public(export_key(key, BCRYPT_ECCPUBLIC_BLOB));
  ASSERT_TRUE(peer_priv && key_pub);
  Bytes expected = ecdh(peer_priv.get(), key_pub.get());
  std::reverse(expected.begin(), expected.end());

  NCRYPT_SECRET_HANDLE secret = 0;
  EXPECT_STATUS(NTE_SILENT_CONTEXT, NCryptSecretAgreement(key, peer_pub, &secret, 0));
  ASSERT_OK(set_pin(key, u"0000"));
  ASSERT_OK(NCryptSecretAgreement(key, peer_pub, &secret, 0));
  DWORD size = 0;
  Bytes raw(64);
  ASSERT_OK(NCryptDeriveKey(secret, BCRYPT_KDF_RAW_SECRET, nullptr, raw.data(),
                            static_cast<DWORD>(raw.size()), &size, 0));
  raw.resize(size);
  EXPECT_EQ(raw, expected);
  EXPECT_OK(NCryptFreeObject(secret));
  EXPECT_STATUS(NTE_SILENT_CONTEXT, NCryptSecretAgreement(key, peer_pub, &secret, 0));
  for (const auto h : {key, peer, peer_pub}) {
    EXPECT_OK(NCryptFreeObject(h));
  }
}

}  // namespace
}  // namespace ncrypt_test
