#include "store/cert_file.h"

#include "store/byte_codec.h"

namespace cng::cert_file {

namespace {

using store_codec::LeReader;
using store_codec::LeWriter;

constexpr store_codec::Magic kMagic = {'C', 'N', 'G', 'C', 'E', 'R', 'T', 0x1a};
constexpr store_codec::PropertyLimits kLimits = {kMaxProperties, kMaxPropertyNameBytes,
                                                 NCRYPT_MAX_PROPERTY_DATA};

}  // namespace

std::string certificate_id(std::span<const std::uint8_t> der) {
  return store_codec::to_hex(store_codec::sha256(der));
}

bool is_certificate_id(std::string_view s) noexcept {
  return store_codec::is_hex_id(s, 2 * store_codec::kChecksumSize);
}

std::vector<std::uint8_t> encode(const StoredCertificate& cert) {
  require(!cert.der.empty() && cert.der.size() <= kMaxDerBytes, NTE_INVALID_PARAMETER,
          "certificate empty or too large");
  std::vector<std::uint8_t> out;
  out.reserve(128 + cert.der.size());
  LeWriter w(out);
  store_codec::begin_envelope(w, kMagic, kVersion);
  w.bytes(cert.der);
  store_codec::write_properties(w, cert.properties, kLimits);
  store_codec::finish_envelope(out, kMaxFileBytes);
  return out;
}

StoredCertificate decode(std::span<const std::uint8_t> bytes) {
  LeReader r(store_codec::open_envelope(bytes, kMagic, kVersion, kMaxFileBytes));
  StoredCertificate cert;
  const auto der = r.bytes(kMaxDerBytes);
  require(!der.empty(), NTE_BAD_DATA, "certificate file: empty certificate");
  cert.der.assign(der.begin(), der.end());
  cert.properties = store_codec::read_properties(r, kLimits);
  require(r.remaining() == 0, NTE_BAD_DATA, "certificate file: trailing bytes");
  cert.id = certificate_id(cert.der);
  return cert;
}

void reseal(std::span<std::uint8_t> bytes) { store_codec::reseal(bytes); }

}  // namespace cng::cert_file
