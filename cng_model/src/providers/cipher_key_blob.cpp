// NCRYPT_CIPHER_KEY_BLOB ("CipherKeyBlob"): NCRYPT_KEY_BLOB_HEADER, the UTF-16 algorithm name,
// then a BCRYPT_KEY_DATA_BLOB (header + key bytes). Little-endian headers, as on Windows.
#include "providers/cipher_key_blob.h"

#include <string>

#include "core/cng_error.h"
#include "core/u16.h"
#include "providers/algorithm_table.h"

namespace cng {

namespace {

constexpr std::size_t kOuterHeader = sizeof(NCRYPT_KEY_BLOB_HEADER);       // 16
constexpr std::size_t kInnerHeader = sizeof(BCRYPT_KEY_DATA_BLOB_HEADER);  // 12

void put_u32(SecureBytes& out, std::size_t value) {
  for (int shift = 0; shift < 32; shift += 8) {
    out.push_back(static_cast<std::uint8_t>((value >> shift) & 0xFFu));
  }
}

std::uint32_t get_u32(std::span<const std::uint8_t> in, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    v |= static_cast<std::uint32_t>(in[at + i]) << (8 * i);
  }
  return v;
}

}  // namespace

SecureBytes encode_cipher_key_blob(std::u16string_view algorithm,
                                   std::span<const std::uint8_t> key) {
  const std::size_t name_bytes = (algorithm.size() + 1) * sizeof(char16_t);
  SecureBytes out;
  out.reserve(kOuterHeader + name_bytes + kInnerHeader + key.size());
  put_u32(out, kOuterHeader);
  put_u32(out, NCRYPT_CIPHER_KEY_BLOB_MAGIC);
  put_u32(out, name_bytes);
  put_u32(out, kInnerHeader + key.size());
  for (const char16_t c : algorithm) {
    out.push_back(static_cast<std::uint8_t>(c & 0xFFu));
    out.push_back(static_cast<std::uint8_t>(c >> 8));
  }
  out.push_back(0);
  out.push_back(0);
  put_u32(out, BCRYPT_KEY_DATA_BLOB_MAGIC);
  put_u32(out, BCRYPT_KEY_DATA_BLOB_VERSION1);
  put_u32(out, key.size());
  out.insert(out.end(), key.begin(), key.end());
  return out;
}

CipherKeyBlob parse_cipher_key_blob(std::span<const std::uint8_t> blob) {
  require(blob.size() >= kOuterHeader, NTE_BAD_DATA, "cipher key blob too short");
  require(get_u32(blob, 4) == NCRYPT_CIPHER_KEY_BLOB_MAGIC, NTE_INVALID_PARAMETER,
          "not a cipher key blob (magic)");
  require(get_u32(blob, 0) == kOuterHeader, NTE_BAD_DATA, "cipher key blob header size");
  const std::size_t name_bytes = get_u32(blob, 8);
  const std::size_t data_bytes = get_u32(blob, 12);
  require(name_bytes >= 4 && name_bytes % 2 == 0 && name_bytes <= 2 * NCRYPT_MAX_ALG_ID_LENGTH &&
              data_bytes >= kInnerHeader && data_bytes <= blob.size() &&
              blob.size() == kOuterHeader + name_bytes + data_bytes,
          NTE_BAD_DATA, "cipher key blob sizes");
  std::u16string name;
  for (std::size_t i = 0; i < name_bytes; i += 2) {
    name.push_back(
        static_cast<char16_t>(blob[kOuterHeader + i] | (blob[kOuterHeader + i + 1] << 8)));
  }
  require(name.back() == u'\0', NTE_BAD_DATA, "algorithm name not NUL-terminated");
  name.pop_back();
  const AlgorithmInfo* row = find_algorithm(name);
  require(row != nullptr && row->family == KeyFamily::kSymmetric, NTE_NOT_SUPPORTED,
          "cipher key blob names an unsupported algorithm");
  const std::size_t inner = kOuterHeader + name_bytes;
  require(get_u32(blob, inner) == BCRYPT_KEY_DATA_BLOB_MAGIC &&
              get_u32(blob, inner + 4) == BCRYPT_KEY_DATA_BLOB_VERSION1 &&
              get_u32(blob, inner + 8) == data_bytes - kInnerHeader,
          NTE_BAD_DATA, "bad key data blob");
  const auto key = blob.subspan(inner + kInnerHeader);
  return {row->algorithm, SecureBytes(key.begin(), key.end())};
}

}  // namespace cng
