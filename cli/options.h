// cngkey command-line options: what the user asked for, parsed and validated, before any
// NCrypt call is made.
#pragma once

#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ncrypt.h"

namespace cngkey {

// Process exit codes. Scripts rely on them, so they never change meaning (codes 0-3 predate
// the others and kept their meaning when 4-8 were split off from 1):
//
//   code  meaning                                           typical cause
//   0     success
//   1     an NCrypt call failed (any status not below)      NTE_NOT_SUPPORTED, NTE_BAD_DATA
//   2     usage error: bad command line                     unknown option, missing --name
//   3     other failure: I/O, public-key conversion         unreadable FILE, --out not writable
//   4     not found: no such key or certificate             NTE_BAD_KEYSET, unknown cert id
//   5     already exists (create/import, no --overwrite)  NTE_EXISTS
//   6     permission denied on the store                    NTE_PERM, EACCES
//   7     no TPM: the platform provider has no device       NTE_DEVICE_NOT_FOUND
//   8     bad input file: malformed, encrypted PKCS#8,      not DER/PEM, secp256k1, Ed25519
//         unsupported key type or curve
//   9     wrong PIN, or the PIN is locked                   SCARD_W_WRONG_CHV, _CHV_BLOCKED
enum ExitCode : int {
  kExitOk = 0,
  kExitNcryptFailure = 1,
  kExitUsage = 2,
  kExitOtherFailure = 3,
  kExitNotFound = 4,
  kExitExists = 5,
  kExitPermission = 6,
  kExitNoTpm = 7,
  kExitBadInput = 8,
  kExitPin = 9,
};

enum class Command {
  kHelp,
  kList,
  kCreate,
  kShow,
  kDelete,
  kExportPublic,
  kImport,
  kCertAdd,
  kCertList,
  kCertRemove,
  kPinSet,
  kPinChange,
  kPinRemove,
  kPinStatus,
  kStatus,
  kRekey,
};
enum class Scope { kUser, kMachine };
enum class ProviderKind { kSoftware, kPlatform };
enum class ExportFormat { kPem, kDer, kBlob };

struct Options {
  Command command = Command::kHelp;
  std::optional<Command> help_topic;  // `cngkey help create`, `cngkey create --help`
  std::u16string name;                // key name (UTF-16, as NCrypt takes it)
  std::string name_utf8;              // the same name as typed, for messages
  Scope scope = Scope::kUser;
  ProviderKind provider = ProviderKind::kSoftware;
  std::u16string algorithm = BCRYPT_RSA_ALGORITHM;
  std::optional<DWORD> length_bits;  // unset: the provider's default length
  std::optional<DWORD> key_usage;    // unset: the provider's default usage
  DWORD legacy_key_spec = 0;
  bool overwrite = false;
  bool ephemeral = false;
  bool exportable = false;
  bool long_listing = false;
  bool json = false;  // --json: list, show, cert list
  std::string label;  // cert add --label (UTF-8); empty: the subject CN
  bool has_label = false;
  std::string argument;  // the positional FILE (import, cert add) or ID (cert remove)
  ExportFormat format = ExportFormat::kPem;
  std::string out_path;  // empty: standard output
  // pin commands, and the scope login of create/import/rekey (scope_login.h): where the
  // current and the new PIN come from (pin_input.h).
  std::string pin_file;       // --pin-file: the current PIN (pin set: the new one)
  std::optional<int> pin_fd;  // --pin-fd: the same, read from an inherited descriptor
  std::string new_pin_file;   // --new-pin-file: the new PIN of pin change
  bool force = false;         // pin remove --force: without the PIN, also when locked
};

// A command line that cannot be run; main() prints it and exits with kExitUsage.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses argv[1..]. Throws UsageError for anything malformed or not meaningful for the command.
Options parse_arguments(std::span<const std::string> args);

std::string_view command_name(Command command);
std::string_view scope_name(Scope scope);

// "software" or "platform".
std::string_view provider_name(ProviderKind provider);

// Help texts (help.cpp).
std::string_view general_usage();
std::string_view command_usage(Command command);

}  // namespace cngkey
