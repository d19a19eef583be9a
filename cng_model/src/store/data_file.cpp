#include "store/data_file.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <string_view>

#include "store/byte_codec.h"

namespace cng::data_file {

namespace {

using store_codec::LeReader;
using store_codec::LeWriter;

constexpr store_codec::Magic kMagic = {'C', 'N', 'G', 'D', 'A', 'T', 'A', 0x1a};
constexpr store_codec::PropertyLimits kLimits = {kMaxProperties, kMaxPropertyNameBytes,
                                                 kMaxValueBytes};
// A sealed value is longer than the clear one by the nonce and the tag; the other values are
// checked against kMaxValueBytes on their own.
constexpr store_codec::PropertyLimits kSealedLimits = {kMaxProperties, kMaxPropertyNameBytes,
                                                       kMaxValueBytes + kSealOverheadBytes};
constexpr std::uint32_t kProtectionAesGcm = 1;

// Every value but the sealed one within kMaxValueBytes; the sealed one present and at least
// nonce + tag long.
bool sealed_values_ok(const StoredDataObject& object) {
  const auto sealed = object.properties.find(std::string(kDataStoreValueProperty));
  if (sealed == object.properties.end() || sealed->second.size() < kSealOverheadBytes) {
    return false;
  }
  return std::all_of(object.properties.begin(), object.properties.end(), [&](const auto& p) {
    return p.first == kDataStoreValueProperty || p.second.size() <= kMaxValueBytes;
  });
}

}  // namespace

std::string new_id() {
  std::array<std::uint8_t, kIdChars / 2> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    fail(NTE_FAIL, "cannot draw a data object id (no randomness)");
  }
  return store_codec::to_hex(bytes);
}

bool is_data_id(std::string_view s) noexcept { return store_codec::is_hex_id(s, kIdChars); }

std::vector<std::uint8_t> encode(const StoredDataObject& object) {
  return encode_file(DataFile{object, false, {}});
}

std::vector<std::uint8_t> encode_file(const DataFile& file) {
  const StoredDataObject& object = file.object;
  require(is_data_id(object.id), NTE_INVALID_PARAMETER, "malformed data object id");
  require(!file.sealed || sealed_values_ok(object), NTE_INVALID_PARAMETER,
          "sealed data object without a sealed value");
  std::vector<std::uint8_t> out;
  std::size_t hint = 128;
  for (const auto& [name, value] : object.properties) {
    hint += 8 + name.size() + value.size();
  }
  out.reserve(hint);
  LeWriter w(out);
  store_codec::begin_envelope(w, kMagic, file.sealed ? kVersionSealed : kVersion);
  w.string(object.id);
  if (file.sealed) {
    w.u32(kProtectionAesGcm);
    w.raw(file.key_id);
  }
  store_codec::write_properties(w, object.properties, file.sealed ? kSealedLimits : kLimits);
  store_codec::finish_envelope(out, kMaxFileBytes);
  return out;
}

DataFile decode_file(std::span<const std::uint8_t> bytes) {
  // The version a file claims (open_envelope checks it against the rest).
  const bool sealed = bytes.size() >= 10 && bytes[8] == kVersionSealed && bytes[9] == 0;
  LeReader r(
      store_codec::open_envelope(bytes, kMagic, sealed ? kVersionSealed : kVersion, kMaxFileBytes));
  DataFile file;
  file.sealed = sealed;
  StoredDataObject& object = file.object;
  object.id = r.string(kIdChars, kIdChars);
  require(is_data_id(object.id), NTE_BAD_DATA, "data object file: malformed id");
  if (sealed) {
    require(r.u32() == kProtectionAesGcm, NTE_BAD_DATA, "data object file: unknown protection");
    const auto id = r.take(file.key_id.size());
    std::copy(id.begin(), id.end(), file.key_id.begin());
  }
  object.properties = store_codec::read_properties(r, sealed ? kSealedLimits : kLimits);
  require(!sealed || sealed_values_ok(object), NTE_BAD_DATA,
          "data object file: sealed value missing or a value too large");
  require(r.remaining() == 0, NTE_BAD_DATA, "data object file: trailing bytes");
  return file;
}

StoredDataObject decode(std::span<const std::uint8_t> bytes) {
  DataFile file = decode_file(bytes);
  require(!file.sealed, NTE_BAD_DATA, "data object file: sealed");
  return std::move(file.object);
}

Bytes value_aad(const std::string& id, const std::string& property,
                const master_key::KeyId& key_id) {
  static constexpr std::string_view kTag = "CNGDATA-VALUE-v2";
  Bytes aad(kTag.begin(), kTag.end());
  LeWriter w(aad);
  w.string(id);
  w.string(property);
  w.raw(key_id);
  return aad;
}

void reseal(std::span<std::uint8_t> bytes) { store_codec::reseal(bytes); }

}  // namespace cng::data_file
