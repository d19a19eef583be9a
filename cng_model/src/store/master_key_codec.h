// The keyring's file formats (master_key.h): a master key file and the "current" file.
// Pure functions over bytes.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "store/master_key.h"

namespace cng::master_key::codec {

struct MasterKeyFile {
  KeyId id{};
  Protector protector = Protector::kFile;
  SecureBytes payload;  // by protector: see master_key.h
};
struct CurrentFile {
  KeyId id{};
  bool migrated = false;
};

SecureBytes encode(const MasterKeyFile& file);
MasterKeyFile decode_master(std::span<const std::uint8_t> bytes);  // NTE_BAD_DATA on defects
Bytes encode(const CurrentFile& file);
CurrentFile decode_current(std::span<const std::uint8_t> bytes);  // NTE_BAD_DATA on defects

// One KEK wrapping of a master key: nonce (12) || AES-256-GCM ciphertext (32) || tag (16). A kKek
// payload holds one, or two while a PIN change is in flight (master_key.h).
inline constexpr std::size_t kKekWrapBytes = 12 + kKeyBytes + 16;
inline constexpr std::size_t kMaxKekWraps = 2;

// One entry of a kTpmPin payload (master_key.h): the check value of the PIN's KEK that opens
// it, and the TPM sealed object (a kTpmSealed payload) whose auth that KEK gives.
inline constexpr std::size_t kTpmPinCheckBytes = 16;
struct TpmPinEntry {
  std::array<std::uint8_t, kTpmPinCheckBytes> check{};
  SecureBytes sealed;
};
// The authValue of a kTpmPin sealed object (32) and its entry's check value (16), both HKDF-SHA256
// of the PIN's KEK with their own labels (master_key.h).
SecureBytes tpm_pin_auth(std::span<const std::uint8_t, kKekBytes> kek);
std::array<std::uint8_t, kTpmPinCheckBytes> tpm_pin_check(
    std::span<const std::uint8_t, kKekBytes> kek);
SecureBytes encode_tpm_pin(std::span<const TpmPinEntry> entries);
// One or two entries; NTE_BAD_DATA on any defect.
std::vector<TpmPinEntry> decode_tpm_pin(std::span<const std::uint8_t> payload);

// The AAD of a KEK-wrapped master key: "CNGMKEY-KEK-v1" || id.
Bytes kek_aad(const KeyId& id);

}  // namespace cng::master_key::codec
