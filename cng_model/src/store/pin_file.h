// The on-disk PIN state of a scope ("pin-state" in the scope's store directory): versioned,
// little-endian, self-checking. Pure functions over bytes, plus the scrypt derivation.
//
// Version 1 layout (integers little-endian):
//   magic "CNGPIN\x1a\x00" | u16 version = 1 | u16 flags = 0
//   u8 scrypt log2(N) | u8 pad = 0 | u16 pad = 0 | u32 r | u32 p
//   16 bytes salt | 32 bytes verifier = SHA-256 of the first half of the scrypt output
//   u32 failures (consecutive wrong PINs) | u32 max failures (the lockout threshold)
//   SHA-256 of everything before it
// The PIN is never stored: scrypt(PIN, salt) gives 64 bytes, the first 32 are verifier
// material (only their hash is kept), the last 32 the key-encryption key (never kept).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/secure_bytes.h"

namespace cng::pin_file {

inline constexpr std::uint16_t kVersion = 1;
inline constexpr std::size_t kSaltBytes = 16;
inline constexpr std::size_t kVerifierBytes = 32;
inline constexpr std::size_t kKekBytes = 32;
inline constexpr std::size_t kFileBytes = 8 + 4 + 12 + kSaltBytes + kVerifierBytes + 8 + 32;
// Memory-hard defaults: N = 2^15, r = 8 (32 MiB), p = 1; about 100 ms on a current core.
inline constexpr std::uint8_t kDefaultLogN = 15;
inline constexpr std::uint32_t kDefaultR = 8;
inline constexpr std::uint32_t kDefaultP = 1;
inline constexpr std::uint32_t kDefaultMaxFailures = 10;

struct PinRecord {
  std::uint8_t log_n = kDefaultLogN;
  std::uint32_t r = kDefaultR;
  std::uint32_t p = kDefaultP;
  std::array<std::uint8_t, kSaltBytes> salt{};
  std::array<std::uint8_t, kVerifierBytes> verifier{};
  std::uint32_t failures = 0;
  std::uint32_t max_failures = kDefaultMaxFailures;

  [[nodiscard]] bool locked() const noexcept { return failures >= max_failures; }
  [[nodiscard]] std::uint32_t attempts_left() const noexcept {
    return locked() ? 0 : max_failures - failures;
  }
};

std::vector<std::uint8_t> encode(const PinRecord& record);
// Parses and verifies (checksum, version, parameter bounds). NTE_BAD_DATA on any defect.
PinRecord decode(std::span<const std::uint8_t> bytes);

struct Derived {
  std::array<std::uint8_t, kVerifierBytes> verifier{};  // SHA-256 of the verifier material
  SecureBytes kek;                                      // kKekBytes
};
// scrypt(pin, salt) with the record's parameters (EVP_KDF "SCRYPT").
Derived derive(std::string_view pin, const PinRecord& record);
// A record for a new PIN: fresh random salt, default parameters, no failures; kek receives
// the new PIN's key-encryption key.
PinRecord make_record(std::string_view pin, SecureBytes* kek);
// Constant-time comparison of a derivation with the stored verifier.
bool matches(const Derived& derived, const PinRecord& record) noexcept;

}  // namespace cng::pin_file
