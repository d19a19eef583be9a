// ObjectLayerImpl: C_WrapKey and C_UnwrapKey (PKCS#11 3.0 §5.18) with the AES key-wrap
// mechanisms. The wrapping happens inside NCrypt (cng_model ncrypt.h, "Key wrapping"):
// NCryptExportKey / NCryptImportKey with the AES key-encryption key as hExportKey /
// hImportKey, so no key value ever reaches the module.
//   CKM_AES_KEY_WRAP      ⇄ BCRYPT_AES_WRAP_KEY_BLOB (RFC 3394; the key must be a multiple of
//                           8 bytes, at least 16)
//   CKM_AES_KEY_WRAP_PAD  ⇄ NCRYPT_AES_WRAP_PKCS7_KEY_BLOB (v2.40: RFC 3394 over the key
//                           padded with PKCS#7)
//   CKM_AES_KEY_WRAP_KWP  ⇄ NCRYPT_AES_WRAP_PAD_KEY_BLOB (RFC 5649)
// What is wrapped: a secret key's value, or an RSA/EC private key's PKCS#8 PrivateKeyInfo.
// The module enforces the PKCS#11 rules (CKA_WRAP/CKA_UNWRAP, CKA_EXTRACTABLE,
// CKA_WRAP_WITH_TRUSTED) itself: session keys carry an internal Export Policy that lets them
// out (key_factory.h), so CNG alone would not refuse. CKA_WRAP_TEMPLATE of the wrapping key:
// the wrapped key must have each of its attributes with that value (else
// CKR_KEY_NOT_WRAPPABLE). CKA_UNWRAP_TEMPLATE of the unwrapping key: merged into the unwrap
// template; the same attribute with another value there is CKR_TEMPLATE_INCONSISTENT.
#include <algorithm>
#include <array>

#include "bridge/class_schema.h"
#include "bridge/status_map.h"
#include "core/p11_error.h"
#include "mechanisms/registry.h"
#include "objects/object_layer_impl.h"
#include "objects/secret_keys.h"
#include "objects/template_rules.h"

namespace p11::objects {

namespace {

constexpr std::array<std::uint8_t, 8> kRfc3394Iv = {0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6};
constexpr std::array<std::uint8_t, 4> kRfc5649Iv = {0xA6, 0x59, 0x59, 0xA6};

// The blob type of a key-wrap mechanism. Its parameter: none, or the mechanism's default IV
// (RFC 3394's A6A6A6A6A6A6A6A6; RFC 5649's A65959A6); any other IV is
// CKR_MECHANISM_PARAM_INVALID, as CNG knows only the defaults.
const char16_t* blob_type_of(const CK_MECHANISM& mechanism) {
  const bool kwp = mechanism.mechanism == CKM_AES_KEY_WRAP_KWP;
  if (mechanism.pParameter != nullptr || mechanism.ulParameterLen != 0) {
    const std::span<const std::uint8_t> iv =
        kwp ? std::span<const std::uint8_t>(kRfc5649Iv) : std::span<const std::uint8_t>(kRfc3394Iv);
    const auto* given = static_cast<const std::uint8_t*>(mechanism.pParameter);
    if (given == nullptr || mechanism.ulParameterLen != iv.size() ||
        !std::equal(iv.begin(), iv.end(), given)) {
      fail(CKR_MECHANISM_PARAM_INVALID, "only the default key-wrap IV");
    }
  }
  switch (mechanism.mechanism) {
    case CKM_AES_KEY_WRAP:
      return BCRYPT_AES_WRAP_KEY_BLOB;
    case CKM_AES_KEY_WRAP_PAD:
      return NCRYPT_AES_WRAP_PKCS7_KEY_BLOB;
    default:
      return NCRYPT_AES_WRAP_PAD_KEY_BLOB;
  }
}

// The smallest wrapping a mechanism makes (a 16-byte key, or 1..8 bytes with KWP) and its
// granularity: anything else cannot be a wrapped key (CKR_WRAPPED_KEY_LEN_RANGE).
bool wrapped_length_ok(CK_MECHANISM_TYPE mechanism, std::size_t length) {
  const std::size_t minimum = mechanism == CKM_AES_KEY_WRAP_KWP ? 16 : 24;
  return length >= minimum && length % 8 == 0;
}

// The checks on the key-encryption key, in spec order: type (class AES secret), usage
// attribute, CKA_ALLOWED_MECHANISMS, key size. bad_type is the call's
// *_KEY_TYPE_INCONSISTENT.
void check_kek(const mech::MechanismSpec& spec, const KeyView& kek, bool usage, CK_RV bad_type,
               const slots::Capabilities& caps) {
  if (kek.object_class != CKO_SECRET_KEY || kek.key_type != CKK_AES || kek.ncrypt_key == 0) {
    fail(bad_type, "key wrapping needs an AES secret key");
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
  const char16_t* blob_type = blob_type_of(mechanism);
  KeyView kek;
  try {
    kek = key_view(s, wrapping_key);
  } catch (const P11Error& e) {
    fail(e.rv() == CKR_KEY_HANDLE_INVALID ? CKR_WRAPPING_KEY_HANDLE_INVALID : e.rv(), e.what());
  }
  check_kek(spec, kek, kek.can_wrap, CKR_WRAPPING_KEY_TYPE_INCONSISTENT, context_.capabilities);
  Object target;
  bool kek_trusted = false;
  AttrMap wrap_template;
  {
    std::shared_lock lock(mutex_);
    const ObjectPtr o = lookup(key);
    if (!o || (o->object_class != CKO_SECRET_KEY && o->object_class != CKO_PRIVATE_KEY &&
               o->object_class != CKO_PUBLIC_KEY)) {
      fail(CKR_KEY_HANDLE_INVALID, "not a key object");
    }
    target = *o;
    if (const ObjectPtr w = lookup(wrapping_key)) {
      kek_trusted = attr_true(w->attrs, CKA_TRUSTED);
      if (const auto it = w->attrs.find(CKA_WRAP_TEMPLATE); it != w->attrs.end()) {
        wrap_template = decode_attribute_array(it->second);
      }
    }
  }
  if (target.object_class == CKO_PUBLIC_KEY || !target.key) {
    fail(CKR_KEY_NOT_WRAPPABLE, "only secret and private keys are wrapped");
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
  DWORD size = 0;
  check_status(NCryptExportKey(target.key->handle(), kek.ncrypt_key, blob_type, nullptr, nullptr, 0,
                               &size, 0),
               NcryptContext::kWrap, "NCryptExportKey");
  Bytes out(size);
  check_status(NCryptExportKey(target.key->handle(), kek.ncrypt_key, blob_type, nullptr, out.data(),
                               size, &size, 0),
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
  const char16_t* blob_type = blob_type_of(mechanism);
  KeyView kek;
  try {
    kek = key_view(s, unwrapping_key);
  } catch (const P11Error& e) {
    fail(e.rv() == CKR_KEY_HANDLE_INVALID ? CKR_UNWRAPPING_KEY_HANDLE_INVALID : e.rv(), e.what());
  }
  check_kek(spec, kek, kek.can_unwrap, CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT, context_.capabilities);
  AttrMap t = parse_template(tmpl);
  merge_unwrap_template(t, unwrap_template_of(unwrapping_key));
  check_officer_only(t, s.security_officer);  // also what the unwrap template asks for
  const auto cls = attr_ulong(t, CKA_CLASS);
  const auto key_type = attr_ulong(t, CKA_KEY_TYPE);
  if (!cls || !key_type) {
    fail(CKR_TEMPLATE_INCOMPLETE, "C_UnwrapKey needs CKA_CLASS and CKA_KEY_TYPE");
  }
  if (!wrapped_length_ok(mechanism.mechanism, wrapped.size())) {
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
  const WrappedKey source{kek.ncrypt_key, blob_type, wrapped};
  if (*cls == CKO_PRIVATE_KEY) {
    const KeyPairObjects pair = unwrap_private_key(context_, t, source, s.handle);
    std::unique_lock lock(mutex_);
    return register_pair(pair);
  }
  if (*cls != CKO_SECRET_KEY) {
    fail(CKR_TEMPLATE_INCONSISTENT, "only secret and private keys are unwrapped");
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
