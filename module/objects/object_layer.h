// The object layer of one slot: PKCS#11 objects over the slot's CNG keys and certificates.
// The ABI/session layer (module/abi, module/session) validates handles and session state and
// then calls these; this layer validates templates and attribute semantics. All throw P11Error.
#pragma once

#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "bridge/bytes.h"
#include "core/p11_error.h"
#include "mechanisms/key_view.h"
#include "slots/slot.h"

namespace p11 {

// What the object layer needs to know about the calling session.
struct SessionContext {
  CK_SESSION_HANDLE handle = CK_INVALID_HANDLE;
  bool read_write = false;  // CKF_RW_SESSION (token objects may be created/changed only RW)
  // The Security Officer is logged in to the slot (C_Login(CKU_SO); SO sessions are R/W): only
  // then may CKA_TRUSTED be set to TRUE.
  bool security_officer = false;
  // The scope has a PIN and the user is not logged in: CKA_PRIVATE objects are invisible
  // (C_FindObjects) and unusable (CKR_USER_NOT_LOGGED_IN), and none may be created.
  bool private_hidden = false;
  // The PIN of the user's C_Login(CKU_USER) while the user is logged in (else null): the
  // authorisation value of CKA_ALWAYS_AUTHENTICATE keys on slots whose device checks it.
  std::shared_ptr<const SecretBytes> user_pin = nullptr;
};

class ObjectLayer {
 public:
  static std::unique_ptr<ObjectLayer> create(slots::Slot& slot);
  ObjectLayer() = default;
  ObjectLayer(const ObjectLayer&) = delete;
  ObjectLayer& operator=(const ObjectLayer&) = delete;
  virtual ~ObjectLayer() = default;

  // Returns {public key handle, private key handle}.
  virtual std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE> generate_key_pair(
      const SessionContext& s, const CK_MECHANISM& mechanism,
      std::span<const CK_ATTRIBUTE> public_template,
      std::span<const CK_ATTRIBUTE> private_template) = 0;
  // C_GenerateKey: a secret key (CKM_AES_KEY_GEN, CKM_GENERIC_SECRET_KEY_GEN).
  virtual CK_OBJECT_HANDLE generate_key(const SessionContext& s, const CK_MECHANISM& mechanism,
                                        std::span<const CK_ATTRIBUTE> tmpl) = 0;
  virtual CK_OBJECT_HANDLE create_object(const SessionContext& s,
                                         std::span<const CK_ATTRIBUTE> tmpl) = 0;
  virtual CK_OBJECT_HANDLE copy_object(const SessionContext& s, CK_OBJECT_HANDLE object,
                                       std::span<const CK_ATTRIBUTE> tmpl) = 0;
  virtual void destroy_object(const SessionContext& s, CK_OBJECT_HANDLE object) = 0;
  virtual CK_ULONG object_size(const SessionContext& s, CK_OBJECT_HANDLE object) = 0;
  // The five-case algorithm of C_GetAttributeValue: fills what it can and returns CKR_OK,
  // CKR_ATTRIBUTE_SENSITIVE, CKR_ATTRIBUTE_TYPE_INVALID or CKR_BUFFER_TOO_SMALL.
  virtual CK_RV get_attribute_value(const SessionContext& s, CK_OBJECT_HANDLE object,
                                    std::span<CK_ATTRIBUTE> tmpl) = 0;
  virtual void set_attribute_value(const SessionContext& s, CK_OBJECT_HANDLE object,
                                   std::span<const CK_ATTRIBUTE> tmpl) = 0;
  // All objects visible to the session matching the template (unknown classes/attributes
  // match nothing, never an error).
  virtual std::vector<CK_OBJECT_HANDLE> find(const SessionContext& s,
                                             std::span<const CK_ATTRIBUTE> tmpl) = 0;
  // For C_*Init: the key behind an object handle (CKR_KEY_HANDLE_INVALID when not a key).
  virtual KeyView key_view(const SessionContext& s, CK_OBJECT_HANDLE key) = 0;
  // C_DeriveKey (CKM_ECDH1_DERIVE): creates the derived secret key object.
  virtual CK_OBJECT_HANDLE derive_key(const SessionContext& s, const CK_MECHANISM& mechanism,
                                      CK_OBJECT_HANDLE base_key,
                                      std::span<const CK_ATTRIBUTE> tmpl) = 0;
  // C_WrapKey (CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_PAD, CKM_AES_KEY_WRAP_KWP): key wrapped
  // under wrapping_key inside NCrypt (layer_wrap.cpp); the module never holds the plaintext.
  virtual Bytes wrap_key(const SessionContext& s, const CK_MECHANISM& mechanism,
                         CK_OBJECT_HANDLE wrapping_key, CK_OBJECT_HANDLE key) = 0;
  // C_UnwrapKey: a new secret key, or a private key (with its public object), from wrapped.
  virtual CK_OBJECT_HANDLE unwrap_key(const SessionContext& s, const CK_MECHANISM& mechanism,
                                      CK_OBJECT_HANDLE unwrapping_key,
                                      std::span<const std::uint8_t> wrapped,
                                      std::span<const CK_ATTRIBUTE> tmpl) = 0;
  // C_DigestKey: the value of a secret key whose CNG Export Policy lets it out in the clear;
  // CKR_KEY_INDIGESTIBLE for other keys, CKR_KEY_HANDLE_INVALID for non-keys.
  virtual SecretBytes digestible_value(const SessionContext& s, CK_OBJECT_HANDLE key) = 0;
  // Drops the session's session objects (ephemeral keys vanish with them).
  virtual void close_session(CK_SESSION_HANDLE session) = 0;
};

}  // namespace p11
