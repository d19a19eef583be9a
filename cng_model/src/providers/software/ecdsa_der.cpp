#include "providers/software/ecdsa_der.h"

#include <algorithm>
#include <cstddef>

namespace cng::soft {

namespace {

// A DER definite length at pos (advanced); false when malformed or past the end.
bool read_length(std::span<const std::uint8_t> der, std::size_t& pos, std::size_t& length) {
  if (pos >= der.size()) {
    return false;
  }
  const std::uint8_t first = der[pos++];
  if (first < 0x80) {
    length = first;
    return true;
  }
  const std::size_t octets = first & 0x7F;
  if (octets == 0 || octets > 2 || der.size() - pos < octets) {
    return false;
  }
  length = 0;
  for (std::size_t i = 0; i < octets; ++i) {
    length = (length << 8) | der[pos++];
  }
  return true;
}

}  // namespace

bool ecdsa_der_to_raw(std::span<const std::uint8_t> der, std::span<std::uint8_t> out) noexcept {
  constexpr std::uint8_t kSequence = 0x30;
  constexpr std::uint8_t kInteger = 0x02;
  std::size_t pos = 0;
  std::size_t length = 0;
  if (der.empty() || der[pos++] != kSequence || !read_length(der, pos, length) ||
      der.size() - pos != length) {
    return false;
  }
  const std::size_t n = out.size() / 2;
  for (std::size_t i = 0; i < 2; ++i) {
    if (pos >= der.size() || der[pos++] != kInteger || !read_length(der, pos, length) ||
        length == 0 || der.size() - pos < length) {
      return false;
    }
    std::span<const std::uint8_t> value = der.subspan(pos, length);
    pos += length;
    while (!value.empty() && value.front() == 0) {  // DER's sign octet (r, s are positive)
      value = value.subspan(1);
    }
    if (value.size() > n) {
      return false;
    }
    const std::span<std::uint8_t> half = out.subspan(i * n, n);
    std::fill(half.begin(), half.end() - static_cast<std::ptrdiff_t>(value.size()), 0);
    std::copy(value.begin(), value.end(), half.end() - static_cast<std::ptrdiff_t>(value.size()));
  }
  return pos == der.size();
}

}  // namespace cng::soft
