#include "json.h"

#include "text.h"

namespace cngkey {

std::string json_string(std::string_view utf8) {
  std::string out = "\"";
  std::size_t i = 0;
  while (i < utf8.size()) {
    const char c = utf8[i];
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7F) {
      static constexpr char kDigits[] = "0123456789abcdef";
      out += "\\u00";
      out.push_back(kDigits[u >> 4]);
      out.push_back(kDigits[u & 0x0F]);
    } else if (u >= 0x80) {
      char32_t cp = 0;
      const std::size_t length = utf8_sequence(utf8, i, cp);
      if (length == 0) {
        out += "\\ufffd";
        ++i;
        continue;
      }
      out.append(utf8.substr(i, length));
      i += length;
      continue;
    } else {
      out.push_back(c);
    }
    ++i;
  }
  out.push_back('"');
  return out;
}

std::string json_number(std::uint64_t value) { return std::to_string(value); }

std::string json_bool(bool value) { return value ? "true" : "false"; }

std::string json_optional_string(const std::optional<std::string>& value) {
  return value ? json_string(*value) : json_null();
}

JsonObject& JsonObject::add(std::string_view key, std::string serialised_value) {
  members_.emplace_back(std::string(key), std::move(serialised_value));
  return *this;
}

std::string JsonObject::str() const {
  std::string out = "{";
  for (std::size_t i = 0; i < members_.size(); ++i) {
    out += (i == 0 ? "" : ", ") + json_string(members_[i].first) + ": " + members_[i].second;
  }
  return out + "}";
}

std::string json_array(const std::vector<std::string>& serialised_values, bool one_per_line) {
  if (serialised_values.empty()) {
    return "[]";
  }
  const std::string separator = one_per_line ? ",\n  " : ", ";
  std::string out = one_per_line ? "[\n  " : "[";
  for (std::size_t i = 0; i < serialised_values.size(); ++i) {
    out += (i == 0 ? "" : separator) + serialised_values[i];
  }
  return out + (one_per_line ? "\n]" : "]");
}

std::vector<std::string> json_strings(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  out.reserve(values.size());
  for (const std::string& value : values) {
    out.push_back(json_string(value));
  }
  return out;
}

}  // namespace cngkey
