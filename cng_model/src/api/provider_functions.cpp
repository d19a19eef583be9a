// NCryptOpenStorageProvider, NCryptEnumStorageProviders, NCryptEnumAlgorithms,
// NCryptIsAlgSupported, NCryptFreeObject, NCryptIsKeyHandle.
#include <vector>

#include "api/algorithms.h"
#include "api/boundary.h"
#include "api/buffer_registry.h"
#include "api/objects.h"
#include "core/u16.h"

using namespace cng;
using namespace cng::api;

SECURITY_STATUS WINAPI NCryptOpenStorageProvider(NCRYPT_PROV_HANDLE* phProvider,
                                                 LPCWSTR pszProviderName, DWORD dwFlags) {
  return boundary([&] {
    check_flags(dwFlags, NCRYPT_SILENT_FLAG | NCRYPT_IGNORE_DEVICE_STATE_FLAG);
    require_arg(phProvider, "phProvider is NULL");
    const ProviderDescriptor& descriptor = find_provider(pszProviderName);
    auto object = std::make_shared<ProviderObject>(ProviderContext::open(descriptor));
    *phProvider = HandleTable::instance().insert(std::move(object));
  });
}

// Lists every registered provider, available or not (as Windows lists installed providers);
// opening one that cannot work here fails then (e.g. NTE_DEVICE_NOT_FOUND without a TPM).
SECURITY_STATUS WINAPI NCryptEnumStorageProviders(DWORD* pdwProviderCount,
                                                  NCryptProviderName** ppProviderList,
                                                  DWORD dwFlags) {
  return boundary([&] {
    check_flags(dwFlags, NCRYPT_SILENT_FLAG);
    require_arg(pdwProviderCount, "pdwProviderCount is NULL");
    require_arg(ppProviderList, "ppProviderList is NULL");
    const auto providers = registered_providers();
    std::vector<std::u16string_view> strings;
    for (const auto& p : providers) {
      strings.push_back(p.name);
      strings.push_back(p.comment);
    }
    StructBlockWriter writer(providers.size() * sizeof(NCryptProviderName), strings);
    auto* list = reinterpret_cast<NCryptProviderName*>(writer.structs());
    for (std::size_t i = 0; i < providers.size(); ++i) {
      list[i].pszName = writer.string(2 * i);
      list[i].pszComment = writer.string(2 * i + 1);
    }
    *ppProviderList = static_cast<NCryptProviderName*>(register_caller_buffer(writer.release()));
    *pdwProviderCount = static_cast<DWORD>(providers.size());
  });
}

SECURITY_STATUS WINAPI NCryptEnumAlgorithms(NCRYPT_PROV_HANDLE hProvider, DWORD dwAlgOperations,
                                            DWORD* pdwAlgCount, NCryptAlgorithmName** ppAlgList,
                                            DWORD dwFlags) {
  return boundary([&] {
    check_flags(dwFlags, NCRYPT_SILENT_FLAG);
    const auto provider = HandleTable::instance().get<ProviderObject>(hProvider);
    require_arg(pdwAlgCount, "pdwAlgCount is NULL");
    require_arg(ppAlgList, "ppAlgList is NULL");
    constexpr DWORD kKnownOperations =
        NCRYPT_CIPHER_OPERATION | NCRYPT_HASH_OPERATION | NCRYPT_ASYMMETRIC_ENCRYPTION_OPERATION |
        NCRYPT_SECRET_AGREEMENT_OPERATION | NCRYPT_SIGNATURE_OPERATION | NCRYPT_RNG_OPERATION |
        NCRYPT_KEY_DERIVATION_OPERATION;
    require((dwAlgOperations & ~kKnownOperations) == 0, NTE_INVALID_PARAMETER,
            "unknown algorithm operation bits");
    std::vector<AlgorithmEntry> selected;
    for (auto& entry : provider->provider().algorithms()) {
      if (dwAlgOperations == 0 || (entry.operations & dwAlgOperations) != 0) {
        selected.push_back(std::move(entry));
      }
    }
    std::vector<std::u16string_view> names;
    for (const auto& entry : selected) {
      names.emplace_back(entry.name);
    }
    StructBlockWriter writer(selected.size() * sizeof(NCryptAlgorithmName), names);
    auto* list = reinterpret_cast<NCryptAlgorithmName*>(writer.structs());
    for (std::size_t i = 0; i < selected.size(); ++i) {
      list[i].pszName = writer.string(i);
      list[i].dwClass = selected[i].alg_class;
      list[i].dwAlgOperations = selected[i].operations;
      list[i].dwFlags = 0;
    }
    *ppAlgList = static_cast<NCryptAlgorithmName*>(register_caller_buffer(writer.release()));
    *pdwAlgCount = static_cast<DWORD>(selected.size());
  });
}

SECURITY_STATUS WINAPI NCryptIsAlgSupported(NCRYPT_PROV_HANDLE hProvider, LPCWSTR pszAlgId,
                                            DWORD dwFlags) {
  return boundary([&] {
    check_flags(dwFlags, NCRYPT_SILENT_FLAG);
    const auto provider = HandleTable::instance().get<ProviderObject>(hProvider);
    const std::u16string id = u16_arg(pszAlgId, NCRYPT_MAX_ALG_ID_LENGTH, "pszAlgId");
    if (const auto key_alg = parse_key_algorithm(id)) {
      require(provider_supports(provider->provider(), *key_alg), NTE_NOT_SUPPORTED,
              "algorithm not supported");
      return;
    }
    for (const auto& entry : provider->provider().algorithms()) {
      if (u16_iequals(entry.name, id)) {
        return;
      }
    }
    fail(NTE_NOT_SUPPORTED, "algorithm not supported");
  });
}

SECURITY_STATUS WINAPI NCryptFreeObject(NCRYPT_HANDLE hObject) {
  return boundary([&] {
    // Dropping the table's reference; users in other threads keep theirs until done.
    require(HandleTable::instance().erase(hObject) != nullptr, NTE_INVALID_HANDLE,
            "invalid handle");
  });
}

BOOL WINAPI NCryptIsKeyHandle(NCRYPT_KEY_HANDLE hKey) {
  try {
    const auto object = HandleTable::instance().find(hKey);
    return object != nullptr && object->kind() == ObjectKind::kKey ? TRUE : FALSE;
  } catch (...) {
    return FALSE;
  }
}

SECURITY_STATUS WINAPI NCryptFreeBuffer(PVOID pvInput) {
  return boundary([&] {
    if (pvInput == nullptr) {
      return;  // like free(NULL)
    }
    require(free_caller_buffer(pvInput), NTE_INVALID_PARAMETER,
            "not a buffer returned by an NCrypt function");
  });
}
