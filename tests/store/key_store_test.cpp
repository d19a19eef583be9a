// KeyStore in one process: operations, naming, modes, links, corruption, scopes.
#include "store/key_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "core/u16.h"
#include "store/key_file.h"
#include "store_test_util.h"

namespace cng {
namespace {

namespace fs = std::filesystem;
using test::sample_record;
using test::status_of;

class KeyStoreTest : public ::testing::Test {
 protected:
  test::StoreEnv env_;
  KeyStore store_{KeyStore::default_dir(Scope::kUser), Scope::kUser};
  fs::path file_of(std::u16string_view name) const {
    return store_.dir() / KeyStore::file_name_for(name);
  }
};

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

TEST_F(KeyStoreTest, StoreLoadExistsRemove) {
  const KeyRecord r = sample_record(u"alpha", 1200, 1);
  EXPECT_FALSE(store_.exists(u"alpha"));
  store_.store(r, false);
  EXPECT_TRUE(store_.exists(u"alpha"));
  test::expect_same_record(store_.load(u"alpha"), r);
  store_.remove(u"alpha");
  EXPECT_FALSE(store_.exists(u"alpha"));
  EXPECT_EQ(status_of([&] { (void)store_.load(u"alpha"); }), NTE_BAD_KEYSET);
  EXPECT_EQ(status_of([&] { store_.remove(u"alpha"); }), NTE_BAD_KEYSET);
}

TEST_F(KeyStoreTest, MissingDirectoryReadsAsEmptyAndIsNotCreatedByReads) {
  EXPECT_FALSE(fs::exists(store_.dir()));
  EXPECT_TRUE(store_.list().empty());
  EXPECT_FALSE(store_.exists(u"x"));
  EXPECT_EQ(status_of([&] { (void)store_.load(u"x"); }), NTE_BAD_KEYSET);
  EXPECT_EQ(status_of([&] { store_.remove(u"x"); }), NTE_BAD_KEYSET);
  EXPECT_EQ(status_of([&] { store_.update(sample_record(u"x")); }), NTE_BAD_KEYSET);
  EXPECT_FALSE(fs::exists(store_.dir()));
}

TEST_F(KeyStoreTest, ExistingNameNeedsOverwrite) {
  const KeyRecord first = sample_record(u"dup", 100, 1);
  const KeyRecord second = sample_record(u"dup", 200, 2);
  store_.store(first, false);
  EXPECT_EQ(status_of([&] { store_.store(second, false); }), NTE_EXISTS);
  test::expect_same_record(store_.load(u"dup"), first);
  store_.store(second, true);
  test::expect_same_record(store_.load(u"dup"), second);
  EXPECT_EQ(test::entries(store_.dir()).size(), 1U);  // no temporary file left behind
}

TEST_F(KeyStoreTest, UpdateReplacesOnlyExistingKeys) {
  EXPECT_EQ(status_of([&] { store_.update(sample_record(u"ghost")); }), NTE_BAD_KEYSET);
  store_.store(sample_record(u"other"), false);
  EXPECT_EQ(status_of([&] { store_.update(sample_record(u"ghost")); }), NTE_BAD_KEYSET);
  EXPECT_FALSE(store_.exists(u"ghost"));
  KeyRecord changed = sample_record(u"other", 50, 3);
  changed.properties[u"PKCS11 Label"] = Bytes{'n', 'e', 'w'};
  store_.update(changed);
  test::expect_same_record(store_.load(u"other"), changed);
  EXPECT_EQ(test::entries(store_.dir()).size(), 1U);
}

TEST_F(KeyStoreTest, ListIsSortedAndComplete) {
  const std::vector<std::u16string> names = {u"zeta", u"Alpha", u"mid", u"\u00e9t\u00e9"};
  for (const auto& n : names) {
    store_.store(sample_record(n), false);
  }
  auto expected = names;
  std::sort(expected.begin(), expected.end());
  const auto listed = store_.list();
  ASSERT_EQ(listed.size(), expected.size());
  for (std::size_t i = 0; i < listed.size(); ++i) {
    EXPECT_EQ(listed[i].name, expected[i]);
    EXPECT_EQ(listed[i].algorithm, u"ECDSA_P256");
    EXPECT_EQ(listed[i].legacy_key_spec, static_cast<DWORD>(AT_SIGNATURE));
  }
}

TEST_F(KeyStoreTest, LargeKeyFilesListAndLoad) {
  KeyRecord big = sample_record(u"big", key_file::kMaxBlobBytes, 5);
  big.properties[u"Large"] = Bytes(300 * 1024, 0x5a);
  store_.store(big, false);
  store_.store(sample_record(u"small"), false);
  const auto listed = store_.list();
  ASSERT_EQ(listed.size(), 2U);
  EXPECT_EQ(listed[0].name, u"big");
  test::expect_same_record(store_.load(u"big"), big);
}

TEST_F(KeyStoreTest, FileNameIsAHashNeverTheName) {
  const std::u16string name = u"../../etc/passwd";
  const std::string file = KeyStore::file_name_for(name);
  EXPECT_EQ(file.size(), 32U);
  EXPECT_TRUE(std::all_of(file.begin(), file.end(),
                          [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }));
  EXPECT_NE(KeyStore::file_name_for(u"a"), KeyStore::file_name_for(u"A"));
  store_.store(sample_record(name), false);
  EXPECT_EQ(test::entries(store_.dir()), std::vector<std::string>{file});
  for (const auto& e : test::entries(store_.dir())) {
    EXPECT_EQ(e.find("passwd"), std::string::npos);
  }
  test::expect_same_record(store_.load(name), sample_record(name));
}

TEST_F(KeyStoreTest, ModesAre0600And0700WhateverTheUmask) {
  // A nested store path: every created directory is 0700.
  KeyStore nested(env_.root() / "a" / "b" / "keys", Scope::kUser);
  const mode_t old_umask = ::umask(0);
  nested.store(sample_record(u"k"), false);
  ::umask(old_umask);
  EXPECT_EQ(mode_of(nested.dir() / KeyStore::file_name_for(u"k")), 0600U);
  EXPECT_EQ(mode_of(nested.dir()), 0700U);
  EXPECT_EQ(mode_of(env_.root() / "a" / "b"), 0700U);
  EXPECT_EQ(mode_of(env_.root() / "a"), 0700U);
}

TEST_F(KeyStoreTest, SymlinkAtTheKeyPathIsNeverFollowed) {
  store_.store(sample_record(u"seed"), false);  // creates the directory
  const fs::path target = env_.root() / "target";
  const Bytes target_content = {'s', 'e', 'c', 'r', 'e', 't'};
  test::write_file(target, target_content);
  fs::create_symlink(target, file_of(u"linked"));

  EXPECT_EQ(status_of([&] { (void)store_.load(u"linked"); }), NTE_PERM);
  EXPECT_EQ(status_of([&] { store_.store(sample_record(u"linked"), false); }), NTE_EXISTS);
  EXPECT_EQ(test::read_file(target), target_content);
  EXPECT_TRUE(fs::is_symlink(file_of(u"linked")));
  // Listing skips it; other keys are unaffected.
  const auto listed = store_.list();
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].name, u"seed");
  // Overwrite and update replace the link itself, not its target.
  store_.update(sample_record(u"linked", 10, 2));
  EXPECT_FALSE(fs::is_symlink(file_of(u"linked")));
  EXPECT_EQ(test::read_file(target), target_content);
  fs::remove(file_of(u"linked"));
  fs::create_symlink(target, file_of(u"linked"));
  store_.store(sample_record(u"linked", 10, 3), true);
  EXPECT_FALSE(fs::is_symlink(file_of(u"linked")));
  test::expect_same_record(store_.load(u"linked"), sample_record(u"linked", 10, 3));
  EXPECT_EQ(test::read_file(target), target_content);
  // Remove deletes a link, not its target.
  fs::remove(file_of(u"linked"));
  fs::create_symlink(target, file_of(u"linked"));
  store_.remove(u"linked");
  EXPECT_FALSE(fs::exists(fs::symlink_status(file_of(u"linked"))));
  EXPECT_EQ(test::read_file(target), target_content);
}

TEST_F(KeyStoreTest, CorruptFileAffectsOnlyThatKey) {
  for (const auto* n : {u"good", u"truncated", u"flipped", u"misplaced", u"empty"}) {
    store_.store(sample_record(n), false);
  }
  Bytes bytes = test::read_file(file_of(u"truncated"));
  bytes.resize(bytes.size() / 2);
  test::write_file(file_of(u"truncated"), bytes);
  bytes = test::read_file(file_of(u"flipped"));
  bytes[bytes.size() - 100] ^= 0x10;
  test::write_file(file_of(u"flipped"), bytes);
  // A whole, valid file of another key copied to this key's name.
  fs::copy_file(file_of(u"good"), file_of(u"misplaced"), fs::copy_options::overwrite_existing);
  test::write_file(file_of(u"empty"), {});

  for (const auto* n : {u"truncated", u"flipped", u"misplaced", u"empty"}) {
    EXPECT_EQ(status_of([&] { (void)store_.load(n); }), NTE_BAD_DATA) << to_utf8(n);
    EXPECT_TRUE(store_.exists(n));  // still there: the caller may delete or overwrite it
  }
  test::expect_same_record(store_.load(u"good"), sample_record(u"good"));
  const auto listed = store_.list();
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].name, u"good");
  // A corrupt key can be deleted or replaced.
  store_.remove(u"truncated");
  store_.store(sample_record(u"flipped", 5, 4), true);
  test::expect_same_record(store_.load(u"flipped"), sample_record(u"flipped", 5, 4));
}

TEST_F(KeyStoreTest, UnrelatedFilesAndTemporaryFilesAreIgnored) {
  store_.store(sample_record(u"real"), false);
  const Bytes real = test::read_file(file_of(u"real"));
  // A live writer holds the lock on its temporary file; a dead writer's lock is free, however
  // recent the file.
  const fs::path live = store_.dir() / ".tmp-0123456789abcdef";
  test::write_file(live, real);
  const int live_fd = ::open(live.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(live_fd, 0);
  ASSERT_EQ(::flock(live_fd, LOCK_EX), 0);
  test::write_file(store_.dir() / ".tmp-fedcba9876543210", real);  // a dead writer's file
  test::write_file(store_.dir() / "README", {'x'});
  fs::create_directory(store_.dir() / "0123456789abcdef0123456789abcdef");

  const auto listed = store_.list();
  ::close(live_fd);
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].name, u"real");
  EXPECT_TRUE(fs::exists(live));
  EXPECT_FALSE(fs::exists(store_.dir() / ".tmp-fedcba9876543210"));
}

TEST_F(KeyStoreTest, UserAndMachineScopesAreSeparate) {
  KeyStore machine(KeyStore::default_dir(Scope::kMachine), Scope::kMachine);
  EXPECT_EQ(machine.dir(), env_.machine_dir());
  EXPECT_EQ(store_.dir(), env_.user_dir());
  store_.store(sample_record(u"shared name", 10, 1), false);
  EXPECT_FALSE(machine.exists(u"shared name"));
  EXPECT_EQ(status_of([&] { (void)machine.load(u"shared name"); }), NTE_BAD_KEYSET);
  EXPECT_TRUE(machine.list().empty());
  machine.store(sample_record(u"shared name", 10, 2), false);  // no NTE_EXISTS across scopes
  test::expect_same_record(store_.load(u"shared name"), sample_record(u"shared name", 10, 1));
  test::expect_same_record(machine.load(u"shared name"), sample_record(u"shared name", 10, 2));
  machine.remove(u"shared name");
  EXPECT_TRUE(store_.exists(u"shared name"));
}

TEST(KeyStoreDefaultDir, FollowsTheEnvironment) {
  test::ScopedEnv user("CNG_PKCS11_USER_DIR", std::nullopt);
  test::ScopedEnv machine("CNG_PKCS11_MACHINE_DIR", std::nullopt);
  test::ScopedEnv home("HOME", "/home/someone");
  {
    test::ScopedEnv xdg("XDG_DATA_HOME", std::nullopt);
    EXPECT_EQ(KeyStore::default_dir(Scope::kUser), "/home/someone/.local/share/cng-pkcs11");
  }
  {
    test::ScopedEnv xdg("XDG_DATA_HOME", "relative/ignored");
    EXPECT_EQ(KeyStore::default_dir(Scope::kUser), "/home/someone/.local/share/cng-pkcs11");
  }
  test::ScopedEnv xdg("XDG_DATA_HOME", "/data");
  EXPECT_EQ(KeyStore::default_dir(Scope::kUser), "/data/cng-pkcs11");
  EXPECT_EQ(KeyStore::default_dir(Scope::kMachine), "/var/lib/cng-pkcs11");
  test::ScopedEnv user_set("CNG_PKCS11_USER_DIR", "/u");
  test::ScopedEnv machine_set("CNG_PKCS11_MACHINE_DIR", "/m");
  EXPECT_EQ(KeyStore::default_dir(Scope::kUser), "/u");
  EXPECT_EQ(KeyStore::default_dir(Scope::kMachine), "/m");
}

TEST_F(KeyStoreTest, WritableCreatesTheDirectory) {
  EXPECT_TRUE(store_.writable());
  EXPECT_TRUE(fs::is_directory(store_.dir()));
  EXPECT_TRUE(test::entries(store_.dir()).empty());  // the probe file is gone
  KeyStore under_a_file(env_.root() / "plain" / "keys", Scope::kUser);
  test::write_file(env_.root() / "plain", {'x'});
  EXPECT_FALSE(under_a_file.writable());
}

TEST_F(KeyStoreTest, InvalidRecordsWriteNothing) {
  KeyRecord r = sample_record(u"x");
  r.name = std::u16string(600, u'n');
  EXPECT_EQ(status_of([&] { store_.store(r, false); }), NTE_INVALID_PARAMETER);
  EXPECT_FALSE(fs::exists(store_.dir()));
}

}  // namespace
}  // namespace cng
