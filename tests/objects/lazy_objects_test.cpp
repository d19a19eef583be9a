// Lazy token keys (module/objects/layer_lazy.cpp): a fresh layer builds summaries from the
// store's listing and materialises keys on use, within a bounded cache. A small bound (the
// test hook of key_cache.h) makes every test evict. Oracles: the templates the keys were
// created with, and OpenSSL verifying signatures against each key's SPKI.
#include <map>
#include <set>
#include <thread>

#include "object_test_support.h"
#include "objects/key_cache.h"

namespace p11::test {
namespace {

class LazyObjectsTest : public ObjectLayerTest {
 protected:
  void TearDown() override {
    objects::set_key_cache_bound_for_testing(0);
    ObjectLayerTest::TearDown();
  }

  // The one object of a class with a label.
  CK_OBJECT_HANDLE by_label(ObjectLayer& layer, const std::string& label, CK_OBJECT_CLASS cls) {
    Template t;
    t.text(CKA_LABEL, label).ulong(CKA_CLASS, cls);
    const auto found = find(layer, t);
    EXPECT_EQ(found.size(), 1u) << label;
    return found.empty() ? CK_INVALID_HANDLE : found[0];
  }

  static std::string label_of(int i) { return "lazy-" + std::to_string(i); }
};

TEST_F(LazyObjectsTest, HandlesStayTheSameAcrossEvictionAndRematerialisation) {
  constexpr int kKeys = 6;
  for (int i = 0; i < kKeys; ++i) {
    generate_ec(*layer_, true, label_of(i), i % 2 == 0 ? 256 : 384);
  }
  objects::set_key_cache_bound_for_testing(2);
  auto fresh = new_layer();  // another process's view: summaries from the listing
  std::map<std::string, std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE>> handles;
  for (int i = 0; i < kKeys; ++i) {
    handles[label_of(i)] = {by_label(*fresh, label_of(i), CKO_PRIVATE_KEY),
                            by_label(*fresh, label_of(i), CKO_PUBLIC_KEY)};
  }
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kKeys; ++i) {
      const auto [priv, pub] = handles[label_of(i)];
      // Attributes outside the summary materialise the key (and evict others).
      EXPECT_EQ(attr(*fresh, pub, CKA_EC_PARAMS), ec_params(i % 2 == 0 ? 256 : 384));
      EXPECT_EQ(attr_text(*fresh, priv, CKA_LABEL), label_of(i));
      EXPECT_TRUE(attr_bool(*fresh, priv, CKA_SIGN));
      const Bytes point_der = *attr(*fresh, pub, CKA_EC_POINT);  // OCTET STRING, short form
      const Bytes nss_id = sha1(Bytes(point_der.begin() + 2, point_der.end()));
      EXPECT_EQ(attr(*fresh, priv, CKA_ID), nss_id);
      EXPECT_EQ(attr(*fresh, pub, CKA_ID), nss_id);
      expect_signs(*fresh, priv);
    }
    for (int i = 0; i < kKeys; ++i) {
      EXPECT_EQ(by_label(*fresh, label_of(i), CKO_PRIVATE_KEY), handles[label_of(i)].first);
      EXPECT_EQ(by_label(*fresh, label_of(i), CKO_PUBLIC_KEY), handles[label_of(i)].second);
    }
  }
}

TEST_F(LazyObjectsTest, FindNamingAttributesOutsideTheSummaryReturnsExactlyTheMatchingKeys) {
  // Oracle: what each key was created with (curve, CKA_DERIVE).
  constexpr int kKeys = 8;
  std::set<std::string> derive;
  std::set<std::string> p384;
  for (int i = 0; i < kKeys; ++i) {
    const bool d = i % 3 == 0;
    const int bits = i % 2 == 0 ? 256 : 384;
    generate_ec(*layer_, true, label_of(i), bits, d);
    if (d) {
      derive.insert(label_of(i));
    }
    if (bits == 384) {
      p384.insert(label_of(i));
    }
  }
  objects::set_key_cache_bound_for_testing(2);
  auto fresh = new_layer();
  const auto labels = [&](const std::vector<CK_OBJECT_HANDLE>& found) {
    std::set<std::string> out;
    for (const CK_OBJECT_HANDLE h : found) {
      out.insert(attr_text(*fresh, h, CKA_LABEL));
    }
    EXPECT_EQ(out.size(), found.size());
    return out;
  };
  Template derivers;
  derivers.ulong(CKA_CLASS, CKO_PRIVATE_KEY).boolean(CKA_DERIVE, true);
  EXPECT_EQ(labels(find(*fresh, derivers)), derive);
  Template on_p384;
  on_p384.bytes(CKA_EC_PARAMS, ec_params(384)).ulong(CKA_CLASS, CKO_PUBLIC_KEY);
  EXPECT_EQ(labels(find(*fresh, on_p384)), p384);
  // Without a class: both halves of each P-384 key.
  Template any_p384;
  any_p384.bytes(CKA_EC_PARAMS, ec_params(384));
  EXPECT_EQ(find(*fresh, any_p384).size(), 2 * p384.size());
  // A summary attribute and another one: the index narrows, the full match decides.
  Template one;
  one.text(CKA_LABEL, label_of(1)).boolean(CKA_DERIVE, true);
  EXPECT_TRUE(find(*fresh, one).empty());  // key 1 was made without CKA_DERIVE
  Template zero;
  zero.text(CKA_LABEL, label_of(0)).boolean(CKA_DERIVE, true);
  EXPECT_EQ(find(*fresh, zero).size(), 1u);
}

TEST_F(LazyObjectsTest, KeyEvictedWhileAnOperationIsInFlightStillSigns) {
  for (int i = 0; i < 3; ++i) {
    generate_ec(*layer_, true, label_of(i));
  }
  objects::set_key_cache_bound_for_testing(1);
  auto fresh = new_layer();
  const CK_OBJECT_HANDLE first = by_label(*fresh, label_of(0), CKO_PRIVATE_KEY);
  const KeyView in_flight = fresh->key_view(rw_, first);
  // Two other keys materialised: the first goes back to its summary (bound 1).
  for (int i = 1; i < 3; ++i) {
    EXPECT_TRUE(attr_bool(*fresh, by_label(*fresh, label_of(i), CKO_PRIVATE_KEY), CKA_SIGN));
  }
  expect_view_signs(in_flight);
  expect_signs(*fresh, first);  // and it materialises again under the same handle
}

TEST_F(LazyObjectsTest, MoreKeysThanTheCacheBoundAreAllUsableInOneSession) {
  objects::set_key_cache_bound_for_testing(3);
  auto layer = new_layer();
  constexpr int kKeys = 10;
  std::vector<CK_OBJECT_HANDLE> made;
  for (int i = 0; i < kKeys; ++i) {
    made.push_back(generate_ec(*layer, true, label_of(i)).second);
  }
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kKeys; ++i) {
      EXPECT_EQ(by_label(*layer, label_of(i), CKO_PRIVATE_KEY), made[i]);
      expect_signs(*layer, made[i]);
    }
  }
  auto fresh = new_layer();
  for (int i = 0; i < kKeys; ++i) {
    expect_signs(*fresh, by_label(*fresh, label_of(i), CKO_PRIVATE_KEY));
  }
}

TEST_F(LazyObjectsTest, SummaryAnswersTheSameValuesAsTheMaterialisedObject) {
  generate_ec(*layer_, true, "with label");
  Template nameless_pub;
  nameless_pub.boolean(CKA_TOKEN, true).bytes(CKA_EC_PARAMS, ec_params(256));
  Template id_priv;
  id_priv.boolean(CKA_TOKEN, true).bytes(CKA_ID, {9, 8, 7}).boolean(CKA_PRIVATE, false);
  CK_MECHANISM m{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  layer_->generate_key_pair(rw_, m, nameless_pub.span(), id_priv.span());
  auto fresh = new_layer();
  Template everything;
  const auto all = find(*fresh, everything);
  ASSERT_EQ(all.size(), 4u);
  const CK_ATTRIBUTE_TYPE summary_types[] = {CKA_CLASS,   CKA_KEY_TYPE, CKA_TOKEN,
                                             CKA_PRIVATE, CKA_LABEL,    CKA_ID};
  for (const CK_OBJECT_HANDLE h : all) {
    std::map<CK_ATTRIBUTE_TYPE, std::optional<Bytes>> summary;
    for (const CK_ATTRIBUTE_TYPE type : summary_types) {
      summary[type] = attr(*fresh, h, type);  // a summary read
    }
    const CK_OBJECT_CLASS cls = attr_ulong(*fresh, h, CKA_CLASS);
    // Materialises the key; then every summary value must be the full object's.
    const auto params = attr(*fresh, h, CKA_EC_PARAMS);
    EXPECT_EQ(params, ec_params(256));
    for (const CK_ATTRIBUTE_TYPE type : summary_types) {
      EXPECT_EQ(summary[type], attr(*fresh, h, type)) << std::hex << type;
    }
    // And the oracles: the creation templates (PKCS#11 defaults where they said nothing).
    EXPECT_EQ(attr_ulong(*fresh, h, CKA_KEY_TYPE), static_cast<CK_ULONG>(CKK_EC));
    EXPECT_TRUE(attr_bool(*fresh, h, CKA_TOKEN));
    const std::string label = attr_text(*fresh, h, CKA_LABEL);
    if (label == "with label") {
      EXPECT_TRUE(cls == CKO_PRIVATE_KEY || cls == CKO_PUBLIC_KEY);
    } else {
      EXPECT_EQ(label, "");
      if (cls == CKO_PRIVATE_KEY) {
        EXPECT_EQ(attr(*fresh, h, CKA_ID), (Bytes{9, 8, 7}));
        EXPECT_FALSE(attr_bool(*fresh, h, CKA_PRIVATE));
      } else {
        EXPECT_EQ(attr(*fresh, h, CKA_ID), (Bytes{9, 8, 7}));  // shared from the private half
      }
    }
  }
}

TEST_F(LazyObjectsTest, ThreadsMaterialiseAndEvictTheSameKeysConcurrently) {
  constexpr int kKeys = 6;
  for (int i = 0; i < kKeys; ++i) {
    generate_ec(*layer_, true, label_of(i));
  }
  objects::set_key_cache_bound_for_testing(2);
  auto fresh = new_layer();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        for (int k = 0; k < kKeys; ++k) {
          const int i = (k + t) % kKeys;
          const CK_OBJECT_HANDLE priv = by_label(*fresh, label_of(i), CKO_PRIVATE_KEY);
          EXPECT_EQ(attr_text(*fresh, priv, CKA_LABEL), label_of(i));
          EXPECT_EQ(attr(*fresh, priv, CKA_EC_PARAMS), ec_params(256));
          expect_signs(*fresh, priv);
        }
      }
    });
  }
  for (std::thread& th : threads) {
    th.join();
  }
}

}  // namespace
}  // namespace p11::test
