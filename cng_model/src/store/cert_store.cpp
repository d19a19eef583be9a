#include <openssl/x509.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "cng_cert_store.h"
#include "core/cng_error.h"
#include "store/byte_codec.h"
#include "store/cert_file.h"
#include "store/key_store.h"
#include "store/listing_cache.h"
#include "store/object_version.h"
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
  store_io::FileIdentity identity;
  if (!dir.read(id, cert_file::kMaxFileBytes, buffer, false, &identity)) {
    return std::nullopt;
  }
  StoredCertificate cert = cert_file::decode(buffer);
  require(cert.id == id, NTE_BAD_DATA, "certificate file content does not match its name");
  cert.version = store_io::object_version(identity);
  return cert;
}

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

X509Ptr parse_x509(std::span<const std::uint8_t> der) {
  const unsigned char* p = der.data();
  X509Ptr x509(d2i_X509(nullptr, &p, static_cast<long>(der.size())), &X509_free);
  if (x509 != nullptr && p != der.data() + der.size()) {
    x509.reset();
  }
  return x509;
}

template <class T, class F>
void append_der(store_codec::LeWriter<SecureBytes>& w, const T* value, F i2d) {
  unsigned char* der = nullptr;
  const int len = i2d(value, &der);
  require(len > 0, NTE_BAD_DATA, "certificate field does not encode");
  w.bytes(std::span<const std::uint8_t>(der, static_cast<std::size_t>(len)));
  OPENSSL_free(der);
}

constexpr store_codec::PropertyLimits kPropertyLimits = {
    cert_file::kMaxProperties, cert_file::kMaxPropertyNameBytes, NCRYPT_MAX_PROPERTY_DATA};

// The listing index keeps a summary of each verified file (CertificateSummary without id and
// version): bytes subject | bytes issuer | bytes serial number | properties (cert_file's
// encoding). The DER itself stays in the file.
SecureBytes summarize_file(const std::string& file, std::span<const std::uint8_t> bytes) {
  const StoredCertificate cert = cert_file::decode(bytes);
  require(cert.id == file, NTE_BAD_DATA, "file content does not match its name");
  const X509Ptr x509 = parse_x509(cert.der);
  require(x509 != nullptr, NTE_BAD_DATA, "not a DER-encoded X.509 certificate");
  SecureBytes out;
  store_codec::LeWriter<SecureBytes> w(out);
  append_der(w, X509_get_subject_name(x509.get()), i2d_X509_NAME);
  append_der(w, X509_get_issuer_name(x509.get()), i2d_X509_NAME);
  append_der(w, X509_get0_serialNumber(x509.get()), i2d_ASN1_INTEGER);
  store_codec::write_properties(w, cert.properties, kPropertyLimits);
  return out;
}

CertificateSummary decode_summary(std::span<const std::uint8_t> payload) {
  store_codec::LeReader r(payload);
  CertificateSummary out;
  for (auto* field : {&out.subject, &out.issuer, &out.serial_number}) {
    const auto bytes = r.bytes(cert_file::kMaxDerBytes);
    field->assign(bytes.begin(), bytes.end());
  }
  out.properties = store_codec::read_properties(r, kPropertyLimits);
  require(r.remaining() == 0, NTE_BAD_DATA, "certificate summary: trailing bytes");
  return out;
}

// kEveryFile: each file's identity (and so its owner and mode) is checked at every listing.
// Kind 4: the summaries above (kind 2 indexes, which held whole files, are ignored).
constexpr store_index::IndexSpec kIndex = {4, &is_cert_file_name, cert_file::kMaxFileBytes,
                                           &summarize_file};

void require_x509(const std::vector<std::uint8_t>& der) {
  require(!der.empty() && der.size() <= cert_file::kMaxDerBytes, NTE_INVALID_PARAMETER,
          "certificate empty or too large");
  require(parse_x509(der) != nullptr, NTE_BAD_DATA, "not a DER-encoded X.509 certificate");
}

}  // namespace

CertStore::CertStore(bool machine) : machine_(machine) {}
CertStore::CertStore(bool machine, std::string_view provider_subdirectory)
    : machine_(machine), provider_subdirectory_(provider_subdirectory) {}

std::vector<CertificateSummary> CertStore::summaries() const {
  std::vector<CertificateSummary> out;
  const auto dir = StoreDirectory::open(cert_dir(machine_, provider_subdirectory_), false,
                                        scope_root_dir(machine_));
  if (!dir.is_open()) {
    return out;
  }
  const auto index = store_index::current_listing(dir, kIndex, store_index::Freshness::kEveryFile,
                                                  store_index::Retention::kDontKeep);
  out.reserve(index->entries.size());
  for (const auto& entry : index->entries) {
    if (entry.state != index_file::EntryState::kListed) {
      continue;  // corrupt, refused or unreadable files are skipped: the others stay visible
    }
    try {
      CertificateSummary summary = decode_summary(index->payload(entry));
      summary.id = entry.file;
      summary.version = store_io::object_version(entry.identity);
      out.push_back(std::move(summary));
    } catch (const CngError&) {
      // A summary this version cannot read (the index is only a cache): skipped.
    }
  }
  return out;  // entries are ascending by file name, which is the id
}

std::optional<StoredCertificate> CertStore::read(const std::string& id) const {
  if (!cert_file::is_certificate_id(id)) {
    return std::nullopt;
  }
  const auto dir = StoreDirectory::open(cert_dir(machine_, provider_subdirectory_), false,
                                        scope_root_dir(machine_));
  if (!dir.is_open()) {
    return std::nullopt;
  }
  SecureBytes buffer;
  try {
    return read_cert(dir, id, buffer);
  } catch (const CngError& e) {
    if (e.status() == NTE_BAD_DATA) {
      return std::nullopt;  // damaged: as a listing, which skips it
    }
    throw;
  }
}

std::vector<StoredCertificate> CertStore::list() const {
  std::vector<StoredCertificate> out;
  for (const CertificateSummary& summary : summaries()) {
    try {
      if (auto cert = read(summary.id)) {
        out.push_back(std::move(*cert));
      }
    } catch (const CngError&) {
      // Refused or unreadable since it was listed: skipped, as by the listing.
    }
  }
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
