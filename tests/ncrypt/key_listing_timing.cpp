// Not a test: times CngEnumKeyListings over the user scope of CNG_PKCS11_USER_DIR in this
// (fresh) process: the first listing (index file valid, stale or absent, as the store holds
// it), then repeated ones (in-memory index), and the process's peak RSS.
// Usage: CNG_PKCS11_USER_DIR=<scope dir> key_listing_timing [runs]
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "cng_key_listing.h"
#include "ncrypt.h"

namespace {

std::string status_line(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) {
      return line;
    }
  }
  return {};
}

// CPU time shows the cost on a busy machine, where wall time includes waiting for a core.
double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 3;
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  NCRYPT_PROV_HANDLE provider = 0;
  if (NCryptOpenStorageProvider(&provider, MS_KEY_STORAGE_PROVIDER, 0) != ERROR_SUCCESS) {
    std::fprintf(stderr, "cannot open the provider\n");
    return 1;
  }
  const auto t1 = Clock::now();
  std::printf("open provider: %.2f ms; %s\n",
              std::chrono::duration<double, std::milli>(t1 - t0).count(),
              status_line("VmRSS").c_str());
  for (int run = 0; run < runs; ++run) {
    std::vector<cng::KeyStoreListing> listings;
    const auto a = Clock::now();
    const double c0 = cpu_ms();
    const SECURITY_STATUS s = cng::CngEnumKeyListings(provider, 0, &listings);
    const double cpu = cpu_ms() - c0;
    const auto b = Clock::now();
    std::printf("run %d: status 0x%08x, %zu keys, %.2f ms wall, %.2f ms cpu; %s, %s\n", run,
                static_cast<unsigned>(s), listings.size(),
                std::chrono::duration<double, std::milli>(b - a).count(), cpu,
                status_line("VmRSS").c_str(), status_line("VmHWM").c_str());
  }
  NCryptFreeObject(provider);
  return 0;
}
