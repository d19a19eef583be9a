// The scope login of the commands that write private key material (create, import, rekey):
// when the scope has a PIN (cng_scope_pin.h) and its master key is wrapped under it (no TPM
// seals it), the software keys of the scope can be written only by a process that gave the
// PIN. Such a command reads the PIN (--pin-file, --pin-fd, CNGKEY_PIN or the terminal; never
// an implicit line of standard input) and logs the scope in first. A PIN given explicitly
// (--pin-file / --pin-fd) is checked whenever the scope has one.
//
// A wrong PIN is counted (as every check of the scope PIN, across processes) and ends the
// command with kExitPin and the attempts left; a locked PIN likewise, naming the recovery.
#pragma once

#include "options.h"

namespace cngkey {

// writes_software_key: the command writes a private key of the software provider (or
// re-encrypts them, rekey), so it needs the scope's master key.
void log_in_scope_if_needed(const Options& options, bool writes_software_key);

}  // namespace cngkey
