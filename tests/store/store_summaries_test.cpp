// CertStore::summaries()/read() and DataStore::summaries()/read() (cng_cert_store.h,
// cng_data_store.h): what a listing gives without reading each object, what one read gives,
// and the versions that tell a caller an object changed. Oracles: OpenSSL parsing the DER the
// test stored, the properties it stored, the bytes of the listing index file.
#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <algorithm>

#include "cng_cert_store.h"
#include "cng_data_store.h"
#include "store/listing_cache.h"
#include "store_test_util.h"

namespace cng {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

struct CertParts {
  Bytes subject, issuer, serial;
};

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

using test::contains;

class StoreSummariesTest : public ::testing::Test {
 protected:
  void SetUp() override { store_index::forget_in_memory_indexes(); }
  test::StoreEnv env_;
};

TEST_F(StoreSummariesTest, CertificateSummariesCarryPropertiesAndTheLookupFieldsNotTheDer) {
  CertStore store(false, "");
  std::map<std::string, Bytes> ders;
  for (int i = 0; i < 3; ++i) {
    const Bytes der = test::make_certificate("summary " + std::to_string(i));
    ders[store.add(der, {{"Label", {static_cast<std::uint8_t>('a' + i)}}})] = der;
  }
  const auto summaries = store.summaries();
  ASSERT_EQ(summaries.size(), 3u);
  std::map<std::string, std::uint64_t> versions;
  for (const CertificateSummary& s : summaries) {
    ASSERT_TRUE(ders.contains(s.id));
    const CertParts parts = parts_of(ders[s.id]);
    EXPECT_EQ(s.subject, parts.subject);
    EXPECT_EQ(s.issuer, parts.issuer);
    EXPECT_EQ(s.serial_number, parts.serial);
    EXPECT_EQ(s.properties.size(), 1u);
    EXPECT_NE(s.version, 0u);
    versions[s.id] = s.version;
    const auto read = store.read(s.id);
    ASSERT_TRUE(read.has_value());
    EXPECT_EQ(read->der, ders[s.id]);
    EXPECT_EQ(read->properties, s.properties);
    EXPECT_EQ(read->version, s.version);  // the listing and a read agree on the version
  }
  // The index holds no certificate (the DER stays in its file).
  const Bytes index =
      test::read_file(env_.user_dir() / "certs" / std::string(store_index::kIndexDirectory) /
                      std::string(store_index::kIndexFile));
  for (const auto& [id, der] : ders) {
    EXPECT_FALSE(contains(index, der));
  }
  // A rewrite changes the version; the others keep theirs.
  const std::string changed = summaries[0].id;
  store.set_properties(changed, {{"Label", {'z'}}});
  for (const CertificateSummary& s : store.summaries()) {
    EXPECT_EQ(s.version != versions[s.id], s.id == changed) << s.id;
  }
  store.remove(changed);
  EXPECT_FALSE(store.read(changed).has_value());
  EXPECT_FALSE(store.read("not an id").has_value());
}

TEST_F(StoreSummariesTest, DataSummariesHoldNoValueAndOpenNothing) {
  DataStore store(false, "");
  const Bytes secret = {'s', 'e', 'c', 'r', 'e', 't', '-', 'v', 'a', 'l', 'u', 'e', '-', '1'};
  const Bytes open = {'o', 'p', 'e', 'n', '-', 'v', 'a', 'l', 'u', 'e', '-', '2'};
  const std::string priv =
      store.add({{"Label", {'p'}}, {kDataStorePrivateProperty, {1}}, {"Value", secret}});
  const std::string pub = store.add({{"Label", {'o'}}, {"Value", open}});
  const std::uint64_t opened = data_store_values_opened_for_testing();
  const auto summaries = store.summaries();
  ASSERT_EQ(summaries.size(), 2u);
  for (const StoredDataObject& s : summaries) {
    EXPECT_FALSE(s.properties.contains(kDataStoreValueProperty));
    EXPECT_EQ(s.value_status, 0);
    EXPECT_NE(s.version, 0u);
  }
  EXPECT_EQ(data_store_values_opened_for_testing(), opened);
  // The index holds no value, sealed or clear.
  const Bytes index =
      test::read_file(env_.user_dir() / "data" / std::string(store_index::kIndexDirectory) /
                      std::string(store_index::kIndexFile));
  EXPECT_FALSE(contains(index, secret));
  EXPECT_FALSE(contains(index, open));
  const Bytes sealed_file = test::read_file(env_.user_dir() / "data" / priv);
  EXPECT_FALSE(contains(sealed_file, secret));
  // A read opens the private value, once.
  const auto p = store.read(priv);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->properties.at("Value"), secret);
  EXPECT_EQ(data_store_values_opened_for_testing(), opened + 1);
  const auto o = store.read(pub);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->properties.at("Value"), open);
  EXPECT_EQ(data_store_values_opened_for_testing(), opened + 1);
  // Versions: a listing and a read agree; a rewrite changes it.
  const auto listed = std::find_if(summaries.begin(), summaries.end(),
                                   [&](const StoredDataObject& s) { return s.id == pub; });
  ASSERT_NE(listed, summaries.end());
  EXPECT_EQ(o->version, listed->version);
  store.set_properties(pub, {{"Label", {'o'}}, {"Value", secret}});
  EXPECT_NE(store.read(pub)->version, listed->version);
  store.remove(pub);
  EXPECT_FALSE(store.read(pub).has_value());
}

}  // namespace
}  // namespace cng
