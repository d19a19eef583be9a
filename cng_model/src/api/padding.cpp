#include "api/padding.h"

#include "core/cng_error.h"

namespace cng::api {

SignPadding sign_padding(KeyAlgorithm algorithm, const void* info, DWORD flags) {
  SignPadding padding;
  if (algorithm != KeyAlgorithm::kRsa) {
    return padding;
  }
  const DWORD pad = flags & (NCRYPT_PAD_PKCS1_FLAG | NCRYPT_PAD_PSS_FLAG);
  require(pad == NCRYPT_PAD_PKCS1_FLAG || pad == NCRYPT_PAD_PSS_FLAG, NTE_INVALID_PARAMETER,
          "RSA signatures need exactly one of NCRYPT_PAD_PKCS1_FLAG, NCRYPT_PAD_PSS_FLAG");
  require(info != nullptr, NTE_INVALID_PARAMETER, "RSA signatures need padding information");
  padding.flags = pad;
  if (pad == NCRYPT_PAD_PKCS1_FLAG) {
    padding.hash = hash_from_alg_id(static_cast<const BCRYPT_PKCS1_PADDING_INFO*>(info)->pszAlgId);
  } else {
    const auto* pss = static_cast<const BCRYPT_PSS_PADDING_INFO*>(info);
    require(pss->pszAlgId != nullptr, NTE_INVALID_PARAMETER, "PSS needs a hash algorithm");
    padding.hash = hash_from_alg_id(pss->pszAlgId);
    padding.salt = pss->cbSalt;
  }
  return padding;
}

void check_hash_length(const SignPadding& padding, DWORD hash_length) {
  require(hash_length > 0, NTE_INVALID_PARAMETER, "empty hash");
  if (padding.hash != HashId::kNone) {
    require(hash_length == hash_size(padding.hash), NTE_INVALID_PARAMETER,
            "hash length does not match the hash algorithm");
  }
}

CipherPadding cipher_padding(const void* info, DWORD flags) {
  const DWORD pad = flags & (NCRYPT_NO_PADDING_FLAG | NCRYPT_PAD_PKCS1_FLAG | NCRYPT_PAD_OAEP_FLAG);
  require(
      pad == NCRYPT_NO_PADDING_FLAG || pad == NCRYPT_PAD_PKCS1_FLAG || pad == NCRYPT_PAD_OAEP_FLAG,
      NTE_INVALID_PARAMETER, "RSA encryption needs exactly one padding flag");
  CipherPadding padding;
  padding.flags = pad;
  if (pad == NCRYPT_PAD_OAEP_FLAG) {
    require(info != nullptr, NTE_INVALID_PARAMETER, "OAEP needs BCRYPT_OAEP_PADDING_INFO");
    const auto* oaep = static_cast<const BCRYPT_OAEP_PADDING_INFO*>(info);
    require(oaep->pszAlgId != nullptr, NTE_INVALID_PARAMETER, "OAEP needs a hash algorithm");
    padding.hash = hash_from_alg_id(oaep->pszAlgId);
    require(oaep->pbLabel != nullptr || oaep->cbLabel == 0, NTE_INVALID_PARAMETER,
            "OAEP label is NULL");
    if (oaep->cbLabel != 0) {
      padding.label.assign(oaep->pbLabel, oaep->pbLabel + oaep->cbLabel);
    }
  }
  return padding;
}

}  // namespace cng::api
