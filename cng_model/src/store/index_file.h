// The on-disk format of a store directory's listing index (listing_cache.h): versioned,
// little-endian, self-checking, canonical like the key file. encode() and decode() are pure
// functions over bytes (fuzzed by fuzz/fuzz_index_file.cpp).
//
// Version 1 layout (integers little-endian; bytes = u32 length + bytes):
//   magic "CNGLIDX\x1a" | u16 version = 1 | u16 flags = 0 | u32 total file length
//   u32 kind (which store: keys, certificates, data objects) |
//   u64 dir device | u64 dir inode | u64 dir mtime_ns (two's complement) | u64 scanned_ns |
//   u32 entry count (<= kMaxEntries)
//     { bytes file name (1..kMaxFileNameBytes, strictly ascending) |
//       u64 inode | u64 size | u64 mtime_ns | u64 ctime_ns |
//       u32 state (0 listed, 1 damaged, 2 refused) |
//       bytes payload (<= kMaxPayloadBytes: the store's summary, or the reason) }…
//   SHA-256 of everything before it
// decode() accepts exactly the outputs of encode(): encode(decode(x)) == x.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/secure_bytes.h"
#include "store/store_dir.h"

namespace cng::index_file {

inline constexpr std::uint16_t kVersion = 1;
inline constexpr std::size_t kMaxEntries = 1u << 20;
inline constexpr std::size_t kMaxFileNameBytes = 255;  // NAME_MAX
inline constexpr std::size_t kMaxPayloadBytes = 32 * 1024 * 1024;
inline constexpr std::size_t kMaxFileBytes = std::size_t{1} << 30;

enum class EntryState : std::uint32_t { kListed = 0, kDamaged = 1, kRefused = 2 };

// One file of the store. Its payload (kListed: the store's summary; otherwise the reason, as
// text) lies in its index's payload arena: one allocation for the whole index.
struct Entry {
  std::string file;
  store_io::FileIdentity identity;
  EntryState state = EntryState::kListed;
  std::size_t payload_offset = 0;
  std::size_t payload_size = 0;
};

struct Index {
  std::uint32_t kind = 0;
  store_io::DirStamp dir;
  std::int64_t scanned_ns = 0;  // CLOCK_REALTIME when the scan that built it began
  std::vector<Entry> entries;   // strictly ascending by file
  SecureBytes payloads;         // every entry's payload, back to back

  [[nodiscard]] std::span<const std::uint8_t> payload(const Entry& e) const {
    return std::span<const std::uint8_t>(payloads).subspan(e.payload_offset, e.payload_size);
  }
  // Appends an entry with its payload.
  void add(std::string file, const store_io::FileIdentity& identity, EntryState state,
           std::span<const std::uint8_t> payload);
};

// Same files, identities, states and payloads (whatever the arena layout).
bool same_entries(const Index& a, const Index& b);

// NTE_INVALID_PARAMETER when the index exceeds a limit above or its entries are not strictly
// ascending (nothing is written then: the index is only a cache).
SecureBytes encode(const Index& index);
// Parses and verifies (magic, version, lengths, order, checksum). NTE_BAD_DATA on any defect.
Index decode(std::span<const std::uint8_t> bytes);
// The same, keeping the file's bytes as the payload arena (no copy of the payloads).
Index decode(SecureBytes&& bytes);
// Recomputes the length and checksum fields in place (tests and fuzzers).
void reseal(std::span<std::uint8_t> bytes);

}  // namespace cng::index_file
