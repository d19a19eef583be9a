// The key file format: round trip, canonical encoding, and rejection of every malformed input.
#include "store/key_file.h"

#include <gtest/gtest.h>

#include "store_test_util.h"

namespace cng {
namespace {

using test::sample_record;
using test::status_of;

constexpr std::size_t kHeader = 16;
constexpr std::size_t kChecksum = 32;

Bytes encode_plain(const KeyRecord& r) {
  const SecureBytes s = key_file::encode(r);
  return {s.begin(), s.end()};
}

// Offsets of the u32 length/count fields of an encoded record (format v1, see key_file.h).
struct FieldOffsets {
  std::size_t name = 0, algorithm = 0, provider = 0, curve = 0, property_count = 0,
              first_property_value = 0, public_blob = 0, private_blob = 0;
};

FieldOffsets offsets_of(const KeyRecord& r) {
  FieldOffsets o;
  o.name = kHeader;
  o.algorithm = o.name + 4 + 2 * r.name.size();
  o.provider = o.algorithm + 4 + 2 * r.algorithm.size() + 4;
  o.curve = o.provider + 4 + 2 * r.provider.size();
  o.property_count = o.curve + 4 + 2 * r.curve_name.size() + 12 + 8;
  std::size_t at = o.property_count + 4;
  bool first = true;
  for (const auto& [name, value] : r.properties) {
    at += 4 + 2 * name.size();
    if (first) {
      o.first_property_value = at;
      first = false;
    }
    at += 4 + value.size();
  }
  o.public_blob = at;
  o.private_blob = at + 4 + r.public_blob.size();
  return o;
}

void put_u32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    b[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
  }
}

SECURITY_STATUS decode_status(const Bytes& b) {
  return status_of([&] { (void)key_file::decode(b); });
}
SECURITY_STATUS listing_status(const Bytes& b) {
  return status_of([&] { (void)key_file::decode_listing(b); });
}

TEST(KeyFile, RoundTripKeepsEveryField) {
  const KeyRecord r = sample_record(u"round trip \u00e9\u4e2d", 1218, 9);
  const KeyRecord back = key_file::decode(encode_plain(r));
  test::expect_same_record(r, back);
}

TEST(KeyFile, EncodingIsCanonical) {
  const Bytes once = encode_plain(sample_record(u"canon", 300, 3));
  const SecureBytes twice = key_file::encode(key_file::decode(once));
  EXPECT_EQ(once, Bytes(twice.begin(), twice.end()));
}

TEST(KeyFile, EmptyOptionalFieldsRoundTrip) {
  KeyRecord r;
  r.name = u"k";
  const KeyRecord back = key_file::decode(encode_plain(r));
  test::expect_same_record(r, back);
}

TEST(KeyFile, ListingReadsTheListingFields) {
  const KeyRecord r = sample_record(u"listed", 64, 2);
  const KeyListing l = key_file::decode_listing(encode_plain(r));
  EXPECT_EQ(l.name, r.name);
  EXPECT_EQ(l.algorithm, r.algorithm);
  EXPECT_EQ(l.legacy_key_spec, r.legacy_key_spec);
}

TEST(KeyFile, EveryTruncationIsRejected) {
  const Bytes good = encode_plain(sample_record(u"truncate me", 400, 4));
  for (std::size_t n = 0; n < good.size(); ++n) {
    const Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    ASSERT_EQ(decode_status(cut), NTE_BAD_DATA) << "length " << n;
    ASSERT_EQ(listing_status(cut), NTE_BAD_DATA) << "length " << n;
  }
}

// With length and checksum fixed up, a truncated body still fails on its structure.
TEST(KeyFile, EveryResealedTruncationIsRejected) {
  const Bytes good = encode_plain(sample_record(u"truncate body", 200, 5));
  for (std::size_t n = kHeader + kChecksum; n < good.size(); ++n) {
    Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    key_file::reseal(cut);
    ASSERT_EQ(decode_status(cut), NTE_BAD_DATA) << "length " << n;
  }
}

TEST(KeyFile, EveryBitFlipIsRejected) {
  const Bytes good = encode_plain(sample_record(u"flip", 100, 6));
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes bad = good;
      bad[i] = static_cast<std::uint8_t>(bad[i] ^ (1U << bit));
      ASSERT_EQ(decode_status(bad), NTE_BAD_DATA) << "byte " << i << " bit " << bit;
      ASSERT_EQ(listing_status(bad), NTE_BAD_DATA) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(KeyFile, HugeLengthFieldsAreRejectedEvenWithAValidChecksum) {
  const KeyRecord r = sample_record(u"lengths", 100, 7);
  const Bytes good = encode_plain(r);
  const FieldOffsets o = offsets_of(r);
  const std::size_t fields[] = {o.name,        o.algorithm,      o.provider,
                                o.curve,       o.property_count, o.first_property_value,
                                o.public_blob, o.private_blob};
  const std::uint32_t values[] = {0xFFFFFFFFU, 0x80000000U, 0x7FFFFFFFU,
                                  static_cast<std::uint32_t>(good.size()),
                                  static_cast<std::uint32_t>(NCRYPT_MAX_PROPERTY_DATA + 1)};
  for (const std::size_t at : fields) {
    for (const std::uint32_t v : values) {
      Bytes bad = good;
      put_u32(bad, at, v);
      key_file::reseal(bad);
      ASSERT_EQ(decode_status(bad), NTE_BAD_DATA) << "offset " << at << " value " << v;
    }
  }
  // A declared total length other than the real one.
  for (const std::uint32_t v : {0U, 0xFFFFFFFFU, static_cast<std::uint32_t>(good.size() + 1)}) {
    Bytes bad = good;
    put_u32(bad, 12, v);
    EXPECT_EQ(decode_status(bad), NTE_BAD_DATA);
    EXPECT_EQ(listing_status(bad), NTE_BAD_DATA);
  }
}

TEST(KeyFile, NameLengthLimitsAreEnforcedOnDecode) {
  const Bytes good = encode_plain(sample_record(u"n", 10, 8));
  for (const std::uint32_t n : {0U, static_cast<std::uint32_t>(key_file::kMaxNameUnits + 1)}) {
    Bytes bad = good;
    put_u32(bad, kHeader, n);
    key_file::reseal(bad);
    EXPECT_EQ(decode_status(bad), NTE_BAD_DATA) << n;
    EXPECT_EQ(listing_status(bad), NTE_BAD_DATA) << n;
  }
}

TEST(KeyFile, WrongMagicVersionFlagsAndTrailingBytesAreRejected) {
  const Bytes good = encode_plain(sample_record(u"header", 10, 1));
  for (const std::size_t at : {std::size_t{0}, std::size_t{7}, std::size_t{8}, std::size_t{10}}) {
    Bytes bad = good;
    bad[at] = static_cast<std::uint8_t>(bad[at] + 1);
    key_file::reseal(bad);
    EXPECT_EQ(decode_status(bad), NTE_BAD_DATA) << "header byte " << at;
  }
  Bytes trailing = good;
  trailing.insert(trailing.end() - static_cast<std::ptrdiff_t>(kChecksum), 0);
  key_file::reseal(trailing);
  EXPECT_EQ(decode_status(trailing), NTE_BAD_DATA);
}

TEST(KeyFile, PropertiesOutOfOrderAreRejected) {
  KeyRecord r;
  r.name = u"order";
  r.properties[u"A"] = Bytes{1};
  r.properties[u"B"] = Bytes{2};
  Bytes bad = encode_plain(r);
  // Swap the one-unit names: "B" first, then "A".
  const FieldOffsets o = offsets_of(r);
  const std::size_t first_name_unit = o.property_count + 4 + 4;
  const std::size_t second_name_unit = first_name_unit + 2 + 4 + 1 + 4;
  ASSERT_EQ(bad[first_name_unit], 'A');
  ASSERT_EQ(bad[second_name_unit], 'B');
  std::swap(bad[first_name_unit], bad[second_name_unit]);
  key_file::reseal(bad);
  EXPECT_EQ(decode_status(bad), NTE_BAD_DATA);
  // Duplicates are out of order too.
  bad[first_name_unit] = 'A';
  bad[second_name_unit] = 'A';
  key_file::reseal(bad);
  EXPECT_EQ(decode_status(bad), NTE_BAD_DATA);
}

TEST(KeyFile, EncodeRejectsRecordsBeyondTheLimits) {
  KeyRecord r = sample_record(u"x", 10, 1);
  r.name.clear();
  EXPECT_EQ(status_of([&] { (void)key_file::encode(r); }), NTE_INVALID_PARAMETER);
  r.name = std::u16string(key_file::kMaxNameUnits + 1, u'a');
  EXPECT_EQ(status_of([&] { (void)key_file::encode(r); }), NTE_INVALID_PARAMETER);
  r.name = std::u16string(key_file::kMaxNameUnits, u'a');
  EXPECT_EQ(status_of([&] { (void)key_file::encode(r); }), 0);
  r.properties[u"big"] = Bytes(NCRYPT_MAX_PROPERTY_DATA + 1);
  EXPECT_EQ(status_of([&] { (void)key_file::encode(r); }), NTE_INVALID_PARAMETER);
  r.properties.erase(u"big");
  r.private_blob.resize(key_file::kMaxBlobBytes + 1);
  EXPECT_EQ(status_of([&] { (void)key_file::encode(r); }), NTE_INVALID_PARAMETER);
}

}  // namespace
}  // namespace cng
