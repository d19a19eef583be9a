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
// detected (the id is random, so unlike a certificate's it cannot be recomputed).
// Version 2 (a private object, cng_data_store.h kDataStorePrivateProperty, sealed at rest under
// the scope's master key, store/master_key.h) is version 1 with, after the id:
//   u32 protection (1 = AES-256-GCM) | 16 bytes master key id
// and its kDataStoreValueProperty value (required) is nonce (12) || ciphertext || tag (16)
// under that master key, with value_aad() as AAD: the format tag, the id and the property
// name, so a value moved into another object's file (or under another name) fails to open.
// Canonical: encode_file(decode_file(x)) == x for every accepted x.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cng_data_store.h"
#include "core/secure_bytes.h"
#include "store/master_key.h"

namespace cng::data_file {

inline constexpr std::uint16_t kVersion = 1;                // every value clear
inline constexpr std::uint16_t kVersionSealed = 2;          // the value sealed
inline constexpr std::size_t kSealOverheadBytes = 12 + 16;  // nonce, tag
inline constexpr std::size_t kIdChars = 32;                 // 128 random bits
inline constexpr std::size_t kMaxProperties = 64;
inline constexpr std::size_t kMaxPropertyNameBytes = 256;
// CKA_VALUE of a token data object is one property value.
inline constexpr std::size_t kMaxValueBytes = kDataStoreMaxValueBytes;
inline constexpr std::size_t kMaxFileBytes = 8 * 1024 * 1024;

// A fresh random id.
std::string new_id();
// True when s has the shape of an id (kIdChars lowercase hex digits).
bool is_data_id(std::string_view s) noexcept;

// A file's content: the object as stored (a sealed file's value property still sealed).
struct DataFile {
  StoredDataObject object;
  bool sealed = false;
  master_key::KeyId key_id{};  // sealed: the master key the value was sealed under
};

// Serializes (version 1 when clear, else 2). NTE_INVALID_PARAMETER beyond a limit, for a
// malformed id, or for a sealed file without a value property.
std::vector<std::uint8_t> encode_file(const DataFile& file);
// A version 1 (clear) file.
std::vector<std::uint8_t> encode(const StoredDataObject& object);
// Parses and verifies either version. NTE_BAD_DATA on any defect.
DataFile decode_file(std::span<const std::uint8_t> bytes);
// decode_file() of a clear file; NTE_BAD_DATA for a sealed one too.
StoredDataObject decode(std::span<const std::uint8_t> bytes);
// The AAD of a sealed value: "CNGDATA-VALUE-v2" | bytes id | bytes property name | key id.
Bytes value_aad(const std::string& id, const std::string& property,
                const master_key::KeyId& key_id);
// Recomputes the length and checksum fields in place (tests and fuzzers).
void reseal(std::span<std::uint8_t> bytes);

}  // namespace cng::data_file
