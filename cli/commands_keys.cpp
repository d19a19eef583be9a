// `cngkey create`, `show` and `delete`.
#include <iostream>

#include "cng_key_store_issues.h"
#include "commands.h"
#include "public_key_export.h"
#include "scope_login.h"
#include "text.h"

namespace cngkey {
namespace {

// The legacy key spec is not a property: NCrypt reports it only through enumeration.
std::optional<DWORD> find_legacy_spec(const Handle& provider, const Options& options) {
  for (const KeyEntry& entry : enumerate_keys(provider, options.scope)) {
    if (entry.name == options.name) {
      return entry.legacy_key_spec;
    }
  }
  return std::nullopt;
}

// Fails with the store's reason when the key's file is refused (not trusted: owner or mode)
// or, unless damaged_ok, damaged.
void check_key_file(const Handle& provider, const Options& options, bool damaged_ok) {
  cng::KeyStoreIssue issue;
  bool found = false;
  check(cng::CngGetKeyIssue(provider.get(), options.name.c_str(), scope_flags(options.scope),
                            &issue, &found),
        "NCryptOpenKey");
  if (found && issue.refused) {
    throw NcryptError("NCryptOpenKey", NTE_PERM, "refused: " + issue.reason);
  }
  if (found && !damaged_ok) {
    throw NcryptError("NCryptOpenKey", NTE_BAD_DATA,
                      "damaged: " + issue.reason + " (cngkey delete removes it)");
  }
}

}  // namespace

int run_create(const Options& options) {
  log_in_scope_if_needed(options,
                         !options.ephemeral && options.provider == ProviderKind::kSoftware);
  const Handle provider = open_provider(options.provider);
  const DWORD flags =
      scope_flags(options.scope) | (options.overwrite ? NCRYPT_OVERWRITE_KEY_FLAG : 0);
  NCRYPT_KEY_HANDLE raw = 0;
  check(NCryptCreatePersistedKey(provider.get(), &raw, options.algorithm.c_str(),
                                 options.ephemeral ? nullptr : options.name.c_str(),
                                 options.legacy_key_spec, flags),
        "NCryptCreatePersistedKey");
  const Handle key(raw);
  // Creation-time properties: only what was asked for, so the provider's defaults apply
  // otherwise (as with certutil and .NET).
  if (options.length_bits) {
    set_dword_property(key.get(), NCRYPT_LENGTH_PROPERTY, *options.length_bits);
  }
  if (options.key_usage) {
    set_dword_property(key.get(), NCRYPT_KEY_USAGE_PROPERTY, *options.key_usage);
  }
  if (options.exportable) {
    set_dword_property(key.get(), NCRYPT_EXPORT_POLICY_PROPERTY,
                       NCRYPT_ALLOW_EXPORT_FLAG | NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG);
  }
  check(NCryptFinalizeKey(key.get(), 0), "NCryptFinalizeKey");

  print_key_report(std::cout, key.get(), options.legacy_key_spec);
  if (options.ephemeral) {
    // The key disappears with its handle, so its public key is printed now.
    std::cout << spki_pem(public_key_from_blob(export_public_blob(key.get())));
  }
  flush_stdout();
  return kExitOk;
}

int run_show(const Options& options) {
  const Handle provider = open_provider(options.provider);
  check_key_file(provider, options, false);
  const Handle key = open_key(provider, options.name, options.scope);
  if (options.json) {
    std::cout << key_report_json(key.get(), find_legacy_spec(provider, options),
                                 provider_name(options.provider))
              << '\n';
  } else {
    print_key_report(std::cout, key.get(), find_legacy_spec(provider, options));
  }
  flush_stdout();
  return kExitOk;
}

int run_delete(const Options& options) {
  const Handle provider = open_provider(options.provider);
  // A damaged key opens (for deleting only); a refused one is not ours to delete.
  check_key_file(provider, options, true);
  Handle key = open_key(provider, options.name, options.scope);
  const SECURITY_STATUS status = NCryptDeleteKey(key.get(), 0);
  if (status == ERROR_SUCCESS) {
    key.release();  // NCryptDeleteKey freed the handle
  }
  check(status, "NCryptDeleteKey");
  std::cout << "Deleted key " << escape_field(options.name_utf8) << " ("
            << scope_name(options.scope) << " scope)\n";
  flush_stdout();
  return kExitOk;
}

}  // namespace cngkey
