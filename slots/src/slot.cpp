#include "slots/slot.h"

#include <cstdio>

#include "cng_storage_paths.h"
#include "store_probe.h"

namespace slots {

namespace {

// FNV-1a, 64 bit: a stable, dependency-free fingerprint (not a security property).
std::uint64_t fnv1a64(const std::string& bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace

Slot::Slot(SlotDescriptor descriptor, NCRYPT_PROV_HANDLE provider)
    : descriptor_(std::move(descriptor)),
      provider_(provider),
      capabilities_(probe_capabilities(provider)) {
  capabilities_.declared = descriptor_.profile.abilities;
}

Slot::~Slot() {
  if (provider_ != 0) {
    (void)NCryptFreeObject(provider_);
  }
}

DWORD Slot::scope_flag() const noexcept {
  return descriptor_.machine_scope ? static_cast<DWORD>(NCRYPT_MACHINE_KEY_FLAG) : DWORD{0};
}

bool Slot::write_protected() const {
  return !store_writable(cng::storage_paths::store_dir(descriptor_.machine_scope));
}

std::string Slot::serial_number() const {
  const std::string location = cng::storage_paths::store_dir(descriptor_.machine_scope).string();
  const std::uint64_t hash = fnv1a64(std::to_string(descriptor_.id) + ":" + location);
  char text[17] = {};
  std::snprintf(text, sizeof text, "%016llX", static_cast<unsigned long long>(hash));
  return std::string(text, 16);
}

std::filesystem::path Slot::key_store_dir() const {
  return cng::storage_paths::provider_store_dir(descriptor_.machine_scope,
                                                descriptor_.profile.store_subdirectory);
}

}  // namespace slots
