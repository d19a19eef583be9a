// Many threads on one object layer: generate, find, read, sign and destroy at once. Each
// thread checks its own results; ASan/TSan builds check the locking.
#include <atomic>
#include <thread>

#include "ncrypt.h"
#include "object_test_support.h"

namespace p11::test {
namespace {

class ConcurrencyTest : public ObjectLayerTest {};

TEST_F(ConcurrencyTest, ParallelLifecyclesOnOneLayer) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 6;
  std::atomic<int> failures{0};
  const auto worker = [&](int id) {
    for (int round = 0; round < kRounds; ++round) {
      // Appended in place: "t" + std::to_string(…) trips GCC 12 -O3 -Wrestrict.
      std::string label = "t";
      label += std::to_string(id);
      label += '-';
      label += std::to_string(round);
      const bool token = round % 2 == 0;
      SessionContext s{static_cast<CK_SESSION_HANDLE>(1000 + id), true};
      Template pub;
      pub.boolean(CKA_TOKEN, token).bytes(CKA_EC_PARAMS, ec_params(256));
      Template priv;
      priv.boolean(CKA_TOKEN, token).text(CKA_LABEL, label);
      CK_MECHANISM m{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
      const auto [pub_h, priv_h] = layer_->generate_key_pair(s, m, pub.span(), priv.span());
      Template by_label;
      by_label.text(CKA_LABEL, label).ulong(CKA_CLASS, CKO_PRIVATE_KEY);
      if (layer_->find(s, by_label.span()) != std::vector<CK_OBJECT_HANDLE>{priv_h}) {
        ++failures;
      }
      const KeyView v = layer_->key_view(s, priv_h);
      layer_->destroy_object(s, priv_h);  // the signature below still has its key open
      Bytes digest(32, static_cast<std::uint8_t>(round));
      Bytes sig(64);
      DWORD size = 0;
      if (NCryptSignHash(v.ncrypt_key, nullptr, digest.data(), 32, sig.data(), 64, &size, 0) !=
              ERROR_SUCCESS ||
          size != 64) {
        ++failures;
      }
      if (!layer_->find(s, by_label.span()).empty()) {
        ++failures;
      }
      (void)pub_h;
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back(worker, i);
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  Template privs;
  privs.ulong(CKA_CLASS, CKO_PRIVATE_KEY);
  EXPECT_TRUE(find(*layer_, privs).empty());
}

}  // namespace
}  // namespace p11::test
