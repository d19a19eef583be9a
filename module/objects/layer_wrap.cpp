// ObjectLayerImpl: C_WrapKey and C_UnwrapKey (PKCS#11 3.0 §5.18) with the AES key-wrap
// mechanisms and RSA PKCS#1 v1.5 / OAEP. The wrapping happens inside NCrypt (cng_model
// ncrypt.h, "Key wrapping" and "RSA-encrypted key blobs"): NCryptExportKey / NCryptImportKey
// with the key-encryption key as hExportKey / hImportKey, so no key value ever reaches the
// module. Which blob each mechanism makes: objects/wrap_mechanisms.h.
// What is wrapped: a secret key's value, or (AES only) an RSA/EC private key's PKCS#8
// PrivateKeyInfo. RSA wraps under the public key (CKA_WRAP) and unwraps with the private key
// (CKA_UNWRAP); a session public key, which has no CNG key, is imported for the call.
// The module enforces the PKCS#11 rules (CKA_WRAP/CKA_UNWRAP, CKA_EXTRACTABLE,
// CKA_WRAP_WITH_TRUSTED) itself: session keys carry an internal Export Policy that lets them
// out (key_factory.h), so CNG alone would not refuse. CKA_WRAP_TEMPLATE of the wrapping key:
// the wrapped key must have each of its attributes with that value (else
// CKR_KEY_NOT_WRAPPABLE). CKA_UNWRAP_TEMPLATE of the unwrapping key: merged into the unwrap
// template; the same attribute with another value there is CKR_TEMPLATE_INCONSISTENT.
#include <algorithm>
#include <optional>

#include "bridge/class_schema.h"
#include "bridge/status_map.h"
#include "core/p11_error.h"
#include "mechanisms/registry.h"
#include "objects/object_layer_impl.h"
#include "objects/secret_keys.h"
#include "objects/template_rules.h"
#include "objects/wrap_mechanisms.h"

namespace p11::objects {

namespace {

// The mechanism's wrap row; the registry offers the wrap flags only for mechanisms with one.
const WrapMechanism& wrap_row(CK_MECHANISM_TYPE type) {
  const WrapMechanism* row = find_wrap_mechanism(type);
  if (row == nullptr) {
    fail(CKR_MECHANISM_INVALID, "not a key-wrap mechanism");
  }
  return *row;
}

// The checks on the key-encryption key, in spec order: type (the mechanism's class and key
// type), usage attribute, CKA_ALLOWED_MECHANISMS, key size. bad_type is the call's
// *_KEY_TYPE_INCONSISTENT.
void check_kek(const mech::MechanismSpec& spec, const KeyView& kek, CK_OBJECT_CLASS cls,
               CK_KEY_TYPE key_type, bool usage, CK_RV bad_type, const slots::Capabilities& caps) {
  if (kek.object_class != cls || kek.key_type != key_type ||
      (cls != CKO_PUBLIC_KEY && kek.ncrypt_key == 0)) {
    fail(bad_type, "the key does not fit the key-wrap mechanism");
  }
  if (!usage) {
    fail(CKR_KEY_FUNCTION_NOT_PERMITTED, "the key's CKA_WRAP/CKA_UNWRAP is FALSE");
  }
  if (!kek.allowed_mechanisms.empty() &&
      std::find(kek.allowed_mechanisms.begin(), kek.allowed_mechanisms.end(), spec.type) ==
          kek.allowed_mechanisms.end()) {
    fail(CKR_MECHANISM_INVALID, "mechanism not in the key's CKA_ALLOWED_MECHANISMS");
  }
  mech::check_key_size(spec, kek, caps);
}

// The mechanism that generates keys of a class and type (CKM_VENDOR_DEFINED for none).
CK_MECHANISM_TYPE key_type_generator(CK_OBJECT_CLASS cls, CK_KEY_TYPE key_type) {
  const bridge::KeyTypeDescriptor* type = bridge::find_key_type(key_type);
  return type != nullptr && type->key_class() == cls ? type->generate_mechanism
                                                     : CKM_VENDOR_DEFINED;
}

// CKA_UNWRAP_TEMPLATE merged into the caller's template (§4.10): its attributes are added;
// one the caller gives with another value is CKR_TEMPLATE_INCONSISTENT.
void merge_unwrap_template(AttrMap& t, const AttrMap& unwrap_template) {
  for (const auto& [type, value] : unwrap_template) {
    const auto [it, inserted] = t.emplace(type, value);
    if (!inserted && it->second != value) {
      fail(CKR_TEMPLATE_INCONSISTENT, "the template conflicts with CKA_UNWRAP_TEMPLATE");
    }
  }
}

}  // namespace

Bytes ObjectLayerImpl::wrap_key(const SessionContext& s, const CK_MECHANISM& mechanism,
                                CK_OBJECT_HANDLE wrapping_key, CK_OBJECT_HANDLE key) {
  const mech::MechanismSpec& spec =
      mech::offered_mechanism(mechanism.mechanism, CKF_WRAP, context_.capabilities);
  WrapCall call(spec, wrap_row(mechanism.mechanism), mechanism);
  const WrapMechanism& row = call.row();
  const KeyPin key_pin = hold_full(key);
  const KeyPin kek_pin = hold_full(wrapping_key);
  KeyView kek;
  try {
    kek = key_view(s, wrapping_key);
  } catch (const P11Error& e) {
    fail(e.rv() == CKR_KEY_HANDLE_INVALID ? CKR_WRAPPING_KEY_HANDLE_INVALID : e.rv(), e.what());
  }
  check_kek(spec, kek, row.wrapping_class, row.kek_type, kek.can_wrap,
            CKR_WRAPPING_KEY_TYPE_INCONSISTENT, context_.capabilities);
  Object target;
  Object kek_object;
  bool kek_trusted = false;
  AttrMap wrap_template;
  {
    std::shared_lock lock(mutex_);
    const ObjectPtr o = lookup(key);
    if (!o || (o->object_class != CKO_SECRET_KEY && o->object_class != CKO_PRIVATE_KEY &&
               o->object_class != CKO_PUBLIC_KEY)) {
      fail(CKR_KEY_HANDLE_INVALID, "not a key object");
    }
    check_private_access(s, *o);
    target = *o;
    if (const ObjectPtr w = lookup(wrapping_key)) {
      kek_object = *w;
      kek_trusted = attr_true(w->attrs, CKA_TRUSTED);
      if (const auto it = w->attrs.find(CKA_WRAP_TEMPLATE); it != w->attrs.end()) {
        wrap_template = decode_attribute_array(it->second);
      }
    }
  }
  if (target.object_class == CKO_PUBLIC_KEY || !target.key ||
      (target.object_class == CKO_PRIVATE_KEY && !row.wraps_private_keys)) {
    fail(CKR_KEY_NOT_WRAPPABLE, row.wraps_private_keys ? "only secret and private keys are wrapped"
                                                       : "this mechanism wraps only secret keys");
  }
  if (!attr_true(target.attrs, CKA_EXTRACTABLE)) {
    fail(CKR_KEY_UNEXTRACTABLE, "the key's CKA_EXTRACTABLE is FALSE");
  }
  if (attr_true(target.attrs, CKA_WRAP_WITH_TRUSTED) && !kek_trusted) {
    fail(CKR_KEY_NOT_WRAPPABLE, "CKA_WRAP_WITH_TRUSTED needs a wrapping key with CKA_TRUSTED");
  }
  for (const auto& [type, value] : wrap_template) {
    const auto it = target.attrs.find(type);
    if (it == target.attrs.end() || it->second != value) {
      fail(CKR_KEY_NOT_WRAPPABLE, "the key does not match the wrapping key's CKA_WRAP_TEMPLATE");
    }
  }
  if (row.kek_type == CKK_RSA &&
      !call.key_fits(attr_ulong(target.attrs, CKA_VALUE_LEN).value_or(0), kek)) {
    fail(CKR_KEY_SIZE_RANGE, "the key is too long for the wrapping key's modulus");
  }
  // An RSA public key: its CNG key, or one imported for the call.
  std::optional<PublicKeyHandle> public_kek;
  if (row.wrapping_class == CKO_PUBLIC_KEY) {
    public_kek.emplace(context_.provider, kek_object);
  }
  const NCRYPT_KEY_HANDLE kek_handle = public_kek ? public_kek->get() : kek.ncrypt_key;
  DWORD size = 0;
  check_status(NCryptExportKey(target.key->handle(), kek_handle, row.blob_type,
                               call.export_parameters(), nullptr, 0, &size, 0),
               NcryptContext::kWrap, "NCryptExportKey");
  Bytes out(size);
  check_status(NCryptExportKey(target.key->handle(), kek_handle, row.blob_type,
                               call.export_parameters(), out.data(), size, &size, 0),
               NcryptContext::kWrap, "NCryptExportKey");
  out.resize(size);
  return out;
}

AttrMap ObjectLayerImpl::unwrap_template_of(CK_OBJECT_HANDLE unwrapping_key) const {
  std::shared_lock lock(mutex_);
  const ObjectPtr o = lookup(unwrapping_key);
  if (!o) {
    return {};
  }
  const auto it = o->attrs.find(CKA_UNWRAP_TEMPLATE);
  return it == o->attrs.end() ? AttrMap{} : decode_attribute_array(it->second);
}

CK_OBJECT_HANDLE ObjectLayerImpl::unwrap_key(const SessionContext& s, const CK_MECHANISM& mechanism,
                                             CK_OBJECT_HANDLE unwrapping_key,
                                             std::span<const std::uint8_t> wrapped,
                                             std::span<const CK_ATTRIBUTE> tmpl) {
  const mech::MechanismSpec& spec =
      mech::offered_mechanism(mechanism.mechanism, CKF_UNWRAP, context_.capabilities);
  WrapCall call(spec, wrap_row(mechanism.mechanism), mechanism);
  const WrapMechanism& row = call.row();
  const KeyPin kek_pin = hold_full(unwrapping_key);
  KeyView kek;
  try {
    kek = key_view(s, unwrapping_key);
  } catch (const P11Error& e) {
    fail(e.rv() == CKR_KEY_HANDLE_INVALID ? CKR_UNWRAPPING_KEY_HANDLE_INVALID : e.rv(), e.what());
  }
  check_kek(spec, kek, row.unwrapping_class, row.kek_type, kek.can_unwrap,
            CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT, context_.capabilities);
  AttrMap t = parse_template(tmpl);
  merge_unwrap_template(t, unwrap_template_of(unwrapping_key));
  check_officer_only(t, s.security_officer);  // also what the unwrap template asks for
  const auto cls = attr_ulong(t, CKA_CLASS);
  const auto key_type = attr_ulong(t, CKA_KEY_TYPE);
  if (!cls || !key_type) {
    fail(CKR_TEMPLATE_INCOMPLETE, "C_UnwrapKey needs CKA_CLASS and CKA_KEY_TYPE");
  }
  if (!call.wrapped_length_ok(wrapped.size(), kek)) {
    fail(CKR_WRAPPED_KEY_LEN_RANGE, "not a length this mechanism wraps to");
  }
  // The slot must keep keys of that type (the key's generation mechanism is offered).
  const mech::MechanismSpec* keeps = mech::find_mechanism(key_type_generator(*cls, *key_type));
  if (keeps == nullptr || !mech::offered_on(*keeps, context_.capabilities)) {
    fail(CKR_TEMPLATE_INCONSISTENT, "this slot keeps no keys of that class and type");
  }
  if (attr_true(t, CKA_TOKEN)) {
    check_token_write(s);
  }
  const WrappedKey source{kek.ncrypt_key, row.blob_type, wrapped, call.buffers()};
  if (*cls == CKO_PRIVATE_KEY && row.wraps_private_keys) {
    const KeyPairObjects pair = unwrap_private_key(context_for(s), t, source, s.handle);
    std::unique_lock lock(mutex_);
    return register_pair(pair);
  }
  if (*cls != CKO_SECRET_KEY) {
    fail(CKR_TEMPLATE_INCONSISTENT, row.wraps_private_keys
                                        ? "only secret and private keys are unwrapped"
                                        : "this mechanism unwraps only secret keys");
  }
  const bridge::Schema* schema = bridge::schema_for(CKO_SECRET_KEY, *key_type);
  if (schema == nullptr) {
    fail(CKR_TEMPLATE_INCONSISTENT, "only generic secret and AES keys");
  }
  validate_template(t, *schema, TemplateOp::kGenerate);
  AttrMap attrs = with_defaults(t, *schema);
  // Unwrapped: not generated here, so no history (PKCS#11 §4.10 footnotes).
  attrs[CKA_LOCAL] = bool_bytes(false);
  attrs[CKA_KEY_GEN_MECHANISM] = ulong_bytes(CK_UNAVAILABLE_INFORMATION);
  attrs[CKA_ALWAYS_SENSITIVE] = bool_bytes(false);
  attrs[CKA_NEVER_EXTRACTABLE] = bool_bytes(false);
  if (const auto len = t.find(CKA_VALUE_LEN); len != t.end()) {
    attrs[CKA_VALUE_LEN] = len->second;  // checked against the unwrapped length
  }
  const ObjectPtr obj = unwrap_secret_key(context_, *key_type, attrs, source, s.handle);
  std::unique_lock lock(mutex_);
  return register_secret(obj);
}

}  // namespace p11::objects
