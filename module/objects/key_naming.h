// Helpers every key factory shares: choosing a CNG key name (DESIGN.md §3: the label when it
// is free, else a generated one), guarding a key handle until it is finalized, and the Export
// Policy a key's PKCS#11 attributes ask for.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "objects/key_factory.h"

namespace p11::objects {

// Runs create(name) for each candidate name until one is free: the CKA_LABEL of attrs when it
// is a usable key name, then generated "p11-…" names. create returns the new, finalized key's
// handle, or 0 when the name was taken (NTE_EXISTS). Not persisted: create(nullptr) once.
std::shared_ptr<CngKey> create_named(
    const SlotContext& slot, bool persisted, const AttrMap& attrs,
    const std::function<NCRYPT_KEY_HANDLE(const char16_t*)>& create);

// Handle guard for a key not yet finalized: freed (never deleted: nothing stored yet).
struct PendingKey {
  NCRYPT_KEY_HANDLE h = 0;
  PendingKey() = default;
  PendingKey(const PendingKey&) = delete;
  PendingKey& operator=(const PendingKey&) = delete;
  ~PendingKey() {
    if (h != 0) {
      NCryptFreeObject(h);
    }
  }
  NCRYPT_KEY_HANDLE release() noexcept { return std::exchange(h, 0); }
};

// The NCryptImportKey parameter list of a key import: NCRYPTBUFFER_PKCS_KEY_NAME for a
// persisted key (name not null) and, for an unwrap, NCRYPTBUFFER_PKCS_ALG_ID naming the
// unwrapped key's algorithm (algorithm not null) and the wrap mechanism's buffers (extra,
// whose storage must outlive this). get() is null when there is none.
class ImportParameters {
 public:
  ImportParameters(const char16_t* name, const char16_t* algorithm,
                   std::span<const NCryptBuffer> extra = {});
  ImportParameters(const ImportParameters&) = delete;
  ImportParameters& operator=(const ImportParameters&) = delete;
  [[nodiscard]] NCryptBufferDesc* get() noexcept { return desc_.cBuffers != 0 ? &desc_ : nullptr; }

 private:
  std::u16string name_;
  std::u16string algorithm_;
  std::vector<NCryptBuffer> buffers_;
  NCryptBufferDesc desc_{NCRYPTBUFFER_VERSION, 0, nullptr};
};

// §5.2: CKA_EXTRACTABLE -> NCRYPT_ALLOW_EXPORT_FLAG, plaintext export only when not
// CKA_SENSITIVE. Ephemeral keys may be exported inside this process (key_factory.h).
DWORD export_policy(bool persisted, const AttrMap& attrs);

}  // namespace p11::objects
