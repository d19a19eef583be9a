// The optional PIN of a slot's scope (shared/DESIGN.md §2) as the token sees it: its state for
// the token info, login / logout, setting or changing it. On Linux through cng_model's scope
// PIN extension (cng_scope_pin.h); on Windows there is no scope PIN (the seam and its reasons:
// src/scope_pin.cpp). PINs are bytes (UTF-8); this layer knows nothing of PKCS#11.
// Every call throws ProviderError with the NCrypt status (SCARD_W_WRONG_CHV: wrong PIN,
// SCARD_W_CHV_BLOCKED: locked, NTE_EXISTS: already set, NTE_NOT_FOUND: none set,
// NTE_INVALID_PARAMETER: not UTF-8 / bad length).
#pragma once

#include <cstdint>
#include <span>

#include "slots/slot.h"

namespace slots {

struct PinInfo {
  bool pin_set = false;
  bool locked = false;
  std::uint32_t failures = 0;
  std::uint32_t attempts_left = 0;
  std::uint32_t min_length = 0;  // of a new PIN, in bytes
  std::uint32_t max_length = 0;
};

using PinView = std::span<const std::uint8_t>;

PinInfo pin_info(const Slot& slot);
// Logs the scope in (CngLoginScope, UTF-8 as given). A PIN that is not UTF-8 cannot be the
// scope's PIN: SCARD_W_WRONG_CHV without a check.
void pin_login(const Slot& slot, PinView pin);
void pin_logout(const Slot& slot) noexcept;
void pin_set(const Slot& slot, PinView pin);
void pin_change(const Slot& slot, PinView old_pin, PinView new_pin);

}  // namespace slots
