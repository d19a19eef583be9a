// C_GenerateRandom / C_SeedRandom over OpenSSL's DRBG.
#include <openssl/rand.h>

#include <algorithm>
#include <cstddef>

#include "mechanisms/operation.h"

namespace p11 {

namespace {

// RAND_bytes/RAND_add take an int length; CK_ULONG lengths can exceed it.
constexpr std::size_t kChunk = std::size_t{1} << 30;

}  // namespace

void generate_random(std::span<std::uint8_t> out) {
  while (!out.empty()) {
    const std::size_t n = std::min(out.size(), kChunk);
    if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
      fail(CKR_FUNCTION_FAILED, "RAND_bytes failed");
    }
    out = out.subspan(n);
  }
}

void seed_random(std::span<const std::uint8_t> seed) {
  while (!seed.empty()) {
    const std::size_t n = std::min(seed.size(), kChunk);
    // No entropy credit: the caller's seed is mixed in as additional input only.
    RAND_add(seed.data(), static_cast<int>(n), 0.0);
    seed = seed.subspan(n);
  }
}

}  // namespace p11
