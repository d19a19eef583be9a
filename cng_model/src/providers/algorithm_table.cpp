#include "providers/algorithm_table.h"

#include <array>

#include "core/u16.h"

namespace cng {

namespace {

constexpr DWORD kSign = NCRYPT_SIGNATURE_OPERATION;
constexpr DWORD kAgree = NCRYPT_SECRET_AGREEMENT_OPERATION;
constexpr NCRYPT_SUPPORTED_LENGTHS kNoLengths = {0, 0, 0, 0};

// Classes and operations as NCryptEnumAlgorithms reports them on Windows; that an ECDH key
// handle can also sign is a property of keys, not of the algorithm listing.
constexpr std::array kAlgorithms = {
    AlgorithmInfo{u"RSA", KeyAlgorithm::kRsa, Curve::kNone, KeyFamily::kRsa,
                  NCRYPT_RSA_ALGORITHM_GROUP, NCRYPT_ASYMMETRIC_ENCRYPTION_INTERFACE,
                  NCRYPT_ASYMMETRIC_ENCRYPTION_OPERATION | kSign, kNoLengths, 0},
    AlgorithmInfo{u"ECDSA_P256", KeyAlgorithm::kEcdsa, Curve::kP256, KeyFamily::kEc,
                  NCRYPT_ECDSA_ALGORITHM_GROUP, NCRYPT_SIGNATURE_INTERFACE, kSign, kNoLengths, 0},
    AlgorithmInfo{u"ECDSA_P384", KeyAlgorithm::kEcdsa, Curve::kP384, KeyFamily::kEc,
                  NCRYPT_ECDSA_ALGORITHM_GROUP, NCRYPT_SIGNATURE_INTERFACE, kSign, kNoLengths, 0},
    AlgorithmInfo{u"ECDSA_P521", KeyAlgorithm::kEcdsa, Curve::kP521, KeyFamily::kEc,
                  NCRYPT_ECDSA_ALGORITHM_GROUP, NCRYPT_SIGNATURE_INTERFACE, kSign, kNoLengths, 0},
    AlgorithmInfo{u"ECDH_P256", KeyAlgorithm::kEcdh, Curve::kP256, KeyFamily::kEc,
                  NCRYPT_ECDH_ALGORITHM_GROUP, NCRYPT_SECRET_AGREEMENT_INTERFACE, kAgree,
                  kNoLengths, 0},
    AlgorithmInfo{u"ECDH_P384", KeyAlgorithm::kEcdh, Curve::kP384, KeyFamily::kEc,
                  NCRYPT_ECDH_ALGORITHM_GROUP, NCRYPT_SECRET_AGREEMENT_INTERFACE, kAgree,
                  kNoLengths, 0},
    AlgorithmInfo{u"ECDH_P521", KeyAlgorithm::kEcdh, Curve::kP521, KeyFamily::kEc,
                  NCRYPT_ECDH_ALGORITHM_GROUP, NCRYPT_SECRET_AGREEMENT_INTERFACE, kAgree,
                  kNoLengths, 0},
    AlgorithmInfo{u"ECDSA", KeyAlgorithm::kEcdsa, Curve::kNone, KeyFamily::kEc,
                  NCRYPT_ECDSA_ALGORITHM_GROUP, NCRYPT_SIGNATURE_INTERFACE, kSign, kNoLengths, 0},
    AlgorithmInfo{u"ECDH", KeyAlgorithm::kEcdh, Curve::kNone, KeyFamily::kEc,
                  NCRYPT_ECDH_ALGORITHM_GROUP, NCRYPT_SECRET_AGREEMENT_INTERFACE, kAgree,
                  kNoLengths, 0},
    // Persisted AES keys, as the Windows 8+ software KSP keeps them (default 256 bits).
    AlgorithmInfo{NCRYPT_AES_ALGORITHM, KeyAlgorithm::kAes, Curve::kNone, KeyFamily::kSymmetric,
                  NCRYPT_AES_ALGORITHM_GROUP, NCRYPT_CIPHER_INTERFACE, NCRYPT_CIPHER_OPERATION,
                  NCRYPT_SUPPORTED_LENGTHS{128, 256, 64, 256}, 16},
    // Model extension: a generic secret for HMAC (CNG has no such KSP key).
    AlgorithmInfo{NCRYPT_GENERIC_SECRET_ALGORITHM, KeyAlgorithm::kGenericSecret, Curve::kNone,
                  KeyFamily::kSymmetric, NCRYPT_GENERIC_SECRET_ALGORITHM_GROUP,
                  NCRYPT_HASH_INTERFACE, NCRYPT_HASH_OPERATION,
                  NCRYPT_SUPPORTED_LENGTHS{NCRYPT_GENERIC_SECRET_MIN_LENGTH,
                                           NCRYPT_GENERIC_SECRET_MAX_LENGTH, 8, 256},
                  0},
};

}  // namespace

std::span<const AlgorithmInfo> algorithm_table() noexcept { return kAlgorithms; }

const AlgorithmInfo* find_algorithm(std::u16string_view id) noexcept {
  for (const auto& row : kAlgorithms) {
    if (u16_iequals(row.name, id)) {
      return &row;
    }
  }
  return nullptr;
}

const AlgorithmInfo& algorithm_info(KeyAlgorithm algorithm, Curve curve) noexcept {
  const AlgorithmInfo* generic = nullptr;
  for (const auto& row : kAlgorithms) {
    if (row.algorithm == algorithm) {
      if (row.curve == curve) {
        return row;
      }
      if (row.curve == Curve::kNone) {
        generic = &row;
      }
    }
  }
  return generic != nullptr ? *generic : kAlgorithms.front();
}

}  // namespace cng
