// The cngkey subcommands. Each returns the process exit code and reports failures by throwing
// UsageError, NcryptError, ConversionError or IoError (see main.cpp).
#pragma once

#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "ncrypt_support.h"
#include "options.h"

namespace cngkey {

// Writing output failed; main() exits with kExitOtherFailure.
class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

int run_list(const Options& options);
int run_create(const Options& options);
int run_show(const Options& options);
int run_delete(const Options& options);
int run_export_public(const Options& options);

// One NCryptEnumKeys result.
struct KeyEntry {
  std::u16string name;
  std::u16string algorithm;
  DWORD legacy_key_spec = 0;
};
std::vector<KeyEntry> enumerate_keys(const Handle& provider, Scope scope);

// "none", "exchange", "signature", or the number for anything else.
std::string legacy_spec_word(DWORD legacy_key_spec);
// "all", "none" or a comma-separated list such as "sign,decrypt".
std::string usage_words(DWORD key_usage);

// The `show` report for an open key (persisted or ephemeral). legacy_key_spec is printed when
// known (NCrypt returns it only through enumeration).
void print_key_report(std::ostream& out, NCRYPT_HANDLE key, std::optional<DWORD> legacy_key_spec);

}  // namespace cngkey
