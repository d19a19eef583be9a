#include "providers/platform/tpm_blob.h"

#include <openssl/evp.h>
#include <tss2/tss2_mu.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "core/cng_error.h"
#include "providers/platform/tpm_capabilities.h"
#include "providers/software/algorithm_util.h"
#include "providers/software/evp_build.h"

namespace cng::tpm {

namespace {

constexpr std::array<std::uint8_t, 8> kMagic = {'C', 'N', 'G', 'T', 'P', 'M', '2', 0x1a};
constexpr std::uint8_t kVersion = 1;

Bytes left_pad(std::span<const std::uint8_t> value, std::size_t len) {
  require(value.size() <= len, NTE_BAD_DATA, "TPM public value too long");
  Bytes out(len - value.size(), 0);
  out.insert(out.end(), value.begin(), value.end());
  return out;
}

}  // namespace

Bytes marshal_public(const TPM2B_PUBLIC& pub) {
  Bytes out(sizeof(TPM2B_PUBLIC));
  std::size_t offset = 0;
  require(Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, out.data(), out.size(), &offset) == TSS2_RC_SUCCESS,
          NTE_INTERNAL_ERROR, "cannot marshal TPM2B_PUBLIC");
  out.resize(offset);
  return out;
}

SecureBytes encode_blob(const TpmKeyBlob& blob) {
  require(blob.parent_name.size() <= sizeof(TPMU_NAME), NTE_INTERNAL_ERROR, "parent name too long");
  SecureBytes out(kMagic.begin(), kMagic.end());
  out.push_back(kVersion);
  out.push_back(static_cast<std::uint8_t>(blob.parent));
  out.push_back(static_cast<std::uint8_t>(blob.parent_name.size() & 0xFFU));
  out.push_back(static_cast<std::uint8_t>(blob.parent_name.size() >> 8));
  out.insert(out.end(), blob.parent_name.begin(), blob.parent_name.end());
  const std::size_t start = out.size();
  out.resize(start + sizeof(TPM2B_PUBLIC) + sizeof(TPM2B_PRIVATE));
  std::size_t offset = start;
  require(
      Tss2_MU_TPM2B_PUBLIC_Marshal(&blob.pub, out.data(), out.size(), &offset) == TSS2_RC_SUCCESS &&
          Tss2_MU_TPM2B_PRIVATE_Marshal(&blob.priv, out.data(), out.size(), &offset) ==
              TSS2_RC_SUCCESS,
      NTE_INTERNAL_ERROR, "cannot marshal the TPM key");
  out.resize(offset);
  return out;
}

TpmKeyBlob decode_blob(std::span<const std::uint8_t> bytes) {
  constexpr std::size_t kHeader = kMagic.size() + 4;
  require(bytes.size() > kHeader && std::equal(kMagic.begin(), kMagic.end(), bytes.begin()),
          NTE_BAD_DATA, "not a TPM key blob");
  require(bytes[8] == kVersion, NTE_BAD_DATA, "unknown TPM key blob version");
  TpmKeyBlob blob;
  const std::uint8_t kind = bytes[9];
  require(kind >= 1 && kind <= 3, NTE_BAD_DATA, "unknown parent kind in TPM key blob");
  blob.parent = static_cast<ParentKind>(kind);
  const std::size_t name_len = bytes[10] | (static_cast<std::size_t>(bytes[11]) << 8);
  require(name_len <= sizeof(TPMU_NAME) && bytes.size() > kHeader + name_len, NTE_BAD_DATA,
          "bad parent name in TPM key blob");
  blob.parent_name.assign(bytes.begin() + kHeader, bytes.begin() + kHeader + name_len);
  const std::size_t public_start = kHeader + name_len;
  std::size_t offset = public_start;
  require(Tss2_MU_TPM2B_PUBLIC_Unmarshal(bytes.data(), bytes.size(), &offset, &blob.pub) ==
              TSS2_RC_SUCCESS,
          NTE_BAD_DATA, "malformed TPM2B_PUBLIC");
  // Tss2_MU's unmarshal is lenient (it accepts e.g. a TPM2B_PUBLIC of size 0, or a size that
  // disagrees with the area): only a public area that marshals back to the same bytes is one
  // encode_blob can write back and a TPM will load.
  const std::span<const std::uint8_t> public_bytes =
      bytes.subspan(public_start, offset - public_start);
  Bytes again(sizeof(TPM2B_PUBLIC));
  std::size_t again_len = 0;
  require(Tss2_MU_TPM2B_PUBLIC_Marshal(&blob.pub, again.data(), again.size(), &again_len) ==
                  TSS2_RC_SUCCESS &&
              std::equal(public_bytes.begin(), public_bytes.end(), again.begin(),
                         again.begin() + static_cast<std::ptrdiff_t>(again_len)) &&
              again_len == public_bytes.size(),
          NTE_BAD_DATA, "non-canonical TPM2B_PUBLIC");
  require(Tss2_MU_TPM2B_PRIVATE_Unmarshal(bytes.data(), bytes.size(), &offset, &blob.priv) ==
              TSS2_RC_SUCCESS,
          NTE_BAD_DATA, "malformed TPM2B_PRIVATE");
  require(offset == bytes.size(), NTE_BAD_DATA, "trailing bytes after the TPM key blob");
  require(blob.priv.size > 0, NTE_BAD_DATA, "empty TPM2B_PRIVATE");
  return blob;
}

Bytes object_name(const TPMT_PUBLIC& pub) {
  Bytes area(sizeof(TPMT_PUBLIC));
  std::size_t offset = 0;
  require(Tss2_MU_TPMT_PUBLIC_Marshal(&pub, area.data(), area.size(), &offset) == TSS2_RC_SUCCESS,
          NTE_INTERNAL_ERROR, "cannot marshal TPMT_PUBLIC");
  const char* md = nullptr;
  switch (pub.nameAlg) {
    case TPM2_ALG_SHA1:
      md = "SHA1";
      break;
    case TPM2_ALG_SHA256:
      md = "SHA256";
      break;
    case TPM2_ALG_SHA384:
      md = "SHA384";
      break;
    case TPM2_ALG_SHA512:
      md = "SHA512";
      break;
    default:
      fail(NTE_BAD_DATA, "unknown name algorithm");
  }
  Bytes name = {static_cast<std::uint8_t>(pub.nameAlg >> 8),
                static_cast<std::uint8_t>(pub.nameAlg & 0xFFU)};
  name.resize(2 + EVP_MAX_MD_SIZE);
  std::size_t len = 0;
  require(EVP_Q_digest(nullptr, md, nullptr, area.data(), offset, name.data() + 2, &len) == 1,
          NTE_INTERNAL_ERROR, "digest failed");
  name.resize(2 + len);
  return name;
}

Curve curve_of(const TPMT_PUBLIC& pub) noexcept {
  if (pub.type != TPM2_ALG_ECC) {
    return Curve::kNone;
  }
  for (const Curve c : {Curve::kP256, Curve::kP384, Curve::kP521}) {
    if (tpm_curve(c) == pub.parameters.eccDetail.curveID) {
      return c;
    }
  }
  return Curve::kNone;
}

ossl::PkeyPtr public_key_of(const TPMT_PUBLIC& pub) {
  if (pub.type == TPM2_ALG_RSA) {
    soft::RsaParts parts;
    const TPM2B_PUBLIC_KEY_RSA& n = pub.unique.rsa;
    require(n.size > 0 && n.size <= sizeof n.buffer, NTE_BAD_DATA, "bad RSA modulus");
    parts.n = soft::bn_from({n.buffer, n.size});
    const std::uint32_t e =
        pub.parameters.rsaDetail.exponent == 0 ? 65537U : pub.parameters.rsaDetail.exponent;
    const std::array<std::uint8_t, 4> e_be = {
        static_cast<std::uint8_t>(e >> 24), static_cast<std::uint8_t>(e >> 16),
        static_cast<std::uint8_t>(e >> 8), static_cast<std::uint8_t>(e)};
    parts.e = soft::bn_from(e_be);
    return soft::rsa_from_parts(parts);
  }
  const Curve curve = curve_of(pub);
  require(curve != Curve::kNone, NTE_BAD_DATA, "TPM key of an unsupported type or curve");
  const std::size_t field = soft::field_bytes(curve);
  const TPMS_ECC_POINT& q = pub.unique.ecc;
  require(q.x.size <= sizeof q.x.buffer && q.y.size <= sizeof q.y.buffer, NTE_BAD_DATA,
          "bad EC point");
  const Bytes x = left_pad({q.x.buffer, q.x.size}, field);
  const Bytes y = left_pad({q.y.buffer, q.y.size}, field);
  return soft::ec_from_parts(curve, x, y, {});
}

}  // namespace cng::tpm
