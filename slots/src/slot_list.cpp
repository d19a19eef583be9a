// The slot list of shared/DESIGN.md §2: the provider profiles (profiles.cpp) × the two scopes.
// A required profile's slots are always there (software KSP), the others' only when their
// provider opens (platform KSP: with a TPM).
#include <memory>
#include <string>
#include <utility>

#include "slots/slot.h"

namespace slots {

namespace {

// Owns a provider handle until a Slot takes it.
class ProviderHandle {
 public:
  explicit ProviderHandle(NCRYPT_PROV_HANDLE h) noexcept : h_(h) {}
  ProviderHandle(const ProviderHandle&) = delete;
  ProviderHandle& operator=(const ProviderHandle&) = delete;
  ~ProviderHandle() {
    if (h_ != 0) {
      (void)NCryptFreeObject(h_);
    }
  }
  [[nodiscard]] NCRYPT_PROV_HANDLE get() const noexcept { return h_; }
  NCRYPT_PROV_HANDLE release() noexcept { return std::exchange(h_, 0); }

 private:
  NCRYPT_PROV_HANDLE h_;
};

SECURITY_STATUS open_provider(const ProviderProfile& profile, NCRYPT_PROV_HANDLE* out) {
  *out = 0;
  const std::u16string name(profile.provider);  // NUL-terminated for the C API
  return NCryptOpenStorageProvider(out, name.c_str(), 0);
}

SlotDescriptor describe(const ProviderProfile& profile, std::size_t index, bool machine_scope) {
  const std::string scope = machine_scope ? "machine" : "user";
  return SlotDescriptor{slot_id_of(index, machine_scope), profile, machine_scope,
                        std::string(profile.token_label) + " (" + scope + ")",
                        std::string(profile.slot_description) + ", " + scope + " scope"};
}

// Opens one provider handle per slot of the profile (user, machine); each Slot owns its handle.
void add_profile(std::vector<std::unique_ptr<Slot>>& out, const ProviderProfile& profile,
                 std::size_t index) {
  for (const bool machine_scope : {false, true}) {
    SlotDescriptor descriptor = describe(profile, index, machine_scope);
    NCRYPT_PROV_HANDLE h = 0;
    const SECURITY_STATUS status = open_provider(profile, &h);
    ProviderHandle handle(status == 0 ? h : 0);
    if (status != 0) {
      if (profile.required) {
        throw ProviderError(status, "cannot open provider for slot " + descriptor.token_label);
      }
      return;  // absent (the platform provider without a TPM: NTE_DEVICE_NOT_FOUND)
    }
    // If the allocation throws, the guard still owns (and frees) the handle.
    auto slot = std::make_unique<Slot>(std::move(descriptor), handle.get());
    handle.release();
    out.push_back(std::move(slot));
  }
}

}  // namespace

std::vector<std::unique_ptr<Slot>> open_present_slots(std::span<const ProviderProfile> profiles) {
  std::vector<std::unique_ptr<Slot>> slots;
  for (std::size_t index = 0; index < profiles.size(); ++index) {
    add_profile(slots, profiles[index], index);
  }
  return slots;
}

}  // namespace slots
