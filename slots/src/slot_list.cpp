// The slot table of shared/DESIGN.md §2: software KSP user/machine always, platform KSP (TPM)
// user/machine only when the platform provider opens.
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

struct SlotRow {
  std::uint32_t id;
  const char16_t* provider;
  bool machine_scope;
  const char* label;
  const char* description;
  bool hardware;
};

constexpr SlotRow kSoftwareUser{0,
                                MS_KEY_STORAGE_PROVIDER,
                                false,
                                "CNG Software (user)",
                                "Microsoft Software Key Storage Provider, user scope",
                                false};
constexpr SlotRow kSoftwareMachine{1,
                                   MS_KEY_STORAGE_PROVIDER,
                                   true,
                                   "CNG Software (machine)",
                                   "Microsoft Software Key Storage Provider, machine scope",
                                   false};
constexpr SlotRow kPlatformUser{2,
                                MS_PLATFORM_CRYPTO_PROVIDER,
                                false,
                                "CNG Platform (user)",
                                "Microsoft Platform Crypto Provider (TPM), user scope",
                                true};
constexpr SlotRow kPlatformMachine{3,
                                   MS_PLATFORM_CRYPTO_PROVIDER,
                                   true,
                                   "CNG Platform (machine)",
                                   "Microsoft Platform Crypto Provider (TPM), machine scope",
                                   true};

SECURITY_STATUS open_provider(const char16_t* name, NCRYPT_PROV_HANDLE* out) {
  *out = 0;
  return NCryptOpenStorageProvider(out, name, 0);
}

std::unique_ptr<Slot> make_slot(const SlotRow& row, ProviderHandle& provider) {
  SlotDescriptor d{row.id,    row.provider,    row.machine_scope,
                   row.label, row.description, row.hardware};
  // If the allocation throws, the guard still owns (and frees) the handle.
  auto slot = std::make_unique<Slot>(std::move(d), provider.get());
  provider.release();
  return slot;
}

// Opens one provider handle per slot of the pair (user, machine); each Slot owns its handle.
void add_pair(std::vector<std::unique_ptr<Slot>>& out, const SlotRow& user, const SlotRow& machine,
              bool required) {
  for (const SlotRow* row : {&user, &machine}) {
    NCRYPT_PROV_HANDLE h = 0;
    const SECURITY_STATUS status = open_provider(row->provider, &h);
    ProviderHandle handle(status == 0 ? h : 0);
    if (status != 0) {
      if (required) {
        throw ProviderError(status, std::string("cannot open provider for slot ") + row->label);
      }
      return;  // absent (the platform provider without a TPM: NTE_DEVICE_NOT_FOUND)
    }
    out.push_back(make_slot(*row, handle));
    if (row->hardware) {
      set_platform_capabilities(out.back()->capabilities());
    }
  }
}

}  // namespace

std::vector<std::unique_ptr<Slot>> open_present_slots() {
  std::vector<std::unique_ptr<Slot>> slots;
  add_pair(slots, kSoftwareUser, kSoftwareMachine, /*required=*/true);
  add_pair(slots, kPlatformUser, kPlatformMachine, /*required=*/false);
  return slots;
}

}  // namespace slots
