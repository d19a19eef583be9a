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

// Process exit codes. Scripts rely on them, so they never change meaning.
enum ExitCode : int {
  kExitOk = 0,
  kExitNcryptFailure = 1,  // an NCrypt function returned an error status
  kExitUsage = 2,          // bad command line
  kExitOtherFailure = 3,   // I/O or public-key conversion failure
};

enum class Command { kHelp, kList, kCreate, kShow, kDelete, kExportPublic };
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
  ExportFormat format = ExportFormat::kPem;
  std::string out_path;  // empty: standard output
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

// Help texts (help.cpp).
std::string_view general_usage();
std::string_view command_usage(Command command);

}  // namespace cngkey
