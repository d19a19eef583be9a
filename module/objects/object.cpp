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

// What a certificate or data object summary lacks until materialised: what its value
// determines. dropped: what eviction drops again (the rest is small and kept once known; a
// summary lacks it only when the store has no property for it).
struct ValueDerived {
  CK_OBJECT_CLASS object_class;
  CK_ATTRIBUTE_TYPE type;
  bool dropped;
};
constexpr ValueDerived kValueDerived[] = {
    {CKO_CERTIFICATE, CKA_VALUE, true},
    {CKO_CERTIFICATE, CKA_PUBLIC_KEY_INFO, true},
    {CKO_CERTIFICATE, CKA_CHECK_VALUE, true},
    {CKO_CERTIFICATE, CKA_ID, false},
    {CKO_CERTIFICATE, CKA_START_DATE, false},
    {CKO_CERTIFICATE, CKA_END_DATE, false},
    {CKO_DATA, CKA_VALUE, true},
};

const ValueDerived* value_derived(CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE type) noexcept {
  const auto it = std::ranges::find_if(kValueDerived, [&](const ValueDerived& d) {
    return d.object_class == cls && d.type == type;
  });
  return it == std::end(kValueDerived) ? nullptr : &*it;
}

// Certificates and data objects: their summaries keep every other attribute in attrs.
bool stored_class(CK_OBJECT_CLASS cls) noexcept {
  return cls == CKO_CERTIFICATE || cls == CKO_DATA;
}

// Key summaries answer these from object_class, subtype and token.
bool from_fields(const Object& o, CK_ATTRIBUTE_TYPE type) {
  return o.summary && !stored_class(o.object_class) &&
         (type == CKA_CLASS || type == CKA_KEY_TYPE || type == CKA_TOKEN);
}

}  // namespace

bool is_summary_attribute(const Object& o, CK_ATTRIBUTE_TYPE type) noexcept {
  if (!stored_class(o.object_class)) {
    return is_summary_attribute(type);
  }
  return o.attrs.contains(type) || value_derived(o.object_class, type) == nullptr;
}

namespace {

// A key summary keeps no attrs (its label and id are in summary_values); a certificate or data
// object summary keeps its attributes in attrs, as a full object does.
bool key_summary(const Object& o) noexcept { return o.summary && !stored_class(o.object_class); }

}  // namespace

std::optional<std::span<const std::uint8_t>> indexed_value(const Object& o,
                                                           CK_ATTRIBUTE_TYPE type) {
  if (!key_summary(o)) {
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
  return key_summary(o) ? o.summary_private : attr_true(o.attrs, CKA_PRIVATE);
}

std::optional<Bytes> summary_value(const Object& o, CK_ATTRIBUTE_TYPE type) {
  if (!key_summary(o)) {
    const auto it = o.attrs.find(type);
    return it == o.attrs.end() ? std::nullopt : std::optional<Bytes>(it->second);
  }
  if (from_fields(o, type)) {
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
  if (stored_class(o.object_class)) {
    return o.attrs;
  }
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
  if (stored_class(o.object_class)) {
    std::erase_if(o.attrs, [&](const auto& kv) {
      const ValueDerived* d = value_derived(o.object_class, kv.first);
      return d != nullptr && d->dropped;
    });
    o.summary = true;
    return;
  }
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
    return !is_summary_attribute(o, kv.first) || summary_value(o, kv.first) == kv.second;
  });
}

bool summary_decides(const Object& o, const AttrMap& tmpl) {
  return std::all_of(tmpl.begin(), tmpl.end(),
                     [&](const auto& kv) { return is_summary_attribute(o, kv.first); });
}

}  // namespace p11::objects
