// The on-disk data-object file format of DataStore: versioned, little-endian, self-checking.
// Pure functions over bytes (fuzzed by fuzz/fuzz_data_file.cpp).
//
// Version 1 layout (integers little-endian; bytes = u32 length + bytes):
//   magic "CNGDATA\x1a" | u16 version = 1 | u16 flags = 0 | u32 total file length
//   bytes id (kIdChars lowercase hex) | u32 property count (<= kMaxProperties)
//     { bytes name (1..kMaxPropertyNameBytes, strictly ascending) |
//       bytes value (<= kMaxValueBytes) }…
//   SHA-256 of everything before it
// The id is stored inside so that a file copied or renamed to another object's name is
// detected (the id is random, so unlike a certificate's it cannot be recomputed). Canonical:
// encode(decode(x)) == x for every accepted x.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cng_data_store.h"

namespace cng::data_file {

inline constexpr std::uint16_t kVersion = 1;
inline constexpr std::size_t kIdChars = 32;  // 128 random bits
inline constexpr std::size_t kMaxProperties = 64;
inline constexpr std::size_t kMaxPropertyNameBytes = 256;
// CKA_VALUE of a token data object is one property value.
inline constexpr std::size_t kMaxValueBytes = kDataStoreMaxValueBytes;
inline constexpr std::size_t kMaxFileBytes = 8 * 1024 * 1024;

// A fresh random id.
std::string new_id();
// True when s has the shape of an id (kIdChars lowercase hex digits).
bool is_data_id(std::string_view s) noexcept;

// Serializes id + properties. NTE_INVALID_PARAMETER beyond a limit or for a malformed id.
std::vector<std::uint8_t> encode(const StoredDataObject& object);
// Parses and verifies. NTE_BAD_DATA on any defect.
StoredDataObject decode(std::span<const std::uint8_t> bytes);
// Recomputes the length and checksum fields in place (tests and fuzzers).
void reseal(std::span<std::uint8_t> bytes);

}  // namespace cng::data_file
