// The on-disk certificate file format of CertStore: versioned, little-endian, self-checking.
// Pure functions over bytes (fuzzed by fuzz/fuzz_cert_file.cpp).
//
// Version 1 layout (integers little-endian; bytes = u32 length + bytes):
//   magic "CNGCERT\x1a" | u16 version = 1 | u16 flags = 0 | u32 total file length
//   bytes der (1..kMaxDerBytes) | u32 property count (<= kMaxProperties)
//     { bytes name (1..kMaxPropertyNameBytes, strictly ascending) |
//       bytes value (<= NCRYPT_MAX_PROPERTY_DATA) }…
//   SHA-256 of everything before it
// Canonical like the key file: encode(decode(x)) == x for every accepted x. The certificate id
// is not stored; it is derived from the DER (certificate_id()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cng_cert_store.h"

namespace cng::cert_file {

inline constexpr std::uint16_t kVersion = 1;
inline constexpr std::size_t kMaxDerBytes = 1024 * 1024;
inline constexpr std::size_t kMaxProperties = 256;
inline constexpr std::size_t kMaxPropertyNameBytes = 256;
inline constexpr std::size_t kMaxFileBytes = 32 * 1024 * 1024;

// Lowercase hex SHA-256 of the DER: the certificate's id and file name.
std::string certificate_id(std::span<const std::uint8_t> der);
// True when s has the shape of an id (64 lowercase hex digits).
bool is_certificate_id(std::string_view s) noexcept;

// Serializes der + properties (cert.id is ignored). NTE_INVALID_PARAMETER beyond a limit.
std::vector<std::uint8_t> encode(const StoredCertificate& cert);
// Parses and verifies; the result's id is certificate_id(der). NTE_BAD_DATA on any defect.
StoredCertificate decode(std::span<const std::uint8_t> bytes);
// Recomputes the length and checksum fields in place (tests and fuzzers).
void reseal(std::span<std::uint8_t> bytes);

}  // namespace cng::cert_file
