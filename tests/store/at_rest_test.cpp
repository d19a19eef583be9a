// At-rest protection of a key store (store/master_key.h, key_store.h protect_at_rest):
// sealed files, binding to the name and creation fields, legacy clear files and migration,
// copies with and without the keyring, rekey, the KEK protector, kills during rekey and
// migration. The AEAD's correctness is checked against OpenSSL used directly (open_with_openssl).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "store/key_file.h"
#include "store/key_store.h"
#include "store/master_key.h"
#include "store/secret_page.h"
#include "store_test_util.h"

namespace cng::test {
namespace {

namespace fs = std::filesystem;
using master_key::Keyring;

// prefix followed by the character i places after first ("k" + 'a' + 2 = "kc").
std::u16string nth(char16_t first, int i) {
  return std::u16string(1, static_cast<char16_t>(first + i));
}

class AtRestTest : public ::testing::Test {
 protected:
  KeyStore store() const {
    KeyStore s(env_.user_dir(), Scope::kUser);
    s.protect_at_rest();
    return s;
  }
  fs::path keyring_dir() const { return Keyring::dir_for(env_.user_dir()); }
  fs::path file_of(const std::u16string& name) const {
    return env_.user_dir() / KeyStore::file_name_for(name);
  }
  StoreEnv env_;
};

TEST_F(AtRestTest, KeyringIsASiblingOfTheScopeDirectory) {
  EXPECT_EQ(Keyring::dir_for("/a/b/user"), fs::path("/a/b/user.keyring"));
  EXPECT_EQ(Keyring::dir_for("/a/b/user/"), fs::path("/a/b/user.keyring"));
  EXPECT_EQ(store().keyring()->dir(), env_.root() / "user.keyring");
}

TEST_F(AtRestTest, PrivateBlobIsSealedUnderTheMasterKeyAndBoundToTheRecord) {
  const KeyRecord record = sample_record(u"alpha", 1200, 7);
  store().store(record, false);
  const Bytes file = read_file(file_of(u"alpha"));
  EXPECT_FALSE(contains(file, record.private_blob));
  EXPECT_EQ(file[8], key_file::kVersionEncrypted);
  // Only the key file and the keyring exist; modes as the store's.
  EXPECT_EQ(entries(keyring_dir()).size(), 3u);  // current, lock, master-<id>
  for (const auto& name : entries(keyring_dir())) {
    struct stat st {};
    ASSERT_EQ(::stat((keyring_dir() / name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
  }
  struct stat st {};
  ASSERT_EQ(::stat(keyring_dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  // OpenSSL, given the master key and the documented AAD, opens the blob to the original.
  const KeyRecord on_disk = key_file::decode(file);
  EXPECT_EQ(on_disk.protection, KeyRecord::Protection::kSealed);
  const auto key = store().keyring()->get(on_disk.master_key_id);
  const Bytes sealed(on_disk.private_blob.begin(), on_disk.private_blob.end());
  const auto plain = open_with_openssl(key->bytes(), sealed, key_file::private_aad(on_disk));
  ASSERT_TRUE(plain.has_value());
  EXPECT_TRUE(std::equal(plain->begin(), plain->end(), record.private_blob.begin(),
                         record.private_blob.end()));
  // And the store loads it back whole.
  expect_same_record(store().load(u"alpha"), record);
}

TEST_F(AtRestTest, BlobMovedToAnotherKeyOrEditedCreationFieldsFailCleanly) {
  store().store(sample_record(u"one", 300, 1), false);
  store().store(sample_record(u"two", 300, 2), false);
  const KeyRecord one = key_file::decode(read_file(file_of(u"one")));
  KeyRecord two = key_file::decode(read_file(file_of(u"two")));
  two.private_blob = one.private_blob;  // one's sealed blob in two's (self-consistent) file
  auto bytes = key_file::encode(two);
  write_file(file_of(u"two"), Bytes(bytes.begin(), bytes.end()));
  EXPECT_EQ(status_of([&] { (void)store().load(u"two"); }), NTE_BAD_DATA);
  expect_same_record(store().load(u"one"), sample_record(u"one", 300, 1));

  // A creation field bound by the AAD (export policy) edited on disk: the key does not open.
  KeyRecord edited = key_file::decode(read_file(file_of(u"one")));
  edited.export_policy ^= NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG;
  bytes = key_file::encode(edited);
  write_file(file_of(u"one"), Bytes(bytes.begin(), bytes.end()));
  EXPECT_EQ(status_of([&] { (void)store().load(u"one"); }), NTE_BAD_DATA);
}

TEST_F(AtRestTest, PropertyUpdatesNeedNoReencryptionOfTheBoundFields) {
  KeyRecord record = sample_record(u"labelled", 200, 3);
  store().store(record, false);
  // A persisted property (a label) is not bound: changing it on disk keeps the key usable.
  KeyRecord on_disk = key_file::decode(read_file(file_of(u"labelled")));
  on_disk.properties[u"Label"] = Bytes{'n', 'e', 'w'};
  const auto bytes = key_file::encode(on_disk);
  write_file(file_of(u"labelled"), Bytes(bytes.begin(), bytes.end()));
  const KeyRecord loaded = store().load(u"labelled");
  EXPECT_TRUE(loaded.private_blob == record.private_blob);
  EXPECT_EQ(loaded.properties.at(u"Label"), (Bytes{'n', 'e', 'w'}));
}

TEST_F(AtRestTest, LegacyClearFilesLoadAndAreMigratedByTheFirstWrite) {
  KeyStore clear(env_.user_dir(), Scope::kUser);  // no at-rest protection: version 1 files
  for (int i = 0; i < 5; ++i) {
    clear.store(sample_record(u"legacy" + nth(u'0', i), 500, i), false);
  }
  EXPECT_EQ(read_file(file_of(u"legacy0"))[8], key_file::kVersion);
  EXPECT_EQ(store().protection_counts().clear, 5u);
  expect_same_record(store().load(u"legacy3"), sample_record(u"legacy3", 500, 3));
  EXPECT_FALSE(fs::exists(keyring_dir()));  // reading creates nothing

  store().store(sample_record(u"new", 500, 9), false);  // the first write migrates
  EXPECT_EQ(store().protection_counts().encrypted, 6u);
  EXPECT_EQ(store().protection_counts().clear, 0u);
  EXPECT_TRUE(store().keyring()->current()->migrated);
  for (int i = 0; i < 5; ++i) {
    const std::u16string name = u"legacy" + nth(u'0', i);
    const KeyRecord expected = sample_record(name, 500, i);
    EXPECT_FALSE(contains(read_file(file_of(name)), expected.private_blob));
    expect_same_record(store().load(name), expected);
  }
}

TEST_F(AtRestTest, CopiedStoreWorksWithItsKeyringAndFailsPerKeyWithout) {
  store().store(sample_record(u"k1", 400, 1), false);
  store().store(sample_record(u"k2", 400, 2), false);
  // Whole account copied (key directory and keyring): the file protector opens the keys.
  const TempDir other;
  fs::copy(env_.user_dir(), other.path() / "user", fs::copy_options::recursive);
  fs::copy(keyring_dir(), other.path() / "user.keyring", fs::copy_options::recursive);
  KeyStore copied(other.path() / "user", Scope::kUser);
  copied.protect_at_rest();
  {
    const ScopedEnv root("CNG_PKCS11_USER_DIR", (other.path() / "user").string());
    expect_same_record(copied.load(u"k2"), sample_record(u"k2", 400, 2));
  }
  // Key directory alone: each key lists and opens, its private part fails with a clear error.
  const TempDir bare;
  fs::copy(env_.user_dir(), bare.path() / "user", fs::copy_options::recursive);
  KeyStore moved(bare.path() / "user", Scope::kUser);
  moved.protect_at_rest();
  const ScopedEnv root("CNG_PKCS11_USER_DIR", (bare.path() / "user").string());
  EXPECT_EQ(moved.list().size(), 2u);
  const KeyRecord k1 = moved.load(u"k1");
  EXPECT_EQ(k1.private_status, NTE_BAD_KEY_STATE);
  EXPECT_NE(k1.private_cause.find("not found"), std::string::npos) << k1.private_cause;
  EXPECT_TRUE(k1.private_blob.empty());
  EXPECT_EQ(k1.public_blob, sample_record(u"k1", 400, 1).public_blob);
  // Such a record is never written back (its private part would be lost).
  EXPECT_EQ(status_of([&] { moved.update(k1); }), NTE_BAD_KEY_STATE);
}

TEST_F(AtRestTest, RekeyReencryptsEveryKeyAndRetiresTheOldMasterKey) {
  for (int i = 0; i < 4; ++i) {
    store().store(sample_record(u"r" + nth(u'0', i), 600, i), false);
  }
  const auto before = store().keyring()->current()->id;
  store().rekey();
  const auto after = store().keyring()->current()->id;
  EXPECT_NE(before, after);
  EXPECT_EQ(entries(keyring_dir()).size(), 3u);  // the old master file is gone
  for (int i = 0; i < 4; ++i) {
    const std::u16string name = u"r" + nth(u'0', i);
    EXPECT_EQ(key_file::decode(read_file(file_of(name))).master_key_id, after);
    expect_same_record(store().load(name), sample_record(name, 600, i));
  }
}

TEST_F(AtRestTest, KekProtectorNeedsTheKekAndHoldsNoClearMasterKey) {
  store().store(sample_record(u"pinned", 300, 5), false);
  const auto id = store().keyring()->current()->id;
  const auto master = store().keyring()->get(id);
  const Bytes master_bytes(master->bytes().begin(), master->bytes().end());
  std::array<std::uint8_t, master_key::kKekBytes> kek{};
  for (std::size_t i = 0; i < kek.size(); ++i) {
    kek[i] = static_cast<std::uint8_t>(0xA0 + i);
  }
  {
    const auto lock = store().keyring()->acquire(true);
    store().keyring()->protect_with_kek(kek);
  }
  EXPECT_TRUE(files_containing(env_.root(), master_bytes).empty());
  EXPECT_EQ(store().keyring()->status().protector, master_key::Protector::kKek);

  store().keyring()->lock();  // a fresh process: nothing unlocked
  const KeyRecord locked = store().load(u"pinned");
  EXPECT_EQ(locked.private_status, NTE_BAD_KEY_STATE);
  auto wrong = kek;
  wrong[0] ^= 1;
  EXPECT_EQ(status_of([&] { store().keyring()->unlock_with_kek(wrong); }), NTE_INCORRECT_PASSWORD);
  EXPECT_EQ(store().load(u"pinned").private_status, NTE_BAD_KEY_STATE);
  store().keyring()->unlock_with_kek(kek);
  expect_same_record(store().load(u"pinned"), sample_record(u"pinned", 300, 5));
  // Rekey keeps the KEK protection (the KEK is known after unlock).
  store().rekey();
  EXPECT_EQ(store().keyring()->status().protector, master_key::Protector::kKek);
  store().keyring()->lock();
  store().keyring()->unlock_with_kek(kek);
  expect_same_record(store().load(u"pinned"), sample_record(u"pinned", 300, 5));
}

// A PIN change in flight (master_key.h, PIN protocol): the master key wrapped under both KEKs
// opens with either; rewrapped under one, only that one opens it.
TEST_F(AtRestTest, TwoKekWrappingsOpenWithEitherKek) {
  store().store(sample_record(u"changing", 300, 6), false);
  std::array<std::uint8_t, master_key::kKekBytes> old_kek{};
  std::array<std::uint8_t, master_key::kKekBytes> new_kek{};
  old_kek.fill(0x11);
  new_kek.fill(0x22);
  const std::array<std::span<const std::uint8_t, master_key::kKekBytes>, 2> both{old_kek, new_kek};
  {
    const auto lock = store().keyring()->acquire(true);
    store().keyring()->wrap_with_keks(both);
  }
  EXPECT_EQ(store().keyring()->status().protector, master_key::Protector::kKek);
  EXPECT_EQ(store().keyring()->status().kek_wraps, 2u);
  for (const auto& kek : {old_kek, new_kek}) {
    store().keyring()->lock();
    EXPECT_EQ(store().load(u"changing").private_status, NTE_BAD_KEY_STATE);
    store().keyring()->unlock_with_kek(kek);
    expect_same_record(store().load(u"changing"), sample_record(u"changing", 300, 6));
  }
  const std::array<std::span<const std::uint8_t, master_key::kKekBytes>, 1> one{new_kek};
  store().keyring()->wrap_with_keks(one);
  EXPECT_EQ(store().keyring()->status().kek_wraps, 1u);
  store().keyring()->lock();
  EXPECT_EQ(status_of([&] { store().keyring()->unlock_with_kek(old_kek); }),
            NTE_INCORRECT_PASSWORD);
  store().keyring()->unlock_with_kek(new_kek);
  expect_same_record(store().load(u"changing"), sample_record(u"changing", 300, 6));
}

TEST(SecretPageTest, IsExcludedFromCoreDumpsAndZeroed) {
  SecretPage page(32);
  EXPECT_TRUE(page.dump_excluded());
  EXPECT_TRUE(std::all_of(page.bytes().begin(), page.bytes().end(), [](auto b) { return b == 0; }));
}

// Forks a child running body in a loop, kills it after a random delay, repeats; after each
// kill every key must load with its original private blob.
void kill_loop(const StoreEnv& env, int iterations, int max_delay_us,
               const std::function<void()>& body, const std::vector<KeyRecord>& keys,
               const std::function<void()>& after_each_kill = {}) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_us(0, max_delay_us);
  for (int i = 0; i < iterations; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      for (;;) {
        body();
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    KeyStore s(env.user_dir(), Scope::kUser);
    s.protect_at_rest();
    for (const auto& key : keys) {
      const KeyRecord loaded = s.load(key.name);
      ASSERT_EQ(loaded.private_status, 0) << loaded.private_cause << " after kill " << i;
      ASSERT_TRUE(loaded.private_blob == key.private_blob) << "after kill " << i;
    }
    if (after_each_kill) {
      after_each_kill();
    }
  }
}

TEST_F(AtRestTest, KilledRekeysLeaveEveryKeyLoadable) {
  std::vector<KeyRecord> keys;
  for (int i = 0; i < 12; ++i) {
    keys.push_back(sample_record(u"kr" + nth(u'a', i), 2000, i));
    store().store(keys.back(), false);
  }
  // Kills that left key files under two master keys: the kill landed inside step 2.
  int mixed = 0;
  const auto count_mixed = [&] {
    std::set<master_key::KeyId> ids;
    for (const auto& key : keys) {
      ids.insert(key_file::decode(read_file(file_of(key.name))).master_key_id);
    }
    mixed += ids.size() > 1 ? 1 : 0;
  };
  const auto rekey = [&] { store().rekey(); };
  kill_loop(env_, 40, 20000, rekey, keys, count_mixed);
  EXPECT_GT(mixed, 0) << "no kill landed inside a rekey";
  store().rekey();  // a later rekey finishes and leaves one master key
  EXPECT_EQ(entries(keyring_dir()).size(), 3u);
}

TEST_F(AtRestTest, KilledMigrationsLeaveEveryKeyLoadable) {
  std::vector<KeyRecord> keys;
  for (int i = 0; i < 12; ++i) {
    keys.push_back(sample_record(u"m" + nth(u'a', i), 2000, i));
  }
  // How long one whole migration takes here: kills land anywhere within it.
  int full_us = 0;
  {
    KeyStore clear(env_.user_dir(), Scope::kUser);
    for (const auto& key : keys) {
      clear.store(key, false);
    }
    const auto start = std::chrono::steady_clock::now();
    store().migrate();
    full_us = static_cast<int>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now() - start)
                                   .count());
  }
  int partial = 0;  // kills that left a mix of encrypted and clear files
  for (int round = 0; round < 25; ++round) {
    // A clear store again: legacy files, no keyring.
    fs::remove_all(env_.user_dir());
    fs::remove_all(keyring_dir());
    KeyStore clear(env_.user_dir(), Scope::kUser);
    for (const auto& key : keys) {
      clear.store(key, false);
    }
    // The child also pays for fork and the first keyring setup: a little more than full_us.
    const auto migrate = [&] { store().migrate(); };
    kill_loop(env_, 1, full_us + full_us / 2 + 1000, migrate, keys);
    const auto counts = store().protection_counts();
    partial += counts.encrypted > 0 && counts.clear > 0 ? 1 : 0;
  }
  store().migrate();
  EXPECT_EQ(store().protection_counts().encrypted, keys.size());
  EXPECT_GT(partial, 0) << "no kill landed inside a migration (one takes " << full_us << " us)";
}

}  // namespace
}  // namespace cng::test
