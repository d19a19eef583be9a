// ECDH secret agreement: both sides agree, and equal plain OpenSSL's derive.
#include <gtest/gtest.h>

#include "bcrypt.h"
#include "test_support.h"

namespace cng_test {
namespace {

using cng::Curve;
using cng::KeyAlgorithm;

Bytes openssl_derive(EVP_PKEY* priv, EVP_PKEY* peer) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, priv, nullptr);
  std::size_t len = 0;
  bool ok = ctx != nullptr && EVP_PKEY_derive_init(ctx) == 1 &&
            EVP_PKEY_derive_set_peer(ctx, peer) == 1 && EVP_PKEY_derive(ctx, nullptr, &len) == 1;
  Bytes out(len);
  ok = ok && EVP_PKEY_derive(ctx, out.data(), &len) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) {
    throw std::runtime_error("test: EVP_PKEY_derive failed");
  }
  out.resize(len);
  return out;
}

TEST(SoftwareAgree, BothSidesAndOpenSslAgreeOnEachCurve) {
  for (const auto curve : {Curve::kP256, Curve::kP384, Curve::kP521}) {
    const auto alice = shared_ec(KeyAlgorithm::kEcdh, curve);
    cng::KeySpec spec;
    spec.algorithm = KeyAlgorithm::kEcdh;
    spec.curve = curve;
    const auto bob = provider().generate(spec);
    // Each side sees only the other's public blob, as NCryptSecretAgreement callers do.
    const auto bob_pub = provider().import_blob(BCRYPT_ECCPUBLIC_BLOB, bob->public_blob());
    const auto alice_pub = provider().import_blob(BCRYPT_ECCPUBLIC_BLOB, alice->public_blob());
    const cng::SecureBytes ab = alice->agree(*bob_pub);
    const cng::SecureBytes ba = bob->agree(*alice_pub);
    EXPECT_EQ(ab, ba);
    EXPECT_EQ(ab.size(), (cng::curve_bits(curve) + 7) / 8);
    const Pkey alice_priv = pkey_from_pkcs8(alice->export_private(NCRYPT_PKCS8_PRIVATE_KEY_BLOB));
    const Pkey bob_public = pkey_from_public_blob(bob->public_blob());
    EXPECT_EQ(Bytes(ab.begin(), ab.end()), openssl_derive(alice_priv.get(), bob_public.get()));
    // The peer may also be a full key object of the provider.
    EXPECT_EQ(alice->agree(*bob), ab);
  }
}

TEST(SoftwareAgree, ErrorStatuses) {
  const auto ecdh = shared_ec(KeyAlgorithm::kEcdh, Curve::kP256);
  const auto ecdsa = shared_ec(KeyAlgorithm::kEcdsa, Curve::kP256);
  const auto p384 = shared_ec(KeyAlgorithm::kEcdh, Curve::kP384);
  const auto rsa = shared_rsa(1024);
  EXPECT_EQ(status_of([&] { (void)ecdsa->agree(*ecdh); }), NTE_NOT_SUPPORTED);
  EXPECT_EQ(status_of([&] { (void)rsa->agree(*ecdh); }), NTE_NOT_SUPPORTED);
  EXPECT_EQ(status_of([&] { (void)ecdh->agree(*p384); }), NTE_INVALID_PARAMETER);
  EXPECT_EQ(status_of([&] { (void)ecdh->agree(*rsa); }), NTE_INVALID_PARAMETER);
  const auto pub = provider().import_blob(BCRYPT_ECCPUBLIC_BLOB, ecdh->public_blob());
  EXPECT_EQ(status_of([&] { (void)pub->agree(*ecdh); }), NTE_BAD_KEY);
}

}  // namespace
}  // namespace cng_test
