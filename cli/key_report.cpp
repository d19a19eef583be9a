// The `show` report: every property cngkey knows how to present, one "Label: value" per line.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <span>
#include <string_view>
#include <utility>

#include "commands.h"
#include "json.h"
#include "public_key_export.h"
#include "text.h"

namespace cngkey {
namespace {

constexpr char16_t kPkcs11LabelProperty[] = u"PKCS11 Label";
constexpr char16_t kPkcs11IdProperty[] = u"PKCS11 Id";

void line(std::ostream& out, std::string_view label, std::string_view value) {
  constexpr std::size_t kLabelWidth = 18;
  out << label << ':' << std::string(kLabelWidth - std::min(kLabelWidth, label.size() + 1), ' ')
      << value << '\n';
}

std::string hex32(DWORD value) {
  std::array<char, 12> buf{};
  std::snprintf(buf.data(), buf.size(), "0x%08x", value);
  return buf.data();
}

// Names the known bits of a flag word; leftover bits are shown in hex.
std::string flag_words(DWORD value, std::span<const std::pair<DWORD, std::string_view>> names) {
  std::string words;
  for (const auto& [flag, name] : names) {
    if ((value & flag) != 0) {
      words += words.empty() ? "" : ",";  // appended in place: GCC 12 -O3 -Wrestrict
      words += name;
      value &= ~flag;
    }
  }
  if (value != 0) {
    words += words.empty() ? "" : ",";
    words += hex32(value);
  }
  return words.empty() ? "none" : words;
}

std::string export_policy_words(DWORD policy) {
  static constexpr std::array<std::pair<DWORD, std::string_view>, 4> kNames = {{
      {NCRYPT_ALLOW_EXPORT_FLAG, "export"},
      {NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG, "plaintext-export"},
      {NCRYPT_ALLOW_ARCHIVING_FLAG, "archiving"},
      {NCRYPT_ALLOW_PLAINTEXT_ARCHIVING_FLAG, "plaintext-archiving"},
  }};
  return flag_words(policy, kNames);
}

// FILETIME counts 100 ns intervals since 1601-01-01 UTC.
std::string filetime_text(const Bytes& value) {
  if (value.size() != sizeof(FILETIME)) {
    return "(unreadable, " + std::to_string(value.size()) + " bytes)";
  }
  FILETIME ft{};
  std::memcpy(&ft, value.data(), sizeof ft);
  const std::uint64_t ticks = (std::uint64_t{ft.dwHighDateTime} << 32) | ft.dwLowDateTime;
  constexpr std::uint64_t kTicksPerSecond = 10'000'000;
  constexpr std::uint64_t kUnixEpochSeconds = 11'644'473'600;  // 1601 -> 1970
  const std::uint64_t seconds = ticks / kTicksPerSecond;
  if (seconds < kUnixEpochSeconds) {
    return hex32(ft.dwHighDateTime) + ":" + hex32(ft.dwLowDateTime);
  }
  const auto unix_seconds = static_cast<std::time_t>(seconds - kUnixEpochSeconds);
  std::tm utc{};
  std::array<char, 32> buf{};
  if (gmtime_r(&unix_seconds, &utc) == nullptr ||
      std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &utc) == 0) {
    return std::to_string(ticks);
  }
  return buf.data();
}

void print_string_property(std::ostream& out, NCRYPT_HANDLE key, std::string_view label,
                           const char16_t* property) {
  if (const auto value = find_string_property(key, property)) {
    line(out, label, escape_field(display_utf8(*value)));
  }
}

void print_pkcs11_properties(std::ostream& out, NCRYPT_HANDLE key) {
  if (const auto label = find_property(key, kPkcs11LabelProperty)) {
    const std::string_view text(reinterpret_cast<const char*>(label->data()), label->size());
    // The label is UTF-8 bytes; anything else is shown in hex rather than garbled.
    line(out, "PKCS11 Label", utf8_to_utf16(text) ? escape_field(text) : "hex:" + to_hex(*label));
  }
  if (const auto id = find_property(key, kPkcs11IdProperty)) {
    line(out, "PKCS11 Id", to_hex(*id));
  }
}

std::vector<std::string> split_words(const std::string& words) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= words.size()) {
    const std::size_t comma = std::min(words.find(',', start), words.size());
    out.push_back(words.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::string json_dword(const std::optional<DWORD>& value) {
  return value ? json_number(*value) : json_null();
}

std::optional<std::string> utf8_property(NCRYPT_HANDLE key, const char16_t* property) {
  const auto value = find_string_property(key, property);
  return value ? std::optional<std::string>(display_utf8(*value)) : std::nullopt;
}

}  // namespace

std::string legacy_spec_word(DWORD legacy_key_spec) {
  switch (legacy_key_spec) {
    case 0:
      return "none";
    case AT_KEYEXCHANGE:
      return "exchange";
    case AT_SIGNATURE:
      return "signature";
    default:
      return std::to_string(legacy_key_spec);
  }
}

std::string usage_words(DWORD key_usage) {
  if ((key_usage & NCRYPT_ALLOW_ALL_USAGES) == NCRYPT_ALLOW_ALL_USAGES) {
    return "all";
  }
  static constexpr std::array<std::pair<DWORD, std::string_view>, 5> kNames = {{
      {NCRYPT_ALLOW_SIGNING_FLAG, "sign"},
      {NCRYPT_ALLOW_DECRYPT_FLAG, "decrypt"},
      {NCRYPT_ALLOW_KEY_AGREEMENT_FLAG, "agree"},
      {NCRYPT_ALLOW_KEY_IMPORT_FLAG, "import"},
      {NCRYPT_ALLOW_KEY_ATTESTATION_FLAG, "attestation"},
  }};
  return flag_words(key_usage, kNames);
}

// Secret (AES, generic-secret) keys have no public half to export or hash.
bool is_secret_key(NCRYPT_HANDLE key) {
  const auto group = utf8_property(key, NCRYPT_ALGORITHM_GROUP_PROPERTY);
  return group && (*group == "AES" || *group == "GENERIC_SECRET");
}

void print_key_report(std::ostream& out, NCRYPT_HANDLE key, std::optional<DWORD> legacy_key_spec) {
  print_string_property(out, key, "Name", NCRYPT_NAME_PROPERTY);
  print_string_property(out, key, "Algorithm", NCRYPT_ALGORITHM_PROPERTY);
  print_string_property(out, key, "Algorithm group", NCRYPT_ALGORITHM_GROUP_PROPERTY);
  if (const auto length = find_dword_property(key, NCRYPT_LENGTH_PROPERTY)) {
    line(out, "Length", std::to_string(*length));
  }
  if (const auto usage = find_dword_property(key, NCRYPT_KEY_USAGE_PROPERTY)) {
    line(out, "Key usage", hex32(*usage) + " (" + usage_words(*usage) + ")");
  }
  if (const auto policy = find_dword_property(key, NCRYPT_EXPORT_POLICY_PROPERTY)) {
    line(out, "Export policy", hex32(*policy) + " (" + export_policy_words(*policy) + ")");
  }
  if (const auto type = find_dword_property(key, NCRYPT_KEY_TYPE_PROPERTY)) {
    const bool machine = (*type & NCRYPT_MACHINE_KEY_FLAG) != 0;
    line(out, "Key type", hex32(*type) + (machine ? " (machine)" : " (user)"));
  }
  print_string_property(out, key, "Unique name", NCRYPT_UNIQUE_NAME_PROPERTY);
  if (const auto modified = find_property(key, NCRYPT_LAST_MODIFIED_PROPERTY)) {
    line(out, "Modified", filetime_text(*modified));
  }
  if (legacy_key_spec) {
    line(out, "Legacy key spec",
         legacy_spec_word(*legacy_key_spec) + " (" + std::to_string(*legacy_key_spec) + ")");
  }
  print_pkcs11_properties(out, key);
  if (is_secret_key(key)) {
    line(out, "Public key", "none (secret key)");
    return;
  }
  const PublicKey public_key = public_key_from_blob(export_public_blob(key));
  line(out, "Public key", public_key.description);
  line(out, "Public key SHA-1", to_hex(nss_key_id(public_key)));
}

}  // namespace cngkey

namespace cngkey {

std::string key_report_json(NCRYPT_HANDLE key, std::optional<DWORD> legacy_key_spec,
                            std::string_view provider) {
  const auto length = find_dword_property(key, NCRYPT_LENGTH_PROPERTY);
  const auto usage = find_dword_property(key, NCRYPT_KEY_USAGE_PROPERTY);
  const auto policy = find_dword_property(key, NCRYPT_EXPORT_POLICY_PROPERTY);
  const auto type = find_dword_property(key, NCRYPT_KEY_TYPE_PROPERTY);
  const auto modified = find_property(key, NCRYPT_LAST_MODIFIED_PROPERTY);
  const auto label = find_property(key, kPkcs11LabelProperty);
  const auto id = find_property(key, kPkcs11IdProperty);
  std::string label_json = json_null();
  if (label) {
    const std::string_view text(reinterpret_cast<const char*>(label->data()), label->size());
    label_json = json_string(utf8_to_utf16(text) ? std::string(text) : "hex:" + to_hex(*label));
  }
  const std::optional<PublicKey> public_key =
      is_secret_key(key) ? std::nullopt
                         : std::optional<PublicKey>(public_key_from_blob(export_public_blob(key)));
  JsonObject report;
  report.add("name", json_optional_string(utf8_property(key, NCRYPT_NAME_PROPERTY)))
      .add("provider", json_string(provider))
      .add("algorithm", json_optional_string(utf8_property(key, NCRYPT_ALGORITHM_PROPERTY)))
      .add("algorithm_group",
           json_optional_string(utf8_property(key, NCRYPT_ALGORITHM_GROUP_PROPERTY)))
      .add("length", json_dword(length))
      .add("key_usage", json_dword(usage))
      .add("key_usage_names",
           usage ? json_array(json_strings(split_words(usage_words(*usage))), false) : json_null())
      .add("export_policy", json_dword(policy))
      .add("export_policy_names",
           policy ? json_array(json_strings(split_words(export_policy_words(*policy))), false)
                  : json_null())
      .add("key_type", json_dword(type))
      .add("scope", type ? json_string((*type & NCRYPT_MACHINE_KEY_FLAG) != 0 ? "machine" : "user")
                         : json_null())
      .add("unique_name", json_optional_string(utf8_property(key, NCRYPT_UNIQUE_NAME_PROPERTY)))
      .add("modified", modified ? json_string(filetime_text(*modified)) : json_null())
      .add("legacy_key_spec",
           legacy_key_spec ? json_string(legacy_spec_word(*legacy_key_spec)) : json_null())
      .add("pkcs11_label", label_json)
      .add("pkcs11_id", id ? json_string(to_hex(*id)) : json_null())
      .add("public_key", public_key ? json_string(public_key->description) : json_null())
      .add("public_key_sha1",
           public_key ? json_string(to_hex(nss_key_id(*public_key))) : json_null());
  return report.str();
}

Bytes pkcs11_key_id(NCRYPT_HANDLE key) {
  if (auto id = find_property(key, kPkcs11IdProperty)) {
    return std::move(*id);
  }
  if (is_secret_key(key)) {
    return {};  // a secret key has no public value to derive an id from
  }
  return nss_key_id(public_key_from_blob(export_public_blob(key)));
}

void flush_stdout() {
  std::cout.flush();
  if (!std::cout) {
    throw IoError("cannot write to standard output");
  }
}

}  // namespace cngkey
