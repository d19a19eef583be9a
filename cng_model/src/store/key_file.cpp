#include "store/key_file.h"

#include <algorithm>
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

// Steps over a str16 field (checked like LeReader::u16string, without building it).
void skip_u16string(LeReader& r) {
  const std::uint32_t n = r.u32();
  require(n <= kMaxNameUnits, NTE_BAD_DATA, "store file string length out of range");
  (void)r.take(std::size_t{n} * 2);
}

// A property name. In a summary (compressed) it is stored as the length of the prefix it
// shares with the previous name (names ascend, so neighbours share much: "PKCS11 Pub ...")
// and the rest; the shared length is the longest, which keeps the encoding canonical.
template <class Buffer>
void write_property_name(LeWriter<Buffer>& w, const std::u16string* previous,
                         const std::u16string& name, bool compressed) {
  if (!compressed) {
    w.u16string(name);
    return;
  }
  std::size_t shared = 0;
  if (previous != nullptr) {
    const auto mismatch =
        std::mismatch(previous->begin(), previous->end(), name.begin(), name.end());
    shared = static_cast<std::size_t>(mismatch.first - previous->begin());
  }
  w.u32(static_cast<std::uint32_t>(shared));
  w.u16string(std::u16string_view(name).substr(shared));
}

std::u16string read_property_name(LeReader& r, const std::u16string* previous, bool compressed) {
  std::u16string name;
  if (!compressed) {
    name = r.u16string(1, kMaxNameUnits);
  } else {
    const std::size_t shared = r.u32();
    require(shared <= (previous != nullptr ? previous->size() : 0), NTE_BAD_DATA,
            "key summary: shared prefix too long");
    const std::u16string rest = r.u16string(1, kMaxNameUnits - shared);
    require(
        shared == (previous != nullptr ? previous->size() : 0) || rest[0] != (*previous)[shared],
        NTE_BAD_DATA, "key summary: shared prefix not the longest");
    name.reserve(shared + rest.size());
    if (shared > 0) {
      name.assign(*previous, 0, shared);
    }
    name += rest;
  }
  // Strictly ascending names keep the encoding canonical (no duplicates, one order).
  require(previous == nullptr || *previous < name, NTE_BAD_DATA,
          "key file: properties out of order");
  return name;
}

// The fields after the envelope's header; with_private: the private blob too (key file);
// without it (a summary), property names are prefix-compressed.
template <class Buffer>
void write_fields(LeWriter<Buffer>& w, const KeyRecord& record, bool with_private) {
  const bool sealed = record.protection == KeyRecord::Protection::kSealed;
  w.u16string(record.name);
  w.u16string(record.algorithm);
  w.u32(record.legacy_key_spec);
  w.u16string(record.provider);
  w.u16string(record.curve_name);
  w.u32(record.length_bits);
  w.u32(record.export_policy);
  w.u32(record.key_usage);
  w.u64(record.created_unix_ns);
  // The file carries the protection only in version 2; a summary always (it has no version).
  if (sealed || !with_private) {
    w.u32(static_cast<std::uint32_t>(record.protection));
  }
  if (sealed) {
    w.raw(record.master_key_id);
  }
  w.u32(static_cast<std::uint32_t>(record.properties.size()));
  const std::u16string* previous = nullptr;
  for (const auto& [name, value] : record.properties) {  // std::map: ascending by name
    write_property_name(w, previous, name, !with_private);
    w.bytes(value);
    previous = &name;
  }
  w.bytes(record.public_blob);
  if (with_private) {
    w.bytes(record.private_blob);
  }
}

// sealed_file: a version-2 key file (with_private). A summary reads its protection field.
KeyRecord read_fields(LeReader& r, bool with_private, bool sealed_file) {
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
  bool sealed = sealed_file;
  if (sealed_file) {
    require(r.u32() == static_cast<std::uint32_t>(KeyRecord::Protection::kSealed), NTE_BAD_DATA,
            "key file: unknown protection");
  } else if (!with_private) {
    const std::uint32_t protection = r.u32();
    require(protection <= static_cast<std::uint32_t>(KeyRecord::Protection::kSealed), NTE_BAD_DATA,
            "key summary: unknown protection");
    sealed = protection == static_cast<std::uint32_t>(KeyRecord::Protection::kSealed);
  }
  if (sealed) {
    record.protection = KeyRecord::Protection::kSealed;
    const auto id = r.take(record.master_key_id.size());
    std::copy(id.begin(), id.end(), record.master_key_id.begin());
  }
  const std::uint32_t count = r.u32();
  require(count <= kMaxProperties, NTE_BAD_DATA, "key file: too many properties");
  for (std::uint32_t i = 0; i < count; ++i) {
    std::u16string name = read_property_name(
        r, record.properties.empty() ? nullptr : &record.properties.rbegin()->first, !with_private);
    const auto value = r.bytes(NCRYPT_MAX_PROPERTY_DATA);
    record.properties.emplace_hint(record.properties.end(), std::move(name),
                                   Bytes(value.begin(), value.end()));
  }
  const auto public_blob = r.bytes(kMaxBlobBytes);
  record.public_blob.assign(public_blob.begin(), public_blob.end());
  if (with_private) {
    const auto private_blob = r.bytes(kMaxBlobBytes);
    record.private_blob.assign(private_blob.begin(), private_blob.end());
  }
  require(r.remaining() == 0, NTE_BAD_DATA, "key file: trailing bytes");
  return record;
}

}  // namespace

SecureBytes encode(const KeyRecord& record) {
  check_record(record);
  SecureBytes out;
  out.reserve(256 + record.public_blob.size() + record.private_blob.size());
  LeWriter w(out);
  const bool sealed = record.protection == KeyRecord::Protection::kSealed;
  store_codec::begin_envelope(w, kMagic, sealed ? kVersionEncrypted : kVersion);
  write_fields(w, record, true);
  store_codec::finish_envelope(out, kMaxFileBytes);
  return out;
}

KeyRecord decode(std::span<const std::uint8_t> bytes) {
  const std::uint16_t version = claimed_version(bytes);
  LeReader r(store_codec::open_envelope(bytes, kMagic, version, kMaxFileBytes));
  return read_fields(r, true, version == kVersionEncrypted);
}

SecureBytes encode_summary(const KeyRecord& record) {
  check_record(record);
  SecureBytes out;
  out.reserve(128 + record.public_blob.size());
  LeWriter w(out);
  write_fields(w, record, false);
  return out;
}

KeyRecord decode_summary(std::span<const std::uint8_t> bytes) {
  LeReader r(bytes);
  return read_fields(r, false, false);
}

KeyStoreListing decode_summary_as_listing(std::span<const std::uint8_t> bytes,
                                          const std::string& file) {
  LeReader r(bytes);
  KeyStoreListing out;
  out.name = r.u16string(1, kMaxNameUnits);
  out.algorithm = r.u16string(0, kMaxNameUnits);
  out.legacy_key_spec = r.u32();
  skip_u16string(r);  // provider
  skip_u16string(r);  // curve name
  out.length = r.u32();
  out.export_policy = r.u32();
  out.key_usage = r.u32();
  (void)r.u64();  // created
  const std::uint32_t protection = r.u32();
  require(protection <= static_cast<std::uint32_t>(KeyRecord::Protection::kSealed), NTE_BAD_DATA,
          "key summary: unknown protection");
  if (protection == static_cast<std::uint32_t>(KeyRecord::Protection::kSealed)) {
    (void)r.take(KeyRecord{}.master_key_id.size());  // master key id
  }
  const std::uint32_t count = r.u32();
  require(count <= kMaxProperties, NTE_BAD_DATA, "key file: too many properties");
  out.properties.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::u16string name = read_property_name(
        r, out.properties.empty() ? nullptr : &out.properties.back().first, true);
    const auto value = r.bytes(NCRYPT_MAX_PROPERTY_DATA);
    out.properties.emplace_back(std::move(name),
                                std::vector<std::uint8_t>(value.begin(), value.end()));
  }
  const auto public_blob = r.bytes(kMaxBlobBytes);
  out.public_blob.assign(public_blob.begin(), public_blob.end());
  require(r.remaining() == 0, NTE_BAD_DATA, "key file: trailing bytes");
  out.unique_name = file;
  return out;
}

KeyListing decode_summary_listing(std::span<const std::uint8_t> bytes) {
  LeReader r(bytes);
  return read_listing(r);
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
