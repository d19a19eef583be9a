// Secret keys (CKO_SECRET_KEY) as CNG keys, DESIGN.md §3. A token secret key is a persisted
// named CNG key (NCryptCreatePersistedKey → NCryptSetProperty → NCryptFinalizeKey, or
// NCryptImportKey of an NCRYPT_CIPHER_KEY_BLOB), a session secret key an ephemeral one; the
// value never sits in the module's memory beyond the call that brings it in.
//   CKK_AES            ⇄ NCRYPT_AES_ALGORITHM (the Microsoft Software KSP keeps AES keys).
//   CKK_GENERIC_SECRET ⇄ NCRYPT_GENERIC_SECRET_ALGORITHM, the model's own algorithm: CNG has
//                        no generic-secret KSP key, and keeping one as a key of the KSP (not a
//                        file of ours) gives it the same store, export policy and key usage as
//                        every other key; `cngkey list` shows it under that algorithm name.
// CKA_EXTRACTABLE ⇄ NCRYPT_ALLOW_EXPORT_FLAG (may leave wrapped), !CKA_SENSITIVE ⇄
// NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG (may leave in the clear, e.g. CKA_VALUE); usage attributes
// ⇄ Key Usage bits (ENCRYPT/DECRYPT/WRAP/UNWRAP → DECRYPT, SIGN/VERIFY → SIGNING) and, like
// every attribute CNG has no home for, persisted custom properties.
//
// CKA_CHECK_VALUE (PKCS#11 3.0 §4.10): AES, the first three bytes of the encryption of a zero
// block (computed through NCryptEncrypt in ECB mode); generic secrets, the first three bytes of
// SHA-1 of the value. It is computed once when the key is made and persisted: from the value
// when the call brings one (through a throw-away ephemeral AES key for AES), else from the
// generated key itself (NCryptEncrypt, or the value where the Export Policy lets it out). A
// generated token key that allows neither (a sensitive generic secret, an AES key without
// any cipher usage) has none.
#pragma once

#include <memory>
#include <optional>

#include "objects/key_factory.h"

namespace p11::objects {

// The secret key types are descriptors of the key type registry (bridge/key_types/aes.cpp,
// generic_secret.cpp): CNG algorithm, generation mechanism, value lengths, check value rule.

// C_GenerateKey (CKM_AES_KEY_GEN, CKM_GENERIC_SECRET_KEY_GEN): tmpl parsed; token keys already
// checked against the session by the caller. Returns the object without a handle.
ObjectPtr generate_secret_key(const SlotContext& slot, const CK_MECHANISM& mechanism,
                              const AttrMap& tmpl, CK_SESSION_HANDLE owner);

// A secret key with a known value (C_CreateObject, C_DeriveKey, C_UnwrapKey): attrs is the
// validated template with defaults and the history attributes set; CKA_VALUE is ignored in it.
// The value's length must fit the key type (CKR_ATTRIBUTE_VALUE_INVALID otherwise).
ObjectPtr import_secret_key(const SlotContext& slot, CK_KEY_TYPE key_type, const AttrMap& attrs,
                            std::span<const std::uint8_t> value, CK_SESSION_HANDLE owner);

// C_UnwrapKey of a secret key: the value is unwrapped inside NCrypt into the new CNG key.
// attrs as for import_secret_key; CKA_VALUE_LEN, when given, must match the unwrapped length
// (CKR_TEMPLATE_INCONSISTENT); a length the key type cannot have is CKR_WRAPPED_KEY_INVALID.
ObjectPtr unwrap_secret_key(const SlotContext& slot, CK_KEY_TYPE key_type, const AttrMap& attrs,
                            const WrappedKey& wrapped, CK_SESSION_HANDLE owner);

// The object over a secret CNG key found in the store (or reopened after another process
// changed it).
ObjectPtr open_secret_key(const std::shared_ptr<CngKey>& key);

// CKA_VALUE of a secret key object when its Export Policy allows plaintext export; nullopt
// when CNG refuses (the value stays sensitive).
std::optional<SecretBytes> secret_key_value(const Object& secret);

}  // namespace p11::objects
