// CKM_ECDH1_DERIVE against OpenSSL's own ECDH and X9.63 KDF; digests against EVP_Digest;
// C_GenerateRandom / C_SeedRandom.
#include <openssl/core_names.h>
#include <openssl/kdf.h>

#include <algorithm>

#include "mech_test_support.h"

namespace mechtest {
namespace {

const char* group_of(CK_ULONG bits) {
  return bits == 256 ? "P-256" : bits == 384 ? "P-384" : "P-521";
}

Pkey peer_key(CK_ULONG bits) {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group_of(bits)));
}

Bytes raw_point(EVP_PKEY* key) {
  Bytes point(200);
  std::size_t len = 0;
  EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(), &len);
  point.resize(len);
  return point;
}

Bytes der_octet_string(const Bytes& content) {
  Bytes der{0x04};
  if (content.size() >= 0x80) {
    der.push_back(0x81);
  }
  der.push_back(static_cast<std::uint8_t>(content.size()));
  der.insert(der.end(), content.begin(), content.end());
  return der;
}

// OpenSSL's ECDH between the peer's private key and our key's public half.
Bytes openssl_shared_secret(EVP_PKEY* peer, EVP_PKEY* ours) {
  cng::ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, peer, nullptr));
  EXPECT_EQ(EVP_PKEY_derive_init(ctx.get()), 1);
  EXPECT_EQ(EVP_PKEY_derive_set_peer(ctx.get(), ours), 1);
  std::size_t len = 0;
  EXPECT_EQ(EVP_PKEY_derive(ctx.get(), nullptr, &len), 1);
  Bytes secret(len);
  EXPECT_EQ(EVP_PKEY_derive(ctx.get(), secret.data(), &len), 1);
  secret.resize(len);
  return secret;
}

// OpenSSL's X963KDF implementation, independent of ours.
Bytes openssl_x963(const char* md_name, const Bytes& secret, const Bytes& info, std::size_t len) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "X963KDF", nullptr);
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  std::string digest_name(md_name);
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest_name.data(), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                        const_cast<std::uint8_t*>(secret.data()), secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<std::uint8_t*>(info.data()),
                                        info.size()),
      OSSL_PARAM_construct_end()};
  Bytes out(len);
  EXPECT_EQ(EVP_KDF_derive(ctx, out.data(), out.size(), params), 1);
  EVP_KDF_CTX_free(ctx);
  EVP_KDF_free(kdf);
  return out;
}

Bytes derive(const TestKey& key, CK_ULONG kdf, const Bytes& shared, const Bytes& point,
             CK_ULONG value_len, p11::KeyView view) {
  CK_ECDH1_DERIVE_PARAMS params{kdf, shared.size(),
                                shared.empty() ? nullptr : const_cast<std::uint8_t*>(shared.data()),
                                point.size(), const_cast<std::uint8_t*>(point.data())};
  const CK_MECHANISM m = mechanism(CKM_ECDH1_DERIVE, &params, sizeof(params));
  static_cast<void>(key);
  return p11::ecdh_derive(m, view, value_len, software_caps());
}

class EcdhTest : public ::testing::TestWithParam<CK_ULONG> {};

TEST_P(EcdhTest, RawSecretEqualsOpenSsl) {
  const TestKey& key = ec_key(GetParam(), true);
  const Pkey peer = peer_key(GetParam());
  const Bytes expected = openssl_shared_secret(peer.get(), key.pub.get());
  const Bytes point = raw_point(peer.get());
  EXPECT_EQ(derive(key, CKD_NULL, {}, point, 0, key.private_view()), expected);
  // The CKA_EC_POINT form (DER OCTET STRING) too.
  EXPECT_EQ(derive(key, CKD_NULL, {}, der_octet_string(point), 0, key.private_view()), expected);
  // A shorter value keeps the leading bytes.
  EXPECT_EQ(derive(key, CKD_NULL, {}, point, 16, key.private_view()),
            Bytes(expected.begin(), expected.begin() + 16));
  EXPECT_EQ(rv_of([&] {
              derive(key, CKD_NULL, {}, point, static_cast<CK_ULONG>(expected.size() + 1),
                     key.private_view());
            }),
            CKR_TEMPLATE_INCONSISTENT);
}

TEST_P(EcdhTest, X963KdfEqualsOpenSsl) {
  const TestKey& key = ec_key(GetParam(), true);
  const Pkey peer = peer_key(GetParam());
  const Bytes secret = openssl_shared_secret(peer.get(), key.pub.get());
  const Bytes point = raw_point(peer.get());
  const Bytes info{'s', 'h', 'a', 'r', 'e', 'd'};
  struct Kdf {
    CK_ULONG kdf;
    const char* md_name;
    std::size_t natural;
  };
  for (const Kdf& k : {Kdf{CKD_SHA1_KDF, "SHA1", 20}, Kdf{CKD_SHA224_KDF, "SHA224", 28},
                       Kdf{CKD_SHA256_KDF, "SHA256", 32}, Kdf{CKD_SHA384_KDF, "SHA384", 48},
                       Kdf{CKD_SHA512_KDF, "SHA512", 64}}) {
    SCOPED_TRACE(k.md_name);
    EXPECT_EQ(derive(key, k.kdf, info, point, 100, key.private_view()),
              openssl_x963(k.md_name, secret, info, 100));
    EXPECT_EQ(derive(key, k.kdf, {}, point, 0, key.private_view()),
              openssl_x963(k.md_name, secret, {}, k.natural));
  }
}

TEST_P(EcdhTest, BadPeerPointsAreParamInvalid) {
  const TestKey& key = ec_key(GetParam(), true);
  Bytes point = raw_point(peer_key(GetParam()).get());
  auto rv = [&](const Bytes& p) {
    return rv_of([&] { derive(key, CKD_NULL, {}, p, 0, key.private_view()); });
  };
  Bytes off_curve = point;
  off_curve.back() ^= 0x01;
  EXPECT_EQ(rv(off_curve), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(rv(Bytes(point.begin(), point.end() - 1)), CKR_MECHANISM_PARAM_INVALID);
  Bytes compressed_tag = point;
  compressed_tag[0] = 0x02;
  EXPECT_EQ(rv(compressed_tag), CKR_MECHANISM_PARAM_INVALID);
  // A point of another curve.
  const CK_ULONG other = GetParam() == 256 ? 384 : 256;
  EXPECT_EQ(rv(raw_point(peer_key(other).get())), CKR_MECHANISM_PARAM_INVALID);
}

INSTANTIATE_TEST_SUITE_P(Curves, EcdhTest, ::testing::Values(256, 384, 521));

TEST(Ecdh, ParameterAndKeyErrors) {
  const TestKey& key = ec_key(256, true);
  const Bytes point = raw_point(peer_key(256).get());
  const p11::KeyView good = key.private_view();
  EXPECT_EQ(rv_of([&] {
              derive(key, CKD_NULL, {1, 2}, point, 0, good);
            }),
            CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(rv_of([&] { derive(key, 0x4242, {}, point, 0, good); }), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(rv_of([&] { derive(key, CKD_NULL, {}, {}, 0, good); }), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(rv_of([&] { derive(key, CKD_SHA256_KDF, {}, point, CK_ULONG{1} << 30, good); }),
            CKR_TEMPLATE_INCONSISTENT);
  const CK_MECHANISM no_params = mechanism(CKM_ECDH1_DERIVE);
  EXPECT_EQ(rv_of([&] { p11::ecdh_derive(no_params, good, 0, software_caps()); }),
            CKR_MECHANISM_PARAM_INVALID);

  p11::KeyView no_derive = good;
  no_derive.can_derive = false;
  EXPECT_EQ(rv_of([&] { derive(key, CKD_NULL, {}, point, 0, no_derive); }),
            CKR_KEY_FUNCTION_NOT_PERMITTED);
  EXPECT_EQ(rv_of([&] { derive(key, CKD_NULL, {}, point, 0, key.public_view()); }),
            CKR_KEY_TYPE_INCONSISTENT);
  EXPECT_EQ(rv_of([&] { derive(key, CKD_NULL, {}, point, 0, rsa2048().private_view()); }),
            CKR_KEY_TYPE_INCONSISTENT);
  p11::KeyView restricted = good;
  restricted.allowed_mechanisms = {CKM_ECDSA};
  EXPECT_EQ(rv_of([&] { derive(key, CKD_NULL, {}, point, 0, restricted); }), CKR_MECHANISM_INVALID);
  // An ECDSA CNG key cannot agree, whatever the object says.
  const TestKey& ecdsa_key = ec_key(256, false);
  EXPECT_EQ(rv_of([&] { derive(ecdsa_key, CKD_NULL, {}, point, 0, ecdsa_key.private_view()); }),
            CKR_KEY_FUNCTION_NOT_PERMITTED);
  const CK_MECHANISM not_derive = mechanism(CKM_ECDSA);
  EXPECT_EQ(rv_of([&] { p11::ecdh_derive(not_derive, good, 0, software_caps()); }),
            CKR_MECHANISM_INVALID);
}

TEST(Digest, EqualsOpenSslOneShotAndMultiPart) {
  const Bytes data = random_bytes(5000);
  struct Case {
    CK_MECHANISM_TYPE type;
    const char* md_name;
  };
  for (const Case& c :
       {Case{CKM_SHA_1, "SHA1"}, Case{CKM_SHA224, "SHA224"}, Case{CKM_SHA256, "SHA256"},
        Case{CKM_SHA384, "SHA384"}, Case{CKM_SHA512, "SHA512"}}) {
    SCOPED_TRACE(c.md_name);
    const CK_MECHANISM m = mechanism(c.type);
    const Bytes expected = digest(c.md_name, data);
    auto one = p11::start_operation(p11::OpKind::kDigest, m, nullptr, software_caps());
    EXPECT_TRUE(one->multi_part());
    EXPECT_EQ(one->output_size(), expected.size());
    EXPECT_EQ(one->one_shot(data), expected);
    auto multi = p11::start_operation(p11::OpKind::kDigest, m, nullptr, software_caps());
    for (std::size_t at = 0; at < data.size(); at += 999) {
      multi->update({data.data() + at, std::min<std::size_t>(999, data.size() - at)});
    }
    EXPECT_EQ(multi->final(), expected);
    EXPECT_EQ(rv_of([&] { static_cast<void>(multi->final()); }), CKR_OPERATION_NOT_INITIALIZED);
    auto empty = p11::start_operation(p11::OpKind::kDigest, m, nullptr, software_caps());
    EXPECT_EQ(empty->final(), digest(c.md_name, {}));
  }
}

TEST(Random, GeneratesAndSeeds) {
  Bytes a(64, 0);
  Bytes b(64, 0);
  p11::generate_random(a);
  p11::generate_random(b);
  EXPECT_NE(a, b);
  EXPECT_NE(a, Bytes(64, 0));
  EXPECT_NO_THROW(p11::generate_random({}));
  EXPECT_NO_THROW(p11::seed_random(a));
  EXPECT_NO_THROW(p11::seed_random({}));
  Bytes big(1 << 20, 0);
  p11::generate_random(big);
  EXPECT_GT(std::count(big.begin(), big.end(), 0), 0);  // ~4096 zeros expected, not all
  EXPECT_LT(std::count(big.begin(), big.end(), 0), 1 << 14);
}

}  // namespace
}  // namespace mechtest
