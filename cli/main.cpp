// cngkey: manage CNG keys through the public NCrypt API, in the spirit of
// `certutil -csp <provider> -key`. Argument parsing and dispatch; every failure ends here as
// one "cngkey: ..." line on stderr and a distinct exit code (the table in options.h).
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "options.h"
#include "public_key_export.h"

namespace {

int dispatch(const cngkey::Options& options) {
  using cngkey::Command;
  switch (options.command) {
    case Command::kList:
      return cngkey::run_list(options);
    case Command::kCreate:
      return cngkey::run_create(options);
    case Command::kShow:
      return cngkey::run_show(options);
    case Command::kDelete:
      return cngkey::run_delete(options);
    case Command::kExportPublic:
      return cngkey::run_export_public(options);
    case Command::kImport:
      return cngkey::run_import(options);
    case Command::kCertAdd:
      return cngkey::run_cert_add(options);
    case Command::kCertList:
      return cngkey::run_cert_list(options);
    case Command::kCertRemove:
      return cngkey::run_cert_remove(options);
    case Command::kPinSet:
    case Command::kPinChange:
    case Command::kPinRemove:
    case Command::kPinStatus:
      return cngkey::run_pin(options);
    case Command::kStatus:
      return cngkey::run_status(options);
    case Command::kRekey:
      return cngkey::run_rekey(options);
    case Command::kHelp:
      std::cout << (options.help_topic ? cngkey::command_usage(*options.help_topic)
                                       : cngkey::general_usage());
      std::cout.flush();
      return std::cout ? cngkey::kExitOk : cngkey::kExitOtherFailure;
  }
  return cngkey::kExitOtherFailure;
}

}  // namespace

int main(int argc, char** argv) {
  // The TPM libraries (tpm2-tss) log to stderr; cngkey reports failures itself, in one line.
  // A TSS2_LOG set by the user is kept (for debugging a TPM connection).
  setenv("TSS2_LOG", "all+none", 0);  // NOLINT(concurrency-mt-unsafe): no threads yet
  try {
    const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    return dispatch(cngkey::parse_arguments(args));
  } catch (const cngkey::UsageError& error) {
    std::cerr << "cngkey: " << error.what() << "\nTry 'cngkey --help'.\n";
    return cngkey::kExitUsage;
  } catch (const cngkey::NcryptError& error) {
    std::cerr << "cngkey: " << error.what() << '\n';
    return cngkey::exit_code_for_status(error.status());
  } catch (const cngkey::CliError& error) {
    std::cerr << "cngkey: " << error.what() << '\n';
    return error.exit_code();
  } catch (const std::exception& error) {  // ConversionError, IoError, bad_alloc
    std::cerr << "cngkey: " << error.what() << '\n';
    return cngkey::kExitOtherFailure;
  } catch (...) {
    std::cerr << "cngkey: unexpected failure\n";
    return cngkey::kExitOtherFailure;
  }
}
