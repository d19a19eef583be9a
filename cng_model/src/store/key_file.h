// The on-disk key file format: versioned, little-endian, self-checking.
// encode() and decode() are pure functions over bytes (fuzzed by fuzz/fuzz_key_file.cpp).
//
// Version 1 layout (all integers little-endian; str16 = u32 unit count + UTF-16LE units;
// bytes = u32 length + bytes):
//   magic "CNGKEYF\x1a" | u16 version = 1 | u16 flags = 0 | u32 total file length
//   listing fields:  str16 name (1..512) | str16 algorithm | u32 legacy_key_spec
//   str16 provider | str16 curve_name | u32 length_bits | u32 export_policy | u32 key_usage
//   u64 created_unix_ns | u32 property count (<= kMaxProperties)
//     { str16 name (1..512, strictly ascending) | bytes value (<= NCRYPT_MAX_PROPERTY_DATA) }…
//   bytes public_blob (<= kMaxBlobBytes) | bytes private_blob (<= kMaxBlobBytes)
//   SHA-256 of everything before it
// Version 2 (a key encrypted at rest, store/master_key.h) is version 1 with, after
// created_unix_ns: u32 protection (1 = AES-256-GCM) | 16 bytes master key id; its private_blob
// is nonce (12) || ciphertext || tag (16) under the master key, with private_aad() as AAD.
// The AAD binds the name and every field fixed at creation (provider, algorithm, curve, legacy
// key spec, length, export policy, key usage, creation time, master key id, public blob), so a
// blob moved into another key's file, or a file whose creation fields were edited, fails to
// decrypt (NTE_BAD_DATA). The persisted custom properties (CKA_LABEL, CKA_ID, UI policy…) are
// not bound: changing them rewrites the file without re-encrypting, and they are no secret.
// Version 1 files (clear PKCS#8) still load.
// The encoding is canonical: decode() accepts exactly the outputs of encode(), so
// encode(decode(x)) == x for every accepted x.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "cng_key_listing.h"
#include "store/key_record.h"

namespace cng::key_file {

inline constexpr std::uint16_t kVersion = 1;                              // clear private blob
inline constexpr std::uint16_t kVersionEncrypted = 2;                     // sealed private blob
inline constexpr std::size_t kMaxNameUnits = NCRYPT_MAX_KEY_NAME_LENGTH;  // every str16 field
inline constexpr std::size_t kMaxProperties = 256;
inline constexpr std::size_t kMaxBlobBytes = 64 * 1024;
inline constexpr std::size_t kMaxFileBytes = 32 * 1024 * 1024;

// Serializes a record. The listing fields (name, algorithm, legacy key spec) come first.
// NTE_INVALID_PARAMETER when the record exceeds a limit above (or has an empty name).
SecureBytes encode(const KeyRecord& record);
// Parses and verifies (magic, version, lengths, checksum). NTE_BAD_DATA on any defect.
KeyRecord decode(std::span<const std::uint8_t> bytes);
// Verifies the whole file as decode() does (header, length, checksum: a key that lists also
// loads) but parses only the listing prefix. NTE_BAD_DATA on any defect.
KeyListing decode_listing(std::span<const std::uint8_t> bytes);
// The AAD that binds a sealed private blob to its key (see above).
Bytes private_aad(const KeyRecord& record);
// The listing summary of a record kept in the store's listing index (listing_cache.h): the
// key file's fields in the same order, without the private blob, without an envelope (the
// index checks itself), each property name stored as the length of the prefix it shares with
// the previous one (the longest) and the rest; after created_unix_ns it always carries
// u32 protection (0 clear, 1 sealed) and, when sealed, the master key id. decode_summary() accepts
// exactly the outputs of encode_summary() and returns the record with an empty private blob;
// NTE_BAD_DATA on any defect.
SecureBytes encode_summary(const KeyRecord& record);
KeyRecord decode_summary(std::span<const std::uint8_t> bytes);
// A summary as the bulk listing's struct (cng_key_listing.h), without building a KeyRecord;
// unique_name is the file name given, public_blob_type is left empty (the NCrypt layer knows
// which blob type an algorithm exports). NTE_BAD_DATA on any defect.
KeyStoreListing decode_summary_as_listing(std::span<const std::uint8_t> bytes,
                                          const std::string& file);
// Only the listing fields of a summary (name, algorithm, legacy key spec).
KeyListing decode_summary_listing(std::span<const std::uint8_t> bytes);
// Recomputes the length and checksum fields in place (tests and fuzzers use it to make the
// parser judge the body rather than stop at the checksum).
void reseal(std::span<std::uint8_t> bytes);

}  // namespace cng::key_file
