#include <openssl/x509.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "cng_cert_store.h"
#include "core/cng_error.h"
#include "store/cert_file.h"
#include "store/key_store.h"
#include "store/store_dir.h"

namespace cng {

namespace {

using store_io::StoreDirectory;
using store_io::WriteMode;
using store_io::WriteResult;

std::filesystem::path cert_dir(bool machine, std::string_view provider_subdirectory) {
  return object_store_dir(machine, provider_subdirectory, "certs");
}

bool is_cert_file_name(std::string_view name) { return cert_file::is_certificate_id(name); }

// Reads and verifies one certificate file; nullopt when absent. NTE_BAD_DATA when corrupt or
// when its content does not hash to its name.
std::optional<StoredCertificate> read_cert(const StoreDirectory& dir, const std::string& id,
                                           SecureBytes& buffer, bool known_regular = false) {
  if (!dir.read(id, cert_file::kMaxFileBytes, buffer, known_regular)) {
    return std::nullopt;
  }
  StoredCertificate cert = cert_file::decode(buffer);
  require(cert.id == id, NTE_BAD_DATA, "certificate file content does not match its name");
  return cert;
}

void require_x509(const std::vector<std::uint8_t>& der) {
  require(!der.empty() && der.size() <= cert_file::kMaxDerBytes, NTE_INVALID_PARAMETER,
          "certificate empty or too large");
  const unsigned char* p = der.data();
  const std::unique_ptr<X509, decltype(&X509_free)> x509(
      d2i_X509(nullptr, &p, static_cast<long>(der.size())), &X509_free);
  require(x509 != nullptr && p == der.data() + der.size(), NTE_BAD_DATA,
          "not a DER-encoded X.509 certificate");
}

}  // namespace

CertStore::CertStore(bool machine) : machine_(machine) {}
CertStore::CertStore(bool machine, std::string_view provider_subdirectory)
    : machine_(machine), provider_subdirectory_(provider_subdirectory) {}

std::vector<StoredCertificate> CertStore::list() const {
  std::vector<StoredCertificate> out;
  const auto dir = StoreDirectory::open(cert_dir(machine_, provider_subdirectory_), false,
                                        scope_root_dir(machine_));
  if (!dir.is_open()) {
    return out;
  }
  SecureBytes buffer;
  for (const auto& entry : dir.names(&is_cert_file_name)) {
    try {
      if (auto cert = read_cert(dir, entry.name, buffer, entry.known_regular)) {
        out.push_back(std::move(*cert));
      }
    } catch (const CngError&) {
      // Corrupt or unreadable: skipped, the others stay visible.
    }
  }
  std::sort(out.begin(), out.end(),
            [](const StoredCertificate& a, const StoredCertificate& b) { return a.id < b.id; });
  return out;
}

// Adding a certificate that is already stored returns its id and replaces its properties with
// the given ones (one file per certificate: the id is the SHA-256 of the DER).
std::string CertStore::add(const std::vector<std::uint8_t>& der,
                           const std::map<std::string, std::vector<std::uint8_t>>& properties) {
  require_x509(der);
  StoredCertificate cert{cert_file::certificate_id(der), der, properties};
  const auto bytes = cert_file::encode(cert);
  auto dir = StoreDirectory::open(cert_dir(machine_, provider_subdirectory_), true,
                                  scope_root_dir(machine_));
  dir.write(cert.id, bytes, WriteMode::kReplace);
  return cert.id;
}

void CertStore::set_properties(const std::string& id,
                               const std::map<std::string, std::vector<std::uint8_t>>& properties) {
  require(cert_file::is_certificate_id(id), NTE_NOT_FOUND, "certificate not found");
  auto dir = StoreDirectory::open(cert_dir(machine_, provider_subdirectory_), false,
                                  scope_root_dir(machine_));
  require(dir.is_open(), NTE_NOT_FOUND, "certificate not found");
  SecureBytes buffer;
  auto cert = read_cert(dir, id, buffer);
  require(cert.has_value(), NTE_NOT_FOUND, "certificate not found");
  cert->properties = properties;
  const auto bytes = cert_file::encode(*cert);
  // Replace only if still present: a concurrent remove() is not undone.
  require(dir.write(id, bytes, WriteMode::kReplaceExisting) == WriteResult::kWritten, NTE_NOT_FOUND,
          "certificate not found");
}

void CertStore::remove(const std::string& id) {
  require(cert_file::is_certificate_id(id), NTE_NOT_FOUND, "certificate not found");
  auto dir = StoreDirectory::open(cert_dir(machine_, provider_subdirectory_), false,
                                  scope_root_dir(machine_));
  require(dir.is_open() && dir.remove(id), NTE_NOT_FOUND, "certificate not found");
}

bool CertStore::writable() const {
  try {
    return StoreDirectory::open(cert_dir(machine_, provider_subdirectory_), true,
                                scope_root_dir(machine_))
        .probe_writable();
  } catch (const CngError&) {
    return false;
  }
}

long cert_store_error_status(const std::exception& e) noexcept {
  if (const auto* cng = dynamic_cast<const CngError*>(&e)) {
    return cng->status();
  }
  if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr) {
    return NTE_NO_MEMORY;
  }
  return NTE_FAIL;
}

}  // namespace cng
