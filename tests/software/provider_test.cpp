// Provider identity, key generation and the storage round trip.
#include <gtest/gtest.h>
#include <openssl/err.h>

#include <algorithm>

#include "bcrypt.h"
#include "providers/software/software_provider.h"
#include "store/key_record.h"
#include "test_support.h"

namespace cng_test {
namespace {

using cng::Curve;
using cng::KeyAlgorithm;

TEST(SoftwareProvider, NameImplTypeAndLengths) {
  EXPECT_EQ(provider().name(), std::u16string_view(MS_KEY_STORAGE_PROVIDER));
  EXPECT_EQ(provider().impl_type(), static_cast<DWORD>(NCRYPT_IMPL_SOFTWARE_FLAG));
  const NCRYPT_SUPPORTED_LENGTHS lengths = provider().rsa_lengths();
  EXPECT_EQ(lengths.dwMinLength, 512U);
  EXPECT_EQ(lengths.dwMaxLength, 16384U);
  EXPECT_EQ(lengths.dwIncrement, 64U);
  EXPECT_EQ(lengths.dwDefaultLength, 1024U);
  EXPECT_TRUE(provider().supports_curve(Curve::kP256));
  EXPECT_TRUE(provider().supports_curve(Curve::kP384));
  EXPECT_TRUE(provider().supports_curve(Curve::kP521));
  EXPECT_FALSE(provider().supports_curve(Curve::kNone));
}

TEST(SoftwareProvider, AlgorithmListHasClassesAndOperations) {
  const auto algs = provider().algorithms();
  const auto find = [&](std::u16string_view name) {
    const auto it = std::find_if(algs.begin(), algs.end(),
                                 [&](const cng::AlgorithmEntry& e) { return e.name == name; });
    EXPECT_NE(it, algs.end()) << "missing algorithm";
    return it == algs.end() ? cng::AlgorithmEntry{} : *it;
  };
  const auto rsa = find(u"RSA");
  EXPECT_EQ(rsa.alg_class, static_cast<DWORD>(NCRYPT_ASYMMETRIC_ENCRYPTION_INTERFACE));
  EXPECT_EQ(rsa.operations, static_cast<DWORD>(NCRYPT_ASYMMETRIC_ENCRYPTION_OPERATION |
                                               NCRYPT_SIGNATURE_OPERATION));
  for (const auto* name : {u"ECDSA_P256", u"ECDSA_P384", u"ECDSA_P521", u"ECDSA"}) {
    const auto e = find(name);
    EXPECT_EQ(e.alg_class, static_cast<DWORD>(NCRYPT_SIGNATURE_INTERFACE));
    EXPECT_EQ(e.operations, static_cast<DWORD>(NCRYPT_SIGNATURE_OPERATION));
  }
  for (const auto* name : {u"ECDH_P256", u"ECDH_P384", u"ECDH_P521", u"ECDH"}) {
    const auto e = find(name);
    EXPECT_EQ(e.alg_class, static_cast<DWORD>(NCRYPT_SECRET_AGREEMENT_INTERFACE));
    EXPECT_EQ(e.operations, static_cast<DWORD>(NCRYPT_SECRET_AGREEMENT_OPERATION));
  }
  const auto aes = find(u"AES");
  EXPECT_EQ(aes.alg_class, static_cast<DWORD>(NCRYPT_CIPHER_INTERFACE));
  EXPECT_EQ(aes.operations, static_cast<DWORD>(NCRYPT_CIPHER_OPERATION));
  const auto secret = find(u"GENERIC_SECRET");  // model extension (HMAC keys)
  EXPECT_EQ(secret.alg_class, static_cast<DWORD>(NCRYPT_HASH_INTERFACE));
  EXPECT_EQ(secret.operations, static_cast<DWORD>(NCRYPT_HASH_OPERATION));
  EXPECT_EQ(algs.size(), 11U);
}

TEST(SoftwareProvider, GeneratesRsaOfEachSizeClass) {
  for (const DWORD bits : {512U, 1024U, 2048U}) {
    const auto key = shared_rsa(bits);
    EXPECT_EQ(key->algorithm(), KeyAlgorithm::kRsa);
    EXPECT_EQ(key->bits(), bits);
    EXPECT_EQ(key->curve(), Curve::kNone);
    EXPECT_TRUE(key->has_private());
    EXPECT_EQ(key->signature_size(), bits / 8);
    const Bytes blob = key->public_blob();
    ASSERT_GE(blob.size(), 24U);
    // RSA1, BitLength, e = 65537 (3 bytes), cbModulus = bits / 8.
    EXPECT_EQ(blob[0], 'R');
    EXPECT_EQ(blob[3], '1');
    EXPECT_EQ(blob.size(), 24U + 3U + bits / 8);
    const Pkey pub = pkey_from_public_blob(blob);
    EXPECT_EQ(EVP_PKEY_get_bits(pub.get()), static_cast<int>(bits));
    EXPECT_EQ(Bytes(blob.begin() + 24, blob.begin() + 27), (Bytes{0x01, 0x00, 0x01}));
  }
}

TEST(SoftwareProvider, RejectsRsaSizesOffTheGrid) {
  for (const DWORD bits : {0U, 256U, 448U, 1000U, 1032U, 2047U, 16448U}) {
    cng::KeySpec spec;
    spec.rsa_bits = bits;
    EXPECT_EQ(status_of([&] { (void)provider().generate(spec); }), NTE_NOT_SUPPORTED) << bits;
  }
  cng::KeySpec odd_ok;  // 576 = 512 + 64 is on the grid
  odd_ok.rsa_bits = 576;
  EXPECT_EQ(provider().generate(odd_ok)->bits(), 576U);
}

TEST(SoftwareProvider, GeneratesEcOnEachCurve) {
  struct Case {
    Curve curve;
    DWORD bits;
    std::size_t field;
  };
  for (const Case c :
       {Case{Curve::kP256, 256, 32}, Case{Curve::kP384, 384, 48}, Case{Curve::kP521, 521, 66}}) {
    for (const auto alg : {KeyAlgorithm::kEcdsa, KeyAlgorithm::kEcdh}) {
      const auto key = shared_ec(alg, c.curve);
      EXPECT_EQ(key->algorithm(), alg);
      EXPECT_EQ(key->curve(), c.curve);
      EXPECT_EQ(key->bits(), c.bits);
      EXPECT_EQ(key->signature_size(), 2 * c.field);
      const Bytes blob = key->public_blob();
      EXPECT_EQ(blob.size(), 8 + 2 * c.field);
      EXPECT_EQ(blob[2], alg == KeyAlgorithm::kEcdsa ? 'S' : 'K');  // ECS1 / ECK1 …
      EXPECT_NE(pkey_from_public_blob(blob), nullptr);
    }
  }
  cng::KeySpec none;
  none.algorithm = KeyAlgorithm::kEcdsa;
  EXPECT_EQ(status_of([&] { (void)provider().generate(none); }), NTE_NOT_SUPPORTED);
}

cng::KeyRecord record_for(const cng::KeyMaterial& key, std::u16string algorithm) {
  cng::KeyRecord record;
  record.name = u"test";
  record.provider = MS_KEY_STORAGE_PROVIDER;
  record.algorithm = std::move(algorithm);
  record.length_bits = key.bits();
  record.public_blob = key.public_blob();
  return record;
}

TEST(SoftwareProvider, StorageRoundTripKeepsKeyAndAlgorithm) {
  struct Case {
    std::shared_ptr<cng::KeyMaterial> key;
    std::u16string algorithm;
  };
  const Case cases[] = {
      {shared_rsa(1024), u"RSA"},
      {shared_ec(KeyAlgorithm::kEcdsa, Curve::kP256), u"ECDSA_P256"},
      {shared_ec(KeyAlgorithm::kEcdh, Curve::kP384), u"ECDH_P384"},
      {shared_ec(KeyAlgorithm::kEcdh, Curve::kP521), u"ECDH"},
  };
  for (const auto& c : cases) {
    cng::KeyRecord record = record_for(*c.key, c.algorithm);
    record.private_blob = provider().to_storage(*c.key);
    // PKCS#8 PrivateKeyInfo: a DER SEQUENCE plain OpenSSL reads.
    ASSERT_FALSE(record.private_blob.empty());
    EXPECT_EQ(record.private_blob[0], 0x30);
    EXPECT_NE(pkey_from_pkcs8(record.private_blob), nullptr);
    const auto loaded = provider().from_storage(record);
    EXPECT_EQ(loaded->algorithm(), c.key->algorithm());
    EXPECT_EQ(loaded->curve(), c.key->curve());
    EXPECT_EQ(loaded->public_blob(), c.key->public_blob());
    EXPECT_EQ(loaded->export_private(NCRYPT_PKCS8_PRIVATE_KEY_BLOB),
              c.key->export_private(NCRYPT_PKCS8_PRIVATE_KEY_BLOB));
  }
}

TEST(SoftwareProvider, PublicOnlyKeyStoresInItsPublicBlob) {
  const auto key = shared_ec(KeyAlgorithm::kEcdh, Curve::kP256);
  const auto pub = provider().import_blob(BCRYPT_ECCPUBLIC_BLOB, key->public_blob());
  cng::KeyRecord record = record_for(*pub, u"ECDH_P256");
  record.private_blob = provider().to_storage(*pub);
  EXPECT_TRUE(record.private_blob.empty());
  const auto loaded = provider().from_storage(record);
  EXPECT_FALSE(loaded->has_private());
  EXPECT_EQ(loaded->public_blob(), key->public_blob());
}

TEST(SoftwareProvider, FromStorageRejectsUnusableRecords) {
  const auto rsa = shared_rsa(1024);
  const auto ec = shared_ec(KeyAlgorithm::kEcdsa, Curve::kP256);
  cng::KeyRecord garbage = record_for(*rsa, u"RSA");
  garbage.private_blob = {0x30, 0x03, 0x02, 0x01, 0x00};
  EXPECT_EQ(status_of([&] { (void)provider().from_storage(garbage); }), NTE_BAD_DATA);

  cng::KeyRecord family = record_for(*rsa, u"ECDSA_P256");  // RSA material, EC algorithm
  family.private_blob = provider().to_storage(*rsa);
  EXPECT_EQ(status_of([&] { (void)provider().from_storage(family); }), NTE_BAD_DATA);

  cng::KeyRecord curve = record_for(*ec, u"ECDSA_P384");  // P-256 material
  curve.private_blob = provider().to_storage(*ec);
  EXPECT_EQ(status_of([&] { (void)provider().from_storage(curve); }), NTE_BAD_DATA);

  cng::KeyRecord unknown = record_for(*rsa, u"DSA");
  unknown.private_blob = provider().to_storage(*rsa);
  EXPECT_EQ(status_of([&] { (void)provider().from_storage(unknown); }), NTE_BAD_DATA);

  cng::KeyRecord trailing = record_for(*rsa, u"RSA");
  trailing.private_blob = provider().to_storage(*rsa);
  trailing.private_blob.push_back(0);
  EXPECT_EQ(status_of([&] { (void)provider().from_storage(trailing); }), NTE_BAD_DATA);
}

TEST(SoftwareProvider, HashAndCurveHelpers) {
  EXPECT_EQ(cng::hash_from_alg_id(nullptr), cng::HashId::kNone);
  EXPECT_EQ(cng::hash_from_alg_id(u"sha256"), cng::HashId::kSha256);
  EXPECT_EQ(cng::hash_from_alg_id(BCRYPT_SHA1_ALGORITHM), cng::HashId::kSha1);
  EXPECT_EQ(status_of([] { (void)cng::hash_from_alg_id(u"SHA3-999"); }), NTE_INVALID_PARAMETER);
  EXPECT_EQ(cng::hash_size(cng::HashId::kSha384), 48U);
  EXPECT_EQ(cng::hash_size(cng::HashId::kNone), 0U);
  EXPECT_EQ(cng::curve_from_name(u"nistP384"), Curve::kP384);
  EXPECT_EQ(cng::curve_from_name(u"secP521r1"), Curve::kP521);
  EXPECT_EQ(status_of([] { (void)cng::curve_from_name(u"curve25519"); }), NTE_NOT_SUPPORTED);
  EXPECT_EQ(cng::curve_name(Curve::kP256), std::u16string_view(u"nistP256"));
  EXPECT_EQ(cng::curve_bits(Curve::kP521), 521U);
}

}  // namespace
}  // namespace cng_test

namespace cng_test {
namespace {

TEST(SoftwareProvider, LeavesNoOpenSslErrorsBehind) {
  // Stale entries on the thread's OpenSSL error queue would be blamed on a later, unrelated
  // call (status_from_openssl reads the queue); successful and failed calls must leave it empty.
  ERR_clear_error();
  const auto rsa = shared_rsa(1024);
  const auto ec = shared_ec(KeyAlgorithm::kEcdh, Curve::kP256);
  const auto p8 = rsa->export_private(NCRYPT_PKCS8_PRIVATE_KEY_BLOB);
  (void)provider().import_blob(NCRYPT_PKCS8_PRIVATE_KEY_BLOB, Bytes(p8.begin(), p8.end()));
  (void)provider().import_blob(BCRYPT_ECCPUBLIC_BLOB, ec->public_blob());
  cng::KeyRecord record = record_for(*ec, u"ECDH_P256");
  record.private_blob = provider().to_storage(*ec);
  (void)provider().from_storage(record);
  EXPECT_EQ(ERR_peek_error(), 0UL);
  const Bytes hash(32, 1);
  const cng::SignPadding pss{NCRYPT_PAD_PSS_FLAG, cng::HashId::kSha256, 32};
  EXPECT_NE(status_of([&] { rsa->verify_signature(pss, hash, Bytes(128, 7)); }), 0);
  EXPECT_NE(status_of([&] {
              (void)provider().import_blob(NCRYPT_PKCS8_PRIVATE_KEY_BLOB, Bytes{0x30, 0x01, 0x00});
            }),
            0);
  EXPECT_NE(status_of([&] {
              (void)rsa->decrypt(cng::CipherPadding{NCRYPT_PAD_OAEP_FLAG, cng::HashId::kSha1, {}},
                                 Bytes(128, 3));
            }),
            0);
  EXPECT_EQ(ERR_peek_error(), 0UL);
}

}  // namespace
}  // namespace cng_test
