// Zeroizing byte buffers for secrets (private key blobs, agreed secrets, passwords).
#pragma once

#include <openssl/crypto.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cng {

template <class T>
struct ZeroizingAllocator {
  using value_type = T;
  ZeroizingAllocator() noexcept = default;
  template <class U>
  explicit ZeroizingAllocator(const ZeroizingAllocator<U>& /*other*/) noexcept {}
  T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    OPENSSL_cleanse(p, n * sizeof(T));
    std::allocator<T>{}.deallocate(p, n);
  }
  template <class U>
  bool operator==(const ZeroizingAllocator<U>& /*other*/) const noexcept {
    return true;
  }
};

using Bytes = std::vector<std::uint8_t>;
using SecureBytes = std::vector<std::uint8_t, ZeroizingAllocator<std::uint8_t>>;

}  // namespace cng
