// Slot and token management: C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo, C_WaitForSlotEvent,
// C_GetMechanismList, C_GetMechanismInfo.
#include <mutex>

#include "abi/impl.h"
#include "abi/text_fields.h"
#include "mechanisms/operation.h"

namespace p11::impl {

namespace {

constexpr CK_VERSION kHardwareVersion{0, 1};
constexpr CK_VERSION kFirmwareVersion{0, 1};
// Without a scope PIN any PIN (including none) is accepted by C_Login.
constexpr CK_ULONG kMaxPinLen = 255;
constexpr CK_ULONG kMinPinLen = 0;

// The token flags of the scope PIN's state (PKCS#11 3.0 §5.5, CK_TOKEN_INFO): the retry
// counter is cng_model's persisted one.
CK_FLAGS pin_flags(const slots::PinInfo& pin) {
  if (!pin.pin_set) {
    return 0;  // no CKF_LOGIN_REQUIRED / CKF_USER_PIN_INITIALIZED (DESIGN.md §2)
  }
  CK_FLAGS flags = CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED;
  if (pin.locked) {
    flags |= CKF_USER_PIN_LOCKED;
  } else if (pin.attempts_left == 1) {
    flags |= CKF_USER_PIN_FINAL_TRY;
  }
  if (pin.failures > 0) {
    flags |= CKF_USER_PIN_COUNT_LOW;
  }
  return flags;
}

// The two-call protocol for a list of CK_ULONG-like values.
template <class T, class Range>
CK_RV copy_list(const Range& values, T* out, CK_ULONG_PTR count) {
  const auto needed = static_cast<CK_ULONG>(values.size());
  if (out == nullptr) {
    *count = needed;
    return CKR_OK;
  }
  if (*count < needed) {
    *count = needed;
    return CKR_BUFFER_TOO_SMALL;
  }
  CK_ULONG i = 0;
  for (const auto& value : values) {
    out[i++] = value;
  }
  *count = needed;
  return CKR_OK;
}

}  // namespace

CK_RV get_slot_list(ModuleState& state, CK_BBOOL /*token_present*/, CK_SLOT_ID_PTR list,
                    CK_ULONG_PTR count) {
  require(count != nullptr, CKR_ARGUMENTS_BAD, "pulCount is NULL");
  // Every present slot has its token (the provider scope): tokenPresent changes nothing.
  std::vector<CK_SLOT_ID> ids;
  for (const auto& slot : state.slots()) {
    ids.push_back(slot->slot->descriptor().id);
  }
  return copy_list(ids, list, count);
}

void get_slot_info(ModuleState& state, CK_SLOT_ID slot_id, CK_SLOT_INFO_PTR info) {
  require(info != nullptr, CKR_ARGUMENTS_BAD, "pInfo is NULL");
  const auto& d = state.slot(slot_id).slot->descriptor();
  *info = CK_SLOT_INFO{};
  set_text_field(info->slotDescription, d.slot_description);
  set_text_field(info->manufacturerID, d.profile.manufacturer);
  info->flags = CKF_TOKEN_PRESENT | (d.profile.hardware_slot ? CKF_HW_SLOT : 0);
  info->hardwareVersion = kHardwareVersion;
  info->firmwareVersion = kFirmwareVersion;
}

void get_token_info(ModuleState& state, CK_SLOT_ID slot_id, CK_TOKEN_INFO_PTR info) {
  require(info != nullptr, CKR_ARGUMENTS_BAD, "pInfo is NULL");
  SlotState& slot = state.slot(slot_id);
  const auto& d = slot.slot->descriptor();
  *info = CK_TOKEN_INFO{};
  set_text_field(info->label, d.token_label);
  set_text_field(info->manufacturerID, d.profile.manufacturer);
  set_text_field(info->model, d.profile.model);
  set_text_field(info->serialNumber, slot.serial);
  const slots::PinInfo pin = refresh_pin_state(slot);
  info->flags = CKF_TOKEN_INITIALIZED | CKF_RNG | (slot.write_protected ? CKF_WRITE_PROTECTED : 0) |
                pin_flags(pin);
  {
    const std::lock_guard lock(*slot.mutex);
    info->ulSessionCount = slot.session_count;
    info->ulRwSessionCount = slot.rw_session_count;
  }
  info->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
  info->ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
  info->ulMaxPinLen = pin.pin_set ? pin.max_length : kMaxPinLen;
  info->ulMinPinLen = pin.pin_set ? pin.min_length : kMinPinLen;
  info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
  info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
  info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
  info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
  info->hardwareVersion = kHardwareVersion;
  info->firmwareVersion = kFirmwareVersion;
  set_text_field(info->utcTime, "");  // no CKF_CLOCK_ON_TOKEN
}

CK_RV wait_for_slot_event(ModuleState& /*state*/, CK_FLAGS flags, CK_SLOT_ID_PTR slot,
                          CK_VOID_PTR /*reserved*/) {
  require(slot != nullptr, CKR_ARGUMENTS_BAD, "pSlot is NULL");
  // Slots are fixed for the life of an initialisation: there is never an event, and a
  // blocking wait would never return.
  return (flags & CKF_DONT_BLOCK) != 0 ? CKR_NO_EVENT : CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV get_mechanism_list(ModuleState& state, CK_SLOT_ID slot_id, CK_MECHANISM_TYPE_PTR list,
                         CK_ULONG_PTR count) {
  require(count != nullptr, CKR_ARGUMENTS_BAD, "pulCount is NULL");
  const slots::Capabilities& caps = state.slot(slot_id).slot->capabilities();
  std::vector<CK_MECHANISM_TYPE> types;
  for (const auto& entry : mechanism_table(caps)) {
    types.push_back(entry.type);
  }
  return copy_list(types, list, count);
}

void get_mechanism_info(ModuleState& state, CK_SLOT_ID slot_id, CK_MECHANISM_TYPE type,
                        CK_MECHANISM_INFO_PTR info) {
  require(info != nullptr, CKR_ARGUMENTS_BAD, "pInfo is NULL");
  *info = mechanism_info(type, state.slot(slot_id).slot->capabilities());
}

}  // namespace p11::impl
