// RSA keys of the platform provider through the NCrypt API: generated in the TPM, signatures
// and decryptions checked with plain OpenSSL on the exported public key.
#include <algorithm>
#include <cstring>

#include "platform_test_support.h"

namespace platform_test {
namespace {

using ncrypt_test::digest;
using ncrypt_test::export_key;
using ncrypt_test::pkey_from_bcrypt_public;
using ncrypt_test::rsa_encrypt;
using ncrypt_test::verify_rsa;

class RsaTest : public PlatformTest {};

Bytes message_bytes(const char* text) {
  return Bytes(reinterpret_cast<const std::uint8_t*>(text),
               reinterpret_cast<const std::uint8_t*>(text) + std::strlen(text));
}

// One persisted RSA-2048 key (TPM keygen takes seconds) exercised in every way.
TEST_F(RsaTest, PersistedRsa2048SignsAndDecryptsAsOpenSslExpects) {
  const NCRYPT_KEY_HANDLE key = create_key(u"RSA", u"rsa-tpm", 0, 2048);
  EXPECT_EQ(ncrypt_test::dword_property(key, NCRYPT_LENGTH_PROPERTY), 2048u);
  const Pkey pub = pkey_from_bcrypt_public(export_key(key, BCRYPT_RSAPUBLIC_BLOB));
  ASSERT_TRUE(pub);
  EXPECT_EQ(EVP_PKEY_get_bits(pub.get()), 2048);

  // PKCS#1 v1.5 with each hash the TPM implements (TPM2_Sign, RSASSA).
  const struct {
    const char16_t* alg;
    const char* md;
  } hashes[] = {{BCRYPT_SHA1_ALGORITHM, "SHA1"},
                {BCRYPT_SHA256_ALGORITHM, "SHA256"},
                {BCRYPT_SHA384_ALGORITHM, "SHA384"},
                {BCRYPT_SHA512_ALGORITHM, "SHA512"}};
  for (const auto& h : hashes) {
    SCOPED_TRACE(h.md);
    const Bytes hash = digest(h.md, "pkcs1 message");
    BCRYPT_PKCS1_PADDING_INFO pkcs1{h.alg};
    const Bytes sig = sign(key, &pkcs1, hash, NCRYPT_PAD_PKCS1_FLAG);
    EXPECT_EQ(sig.size(), 256u);
    EXPECT_TRUE(verify_rsa(pub.get(), h.md, hash, sig));
    EXPECT_OK(NCryptVerifySignature(key, &pkcs1, const_cast<PBYTE>(hash.data()),
                                    static_cast<DWORD>(hash.size()), const_cast<PBYTE>(sig.data()),
                                    static_cast<DWORD>(sig.size()), NCRYPT_PAD_PKCS1_FLAG));
  }

  // PKCS#1 v1.5 without a hash id: the caller's DigestInfo, padded here and signed by the
  // TPM's raw RSA operation. The result must be the standard SHA-256 signature.
  {
    const Bytes hash = digest("SHA256", "raw digestinfo");
    static constexpr std::uint8_t kSha256Prefix[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                                     0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                                     0x01, 0x05, 0x00, 0x04, 0x20};
    // Sized once, filled by copy (growing it by insert trips GCC 12 -O3 -Warray-bounds).
    Bytes digest_info(sizeof kSha256Prefix + hash.size());
    std::copy(std::begin(kSha256Prefix), std::end(kSha256Prefix), digest_info.begin());
    std::copy(hash.begin(), hash.end(), digest_info.begin() + sizeof kSha256Prefix);
    BCRYPT_PKCS1_PADDING_INFO raw{nullptr};
    const Bytes sig = sign(key, &raw, digest_info, NCRYPT_PAD_PKCS1_FLAG);
    EXPECT_TRUE(verify_rsa(pub.get(), "SHA256", hash, sig));
    BCRYPT_PKCS1_PADDING_INFO with_hash{BCRYPT_SHA256_ALGORITHM};
    EXPECT_EQ(sig, sign(key, &with_hash, hash, NCRYPT_PAD_PKCS1_FLAG));  // deterministic
  }

  // PSS: the TPM uses a salt as long as the digest; that is what we can honour.
  for (const auto& h : hashes) {
    SCOPED_TRACE(h.md);
    const Bytes hash = digest(h.md, "pss message");
    BCRYPT_PSS_PADDING_INFO pss{h.alg, static_cast<ULONG>(hash.size())};
    const Bytes sig = sign(key, &pss, hash, NCRYPT_PAD_PSS_FLAG);
    EXPECT_TRUE(verify_rsa(pub.get(), h.md, hash, sig, static_cast<int>(hash.size())));
  }
  {
    const Bytes hash = digest("SHA256", "pss other salt");
    BCRYPT_PSS_PADDING_INFO pss{BCRYPT_SHA256_ALGORITHM, 20};
    Bytes sig;
    EXPECT_STATUS(NTE_NOT_SUPPORTED, try_sign(key, &pss, hash, NCRYPT_PAD_PSS_FLAG, sig));
  }

  // Decryption of OpenSSL ciphertexts: PKCS#1 v1.5, OAEP (SHA-1, SHA-256), OAEP with a label
  // ending in a zero byte (what the TPM accepts), raw RSA.
  const Bytes secret = message_bytes("a secret for the TPM");
  {
    const Bytes cipher = rsa_encrypt(pub.get(), secret);
    Bytes plain;
    EXPECT_OK(try_decrypt(key, cipher, nullptr, NCRYPT_PAD_PKCS1_FLAG, plain));
    EXPECT_EQ(plain, secret);
    // OAEP ciphertext decrypted as PKCS#1 v1.5: bad padding, the software provider's status.
    // An OAEP block is random to the v1.5 check, which it passes with a small probability: a
    // fresh ciphertext is tried until one is refused (at most four).
    SECURITY_STATUS refused = ERROR_SUCCESS;
    for (int i = 0; i < 4 && refused == ERROR_SUCCESS; ++i) {
      const Bytes oaep_cipher = rsa_encrypt(pub.get(), secret, "SHA256");
      refused = try_decrypt(key, oaep_cipher, nullptr, NCRYPT_PAD_PKCS1_FLAG, plain);
    }
    EXPECT_STATUS(NTE_INVALID_PARAMETER, refused);
  }
  for (const auto& h :
       {std::pair{BCRYPT_SHA1_ALGORITHM, "SHA1"}, std::pair{BCRYPT_SHA256_ALGORITHM, "SHA256"}}) {
    SCOPED_TRACE(h.second);
    const Bytes cipher = rsa_encrypt(pub.get(), secret, h.second);
    BCRYPT_OAEP_PADDING_INFO oaep{h.first, nullptr, 0};
    Bytes plain;
    EXPECT_OK(try_decrypt(key, cipher, &oaep, NCRYPT_PAD_OAEP_FLAG, plain));
    EXPECT_EQ(plain, secret);
  }
  {
    Bytes label = message_bytes("label");
    label.push_back(0);
    const Bytes cipher = rsa_encrypt(pub.get(), secret, "SHA256", label);
    BCRYPT_OAEP_PADDING_INFO oaep{BCRYPT_SHA256_ALGORITHM, label.data(),
                                  static_cast<ULONG>(label.size())};
    Bytes plain;
    EXPECT_OK(try_decrypt(key, cipher, &oaep, NCRYPT_PAD_OAEP_FLAG, plain));
    EXPECT_EQ(plain, secret);
    // A wrong label: the TPM's OAEP check fails, reported like the software provider does.
    Bytes wrong = message_bytes("other");
    wrong.push_back(0);
    BCRYPT_OAEP_PADDING_INFO bad{BCRYPT_SHA256_ALGORITHM, wrong.data(),
                                 static_cast<ULONG>(wrong.size())};
    EXPECT_STATUS(NTE_INVALID_PARAMETER,
                  try_decrypt(key, cipher, &bad, NCRYPT_PAD_OAEP_FLAG, plain));
    // A label without the trailing zero cannot be given to the TPM.
    Bytes unterminated = message_bytes("label");
    const Bytes cipher2 = rsa_encrypt(pub.get(), secret, "SHA256", unterminated);
    BCRYPT_OAEP_PADDING_INFO plain_label{BCRYPT_SHA256_ALGORITHM, unterminated.data(),
                                         static_cast<ULONG>(unterminated.size())};
    EXPECT_STATUS(NTE_NOT_SUPPORTED,
                  try_decrypt(key, cipher2, &plain_label, NCRYPT_PAD_OAEP_FLAG, plain));
  }
  {
    // Raw RSA: encrypt in software with no padding, decrypt in the TPM.
    Bytes block(256, 0);
    std::copy(secret.begin(), secret.end(), block.end() - static_cast<long>(secret.size()));
    Bytes cipher;
    DWORD size = 0;
    ASSERT_OK(
        NCryptEncrypt(key, block.data(), 256, nullptr, nullptr, 0, &size, NCRYPT_NO_PADDING_FLAG));
    cipher.resize(size);
    ASSERT_OK(NCryptEncrypt(key, block.data(), 256, nullptr, cipher.data(), size, &size,
                            NCRYPT_NO_PADDING_FLAG));
    Bytes plain;
    EXPECT_OK(try_decrypt(key, cipher, nullptr, NCRYPT_NO_PADDING_FLAG, plain));
    EXPECT_EQ(plain, block);
  }

  // The private key never leaves the TPM.
  Bytes exported;
  EXPECT_STATUS(NTE_NOT_SUPPORTED,
                ncrypt_test::try_export(key, BCRYPT_RSAFULLPRIVATE_BLOB, exported));
  EXPECT_STATUS(NTE_NOT_SUPPORTED,
                ncrypt_test::try_export(key, NCRYPT_PKCS8_PRIVATE_KEY_BLOB, exported));

  // Reopened from its file, the key still signs (loaded into the TPM again).
  EXPECT_OK(NCryptFreeObject(key));
  NCRYPT_KEY_HANDLE reopened = 0;
  ASSERT_OK(NCryptOpenKey(provider_, &reopened, u"rsa-tpm", 0, 0));
  const Bytes hash = digest("SHA256", "after reopening");
  BCRYPT_PKCS1_PADDING_INFO pkcs1{BCRYPT_SHA256_ALGORITHM};
  EXPECT_TRUE(
      verify_rsa(pub.get(), "SHA256", hash, sign(reopened, &pkcs1, hash, NCRYPT_PAD_PKCS1_FLAG)));
  EXPECT_OK(NCryptDeleteKey(reopened, 0));
}

TEST_F(RsaTest, EphemeralRsaKeyWithPlaintextExportPolicyStillRefusesPrivateExport) {
  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_OK(NCryptCreatePersistedKey(provider_, &key, u"RSA", nullptr, 0, 0));
  EXPECT_OK(ncrypt_test::set_dword(key, NCRYPT_LENGTH_PROPERTY, 2048));
  EXPECT_OK(ncrypt_test::set_dword(key, NCRYPT_EXPORT_POLICY_PROPERTY,
                                   NCRYPT_ALLOW_EXPORT_FLAG | NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG));
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  Bytes exported;
  EXPECT_STATUS(NTE_NOT_SUPPORTED, ncrypt_test::try_export(key, BCRYPT_RSAPRIVATE_BLOB, exported));
  const Pkey pub = pkey_from_bcrypt_public(export_key(key, BCRYPT_RSAPUBLIC_BLOB));
  ASSERT_TRUE(pub);
  const Bytes hash = digest("SHA384", "ephemeral");
  BCRYPT_PKCS1_PADDING_INFO pkcs1{BCRYPT_SHA384_ALGORITHM};
  EXPECT_TRUE(
      verify_rsa(pub.get(), "SHA384", hash, sign(key, &pkcs1, hash, NCRYPT_PAD_PKCS1_FLAG)));
  EXPECT_EQ(ncrypt_test::file_count(user_dir()), 0u);  // nothing persisted
  EXPECT_OK(NCryptFreeObject(key));
}

}  // namespace
}  // namespace platform_test
