// C_CreateObject of keys (import through NCryptImportKey), C_CopyObject (the keytool and
// pkcs11-provider paths), and C_DeriveKey (ECDH) over the object layer.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "core/p11_error.h"
#include "object_test_support.h"

namespace p11::test {
namespace {

namespace fs = std::filesystem;

Bytes bn_param(EVP_PKEY* key, const char* name, std::size_t pad = 0) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &bn), 1) << name;
  Bytes out(std::max(pad, static_cast<std::size_t>(BN_num_bytes(bn))));
  BN_bn2binpad(bn, out.data(), static_cast<int>(out.size()));
  BN_clear_free(bn);
  return out;
}

std::size_t key_files(const fs::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    n += e.is_regular_file() && e.path().filename().string()[0] != '.' ? 1 : 0;
  }
  return n;
}

class ImportCopyTest : public ObjectLayerTest {
 protected:
  CK_RV rv_of(const std::function<void()>& f) {
    try {
      f();
    } catch (const P11Error& e) {
      return e.rv();
    }
    return CKR_OK;
  }
};

TEST_F(ImportCopyTest, ImportRsaPrivateKeyAndSign) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  ASSERT_NE(key, nullptr);
  const Bytes n = bn_param(key, OSSL_PKEY_PARAM_RSA_N);
  Template t;
  t.ulong(CKA_CLASS, CKO_PRIVATE_KEY)
      .ulong(CKA_KEY_TYPE, CKK_RSA)
      .boolean(CKA_TOKEN, true)
      .boolean(CKA_PRIVATE, true)
      .text(CKA_ID, "alias")
      .bytes(CKA_MODULUS, n)
      .bytes(CKA_PUBLIC_EXPONENT, bn_param(key, OSSL_PKEY_PARAM_RSA_E))
      .bytes(CKA_PRIVATE_EXPONENT, bn_param(key, OSSL_PKEY_PARAM_RSA_D))
      .bytes(CKA_PRIME_1, bn_param(key, OSSL_PKEY_PARAM_RSA_FACTOR1))
      .bytes(CKA_PRIME_2, bn_param(key, OSSL_PKEY_PARAM_RSA_FACTOR2))
      .bytes(CKA_EXPONENT_1, bn_param(key, OSSL_PKEY_PARAM_RSA_EXPONENT1))
      .bytes(CKA_EXPONENT_2, bn_param(key, OSSL_PKEY_PARAM_RSA_EXPONENT2))
      .bytes(CKA_COEFFICIENT, bn_param(key, OSSL_PKEY_PARAM_RSA_COEFFICIENT1));
  EVP_PKEY_free(key);
  EXPECT_EQ(rv_of([&] { layer_->create_object(ro_, t.span()); }), CKR_SESSION_READ_ONLY);
  const CK_OBJECT_HANDLE priv = layer_->create_object(rw_, t.span());
  EXPECT_EQ(key_files(user_dir_), 1u);
  EXPECT_EQ(attr(*layer_, priv, CKA_MODULUS), n);
  EXPECT_FALSE(attr_bool(*layer_, priv, CKA_LOCAL));
  EXPECT_FALSE(attr_bool(*layer_, priv, CKA_ALWAYS_SENSITIVE));
  EXPECT_EQ(attr_ulong(*layer_, priv, CKA_KEY_GEN_MECHANISM), CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(attr_text(*layer_, priv, CKA_ID), "alias");
  CK_RV rv = CKR_OK;
  EXPECT_FALSE(attr(*layer_, priv, CKA_PRIVATE_EXPONENT, &rv));
  EXPECT_EQ(rv, CKR_ATTRIBUTE_SENSITIVE);
  expect_signs(*layer_, priv);
  // A new layer finds it by id, with its history.
  auto other = new_layer();
  Template by_id;
  by_id.text(CKA_ID, "alias").ulong(CKA_CLASS, CKO_PRIVATE_KEY);
  const auto found = find(*other, by_id);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_FALSE(attr_bool(*other, found[0], CKA_LOCAL));
  expect_signs(*other, found[0]);
}

TEST_F(ImportCopyTest, ImportExtractableEcKeyReadsBackItsValue) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  ASSERT_NE(key, nullptr);
  const Bytes d = bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, 32);
  EVP_PKEY_free(key);
  Template t;
  t.ulong(CKA_CLASS, CKO_PRIVATE_KEY)
      .ulong(CKA_KEY_TYPE, CKK_EC)
      .bytes(CKA_EC_PARAMS, ec_params(256))
      .bytes(CKA_VALUE, d)
      .boolean(CKA_SENSITIVE, false)
      .boolean(CKA_EXTRACTABLE, true)
      .bytes(0xD5A0DB00UL, {0x04, 0x01});  // CKA_NETSCAPE_DB, as Java adds it: accepted
  const CK_OBJECT_HANDLE priv = layer_->create_object(rw_, t.span());
  EXPECT_EQ(attr(*layer_, priv, CKA_VALUE), d);
  EXPECT_EQ(key_files(user_dir_), 0u);  // session key
  expect_signs(*layer_, priv);
  // Missing or bad parts.
  Template no_value;
  no_value.ulong(CKA_CLASS, CKO_PRIVATE_KEY)
      .ulong(CKA_KEY_TYPE, CKK_EC)
      .bytes(CKA_EC_PARAMS, ec_params(256));
  EXPECT_EQ(rv_of([&] { layer_->create_object(rw_, no_value.span()); }), CKR_TEMPLATE_INCOMPLETE);
  Template zero = no_value;
  zero.bytes(CKA_VALUE, Bytes(32, 0));
  EXPECT_EQ(rv_of([&] { layer_->create_object(rw_, zero.span()); }), CKR_ATTRIBUTE_VALUE_INVALID);
  Template local = no_value;
  local.bytes(CKA_VALUE, d).boolean(CKA_LOCAL, true);
  EXPECT_EQ(rv_of([&] { layer_->create_object(rw_, local.span()); }), CKR_ATTRIBUTE_READ_ONLY);
}

TEST_F(ImportCopyTest, SessionPublicKeyObjects) {
  const auto [pub, priv] = generate_ec(*layer_, false);
  const Bytes point = *attr(*layer_, pub, CKA_EC_POINT);
  Template t;
  t.ulong(CKA_CLASS, CKO_PUBLIC_KEY)
      .ulong(CKA_KEY_TYPE, CKK_EC)
      .bytes(CKA_EC_PARAMS, ec_params(256))
      .bytes(CKA_EC_POINT, point)
      .text(CKA_LABEL, "peer");
  const CK_OBJECT_HANDLE h = layer_->create_object(rw_, t.span());
  EXPECT_EQ(attr(*layer_, h, CKA_PUBLIC_KEY_INFO), attr(*layer_, pub, CKA_PUBLIC_KEY_INFO));
  const KeyView v = layer_->key_view(rw_, h);
  EXPECT_EQ(v.ncrypt_key, 0u);
  EXPECT_EQ(v.bits, 256u);
  Template bad_point;
  bad_point.ulong(CKA_CLASS, CKO_PUBLIC_KEY)
      .ulong(CKA_KEY_TYPE, CKK_EC)
      .bytes(CKA_EC_PARAMS, ec_params(256))
      .bytes(CKA_EC_POINT, Bytes(65, 4));
  EXPECT_EQ(rv_of([&] { layer_->create_object(rw_, bad_point.span()); }),
            CKR_ATTRIBUTE_VALUE_INVALID);
  (void)priv;
}

TEST_F(ImportCopyTest, KeytoolCopiesItsSessionKeyToTheToken) {
  // keytool -genkeypair -providername: session key pair, Java's empty private template...
  Template pub;
  pub.bytes(CKA_EC_PARAMS, ec_params(256));
  CK_MECHANISM m{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  // Named handles, not a structured binding: lambdas capture them (clang 14).
  const auto pub_h_priv_h = layer_->generate_key_pair(rw_, m, pub.span(), {});
  const CK_OBJECT_HANDLE pub_h = pub_h_priv_h.first;
  const CK_OBJECT_HANDLE priv_h = pub_h_priv_h.second;
  ASSERT_EQ(key_files(user_dir_), 0u);
  // ...then C_CopyObject(session key -> {CKA_TOKEN=TRUE, CKA_ID=alias, CKA_NETSCAPE_DB}).
  const Bytes point = *attr(*layer_, pub_h, CKA_EC_POINT);
  Template copy;
  copy.boolean(CKA_TOKEN, true).text(CKA_ID, "java-ec").bytes(0xD5A0DB00UL, point);
  EXPECT_EQ(rv_of([&] { layer_->copy_object(ro_, priv_h, copy.span()); }), CKR_SESSION_READ_ONLY);
  const CK_OBJECT_HANDLE token_key = layer_->copy_object(rw_, priv_h, copy.span());
  EXPECT_EQ(key_files(user_dir_), 1u);
  EXPECT_TRUE(attr_bool(*layer_, token_key, CKA_TOKEN));
  EXPECT_EQ(attr_text(*layer_, token_key, CKA_ID), "java-ec");
  // Still sensitive and never extractable: the material never left the token.
  EXPECT_TRUE(attr_bool(*layer_, token_key, CKA_SENSITIVE));
  EXPECT_TRUE(attr_bool(*layer_, token_key, CKA_NEVER_EXTRACTABLE));
  EXPECT_TRUE(attr_bool(*layer_, token_key, CKA_LOCAL));
  CK_RV rv = CKR_OK;
  EXPECT_FALSE(attr(*layer_, token_key, CKA_VALUE, &rv));
  EXPECT_EQ(rv, CKR_ATTRIBUTE_SENSITIVE);
  expect_signs(*layer_, token_key);
  // The same key: its public value matches the session key's.
  Template by_id;
  by_id.text(CKA_ID, "java-ec").ulong(CKA_CLASS, CKO_PUBLIC_KEY);
  const auto token_pub = find(*layer_, by_id);
  ASSERT_EQ(token_pub.size(), 1u);
  EXPECT_EQ(attr(*layer_, token_pub[0], CKA_EC_POINT), point);
  // Another process (layer) sees it; and its Export Policy is non-exportable.
  auto other = new_layer();
  Template priv_by_id;
  priv_by_id.text(CKA_ID, "java-ec").ulong(CKA_CLASS, CKO_PRIVATE_KEY);
  const auto found = find(*other, priv_by_id);
  ASSERT_EQ(found.size(), 1u);
  const KeyView v = other->key_view(rw_, found[0]);
  DWORD policy = 0xFF;
  DWORD size = 0;
  ASSERT_EQ(NCryptGetProperty(v.ncrypt_key, NCRYPT_EXPORT_POLICY_PROPERTY,
                              reinterpret_cast<PBYTE>(&policy), sizeof policy, &size, 0),
            ERROR_SUCCESS);
  EXPECT_EQ(policy, 0u);
  // A token key that is not exportable cannot be copied to another token key: the policy of
  // the token forbids it (CKR_ACTION_PROHIBITED; C_CopyObject has no CKR_KEY_UNEXTRACTABLE).
  Template again;
  again.text(CKA_LABEL, "second");
  EXPECT_EQ(rv_of([&] { layer_->copy_object(rw_, token_key, again.span()); }),
            CKR_ACTION_PROHIBITED);
}

TEST_F(ImportCopyTest, TokenKeyCopiedToSessionSharesTheCngKey) {
  // Named handles, not a structured binding: lambdas capture them (clang 14).
  const auto pub_priv = generate_rsa(*layer_, true, "provider");
  const CK_OBJECT_HANDLE pub = pub_priv.first;
  const CK_OBJECT_HANDLE priv = pub_priv.second;
  Template to_session;
  to_session.boolean(CKA_TOKEN, false).text(CKA_LABEL, "session copy");
  const CK_OBJECT_HANDLE copy = layer_->copy_object(ro_, priv, to_session.span());
  EXPECT_FALSE(attr_bool(*layer_, copy, CKA_TOKEN));
  EXPECT_EQ(attr_text(*layer_, copy, CKA_LABEL), "session copy");
  EXPECT_EQ(attr_text(*layer_, priv, CKA_LABEL), "provider");  // the original is unchanged
  EXPECT_EQ(key_files(user_dir_), 1u);
  expect_signs(*layer_, copy);
  // Read-only attributes cannot be changed by a copy.
  Template modulus;
  modulus.bytes(CKA_MODULUS, {1, 2, 3});
  EXPECT_EQ(rv_of([&] { layer_->copy_object(rw_, priv, modulus.span()); }),
            CKR_ATTRIBUTE_READ_ONLY);
  // Destroying the token private key leaves only the public key in the store; the session
  // copy keeps working on the key it was made from.
  layer_->destroy_object(rw_, priv);
  EXPECT_EQ(key_files(user_dir_), 1u);
  expect_signs(*layer_, copy);
  layer_->close_session(ro_.handle);
  EXPECT_EQ(find(*layer_, Template()), std::vector<CK_OBJECT_HANDLE>{pub});
}

TEST_F(ImportCopyTest, CertificateCopies) {
  const auto [pub, priv] = generate_ec(*layer_, false);
  const Bytes der = make_certificate(*attr(*layer_, pub, CKA_PUBLIC_KEY_INFO), "copy", 9);
  Template t;
  t.ulong(CKA_CLASS, CKO_CERTIFICATE).ulong(CKA_CERTIFICATE_TYPE, CKC_X_509).bytes(CKA_VALUE, der);
  const CK_OBJECT_HANDLE session_cert = layer_->create_object(rw_, t.span());
  Template to_token;
  to_token.boolean(CKA_TOKEN, true).text(CKA_LABEL, "stored");
  const CK_OBJECT_HANDLE token_cert = layer_->copy_object(rw_, session_cert, to_token.span());
  EXPECT_NE(token_cert, session_cert);
  EXPECT_TRUE(fs::exists(user_dir_ / "certs"));
  auto other = new_layer();
  Template stored;
  stored.text(CKA_LABEL, "stored");
  EXPECT_EQ(find(*other, stored).size(), 1u);
  (void)priv;
}

TEST_F(ImportCopyTest, EcdhDeriveMakesASessionSecret) {
  const auto [pub_a, priv_a] = generate_ec(*layer_, false, "a", 256, true);
  const auto [pub_b, priv_b] = generate_ec(*layer_, false, "b", 256, true);
  const Bytes point_b_der = *attr(*layer_, pub_b, CKA_EC_POINT);
  const Bytes point_a_der = *attr(*layer_, pub_a, CKA_EC_POINT);
  const auto derive = [&](CK_OBJECT_HANDLE base, const Bytes& peer) {
    CK_ECDH1_DERIVE_PARAMS params{CKD_NULL, 0, nullptr, static_cast<CK_ULONG>(peer.size() - 2),
                                  const_cast<std::uint8_t*>(peer.data() + 2)};
    CK_MECHANISM m{CKM_ECDH1_DERIVE, &params, sizeof params};
    Template t;
    t.ulong(CKA_CLASS, CKO_SECRET_KEY)
        .ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET)
        .boolean(CKA_SENSITIVE, false)
        .boolean(CKA_EXTRACTABLE, true);
    return layer_->derive_key(rw_, m, base, t.span());
  };
  const CK_OBJECT_HANDLE s1 = derive(priv_a, point_b_der);
  const CK_OBJECT_HANDLE s2 = derive(priv_b, point_a_der);
  const auto v1 = attr(*layer_, s1, CKA_VALUE);
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->size(), 32u);
  EXPECT_EQ(v1, attr(*layer_, s2, CKA_VALUE));
  EXPECT_EQ(attr_ulong(*layer_, s1, CKA_VALUE_LEN), 32u);
  EXPECT_EQ(attr_ulong(*layer_, s1, CKA_CLASS), CKO_SECRET_KEY);
  EXPECT_FALSE(attr_bool(*layer_, s1, CKA_LOCAL));
  // A key without CKA_DERIVE may not.
  // Named handles, not a structured binding: lambdas capture them (clang 14).
  const auto pub_c_priv_c = generate_ec(*layer_, false);
  const CK_OBJECT_HANDLE pub_c = pub_c_priv_c.first;
  const CK_OBJECT_HANDLE priv_c = pub_c_priv_c.second;
  EXPECT_EQ(rv_of([&] { derive(priv_c, point_b_der); }), CKR_KEY_FUNCTION_NOT_PERMITTED);
  (void)pub_c;
}

}  // namespace
}  // namespace p11::test
