#include "api/buffer_registry.h"

#include <cstring>
#include <mutex>
#include <unordered_map>

#include "api/testing_hooks.h"
#include "core/no_destructor.h"

namespace cng::api {

namespace {

struct Registry {
  std::mutex mutex;
  std::unordered_map<void*, std::unique_ptr<CallerBuffer>> buffers;
};

// Never destroyed (usable from atexit handlers after static destructors) and in static
// storage, so it goes with the library's mapping.
Registry& registry() {
  static NoDestructor<Registry> r;
  return *r;
}

// Constructed when the library is loaded, so destroyed when it is unloaded (or at exit): an
// empty registry gives back its buckets and stays usable.
struct TrimAtUnload {
  TrimAtUnload() = default;
  TrimAtUnload(const TrimAtUnload&) = delete;
  TrimAtUnload& operator=(const TrimAtUnload&) = delete;
  ~TrimAtUnload() {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    if (r.buffers.empty()) {
      decltype(r.buffers)().swap(r.buffers);
    }
  }
};
const TrimAtUnload g_trim_at_unload;

}  // namespace

ByteBlock::ByteBlock(std::size_t size)
    : storage_(std::make_unique<std::max_align_t[]>(
          (size + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t) + 1)) {}

void* register_caller_buffer(std::unique_ptr<CallerBuffer> buffer) {
  testing::maybe_fail_allocation();
  void* address = buffer->address();
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.buffers.emplace(address, std::move(buffer));
  return address;
}

bool free_caller_buffer(void* address) {
  std::unique_ptr<CallerBuffer> buffer;
  auto& r = registry();
  {
    std::lock_guard lock(r.mutex);
    const auto it = r.buffers.find(address);
    if (it == r.buffers.end()) {
      return false;
    }
    buffer = std::move(it->second);
    r.buffers.erase(it);
  }
  return true;  // buffer destroyed here, outside the lock
}

CallerBuffer* find_caller_buffer_any(void* address) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  const auto it = r.buffers.find(address);
  return it == r.buffers.end() ? nullptr : it->second.get();
}

StructBlockWriter::StructBlockWriter(std::size_t struct_bytes,
                                     const std::vector<std::u16string_view>& strings) {
  std::size_t size = (struct_bytes + alignof(char16_t) - 1) & ~(alignof(char16_t) - 1);
  offsets_.reserve(strings.size());
  for (const auto s : strings) {
    offsets_.push_back(size);
    size += (s.size() + 1) * sizeof(char16_t);
  }
  block_ = std::make_unique<ByteBlock>(size);
  for (std::size_t i = 0; i < strings.size(); ++i) {
    char16_t* dst = string(i);
    std::memcpy(dst, strings[i].data(), strings[i].size() * sizeof(char16_t));
    dst[strings[i].size()] = u'\0';
  }
}

char16_t* StructBlockWriter::string(std::size_t i) noexcept {
  return reinterpret_cast<char16_t*>(block_->bytes() + offsets_[i]);
}

}  // namespace cng::api
