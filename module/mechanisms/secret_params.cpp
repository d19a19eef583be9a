// Decoders of the secret-key mechanism parameters: none (ECB, HMAC), the CBC IV,
// CK_AES_CTR_PARAMS, CK_GCM_PARAMS (PKCS#11 3.0 and the older layout without ulIvBits) and
// CK_MAC_GENERAL_PARAMS. Every problem is CKR_MECHANISM_PARAM_INVALID. Parameters are read
// with memcpy (the caller's pointer need not be aligned); spans point into the caller's memory.
#include <cstddef>
#include <cstring>
#include <limits>

#include "mechanisms/registry.h"
#include "mechanisms/secret_ops.h"

namespace p11::mech {

namespace {

[[noreturn]] void bad_param(const char* cause) { fail(CKR_MECHANISM_PARAM_INVALID, cause); }

const std::uint8_t* param_bytes(const CK_MECHANISM& mechanism) {
  return static_cast<const std::uint8_t*>(mechanism.pParameter);
}

// The GCM parameter as PKCS#11 2.40's header laid it out (no ulIvBits); some clients still
// pass it. PKCS#11 3.0 (and p11-kit's CK_GCM_PARAMS) has ulIvBits after ulIvLen.
struct GcmParams240 {
  CK_BYTE_PTR pIv;
  CK_ULONG ulIvLen;
  CK_BYTE_PTR pAAD;
  CK_ULONG ulAADLen;
  CK_ULONG ulTagBits;
};
static_assert(sizeof(GcmParams240) != sizeof(CK_GCM_PARAMS), "GCM layouts must differ in size");

// PKCS#11's CK_MAC_GENERAL_PARAMS (a CK_ULONG: the MAC length in bytes); p11-kit lacks it.
using MacGeneralParams = CK_ULONG;

}  // namespace

void decode_no_params(const MechanismSpec& spec, const CK_MECHANISM& mechanism,
                      DecodedParams& out) {
  if (mechanism.pParameter != nullptr || mechanism.ulParameterLen != 0) {
    bad_param("this mechanism takes no parameter");
  }
  if (spec.family == Family::kHmac) {
    out.mac_bytes = hash_spec(spec.hash).size;
  }
}

void decode_aes_iv_params(const MechanismSpec& /*spec*/, const CK_MECHANISM& mechanism,
                          DecodedParams& out) {
  if (mechanism.pParameter == nullptr || mechanism.ulParameterLen != kAesBlock) {
    bad_param("the IV must be 16 bytes");
  }
  out.iv = {param_bytes(mechanism), kAesBlock};
}

void decode_aes_ctr_params(const MechanismSpec& /*spec*/, const CK_MECHANISM& mechanism,
                           DecodedParams& out) {
  if (mechanism.pParameter == nullptr || mechanism.ulParameterLen != sizeof(CK_AES_CTR_PARAMS)) {
    bad_param("CK_AES_CTR_PARAMS required");
  }
  CK_AES_CTR_PARAMS params{};
  std::memcpy(&params, mechanism.pParameter, sizeof(params));
  if (params.ulCounterBits < 1 || params.ulCounterBits > 128) {
    bad_param("ulCounterBits must be 1..128");
  }
  out.counter_bits = params.ulCounterBits;
  out.iv = {param_bytes(mechanism) + offsetof(CK_AES_CTR_PARAMS, cb), kAesBlock};
}

void decode_aes_gcm_params(const MechanismSpec& /*spec*/, const CK_MECHANISM& mechanism,
                           DecodedParams& out) {
  CK_GCM_PARAMS params{};
  if (mechanism.pParameter != nullptr && mechanism.ulParameterLen == sizeof(CK_GCM_PARAMS)) {
    std::memcpy(&params, mechanism.pParameter, sizeof(params));  // ulIvBits is ignored
  } else if (mechanism.pParameter != nullptr && mechanism.ulParameterLen == sizeof(GcmParams240)) {
    GcmParams240 old{};
    std::memcpy(&old, mechanism.pParameter, sizeof(old));
    params.pIv = old.pIv;
    params.ulIvLen = old.ulIvLen;
    params.pAAD = old.pAAD;
    params.ulAADLen = old.ulAADLen;
    params.ulTagBits = old.ulTagBits;
  } else {
    bad_param("CK_GCM_PARAMS required");
  }
  if (params.pIv == nullptr || !gcm_iv_len_ok(params.ulIvLen)) {
    bad_param("the GCM IV must be 1..256 bytes");
  }
  if (params.ulAADLen != 0 &&
      (params.pAAD == nullptr || params.ulAADLen > std::numeric_limits<ULONG>::max())) {
    bad_param("bad GCM additional data");
  }
  if (!gcm_tag_bits_ok(params.ulTagBits)) {
    bad_param("the GCM tag must be 32..128 bits, a multiple of 8");
  }
  out.iv = {params.pIv, params.ulIvLen};
  if (params.ulAADLen != 0) {
    out.aad = {params.pAAD, params.ulAADLen};
  }
  out.tag_bytes = params.ulTagBits / 8;
}

void decode_hmac_general_params(const MechanismSpec& spec, const CK_MECHANISM& mechanism,
                                DecodedParams& out) {
  if (mechanism.pParameter == nullptr || mechanism.ulParameterLen != sizeof(MacGeneralParams)) {
    bad_param("CK_MAC_GENERAL_PARAMS required");
  }
  MacGeneralParams length = 0;
  std::memcpy(&length, mechanism.pParameter, sizeof(length));
  if (length < 1 || length > hash_spec(spec.hash).size) {
    bad_param("HMAC output length must be 1..hash size");
  }
  out.mac_bytes = length;
}

}  // namespace p11::mech
