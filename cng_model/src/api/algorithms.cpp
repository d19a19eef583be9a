#include "api/algorithms.h"

#include "core/u16.h"

namespace cng::api {

std::optional<KeyAlgorithmId> parse_key_algorithm(std::u16string_view id) {
  const AlgorithmInfo* row = find_algorithm(id);
  if (row == nullptr) {
    return std::nullopt;
  }
  const bool generic = row->family == KeyFamily::kEc && row->curve == Curve::kNone;
  return KeyAlgorithmId{row->algorithm, row->curve, generic, std::u16string(row->name)};
}

bool provider_supports(const Provider& provider, const KeyAlgorithmId& id) {
  if (id.curve != Curve::kNone && !provider.supports_curve(id.curve)) {
    return false;
  }
  for (const auto& entry : provider.algorithms()) {
    if (u16_iequals(entry.name, id.name)) {
      return true;
    }
    // A provider that lists a named-curve EC algorithm can also make the generic one.
    if (id.generic_curve && entry.name.size() > id.name.size() &&
        u16_iequals(std::u16string_view(entry.name).substr(0, id.name.size() + 1),
                    id.name + u"_")) {
      return true;
    }
  }
  return false;
}

std::u16string algorithm_name(KeyAlgorithm algorithm, Curve curve) {
  return std::u16string(algorithm_info(algorithm, curve).name);
}

std::u16string_view algorithm_group(KeyAlgorithm algorithm) noexcept {
  return algorithm_info(algorithm).group;
}

bool is_ec(KeyAlgorithm algorithm) noexcept { return is_ec_algorithm(algorithm); }

}  // namespace cng::api
