#include "store/data_file.h"

#include <openssl/rand.h>

#include <array>

#include "store/byte_codec.h"

namespace cng::data_file {

namespace {

using store_codec::LeReader;
using store_codec::LeWriter;

constexpr store_codec::Magic kMagic = {'C', 'N', 'G', 'D', 'A', 'T', 'A', 0x1a};
constexpr store_codec::PropertyLimits kLimits = {kMaxProperties, kMaxPropertyNameBytes,
                                                 kMaxValueBytes};

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
  require(is_data_id(object.id), NTE_INVALID_PARAMETER, "malformed data object id");
  std::vector<std::uint8_t> out;
  std::size_t hint = 128;
  for (const auto& [name, value] : object.properties) {
    hint += 8 + name.size() + value.size();
  }
  out.reserve(hint);
  LeWriter w(out);
  store_codec::begin_envelope(w, kMagic, kVersion);
  w.string(object.id);
  store_codec::write_properties(w, object.properties, kLimits);
  store_codec::finish_envelope(out, kMaxFileBytes);
  return out;
}

StoredDataObject decode(std::span<const std::uint8_t> bytes) {
  LeReader r(store_codec::open_envelope(bytes, kMagic, kVersion, kMaxFileBytes));
  StoredDataObject object;
  object.id = r.string(kIdChars, kIdChars);
  require(is_data_id(object.id), NTE_BAD_DATA, "data object file: malformed id");
  object.properties = store_codec::read_properties(r, kLimits);
  require(r.remaining() == 0, NTE_BAD_DATA, "data object file: trailing bytes");
  return object;
}

void reseal(std::span<std::uint8_t> bytes) { store_codec::reseal(bytes); }

}  // namespace cng::data_file
