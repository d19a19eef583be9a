// BCRYPT key blob formats (see bcrypt_blobs.h and reference/cng-model.md §2.6).
#include "providers/software/bcrypt_blobs.h"

#include <openssl/core_names.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "bcrypt.h"
#include "core/cng_error.h"
#include "core/u16.h"
#include "providers/software/algorithm_util.h"

namespace cng::soft {

namespace {

constexpr std::size_t kRsaHeaderSize = 6 * sizeof(ULONG);  // BCRYPT_RSAKEY_BLOB
constexpr std::size_t kEccHeaderSize = 2 * sizeof(ULONG);  // BCRYPT_ECCKEY_BLOB
constexpr DWORD kMinRsaBits = 512;
constexpr DWORD kMaxRsaBits = 16384;

ULONG read_u32(ByteView data, std::size_t offset) {
  return static_cast<ULONG>(data[offset]) | (static_cast<ULONG>(data[offset + 1]) << 8U) |
         (static_cast<ULONG>(data[offset + 2]) << 16U) |
         (static_cast<ULONG>(data[offset + 3]) << 24U);
}

template <class Buffer>
void write_u32(Buffer& out, std::size_t offset, ULONG v) {
  for (std::size_t i = 0; i < 4; ++i) {
    out[offset + i] = static_cast<std::uint8_t>(v >> (8U * i));
  }
}

ULONG to_ulong(std::size_t n) { return static_cast<ULONG>(n); }

enum class BlobKind {
  kRsaPublic,
  kRsaPrivate,
  kRsaFull,
  kEccPublic,
  kEccPrivate,
  kAnyPublic,
  kAnyPrivate
};

struct BlobTypeName {
  std::u16string_view name;
  BlobKind kind;
};

constexpr std::array<BlobTypeName, 7> kBlobTypes = {{
    {BCRYPT_RSAPUBLIC_BLOB, BlobKind::kRsaPublic},
    {BCRYPT_RSAPRIVATE_BLOB, BlobKind::kRsaPrivate},
    {BCRYPT_RSAFULLPRIVATE_BLOB, BlobKind::kRsaFull},
    {BCRYPT_ECCPUBLIC_BLOB, BlobKind::kEccPublic},
    {BCRYPT_ECCPRIVATE_BLOB, BlobKind::kEccPrivate},
    {BCRYPT_PUBLIC_KEY_BLOB, BlobKind::kAnyPublic},
    {BCRYPT_PRIVATE_KEY_BLOB, BlobKind::kAnyPrivate},
}};

struct EccMagic {
  ULONG magic;
  KeyAlgorithm algorithm;
  Curve curve;
  bool is_private;
};

constexpr std::array<EccMagic, 12> kEccMagics = {{
    {BCRYPT_ECDSA_PUBLIC_P256_MAGIC, KeyAlgorithm::kEcdsa, Curve::kP256, false},
    {BCRYPT_ECDSA_PRIVATE_P256_MAGIC, KeyAlgorithm::kEcdsa, Curve::kP256, true},
    {BCRYPT_ECDSA_PUBLIC_P384_MAGIC, KeyAlgorithm::kEcdsa, Curve::kP384, false},
    {BCRYPT_ECDSA_PRIVATE_P384_MAGIC, KeyAlgorithm::kEcdsa, Curve::kP384, true},
    {BCRYPT_ECDSA_PUBLIC_P521_MAGIC, KeyAlgorithm::kEcdsa, Curve::kP521, false},
    {BCRYPT_ECDSA_PRIVATE_P521_MAGIC, KeyAlgorithm::kEcdsa, Curve::kP521, true},
    {BCRYPT_ECDH_PUBLIC_P256_MAGIC, KeyAlgorithm::kEcdh, Curve::kP256, false},
    {BCRYPT_ECDH_PRIVATE_P256_MAGIC, KeyAlgorithm::kEcdh, Curve::kP256, true},
    {BCRYPT_ECDH_PUBLIC_P384_MAGIC, KeyAlgorithm::kEcdh, Curve::kP384, false},
    {BCRYPT_ECDH_PRIVATE_P384_MAGIC, KeyAlgorithm::kEcdh, Curve::kP384, true},
    {BCRYPT_ECDH_PUBLIC_P521_MAGIC, KeyAlgorithm::kEcdh, Curve::kP521, false},
    {BCRYPT_ECDH_PRIVATE_P521_MAGIC, KeyAlgorithm::kEcdh, Curve::kP521, true},
}};

bool is_generic_ecc_magic(ULONG magic) {
  return magic == BCRYPT_ECDSA_PUBLIC_GENERIC_MAGIC ||
         magic == BCRYPT_ECDSA_PRIVATE_GENERIC_MAGIC || magic == BCRYPT_ECDH_PUBLIC_GENERIC_MAGIC ||
         magic == BCRYPT_ECDH_PRIVATE_GENERIC_MAGIC;
}

// Takes the next `len` bytes of the blob body.
class Reader {
 public:
  Reader(ByteView data, std::size_t offset) : data_(data), offset_(offset) {}
  ByteView take(std::size_t len) {
    ByteView out = data_.subspan(offset_, len);  // sizes were checked against the total
    offset_ += len;
    return out;
  }

 private:
  ByteView data_;
  std::size_t offset_;
};

ParsedKey parse_rsa(ByteView data, ULONG magic) {
  require(data.size() >= kRsaHeaderSize, NTE_BAD_DATA, "RSA blob shorter than its header");
  const ULONG bit_length = read_u32(data, 4);
  const std::uint64_t cb_exp = read_u32(data, 8);
  const std::uint64_t cb_mod = read_u32(data, 12);
  const std::uint64_t cb_p = read_u32(data, 16);
  const std::uint64_t cb_q = read_u32(data, 20);
  const bool is_private = magic != BCRYPT_RSAPUBLIC_MAGIC;
  const bool is_full = magic == BCRYPT_RSAFULLPRIVATE_MAGIC;
  require(cb_exp > 0 && cb_mod > 0, NTE_BAD_DATA, "RSA blob without exponent or modulus");
  require(!is_private || (cb_p > 0 && cb_q > 0), NTE_BAD_DATA, "RSA private blob without primes");
  std::uint64_t expected = kRsaHeaderSize + cb_exp + cb_mod;
  if (is_private) {
    expected += cb_p + cb_q;
  }
  if (is_full) {
    expected += cb_p + cb_q + cb_p + cb_mod;  // dP, dQ, qInv, d
  }
  require(data.size() == expected, NTE_BAD_DATA, "RSA blob size disagrees with its header");

  Reader r(data, kRsaHeaderSize);
  RsaParts parts;
  parts.e = bn_from(r.take(cb_exp));
  parts.n = bn_from(r.take(cb_mod));
  const auto n_bits = static_cast<DWORD>(BN_num_bits(parts.n.get()));
  require(n_bits <= bit_length && bit_length <= cb_mod * 8, NTE_BAD_DATA,
          "RSA BitLength disagrees with the modulus");
  require(n_bits >= kMinRsaBits && n_bits <= kMaxRsaBits, NTE_NOT_SUPPORTED,
          "RSA modulus size not supported");
  if (is_private) {
    parts.p = secret_bn_from(r.take(cb_p));
    parts.q = secret_bn_from(r.take(cb_q));
  }
  if (is_full) {
    parts.dp = secret_bn_from(r.take(cb_p));
    parts.dq = secret_bn_from(r.take(cb_q));
    parts.qinv = secret_bn_from(r.take(cb_p));
    parts.d = secret_bn_from(r.take(cb_mod));
  } else if (is_private) {
    complete_rsa_crt(parts);
  }
  return {rsa_from_parts(parts), KeyAlgorithm::kRsa, Curve::kNone, is_private};
}

ParsedKey parse_ecc(ByteView data, const EccMagic& m) {
  require(data.size() >= kEccHeaderSize, NTE_BAD_DATA, "ECC blob shorter than its header");
  const std::size_t cb_key = read_u32(data, 4);
  const std::size_t n = field_bytes(m.curve);
  require(cb_key == n, NTE_BAD_DATA, "ECC blob cbKey does not match the curve");
  require(data.size() == kEccHeaderSize + (m.is_private ? 3 : 2) * n, NTE_BAD_DATA,
          "ECC blob size disagrees with its header");
  Reader r(data, kEccHeaderSize);
  const ByteView x = r.take(n);
  const ByteView y = r.take(n);
  const ByteView d = m.is_private ? r.take(n) : ByteView{};
  return {ec_from_parts(m.curve, x, y, d), m.algorithm, m.curve, m.is_private};
}

}  // namespace

bool is_bcrypt_blob_type(std::u16string_view blob_type) noexcept {
  return std::any_of(kBlobTypes.begin(), kBlobTypes.end(),
                     [&](const BlobTypeName& t) { return u16_iequals(t.name, blob_type); });
}

ParsedKey parse_bcrypt_blob(std::u16string_view blob_type, ByteView data) {
  const auto* type = std::find_if(kBlobTypes.begin(), kBlobTypes.end(), [&](const BlobTypeName& t) {
    return u16_iequals(t.name, blob_type);
  });
  require(type != kBlobTypes.end(), NTE_BAD_TYPE, "unknown key blob type");
  require(data.size() >= sizeof(ULONG), NTE_BAD_DATA, "key blob shorter than its magic");
  const ULONG magic = read_u32(data, 0);
  const BlobKind kind = type->kind;

  const bool rsa_kind = kind == BlobKind::kRsaPublic || kind == BlobKind::kRsaPrivate ||
                        kind == BlobKind::kRsaFull || kind == BlobKind::kAnyPublic ||
                        kind == BlobKind::kAnyPrivate;
  if (rsa_kind) {
    const bool ok = (magic == BCRYPT_RSAPUBLIC_MAGIC &&
                     (kind == BlobKind::kRsaPublic || kind == BlobKind::kAnyPublic)) ||
                    (magic == BCRYPT_RSAPRIVATE_MAGIC &&
                     (kind == BlobKind::kRsaPrivate || kind == BlobKind::kAnyPrivate)) ||
                    (magic == BCRYPT_RSAFULLPRIVATE_MAGIC &&
                     (kind == BlobKind::kRsaFull || kind == BlobKind::kAnyPrivate));
    if (ok) {
      return parse_rsa(data, magic);
    }
  }
  const bool ecc_kind = kind == BlobKind::kEccPublic || kind == BlobKind::kEccPrivate ||
                        kind == BlobKind::kAnyPublic || kind == BlobKind::kAnyPrivate;
  if (ecc_kind) {
    require(!is_generic_ecc_magic(magic), NTE_NOT_SUPPORTED,
            "generic-curve ECC blobs are not supported");
    const bool want_private = kind == BlobKind::kEccPrivate || kind == BlobKind::kAnyPrivate;
    for (const auto& m : kEccMagics) {
      if (m.magic == magic && m.is_private == want_private) {
        return parse_ecc(data, m);
      }
    }
  }
  fail(NTE_INVALID_PARAMETER, "key blob magic does not match the blob type");
}

Bytes rsa_public_blob(const EVP_PKEY* key) {
  const RsaParts parts = rsa_parts_of(key);
  const auto cb_exp = static_cast<std::size_t>(BN_num_bytes(parts.e.get()));
  const auto cb_mod = static_cast<std::size_t>(BN_num_bytes(parts.n.get()));
  Bytes out(kRsaHeaderSize + cb_exp + cb_mod);
  write_u32(out, 0, BCRYPT_RSAPUBLIC_MAGIC);
  write_u32(out, 4, static_cast<ULONG>(BN_num_bits(parts.n.get())));
  write_u32(out, 8, to_ulong(cb_exp));
  write_u32(out, 12, to_ulong(cb_mod));
  // cbPrime1 = cbPrime2 = 0 in a public blob.
  std::span<std::uint8_t> body(out);
  bn_write(parts.e.get(), body.subspan(kRsaHeaderSize, cb_exp));
  bn_write(parts.n.get(), body.subspan(kRsaHeaderSize + cb_exp, cb_mod));
  return out;
}

SecureBytes rsa_private_blob(const EVP_PKEY* key, bool full) {
  const RsaParts parts = rsa_parts_of(key);
  require(parts.d != nullptr && parts.p != nullptr && parts.q != nullptr, NTE_BAD_TYPE,
          "no private RSA key to export");
  const auto cb_exp = static_cast<std::size_t>(BN_num_bytes(parts.e.get()));
  const auto cb_mod = static_cast<std::size_t>(BN_num_bytes(parts.n.get()));
  const auto cb_p = static_cast<std::size_t>(BN_num_bytes(parts.p.get()));
  const auto cb_q = static_cast<std::size_t>(BN_num_bytes(parts.q.get()));
  std::size_t size = kRsaHeaderSize + cb_exp + cb_mod + cb_p + cb_q;
  if (full) {
    size += cb_p + cb_q + cb_p + cb_mod;
  }
  SecureBytes out(size);
  write_u32(out, 0, full ? BCRYPT_RSAFULLPRIVATE_MAGIC : BCRYPT_RSAPRIVATE_MAGIC);
  write_u32(out, 4, static_cast<ULONG>(BN_num_bits(parts.n.get())));
  write_u32(out, 8, to_ulong(cb_exp));
  write_u32(out, 12, to_ulong(cb_mod));
  write_u32(out, 16, to_ulong(cb_p));
  write_u32(out, 20, to_ulong(cb_q));
  std::span<std::uint8_t> body(out);
  std::size_t at = kRsaHeaderSize;
  const auto put = [&](const BIGNUM* bn, std::size_t len) {
    bn_write(bn, body.subspan(at, len));
    at += len;
  };
  put(parts.e.get(), cb_exp);
  put(parts.n.get(), cb_mod);
  put(parts.p.get(), cb_p);
  put(parts.q.get(), cb_q);
  if (full) {
    put(parts.dp.get(), cb_p);
    put(parts.dq.get(), cb_q);
    put(parts.qinv.get(), cb_p);
    put(parts.d.get(), cb_mod);
  }
  return out;
}

ULONG ecc_magic(KeyAlgorithm algorithm, Curve curve, bool is_private) noexcept {
  for (const auto& m : kEccMagics) {
    if (m.algorithm == algorithm && m.curve == curve && m.is_private == is_private) {
      return m.magic;
    }
  }
  return 0;
}

Bytes ecc_public_blob(const EVP_PKEY* key, KeyAlgorithm algorithm, Curve curve) {
  const Bytes xy = ec_public_xy(key, curve);
  Bytes out(kEccHeaderSize + xy.size());
  write_u32(out, 0, ecc_magic(algorithm, curve, false));
  write_u32(out, 4, to_ulong(field_bytes(curve)));
  std::copy(xy.begin(), xy.end(), out.begin() + kEccHeaderSize);
  return out;
}

SecureBytes ecc_private_blob(const EVP_PKEY* key, KeyAlgorithm algorithm, Curve curve) {
  const ossl::SecretBnPtr d = get_bn(key, OSSL_PKEY_PARAM_PRIV_KEY);
  require(d != nullptr, NTE_BAD_TYPE, "no private EC key to export");
  const Bytes xy = ec_public_xy(key, curve);
  const std::size_t n = field_bytes(curve);
  SecureBytes out(kEccHeaderSize + 3 * n);
  write_u32(out, 0, ecc_magic(algorithm, curve, true));
  write_u32(out, 4, to_ulong(n));
  std::copy(xy.begin(), xy.end(), out.begin() + kEccHeaderSize);
  bn_write(d.get(), std::span(out).subspan(kEccHeaderSize + 2 * n, n));
  return out;
}

}  // namespace cng::soft
