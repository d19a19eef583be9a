#include "api/rsa_key_wrap.h"

#include <cstring>
#include <optional>

#include "core/u16.h"
#include "providers/algorithm_table.h"
#include "providers/cipher_key_blob.h"

namespace cng::api {

namespace {

constexpr std::size_t kPkcs1Overhead = 11;  // RFC 8017 §7.2.1: 00 02 PS(>= 8) 00

// The buffers of one kind in list: none, or exactly one (a repeat is NTE_INVALID_PARAMETER).
const NCryptBuffer* find_buffer(const NCryptBufferDesc& list, ULONG type) {
  const NCryptBuffer* found = nullptr;
  for (ULONG i = 0; i < list.cBuffers; ++i) {
    const NCryptBuffer& b = list.pBuffers[i];
    if (b.BufferType == type) {
      require(found == nullptr, NTE_INVALID_PARAMETER, "repeated RSA key-wrap parameter");
      require(b.pvBuffer != nullptr || b.cbBuffer == 0, NTE_INVALID_PARAMETER, "NULL NCryptBuffer");
      found = &b;
    }
  }
  return found;
}

// Plaintext bytes the padding leaves room for in a k-byte modulus.
std::size_t max_plaintext(const CipherPadding& padding, std::size_t k) noexcept {
  const std::size_t overhead =
      padding.flags == NCRYPT_PAD_OAEP_FLAG ? 2 * hash_size(padding.hash) + 2 : kPkcs1Overhead;
  return k > overhead ? k - overhead : 0;
}

}  // namespace

bool is_rsa_wrap_blob(std::u16string_view blob_type) noexcept {
  return u16_iequals(blob_type, NCRYPT_RSA_WRAP_KEY_BLOB);
}

CipherPadding rsa_wrap_padding(const NCryptBufferDesc* list) {
  require(list != nullptr, NTE_INVALID_PARAMETER, "an RSA key-wrap blob needs pParameterList");
  require(list->ulVersion == NCRYPTBUFFER_VERSION, NTE_INVALID_PARAMETER,
          "unknown NCryptBufferDesc version");
  require(list->cBuffers == 0 || list->pBuffers != nullptr, NTE_INVALID_PARAMETER,
          "NCryptBufferDesc without buffers");
  const NCryptBuffer* flag = find_buffer(*list, NCRYPTBUFFER_RSA_PADDING_FLAG);
  require(flag != nullptr && flag->cbBuffer == sizeof(DWORD), NTE_INVALID_PARAMETER,
          "NCRYPTBUFFER_RSA_PADDING_FLAG missing or not a DWORD");
  CipherPadding padding;
  std::memcpy(&padding.flags, flag->pvBuffer, sizeof(DWORD));
  require(padding.flags == NCRYPT_PAD_PKCS1_FLAG || padding.flags == NCRYPT_PAD_OAEP_FLAG,
          NTE_INVALID_PARAMETER, "RSA key wrapping pads with PKCS1 or OAEP");
  const NCryptBuffer* hash = find_buffer(*list, NCRYPTBUFFER_RSA_OAEP_HASH);
  const NCryptBuffer* label = find_buffer(*list, NCRYPTBUFFER_RSA_OAEP_LABEL);
  if (padding.flags == NCRYPT_PAD_PKCS1_FLAG) {
    require(hash == nullptr && label == nullptr, NTE_INVALID_PARAMETER,
            "OAEP parameters with PKCS1 padding");
    return padding;
  }
  require(hash != nullptr && hash->cbBuffer % sizeof(char16_t) == 0 &&
              hash->cbBuffer <= (NCRYPT_MAX_ALG_ID_LENGTH + 1) * sizeof(char16_t),
          NTE_INVALID_PARAMETER, "OAEP needs NCRYPTBUFFER_RSA_OAEP_HASH");
  std::u16string id(static_cast<const char16_t*>(hash->pvBuffer), hash->cbBuffer / 2);
  while (!id.empty() && id.back() == u'\0') {
    id.pop_back();
  }
  require(!id.empty(), NTE_INVALID_PARAMETER, "empty OAEP hash id");
  padding.hash = hash_from_alg_id(id.c_str());
  require(padding.hash != HashId::kMd5, NTE_NOT_SUPPORTED, "no OAEP with MD5");
  if (label != nullptr && label->cbBuffer != 0) {
    const auto* bytes = static_cast<const std::uint8_t*>(label->pvBuffer);
    padding.label.assign(bytes, bytes + label->cbBuffer);
  }
  return padding;
}

std::shared_ptr<KeyMaterial> rsa_wrapping_key(KeyObject& kek, bool unwrap) {
  std::lock_guard lock(kek.mutex);
  require(kek.state == KeyState::kFinalized, NTE_BAD_KEY_STATE,
          "the wrapping key is not finalized");
  require(kek.algorithm == KeyAlgorithm::kRsa, NTE_BAD_KEY, "the wrapping key is not an RSA key");
  require(!unwrap || (kek.record.key_usage & NCRYPT_ALLOW_DECRYPT_FLAG) != 0, NTE_PERM,
          "the unwrapping key's usage does not allow decryption");
  auto material = kek.material_locked();
  require(material != nullptr, NTE_BAD_KEY_STATE, "the wrapping key has no key material");
  require(!unwrap || material->has_private(), NTE_BAD_KEY, "the unwrapping key is public-only");
  return material;
}

Bytes rsa_wrap_export(KeyObject& key, const KeyMaterial& kek, const CipherPadding& padding) {
  std::shared_ptr<KeyMaterial> material;
  {
    std::lock_guard lock(key.mutex);
    require(key.state == KeyState::kFinalized, NTE_BAD_KEY_STATE, "the key is not finalized");
    require((key.record.export_policy & NCRYPT_ALLOW_EXPORT_FLAG) != 0, NTE_NOT_SUPPORTED,
            "the export policy does not allow export");
    material = key.material_locked();
  }
  require(material != nullptr && material->has_private() && is_symmetric(material->algorithm()),
          NTE_BAD_TYPE, "only symmetric keys are RSA-wrapped");
  const CipherKeyBlob blob =
      parse_cipher_key_blob(material->export_private(NCRYPT_CIPHER_KEY_BLOB));
  require(blob.key.size() <= max_plaintext(padding, (kek.bits() + 7) / 8), NTE_BAD_LEN,
          "the key is too long for the RSA modulus");
  return kek.encrypt(padding, blob.key);
}

std::shared_ptr<KeyMaterial> rsa_unwrap_import(Provider& provider, const KeyMaterial& kek,
                                               const CipherPadding& padding,
                                               std::span<const std::uint8_t> data,
                                               std::u16string_view alg_id) {
  const AlgorithmInfo* row = find_algorithm(alg_id);
  require(row != nullptr && row->family == KeyFamily::kSymmetric, NTE_NOT_SUPPORTED,
          "RSA-wrapped keys are AES or generic secret keys");
  require(data.size() == (kek.bits() + 7) / 8, NTE_BAD_LEN,
          "an RSA-wrapped key is as long as the modulus");
  std::optional<SecureBytes> plain;
  try {
    plain = kek.decrypt(padding, data);
  } catch (const CngError& e) {
    // The padding and length are known good here: what is left is a ciphertext that does not
    // decrypt (one status for every such failure, so it is no padding oracle).
    if (e.status() != NTE_INVALID_PARAMETER && e.status() != NTE_BAD_DATA) {
      throw;
    }
    fail(NTE_BAD_DATA, "the wrapped key does not decrypt under this key");
  }
  require(!plain->empty(), NTE_BAD_DATA, "the wrapped key is empty");
  return provider.import_blob(NCRYPT_CIPHER_KEY_BLOB, encode_cipher_key_blob(row->name, *plain));
}

}  // namespace cng::api
