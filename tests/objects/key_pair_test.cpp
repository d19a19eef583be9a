// C_GenerateKeyPair over CNG keys: attributes of both objects, persistence of token keys and
// their PKCS#11 attributes, find, signatures through the open NCrypt handle, scopes, and
// session objects.
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstring>
#include <tuple>

#include "core/p11_error.h"
#include "ncrypt.h"
#include "object_test_support.h"

namespace p11::test {
namespace {

namespace fs = std::filesystem;

std::size_t key_files(const fs::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    n += e.is_regular_file() && e.path().filename().string()[0] != '.' ? 1 : 0;
  }
  return n;
}

class KeyPairTest : public ObjectLayerTest {};

TEST_F(KeyPairTest, TokenRsaPairHasEveryAttribute) {
  const auto [pub, priv] = generate_rsa(*layer_, true, "rsa one");
  EXPECT_EQ(attr_ulong(*layer_, priv, CKA_CLASS), CKO_PRIVATE_KEY);
  EXPECT_EQ(attr_ulong(*layer_, pub, CKA_CLASS), CKO_PUBLIC_KEY);
  for (const CK_OBJECT_HANDLE h : {pub, priv}) {
    EXPECT_EQ(attr_ulong(*layer_, h, CKA_KEY_TYPE), CKK_RSA);
    EXPECT_TRUE(attr_bool(*layer_, h, CKA_TOKEN));
    EXPECT_TRUE(attr_bool(*layer_, h, CKA_LOCAL));
    EXPECT_EQ(attr_ulong(*layer_, h, CKA_KEY_GEN_MECHANISM), CKM_RSA_PKCS_KEY_PAIR_GEN);
    EXPECT_EQ(attr_text(*layer_, h, CKA_LABEL), "rsa one");
    EXPECT_EQ(attr(*layer_, h, CKA_PUBLIC_EXPONENT), (Bytes{1, 0, 1}));
    EXPECT_TRUE(attr_bool(*layer_, h, CKA_MODIFIABLE));
    EXPECT_TRUE(attr_bool(*layer_, h, CKA_DESTROYABLE));
    EXPECT_FALSE(attr_bool(*layer_, h, CKA_DERIVE));
    EXPECT_EQ(attr(*layer_, h, CKA_START_DATE), Bytes{});
  }
  const Bytes modulus = *attr(*layer_, pub, CKA_MODULUS);
  EXPECT_EQ(modulus.size(), 256u);
  EXPECT_EQ(attr(*layer_, priv, CKA_MODULUS), modulus);
  EXPECT_EQ(attr_ulong(*layer_, pub, CKA_MODULUS_BITS), 2048u);
  EXPECT_EQ(attr_ulong(*layer_, priv, CKA_MODULUS_BITS), 2048u);
  // CKA_ID defaults to the NSS convention: SHA-1 of the modulus; shared by both objects.
  EXPECT_EQ(attr(*layer_, priv, CKA_ID), sha1(modulus));
  EXPECT_EQ(attr(*layer_, pub, CKA_ID), sha1(modulus));
  // Private key: sensitive, non-extractable by default, private parts unreadable.
  EXPECT_TRUE(attr_bool(*layer_, priv, CKA_PRIVATE));
  EXPECT_FALSE(attr_bool(*layer_, pub, CKA_PRIVATE));
  EXPECT_TRUE(attr_bool(*layer_, priv, CKA_SENSITIVE));
  EXPECT_FALSE(attr_bool(*layer_, priv, CKA_EXTRACTABLE));
  EXPECT_TRUE(attr_bool(*layer_, priv, CKA_ALWAYS_SENSITIVE));
  EXPECT_TRUE(attr_bool(*layer_, priv, CKA_NEVER_EXTRACTABLE));
  EXPECT_TRUE(attr_bool(*layer_, priv, CKA_SIGN));
  EXPECT_TRUE(attr_bool(*layer_, priv, CKA_DECRYPT));
  EXPECT_FALSE(attr_bool(*layer_, priv, CKA_SIGN_RECOVER));
  EXPECT_TRUE(attr_bool(*layer_, pub, CKA_VERIFY));
  EXPECT_TRUE(attr_bool(*layer_, pub, CKA_ENCRYPT));
  for (const CK_ATTRIBUTE_TYPE secret : {CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2,
                                         CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT}) {
    CK_RV rv = CKR_OK;
    EXPECT_FALSE(attr(*layer_, priv, secret, &rv));
    EXPECT_EQ(rv, CKR_ATTRIBUTE_SENSITIVE);
  }
  // SPKI on both objects, parseable, with the same modulus.
  const Bytes spki = *attr(*layer_, priv, CKA_PUBLIC_KEY_INFO);
  EXPECT_EQ(attr(*layer_, pub, CKA_PUBLIC_KEY_INFO), spki);
  const unsigned char* p = spki.data();
  EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size()));
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(EVP_PKEY_get_bits(key), 2048);
  EVP_PKEY_free(key);
  // Unique ids: distinct per object, stable.
  const std::string uid = attr_text(*layer_, priv, CKA_UNIQUE_ID);
  EXPECT_NE(uid, attr_text(*layer_, pub, CKA_UNIQUE_ID));
  EXPECT_FALSE(uid.empty());
  // The key is a file in the user store, named by the label.
  EXPECT_EQ(key_files(user_dir_), 1u);
  NCRYPT_KEY_HANDLE h = 0;
  ASSERT_EQ(NCryptOpenKey(slot_->provider(), &h, u"rsa one", 0, 0), ERROR_SUCCESS);
  NCryptFreeObject(h);
  expect_signs(*layer_, priv);
}

TEST_F(KeyPairTest, EcPairsOnEveryCurve) {
  for (const int bits : {256, 384, 521}) {
    const auto [pub, priv] = generate_ec(*layer_, true, "", bits);
    EXPECT_EQ(attr(*layer_, priv, CKA_EC_PARAMS), ec_params(bits));
    EXPECT_EQ(attr(*layer_, pub, CKA_EC_PARAMS), ec_params(bits));
    const Bytes point_der = *attr(*layer_, pub, CKA_EC_POINT);
    const std::size_t field = (static_cast<std::size_t>(bits) + 7) / 8;
    ASSERT_GE(point_der.size(), 3 + 2 * field);
    EXPECT_EQ(point_der[0], 0x04);  // OCTET STRING
    const Bytes point(point_der.end() - static_cast<std::ptrdiff_t>(1 + 2 * field),
                      point_der.end());
    EXPECT_EQ(point[0], 0x04);  // uncompressed
    // NSS convention: SHA-1 of the raw point (CKA_EC_POINT's content octets).
    EXPECT_EQ(attr(*layer_, priv, CKA_ID), sha1(point));
    EXPECT_FALSE(attr_bool(*layer_, priv, CKA_DECRYPT));
    EXPECT_FALSE(attr_bool(*layer_, pub, CKA_ENCRYPT));
    EXPECT_FALSE(attr_bool(*layer_, priv, CKA_DERIVE));
    EXPECT_FALSE(attr(*layer_, priv, CKA_MODULUS));
    CK_RV rv = CKR_OK;
    EXPECT_FALSE(attr(*layer_, priv, CKA_VALUE, &rv));
    EXPECT_EQ(rv, CKR_ATTRIBUTE_SENSITIVE);
    expect_signs(*layer_, priv);
  }
  // With CKA_DERIVE the CNG key is an ECDH key, which still signs.
  const auto [pub, priv] = generate_ec(*layer_, false, "", 256, true);
  EXPECT_TRUE(attr_bool(*layer_, priv, CKA_DERIVE));
  const KeyView v = layer_->key_view(rw_, priv);
  std::u16string alg(32, u'\0');
  DWORD size = 0;
  ASSERT_EQ(NCryptGetProperty(v.ncrypt_key, NCRYPT_ALGORITHM_PROPERTY,
                              reinterpret_cast<PBYTE>(alg.data()),
                              static_cast<DWORD>(alg.size() * 2), &size, 0),
            ERROR_SUCCESS);
  EXPECT_EQ(std::u16string(alg.c_str()), u"ECDH_P256");
  expect_signs(*layer_, priv);
  (void)pub;
}

TEST_F(KeyPairTest, NonSensitiveExtractableTokenKeyShowsItsPrivateParts) {
  Template pub;
  pub.boolean(CKA_TOKEN, true).ulong(CKA_MODULUS_BITS, 1024);
  Template priv;
  priv.boolean(CKA_TOKEN, true).boolean(CKA_SENSITIVE, false).boolean(CKA_EXTRACTABLE, true);
  CK_MECHANISM m{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
  const auto [pub_h, priv_h] = layer_->generate_key_pair(rw_, m, pub.span(), priv.span());
  EXPECT_FALSE(attr_bool(*layer_, priv_h, CKA_ALWAYS_SENSITIVE));
  EXPECT_FALSE(attr_bool(*layer_, priv_h, CKA_NEVER_EXTRACTABLE));
  const Bytes n = *attr(*layer_, priv_h, CKA_MODULUS);
  const auto p = attr(*layer_, priv_h, CKA_PRIME_1);
  const auto q = attr(*layer_, priv_h, CKA_PRIME_2);
  const auto d = attr(*layer_, priv_h, CKA_PRIVATE_EXPONENT);
  ASSERT_TRUE(p && q && d);
  BN_CTX* ctx = BN_CTX_new();
  BIGNUM* bp = BN_bin2bn(p->data(), static_cast<int>(p->size()), nullptr);
  BIGNUM* bq = BN_bin2bn(q->data(), static_cast<int>(q->size()), nullptr);
  BIGNUM* bn = BN_bin2bn(n.data(), static_cast<int>(n.size()), nullptr);
  BIGNUM* product = BN_new();
  BN_mul(product, bp, bq, ctx);
  EXPECT_EQ(BN_cmp(product, bn), 0);  // the primes really are this key's
  // d is this key's private exponent: (m^e)^d = m mod n. (Its big-endian encoding has no
  // leading zero bytes, so it may be shorter than n: about one key in 256.)
  const Bytes e = *attr(*layer_, priv_h, CKA_PUBLIC_EXPONENT);
  BIGNUM* be = BN_bin2bn(e.data(), static_cast<int>(e.size()), nullptr);
  BIGNUM* bd = BN_bin2bn(d->data(), static_cast<int>(d->size()), nullptr);
  BIGNUM* plain = BN_new();
  BIGNUM* c = BN_new();
  BIGNUM* back = BN_new();
  BN_set_word(plain, 0x1234567);
  BN_mod_exp(c, plain, be, bn, ctx);
  BN_mod_exp(back, c, bd, bn, ctx);
  EXPECT_EQ(BN_cmp(back, plain), 0);
  EXPECT_LE(d->size(), n.size());
  for (BIGNUM* b : {bp, bq, bn, product, be, bd, plain, c, back}) {
    BN_free(b);
  }
  BN_CTX_free(ctx);
  // CKA_SENSITIVE may go FALSE -> TRUE (not back); then the parts are hidden, in this layer and
  // in the next (persisted: CNG's Export Policy itself is fixed at finalize).
  Template up;
  up.boolean(CKA_SENSITIVE, true);
  layer_->set_attribute_value(rw_, priv_h, up.span());
  CK_RV rv = CKR_OK;
  EXPECT_FALSE(attr(*layer_, priv_h, CKA_PRIME_1, &rv));
  EXPECT_EQ(rv, CKR_ATTRIBUTE_SENSITIVE);
  auto other = new_layer();
  Template privs;
  privs.ulong(CKA_CLASS, CKO_PRIVATE_KEY);
  const auto found = find(*other, privs);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_TRUE(attr_bool(*other, found[0], CKA_SENSITIVE));
  EXPECT_FALSE(attr(*other, found[0], CKA_PRIVATE_EXPONENT, &rv));
  EXPECT_EQ(rv, CKR_ATTRIBUTE_SENSITIVE);
  (void)pub_h;
}

TEST_F(KeyPairTest, JavaEmptyPrivateTemplateMakesASigningSessionKey) {
  Template pub;
  pub.ulong(CKA_MODULUS_BITS, 2048).bytes(CKA_PUBLIC_EXPONENT, {1, 0, 1});
  CK_MECHANISM m{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
  const auto [pub_h, priv_h] = layer_->generate_key_pair(rw_, m, pub.span(), {});
  EXPECT_FALSE(attr_bool(*layer_, priv_h, CKA_TOKEN));
  EXPECT_TRUE(attr_bool(*layer_, priv_h, CKA_SIGN));
  EXPECT_TRUE(attr_bool(*layer_, priv_h, CKA_SENSITIVE));
  EXPECT_EQ(key_files(user_dir_), 0u);  // ephemeral: nothing stored
  expect_signs(*layer_, priv_h);
  (void)pub_h;
}

TEST_F(KeyPairTest, LabelAndIdAreModifiableAndPersisted) {
  const auto [pub, priv] = generate_ec(*layer_, true, "before");
  Template change;
  change.text(CKA_LABEL, "after").bytes(CKA_ID, {0xAB, 0xCD});
  const Bytes public_id = *attr(*layer_, pub, CKA_ID);
  layer_->set_attribute_value(rw_, priv, change.span());
  // The public object keeps its own label and id until it is changed itself.
  EXPECT_EQ(attr_text(*layer_, pub, CKA_LABEL), "before");
  EXPECT_EQ(attr(*layer_, pub, CKA_ID), public_id);
  layer_->set_attribute_value(rw_, pub, change.span());
  EXPECT_EQ(attr_text(*layer_, pub, CKA_LABEL), "after");
  EXPECT_EQ(attr(*layer_, pub, CKA_ID), (Bytes{0xAB, 0xCD}));
  Template sensitive_up;
  sensitive_up.boolean(CKA_EXTRACTABLE, false).text(CKA_START_DATE, "20250101");
  layer_->set_attribute_value(rw_, priv, sensitive_up.span());
  Template ro_change;
  ro_change.text(CKA_LABEL, "ro");
  EXPECT_THROW(layer_->set_attribute_value(ro_, priv, ro_change.span()), P11Error);

  // A new layer (another C_Initialize) reads the persisted values.
  auto other = new_layer();
  Template by_id;
  by_id.bytes(CKA_ID, {0xAB, 0xCD});
  const auto found = find(*other, by_id);
  ASSERT_EQ(found.size(), 2u);
  for (const CK_OBJECT_HANDLE h : found) {
    EXPECT_EQ(attr_text(*other, h, CKA_LABEL), "after");
    EXPECT_TRUE(attr_bool(*other, h, CKA_LOCAL));
    EXPECT_EQ(attr_ulong(*other, h, CKA_KEY_GEN_MECHANISM), CKM_EC_KEY_PAIR_GEN);
  }
  Template priv_by_label;
  priv_by_label.ulong(CKA_CLASS, CKO_PRIVATE_KEY).text(CKA_LABEL, "after");
  const auto priv_found = find(*other, priv_by_label);
  ASSERT_EQ(priv_found.size(), 1u);
  EXPECT_EQ(attr_text(*other, priv_found[0], CKA_START_DATE), "20250101");
  EXPECT_TRUE(attr_bool(*other, priv_found[0], CKA_ALWAYS_SENSITIVE));
  EXPECT_TRUE(attr_bool(*other, priv_found[0], CKA_SIGN));
  expect_signs(*other, priv_found[0]);
  // Handles are stable across finds, and never those of the first layer.
  EXPECT_EQ(find(*other, priv_by_label), priv_found);
  EXPECT_NE(priv_found[0], priv);
}

TEST_F(KeyPairTest, EachHalfKeepsItsOwnLabelAndId) {
  // A label given only to the private key is not the public key's (a search by that label
  // finds the one object the client labelled); an id given once pairs both halves.
  Template pub;
  pub.boolean(CKA_TOKEN, true).bytes(CKA_EC_PARAMS, ec_params(256));
  Template priv;
  priv.boolean(CKA_TOKEN, true).boolean(CKA_SIGN, true).text(CKA_LABEL, "only private");
  priv.bytes(CKA_ID, {7, 7});
  CK_MECHANISM m{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  const auto [pub_h, priv_h] = layer_->generate_key_pair(rw_, m, pub.span(), priv.span());
  Template by_label;
  by_label.text(CKA_LABEL, "only private");
  EXPECT_EQ(find(*layer_, by_label), std::vector<CK_OBJECT_HANDLE>{priv_h});
  EXPECT_EQ(attr_text(*layer_, pub_h, CKA_LABEL), "");
  EXPECT_EQ(attr(*layer_, pub_h, CKA_ID), (Bytes{7, 7}));

  // Different labels and ids on the two templates stay apart, also in a new layer.
  Template pub2;
  pub2.boolean(CKA_TOKEN, true).bytes(CKA_EC_PARAMS, ec_params(256)).text(CKA_LABEL, "pub2");
  pub2.bytes(CKA_ID, {1});
  Template priv2;
  priv2.boolean(CKA_TOKEN, true).boolean(CKA_SIGN, true).text(CKA_LABEL, "priv2");
  priv2.bytes(CKA_ID, {2});
  layer_->generate_key_pair(rw_, m, pub2.span(), priv2.span());
  auto other = new_layer();
  for (const auto& [label, id, cls] : {std::tuple{"pub2", Bytes{1}, CKO_PUBLIC_KEY},
                                       std::tuple{"priv2", Bytes{2}, CKO_PRIVATE_KEY},
                                       std::tuple{"only private", Bytes{7, 7}, CKO_PRIVATE_KEY}}) {
    Template t;
    t.text(CKA_LABEL, label);
    const auto found = find(*other, t);
    ASSERT_EQ(found.size(), 1u) << label;
    EXPECT_EQ(attr_ulong(*other, found[0], CKA_CLASS), cls) << label;
    EXPECT_EQ(attr(*other, found[0], CKA_ID), id) << label;
  }
  Template empty_public;
  empty_public.text(CKA_LABEL, "").ulong(CKA_CLASS, CKO_PUBLIC_KEY);
  ASSERT_EQ(find(*other, empty_public).size(), 1u);
  EXPECT_EQ(attr(*other, find(*other, empty_public)[0], CKA_ID), (Bytes{7, 7}));
}

TEST_F(KeyPairTest, FindByClassLabelIdAndToken) {
  const auto [rsa_pub, rsa_priv] = generate_rsa(*layer_, true, "shared");
  const auto [ec_pub, ec_priv] = generate_ec(*layer_, false, "shared");
  Template by_label;
  by_label.text(CKA_LABEL, "shared");
  EXPECT_EQ(find(*layer_, by_label).size(), 4u);  // a pair shares its label
  Template privs;
  privs.ulong(CKA_CLASS, CKO_PRIVATE_KEY);
  EXPECT_EQ(find(*layer_, privs), (std::vector<CK_OBJECT_HANDLE>{std::min(rsa_priv, ec_priv),
                                                                 std::max(rsa_priv, ec_priv)}));
  Template tokens;
  tokens.boolean(CKA_TOKEN, true);
  EXPECT_EQ(find(*layer_, tokens).size(), 2u);
  Template ec_by_type;
  ec_by_type.ulong(CKA_KEY_TYPE, CKK_EC).ulong(CKA_CLASS, CKO_PUBLIC_KEY);
  EXPECT_EQ(find(*layer_, ec_by_type), std::vector<CK_OBJECT_HANDLE>{ec_pub});
  Template id;
  id.bytes(CKA_ID, *attr(*layer_, rsa_pub, CKA_ID));
  EXPECT_EQ(find(*layer_, id).size(), 2u);
  Template nothing;
  nothing.text(CKA_LABEL, "missing");
  EXPECT_TRUE(find(*layer_, nothing).empty());
}

TEST_F(KeyPairTest, SessionObjectsVanishWhenTheirSessionCloses) {
  const auto [pub, priv] = generate_ec(*layer_, false, "temporary");
  const auto [tpub, tpriv] = generate_ec(*layer_, true, "kept");
  SessionContext other{777, true};
  EXPECT_EQ(layer_->find(other, Template().span()).size(), 4u);  // visible to every session
  const KeyView in_flight = layer_->key_view(rw_, priv);
  layer_->close_session(rw_.handle);
  EXPECT_EQ(layer_->find(other, Template().span()),
            (std::vector<CK_OBJECT_HANDLE>{std::min(tpub, tpriv), std::max(tpub, tpriv)}));
  CK_ATTRIBUTE a{CKA_CLASS, nullptr, 0};
  EXPECT_THROW(layer_->get_attribute_value(other, priv, {&a, 1}), P11Error);
  // An operation that started before still holds the (ephemeral) key open.
  Bytes digest(32, 7);
  DWORD size = 0;
  EXPECT_EQ(NCryptSignHash(in_flight.ncrypt_key, nullptr, digest.data(), 32, nullptr, 0, &size, 0),
            ERROR_SUCCESS);
  (void)pub;
}

TEST_F(KeyPairTest, DestroyPrivateKeyKeepsTheTokenPublicKey) {
  // PKCS#11 objects are independent (pkcs11-tool deletes privkey, then pubkey, in two
  // processes): the CNG key pair becomes a public-only key of the same name.
  const auto [pub, priv] = generate_ec(*layer_, true, "doomed");
  ASSERT_EQ(key_files(user_dir_), 1u);
  const Bytes id = *attr(*layer_, pub, CKA_ID);
  const Bytes point = *attr(*layer_, pub, CKA_EC_POINT);
  EXPECT_THROW(layer_->destroy_object(ro_, priv), P11Error);
  layer_->destroy_object(rw_, priv);
  EXPECT_EQ(key_files(user_dir_), 1u);
  CK_ATTRIBUTE a{CKA_CLASS, nullptr, 0};
  EXPECT_THROW(layer_->get_attribute_value(rw_, priv, {&a, 1}), P11Error);
  EXPECT_EQ(attr(*layer_, pub, CKA_EC_POINT), point);  // same handle, still valid
  EXPECT_EQ(find(*layer_, Template()), std::vector<CK_OBJECT_HANDLE>{pub});
  EXPECT_EQ(layer_->key_view(rw_, pub).ncrypt_key, 0u);

  // Another C_Initialize finds the public key alone, with its CKA_ID and label.
  auto second = new_layer();
  Template by_id;
  by_id.bytes(CKA_ID, id);
  const auto found = find(*second, by_id);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(attr_ulong(*second, found[0], CKA_CLASS), CKO_PUBLIC_KEY);
  EXPECT_TRUE(attr_bool(*second, found[0], CKA_TOKEN));
  EXPECT_EQ(attr_text(*second, found[0], CKA_LABEL), "doomed");
  EXPECT_EQ(attr(*second, found[0], CKA_EC_POINT), point);
  EXPECT_TRUE(attr_bool(*second, found[0], CKA_VERIFY));
  Template private_keys;
  private_keys.ulong(CKA_CLASS, CKO_PRIVATE_KEY);
  EXPECT_TRUE(find(*second, private_keys).empty());
  // Destroying it there deletes the CNG key; the first instance sees that.
  second->destroy_object(rw_, found[0]);
  EXPECT_EQ(key_files(user_dir_), 0u);
  EXPECT_TRUE(find(*layer_, Template()).empty());
  EXPECT_TRUE(find(*new_layer(), Template()).empty());

  // Destroying a public key alone while its private key exists hides it; the pair stays.
  const auto [pub2, priv2] = generate_ec(*layer_, true, "half");
  layer_->destroy_object(rw_, pub2);
  EXPECT_EQ(find(*layer_, Template()), std::vector<CK_OBJECT_HANDLE>{priv2});
  EXPECT_EQ(key_files(user_dir_), 1u);
  expect_signs(*layer_, priv2);
  // ... and destroying the private key then deletes the CNG key (no public object to keep).
  layer_->destroy_object(rw_, priv2);
  EXPECT_EQ(key_files(user_dir_), 0u);
  EXPECT_TRUE(find(*layer_, Template()).empty());
}

TEST_F(KeyPairTest, SessionPublicKeyOutlivesItsPrivateKey) {
  const auto [pub, priv] = generate_rsa(*layer_, false, "session pair");
  const Bytes modulus = *attr(*layer_, pub, CKA_MODULUS);
  layer_->destroy_object(rw_, priv);
  EXPECT_EQ(attr(*layer_, pub, CKA_MODULUS), modulus);
  EXPECT_EQ(find(*layer_, Template()), std::vector<CK_OBJECT_HANDLE>{pub});
  EXPECT_EQ(key_files(user_dir_), 0u);
  layer_->destroy_object(rw_, pub);
  EXPECT_TRUE(find(*layer_, Template()).empty());
}

TEST_F(KeyPairTest, TokenPublicKeyCreatedFoundAndDestroyedAcrossInstances) {
  const auto [session_pub, session_priv] = generate_rsa(*layer_, false);
  const Bytes modulus = *attr(*layer_, session_pub, CKA_MODULUS);
  const Bytes exponent = *attr(*layer_, session_pub, CKA_PUBLIC_EXPONENT);
  const auto public_template = [&](const Bytes& id) {
    Template t;
    t.ulong(CKA_CLASS, CKO_PUBLIC_KEY)
        .ulong(CKA_KEY_TYPE, CKK_RSA)
        .boolean(CKA_TOKEN, true)
        .boolean(CKA_VERIFY, true)
        .boolean(CKA_ENCRYPT, false)
        .bytes(CKA_MODULUS, modulus)
        .bytes(CKA_PUBLIC_EXPONENT, exponent)
        .bytes(CKA_ID, id)
        .text(CKA_LABEL, "stored peer");
    return t;
  };
  const Template t = public_template({9, 8, 7});
  EXPECT_THROW(layer_->create_object(ro_, t.span()), P11Error);  // token write needs r/w
  const CK_OBJECT_HANDLE h = layer_->create_object(rw_, t.span());
  EXPECT_EQ(key_files(user_dir_), 1u);
  EXPECT_TRUE(attr_bool(*layer_, h, CKA_TOKEN));
  EXPECT_EQ(attr(*layer_, h, CKA_PUBLIC_KEY_INFO), attr(*layer_, session_pub, CKA_PUBLIC_KEY_INFO));
  // The label was free: a second key with that label gets a generated CNG name.
  const CK_OBJECT_HANDLE h2 = layer_->create_object(rw_, public_template({1}).span());
  EXPECT_EQ(key_files(user_dir_), 2u);

  auto second = new_layer();
  Template by_id;
  by_id.bytes(CKA_ID, {9, 8, 7});
  const auto found = find(*second, by_id);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(attr_ulong(*second, found[0], CKA_CLASS), CKO_PUBLIC_KEY);
  EXPECT_EQ(attr_text(*second, found[0], CKA_LABEL), "stored peer");
  EXPECT_EQ(attr(*second, found[0], CKA_MODULUS), modulus);
  EXPECT_TRUE(attr_bool(*second, found[0], CKA_VERIFY));
  EXPECT_FALSE(attr_bool(*second, found[0], CKA_ENCRYPT));
  EXPECT_TRUE(attr_bool(*second, found[0], CKA_TOKEN));
  Template label;
  label.text(CKA_LABEL, "stored peer");
  EXPECT_EQ(find(*second, label).size(), 2u);
  Template private_keys;
  private_keys.ulong(CKA_CLASS, CKO_PRIVATE_KEY);
  EXPECT_TRUE(find(*second, private_keys).empty());
  second->destroy_object(rw_, found[0]);
  EXPECT_EQ(key_files(user_dir_), 1u);
  EXPECT_TRUE(find(*layer_, by_id).empty());
  layer_->destroy_object(rw_, h2);
  EXPECT_EQ(key_files(user_dir_), 0u);
  EXPECT_TRUE(find(*new_layer(), label).empty());
  (void)session_priv;
}

TEST_F(KeyPairTest, UserAndMachineScopesAreSeparate) {
  auto machine = new_layer(true);
  const auto [mpub, mpriv] = generate_ec(*machine, true, "machine key");
  generate_ec(*layer_, true, "user key");
  EXPECT_EQ(key_files(machine_dir_), 1u);
  EXPECT_EQ(key_files(user_dir_), 1u);
  Template machine_label;
  machine_label.text(CKA_LABEL, "machine key");
  EXPECT_TRUE(find(*layer_, machine_label).empty());
  EXPECT_EQ(find(*machine, machine_label).size(), 2u);
  // Handles are unique across slots: one slot's handle is unknown to the other.
  CK_ATTRIBUTE a{CKA_CLASS, nullptr, 0};
  EXPECT_THROW(layer_->get_attribute_value(rw_, mpriv, {&a, 1}), P11Error);
  EXPECT_THROW(layer_->key_view(rw_, mpriv), P11Error);
  // The same label in both scopes is fine: different namespaces.
  generate_ec(*machine, true, "user key");
  EXPECT_EQ(key_files(machine_dir_), 2u);
  (void)mpub;
}

TEST_F(KeyPairTest, LabelTakenFallsBackToAGeneratedName) {
  generate_ec(*layer_, true, "same");
  const auto [pub, priv] = generate_ec(*layer_, true, "same");
  EXPECT_EQ(key_files(user_dir_), 2u);
  Template same;
  same.text(CKA_LABEL, "same").ulong(CKA_CLASS, CKO_PRIVATE_KEY);
  EXPECT_EQ(find(*layer_, same).size(), 2u);
  // The second key's CNG name is generated; its label stays "same" in a new layer.
  auto other = new_layer();
  EXPECT_EQ(find(*other, same).size(), 2u);
  (void)pub;
  (void)priv;
}

TEST_F(KeyPairTest, KeyViewCarriesWhatOperationsNeed) {
  const auto [pub, priv] = generate_rsa(*layer_, false);
  const KeyView pv = layer_->key_view(rw_, priv);
  EXPECT_EQ(pv.object_class, CKO_PRIVATE_KEY);
  EXPECT_EQ(pv.key_type, CKK_RSA);
  EXPECT_EQ(pv.bits, 2048u);
  EXPECT_NE(pv.ncrypt_key, 0u);
  EXPECT_EQ(pv.ncrypt_provider, slot_->provider());
  EXPECT_TRUE(pv.can_sign && pv.can_decrypt && !pv.can_derive);
  const KeyView uv = layer_->key_view(rw_, pub);
  EXPECT_EQ(uv.ncrypt_key, 0u);
  EXPECT_TRUE(uv.can_verify && uv.can_encrypt);
  EXPECT_EQ(uv.spki_der, pv.spki_der);
  EXPECT_THROW(layer_->key_view(rw_, 0xFFFF0000UL), P11Error);
}

}  // namespace
}  // namespace p11::test
