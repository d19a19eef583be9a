// `cngkey list`: the keys of one scope, one tab-separated line each, sorted by name; then the
// key files the store leaves out, "(file NAME)<TAB>damaged: …" or "refused: …", by file name.
#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>

#include "cng_key_store_issues.h"
#include "commands.h"
#include "json.h"
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

// The --long fields: nullopt (and a warning) when the key cannot be opened or read.
struct LongFields {
  std::optional<DWORD> length;
  std::optional<DWORD> usage;
  bool readable = true;
};

LongFields long_fields(const Handle& provider, const KeyEntry& entry, Scope scope, bool& failed) {
  try {
    const Handle key = open_key(provider, entry.name, scope);
    return {find_dword_property(key.get(), NCRYPT_LENGTH_PROPERTY),
            find_dword_property(key.get(), NCRYPT_KEY_USAGE_PROPERTY), true};
  } catch (const NcryptError& error) {
    std::cerr << "cngkey: " << escape_field(display_utf8(entry.name)) << ": " << error.what()
              << '\n';
    failed = true;
    return {std::nullopt, std::nullopt, false};
  }
}

std::string long_columns(const LongFields& fields) {
  if (!fields.readable) {
    return "\t?\t?";
  }
  // Appended in place (GCC 12 -O3 -Wrestrict false positive on "\t" + std::string).
  std::string columns = "\t";
  columns += fields.length ? std::to_string(*fields.length) : std::string("-");
  columns += '\t';
  columns += fields.usage ? usage_words(*fields.usage) : std::string("-");
  return columns;
}

std::string json_entry(const Options& options, const KeyEntry& entry, const LongFields* fields) {
  JsonObject object;
  object.add("name", json_string(display_utf8(entry.name)))
      .add("algorithm", json_string(display_utf8(entry.algorithm)))
      .add("scope", json_string(scope_name(options.scope)))
      .add("provider", json_string(provider_name(options.provider)))
      .add("legacy_key_spec", json_string(legacy_spec_word(entry.legacy_key_spec)));
  if (fields != nullptr) {
    object.add("length", fields->length ? json_number(*fields->length) : json_null())
        .add("key_usage", fields->usage ? json_number(*fields->usage) : json_null());
  }
  return object.str();
}

// "damaged: <reason>" or "refused: <reason>".
std::string issue_text(const cng::KeyStoreIssue& issue) {
  return std::string(issue.refused ? "refused: " : "damaged: ") + issue.reason;
}

// A key file left out of the enumeration: its name is unknown (the file is named from a hash
// of it), so the file name stands in for it.
std::string json_issue(const Options& options, const cng::KeyStoreIssue& issue) {
  JsonObject object;
  object.add("name", json_null())
      .add("file", json_string(issue.file))
      .add("status", json_string(issue.refused ? "refused" : "damaged"))
      .add("reason", json_string(issue.reason))
      .add("scope", json_string(scope_name(options.scope)))
      .add("provider", json_string(provider_name(options.provider)));
  return object.str();
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
  std::vector<std::string> json_entries;
  for (const KeyEntry& entry : keys) {
    std::optional<LongFields> fields;
    if (options.long_listing) {
      fields = long_fields(provider, entry, options.scope, failed);
    }
    if (options.json) {
      json_entries.push_back(json_entry(options, entry, fields ? &*fields : nullptr));
      continue;
    }
    std::string row = escape_field(display_utf8(entry.name)) + "\t" +
                      escape_field(display_utf8(entry.algorithm)) + "\t" +
                      std::string(scope_name(options.scope)) + "\t" +
                      legacy_spec_word(entry.legacy_key_spec);
    if (fields) {
      row += long_columns(*fields);
    }
    std::cout << row << '\n';
  }
  std::vector<cng::KeyStoreIssue> issues;
  check(cng::CngListKeyStoreIssues(provider.get(), scope_flags(options.scope), &issues),
        "NCryptEnumKeys");
  for (const cng::KeyStoreIssue& issue : issues) {
    if (options.json) {
      json_entries.push_back(json_issue(options, issue));
    } else {
      std::cout << "(file " << issue.file << ")\t" << escape_field(issue_text(issue)) << '\t'
                << scope_name(options.scope) << '\n';
    }
  }
  if (options.json) {
    std::cout << json_array(json_entries, true) << '\n';
  }
  flush_stdout();
  return failed ? kExitNcryptFailure : kExitOk;
}

}  // namespace cngkey
