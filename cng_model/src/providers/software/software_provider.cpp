// The "Microsoft Software Key Storage Provider": key generation, storage form (PKCS#8) and
// import on OpenSSL 3.
#include "providers/software/software_provider.h"

#include <openssl/rsa.h>

#include "core/cng_error.h"
#include "core/u16.h"
#include "providers/algorithm_table.h"
#include "providers/cipher_key_blob.h"
#include "providers/software/algorithm_util.h"
#include "providers/software/bcrypt_blobs.h"
#include "providers/software/evp_build.h"
#include "providers/software/ossl_error.h"
#include "providers/software/software_key.h"
#include "providers/software/symmetric_key.h"

namespace cng {

namespace {

using soft::SoftwareKey;

// Windows documents the software KSP's RSA lengths as 512..16384 in steps of 64, default 1024.
constexpr NCRYPT_SUPPORTED_LENGTHS kRsaLengths = {512, 16384, 64, 1024};

ossl::PkeyPtr generate_rsa(DWORD bits) {
  require(bits >= kRsaLengths.dwMinLength && bits <= kRsaLengths.dwMaxLength &&
              bits % kRsaLengths.dwIncrement == 0,
          NTE_NOT_SUPPORTED, "RSA key length not supported");
  ossl::PkeyCtxPtr ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, soft::provider_key_type("RSA"), nullptr));
  soft::check_ossl(ctx != nullptr && EVP_PKEY_keygen_init(ctx.get()) == 1 &&
                       EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), static_cast<int>(bits)) == 1,
                   NTE_INTERNAL_ERROR, "RSA key generation setup");
  EVP_PKEY* key = nullptr;  // public exponent: OpenSSL's default, 65537, as CNG uses
  soft::check_ossl(EVP_PKEY_generate(ctx.get(), &key) == 1, NTE_INTERNAL_ERROR,
                   "RSA key generation");
  return ossl::PkeyPtr(key);
}

ossl::PkeyPtr generate_ec(Curve curve) {
  const char* group = soft::group_name(curve);
  require(group != nullptr, NTE_NOT_SUPPORTED, "curve not supported");
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, soft::provider_key_type("EC"), nullptr));
  soft::check_ossl(ctx != nullptr && EVP_PKEY_keygen_init(ctx.get()) == 1 &&
                       EVP_PKEY_CTX_set_group_name(ctx.get(), group) == 1,
                   NTE_INTERNAL_ERROR, "EC key generation setup");
  EVP_PKEY* key = nullptr;
  soft::check_ossl(EVP_PKEY_generate(ctx.get(), &key) == 1, NTE_INTERNAL_ERROR,
                   "EC key generation");
  return ossl::PkeyPtr(key);
}

// Which algorithm a stored record claims, as a status the storage contract knows.
soft::AlgorithmName record_algorithm(const KeyRecord& record) {
  try {
    soft::AlgorithmName name = soft::parse_algorithm_name(record.algorithm);
    if (is_ec_algorithm(name.algorithm) && !record.curve_name.empty()) {
      const Curve named = curve_from_name(record.curve_name);
      require(name.curve == Curve::kNone || name.curve == named, NTE_BAD_DATA,
              "record curve disagrees with its algorithm");
      name.curve = named;
    }
    return name;
  } catch (const CngError& e) {
    fail(NTE_BAD_DATA, std::string("unusable key record: ") + e.what());
  }
}

class SoftwareProvider final : public Provider {
 public:
  [[nodiscard]] std::u16string_view name() const noexcept override {
    return MS_KEY_STORAGE_PROVIDER;
  }
  [[nodiscard]] DWORD impl_type() const noexcept override { return NCRYPT_IMPL_SOFTWARE_FLAG; }

  [[nodiscard]] std::vector<AlgorithmEntry> algorithms() const override {
    // Every algorithm of the table: RSA, the NIST-curve EC keys, AES and generic secrets.
    std::vector<AlgorithmEntry> out;
    for (const AlgorithmInfo& row : algorithm_table()) {
      out.push_back({std::u16string(row.name), row.alg_class, row.operations});
    }
    return out;
  }

  [[nodiscard]] NCRYPT_SUPPORTED_LENGTHS rsa_lengths() const noexcept override {
    return kRsaLengths;
  }

  [[nodiscard]] bool supports_curve(Curve c) const noexcept override {
    return c == Curve::kP256 || c == Curve::kP384 || c == Curve::kP521;
  }

  [[nodiscard]] std::shared_ptr<KeyMaterial> generate(const KeySpec& spec) override {
    if (is_symmetric(spec.algorithm)) {
      return soft::SymmetricKey::generate(spec.algorithm, spec.symmetric_bits);
    }
    if (spec.algorithm == KeyAlgorithm::kRsa) {
      return SoftwareKey::make(generate_rsa(spec.rsa_bits), KeyAlgorithm::kRsa, true);
    }
    return SoftwareKey::make(generate_ec(spec.curve), spec.algorithm, true);
  }

  [[nodiscard]] SecureBytes to_storage(const KeyMaterial& key) override {
    if (const auto* secret = dynamic_cast<const soft::SymmetricKey*>(&key)) {
      return secret->secret();  // the raw key bytes
    }
    const auto* soft_key = dynamic_cast<const SoftwareKey*>(&key);
    require(soft_key != nullptr, NTE_INVALID_PARAMETER, "not a software provider key");
    if (!soft_key->has_private()) {
      return {};  // a public-only key lives entirely in KeyRecord::public_blob
    }
    return soft::encode_pkcs8(soft_key->pkey());
  }

  [[nodiscard]] std::shared_ptr<KeyMaterial> from_storage(const KeyRecord& record) override {
    const soft::AlgorithmName name = record_algorithm(record);
    if (is_symmetric(name.algorithm)) {
      require(record.private_blob.size() * 8 == record.length_bits, NTE_BAD_DATA,
              "stored secret does not have the record's length");
      try {
        return soft::SymmetricKey::make(name.algorithm, record.private_blob);
      } catch (const CngError& e) {
        fail(NTE_BAD_DATA, std::string("unusable stored key: ") + e.what());
      }
    }
    soft::ParsedKey parsed;
    try {
      if (record.private_blob.empty()) {
        parsed = soft::parse_bcrypt_blob(BCRYPT_PUBLIC_KEY_BLOB, record.public_blob);
      } else {
        parsed.key = soft::decode_pkcs8(record.private_blob);
        parsed.has_private = true;
      }
    } catch (const CngError& e) {
      fail(NTE_BAD_DATA, std::string("unusable stored key: ") + e.what());
    }
    const int type = EVP_PKEY_get_base_id(parsed.key.get());
    const bool rsa = name.algorithm == KeyAlgorithm::kRsa;
    require(type == (rsa ? EVP_PKEY_RSA : EVP_PKEY_EC), NTE_BAD_DATA,
            "stored key is not of the record's algorithm");
    if (!rsa) {
      const Curve curve = soft::ec_curve_of(parsed.key.get());
      require(curve != Curve::kNone && (name.curve == Curve::kNone || name.curve == curve),
              NTE_BAD_DATA, "stored key is not on the record's curve");
    }
    try {
      return SoftwareKey::make(std::move(parsed.key), name.algorithm, parsed.has_private);
    } catch (const CngError& e) {
      fail(NTE_BAD_DATA, std::string("unusable stored key: ") + e.what());
    }
  }

  [[nodiscard]] std::shared_ptr<KeyMaterial> import_blob(
      std::u16string_view blob_type, std::span<const std::uint8_t> data) override {
    return import(blob_type, data, true);
  }

  [[nodiscard]] std::shared_ptr<KeyMaterial> import_blob_no_validation(
      std::u16string_view blob_type, std::span<const std::uint8_t> data) override {
    return import(blob_type, data, false);
  }

 private:
  static std::shared_ptr<KeyMaterial> import(std::u16string_view blob_type,
                                             std::span<const std::uint8_t> data, bool validate) {
    if (u16_iequals(blob_type, NCRYPT_CIPHER_KEY_BLOB)) {
      CipherKeyBlob blob = parse_cipher_key_blob(data);
      return soft::SymmetricKey::make(blob.algorithm, std::move(blob.key));
    }
    soft::ParsedKey parsed;
    if (u16_iequals(blob_type, NCRYPT_PKCS8_PRIVATE_KEY_BLOB)) {
      parsed.key = soft::decode_pkcs8(data);
      parsed.has_private = true;
      switch (EVP_PKEY_get_base_id(parsed.key.get())) {
        case EVP_PKEY_RSA:
          parsed.algorithm = KeyAlgorithm::kRsa;
          break;
        case EVP_PKEY_EC:
          // PKCS#8 does not say whether an EC key is for ECDSA or ECDH; Windows then labels it
          // ECDH_*, which can both agree and sign.
          parsed.algorithm = KeyAlgorithm::kEcdh;
          break;
        default:
          fail(NTE_NOT_SUPPORTED, "PKCS#8 key type not supported");
      }
    } else {
      // Unknown blob type names: NTE_BAD_TYPE, as the Provider contract (and NCryptImportKey's
      // "the blob type is not supported") has it, rather than NTE_INVALID_PARAMETER.
      parsed = soft::parse_bcrypt_blob(blob_type, data);
    }
    if (validate) {
      soft::validate_key(parsed.key.get(), parsed.algorithm, parsed.has_private);
    }
    return SoftwareKey::make(std::move(parsed.key), parsed.algorithm, parsed.has_private);
  }
};

}  // namespace

std::unique_ptr<Provider> make_software_provider() { return std::make_unique<SoftwareProvider>(); }

}  // namespace cng
