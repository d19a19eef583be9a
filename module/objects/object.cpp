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

std::optional<Bytes> summary_value(const Object& o, CK_ATTRIBUTE_TYPE type) {
  if (o.summary && from_fields(type)) {
    return type == CKA_CLASS      ? ulong_bytes(o.object_class)
           : type == CKA_KEY_TYPE ? ulong_bytes(o.subtype)
                                  : bool_bytes(o.token);
  }
  const auto it = o.attrs.find(type);
  return it == o.attrs.end() ? std::nullopt : std::optional<Bytes>(it->second);
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
  std::erase_if(o.attrs, [](const auto& kv) {
    return !is_summary_attribute(kv.first) || from_fields(kv.first);
  });
  o.key.reset();
  o.summary = true;
}

bool matches_summary(const Object& o, const AttrMap& tmpl) {
  return std::all_of(tmpl.begin(), tmpl.end(), [&](const auto& kv) {
    return !is_summary_attribute(kv.first) || summary_value(o, kv.first) == kv.second;
  });
}

}  // namespace p11::objects
