// NCRYPT_CIPHER_KEY_BLOB ("CipherKeyBlob"), the blob NCryptImportKey/NCryptExportKey take for
// symmetric keys: NCRYPT_KEY_BLOB_HEADER {cbSize, 'CPHR', cbAlgName, cbKeyData}, the
// NUL-terminated UTF-16LE algorithm id, then a BCRYPT_KEY_DATA_BLOB ({'KDBM', 1, cbKeyData}
// and the key bytes). All header fields little-endian.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "bridge/bytes.h"

namespace p11::bridge {

SecretBytes cipher_key_blob(std::u16string_view algorithm, ByteView value);

struct CipherKey {
  std::u16string algorithm;
  SecretBytes value;
};
// nullopt when blob is not a well-formed cipher key blob.
std::optional<CipherKey> parse_cipher_key_blob(ByteView blob);

}  // namespace p11::bridge
