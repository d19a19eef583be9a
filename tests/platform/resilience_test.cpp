// The platform provider on a bare simulator (no resource manager): surviving a TPM restart, and
// hundreds of keys through the TPM's three transient slots.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <set>
#include <thread>

#include "platform_test_support.h"

namespace platform_test {
namespace {

using ncrypt_test::digest;
using ncrypt_test::export_key;
using ncrypt_test::pkey_from_bcrypt_public;
using ncrypt_test::verify_ecdsa_raw;

class ResilienceTest : public PlatformTest {};

TEST_F(ResilienceTest, KeysKeepWorkingAcrossASimulatorRestart) {
  const NCRYPT_KEY_HANDLE persisted = create_key(u"ECDSA_P256", u"survivor");
  const NCRYPT_KEY_HANDLE ephemeral = create_key(u"ECDSA_P256", nullptr);
  const Pkey pub = pkey_from_bcrypt_public(export_key(persisted, BCRYPT_ECCPUBLIC_BLOB));
  const Pkey eph_pub = pkey_from_bcrypt_public(export_key(ephemeral, BCRYPT_ECCPUBLIC_BLOB));
  ASSERT_TRUE(pub && eph_pub);
  const Bytes hash = digest("SHA256", "before and after");
  EXPECT_TRUE(verify_ecdsa_raw(pub.get(), hash, sign(persisted, nullptr, hash, 0)));

  // The TPM goes away: a clean NTE_* error, no crash.
  main_tpm()->stop();
  Bytes sig;
  const SECURITY_STATUS down = try_sign(persisted, nullptr, hash, 0, sig);
  EXPECT_TRUE(down == NTE_DEVICE_NOT_FOUND || down == NTE_DEVICE_NOT_READY)
      << ncrypt_test::status_text(down);

  // Power back on (same state, same port): the same handles work again.
  main_tpm()->start();
  EXPECT_TRUE(verify_ecdsa_raw(pub.get(), hash, sign(persisted, nullptr, hash, 0)));
  EXPECT_TRUE(verify_ecdsa_raw(eph_pub.get(), hash, sign(ephemeral, nullptr, hash, 0)));

  // A restart the provider does not see coming (between two operations).
  main_tpm()->stop();
  main_tpm()->start();
  NCRYPT_KEY_HANDLE reopened = 0;
  ASSERT_OK(NCryptOpenKey(provider_, &reopened, u"survivor", 0, 0));
  EXPECT_TRUE(verify_ecdsa_raw(pub.get(), hash, sign(reopened, nullptr, hash, 0)));
  EXPECT_TRUE(verify_ecdsa_raw(pub.get(), hash, sign(persisted, nullptr, hash, 0)));

  EXPECT_OK(NCryptFreeObject(reopened));
  EXPECT_OK(NCryptFreeObject(ephemeral));
  EXPECT_OK(NCryptDeleteKey(persisted, 0));
}

// 200 persisted keys, all open at once, used in turn: far more keys than the TPM's transient
// slots, on swtpm without tpm2-abrmd.
TEST_F(ResilienceTest, TwoHundredPersistedKeysCreatedListedUsedAndDeleted) {
  constexpr int kKeys = 200;
  const auto start = std::chrono::steady_clock::now();
  std::vector<NCRYPT_KEY_HANDLE> keys;
  std::vector<std::u16string> names;
  for (int i = 0; i < kKeys; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "bulk-%03d", i);
    names.emplace_back(name, name + std::strlen(name));
    keys.push_back(create_key(u"ECDSA_P256", names.back().c_str()));
  }
  const auto created = std::chrono::steady_clock::now();

  std::set<std::u16string> listed;
  NCryptKeyName* item = nullptr;
  PVOID state = nullptr;
  while (NCryptEnumKeys(provider_, nullptr, &item, &state, 0) == ERROR_SUCCESS) {
    listed.insert(item->pszName);
    EXPECT_OK(NCryptFreeBuffer(item));
  }
  EXPECT_OK(NCryptFreeBuffer(state));
  EXPECT_EQ(listed, std::set<std::u16string>(names.begin(), names.end()));

  // Each key signs in turn, twice round, so every signature needs a reload into the TPM.
  std::vector<Pkey> pubs;
  for (const NCRYPT_KEY_HANDLE k : keys) {
    pubs.push_back(pkey_from_bcrypt_public(export_key(k, BCRYPT_ECCPUBLIC_BLOB)));
  }
  const Bytes hash = digest("SHA256", "in turn");
  int verified = 0;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kKeys; ++i) {
      const Bytes sig = sign(keys[static_cast<std::size_t>(i)], nullptr, hash, 0);
      verified += verify_ecdsa_raw(pubs[static_cast<std::size_t>(i)].get(), hash, sig) ? 1 : 0;
    }
  }
  EXPECT_EQ(verified, 2 * kKeys);
  const auto used = std::chrono::steady_clock::now();

  for (const NCRYPT_KEY_HANDLE k : keys) {
    EXPECT_OK(NCryptDeleteKey(k, 0));
  }
  state = nullptr;
  EXPECT_STATUS(NTE_NO_MORE_ITEMS, NCryptEnumKeys(provider_, nullptr, &item, &state, 0));
  EXPECT_OK(NCryptFreeBuffer(state));
  EXPECT_EQ(ncrypt_test::file_count(user_dir()), 0u);
  const auto done = std::chrono::steady_clock::now();
  const auto ms = [](auto d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  std::cout << "[ timing ] 200 TPM keys: create " << ms(created - start) << " ms, list+sign x2 "
            << ms(used - created) << " ms, delete " << ms(done - used) << " ms\n";
  RecordProperty("create_ms", static_cast<int>(ms(created - start)));
  RecordProperty("sign_ms", static_cast<int>(ms(used - created)));
}

// Many threads, more keys than TPM slots: the connection serializes the TPM and the cache
// reloads whatever another thread evicted.
TEST_F(ResilienceTest, ConcurrentSigningWithMoreKeysThanSlots) {
  constexpr std::size_t kKeys = 6;
  constexpr int kThreads = 6;
  constexpr int kSignatures = 25;
  std::vector<NCRYPT_KEY_HANDLE> keys;
  std::vector<Pkey> pubs;
  for (std::size_t i = 0; i < kKeys; ++i) {
    keys.push_back(create_key(u"ECDSA_P256", nullptr));
    pubs.push_back(pkey_from_bcrypt_public(export_key(keys.back(), BCRYPT_ECCPUBLIC_BLOB)));
  }
  std::vector<int> good(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const Bytes hash = digest("SHA256", "thread " + std::to_string(t));
      for (int i = 0; i < kSignatures; ++i) {
        const std::size_t k = static_cast<std::size_t>(t + i) % kKeys;
        Bytes sig;
        if (try_sign(keys[k], nullptr, hash, 0, sig) == ERROR_SUCCESS &&
            verify_ecdsa_raw(pubs[k].get(), hash, sig)) {
          ++good[static_cast<std::size_t>(t)];
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(good[static_cast<std::size_t>(t)], kSignatures) << "thread " << t;
  }
  for (const NCRYPT_KEY_HANDLE k : keys) {
    EXPECT_OK(NCryptFreeObject(k));
  }
}

}  // namespace
}  // namespace platform_test
