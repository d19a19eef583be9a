#include "bridge/cipher_key_blob.h"

#include <cstdint>

#include "ncrypt.h"

namespace p11::bridge {

namespace {

constexpr std::size_t kBlobHeader = 16;     // NCRYPT_KEY_BLOB_HEADER: four ULONGs
constexpr std::size_t kKeyDataHeader = 12;  // BCRYPT_KEY_DATA_BLOB_HEADER: three ULONGs

void put32(SecretBytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
}

std::uint32_t get32(ByteView b, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) {
    v = (v << 8) | b[at + static_cast<std::size_t>(i)];
  }
  return v;
}

}  // namespace

SecretBytes cipher_key_blob(std::u16string_view algorithm, ByteView value) {
  const auto name_bytes = static_cast<std::uint32_t>((algorithm.size() + 1) * 2);
  const auto key_data = static_cast<std::uint32_t>(kKeyDataHeader + value.size());
  SecretBytes out;
  out.reserve(kBlobHeader + name_bytes + key_data);
  put32(out, kBlobHeader);
  put32(out, NCRYPT_CIPHER_KEY_BLOB_MAGIC);
  put32(out, name_bytes);
  put32(out, key_data);
  for (const char16_t c : algorithm) {
    out.push_back(static_cast<std::uint8_t>(c & 0xFF));
    out.push_back(static_cast<std::uint8_t>(c >> 8));
  }
  out.push_back(0);
  out.push_back(0);
  put32(out, BCRYPT_KEY_DATA_BLOB_MAGIC);
  put32(out, BCRYPT_KEY_DATA_BLOB_VERSION1);
  put32(out, static_cast<std::uint32_t>(value.size()));
  out.insert(out.end(), value.begin(), value.end());
  return out;
}

std::optional<CipherKey> parse_cipher_key_blob(ByteView blob) {
  if (blob.size() < kBlobHeader || get32(blob, 0) != kBlobHeader ||
      get32(blob, 4) != NCRYPT_CIPHER_KEY_BLOB_MAGIC) {
    return std::nullopt;
  }
  const std::size_t name_bytes = get32(blob, 8);
  const std::size_t key_data = get32(blob, 12);
  if (name_bytes < 2 || name_bytes % 2 != 0 || key_data < kKeyDataHeader ||
      blob.size() != kBlobHeader + name_bytes + key_data ||
      blob[kBlobHeader + name_bytes - 2] != 0 || blob[kBlobHeader + name_bytes - 1] != 0) {
    return std::nullopt;
  }
  CipherKey key;
  for (std::size_t at = kBlobHeader; at + 2 < kBlobHeader + name_bytes; at += 2) {
    key.algorithm.push_back(static_cast<char16_t>(blob[at] | (blob[at + 1] << 8)));
  }
  const std::size_t data = kBlobHeader + name_bytes;
  const std::size_t value_len = get32(blob, data + 8);
  if (get32(blob, data) != BCRYPT_KEY_DATA_BLOB_MAGIC ||
      get32(blob, data + 4) != BCRYPT_KEY_DATA_BLOB_VERSION1 ||
      value_len != key_data - kKeyDataHeader) {
    return std::nullopt;
  }
  const auto first = blob.begin() + static_cast<std::ptrdiff_t>(data + kKeyDataHeader);
  key.value.assign(first, first + static_cast<std::ptrdiff_t>(value_len));
  return key;
}

}  // namespace p11::bridge
