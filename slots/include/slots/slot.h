// The slot model: one slot per (key storage provider, scope), shared/DESIGN.md §2.
// This layer knows NCrypt (cng_model) and nothing of PKCS#11: the module turns a Slot into
// CK_SLOT_INFO / CK_TOKEN_INFO.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "ncrypt.h"
#include "slots/capabilities.h"
#include "slots/profile.h"

namespace slots {

struct SlotDescriptor {
  std::uint32_t id;  // stable: 0 software/user, 1 software/machine, 2 TPM/user, 3 TPM/machine
  ProviderProfile profile;  // the provider's (a copy of its row in the profile table)
  bool machine_scope;       // NCRYPT_MACHINE_KEY_FLAG on every key call
  std::string token_label;  // "CNG Software (user)" …
  std::string slot_description;
};

// A provider every slot needs could not be opened (open_present_slots). The module maps status
// through its SECURITY_STATUS table.
class ProviderError : public std::runtime_error {
 public:
  ProviderError(SECURITY_STATUS status, const std::string& what)
      : std::runtime_error(what), status_(status) {}
  [[nodiscard]] SECURITY_STATUS status() const noexcept { return status_; }

 private:
  SECURITY_STATUS status_;
};

// A present slot with its open provider. Slots are created once per C_Initialize and live
// until C_Finalize; methods are thread-safe.
class Slot {
 public:
  // Probes the provider's capabilities once, here (C_Initialize); the declared abilities are
  // the profile's.
  Slot(SlotDescriptor descriptor, NCRYPT_PROV_HANDLE provider);
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;
  ~Slot();

  [[nodiscard]] const SlotDescriptor& descriptor() const noexcept { return descriptor_; }
  [[nodiscard]] const ProviderProfile& profile() const noexcept { return descriptor_.profile; }
  [[nodiscard]] NCRYPT_PROV_HANDLE provider() const noexcept { return provider_; }
  // What the provider reported at construction (algorithms, RSA lengths, curves) and what its
  // profile declares.
  [[nodiscard]] const Capabilities& capabilities() const noexcept { return capabilities_; }
  // NCRYPT_MACHINE_KEY_FLAG for machine slots, else 0: OR it into create/open/enum/import flags.
  [[nodiscard]] DWORD scope_flag() const noexcept;
  // True when this process may not create keys in the slot's store: decided by creating (and
  // removing again) a probe file in the store directory, or a probe directory in its nearest
  // existing ancestor when the store does not exist yet. Leaves nothing behind.
  [[nodiscard]] bool write_protected() const;
  // A stable serial number (16 chars) derived from the slot id and the store location.
  [[nodiscard]] std::string serial_number() const;
  // The provider's key store directory in the slot's scope (the profile's store
  // subdirectory of the scope directory); empty when the scope has no directory.
  [[nodiscard]] std::filesystem::path key_store_dir() const;

 private:
  SlotDescriptor descriptor_;
  NCRYPT_PROV_HANDLE provider_;
  Capabilities capabilities_;
};

// Opens the slots of every profile whose provider answers (the platform provider's slots only
// with a TPM), user then machine scope, in slot-id order. Throws ProviderError when a required
// provider (the software provider) cannot be opened.
std::vector<std::unique_ptr<Slot>> open_present_slots(
    std::span<const ProviderProfile> profiles = provider_profiles());

}  // namespace slots
