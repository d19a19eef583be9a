// The key algorithm table: one row per CNG key algorithm id the model knows. Everything that
// depends only on the algorithm (canonical name, Algorithm Group, family, NCryptEnumAlgorithms
// class and operations, supported lengths, block length) is read from here; adding a key type
// is one row plus the files implementing its material in each provider.
#pragma once

#include <span>
#include <string_view>

#include "providers/key_material.h"

namespace cng {

// How key material is shaped: what creation properties apply and which operations exist.
enum class KeyFamily { kRsa, kEc, kSymmetric };

struct AlgorithmInfo {
  std::u16string_view name;  // canonical id, e.g. u"ECDSA_P256", u"AES"
  KeyAlgorithm algorithm;
  Curve curve;  // the named curve; kNone for non-EC and the generic "ECDSA"/"ECDH"
  KeyFamily family;
  std::u16string_view group;  // NCRYPT_ALGORITHM_GROUP_PROPERTY
  DWORD alg_class;            // NCRYPT_*_INTERFACE
  DWORD operations;           // NCRYPT_*_OPERATION bits
  // Symmetric keys: the Lengths property (bits); RSA lengths come from the provider and EC
  // lengths from the curve, so those rows leave it zero.
  NCRYPT_SUPPORTED_LENGTHS lengths;
  DWORD block_length;  // bytes; 0 when the algorithm has no block
};

std::span<const AlgorithmInfo> algorithm_table() noexcept;
// The row for an id (case-insensitive); nullptr when the model does not know it.
const AlgorithmInfo* find_algorithm(std::u16string_view id) noexcept;
// The row of a key: the named-curve row for an EC key on a curve, else the generic row.
const AlgorithmInfo& algorithm_info(KeyAlgorithm algorithm, Curve curve = Curve::kNone) noexcept;

inline bool is_symmetric(KeyAlgorithm algorithm) noexcept {
  return algorithm_info(algorithm).family == KeyFamily::kSymmetric;
}
// Whether the algorithm's row lists an NCRYPT_*_OPERATION bit (e.g. NCRYPT_CIPHER_OPERATION
// for keys that encrypt with NCRYPT_PAD_CIPHER_FLAG, NCRYPT_HASH_OPERATION for MAC keys).
inline bool has_operation(KeyAlgorithm algorithm, DWORD operation) noexcept {
  return (algorithm_info(algorithm).operations & operation) != 0;
}
inline bool is_ec_algorithm(KeyAlgorithm algorithm) noexcept {
  return algorithm_info(algorithm).family == KeyFamily::kEc;
}

}  // namespace cng
