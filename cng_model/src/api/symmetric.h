// Symmetric keys (AES, generic secret) at the NCrypt layer: their properties and the
// argument handling of NCryptEncrypt/NCryptDecrypt (AES) and NCryptSignHash/
// NCryptVerifySignature (HMAC). The contract is documented in ncrypt.h.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "api/objects.h"
#include "providers/algorithm_table.h"

namespace cng::api {

// Block Length, Chaining Mode and AuthTagLength of a symmetric key; nullopt when the key is
// not symmetric or the property is not one of these.
std::optional<Bytes> get_symmetric_property(const KeyObject& key, std::u16string_view name);
// Sets Chaining Mode on an AES key (per handle, any time); false when not handled here.
bool set_symmetric_property(KeyObject& key, std::u16string_view name,
                            std::span<const std::uint8_t> value);

// A finalized symmetric key's state for one operation.
struct SymmetricUse {
  const KeyMaterial& material;
  DWORD key_usage;
  ChainingMode mode;
};

void symmetric_crypt_call(bool encrypt, const SymmetricUse& key, PBYTE pbInput, DWORD cbInput,
                          void* pPaddingInfo, PBYTE pbOutput, DWORD cbOutput, DWORD* pcbResult,
                          DWORD dwFlags);
void hmac_sign_call(const SymmetricUse& key, void* pPaddingInfo, PBYTE pbData, DWORD cbData,
                    PBYTE pbMac, DWORD cbMac, DWORD* pcbResult, DWORD dwFlags);
void hmac_verify_call(const SymmetricUse& key, void* pPaddingInfo, PBYTE pbData, DWORD cbData,
                      PBYTE pbMac, DWORD cbMac, DWORD dwFlags);

}  // namespace cng::api
