// The cngkey subcommands. Each returns the process exit code and reports failures by throwing
// UsageError, NcryptError, CliError, ConversionError or IoError (see main.cpp).
#pragma once

#include <array>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
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
int run_import(const Options& options);
int run_cert_add(const Options& options);
int run_cert_list(const Options& options);
int run_cert_remove(const Options& options);
int run_pin(const Options& options);  // pin set|change|remove|status (commands_pin.cpp)
int run_status(const Options& options);
int run_rekey(const Options& options);

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
// The same report as one JSON object (field names documented in `cngkey help show`).
std::string key_report_json(NCRYPT_HANDLE key, std::optional<DWORD> legacy_key_spec,
                            std::string_view provider);

// The module's object-class mark of a public-only key (module/objects/key_objects.h,
// kClassProperty): CKO_PUBLIC_KEY as 8 little-endian bytes. Only public-only keys have it.
inline constexpr char16_t kPkcs11ClassProperty[] = u"PKCS11 Class";
inline constexpr std::array<BYTE, 8> kStoredPublicKeyClass = {2, 0, 0, 0, 0, 0, 0, 0};

// The CKA_ID the PKCS#11 module gives a key's private object: its "PKCS11 Id" custom property
// when set, else the SHA-1 of the public value (NSS convention).
Bytes pkcs11_key_id(NCRYPT_HANDLE key);

// Writes everything buffered on standard output; throws IoError when that fails.
void flush_stdout();

}  // namespace cngkey
