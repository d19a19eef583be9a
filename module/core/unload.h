// Process-wide caches of the module (attribute schemas, mechanism tables, the curve table) are
// built on first use and kept across C_Finalize / C_Initialize. When the library is unloaded
// (or the process exits) while it is not initialised, they are freed, so dlopen/dlclose cycles
// leave nothing behind; the library then refuses a later C_Initialize (nothing else reaches
// them: every other call stops at "not initialised"). While it is still initialised they stay,
// so an application that calls C_Finalize from an atexit handler after static destructors
// finds everything it needs. Header-only, as every part of the module uses it.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>

namespace p11 {

using UnloadRelease = void (*)() noexcept;

namespace unload_detail {
// Constant-initialised and trivially destructible: usable at any point of load and unload.
// Only a handful of caches register; one beyond the capacity is simply not freed.
inline constexpr std::size_t kCapacity = 8;
inline constinit std::array<std::atomic<UnloadRelease>, kCapacity> releases{};
inline constinit std::atomic<std::size_t> count{0};
inline constinit std::atomic<bool> released{false};
}  // namespace unload_detail

// Registers release to run at unload: each cache once, when it is built.
inline void release_at_unload(UnloadRelease release) noexcept {
  const std::size_t slot = unload_detail::count.fetch_add(1);
  if (slot < unload_detail::kCapacity) {
    unload_detail::releases[slot].store(release);
  }
}

// The unload hook (session/instance.cpp) runs them once, holding the init mutex, when the
// library is not initialised.
inline void run_unload_releases() noexcept {
  if (unload_detail::released.exchange(true)) {
    return;
  }
  for (auto& entry : unload_detail::releases) {
    if (const UnloadRelease release = entry.exchange(nullptr); release != nullptr) {
      release();
    }
  }
}

[[nodiscard]] inline bool unload_released() noexcept { return unload_detail::released.load(); }

}  // namespace p11
