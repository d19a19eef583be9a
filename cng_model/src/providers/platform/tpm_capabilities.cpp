#include "providers/platform/tpm_capabilities.h"

#include <algorithm>
#include <array>

#include "providers/platform/tss_error.h"
#include "providers/platform/tss_ptr.h"

namespace cng::tpm {

namespace {

std::vector<TPM2_ALG_ID> implemented_algorithms(ESYS_CONTEXT* esys) {
  EsysOut<TPMS_CAPABILITY_DATA> data;
  TPMI_YES_NO more = TPM2_NO;
  check_tss(Esys_GetCapability(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_ALGS,
                               TPM2_ALG_FIRST, TPM2_MAX_CAP_ALGS, &more, out(data)),
            "TPM2_GetCapability(ALGS)");
  std::vector<TPM2_ALG_ID> algs;
  for (UINT32 i = 0; i < data->data.algorithms.count; ++i) {
    algs.push_back(data->data.algorithms.algProperties[i].alg);
  }
  return algs;
}

std::vector<TPM2_ECC_CURVE> implemented_curves(ESYS_CONTEXT* esys) {
  EsysOut<TPMS_CAPABILITY_DATA> data;
  TPMI_YES_NO more = TPM2_NO;
  check_tss(Esys_GetCapability(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_ECC_CURVES,
                               TPM2_ECC_NONE, TPM2_MAX_ECC_CURVES, &more, out(data)),
            "TPM2_GetCapability(ECC_CURVES)");
  return {data->data.eccCurves.eccCurves,
          data->data.eccCurves.eccCurves + data->data.eccCurves.count};
}

void read_fixed_properties(ESYS_CONTEXT* esys, TpmCapabilities& caps) {
  EsysOut<TPMS_CAPABILITY_DATA> data;
  TPMI_YES_NO more = TPM2_NO;
  check_tss(
      Esys_GetCapability(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES,
                         TPM2_PT_FIXED, TPM2_MAX_TPM_PROPERTIES, &more, out(data)),
      "TPM2_GetCapability(TPM_PROPERTIES)");
  std::array<std::uint32_t, 4> vendor{};
  for (UINT32 i = 0; i < data->data.tpmProperties.count; ++i) {
    const auto& p = data->data.tpmProperties.tpmProperty[i];
    switch (p.property) {
      case TPM2_PT_MANUFACTURER:
        caps.manufacturer = p.value;
        break;
      case TPM2_PT_FIRMWARE_VERSION_1:
        caps.firmware_1 = p.value;
        break;
      case TPM2_PT_FIRMWARE_VERSION_2:
        caps.firmware_2 = p.value;
        break;
      case TPM2_PT_LEVEL:
        caps.spec_level = p.value;
        break;
      case TPM2_PT_REVISION:
        caps.spec_revision = p.value;
        break;
      case TPM2_PT_HR_TRANSIENT_MIN:
        caps.transient_slots = p.value;
        break;
      case TPM2_PT_VENDOR_STRING_1:
      case TPM2_PT_VENDOR_STRING_2:
      case TPM2_PT_VENDOR_STRING_3:
      case TPM2_PT_VENDOR_STRING_4:
        vendor[p.property - TPM2_PT_VENDOR_STRING_1] = p.value;
        break;
      default:
        break;
    }
  }
  for (const std::uint32_t word : vendor) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      const char c = static_cast<char>((word >> shift) & 0xFFU);
      if (c >= 0x20 && c < 0x7F) {
        caps.vendor.push_back(c);
      }
    }
  }
}

bool rsa_size_accepted(ESYS_CONTEXT* esys, DWORD bits) {
  TPMT_PUBLIC_PARMS parms{};
  parms.type = TPM2_ALG_RSA;
  parms.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
  parms.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
  parms.parameters.rsaDetail.keyBits = static_cast<TPMI_RSA_KEY_BITS>(bits);
  parms.parameters.rsaDetail.exponent = 0;
  const TSS2_RC rc = Esys_TestParms(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &parms);
  if (rc != TSS2_RC_SUCCESS && is_transport_error(rc)) {
    fail_tss(rc, "TPM2_TestParms");
  }
  return rc == TSS2_RC_SUCCESS;
}

}  // namespace

bool TpmCapabilities::has_hash(HashId h) const noexcept {
  return std::find(hashes.begin(), hashes.end(), h) != hashes.end();
}
bool TpmCapabilities::has_curve(Curve c) const noexcept {
  return std::find(curves.begin(), curves.end(), c) != curves.end();
}
bool TpmCapabilities::has_rsa_bits(DWORD bits) const noexcept {
  return rsa && std::find(rsa_bits.begin(), rsa_bits.end(), bits) != rsa_bits.end();
}

TPMI_ALG_HASH tpm_hash(HashId h) noexcept {
  switch (h) {
    case HashId::kSha1:
      return TPM2_ALG_SHA1;
    case HashId::kSha256:
      return TPM2_ALG_SHA256;
    case HashId::kSha384:
      return TPM2_ALG_SHA384;
    case HashId::kSha512:
      return TPM2_ALG_SHA512;
    case HashId::kMd5:
    case HashId::kSha224:
    case HashId::kNone:
      break;
  }
  return TPM2_ALG_NULL;
}

TPMI_ECC_CURVE tpm_curve(Curve c) noexcept {
  switch (c) {
    case Curve::kP256:
      return TPM2_ECC_NIST_P256;
    case Curve::kP384:
      return TPM2_ECC_NIST_P384;
    case Curve::kP521:
      return TPM2_ECC_NIST_P521;
    case Curve::kNone:
      break;
  }
  return TPM2_ECC_NONE;
}

HashId tpm_hash_of_size(const TpmCapabilities& caps, std::size_t bytes) noexcept {
  for (const HashId h : {HashId::kSha1, HashId::kSha256, HashId::kSha384, HashId::kSha512}) {
    if (hash_size(h) == bytes && caps.has_hash(h)) {
      return h;
    }
  }
  return HashId::kNone;
}

TpmCapabilities query_capabilities(ESYS_CONTEXT* esys) {
  TpmCapabilities caps;
  const std::vector<TPM2_ALG_ID> algs = implemented_algorithms(esys);
  const auto has = [&](TPM2_ALG_ID a) {
    return std::find(algs.begin(), algs.end(), a) != algs.end();
  };
  for (const HashId h : {HashId::kSha1, HashId::kSha256, HashId::kSha384, HashId::kSha512}) {
    if (has(tpm_hash(h))) {
      caps.hashes.push_back(h);
    }
  }
  caps.rsa = has(TPM2_ALG_RSA) && has(TPM2_ALG_RSASSA) && has(TPM2_ALG_RSAES) && has(TPM2_ALG_OAEP);
  caps.rsapss = caps.rsa && has(TPM2_ALG_RSAPSS);
  const bool ecc = has(TPM2_ALG_ECC);
  caps.ecdsa = ecc && has(TPM2_ALG_ECDSA);
  caps.ecdh = ecc && has(TPM2_ALG_ECDH);
  if (caps.rsa) {
    for (const DWORD bits : {1024U, 2048U, 3072U, 4096U}) {
      if (rsa_size_accepted(esys, bits)) {
        caps.rsa_bits.push_back(bits);
      }
    }
    caps.rsa = !caps.rsa_bits.empty();
  }
  if (ecc) {
    for (const TPM2_ECC_CURVE c : implemented_curves(esys)) {
      for (const Curve ours : {Curve::kP256, Curve::kP384, Curve::kP521}) {
        if (tpm_curve(ours) == c) {
          caps.curves.push_back(ours);
        }
      }
    }
  }
  read_fixed_properties(esys, caps);
  return caps;
}

}  // namespace cng::tpm
