// SoftwareKey construction, public blob and private export (operations: software_key_ops.cpp).
#include "providers/software/software_key.h"

#include "bcrypt.h"
#include "core/cng_error.h"
#include "core/u16.h"
#include "providers/software/algorithm_util.h"
#include "providers/software/bcrypt_blobs.h"
#include "providers/software/evp_build.h"

namespace cng::soft {

std::shared_ptr<SoftwareKey> SoftwareKey::make(ossl::PkeyPtr key, KeyAlgorithm algorithm,
                                               bool has_private) {
  require(key != nullptr, NTE_INTERNAL_ERROR, "no key");
  Curve curve = Curve::kNone;
  const int type = EVP_PKEY_get_base_id(key.get());
  if (algorithm == KeyAlgorithm::kRsa) {
    require(type == EVP_PKEY_RSA, NTE_NOT_SUPPORTED, "not an RSA key");
    const int bits = EVP_PKEY_get_bits(key.get());
    require(bits >= 512 && bits <= 16384, NTE_NOT_SUPPORTED, "RSA modulus size not supported");
  } else {
    require(type == EVP_PKEY_EC, NTE_NOT_SUPPORTED, "not an EC key");
    curve = ec_curve_of(key.get());
    require(curve != Curve::kNone, NTE_NOT_SUPPORTED, "EC curve not supported");
  }
  return std::make_shared<SoftwareKey>(std::move(key), algorithm, curve, has_private);
}

SoftwareKey::SoftwareKey(ossl::PkeyPtr key, KeyAlgorithm algorithm, Curve curve, bool has_private)
    : key_(std::move(key)),
      algorithm_(algorithm),
      curve_(curve),
      has_private_(has_private),
      pool_(key_.get()) {
  max_der_signature_ = static_cast<std::size_t>(EVP_PKEY_get_size(key_.get()));
  if (algorithm_ == KeyAlgorithm::kRsa) {
    bits_ = static_cast<DWORD>(EVP_PKEY_get_bits(key_.get()));
    signature_size_ = (bits_ + 7) / 8;
    public_blob_ = rsa_public_blob(key_.get());
  } else {
    bits_ = curve_bits(curve_);
    signature_size_ = static_cast<DWORD>(2 * field_bytes(curve_));
    public_blob_ = ecc_public_blob(key_.get(), algorithm_, curve_);
  }
}

void SoftwareKey::require_private(const char* operation) const {
  // A public-only key (imported from a public blob) has nothing to sign, decrypt or agree with.
  require(has_private_, NTE_BAD_KEY, operation);
}

SecureBytes SoftwareKey::export_private(std::u16string_view blob_type) const {
  const bool rsa = algorithm_ == KeyAlgorithm::kRsa;
  const auto is = [&](std::u16string_view name) { return u16_iequals(blob_type, name); };
  const auto as_secure = [](const Bytes& b) { return SecureBytes(b.begin(), b.end()); };

  // Public forms are accepted here too, so one call serves every NCryptExportKey blob type.
  if (is(BCRYPT_PUBLIC_KEY_BLOB) || (rsa && is(BCRYPT_RSAPUBLIC_BLOB)) ||
      (!rsa && is(BCRYPT_ECCPUBLIC_BLOB))) {
    return as_secure(public_blob_);
  }
  require(has_private_, NTE_BAD_TYPE, "a public key has no private blob");
  if (is(NCRYPT_PKCS8_PRIVATE_KEY_BLOB)) {
    return encode_pkcs8(key_.get());
  }
  if (rsa && (is(BCRYPT_RSAPRIVATE_BLOB) || is(BCRYPT_PRIVATE_KEY_BLOB))) {
    return rsa_private_blob(key_.get(), false);
  }
  if (rsa && is(BCRYPT_RSAFULLPRIVATE_BLOB)) {
    return rsa_private_blob(key_.get(), true);
  }
  if (!rsa && (is(BCRYPT_ECCPRIVATE_BLOB) || is(BCRYPT_PRIVATE_KEY_BLOB))) {
    return ecc_private_blob(key_.get(), algorithm_, curve_);
  }
  fail(NTE_BAD_TYPE, "the key cannot be exported in blob type " + to_utf8(blob_type));
}

}  // namespace cng::soft
