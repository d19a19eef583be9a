// The keyring's file formats (master_key.h): a master key file and the "current" file.
// Pure functions over bytes.
#pragma once

#include <cstdint>
#include <span>

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

// The AAD of a KEK-wrapped master key: "CNGMKEY-KEK-v1" || id.
Bytes kek_aad(const KeyId& id);

}  // namespace cng::master_key::codec
