// A provider profile: everything that differs between key storage providers, as data
// (shared/DESIGN.md §2: a provider is never a boolean in the code). The slot list is the
// profile table × the two scopes; each Slot keeps its profile and answers from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "slots/capabilities.h"

namespace slots {

// The strings are views: rows point at literals (static storage), so copies stay valid.
struct ProviderProfile {
  std::u16string_view provider;  // the NCrypt provider name (NCryptOpenStorageProvider)
  // The provider's key store within a scope directory, as cng_model keeps it: empty for the
  // scope directory itself. Certificates live in its "certs" subdirectory.
  std::string_view store_subdirectory;
  // Display strings. Token label "<token_label> (user)" / "<token_label> (machine)", slot
  // description "<slot_description>, user scope" / "…, machine scope"; manufacturer and model
  // as the token (and slot) info show them.
  std::string_view token_label;
  std::string_view slot_description;
  std::string_view manufacturer;
  std::string_view model;
  bool hardware_slot;  // the keys live in a hardware device (the slot info's hardware flag)
  // true: C_Initialize fails when the provider does not open. false: its slots are absent
  // then (the platform provider without a TPM).
  bool required;
  // What the provider can do that no NCrypt query reveals (Capabilities::declared).
  Abilities abilities;
};

// The profile table (profiles.cpp), in slot-id order: the profile at index i has slot ids
// 2i (user scope) and 2i+1 (machine scope).
std::span<const ProviderProfile> provider_profiles() noexcept;

// The slot id of a profile's slot: index is the profile's position in its table.
constexpr std::uint32_t slot_id_of(std::size_t index, bool machine_scope) noexcept {
  return static_cast<std::uint32_t>(2 * index + (machine_scope ? 1 : 0));
}

}  // namespace slots
