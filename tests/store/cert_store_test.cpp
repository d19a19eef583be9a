// CertStore and its file format.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cng_cert_store.h"
#include "store/cert_file.h"
#include "store/key_store.h"
#include "store_test_util.h"

namespace cng {
namespace {

namespace fs = std::filesystem;
using Properties = std::map<std::string, std::vector<std::uint8_t>>;

SECURITY_STATUS cert_status(const std::function<void()>& call) {
  try {
    call();
    return 0;
  } catch (const std::exception& e) {
    return static_cast<SECURITY_STATUS>(cert_store_error_status(e));
  }
}

const Properties kProps = {{"Label", {'m', 'y'}}, {"KeyId", {1, 2, 3}}, {"Trusted", {}}};

TEST(CertFile, RoundTripAndCanonical) {
  StoredCertificate c{"", test::make_certificate("round"), kProps};
  const auto bytes = cert_file::encode(c);
  const StoredCertificate back = cert_file::decode(bytes);
  EXPECT_EQ(back.der, c.der);
  EXPECT_EQ(back.properties, c.properties);
  EXPECT_EQ(back.id, cert_file::certificate_id(c.der));
  EXPECT_TRUE(cert_file::is_certificate_id(back.id));
  EXPECT_EQ(cert_file::encode(back), bytes);
}

TEST(CertFile, TruncationsAndBitFlipsAreRejected) {
  const auto good = cert_file::encode({"", test::make_certificate("cut"), kProps});
  for (std::size_t n = 0; n < good.size(); ++n) {
    std::vector<std::uint8_t> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    ASSERT_EQ(test::status_of([&] { (void)cert_file::decode(cut); }), NTE_BAD_DATA) << n;
    cert_file::reseal(cut);
    ASSERT_EQ(test::status_of([&] { (void)cert_file::decode(cut); }), NTE_BAD_DATA) << n;
  }
  for (std::size_t i = 0; i < good.size(); ++i) {
    auto bad = good;
    bad[i] ^= 0x01;
    ASSERT_EQ(test::status_of([&] { (void)cert_file::decode(bad); }), NTE_BAD_DATA) << i;
  }
}

TEST(CertFile, HugeLengthsAreRejectedEvenWithAValidChecksum) {
  const auto der = test::make_certificate("len");
  const auto good = cert_file::encode({"", der, kProps});
  const std::size_t der_len_at = 16;
  const std::size_t count_at = der_len_at + 4 + der.size();
  for (const std::size_t at : {der_len_at, count_at, count_at + 4}) {
    for (const std::uint32_t v : {0xFFFFFFFFU, 0x80000000U, 0U + 0x100001U}) {
      auto bad = good;
      for (int i = 0; i < 4; ++i) {
        bad[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
      }
      cert_file::reseal(bad);
      ASSERT_EQ(test::status_of([&] { (void)cert_file::decode(bad); }), NTE_BAD_DATA) << at;
    }
  }
}

class CertStoreTest : public ::testing::Test {
 protected:
  test::StoreEnv env_;
  CertStore user_{false};
  CertStore machine_{true};
  fs::path user_certs() const { return env_.user_dir() / "certs"; }
};

TEST_F(CertStoreTest, AddListSetPropertiesRemove) {
  EXPECT_TRUE(user_.list().empty());
  const auto der = test::make_certificate("leaf");
  const std::string id = user_.add(der, kProps);
  EXPECT_EQ(id, cert_file::certificate_id(der));
  auto listed = user_.list();
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].id, id);
  EXPECT_EQ(listed[0].der, der);
  EXPECT_EQ(listed[0].properties, kProps);

  const Properties changed = {{"Label", {'n', 'e', 'w'}}};
  user_.set_properties(id, changed);
  listed = user_.list();
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].properties, changed);

  user_.remove(id);
  EXPECT_TRUE(user_.list().empty());
  EXPECT_EQ(cert_status([&] { user_.remove(id); }), NTE_NOT_FOUND);
  EXPECT_EQ(cert_status([&] { user_.set_properties(id, changed); }), NTE_NOT_FOUND);
  EXPECT_TRUE(test::entries(user_certs()).empty());  // set_properties on absent created nothing
}

TEST_F(CertStoreTest, AddingTheSameCertificateAgainReplacesItsProperties) {
  const auto der = test::make_certificate("twice");
  const std::string id = user_.add(der, kProps);
  const Properties second = {{"Label", {'2'}}};
  EXPECT_EQ(user_.add(der, second), id);
  const auto listed = user_.list();
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].properties, second);
}

TEST_F(CertStoreTest, RejectsWhatIsNotACertificate) {
  EXPECT_EQ(cert_status([&] { (void)user_.add({}, {}); }), NTE_INVALID_PARAMETER);
  EXPECT_EQ(cert_status([&] {
              (void)user_.add({0x30, 0x03, 0x02, 0x01, 0x05}, {});
            }),
            NTE_BAD_DATA);
  auto trailing = test::make_certificate("trailing");
  trailing.push_back(0);
  EXPECT_EQ(cert_status([&] { (void)user_.add(trailing, {}); }), NTE_BAD_DATA);
  EXPECT_FALSE(fs::exists(user_certs()));
}

TEST_F(CertStoreTest, IdsThatAreNotIdsAreNotFound) {
  test::write_file(env_.root() / "victim", {'v'});
  fs::create_directories(user_certs());
  for (const std::string& id :
       std::vector<std::string>{"", "../victim", "../../victim", "ABCDEF", std::string(64, 'A')}) {
    EXPECT_EQ(cert_status([&] { user_.remove(id); }), NTE_NOT_FOUND) << id;
    EXPECT_EQ(cert_status([&] { user_.set_properties(id, {}); }), NTE_NOT_FOUND) << id;
  }
  EXPECT_TRUE(fs::exists(env_.root() / "victim"));
}

TEST_F(CertStoreTest, CorruptOrMisplacedFilesAreSkipped) {
  const std::string a = user_.add(test::make_certificate("a"), kProps);
  const std::string b = user_.add(test::make_certificate("b"), kProps);
  const std::string c = user_.add(test::make_certificate("c"), kProps);
  auto bytes = test::read_file(user_certs() / b);
  bytes.resize(bytes.size() - 1);
  test::write_file(user_certs() / b, bytes);
  // A valid file under the wrong id.
  fs::copy_file(user_certs() / a, user_certs() / c, fs::copy_options::overwrite_existing);
  const auto listed = user_.list();
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].id, a);
  EXPECT_EQ(cert_status([&] { user_.set_properties(b, {}); }), NTE_BAD_DATA);
  user_.remove(b);  // a corrupt certificate can still be deleted
}

TEST_F(CertStoreTest, ScopesModesAndPlacement) {
  const auto der = test::make_certificate("scoped");
  const mode_t old_umask = ::umask(0);
  const std::string id = machine_.add(der, {});
  ::umask(old_umask);
  EXPECT_TRUE(user_.list().empty());
  ASSERT_EQ(machine_.list().size(), 1U);
  const fs::path file = env_.machine_dir() / "certs" / id;
  struct stat st {};
  ASSERT_EQ(::lstat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600U);
  ASSERT_EQ(::lstat(file.parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700U);
  // Certificates do not show up as keys.
  EXPECT_TRUE(KeyStore(env_.machine_dir(), Scope::kMachine).list().empty());
  EXPECT_TRUE(user_.writable());
}

TEST_F(CertStoreTest, NobodyCannotTouchARootOwnedMachineStore) {
  if (::geteuid() != 0 || ::getpwnam("nobody") == nullptr) {
    GTEST_SKIP() << "needs root and the user nobody";
  }
  ASSERT_EQ(::chmod(env_.root().c_str(), 0755), 0);
  const auto der = test::make_certificate("machine");
  const std::string id = machine_.add(der, kProps);
  const auto before = test::snapshot(env_.machine_dir());
  EXPECT_EQ(test::run_in_child([&] {
              const passwd* pw = ::getpwnam("nobody");
              if (::setgroups(0, nullptr) != 0 || ::setgid(pw->pw_gid) != 0 ||
                  ::setuid(pw->pw_uid) != 0) {
                return 100;
              }
              CertStore store(true);
              const SECURITY_STATUS statuses[] = {
                  cert_status([&] { (void)store.list(); }),
                  cert_status([&] { (void)store.add(test::make_certificate("x"), {}); }),
                  cert_status([&] { (void)store.add(der, {}); }),
                  cert_status([&] { store.set_properties(id, {}); }),
                  cert_status([&] { store.remove(id); }),
              };
              for (std::size_t i = 0; i < std::size(statuses); ++i) {
                if (statuses[i] != NTE_PERM) {
                  return static_cast<int>(i) + 1;
                }
              }
              return store.writable() ? 50 : 0;
            }),
            0);
  EXPECT_EQ(test::snapshot(env_.machine_dir()), before);
}

}  // namespace
}  // namespace cng
