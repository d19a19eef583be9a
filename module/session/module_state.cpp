#include "session/module_state.h"

namespace p11 {

ModuleState::ModuleState(std::unique_ptr<LockFactory> locks,
                         std::span<const slots::ProviderProfile> profiles)
    : locks_(std::move(locks)), sessions_(locks_->make_mutex(LockLevel::kTable)) {
  for (auto& slot : slots::open_present_slots(profiles)) {
    auto state = std::make_unique<SlotState>();
    state->write_protected = slot->write_protected();
    state->serial = slot->serial_number();
    state->mutex = locks_->make_mutex(LockLevel::kSlot);
    state->slot = std::move(slot);
    state->objects = ObjectLayer::create(*state->slot);
    slots_.push_back(std::move(state));
  }
}

ModuleState::~ModuleState() {
  // Sessions first: their operations may refer to keys the object layers own.
  sessions_.clear();
  for (auto& slot : slots_) {
    slot->objects.reset();  // before the Slot whose provider it uses
  }
}

SlotState& ModuleState::slot(CK_SLOT_ID id) {
  for (auto& slot : slots_) {
    if (slot->slot->descriptor().id == id) {
      return *slot;
    }
  }
  fail(CKR_SLOT_ID_INVALID, "no such slot");
}

}  // namespace p11
