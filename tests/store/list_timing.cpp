// Not a test: measures KeyStore::list() over 1000 keys (first call in a fresh process on a
// warm page cache, then repeated calls).
// Usage: store_list_timing [key count] [store dir (kept; populated when empty)]
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "core/u16.h"
#include "store/key_store.h"
#include "store_test_util.h"

int main(int argc, char** argv) {
  const int count = argc > 1 ? std::atoi(argv[1]) : 1000;
  std::unique_ptr<cng::test::TempDir> temp;
  std::filesystem::path dir;
  if (argc > 2) {
    dir = argv[2];
  } else {
    temp = std::make_unique<cng::test::TempDir>();
    dir = temp->path() / "keys";
  }
  cng::KeyStore store(dir, cng::Scope::kUser);
  if (store.list().empty()) {
    for (int i = 0; i < count; ++i) {
      // RSA-2048-sized private part (PKCS#8 ~1.2 kB) plus properties.
      store.store(cng::test::sample_record(cng::from_utf8("key " + std::to_string(i)), 1218,
                                           static_cast<std::uint32_t>(i)),
                  false);
    }
    std::printf("created %d keys in %s\n", count, dir.c_str());
    return 0;
  }
  using Clock = std::chrono::steady_clock;
  const auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
  };
  // CPU time shows the cost on a busy machine, where wall time includes waiting for a core.
  for (int run = 0; run < 5; ++run) {
    const auto t0 = Clock::now();
    const double c0 = cpu_now();
    const auto listed = store.list();
    const double cpu_ms = cpu_now() - c0;
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
    std::printf("run %d: list() of %zu keys: %.2f ms wall, %.2f ms cpu\n", run, listed.size(),
                static_cast<double>(us.count()) / 1000.0, cpu_ms);
  }
  return 0;
}
