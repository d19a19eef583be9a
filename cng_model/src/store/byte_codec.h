// Little-endian field writer and bounds-checked reader shared by the store file formats
// (key_file.cpp, cert_file.cpp). The reader throws CngError(NTE_BAD_DATA) on any attempt to
// read past the end, so parsers built on it cannot over-read.
#pragma once

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/cng_error.h"

namespace cng::store_codec {

inline constexpr std::size_t kChecksumSize = SHA256_DIGEST_LENGTH;

template <class Buffer>
class LeWriter {
 public:
  explicit LeWriter(Buffer& out) : out_(out) {}
  void u16(std::uint16_t v) { put(v, 2); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void raw(std::span<const std::uint8_t> bytes) {
    out_.insert(out_.end(), bytes.begin(), bytes.end());
  }
  // u32 length (in bytes) followed by the bytes.
  void bytes(std::span<const std::uint8_t> bytes) {
    u32(static_cast<std::uint32_t>(bytes.size()));
    raw(bytes);
  }
  // u32 count of UTF-16 code units followed by the units, each little-endian.
  void u16string(std::u16string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    for (const char16_t c : s) {
      u16(static_cast<std::uint16_t>(c));
    }
  }
  // u32 length followed by the (UTF-8) bytes.
  void string(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    for (const char c : s) {
      out_.push_back(static_cast<std::uint8_t>(c));
    }
  }

 private:
  void put(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) {
      out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
  }
  Buffer& out_;
};

class LeReader {
 public:
  explicit LeReader(std::span<const std::uint8_t> data) : data_(data) {}
  [[nodiscard]] std::size_t position() const noexcept { return pos_; }
  [[nodiscard]] std::size_t remaining() const noexcept { return data_.size() - pos_; }

  std::uint16_t u16() { return static_cast<std::uint16_t>(get(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(get(4)); }
  std::uint64_t u64() { return get(8); }
  std::span<const std::uint8_t> take(std::size_t n) {
    require(n <= remaining(), NTE_BAD_DATA, "store file truncated");
    const auto out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  // A length-prefixed byte string of at most max_len bytes (checked before anything is copied).
  std::span<const std::uint8_t> bytes(std::size_t max_len) {
    const std::uint32_t n = u32();
    require(n <= max_len, NTE_BAD_DATA, "store file field too long");
    return take(n);
  }
  // A length-prefixed UTF-16LE string of min_len..max_len code units.
  std::u16string u16string(std::size_t min_len, std::size_t max_len) {
    const std::uint32_t n = u32();
    require(n >= min_len && n <= max_len, NTE_BAD_DATA, "store file string length out of range");
    const auto raw = take(std::size_t{n} * 2);
    std::u16string s(n, u'\0');
    for (std::size_t i = 0; i < n; ++i) {
      s[i] = static_cast<char16_t>(raw[2 * i] | (raw[2 * i + 1] << 8));
    }
    return s;
  }
  // A length-prefixed byte string returned as text (min_len..max_len bytes).
  std::string string(std::size_t min_len, std::size_t max_len) {
    const std::uint32_t n = u32();
    require(n >= min_len && n <= max_len, NTE_BAD_DATA, "store file string length out of range");
    const auto raw = take(n);
    return {raw.begin(), raw.end()};
  }

 private:
  std::uint64_t get(std::size_t n) {
    const auto raw = take(n);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      v |= std::uint64_t{raw[i]} << (8 * i);
    }
    return v;
  }
  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
};

// SHA-256 of bytes. The digest is fetched once (SHA256() would fetch it on every call, which
// dominates hashing a small file); intentionally leaked, never destroyed (atexit callers).
inline std::array<std::uint8_t, kChecksumSize> sha256(std::span<const std::uint8_t> bytes) {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  std::array<std::uint8_t, kChecksumSize> out{};
  if (md == nullptr ||
      EVP_Digest(bytes.data(), bytes.size(), out.data(), nullptr, md, nullptr) != 1) {
    SHA256(bytes.data(), bytes.size(), out.data());
  }
  return out;
}

// True when s is exactly length lowercase hex digits (the shape of a store-assigned file name,
// so a caller's id can never name anything outside the store directory).
inline bool is_hex_id(std::string_view s, std::size_t length) noexcept {
  if (s.size() != length) {
    return false;
  }
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Lowercase hex of bytes.
inline std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const std::uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xF];
  }
  return out;
}

// The envelope shared by the store file formats:
//   magic[8] | u16 version | u16 flags (0) | u32 total_length | body … | SHA-256(all before it)
inline constexpr std::size_t kHeaderSize = 16;
inline constexpr std::size_t kTotalLengthOffset = 12;
using Magic = std::array<std::uint8_t, 8>;

template <class Buffer>
void begin_envelope(LeWriter<Buffer>& w, const Magic& magic, std::uint16_t version) {
  w.raw(magic);
  w.u16(version);
  w.u16(0);
  w.u32(0);  // total_length, patched by finish_envelope()
}

// Patches total_length and appends the checksum. Throws NTE_INVALID_PARAMETER beyond max_total.
template <class Buffer>
void finish_envelope(Buffer& out, std::size_t max_total) {
  const std::size_t total = out.size() + kChecksumSize;
  require(out.size() >= kHeaderSize && total <= max_total, NTE_INVALID_PARAMETER,
          "store file would exceed its size limit");
  for (std::size_t i = 0; i < 4; ++i) {
    out[kTotalLengthOffset + i] = static_cast<std::uint8_t>(total >> (8 * i));
  }
  const auto sum = sha256(std::span<const std::uint8_t>(out.data(), out.size()));
  out.insert(out.end(), sum.begin(), sum.end());
}

// Verifies magic, version, flags, total_length == bytes.size() and the checksum; returns the
// body (between header and checksum). NTE_BAD_DATA on any defect.
inline std::span<const std::uint8_t> open_envelope(std::span<const std::uint8_t> bytes,
                                                   const Magic& magic, std::uint16_t version,
                                                   std::size_t max_total) {
  require(bytes.size() >= kHeaderSize + kChecksumSize && bytes.size() <= max_total, NTE_BAD_DATA,
          "store file size out of range");
  LeReader header(bytes.first(kHeaderSize));
  const auto file_magic = header.take(magic.size());
  require(std::equal(magic.begin(), magic.end(), file_magic.begin()), NTE_BAD_DATA,
          "store file has a wrong magic number");
  require(header.u16() == version, NTE_BAD_DATA, "store file has an unsupported version");
  require(header.u16() == 0, NTE_BAD_DATA, "store file has unknown flags");
  require(header.u32() == bytes.size(), NTE_BAD_DATA, "store file length mismatch (truncated?)");
  const std::size_t content = bytes.size() - kChecksumSize;
  const auto expected = bytes.subspan(content);
  const auto actual = sha256(bytes.first(content));
  require(std::equal(actual.begin(), actual.end(), expected.begin()), NTE_BAD_DATA,
          "store file checksum mismatch (corrupt)");
  return bytes.subspan(kHeaderSize, content - kHeaderSize);
}

// Rewrites total_length and the checksum of a buffer in place so that only the body is
// judged by the parser (tests and fuzzers use it to reach past the checksum). No-op when the
// buffer is too small to hold an envelope.
inline void reseal(std::span<std::uint8_t> bytes) {
  if (bytes.size() < kHeaderSize + kChecksumSize) {
    return;
  }
  const std::size_t total = bytes.size();
  for (std::size_t i = 0; i < 4; ++i) {
    bytes[kTotalLengthOffset + i] = static_cast<std::uint8_t>(total >> (8 * i));
  }
  const std::size_t content = total - kChecksumSize;
  const auto sum = sha256(bytes.first(content));
  std::copy(sum.begin(), sum.end(), bytes.begin() + static_cast<std::ptrdiff_t>(content));
}

// The named-property list shared by the certificate and data-object files:
//   u32 count (<= max_count) { bytes name (1..max_name_bytes, strictly ascending) |
//                              bytes value (<= max_value_bytes) }…
// Ascending names keep the encoding canonical (one byte string per property map).
using PropertyMap = std::map<std::string, std::vector<std::uint8_t>>;
struct PropertyLimits {
  std::size_t max_count;
  std::size_t max_name_bytes;
  std::size_t max_value_bytes;
};

// NTE_INVALID_PARAMETER (nothing written by the caller) beyond a limit.
template <class Buffer>
void write_properties(LeWriter<Buffer>& w, const PropertyMap& properties,
                      const PropertyLimits& limits) {
  require(properties.size() <= limits.max_count, NTE_INVALID_PARAMETER, "too many properties");
  w.u32(static_cast<std::uint32_t>(properties.size()));
  for (const auto& [name, value] : properties) {  // std::map: ascending by name
    require(!name.empty() && name.size() <= limits.max_name_bytes, NTE_INVALID_PARAMETER,
            "property name empty or too long");
    require(value.size() <= limits.max_value_bytes, NTE_INVALID_PARAMETER,
            "property value too large");
    w.string(name);
    w.bytes(value);
  }
}

// NTE_BAD_DATA on any defect (limits, order, truncation).
inline PropertyMap read_properties(LeReader& r, const PropertyLimits& limits) {
  PropertyMap properties;
  const std::uint32_t count = r.u32();
  require(count <= limits.max_count, NTE_BAD_DATA, "store file: too many properties");
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string name = r.string(1, limits.max_name_bytes);
    require(properties.empty() || properties.rbegin()->first < name, NTE_BAD_DATA,
            "store file: properties out of order");
    const auto value = r.bytes(limits.max_value_bytes);
    properties.emplace_hint(properties.end(), std::move(name),
                            std::vector<std::uint8_t>(value.begin(), value.end()));
  }
  return properties;
}

}  // namespace cng::store_codec
