#include "public_key_export.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <array>
#include <cstdio>
#include <optional>
#include <string_view>

#include "bcrypt.h"

namespace cngkey {
namespace {

using cng::ossl::BioPtr;
using cng::ossl::BnPtr;
using cng::ossl::ParamBldPtr;
using cng::ossl::ParamsPtr;
using cng::ossl::PkeyCtxPtr;

constexpr std::size_t kRsaHeaderSize = 6 * sizeof(ULONG);  // BCRYPT_RSAKEY_BLOB
constexpr std::size_t kEccHeaderSize = 2 * sizeof(ULONG);  // BCRYPT_ECCKEY_BLOB

// Blob headers are little-endian ULONGs whatever the host order.
ULONG read_le32(std::span<const std::uint8_t> blob, std::size_t offset) {
  return static_cast<ULONG>(blob[offset]) | static_cast<ULONG>(blob[offset + 1]) << 8 |
         static_cast<ULONG>(blob[offset + 2]) << 16 | static_cast<ULONG>(blob[offset + 3]) << 24;
}

struct CurveInfo {
  std::string_view nist_name;
  const char* openssl_name;
  ULONG coordinate_size;
};

std::optional<CurveInfo> curve_for_magic(ULONG magic) {
  switch (magic) {
    case BCRYPT_ECDSA_PUBLIC_P256_MAGIC:
    case BCRYPT_ECDH_PUBLIC_P256_MAGIC:
      return CurveInfo{"P-256", "prime256v1", 32};
    case BCRYPT_ECDSA_PUBLIC_P384_MAGIC:
    case BCRYPT_ECDH_PUBLIC_P384_MAGIC:
      return CurveInfo{"P-384", "secp384r1", 48};
    case BCRYPT_ECDSA_PUBLIC_P521_MAGIC:
    case BCRYPT_ECDH_PUBLIC_P521_MAGIC:
      return CurveInfo{"P-521", "secp521r1", 66};
    default:
      return std::nullopt;
  }
}

PkeyPtr key_from_params(const char* key_type, OSSL_PARAM_BLD* bld) {
  const ParamsPtr params(OSSL_PARAM_BLD_to_param(bld));
  const PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, key_type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    throw ConversionError("OpenSSL could not prepare a public key import");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    throw ConversionError("OpenSSL rejected the public key in the blob");
  }
  return PkeyPtr(raw);
}

PublicKey rsa_from_blob(std::span<const std::uint8_t> blob) {
  if (blob.size() < kRsaHeaderSize) {
    throw ConversionError("RSA public blob is shorter than its header");
  }
  const ULONG exponent_size = read_le32(blob, 8);
  const ULONG modulus_size = read_le32(blob, 12);
  if (exponent_size == 0 || modulus_size == 0 ||
      blob.size() != kRsaHeaderSize + std::size_t{exponent_size} + modulus_size) {
    throw ConversionError("RSA public blob sizes do not match its header");
  }
  const auto exponent = blob.subspan(kRsaHeaderSize, exponent_size);
  const auto modulus = blob.subspan(kRsaHeaderSize + exponent_size, modulus_size);
  const BnPtr e(BN_bin2bn(exponent.data(), static_cast<int>(exponent.size()), nullptr));
  const BnPtr n(BN_bin2bn(modulus.data(), static_cast<int>(modulus.size()), nullptr));
  const ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!e || !n || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    throw ConversionError("OpenSSL could not hold the RSA public key");
  }
  PublicKey result;
  result.key = key_from_params("RSA", bld.get());
  result.public_value.assign(modulus.begin(), modulus.end());
  result.description = "RSA " + std::to_string(BN_num_bits(n.get())) + " bits";
  return result;
}

PublicKey ec_from_blob(std::span<const std::uint8_t> blob, const CurveInfo& curve) {
  const ULONG coordinate_size = read_le32(blob, 4);
  if (coordinate_size != curve.coordinate_size ||
      blob.size() != kEccHeaderSize + 2 * std::size_t{coordinate_size}) {
    throw ConversionError("EC public blob sizes do not match its curve");
  }
  PublicKey result;
  result.public_value.reserve(1 + 2 * std::size_t{coordinate_size});
  result.public_value.push_back(0x04);  // uncompressed point: 04 || X || Y
  const auto xy = blob.subspan(kEccHeaderSize);
  result.public_value.insert(result.public_value.end(), xy.begin(), xy.end());

  const ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.openssl_name,
                                      0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                       result.public_value.data(),
                                       result.public_value.size()) != 1) {
    throw ConversionError("OpenSSL could not hold the EC public key");
  }
  result.key = key_from_params("EC", bld.get());
  result.description = "EC " + std::string(curve.nist_name) + " (" + curve.openssl_name + ")";
  return result;
}

}  // namespace

PublicKey public_key_from_blob(std::span<const std::uint8_t> blob) {
  if (blob.size() < sizeof(ULONG)) {
    throw ConversionError("public key blob is too short");
  }
  const ULONG magic = read_le32(blob, 0);
  if (magic == BCRYPT_RSAPUBLIC_MAGIC) {
    return rsa_from_blob(blob);
  }
  if (const auto curve = curve_for_magic(magic); curve && blob.size() >= kEccHeaderSize) {
    return ec_from_blob(blob, *curve);
  }
  std::array<char, 16> hex{};
  std::snprintf(hex.data(), hex.size(), "0x%08x", magic);
  throw ConversionError("unsupported public key blob (magic " + std::string(hex.data()) + ")");
}

std::vector<std::uint8_t> spki_der(const PublicKey& key) {
  const int size = i2d_PUBKEY(key.key.get(), nullptr);
  if (size <= 0) {
    throw ConversionError("OpenSSL could not encode the SubjectPublicKeyInfo");
  }
  std::vector<std::uint8_t> der(static_cast<std::size_t>(size));
  unsigned char* cursor = der.data();
  if (i2d_PUBKEY(key.key.get(), &cursor) != size) {
    throw ConversionError("OpenSSL could not encode the SubjectPublicKeyInfo");
  }
  return der;
}

std::string spki_pem(const PublicKey& key) {
  const BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key.key.get()) != 1) {
    throw ConversionError("OpenSSL could not write the PEM public key");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  if (size <= 0 || data == nullptr) {
    throw ConversionError("OpenSSL could not write the PEM public key");
  }
  return std::string(data, static_cast<std::size_t>(size));
}

std::vector<std::uint8_t> nss_key_id(const PublicKey& key) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  if (EVP_Digest(key.public_value.data(), key.public_value.size(), digest.data(), &digest_size,
                 EVP_sha1(), nullptr) != 1) {
    throw ConversionError("OpenSSL could not compute SHA-1");
  }
  return {digest.begin(), digest.begin() + digest_size};
}

}  // namespace cngkey
