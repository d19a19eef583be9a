#include "objects/object.h"

#include <algorithm>
#include <atomic>

namespace p11::objects {

namespace {
// Constant-initialised and trivially destructible: usable from atexit handlers after static
// destructors, and nothing on the heap to lose at unload.
constinit std::atomic<CK_OBJECT_HANDLE> g_next_handle{1};
}  // namespace

CK_OBJECT_HANDLE next_object_handle() noexcept {
  return g_next_handle.fetch_add(1, std::memory_order_relaxed);
}

bool is_summary_attribute(CK_ATTRIBUTE_TYPE type) noexcept {
  return std::ranges::find(kSummaryAttributes, type) != std::end(kSummaryAttributes);
}

namespace {

bool from_fields(CK_ATTRIBUTE_TYPE type) {
  return type == CKA_CLASS || type == CKA_KEY_TYPE || type == CKA_TOKEN;
}

}  // namespace

std::optional<std::span<const std::uint8_t>> indexed_value(const Object& o,
                                                           CK_ATTRIBUTE_TYPE type) {
  if (!o.summary) {
    const auto it = o.attrs.find(type);
    return it == o.attrs.end() ? std::nullopt
                               : std::optional<std::span<const std::uint8_t>>(it->second);
  }
  const SummaryValues* v = o.summary_values.get();
  if (v == nullptr || (type == CKA_LABEL ? !v->has_label : type == CKA_ID ? !v->has_id : true)) {
    return std::nullopt;
  }
  const std::span<const std::uint8_t> all(v->bytes);
  return type == CKA_LABEL ? all.first(v->label_size) : all.subspan(v->label_size);
}

bool is_private_object(const Object& o) {
  return o.summary ? o.summary_private : attr_true(o.attrs, CKA_PRIVATE);
}

std::optional<Bytes> summary_value(const Object& o, CK_ATTRIBUTE_TYPE type) {
  if (!o.summary) {
    const auto it = o.attrs.find(type);
    return it == o.attrs.end() ? std::nullopt : std::optional<Bytes>(it->second);
  }
  if (from_fields(type)) {
    return type == CKA_CLASS      ? ulong_bytes(o.object_class)
           : type == CKA_KEY_TYPE ? ulong_bytes(o.subtype)
                                  : bool_bytes(o.token);
  }
  if (type == CKA_PRIVATE) {
    return bool_bytes(o.summary_private);
  }
  const auto value = indexed_value(o, type);  // none for the attributes a summary lacks
  return value ? std::optional<Bytes>(Bytes(value->begin(), value->end())) : std::nullopt;
}

AttrMap summary_attrs(const Object& o) {
  AttrMap out;
  for (const CK_ATTRIBUTE_TYPE type : kSummaryAttributes) {
    if (auto value = summary_value(o, type)) {
      out.emplace(type, std::move(*value));
    }
  }
  return out;
}

void keep_summary(Object& o) {
  o.key.reset();
  if (o.summary) {
    return;
  }
  auto values = std::make_shared<SummaryValues>();
  const auto label = o.attrs.find(CKA_LABEL);
  const auto id = o.attrs.find(CKA_ID);
  values->has_label = label != o.attrs.end();
  values->has_id = id != o.attrs.end();
  values->label_size = values->has_label ? label->second.size() : 0;
  values->bytes.reserve(values->label_size + (values->has_id ? id->second.size() : 0));
  if (values->has_label) {
    values->bytes.assign(label->second.begin(), label->second.end());
  }
  if (values->has_id) {
    values->bytes.insert(values->bytes.end(), id->second.begin(), id->second.end());
  }
  o.summary_private = attr_true(o.attrs, CKA_PRIVATE);
  o.summary_values = std::move(values);
  AttrMap().swap(o.attrs);
  o.summary = true;
}

void share_summary_values(const Object& first, Object& other) {
  if (first.summary && other.summary && first.summary_values && other.summary_values &&
      *first.summary_values == *other.summary_values) {
    other.summary_values = first.summary_values;
  }
}

bool matches_summary(const Object& o, const AttrMap& tmpl) {
  return std::all_of(tmpl.begin(), tmpl.end(), [&](const auto& kv) {
    return !is_summary_attribute(kv.first) || summary_value(o, kv.first) == kv.second;
  });
}

}  // namespace p11::objects
