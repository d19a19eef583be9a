// cng_cert_store.h: the per-scope certificate store beside the key store (the Linux analogue of
// the Windows "My" store, CertOpenStore(CERT_SYSTEM_STORE_CURRENT_USER / _LOCAL_MACHINE)).
// Not part of ncrypt.h: on Windows the module uses crypt32 instead. C++ only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cng {

struct StoredCertificate {
  std::string id;                 // stable identifier (file name), assigned by the store
  std::vector<std::uint8_t> der;  // the X.509 certificate, DER
  // Named properties kept with the certificate (e.g. "Label", "KeyId", "Trusted"): raw bytes.
  std::map<std::string, std::vector<std::uint8_t>> properties;
  // Which version of the certificate's file this was read from: another value whenever the
  // file was rewritten (set_properties) since; 0 when not read from the store.
  std::uint64_t version = 0;
};

// What a listing says about a certificate without its DER: its properties and the fields
// clients look certificates up by (PKCS#11 CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER), as
// the certificate encodes them. The listing index keeps only these, so a listing costs neither
// a read nor a parse of each certificate.
struct CertificateSummary {
  std::string id;
  std::map<std::string, std::vector<std::uint8_t>> properties;
  std::vector<std::uint8_t> subject;        // DER Name
  std::vector<std::uint8_t> issuer;         // DER Name
  std::vector<std::uint8_t> serial_number;  // DER INTEGER
  std::uint64_t version = 0;                // as StoredCertificate::version
};

// Same directory rules, permissions and atomic, durable writes as the key store. The store lives
// in the "certs" subdirectory of the scope's key store directory. Thread- and process-safe.
class CertStore {
 public:
  // machine=false: $CNG_PKCS11_USER_DIR/…; machine=true: $CNG_PKCS11_MACHINE_DIR/…
  explicit CertStore(bool machine);
  // One provider's certificates, kept beside its keys in its key store subdirectory of the
  // scope directory ("platform" for the platform (TPM) provider; empty: the scope directory
  // itself), so each slot shows only its own certificates.
  CertStore(bool machine, std::string_view provider_subdirectory);
  // Every readable, well-formed certificate (corrupt files skipped).
  // Reads every file: a caller that keeps its own view uses summaries() and read().
  [[nodiscard]] std::vector<StoredCertificate> list() const;
  // Every readable, well-formed certificate's summary, sorted by id, from the listing index
  // (no certificate file read when the store did not change).
  [[nodiscard]] std::vector<CertificateSummary> summaries() const;
  // One certificate, read and verified now; nullopt when absent or damaged. NTE_PERM when its
  // file is refused (owner, mode) or unreadable.
  [[nodiscard]] std::optional<StoredCertificate> read(const std::string& id) const;
  // Stores a new certificate; returns its id. Throws std::runtime_error-derived cng errors
  // (CngError from cng_model, carrying NTE_PERM when the store may not be written).
  // The id is the lowercase hex SHA-256 of the DER: adding a certificate that is already stored
  // returns the existing id and replaces its properties with the given ones. NTE_BAD_DATA when
  // der is not exactly one DER X.509 certificate, NTE_INVALID_PARAMETER when empty or > 1 MiB.
  std::string add(const std::vector<std::uint8_t>& der,
                  const std::map<std::string, std::vector<std::uint8_t>>& properties);
  // Replaces the properties of a stored certificate (NTE_NOT_FOUND when absent).
  void set_properties(const std::string& id,
                      const std::map<std::string, std::vector<std::uint8_t>>& properties);
  // Deletes a certificate (NTE_NOT_FOUND when absent).
  void remove(const std::string& id);
  // True when this process may write the store.
  [[nodiscard]] bool writable() const;

 private:
  bool machine_;
  std::string provider_subdirectory_;
};

// The SECURITY_STATUS carried by an exception thrown by this API (NTE_FAIL when not a CngError).
long cert_store_error_status(const std::exception& e) noexcept;

}  // namespace cng
