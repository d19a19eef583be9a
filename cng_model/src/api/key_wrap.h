// Key wrapping inside the model: NCryptExportKey under an AES key-encryption key and
// NCryptImportKey of a wrapped key (contract in ncrypt.h). The wrapped plaintext — a secret
// key's bytes or a private key's PKCS#8 — only ever exists in zeroizing buffers here.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "api/objects.h"

namespace cng::api {

// The wrap mode of a key-wrap blob type; nullopt for any other blob type.
std::optional<WrapMode> wrap_mode_of(std::u16string_view blob_type) noexcept;

// The material of a key-encryption key: finalized (NTE_BAD_KEY_STATE), AES (NTE_BAD_KEY),
// Key Usage with NCRYPT_ALLOW_KEY_IMPORT_FLAG (NTE_PERM).
std::shared_ptr<KeyMaterial> wrapping_key(KeyObject& kek);

// The wrapped form of key (Export Policy needs NCRYPT_ALLOW_EXPORT_FLAG).
Bytes wrap_export(KeyObject& key, const KeyMaterial& kek, WrapMode mode);

// Unwraps data and imports the result through provider as a key of algorithm alg_id.
std::shared_ptr<KeyMaterial> unwrap_import(Provider& provider, const KeyMaterial& kek,
                                           WrapMode mode, std::span<const std::uint8_t> data,
                                           std::u16string_view alg_id);

}  // namespace cng::api
