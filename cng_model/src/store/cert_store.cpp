#include <openssl/x509.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "cng_cert_store.h"
#include "core/cng_error.h"
#include "store/cert_file.h"
#include "store/key_store.h"
#include "store/listing_cache.h"
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
                                           SecureBytes& buffer) {
  if (!dir.read(id, cert_file::kMaxFileBytes, buffer)) {
    return std::nullopt;
  }
  StoredCertificate cert = cert_file::decode(buffer);
  require(cert.id == id, NTE_BAD_DATA, "certificate file content does not match its name");
  return cert;
}

// The listing index keeps the whole verified file: a listing serves whole objects.
SecureBytes summarize_file(const std::string& file, std::span<const std::uint8_t> bytes) {
  const StoredCertificate cert = cert_file::decode(bytes);
  require(cert.id == file, NTE_BAD_DATA, "file content does not match its name");
  return SecureBytes(bytes.begin(), bytes.end());
}

// kEveryFile: each file's identity (and so its owner and mode) is checked at every listing.
constexpr store_index::IndexSpec kIndex = {2, &is_cert_file_name, cert_file::kMaxFileBytes,
                                           &summarize_file};

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
  const auto index = store_index::current_listing(dir, kIndex, store_index::Freshness::kEveryFile);
  out.reserve(index->entries.size());
  for (const auto& entry : index->entries) {
    if (entry.state == index_file::EntryState::kListed) {
      // Corrupt, refused or unreadable files are skipped: the others stay visible.
      out.push_back(cert_file::decode(index->payload(entry)));
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
