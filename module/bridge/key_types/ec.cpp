// CKK_EC (PKCS#11 3.0 §6.3) ⇄ NCRYPT_ECDSA_P*/ECDH_P* algorithms, one per NIST curve: the
// descriptor, the curve table and the codec (BCRYPT_ECCPUBLIC_BLOB / BCRYPT_ECCPRIVATE_BLOB,
// PKCS#8 from CKA_EC_PARAMS and CKA_VALUE).
#include <openssl/core_names.h>
#include <openssl/objects.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "bridge/key_types/codec_support.h"
#include "bridge/key_types/key_type.h"
#include "bridge/ncrypt_props.h"
#include "core/p11_error.h"

namespace p11::bridge {

namespace {

using namespace codec;  // NOLINT(google-build-using-namespace): the shared codec helpers
using D = Default;

const std::array<CurveInfo, 3>& curves() {
  static const auto* table = new std::array<CurveInfo, 3>{{
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
  return *table;
}

// §6.3 elliptic curve public key attributes.
constexpr std::array kEcPublic = {
    SchemaEntry{CKA_EC_PARAMS, kOnCreate | kOnGenerate | kRequiredCreate | kRequiredGenerate,
                D::kNone},
    SchemaEntry{CKA_EC_POINT, kOnCreate | kRequiredCreate, D::kNone},
};
// The public value is shown on the private object too (clients read it there); in a
// C_CreateObject template it is accepted and the key's own value wins.
constexpr std::array kEcPrivate = {
    SchemaEntry{CKA_EC_PARAMS, kOnCreate | kRequiredCreate, D::kNone},
    SchemaEntry{CKA_EC_POINT, kOnCreate, D::kNone},
    SchemaEntry{CKA_VALUE, kOnCreate | kSensitive | kRequiredCreate, D::kNone},
};

constexpr std::array kEcUsage = {
    UsageRule{CKA_SIGN, NCRYPT_ALLOW_SIGNING_FLAG},
    UsageRule{CKA_DERIVE, NCRYPT_ALLOW_KEY_AGREEMENT_FLAG},
};

// EC keys neither encrypt nor decrypt (no mechanism does).
constexpr std::array<CK_ATTRIBUTE_TYPE, 2> kEcUnserved = {CKA_DECRYPT, CKA_ENCRYPT};

// EC keys sign; only ECDH keys agree (ECDSA keys cannot, §5.4.3).
DWORD ec_shown_usage(std::u16string_view algorithm) {
  return NCRYPT_ALLOW_SIGNING_FLAG |
         (algorithm.starts_with(u"ECDH") ? NCRYPT_ALLOW_KEY_AGREEMENT_FLAG : 0);
}

// CKA_EC_PARAMS of a curve CNG offers; CKR_CURVE_NOT_SUPPORTED for a well-formed other curve.
const CurveInfo& checked_curve(const AttrMap& attrs) {
  const Bytes& params = attrs.at(CKA_EC_PARAMS);
  if (const CurveInfo* curve = curve_by_params(params)) {
    return *curve;
  }
  // An OID, a printable curve name or explicit parameters of another curve: well-formed but
  // not a curve CNG offers. Anything else is not CKA_EC_PARAMS at all.
  if (!params.empty() && (params[0] == 0x06 || params[0] == 0x13 || params[0] == 0x30)) {
    fail(CKR_CURVE_NOT_SUPPORTED, "only P-256, P-384 and P-521 (as OIDs)");
  }
  fail(CKR_ATTRIBUTE_VALUE_INVALID, "malformed CKA_EC_PARAMS");
}

PublicKeyValues ec_from_template(const AttrMap& t) {
  PublicKeyValues v;
  v.key_type = CKK_EC;
  v.curve = curve_by_params(t.at(CKA_EC_PARAMS));
  if (v.curve == nullptr) {
    fail(CKR_CURVE_NOT_SUPPORTED, "only P-256, P-384 and P-521");
  }
  auto point = ec_point_from_attribute(t.at(CKA_EC_POINT), *v.curve);
  if (!point) {
    fail(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_EC_POINT is not an uncompressed point");
  }
  v.point = std::move(*point);
  v.bits = v.curve->bits;
  return v;
}

PublicKeyValues ec_parse_public_blob(ByteView blob) {
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
  PublicKeyValues out;
  out.key_type = CKK_EC;
  out.curve = curve;
  out.bits = curve->bits;
  out.point.reserve(1 + 2 * h.cbKey);
  out.point.push_back(0x04);
  out.point.insert(out.point.end(), x.begin(), x.end());
  out.point.insert(out.point.end(), y.begin(), y.end());
  return out;
}

Bytes ec_make_public_blob(const PublicKeyValues& key) {
  Bytes out;
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

std::optional<Bytes> ec_public_attribute(CK_ATTRIBUTE_TYPE type, const PublicKeyValues& key) {
  switch (type) {
    case CKA_EC_PARAMS:
      return key.curve->ec_params;
    case CKA_EC_POINT:
      return der_octet_string(key.point);
    default:
      return std::nullopt;
  }
}

// CKA_VALUE (d) from a BCRYPT_ECCPRIVATE_BLOB.
SecretBytes ec_private_attribute(ByteView blob, CK_ATTRIBUTE_TYPE type) {
  if (type != CKA_VALUE || blob.size() < sizeof(BCRYPT_ECCKEY_BLOB)) {
    fail(CKR_ATTRIBUTE_TYPE_INVALID, "not an EC private component");
  }
  BCRYPT_ECCKEY_BLOB h{};
  std::memcpy(&h, blob.data(), sizeof h);
  std::size_t at = sizeof h + 2 * static_cast<std::size_t>(h.cbKey);
  const ByteView d = take(blob, at, h.cbKey);
  return SecretBytes(d.begin(), d.end());  // EC private values keep their fixed length
}

// EC: d plus the curve as PKCS#8; also returns the public point (computed as d·G).
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

SecretBytes ec_pkcs8_from_template(const AttrMap& tmpl) {
  const auto value = tmpl.find(CKA_VALUE);
  const SecretBytes d =
      value == tmpl.end() ? SecretBytes() : SecretBytes(value->second.begin(), value->second.end());
  Bytes point;
  return ec_pkcs8(checked_curve(tmpl), d, point);
}

Bytes ec_spki_der(const PublicKeyValues& key) {
  static const Bytes kEcPublicKeyOid = {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
  if (key.curve == nullptr) {
    fail(CKR_GENERAL_ERROR, "EC public key without a curve");
  }
  Bytes alg_content = kEcPublicKeyOid;
  alg_content.insert(alg_content.end(), key.curve->ec_params.begin(), key.curve->ec_params.end());
  return spki_from_parts(der_tlv(0x30, alg_content), key.point);
}

ByteView ec_nss_id_source(const PublicKeyValues& key) { return key.point; }

void ec_validate(const PublicKeyValues& key) {
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld) {
    openssl_failed("OSSL_PARAM_BLD_new");
  }
  if (key.curve == nullptr) {
    bad_value("EC key without a curve");
  }
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, key.curve->openssl_name,
                                  0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, key.point.data(),
                                   key.point.size());
  (void)pkey_from_params("EC", bld.get(), EVP_PKEY_PUBLIC_KEY);
}

// §5.4.3: a CNG EC key is ECDSA or ECDH from creation (the curve is in the algorithm id, no
// Length); ECDH keys can also sign, so a key that may derive is made ECDH.
KeyGenPlan ec_generation(NCRYPT_PROV_HANDLE /*provider*/, const AttrMap& pub, const AttrMap& priv) {
  const CurveInfo& curve = checked_curve(pub);
  return {attr_true(priv, CKA_DERIVE) ? curve.ecdh_algorithm : curve.ecdsa_algorithm, 0};
}

// ECDSA_P256, ECDH_P384, ...; generic "ECDSA"/"ECDH" keys name their curve separately.
bool is_ec_key(std::u16string_view algorithm, NCRYPT_KEY_HANDLE key) {
  if (curve_by_cng_name(algorithm) != nullptr) {
    return true;
  }
  const auto curve = get_string_property(key, NCRYPT_ECC_CURVE_NAME_PROPERTY);
  return curve && curve_by_cng_name(*curve) != nullptr;
}

// Field sizes in bits of the curves the provider has.
KeySizeRange ec_sizes(const slots::Capabilities& caps) {
  const slots::BitRange bits = caps.ec_bits();
  return {bits.min_bits, bits.max_bits};
}

CK_ULONG ec_key_bits(const AttrMap& attrs) {
  const auto p = attrs.find(CKA_EC_PARAMS);
  const CurveInfo* curve = p == attrs.end() ? nullptr : curve_by_params(p->second);
  return curve != nullptr ? curve->bits : 0;
}

constexpr KeyPairRules kEcRules{
    kEcPublic,
    kEcPrivate,
    kEcUsage,
    ec_shown_usage,
    kEcUnserved,
    NCRYPT_ECDH_ALGORITHM,
    BCRYPT_ECCPUBLIC_BLOB,
    BCRYPT_ECCPRIVATE_BLOB,
    ec_from_template,
    ec_parse_public_blob,
    ec_make_public_blob,
    ec_public_attribute,
    ec_private_attribute,
    ec_pkcs8_from_template,
    ec_spki_der,
    ec_nss_id_source,
    ec_validate,
    ec_generation,
};

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

extern const KeyTypeDescriptor kEcKeyType;
constinit const KeyTypeDescriptor kEcKeyType{
    CKK_EC, "EC",     CKM_EC_KEY_PAIR_GEN, nullptr,   is_ec_key,
    1,      ec_sizes, ec_key_bits,         &kEcRules, nullptr,
};

}  // namespace p11::bridge
