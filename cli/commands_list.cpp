// `cngkey list`: the keys of one scope, one tab-separated line each, sorted by name.
#include <algorithm>
#include <iostream>
#include <memory>

#include "commands.h"
#include "text.h"

namespace cngkey {
namespace {

// NCryptEnumKeys state, freed with NCryptFreeBuffer however the enumeration ends.
struct EnumState {
  PVOID state = nullptr;
  EnumState() = default;
  EnumState(const EnumState&) = delete;
  EnumState& operator=(const EnumState&) = delete;
  ~EnumState() {
    if (state != nullptr) {
      NCryptFreeBuffer(state);
    }
  }
};

struct KeyNameDeleter {
  void operator()(NCryptKeyName* item) const noexcept { NCryptFreeBuffer(item); }
};

// The --long columns; "?" (and a warning) when the key cannot be opened or read.
std::string long_columns(const Handle& provider, const KeyEntry& entry, Scope scope, bool& failed) {
  try {
    const Handle key = open_key(provider, entry.name, scope);
    const auto length = find_dword_property(key.get(), NCRYPT_LENGTH_PROPERTY);
    const auto usage = find_dword_property(key.get(), NCRYPT_KEY_USAGE_PROPERTY);
    // Appended in place (GCC 12 -O3 -Wrestrict false positive on "\t" + std::string).
    std::string columns = "\t";
    columns += length ? std::to_string(*length) : std::string("-");
    columns += '\t';
    columns += usage ? usage_words(*usage) : std::string("-");
    return columns;
  } catch (const NcryptError& error) {
    std::cerr << "cngkey: " << escape_field(display_utf8(entry.name)) << ": " << error.what()
              << '\n';
    failed = true;
    return "\t?\t?";
  }
}

}  // namespace

std::vector<KeyEntry> enumerate_keys(const Handle& provider, Scope scope) {
  std::vector<KeyEntry> keys;
  EnumState enum_state;
  for (;;) {
    NCryptKeyName* raw = nullptr;
    const SECURITY_STATUS status =
        NCryptEnumKeys(provider.get(), nullptr, &raw, &enum_state.state, scope_flags(scope));
    const std::unique_ptr<NCryptKeyName, KeyNameDeleter> item(raw);
    if (status == NTE_NO_MORE_ITEMS) {
      break;
    }
    check(status, "NCryptEnumKeys");
    if (!item) {
      throw NcryptError("NCryptEnumKeys", NTE_INTERNAL_ERROR);
    }
    KeyEntry& entry = keys.emplace_back();
    entry.name = item->pszName != nullptr ? item->pszName : u"";
    entry.algorithm = item->pszAlgid != nullptr ? item->pszAlgid : u"";
    entry.legacy_key_spec = item->dwLegacyKeySpec;
  }
  return keys;
}

int run_list(const Options& options) {
  const Handle provider = open_provider(options.provider);
  std::vector<KeyEntry> keys = enumerate_keys(provider, options.scope);
  // Enumeration order follows the store's file names; sort for stable, diffable output.
  std::sort(keys.begin(), keys.end(),
            [](const KeyEntry& a, const KeyEntry& b) { return a.name < b.name; });
  bool failed = false;
  for (const KeyEntry& entry : keys) {
    std::string row = escape_field(display_utf8(entry.name)) + "\t" +
                      escape_field(display_utf8(entry.algorithm)) + "\t" +
                      std::string(scope_name(options.scope)) + "\t" +
                      legacy_spec_word(entry.legacy_key_spec);
    if (options.long_listing) {
      row += long_columns(provider, entry, options.scope, failed);
    }
    std::cout << row << '\n';
  }
  std::cout.flush();
  if (!std::cout) {
    throw IoError("cannot write to standard output");
  }
  return failed ? kExitNcryptFailure : kExitOk;
}

}  // namespace cngkey
