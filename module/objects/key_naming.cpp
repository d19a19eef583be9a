#include "objects/key_naming.h"

#include <string>
#include <vector>

#include "bridge/utf.h"
#include "core/p11_error.h"

namespace p11::objects {

namespace {

constexpr std::size_t kNameAttempts = 8;

std::vector<std::u16string> candidate_names(const AttrMap& attrs) {
  std::vector<std::u16string> names;
  if (const auto it = attrs.find(CKA_LABEL); it != attrs.end() && !it->second.empty()) {
    auto name = utf8_to_utf16(to_string(it->second));
    if (name && name->size() <= NCRYPT_MAX_KEY_NAME_LENGTH &&
        name->find(u'\0') == std::u16string::npos) {
      names.push_back(*name);
    }
  }
  while (names.size() < kNameAttempts) {
    const std::string generated = "p11-" + random_hex(8);
    names.emplace_back(generated.begin(), generated.end());
  }
  return names;
}

}  // namespace

std::shared_ptr<CngKey> create_named(
    const SlotContext& slot, bool persisted, const AttrMap& attrs,
    const std::function<NCRYPT_KEY_HANDLE(const char16_t*)>& create) {
  if (!persisted) {
    const NCRYPT_KEY_HANDLE h = create(nullptr);
    if (h == 0) {
      fail(CKR_FUNCTION_FAILED, "ephemeral key creation failed");
    }
    return std::make_shared<CngKey>(h, slot.provider, u"");
  }
  for (const std::u16string& name : candidate_names(attrs)) {
    if (const NCRYPT_KEY_HANDLE h = create(name.c_str()); h != 0) {
      return std::make_shared<CngKey>(h, slot.provider, name);
    }
  }
  fail(CKR_FUNCTION_FAILED, "no free CNG key name");
}

ImportParameters::ImportParameters(const char16_t* name, const char16_t* algorithm,
                                   std::span<const NCryptBuffer> extra) {
  const auto add = [this](std::u16string& text, const char16_t* value, ULONG type) {
    text = value;
    buffers_.push_back(
        {static_cast<ULONG>((text.size() + 1) * sizeof(char16_t)), type, text.data()});
  };
  if (name != nullptr) {
    add(name_, name, NCRYPTBUFFER_PKCS_KEY_NAME);
  }
  if (algorithm != nullptr) {
    add(algorithm_, algorithm, NCRYPTBUFFER_PKCS_ALG_ID);
  }
  buffers_.insert(buffers_.end(), extra.begin(), extra.end());
  desc_.cBuffers = static_cast<ULONG>(buffers_.size());
  desc_.pBuffers = buffers_.data();
}

DWORD export_policy(bool persisted, const AttrMap& attrs) {
  if (!persisted) {
    return NCRYPT_ALLOW_EXPORT_FLAG | NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG;
  }
  if (!attr_true(attrs, CKA_EXTRACTABLE)) {
    return 0;
  }
  return NCRYPT_ALLOW_EXPORT_FLAG |
         (attr_true(attrs, CKA_SENSITIVE) ? 0 : NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG);
}

}  // namespace p11::objects
