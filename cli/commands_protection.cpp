// `cngkey status` and `cngkey rekey`: the at-rest protection of the software provider's keys.
#include <iostream>

#include "cng_key_protection.h"
#include "cng_scope_pin.h"
#include "commands.h"
#include "scope_login.h"

namespace cngkey {

namespace {

constexpr const char* kFileWarning =
    "the master key is a 0600 file outside the key directory: this protects the keys against a "
    "copy of the key directory alone, not against a copy of the whole account (key directory "
    "and keyring) or anyone who can run as this user";

}  // namespace

int run_status(const Options& options) {
  const Handle provider = open_provider(ProviderKind::kSoftware);
  cng::KeyProtectionStatus status;
  check(cng::CngGetKeyProtectionStatus(provider.get(), scope_flags(options.scope), &status),
        "CngGetKeyProtectionStatus");
  std::cout << "scope:            " << scope_name(options.scope) << '\n'
            << "protector:        " << status.protector << '\n'
            << "keyring:          " << status.keyring_dir << '\n';
  if (!status.master_key_id.empty()) {
    std::cout << "master key id:    " << status.master_key_id << '\n'
              << "master key file:  " << status.master_key_file << '\n'
              << "available:        " << (status.unlocked ? "yes" : "no") << '\n';
  }
  std::cout << "encrypted keys:   " << status.encrypted_keys << '\n'
            << "clear keys:       " << status.clear_keys << '\n';
  cng::ScopePinStatus pin;
  check(cng::CngGetScopePinStatus(provider.get(), scope_flags(options.scope), &pin),
        "CngGetScopePinStatus");
  std::cout << "PIN:              ";
  if (!pin.pin_set) {
    std::cout << "none\n";
  } else {
    std::cout << (pin.locked ? "set, locked" : "set") << " (" << pin.failures
              << " wrong since the last right one, " << pin.attempts_left << " attempt(s) left)\n";
  }
  if (status.protector == "file") {
    std::cout << "note: " << kFileWarning << ".\n";
  } else if (status.protector == "none") {
    std::cout << "note: no master key yet; the first write to the store creates one and "
                 "encrypts every key.\n";
  }
  flush_stdout();
  return kExitOk;
}

int run_rekey(const Options& options) {
  log_in_scope_if_needed(options, true);
  const Handle provider = open_provider(ProviderKind::kSoftware);
  check(cng::CngRekeyScope(provider.get(), scope_flags(options.scope)), "CngRekeyScope");
  cng::KeyProtectionStatus status;
  check(cng::CngGetKeyProtectionStatus(provider.get(), scope_flags(options.scope), &status),
        "CngGetKeyProtectionStatus");
  std::cout << "new master key " << status.master_key_id << " (" << status.protector << "), "
            << status.encrypted_keys << " key(s) re-encrypted\n";
  flush_stdout();
  return kExitOk;
}

}  // namespace cngkey
