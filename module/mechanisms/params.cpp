// Decoders of the mechanism parameters that carry options: CK_RSA_PKCS_PSS_PARAMS and
// CK_RSA_PKCS_OAEP_PARAMS. Parameters are read with memcpy (the caller's pointer need not be
// aligned) and checked for exact size.
#include <cstring>
#include <limits>

#include "mechanisms/registry.h"

namespace p11::mech {

namespace {

template <class T>
T read_param(const CK_MECHANISM& mechanism, const char* name) {
  if (mechanism.pParameter == nullptr || mechanism.ulParameterLen != sizeof(T)) {
    fail(CKR_MECHANISM_PARAM_INVALID, std::string(name) + " required");
  }
  T value{};
  std::memcpy(&value, mechanism.pParameter, sizeof(T));
  return value;
}

// The hash of a PSS/OAEP parameter: supported, usable by NCrypt (SHA-224 only where the call
// is a cng_model extension that knows it), and the same for MGF1 (CNG derives MGF1 from the
// one hash: it has no separate MGF parameter).
const HashSpec& padding_hash(CK_MECHANISM_TYPE hash_alg, CK_RSA_PKCS_MGF_TYPE mgf,
                             bool model_hashes = false) {
  const HashSpec* hash = hash_by_digest_mechanism(hash_alg);
  if (hash == nullptr) {
    fail(CKR_MECHANISM_PARAM_INVALID, "unsupported hashAlg");
  }
  if (hash->cng_alg_id == nullptr && !model_hashes) {
    fail(CKR_MECHANISM_PARAM_INVALID, "CNG has no SHA-224 for PSS/OAEP padding");
  }
  if (mgf != hash->mgf) {
    fail(CKR_MECHANISM_PARAM_INVALID, "MGF1 hash must equal hashAlg (CNG has no separate MGF)");
  }
  return *hash;
}

}  // namespace

void decode_pss_params(const MechanismSpec& spec, const CK_MECHANISM& mechanism,
                       DecodedParams& out) {
  const auto params = read_param<CK_RSA_PKCS_PSS_PARAMS>(mechanism, "CK_RSA_PKCS_PSS_PARAMS");
  const HashSpec& hash = padding_hash(params.hashAlg, params.mgf);
  if (spec.hash != HashAlg::kNone && spec.hash != hash.alg) {
    fail(CKR_MECHANISM_PARAM_INVALID, "hashAlg differs from the mechanism's hash");
  }
  // The upper bound depends on the key; the factory checks it.
  if (params.sLen > std::numeric_limits<ULONG>::max()) {
    fail(CKR_MECHANISM_PARAM_INVALID, "sLen too large");
  }
  out.hash = hash.alg;
  out.salt_len = params.sLen;
}

namespace {

void decode_oaep(const CK_MECHANISM& mechanism, DecodedParams& out, bool model_hashes) {
  const auto params = read_param<CK_RSA_PKCS_OAEP_PARAMS>(mechanism, "CK_RSA_PKCS_OAEP_PARAMS");
  const HashSpec& hash = padding_hash(params.hashAlg, params.mgf, model_hashes);
  // source 0 with no label is what several clients send for "no label".
  if (params.source != CKZ_DATA_SPECIFIED && params.source != 0) {
    fail(CKR_MECHANISM_PARAM_INVALID, "OAEP source must be CKZ_DATA_SPECIFIED");
  }
  if (params.ulSourceDataLen != 0) {
    if (params.source != CKZ_DATA_SPECIFIED || params.pSourceData == nullptr ||
        params.ulSourceDataLen > std::numeric_limits<ULONG>::max()) {
      fail(CKR_MECHANISM_PARAM_INVALID, "bad OAEP label");
    }
    out.label = std::span<const std::uint8_t>(static_cast<const std::uint8_t*>(params.pSourceData),
                                              params.ulSourceDataLen);
  }
  out.hash = hash.alg;
}

}  // namespace

void decode_oaep_params(const MechanismSpec& /*spec*/, const CK_MECHANISM& mechanism,
                        DecodedParams& out) {
  decode_oaep(mechanism, out, false);
}

void decode_oaep_wrap_params(const MechanismSpec& /*spec*/, const CK_MECHANISM& mechanism,
                             DecodedParams& out) {
  decode_oaep(mechanism, out, true);
}

}  // namespace p11::mech
