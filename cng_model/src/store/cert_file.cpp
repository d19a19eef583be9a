#include "store/cert_file.h"

#include "store/byte_codec.h"

namespace cng::cert_file {

namespace {

using store_codec::LeReader;
using store_codec::LeWriter;

constexpr store_codec::Magic kMagic = {'C', 'N', 'G', 'C', 'E', 'R', 'T', 0x1a};

}  // namespace

std::string certificate_id(std::span<const std::uint8_t> der) {
  return store_codec::to_hex(store_codec::sha256(der));
}

bool is_certificate_id(std::string_view s) noexcept {
  if (s.size() != 2 * store_codec::kChecksumSize) {
    return false;
  }
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

std::vector<std::uint8_t> encode(const StoredCertificate& cert) {
  require(!cert.der.empty() && cert.der.size() <= kMaxDerBytes, NTE_INVALID_PARAMETER,
          "certificate empty or too large");
  require(cert.properties.size() <= kMaxProperties, NTE_INVALID_PARAMETER,
          "too many certificate properties");
  std::vector<std::uint8_t> out;
  out.reserve(128 + cert.der.size());
  LeWriter w(out);
  store_codec::begin_envelope(w, kMagic, kVersion);
  w.bytes(cert.der);
  w.u32(static_cast<std::uint32_t>(cert.properties.size()));
  for (const auto& [name, value] : cert.properties) {  // std::map: ascending by name
    require(!name.empty() && name.size() <= kMaxPropertyNameBytes, NTE_INVALID_PARAMETER,
            "certificate property name empty or too long");
    require(value.size() <= NCRYPT_MAX_PROPERTY_DATA, NTE_INVALID_PARAMETER,
            "certificate property value too large");
    w.string(name);
    w.bytes(value);
  }
  store_codec::finish_envelope(out, kMaxFileBytes);
  return out;
}

StoredCertificate decode(std::span<const std::uint8_t> bytes) {
  LeReader r(store_codec::open_envelope(bytes, kMagic, kVersion, kMaxFileBytes));
  StoredCertificate cert;
  const auto der = r.bytes(kMaxDerBytes);
  require(!der.empty(), NTE_BAD_DATA, "certificate file: empty certificate");
  cert.der.assign(der.begin(), der.end());
  const std::uint32_t count = r.u32();
  require(count <= kMaxProperties, NTE_BAD_DATA, "certificate file: too many properties");
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string name = r.string(1, kMaxPropertyNameBytes);
    require(cert.properties.empty() || cert.properties.rbegin()->first < name, NTE_BAD_DATA,
            "certificate file: properties out of order");
    const auto value = r.bytes(NCRYPT_MAX_PROPERTY_DATA);
    cert.properties.emplace_hint(cert.properties.end(), std::move(name),
                                 std::vector<std::uint8_t>(value.begin(), value.end()));
  }
  require(r.remaining() == 0, NTE_BAD_DATA, "certificate file: trailing bytes");
  cert.id = certificate_id(cert.der);
  return cert;
}

void reseal(std::span<std::uint8_t> bytes) { store_codec::reseal(bytes); }

}  // namespace cng::cert_file
