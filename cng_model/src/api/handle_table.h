// The registry of NCrypt object handles (provider, key, secret).
//
// Handle values are never reused: a 56-bit monotonic counter with the object kind in the low
// byte. So 0, garbage and freed handles are simply absent (NTE_INVALID_HANDLE, no crash), and a
// key handle used as a provider handle fails the kind check. Objects are held by shared_ptr: a
// thread that looked an object up keeps it alive even if another thread frees the handle.
// Lookup takes one shared lock on one of 16 shards, so concurrent signing does not serialize.
#pragma once

#include <cstdint>
#include <memory>

#include "core/cng_error.h"
#include "ncrypt.h"

namespace cng::api {

enum class ObjectKind : std::uint8_t { kProvider = 0x51, kKey = 0x6b, kSecret = 0x73 };

class Object {
 public:
  explicit Object(ObjectKind kind) noexcept : kind_(kind) {}
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;
  virtual ~Object() = default;
  [[nodiscard]] ObjectKind kind() const noexcept { return kind_; }

 private:
  ObjectKind kind_;
};

class HandleTable {
 public:
  // Never destroyed, and in static storage: usable from atexit handlers after static
  // destructors, and nothing of it outlives the library's mapping.
  static HandleTable& instance();
  // Gives back the heap memory of the shards that hold no handle (the table stays usable).
  // Runs when the library is unloaded or the process exits.
  static void trim_empty_shards() noexcept;

  ULONG_PTR insert(std::shared_ptr<Object> object);
  // nullptr when absent.
  [[nodiscard]] std::shared_ptr<Object> find(ULONG_PTR handle) const;
  // Removes and returns the object; nullptr when absent.
  std::shared_ptr<Object> erase(ULONG_PTR handle);

  // The object of type T (T::kKind) behind handle; NTE_INVALID_HANDLE when absent or another kind.
  template <class T>
  [[nodiscard]] std::shared_ptr<T> get(ULONG_PTR handle) const {
    require(kind_of(handle) == T::kKind, NTE_INVALID_HANDLE, "invalid handle");
    auto object = find(handle);
    require(object != nullptr && object->kind() == T::kKind, NTE_INVALID_HANDLE, "invalid handle");
    return std::static_pointer_cast<T>(std::move(object));
  }

  // Removes the object of type T; NTE_INVALID_HANDLE when absent or another kind.
  template <class T>
  std::shared_ptr<T> take(ULONG_PTR handle) {
    require(kind_of(handle) == T::kKind, NTE_INVALID_HANDLE, "invalid handle");
    auto object = erase(handle);
    require(object != nullptr, NTE_INVALID_HANDLE, "invalid handle");
    return std::static_pointer_cast<T>(std::move(object));
  }

  static ObjectKind kind_of(ULONG_PTR handle) noexcept {
    return static_cast<ObjectKind>(handle & 0xFF);
  }

 private:
  HandleTable() = default;
  struct Shard;
  Shard& shard_for(ULONG_PTR handle) const noexcept;
};

}  // namespace cng::api
