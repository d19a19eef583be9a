// RSA-encrypted key blobs (ncrypt.h, NCRYPT_RSA_WRAP_KEY_BLOB): a symmetric key's bytes
// encrypted to an RSA key with PKCS#1 v1.5 or OAEP padding on export, decrypted and imported
// on import. The RSA work is the key material's encrypt/decrypt (the provider's); the key
// bytes only ever exist in zeroizing buffers here.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "api/objects.h"

namespace cng::api {

bool is_rsa_wrap_blob(std::u16string_view blob_type) noexcept;

// The padding named by pParameterList (NCRYPTBUFFER_RSA_PADDING_FLAG, _OAEP_HASH, _OAEP_LABEL;
// other buffers are left to the caller): NTE_INVALID_PARAMETER when missing or malformed.
CipherPadding rsa_wrap_padding(const NCryptBufferDesc* list);

// The material of an RSA wrapping key: finalized (NTE_BAD_KEY_STATE), RSA (NTE_BAD_KEY); for
// an unwrap also its private part (NTE_BAD_KEY) and Key Usage NCRYPT_ALLOW_DECRYPT_FLAG
// (NTE_PERM).
std::shared_ptr<KeyMaterial> rsa_wrapping_key(KeyObject& kek, bool unwrap);

// key's bytes encrypted to kek (Export Policy NCRYPT_ALLOW_EXPORT_FLAG, else
// NTE_NOT_SUPPORTED; not symmetric NTE_BAD_TYPE; too long for the modulus NTE_BAD_LEN).
Bytes rsa_wrap_export(KeyObject& key, const KeyMaterial& kek, const CipherPadding& padding);

// data decrypted with kek (length other than the modulus NTE_BAD_LEN, undecryptable
// NTE_BAD_DATA) and imported through provider as a symmetric key of algorithm alg_id.
std::shared_ptr<KeyMaterial> rsa_unwrap_import(Provider& provider, const KeyMaterial& kek,
                                               const CipherPadding& padding,
                                               std::span<const std::uint8_t> data,
                                               std::u16string_view alg_id);

}  // namespace cng::api
