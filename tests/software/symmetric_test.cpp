// Secret keys in the software provider (below the NCrypt layer): generation, the storage form
// and its checks, CipherKeyBlob import/export, AES against plain OpenSSL, and the operations a
// secret key refuses.
#include <gtest/gtest.h>

#include "providers/algorithm_table.h"
#include "test_support.h"

namespace cng_test {
namespace {

using cng::KeyAlgorithm;
using cng::KeyRecord;
using cng::KeySpec;
using cng::SecureBytes;

std::shared_ptr<cng::KeyMaterial> generate(KeyAlgorithm algorithm, DWORD bits) {
  KeySpec spec;
  spec.algorithm = algorithm;
  spec.symmetric_bits = bits;
  return provider().generate(spec);
}

// OpenSSL AES-ECB without padding, for comparison.
Bytes openssl_ecb(ByteView key, ByteView in) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const EVP_CIPHER* cipher = key.size() == 16   ? EVP_aes_128_ecb()
                             : key.size() == 24 ? EVP_aes_192_ecb()
                                                : EVP_aes_256_ecb();
  Bytes out(in.size());
  int n = 0;
  const bool ok =
      EVP_EncryptInit_ex(ctx, cipher, nullptr, key.data(), nullptr) == 1 &&
      EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
      EVP_EncryptUpdate(ctx, out.data(), &n, in.data(), static_cast<int>(in.size())) == 1;
  EVP_CIPHER_CTX_free(ctx);
  EXPECT_TRUE(ok);
  return out;
}

TEST(SoftwareSymmetric, GeneratesKeysOfEachSupportedLength) {
  for (const DWORD bits : {128U, 192U, 256U}) {
    const auto key = generate(KeyAlgorithm::kAes, bits);
    EXPECT_EQ(key->algorithm(), KeyAlgorithm::kAes);
    EXPECT_EQ(key->bits(), bits);
    EXPECT_TRUE(key->has_private());
    EXPECT_TRUE(key->public_blob().empty());
  }
  for (const DWORD bits : {8U, 168U, 4096U}) {
    EXPECT_EQ(generate(KeyAlgorithm::kGenericSecret, bits)->bits(), bits);
  }
  for (const DWORD bits : {0U, 64U, 100U, 512U}) {
    EXPECT_EQ(status_of([&] { (void)generate(KeyAlgorithm::kAes, bits); }), NTE_NOT_SUPPORTED);
  }
  for (const DWORD bits : {0U, 4U, 12U, 4104U}) {
    EXPECT_EQ(status_of([&] { (void)generate(KeyAlgorithm::kGenericSecret, bits); }),
              NTE_NOT_SUPPORTED);
  }
  // Two keys are never the same.
  EXPECT_NE(provider().to_storage(*generate(KeyAlgorithm::kAes, 256)),
            provider().to_storage(*generate(KeyAlgorithm::kAes, 256)));
}

TEST(SoftwareSymmetric, StorageFormIsTheKeyAndIsChecked) {
  const auto key = generate(KeyAlgorithm::kAes, 192);
  const SecureBytes stored = provider().to_storage(*key);
  ASSERT_EQ(stored.size(), 24U);
  KeyRecord record;
  record.algorithm = u"AES";
  record.length_bits = 192;
  record.private_blob = stored;
  const auto loaded = provider().from_storage(record);
  const Bytes block = random_bytes(32);
  cng::SymmetricParams ecb;
  ecb.mode = cng::ChainingMode::kEcb;
  const auto a = key->symmetric_crypt(true, ecb, block).output;
  const auto b = loaded->symmetric_crypt(true, ecb, block).output;
  EXPECT_EQ(a, b);
  EXPECT_EQ(Bytes(a.begin(), a.end()), openssl_ecb(ByteView(stored.data(), stored.size()), block));

  record.length_bits = 256;  // disagrees with the stored bytes
  EXPECT_EQ(status_of([&] { (void)provider().from_storage(record); }), NTE_BAD_DATA);
  record.length_bits = 160;
  record.private_blob.resize(20);  // consistent, but not an AES length
  EXPECT_EQ(status_of([&] { (void)provider().from_storage(record); }), NTE_BAD_DATA);
  record.algorithm = u"GENERIC_SECRET";
  EXPECT_EQ(provider().from_storage(record)->bits(), 160U);
}

TEST(SoftwareSymmetric, CipherKeyBlobRoundTripAndRefusals) {
  const auto key = generate(KeyAlgorithm::kGenericSecret, 64);
  const SecureBytes blob = key->export_private(NCRYPT_CIPHER_KEY_BLOB);
  // 16-byte header, u"GENERIC_SECRET\0" (30 bytes), 12-byte key data header, 8 key bytes.
  ASSERT_EQ(blob.size(), 66U);
  const auto back = provider().import_blob(NCRYPT_CIPHER_KEY_BLOB, blob);
  EXPECT_EQ(back->algorithm(), KeyAlgorithm::kGenericSecret);
  EXPECT_EQ(provider().to_storage(*back), provider().to_storage(*key));
  EXPECT_EQ(status_of([&] { (void)key->export_private(NCRYPT_PKCS8_PRIVATE_KEY_BLOB); }),
            NTE_BAD_TYPE);
  EXPECT_EQ(status_of([&] { (void)key->export_private(BCRYPT_PRIVATE_KEY_BLOB); }), NTE_BAD_TYPE);
}

TEST(SoftwareSymmetric, OperationsASecretKeyDoesNotHave) {
  const auto aes = generate(KeyAlgorithm::kAes, 128);
  const auto mac = generate(KeyAlgorithm::kGenericSecret, 128);
  const Bytes data(16, 1);
  EXPECT_EQ(status_of([&] { (void)aes->hmac(cng::HashId::kSha256, data); }), NTE_NOT_SUPPORTED);
  EXPECT_EQ(status_of([&] { (void)mac->symmetric_crypt(true, {}, data); }), NTE_NOT_SUPPORTED);
  EXPECT_EQ(status_of([&] { (void)mac->wrap_key(cng::WrapMode::kRfc3394, data); }),
            NTE_NOT_SUPPORTED);
  EXPECT_EQ(status_of([&] { (void)mac->hmac(cng::HashId::kMd5, data); }), NTE_NOT_SUPPORTED);
  EXPECT_EQ(status_of([&] { (void)aes->sign_hash({}, data); }), NTE_NOT_SUPPORTED);
  EXPECT_EQ(status_of([&] { (void)aes->encrypt({}, data); }), NTE_NOT_SUPPORTED);
  EXPECT_EQ(status_of([&] { (void)aes->agree(*mac); }), NTE_NOT_SUPPORTED);
  // The key-wrap primitives refuse impossible lengths before OpenSSL sees them.
  EXPECT_EQ(status_of([&] { (void)aes->wrap_key(cng::WrapMode::kRfc3394, Bytes(12, 0)); }),
            NTE_BAD_LEN);
  EXPECT_EQ(status_of([&] { (void)aes->unwrap_key(cng::WrapMode::kRfc3394, Bytes(16, 0)); }),
            NTE_BAD_LEN);
  EXPECT_EQ(status_of([&] { (void)aes->unwrap_key(cng::WrapMode::kRfc5649, Bytes(20, 0)); }),
            NTE_BAD_LEN);
  EXPECT_EQ(status_of([&] { (void)aes->unwrap_key(cng::WrapMode::kRfc5649, Bytes(16, 0)); }),
            NTE_BAD_DATA);
}

TEST(SoftwareSymmetric, AlgorithmTableRows) {
  const cng::AlgorithmInfo* aes = cng::find_algorithm(u"aes");  // case-insensitive
  ASSERT_NE(aes, nullptr);
  EXPECT_EQ(aes->family, cng::KeyFamily::kSymmetric);
  EXPECT_EQ(aes->block_length, 16U);
  EXPECT_EQ(cng::algorithm_info(KeyAlgorithm::kEcdsa, cng::Curve::kP384).name, u"ECDSA_P384");
  EXPECT_EQ(cng::algorithm_info(KeyAlgorithm::kEcdh).name, u"ECDH");
  EXPECT_EQ(cng::algorithm_info(KeyAlgorithm::kGenericSecret).group, u"GENERIC_SECRET");
  EXPECT_EQ(cng::find_algorithm(u"DES"), nullptr);
  // Every row's name finds that row.
  for (const auto& row : cng::algorithm_table()) {
    EXPECT_EQ(cng::find_algorithm(row.name), &row);
  }
}

}  // namespace
}  // namespace cng_test
