// The on-disk key file format: versioned, little-endian, self-checking.
// encode() and decode() are pure functions over bytes (fuzzed by fuzz/fuzz_key_file.cpp).
#pragma once

#include <cstdint>
#include <span>

#include "store/key_record.h"

namespace cng::key_file {

// Serializes a record. The listing fields (name, algorithm, legacy key spec) come first so
// that decode_listing() reads only a small prefix.
SecureBytes encode(const KeyRecord& record);
// Parses and verifies (magic, version, lengths, checksum). NTE_BAD_DATA on any defect.
KeyRecord decode(std::span<const std::uint8_t> bytes);
// Parses only the listing fields; NTE_BAD_DATA on any defect in what it reads.
KeyListing decode_listing(std::span<const std::uint8_t> bytes);

}  // namespace cng::key_file
