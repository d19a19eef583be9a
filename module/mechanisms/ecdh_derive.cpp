// CKM_ECDH1_DERIVE: the peer's point is imported into the key's own provider as a
// BCRYPT_ECCPUBLIC_BLOB, NCryptSecretAgreement agrees, NCryptDeriveKey("TRUNCATE") hands out
// the raw secret (little-endian, as CNG does), and the X9.63 KDF, when asked for, runs here.
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include "bridge/key_blobs.h"
#include "bridge/status_map.h"
#include "mechanisms/ncrypt_private_ops.h"
#include "mechanisms/registry.h"
#include "mechanisms/secret_bytes.h"

namespace p11 {

namespace mech {

namespace {

// Derived values above this are refused (CKA_VALUE_LEN nonsense must not allocate gigabytes).
constexpr CK_ULONG kMaxDerivedLength = CK_ULONG{1} << 20;

struct Curve {
  CK_ULONG bits;
  const char* ossl_group;
  ULONG ecdh_public_magic;
};

constexpr std::array<Curve, 3> kCurves = {{
    {256, "P-256", BCRYPT_ECDH_PUBLIC_P256_MAGIC},
    {384, "P-384", BCRYPT_ECDH_PUBLIC_P384_MAGIC},
    {521, "P-521", BCRYPT_ECDH_PUBLIC_P521_MAGIC},
}};

const Curve& curve_of(const KeyView& key) {
  for (const auto& curve : kCurves) {
    if (curve.bits == key.bits) {
      return curve;
    }
  }
  fail(CKR_KEY_SIZE_RANGE, "unsupported curve");
}

class NcryptObject {
 public:
  NcryptObject() = default;
  NcryptObject(const NcryptObject&) = delete;
  NcryptObject& operator=(const NcryptObject&) = delete;
  ~NcryptObject() {
    if (handle_ != 0) {
      NCryptFreeObject(handle_);
    }
  }
  NCRYPT_HANDLE* out() noexcept { return &handle_; }
  [[nodiscard]] NCRYPT_HANDLE get() const noexcept { return handle_; }

 private:
  NCRYPT_HANDLE handle_ = 0;
};

struct EcdhParams {
  const HashSpec* kdf_hash = nullptr;  // nullptr: CKD_NULL
  std::span<const std::uint8_t> shared_info;
  std::span<const std::uint8_t> peer_point;
};

EcdhParams decode_ecdh_params(const CK_MECHANISM& mechanism) {
  if (mechanism.pParameter == nullptr ||
      mechanism.ulParameterLen != sizeof(CK_ECDH1_DERIVE_PARAMS)) {
    fail(CKR_MECHANISM_PARAM_INVALID, "CK_ECDH1_DERIVE_PARAMS required");
  }
  CK_ECDH1_DERIVE_PARAMS raw{};
  std::memcpy(&raw, mechanism.pParameter, sizeof(raw));
  EcdhParams params;
  if (raw.kdf == CKD_NULL) {
    // PKCS#11: with CKD_NULL there is no shared data.
    if (raw.pSharedData != nullptr || raw.ulSharedDataLen != 0) {
      fail(CKR_MECHANISM_PARAM_INVALID, "CKD_NULL takes no shared data");
    }
  } else {
    params.kdf_hash = hash_by_kdf(raw.kdf);
    if (params.kdf_hash == nullptr) {
      fail(CKR_MECHANISM_PARAM_INVALID, "unsupported KDF");
    }
    if (raw.ulSharedDataLen != 0) {
      if (raw.pSharedData == nullptr) {
        fail(CKR_MECHANISM_PARAM_INVALID, "shared data length without data");
      }
      params.shared_info = {raw.pSharedData, raw.ulSharedDataLen};
    }
  }
  if (raw.pPublicData == nullptr || raw.ulPublicDataLen == 0) {
    fail(CKR_MECHANISM_PARAM_INVALID, "no peer public key");
  }
  params.peer_point = {raw.pPublicData, raw.ulPublicDataLen};
  return params;
}

// The uncompressed point 04||X||Y, given raw or wrapped in a DER OCTET STRING (pkcs11-tool
// and kryoptic send the CKA_EC_POINT form). The two cannot be confused: their lengths differ.
std::span<const std::uint8_t> uncompressed_point(std::span<const std::uint8_t> data,
                                                 std::size_t field_bytes) {
  const std::size_t point_len = 1 + 2 * field_bytes;
  if (data.size() == point_len && data[0] == 0x04) {
    return data;
  }
  // OCTET STRING: tag 0x04, short length (< 128) or 0x81 nn.
  std::size_t header = 0;
  if (data.size() >= 2 && data[0] == 0x04 && data[1] == point_len && point_len < 0x80) {
    header = 2;
  } else if (data.size() >= 3 && data[0] == 0x04 && data[1] == 0x81 && data[2] == point_len) {
    header = 3;
  }
  if (header != 0 && data.size() == header + point_len && data[header] == 0x04) {
    return data.subspan(header);
  }
  fail(CKR_MECHANISM_PARAM_INVALID, "peer public key must be an uncompressed point on the curve");
}

// Refuses points that are not on the key's curve (invalid-curve attacks), whatever the
// provider checks.
void check_on_curve(const Curve& curve, std::span<const std::uint8_t> point) {
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.ossl_group, 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    ossl_fail(CKR_HOST_MEMORY, "OSSL_PARAM_BLD");
  }
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, bridge::provider_key_type("EC"), nullptr));
  EVP_PKEY* raw_key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw_key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ossl_fail(CKR_MECHANISM_PARAM_INVALID, "peer public key is not a point on the curve");
  }
  PkeyPtr key(raw_key);
  PkeyCtxPtr check_ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check_ctx || EVP_PKEY_public_check(check_ctx.get()) != 1) {
    ossl_fail(CKR_MECHANISM_PARAM_INVALID, "peer public key is not a valid point on the curve");
  }
}

std::vector<std::uint8_t> ecc_public_blob(const Curve& curve, std::size_t field_bytes,
                                          std::span<const std::uint8_t> point) {
  BCRYPT_ECCKEY_BLOB header{curve.ecdh_public_magic, static_cast<ULONG>(field_bytes)};
  std::vector<std::uint8_t> blob(sizeof(header) + 2 * field_bytes);
  std::memcpy(blob.data(), &header, sizeof(header));
  std::copy(point.begin() + 1, point.end(), blob.begin() + sizeof(header));  // X || Y
  return blob;
}

// NCryptSecretAgreement, under the user's login PIN for a CKA_ALWAYS_AUTHENTICATE key.
// PKCS#11 3.0 §4.9 (Table 4.9, CKA_ALWAYS_AUTHENTICATE) asks for the PIN at each "use (sign or
// decrypt)" through C_Login(CKU_CONTEXT_SPECIFIC), which §5.5 allows only between an
// operation's initialisation and its completion: C_DeriveKey has no initialisation, so no
// context login can precede it and the attribute does not gate a derive. The CNG key still
// needs its PIN for the agreement (a UI-protected key: NTE_SILENT_CONTEXT without one, as on
// Windows), so the module gives it the user's C_Login PIN (the scope PIN, or consent; on the
// TPM slots the key's authValue): a derive needs the user logged in (CKR_USER_NOT_LOGGED_IN)
// and is authorised by that login each time.
SECURITY_STATUS secret_agreement(const KeyView& key, NCRYPT_KEY_HANDLE peer,
                                 NCRYPT_SECRET_HANDLE* secret, const SecretBytes* user_pin) {
  if (!key.always_authenticate) {
    return NCryptSecretAgreement(key.ncrypt_key, peer, secret, 0);
  }
  require(user_pin != nullptr, CKR_USER_NOT_LOGGED_IN,
          "a CKA_ALWAYS_AUTHENTICATE key derives under the user's login");
  ContextAuth auth(key.ncrypt_key, key.handle_lock);
  auth.give(*user_pin);
  SECURITY_STATUS status = ERROR_SUCCESS;
  auth.run([&] { status = NCryptSecretAgreement(key.ncrypt_key, peer, secret, 0); });
  return status;
}

// NCrypt: import the peer, agree, read the raw secret; returns it big-endian.
SecretBytes agree(const KeyView& key, std::span<const std::uint8_t> peer_blob,
                  const SecretBytes* user_pin) {
  require(key.ncrypt_key != 0 && key.ncrypt_provider != 0, CKR_KEY_HANDLE_INVALID,
          "private key has no CNG key");
  NcryptObject peer;
  SECURITY_STATUS status =
      NCryptImportKey(key.ncrypt_provider, 0, BCRYPT_ECCPUBLIC_BLOB, nullptr, peer.out(),
                      const_cast<PBYTE>(peer_blob.data()), static_cast<DWORD>(peer_blob.size()), 0);
  if (status == NTE_BAD_DATA || status == NTE_INVALID_PARAMETER || status == NTE_BAD_PUBLIC_KEY ||
      status == NTE_BAD_TYPE || status == NTE_BAD_KEY) {
    fail(CKR_MECHANISM_PARAM_INVALID, "the provider refused the peer public key");
  }
  check_status(status, NcryptContext::kDerive, "NCryptImportKey(peer)");
  NcryptObject secret;
  status = secret_agreement(key, peer.get(), secret.out(), user_pin);
  if (status == NTE_NOT_SUPPORTED || status == NTE_BAD_ALGID) {
    // An "ECDSA_P*" CNG key cannot agree (only "ECDH_P*" keys can).
    fail(CKR_KEY_FUNCTION_NOT_PERMITTED, "this CNG key cannot do secret agreement");
  }
  check_status(status, NcryptContext::kDerive, "NCryptSecretAgreement");
  DWORD size = 0;
  status = NCryptDeriveKey(secret.get(), BCRYPT_KDF_RAW_SECRET, nullptr, nullptr, 0, &size, 0);
  check_status(status, NcryptContext::kDerive, "NCryptDeriveKey(size)");
  SecretBytes raw(size);
  status =
      NCryptDeriveKey(secret.get(), BCRYPT_KDF_RAW_SECRET, nullptr, raw.data(), size, &size, 0);
  check_status(status, NcryptContext::kDerive, "NCryptDeriveKey");
  raw.resize(size);
  std::reverse(raw.begin(), raw.end());  // CNG's TRUNCATE output is little-endian
  return raw;
}

// ANSI X9.63 KDF (SEC 1 §3.6.1): K = H(Z || 00000001 || SharedInfo) || H(Z || 00000002 || …).
std::vector<std::uint8_t> x963_kdf(const HashSpec& hash, const SecretBytes& z,
                                   std::span<const std::uint8_t> shared_info, std::size_t length) {
  std::vector<std::uint8_t> out;
  out.reserve(length + hash.size);
  std::array<std::uint8_t, kMaxDigestSize> block{};
  for (std::uint32_t counter = 1; out.size() < length; ++counter) {
    const std::array<std::uint8_t, 4> counter_be = {
        static_cast<std::uint8_t>(counter >> 24), static_cast<std::uint8_t>(counter >> 16),
        static_cast<std::uint8_t>(counter >> 8), static_cast<std::uint8_t>(counter)};
    Hasher hasher(hash.alg);
    hasher.update(z);
    hasher.update(counter_be);
    hasher.update(shared_info);
    hasher.final(block);
    out.insert(out.end(), block.begin(), block.begin() + static_cast<std::ptrdiff_t>(hash.size));
  }
  OPENSSL_cleanse(block.data(), block.size());
  OPENSSL_cleanse(out.data() + length, out.size() - length);
  out.resize(length);
  return out;
}

}  // namespace

}  // namespace mech

std::vector<std::uint8_t> ecdh_derive(const CK_MECHANISM& mechanism, const KeyView& key,
                                      CK_ULONG value_len, const slots::Capabilities& caps,
                                      const SecretBytes* user_pin) {
  const mech::MechanismSpec& spec = mech::offered_mechanism(mechanism.mechanism, CKF_DERIVE, caps);
  require(spec.family == mech::Family::kEcdh, CKR_MECHANISM_INVALID, "not an ECDH mechanism");
  mech::check_key_use(spec, key, CKO_PRIVATE_KEY, key.can_derive);
  const mech::EcdhParams params = mech::decode_ecdh_params(mechanism);
  mech::check_key_size(spec, key, caps);

  const mech::Curve& curve = mech::curve_of(key);
  const std::size_t field_bytes = (curve.bits + 7) / 8;
  if (value_len > mech::kMaxDerivedLength ||
      (params.kdf_hash == nullptr && value_len > field_bytes)) {
    fail(CKR_TEMPLATE_INCONSISTENT, "derived key length out of range");
  }
  const auto point = mech::uncompressed_point(params.peer_point, field_bytes);
  mech::check_on_curve(curve, point);
  const mech::SecretBytes z =
      mech::agree(key, mech::ecc_public_blob(curve, field_bytes, point), user_pin);
  require(z.size() == field_bytes, CKR_FUNCTION_FAILED, "agreed secret has the wrong size");

  if (params.kdf_hash == nullptr) {
    const std::size_t length = value_len == 0 ? field_bytes : value_len;
    return {z.begin(), z.begin() + static_cast<std::ptrdiff_t>(length)};
  }
  const std::size_t length = value_len == 0 ? params.kdf_hash->size : value_len;
  return mech::x963_kdf(*params.kdf_hash, z, params.shared_info, length);
}

}  // namespace p11
