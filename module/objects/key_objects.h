// Key objects over CNG keys: what a key's NCrypt properties and public blob say, turned into
// the attributes of its CKO_PRIVATE_KEY and CKO_PUBLIC_KEY objects through the attribute table
// (bridge/attribute_map.h), and the persisted custom properties that carry what CNG has no
// home for.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "bridge/attribute_map.h"
#include "bridge/class_schema.h"
#include "bridge/key_blobs.h"
#include "bridge/key_types/key_type.h"
#include "cng_key_listing.h"
#include "objects/object.h"

namespace p11::objects {

// Everything the object layer reads from one open CNG key.
struct CngKeyFacts {
  const bridge::KeyTypeDescriptor* type = nullptr;  // a key pair type
  bridge::PublicKeyValues pub;
  std::u16string algorithm;  // "Algorithm Name": "RSA", "ECDSA_P256", "ECDH_P384", …
  DWORD key_usage = 0;
  DWORD export_policy = 0;
  std::u16string unique_name;  // "Unique Name" of a persisted key, empty for ephemeral keys
  DWORD ui_policy_flags = 0;   // "UI Policy" dwFlags (0 without one)
};

// Reads the facts (NCryptExportKey of the public blob plus a few properties).
CngKeyFacts read_key_facts(NCRYPT_KEY_HANDLE key);

// The same facts from the key's store listing (cng_key_listing.h: what NCryptGetProperty and
// NCryptExportKey of the public blob give, without opening the key); nullopt when the listing
// alone cannot say (not a key pair type, or a generic EC key whose curve only the open key
// names): such keys are opened.
std::optional<CngKeyFacts> listed_key_facts(const cng::KeyStoreListing& listing);

// Where a persisted key's custom properties are read from: an open CNG key (NCryptGetProperty)
// or its store listing, which holds the same persisted values. The derivations below read
// through it, so objects built from a listing (the layer's summaries, object_layer_impl.h) and
// from the open key (materialised objects) are the same values by construction.
class KeyProperties {
 public:
  explicit KeyProperties(NCRYPT_KEY_HANDLE key) noexcept : key_(key) {}
  explicit KeyProperties(const cng::KeyStoreListing& listing) noexcept : listing_(&listing) {}
  [[nodiscard]] std::optional<Bytes> get(const char16_t* name) const;

 private:
  NCRYPT_KEY_HANDLE key_ = 0;
  const cng::KeyStoreListing* listing_ = nullptr;
};

// The attributes of the private or public key object over a CNG key. Values come, in order,
// from overlay (the creating template, or what the layer keeps in memory), from the key's
// persisted custom properties (persisted keys), from CNG (properties, public blob), and from
// the schema's defaults. key_name is the CNG key name (the label of keys made outside
// PKCS#11); unique_id names ephemeral keys. only, when not empty, limits the result to
// those attribute types (a summary).
AttrMap key_object_attrs(const CngKeyFacts& facts, const KeyProperties& props, bool persisted,
                         CK_OBJECT_CLASS object_class, const AttrMap& overlay,
                         const std::u16string& key_name, const std::string& unique_id,
                         std::span<const CK_ATTRIBUTE_TYPE> only = {});

// CKA_SENSITIVE or CKA_EXTRACTABLE as a key's Export Policy says (§5.2): sensitive unless
// plaintext export is allowed; extractable when any export is.
Bytes export_policy_attribute(CK_ATTRIBUTE_TYPE type, DWORD export_policy);

// The value a schema entry defaults to when nothing else gives one; nullopt for kNone.
std::optional<Bytes> schema_default(const bridge::SchemaEntry& entry);

// Writes the attributes that live in custom properties ("PKCS11 …") for an object of this
// class; flags is NCRYPT_PERSIST_FLAG. Only the types present in values are written.
void write_custom_properties(NCRYPT_KEY_HANDLE key, CK_OBJECT_CLASS object_class,
                             CK_KEY_TYPE key_type, const AttrMap& values);

// A persisted CNG key imported from a public blob alone is a token public key: one
// CKO_PUBLIC_KEY object, no private key object. The module marks such keys itself with the
// persisted custom property "PKCS11 Class" = CKO_PUBLIC_KEY (8 bytes, little-endian), since
// NCrypt has no property that tells a public-only key from a key pair.
inline constexpr char16_t kClassProperty[] = u"PKCS11 Class";
void mark_public_only(NCRYPT_KEY_HANDLE key);  // flags NCRYPT_PERSIST_FLAG; throws on failure
bool is_public_only(const KeyProperties& key);

// The public object of a token key pair destroyed alone (C_DestroyObject): CNG cannot delete
// half a key, so the key carries the persisted custom property "PKCS11 Pub Destroyed" = 1 and
// no process shows that public object again; the private key stays usable, and destroying it
// too deletes the CNG key.
inline constexpr char16_t kPublicDestroyedProperty[] = u"PKCS11 Pub Destroyed";
void mark_public_destroyed(NCRYPT_KEY_HANDLE key);  // NCRYPT_PERSIST_FLAG; throws on failure
bool is_public_destroyed(const KeyProperties& key);

// Persisting only what differs. A custom property that is absent reads as (key_object_attrs):
// for a public object's CKA_LABEL and CKA_ID the private half's property, then what CNG says
// (the key name as label, the export policy and key usage bits, ...), then the schema default.
// A new key writes only the values that read otherwise when absent: a generated P-256 pair
// then persists a handful of properties instead of 41 (key files and the store's listing index
// shrink about fourfold, and every listing reads that much less). Keys written with every
// property (older stores) read the same. The value that wins is fixed when written: a later
// change of a schema default would move the attributes of keys that relied on it.
//
// The values of values (attributes of an object of class cls) whose custom property a new key
// must get. facts: the key as CNG will show it once finalized, whose public values are not
// known yet (CKA_ID, derived from them, is always kept); private_kept: for a public object, what
// this returned for the private half.
AttrMap custom_properties_to_write(const AttrMap& values, CK_OBJECT_CLASS cls,
                                   const CngKeyFacts& facts, const std::u16string& key_name,
                                   const AttrMap* private_kept);
// The facts of a new, not yet finalized key (h) that decide what differs: the export policy
// and key usage set on it and the algorithm CNG reports (the listing's); not the public
// values, unknown before finalize (only CKA_ID derives from them, and it is always kept).
CngKeyFacts new_key_facts(NCRYPT_KEY_HANDLE h, const bridge::KeyTypeDescriptor& type,
                          DWORD export_policy, DWORD key_usage);
// custom_properties_to_write() and write_custom_properties() for both halves of a new key.
void write_differing_custom_properties(NCRYPT_KEY_HANDLE key, const CngKeyFacts& facts,
                                       const AttrMap& priv, const AttrMap& pub,
                                       const std::u16string& key_name);

// Whether an attribute of this class is persisted as a custom property.
bool has_custom_property(CK_ATTRIBUTE_TYPE type);

// Persisted form of an attribute value (custom properties, certificate store properties):
// fixed-width little-endian integers; nullopt when a stored value is malformed.
Bytes to_stored(const bridge::AttributeInfo& info, const Bytes& value);
std::optional<Bytes> from_stored(const bridge::AttributeInfo& info, const Bytes& stored);

// A random hex string (for generated key names and ephemeral unique ids).
std::string random_hex(std::size_t bytes);

}  // namespace p11::objects
