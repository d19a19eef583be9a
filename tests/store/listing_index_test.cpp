// The store listing index (store/listing_cache.h) in one process: every listing equals the
// key files decoded directly (the oracle), whatever happened to the index or behind its back.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "cng_cert_store.h"
#include "cng_data_store.h"
#include "core/u16.h"
#include "listing_index_support.h"
#include "store/cert_file.h"
#include "store/index_file.h"
#include "store/key_file.h"
#include "store/listing_cache.h"
#include "store_test_util.h"

namespace cng {
namespace {

namespace fs = std::filesystem;
using test::expect_lists_exactly;
using test::index_path;
using test::sample_record;

std::u16string key_name(int i) { return u"key " + from_utf8(std::to_string(i)); }

struct stat stat_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st;
}

class ListingIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 12; ++i) {
      store_.store(sample_record(key_name(i), 300, static_cast<std::uint32_t>(i)), false);
    }
  }
  // Listings that leave a valid, non-racy index file behind: the directory's last change is
  // more than the racy window old when the scan begins. Twice: the first listing of a store
  // creates the index directory, a change of the store directory itself.
  void settle() {
    for (int i = 0; i < 2; ++i) {
      std::this_thread::sleep_for(store_index::kRacyWindow * 2);
      expect_lists_exactly(store_, true);
    }
  }
  index_file::Index read_index() const {
    return index_file::decode(test::read_file(index_path(store_.dir())));
  }

  test::StoreEnv env_;
  KeyStore store_{KeyStore::default_dir(Scope::kUser), Scope::kUser};
};

TEST_F(ListingIndexTest, ListingBuildsAPrivateIndexAndListsTheSameFromEachSource) {
  EXPECT_FALSE(fs::exists(index_path(store_.dir())));
  expect_lists_exactly(store_, true);  // no index yet: every file read
  const fs::path index_dir = store_.dir() / store_index::kIndexDirectory;
  EXPECT_EQ(stat_of(index_dir).st_mode & 07777, 0700U);
  EXPECT_EQ(stat_of(index_path(store_.dir())).st_mode & 07777, 0600U);
  EXPECT_EQ(read_index().entries.size(), 12U);
  expect_lists_exactly(store_, false);  // the in-memory index
  settle();
  expect_lists_exactly(store_, true);  // the index file
  expect_lists_exactly(store_, false);
}

TEST_F(ListingIndexTest, KeysAddedChangedOrRemovedBehindItsBackAreSeen) {
  settle();
  KeyRecord changed = sample_record(key_name(3), 300, 99);
  changed.properties[u"PKCS11 Label"] = Bytes{'n', 'e', 'w'};
  test::write_behind(store_.dir(), changed);
  test::write_behind(store_.dir(), sample_record(u"added", 200, 7));
  fs::remove(store_.dir() / KeyStore::file_name_for(key_name(5)));
  expect_lists_exactly(store_, false);  // a process that listed before
  settle();
  fs::remove(store_.dir() / KeyStore::file_name_for(key_name(6)));
  expect_lists_exactly(store_, true);  // a fresh process
  EXPECT_EQ(store_.list().size(), 11U);
}

// Timestamps are coarse: a change within the same tick as the scan leaves the directory's
// mtime as it was. Simulated by putting the mtime back after the change; the index, built
// within the racy window of that mtime, is not trusted as it is.
TEST_F(ListingIndexTest, ChangeWithinTheRacyWindowIsSeen) {
  settle();
  const fs::path dir = store_.dir();
  // The directory's mtime a little ahead: whatever the scheduling, the scan below begins
  // within the racy window of it.
  timespec ahead{};
  ::clock_gettime(CLOCK_REALTIME, &ahead);
  ahead.tv_nsec += 20'000'000;
  if (ahead.tv_nsec >= 1'000'000'000) {
    ahead.tv_sec += 1;
    ahead.tv_nsec -= 1'000'000'000;
  }
  const timespec times[2] = {{0, UTIME_OMIT}, ahead};
  ASSERT_EQ(::utimensat(AT_FDCWD, dir.c_str(), times, 0), 0);
  expect_lists_exactly(store_, true);
  ASSERT_EQ(read_index().dir.mtime_ns, ahead.tv_sec * 1'000'000'000LL + ahead.tv_nsec);

  KeyRecord changed = sample_record(key_name(1), 300, 42);
  changed.public_blob.assign(72, 0xEE);
  test::write_behind(dir, changed);
  test::write_behind(dir, sample_record(u"racy", 100, 3));
  ASSERT_EQ(::utimensat(AT_FDCWD, dir.c_str(), times, 0), 0);  // the mtime did not move
  ASSERT_EQ(read_index().dir.mtime_ns, ahead.tv_sec * 1'000'000'000LL + ahead.tv_nsec);
  expect_lists_exactly(store_, true);
  expect_lists_exactly(store_, false);
}

// The index is used as it is while the directory is unchanged: a file changed in place (which
// the stores never do) keeps its listing until the directory changes; then its new identity
// makes the rescan read it again.
TEST_F(ListingIndexTest, ValidIndexIsUsedAsItIsUntilTheDirectoryChanges) {
  settle();
  const fs::path file = store_.dir() / KeyStore::file_name_for(key_name(2));
  Bytes bytes = test::read_file(file);
  bytes[40] ^= 0x55;
  test::write_file(file, bytes);  // in place: the directory's mtime does not move
  store_index::forget_in_memory_indexes();
  EXPECT_EQ(store_.list().size(), 12U);  // from the index
  store_.store(sample_record(u"another", 100, 1), false);
  expect_lists_exactly(store_, true);  // key 2 damaged: left out
  std::vector<KeyFileIssue> issues;
  EXPECT_EQ(store_.list(&issues).size(), 12U);
  ASSERT_EQ(issues.size(), 1U);
  EXPECT_EQ(issues[0].file, KeyStore::file_name_for(key_name(2)));
  EXPECT_FALSE(issues[0].refused);
}

// A broken index of any kind is ignored, the listing is exact, and the index is rewritten.
TEST_F(ListingIndexTest, TruncatedGarbageOrForeignIndexIsIgnoredAndRebuilt) {
  settle();
  const fs::path path = index_path(store_.dir());
  const Bytes good = test::read_file(path);
  std::vector<std::pair<std::string, Bytes>> broken;
  broken.emplace_back("truncated", Bytes(good.begin(), good.begin() + good.size() / 2));
  broken.emplace_back("empty", Bytes{});
  Bytes garbage(good.size());
  for (std::size_t i = 0; i < garbage.size(); ++i) {
    garbage[i] = static_cast<std::uint8_t>(i * 2654435761U >> 13);
  }
  broken.emplace_back("garbage", garbage);
  Bytes flipped = good;
  flipped[flipped.size() / 2] ^= 1;
  broken.emplace_back("bit flip", flipped);
  Bytes version = good;
  version[8] = 2;  // version 2, checksum fixed up
  index_file::reseal(version);
  broken.emplace_back("other version", version);
  index_file::Index other_kind = read_index();
  other_kind.kind = 2;  // the certificate store's
  const SecureBytes encoded = index_file::encode(other_kind);
  broken.emplace_back("other kind", Bytes(encoded.begin(), encoded.end()));
  index_file::Index wrong_name = read_index();
  wrong_name.entries.back().file = "zz-not-a-key-file";
  const SecureBytes wrong = index_file::encode(wrong_name);
  broken.emplace_back("entry not a key file", Bytes(wrong.begin(), wrong.end()));
  for (const auto& [what, bytes] : broken) {
    SCOPED_TRACE(what);
    test::write_file(path, bytes);
    ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
    expect_lists_exactly(store_, true);
    EXPECT_EQ(read_index().entries.size(), 12U);
  }
}

TEST_F(ListingIndexTest, IndexOfAnotherDirectoryCopiedInIsIgnored) {
  settle();
  KeyStore other(env_.root() / "other", Scope::kUser);
  for (int i = 0; i < 4; ++i) {  // same names, other content
    other.store(sample_record(key_name(i), 100, 200U + static_cast<std::uint32_t>(i)), false);
  }
  std::this_thread::sleep_for(store_index::kRacyWindow * 2);
  expect_lists_exactly(other, true);
  fs::copy_file(index_path(other.dir()), index_path(store_.dir()),
                fs::copy_options::overwrite_existing);
  expect_lists_exactly(store_, true);
  EXPECT_EQ(read_index().dir.inode, stat_of(store_.dir()).st_ino);
}

TEST_F(ListingIndexTest, LooseOrForeignIndexIsIgnoredAndReplaced) {
  settle();
  const fs::path path = index_path(store_.dir());
  // A loose index listing a phantom key: used, it would show; refused, it does not.
  index_file::Index phantom = read_index();
  phantom.entries.erase(phantom.entries.begin());
  const SecureBytes bytes = index_file::encode(phantom);
  test::write_file(path, Bytes(bytes.begin(), bytes.end()));
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  expect_lists_exactly(store_, true);
  EXPECT_EQ(stat_of(path).st_mode & 07777, 0600U);
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to give the index to another uid";
  }
  test::write_file(path, Bytes(bytes.begin(), bytes.end()));
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  expect_lists_exactly(store_, true);
  EXPECT_EQ(stat_of(path).st_uid, ::geteuid());
}

// Writers never rewrite the index (key generation stays O(1)); the next listing does.
TEST_F(ListingIndexTest, WritersLeaveTheIndexToTheNextListing) {
  settle();
  const fs::path path = index_path(store_.dir());
  const auto before = stat_of(path);
  const Bytes content = test::read_file(path);
  store_.store(sample_record(u"new", 100, 1), false);
  KeyRecord updated = store_.load(key_name(0));
  updated.properties[u"PKCS11 Label"] = Bytes{'x'};
  store_.update(updated);
  store_.remove(key_name(1));
  EXPECT_EQ(stat_of(path).st_ino, before.st_ino);
  EXPECT_EQ(test::read_file(path), content);
  expect_lists_exactly(store_, false);
  EXPECT_NE(test::read_file(path), content);
}

// A dead index writer's temporary file is swept by the next listing that reads the index.
TEST_F(ListingIndexTest, DeadIndexWritersTemporaryFileIsSwept) {
  settle();
  const fs::path temp = store_.dir() / store_index::kIndexDirectory / ".tmp-00000000000000ab";
  test::write_file(temp, Bytes{1, 2, 3});
  expect_lists_exactly(store_, true);
  EXPECT_FALSE(fs::exists(temp));
}

TEST_F(ListingIndexTest, CertificateAndDataStoresListFromTheIndexAndCheckEveryFile) {
  CertStore certs(false, "");
  DataStore data(false, "");
  std::vector<std::string> cert_ids;
  std::vector<std::string> data_ids;
  for (int i = 0; i < 3; ++i) {
    cert_ids.push_back(certs.add(test::make_certificate("c" + std::to_string(i)),
                                 {{"Label", {static_cast<std::uint8_t>('a' + i)}}}));
    data_ids.push_back(data.add({{"Label", {static_cast<std::uint8_t>('d' + i)}}}));
  }
  const fs::path cert_dir = env_.user_dir() / "certs";
  const fs::path data_dir = env_.user_dir() / "data";
  // Oracle: the files decoded directly.
  const auto expect_certs = [&](std::size_t n) {
    const auto listed = certs.list();
    ASSERT_EQ(listed.size(), n);
    for (const auto& c : listed) {
      const auto direct = cert_file::decode(test::read_file(cert_dir / c.id));
      EXPECT_EQ(c.der, direct.der);
      EXPECT_EQ(c.properties, direct.properties);
    }
  };
  expect_certs(3);
  EXPECT_EQ(data.list().size(), 3U);
  EXPECT_TRUE(fs::exists(index_path(cert_dir)));
  EXPECT_TRUE(fs::exists(index_path(data_dir)));
  certs.set_properties(cert_ids[0], {{"Label", {'z'}}});
  certs.remove(cert_ids[1]);
  store_index::forget_in_memory_indexes();
  expect_certs(2);
  // Owner and mode are checked at every listing of these stores (they serve whole objects).
  ASSERT_EQ(::chmod((cert_dir / cert_ids[2]).c_str(), 0644), 0);
  ASSERT_EQ(::chmod((data_dir / data_ids[0]).c_str(), 0644), 0);
  expect_certs(1);
  EXPECT_EQ(data.list().size(), 2U);
  ASSERT_EQ(::chmod((data_dir / data_ids[0]).c_str(), 0600), 0);
  EXPECT_EQ(data.list().size(), 3U);
}

}  // namespace
}  // namespace cng
