// Everything C_Initialize creates and C_Finalize destroys: the lock factory, the present slots
// with their object layers and login state, and the session table.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/locking.h"
#include "objects/object_layer.h"
#include "session/session_table.h"
#include "slots/slot.h"

namespace p11 {

enum class LoginState { kPublic, kUser, kSecurityOfficer };

struct SlotState {
  std::unique_ptr<slots::Slot> slot;
  std::unique_ptr<ObjectLayer> objects;
  bool write_protected = false;  // decided once per C_Initialize (token info must be stable)
  std::string serial;
  std::unique_ptr<Mutex> mutex;  // level kSlot; guards the members below
  // Login is per application and slot (PKCS#11 §6.7): shared by all sessions of the slot,
  // dropped when the last session of the slot closes.
  LoginState login = LoginState::kPublic;
  // The PIN of the user's login, while logged in (SessionContext::user_pin).
  std::shared_ptr<const SecretBytes> user_pin = nullptr;
  // The slot's scope has a PIN (impl::refresh_pin_state): private objects are then hidden
  // until the user logs in. Without one, login changes nothing (DESIGN.md §2).
  bool pin_set = false;
  CK_ULONG session_count = 0;
  CK_ULONG rw_session_count = 0;
};

class ModuleState {
 public:
  // Opens the present slots of the provider profiles and one ObjectLayer per slot.
  explicit ModuleState(
      std::unique_ptr<LockFactory> locks,
      std::span<const slots::ProviderProfile> profiles = slots::provider_profiles());
  ModuleState(const ModuleState&) = delete;
  ModuleState& operator=(const ModuleState&) = delete;
  ~ModuleState();

  [[nodiscard]] LockFactory& locks() noexcept { return *locks_; }
  [[nodiscard]] const std::vector<std::unique_ptr<SlotState>>& slots() const noexcept {
    return slots_;
  }
  // CKR_SLOT_ID_INVALID when no such slot is present.
  [[nodiscard]] SlotState& slot(CK_SLOT_ID id);
  [[nodiscard]] SessionTable& sessions() noexcept { return sessions_; }

 private:
  // Declaration order is destruction order reversed: sessions (and their operations) go
  // first, then object layers and slots, then the lock factory.
  std::unique_ptr<LockFactory> locks_;
  std::vector<std::unique_ptr<SlotState>> slots_;
  SessionTable sessions_;
};

}  // namespace p11
