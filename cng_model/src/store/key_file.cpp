#include "store/key_file.h"

#include <string_view>

#include "store/byte_codec.h"

namespace cng::key_file {

namespace {

using store_codec::LeReader;
using store_codec::LeWriter;

constexpr store_codec::Magic kMagic = {'C', 'N', 'G', 'K', 'E', 'Y', 'F', 0x1a};

void check_string(std::u16string_view s, std::size_t min_len, const char* what) {
  require(s.size() >= min_len && s.size() <= kMaxNameUnits, NTE_INVALID_PARAMETER, what);
}

void check_record(const KeyRecord& r) {
  check_string(r.name, 1, "key name empty or longer than 512 characters");
  check_string(r.algorithm, 0, "algorithm name too long");
  check_string(r.provider, 0, "provider name too long");
  check_string(r.curve_name, 0, "curve name too long");
  require(r.properties.size() <= kMaxProperties, NTE_INVALID_PARAMETER,
          "too many persisted properties");
  for (const auto& [name, value] : r.properties) {
    check_string(name, 1, "property name empty or too long");
    require(value.size() <= NCRYPT_MAX_PROPERTY_DATA, NTE_INVALID_PARAMETER,
            "property value too large");
  }
  require(r.public_blob.size() <= kMaxBlobBytes && r.private_blob.size() <= kMaxBlobBytes,
          NTE_INVALID_PARAMETER, "key blob too large");
}

// The version a file claims (open_envelope checks it against the rest).
std::uint16_t claimed_version(std::span<const std::uint8_t> bytes) {
  if (bytes.size() >= 10 && bytes[8] == kVersionEncrypted && bytes[9] == 0) {
    return kVersionEncrypted;
  }
  return kVersion;
}

KeyListing read_listing(LeReader& r) {
  KeyListing listing;
  listing.name = r.u16string(1, kMaxNameUnits);
  listing.algorithm = r.u16string(0, kMaxNameUnits);
  listing.legacy_key_spec = r.u32();
  return listing;
}

}  // namespace

SecureBytes encode(const KeyRecord& record) {
  check_record(record);
  SecureBytes out;
  out.reserve(256 + record.public_blob.size() + record.private_blob.size());
  LeWriter w(out);
  const bool sealed = record.protection == KeyRecord::Protection::kSealed;
  store_codec::begin_envelope(w, kMagic, sealed ? kVersionEncrypted : kVersion);
  w.u16string(record.name);
  w.u16string(record.algorithm);
  w.u32(record.legacy_key_spec);
  w.u16string(record.provider);
  w.u16string(record.curve_name);
  w.u32(record.length_bits);
  w.u32(record.export_policy);
  w.u32(record.key_usage);
  w.u64(record.created_unix_ns);
  if (sealed) {
    w.u32(static_cast<std::uint32_t>(KeyRecord::Protection::kSealed));
    w.raw(record.master_key_id);
  }
  w.u32(static_cast<std::uint32_t>(record.properties.size()));
  for (const auto& [name, value] : record.properties) {  // std::map: ascending by name
    w.u16string(name);
    w.bytes(value);
  }
  w.bytes(record.public_blob);
  w.bytes(record.private_blob);
  store_codec::finish_envelope(out, kMaxFileBytes);
  return out;
}

KeyRecord decode(std::span<const std::uint8_t> bytes) {
  const std::uint16_t version = claimed_version(bytes);
  LeReader r(store_codec::open_envelope(bytes, kMagic, version, kMaxFileBytes));
  KeyRecord record;
  KeyListing listing = read_listing(r);
  record.name = std::move(listing.name);
  record.algorithm = std::move(listing.algorithm);
  record.legacy_key_spec = listing.legacy_key_spec;
  record.provider = r.u16string(0, kMaxNameUnits);
  record.curve_name = r.u16string(0, kMaxNameUnits);
  record.length_bits = r.u32();
  record.export_policy = r.u32();
  record.key_usage = r.u32();
  record.created_unix_ns = r.u64();
  if (version == kVersionEncrypted) {
    require(r.u32() == static_cast<std::uint32_t>(KeyRecord::Protection::kSealed), NTE_BAD_DATA,
            "key file: unknown protection");
    record.protection = KeyRecord::Protection::kSealed;
    const auto id = r.take(record.master_key_id.size());
    std::copy(id.begin(), id.end(), record.master_key_id.begin());
  }
  const std::uint32_t count = r.u32();
  require(count <= kMaxProperties, NTE_BAD_DATA, "key file: too many properties");
  for (std::uint32_t i = 0; i < count; ++i) {
    std::u16string name = r.u16string(1, kMaxNameUnits);
    // Strictly ascending names keep the encoding canonical (no duplicates, one order).
    require(record.properties.empty() || record.properties.rbegin()->first < name, NTE_BAD_DATA,
            "key file: properties out of order");
    const auto value = r.bytes(NCRYPT_MAX_PROPERTY_DATA);
    record.properties.emplace_hint(record.properties.end(), std::move(name),
                                   Bytes(value.begin(), value.end()));
  }
  const auto public_blob = r.bytes(kMaxBlobBytes);
  record.public_blob.assign(public_blob.begin(), public_blob.end());
  const auto private_blob = r.bytes(kMaxBlobBytes);
  record.private_blob.assign(private_blob.begin(), private_blob.end());
  require(r.remaining() == 0, NTE_BAD_DATA, "key file: trailing bytes");
  return record;
}

KeyListing decode_listing(std::span<const std::uint8_t> bytes) {
  LeReader r(store_codec::open_envelope(bytes, kMagic, claimed_version(bytes), kMaxFileBytes));
  return read_listing(r);
}

Bytes private_aad(const KeyRecord& record) {
  static constexpr std::string_view kLabel = "CNGKEYF-PRIVATE-v2";
  Bytes aad(kLabel.begin(), kLabel.end());
  LeWriter w(aad);
  w.u16string(record.name);
  w.u16string(record.provider);
  w.u16string(record.algorithm);
  w.u16string(record.curve_name);
  w.u32(record.legacy_key_spec);
  w.u32(record.length_bits);
  w.u32(record.export_policy);
  w.u32(record.key_usage);
  w.u64(record.created_unix_ns);
  w.raw(record.master_key_id);
  w.bytes(record.public_blob);
  return aad;
}

void reseal(std::span<std::uint8_t> bytes) { store_codec::reseal(bytes); }

}  // namespace cng::key_file
