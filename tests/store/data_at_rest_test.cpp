// At-rest protection of private data objects (cng_data_store.h kDataStorePrivateProperty,
// data_file.h version 2): the value is absent from disk and sealed as documented (checked by
// decrypting with OpenSSL directly and an AAD built here), a value moved to another object
// fails cleanly, legacy clear files load and migrate, a store copied without its keyring
// still lists (public values readable, the private one reported unavailable), rekey reseals.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <string_view>

#include "cng_data_store.h"
#include "store/data_file.h"
#include "store/key_store.h"
#include "store/listing_cache.h"
#include "store/master_key.h"
#include "store_test_util.h"

namespace cng::test {
namespace {

namespace fs = std::filesystem;
using Properties = std::map<std::string, std::vector<std::uint8_t>>;

const std::vector<std::uint8_t> kSecret = {'t', 'o', 'p', '-', 's', 'e', 'c',  'r',  'e',
                                           't', '-', 'd', 'a', 't', 'a', 0x00, 0xfe, 0x42};

Properties private_props() { return {{"Label", {'p'}}, {"Private", {1}}, {"Value", kSecret}}; }
Properties public_props() {
  return {{"Label", {'o'}}, {"Private", {0}}, {"Value", {'o', 'p', 'e', 'n'}}};
}

// The AAD as data_file.h documents it, built here: tag | bytes id | bytes name | key id.
Bytes documented_aad(const std::string& id, const std::string& name,
                     const master_key::KeyId& key_id) {
  Bytes out;
  const auto append = [&](std::string_view s, bool with_length) {
    if (with_length) {
      for (int i = 0; i < 4; ++i) {
        out.push_back(static_cast<std::uint8_t>(s.size() >> (8 * i)));
      }
    }
    out.insert(out.end(), s.begin(), s.end());
  };
  append("CNGDATA-VALUE-v2", false);
  append(id, true);
  append(name, true);
  out.insert(out.end(), key_id.begin(), key_id.end());
  return out;
}

class DataAtRestTest : public ::testing::Test {
 protected:
  void SetUp() override { store_index::forget_in_memory_indexes(); }
  fs::path data_dir() const { return env_.user_dir() / "data"; }
  master_key::Keyring keyring() const {
    return master_key::Keyring(master_key::Keyring::dir_for(env_.user_dir()));
  }
  std::optional<StoredDataObject> find(const std::string& id) const {
    store_index::forget_in_memory_indexes();  // as a fresh process reads it
    for (auto& o : DataStore(false, "").list()) {
      if (o.id == id) {
        return o;
      }
    }
    return std::nullopt;
  }
  StoreEnv env_;
};

TEST_F(DataAtRestTest, PrivateValueIsSealedUnderTheMasterKeyAndAbsentFromDisk) {
  DataStore store(false, "");
  const std::string priv = store.add(private_props());
  const std::string pub = store.add(public_props());
  (void)store.list();  // the listing index is written too
  EXPECT_TRUE(files_containing(env_.root(), kSecret).empty());

  const Bytes file = read_file(data_dir() / priv);
  EXPECT_EQ(file[8], data_file::kVersionSealed);
  EXPECT_EQ(read_file(data_dir() / pub)[8], data_file::kVersion);  // public: clear version 1
  const auto parsed = data_file::decode_file(file);
  ASSERT_TRUE(parsed.sealed);
  const auto current = keyring().current();
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(parsed.key_id, current->id);
  const auto master = keyring().get(current->id);
  const Bytes& sealed = parsed.object.properties.at("Value");
  EXPECT_EQ(open_with_openssl(master->bytes(), sealed, documented_aad(priv, "Value", current->id)),
            std::optional<Bytes>(kSecret));
  // Bound to the id and the property name: another AAD does not open it.
  EXPECT_EQ(open_with_openssl(master->bytes(), sealed, documented_aad(pub, "Value", current->id)),
            std::nullopt);
  EXPECT_EQ(open_with_openssl(master->bytes(), sealed, documented_aad(priv, "Label", current->id)),
            std::nullopt);
  // The other properties stay clear; list() opens the value.
  EXPECT_EQ(parsed.object.properties.at("Label"), Bytes{'p'});
  const auto listed = find(priv);
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(listed->value_status, 0);
  EXPECT_EQ(listed->properties, private_props());
  EXPECT_EQ(find(pub)->properties, public_props());

  // A fresh nonce per write: the same value sealed twice differs.
  store.set_properties(priv, private_props());
  EXPECT_NE(data_file::decode_file(read_file(data_dir() / priv)).object.properties.at("Value"),
            sealed);
  EXPECT_EQ(find(priv)->properties, private_props());
}

TEST_F(DataAtRestTest, ValueMovedToAnotherObjectFailsCleanly) {
  DataStore store(false, "");
  const std::string a = store.add(private_props());
  Properties other = private_props();
  other["Value"] = {'b'};
  const std::string b = store.add(other);
  // a's file under b's name: its id does not match, b is not listed.
  const Bytes a_file = read_file(data_dir() / a);
  write_file(data_dir() / b, a_file);
  EXPECT_FALSE(find(b).has_value());
  // a's sealed value in a well-formed file of b: listed, the value reported, never returned.
  auto moved = data_file::decode_file(a_file);
  moved.object.id = b;
  write_file(data_dir() / b, data_file::encode_file(moved));
  const auto listed = find(b);
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(listed->value_status, NTE_BAD_DATA);
  EXPECT_FALSE(listed->properties.contains("Value"));
  EXPECT_EQ(listed->properties.at("Label"), Bytes{'p'});
  EXPECT_EQ(find(a)->properties, private_props());  // the original still reads
}

TEST_F(DataAtRestTest, LegacyClearPrivateFileLoadsAndIsSealedAtItsNextWrite) {
  const std::string id = data_file::new_id();
  fs::create_directories(data_dir());
  fs::permissions(env_.user_dir(), fs::perms::owner_all, fs::perm_options::replace);
  fs::permissions(data_dir(), fs::perms::owner_all, fs::perm_options::replace);
  write_file(data_dir() / id, data_file::encode(StoredDataObject{id, private_props()}));
  fs::permissions(data_dir() / id, fs::perms::owner_read | fs::perms::owner_write,
                  fs::perm_options::replace);
  EXPECT_EQ(read_file(data_dir() / id)[8], 1);  // version 1, value clear
  const auto legacy = find(id);
  ASSERT_TRUE(legacy.has_value());
  EXPECT_EQ(legacy->properties, private_props());

  Properties changed = private_props();
  changed["Label"] = {'n', 'e', 'w'};
  DataStore(false, "").set_properties(id, changed);
  EXPECT_EQ(read_file(data_dir() / id)[8], data_file::kVersionSealed);
  (void)find(id);
  EXPECT_TRUE(files_containing(env_.root(), kSecret).empty());
  EXPECT_EQ(find(id)->properties, changed);
}

TEST_F(DataAtRestTest, KeyStoreMigrationSealsLegacyPrivateDataObjects) {
  const std::string priv = data_file::new_id();
  const std::string pub = data_file::new_id();
  fs::create_directories(data_dir());
  fs::permissions(env_.user_dir(), fs::perms::owner_all, fs::perm_options::replace);
  fs::permissions(data_dir(), fs::perms::owner_all, fs::perm_options::replace);
  for (const auto& [id, props] :
       {std::pair{priv, private_props()}, std::pair{pub, public_props()}}) {
    write_file(data_dir() / id, data_file::encode(StoredDataObject{id, props}));
    fs::permissions(data_dir() / id, fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace);
  }
  KeyStore keys(env_.user_dir(), Scope::kUser);
  keys.protect_at_rest();
  keys.migrate();
  EXPECT_EQ(read_file(data_dir() / priv)[8], data_file::kVersionSealed);
  EXPECT_EQ(read_file(data_dir() / pub)[8], data_file::kVersion);  // public: left clear
  EXPECT_EQ(data_file::decode_file(read_file(data_dir() / priv)).key_id, keyring().current()->id);
  EXPECT_EQ(find(priv)->properties, private_props());
  EXPECT_EQ(find(pub)->properties, public_props());
  EXPECT_TRUE(files_containing(env_.root(), kSecret).empty());
}

TEST_F(DataAtRestTest, StoreCopiedWithoutItsKeyringListsButCannotOpenThePrivateValue) {
  DataStore store(false, "");
  const std::string priv = store.add(private_props());
  const std::string pub = store.add(public_props());
  TempDir elsewhere;
  fs::copy(env_.user_dir(), elsewhere.path() / "user", fs::copy_options::recursive);
  ScopedEnv moved("CNG_PKCS11_USER_DIR", (elsewhere.path() / "user").string());
  ASSERT_FALSE(fs::exists(master_key::Keyring::dir_for(elsewhere.path() / "user")));

  const auto p = find(priv);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->value_status, NTE_BAD_KEY_STATE);
  EXPECT_FALSE(p->value_cause.empty());
  EXPECT_FALSE(p->properties.contains("Value"));
  EXPECT_EQ(p->properties.at("Label"), Bytes{'p'});
  const auto o = find(pub);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->value_status, 0);
  EXPECT_EQ(o->properties, public_props());
}

TEST_F(DataAtRestTest, RekeyResealsPrivateDataObjects) {
  DataStore store(false, "");
  const std::string priv = store.add(private_props());
  const auto before = keyring().current()->id;
  KeyStore keys(env_.user_dir(), Scope::kUser);
  keys.protect_at_rest();
  keys.rekey();
  const auto after = keyring().current()->id;
  ASSERT_NE(before, after);
  EXPECT_EQ(data_file::decode_file(read_file(data_dir() / priv)).key_id, after);
  EXPECT_EQ(find(priv)->properties, private_props());
}

}  // namespace
}  // namespace cng::test
