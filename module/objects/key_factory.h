// Making CNG keys for PKCS#11: C_GenerateKeyPair (NCryptCreatePersistedKey + properties +
// NCryptFinalizeKey), C_CreateObject of private keys and C_CopyObject to the token
// (NCryptImportKey of PKCS#8 with NCRYPT_DO_NOT_FINALIZE_FLAG, properties, finalize), and
// opening keys found in the store. Objects come back without handles; the layer assigns them.
//
// Session keys and exportability (the keytool decision, clients.md item 10): keytool
// generates a session key pair (Java's private template is empty, so the key is sensitive and
// non-extractable) and then stores it with C_CopyObject(session key -> {CKA_TOKEN=TRUE,
// CKA_ID}). A CNG key cannot change from ephemeral to persisted, so the copy must export and
// re-import. Ephemeral keys are therefore created with an internal Export Policy that allows
// export: they live only in this process and no other CNG client can ever reach them, and this
// layer enforces CKA_SENSITIVE/CKA_EXTRACTABLE itself (private parts stay
// CKR_ATTRIBUTE_SENSITIVE). The persisted copy gets the Export Policy its attributes ask for
// (non-exportable by default) and keeps CKA_LOCAL, CKA_ALWAYS_SENSITIVE and
// CKA_NEVER_EXTRACTABLE, since the key material never left the token boundary.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "objects/key_objects.h"
#include "objects/object.h"
#include "slots/capabilities.h"

namespace p11::objects {

struct SlotContext {
  NCRYPT_PROV_HANDLE provider = 0;
  DWORD scope_flag = 0;  // NCRYPT_MACHINE_KEY_FLAG or 0
  // The slot's (its provider's probed algorithms and its profile's abilities): which
  // mechanisms it offers.
  slots::Capabilities capabilities;
  // The slot's device checks a key's PIN itself (the TPM: its authValue): a
  // CKA_ALWAYS_AUTHENTICATE key gets the user's login PIN as NCRYPT_PIN_PROPERTY at creation.
  bool device_checks_key_pin = false;
  // The user's login PIN for this call (SessionContext::user_pin), or null.
  std::shared_ptr<const SecretBytes> user_pin = nullptr;
};

struct KeyPairObjects {
  ObjectPtr private_key;
  ObjectPtr public_key;  // may be null (not made for a public key hidden by the caller)
};

// C_GenerateKeyPair. Templates are parsed; persisted = private CKA_TOKEN (already checked
// against the session by the caller). owner is the creating session.
KeyPairObjects generate_key_pair(const SlotContext& slot, const CK_MECHANISM& mechanism,
                                 const AttrMap& public_template, const AttrMap& private_template,
                                 CK_SESSION_HANDLE owner);

// C_CreateObject of CKO_PRIVATE_KEY (RSA or EC): imports the key; also returns the public
// object of the same CNG key (one CNG key = two objects).
KeyPairObjects import_private_key(const SlotContext& slot, const AttrMap& tmpl,
                                  CK_SESSION_HANDLE owner);

// A key wrapped under a key-encryption key (C_UnwrapKey): NCryptImportKey with hImportKey.
struct WrappedKey {
  NCRYPT_KEY_HANDLE unwrapping_key = 0;  // the key-encryption key (AES, or an RSA private key)
  const char16_t* blob_type = nullptr;   // objects/wrap_mechanisms.h
  ByteView data;
  // The mechanism's parameter buffers (RSA: the padding), added to NCryptImportKey's list.
  // Empty for the AES blobs, and for private keys (RSA wraps only secret keys).
  std::span<const NCryptBuffer> parameters;
};

// C_UnwrapKey of a CKO_PRIVATE_KEY (RSA or EC, PKCS#8 inside the wrapping): tmpl is parsed and
// names CKA_CLASS and CKA_KEY_TYPE; the PKCS#8 is unwrapped inside NCrypt into a new CNG key
// (persisted when CKA_TOKEN=TRUE) and both objects come back, as for import_private_key.
KeyPairObjects unwrap_private_key(const SlotContext& slot, const AttrMap& tmpl,
                                  const WrappedKey& wrapped, CK_SESSION_HANDLE owner);

// C_CopyObject of a private key into a new persisted CNG key (session -> token, or token ->
// token). attrs are the copy's private key attributes (source merged with the template).
KeyPairObjects copy_private_key_to_token(const SlotContext& slot, const Object& source,
                                         const AttrMap& attrs, CK_SESSION_HANDLE owner);

// C_CreateObject of a CKO_PUBLIC_KEY with CKA_TOKEN=TRUE: a persisted public-only CNG key
// (NCryptImportKey of the public blob under a name: CKA_LABEL if free, else generated), its
// attributes in custom properties, marked with kClassProperty. attrs is the parsed template
// with defaults; returns the one public key object (token, no handle).
ObjectPtr create_token_public_key(const SlotContext& slot, const bridge::PublicKeyValues& values,
                                  const AttrMap& attrs);

// C_DestroyObject of the private key of a token pair whose public object lives on: replaces
// the CNG key pair by a public-only key of the same name (NCRYPT_OVERWRITE_KEY_FLAG: one
// atomic file replacement, so no other process ever sees the name missing) that keeps the
// public object's attributes. Returns the new key for the public object. Throws, changing
// nothing, when CNG refuses.
std::shared_ptr<CngKey> keep_public_half(const SlotContext& slot, const Object& public_key);

// Whether an open CNG key is a secret key (secret_keys.h) rather than a key pair.
bool is_secret_key(NCRYPT_KEY_HANDLE h);

// A persisted key found in the store: opens it and builds both objects, or only the public
// one (private_key null) for a public-only key, or (secret keys) the secret key object in
// private_key. Throws for keys PKCS#11 cannot show (other
// algorithms) and keys that vanished meanwhile.
KeyPairObjects open_token_key(const SlotContext& slot, const std::u16string& name);

// The summary objects (object.h) of a listed key pair or public-only key, as open_token_key
// would build them but holding only kSummaryAttributes and no CNG key; nullopt when the
// listing alone cannot say (secret keys and keys PKCS#11 cannot show: open those).
std::optional<KeyPairObjects> summarise_token_key(const cng::KeyStoreListing& listing);

// Rebuilds the objects' attributes from the key in the store (after another process changed
// it); keeps handles and owners. Either object may be null. Returns true when the key is now
// public-only (its private key was destroyed elsewhere): private_key is then left untouched
// for the caller to drop.
bool reload_key_attributes(const SlotContext& slot, Object* private_key, Object* public_key);

}  // namespace p11::objects
