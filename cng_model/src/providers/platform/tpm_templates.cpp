#include "providers/platform/tpm_templates.h"

#include "core/cng_error.h"
#include "providers/platform/tpm_capabilities.h"

namespace cng::tpm {

namespace {

constexpr TPMA_OBJECT kCommonAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                          TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                          TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA;

}  // namespace

TPM2B_PUBLIC srk_template(ParentKind kind) {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = kCommonAttributes | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
  if (kind == ParentKind::kRsaSrk) {
    p.type = TPM2_ALG_RSA;
    TPMS_RSA_PARMS& rsa = p.parameters.rsaDetail;
    rsa.symmetric.algorithm = TPM2_ALG_AES;
    rsa.symmetric.keyBits.aes = 128;
    rsa.symmetric.mode.aes = TPM2_ALG_CFB;
    rsa.scheme.scheme = TPM2_ALG_NULL;
    rsa.keyBits = 2048;
    rsa.exponent = 0;
  } else {
    p.type = TPM2_ALG_ECC;
    TPMS_ECC_PARMS& ecc = p.parameters.eccDetail;
    ecc.symmetric.algorithm = TPM2_ALG_AES;
    ecc.symmetric.keyBits.aes = 128;
    ecc.symmetric.mode.aes = TPM2_ALG_CFB;
    ecc.scheme.scheme = TPM2_ALG_NULL;
    ecc.curveID = TPM2_ECC_NIST_P256;
    ecc.kdf.scheme = TPM2_ALG_NULL;
  }
  return t;
}

TPM2B_PUBLIC key_template(const KeySpec& spec) {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = kCommonAttributes | TPMA_OBJECT_SIGN_ENCRYPT;
  if (!spec.usage_auth.empty()) {
    // A key with a PIN (its authValue): wrong PINs count towards the TPM's dictionary-attack
    // lockout, so the PIN cannot be guessed at the TPM's speed.
    p.objectAttributes &= ~TPMA_OBJECT_NODA;
  }
  if (spec.algorithm == KeyAlgorithm::kRsa) {
    p.type = TPM2_ALG_RSA;
    p.objectAttributes |= TPMA_OBJECT_DECRYPT;
    TPMS_RSA_PARMS& rsa = p.parameters.rsaDetail;
    rsa.symmetric.algorithm = TPM2_ALG_NULL;
    rsa.scheme.scheme = TPM2_ALG_NULL;
    require(spec.rsa_bits <= 0xFFFF, NTE_NOT_SUPPORTED, "RSA key length not supported");
    rsa.keyBits = static_cast<TPMI_RSA_KEY_BITS>(spec.rsa_bits);
    rsa.exponent = 0;  // 65537
  } else {
    p.type = TPM2_ALG_ECC;
    if (spec.algorithm == KeyAlgorithm::kEcdh) {
      p.objectAttributes |= TPMA_OBJECT_DECRYPT;
    }
    TPMS_ECC_PARMS& ecc = p.parameters.eccDetail;
    ecc.symmetric.algorithm = TPM2_ALG_NULL;
    ecc.scheme.scheme = TPM2_ALG_NULL;
    ecc.curveID = tpm_curve(spec.curve);
    require(ecc.curveID != TPM2_ECC_NONE, NTE_NOT_SUPPORTED, "curve not supported");
    ecc.kdf.scheme = TPM2_ALG_NULL;
  }
  return t;
}

bool is_storage_key(const TPMT_PUBLIC& pub) noexcept {
  const TPMA_OBJECT a = pub.objectAttributes;
  return (a & TPMA_OBJECT_RESTRICTED) != 0 && (a & TPMA_OBJECT_DECRYPT) != 0 &&
         (a & TPMA_OBJECT_SIGN_ENCRYPT) == 0;
}

}  // namespace cng::tpm
