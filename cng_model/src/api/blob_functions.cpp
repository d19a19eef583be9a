// NCryptExportKey and NCryptImportKey.
#include <array>

#include "api/algorithms.h"
#include "api/boundary.h"
#include "api/key_auth.h"
#include "api/key_common.h"
#include "api/key_wrap.h"
#include "api/output.h"
#include "api/rsa_key_wrap.h"
#include "core/u16.h"

using namespace cng;
using namespace cng::api;

namespace {

constexpr std::array<std::u16string_view, 3> kPublicBlobs = {
    BCRYPT_PUBLIC_KEY_BLOB, BCRYPT_RSAPUBLIC_BLOB, BCRYPT_ECCPUBLIC_BLOB};
constexpr std::array<std::u16string_view, 6> kPrivateBlobs = {
    BCRYPT_PRIVATE_KEY_BLOB, BCRYPT_RSAPRIVATE_BLOB,        BCRYPT_RSAFULLPRIVATE_BLOB,
    BCRYPT_ECCPRIVATE_BLOB,  NCRYPT_PKCS8_PRIVATE_KEY_BLOB, NCRYPT_CIPHER_KEY_BLOB};

template <std::size_t N>
bool one_of(const std::array<std::u16string_view, N>& set, std::u16string_view s) {
  for (const auto item : set) {
    if (u16_iequals(item, s)) {
      return true;
    }
  }
  return false;
}

// NTE_BAD_TYPE when the key's algorithm cannot be expressed in an algorithm-specific blob.
void check_blob_fits(std::u16string_view blob, KeyAlgorithm algorithm) {
  const bool rsa_blob = u16_iequals(blob, BCRYPT_RSAPUBLIC_BLOB) ||
                        u16_iequals(blob, BCRYPT_RSAPRIVATE_BLOB) ||
                        u16_iequals(blob, BCRYPT_RSAFULLPRIVATE_BLOB);
  const bool ecc_blob =
      u16_iequals(blob, BCRYPT_ECCPUBLIC_BLOB) || u16_iequals(blob, BCRYPT_ECCPRIVATE_BLOB);
  require(!(rsa_blob && algorithm != KeyAlgorithm::kRsa) && !(ecc_blob && !is_ec(algorithm)),
          NTE_BAD_TYPE, "the key cannot be exported in this blob type");
  // Secret keys export only as a cipher key blob, and only they do.
  require(u16_iequals(blob, NCRYPT_CIPHER_KEY_BLOB) == is_symmetric(algorithm), NTE_BAD_TYPE,
          "the key cannot be exported in this blob type");
}

struct ImportParameters {
  std::optional<std::u16string> key_name;
  // NCRYPTBUFFER_PKCS_ALG_ID: a wrapped key's algorithm (read only for an unwrap, so a plain
  // import ignores it as before).
  const NCryptBuffer* alg_id = nullptr;
};

// A UTF-16 string buffer (trailing NULs dropped); NTE_INVALID_PARAMETER if malformed or empty.
std::u16string string_buffer(const NCryptBuffer& b, std::size_t max_chars, const char* what) {
  require(b.cbBuffer % sizeof(char16_t) == 0 && b.cbBuffer <= (max_chars + 1) * sizeof(char16_t),
          NTE_INVALID_PARAMETER, what);
  std::u16string value(static_cast<const char16_t*>(b.pvBuffer), b.cbBuffer / 2);
  while (!value.empty() && value.back() == u'\0') {
    value.pop_back();
  }
  require(!value.empty(), NTE_INVALID_PARAMETER, what);
  return value;
}

ImportParameters import_parameters(const NCryptBufferDesc* list) {
  ImportParameters out;
  if (list == nullptr) {
    return out;
  }
  require(list->ulVersion == NCRYPTBUFFER_VERSION, NTE_INVALID_PARAMETER,
          "unknown NCryptBufferDesc version");
  require(list->cBuffers == 0 || list->pBuffers != nullptr, NTE_INVALID_PARAMETER,
          "NCryptBufferDesc without buffers");
  for (ULONG i = 0; i < list->cBuffers; ++i) {
    const NCryptBuffer& b = list->pBuffers[i];
    require(b.pvBuffer != nullptr || b.cbBuffer == 0, NTE_INVALID_PARAMETER, "NULL NCryptBuffer");
    switch (b.BufferType) {
      case NCRYPTBUFFER_PKCS_KEY_NAME:
        out.key_name = string_buffer(b, NCRYPT_MAX_KEY_NAME_LENGTH, "bad key name buffer");
        break;
      case NCRYPTBUFFER_PKCS_ALG_ID:
        out.alg_id = &b;
        break;
      case NCRYPTBUFFER_PKCS_SECRET:
        fail(NTE_NOT_SUPPORTED, "password-protected PKCS#8 import is not supported");
      default:
        break;  // other buffers (OIDs, attributes) carry nothing this provider uses
    }
  }
  return out;
}

}  // namespace

SECURITY_STATUS WINAPI NCryptExportKey(NCRYPT_KEY_HANDLE hKey, NCRYPT_KEY_HANDLE hExportKey,
                                       LPCWSTR pszBlobType, NCryptBufferDesc* pParameterList,
                                       PBYTE pbOutput, DWORD cbOutput, DWORD* pcbResult,
                                       DWORD dwFlags) {
  return boundary([&] {
    check_flags(dwFlags, NCRYPT_SILENT_FLAG);
    const auto key = HandleTable::instance().get<KeyObject>(hKey);
    std::shared_ptr<KeyObject> kek;
    if (hExportKey != 0) {
      kek = HandleTable::instance().get<KeyObject>(hExportKey);  // NTE_INVALID_HANDLE first
    }
    const std::u16string blob = u16_arg(pszBlobType, NCRYPT_MAX_ALG_ID_LENGTH, "pszBlobType");
    require_arg(pcbResult, "pcbResult is NULL");
    if (const auto mode = wrap_mode_of(blob)) {
      require(kek != nullptr, NTE_INVALID_PARAMETER, "a key-wrap blob needs hExportKey");
      const auto kek_material = wrapping_key(*kek);
      write_output(wrap_export(*key, *kek_material, *mode), pbOutput, cbOutput, pcbResult);
      return;
    }
    if (is_rsa_wrap_blob(blob)) {
      require(kek != nullptr, NTE_INVALID_PARAMETER, "an RSA key-wrap blob needs hExportKey");
      const CipherPadding padding = rsa_wrap_padding(pParameterList);
      const auto kek_material = rsa_wrapping_key(*kek, false);
      write_output(rsa_wrap_export(*key, *kek_material, padding), pbOutput, cbOutput, pcbResult);
      return;
    }
    require(kek == nullptr, NTE_NOT_SUPPORTED, "only key-wrap blobs are exported under a key");
    const bool is_public = one_of(kPublicBlobs, blob);
    const bool is_private = one_of(kPrivateBlobs, blob);
    require(is_public || is_private, NTE_BAD_TYPE, "unsupported blob type");
    if (pParameterList != nullptr && is_private) {
      for (ULONG i = 0; i < pParameterList->cBuffers && pParameterList->pBuffers != nullptr; ++i) {
        require(pParameterList->pBuffers[i].BufferType != NCRYPTBUFFER_PKCS_SECRET,
                NTE_NOT_SUPPORTED, "password-protected PKCS#8 export is not supported");
      }
    }
    Bytes public_blob;
    std::shared_ptr<KeyMaterial> material;
    {
      std::lock_guard lock(key->mutex);
      require(key->state == KeyState::kFinalized, NTE_BAD_KEY_STATE, "the key is not finalized");
      check_blob_fits(blob, key->algorithm);
      if (is_public) {
        public_blob = key->record.public_blob;  // no private parsing for public export
      } else {
        // Plaintext export needs NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG; Windows reports the
        // refusal as NTE_NOT_SUPPORTED.
        require((key->record.export_policy & NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG) != 0,
                NTE_NOT_SUPPORTED, "the export policy does not allow plaintext export");
        material = key->material_locked();
      }
    }
    if (is_public) {
      write_output(public_blob, pbOutput, cbOutput, pcbResult);
      return;
    }
    require(material != nullptr && material->has_private(), NTE_BAD_TYPE,
            "the key has no private part");
    if (pbOutput != nullptr) {            // a size query reveals nothing: it needs no authorisation
      (void)take_private_use_auth(*key);  // NTE_SILENT_CONTEXT
    }
    const SecureBytes exported = material->export_private(blob);
    write_output(exported, pbOutput, cbOutput, pcbResult);
  });
}

SECURITY_STATUS WINAPI NCryptImportKey(NCRYPT_PROV_HANDLE hProvider, NCRYPT_KEY_HANDLE hImportKey,
                                       LPCWSTR pszBlobType, NCryptBufferDesc* pParameterList,
                                       NCRYPT_KEY_HANDLE* phKey, PBYTE pbData, DWORD cbData,
                                       DWORD dwFlags) {
  return boundary([&] {
    check_flags(dwFlags, NCRYPT_NO_KEY_VALIDATION | NCRYPT_DO_NOT_FINALIZE_FLAG |
                             NCRYPT_MACHINE_KEY_FLAG | NCRYPT_OVERWRITE_KEY_FLAG |
                             NCRYPT_WRITE_KEY_TO_LEGACY_STORE_FLAG | NCRYPT_SILENT_FLAG |
                             NCRYPT_PREFER_VBS_FLAG | NCRYPT_REQUIRE_VBS_FLAG |
                             NCRYPT_USE_PER_BOOT_KEY_FLAG);
    check_vbs_flags(dwFlags);
    auto& table = HandleTable::instance();
    const auto provider = table.get<ProviderObject>(hProvider);
    std::shared_ptr<KeyObject> kek;
    if (hImportKey != 0) {
      kek = table.get<KeyObject>(hImportKey);
    }
    const std::u16string blob = u16_arg(pszBlobType, NCRYPT_MAX_ALG_ID_LENGTH, "pszBlobType");
    require_arg(phKey, "phKey is NULL");
    require(pbData != nullptr && cbData > 0, NTE_INVALID_PARAMETER, "pbData is NULL");
    const ImportParameters params = import_parameters(pParameterList);
    require_vbs_available(dwFlags);

    std::shared_ptr<KeyMaterial> material;
    if (const auto mode = wrap_mode_of(blob)) {
      require(kek != nullptr, NTE_INVALID_PARAMETER, "a key-wrap blob needs hImportKey");
      require(params.alg_id != nullptr, NTE_INVALID_PARAMETER,
              "a wrapped key needs NCRYPTBUFFER_PKCS_ALG_ID");
      const std::u16string alg_id =
          string_buffer(*params.alg_id, NCRYPT_MAX_ALG_ID_LENGTH, "bad algorithm id buffer");
      const auto kek_material = wrapping_key(*kek);
      material =
          unwrap_import(provider->provider(), *kek_material, *mode, {pbData, cbData}, alg_id);
    } else if (is_rsa_wrap_blob(blob)) {
      require(kek != nullptr, NTE_INVALID_PARAMETER, "an RSA key-wrap blob needs hImportKey");
      require(params.alg_id != nullptr, NTE_INVALID_PARAMETER,
              "a wrapped key needs NCRYPTBUFFER_PKCS_ALG_ID");
      const std::u16string alg_id =
          string_buffer(*params.alg_id, NCRYPT_MAX_ALG_ID_LENGTH, "bad algorithm id buffer");
      const CipherPadding padding = rsa_wrap_padding(pParameterList);
      const auto kek_material = rsa_wrapping_key(*kek, true);
      material =
          rsa_unwrap_import(provider->provider(), *kek_material, padding, {pbData, cbData}, alg_id);
    } else {
      require(kek == nullptr, NTE_NOT_SUPPORTED, "only key-wrap blobs are imported under a key");
      material = provider->provider().import_blob(blob, {pbData, cbData});
    }
    const std::u16string name = algorithm_name(material->algorithm(), material->curve());
    const auto algorithm = parse_key_algorithm(name);
    require(algorithm.has_value() && provider_supports(provider->provider(), *algorithm),
            NTE_NOT_SUPPORTED, "algorithm not supported by this provider");
    // A named public blob becomes a persisted public-only key (its record has an empty
    // private blob; from_storage rebuilds it from the public blob). What Windows' software KSP
    // does here is not documented; persisting lets PKCS#11 token public keys live in the store.
    // Such a key verifies, encrypts and exports its public blob; private operations fail as
    // for an ephemeral public key.
    const bool overwrite = (dwFlags & NCRYPT_OVERWRITE_KEY_FLAG) != 0;
    auto key = make_created_key(provider->context(), *algorithm,
                                params.key_name ? &*params.key_name : nullptr,
                                scope_from_flags(dwFlags), 0, overwrite);
    {
      std::lock_guard lock(key->mutex);
      key->record.length_bits = material->bits();
      key->set_material_locked(std::move(material));
      // With NCRYPT_DO_NOT_FINALIZE_FLAG the caller may still set creation properties (e.g.
      // Export Policy) and finalizes itself; the name is checked again then.
      if ((dwFlags & NCRYPT_DO_NOT_FINALIZE_FLAG) == 0) {
        finalize_locked(*key);
      }
    }
    *phKey = table.insert(std::move(key));
  });
}
