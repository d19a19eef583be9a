#include "providers/platform/tpm_key.h"

#include "core/cng_error.h"
#include "providers/platform/pcp_properties.h"

namespace cng::tpm {

std::shared_ptr<TpmKey> TpmKey::make(std::shared_ptr<TpmConnection> connection, TpmKeyBlob blob,
                                     KeyAlgorithm algorithm) {
  const TPMT_PUBLIC& area = blob.pub.publicArea;
  const bool rsa = algorithm == KeyAlgorithm::kRsa;
  require(area.type == (rsa ? TPM2_ALG_RSA : TPM2_ALG_ECC), NTE_BAD_DATA,
          "TPM key type does not match the key's algorithm");
  require((area.objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT) != 0 &&
              (area.objectAttributes & TPMA_OBJECT_RESTRICTED) == 0,
          NTE_BAD_DATA, "TPM key is not an unrestricted signing key");
  if (rsa || algorithm == KeyAlgorithm::kEcdh) {
    require((area.objectAttributes & TPMA_OBJECT_DECRYPT) != 0, NTE_BAD_DATA,
            "TPM key lacks the decrypt attribute");
  }
  std::shared_ptr<soft::SoftwareKey> public_key;
  try {
    public_key = soft::SoftwareKey::make(public_key_of(area), algorithm, false);
  } catch (const CngError& e) {
    fail(NTE_BAD_DATA, std::string("unusable TPM public key: ") + e.what());
  }
  return std::make_shared<TpmKey>(std::move(connection), std::move(blob), algorithm,
                                  std::move(public_key));
}

TpmKey::TpmKey(std::shared_ptr<TpmConnection> connection, TpmKeyBlob blob, KeyAlgorithm algorithm,
               std::shared_ptr<soft::SoftwareKey> public_key)
    : connection_(std::move(connection)),
      id_(connection_->new_object_id()),
      blob_(std::move(blob)),
      algorithm_(algorithm),
      public_(std::move(public_key)) {}

TpmKey::~TpmKey() { connection_->forget(id_); }

void TpmKey::ensure_loaded() const {
  connection_->run([&](TpmConnection::Session& s) { (void)s.load(id_, blob_); });
}

SecureBytes TpmKey::export_private(std::u16string_view /*blob_type*/) const {
  fail(NTE_NOT_SUPPORTED, "the private part of a TPM key cannot be exported");
}

std::optional<Bytes> TpmKey::key_property(std::u16string_view name) const {
  return pcp_key_property(*this, name);
}

}  // namespace cng::tpm
