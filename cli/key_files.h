// Input files of `import` and `cert add`: PKCS#8 private keys, SubjectPublicKeyInfo public
// keys and X.509 certificates, DER or PEM, read and classified with OpenSSL before anything
// reaches NCrypt, so that a bad file is reported as such (kExitBadInput) with its reason.
#pragma once

#include <openssl/x509.h>

#include <memory>
#include <string>

#include "ncrypt_support.h"
#include "public_key_export.h"

namespace cngkey {

// Bytes wiped (OPENSSL_cleanse) when freed: private key material read from a file.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(Bytes bytes) : bytes_(std::move(bytes)) {}
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {}
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes();
  [[nodiscard]] const Bytes& get() const noexcept { return bytes_; }

 private:
  Bytes bytes_;
};

struct KeyFile {
  bool is_private = false;
  SecretBytes pkcs8_der;  // private: the unencrypted PKCS#8 PrivateKeyInfo, as in the file
  Bytes public_blob;      // BCRYPT_RSAPUBLIC_BLOB or BCRYPT_ECCPUBLIC_BLOB (ECDSA magic)
  const char16_t* public_blob_type = nullptr;
  std::string description;  // "RSA 2048 bits", "EC P-256"
};

// Reads and checks an import FILE. Throws IoError when it cannot be read and
// CliError(kExitBadInput) when it is not an unencrypted PKCS#8 private key or a
// SubjectPublicKeyInfo of an RSA or P-256/P-384/P-521 EC key.
KeyFile read_key_file(const std::string& path);

using cng::ossl::X509Ptr;

struct CertificateFile {
  X509Ptr cert;
  Bytes der;
};

// Reads one X.509 certificate, DER or PEM (the first CERTIFICATE block). Throws IoError or
// CliError(kExitBadInput).
CertificateFile read_certificate_file(const std::string& path);
// Parses DER that must be exactly one certificate; nullptr otherwise.
X509Ptr parse_certificate(const Bytes& der);

// The module's CKA_ID of a certificate: SHA-1 of its key's RSA modulus or EC point (as
// OpenSSL encodes the point); empty for other key types.
Bytes certificate_key_id(X509* cert);
// RFC 2253 subject (UTF-8 kept) and the subject's first commonName (empty when none).
std::string subject_text(X509* cert);
std::string name_text(const X509_NAME* name);
std::string subject_common_name(X509* cert);

}  // namespace cngkey
