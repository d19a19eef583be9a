// CngEnumKeyListings, CngGetKeyListing (cng_key_listing.h): the listing fields of keys without
// opening them.
#include <algorithm>

#include "api/algorithms.h"
#include "api/boundary.h"
#include "api/key_common.h"
#include "cng_key_listing.h"
#include "core/u16.h"

using namespace cng;
using namespace cng::api;

namespace {

// The blob type NCryptExportKey accepts for the key's public part (blob_functions.cpp,
// check_blob_fits): RSA keys export BCRYPT_RSAPUBLIC_BLOB, EC keys BCRYPT_ECCPUBLIC_BLOB,
// secret keys (and algorithms this layer does not model) no public blob.
std::u16string_view public_blob_type(std::u16string_view algorithm) {
  const auto id = parse_key_algorithm(algorithm);
  if (!id || is_symmetric(id->algorithm)) {
    return {};
  }
  return id->algorithm == KeyAlgorithm::kRsa ? std::u16string_view(BCRYPT_RSAPUBLIC_BLOB)
                                             : std::u16string_view(BCRYPT_ECCPUBLIC_BLOB);
}

KeyStoreListing listing_of(const KeyRecord& record) {
  KeyStoreListing out;
  out.name = record.name;
  out.algorithm = record.algorithm;
  out.legacy_key_spec = record.legacy_key_spec;
  out.length = record.length_bits;
  out.export_policy = record.export_policy;
  out.key_usage = record.key_usage;
  out.unique_name = KeyStore::file_name_for(record.name);
  out.public_blob_type = public_blob_type(record.algorithm);
  if (!out.public_blob_type.empty()) {
    out.public_blob.assign(record.public_blob.begin(), record.public_blob.end());
  }
  out.properties.reserve(record.properties.size());
  for (const auto& [name, value] : record.properties) {  // std::map: ascending by name
    out.properties.emplace_back(name, std::vector<std::uint8_t>(value.begin(), value.end()));
  }
  return out;
}

}  // namespace

namespace cng {

SECURITY_STATUS CngEnumKeyListings(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags,
                                   std::vector<KeyStoreListing>* listings) noexcept {
  return boundary([&] {
    check_flags(dwFlags, NCRYPT_MACHINE_KEY_FLAG | NCRYPT_SILENT_FLAG);
    const auto provider = HandleTable::instance().get<ProviderObject>(hProvider);
    require_arg(listings, "listings is NULL");
    const KeyStore& store = provider->context()->store(scope_from_flags(dwFlags));
    // The store's listing index: no key file is read unless new or changed since indexed,
    // and no private blob is kept.
    std::vector<KeyStoreListing> out = store.list_summaries();
    // One blob type per algorithm name (a store holds few algorithms).
    std::vector<std::pair<std::u16string, std::u16string>> types;
    for (KeyStoreListing& l : out) {
      auto it = std::find_if(types.begin(), types.end(),
                             [&](const auto& t) { return t.first == l.algorithm; });
      if (it == types.end()) {
        it = types.emplace(types.end(), l.algorithm, std::u16string(public_blob_type(l.algorithm)));
      }
      l.public_blob_type = it->second;
      if (l.public_blob_type.empty()) {
        l.public_blob.clear();  // as listing_of(): no public part to export
      }
    }
    *listings = std::move(out);
  });
}

SECURITY_STATUS CngGetKeyListing(NCRYPT_PROV_HANDLE hProvider, LPCWSTR pszKeyName, DWORD dwFlags,
                                 KeyStoreListing* listing) noexcept {
  return boundary([&] {
    check_flags(dwFlags, NCRYPT_MACHINE_KEY_FLAG | NCRYPT_SILENT_FLAG);
    const auto provider = HandleTable::instance().get<ProviderObject>(hProvider);
    require_arg(listing, "listing is NULL");
    const std::u16string name = key_name_arg(pszKeyName);
    // One key: its own file is read (cheaper than any index); its private part is not parsed.
    const KeyRecord record = provider->context()->store(scope_from_flags(dwFlags)).load(name);
    // As NCryptOpenKey: another provider's key is not this provider's keyset.
    require(record.provider.empty() || u16_iequals(record.provider, provider->provider().name()),
            NTE_BAD_KEYSET, "the key belongs to another provider");
    *listing = listing_of(record);
  });
}

}  // namespace cng
