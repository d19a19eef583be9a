// cngkey pin set|change|remove|status: the optional PIN of a scope (cng_scope_pin.h).
#include <iostream>

#include "cng_scope_pin.h"
#include "commands.h"
#include "json.h"
#include "pin_input.h"

namespace cngkey {

namespace {

PinSource current_pin(const Options& options, bool is_new) {
  return {options.pin_file, "CNGKEY_PIN", is_new ? "New PIN: " : "PIN: ", is_new,
          options.pin_fd.value_or(-1)};
}

int print_status(const Handle& provider, const Options& options) {
  cng::ScopePinStatus status;
  check(cng::CngGetScopePinStatus(provider.get(), scope_flags(options.scope), &status),
        "CngGetScopePinStatus");
  if (options.json) {
    JsonObject object;
    object.add("scope", json_string(scope_name(options.scope)))
        .add("pin_set", json_bool(status.pin_set))
        .add("failures", json_number(status.failures))
        .add("attempts_left", json_number(status.attempts_left))
        .add("max_failures", json_number(status.max_failures))
        .add("locked", json_bool(status.locked));
    std::cout << object.str() << '\n';
  } else if (!status.pin_set) {
    std::cout << "scope " << scope_name(options.scope) << ": no PIN\n";
  } else {
    std::cout << "scope " << scope_name(options.scope) << ": PIN set\n"
              << "failures: " << status.failures << "\n"
              << "attempts left: " << status.attempts_left << " of " << status.max_failures << "\n"
              << "locked: " << (status.locked ? "yes" : "no") << "\n";
  }
  flush_stdout();
  return kExitOk;
}

}  // namespace

int run_pin(const Options& options) {
  // The scope PIN belongs to the scope, not to a provider: any provider handle names it.
  const Handle provider = open_provider(ProviderKind::kSoftware);
  const DWORD flags = scope_flags(options.scope);
  switch (options.command) {
    case Command::kPinStatus:
      return print_status(provider, options);
    case Command::kPinSet: {
      const SecretText pin = read_pin(current_pin(options, true));
      check(cng::CngSetScopePin(provider.get(), flags, pin.bytes()), "CngSetScopePin");
      std::cout << "PIN set for the " << scope_name(options.scope) << " scope\n";
      break;
    }
    case Command::kPinChange: {
      const SecretText old_pin = read_pin(current_pin(options, false));
      const SecretText new_pin =
          read_pin({options.new_pin_file, "CNGKEY_NEW_PIN", "New PIN: ", true});
      check(cng::CngChangeScopePin(provider.get(), flags, old_pin.bytes(), new_pin.bytes()),
            "CngChangeScopePin");
      std::cout << "PIN changed for the " << scope_name(options.scope) << " scope\n";
      break;
    }
    case Command::kPinRemove:
      if (options.force) {
        check(cng::CngForceRemoveScopePin(provider.get(), flags), "CngForceRemoveScopePin");
      } else {
        const SecretText pin = read_pin(current_pin(options, false));
        check(cng::CngRemoveScopePin(provider.get(), flags, pin.bytes()), "CngRemoveScopePin");
      }
      std::cout << "PIN removed from the " << scope_name(options.scope) << " scope\n";
      break;
    default:
      return kExitOtherFailure;
  }
  flush_stdout();
  return kExitOk;
}

}  // namespace cngkey
