#include <array>
#include <cstring>

#include "api/properties.h"
#include "api/symmetric.h"
#include "core/u16.h"
#include "providers/algorithm_table.h"

namespace cng::api {

namespace {

struct ModeName {
  std::u16string_view name;
  ChainingMode mode;
};
constexpr std::array kModes = {ModeName{BCRYPT_CHAIN_MODE_ECB, ChainingMode::kEcb},
                               ModeName{BCRYPT_CHAIN_MODE_CBC, ChainingMode::kCbc},
                               ModeName{BCRYPT_CHAIN_MODE_GCM, ChainingMode::kGcm}};

// GCM tags of 4..16 bytes (SP 800-38D allows 4 and 8 besides 12..16; PKCS#11 callers pass
// their ulTagBits through), wider than BCrypt's 12..16.
constexpr BCRYPT_AUTH_TAG_LENGTHS_STRUCT kGcmTagLengths = {4, 16, 1};

}  // namespace

std::optional<Bytes> get_symmetric_property(const KeyObject& key, std::u16string_view name) {
  if (!is_symmetric(key.algorithm)) {
    return std::nullopt;
  }
  const bool cipher = has_operation(key.algorithm, NCRYPT_CIPHER_OPERATION);
  if (u16_iequals(name, NCRYPT_BLOCK_LENGTH_PROPERTY)) {
    const DWORD block = algorithm_info(key.algorithm).block_length;
    require(block != 0, NTE_NOT_SUPPORTED, "the algorithm has no block length");
    return dword_value(block);
  }
  if (u16_iequals(name, NCRYPT_CHAINING_MODE_PROPERTY)) {
    require(cipher, NTE_NOT_SUPPORTED, "only cipher keys have a chaining mode");
    for (const auto& m : kModes) {
      if (m.mode == key.chaining_mode) {
        return string_value(m.name);
      }
    }
  }
  if (u16_iequals(name, NCRYPT_AUTH_TAG_LENGTH)) {
    require(cipher && key.chaining_mode == ChainingMode::kGcm, NTE_NOT_SUPPORTED,
            "tag lengths exist only in an authenticated chaining mode");
    Bytes out(sizeof kGcmTagLengths);
    std::memcpy(out.data(), &kGcmTagLengths, sizeof kGcmTagLengths);
    return out;
  }
  return std::nullopt;
}

bool set_symmetric_property(KeyObject& key, std::u16string_view name,
                            std::span<const std::uint8_t> value) {
  if (!is_symmetric(key.algorithm)) {
    return false;
  }
  if (u16_iequals(name, NCRYPT_AUTH_TAG_LENGTH) ||
      u16_iequals(name, NCRYPT_BLOCK_LENGTH_PROPERTY)) {
    fail(NTE_NOT_SUPPORTED, "property cannot be set");
  }
  if (!u16_iequals(name, NCRYPT_CHAINING_MODE_PROPERTY)) {
    return false;
  }
  require(has_operation(key.algorithm, NCRYPT_CIPHER_OPERATION), NTE_NOT_SUPPORTED,
          "only cipher keys have a chaining mode");
  const std::u16string mode = string_arg(value);
  for (const auto& m : kModes) {
    if (mode == m.name) {
      key.chaining_mode = m.mode;
      return true;
    }
  }
  for (const auto known : {BCRYPT_CHAIN_MODE_CFB, BCRYPT_CHAIN_MODE_CCM, BCRYPT_CHAIN_MODE_NA}) {
    require(mode != known, NTE_NOT_SUPPORTED, "chaining mode not supported");
  }
  fail(NTE_INVALID_PARAMETER, "unknown chaining mode");
}

}  // namespace cng::api
