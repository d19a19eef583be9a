#include "providers/platform/tpm_sealer.h"

#include <openssl/crypto.h>

#include <cstring>

#include "core/cng_error.h"
#include "providers/platform/tpm_blob.h"
#include "providers/platform/tss_error.h"
#include "providers/platform/tss_ptr.h"

namespace cng::tpm {

namespace {

constexpr std::size_t kMaxAuthBytes = 32;  // the SHA-256 name algorithm's digest size

// A sealed data object: keyedhash with a NULL scheme (neither signs nor decrypts), bound to
// this TPM and parent, opened with its user auth. Without an auth it is not subject to the
// dictionary-attack lockout (noDA); with one (derived from the scope's PIN) it is: every wrong
// auth counts in the TPM's lockout counter.
TPM2B_PUBLIC sealed_template(bool with_auth) {
  TPM2B_PUBLIC templ{};
  TPMT_PUBLIC& p = templ.publicArea;
  p.type = TPM2_ALG_KEYEDHASH;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_USERWITHAUTH;
  if (!with_auth) {
    p.objectAttributes |= TPMA_OBJECT_NODA;
  }
  p.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
  return templ;
}

class TpmSealer final : public master_key::TpmSealer {
 public:
  explicit TpmSealer(std::shared_ptr<TpmConnection> connection)
      : connection_(std::move(connection)) {}

  [[nodiscard]] Bytes seal(std::span<const std::uint8_t> secret,
                           std::span<const std::uint8_t> auth) override {
    TPM2B_SENSITIVE_CREATE sensitive{};
    require(secret.size() <= sizeof sensitive.sensitive.data.buffer, NTE_INVALID_PARAMETER,
            "secret too large to seal");
    require(auth.size() <= kMaxAuthBytes, NTE_INVALID_PARAMETER, "sealed object auth too long");
    sensitive.sensitive.data.size = static_cast<UINT16>(secret.size());
    std::memcpy(sensitive.sensitive.data.buffer, secret.data(), secret.size());
    sensitive.sensitive.userAuth.size = static_cast<UINT16>(auth.size());
    if (!auth.empty()) {  // an empty span's data() may be null, which memcpy must not get
      std::memcpy(sensitive.sensitive.userAuth.buffer, auth.data(), auth.size());
    }
    const TPM2B_PUBLIC templ = sealed_template(!auth.empty());
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

  [[nodiscard]] SecureBytes unseal(std::span<const std::uint8_t> sealed,
                                   std::span<const std::uint8_t> auth) override {
    SecureBytes secret;
    require(auth.size() <= kMaxAuthBytes, NTE_INVALID_PARAMETER, "sealed object auth too long");
    TPM2B_AUTH value{};
    value.size = static_cast<UINT16>(auth.size());
    if (!auth.empty()) {
      std::memcpy(value.buffer, auth.data(), auth.size());
    }
    const std::uint64_t id = connection_->new_object_id();
    try {
      const TpmKeyBlob blob = decode_blob(sealed);
      connection_->run([&](TpmConnection::Session& s) {
        const ESYS_TR object = s.load(id, blob);
        check_tss(Esys_TR_SetAuth(s.esys(), object, &value), "Esys_TR_SetAuth (sealed master key)");
        EsysOut<TPM2B_SENSITIVE_DATA> data;
        check_tss(
            Esys_Unseal(s.esys(), object, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, out(data)),
            "TPM2_Unseal");
        secret.assign(data->buffer, data->buffer + data->size);
        OPENSSL_cleanse(data->buffer, data->size);
      });
    } catch (const TpmError& e) {
      connection_->forget(id);
      OPENSSL_cleanse(&value, sizeof value);
      // A wrong PIN-derived auth or the TPM's lockout (status_from_tss): the caller's answer.
      if (!auth.empty() &&
          (e.status() == NTE_INCORRECT_PASSWORD || e.status() == SCARD_W_CHV_BLOCKED)) {
        throw;
      }
      not_this_tpm(e);
    } catch (const CngError& e) {
      connection_->forget(id);
      OPENSSL_cleanse(&value, sizeof value);
      not_this_tpm(e);
    }
    OPENSSL_cleanse(&value, sizeof value);
    connection_->forget(id);
    return secret;
  }

  [[nodiscard]] master_key::TpmLockout lockout() override {
    master_key::TpmLockout result;
    connection_->run([&](TpmConnection::Session& s) {
      EsysOut<TPMS_CAPABILITY_DATA> data;
      check_tss(Esys_GetCapability(s.esys(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   TPM2_CAP_TPM_PROPERTIES, TPM2_PT_LOCKOUT_COUNTER, 2, nullptr,
                                   out(data)),
                "TPM2_GetCapability (lockout counter)");
      const TPML_TAGGED_TPM_PROPERTY& props = data->data.tpmProperties;
      for (UINT32 i = 0; i < props.count; ++i) {
        if (props.tpmProperty[i].property == TPM2_PT_LOCKOUT_COUNTER) {
          result.counter = props.tpmProperty[i].value;
        } else if (props.tpmProperty[i].property == TPM2_PT_MAX_AUTH_FAIL) {
          result.max_tries = props.tpmProperty[i].value;
        }
      }
    });
    return result;
  }

 private:
  // Another TPM (the store moved), another owner seed, or a damaged blob: not this TPM's.
  [[noreturn]] static void not_this_tpm(const CngError& e) {
    fail(NTE_BAD_KEY_STATE,
         std::string("the TPM cannot unseal the master key (sealed to another TPM?): ") + e.what());
  }
  std::shared_ptr<TpmConnection> connection_;
};

}  // namespace

std::shared_ptr<master_key::TpmSealer> make_tpm_sealer(std::shared_ptr<TpmConnection> connection) {
  return std::make_shared<TpmSealer>(std::move(connection));
}

}  // namespace cng::tpm
