// CngEnumKeyListings / CngGetKeyListing (cng_key_listing.h): every field of every listed key
// equals what the per-key NCrypt calls (NCryptOpenKey + NCryptGetProperty + NCryptExportKey,
// NCryptEnumKeys for the legacy key spec) return for the same key, for a key of every algorithm
// the provider under test offers (run on the software provider and, through run_on_platform.sh,
// on the platform provider).
#include <map>
#include <set>

#include "cng_key_listing.h"
#include "ncrypt_test_support.h"

namespace ncrypt_test {
namespace {

std::u16string u16(const std::string& s) { return {s.begin(), s.end()}; }

class KeyListingTest : public NCryptTest {
 protected:
  // Every algorithm the provider lists (all operation classes).
  std::vector<std::u16string> algorithms() {
    DWORD count = 0;
    NCryptAlgorithmName* list = nullptr;
    EXPECT_OK(NCryptEnumAlgorithms(provider_, 0, &count, &list, 0));
    std::vector<std::u16string> out;
    for (DWORD i = 0; i < count; ++i) {
      out.emplace_back(list[i].pszName);
    }
    EXPECT_OK(NCryptFreeBuffer(list));
    return out;
  }

  // A persisted key of the algorithm with non-default creation properties where the algorithm
  // allows them, a legacy key spec and persisted custom properties.
  void make_key(const std::u16string& alg, const std::u16string& name, DWORD flags, DWORD spec) {
    NCRYPT_KEY_HANDLE key = 0;
    ASSERT_OK(NCryptCreatePersistedKey(provider_, &key, alg.c_str(), name.c_str(), spec, flags));
    if (alg == u"ECDSA" || alg == u"ECDH") {
      const std::u16string curve = u"nistP384";
      ASSERT_OK(NCryptSetProperty(key, NCRYPT_ECC_CURVE_NAME_PROPERTY,
                                  reinterpret_cast<PBYTE>(const_cast<char16_t*>(curve.c_str())),
                                  static_cast<DWORD>((curve.size() + 1) * 2), 0));
    }
    if (alg == u"RSA") {
      EXPECT_OK(set_dword(key, NCRYPT_LENGTH_PROPERTY, 2048));
    }
    if (alg == u"AES") {
      EXPECT_OK(set_dword(key, NCRYPT_LENGTH_PROPERTY, 192));
    }
    EXPECT_OK(set_dword(key, NCRYPT_EXPORT_POLICY_PROPERTY, NCRYPT_ALLOW_EXPORT_FLAG));
    ASSERT_OK(NCryptFinalizeKey(key, 0));
    // Persisted custom properties, set after finalize (the key file is rewritten).
    const Bytes zeta = {0x00, 0xff, 0x10};
    const Bytes alpha(200, 0x5a);
    EXPECT_OK(NCryptSetProperty(key, u"zeta", const_cast<PBYTE>(zeta.data()),
                                static_cast<DWORD>(zeta.size()), NCRYPT_PERSIST_FLAG));
    EXPECT_OK(NCryptSetProperty(key, u"Alpha", const_cast<PBYTE>(alpha.data()),
                                static_cast<DWORD>(alpha.size()), NCRYPT_PERSIST_FLAG));
    EXPECT_OK(NCryptSetProperty(key, u"handle-only", const_cast<PBYTE>(zeta.data()),
                                static_cast<DWORD>(zeta.size()), 0));
    EXPECT_OK(NCryptFreeObject(key));
  }

  std::map<std::u16string, DWORD> enum_legacy_specs(DWORD flags) {
    std::map<std::u16string, DWORD> out;
    void* state = nullptr;
    NCryptKeyName* item = nullptr;
    while (NCryptEnumKeys(provider_, nullptr, &item, &state, flags) == ERROR_SUCCESS) {
      out[item->pszName] = item->dwLegacyKeySpec;
      EXPECT_OK(NCryptFreeBuffer(item));
    }
    EXPECT_OK(NCryptFreeBuffer(state));
    return out;
  }

  // Compares one listing with the per-key calls on the same key.
  void check_against_open_key(const cng::KeyStoreListing& l, DWORD flags, DWORD enum_spec) {
    SCOPED_TRACE(std::string(l.name.begin(), l.name.end()));
    NCRYPT_KEY_HANDLE key = 0;
    ASSERT_OK(NCryptOpenKey(provider_, &key, l.name.c_str(), 0, flags));
    EXPECT_EQ(l.name, string_property(key, NCRYPT_NAME_PROPERTY));
    EXPECT_EQ(l.algorithm, string_property(key, NCRYPT_ALGORITHM_PROPERTY));
    EXPECT_EQ(l.length, dword_property(key, NCRYPT_LENGTH_PROPERTY));
    EXPECT_EQ(l.export_policy, dword_property(key, NCRYPT_EXPORT_POLICY_PROPERTY));
    EXPECT_EQ(l.key_usage, dword_property(key, NCRYPT_KEY_USAGE_PROPERTY));
    EXPECT_EQ(u16(l.unique_name), string_property(key, NCRYPT_UNIQUE_NAME_PROPERTY));
    EXPECT_EQ(l.legacy_key_spec, enum_spec);
    // The public blob: exactly what NCryptExportKey gives in the listed type; a key listed
    // without one exports in neither public type.
    if (l.public_blob_type.empty()) {
      Bytes out;
      EXPECT_STATUS(NTE_BAD_TYPE, try_export(key, BCRYPT_RSAPUBLIC_BLOB, out));
      EXPECT_STATUS(NTE_BAD_TYPE, try_export(key, BCRYPT_ECCPUBLIC_BLOB, out));
      EXPECT_TRUE(l.public_blob.empty());
    } else {
      EXPECT_TRUE(l.public_blob_type == BCRYPT_RSAPUBLIC_BLOB ||
                  l.public_blob_type == BCRYPT_ECCPUBLIC_BLOB);
      EXPECT_EQ(l.public_blob, export_key(key, l.public_blob_type.c_str()));
      // The other public type does not fit the key.
      Bytes out;
      EXPECT_STATUS(NTE_BAD_TYPE,
                    try_export(key,
                               l.public_blob_type == BCRYPT_RSAPUBLIC_BLOB ? BCRYPT_ECCPUBLIC_BLOB
                                                                           : BCRYPT_RSAPUBLIC_BLOB,
                               out));
    }
    // Persisted properties: ascending names, the values the persist-only read returns, and
    // exactly the two this test persisted (the handle-only one is not among them).
    std::vector<std::u16string> names;
    for (const auto& [name, value] : l.properties) {
      names.push_back(name);
      DWORD size = 0;
      ASSERT_OK(NCryptGetProperty(key, name.c_str(), nullptr, 0, &size, NCRYPT_PERSIST_ONLY_FLAG));
      Bytes got(size);
      ASSERT_OK(
          NCryptGetProperty(key, name.c_str(), got.data(), size, &size, NCRYPT_PERSIST_ONLY_FLAG));
      EXPECT_EQ(value, got);
    }
    EXPECT_EQ(names, (std::vector<std::u16string>{u"Alpha", u"zeta"}));
    EXPECT_OK(NCryptFreeObject(key));
  }
};

TEST_F(KeyListingTest, EveryFieldMatchesThePerKeyCallsForEveryAlgorithm) {
  const auto algs = algorithms();
  ASSERT_FALSE(algs.empty());
  std::set<std::u16string> made_user;
  std::set<std::u16string> made_machine;
  DWORD spec = 0;
  for (const auto& alg : algs) {
    const std::u16string name = u"listing-" + alg;
    // Legacy key specs only on asymmetric keys (0, AT_KEYEXCHANGE, AT_SIGNATURE in turn).
    const bool asymmetric = alg != u"AES" && alg != NCRYPT_GENERIC_SECRET_ALGORITHM;
    const DWORD this_spec = asymmetric ? spec : 0;
    spec = spec == 0 ? AT_KEYEXCHANGE : spec == AT_KEYEXCHANGE ? AT_SIGNATURE : 0;
    ASSERT_NO_FATAL_FAILURE(make_key(alg, name, 0, this_spec));
    made_user.insert(name);
  }
  // Every kind is covered: RSA, named-curve and generic-curve EC, and (software) secret keys.
  for (const auto* kind :
       {u"listing-RSA", u"listing-ECDSA_P256", u"listing-ECDH", u"listing-ECDSA"}) {
    EXPECT_TRUE(made_user.contains(kind));
  }
  if (!testing_platform()) {
    EXPECT_TRUE(made_user.contains(u"listing-AES"));
  }
  ASSERT_NO_FATAL_FAILURE(make_key(u"ECDSA_P256", u"machine-one", NCRYPT_MACHINE_KEY_FLAG, 0));
  made_machine.insert(u"machine-one");

  for (const DWORD flags : {DWORD{0}, DWORD{NCRYPT_MACHINE_KEY_FLAG}}) {
    std::vector<cng::KeyStoreListing> listings;
    ASSERT_OK(cng::CngEnumKeyListings(provider_, flags, &listings));
    const auto specs = enum_legacy_specs(flags);
    // The same keys as NCryptEnumKeys, sorted by name.
    std::set<std::u16string> listed;
    for (std::size_t i = 0; i < listings.size(); ++i) {
      listed.insert(listings[i].name);
      if (i > 0) {
        EXPECT_LT(listings[i - 1].name, listings[i].name);
      }
    }
    EXPECT_EQ(listed, flags == 0 ? made_user : made_machine);
    ASSERT_EQ(listed.size(), specs.size());
    for (const auto& l : listings) {
      ASSERT_TRUE(specs.contains(l.name));
      check_against_open_key(l, flags, specs.at(l.name));
      // The single-key call gives the same listing.
      cng::KeyStoreListing one;
      ASSERT_OK(cng::CngGetKeyListing(provider_, l.name.c_str(), flags, &one));
      EXPECT_EQ(one.name, l.name);
      EXPECT_EQ(one.algorithm, l.algorithm);
      EXPECT_EQ(one.legacy_key_spec, l.legacy_key_spec);
      EXPECT_EQ(one.length, l.length);
      EXPECT_EQ(one.export_policy, l.export_policy);
      EXPECT_EQ(one.key_usage, l.key_usage);
      EXPECT_EQ(one.unique_name, l.unique_name);
      EXPECT_EQ(one.public_blob_type, l.public_blob_type);
      EXPECT_EQ(one.public_blob, l.public_blob);
      EXPECT_EQ(one.properties, l.properties);
    }
  }
}

TEST_F(KeyListingTest, AbsentKeyAndBadArguments) {
  cng::KeyStoreListing one;
  EXPECT_STATUS(NTE_BAD_KEYSET, cng::CngGetKeyListing(provider_, u"absent", 0, &one));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, cng::CngGetKeyListing(provider_, nullptr, 0, &one));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, cng::CngGetKeyListing(provider_, u"absent", 0, nullptr));
  EXPECT_STATUS(NTE_BAD_FLAGS, cng::CngGetKeyListing(provider_, u"absent", 0x1000, &one));
  std::vector<cng::KeyStoreListing> all;
  EXPECT_STATUS(NTE_INVALID_PARAMETER, cng::CngEnumKeyListings(provider_, 0, nullptr));
  EXPECT_STATUS(NTE_BAD_FLAGS, cng::CngEnumKeyListings(provider_, 0x1000, &all));
  EXPECT_STATUS(NTE_INVALID_HANDLE, cng::CngEnumKeyListings(kGarbageHandle, 0, &all));
  ASSERT_OK(cng::CngEnumKeyListings(provider_, 0, &all));  // no store directory yet: empty
  EXPECT_TRUE(all.empty());
}

}  // namespace
}  // namespace ncrypt_test
