// start_operation: the generic checks every C_*Init needs, then the mechanism's factory.
// Also the default one-shot paths of Operation.
#include <algorithm>

#include "mechanisms/registry.h"

namespace p11 {

std::vector<std::uint8_t> Operation::one_shot(std::span<const std::uint8_t> data) {
  update(data);
  return final();
}

std::size_t Operation::update_output_size(std::size_t /*input_len*/) const { return 0; }

std::vector<std::uint8_t> Operation::update_output(std::span<const std::uint8_t> data) {
  update(data);
  return {};
}

std::size_t Operation::one_shot_output_size(std::size_t /*input_len*/) const {
  return output_size();
}

void Operation::context_login(std::span<const std::uint8_t> /*pin*/) {
  fail(CKR_OPERATION_NOT_INITIALIZED, "the operation needs no context-specific login");
}

void Operation::verify_final(std::span<const std::uint8_t> /*signature*/) {
  fail(CKR_GENERAL_ERROR, "not a verify operation");
}

void Operation::verify_one_shot(std::span<const std::uint8_t> data,
                                std::span<const std::uint8_t> signature) {
  update(data);
  verify_final(signature);
}

namespace mech {

const MechanismSpec& offered_mechanism(CK_MECHANISM_TYPE type, CK_FLAGS needed_flag,
                                       const slots::Capabilities& caps) {
  const MechanismSpec* spec = find_mechanism(type);
  if (spec == nullptr || !offered_on(*spec, caps) || (flags_on(*spec, caps) & needed_flag) == 0) {
    fail(CKR_MECHANISM_INVALID, "mechanism not supported for this operation");
  }
  return *spec;
}

void check_key_use(const MechanismSpec& spec, const KeyView& key, CK_OBJECT_CLASS needed_class,
                   bool usage_permitted) {
  if (key.object_class != needed_class || key.key_type != spec.key_type) {
    fail(CKR_KEY_TYPE_INCONSISTENT, "key class or type does not fit the mechanism");
  }
  if (!usage_permitted) {
    fail(CKR_KEY_FUNCTION_NOT_PERMITTED, "the key's usage attribute forbids this operation");
  }
  if (!key.allowed_mechanisms.empty() &&
      std::find(key.allowed_mechanisms.begin(), key.allowed_mechanisms.end(), spec.type) ==
          key.allowed_mechanisms.end()) {
    fail(CKR_MECHANISM_INVALID, "mechanism not in the key's CKA_ALLOWED_MECHANISMS");
  }
}

void check_key_size(const MechanismSpec& spec, const KeyView& key,
                    const slots::Capabilities& caps) {
  const KeySizeRange range = key_size_range(spec.key_type, caps);
  const CK_ULONG unit = key_size_unit_bits(spec.key_type);
  const CK_ULONG size = key.bits / unit;
  if (key.bits % unit != 0 || size < range.min_bits || size > range.max_bits) {
    fail(CKR_KEY_SIZE_RANGE, "key size outside the mechanism's range");
  }
  // Secret key types may allow only some lengths within the range (AES: 16, 24 or 32 bytes).
  const bridge::KeyTypeDescriptor* type = bridge::find_key_type(spec.key_type);
  if (type != nullptr && type->secret != nullptr && !type->secret->length_ok(key.bits / 8)) {
    fail(CKR_KEY_SIZE_RANGE, "key length not one the key type has");
  }
}

namespace {

// The usage attribute an operation kind needs (the key class comes from the row).
bool KeyView::*usage_for(OpKind kind) {
  switch (kind) {
    case OpKind::kSign:
      return &KeyView::can_sign;
    case OpKind::kVerify:
      return &KeyView::can_verify;
    case OpKind::kEncrypt:
      return &KeyView::can_encrypt;
    case OpKind::kDecrypt:
      return &KeyView::can_decrypt;
    case OpKind::kDigest:
      break;
  }
  fail(CKR_GENERAL_ERROR, "no key rule for digests");
}

}  // namespace

}  // namespace mech

std::unique_ptr<Operation> start_operation(OpKind kind, const CK_MECHANISM& mechanism,
                                           const KeyView* key, const slots::Capabilities& caps) {
  const mech::MechanismSpec& spec =
      mech::offered_mechanism(mechanism.mechanism, mech::flag_for(kind), caps);
  if (spec.make == nullptr) {
    fail(CKR_MECHANISM_INVALID, "mechanism has no such operation");
  }
  if (kind != OpKind::kDigest) {
    if (key == nullptr) {
      fail(CKR_KEY_HANDLE_INVALID, "operation needs a key");
    }
    mech::check_key_use(spec, *key, mech::key_class_for(spec, kind), (*key).*mech::usage_for(kind));
  }
  mech::DecodedParams params;
  mech::decode_params(spec, mechanism, params);
  if (kind != OpKind::kDigest) {
    mech::check_key_size(spec, *key, caps);
  }
  return spec.make(kind, spec, params, key);
}

}  // namespace p11
