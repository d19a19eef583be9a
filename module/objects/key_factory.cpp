#include "objects/key_factory.h"

#include <openssl/crypto.h>

#include <array>
#include <cstring>
#include <functional>
#include <utility>
#include <vector>

#include "bridge/attribute_map.h"
#include "bridge/class_schema.h"
#include "bridge/key_types/key_type.h"
#include "bridge/ncrypt_props.h"
#include "bridge/status_map.h"
#include "bridge/utf.h"
#include "core/p11_error.h"
#include "mechanisms/registry.h"
#include "objects/key_naming.h"
#include "objects/secret_keys.h"
#include "objects/template_rules.h"

namespace p11::objects {

namespace {

// Attributes the public blob, Length or algorithm decide: CNG is the truth for them.
bool from_key_material(CK_ATTRIBUTE_TYPE type) {
  const auto* info = bridge::attribute_info(type);
  return info != nullptr && (info->source == bridge::CngSource::kPublicBlob ||
                             info->source == bridge::CngSource::kLength ||
                             info->source == bridge::CngSource::kAlgorithm ||
                             info->source == bridge::CngSource::kPrivateBlob ||
                             info->source == bridge::CngSource::kUniqueName);
}

AttrMap without_key_material(AttrMap attrs) {
  std::erase_if(attrs, [](const auto& kv) { return from_key_material(kv.first); });
  return attrs;
}

using bridge::KeyTypeDescriptor;

// Key Usage bits from the private key's attributes, by the key type's usage rules.
DWORD usage_bits(const AttrMap& priv, const KeyTypeDescriptor& type) {
  DWORD usage = 0;
  for (const bridge::UsageRule& rule : type.pair->usage) {
    if (attr_true(priv, rule.attribute)) {
      usage |= rule.usage_bit;
    }
  }
  return usage;
}

// The UI policy the kUiPolicy rows of the attribute table ask for (CKA_ALWAYS_AUTHENTICATE),
// set before finalize; none when no such attribute is TRUE. On a slot whose device checks a
// key's PIN (the TPM), the key also gets the user's login PIN (CKR_USER_NOT_LOGGED_IN without
// a login) as NCRYPT_PIN_PROPERTY: its TPM authValue, which the TPM checks at each use. On the
// software slots the PIN is checked by cng_model: the scope's PIN, or consent without one.
void set_ui_policy(const SlotContext& slot, NCRYPT_KEY_HANDLE h, const AttrMap& priv) {
  DWORD flags = 0;
  for (const bridge::AttributeInfo& info : bridge::all_attributes()) {
    if (info.source == bridge::CngSource::kUiPolicy && attr_true(priv, info.type)) {
      flags |= info.usage_bit & (~info.usage_bit + 1);  // the lowest bit
    }
  }
  if (flags == 0) {
    return;
  }
  NCRYPT_UI_POLICY policy{1, flags, nullptr, nullptr, nullptr};
  Bytes value(sizeof policy);
  std::memcpy(value.data(), &policy, sizeof policy);
  bridge::set_property(h, NCRYPT_UI_POLICY_PROPERTY, value, 0, NcryptContext::kKeyGen);
  if (!slot.device_checks_key_pin) {
    return;
  }
  require(slot.user_pin != nullptr, CKR_USER_NOT_LOGGED_IN,
          "a CKA_ALWAYS_AUTHENTICATE key of this slot takes the user's login PIN");
  const std::string_view text(reinterpret_cast<const char*>(slot.user_pin->data()),
                              slot.user_pin->size());
  std::optional<std::u16string> pin = utf8_to_utf16(text);
  require(pin.has_value(), CKR_PIN_INVALID, "the login PIN is not UTF-8");
  SecretBytes utf16((pin->size() + 1) * sizeof(char16_t), 0);
  std::memcpy(utf16.data(), pin->data(), pin->size() * sizeof(char16_t));
  OPENSSL_cleanse(pin->data(), pin->size() * sizeof(char16_t));
  bridge::set_property(h, NCRYPT_PIN_PROPERTY, utf16, 0, NcryptContext::kKeyGen);
}

// Sets the creation-time properties and (persisted keys) the custom properties, then
// finalizes; false when the name was taken meanwhile (NTE_EXISTS at finalize). Custom
// properties go in before finalize so the key file is written once. only_differing: the new
// key's name: only the values that differ persist (custom_properties_to_write), as for
// imports (C_CreateObject, C_UnwrapKey, copies to the token); null: all.
bool configure_and_finalize(const SlotContext& slot, NCRYPT_KEY_HANDLE h, bool persisted,
                            const KeyTypeDescriptor& type, const AttrMap& priv, const AttrMap& pub,
                            DWORD length_bits, const char16_t* only_differing = nullptr) {
  if (length_bits != 0) {
    bridge::set_dword_property(h, NCRYPT_LENGTH_PROPERTY, length_bits, 0, NcryptContext::kKeyGen);
  }
  const DWORD policy = export_policy(persisted, priv);
  const DWORD usage = usage_bits(priv, type);
  bridge::set_dword_property(h, NCRYPT_EXPORT_POLICY_PROPERTY, policy, 0, NcryptContext::kKeyGen);
  bridge::set_dword_property(h, NCRYPT_KEY_USAGE_PROPERTY, usage, 0, NcryptContext::kKeyGen);
  set_ui_policy(slot, h, priv);
  if (persisted && only_differing != nullptr) {
    write_differing_custom_properties(h, new_key_facts(h, type, policy, usage), priv, pub,
                                      only_differing);
  } else if (persisted) {
    write_custom_properties(h, CKO_PRIVATE_KEY, type.key_type, priv);
    write_custom_properties(h, CKO_PUBLIC_KEY, type.key_type, pub);
  }
  const SECURITY_STATUS st = NCryptFinalizeKey(h, 0);
  if (st == NTE_EXISTS) {
    return false;
  }
  check_status(st, NcryptContext::kKeyGen, "NCryptFinalizeKey");
  return true;
}

// Builds both objects over a new key; deletes a persisted key if that fails.
KeyPairObjects objects_over(const SlotContext& slot, std::shared_ptr<CngKey> key,
                            const AttrMap& priv, const AttrMap& pub, CK_SESSION_HANDLE owner,
                            bool public_is_token) {
  try {
    const CngKeyFacts facts = read_key_facts(key->handle());
    const std::string unique_id = key->persisted() ? std::string() : random_hex(16);
    KeyPairObjects out;
    for (const bool is_private : {true, false}) {
      auto obj = std::make_shared<Object>();
      obj->object_class = is_private ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY;
      obj->subtype = facts.pub.key_type;
      AttrMap overlay = without_key_material(is_private ? priv : pub);
      if (!overlay.contains(CKA_ID)) {
        overlay[CKA_ID] = bridge::nss_key_id(facts.pub);
      }
      obj->attrs = key_object_attrs(facts, KeyProperties(key->handle()), key->persisted(),
                                    obj->object_class, overlay, key->name(), unique_id);
      obj->token = is_private ? key->persisted() : (key->persisted() && public_is_token);
      obj->attrs[CKA_TOKEN] = bool_bytes(obj->token);
      obj->owner = obj->token ? CK_INVALID_HANDLE : owner;
      obj->key = key;
      (is_private ? out.private_key : out.public_key) = std::move(obj);
    }
    return out;
  } catch (...) {
    if (key->persisted()) {
      NCRYPT_KEY_HANDLE victim = 0;
      if (NCryptOpenKey(key->provider(), &victim, key->name().c_str(), 0, slot.scope_flag) ==
          ERROR_SUCCESS) {
        NCryptDeleteKey(victim, 0);
      }
    }
    throw;
  }
}

// Each half of a pair keeps its own template's CKA_LABEL (empty when its template has none:
// a label given only to the private key is not the public key's). CKA_ID pairs the halves:
// each keeps its own, and when only one template gives one, the other half shares it;
// without any, both get the NSS id of the public key (later).
void pair_attributes(AttrMap& priv, AttrMap& pub, const AttrMap& priv_tmpl,
                     const AttrMap& pub_tmpl) {
  priv[CKA_LABEL] = priv_tmpl.contains(CKA_LABEL) ? priv_tmpl.at(CKA_LABEL) : Bytes{};
  pub[CKA_LABEL] = pub_tmpl.contains(CKA_LABEL) ? pub_tmpl.at(CKA_LABEL) : Bytes{};
  const AttrMap* id_from = priv_tmpl.contains(CKA_ID)  ? &priv_tmpl
                           : pub_tmpl.contains(CKA_ID) ? &pub_tmpl
                                                       : nullptr;
  if (id_from == nullptr) {
    priv.erase(CKA_ID);
    pub.erase(CKA_ID);
    return;
  }
  priv[CKA_ID] = priv_tmpl.contains(CKA_ID) ? priv_tmpl.at(CKA_ID) : id_from->at(CKA_ID);
  pub[CKA_ID] = pub_tmpl.contains(CKA_ID) ? pub_tmpl.at(CKA_ID) : id_from->at(CKA_ID);
}

void reject_unsupported_true(const AttrMap& attrs) {
  for (const CK_ATTRIBUTE_TYPE type : {CKA_SIGN_RECOVER, CKA_VERIFY_RECOVER}) {
    if (attr_true(attrs, type)) {
      fail(CKR_ATTRIBUTE_VALUE_INVALID, "CNG keys have no sign/verify-recover");
    }
  }
}

// Key-type defaults the generic schema cannot express: usages no mechanism of the type
// serves (EC keys neither encrypt nor decrypt) are FALSE unless the template asks.
// (CKA_DERIVE=TRUE on an RSA key is kept as asked, as clients send it in generic templates
// (tpm2-pkcs11 #565); no RSA derive mechanism exists, so it permits nothing.)
void key_type_defaults(AttrMap& attrs, const AttrMap& tmpl, const KeyTypeDescriptor& type) {
  for (const CK_ATTRIBUTE_TYPE usage : type.pair->unserved_usages) {
    if (attrs.contains(usage) && !tmpl.contains(usage)) {
      attrs[usage] = bool_bytes(false);
    }
  }
}

void check_class_and_type(const AttrMap& tmpl, CK_OBJECT_CLASS cls, CK_KEY_TYPE key_type) {
  if (attr_ulong(tmpl, CKA_CLASS).value_or(cls) != cls ||
      attr_ulong(tmpl, CKA_KEY_TYPE).value_or(key_type) != key_type) {
    fail(CKR_TEMPLATE_INCONSISTENT, "CKA_CLASS/CKA_KEY_TYPE do not fit the mechanism");
  }
}

// The attributes of an imported (or unwrapped) private key: not generated here, so no
// history (PKCS#11 §4.9 footnotes).
AttrMap imported_private_attrs(const AttrMap& tmpl, const bridge::Schema& schema,
                               const KeyTypeDescriptor& type) {
  AttrMap priv = with_defaults(tmpl, schema);
  key_type_defaults(priv, tmpl, type);
  reject_unsupported_true(priv);
  priv[CKA_CLASS] = ulong_bytes(CKO_PRIVATE_KEY);
  priv[CKA_KEY_TYPE] = ulong_bytes(type.key_type);
  priv[CKA_LOCAL] = bool_bytes(false);
  priv[CKA_KEY_GEN_MECHANISM] = ulong_bytes(CK_UNAVAILABLE_INFORMATION);
  priv[CKA_ALWAYS_SENSITIVE] = bool_bytes(false);
  priv[CKA_NEVER_EXTRACTABLE] = bool_bytes(false);
  if (!tmpl.contains(CKA_ID)) {
    priv.erase(CKA_ID);
  }
  return priv;
}

// PKCS#8 in the clear, or (wrapped non-null) wrapped under a key-encryption key: then the
// blob is the wrapping and NCRYPTBUFFER_PKCS_ALG_ID names the algorithm expected inside.
NCRYPT_KEY_HANDLE import_pkcs8(const SlotContext& slot, const char16_t* name, ByteView pkcs8,
                               bool persisted, const KeyTypeDescriptor& type, const AttrMap& priv,
                               const AttrMap& pub, const WrappedKey* wrapped = nullptr) {
  ImportParameters params(name, wrapped != nullptr ? type.pair->pkcs8_algorithm : nullptr);
  const ByteView blob = wrapped != nullptr ? wrapped->data : pkcs8;
  PendingKey pending;
  const SECURITY_STATUS st = NCryptImportKey(
      slot.provider, wrapped != nullptr ? wrapped->unwrapping_key : 0,
      wrapped != nullptr ? wrapped->blob_type : NCRYPT_PKCS8_PRIVATE_KEY_BLOB, params.get(),
      &pending.h, const_cast<std::uint8_t*>(blob.data()), static_cast<DWORD>(blob.size()),
      NCRYPT_DO_NOT_FINALIZE_FLAG | slot.scope_flag);
  if (st == NTE_EXISTS) {
    return 0;
  }
  check_status(st, wrapped != nullptr ? NcryptContext::kUnwrap : NcryptContext::kImport,
               "NCryptImportKey");
  if (!configure_and_finalize(slot, pending.h, persisted, type, priv, pub, 0, name)) {
    return 0;
  }
  return pending.release();
}

// Imports a public blob as a persisted public-only key: usage, the public object's custom
// properties and the public-only mark go in before finalize, so the file is written once.
// 0 when the name is taken (NTE_EXISTS) and overwrite was not asked for.
NCRYPT_KEY_HANDLE import_public_only(const SlotContext& slot, const char16_t* name, ByteView blob,
                                     DWORD extra_flags, CK_KEY_TYPE key_type, const AttrMap& pub,
                                     DWORD usage) {
  ImportParameters params(name, nullptr);
  PendingKey pending;
  const SECURITY_STATUS st =
      NCryptImportKey(slot.provider, 0, BCRYPT_PUBLIC_KEY_BLOB, params.get(), &pending.h,
                      const_cast<std::uint8_t*>(blob.data()), static_cast<DWORD>(blob.size()),
                      NCRYPT_DO_NOT_FINALIZE_FLAG | slot.scope_flag | extra_flags);
  if (st == NTE_EXISTS) {
    return 0;
  }
  check_status(st, NcryptContext::kImport, "NCryptImportKey");
  bridge::set_dword_property(pending.h, NCRYPT_KEY_USAGE_PROPERTY, usage, 0,
                             NcryptContext::kKeyGen);
  // Only what differs from what its absence reads as (no private half to fall back to).
  const KeyTypeDescriptor* type = bridge::find_key_type(CKO_PUBLIC_KEY, key_type);
  require(type != nullptr && type->pair != nullptr, CKR_GENERAL_ERROR, "not a key pair type");
  const auto policy = bridge::get_dword_property(pending.h, NCRYPT_EXPORT_POLICY_PROPERTY);
  const CngKeyFacts facts = new_key_facts(pending.h, *type, policy.value_or(0), usage);
  write_custom_properties(pending.h, CKO_PUBLIC_KEY, key_type,
                          custom_properties_to_write(pub, CKO_PUBLIC_KEY, facts, name, nullptr));
  mark_public_only(pending.h);
  const SECURITY_STATUS fin = NCryptFinalizeKey(pending.h, 0);
  if (fin == NTE_EXISTS) {
    return 0;
  }
  check_status(fin, NcryptContext::kImport, "NCryptFinalizeKey");
  return pending.release();
}

// The one object over a public-only key.
ObjectPtr public_only_object(const std::shared_ptr<CngKey>& key, const CngKeyFacts& facts,
                             const AttrMap& overlay) {
  auto obj = std::make_shared<Object>();
  obj->object_class = CKO_PUBLIC_KEY;
  obj->subtype = facts.pub.key_type;
  obj->token = true;
  obj->key = key;
  obj->attrs = key_object_attrs(facts, KeyProperties(key->handle()), true, CKO_PUBLIC_KEY, overlay,
                                key->name(), {});
  return obj;
}

}  // namespace

ObjectPtr create_token_public_key(const SlotContext& slot, const bridge::PublicKeyValues& values,
                                  const AttrMap& attrs) {
  const Bytes blob = bridge::make_public_blob(values);
  AttrMap overlay = without_key_material(attrs);
  overlay[CKA_LOCAL] = bool_bytes(false);
  auto key = create_named(slot, true, attrs, [&](const char16_t* name) {
    return import_public_only(slot, name, blob, 0, values.key_type, overlay,
                              NCRYPT_ALLOW_ALL_USAGES);
  });
  try {
    return public_only_object(key, read_key_facts(key->handle()), overlay);
  } catch (...) {
    NCRYPT_KEY_HANDLE victim = 0;  // a second handle: key's own is freed by CngKey
    if (NCryptOpenKey(slot.provider, &victim, key->name().c_str(), 0, slot.scope_flag) ==
        ERROR_SUCCESS) {
      NCryptDeleteKey(victim, 0);
    }
    throw;
  }
}

std::shared_ptr<CngKey> keep_public_half(const SlotContext& slot, const Object& public_key) {
  const CngKey& old = *public_key.key;
  const SecretBytes blob =
      bridge::export_key(old.handle(), BCRYPT_PUBLIC_KEY_BLOB, NcryptContext::kExport);
  const DWORD usage = bridge::get_dword_property(old.handle(), NCRYPT_KEY_USAGE_PROPERTY)
                          .value_or(NCRYPT_ALLOW_ALL_USAGES);
  const NCRYPT_KEY_HANDLE h =
      import_public_only(slot, old.name().c_str(), blob, NCRYPT_OVERWRITE_KEY_FLAG,
                         public_key.subtype, public_key.attrs, usage);
  if (h == 0) {
    fail(CKR_FUNCTION_FAILED, "the key's name was taken while replacing it");
  }
  return std::make_shared<CngKey>(h, slot.provider, old.name());
}

KeyPairObjects generate_key_pair(const SlotContext& slot, const CK_MECHANISM& mechanism,
                                 const AttrMap& public_template, const AttrMap& private_template,
                                 CK_SESSION_HANDLE owner) {
  const KeyTypeDescriptor* type = bridge::find_key_type_by_generator(mechanism.mechanism);
  if (type == nullptr || type->pair == nullptr) {
    fail(CKR_MECHANISM_INVALID, "not a key pair generation mechanism");
  }
  mech::offered_mechanism(mechanism.mechanism, CKF_GENERATE_KEY_PAIR, slot.capabilities);
  const CK_KEY_TYPE key_type = type->key_type;
  mech::DecodedParams no_params;  // the rows say: no parameter
  mech::decode_params(*mech::find_mechanism(mechanism.mechanism), mechanism, no_params);
  const bridge::Schema& pub_schema = *bridge::schema_for(CKO_PUBLIC_KEY, key_type);
  const bridge::Schema& priv_schema = *bridge::schema_for(CKO_PRIVATE_KEY, key_type);
  validate_template(public_template, pub_schema, TemplateOp::kGenerate);
  validate_template(private_template, priv_schema, TemplateOp::kGenerate);
  check_class_and_type(public_template, CKO_PUBLIC_KEY, key_type);
  check_class_and_type(private_template, CKO_PRIVATE_KEY, key_type);

  AttrMap pub = with_defaults(public_template, pub_schema);
  AttrMap priv = with_defaults(private_template, priv_schema);
  key_type_defaults(pub, public_template, *type);
  key_type_defaults(priv, private_template, *type);
  reject_unsupported_true(pub);
  reject_unsupported_true(priv);
  pair_attributes(priv, pub, private_template, public_template);
  const bool persisted = attr_true(priv, CKA_TOKEN);
  if (attr_true(pub, CKA_TOKEN) && !persisted) {
    fail(CKR_TEMPLATE_INCONSISTENT, "a token public key needs a token private key");
  }
  // The history CNG does not keep (§5.2), recorded at creation.
  const Bytes mech = ulong_bytes(mechanism.mechanism);
  for (AttrMap* attrs : {&priv, &pub}) {
    (*attrs)[CKA_LOCAL] = bool_bytes(true);
    (*attrs)[CKA_KEY_GEN_MECHANISM] = mech;
  }
  priv[CKA_ALWAYS_SENSITIVE] = bool_bytes(attr_true(priv, CKA_SENSITIVE));
  priv[CKA_NEVER_EXTRACTABLE] = bool_bytes(!attr_true(priv, CKA_EXTRACTABLE));

  const bridge::KeyGenPlan plan = type->pair->generation(slot.provider, pub, priv);
  const AttrMap priv_props = without_key_material(priv);
  AttrMap pub_props = without_key_material(pub);
  pub_props.erase(CKA_MODULUS_BITS);
  auto key = create_named(slot, persisted, priv, [&](const char16_t* name) -> NCRYPT_KEY_HANDLE {
    PendingKey pending;
    const SECURITY_STATUS st = NCryptCreatePersistedKey(slot.provider, &pending.h, plan.algorithm,
                                                        name, 0, slot.scope_flag);
    if (st == NTE_EXISTS) {
      return 0;
    }
    check_status(st, NcryptContext::kKeyGen, "NCryptCreatePersistedKey");
    if (!configure_and_finalize(slot, pending.h, persisted, *type, priv_props, pub_props,
                                plan.length_bits, name)) {
      return 0;
    }
    return pending.release();
  });
  return objects_over(slot, std::move(key), priv, pub, owner,
                      attr_bool(pub, CKA_TOKEN).value_or(true));
}

KeyPairObjects import_private_key(const SlotContext& slot, const AttrMap& tmpl,
                                  CK_SESSION_HANDLE owner) {
  const KeyTypeDescriptor& type = bridge::key_type_for_template(
      CKO_PRIVATE_KEY, attr_ulong(tmpl, CKA_KEY_TYPE).value_or(CKK_RSA));
  const bridge::Schema& schema = *bridge::schema_for(CKO_PRIVATE_KEY, type.key_type);
  validate_template(tmpl, schema, TemplateOp::kCreate);
  AttrMap priv = imported_private_attrs(tmpl, schema, type);
  const SecretBytes pkcs8 = type.pair->pkcs8_from_template(tmpl);
  const bool persisted = attr_true(priv, CKA_TOKEN);
  const AttrMap props = without_key_material(priv);
  AttrMap pub = {{CKA_LABEL, priv.at(CKA_LABEL)}};
  if (priv.contains(CKA_ID)) {
    pub[CKA_ID] = priv.at(CKA_ID);
  }
  auto key = create_named(slot, persisted, priv, [&](const char16_t* name) {
    return import_pkcs8(slot, name, pkcs8, persisted, type, props, pub);
  });
  return objects_over(slot, std::move(key), priv, pub, owner, true);
}

KeyPairObjects unwrap_private_key(const SlotContext& slot, const AttrMap& tmpl,
                                  const WrappedKey& wrapped, CK_SESSION_HANDLE owner) {
  const KeyTypeDescriptor* type =
      bridge::find_key_type(CKO_PRIVATE_KEY, attr_ulong(tmpl, CKA_KEY_TYPE).value_or(CKK_RSA));
  if (type == nullptr) {
    fail(CKR_TEMPLATE_INCONSISTENT, "only private keys of a key pair type are unwrapped");
  }
  const bridge::Schema* schema = bridge::schema_for(CKO_PRIVATE_KEY, type->key_type);
  // The key material comes from the wrapping: the template may name what a generation
  // template may (no modulus, no private value).
  validate_template(tmpl, *schema, TemplateOp::kGenerate);
  const AttrMap priv = imported_private_attrs(tmpl, *schema, *type);
  const bool persisted = attr_true(priv, CKA_TOKEN);
  const AttrMap props = without_key_material(priv);
  AttrMap pub = {{CKA_LABEL, priv.at(CKA_LABEL)}};
  if (priv.contains(CKA_ID)) {
    pub[CKA_ID] = priv.at(CKA_ID);
  }
  auto key = create_named(slot, persisted, priv, [&](const char16_t* name) {
    return import_pkcs8(slot, name, {}, persisted, *type, props, pub, &wrapped);
  });
  return objects_over(slot, std::move(key), priv, pub, owner, true);
}

namespace {

// NCryptExportKey (wrapping_key 0: in the clear) into a wiping buffer; NTE_* as NCrypt says.
SECURITY_STATUS export_blob(NCRYPT_KEY_HANDLE key, NCRYPT_KEY_HANDLE wrapping_key,
                            const char16_t* blob_type, SecretBytes& out) {
  DWORD size = 0;
  SECURITY_STATUS st = NCryptExportKey(key, wrapping_key, blob_type, nullptr, nullptr, 0, &size, 0);
  if (st == ERROR_SUCCESS) {
    out.resize(size);
    st = NCryptExportKey(key, wrapping_key, blob_type, nullptr, out.data(), size, &size, 0);
    out.resize(size);
  }
  return st;
}

// A key-encryption key for one copy: an ephemeral AES-256 key of the slot's provider.
void make_copy_kek(const SlotContext& slot, PendingKey& kek) {
  check_status(NCryptCreatePersistedKey(slot.provider, &kek.h, NCRYPT_AES_ALGORITHM, nullptr, 0, 0),
               NcryptContext::kKeyGen, "NCryptCreatePersistedKey (copy key-encryption key)");
  bridge::set_dword_property(kek.h, NCRYPT_LENGTH_PROPERTY, 256, 0, NcryptContext::kKeyGen);
  check_status(NCryptFinalizeKey(kek.h, 0), NcryptContext::kKeyGen, "NCryptFinalizeKey");
}

}  // namespace

KeyPairObjects copy_private_key_to_token(const SlotContext& slot, const Object& source,
                                         const AttrMap& attrs, CK_SESSION_HANDLE owner) {
  if (!source.key) {
    fail(CKR_OBJECT_HANDLE_INVALID, "not a key over CNG");
  }
  // CNG copies key material only by export (NCrypt has no duplicate, here or on Windows): in
  // the clear when the Export Policy allows plaintext export (every session key, inside this
  // process), else wrapped under an ephemeral AES key of the provider when it allows export.
  const NCRYPT_KEY_HANDLE h = source.key->handle();
  SecretBytes blob;
  PendingKey kek;
  const bool plaintext = export_blob(h, 0, NCRYPT_PKCS8_PRIVATE_KEY_BLOB, blob) == ERROR_SUCCESS;
  if (!plaintext && slot.capabilities.aes) {
    make_copy_kek(slot, kek);
    if (export_blob(h, kek.h, NCRYPT_AES_WRAP_PAD_KEY_BLOB, blob) != ERROR_SUCCESS) {
      NCryptFreeObject(kek.release());
    }
  }
  if (!plaintext && kek.h == 0) {
    // A key that may not leave cannot become a second persisted key. C_CopyObject has no
    // CKR_KEY_UNEXTRACTABLE; CKR_ACTION_PROHIBITED is its code for "underlying policy
    // restrictions on the token" (PKCS#11 3.0 §5.1.6). CKA_COPYABLE stays TRUE: a session copy
    // (CKA_TOKEN=FALSE) shares the CNG key and works.
    fail(CKR_ACTION_PROHIBITED, "the CNG key's Export Policy forbids a token copy");
  }
  const WrappedKey wrapped{kek.h, NCRYPT_AES_WRAP_PAD_KEY_BLOB, blob, {}};
  const KeyTypeDescriptor* type = bridge::find_key_type(CKO_PRIVATE_KEY, source.subtype);
  if (type == nullptr) {
    fail(CKR_GENERAL_ERROR, "a private key object of an unregistered key type");
  }
  AttrMap priv = attrs;
  priv[CKA_TOKEN] = bool_bytes(true);
  const AttrMap props = without_key_material(priv);
  AttrMap pub = {{CKA_LABEL, priv.at(CKA_LABEL)}, {CKA_ID, priv.at(CKA_ID)}};
  auto key = create_named(slot, true, priv, [&](const char16_t* name) {
    return plaintext ? import_pkcs8(slot, name, blob, true, *type, props, pub)
                     : import_pkcs8(slot, name, {}, true, *type, props, pub, &wrapped);
  });
  return objects_over(slot, std::move(key), priv, pub, owner, true);
}

bool is_secret_key(NCRYPT_KEY_HANDLE h) {
  const auto algorithm = bridge::get_string_property(h, NCRYPT_ALGORITHM_PROPERTY);
  return algorithm && bridge::find_key_type_of_cng_key(CKO_SECRET_KEY, *algorithm, h) != nullptr;
}

namespace {

// The objects of a persisted key pair (or public-only key) from its facts and properties;
// with key null and only set, the summary objects (object.h) of a listed key.
KeyPairObjects token_key_objects(const CngKeyFacts& facts, const KeyProperties& props,
                                 const std::u16string& name, const std::shared_ptr<CngKey>& key,
                                 std::span<const CK_ATTRIBUTE_TYPE> only) {
  const bool public_only = is_public_only(props);
  // A public object destroyed alone (key_objects.h) is not shown.
  const bool public_destroyed = !public_only && is_public_destroyed(props);
  KeyPairObjects out;
  for (const bool is_private : {true, false}) {
    if ((is_private && public_only) || (!is_private && public_destroyed)) {
      continue;
    }
    auto obj = std::make_shared<Object>();
    obj->object_class = is_private ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY;
    obj->subtype = facts.pub.key_type;
    obj->token = true;
    obj->key = key;
    obj->attrs = key_object_attrs(facts, props, true, obj->object_class, {}, name, {}, only);
    if (!only.empty()) {
      keep_summary(*obj);
    }
    (is_private ? out.private_key : out.public_key) = std::move(obj);
  }
  return out;
}

}  // namespace

KeyPairObjects open_token_key(const SlotContext& slot, const std::u16string& name) {
  NCRYPT_KEY_HANDLE h = 0;
  check_status(NCryptOpenKey(slot.provider, &h, name.c_str(), 0, slot.scope_flag),
               NcryptContext::kOpenKey, "NCryptOpenKey");
  auto key = std::make_shared<CngKey>(h, slot.provider, name);
  if (is_secret_key(h)) {
    KeyPairObjects out;
    out.private_key = open_secret_key(key);  // the primary object of a secret key
    return out;
  }
  return token_key_objects(read_key_facts(h), KeyProperties(h), name, key, {});
}

// The summary attributes a summary object holds in attrs: class, key type and token it answers
// from its fields (object.cpp: summary_value), so they are not built only to be dropped.
constexpr CK_ATTRIBUTE_TYPE kHeldSummaryAttributes[] = {CKA_PRIVATE, CKA_LABEL, CKA_ID};
static_assert(std::size(kHeldSummaryAttributes) + 3 == std::size(kSummaryAttributes));

std::optional<KeyPairObjects> summarise_token_key(const cng::KeyStoreListing& listing) {
  const std::optional<CngKeyFacts> facts = listed_key_facts(listing);
  if (!facts) {
    return std::nullopt;
  }
  return token_key_objects(*facts, KeyProperties(listing), listing.name, nullptr,
                           kHeldSummaryAttributes);
}

bool reload_key_attributes(const SlotContext& slot, Object* private_key, Object* public_key) {
  const Object* any = private_key != nullptr ? private_key : public_key;
  if (any == nullptr || !any->key) {
    return false;
  }
  // The open handle caches the key as it was opened: reopen to see another process's changes.
  const std::u16string name = any->key->name();
  NCRYPT_KEY_HANDLE h = 0;
  check_status(NCryptOpenKey(slot.provider, &h, name.c_str(), 0, slot.scope_flag),
               NcryptContext::kOpenKey, "NCryptOpenKey");
  auto key = std::make_shared<CngKey>(h, slot.provider, name);
  if (private_key != nullptr && private_key->object_class == CKO_SECRET_KEY) {
    private_key->attrs = open_secret_key(key)->attrs;
    private_key->key = key;
    return false;
  }
  const CngKeyFacts facts = read_key_facts(h);
  const bool public_only = is_public_only(KeyProperties(h));
  if (private_key != nullptr && !public_only) {
    private_key->attrs =
        key_object_attrs(facts, KeyProperties(h), true, CKO_PRIVATE_KEY, {}, name, {});
    private_key->key = key;
  }
  if (public_key != nullptr) {
    public_key->attrs =
        key_object_attrs(facts, KeyProperties(h), true, CKO_PUBLIC_KEY, {}, name, {});
    public_key->key = key;
  }
  return public_only;
}

}  // namespace p11::objects
