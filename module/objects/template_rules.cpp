#include "objects/template_rules.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "bridge/attribute_map.h"
#include "core/p11_error.h"

namespace p11::objects {

namespace {

using bridge::AttrFlag;
using bridge::Default;

std::string attr_name(CK_ATTRIBUTE_TYPE type) {
  const auto* info = bridge::attribute_info(type);
  return info != nullptr ? info->name : "attribute 0x" + std::to_string(type);
}

std::uint32_t allowed_for(TemplateOp op) {
  switch (op) {
    case TemplateOp::kCreate:
      return bridge::kOnCreate;
    case TemplateOp::kGenerate:
      return bridge::kOnGenerate;
    case TemplateOp::kCopy:
      return bridge::kOnCopy | bridge::kModifiable;
    case TemplateOp::kSet:
      return bridge::kModifiable;
  }
  return 0;
}

std::optional<Bytes> default_value(const bridge::SchemaEntry& e) {
  switch (e.fallback) {
    case Default::kFalse:
      return bool_bytes(false);
    case Default::kTrue:
      return bool_bytes(true);
    case Default::kEmpty:
      return Bytes{};
    case Default::kUnavailable:
      return ulong_bytes(CK_UNAVAILABLE_INFORMATION);
    case Default::kNone:
      return std::nullopt;
  }
  return std::nullopt;
}

// An attribute array of C_GetAttributeValue (PKCS#11 3.0 §5.7.5, CKF_ARRAY_ATTRIBUTE): pValue
// NULL gives the array's size; else the caller's CK_ATTRIBUTE array gets each element's type
// and, element by element, its length (pValue NULL) or its value. false: a buffer too small.
bool get_attribute_array(CK_ATTRIBUTE& a, const AttrMap& elements) {
  const std::size_t size = elements.size() * sizeof(CK_ATTRIBUTE);
  if (a.pValue == nullptr) {
    a.ulValueLen = size;
    return true;
  }
  if (a.ulValueLen < size) {
    a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
    return false;
  }
  auto* out = static_cast<CK_ATTRIBUTE*>(a.pValue);
  bool fits = true;
  for (const auto& [type, value] : elements) {
    out->type = type;
    if (out->pValue == nullptr) {
      out->ulValueLen = value.size();
    } else if (out->ulValueLen >= value.size()) {
      std::copy(value.begin(), value.end(), static_cast<std::uint8_t*>(out->pValue));
      out->ulValueLen = value.size();
    } else {
      out->ulValueLen = CK_UNAVAILABLE_INFORMATION;
      fits = false;
    }
    ++out;
  }
  a.ulValueLen = size;
  return fits;
}

}  // namespace

Bytes encode_attribute_array(const AttrMap& attrs) {
  Bytes out;
  const auto put = [&out](std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
  };
  for (const auto& [type, value] : attrs) {
    put(type);
    put(value.size());
    out.insert(out.end(), value.begin(), value.end());
  }
  return out;
}

AttrMap decode_attribute_array(ByteView encoded) {
  AttrMap out;
  std::size_t at = 0;
  const auto get = [&]() {
    if (encoded.size() - at < 8) {
      fail(CKR_GENERAL_ERROR, "malformed attribute array");
    }
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) {
      v = (v << 8) | encoded[at + static_cast<std::size_t>(i)];
    }
    at += 8;
    return v;
  };
  while (at < encoded.size()) {
    const auto type = static_cast<CK_ATTRIBUTE_TYPE>(get());
    const std::uint64_t size = get();
    if (encoded.size() - at < size) {
      fail(CKR_GENERAL_ERROR, "malformed attribute array");
    }
    out[type] = Bytes(encoded.begin() + static_cast<std::ptrdiff_t>(at),
                      encoded.begin() + static_cast<std::ptrdiff_t>(at + size));
    at += size;
  }
  return out;
}

AttrMap parse_template(std::span<const CK_ATTRIBUTE> tmpl) {
  AttrMap out;
  for (const CK_ATTRIBUTE& a : tmpl) {
    const auto* info = bridge::attribute_info(a.type);
    if (info == nullptr) {
      fail(CKR_ATTRIBUTE_TYPE_INVALID, "unknown " + attr_name(a.type));
    }
    if (a.pValue == nullptr && a.ulValueLen != 0) {
      fail(CKR_ARGUMENTS_BAD, attr_name(a.type) + " has a length but no value");
    }
    if (!bridge::value_shape_ok(info->kind, a.pValue, a.ulValueLen)) {
      fail(CKR_ATTRIBUTE_VALUE_INVALID, "malformed " + attr_name(a.type));
    }
    const auto* p = static_cast<const std::uint8_t*>(a.pValue);
    Bytes value(p, p + (p != nullptr ? a.ulValueLen : 0));
    if (info->kind == bridge::ValueKind::kAttributes) {  // a nested template
      value = encode_attribute_array(parse_template(
          {static_cast<const CK_ATTRIBUTE*>(a.pValue), a.ulValueLen / sizeof(CK_ATTRIBUTE)}));
    }
    const auto [it, inserted] = out.emplace(a.type, value);
    if (!inserted && it->second != value) {
      fail(CKR_TEMPLATE_INCONSISTENT, attr_name(a.type) + " given twice");
    }
  }
  return out;
}

std::optional<AttrMap> parse_find_template(std::span<const CK_ATTRIBUTE> tmpl) {
  AttrMap out;
  for (const CK_ATTRIBUTE& a : tmpl) {
    if (bridge::attribute_info(a.type) == nullptr || (a.pValue == nullptr && a.ulValueLen != 0)) {
      return std::nullopt;
    }
    const auto* p = static_cast<const std::uint8_t*>(a.pValue);
    Bytes value(p, p + (p != nullptr ? a.ulValueLen : 0));
    const auto [it, inserted] = out.emplace(a.type, value);
    if (!inserted && it->second != value) {
      return std::nullopt;  // the same attribute with two values matches nothing
    }
  }
  return out;
}

void check_officer_only(const AttrMap& tmpl, bool security_officer) {
  static constexpr CK_ATTRIBUTE_TYPE kOfficerOnlyTrue[] = {CKA_TRUSTED};
  for (const CK_ATTRIBUTE_TYPE type : kOfficerOnlyTrue) {
    if (!security_officer && attr_true(tmpl, type)) {
      fail(CKR_ATTRIBUTE_READ_ONLY, attr_name(type) + " is set to TRUE by the SO only");
    }
  }
}

void validate_template(const AttrMap& tmpl, const bridge::Schema& schema, TemplateOp op) {
  const std::uint32_t allowed = allowed_for(op);
  for (const auto& [type, value] : tmpl) {
    const bridge::SchemaEntry* e = schema.find(type);
    if (e == nullptr) {
      fail(CKR_ATTRIBUTE_TYPE_INVALID, attr_name(type) + " is not an attribute of this object");
    }
    // CKA_CLASS / CKA_KEY_TYPE restate what the mechanism or class implies: allowed on every
    // path where the caller may name them, checked for consistency by the caller.
    if ((e->flags & allowed) == 0) {
      fail(CKR_ATTRIBUTE_READ_ONLY, attr_name(type) + " cannot be set here");
    }
  }
  const std::uint32_t required = op == TemplateOp::kCreate ? std::uint32_t{bridge::kRequiredCreate}
                                 : op == TemplateOp::kGenerate
                                     ? std::uint32_t{bridge::kRequiredGenerate}
                                     : std::uint32_t{0};
  if (required == 0) {
    return;
  }
  for (const bridge::SchemaEntry& e : schema.entries) {
    if ((e.flags & required) != 0 && !tmpl.contains(e.type)) {
      fail(CKR_TEMPLATE_INCOMPLETE, attr_name(e.type) + " is required");
    }
  }
}

AttrMap with_defaults(const AttrMap& tmpl, const bridge::Schema& schema) {
  AttrMap out = tmpl;
  for (const bridge::SchemaEntry& e : schema.entries) {
    if (!out.contains(e.type)) {
      if (auto v = default_value(e)) {
        out.emplace(e.type, std::move(*v));
      }
    }
  }
  return out;
}

void check_changes(const Object& object, const AttrMap& changes, const bridge::Schema& schema,
                   TemplateOp op) {
  if (op == TemplateOp::kSet && !attr_bool(object.attrs, CKA_MODIFIABLE).value_or(true)) {
    fail(CKR_ACTION_PROHIBITED, "object is not modifiable");
  }
  const std::uint32_t allowed = allowed_for(op);
  for (const auto& [type, value] : changes) {
    const bridge::SchemaEntry* e = schema.find(type);
    if (e == nullptr) {
      fail(CKR_ATTRIBUTE_TYPE_INVALID, attr_name(type) + " is not an attribute of this object");
    }
    const auto current = object.attrs.find(type);
    if (current != object.attrs.end() && current->second == value) {
      continue;  // restating the current value is always fine
    }
    if ((e->flags & allowed) == 0) {
      fail(CKR_ATTRIBUTE_READ_ONLY, attr_name(type) + " cannot be changed");
    }
    if (e->flags & (bridge::kOnlyToTrue | bridge::kOnlyToFalse)) {
      const bool now = attr_true(object.attrs, type);
      const bool wanted = !value.empty() && value[0] != CK_FALSE;
      if (((e->flags & bridge::kOnlyToTrue) && now && !wanted) ||
          ((e->flags & bridge::kOnlyToFalse) && !now && wanted)) {
        fail(CKR_ATTRIBUTE_READ_ONLY, attr_name(type) + " cannot be changed back");
      }
    }
  }
}

CK_RV get_attributes(const Object& object, const bridge::Schema& schema,
                     std::span<CK_ATTRIBUTE> tmpl, const SensitiveReader& read_sensitive) {
  bool sensitive = false;
  bool invalid = false;
  bool too_small = false;
  for (CK_ATTRIBUTE& a : tmpl) {
    const bridge::SchemaEntry* e = schema.find(a.type);
    std::optional<SecretBytes> secret;
    const Bytes* value = nullptr;
    if (e != nullptr && (e->flags & bridge::kSensitive)) {
      secret = read_sensitive(a.type);
      if (!secret) {
        a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
        sensitive = true;
        continue;
      }
    } else if (e != nullptr) {
      const auto it = object.attrs.find(a.type);
      value = it != object.attrs.end() ? &it->second : nullptr;
    }
    if (e == nullptr || (value == nullptr && !secret)) {
      a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
      invalid = true;
      continue;
    }
    if (const auto* info = bridge::attribute_info(a.type);
        info != nullptr && info->kind == bridge::ValueKind::kAttributes) {
      too_small = !get_attribute_array(a, decode_attribute_array(*value)) || too_small;
      continue;
    }
    const std::uint8_t* data = secret ? secret->data() : value->data();
    const std::size_t size = secret ? secret->size() : value->size();
    if (a.pValue == nullptr) {
      a.ulValueLen = size;
    } else if (a.ulValueLen >= size) {
      if (size != 0) {
        std::memcpy(a.pValue, data, size);
      }
      a.ulValueLen = size;
    } else {
      a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
      too_small = true;
    }
  }
  if (sensitive) {
    return CKR_ATTRIBUTE_SENSITIVE;
  }
  if (invalid) {
    return CKR_ATTRIBUTE_TYPE_INVALID;
  }
  return too_small ? CKR_BUFFER_TOO_SMALL : CKR_OK;
}

bool matches(const Object& object, const AttrMap& tmpl) {
  for (const auto& [type, value] : tmpl) {
    const auto it = object.attrs.find(type);
    if (it == object.attrs.end() || it->second != value) {
      return false;
    }
  }
  return true;
}

}  // namespace p11::objects
