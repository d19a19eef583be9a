// NCryptEnumKeys: one NCryptKeyName per call over a snapshot of the scope's keys.
#include <mutex>
#include <vector>

#include "api/boundary.h"
#include "api/buffer_registry.h"
#include "api/key_common.h"

using namespace cng;
using namespace cng::api;

namespace {

// The enumeration state handed to the caller (freed with NCryptFreeBuffer).
class EnumKeysState final : public CallerBuffer {
 public:
  EnumKeysState(std::vector<KeyListing> keys, Scope scope)
      : keys_(std::move(keys)), scope_(scope) {}
  [[nodiscard]] void* address() noexcept override { return this; }

  std::mutex mutex;
  std::vector<KeyListing> keys_;
  std::size_t next = 0;
  Scope scope_;
};

void* key_name_buffer(const KeyListing& listing, Scope scope) {
  StructBlockWriter writer(sizeof(NCryptKeyName), {listing.name, listing.algorithm});
  auto* item = reinterpret_cast<NCryptKeyName*>(writer.structs());
  item->pszName = writer.string(0);
  item->pszAlgid = writer.string(1);
  item->dwLegacyKeySpec = listing.legacy_key_spec;
  item->dwFlags = scope == Scope::kMachine ? NCRYPT_MACHINE_KEY_FLAG : 0;
  return register_caller_buffer(writer.release());
}

}  // namespace

SECURITY_STATUS WINAPI NCryptEnumKeys(NCRYPT_PROV_HANDLE hProvider, LPCWSTR pszScope,
                                      NCryptKeyName** ppKeyName, PVOID* ppEnumState,
                                      DWORD dwFlags) {
  return boundary([&] {
    check_flags(dwFlags, NCRYPT_MACHINE_KEY_FLAG | NCRYPT_SILENT_FLAG);
    const auto provider = HandleTable::instance().get<ProviderObject>(hProvider);
    // pszScope "is not currently used and must be NULL" (smart-card KSP only): reject others.
    require(pszScope == nullptr, NTE_INVALID_PARAMETER, "pszScope must be NULL");
    require_arg(ppKeyName, "ppKeyName is NULL");
    require_arg(ppEnumState, "ppEnumState is NULL");
    EnumKeysState* state = nullptr;
    if (*ppEnumState == nullptr) {
      const Scope scope = scope_from_flags(dwFlags);
      auto fresh = std::make_unique<EnumKeysState>(provider->context()->store(scope).list(), scope);
      state = fresh.get();
      *ppEnumState = register_caller_buffer(std::move(fresh));
    } else {
      state = find_caller_buffer<EnumKeysState>(*ppEnumState);
      require(state != nullptr, NTE_INVALID_PARAMETER, "not an NCryptEnumKeys state");
    }
    std::lock_guard lock(state->mutex);
    require(state->next < state->keys_.size(), NTE_NO_MORE_ITEMS, "no more keys");
    *ppKeyName =
        static_cast<NCryptKeyName*>(key_name_buffer(state->keys_[state->next], state->scope_));
    ++state->next;
  });
}
