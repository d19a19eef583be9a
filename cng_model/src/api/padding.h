// Padding-information arguments of NCryptSignHash / VerifySignature / Encrypt / Decrypt.
#pragma once

#include "providers/key_material.h"

namespace cng::api {

// RSA: exactly one of NCRYPT_PAD_PKCS1_FLAG / NCRYPT_PAD_PSS_FLAG with its padding info
// (NULL info, or no padding flag, is NTE_INVALID_PARAMETER; PKCS1 with a NULL pszAlgId signs
// the input as-is). ECDSA takes no padding: flags and info are ignored.
SignPadding sign_padding(KeyAlgorithm algorithm, const void* info, DWORD flags);
// The digest length must match the padding's hash (NTE_INVALID_PARAMETER).
void check_hash_length(const SignPadding& padding, DWORD hash_length);

// RSA only: exactly one of NCRYPT_NO_PADDING_FLAG / NCRYPT_PAD_PKCS1_FLAG /
// NCRYPT_PAD_OAEP_FLAG (OAEP needs BCRYPT_OAEP_PADDING_INFO with a hash).
CipherPadding cipher_padding(const void* info, DWORD flags);

}  // namespace cng::api
