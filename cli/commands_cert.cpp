// `cngkey cert add|list|remove`: X.509 certificates in the scope's certificate store (the one
// the PKCS#11 module shows as CKO_CERTIFICATE objects), linked to keys by CKA_ID exactly as the
// module links them: the store property "KeyId" holds the CKA_ID (the NSS id, SHA-1 of the
// certificate key's RSA modulus or EC point) and "Label" the CKA_LABEL (UTF-8), the names and
// encodings of module/bridge/attribute_map.cpp.
#include <openssl/asn1.h>
#include <openssl/bn.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <optional>
#include <tuple>

#include "cng_cert_store.h"
#include "cng_common/ossl_ptr.h"
#include "commands.h"
#include "json.h"
#include "key_files.h"
#include "text.h"

namespace cngkey {
namespace {

constexpr char kLabelProperty[] = "Label";
constexpr char kKeyIdProperty[] = "KeyId";

using Properties = std::map<std::string, std::vector<std::uint8_t>>;

// Runs a certificate store call; its failures become NcryptError with the store's status.
template <class F>
auto store_call(const char* what, F call) -> decltype(call()) {
  try {
    return call();
  } catch (const std::exception& error) {
    throw NcryptError(what, static_cast<SECURITY_STATUS>(cng::cert_store_error_status(error)),
                      error.what());
  }
}

// The platform provider is opened (and a missing TPM reported) before its store is touched:
// without a TPM there is no platform slot whose certificates the store would hold.
struct CertScope {
  Handle provider;
  cng::CertStore store;
  explicit CertScope(const Options& options)
      : provider(open_provider(options.provider)), store(store_call("certificate store", [&] {
          return cng::CertStore(options.scope == Scope::kMachine,
                                store_subdirectory(options.provider));
        })) {}
};

void line(std::ostream& out, std::string_view label, std::string_view value) {
  constexpr std::size_t kLabelWidth = 18;
  out << label << ':' << std::string(kLabelWidth - std::min(kLabelWidth, label.size() + 1), ' ')
      << value << '\n';
}

std::string label_text(const Properties& properties) {
  const auto it = properties.find(kLabelProperty);
  if (it == properties.end()) {
    return {};
  }
  const std::string_view text(reinterpret_cast<const char*>(it->second.data()), it->second.size());
  return utf8_to_utf16(text) ? std::string(text) : "hex:" + to_hex(it->second);
}

// CKA_ID (hex) -> key name, over the keys of the scope; keys that cannot be read are skipped.
// When several keys share an id, a key with a private half wins over a public-only one (the
// module's public-only mark), then the first name in sort order.
std::map<std::string, std::string> keys_by_id(const Handle& provider, Scope scope) {
  std::vector<KeyEntry> entries = enumerate_keys(provider, scope);
  std::sort(entries.begin(), entries.end(),
            [](const KeyEntry& a, const KeyEntry& b) { return a.name < b.name; });
  std::map<std::string, std::pair<bool, std::string>> best;  // id -> (public-only, name)
  for (const KeyEntry& entry : entries) {
    try {
      const Handle key = open_key(provider, entry.name, scope);
      const auto mark = find_property(key.get(), kPkcs11ClassProperty);
      const bool public_only =
          mark && std::equal(mark->begin(), mark->end(), kStoredPublicKeyClass.begin(),
                             kStoredPublicKeyClass.end());
      const auto [it, inserted] =
          best.try_emplace(to_hex(pkcs11_key_id(key.get())), public_only, display_utf8(entry.name));
      if (!inserted && it->second.first && !public_only) {
        it->second = {public_only, display_utf8(entry.name)};
      }
    } catch (const std::exception& error) {
      std::cerr << "cngkey: warning: " << escape_field(display_utf8(entry.name)) << ": "
                << error.what() << '\n';
    }
  }
  std::map<std::string, std::string> names;
  for (auto& [id, choice] : best) {
    names.emplace(id, std::move(choice.second));
  }
  return names;
}

std::string time_text(const ASN1_TIME* time) {
  std::tm tm{};
  std::array<char, 32> buf{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1 ||
      std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    return {};
  }
  return buf.data();
}

std::string serial_hex(X509* cert) {
  const cng::ossl::BnPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!serial) {
    return {};
  }
  Bytes bytes(static_cast<std::size_t>(BN_num_bytes(serial.get())));
  BN_bn2bin(serial.get(), bytes.data());
  return bytes.empty() ? "00" : to_hex(bytes);
}

struct CertRow {
  std::string id;
  std::string key_id;
  std::string subject;
  std::string label;
  std::optional<std::string> key_name;
  X509Ptr cert;
};

}  // namespace

int run_cert_add(const Options& options) {
  const CertificateFile file = read_certificate_file(options.argument);
  CertScope scope(options);
  // A certificate already stored keeps what it has (CKA_ID, CKA_TRUSTED, ... as the module or
  // an earlier add wrote them); --label replaces its label.
  Properties properties;
  const auto stored = store_call("certificate store list", [&] { return scope.store.list(); });
  const auto existing =
      std::find_if(stored.begin(), stored.end(),
                   [&](const cng::StoredCertificate& c) { return c.der == file.der; });
  if (existing != stored.end()) {
    properties = existing->properties;
  }
  if (options.has_label || !properties.contains(kLabelProperty)) {
    const std::string label =
        options.has_label ? options.label : subject_common_name(file.cert.get());
    properties[kLabelProperty] = Bytes(label.begin(), label.end());
  }
  properties.try_emplace(kKeyIdProperty, certificate_key_id(file.cert.get()));
  const Bytes key_id = properties.at(kKeyIdProperty);
  const std::string label = label_text(properties);
  const std::string id =
      store_call("certificate store add", [&] { return scope.store.add(file.der, properties); });
  const auto keys = keys_by_id(scope.provider, options.scope);
  const auto linked = keys.find(to_hex(key_id));

  line(std::cout, "Certificate", id);
  line(std::cout, "Subject", escape_field(subject_text(file.cert.get())));
  line(std::cout, "Label", escape_field(label));
  line(std::cout, "Key id", to_hex(key_id));
  line(std::cout, "Linked key", linked == keys.end() ? "(none)" : escape_field(linked->second));
  flush_stdout();
  return kExitOk;
}

int run_cert_list(const Options& options) {
  CertScope scope(options);
  const auto stored = store_call("certificate store list", [&] { return scope.store.list(); });
  const auto keys = keys_by_id(scope.provider, options.scope);
  std::vector<CertRow> rows;
  for (const cng::StoredCertificate& entry : stored) {
    CertRow row;
    row.cert = parse_certificate(entry.der);
    if (!row.cert) {
      continue;  // the store only returns well-formed certificates; skip anything else
    }
    row.id = entry.id;
    const auto key_id = entry.properties.find(kKeyIdProperty);
    row.key_id = to_hex(key_id != entry.properties.end() ? key_id->second
                                                         : certificate_key_id(row.cert.get()));
    row.subject = subject_text(row.cert.get());
    row.label = label_text(entry.properties);
    if (const auto linked = keys.find(row.key_id); linked != keys.end() && !row.key_id.empty()) {
      row.key_name = linked->second;
    }
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const CertRow& a, const CertRow& b) {
    return std::tie(a.subject, a.id) < std::tie(b.subject, b.id);
  });
  std::vector<std::string> json_rows;
  for (const CertRow& row : rows) {
    if (options.json) {
      JsonObject object;
      object.add("id", json_string(row.id))
          .add("key_id", json_string(row.key_id))
          .add("subject", json_string(row.subject))
          .add("issuer", json_string(name_text(X509_get_issuer_name(row.cert.get()))))
          .add("serial", json_string(serial_hex(row.cert.get())))
          .add("not_before", json_string(time_text(X509_get0_notBefore(row.cert.get()))))
          .add("not_after", json_string(time_text(X509_get0_notAfter(row.cert.get()))))
          .add("label", json_string(row.label))
          .add("key", json_optional_string(row.key_name));
      json_rows.push_back(object.str());
      continue;
    }
    std::cout << row.id << '\t' << row.key_id << '\t' << escape_field(row.label) << '\t'
              << (row.key_name ? escape_field(*row.key_name) : "-") << '\t'
              << escape_field(row.subject) << '\n';
  }
  if (options.json) {
    std::cout << json_array(json_rows, true) << '\n';
  }
  flush_stdout();
  return kExitOk;
}

int run_cert_remove(const Options& options) {
  CertScope scope(options);
  const auto stored = store_call("certificate store list", [&] { return scope.store.list(); });
  // The full id, or an unambiguous prefix of at least 8 characters.
  std::vector<std::string> matches;
  for (const cng::StoredCertificate& entry : stored) {
    if (entry.id == options.argument) {
      matches = {entry.id};
      break;
    }
    if (options.argument.size() >= 8 && entry.id.starts_with(options.argument)) {
      matches.push_back(entry.id);
    }
  }
  if (matches.empty()) {
    throw CliError(kExitNotFound, "no certificate with id '" + escape_field(options.argument) +
                                      "' in the " + std::string(scope_name(options.scope)) +
                                      " scope of the " +
                                      std::string(provider_name(options.provider)) + " provider");
  }
  if (matches.size() > 1) {
    throw UsageError("certificate id prefix '" + options.argument + "' is ambiguous");
  }
  store_call("certificate store remove", [&] { scope.store.remove(matches.front()); });
  std::cout << "Removed certificate " << matches.front() << " (" << scope_name(options.scope)
            << " scope)\n";
  flush_stdout();
  return kExitOk;
}

}  // namespace cngkey
