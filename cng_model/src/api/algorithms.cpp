#include "api/algorithms.h"

#include <array>

#include "core/u16.h"

namespace cng::api {

namespace {

struct NamedAlgorithm {
  std::u16string_view name;
  KeyAlgorithm algorithm;
  Curve curve;
};

constexpr std::array kNamed = {
    NamedAlgorithm{u"RSA", KeyAlgorithm::kRsa, Curve::kNone},
    NamedAlgorithm{u"ECDSA_P256", KeyAlgorithm::kEcdsa, Curve::kP256},
    NamedAlgorithm{u"ECDSA_P384", KeyAlgorithm::kEcdsa, Curve::kP384},
    NamedAlgorithm{u"ECDSA_P521", KeyAlgorithm::kEcdsa, Curve::kP521},
    NamedAlgorithm{u"ECDH_P256", KeyAlgorithm::kEcdh, Curve::kP256},
    NamedAlgorithm{u"ECDH_P384", KeyAlgorithm::kEcdh, Curve::kP384},
    NamedAlgorithm{u"ECDH_P521", KeyAlgorithm::kEcdh, Curve::kP521},
    NamedAlgorithm{u"ECDSA", KeyAlgorithm::kEcdsa, Curve::kNone},
    NamedAlgorithm{u"ECDH", KeyAlgorithm::kEcdh, Curve::kNone},
};

}  // namespace

std::optional<KeyAlgorithmId> parse_key_algorithm(std::u16string_view id) {
  for (const auto& named : kNamed) {
    if (u16_iequals(named.name, id)) {
      const bool generic = named.algorithm != KeyAlgorithm::kRsa && named.curve == Curve::kNone;
      return KeyAlgorithmId{named.algorithm, named.curve, generic, std::u16string(named.name)};
    }
  }
  return std::nullopt;
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
  if (algorithm == KeyAlgorithm::kRsa) {
    return u"RSA";
  }
  std::u16string name(algorithm_group(algorithm));
  switch (curve) {
    case Curve::kP256:
      return name + u"_P256";
    case Curve::kP384:
      return name + u"_P384";
    case Curve::kP521:
      return name + u"_P521";
    case Curve::kNone:
      break;
  }
  return name;
}

std::u16string_view algorithm_group(KeyAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case KeyAlgorithm::kRsa:
      return NCRYPT_RSA_ALGORITHM_GROUP;
    case KeyAlgorithm::kEcdsa:
      return NCRYPT_ECDSA_ALGORITHM_GROUP;
    case KeyAlgorithm::kEcdh:
      return NCRYPT_ECDH_ALGORITHM_GROUP;
  }
  return u"";
}

bool is_ec(KeyAlgorithm algorithm) noexcept { return algorithm != KeyAlgorithm::kRsa; }

}  // namespace cng::api
