// Help texts for `cngkey --help` and `cngkey help <command>`.
#include "options.h"

namespace cngkey {

std::string_view general_usage() {
  return R"(Usage: cngkey <command> [options]

Manage CNG (NCrypt) keys of the cng-pkcs11 key storage providers.

Commands:
  list           list the keys of a scope
  create         create a persisted (or ephemeral) key pair
  show           show a key's properties and public key id
  delete         delete a key
  export-public  write a key's public key (PEM, DER or CNG blob)
  help [command] show help for a command

Common options:
  --scope user|machine          key scope (default user)
  --provider software|platform  key storage provider (default software; platform is the TPM)

Exit status: 0 success, 1 an NCrypt call failed, 2 usage error, 3 other failure
(I/O or public key conversion).
)";
}

std::string_view command_usage(Command command) {
  switch (command) {
    case Command::kList:
      return R"(Usage: cngkey list [--scope user|machine] [--provider software|platform] [--long]

Prints one line per key, sorted by name, tab-separated:
  name  algorithm  scope  legacy-spec(none|exchange|signature)
--long adds two columns: length in bits and key usage (e.g. sign,decrypt or all).
)";
    case Command::kCreate:
      return R"(Usage: cngkey create --name NAME [options]
       cngkey create --ephemeral [options]

  --algorithm ALG        RSA (default), ECDSA_P256, ECDSA_P384, ECDSA_P521,
                         ECDH_P256, ECDH_P384, ECDH_P521
  --length BITS          key length (default: the provider's default)
  --usage LIST           comma-separated: sign, decrypt, agree, all
                         (default: the provider's default)
  --exportable           allow plaintext export of the private key
                         (Export Policy = ALLOW_EXPORT | ALLOW_PLAINTEXT_EXPORT)
  --legacy-spec SPEC     none (default), exchange (AT_KEYEXCHANGE), signature (AT_SIGNATURE)
  --overwrite            replace an existing key of the same name
  --ephemeral            create an unnamed key, print its public key and free it
                         (nothing is stored)
  --scope, --provider    as for every command

Prints the new key's properties (as `show` does).
)";
    case Command::kShow:
      return R"(Usage: cngkey show --name NAME [--scope user|machine] [--provider software|platform]

Prints the key's name, algorithm, group, length, usage, export policy, key type, unique
name, modification time, legacy key spec, the PKCS#11 custom properties "PKCS11 Label"
(UTF-8) and "PKCS11 Id" (hex) when present, and the SHA-1 of the public value (RSA modulus
or EC point 04||X||Y): the CKA_ID that NSS computes for the key.
)";
    case Command::kDelete:
      return R"(Usage: cngkey delete --name NAME [--scope user|machine] [--provider software|platform]

Deletes the key from its store.
)";
    case Command::kExportPublic:
      return R"(Usage: cngkey export-public --name NAME [--format pem|der|blob] [--out FILE]
                            [--scope user|machine] [--provider software|platform]

  --format pem    SubjectPublicKeyInfo, PEM (default)
  --format der    SubjectPublicKeyInfo, DER
  --format blob   the raw BCRYPT_RSAPUBLIC_BLOB / BCRYPT_ECCPUBLIC_BLOB
  --out FILE      write to FILE instead of standard output
)";
    case Command::kHelp:
      break;
  }
  return general_usage();
}

}  // namespace cngkey
