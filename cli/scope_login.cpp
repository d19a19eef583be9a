#include "scope_login.h"

#include <string>

#include "cng_key_protection.h"
#include "cng_scope_pin.h"
#include "commands.h"
#include "pin_input.h"

namespace cngkey {

namespace {

std::string locked_message(const Options& options, const cng::ScopePinStatus& status) {
  return "the " + std::string(scope_name(options.scope)) + " scope's PIN is locked after " +
         std::to_string(status.max_failures) +
         " wrong PINs in a row; the account owning the store can remove it with "
         "'cngkey pin remove --force' (the keys stay)";
}

bool master_key_needs_pin(const Handle& provider, DWORD flags) {
  cng::KeyProtectionStatus protection;
  check(cng::CngGetKeyProtectionStatus(provider.get(), flags, &protection),
        "CngGetKeyProtectionStatus");
  return protection.protector == "pin" && !protection.unlocked;
}

}  // namespace

void log_in_scope_if_needed(const Options& options, bool writes_software_key) {
  // The scope PIN belongs to the scope, not to a provider: the software provider names it.
  const Handle provider = open_provider(ProviderKind::kSoftware);
  const DWORD flags = scope_flags(options.scope);
  cng::ScopePinStatus status;
  check(cng::CngGetScopePinStatus(provider.get(), flags, &status), "CngGetScopePinStatus");
  if (!status.pin_set) {
    return;  // nothing to log in to: a PIN given anyway is not needed (as C_Login then)
  }
  const bool given = !options.pin_file.empty() || options.pin_fd.has_value();
  if (!given && !(writes_software_key && master_key_needs_pin(provider, flags))) {
    return;
  }
  if (status.locked) {
    throw CliError(kExitPin, locked_message(options, status));
  }
  SecretText pin;
  try {
    pin = read_pin(
        {options.pin_file, "CNGKEY_PIN", "PIN: ", false, options.pin_fd.value_or(-1), false});
  } catch (const CliError& error) {
    throw CliError(error.exit_code(), "the " + std::string(scope_name(options.scope)) +
                                          " scope's master key is wrapped under its PIN; " +
                                          error.what());
  }
  const SECURITY_STATUS result = cng::CngLoginScope(provider.get(), flags, pin.bytes());
  if (result == SCARD_W_WRONG_CHV || result == SCARD_W_CHV_BLOCKED) {
    check(cng::CngGetScopePinStatus(provider.get(), flags, &status), "CngGetScopePinStatus");
    if (result == SCARD_W_CHV_BLOCKED) {
      throw CliError(kExitPin, locked_message(options, status));  // locked meanwhile
    }
    if (status.locked) {
      throw CliError(kExitPin, "wrong PIN: " + locked_message(options, status));
    }
    throw CliError(kExitPin, "wrong PIN for the " + std::string(scope_name(options.scope)) +
                                 " scope (" + std::to_string(status.attempts_left) +
                                 " attempt(s) left before it locks)");
  }
  check(result, "CngLoginScope");
}

}  // namespace cngkey
