// Fuzzes the software provider's key blob parsers (NCryptImportKey's input): the BCRYPT RSA and
// ECC public/private blobs, the generic PUBLICBLOB/PRIVATEBLOB and PKCS#8 DER. The first input
// byte picks the blob type, the rest is the blob. Every rejection must be a CngError; a key
// that imports must export its public blob, and re-importing that blob must give the same bytes.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>

#include "core/cng_error.h"
#include "providers/software/software_provider.h"

namespace {

constexpr std::array<const char16_t*, 8> kBlobTypes = {
    BCRYPT_RSAPUBLIC_BLOB,   BCRYPT_RSAPRIVATE_BLOB,        BCRYPT_RSAFULLPRIVATE_BLOB,
    BCRYPT_ECCPUBLIC_BLOB,   BCRYPT_ECCPRIVATE_BLOB,        BCRYPT_PUBLIC_KEY_BLOB,
    BCRYPT_PRIVATE_KEY_BLOB, NCRYPT_PKCS8_PRIVATE_KEY_BLOB,
};

cng::Provider& provider() {
  static auto* instance = cng::make_software_provider().release();  // leaky: no exit-time work
  return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const char16_t* type = kBlobTypes[data[0] % kBlobTypes.size()];
  const std::span<const std::uint8_t> blob(data + 1, size - 1);
  std::shared_ptr<cng::KeyMaterial> key;
  try {
    key = provider().import_blob(type, blob);
  } catch (const cng::CngError&) {
    return 0;  // rejected cleanly
  }
  const cng::Bytes pub = key->public_blob();
  const auto again = provider().import_blob(BCRYPT_PUBLIC_KEY_BLOB, pub);
  if (again->public_blob() != pub) {
    std::abort();  // a public blob must round-trip exactly
  }
  return 0;
}
