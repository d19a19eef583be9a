// A byte vector that wipes itself (OPENSSL_cleanse) when freed: agreed secrets, derived keys,
// decrypted key material. The module compiles against the real Windows ncrypt.h too, so it
// keeps its own copy of this small helper instead of using cng_model's internal one.
#pragma once

#include <openssl/crypto.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace p11::mech {

template <class T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() noexcept = default;
  template <class U>
  explicit WipingAllocator(const WipingAllocator<U>& /*other*/) noexcept {}
  T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    OPENSSL_cleanse(p, n * sizeof(T));
    std::allocator<T>{}.deallocate(p, n);
  }
  template <class U>
  bool operator==(const WipingAllocator<U>& /*other*/) const noexcept {
    return true;
  }
};

using SecretBytes = std::vector<std::uint8_t, WipingAllocator<std::uint8_t>>;

}  // namespace p11::mech
