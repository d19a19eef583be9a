#include "api/handle_table.h"

#include <array>
#include <atomic>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "api/testing_hooks.h"
#include "core/no_destructor.h"

namespace cng::api {

namespace {
constexpr std::size_t kShards = 16;
constexpr unsigned kKindBits = 8;
// Starts well above small integers so that 1, 2, 3… are never handles.
std::atomic<std::uint64_t> g_next_serial{0x1000};
}  // namespace

struct HandleTable::Shard {
  mutable std::shared_mutex mutex;
  std::unordered_map<ULONG_PTR, std::shared_ptr<Object>> objects;
};

HandleTable& HandleTable::instance() {
  static HandleTable table;  // no members: trivially destructible
  return table;
}

HandleTable::Shard& HandleTable::shard_for(ULONG_PTR handle) const noexcept {
  static NoDestructor<std::array<Shard, kShards>> all;
  return (*all)[(handle >> kKindBits) % kShards];
}

void HandleTable::trim_empty_shards() noexcept {
  for (ULONG_PTR i = 0; i < kShards; ++i) {
    Shard& shard = instance().shard_for(i << kKindBits);
    std::unique_lock lock(shard.mutex);
    if (shard.objects.empty()) {
      decltype(shard.objects)().swap(shard.objects);  // an empty map owns no buckets
    }
  }
}

namespace {

// Constructed when the library is loaded, so destroyed when it is unloaded (or at exit).
struct TrimAtUnload {
  TrimAtUnload() = default;
  TrimAtUnload(const TrimAtUnload&) = delete;
  TrimAtUnload& operator=(const TrimAtUnload&) = delete;
  ~TrimAtUnload() { HandleTable::trim_empty_shards(); }
};
const TrimAtUnload g_trim_at_unload;

}  // namespace

ULONG_PTR HandleTable::insert(std::shared_ptr<Object> object) {
  testing::maybe_fail_allocation();
  const std::uint64_t serial = g_next_serial.fetch_add(1, std::memory_order_relaxed);
  const auto handle =
      static_cast<ULONG_PTR>((serial << kKindBits) | static_cast<std::uint8_t>(object->kind()));
  Shard& shard = shard_for(handle);
  std::unique_lock lock(shard.mutex);
  shard.objects.emplace(handle, std::move(object));
  return handle;
}

std::shared_ptr<Object> HandleTable::find(ULONG_PTR handle) const {
  if (handle == 0) {
    return nullptr;
  }
  const Shard& shard = shard_for(handle);
  std::shared_lock lock(shard.mutex);
  const auto it = shard.objects.find(handle);
  return it == shard.objects.end() ? nullptr : it->second;
}

std::shared_ptr<Object> HandleTable::erase(ULONG_PTR handle) {
  if (handle == 0) {
    return nullptr;
  }
  Shard& shard = shard_for(handle);
  std::shared_ptr<Object> object;
  {
    std::unique_lock lock(shard.mutex);
    const auto it = shard.objects.find(handle);
    if (it == shard.objects.end()) {
      return nullptr;
    }
    object = std::move(it->second);
    shard.objects.erase(it);
  }
  return object;  // destroyed (if last reference) outside the lock
}

}  // namespace cng::api
