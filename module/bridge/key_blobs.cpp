#include "bridge/key_blobs.h"

#include <openssl/evp.h>

#include "bridge/key_types/key_type.h"
#include "core/p11_error.h"

namespace p11::bridge {

namespace {

const KeyPairRules& pair_rules(const PublicKeyValues& key) {
  const KeyTypeDescriptor* type = find_key_type(CKO_PUBLIC_KEY, key.key_type);
  if (type == nullptr) {
    fail(CKR_GENERAL_ERROR, "public key values of an unregistered key type");
  }
  return *type->pair;
}

}  // namespace

Bytes make_public_blob(const PublicKeyValues& key) { return pair_rules(key).make_public_blob(key); }

void validate_public_key(const PublicKeyValues& key) { pair_rules(key).validate(key); }

Bytes spki_der(const PublicKeyValues& key) {
  // Encoded by hand: it is built for every key object when a store is loaded, and OpenSSL's
  // encoder (fromdata + i2d_PUBKEY) costs far more than these few DER headers.
  return pair_rules(key).spki_der(key);
}

Bytes spki_from_parts(ByteView algorithm_identifier, ByteView subject_public_key) {
  Bytes bits{0x00};  // BIT STRING: no unused bits
  bits.insert(bits.end(), subject_public_key.begin(), subject_public_key.end());
  Bytes content(algorithm_identifier.begin(), algorithm_identifier.end());
  const Bytes bit_string = der_tlv(0x03, bits);
  content.insert(content.end(), bit_string.begin(), bit_string.end());
  return der_tlv(0x30, content);
}

Bytes nss_key_id(const PublicKeyValues& key) { return sha1(pair_rules(key).nss_id_source(key)); }

Bytes der_octet_string(ByteView content) { return der_tlv(0x04, content); }

Bytes der_tlv(std::uint8_t tag, ByteView content) {
  Bytes out{tag};
  const std::size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<std::uint8_t>(n));
  } else {
    Bytes len;
    for (std::size_t v = n; v != 0; v >>= 8) {
      len.insert(len.begin(), static_cast<std::uint8_t>(v & 0xFF));
    }
    out.push_back(static_cast<std::uint8_t>(0x80 | len.size()));
    out.insert(out.end(), len.begin(), len.end());
  }
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

Bytes der_integer(ByteView big_endian) {
  std::size_t start = 0;
  while (start + 1 < big_endian.size() && big_endian[start] == 0) {
    ++start;  // minimal encoding
  }
  Bytes value;
  if (big_endian.empty() || (big_endian[start] & 0x80) != 0) {
    value.push_back(0x00);  // non-negative
  }
  value.insert(value.end(), big_endian.begin() + static_cast<std::ptrdiff_t>(start),
               big_endian.end());
  return der_tlv(0x02, value);
}

Bytes strip_leading_zeros(ByteView value) {
  std::size_t skip = 0;
  while (skip + 1 < value.size() && value[skip] == 0) {
    ++skip;
  }
  return Bytes(value.begin() + static_cast<std::ptrdiff_t>(skip), value.end());
}

Bytes sha1(ByteView data) {
  Bytes out(20);
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha1(), nullptr) != 1) {
    fail(CKR_FUNCTION_FAILED, "EVP_Digest(SHA-1)");
  }
  return out;
}

}  // namespace p11::bridge
