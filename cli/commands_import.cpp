// `cngkey import`: a PKCS#8 private key or a SubjectPublicKeyInfo public key from a file into a
// named, persisted key, with the call sequence the PKCS#11 module uses for C_CreateObject:
// NCryptImportKey(NCRYPTBUFFER_PKCS_KEY_NAME, NCRYPT_DO_NOT_FINALIZE_FLAG), the creation-time
// properties, NCryptFinalizeKey. The key then shows in PKCS#11 with CKA_LABEL = its name and
// CKA_ID = SHA-1 of its public value, as any key cngkey creates.
#include <array>
#include <iostream>

#include "commands.h"
#include "key_files.h"
#include "scope_login.h"
#include "status_names.h"
#include "text.h"

namespace cngkey {
namespace {

[[noreturn]] void fail_exists(const Options& options, const char* function,
                              SECURITY_STATUS status) {
  throw CliError(kExitExists, "a key named '" + escape_field(options.name_utf8) +
                                  "' already exists in the " +
                                  std::string(scope_name(options.scope)) + " scope of the " +
                                  std::string(provider_name(options.provider)) +
                                  " provider (--overwrite replaces it); " + function +
                                  " failed: " + describe_status(status));
}

}  // namespace

int run_import(const Options& options) {
  const KeyFile file = read_key_file(options.argument);
  if (!file.is_private && options.exportable) {
    throw UsageError("--exportable applies to private keys, and " + options.argument +
                     " holds a public key");
  }
  log_in_scope_if_needed(options, file.is_private && options.provider == ProviderKind::kSoftware);
  const Handle provider = open_provider(options.provider);

  std::u16string name = options.name;
  NCryptBuffer name_buffer{static_cast<ULONG>((name.size() + 1) * sizeof(char16_t)),
                           NCRYPTBUFFER_PKCS_KEY_NAME, name.data()};
  NCryptBufferDesc parameters{NCRYPTBUFFER_VERSION, 1, &name_buffer};
  const DWORD flags = NCRYPT_DO_NOT_FINALIZE_FLAG | scope_flags(options.scope) |
                      (options.overwrite ? NCRYPT_OVERWRITE_KEY_FLAG : 0);
  const Bytes& data = file.is_private ? file.pkcs8_der.get() : file.public_blob;
  const char16_t* blob_type =
      file.is_private ? NCRYPT_PKCS8_PRIVATE_KEY_BLOB : file.public_blob_type;

  NCRYPT_KEY_HANDLE raw = 0;
  const SECURITY_STATUS status =
      NCryptImportKey(provider.get(), 0, blob_type, &parameters, &raw,
                      const_cast<PBYTE>(data.data()), static_cast<DWORD>(data.size()), flags);
  if (status == NTE_EXISTS) {
    fail_exists(options, "NCryptImportKey", status);
  }
  if (status == NTE_NOT_SUPPORTED && file.is_private &&
      options.provider == ProviderKind::kPlatform) {
    throw CliError(kExitNcryptFailure,
                   "the platform provider keeps only keys made inside the TPM and cannot import "
                   "a private key (create one with `cngkey create --provider platform`); "
                   "NCryptImportKey failed: " +
                       describe_status(status));
  }
  check(status, "NCryptImportKey");
  const Handle key(raw);

  if (file.is_private) {
    set_dword_property(
        key.get(), NCRYPT_EXPORT_POLICY_PROPERTY,
        options.exportable ? NCRYPT_ALLOW_EXPORT_FLAG | NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG : 0);
  } else {
    // The public-only mark: without it the module would show a private key object over a key
    // that has no private half.
    std::array<BYTE, 8> mark = kStoredPublicKeyClass;
    check(NCryptSetProperty(key.get(), kPkcs11ClassProperty, mark.data(),
                            static_cast<DWORD>(mark.size()), NCRYPT_PERSIST_FLAG),
          "NCryptSetProperty");
  }
  const SECURITY_STATUS finalized = NCryptFinalizeKey(key.get(), 0);
  if (finalized == NTE_EXISTS) {
    fail_exists(options, "NCryptFinalizeKey", finalized);
  }
  check(finalized, "NCryptFinalizeKey");

  print_key_report(std::cout, key.get(), 0);
  flush_stdout();
  return kExitOk;
}

}  // namespace cngkey
