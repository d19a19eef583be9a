// ObjectLayerImpl: the paths that make objects (generate, create, copy, derive).
#include <openssl/crypto.h>

#include "bridge/class_schema.h"
#include "bridge/key_blobs.h"
#include "bridge/key_types/key_type.h"
#include "core/p11_error.h"
#include "mechanisms/operation.h"
#include "mechanisms/registry.h"
#include "objects/certificates.h"
#include "objects/data_objects.h"
#include "objects/object_layer_impl.h"
#include "objects/secret_keys.h"
#include "objects/template_rules.h"

namespace p11::objects {

namespace {

CK_RV cert_store_rv(const std::exception& e) {
  return object_store_rv(cng::cert_store_error_status(e));
}

}  // namespace

std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE> ObjectLayerImpl::generate_key_pair(
    const SessionContext& s, const CK_MECHANISM& mechanism,
    std::span<const CK_ATTRIBUTE> public_template, std::span<const CK_ATTRIBUTE> private_template) {
  const AttrMap pub = parse_template(public_template);
  const AttrMap priv = parse_template(private_template);
  check_officer_only(pub, s.security_officer);
  check_officer_only(priv, s.security_officer);
  if (attr_true(priv, CKA_TOKEN) || attr_true(pub, CKA_TOKEN)) {
    check_token_write(s);
  }
  const KeyPairObjects pair =
      objects::generate_key_pair(context_for(s), mechanism, pub, priv, s.handle);
  std::unique_lock lock(mutex_);
  const CK_OBJECT_HANDLE private_handle = register_pair(pair);
  return {pair.public_key->handle, private_handle};
}

CK_OBJECT_HANDLE ObjectLayerImpl::create_object(const SessionContext& s,
                                                std::span<const CK_ATTRIBUTE> tmpl) {
  const AttrMap t = parse_template(tmpl);
  check_officer_only(t, s.security_officer);
  const auto cls = attr_ulong(t, CKA_CLASS);
  if (!cls) {
    fail(CKR_TEMPLATE_INCOMPLETE, "CKA_CLASS is required");
  }
  if (attr_true(t, CKA_TOKEN)) {
    check_token_write(s);
  }
  switch (*cls) {
    case CKO_CERTIFICATE:
      return create_certificate(s, t);
    case CKO_DATA:
      return store_data_object(s, data_object_from_template(t));
    case CKO_PRIVATE_KEY: {
      if (!t.contains(CKA_KEY_TYPE)) {
        fail(CKR_TEMPLATE_INCOMPLETE, "CKA_KEY_TYPE is required");
      }
      const KeyPairObjects pair = import_private_key(context_for(s), t, s.handle);
      std::unique_lock lock(mutex_);
      return register_pair(pair);
    }
    case CKO_PUBLIC_KEY:
      return create_public_key(s, t);
    case CKO_SECRET_KEY: {
      const auto value = t.find(CKA_VALUE);
      SecretBytes secret;
      if (value != t.end()) {
        secret.assign(value->second.begin(), value->second.end());
      }
      return create_secret_key(s, t, secret, nullptr);
    }
    default:
      fail(CKR_ATTRIBUTE_VALUE_INVALID, "object class not supported");
  }
}

CK_OBJECT_HANDLE ObjectLayerImpl::create_certificate(const SessionContext& s, const AttrMap& t) {
  return store_certificate(s, certificate_from_template(t));
}

CK_OBJECT_HANDLE ObjectLayerImpl::store_certificate(const SessionContext& s, ObjectPtr cert) {
  if (cert->token) {
    try {
      cert->cert_id =
          cert_store_.add(cert->attrs.at(CKA_VALUE), certificate_store_properties(*cert));
    } catch (const std::exception& e) {
      fail(cert_store_rv(e), e.what());
    }
  } else {
    cert->owner = s.handle;
  }
  std::unique_lock lock(mutex_);
  if (cert->token) {
    if (const auto seen = token_certs_.find(cert->cert_id); seen != token_certs_.end()) {
      erase(seen->second);  // a refresh found it first: this process's object replaces it
    }
  }
  const CK_OBJECT_HANDLE h = insert(cert);
  if (cert->token) {
    token_certs_[cert->cert_id] = h;
    touch_cert(cert->cert_id);
    stored_created(*cert);
  }
  return h;
}

// Public keys alone: a session object in memory, or (CKA_TOKEN=TRUE) a persisted public-only
// CNG key (key_factory.h, create_token_public_key).
CK_OBJECT_HANDLE ObjectLayerImpl::create_public_key(const SessionContext& s, const AttrMap& t) {
  const CK_KEY_TYPE key_type = attr_ulong(t, CKA_KEY_TYPE).value_or(CK_UNAVAILABLE_INFORMATION);
  const bridge::Schema* schema = bridge::schema_for(CKO_PUBLIC_KEY, key_type);
  if (schema == nullptr) {
    fail(t.contains(CKA_KEY_TYPE) ? CKR_ATTRIBUTE_VALUE_INVALID : CKR_TEMPLATE_INCOMPLETE,
         "only RSA and EC public keys");
  }
  validate_template(t, *schema, TemplateOp::kCreate);
  const bridge::KeyPairRules& rules = *bridge::key_type_for_template(CKO_PUBLIC_KEY, key_type).pair;
  const bridge::PublicKeyValues values = rules.public_from_template(t);
  // Usages no mechanism of the type serves are FALSE (EC public keys do not encrypt).
  const auto unserved_false = [&](AttrMap& attrs) {
    for (const CK_ATTRIBUTE_TYPE usage : rules.unserved_usages) {
      if (attrs.contains(usage)) {
        attrs[usage] = bool_bytes(false);
      }
    }
  };
  if (attr_true(t, CKA_TOKEN)) {
    rules.validate(values);  // before anything is stored
    AttrMap attrs = with_defaults(t, *schema);
    unserved_false(attrs);
    const ObjectPtr obj = create_token_public_key(context_, values, attrs);
    std::unique_lock lock(mutex_);
    return register_public_only(obj);
  }
  auto obj = std::make_shared<Object>();
  obj->object_class = CKO_PUBLIC_KEY;
  obj->subtype = key_type;
  obj->owner = s.handle;
  obj->attrs = with_defaults(t, *schema);
  unserved_false(obj->attrs);
  rules.validate(values);
  // The type's public values in their canonical form (CKA_MODULUS without leading zeros,
  // CKA_MODULUS_BITS, CKA_EC_POINT as a DER OCTET STRING).
  for (const bridge::SchemaEntry& e : schema->entries) {
    if (auto value = rules.public_attribute(e.type, values)) {
      obj->attrs[e.type] = std::move(*value);
    }
  }
  obj->attrs[CKA_PUBLIC_KEY_INFO] = rules.spki_der(values);
  obj->attrs[CKA_LOCAL] = bool_bytes(false);
  obj->attrs[CKA_UNIQUE_ID] = to_bytes(random_hex(16));
  std::unique_lock lock(mutex_);
  return insert(obj);
}

CK_OBJECT_HANDLE ObjectLayerImpl::generate_key(const SessionContext& s,
                                               const CK_MECHANISM& mechanism,
                                               std::span<const CK_ATTRIBUTE> tmpl) {
  const AttrMap t = parse_template(tmpl);
  check_officer_only(t, s.security_officer);
  if (attr_true(t, CKA_TOKEN)) {
    check_token_write(s);
  }
  const ObjectPtr obj = generate_secret_key(context_, mechanism, t, s.handle);
  std::unique_lock lock(mutex_);
  return register_secret(obj);
}

// A secret key of a known value becomes a CNG key (imported as a cipher key blob): from
// C_CreateObject (base null), or derived from base.
CK_OBJECT_HANDLE ObjectLayerImpl::create_secret_key(const SessionContext& s, const AttrMap& t,
                                                    const SecretBytes& value, const Object* base) {
  const CK_KEY_TYPE key_type = attr_ulong(t, CKA_KEY_TYPE).value_or(CKK_GENERIC_SECRET);
  const bridge::Schema* schema = bridge::schema_for(CKO_SECRET_KEY, key_type);
  if (schema == nullptr) {
    fail(t.contains(CKA_KEY_TYPE) ? CKR_ATTRIBUTE_VALUE_INVALID : CKR_TEMPLATE_INCOMPLETE,
         "only generic secret and AES keys");
  }
  if (mech::key_size_range(key_type, context_.capabilities).max_bits == 0) {
    // A key type the slot keeps none of (no AES or generic secret on the platform provider).
    fail(CKR_ATTRIBUTE_VALUE_INVALID, "the slot keeps no keys of this type");
  }
  if (base == nullptr) {
    validate_template(t, *schema, TemplateOp::kCreate);
  }
  if (attr_true(t, CKA_TOKEN)) {
    check_token_write(s);
  }
  AttrMap attrs = with_defaults(t, *schema);
  attrs[CKA_CLASS] = ulong_bytes(CKO_SECRET_KEY);
  attrs[CKA_KEY_TYPE] = ulong_bytes(key_type);
  const bool sensitive = attr_true(attrs, CKA_SENSITIVE);
  const bool extractable = attr_true(attrs, CKA_EXTRACTABLE);
  if (base != nullptr) {  // derived: history follows the base key (PKCS#11 §4.10 footnotes)
    attrs[CKA_LOCAL] = bool_bytes(false);
    attrs[CKA_KEY_GEN_MECHANISM] = ulong_bytes(CKM_ECDH1_DERIVE);
    attrs[CKA_ALWAYS_SENSITIVE] =
        bool_bytes(sensitive && attr_true(base->attrs, CKA_ALWAYS_SENSITIVE));
    attrs[CKA_NEVER_EXTRACTABLE] =
        bool_bytes(!extractable && attr_true(base->attrs, CKA_NEVER_EXTRACTABLE));
  } else {  // imported: not generated here, so no history (§4.10 footnotes)
    attrs[CKA_LOCAL] = bool_bytes(false);
    attrs[CKA_KEY_GEN_MECHANISM] = ulong_bytes(CK_UNAVAILABLE_INFORMATION);
    attrs[CKA_ALWAYS_SENSITIVE] = bool_bytes(false);
    attrs[CKA_NEVER_EXTRACTABLE] = bool_bytes(false);
  }
  const ObjectPtr obj = import_secret_key(context_, key_type, attrs, value, s.handle);
  std::unique_lock lock(mutex_);
  return register_secret(obj);
}

CK_OBJECT_HANDLE ObjectLayerImpl::copy_object(const SessionContext& s, CK_OBJECT_HANDLE object,
                                              std::span<const CK_ATTRIBUTE> tmpl) {
  const AttrMap changes = parse_template(tmpl);
  check_officer_only(changes, s.security_officer);
  const KeyPin pin = hold_full(object);
  Object source;
  {
    std::shared_lock lock(mutex_);
    source = *require(object);
  }
  check_private_access(s, source);
  if (!attr_bool(source.attrs, CKA_COPYABLE).value_or(true)) {
    fail(CKR_ACTION_PROHIBITED, "object is not copyable");
  }
  check_changes(source, changes, *bridge::schema_for(source.object_class, source.subtype),
                TemplateOp::kCopy);
  AttrMap attrs = source.attrs;
  for (const auto& [type, value] : changes) {
    attrs[type] = value;
  }
  const bool to_token = attr_true(attrs, CKA_TOKEN);
  if (to_token) {
    check_token_write(s);
  }
  if (source.object_class == CKO_CERTIFICATE) {
    auto cert = std::make_shared<Object>(source);
    cert->handle = CK_INVALID_HANDLE;
    cert->attrs = std::move(attrs);
    cert->token = to_token;
    return store_certificate(s, std::move(cert));
  }
  if (source.object_class == CKO_DATA) {
    check_data_values(attrs, to_token);  // the new values, and a session value too large to store
    auto data = std::make_shared<Object>(source);
    data->handle = CK_INVALID_HANDLE;
    data->attrs = std::move(attrs);
    data->token = to_token;
    data->data_id.clear();
    return store_data_object(s, std::move(data));
  }
  if (source.object_class == CKO_PRIVATE_KEY && to_token) {
    // A new persisted CNG key: export + import (key_factory.h explains the session case).
    const KeyPairObjects pair = copy_private_key_to_token(context_for(s), source, attrs, s.handle);
    std::unique_lock lock(mutex_);
    return register_pair(pair);
  }
  if (source.object_class == CKO_SECRET_KEY && to_token) {
    // A new persisted CNG key of the same value: the source must let its value out (every
    // session key does, inside this process; a token key only when not sensitive).
    const std::optional<SecretBytes> value = secret_key_value(source);
    if (!value) {  // CKR_ACTION_PROHIBITED: see copy_private_key_to_token
      fail(CKR_ACTION_PROHIBITED, "the CNG key's Export Policy forbids the copy");
    }
    const ObjectPtr copy = import_secret_key(context_, source.subtype, attrs, *value, s.handle);
    std::unique_lock lock(mutex_);
    return register_secret(copy);
  }
  if (source.object_class == CKO_PUBLIC_KEY && to_token) {
    // A new persisted public-only CNG key of the same value (a public value always leaves),
    // with a unique id of its own.
    attrs.erase(CKA_UNIQUE_ID);
    const bridge::KeyPairRules& rules =
        *bridge::key_type_for_template(CKO_PUBLIC_KEY, source.subtype).pair;
    const ObjectPtr copy =
        create_token_public_key(context_, rules.public_from_template(attrs), attrs);
    std::unique_lock lock(mutex_);
    return register_public_only(copy);
  }
  if (to_token) {
    fail(CKR_ATTRIBUTE_VALUE_INVALID, "this object class cannot become a token object");
  }
  // A session copy: a new object over the same CNG key (or secret), no new key material.
  auto copy = std::make_shared<Object>(source);
  copy->handle = CK_INVALID_HANDLE;
  copy->token = false;
  copy->owner = s.handle;
  copy->twin = CK_INVALID_HANDLE;
  copy->cert_id.clear();
  copy->attrs = std::move(attrs);
  copy->attrs[CKA_UNIQUE_ID] = to_bytes(random_hex(16));
  std::unique_lock lock(mutex_);
  return insert(copy);
}

CK_OBJECT_HANDLE ObjectLayerImpl::derive_key(const SessionContext& s, const CK_MECHANISM& mechanism,
                                             CK_OBJECT_HANDLE base_key,
                                             std::span<const CK_ATTRIBUTE> tmpl) {
  if (mechanism.mechanism != CKM_ECDH1_DERIVE) {
    fail(CKR_MECHANISM_INVALID, "only CKM_ECDH1_DERIVE derives keys");
  }
  const AttrMap t = parse_template(tmpl);
  check_officer_only(t, s.security_officer);
  const KeyPin pin = hold_full(base_key);
  const KeyView view = key_view(s, base_key);
  Object base;
  {
    std::shared_lock lock(mutex_);
    base = *require(base_key);
  }
  if (view.object_class != CKO_PRIVATE_KEY ||
      view.key_type != mech::find_mechanism(CKM_ECDH1_DERIVE)->key_type) {
    fail(CKR_KEY_TYPE_INCONSISTENT, "ECDH needs an EC private key");
  }
  if (!view.can_derive) {
    fail(CKR_KEY_FUNCTION_NOT_PERMITTED, "the key's CKA_DERIVE is FALSE");
  }
  if (attr_ulong(t, CKA_CLASS).value_or(CKO_SECRET_KEY) != CKO_SECRET_KEY) {
    fail(CKR_TEMPLATE_INCONSISTENT, "ECDH derives secret keys");
  }
  const CK_KEY_TYPE key_type = attr_ulong(t, CKA_KEY_TYPE).value_or(CKK_GENERIC_SECRET);
  const bridge::Schema* schema = bridge::schema_for(CKO_SECRET_KEY, key_type);
  if (schema == nullptr) {
    fail(CKR_TEMPLATE_INCONSISTENT, "only generic secret and AES keys");
  }
  validate_template(t, *schema, TemplateOp::kGenerate);
  const CK_ULONG value_len = attr_ulong(t, CKA_VALUE_LEN).value_or(0);
  // A type with fixed lengths (AES) needs one; others take the derived length as asked.
  if (const bridge::SecretKeyRules* rules = bridge::find_key_type(key_type)->secret;
      rules->aes_lengths && !rules->length_ok(value_len)) {
    fail(value_len == 0 ? CKR_TEMPLATE_INCOMPLETE : CKR_ATTRIBUTE_VALUE_INVALID,
         "AES keys need CKA_VALUE_LEN 16, 24 or 32");
  }
  std::vector<std::uint8_t> derived =
      ecdh_derive(mechanism, view, value_len, context_.capabilities, s.user_pin.get());
  SecretBytes value(derived.begin(), derived.end());
  OPENSSL_cleanse(derived.data(), derived.size());
  return create_secret_key(s, t, std::move(value), &base);
}

}  // namespace p11::objects
