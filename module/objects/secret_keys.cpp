#include "objects/secret_keys.h"

#include <array>

#include "bridge/attribute_map.h"
#include "bridge/cipher_key_blob.h"
#include "bridge/class_schema.h"
#include "bridge/key_blobs.h"
#include "bridge/key_types/key_type.h"
#include "bridge/ncrypt_props.h"
#include "bridge/utf.h"
#include "core/p11_error.h"
#include "mechanisms/registry.h"
#include "mechanisms/secret_ops.h"
#include "objects/key_naming.h"
#include "objects/template_rules.h"

namespace p11::objects {

namespace {

using Check = bridge::SecretKeyRules::Check;
using SecretKeyType = bridge::KeyTypeDescriptor;  // a descriptor with secret rules

constexpr std::size_t kCheckValueBytes = 3;

// Key Usage bits from the usage attributes (the attribute table names each one's bit). A key
// with CKA_WRAP or CKA_UNWRAP also gets NCRYPT_ALLOW_KEY_IMPORT_FLAG: CNG asks it of a
// key-encryption key, for NCryptExportKey and NCryptImportKey under it alike (ncrypt.h, "Key
// wrapping"). Setting CKA_WRAP/CKA_UNWRAP later does not change the Key Usage: such a key
// cannot wrap (CKR_KEY_FUNCTION_NOT_PERMITTED).
DWORD usage_bits(const AttrMap& attrs) {
  DWORD usage = attr_true(attrs, CKA_WRAP) || attr_true(attrs, CKA_UNWRAP)
                    ? static_cast<DWORD>(NCRYPT_ALLOW_KEY_IMPORT_FLAG)
                    : 0;
  for (const auto& [type, value] : attrs) {
    const auto* info = bridge::attribute_info(type);
    if (info != nullptr && info->source == bridge::CngSource::kKeyUsage && attr_true(attrs, type)) {
      usage |= info->usage_bit;
    }
  }
  return usage;
}

// Export Policy, Key Usage and the custom properties, then NCryptFinalizeKey. false when the
// name was taken meanwhile (NTE_EXISTS at finalize).
bool configure_and_finalize(NCRYPT_KEY_HANDLE h, bool persisted, CK_KEY_TYPE key_type,
                            const AttrMap& attrs) {
  bridge::set_dword_property(h, NCRYPT_EXPORT_POLICY_PROPERTY, export_policy(persisted, attrs), 0,
                             NcryptContext::kKeyGen);
  bridge::set_dword_property(h, NCRYPT_KEY_USAGE_PROPERTY, usage_bits(attrs), 0,
                             NcryptContext::kKeyGen);
  if (persisted) {
    write_custom_properties(h, CKO_SECRET_KEY, key_type, attrs);
  }
  const SECURITY_STATUS st = NCryptFinalizeKey(h, 0);
  if (st == NTE_EXISTS) {
    return false;
  }
  check_status(st, NcryptContext::kKeyGen, "NCryptFinalizeKey");
  return true;
}

// The properties an imported key keeps: the value, its length and check value come from
// the key itself.
AttrMap import_props(const AttrMap& attrs) {
  AttrMap props = attrs;
  props.erase(CKA_VALUE);
  props.erase(CKA_VALUE_LEN);
  props.erase(CKA_CHECK_VALUE);
  return props;
}

void delete_persisted(const SlotContext& slot, const CngKey& key) {
  if (!key.persisted()) {
    return;
  }
  NCRYPT_KEY_HANDLE victim = 0;
  if (NCryptOpenKey(slot.provider, &victim, key.name().c_str(), 0, slot.scope_flag) ==
      ERROR_SUCCESS) {
    NCryptDeleteKey(victim, 0);
  }
}

// NCryptImportKey of a blob under a name (persisted keys), then properties and finalize: a
// cipher key blob in the clear, or (wrapped non-null) a key wrapped under wrapped's
// key-encryption key, whose NCRYPTBUFFER_PKCS_ALG_ID names the algorithm expected inside.
std::shared_ptr<CngKey> import_named(const SlotContext& slot, const SecretKeyType& type,
                                     const AttrMap& props, const WrappedKey* wrapped,
                                     const char16_t* blob_type, ByteView blob) {
  const bool persisted = attr_true(props, CKA_TOKEN);
  return create_named(slot, persisted, props, [&](const char16_t* name) -> NCRYPT_KEY_HANDLE {
    ImportParameters params(
        name, wrapped != nullptr ? type.cng_algorithm : nullptr,
        wrapped != nullptr ? wrapped->parameters : std::span<const NCryptBuffer>{});
    PendingKey pending;
    const SECURITY_STATUS st = NCryptImportKey(
        slot.provider, wrapped != nullptr ? wrapped->unwrapping_key : 0, blob_type, params.get(),
        &pending.h, const_cast<std::uint8_t*>(blob.data()), static_cast<DWORD>(blob.size()),
        NCRYPT_DO_NOT_FINALIZE_FLAG | slot.scope_flag);
    if (st == NTE_EXISTS) {
      return 0;
    }
    check_status(st, wrapped != nullptr ? NcryptContext::kUnwrap : NcryptContext::kImport,
                 "NCryptImportKey");
    if (!configure_and_finalize(pending.h, persisted, type.key_type, props)) {
      return 0;
    }
    return pending.release();
  });
}

// The value through NCryptExportKey of a cipher key blob; nullopt when the Export Policy
// refuses it.
std::optional<SecretBytes> export_value(const CngKey& key) {
  try {
    const SecretBytes blob =
        bridge::export_key(key.handle(), NCRYPT_CIPHER_KEY_BLOB, NcryptContext::kExport);
    auto parsed = bridge::parse_cipher_key_blob(blob);
    if (!parsed) {
      fail(CKR_GENERAL_ERROR, "NCryptExportKey returned a malformed cipher key blob");
    }
    return std::move(parsed->value);
  } catch (const P11Error& e) {
    if (e.rv() == CKR_GENERAL_ERROR) {
      throw;
    }
    return std::nullopt;
  }
}

// AES-ECB of a zero block, through the cipher path every AES operation takes (mode and
// NCryptEncrypt under the handle's lock). nullopt when CNG refuses (a key without any cipher
// usage).
std::optional<Bytes> aes_zero_block_check(NCRYPT_KEY_HANDLE h,
                                          const std::shared_ptr<std::mutex>& lock) {
  KeyView view;
  view.ncrypt_key = h;
  view.handle_lock = lock;
  std::array<std::uint8_t, mech::kAesBlock> zero{};
  std::array<std::uint8_t, mech::kAesBlock> out{};
  NCRYPT_CIPHER_PADDING_INFO info{
      sizeof(NCRYPT_CIPHER_PADDING_INFO), NCRYPT_CIPHER_NO_PADDING_FLAG, nullptr, 0, nullptr, 0};
  try {
    if (mech::AesKey(view).crypt(true, BCRYPT_CHAIN_MODE_ECB, info, zero, out) != out.size()) {
      return std::nullopt;
    }
  } catch (const P11Error&) {
    return std::nullopt;
  }
  return Bytes(out.begin(), out.begin() + kCheckValueBytes);
}

Bytes sha1_check(ByteView value) {
  const Bytes digest = bridge::sha1(value);
  return Bytes(digest.begin(), digest.begin() + kCheckValueBytes);
}

// The AES check value of a known value, through a throw-away ephemeral CNG key of that value
// (the key being made may have no cipher usage at all).
std::optional<Bytes> aes_check_of_value(NCRYPT_PROV_HANDLE provider, ByteView value) {
  const SecretBytes blob = bridge::cipher_key_blob(NCRYPT_AES_ALGORITHM, value);
  PendingKey scratch;
  if (NCryptImportKey(provider, 0, NCRYPT_CIPHER_KEY_BLOB, nullptr, &scratch.h,
                      const_cast<std::uint8_t*>(blob.data()), static_cast<DWORD>(blob.size()),
                      0) != ERROR_SUCCESS) {
    return std::nullopt;
  }
  return aes_zero_block_check(scratch.h, std::make_shared<std::mutex>());
}

// The check value of a finalized key; value when the caller knows it. AES asks the key itself
// first; a value (given, or exported where the Export Policy lets it out) serves otherwise.
std::optional<Bytes> check_value_of(const SecretKeyType& type, const SlotContext& slot,
                                    const CngKey& key, std::optional<ByteView> value) {
  if (type.secret->check == Check::kZeroBlockEcb) {
    if (auto check = aes_zero_block_check(key.handle(), key.lock())) {
      return check;
    }
  }
  std::optional<SecretBytes> exported;
  if (!value) {  // known here only when the key may leave in the clear (or is ephemeral)
    exported = export_value(key);
    if (!exported) {
      return std::nullopt;
    }
    value = ByteView(*exported);
  }
  return type.secret->check == Check::kSha1OfValue ? sha1_check(*value)
                                                   : aes_check_of_value(slot.provider, *value);
}

// What the object layer reads from a secret CNG key, once per object.
struct SecretFacts {
  DWORD length_bits = 0;
  DWORD export_policy = 0;
  DWORD key_usage = 0;
};

SecretFacts read_secret_facts(NCRYPT_KEY_HANDLE h) {
  return {bridge::get_dword_property(h, NCRYPT_LENGTH_PROPERTY).value_or(0),
          bridge::get_dword_property(h, NCRYPT_EXPORT_POLICY_PROPERTY).value_or(0),
          bridge::get_dword_property(h, NCRYPT_KEY_USAGE_PROPERTY).value_or(0)};
}

// What CNG itself says of a secret key's attribute.
std::optional<Bytes> from_cng(CK_ATTRIBUTE_TYPE type, const SecretKeyType& key_type,
                              const SecretFacts& facts, const std::u16string& name) {
  switch (type) {
    case CKA_CLASS:
      return ulong_bytes(CKO_SECRET_KEY);
    case CKA_KEY_TYPE:
      return ulong_bytes(key_type.key_type);
    case CKA_LABEL:
      return to_bytes(utf16_to_utf8(name));
    case CKA_VALUE_LEN:
      return ulong_bytes(facts.length_bits / 8);
    case CKA_SENSITIVE:
    case CKA_EXTRACTABLE:
      return export_policy_attribute(type, facts.export_policy);
    default:
      break;
  }
  const auto* info = bridge::attribute_info(type);
  if (info != nullptr && info->source == bridge::CngSource::kKeyUsage) {
    return bool_bytes((facts.key_usage & info->usage_bit) != 0);
  }
  return std::nullopt;
}

// The object's attributes: overlay (what the creating call knows), then the persisted custom
// properties, then CNG, then the schema's defaults.
AttrMap secret_attrs(const SecretKeyType& key_type, const CngKey& key, const AttrMap& overlay) {
  const bridge::Schema* schema = bridge::schema_for(CKO_SECRET_KEY, key_type.key_type);
  if (schema == nullptr) {
    fail(CKR_GENERAL_ERROR, "no schema for a secret key");
  }
  const std::string unique =
      key.persisted()
          ? utf16_to_utf8(bridge::get_string_property(key.handle(), NCRYPT_UNIQUE_NAME_PROPERTY)
                              .value_or(key.name()))
          : random_hex(16);
  const SecretFacts facts = read_secret_facts(key.handle());
  AttrMap out;
  for (const bridge::SchemaEntry& e : schema->entries) {
    if (e.flags & bridge::kSensitive) {
      continue;  // CKA_VALUE: read on demand through NCryptExportKey
    }
    if (e.type == CKA_TOKEN) {
      out[e.type] = bool_bytes(key.persisted());
      continue;
    }
    if (e.type == CKA_UNIQUE_ID) {
      out[e.type] = to_bytes(unique);
      continue;
    }
    if (const auto it = overlay.find(e.type); it != overlay.end()) {
      out[e.type] = it->second;
      continue;
    }
    const auto* info = bridge::attribute_info(e.type);
    if (key.persisted() && info != nullptr && has_custom_property(e.type)) {
      const std::u16string name = bridge::custom_property_name(*info, false);
      if (const auto stored = bridge::get_property(key.handle(), name.c_str())) {
        if (auto value = from_stored(*info, *stored)) {
          out[e.type] = std::move(*value);
          continue;
        }
      }
    }
    if (auto value = from_cng(e.type, key_type, facts, key.name())) {
      out[e.type] = std::move(*value);
      continue;
    }
    if (auto value = schema_default(e)) {
      out[e.type] = std::move(*value);
    }
  }
  return out;
}

// Builds the object over a new key; deletes a persisted key if that fails.
ObjectPtr object_over(const SlotContext& slot, const SecretKeyType& type,
                      const std::shared_ptr<CngKey>& key, AttrMap overlay,
                      std::optional<Bytes> check_value, CK_SESSION_HANDLE owner) {
  try {
    if (check_value) {
      overlay[CKA_CHECK_VALUE] = *check_value;
      if (key->persisted()) {
        write_custom_properties(key->handle(), CKO_SECRET_KEY, type.key_type,
                                {{CKA_CHECK_VALUE, *check_value}});
      }
    }
    overlay.erase(CKA_VALUE);
    auto obj = std::make_shared<Object>();
    obj->object_class = CKO_SECRET_KEY;
    obj->subtype = type.key_type;
    obj->token = key->persisted();
    obj->owner = obj->token ? CK_INVALID_HANDLE : owner;
    obj->key = key;
    obj->attrs = secret_attrs(type, *key, overlay);
    return obj;
  } catch (...) {
    if (key->persisted()) {
      NCRYPT_KEY_HANDLE victim = 0;
      if (NCryptOpenKey(slot.provider, &victim, key->name().c_str(), 0, slot.scope_flag) ==
          ERROR_SUCCESS) {
        NCryptDeleteKey(victim, 0);
      }
    }
    throw;
  }
}

}  // namespace

namespace {

const SecretKeyType* secret_type_for_mechanism(CK_MECHANISM_TYPE generate_mechanism) noexcept {
  const SecretKeyType* type = bridge::find_key_type_by_generator(generate_mechanism);
  return type != nullptr && type->secret != nullptr ? type : nullptr;
}

const SecretKeyType* secret_type_for_key(CK_KEY_TYPE key_type) noexcept {
  return bridge::find_key_type(CKO_SECRET_KEY, key_type);
}

}  // namespace

ObjectPtr generate_secret_key(const SlotContext& slot, const CK_MECHANISM& mechanism,
                              const AttrMap& tmpl, CK_SESSION_HANDLE owner) {
  const SecretKeyType* type = secret_type_for_mechanism(mechanism.mechanism);
  if (type == nullptr) {
    fail(CKR_MECHANISM_INVALID, "not a secret key generation mechanism");
  }
  // Not listed on this slot (the platform provider keeps no secret keys): the mechanism is
  // invalid here, before the provider's own refusal could be mapped to another code.
  mech::offered_mechanism(mechanism.mechanism, CKF_GENERATE, slot.capabilities);
  mech::DecodedParams no_params;  // the rows say: no parameter
  mech::decode_params(*mech::find_mechanism(mechanism.mechanism), mechanism, no_params);
  if (attr_ulong(tmpl, CKA_CLASS).value_or(CKO_SECRET_KEY) != CKO_SECRET_KEY ||
      attr_ulong(tmpl, CKA_KEY_TYPE).value_or(type->key_type) != type->key_type) {
    fail(CKR_TEMPLATE_INCONSISTENT, "CKA_CLASS/CKA_KEY_TYPE do not fit the mechanism");
  }
  const bridge::Schema& schema = *bridge::schema_for(CKO_SECRET_KEY, type->key_type);
  validate_template(tmpl, schema, TemplateOp::kGenerate);
  const auto length = attr_ulong(tmpl, CKA_VALUE_LEN);
  if (!length) {
    fail(CKR_TEMPLATE_INCOMPLETE, "CKA_VALUE_LEN is required");
  }
  if (!type->secret->length_ok(*length)) {
    fail(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_VALUE_LEN not supported for this key type");
  }
  AttrMap attrs = with_defaults(tmpl, schema);
  attrs[CKA_CLASS] = ulong_bytes(CKO_SECRET_KEY);
  attrs[CKA_KEY_TYPE] = ulong_bytes(type->key_type);
  attrs[CKA_LOCAL] = bool_bytes(true);
  attrs[CKA_KEY_GEN_MECHANISM] = ulong_bytes(mechanism.mechanism);
  attrs[CKA_ALWAYS_SENSITIVE] = bool_bytes(attr_true(attrs, CKA_SENSITIVE));
  attrs[CKA_NEVER_EXTRACTABLE] = bool_bytes(!attr_true(attrs, CKA_EXTRACTABLE));
  attrs.erase(CKA_VALUE_LEN);  // CNG's Length is the truth
  const bool persisted = attr_true(attrs, CKA_TOKEN);
  auto key = create_named(slot, persisted, attrs, [&](const char16_t* name) -> NCRYPT_KEY_HANDLE {
    PendingKey pending;
    const SECURITY_STATUS st = NCryptCreatePersistedKey(
        slot.provider, &pending.h, type->cng_algorithm, name, 0, slot.scope_flag);
    if (st == NTE_EXISTS) {
      return 0;
    }
    check_status(st, NcryptContext::kKeyGen, "NCryptCreatePersistedKey");
    bridge::set_dword_property(pending.h, NCRYPT_LENGTH_PROPERTY, static_cast<DWORD>(*length * 8),
                               0, NcryptContext::kKeyGen);
    if (!configure_and_finalize(pending.h, persisted, type->key_type, attrs)) {
      return 0;
    }
    return pending.release();
  });
  const std::optional<Bytes> check = check_value_of(*type, slot, *key, std::nullopt);
  return object_over(slot, *type, key, attrs, check, owner);
}

ObjectPtr import_secret_key(const SlotContext& slot, CK_KEY_TYPE key_type, const AttrMap& attrs,
                            std::span<const std::uint8_t> value, CK_SESSION_HANDLE owner) {
  const SecretKeyType* type = secret_type_for_key(key_type);
  if (type == nullptr) {
    fail(CKR_ATTRIBUTE_VALUE_INVALID, "only AES and generic secret keys");
  }
  if (!type->secret->length_ok(value.size())) {
    fail(CKR_ATTRIBUTE_VALUE_INVALID, "the key value's length does not fit the key type");
  }
  const SecretBytes blob = bridge::cipher_key_blob(type->cng_algorithm, value);
  const AttrMap props = import_props(attrs);
  auto key = import_named(slot, *type, props, nullptr, NCRYPT_CIPHER_KEY_BLOB, blob);
  const std::optional<Bytes> check = check_value_of(*type, slot, *key, ByteView(value));
  // A check value given in the template must match (PKCS#11 3.0 §4.10).
  if (const auto given = attrs.find(CKA_CHECK_VALUE);
      given != attrs.end() && check && given->second != *check) {
    delete_persisted(slot, *key);
    fail(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_CHECK_VALUE does not match the key value");
  }
  return object_over(slot, *type, key, props, check, owner);
}

ObjectPtr unwrap_secret_key(const SlotContext& slot, CK_KEY_TYPE key_type, const AttrMap& attrs,
                            const WrappedKey& wrapped, CK_SESSION_HANDLE owner) {
  const SecretKeyType* type = secret_type_for_key(key_type);
  if (type == nullptr) {
    fail(CKR_TEMPLATE_INCONSISTENT, "only AES and generic secret keys");
  }
  const AttrMap props = import_props(attrs);
  auto key = import_named(slot, *type, props, &wrapped, wrapped.blob_type, wrapped.data);
  const CK_ULONG bytes =
      bridge::get_dword_property(key->handle(), NCRYPT_LENGTH_PROPERTY).value_or(0) / 8;
  const auto asked = attr_ulong(attrs, CKA_VALUE_LEN);
  if (!type->secret->length_ok(bytes) || (asked && *asked != bytes)) {
    delete_persisted(slot, *key);
    fail(asked && type->secret->length_ok(bytes) ? CKR_TEMPLATE_INCONSISTENT
                                                 : CKR_WRAPPED_KEY_INVALID,
         "the unwrapped key's length does not fit the template");
  }
  const std::optional<Bytes> check = check_value_of(*type, slot, *key, std::nullopt);
  if (const auto given = attrs.find(CKA_CHECK_VALUE);
      given != attrs.end() && check && given->second != *check) {
    delete_persisted(slot, *key);
    fail(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_CHECK_VALUE does not match the key value");
  }
  return object_over(slot, *type, key, props, check, owner);
}

ObjectPtr open_secret_key(const std::shared_ptr<CngKey>& key) {
  const auto algorithm =
      bridge::get_string_property(key->handle(), NCRYPT_ALGORITHM_PROPERTY).value_or(u"");
  const SecretKeyType* type = bridge::find_key_type_of_cng_key(CKO_SECRET_KEY, algorithm, 0);
  if (type == nullptr) {
    fail(CKR_KEY_TYPE_INCONSISTENT, "not a secret key algorithm");
  }
  auto obj = std::make_shared<Object>();
  obj->object_class = CKO_SECRET_KEY;
  obj->subtype = type->key_type;
  obj->token = key->persisted();
  obj->key = key;
  obj->attrs = secret_attrs(*type, *key, {});
  return obj;
}

std::optional<SecretBytes> secret_key_value(const Object& secret) {
  return secret.key ? export_value(*secret.key) : std::nullopt;
}

}  // namespace p11::objects
