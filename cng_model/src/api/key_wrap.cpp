#include "api/key_wrap.h"

#include "core/u16.h"
#include "providers/algorithm_table.h"
#include "providers/cipher_key_blob.h"

namespace cng::api {

std::optional<WrapMode> wrap_mode_of(std::u16string_view blob_type) noexcept {
  if (u16_iequals(blob_type, BCRYPT_AES_WRAP_KEY_BLOB)) {
    return WrapMode::kRfc3394;
  }
  if (u16_iequals(blob_type, NCRYPT_AES_WRAP_PAD_KEY_BLOB)) {
    return WrapMode::kRfc5649;
  }
  if (u16_iequals(blob_type, NCRYPT_AES_WRAP_PKCS7_KEY_BLOB)) {
    return WrapMode::kRfc3394Pkcs7;
  }
  return std::nullopt;
}

std::shared_ptr<KeyMaterial> wrapping_key(KeyObject& kek) {
  std::lock_guard lock(kek.mutex);
  require(kek.state == KeyState::kFinalized, NTE_BAD_KEY_STATE,
          "the wrapping key is not finalized");
  require(kek.algorithm == KeyAlgorithm::kAes, NTE_BAD_KEY, "the wrapping key is not an AES key");
  require((kek.record.key_usage & NCRYPT_ALLOW_KEY_IMPORT_FLAG) != 0, NTE_PERM,
          "the wrapping key's usage does not allow key wrapping");
  auto material = kek.material_locked();
  require(material != nullptr, NTE_BAD_KEY_STATE, "the wrapping key has no key material");
  return material;
}

Bytes wrap_export(KeyObject& key, const KeyMaterial& kek, WrapMode mode) {
  std::shared_ptr<KeyMaterial> material;
  {
    std::lock_guard lock(key.mutex);
    require(key.state == KeyState::kFinalized, NTE_BAD_KEY_STATE, "the key is not finalized");
    require((key.record.export_policy & NCRYPT_ALLOW_EXPORT_FLAG) != 0, NTE_NOT_SUPPORTED,
            "the export policy does not allow export");
    material = key.material_locked();
  }
  require(material != nullptr && material->has_private(), NTE_BAD_TYPE,
          "the key has no private part");
  if (is_symmetric(material->algorithm())) {
    const CipherKeyBlob blob =
        parse_cipher_key_blob(material->export_private(NCRYPT_CIPHER_KEY_BLOB));
    return kek.wrap_key(mode, blob.key);
  }
  const SecureBytes pkcs8 = material->export_private(NCRYPT_PKCS8_PRIVATE_KEY_BLOB);
  return kek.wrap_key(mode, pkcs8);
}

std::shared_ptr<KeyMaterial> unwrap_import(Provider& provider, const KeyMaterial& kek,
                                           WrapMode mode, std::span<const std::uint8_t> data,
                                           std::u16string_view alg_id) {
  const AlgorithmInfo* row = find_algorithm(alg_id);
  require(row != nullptr, NTE_NOT_SUPPORTED, "unknown algorithm for the unwrapped key");
  const SecureBytes plain = kek.unwrap_key(mode, data);
  if (row->family == KeyFamily::kSymmetric) {
    return provider.import_blob(NCRYPT_CIPHER_KEY_BLOB, encode_cipher_key_blob(row->name, plain));
  }
  std::shared_ptr<KeyMaterial> material;
  try {
    material = provider.import_blob(NCRYPT_PKCS8_PRIVATE_KEY_BLOB, plain);
  } catch (const CngError& e) {
    if (e.status() != NTE_BAD_DATA && e.status() != NTE_INVALID_PARAMETER) {
      throw;
    }
    fail(NTE_BAD_DATA, std::string("the unwrapped key is not a PKCS#8 private key: ") + e.what());
  }
  const AlgorithmInfo& got = algorithm_info(material->algorithm(), material->curve());
  require(got.family == row->family && (row->curve == Curve::kNone || row->curve == got.curve),
          NTE_BAD_DATA, "the unwrapped key is not of the algorithm asked for");
  return material;
}

}  // namespace cng::api
