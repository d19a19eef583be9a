#include "bridge/key_blobs.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <array>
#include <cstring>
#include <memory>

#include "core/p11_error.h"
#include "core/unload.h"

namespace p11::bridge {

namespace {

struct Deleter {
  void operator()(BIGNUM* p) const noexcept { BN_clear_free(p); }
  void operator()(BN_CTX* p) const noexcept { BN_CTX_free(p); }
  void operator()(EC_GROUP* p) const noexcept { EC_GROUP_free(p); }
  void operator()(EC_POINT* p) const noexcept { EC_POINT_free(p); }
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const noexcept { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
  void operator()(PKCS8_PRIV_KEY_INFO* p) const noexcept { PKCS8_PRIV_KEY_INFO_free(p); }
};
template <class T>
using Owned = std::unique_ptr<T, Deleter>;

using CurveTable = std::array<CurveInfo, 3>;
const CurveTable* g_curves = nullptr;  // freed at unload (core/unload.h)

const CurveTable& curves() {
  static const CurveTable* const table = [] {
    g_curves = new CurveTable{{
        {"prime256v1",
         NCRYPT_ECDSA_P256_ALGORITHM,
         NCRYPT_ECDH_P256_ALGORITHM,
         u"nistP256",
         {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07},
         32,
         256},
        {"secp384r1",
         NCRYPT_ECDSA_P384_ALGORITHM,
         NCRYPT_ECDH_P384_ALGORITHM,
         u"nistP384",
         {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22},
         48,
         384},
        {"secp521r1",
         NCRYPT_ECDSA_P521_ALGORITHM,
         NCRYPT_ECDH_P521_ALGORITHM,
         u"nistP521",
         {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23},
         66,
         521},
    }};
    release_at_unload([]() noexcept { delete g_curves; });
    return g_curves;
  }();
  return *table;
}

[[noreturn]] void bad_blob(const char* what) { fail(CKR_DEVICE_ERROR, what); }
[[noreturn]] void bad_value(const char* what) { fail(CKR_ATTRIBUTE_VALUE_INVALID, what); }
[[noreturn]] void openssl_failed(const char* what) { fail(CKR_FUNCTION_FAILED, what); }

ULONG read_ulong(ByteView blob, std::size_t at) {
  ULONG v = 0;
  std::memcpy(&v, blob.data() + at, sizeof v);
  return v;
}

void put_ulong(Bytes& out, ULONG v) {
  // resize + memcpy: inserting into an empty vector trips GCC 12 -O3 -Wstringop-overflow.
  const std::size_t at = out.size();
  out.resize(at + sizeof v);
  std::memcpy(out.data() + at, &v, sizeof v);
}

ByteView take(ByteView blob, std::size_t& at, std::size_t n) {
  if (blob.size() < at || blob.size() - at < n) {
    bad_blob("key blob shorter than its header says");
  }
  ByteView part = blob.subspan(at, n);
  at += n;
  return part;
}

Owned<BIGNUM> to_bn(ByteView v) {
  Owned<BIGNUM> bn(BN_bin2bn(v.data(), static_cast<int>(v.size()), nullptr));
  if (!bn) {
    openssl_failed("BN_bin2bn");
  }
  return bn;
}

Owned<EVP_PKEY> pkey_from_params(const char* type, OSSL_PARAM_BLD* bld, int selection) {
  Owned<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld));
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, provider_key_type(type), nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, selection, params.get()) != 1) {
    bad_value("key parts do not form a valid key");
  }
  return Owned<EVP_PKEY>(raw);
}

Owned<EVP_PKEY> public_pkey(const PublicKeyValues& key) {
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld) {
    openssl_failed("OSSL_PARAM_BLD_new");
  }
  Owned<BIGNUM> n;
  Owned<BIGNUM> e;
  if (key.key_type == CKK_RSA) {
    n = to_bn(key.modulus);
    e = to_bn(key.public_exponent);
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get());
    return pkey_from_params("RSA", bld.get(), EVP_PKEY_PUBLIC_KEY);
  }
  if (key.curve == nullptr) {
    bad_value("EC key without a curve");
  }
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, key.curve->openssl_name,
                                  0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, key.point.data(),
                                   key.point.size());
  return pkey_from_params("EC", bld.get(), EVP_PKEY_PUBLIC_KEY);
}

SecretBytes to_pkcs8(EVP_PKEY* pkey) {
  Owned<PKCS8_PRIV_KEY_INFO> p8(EVP_PKEY2PKCS8(pkey));
  if (!p8) {
    openssl_failed("EVP_PKEY2PKCS8");
  }
  const int len = i2d_PKCS8_PRIV_KEY_INFO(p8.get(), nullptr);
  if (len <= 0) {
    openssl_failed("i2d_PKCS8_PRIV_KEY_INFO");
  }
  SecretBytes out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &p);
  return out;
}

}  // namespace

const CurveInfo* curve_by_params(ByteView ec_params) noexcept {
  for (const CurveInfo& c : curves()) {
    if (ec_params.size() == c.ec_params.size() &&
        std::equal(ec_params.begin(), ec_params.end(), c.ec_params.begin())) {
      return &c;
    }
  }
  return nullptr;
}

const CurveInfo* curve_by_cng_name(std::u16string_view name) noexcept {
  for (const CurveInfo& c : curves()) {
    if (name == c.ecdsa_algorithm || name == c.ecdh_algorithm || name == c.cng_curve_name) {
      return &c;
    }
  }
  return nullptr;
}

PublicKeyValues parse_public_blob(ByteView blob) {
  PublicKeyValues out;
  if (blob.size() < sizeof(ULONG)) {
    bad_blob("empty public key blob");
  }
  const ULONG magic = read_ulong(blob, 0);
  if (magic == BCRYPT_RSAPUBLIC_MAGIC || magic == BCRYPT_RSAPRIVATE_MAGIC ||
      magic == BCRYPT_RSAFULLPRIVATE_MAGIC) {
    if (blob.size() < sizeof(BCRYPT_RSAKEY_BLOB)) {
      bad_blob("short RSA blob");
    }
    BCRYPT_RSAKEY_BLOB h{};
    std::memcpy(&h, blob.data(), sizeof h);
    std::size_t at = sizeof h;
    const ByteView e = take(blob, at, h.cbPublicExp);
    const ByteView n = take(blob, at, h.cbModulus);
    out.key_type = CKK_RSA;
    out.public_exponent = strip_leading_zeros(e);
    out.modulus = strip_leading_zeros(n);
    out.bits = h.BitLength;
    return out;
  }
  if (blob.size() < sizeof(BCRYPT_ECCKEY_BLOB)) {
    bad_blob("short ECC blob");
  }
  BCRYPT_ECCKEY_BLOB h{};
  std::memcpy(&h, blob.data(), sizeof h);
  const CurveInfo* curve = nullptr;
  for (const CurveInfo& c : curves()) {
    if (h.cbKey == c.field_bytes) {
      curve = &c;
    }
  }
  if (curve == nullptr) {
    bad_blob("ECC blob of an unknown curve");
  }
  std::size_t at = sizeof h;
  const ByteView x = take(blob, at, h.cbKey);
  const ByteView y = take(blob, at, h.cbKey);
  out.key_type = CKK_EC;
  out.curve = curve;
  out.bits = curve->bits;
  out.point.reserve(1 + 2 * h.cbKey);
  out.point.push_back(0x04);
  out.point.insert(out.point.end(), x.begin(), x.end());
  out.point.insert(out.point.end(), y.begin(), y.end());
  return out;
}

Bytes make_public_blob(const PublicKeyValues& key) {
  Bytes out;
  if (key.key_type == CKK_RSA) {
    const Bytes n = strip_leading_zeros(key.modulus);
    const Bytes e = strip_leading_zeros(key.public_exponent);
    Owned<BIGNUM> bn = to_bn(n);
    put_ulong(out, BCRYPT_RSAPUBLIC_MAGIC);
    put_ulong(out, static_cast<ULONG>(BN_num_bits(bn.get())));
    put_ulong(out, static_cast<ULONG>(e.size()));
    put_ulong(out, static_cast<ULONG>(n.size()));
    put_ulong(out, 0);
    put_ulong(out, 0);
    out.insert(out.end(), e.begin(), e.end());
    out.insert(out.end(), n.begin(), n.end());
    return out;
  }
  const std::size_t fb = key.curve->field_bytes;
  if (key.point.size() != 1 + 2 * fb || key.point[0] != 0x04) {
    bad_value("EC point is not an uncompressed point of the curve");
  }
  const ULONG magic = fb == 32   ? BCRYPT_ECDSA_PUBLIC_P256_MAGIC
                      : fb == 48 ? BCRYPT_ECDSA_PUBLIC_P384_MAGIC
                                 : BCRYPT_ECDSA_PUBLIC_P521_MAGIC;
  put_ulong(out, magic);
  put_ulong(out, static_cast<ULONG>(fb));
  out.insert(out.end(), key.point.begin() + 1, key.point.end());
  return out;
}

void validate_public_key(const PublicKeyValues& key) { (void)public_pkey(key); }

Bytes spki_der(const PublicKeyValues& key) {
  // Encoded by hand: it is built for every key object when a store is loaded, and OpenSSL's
  // encoder (fromdata + i2d_PUBKEY) costs far more than these few DER headers.
  static const Bytes kRsaAlgorithm = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                      0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
  static const Bytes kEcPublicKeyOid = {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
  Bytes algorithm;
  Bytes bits{0x00};  // BIT STRING: no unused bits
  if (key.key_type == CKK_RSA) {
    algorithm = kRsaAlgorithm;
    Bytes rsa_key = der_integer(key.modulus);
    const Bytes exponent = der_integer(key.public_exponent);
    rsa_key.insert(rsa_key.end(), exponent.begin(), exponent.end());
    const Bytes sequence = der_tlv(0x30, rsa_key);
    bits.insert(bits.end(), sequence.begin(), sequence.end());
  } else {
    if (key.curve == nullptr) {
      fail(CKR_GENERAL_ERROR, "EC public key without a curve");
    }
    Bytes alg_content = kEcPublicKeyOid;
    alg_content.insert(alg_content.end(), key.curve->ec_params.begin(), key.curve->ec_params.end());
    algorithm = der_tlv(0x30, alg_content);
    bits.insert(bits.end(), key.point.begin(), key.point.end());
  }
  Bytes content = algorithm;
  const Bytes bit_string = der_tlv(0x03, bits);
  content.insert(content.end(), bit_string.begin(), bit_string.end());
  return der_tlv(0x30, content);
}

Bytes nss_key_id(const PublicKeyValues& key) {
  return sha1(key.key_type == CKK_RSA ? ByteView(key.modulus) : ByteView(key.point));
}

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

std::optional<Bytes> ec_point_from_attribute(ByteView value, const CurveInfo& curve) {
  const std::size_t point_len = 1 + 2 * curve.field_bytes;
  const Bytes der_header = [&] {
    Bytes h = der_octet_string(Bytes(point_len));
    h.resize(h.size() - point_len);
    return h;
  }();
  if (value.size() == der_header.size() + point_len &&
      std::equal(der_header.begin(), der_header.end(), value.begin()) &&
      value[der_header.size()] == 0x04) {
    return Bytes(value.begin() + static_cast<std::ptrdiff_t>(der_header.size()), value.end());
  }
  if (value.size() == point_len && value[0] == 0x04) {
    return Bytes(value.begin(), value.end());
  }
  return std::nullopt;
}

SecretBytes private_component(ByteView blob, CK_ATTRIBUTE_TYPE type) {
  if (blob.size() < sizeof(ULONG)) {
    bad_blob("empty private blob");
  }
  const ULONG magic = read_ulong(blob, 0);
  if (magic == BCRYPT_RSAFULLPRIVATE_MAGIC) {
    if (blob.size() < sizeof(BCRYPT_RSAKEY_BLOB)) {
      bad_blob("short RSA private blob");
    }
    BCRYPT_RSAKEY_BLOB h{};
    std::memcpy(&h, blob.data(), sizeof h);
    std::size_t at = sizeof h;
    take(blob, at, h.cbPublicExp);
    take(blob, at, h.cbModulus);
    const ByteView p = take(blob, at, h.cbPrime1);
    const ByteView q = take(blob, at, h.cbPrime2);
    const ByteView dp = take(blob, at, h.cbPrime1);
    const ByteView dq = take(blob, at, h.cbPrime2);
    const ByteView qinv = take(blob, at, h.cbPrime1);
    const ByteView d = take(blob, at, h.cbModulus);
    ByteView part;
    switch (type) {
      case CKA_PRIVATE_EXPONENT:
        part = d;
        break;
      case CKA_PRIME_1:
        part = p;
        break;
      case CKA_PRIME_2:
        part = q;
        break;
      case CKA_EXPONENT_1:
        part = dp;
        break;
      case CKA_EXPONENT_2:
        part = dq;
        break;
      case CKA_COEFFICIENT:
        part = qinv;
        break;
      default:
        fail(CKR_ATTRIBUTE_TYPE_INVALID, "not an RSA private component");
    }
    const Bytes stripped = strip_leading_zeros(part);
    return SecretBytes(stripped.begin(), stripped.end());
  }
  if (type != CKA_VALUE || blob.size() < sizeof(BCRYPT_ECCKEY_BLOB)) {
    fail(CKR_ATTRIBUTE_TYPE_INVALID, "not an EC private component");
  }
  BCRYPT_ECCKEY_BLOB h{};
  std::memcpy(&h, blob.data(), sizeof h);
  std::size_t at = sizeof h + 2 * static_cast<std::size_t>(h.cbKey);
  const ByteView d = take(blob, at, h.cbKey);
  return SecretBytes(d.begin(), d.end());  // EC private values keep their fixed length
}

SecretBytes rsa_pkcs8(const RsaPrivateParts& parts) {
  Owned<BIGNUM> n = to_bn(parts.modulus);
  Owned<BIGNUM> e = to_bn(parts.public_exponent);
  Owned<BIGNUM> d = to_bn(parts.private_exponent);
  Owned<BIGNUM> p = to_bn(parts.prime1);
  Owned<BIGNUM> q = to_bn(parts.prime2);
  Owned<BN_CTX> ctx(BN_CTX_new());
  Owned<BIGNUM> check(BN_new());
  if (!ctx || !check || BN_mul(check.get(), p.get(), q.get(), ctx.get()) != 1) {
    openssl_failed("BN_mul");
  }
  if (BN_cmp(check.get(), n.get()) != 0 || BN_is_zero(e.get()) || BN_is_zero(d.get())) {
    fail(CKR_TEMPLATE_INCONSISTENT, "RSA primes do not multiply to the modulus");
  }
  // CRT values: from the template when given, else d mod (p-1), d mod (q-1), q^-1 mod p.
  auto crt = [&](const SecretBytes& given, auto compute) {
    return given.empty() ? compute() : to_bn(given);
  };
  auto d_mod_prime_minus_one = [&](const BIGNUM* prime) {
    Owned<BIGNUM> pm1(BN_dup(prime));
    Owned<BIGNUM> r(BN_new());
    if (!pm1 || !r || BN_sub_word(pm1.get(), 1) != 1 ||
        BN_mod(r.get(), d.get(), pm1.get(), ctx.get()) != 1) {
      openssl_failed("BN_mod");
    }
    return r;
  };
  Owned<BIGNUM> dp = crt(parts.exponent1, [&] { return d_mod_prime_minus_one(p.get()); });
  Owned<BIGNUM> dq = crt(parts.exponent2, [&] { return d_mod_prime_minus_one(q.get()); });
  Owned<BIGNUM> qinv = crt(parts.coefficient, [&] {
    Owned<BIGNUM> r(BN_mod_inverse(nullptr, q.get(), p.get(), ctx.get()));
    if (!r) {
      fail(CKR_TEMPLATE_INCONSISTENT, "RSA primes are not coprime");
    }
    return r;
  });
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld) {
    openssl_failed("OSSL_PARAM_BLD_new");
  }
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_D, d.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, p.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, q.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, dp.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, dq.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qinv.get());
  Owned<EVP_PKEY> pkey = pkey_from_params("RSA", bld.get(), EVP_PKEY_KEYPAIR);
  return to_pkcs8(pkey.get());
}

SecretBytes ec_pkcs8(const CurveInfo& curve, ByteView d_bytes, Bytes& point_out) {
  Owned<EC_GROUP> group(EC_GROUP_new_by_curve_name(OBJ_sn2nid(curve.openssl_name)));
  Owned<BN_CTX> ctx(BN_CTX_new());
  if (!group || !ctx) {
    openssl_failed("EC_GROUP_new_by_curve_name");
  }
  Owned<BIGNUM> d = to_bn(d_bytes);
  if (BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(group.get())) >= 0) {
    bad_value("EC private value out of range");
  }
  Owned<EC_POINT> pub(EC_POINT_new(group.get()));
  if (!pub || EC_POINT_mul(group.get(), pub.get(), d.get(), nullptr, nullptr, ctx.get()) != 1) {
    openssl_failed("EC_POINT_mul");
  }
  point_out.assign(1 + 2 * curve.field_bytes, 0);
  if (EC_POINT_point2oct(group.get(), pub.get(), POINT_CONVERSION_UNCOMPRESSED, point_out.data(),
                         point_out.size(), ctx.get()) != point_out.size()) {
    openssl_failed("EC_POINT_point2oct");
  }
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld) {
    openssl_failed("OSSL_PARAM_BLD_new");
  }
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.openssl_name, 0);
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get());
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point_out.data(),
                                   point_out.size());
  Owned<EVP_PKEY> pkey = pkey_from_params("EC", bld.get(), EVP_PKEY_KEYPAIR);
  return to_pkcs8(pkey.get());
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
    openssl_failed("EVP_Digest(SHA-1)");
  }
  return out;
}

}  // namespace p11::bridge
