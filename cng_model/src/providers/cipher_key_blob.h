// NCRYPT_CIPHER_KEY_BLOB codec (layout in ncrypt.h): provider-neutral, used by the software
// provider's export/import and by the NCrypt layer when it imports an unwrapped secret.
#pragma once

#include <span>
#include <string_view>

#include "providers/key_material.h"

namespace cng {

SecureBytes encode_cipher_key_blob(std::u16string_view algorithm,
                                   std::span<const std::uint8_t> key);

struct CipherKeyBlob {
  KeyAlgorithm algorithm = KeyAlgorithm::kAes;
  SecureBytes key;
};
// NTE_INVALID_PARAMETER for a wrong outer magic, NTE_BAD_DATA for bad sizes or the inner
// header, NTE_NOT_SUPPORTED for an algorithm that is not a symmetric key algorithm.
CipherKeyBlob parse_cipher_key_blob(std::span<const std::uint8_t> blob);

}  // namespace cng
