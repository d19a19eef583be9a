// Many threads on one key: correctness under concurrency, and (DISABLED_, run by hand) the
// throughput of sign_hash against raw OpenSSL EVP in the same process.
#include <gtest/gtest.h>
#include <openssl/rsa.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "test_support.h"

namespace cng_test {
namespace {

using cng::HashId;
using cng::SignPadding;
using Clock = std::chrono::steady_clock;

// Runs `op` on n threads until `duration` has passed; returns the total number of calls.
template <class Op>
long run_threads(int n, std::chrono::milliseconds duration, Op op) {
  std::atomic<long> total{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) {
        std::this_thread::yield();
      }
      const auto end = Clock::now() + duration;
      long count = 0;
      auto state = op.make_state(t);
      while (Clock::now() < end) {
        op.once(state);
        ++count;
      }
      total += count;
    });
  }
  go = true;
  for (auto& th : threads) {
    th.join();
  }
  return total.load();
}

struct ProviderSigner {
  std::shared_ptr<cng::KeyMaterial> key;
  SignPadding pad;
  Bytes hash;
  std::atomic<int>* failures;
  int make_state(int /*thread*/) const { return 0; }
  void once(int& /*state*/) const {
    const Bytes sig = key->sign_hash(pad, hash);
    try {
      key->verify_signature(pad, hash, sig);
    } catch (const cng::CngError&) {
      ++*failures;
    }
  }
};

TEST(SoftwareConcurrency, EightThreadsSignAndVerifyWithOneKey) {
  const Bytes hash = digest("SHA256", random_bytes(16));
  struct Case {
    std::shared_ptr<cng::KeyMaterial> key;
    SignPadding pad;
    std::chrono::milliseconds time;
  };
  const Case cases[] = {
      {shared_ec(cng::KeyAlgorithm::kEcdsa, cng::Curve::kP256), SignPadding{},
       std::chrono::milliseconds(600)},
      {shared_rsa(1024), SignPadding{NCRYPT_PAD_PSS_FLAG, HashId::kSha256, 32},
       std::chrono::milliseconds(400)},
  };
  for (const auto& c : cases) {
    std::atomic<int> failures{0};
    const long calls = run_threads(8, c.time, ProviderSigner{c.key, c.pad, hash, &failures});
    EXPECT_GT(calls, 8);
    EXPECT_EQ(failures.load(), 0);
  }
}

TEST(SoftwareConcurrency, KeyFreedWhileOtherKeysAreInUse) {
  // Pools die with their key: create, use from several threads, drop, repeat.
  for (int round = 0; round < 20; ++round) {
    cng::KeySpec spec;
    spec.algorithm = cng::KeyAlgorithm::kEcdsa;
    spec.curve = cng::Curve::kP256;
    auto key = provider().generate(spec);
    const Bytes hash = digest("SHA256", random_bytes(4));
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        key->verify_signature(SignPadding{}, hash, key->sign_hash(SignPadding{}, hash));
        ++ok;
      });
    }
    for (auto& th : threads) {
      th.join();
    }
    EXPECT_EQ(ok.load(), 4);
    key.reset();
  }
}

// ---- Throughput against the raw OpenSSL baseline (tools/p11bench/raw_openssl.cc shape) ----

struct RawSigner {
  EVP_PKEY* master;
  bool rsa;
  Bytes hash;
  struct State {
    Pkey key;
    EVP_PKEY_CTX* ctx;
    EVP_MD* md;
    ~State() {
      EVP_PKEY_CTX_free(ctx);
      EVP_MD_free(md);
    }
  };
  std::unique_ptr<State> make_state(int /*thread*/) const {
    auto s = std::make_unique<State>();
    s->key.reset(EVP_PKEY_dup(master));
    s->ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, s->key.get(), nullptr);
    s->md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return s;
  }
  void once(std::unique_ptr<State>& s) const {
    unsigned char sig[512];
    std::size_t len = sizeof sig;
    bool ok = EVP_PKEY_sign_init(s->ctx) == 1;
    if (rsa) {
      ok = ok && EVP_PKEY_CTX_set_rsa_padding(s->ctx, RSA_PKCS1_PADDING) == 1 &&
           EVP_PKEY_CTX_set_signature_md(s->ctx, s->md) == 1;
    }
    ok = ok && EVP_PKEY_sign(s->ctx, sig, &len, hash.data(), hash.size()) == 1;
    if (!ok) {
      std::abort();  // benchmark only; never reached with a valid key
    }
  }
};

struct OurSigner {
  std::shared_ptr<cng::KeyMaterial> key;
  SignPadding pad;
  Bytes hash;
  int make_state(int /*thread*/) const { return 0; }
  void once(int& /*state*/) const { (void)key->sign_hash(pad, hash); }
};

TEST(SoftwareConcurrency, DISABLED_ThroughputVersusRawOpenSsl) {
  const Bytes hash = digest("SHA256", random_bytes(16));
  struct Case {
    const char* name;
    std::shared_ptr<cng::KeyMaterial> key;
    SignPadding pad;
    bool rsa;
  };
  const Case cases[] = {
      {"p256_ecdsa", shared_ec(cng::KeyAlgorithm::kEcdsa, cng::Curve::kP256), SignPadding{}, false},
      {"rsa2048_sha256_pkcs", shared_rsa(2048),
       SignPadding{NCRYPT_PAD_PKCS1_FLAG, HashId::kSha256, 0}, true},
  };
  // 2 s each, interleaved in 200 ms slices so that load from other processes hits both sides
  // alike.
  constexpr int kSlices = 10;
  const auto slice = std::chrono::milliseconds(200);
  for (const auto& c : cases) {
    const Pkey master = pkey_from_pkcs8(c.key->export_private(NCRYPT_PKCS8_PRIVATE_KEY_BLOB));
    for (const int threads : {1, 2}) {
      long raw = 0;
      long ours = 0;
      for (int i = 0; i < kSlices; ++i) {
        raw += run_threads(threads, slice, RawSigner{master.get(), c.rsa, hash});
        ours += run_threads(threads, slice, OurSigner{c.key, c.pad, hash});
      }
      const double secs = kSlices * static_cast<double>(slice.count()) / 1000.0;
      std::printf("%-22s threads=%d raw=%9.1f/s ours=%9.1f/s ratio=%.3f\n", c.name, threads,
                  static_cast<double>(raw) / secs, static_cast<double>(ours) / secs,
                  static_cast<double>(ours) / static_cast<double>(raw));
      EXPECT_GT(ours, 0);
    }
  }
}

}  // namespace
}  // namespace cng_test
