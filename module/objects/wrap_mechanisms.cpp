#include "objects/wrap_mechanisms.h"

#include <algorithm>

#include "bridge/key_blobs.h"
#include "bridge/status_map.h"
#include "core/p11_error.h"

namespace p11::objects {

namespace {

constexpr std::array<std::uint8_t, 8> kRfc3394Iv = {0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6};
constexpr std::array<std::uint8_t, 4> kRfc5649Iv = {0xA6, 0x59, 0x59, 0xA6};
constexpr std::size_t kPkcs1Overhead = 11;  // RFC 8017 §7.2.1: 00 02 PS(>= 8) 00

constexpr std::array kWrapMechanisms = {
    WrapMechanism{CKM_AES_KEY_WRAP, BCRYPT_AES_WRAP_KEY_BLOB, CKK_AES, CKO_SECRET_KEY,
                  CKO_SECRET_KEY, 0, kRfc3394Iv, 24, true, nullptr},
    WrapMechanism{CKM_AES_KEY_WRAP_PAD, NCRYPT_AES_WRAP_PKCS7_KEY_BLOB, CKK_AES, CKO_SECRET_KEY,
                  CKO_SECRET_KEY, 0, kRfc3394Iv, 24, true, nullptr},
    WrapMechanism{CKM_AES_KEY_WRAP_KWP, NCRYPT_AES_WRAP_PAD_KEY_BLOB, CKK_AES, CKO_SECRET_KEY,
                  CKO_SECRET_KEY, 0, kRfc5649Iv, 16, true, nullptr},
    WrapMechanism{CKM_RSA_PKCS,
                  NCRYPT_RSA_WRAP_KEY_BLOB,
                  CKK_RSA,
                  CKO_PUBLIC_KEY,
                  CKO_PRIVATE_KEY,
                  NCRYPT_PAD_PKCS1_FLAG,
                  {},
                  0,
                  false,
                  nullptr},
    WrapMechanism{CKM_RSA_PKCS_OAEP,
                  NCRYPT_RSA_WRAP_KEY_BLOB,
                  CKK_RSA,
                  CKO_PUBLIC_KEY,
                  CKO_PRIVATE_KEY,
                  NCRYPT_PAD_OAEP_FLAG,
                  {},
                  0,
                  false,
                  mech::decode_oaep_wrap_params},
};

std::size_t modulus_bytes(const KeyView& kek) noexcept { return (kek.bits + 7) / 8; }

}  // namespace

const WrapMechanism* find_wrap_mechanism(CK_MECHANISM_TYPE type) noexcept {
  const auto* it = std::find_if(kWrapMechanisms.begin(), kWrapMechanisms.end(),
                                [type](const WrapMechanism& row) { return row.type == type; });
  return it != kWrapMechanisms.end() ? &*it : nullptr;
}

WrapCall::WrapCall(const mech::MechanismSpec& spec, const WrapMechanism& row,
                   const CK_MECHANISM& mechanism)
    : row_(row), padding_(row.rsa_padding) {
  if (row.kek_type == CKK_AES) {
    // None, or the mechanism's default IV: CNG knows only the defaults.
    if (mechanism.pParameter != nullptr || mechanism.ulParameterLen != 0) {
      const auto* given = static_cast<const std::uint8_t*>(mechanism.pParameter);
      if (given == nullptr || mechanism.ulParameterLen != row.iv.size() ||
          !std::equal(row.iv.begin(), row.iv.end(), given)) {
        fail(CKR_MECHANISM_PARAM_INVALID, "only the default key-wrap IV");
      }
    }
    return;
  }
  const auto add = [this](void* data, std::size_t size, ULONG type) {
    buffers_[count_++] = NCryptBuffer{static_cast<ULONG>(size), type, data};
  };
  add(&padding_, sizeof padding_, NCRYPTBUFFER_RSA_PADDING_FLAG);
  if (row.decode != nullptr) {
    mech::DecodedParams params;
    row.decode(spec, mechanism, params);
    hash_ = params.hash;
    hash_id_ = mech::model_hash_alg_id(hash_);
    label_.assign(params.label.begin(), params.label.end());
    add(hash_id_.data(), (hash_id_.size() + 1) * sizeof(char16_t), NCRYPTBUFFER_RSA_OAEP_HASH);
    if (!label_.empty()) {
      add(label_.data(), label_.size(), NCRYPTBUFFER_RSA_OAEP_LABEL);
    }
  }
  desc_.cBuffers = count_;
  desc_.pBuffers = buffers_.data();
}

bool WrapCall::key_fits(std::size_t key_bytes, const KeyView& kek) const noexcept {
  const std::size_t overhead =
      hash_ != mech::HashAlg::kNone ? 2 * mech::hash_spec(hash_).size + 2 : kPkcs1Overhead;
  return key_bytes + overhead <= modulus_bytes(kek);
}

bool WrapCall::wrapped_length_ok(std::size_t wrapped, const KeyView& kek) const noexcept {
  if (row_.kek_type == CKK_RSA) {
    return wrapped == modulus_bytes(kek);
  }
  return wrapped >= row_.min_wrapped && wrapped % 8 == 0;
}

PublicKeyHandle::PublicKeyHandle(NCRYPT_PROV_HANDLE provider, const Object& public_key)
    : shared_(public_key.key) {
  if (shared_) {
    return;
  }
  bridge::PublicKeyValues values;
  values.key_type = CKK_RSA;
  const auto n = public_key.attrs.find(CKA_MODULUS);
  const auto e = public_key.attrs.find(CKA_PUBLIC_EXPONENT);
  if (n == public_key.attrs.end() || e == public_key.attrs.end()) {
    fail(CKR_WRAPPING_KEY_TYPE_INCONSISTENT, "the wrapping key has no RSA public values");
  }
  values.modulus = bridge::strip_leading_zeros(n->second);
  values.public_exponent = bridge::strip_leading_zeros(e->second);
  Bytes blob = bridge::make_public_blob(values);
  check_status(NCryptImportKey(provider, 0, BCRYPT_RSAPUBLIC_BLOB, nullptr, &own_, blob.data(),
                               static_cast<DWORD>(blob.size()), 0),
               NcryptContext::kWrap, "NCryptImportKey");
}

PublicKeyHandle::~PublicKeyHandle() {
  if (own_ != 0) {
    NCryptFreeObject(own_);
  }
}

NCRYPT_KEY_HANDLE PublicKeyHandle::get() const noexcept {
  return shared_ ? shared_->handle() : own_;
}

}  // namespace p11::objects
