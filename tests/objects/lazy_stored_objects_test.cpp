// Lazy token certificates and data objects (module/objects/layer_stored.cpp): a fresh layer
// builds summaries from the stores' listings (no certificate DER, no data value) and reads an
// object on first use, within a bounded cache (the test hook of key_cache.h makes every test
// evict). Oracles: the DER and values the test itself stored, and OpenSSL parsing the DER.
#include <openssl/x509.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "cng_data_store.h"
#include "core/p11_error.h"
#include "object_test_support.h"
#include "objects/key_cache.h"

namespace p11::test {
namespace {

namespace fs = std::filesystem;

struct CertParts {
  Bytes subject, issuer, serial;
};

// OpenSSL's reading of the certificate.
CertParts parts_of(const Bytes& der) {
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  EXPECT_NE(x, nullptr);
  CertParts out;
  const auto take = [](Bytes& to, unsigned char* buf, int len) {
    to.assign(buf, buf + len);
    OPENSSL_free(buf);
  };
  unsigned char* buf = nullptr;
  take(out.subject, buf, i2d_X509_NAME(X509_get_subject_name(x), &buf));
  buf = nullptr;
  take(out.issuer, buf, i2d_X509_NAME(X509_get_issuer_name(x), &buf));
  buf = nullptr;
  take(out.serial, buf, i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &buf));
  X509_free(x);
  return out;
}

Bytes value_of(int i) {
  Bytes v(40 + static_cast<std::size_t>(i));
  for (std::size_t k = 0; k < v.size(); ++k) {
    v[k] = static_cast<std::uint8_t>(i * 31 + static_cast<int>(k));
  }
  return v;
}

class LazyStoredObjectsTest : public ObjectLayerTest {
 protected:
  void TearDown() override {
    objects::set_key_cache_bound_for_testing(0);
    ::setenv("CNG_PKCS11_USER_DIR", user_dir_.c_str(), 1);
    ObjectLayerTest::TearDown();
  }

  // Token certificates "cert-<i>", each a different DER (common name and serial).
  std::vector<Bytes> make_certs(int n) {
    if (spki_.empty()) {
      spki_ = *attr(*layer_, generate_ec(*layer_, false).second, CKA_PUBLIC_KEY_INFO);
    }
    std::vector<Bytes> ders;
    for (int i = 0; i < n; ++i) {
      ders.push_back(make_certificate(spki_, "lazy cert " + std::to_string(i), 1000 + i));
      Template t;
      t.ulong(CKA_CLASS, CKO_CERTIFICATE)
          .ulong(CKA_CERTIFICATE_TYPE, CKC_X_509)
          .boolean(CKA_TOKEN, true)
          .text(CKA_LABEL, cert_label(i))
          .bytes(CKA_VALUE, ders.back());
      layer_->create_object(rw_, t.span());
    }
    return ders;
  }

  // A token data object "data-<i>" with value_of(i); private when i is odd (or always).
  CK_OBJECT_HANDLE make_data(ObjectLayer& layer, int i, bool always_private = false) {
    Template t;
    t.ulong(CKA_CLASS, CKO_DATA)
        .boolean(CKA_TOKEN, true)
        .boolean(CKA_PRIVATE, always_private || i % 2 == 1)
        .text(CKA_LABEL, data_label(i))
        .text(CKA_APPLICATION, "lazy app")
        .bytes(CKA_VALUE, value_of(i));
    return layer.create_object(rw_, t.span());
  }

  static std::string cert_label(int i) { return "cert-" + std::to_string(i); }
  static std::string data_label(int i) { return "data-" + std::to_string(i); }

  CK_OBJECT_HANDLE by_label(ObjectLayer& layer, const std::string& label, CK_OBJECT_CLASS cls) {
    Template t;
    t.ulong(CKA_CLASS, cls).text(CKA_LABEL, label);
    const auto found = find(layer, t);
    EXPECT_EQ(found.size(), 1u) << label;
    return found.empty() ? CK_INVALID_HANDLE : found[0];
  }

  std::vector<CK_OBJECT_HANDLE> of_class(ObjectLayer& layer, CK_OBJECT_CLASS cls) {
    Template t;
    t.ulong(CKA_CLASS, cls);
    return find(layer, t);
  }

  // The CK_RV of reading one attribute (what the dispatcher makes of a P11Error).
  CK_RV read_rv(ObjectLayer& layer, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type) {
    try {
      CK_RV rv = CKR_OK;
      (void)attr(layer, h, type, &rv);
      return rv;
    } catch (const P11Error& e) {
      return e.rv();
    }
  }

  void expect_cert(ObjectLayer& layer, CK_OBJECT_HANDLE h, const Bytes& der) {
    const CertParts parts = parts_of(der);
    EXPECT_EQ(attr(layer, h, CKA_VALUE), der);
    EXPECT_EQ(attr(layer, h, CKA_SUBJECT), parts.subject);
    EXPECT_EQ(attr(layer, h, CKA_ISSUER), parts.issuer);
    EXPECT_EQ(attr(layer, h, CKA_SERIAL_NUMBER), parts.serial);
    const Bytes digest = sha1(der);
    EXPECT_EQ(attr(layer, h, CKA_CHECK_VALUE), Bytes(digest.begin(), digest.begin() + 3));
  }

  Bytes spki_;
};

TEST_F(LazyStoredObjectsTest, HandlesStayTheSameAcrossEvictionAndValuesAreExact) {
  constexpr int kObjects = 6;
  const std::vector<Bytes> ders = make_certs(kObjects);
  for (int i = 0; i < kObjects; ++i) {
    make_data(*layer_, i);
  }
  objects::set_key_cache_bound_for_testing(2);
  auto fresh = new_layer();  // another process's view: summaries from the listings
  std::map<std::string, CK_OBJECT_HANDLE> handles;
  for (int i = 0; i < kObjects; ++i) {
    handles[cert_label(i)] = by_label(*fresh, cert_label(i), CKO_CERTIFICATE);
    handles[data_label(i)] = by_label(*fresh, data_label(i), CKO_DATA);
  }
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kObjects; ++i) {
      expect_cert(*fresh, handles[cert_label(i)], ders[i]);
      const CK_OBJECT_HANDLE d = handles[data_label(i)];
      EXPECT_EQ(attr(*fresh, d, CKA_VALUE), value_of(i));
      EXPECT_EQ(attr_text(*fresh, d, CKA_APPLICATION), "lazy app");
      EXPECT_EQ(attr_bool(*fresh, d, CKA_PRIVATE), i % 2 == 1);
    }
    for (int i = 0; i < kObjects; ++i) {
      EXPECT_EQ(by_label(*fresh, cert_label(i), CKO_CERTIFICATE), handles[cert_label(i)]);
      EXPECT_EQ(by_label(*fresh, data_label(i), CKO_DATA), handles[data_label(i)]);
    }
  }
}

TEST_F(LazyStoredObjectsTest, FindNamingAttributesOutsideTheSummaryIsExact) {
  constexpr int kObjects = 6;
  const std::vector<Bytes> ders = make_certs(kObjects);
  for (int i = 0; i < kObjects; ++i) {
    make_data(*layer_, i);
  }
  objects::set_key_cache_bound_for_testing(2);
  auto fresh = new_layer();
  for (int i = 0; i < kObjects; ++i) {
    const CK_OBJECT_HANDLE cert = by_label(*fresh, cert_label(i), CKO_CERTIFICATE);
    Template by_der;
    by_der.bytes(CKA_VALUE, ders[i]);
    EXPECT_EQ(find(*fresh, by_der), std::vector<CK_OBJECT_HANDLE>{cert});
    const Bytes digest = sha1(ders[i]);
    Template by_check;
    by_check.ulong(CKA_CLASS, CKO_CERTIFICATE)
        .bytes(CKA_CHECK_VALUE, Bytes(digest.begin(), digest.begin() + 3));
    EXPECT_EQ(find(*fresh, by_check), std::vector<CK_OBJECT_HANDLE>{cert});
    // Subject, issuer and serial number are in the summary (what NSS looks certificates up by).
    const CertParts parts = parts_of(ders[i]);
    Template by_issuer_serial;
    by_issuer_serial.ulong(CKA_CLASS, CKO_CERTIFICATE)
        .bytes(CKA_ISSUER, parts.issuer)
        .bytes(CKA_SERIAL_NUMBER, parts.serial);
    EXPECT_EQ(find(*fresh, by_issuer_serial), std::vector<CK_OBJECT_HANDLE>{cert});
    Template by_subject;
    by_subject.bytes(CKA_SUBJECT, parts.subject);
    EXPECT_EQ(find(*fresh, by_subject), std::vector<CK_OBJECT_HANDLE>{cert});

    const CK_OBJECT_HANDLE data = by_label(*fresh, data_label(i), CKO_DATA);
    Template by_value;
    by_value.ulong(CKA_CLASS, CKO_DATA).bytes(CKA_VALUE, value_of(i));
    EXPECT_EQ(find(*fresh, by_value), std::vector<CK_OBJECT_HANDLE>{data});
  }
  Template nobody;
  nobody.ulong(CKA_CLASS, CKO_DATA).bytes(CKA_VALUE, value_of(99));
  EXPECT_TRUE(find(*fresh, nobody).empty());
  // Attributes a certificate or data object does not have match none of them.
  Template key_type;
  key_type.ulong(CKA_CLASS, CKO_CERTIFICATE).ulong(CKA_KEY_TYPE, CKK_RSA);
  EXPECT_TRUE(find(*fresh, key_type).empty());
  Template data_id;
  data_id.ulong(CKA_CLASS, CKO_DATA).bytes(CKA_ID, {});
  EXPECT_TRUE(find(*fresh, data_id).empty());
  // A summary attribute and one outside it: the label narrows, the value decides.
  Template mismatch;
  mismatch.text(CKA_LABEL, data_label(1)).bytes(CKA_VALUE, value_of(2));
  EXPECT_TRUE(find(*fresh, mismatch).empty());
}

TEST_F(LazyStoredObjectsTest, MoreObjectsThanTheCacheBoundAreAllReadableInOneSession) {
  objects::set_key_cache_bound_for_testing(3);
  auto layer = new_layer();
  constexpr int kObjects = 12;
  std::vector<CK_OBJECT_HANDLE> made;
  for (int i = 0; i < kObjects; ++i) {
    made.push_back(make_data(*layer, i));
  }
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kObjects; ++i) {
      EXPECT_EQ(by_label(*layer, data_label(i), CKO_DATA), made[i]);
      EXPECT_EQ(attr(*layer, made[i], CKA_VALUE), value_of(i));
    }
  }
  auto fresh = new_layer();
  for (int i = 0; i < kObjects; ++i) {
    EXPECT_EQ(attr(*fresh, by_label(*fresh, data_label(i), CKO_DATA), CKA_VALUE), value_of(i));
  }
}

TEST_F(LazyStoredObjectsTest, AnotherProcessesChangesAreSeenAtTheNextFind) {
  const std::vector<Bytes> ders = make_certs(2);
  for (int i = 0; i < 3; ++i) {
    make_data(*layer_, i);
  }
  auto watcher = new_layer();
  ASSERT_EQ(of_class(*watcher, CKO_DATA).size(), 3u);
  ASSERT_EQ(of_class(*watcher, CKO_CERTIFICATE).size(), 2u);
  const CK_OBJECT_HANDLE d0 = by_label(*watcher, data_label(0), CKO_DATA);
  const CK_OBJECT_HANDLE d1 = by_label(*watcher, data_label(1), CKO_DATA);
  const CK_OBJECT_HANDLE c1 = by_label(*watcher, cert_label(1), CKO_CERTIFICATE);
  EXPECT_EQ(attr(*watcher, d0, CKA_VALUE), value_of(0));  // materialised here
  EXPECT_EQ(attr(*watcher, c1, CKA_VALUE), ders[1]);

  // Another process changes a value and a label, destroys one of each, adds a certificate.
  auto other = new_layer();
  Template new_value;
  new_value.bytes(CKA_VALUE, value_of(7));
  other->set_attribute_value(rw_, by_label(*other, data_label(0), CKO_DATA), new_value.span());
  Template relabel;
  relabel.text(CKA_LABEL, "renamed");
  other->set_attribute_value(rw_, by_label(*other, data_label(1), CKO_DATA), relabel.span());
  other->set_attribute_value(rw_, by_label(*other, cert_label(1), CKO_CERTIFICATE), relabel.span());
  other->destroy_object(rw_, by_label(*other, data_label(2), CKO_DATA));
  other->destroy_object(rw_, by_label(*other, cert_label(0), CKO_CERTIFICATE));
  const Bytes added =
      make_certificate(*attr(*layer_, generate_ec(*layer_, false).second, CKA_PUBLIC_KEY_INFO),
                       "added elsewhere", 77);
  Template t;
  t.ulong(CKA_CLASS, CKO_CERTIFICATE)
      .ulong(CKA_CERTIFICATE_TYPE, CKC_X_509)
      .boolean(CKA_TOKEN, true)
      .bytes(CKA_VALUE, added);
  other->create_object(rw_, t.span());

  // The watcher sees it all at its next find, under the handles it had.
  EXPECT_EQ(of_class(*watcher, CKO_DATA),
            (std::vector<CK_OBJECT_HANDLE>{std::min(d0, d1), std::max(d0, d1)}));
  EXPECT_EQ(attr(*watcher, d0, CKA_VALUE), value_of(7));
  EXPECT_EQ(attr_text(*watcher, d1, CKA_LABEL), "renamed");
  EXPECT_EQ(attr(*watcher, d1, CKA_VALUE), value_of(1));
  const auto certs = of_class(*watcher, CKO_CERTIFICATE);
  ASSERT_EQ(certs.size(), 2u);
  EXPECT_EQ(certs[0], c1);  // the added one gets a new (higher) handle
  EXPECT_EQ(attr_text(*watcher, c1, CKA_LABEL), "renamed");
  EXPECT_EQ(attr(*watcher, c1, CKA_VALUE), ders[1]);
  expect_cert(*watcher, certs[1], added);
}

TEST_F(LazyStoredObjectsTest, PrivateValuesAreDecryptedOnlyWhenRead) {
  constexpr int kObjects = 5;
  for (int i = 0; i < kObjects; ++i) {
    make_data(*layer_, i, true);
  }
  const std::uint64_t before = cng::data_store_values_opened_for_testing();
  auto fresh = new_layer();
  ASSERT_EQ(of_class(*fresh, CKO_DATA).size(), static_cast<std::size_t>(kObjects));
  for (int i = 0; i < kObjects; ++i) {
    const CK_OBJECT_HANDLE h = by_label(*fresh, data_label(i), CKO_DATA);
    EXPECT_TRUE(attr_bool(*fresh, h, CKA_PRIVATE));
    EXPECT_EQ(attr_text(*fresh, h, CKA_APPLICATION), "lazy app");
    EXPECT_TRUE(attr_bool(*fresh, h, CKA_MODIFIABLE));
  }
  EXPECT_EQ(cng::data_store_values_opened_for_testing(), before);  // listing and summaries
  const CK_OBJECT_HANDLE third = by_label(*fresh, data_label(3), CKO_DATA);
  EXPECT_EQ(attr(*fresh, third, CKA_VALUE), value_of(3));
  EXPECT_EQ(cng::data_store_values_opened_for_testing(), before + 1);
  EXPECT_EQ(attr(*fresh, third, CKA_VALUE), value_of(3));  // kept: not opened again
  EXPECT_EQ(cng::data_store_values_opened_for_testing(), before + 1);
  // A find on the value opens the candidates not yet read (the other four), and only those.
  Template by_value;
  by_value.ulong(CKA_CLASS, CKO_DATA).bytes(CKA_VALUE, value_of(1));
  EXPECT_EQ(find(*fresh, by_value),
            std::vector<CK_OBJECT_HANDLE>{by_label(*fresh, data_label(1), CKO_DATA)});
  EXPECT_EQ(cng::data_store_values_opened_for_testing(), before + kObjects);
}

TEST_F(LazyStoredObjectsTest, ListingWorksWithoutTheMasterKeyAndReadingTheValueFails) {
  make_data(*layer_, 1);  // private
  make_data(*layer_, 2);  // not private
  // The store copied without its keyring (which lives beside the scope directory).
  const fs::path copy = root_ / "copy";
  fs::create_directories(copy);
  fs::copy(user_dir_, copy / "user", fs::copy_options::recursive);
  ASSERT_FALSE(fs::exists(copy / "user.keyring"));
  ::setenv("CNG_PKCS11_USER_DIR", (copy / "user").c_str(), 1);
  auto fresh = new_layer();
  ASSERT_EQ(of_class(*fresh, CKO_DATA).size(), 2u);
  const CK_OBJECT_HANDLE secret = by_label(*fresh, data_label(1), CKO_DATA);
  EXPECT_TRUE(attr_bool(*fresh, secret, CKA_PRIVATE));
  EXPECT_EQ(attr_text(*fresh, secret, CKA_APPLICATION), "lazy app");
  // The value cannot be opened here: a device error (PKCS#11 3.0 §5.7.5 lists it for
  // C_GetAttributeValue), never another value.
  EXPECT_EQ(read_rv(*fresh, secret, CKA_VALUE), static_cast<CK_RV>(CKR_DEVICE_ERROR));
  const CK_OBJECT_HANDLE open = by_label(*fresh, data_label(2), CKO_DATA);
  EXPECT_EQ(attr(*fresh, open, CKA_VALUE), value_of(2));
  // It can still be destroyed (no value needed for that).
  fresh->destroy_object(rw_, secret);
  EXPECT_EQ(of_class(*fresh, CKO_DATA), std::vector<CK_OBJECT_HANDLE>{open});
  EXPECT_EQ(of_class(*new_layer(), CKO_DATA).size(), 1u);
}

TEST_F(LazyStoredObjectsTest, ThreadsMaterialiseAndEvictTheSameObjectsConcurrently) {
  constexpr int kObjects = 6;
  const std::vector<Bytes> ders = make_certs(kObjects);
  for (int i = 0; i < kObjects; ++i) {
    make_data(*layer_, i);
  }
  objects::set_key_cache_bound_for_testing(2);
  auto fresh = new_layer();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        for (int k = 0; k < kObjects; ++k) {
          const int i = (k + t) % kObjects;
          const CK_OBJECT_HANDLE d = by_label(*fresh, data_label(i), CKO_DATA);
          EXPECT_EQ(attr(*fresh, d, CKA_VALUE), value_of(i));
          Template by_value;
          by_value.bytes(CKA_VALUE, value_of(i));
          EXPECT_EQ(find(*fresh, by_value), std::vector<CK_OBJECT_HANDLE>{d});
          const CK_OBJECT_HANDLE c = by_label(*fresh, cert_label(i), CKO_CERTIFICATE);
          EXPECT_EQ(attr(*fresh, c, CKA_VALUE), ders[i]);
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
