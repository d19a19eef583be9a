// A T built in static storage on first use and never destroyed (the module's floor; cng_model
// keeps its own copy, as module/ builds without it on Windows). For the process-wide objects
// that calls may need after static destructors ran (clients call C_Finalize from atexit
// handlers): unlike a leaked `new T`, its storage goes away with the library when it is
// unloaded. Use as a function-local static: `static NoDestructor<std::mutex> m; return *m;`.
#pragma once

#include <new>
#include <utility>

namespace p11 {

template <class T>
class NoDestructor {
 public:
  template <class... Args>
  explicit NoDestructor(Args&&... args) {
    new (storage_) T(std::forward<Args>(args)...);
  }
  NoDestructor(const NoDestructor&) = delete;
  NoDestructor& operator=(const NoDestructor&) = delete;
  ~NoDestructor() = default;  // trivial: T is never destroyed

  T& operator*() noexcept { return *std::launder(reinterpret_cast<T*>(storage_)); }
  T* operator->() noexcept { return &**this; }

 private:
  alignas(T) unsigned char storage_[sizeof(T)];
};

}  // namespace p11
