// The key-wrap mechanisms as NCrypt does them (cng_model ncrypt.h, "Key wrapping" and
// "RSA-encrypted key blobs"): one row per mechanism naming its blob type and the
// key-encryption key it takes, and the NCrypt parameter list a call's mechanism parameter
// makes. layer_wrap.cpp reads only these.
//   CKM_AES_KEY_WRAP      ⇄ BCRYPT_AES_WRAP_KEY_BLOB (RFC 3394)
//   CKM_AES_KEY_WRAP_PAD  ⇄ NCRYPT_AES_WRAP_PKCS7_KEY_BLOB (v2.40: RFC 3394 over PKCS#7)
//   CKM_AES_KEY_WRAP_KWP  ⇄ NCRYPT_AES_WRAP_PAD_KEY_BLOB (RFC 5649)
//   CKM_RSA_PKCS          ⇄ NCRYPT_RSA_WRAP_KEY_BLOB, NCRYPT_PAD_PKCS1_FLAG
//   CKM_RSA_PKCS_OAEP     ⇄ NCRYPT_RSA_WRAP_KEY_BLOB, NCRYPT_PAD_OAEP_FLAG + hash and label
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "bridge/bytes.h"
#include "mechanisms/key_view.h"
#include "mechanisms/registry.h"
#include "objects/object.h"

namespace p11::objects {

struct WrapMechanism {
  CK_MECHANISM_TYPE type;
  const char16_t* blob_type;
  CK_KEY_TYPE kek_type;              // CKK_AES or CKK_RSA
  CK_OBJECT_CLASS wrapping_class;    // C_WrapKey's wrapping key
  CK_OBJECT_CLASS unwrapping_class;  // C_UnwrapKey's unwrapping key
  DWORD rsa_padding;                 // NCRYPT_PAD_PKCS1_FLAG / NCRYPT_PAD_OAEP_FLAG; AES 0
  std::span<const std::uint8_t> iv;  // AES: the default IV, the only one CNG knows
  std::size_t min_wrapped;           // AES: the shortest wrapping (a multiple of 8 bytes)
  bool wraps_private_keys;           // AES: PKCS#8 too; PKCS#11 defines RSA wrapping of
                                     // secret keys only
  // RSA: the mechanism parameter's decoder (none for CKM_RSA_PKCS, whose parameter is ignored).
  mech::ParamDecoder decode;
};

// nullptr when the mechanism wraps no keys.
const WrapMechanism* find_wrap_mechanism(CK_MECHANISM_TYPE type) noexcept;

// One C_WrapKey / C_UnwrapKey call's mechanism: its parameter checked (else
// CKR_MECHANISM_PARAM_INVALID) and the NCrypt parameter buffers it makes (RSA: the padding;
// AES: none). Owns their storage, which the buffers point into: neither copied nor moved.
class WrapCall {
 public:
  WrapCall(const mech::MechanismSpec& spec, const WrapMechanism& row,
           const CK_MECHANISM& mechanism);
  WrapCall(const WrapCall&) = delete;
  WrapCall& operator=(const WrapCall&) = delete;

  [[nodiscard]] const WrapMechanism& row() const noexcept { return row_; }
  // The buffers, for NCryptImportKey's list beside the key name and algorithm.
  [[nodiscard]] std::span<const NCryptBuffer> buffers() const noexcept {
    return {buffers_.data(), count_};
  }
  // NCryptExportKey's pParameterList: nullptr without buffers.
  [[nodiscard]] NCryptBufferDesc* export_parameters() noexcept {
    return count_ != 0 ? &desc_ : nullptr;
  }
  // RSA: whether a key of key_bytes fits the padding in the wrapping key's modulus.
  [[nodiscard]] bool key_fits(std::size_t key_bytes, const KeyView& kek) const noexcept;
  // Whether wrapped can be a wrapping by this mechanism under kek (AES: the length and
  // granularity of the key-wrap; RSA: the modulus length).
  [[nodiscard]] bool wrapped_length_ok(std::size_t wrapped, const KeyView& kek) const noexcept;

 private:
  const WrapMechanism& row_;
  DWORD padding_ = 0;
  mech::HashAlg hash_ = mech::HashAlg::kNone;
  std::u16string hash_id_;
  Bytes label_;
  std::array<NCryptBuffer, 3> buffers_{};
  ULONG count_ = 0;
  NCryptBufferDesc desc_{NCRYPTBUFFER_VERSION, 0, nullptr};
};

// An NCrypt handle of an RSA public key object for NCryptExportKey's hExportKey: the object's
// own CNG key (a pair's, or a token public-only key), or, for a session public key that has
// none, an ephemeral public key imported from its CKA_MODULUS and CKA_PUBLIC_EXPONENT and
// freed with this.
class PublicKeyHandle {
 public:
  PublicKeyHandle(NCRYPT_PROV_HANDLE provider, const Object& public_key);
  PublicKeyHandle(const PublicKeyHandle&) = delete;
  PublicKeyHandle& operator=(const PublicKeyHandle&) = delete;
  ~PublicKeyHandle();
  [[nodiscard]] NCRYPT_KEY_HANDLE get() const noexcept;

 private:
  std::shared_ptr<CngKey> shared_;
  NCRYPT_KEY_HANDLE own_ = 0;
};

}  // namespace p11::objects
