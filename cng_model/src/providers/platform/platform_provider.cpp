// The "Microsoft Platform Crypto Provider": keys created in the TPM under its storage parent,
// stored as wrapped TPM2B_PUBLIC / TPM2B_PRIVATE blobs; public-only keys (ECDH peers,
// imported public keys) in software.
#include "providers/platform/platform_provider.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstdlib>

#include "core/cng_error.h"
#include "core/u16.h"
#include "providers/algorithm_table.h"
#include "providers/platform/pcp_properties.h"
#include "providers/platform/tpm_key.h"
#include "providers/platform/tpm_sealer.h"
#include "providers/platform/tss_error.h"
#include "providers/software/algorithm_util.h"
#include "providers/software/software_provider.h"

namespace cng {

namespace {

using tpm::TpmConnection;
using tpm::TpmKey;

bool is_private_blob_type(std::u16string_view type) {
  for (const auto t : {BCRYPT_RSAPRIVATE_BLOB, BCRYPT_RSAFULLPRIVATE_BLOB, BCRYPT_ECCPRIVATE_BLOB,
                       BCRYPT_PRIVATE_KEY_BLOB, NCRYPT_PKCS8_PRIVATE_KEY_BLOB}) {
    if (u16_iequals(type, t)) {
      return true;
    }
  }
  return false;
}

struct SensitiveWipe {
  TPM2B_SENSITIVE_CREATE* sensitive;
  ~SensitiveWipe() { OPENSSL_cleanse(sensitive, sizeof *sensitive); }
};

class PlatformProvider final : public Provider {
 public:
  explicit PlatformProvider(std::shared_ptr<TpmConnection> connection)
      : connection_(std::move(connection)), software_(make_software_provider()) {}

  [[nodiscard]] std::u16string_view name() const noexcept override {
    return MS_PLATFORM_CRYPTO_PROVIDER;
  }
  [[nodiscard]] DWORD impl_type() const noexcept override { return NCRYPT_IMPL_HARDWARE_FLAG; }
  [[nodiscard]] bool enforces_usage_auth() const noexcept override { return true; }

  [[nodiscard]] std::vector<AlgorithmEntry> algorithms() const override {
    const tpm::TpmCapabilities& caps = connection_->capabilities();
    constexpr DWORD kSign = NCRYPT_SIGNATURE_OPERATION;
    constexpr DWORD kAgree = NCRYPT_SECRET_AGREEMENT_OPERATION;
    std::vector<AlgorithmEntry> list;
    if (caps.rsa) {
      list.push_back({u"RSA", NCRYPT_ASYMMETRIC_ENCRYPTION_INTERFACE,
                      NCRYPT_ASYMMETRIC_ENCRYPTION_OPERATION | kSign});
    }
    for (const Curve c : caps.curves) {
      const std::u16string suffix = c == Curve::kP256   ? u"_P256"
                                    : c == Curve::kP384 ? u"_P384"
                                                        : u"_P521";
      if (caps.ecdsa) {
        list.push_back({u"ECDSA" + suffix, NCRYPT_SIGNATURE_INTERFACE, kSign});
      }
      if (caps.ecdh) {
        list.push_back({u"ECDH" + suffix, NCRYPT_SECRET_AGREEMENT_INTERFACE, kAgree});
      }
    }
    if (caps.ecdsa && !caps.curves.empty()) {
      list.push_back({u"ECDSA", NCRYPT_SIGNATURE_INTERFACE, kSign});
    }
    if (caps.ecdh && !caps.curves.empty()) {
      list.push_back({u"ECDH", NCRYPT_SECRET_AGREEMENT_INTERFACE, kAgree});
    }
    return list;
  }

  // The sizes TPM2_TestParms accepted, as one range; a TPM with gaps in it (rare) still
  // refuses the missing sizes at generate().
  [[nodiscard]] NCRYPT_SUPPORTED_LENGTHS rsa_lengths() const noexcept override {
    const std::vector<DWORD>& sizes = connection_->capabilities().rsa_bits;
    if (sizes.empty()) {
      return {0, 0, 0, 0};
    }
    const DWORD min = sizes.front();
    const DWORD max = sizes.back();
    const DWORD def = std::find(sizes.begin(), sizes.end(), 2048U) != sizes.end() ? 2048U : min;
    return {min, max, sizes.size() > 1 ? 1024U : 0U, def};
  }

  [[nodiscard]] bool supports_curve(Curve c) const noexcept override {
    return connection_->capabilities().has_curve(c);
  }

  [[nodiscard]] std::shared_ptr<KeyMaterial> generate(const KeySpec& spec) override {
    const tpm::TpmCapabilities& caps = connection_->capabilities();
    require(!is_symmetric(spec.algorithm), NTE_NOT_SUPPORTED,
            "the platform provider keeps no symmetric keys");
    if (spec.algorithm == KeyAlgorithm::kRsa) {
      require(caps.has_rsa_bits(spec.rsa_bits), NTE_NOT_SUPPORTED,
              "the TPM does not support this RSA key length");
    } else {
      require(caps.has_curve(spec.curve) &&
                  (spec.algorithm == KeyAlgorithm::kEcdsa ? caps.ecdsa : caps.ecdh),
              NTE_NOT_SUPPORTED, "the TPM does not support this curve or algorithm");
    }
    const TPM2B_PUBLIC templ = tpm::key_template(spec);
    TPM2B_SENSITIVE_CREATE sensitive{};  // userAuth: the key's PIN (key_auth.h), never stored
    TPM2B_AUTH& auth = sensitive.sensitive.userAuth;
    require(spec.usage_auth.size() <= sizeof auth.buffer, NTE_INVALID_PARAMETER,
            "usage auth value too long");
    auth.size = static_cast<UINT16>(spec.usage_auth.size());
    std::copy(spec.usage_auth.begin(), spec.usage_auth.end(), auth.buffer);
    const SensitiveWipe wipe{&sensitive};
    const TPM2B_DATA outside{};
    const TPML_PCR_SELECTION pcrs{};
    tpm::TpmKeyBlob blob;
    connection_->run([&](TpmConnection::Session& s) {
      blob.parent = s.default_parent();
      const ESYS_TR parent = s.parent(blob.parent);
      blob.parent_name = s.parent_name(blob.parent);
      tpm::EsysOut<TPM2B_PRIVATE> priv;
      tpm::EsysOut<TPM2B_PUBLIC> pub;
      tpm::check_tss(Esys_Create(s.esys(), parent, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                 &sensitive, &templ, &outside, &pcrs, tpm::out(priv), tpm::out(pub),
                                 nullptr, nullptr, nullptr),
                     "TPM2_Create");
      blob.priv = *priv;
      blob.pub = *pub;
    });
    return TpmKey::make(connection_, std::move(blob), spec.algorithm);
  }

  [[nodiscard]] SecureBytes to_storage(const KeyMaterial& key) override {
    if (const auto* tpm_key = dynamic_cast<const TpmKey*>(&key)) {
      return tpm::encode_blob(tpm_key->blob());
    }
    require(!key.has_private(), NTE_INVALID_PARAMETER, "not a platform provider key");
    return {};  // a public-only key lives entirely in KeyRecord::public_blob
  }

  [[nodiscard]] std::shared_ptr<KeyMaterial> from_storage(const KeyRecord& record) override {
    if (record.private_blob.empty()) {
      try {
        return software_->import_blob(BCRYPT_PUBLIC_KEY_BLOB, record.public_blob);
      } catch (const CngError& e) {
        fail(NTE_BAD_DATA, std::string("unusable stored public key: ") + e.what());
      }
    }
    const KeyAlgorithm algorithm = record_algorithm(record);
    tpm::TpmKeyBlob blob = tpm::decode_blob(record.private_blob);
    if (algorithm != KeyAlgorithm::kRsa && !record.curve_name.empty()) {
      Curve named = Curve::kNone;
      try {
        named = curve_from_name(record.curve_name);
      } catch (const CngError&) {
        fail(NTE_BAD_DATA, "key record names an unknown curve");
      }
      require(tpm::curve_of(blob.pub.publicArea) == named, NTE_BAD_DATA,
              "stored TPM key is not on the record's curve");
    }
    auto key = TpmKey::make(connection_, std::move(blob), algorithm);
    // Load now, so that a key this TPM cannot unwrap (another TPM's, or altered) fails here.
    key->ensure_loaded();
    return key;
  }

  // Public blobs only (ECDH peers, verification keys): the TPM holds no imported private keys.
  [[nodiscard]] std::shared_ptr<KeyMaterial> import_blob(
      std::u16string_view blob_type, std::span<const std::uint8_t> data) override {
    require(!is_private_blob_type(blob_type), NTE_NOT_SUPPORTED,
            "the platform provider cannot import private keys");
    auto key = software_->import_blob(blob_type, data);
    require(!key->has_private(), NTE_NOT_SUPPORTED,
            "the platform provider cannot import private keys");
    return key;
  }

  [[nodiscard]] std::optional<Bytes> provider_property(std::u16string_view name) const override {
    return tpm::pcp_provider_property(*connection_, name);
  }

 private:
  static KeyAlgorithm record_algorithm(const KeyRecord& record) {
    try {
      return soft::parse_algorithm_name(record.algorithm).algorithm;
    } catch (const CngError&) {
      fail(NTE_BAD_DATA, "key record names an unknown algorithm");
    }
  }

 public:
  [[nodiscard]] const std::shared_ptr<TpmConnection>& connection() const noexcept {
    return connection_;
  }

 private:
  std::shared_ptr<TpmConnection> connection_;
  std::unique_ptr<Provider> software_;  // parses public blobs
};

}  // namespace

std::string default_tcti_config() {
  const char* configured = std::getenv("CNG_PKCS11_TCTI");
  return configured != nullptr && *configured != '\0' ? configured : "device:/dev/tpmrm0";
}

std::shared_ptr<master_key::TpmSealer> master_key_sealer(Provider& provider) {
  auto* platform = dynamic_cast<PlatformProvider*>(&provider);
  require(platform != nullptr, NTE_INVALID_PARAMETER, "not the platform provider");
  return tpm::make_tpm_sealer(platform->connection());
}

std::unique_ptr<Provider> make_platform_provider(const std::string& tcti_config) {
  return std::make_unique<PlatformProvider>(std::make_shared<TpmConnection>(tcti_config));
}

std::unique_ptr<Provider> make_platform_provider() {
  return make_platform_provider(default_tcti_config());
}

}  // namespace cng
