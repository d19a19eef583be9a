#include "providers/platform/tpm_sealer.h"

#include <openssl/crypto.h>

#include <cstring>

#include "core/cng_error.h"
#include "providers/platform/tpm_blob.h"
#include "providers/platform/tss_error.h"
#include "providers/platform/tss_ptr.h"

namespace cng::tpm {

namespace {

// A sealed data object: keyedhash with a NULL scheme (neither signs nor decrypts), bound to
// this TPM and parent, opened with the (empty) user auth, not subject to dictionary lockout.
TPM2B_PUBLIC sealed_template() {
  TPM2B_PUBLIC templ{};
  TPMT_PUBLIC& p = templ.publicArea;
  p.type = TPM2_ALG_KEYEDHASH;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes =
      TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA;
  p.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
  return templ;
}

class TpmSealer final : public master_key::TpmSealer {
 public:
  explicit TpmSealer(std::shared_ptr<TpmConnection> connection)
      : connection_(std::move(connection)) {}

  [[nodiscard]] Bytes seal(std::span<const std::uint8_t> secret) override {
    TPM2B_SENSITIVE_CREATE sensitive{};
    require(secret.size() <= sizeof sensitive.sensitive.data.buffer, NTE_INVALID_PARAMETER,
            "secret too large to seal");
    sensitive.sensitive.data.size = static_cast<UINT16>(secret.size());
    std::memcpy(sensitive.sensitive.data.buffer, secret.data(), secret.size());
    const TPM2B_PUBLIC templ = sealed_template();
    const TPM2B_DATA outside{};
    const TPML_PCR_SELECTION pcrs{};
    TpmKeyBlob blob;
    try {
      connection_->run([&](TpmConnection::Session& s) {
        blob.parent = s.default_parent();
        const ESYS_TR parent = s.parent(blob.parent);
        blob.parent_name = s.parent_name(blob.parent);
        EsysOut<TPM2B_PRIVATE> priv;
        EsysOut<TPM2B_PUBLIC> pub;
        check_tss(
            Esys_Create(s.esys(), parent, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
                        &templ, &outside, &pcrs, out(priv), out(pub), nullptr, nullptr, nullptr),
            "TPM2_Create (sealed master key)");
        blob.priv = *priv;
        blob.pub = *pub;
      });
    } catch (...) {
      OPENSSL_cleanse(&sensitive, sizeof sensitive);
      throw;
    }
    OPENSSL_cleanse(&sensitive, sizeof sensitive);
    const SecureBytes encoded = encode_blob(blob);
    return {encoded.begin(), encoded.end()};
  }

  [[nodiscard]] SecureBytes unseal(std::span<const std::uint8_t> sealed) override {
    SecureBytes secret;
    const std::uint64_t id = connection_->new_object_id();
    try {
      const TpmKeyBlob blob = decode_blob(sealed);
      connection_->run([&](TpmConnection::Session& s) {
        const ESYS_TR object = s.load(id, blob);
        EsysOut<TPM2B_SENSITIVE_DATA> data;
        check_tss(
            Esys_Unseal(s.esys(), object, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, out(data)),
            "TPM2_Unseal");
        secret.assign(data->buffer, data->buffer + data->size);
        OPENSSL_cleanse(data->buffer, data->size);
      });
    } catch (const CngError& e) {
      connection_->forget(id);
      // Another TPM (the store moved), another owner seed, or a damaged blob: not this TPM's.
      fail(NTE_BAD_KEY_STATE,
           std::string("the TPM cannot unseal the master key (sealed to another TPM?): ") +
               e.what());
    }
    connection_->forget(id);
    return secret;
  }

 private:
  std::shared_ptr<TpmConnection> connection_;
};

}  // namespace

std::shared_ptr<master_key::TpmSealer> make_tpm_sealer(std::shared_ptr<TpmConnection> connection) {
  return std::make_shared<TpmSealer>(std::move(connection));
}

}  // namespace cng::tpm
