// Key blob export and import: exact sizes, round trips, PKCS#8, and the error statuses.
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <stdexcept>

#include "bcrypt.h"
#include "test_support.h"

namespace cng_test {
namespace {

using cng::Curve;
using cng::KeyAlgorithm;
using cng::SecureBytes;

std::uint32_t le32(ByteView b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) | (static_cast<std::uint32_t>(b[at + 1]) << 8U) |
         (static_cast<std::uint32_t>(b[at + 2]) << 16U) |
         (static_cast<std::uint32_t>(b[at + 3]) << 24U);
}

void put_le32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) {
    b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
}

Bytes plain(const SecureBytes& s) { return {s.begin(), s.end()}; }

SECURITY_STATUS import_status(std::u16string_view type, const Bytes& data) {
  return status_of([&] { (void)provider().import_blob(type, data); });
}

TEST(SoftwareBlobs, Rsa1024PrivateBlobSizesAndHeader) {
  const auto key = shared_rsa(1024);
  const SecureBytes priv = key->export_private(BCRYPT_RSAPRIVATE_BLOB);
  const SecureBytes full = key->export_private(BCRYPT_RSAFULLPRIVATE_BLOB);
  ASSERT_EQ(priv.size(), 283U);
  ASSERT_EQ(full.size(), 603U);
  EXPECT_EQ(le32(priv, 0), BCRYPT_RSAPRIVATE_MAGIC);
  EXPECT_EQ(le32(full, 0), BCRYPT_RSAFULLPRIVATE_MAGIC);
  EXPECT_EQ(le32(priv, 4), 1024U);  // BitLength
  EXPECT_EQ(le32(priv, 8), 3U);     // cbPublicExp
  EXPECT_EQ(le32(priv, 12), 128U);  // cbModulus
  EXPECT_EQ(le32(priv, 16), 64U);   // cbPrime1
  EXPECT_EQ(le32(priv, 20), 64U);   // cbPrime2
  // The private and full blobs share header fields and e ‖ n ‖ p ‖ q.
  EXPECT_TRUE(std::equal(priv.begin() + 4, priv.end(), full.begin() + 4));
  const Bytes pub = key->public_blob();
  EXPECT_EQ(le32(pub, 0), BCRYPT_RSAPUBLIC_MAGIC);
  EXPECT_EQ(le32(pub, 16), 0U);
  EXPECT_TRUE(std::equal(pub.begin() + 24, pub.end(), priv.begin() + 24));
  EXPECT_EQ(plain(key->export_private(BCRYPT_PRIVATE_KEY_BLOB)), plain(priv));
  EXPECT_EQ(plain(key->export_private(BCRYPT_PUBLIC_KEY_BLOB)), pub);
  EXPECT_EQ(plain(key->export_private(BCRYPT_RSAPUBLIC_BLOB)), pub);
}

TEST(SoftwareBlobs, RsaImportRoundTrips) {
  const auto key = shared_rsa(1024);
  const Bytes hash = digest("SHA256", random_bytes(3));
  const cng::SignPadding pad{NCRYPT_PAD_PKCS1_FLAG, cng::HashId::kSha256, 0};
  const Bytes expected_sig = key->sign_hash(pad, hash);
  const SecureBytes full = key->export_private(BCRYPT_RSAFULLPRIVATE_BLOB);
  for (const auto* type :
       {BCRYPT_RSAPRIVATE_BLOB, BCRYPT_RSAFULLPRIVATE_BLOB, BCRYPT_PRIVATE_KEY_BLOB}) {
    const std::u16string_view t(type);
    const bool is_full = t == BCRYPT_RSAFULLPRIVATE_BLOB;
    const SecureBytes blob =
        key->export_private(is_full ? BCRYPT_RSAFULLPRIVATE_BLOB : BCRYPT_RSAPRIVATE_BLOB);
    const auto imported = provider().import_blob(t, blob);
    EXPECT_TRUE(imported->has_private());
    EXPECT_EQ(imported->public_blob(), key->public_blob());
    EXPECT_EQ(imported->sign_hash(pad, hash), expected_sig);
    // CRT values are unique; only d may differ (mod lcm vs mod phi), so compare up to d.
    const SecureBytes again = imported->export_private(BCRYPT_RSAFULLPRIVATE_BLOB);
    ASSERT_EQ(again.size(), full.size());
    EXPECT_TRUE(std::equal(full.begin(), full.end() - 128, again.begin()));
  }
  const auto pub = provider().import_blob(BCRYPT_RSAPUBLIC_BLOB, key->public_blob());
  EXPECT_FALSE(pub->has_private());
  EXPECT_NO_THROW(pub->verify_signature(pad, hash, expected_sig));
  EXPECT_EQ(status_of([&] { (void)pub->export_private(BCRYPT_RSAPRIVATE_BLOB); }), NTE_BAD_TYPE);
  EXPECT_EQ(plain(pub->export_private(BCRYPT_PUBLIC_KEY_BLOB)), key->public_blob());
}

TEST(SoftwareBlobs, EccBlobsRoundTripWithMagicPerAlgorithmAndCurve) {
  struct Case {
    KeyAlgorithm alg;
    Curve curve;
    std::uint32_t pub_magic;
    std::uint32_t priv_magic;
  };
  const Case cases[] = {
      {KeyAlgorithm::kEcdsa, Curve::kP256, BCRYPT_ECDSA_PUBLIC_P256_MAGIC,
       BCRYPT_ECDSA_PRIVATE_P256_MAGIC},
      {KeyAlgorithm::kEcdsa, Curve::kP384, BCRYPT_ECDSA_PUBLIC_P384_MAGIC,
       BCRYPT_ECDSA_PRIVATE_P384_MAGIC},
      {KeyAlgorithm::kEcdsa, Curve::kP521, BCRYPT_ECDSA_PUBLIC_P521_MAGIC,
       BCRYPT_ECDSA_PRIVATE_P521_MAGIC},
      {KeyAlgorithm::kEcdh, Curve::kP256, BCRYPT_ECDH_PUBLIC_P256_MAGIC,
       BCRYPT_ECDH_PRIVATE_P256_MAGIC},
      {KeyAlgorithm::kEcdh, Curve::kP384, BCRYPT_ECDH_PUBLIC_P384_MAGIC,
       BCRYPT_ECDH_PRIVATE_P384_MAGIC},
      {KeyAlgorithm::kEcdh, Curve::kP521, BCRYPT_ECDH_PUBLIC_P521_MAGIC,
       BCRYPT_ECDH_PRIVATE_P521_MAGIC},
  };
  for (const auto& c : cases) {
    const auto key = shared_ec(c.alg, c.curve);
    const std::size_t n = (cng::curve_bits(c.curve) + 7) / 8;
    const Bytes pub = key->public_blob();
    EXPECT_EQ(le32(pub, 0), c.pub_magic);
    EXPECT_EQ(le32(pub, 4), n);
    const SecureBytes priv = key->export_private(BCRYPT_ECCPRIVATE_BLOB);
    ASSERT_EQ(priv.size(), 8 + 3 * n);
    EXPECT_EQ(le32(priv, 0), c.priv_magic);
    EXPECT_TRUE(std::equal(pub.begin() + 8, pub.end(), priv.begin() + 8));
    EXPECT_EQ(plain(key->export_private(BCRYPT_PRIVATE_KEY_BLOB)), plain(priv));
    for (const auto* type : {BCRYPT_ECCPRIVATE_BLOB, BCRYPT_PRIVATE_KEY_BLOB}) {
      const auto imported = provider().import_blob(type, priv);
      EXPECT_EQ(imported->algorithm(), c.alg);  // the magic says ECDSA or ECDH
      EXPECT_EQ(imported->curve(), c.curve);
      EXPECT_EQ(plain(imported->export_private(BCRYPT_ECCPRIVATE_BLOB)), plain(priv));
    }
    for (const auto* type : {BCRYPT_ECCPUBLIC_BLOB, BCRYPT_PUBLIC_KEY_BLOB}) {
      const auto imported = provider().import_blob(type, pub);
      EXPECT_FALSE(imported->has_private());
      EXPECT_EQ(imported->public_blob(), pub);
    }
  }
}

// PKCS#8 DER of a key, as plain OpenSSL writes it.
Bytes openssl_pkcs8(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr ||
      i2d_PKCS8PrivateKey_bio(bio, key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    BIO_free(bio);
    throw std::runtime_error("test: i2d_PKCS8PrivateKey_bio failed");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  Bytes out(data, data + len);
  BIO_free(bio);
  return out;
}

TEST(SoftwareBlobs, Pkcs8RoundTripAndForeignKeys) {
  const auto rsa = shared_rsa(1024);
  const auto rsa_back = provider().import_blob(
      NCRYPT_PKCS8_PRIVATE_KEY_BLOB, plain(rsa->export_private(NCRYPT_PKCS8_PRIVATE_KEY_BLOB)));
  EXPECT_EQ(rsa_back->algorithm(), KeyAlgorithm::kRsa);
  EXPECT_EQ(rsa_back->public_blob(), rsa->public_blob());

  const auto ec = shared_ec(KeyAlgorithm::kEcdsa, Curve::kP384);
  const auto ec_back = provider().import_blob(
      NCRYPT_PKCS8_PRIVATE_KEY_BLOB, plain(ec->export_private(NCRYPT_PKCS8_PRIVATE_KEY_BLOB)));
  EXPECT_EQ(ec_back->algorithm(), KeyAlgorithm::kEcdh);  // PKCS#8 EC imports are ECDH_* on Windows
  EXPECT_EQ(ec_back->curve(), Curve::kP384);
  // Same point; the magic differs (ECS3 → ECK3).
  const Bytes blob_in = ec->public_blob();
  const Bytes blob_out = ec_back->public_blob();
  EXPECT_EQ(Bytes(blob_in.begin() + 4, blob_in.end()), Bytes(blob_out.begin() + 4, blob_out.end()));
  EXPECT_NE(blob_in, blob_out);

  // A key OpenSSL generated on its own, exported as PKCS#8 by OpenSSL.
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521");
  ASSERT_NE(raw, nullptr);
  const Pkey foreign(raw);
  const Bytes p8der = openssl_pkcs8(foreign.get());
  const auto imported = provider().import_blob(NCRYPT_PKCS8_PRIVATE_KEY_BLOB, p8der);
  const Pkey rebuilt = pkey_from_public_blob(imported->public_blob());
  EXPECT_EQ(EVP_PKEY_eq(rebuilt.get(), foreign.get()), 1);

  // Ed25519 is not a key type of this provider.
  EVP_PKEY* ed = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  ASSERT_NE(ed, nullptr);
  const Pkey ed_key(ed);
  EXPECT_EQ(import_status(NCRYPT_PKCS8_PRIVATE_KEY_BLOB, openssl_pkcs8(ed_key.get())),
            NTE_NOT_SUPPORTED);
  EXPECT_EQ(import_status(NCRYPT_PKCS8_PRIVATE_KEY_BLOB, Bytes{0x30, 0x00}), NTE_BAD_DATA);
}

TEST(SoftwareBlobs, ImportErrorStatuses) {
  const auto rsa = shared_rsa(1024);
  const auto ec = shared_ec(KeyAlgorithm::kEcdsa, Curve::kP256);
  const Bytes rsa_pub = rsa->public_blob();
  const Bytes rsa_priv = plain(rsa->export_private(BCRYPT_RSAPRIVATE_BLOB));
  const Bytes ec_pub = ec->public_blob();
  const Bytes ec_priv = plain(ec->export_private(BCRYPT_ECCPRIVATE_BLOB));

  // Unknown blob type.
  EXPECT_EQ(import_status(u"NOSUCHBLOB", rsa_pub), NTE_BAD_TYPE);
  EXPECT_EQ(import_status(BCRYPT_ECCFULLPUBLIC_BLOB, ec_pub), NTE_BAD_TYPE);
  // Magic that does not belong to the blob type.
  EXPECT_EQ(import_status(BCRYPT_RSAPUBLIC_BLOB, rsa_priv), NTE_INVALID_PARAMETER);
  EXPECT_EQ(import_status(BCRYPT_RSAPRIVATE_BLOB, rsa_pub), NTE_INVALID_PARAMETER);
  EXPECT_EQ(import_status(BCRYPT_ECCPUBLIC_BLOB, ec_priv), NTE_INVALID_PARAMETER);
  EXPECT_EQ(import_status(BCRYPT_ECCPRIVATE_BLOB, rsa_priv), NTE_INVALID_PARAMETER);
  EXPECT_EQ(import_status(BCRYPT_PUBLIC_KEY_BLOB, ec_priv), NTE_INVALID_PARAMETER);
  Bytes bogus = rsa_pub;
  put_le32(bogus, 0, 0x12345678);
  EXPECT_EQ(import_status(BCRYPT_PUBLIC_KEY_BLOB, bogus), NTE_INVALID_PARAMETER);
  Bytes generic = ec_pub;
  put_le32(generic, 0, BCRYPT_ECDSA_PUBLIC_GENERIC_MAGIC);
  EXPECT_EQ(import_status(BCRYPT_ECCPUBLIC_BLOB, generic), NTE_NOT_SUPPORTED);
  // Sizes that disagree with the header.
  EXPECT_EQ(import_status(BCRYPT_RSAPUBLIC_BLOB, Bytes{0x52, 0x53}), NTE_BAD_DATA);
  EXPECT_EQ(import_status(BCRYPT_RSAPUBLIC_BLOB, Bytes(rsa_pub.begin(), rsa_pub.begin() + 20)),
            NTE_BAD_DATA);
  EXPECT_EQ(import_status(BCRYPT_RSAPUBLIC_BLOB, Bytes(rsa_pub.begin(), rsa_pub.end() - 1)),
            NTE_BAD_DATA);
  Bytes longer = rsa_priv;
  longer.push_back(0);
  EXPECT_EQ(import_status(BCRYPT_RSAPRIVATE_BLOB, longer), NTE_BAD_DATA);
  Bytes huge = rsa_pub;
  put_le32(huge, 12, 0xffffffffU);  // cbModulus
  EXPECT_EQ(import_status(BCRYPT_RSAPUBLIC_BLOB, huge), NTE_BAD_DATA);
  Bytes bits = rsa_pub;
  put_le32(bits, 4, 2048);  // BitLength beyond cbModulus
  EXPECT_EQ(import_status(BCRYPT_RSAPUBLIC_BLOB, bits), NTE_BAD_DATA);
  Bytes cb_key = ec_pub;
  put_le32(cb_key, 4, 48);
  EXPECT_EQ(import_status(BCRYPT_ECCPUBLIC_BLOB, cb_key), NTE_BAD_DATA);
  EXPECT_EQ(import_status(BCRYPT_ECCPUBLIC_BLOB, Bytes(ec_pub.begin(), ec_pub.end() - 1)),
            NTE_BAD_DATA);
  // A point that is not on the curve.
  Bytes off_curve = ec_pub;
  off_curve.back() ^= 0x01;
  EXPECT_EQ(import_status(BCRYPT_ECCPUBLIC_BLOB, off_curve), NTE_BAD_DATA);
}

TEST(SoftwareBlobs, ValidationCatchesInconsistentPrivateKeys) {
  const auto rsa = shared_rsa(1024);
  Bytes full = plain(rsa->export_private(BCRYPT_RSAFULLPRIVATE_BLOB));
  full.back() ^= 0x02;  // d no longer inverts e
  EXPECT_EQ(import_status(BCRYPT_RSAFULLPRIVATE_BLOB, full), NTE_BAD_DATA);
  EXPECT_NO_THROW((void)provider().import_blob_no_validation(BCRYPT_RSAFULLPRIVATE_BLOB, full));

  const auto a = shared_ec(KeyAlgorithm::kEcdh, Curve::kP256);
  const auto b = shared_ec(KeyAlgorithm::kEcdsa, Curve::kP256);
  Bytes mixed = plain(a->export_private(BCRYPT_ECCPRIVATE_BLOB));
  const Bytes other = plain(b->export_private(BCRYPT_ECCPRIVATE_BLOB));
  std::copy(other.end() - 32, other.end(), mixed.end() - 32);  // b's d with a's Q
  EXPECT_EQ(import_status(BCRYPT_ECCPRIVATE_BLOB, mixed), NTE_BAD_DATA);
  EXPECT_NO_THROW((void)provider().import_blob_no_validation(BCRYPT_ECCPRIVATE_BLOB, mixed));
}

TEST(SoftwareBlobs, ExportRejectsBlobTypesThatDoNotFit) {
  const auto rsa = shared_rsa(1024);
  const auto ec = shared_ec(KeyAlgorithm::kEcdh, Curve::kP256);
  EXPECT_EQ(status_of([&] { (void)rsa->export_private(BCRYPT_ECCPRIVATE_BLOB); }), NTE_BAD_TYPE);
  EXPECT_EQ(status_of([&] { (void)rsa->export_private(BCRYPT_ECCPUBLIC_BLOB); }), NTE_BAD_TYPE);
  EXPECT_EQ(status_of([&] { (void)ec->export_private(BCRYPT_RSAFULLPRIVATE_BLOB); }), NTE_BAD_TYPE);
  EXPECT_EQ(status_of([&] { (void)ec->export_private(u"OpaqueTransport"); }), NTE_BAD_TYPE);
}

}  // namespace
}  // namespace cng_test
