// Token objects and the key store: keys made directly through NCrypt show up, and changes by
// other processes (real child processes) are seen without restarting.
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

#include "core/p11_error.h"
#include "ncrypt.h"
#include "object_test_support.h"

namespace p11::test {
namespace {

class KeyStoreSyncTest : public ObjectLayerTest {
 protected:
  // Runs f in a child process (a separate NCrypt/model instance) and waits for it.
  static void in_child(const std::function<bool()>& f) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      bool ok = false;
      try {
        ok = f();
      } catch (...) {
      }
      ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
  }

  static bool make_ncrypt_key(const char16_t* name, const char16_t* alg, DWORD bits) {
    NCRYPT_PROV_HANDLE prov = 0;
    NCRYPT_KEY_HANDLE key = 0;
    if (NCryptOpenStorageProvider(&prov, MS_KEY_STORAGE_PROVIDER, 0) != ERROR_SUCCESS ||
        NCryptCreatePersistedKey(prov, &key, alg, name, 0, 0) != ERROR_SUCCESS) {
      return false;
    }
    bool ok = true;
    if (bits != 0) {
      ok = NCryptSetProperty(key, NCRYPT_LENGTH_PROPERTY, reinterpret_cast<PBYTE>(&bits),
                             sizeof bits, 0) == ERROR_SUCCESS;
    }
    ok = ok && NCryptFinalizeKey(key, 0) == ERROR_SUCCESS;
    NCryptFreeObject(key);
    NCryptFreeObject(prov);
    return ok;
  }
};

TEST_F(KeyStoreSyncTest, KeysMadeThroughNcryptAppearWithNssIds) {
  ASSERT_TRUE(make_ncrypt_key(u"cngkey-rsa", NCRYPT_RSA_ALGORITHM, 2048));
  ASSERT_TRUE(make_ncrypt_key(u"cngkey-ec", NCRYPT_ECDSA_P384_ALGORITHM, 0));
  Template rsa;
  rsa.text(CKA_LABEL, "cngkey-rsa").ulong(CKA_CLASS, CKO_PUBLIC_KEY);
  const auto found = find(*layer_, rsa);
  ASSERT_EQ(found.size(), 1u);
  const Bytes modulus = *attr(*layer_, found[0], CKA_MODULUS);
  EXPECT_EQ(attr(*layer_, found[0], CKA_ID), sha1(modulus));
  EXPECT_EQ(attr_ulong(*layer_, found[0], CKA_MODULUS_BITS), 2048u);
  Template ec;
  ec.text(CKA_LABEL, "cngkey-ec").ulong(CKA_CLASS, CKO_PRIVATE_KEY);
  const auto ec_found = find(*layer_, ec);
  ASSERT_EQ(ec_found.size(), 1u);
  const CK_OBJECT_HANDLE priv = ec_found[0];
  EXPECT_EQ(attr(*layer_, priv, CKA_EC_PARAMS), ec_params(384));
  Template pub_by_id;
  pub_by_id.bytes(CKA_ID, *attr(*layer_, priv, CKA_ID)).ulong(CKA_CLASS, CKO_PUBLIC_KEY);
  const auto pub = find(*layer_, pub_by_id);
  ASSERT_EQ(pub.size(), 1u);
  const Bytes point_der = *attr(*layer_, pub[0], CKA_EC_POINT);
  EXPECT_EQ(attr(*layer_, priv, CKA_ID), sha1(Bytes(point_der.begin() + 2, point_der.end())));
  // CNG recorded no PKCS#11 history: the conservative answers.
  EXPECT_FALSE(attr_bool(*layer_, priv, CKA_LOCAL));
  EXPECT_FALSE(attr_bool(*layer_, priv, CKA_ALWAYS_SENSITIVE));
  EXPECT_EQ(attr_ulong(*layer_, priv, CKA_KEY_GEN_MECHANISM), CK_UNAVAILABLE_INFORMATION);
  EXPECT_TRUE(attr_bool(*layer_, priv, CKA_SENSITIVE));  // Export Policy 0
  EXPECT_FALSE(attr_bool(*layer_, priv, CKA_EXTRACTABLE));
  EXPECT_TRUE(attr_bool(*layer_, priv, CKA_SIGN));     // Key Usage: all
  EXPECT_FALSE(attr_bool(*layer_, priv, CKA_DERIVE));  // an ECDSA key cannot agree
  expect_signs(*layer_, priv);
}

TEST_F(KeyStoreSyncTest, KeyFromAnotherProcessIsFoundAndItsDeletionIsSeen) {
  Template all_private;
  all_private.ulong(CKA_CLASS, CKO_PRIVATE_KEY);
  EXPECT_TRUE(find(*layer_, all_private).empty());  // loads the (empty) store
  in_child([] {
    auto slot = open_slot(false);
    auto layer = ObjectLayer::create(*slot);
    Template pub;
    pub.bytes(CKA_EC_PARAMS, ec_params(256));
    Template priv;
    priv.boolean(CKA_TOKEN, true).text(CKA_LABEL, "from child").bytes(CKA_ID, {1, 2, 3});
    CK_MECHANISM m{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
    layer->generate_key_pair(SessionContext{1, true}, m, pub.span(), priv.span());
    return true;
  });
  Template by_id;
  by_id.bytes(CKA_ID, {1, 2, 3});
  const auto found = find(*layer_, by_id);
  ASSERT_EQ(found.size(), 2u);
  const auto again = find(*layer_, all_private);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(attr_text(*layer_, again[0], CKA_LABEL), "from child");
  const KeyView in_flight = layer_->key_view(rw_, again[0]);

  // Another process relabels both halves, then deletes the private key.
  in_child([] {
    auto slot = open_slot(false);
    auto layer = ObjectLayer::create(*slot);
    Template pair_by_id;
    pair_by_id.bytes(CKA_ID, {1, 2, 3});
    const auto h = layer->find(SessionContext{1, true}, pair_by_id.span());
    if (h.size() != 2) {
      return false;
    }
    Template label;
    label.text(CKA_LABEL, "renamed");
    for (const CK_OBJECT_HANDLE one : h) {
      layer->set_attribute_value(SessionContext{1, true}, one, label.span());
    }
    return true;
  });
  Template renamed;
  renamed.text(CKA_LABEL, "renamed");
  EXPECT_EQ(find(*layer_, renamed), found);  // same handles, new label
  in_child([] {
    auto slot = open_slot(false);
    auto layer = ObjectLayer::create(*slot);
    Template by_label;
    by_label.text(CKA_LABEL, "renamed").ulong(CKA_CLASS, CKO_PRIVATE_KEY);
    const auto h = layer->find(SessionContext{1, true}, by_label.span());
    if (h.size() != 1) {
      return false;
    }
    layer->destroy_object(SessionContext{1, true}, h[0]);
    return true;
  });
  // The private key object goes; the token public key stays (now a public-only CNG key).
  const auto left = find(*layer_, by_id);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(attr_ulong(*layer_, left[0], CKA_CLASS), CKO_PUBLIC_KEY);
  EXPECT_EQ(attr_text(*layer_, left[0], CKA_LABEL), "renamed");
  EXPECT_TRUE(find(*layer_, all_private).empty());
  CK_ATTRIBUTE a{CKA_LABEL, nullptr, 0};
  EXPECT_THROW(layer_->get_attribute_value(rw_, again[0], {&a, 1}), P11Error);
  // Another process destroys the public key too: the key is gone.
  in_child([] {
    auto slot = open_slot(false);
    auto layer = ObjectLayer::create(*slot);
    Template public_by_id;
    public_by_id.bytes(CKA_ID, {1, 2, 3}).ulong(CKA_CLASS, CKO_PUBLIC_KEY);
    const auto h = layer->find(SessionContext{1, true}, public_by_id.span());
    if (h.size() != 1) {
      return false;
    }
    layer->destroy_object(SessionContext{1, true}, h[0]);
    return true;
  });
  EXPECT_TRUE(find(*layer_, by_id).empty());
  EXPECT_TRUE(find(*new_layer(), Template()).empty());  // deleted from the store
  // The open handle of an operation in flight does not crash (whatever CNG answers).
  Bytes digest(32, 1);
  DWORD size = 0;
  (void)NCryptSignHash(in_flight.ncrypt_key, nullptr, digest.data(), 32, nullptr, 0, &size, 0);
}

}  // namespace
}  // namespace p11::test
