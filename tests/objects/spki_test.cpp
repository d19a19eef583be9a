// CKA_PUBLIC_KEY_INFO is DER-encoded by hand (bridge::spki_der): it must equal OpenSSL's own
// SubjectPublicKeyInfo encoding for every key kind the module shows.
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "bridge/key_blobs.h"
#include "cng_common/ossl_ptr.h"

namespace p11 {
namespace {

using Pkey = cng::ossl::PkeyPtr;

Bytes openssl_spki(EVP_PKEY* key) {
  const int len = i2d_PUBKEY(key, nullptr);
  Bytes out(static_cast<std::size_t>(len > 0 ? len : 0));
  unsigned char* p = out.data();
  i2d_PUBKEY(key, &p);
  return out;
}

Bytes bn_param(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &bn), 1);
  Bytes out(static_cast<std::size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  BN_free(bn);
  return out;
}

TEST(Spki, RsaMatchesOpenSsl) {
  for (const std::size_t bits : {1024U, 2048U}) {
    Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits));
    ASSERT_NE(key, nullptr);
    bridge::PublicKeyValues values;
    values.key_type = CKK_RSA;
    values.modulus = bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N);
    values.public_exponent = bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E);
    values.bits = bits;
    EXPECT_EQ(bridge::spki_der(values), openssl_spki(key.get())) << bits;
  }
}

TEST(Spki, EcMatchesOpenSslOnEveryCurve) {
  // DER OIDs of P-256, P-384, P-521 (CKA_EC_PARAMS).
  const std::vector<std::pair<std::string, Bytes>> curves = {
      {"P-256", {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}},
      {"P-384", {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}},
      {"P-521", {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23}},
  };
  for (const auto& [name, params] : curves) {
    Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", name.c_str()));
    ASSERT_NE(key, nullptr);
    bridge::PublicKeyValues values;
    values.key_type = CKK_EC;
    values.curve = bridge::curve_by_params(params);
    ASSERT_NE(values.curve, nullptr) << name;
    std::size_t len = 0;
    ASSERT_EQ(EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0, &len),
              1);
    values.point.resize(len);
    ASSERT_EQ(EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                              values.point.data(), len, &len),
              1);
    EXPECT_EQ(bridge::spki_der(values), openssl_spki(key.get())) << name;
  }
}

TEST(Spki, IntegersAreMinimalAndNonNegative) {
  EXPECT_EQ(bridge::der_integer(Bytes{0x00, 0x00, 0x7f}), (Bytes{0x02, 0x01, 0x7f}));
  EXPECT_EQ(bridge::der_integer(Bytes{0x80}), (Bytes{0x02, 0x02, 0x00, 0x80}));
  EXPECT_EQ(bridge::der_integer(Bytes{}), (Bytes{0x02, 0x01, 0x00}));
  EXPECT_EQ(bridge::der_integer(Bytes{0x01, 0x00, 0x01}), (Bytes{0x02, 0x03, 0x01, 0x00, 0x01}));
}

}  // namespace
}  // namespace p11
