// DataStore (PKCS#11 data objects) and its file format: round trips, corruption, placement and
// modes, I/O failures, and writers killed mid-write.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "cng_data_store.h"
#include "store/data_file.h"
#include "store/key_store.h"
#include "store_test_util.h"

namespace cng {
namespace {

namespace fs = std::filesystem;
using Properties = std::map<std::string, std::vector<std::uint8_t>>;

SECURITY_STATUS data_status(const std::function<void()>& call) {
  try {
    call();
    return 0;
  } catch (const std::exception& e) {
    return static_cast<SECURITY_STATUS>(data_store_error_status(e));
  }
}

const Properties kProps = {{"Application", {'a', 'p', 'p'}},
                           {"Label", {'d', 'a', 't', 'a'}},
                           {"ObjectId", {0x06, 0x03, 0x2a, 0x03, 0x04}},
                           {"Value", {0, 1, 2, 0xff}}};

// The file layout of data_file.h written out independently of the encoder: the oracle.
std::vector<std::uint8_t> hand_encoded(const std::string& id, const Properties& props) {
  std::vector<std::uint8_t> out = {'C', 'N', 'G', 'D', 'A', 'T', 'A', 0x1a, 1, 0, 0, 0, 0, 0, 0, 0};
  const auto u32 = [&](std::size_t v) {
    for (int i = 0; i < 4; ++i) {
      out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
  };
  u32(id.size());
  out.insert(out.end(), id.begin(), id.end());
  u32(props.size());
  for (const auto& [name, value] : props) {
    u32(name.size());
    out.insert(out.end(), name.begin(), name.end());
    u32(value.size());
    out.insert(out.end(), value.begin(), value.end());
  }
  out.resize(out.size() + 32);
  data_file::reseal(out);  // length and SHA-256 (the checksum itself is the envelope's)
  return out;
}

TEST(DataFile, RoundTripCanonicalAndLayout) {
  const StoredDataObject o{data_file::new_id(), kProps};
  EXPECT_TRUE(data_file::is_data_id(o.id));
  const auto bytes = data_file::encode(o);
  EXPECT_EQ(bytes, hand_encoded(o.id, kProps));
  const StoredDataObject back = data_file::decode(bytes);
  EXPECT_EQ(back.id, o.id);
  EXPECT_EQ(back.properties, kProps);
  EXPECT_EQ(data_file::encode(back), bytes);
  // Equal content, different objects: ids are random.
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    ids.insert(data_file::new_id());
  }
  EXPECT_EQ(ids.size(), 100U);
}

TEST(DataFile, TruncationsBitFlipsAndBadIdsAreRejected) {
  const auto good = data_file::encode({data_file::new_id(), kProps});
  for (std::size_t n = 0; n < good.size(); ++n) {
    std::vector<std::uint8_t> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    ASSERT_EQ(test::status_of([&] { (void)data_file::decode(cut); }), NTE_BAD_DATA) << n;
    data_file::reseal(cut);
    ASSERT_EQ(test::status_of([&] { (void)data_file::decode(cut); }), NTE_BAD_DATA) << n;
  }
  for (std::size_t i = 0; i < good.size(); ++i) {
    auto bad = good;
    bad[i] ^= 0x01;
    ASSERT_EQ(test::status_of([&] { (void)data_file::decode(bad); }), NTE_BAD_DATA) << i;
  }
  // Well-sealed files whose body is wrong.
  const Properties unordered_source = {{"A", {1}}, {"B", {2}}};
  auto swapped = hand_encoded(std::string(32, 'b'), unordered_source);
  const std::size_t first_name = 16 + 4 + 32 + 4 + 4;  // header, id, count, name length
  std::swap(swapped[first_name], swapped[first_name + 1 + 4 + 1 + 4]);
  data_file::reseal(swapped);
  EXPECT_EQ(test::status_of([&] { (void)data_file::decode(swapped); }), NTE_BAD_DATA);
  for (const std::string& id : {std::string(32, 'G'), std::string(32, 'A'), std::string("../x")}) {
    EXPECT_EQ(test::status_of([&] { (void)data_file::decode(hand_encoded(id, {})); }), NTE_BAD_DATA)
        << id;
    EXPECT_EQ(test::status_of([&] { (void)data_file::encode({id, {}}); }), NTE_INVALID_PARAMETER);
  }
  EXPECT_EQ(test::status_of([&] {
              (void)data_file::encode(
                  {data_file::new_id(), {{"Value", std::vector<std::uint8_t>(1024 * 1024 + 1)}}});
            }),
            NTE_INVALID_PARAMETER);
}

class DataStoreTest : public ::testing::Test {
 protected:
  test::StoreEnv env_;
  DataStore user_{false, ""};
  DataStore machine_{true, ""};
  DataStore platform_{false, "platform"};
  fs::path user_data() const { return env_.user_dir() / "data"; }
};

TEST_F(DataStoreTest, AddListSetPropertiesRemove) {
  EXPECT_TRUE(user_.list().empty());
  const std::string a = user_.add(kProps);
  const std::string b = user_.add(kProps);  // equal content: a second object
  EXPECT_NE(a, b);
  auto listed = user_.list();
  ASSERT_EQ(listed.size(), 2U);
  for (const auto& o : listed) {
    EXPECT_TRUE(o.id == a || o.id == b);
    EXPECT_EQ(o.properties, kProps);
    // The file on disk is exactly the documented layout.
    EXPECT_EQ(test::read_file(user_data() / o.id), hand_encoded(o.id, kProps));
  }
  const Properties changed = {{"Label", {'n', 'e', 'w'}}, {"Value", {}}};
  user_.set_properties(a, changed);
  listed = user_.list();
  ASSERT_EQ(listed.size(), 2U);
  for (const auto& o : listed) {
    EXPECT_EQ(o.properties, o.id == a ? changed : kProps);
  }
  user_.remove(a);
  listed = user_.list();
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].id, b);
  EXPECT_EQ(data_status([&] { user_.remove(a); }), NTE_NOT_FOUND);
  EXPECT_EQ(data_status([&] { user_.set_properties(a, changed); }), NTE_NOT_FOUND);
  EXPECT_EQ(test::entries(user_data()), std::vector<std::string>{b});
}

TEST_F(DataStoreTest, IdsThatAreNotIdsAreNotFound) {
  test::write_file(env_.root() / "victim", {'v'});
  (void)user_.add({});
  for (const std::string& id : std::vector<std::string>{
           "", "../victim", "../../victim", "ABCDEF", std::string(32, 'A'), std::string(64, 'a')}) {
    EXPECT_EQ(data_status([&] { user_.remove(id); }), NTE_NOT_FOUND) << id;
    EXPECT_EQ(data_status([&] { user_.set_properties(id, {}); }), NTE_NOT_FOUND) << id;
  }
  EXPECT_TRUE(fs::exists(env_.root() / "victim"));
}

TEST_F(DataStoreTest, CorruptOrMisplacedFilesAreSkipped) {
  const std::string a = user_.add({{"Label", {'a'}}});
  const std::string b = user_.add({{"Label", {'b'}}});
  const std::string c = user_.add({{"Label", {'c'}}});
  const std::string d = user_.add({{"Label", {'d'}}});
  auto bytes = test::read_file(user_data() / b);
  bytes.resize(bytes.size() - 1);
  test::write_file(user_data() / b, bytes);
  // A valid file under another object's name.
  fs::copy_file(user_data() / a, user_data() / c, fs::copy_options::overwrite_existing);
  // Garbage, an empty file, a symbolic link and a directory at id-shaped names.
  test::write_file(user_data() / d, std::vector<std::uint8_t>(300, 0x5a));
  test::write_file(user_data() / std::string(32, 'e'), {});
  fs::create_symlink(user_data() / a, user_data() / std::string(32, 'f'));
  fs::create_directory(user_data() / std::string(32, '0'));
  const auto listed = user_.list();
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].id, a);
  user_.remove(b);  // a corrupt object can still be deleted
  EXPECT_FALSE(fs::exists(user_data() / b));
}

TEST_F(DataStoreTest, ScopesProvidersModesAndPlacement) {
  const mode_t old_umask = ::umask(0);
  const std::string id = machine_.add(kProps);
  const std::string tpm = platform_.add(kProps);
  ::umask(old_umask);
  EXPECT_TRUE(user_.list().empty()) << "scopes and providers are separate stores";
  ASSERT_EQ(machine_.list().size(), 1U);
  ASSERT_EQ(platform_.list().size(), 1U);
  for (const fs::path& file :
       {env_.machine_dir() / "data" / id, env_.user_dir() / "platform" / "data" / tpm}) {
    struct stat st {};
    ASSERT_EQ(::lstat(file.c_str(), &st), 0) << file;
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0600U) << file;
    ASSERT_EQ(::lstat(file.parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700U) << file.parent_path();
  }
  // Data objects are neither keys nor certificates.
  EXPECT_TRUE(KeyStore(env_.machine_dir(), Scope::kMachine).list().empty());
  EXPECT_TRUE(user_.writable());
}

// A real I/O failure (the file-size limit makes write() fail with EFBIG): the object keeps its
// previous content and no new file or temporary file is left behind.
TEST_F(DataStoreTest, AFailedWriteLeavesThePreviousStateIntact) {
  const std::string id = user_.add(kProps);
  const auto before = test::snapshot(user_data());
  EXPECT_EQ(test::run_in_child([&] {
              ::signal(SIGXFSZ, SIG_IGN);
              const rlimit limit{64, 64};
              if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) {
                return 100;
              }
              const Properties big = {{"Value", std::vector<std::uint8_t>(4096, 7)}};
              if (data_status([&] { user_.set_properties(id, big); }) == 0) {
                return 1;
              }
              if (data_status([&] { (void)user_.add(big); }) == 0) {
                return 2;
              }
              return 0;
            }),
            0);
  EXPECT_EQ(test::snapshot(user_data()), before);
  ASSERT_EQ(user_.list().size(), 1U);
  EXPECT_EQ(user_.list()[0].properties, kProps);
  // Beyond the format's limits: refused before anything is written.
  const Properties too_big = {{"Value", std::vector<std::uint8_t>(1024 * 1024 + 1)}};
  EXPECT_EQ(data_status([&] { user_.set_properties(id, too_big); }), NTE_INVALID_PARAMETER);
  EXPECT_EQ(data_status([&] { (void)user_.add(too_big); }), NTE_INVALID_PARAMETER);
  EXPECT_EQ(test::snapshot(user_data()), before);
}

// The child of the crash test: adds, rewrites and removes objects forever. Every value is
// self-describing (a length and a fill byte), so a torn write would be visible.
[[noreturn]] void churn_objects(std::uint32_t seed) {
  DataStore store(false, "");
  std::mt19937 rng(seed);
  std::vector<std::string> mine;  // also earlier rounds' objects, so the store stays small
  for (const auto& o : store.list()) {
    mine.push_back(o.id);
  }
  for (;;) {
    const std::size_t size = 1000 + rng() % 200000;  // large: kills land inside writes
    const auto fill = static_cast<std::uint8_t>(rng());
    const Properties props = {{"Fill", {fill}}, {"Value", std::vector<std::uint8_t>(size, fill)}};
    try {
      const unsigned op = rng() % 4;
      if (op == 0 || mine.empty()) {
        mine.push_back(store.add(props));
      } else if (op == 1 || op == 2) {
        store.set_properties(mine[rng() % mine.size()], props);
      } else {
        const std::size_t i = rng() % mine.size();
        store.remove(mine[i]);
        mine.erase(mine.begin() + static_cast<std::ptrdiff_t>(i));
      }
    } catch (const CngError&) {
      // Nothing expected; the parent judges the files.
    }
  }
}

TEST_F(DataStoreTest, KilledWritersLeaveEveryObjectWholeOrAbsent) {
  ASSERT_TRUE(user_.writable());  // creates the directory before the first kill
  std::mt19937 rng(std::random_device{}());
  int killed_while_running = 0;
  for (int round = 0; round < 30; ++round) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      churn_objects(static_cast<std::uint32_t>(rng()) + static_cast<std::uint32_t>(round));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(2000 + rng() % 40000));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    killed_while_running += (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ? 1 : 0;

    // Every file with an id name decodes (no torn file), and list() shows exactly those.
    std::size_t whole = 0;
    for (const auto& name : test::entries(user_data())) {
      if (name.starts_with(".tmp-")) {
        continue;
      }
      ASSERT_TRUE(data_file::is_data_id(name)) << name;
      const auto bytes = test::read_file(user_data() / name);
      ASSERT_EQ(test::status_of([&] { (void)data_file::decode(bytes); }), 0)
          << "round " << round << " file " << name;
      ++whole;
    }
    const auto listed = user_.list();
    ASSERT_EQ(listed.size(), whole) << "round " << round;
    for (const auto& o : listed) {
      const auto& fill = o.properties.at("Fill");
      const auto& value = o.properties.at("Value");
      ASSERT_EQ(fill.size(), 1U);
      ASSERT_TRUE(std::all_of(value.begin(), value.end(), [&](auto b) { return b == fill[0]; }));
    }
  }
  EXPECT_EQ(killed_while_running, 30);
}

}  // namespace
}  // namespace cng
