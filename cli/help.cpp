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
  import         import a PKCS#8 private key or a public key from a file
  cert add|list|remove
                 manage the X.509 certificates of a scope, linked to keys by CKA_ID
  pin set|change|remove|status
                 the optional PIN of a scope (PKCS#11: the token's user PIN)
  status         how the scope's software keys are protected at rest
  rekey          a new master key for the scope, every software key re-encrypted
  help [command] show help for a command (`help cert` for the cert commands)

Common options:
  --scope user|machine          key scope (default user)
  --provider software|platform  key storage provider (default software; platform is
                                MS_PLATFORM_CRYPTO_PROVIDER, which needs a TPM 2.0 on
                                $CNG_PKCS11_TCTI, default device:/dev/tpmrm0)

Exit status:
  0  success
  1  an NCrypt call failed (a status not listed below)
  2  usage error (bad command line)
  3  other failure: I/O (file not readable or writable), public key conversion
  4  not found: no such key (NTE_BAD_KEYSET) or certificate
  5  already exists: a key of that name (NTE_EXISTS); --overwrite replaces it
  6  permission denied on the store (NTE_PERM)
  7  no TPM: the platform provider has no device (NTE_DEVICE_NOT_FOUND)
  8  bad input file: malformed, encrypted PKCS#8, unsupported key type or curve
  9  wrong PIN (SCARD_W_WRONG_CHV) or the PIN is locked (SCARD_W_CHV_BLOCKED)

The TPM libraries' own log is off unless TSS2_LOG is set (e.g. TSS2_LOG=all+debug).
)";
}

std::string_view command_usage(Command command) {
  switch (command) {
    case Command::kList:
      return R"(Usage: cngkey list [--scope user|machine] [--provider software|platform] [--long] [--json]

Prints one line per key, sorted by name, tab-separated:
  name  algorithm  scope  legacy-spec(none|exchange|signature)
--long adds two columns: length in bits and key usage (e.g. sign,decrypt or all).
--json prints a JSON array instead, one object per key with the fields
  name, algorithm, scope, provider, legacy_key_spec
and with --long also length and key_usage (numbers; null when unreadable).
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
  --pin-file FILE, --pin-fd N
                         the scope PIN, when the scope's master key is wrapped
                         under it (see `cngkey help pin`)

Prints the new key's properties (as `show` does).
)";
    case Command::kShow:
      return R"(Usage: cngkey show --name NAME [--scope user|machine] [--provider software|platform]

Prints the key's name, algorithm, group, length, usage, export policy, key type, unique
name, modification time, legacy key spec, the PKCS#11 custom properties "PKCS11 Label"
(UTF-8) and "PKCS11 Id" (hex) when present, and the SHA-1 of the public value (RSA modulus
or EC point 04||X||Y): the CKA_ID that NSS computes for the key.

--json prints one JSON object with the fields name, provider, algorithm, algorithm_group,
length, key_usage, key_usage_names, export_policy, export_policy_names, key_type, scope,
unique_name, modified, legacy_key_spec, pkcs11_label, pkcs11_id, public_key and
public_key_sha1 (null when the key has no such property).
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
    case Command::kImport:
      return R"(Usage: cngkey import --name NAME [--scope user|machine] [--provider software|platform]
                     [--exportable] [--overwrite] FILE

FILE holds one key, DER or PEM:
  an unencrypted PKCS#8 private key ("PRIVATE KEY"), RSA or EC P-256/P-384/P-521
    (EC keys become ECDH_P* keys, which sign and agree, as on Windows), or
  a SubjectPublicKeyInfo public key ("PUBLIC KEY"): a public-only key (PKCS#11 shows
    only its CKO_PUBLIC_KEY object).
Encrypted PKCS#8, traditional RSA/EC PRIVATE KEY files and other curves are refused
(exit 8). The platform provider imports public keys only.

  --exportable   allow export of the private key (Export Policy = ALLOW_EXPORT |
                 ALLOW_PLAINTEXT_EXPORT); default: not exportable
  --overwrite    replace an existing key of the same name (else exit 5)
  --pin-file FILE, --pin-fd N
                 the scope PIN, when the scope's master key is wrapped under it
                 (see `cngkey help pin`)

Prints the new key's properties (as `show` does). In PKCS#11 the key has CKA_LABEL = NAME
and CKA_ID = SHA-1 of its RSA modulus or EC point.
)";
    case Command::kCertAdd:
    case Command::kCertList:
    case Command::kCertRemove:
      return R"(Usage: cngkey cert add [--label LABEL] [--scope S] [--provider P] FILE
       cngkey cert list [--json] [--scope S] [--provider P]
       cngkey cert remove [--scope S] [--provider P] ID

The certificates of a scope's store: the CKO_CERTIFICATE objects of the PKCS#11 slot of the
same provider and scope. Each is linked to its key by CKA_ID, the SHA-1 of the certificate
public key's RSA modulus or EC point (the id of a cngkey key, see `show`).

cert add     stores an X.509 certificate (DER or PEM; the first CERTIFICATE block) with
             CKA_ID as above and CKA_LABEL = LABEL, else the subject's common name. A
             certificate already stored keeps its properties (CKA_ID, label, trust);
             --label replaces its label. Prints its ID, label, key id and linked key.
cert list    one line per certificate, sorted by subject, tab-separated:
               id  key-id(hex)  label  linked-key-name(- when none)  subject(RFC 2253)
             --json: a JSON array of objects with the fields id, key_id, subject, issuer,
             serial (hex), not_before, not_after, label and key (the linked key name or null).
cert remove  deletes the certificate with that ID (or an unambiguous prefix of at least 8
             characters); exit 4 when there is none.
)";
    case Command::kPinSet:
    case Command::kPinChange:
    case Command::kPinRemove:
    case Command::kPinStatus:
      return R"(Usage: cngkey pin set    [--scope S] [--pin-file FILE | --pin-fd N]
       cngkey pin change [--scope S] [--pin-file FILE | --pin-fd N] [--new-pin-file FILE]
       cngkey pin remove [--scope S] [--pin-file FILE | --pin-fd N | --force]
       cngkey pin status [--scope S] [--json]

The optional PIN of a scope (both providers' keys of the scope). Without one, the PKCS#11
tokens need no login; with one, they show CKF_LOGIN_REQUIRED and private keys are hidden
until C_Login. PINs are 4 to 255 bytes of UTF-8. The PIN is never stored: only a scrypt
verifier and the failure counter, in the scope directory's pin-state file.

Where a PIN is read from, first match wins: --pin-file FILE (the first line; "-" is standard
input), --pin-fd N (the first line read from the inherited descriptor N), the CNGKEY_PIN environment variable, a prompt on the terminal (asked twice for a new
PIN), else the first line of standard input. The new PIN of `pin change` likewise from
--new-pin-file, CNGKEY_NEW_PIN, the terminal, or the next line of standard input.

pin set     sets the first PIN (exit 5 when one is set)
pin change  checks the current PIN, then sets the new one
pin remove  checks the PIN, then removes it. --force removes it without the PIN, also a
            locked one: the recovery for a forgotten PIN, which only the account that owns
            the store can run (the keys stay)
pin status  PIN set or not, consecutive wrong PINs, attempts left and whether it is locked
            (--json: an object with pin_set, failures, attempts_left, max_failures, locked)

Every wrong PIN is counted in the file, across processes and restarts; after 10 in a row the
PIN is locked (exit 9) until `pin remove --force`.

With a PIN and no TPM, the scope's master key is wrapped under the PIN: create, import (of a
private key) and rekey then log the scope in first, with the PIN from --pin-file FILE,
--pin-fd N, CNGKEY_PIN or the terminal (never an unasked line of standard input; without a
PIN they fail with exit 2). A PIN given with --pin-file or --pin-fd is checked whenever the
scope has a PIN. A wrong one is counted like any other and ends the command with exit 9 and
the attempts left.
)";
    case Command::kStatus:
    case Command::kRekey:
      return R"(Usage: cngkey status [--scope user|machine]
       cngkey rekey [--scope user|machine] [--pin-file FILE | --pin-fd N]

The software provider's private keys are encrypted at rest (AES-256-GCM) under a master key
of the scope, bound to each key's name. The master key is kept in the scope's keyring,
the directory "<scope directory>.keyring" beside the key directory, protected by the best
protector available: sealed to the TPM, wrapped under the scope's PIN, or else in a 0600
file. The file protector only protects against copies of the key directory alone, not
against a copy of the whole account (key directory and keyring) or anyone running as it.

status  prints the protector (tpm-sealed, pin, file or none), the master key file and id,
        whether this process can use the master key, and how many keys are encrypted and
        how many are still clear (older files, encrypted on the next write to the store).
        Also the scope PIN's state (none, or set / locked with the failures and the attempts
        left; see `cngkey help pin`).
rekey   draws a new master key and re-encrypts every key under it; the old master key is
        deleted only once every key file references the new one, so an interrupted rekey
        leaves every key usable (run it again to finish). With a scope PIN wrapping the
        master key, rekey logs the scope in first (--pin-file FILE, --pin-fd N; see
        `cngkey help pin`).
)";
    case Command::kHelp:
      break;
  }
  return general_usage();
}

}  // namespace cngkey
