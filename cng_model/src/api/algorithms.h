// Key algorithm identifiers as NCrypt names them ("RSA", "ECDSA_P256", generic "ECDSA"…).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "providers/algorithm_table.h"
#include "providers/key_material.h"
#include "providers/provider.h"

namespace cng::api {

struct KeyAlgorithmId {
  KeyAlgorithm algorithm = KeyAlgorithm::kRsa;
  Curve curve = Curve::kNone;  // kNone for RSA and for the generic "ECDSA"/"ECDH" before a curve
  bool generic_curve = false;  // "ECDSA"/"ECDH": curve chosen by the ECCCurveName property
  std::u16string name;         // canonical spelling
};

// The key algorithm behind an algorithm id (case-insensitive), or nullopt for anything that is
// not a key algorithm this layer models.
std::optional<KeyAlgorithmId> parse_key_algorithm(std::u16string_view id);

// Whether the provider can create/import keys of this algorithm.
bool provider_supports(const Provider& provider, const KeyAlgorithmId& id);

std::u16string algorithm_name(KeyAlgorithm algorithm, Curve curve);    // "ECDH_P384"…
std::u16string_view algorithm_group(KeyAlgorithm algorithm) noexcept;  // "RSA","ECDSA","AES"…
bool is_ec(KeyAlgorithm algorithm) noexcept;

}  // namespace cng::api
