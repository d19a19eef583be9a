// CKK_RSA (PKCS#11 3.0 §6.1) ⇄ NCRYPT_RSA_ALGORITHM: the descriptor and its codec
// (BCRYPT_RSAPUBLIC_BLOB / BCRYPT_RSAFULLPRIVATE_BLOB, PKCS#8 from template parts).
#include <openssl/core_names.h>

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

// §6.1 RSA public key attributes.
constexpr std::array kRsaPublic = {
    SchemaEntry{CKA_MODULUS, kOnCreate | kRequiredCreate, D::kNone},
    SchemaEntry{CKA_MODULUS_BITS, kOnGenerate | kRequiredGenerate, D::kNone},
    SchemaEntry{CKA_PUBLIC_EXPONENT, kOnCreate | kOnGenerate | kRequiredCreate, D::kNone},
};
// CKA_MODULUS_BITS is a public key attribute; shown on the private key too (read-only),
// as pkcs11-tool and others ask the private object for its size.
constexpr std::array kRsaPrivate = {
    SchemaEntry{CKA_MODULUS, kOnCreate | kRequiredCreate, D::kNone},
    SchemaEntry{CKA_MODULUS_BITS, 0, D::kNone},
    SchemaEntry{CKA_PUBLIC_EXPONENT, kOnCreate | kRequiredCreate, D::kNone},
    SchemaEntry{CKA_PRIVATE_EXPONENT, kOnCreate | kSensitive | kRequiredCreate, D::kNone},
    SchemaEntry{CKA_PRIME_1, kOnCreate | kSensitive | kRequiredCreate, D::kNone},
    SchemaEntry{CKA_PRIME_2, kOnCreate | kSensitive | kRequiredCreate, D::kNone},
    SchemaEntry{CKA_EXPONENT_1, kOnCreate | kSensitive, D::kNone},
    SchemaEntry{CKA_EXPONENT_2, kOnCreate | kSensitive, D::kNone},
    SchemaEntry{CKA_COEFFICIENT, kOnCreate | kSensitive, D::kNone},
};

// CKM_RSA_X_509 signing is the raw RSA private operation, which CNG offers only as
// NCryptDecrypt without padding: an RSA signing key also carries the decrypt usage bit.
// (Raw signing makes any such key a decryption primitive anyway; CKA_DECRYPT itself stays
// in its custom property and the module enforces it.)
constexpr std::array kRsaUsage = {
    UsageRule{CKA_SIGN, NCRYPT_ALLOW_SIGNING_FLAG},
    UsageRule{CKA_DECRYPT, NCRYPT_ALLOW_DECRYPT_FLAG},
    UsageRule{CKA_UNWRAP, NCRYPT_ALLOW_DECRYPT_FLAG},
    UsageRule{CKA_SIGN, NCRYPT_ALLOW_DECRYPT_FLAG},
};

// RSA keys sign and decrypt; they never agree keys.
DWORD rsa_shown_usage(std::u16string_view /*algorithm*/) {
  return NCRYPT_ALLOW_SIGNING_FLAG | NCRYPT_ALLOW_DECRYPT_FLAG;
}

CK_ULONG modulus_bits(ByteView modulus) {
  const Bytes m = strip_leading_zeros(modulus);
  if (m.empty()) {
    return 0;
  }
  CK_ULONG bits = (m.size() - 1) * 8;
  for (unsigned top = m[0]; top != 0; top >>= 1) {
    ++bits;
  }
  return bits;
}

PublicKeyValues rsa_from_template(const AttrMap& t) {
  PublicKeyValues v;
  v.key_type = CKK_RSA;
  v.modulus = strip_leading_zeros(t.at(CKA_MODULUS));
  v.public_exponent = strip_leading_zeros(t.at(CKA_PUBLIC_EXPONENT));
  v.bits = modulus_bits(v.modulus);
  return v;
}

PublicKeyValues rsa_parse_public_blob(ByteView blob) {
  if (blob.size() < sizeof(BCRYPT_RSAKEY_BLOB)) {
    bad_blob("short RSA blob");
  }
  const ULONG magic = read_ulong(blob, 0);
  if (magic != BCRYPT_RSAPUBLIC_MAGIC && magic != BCRYPT_RSAPRIVATE_MAGIC &&
      magic != BCRYPT_RSAFULLPRIVATE_MAGIC) {
    bad_blob("not an RSA key blob");
  }
  BCRYPT_RSAKEY_BLOB h{};
  std::memcpy(&h, blob.data(), sizeof h);
  std::size_t at = sizeof h;
  const ByteView e = take(blob, at, h.cbPublicExp);
  const ByteView n = take(blob, at, h.cbModulus);
  PublicKeyValues out;
  out.key_type = CKK_RSA;
  out.public_exponent = strip_leading_zeros(e);
  out.modulus = strip_leading_zeros(n);
  out.bits = h.BitLength;
  return out;
}

Bytes rsa_make_public_blob(const PublicKeyValues& key) {
  Bytes out;
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

std::optional<Bytes> rsa_public_attribute(CK_ATTRIBUTE_TYPE type, const PublicKeyValues& key) {
  switch (type) {
    case CKA_MODULUS:
      return key.modulus;
    case CKA_PUBLIC_EXPONENT:
      return key.public_exponent;
    case CKA_MODULUS_BITS:
      return ulong_bytes(key.bits);
    default:
      return std::nullopt;
  }
}

// A component of a BCRYPT_RSAFULLPRIVATE_BLOB by attribute.
SecretBytes rsa_private_attribute(ByteView blob, CK_ATTRIBUTE_TYPE type) {
  if (blob.size() < sizeof(BCRYPT_RSAKEY_BLOB) ||
      read_ulong(blob, 0) != BCRYPT_RSAFULLPRIVATE_MAGIC) {
    bad_blob("not an RSA full private blob");
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

// Private key parts from a C_CreateObject template.
struct RsaPrivateParts {
  Bytes modulus, public_exponent;
  SecretBytes private_exponent, prime1, prime2, exponent1, exponent2, coefficient;
};

// PKCS#8 PrivateKeyInfo DER for NCryptImportKey; missing CRT parts are computed from d, p, q.
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

SecretBytes rsa_pkcs8_from_template(const AttrMap& tmpl) {
  const auto secret = [&](CK_ATTRIBUTE_TYPE t) {
    const auto it = tmpl.find(t);
    return it == tmpl.end() ? SecretBytes() : SecretBytes(it->second.begin(), it->second.end());
  };
  const RsaPrivateParts parts{tmpl.at(CKA_MODULUS),         tmpl.at(CKA_PUBLIC_EXPONENT),
                              secret(CKA_PRIVATE_EXPONENT), secret(CKA_PRIME_1),
                              secret(CKA_PRIME_2),          secret(CKA_EXPONENT_1),
                              secret(CKA_EXPONENT_2),       secret(CKA_COEFFICIENT)};
  return rsa_pkcs8(parts);
}

Bytes rsa_spki_der(const PublicKeyValues& key) {
  static const Bytes kRsaAlgorithm = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                      0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
  Bytes rsa_key = der_integer(key.modulus);
  const Bytes exponent = der_integer(key.public_exponent);
  rsa_key.insert(rsa_key.end(), exponent.begin(), exponent.end());
  return spki_from_parts(kRsaAlgorithm, der_tlv(0x30, rsa_key));
}

ByteView rsa_nss_id_source(const PublicKeyValues& key) { return key.modulus; }

void rsa_validate(const PublicKeyValues& key) {
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld) {
    openssl_failed("OSSL_PARAM_BLD_new");
  }
  Owned<BIGNUM> n = to_bn(key.modulus);
  Owned<BIGNUM> e = to_bn(key.public_exponent);
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get());
  (void)pkey_from_params("RSA", bld.get(), EVP_PKEY_PUBLIC_KEY);
}

// CKA_MODULUS_BITS within the provider's Lengths; CNG generates with exponent 65537 only.
KeyGenPlan rsa_generation(NCRYPT_PROV_HANDLE provider, const AttrMap& pub,
                          const AttrMap& /*priv*/) {
  const CK_ULONG bits = attr_ulong(pub, CKA_MODULUS_BITS).value_or(0);
  if (const auto e = pub.find(CKA_PUBLIC_EXPONENT); e != pub.end()) {
    if (strip_leading_zeros(e->second) != Bytes{0x01, 0x00, 0x01}) {
      fail(CKR_ATTRIBUTE_VALUE_INVALID, "CNG generates RSA keys with exponent 65537 only");
    }
  }
  NCRYPT_SUPPORTED_LENGTHS lengths{512, 16384, 8, 2048};
  if (const auto raw = get_property(provider, NCRYPT_LENGTHS_PROPERTY);
      raw && raw->size() == sizeof lengths) {
    std::memcpy(&lengths, raw->data(), sizeof lengths);
  }
  const DWORD incr = lengths.dwIncrement == 0 ? 1 : lengths.dwIncrement;
  if (bits < lengths.dwMinLength || bits > lengths.dwMaxLength ||
      (bits - lengths.dwMinLength) % incr != 0) {
    fail(CKR_KEY_SIZE_RANGE, "RSA modulus size not supported by the provider");
  }
  return {NCRYPT_RSA_ALGORITHM, static_cast<DWORD>(bits)};
}

bool is_rsa_key(std::u16string_view algorithm, NCRYPT_KEY_HANDLE /*key*/) {
  return algorithm == NCRYPT_RSA_ALGORITHM;
}

// Modulus sizes in bits, from the provider's Lengths.
KeySizeRange rsa_sizes(const slots::Capabilities& caps) {
  return {caps.rsa_bits.min_bits, caps.rsa_bits.max_bits};
}

CK_ULONG rsa_key_bits(const AttrMap& attrs) {
  const auto n = attrs.find(CKA_MODULUS);
  return n == attrs.end() ? 0 : modulus_bits(n->second);
}

constexpr KeyPairRules kRsaRules{
    kRsaPublic,
    kRsaPrivate,
    kRsaUsage,
    rsa_shown_usage,
    {},
    NCRYPT_RSA_ALGORITHM,
    BCRYPT_RSAPUBLIC_BLOB,
    BCRYPT_RSAFULLPRIVATE_BLOB,
    rsa_from_template,
    rsa_parse_public_blob,
    rsa_make_public_blob,
    rsa_public_attribute,
    rsa_private_attribute,
    rsa_pkcs8_from_template,
    rsa_spki_der,
    rsa_nss_id_source,
    rsa_validate,
    rsa_generation,
};

}  // namespace

extern const KeyTypeDescriptor kRsaKeyType;
constinit const KeyTypeDescriptor kRsaKeyType{
    CKK_RSA,
    "RSA",
    CKM_RSA_PKCS_KEY_PAIR_GEN,
    NCRYPT_RSA_ALGORITHM,
    is_rsa_key,
    1,
    rsa_sizes,
    rsa_key_bits,
    &kRsaRules,
    nullptr,
};

}  // namespace p11::bridge
