// NCryptSignHash, NCryptVerifySignature, NCryptEncrypt, NCryptDecrypt.
#include "api/boundary.h"
#include "api/key_auth.h"
#include "api/objects.h"
#include "api/output.h"
#include "api/padding.h"
#include "api/symmetric.h"
#include "providers/usage_auth.h"

using namespace cng;
using namespace cng::api;

namespace {

// A finalized key ready for an operation: its material and usage policy, read under its lock.
struct UsableKey {
  std::shared_ptr<KeyObject> object;
  std::shared_ptr<KeyMaterial> material;
  DWORD key_usage = 0;
  ChainingMode mode = ChainingMode::kCbc;

  [[nodiscard]] bool symmetric() const { return is_symmetric(material->algorithm()); }
  [[nodiscard]] SymmetricUse symmetric_use() const { return {*material, key_usage, mode}; }
};

UsableKey usable_key(NCRYPT_KEY_HANDLE handle) {
  const auto key = HandleTable::instance().get<KeyObject>(handle);
  std::lock_guard lock(key->mutex);
  require(key->state == KeyState::kFinalized, NTE_BAD_KEY_STATE, "the key is not finalized");
  auto material = key->material_locked();
  require(material != nullptr, NTE_BAD_KEY_STATE, "the key has no key material");
  return {key, std::move(material), key->record.key_usage, key->chaining_mode};
}

void require_usage(const UsableKey& key, DWORD usage, const char* cause) {
  require((key.key_usage & usage) != 0, NTE_PERM, cause);
}

// Private-key operations on an imported public key. Windows gives no documented code;
// NTE_INVALID_PARAMETER, as BCrypt does for a public key handle.
void require_private(const UsableKey& key) {
  require(key.material->has_private(), NTE_INVALID_PARAMETER, "the key has no private part");
}

}  // namespace

SECURITY_STATUS WINAPI NCryptSignHash(NCRYPT_KEY_HANDLE hKey, void* pPaddingInfo, PBYTE pbHashValue,
                                      DWORD cbHashValue, PBYTE pbSignature, DWORD cbSignature,
                                      DWORD* pcbResult, DWORD dwFlags) {
  return boundary([&] {
    check_flags(dwFlags, NCRYPT_PAD_PKCS1_FLAG | NCRYPT_PAD_PSS_FLAG | NCRYPT_SILENT_FLAG);
    const UsableKey key = usable_key(hKey);
    require_arg(pcbResult, "pcbResult is NULL");
    if (key.symmetric()) {
      hmac_sign_call(key.symmetric_use(), pPaddingInfo, pbHashValue, cbHashValue, pbSignature,
                     cbSignature, pcbResult, dwFlags);
      return;
    }
    require_arg(pbHashValue, "pbHashValue is NULL");
    const SignPadding padding = sign_padding(key.material->algorithm(), pPaddingInfo, dwFlags);
    check_hash_length(padding, cbHashValue);
    require_usage(key, NCRYPT_ALLOW_SIGNING_FLAG, "the key usage does not allow signing");
    require_private(key);
    if (pbSignature == nullptr) {
      *pcbResult = key.material->signature_size();
      return;
    }
    *pcbResult = key.material->signature_size();
    require(cbSignature >= *pcbResult, NTE_BUFFER_TOO_SMALL, "signature buffer too small");
    const SecureBytes auth = take_private_use_auth(*key.object);  // NTE_SILENT_CONTEXT
    const UsageAuthScope auth_scope(auth);
    const Bytes signature = key.material->sign_hash(padding, {pbHashValue, cbHashValue});
    write_output(signature, pbSignature, cbSignature, pcbResult);
  });
}

SECURITY_STATUS WINAPI NCryptVerifySignature(NCRYPT_KEY_HANDLE hKey, void* pPaddingInfo,
                                             PBYTE pbHashValue, DWORD cbHashValue,
                                             PBYTE pbSignature, DWORD cbSignature, DWORD dwFlags) {
  return boundary([&] {
    check_flags(dwFlags, NCRYPT_PAD_PKCS1_FLAG | NCRYPT_PAD_PSS_FLAG | NCRYPT_SILENT_FLAG);
    const UsableKey key = usable_key(hKey);
    if (key.symmetric()) {
      hmac_verify_call(key.symmetric_use(), pPaddingInfo, pbHashValue, cbHashValue, pbSignature,
                       cbSignature, dwFlags);
      return;
    }
    require_arg(pbHashValue, "pbHashValue is NULL");
    require(pbSignature != nullptr && cbSignature > 0, NTE_INVALID_PARAMETER,
            "pbSignature is NULL");
    const SignPadding padding = sign_padding(key.material->algorithm(), pPaddingInfo, dwFlags);
    check_hash_length(padding, cbHashValue);
    key.material->verify_signature(padding, {pbHashValue, cbHashValue}, {pbSignature, cbSignature});
  });
}

SECURITY_STATUS WINAPI NCryptEncrypt(NCRYPT_KEY_HANDLE hKey, PBYTE pbInput, DWORD cbInput,
                                     void* pPaddingInfo, PBYTE pbOutput, DWORD cbOutput,
                                     DWORD* pcbResult, DWORD dwFlags) {
  return boundary([&] {
    check_flags(dwFlags, NCRYPT_NO_PADDING_FLAG | NCRYPT_PAD_PKCS1_FLAG | NCRYPT_PAD_OAEP_FLAG |
                             NCRYPT_PAD_CIPHER_FLAG | NCRYPT_SILENT_FLAG);
    const UsableKey key = usable_key(hKey);
    require_arg(pcbResult, "pcbResult is NULL");
    if (key.symmetric()) {
      symmetric_crypt_call(true, key.symmetric_use(), pbInput, cbInput, pPaddingInfo, pbOutput,
                           cbOutput, pcbResult, dwFlags);
      return;
    }
    require(key.material->algorithm() == KeyAlgorithm::kRsa, NTE_NOT_SUPPORTED,
            "only RSA keys encrypt");
    require((dwFlags & NCRYPT_PAD_CIPHER_FLAG) == 0, NTE_INVALID_PARAMETER,
            "NCRYPT_PAD_CIPHER_FLAG is for symmetric keys");
    const auto input = input_span(pbInput, cbInput, "pbInput is NULL");
    const CipherPadding padding = cipher_padding(pPaddingInfo, dwFlags);
    const DWORD size = (key.material->bits() + 7) / 8;
    if (pbOutput == nullptr) {
      *pcbResult = size;
      return;
    }
    *pcbResult = size;
    require(cbOutput >= size, NTE_BUFFER_TOO_SMALL, "output buffer too small");
    const Bytes cipher = key.material->encrypt(padding, input);  // input copied: in-place ok
    write_output(cipher, pbOutput, cbOutput, pcbResult);
  });
}

SECURITY_STATUS WINAPI NCryptDecrypt(NCRYPT_KEY_HANDLE hKey, PBYTE pbInput, DWORD cbInput,
                                     void* pPaddingInfo, PBYTE pbOutput, DWORD cbOutput,
                                     DWORD* pcbResult, DWORD dwFlags) {
  return boundary([&] {
    check_flags(dwFlags, NCRYPT_NO_PADDING_FLAG | NCRYPT_PAD_PKCS1_FLAG | NCRYPT_PAD_OAEP_FLAG |
                             NCRYPT_PAD_CIPHER_FLAG | NCRYPT_SILENT_FLAG);
    const UsableKey key = usable_key(hKey);
    require_arg(pcbResult, "pcbResult is NULL");
    if (key.symmetric()) {
      symmetric_crypt_call(false, key.symmetric_use(), pbInput, cbInput, pPaddingInfo, pbOutput,
                           cbOutput, pcbResult, dwFlags);
      return;
    }
    require(key.material->algorithm() == KeyAlgorithm::kRsa, NTE_NOT_SUPPORTED,
            "only RSA keys decrypt");
    require((dwFlags & NCRYPT_PAD_CIPHER_FLAG) == 0, NTE_INVALID_PARAMETER,
            "NCRYPT_PAD_CIPHER_FLAG is for symmetric keys");
    require(pbInput != nullptr && cbInput > 0, NTE_INVALID_PARAMETER, "pbInput is NULL");
    const CipherPadding padding = cipher_padding(pPaddingInfo, dwFlags);
    require_usage(key, NCRYPT_ALLOW_DECRYPT_FLAG, "the key usage does not allow decryption");
    require_private(key);
    // The exact plaintext size is known only after decrypting, also for a size query (which
    // therefore uses the authorisation of a key that needs one, key_auth.h).
    const SecureBytes auth = take_private_use_auth(*key.object);  // NTE_SILENT_CONTEXT
    const UsageAuthScope auth_scope(auth);
    const SecureBytes plain = key.material->decrypt(padding, {pbInput, cbInput});
    write_output(plain, pbOutput, cbOutput, pcbResult);
  });
}
