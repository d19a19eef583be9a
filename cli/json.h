// Minimal JSON output for --json: values are built as already-serialised text, so an object
// or array is a list of serialised members. Field names are part of cngkey's interface.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cngkey {

// A JSON string literal: quotes, backslash and control characters escaped (\n, \t, \u00XX);
// other characters are copied as UTF-8. Invalid UTF-8 bytes become U+FFFD.
std::string json_string(std::string_view utf8);
std::string json_number(std::uint64_t value);
std::string json_bool(bool value);
inline std::string json_null() { return "null"; }
std::string json_optional_string(const std::optional<std::string>& value);

// {"key": value, ...} on one line, members in the order given.
class JsonObject {
 public:
  JsonObject& add(std::string_view key, std::string serialised_value);
  [[nodiscard]] std::string str() const;

 private:
  std::vector<std::pair<std::string, std::string>> members_;
};

// [v1, v2, ...]; with one_per_line, each element on its own line (for listings).
std::string json_array(const std::vector<std::string>& serialised_values, bool one_per_line);
std::vector<std::string> json_strings(const std::vector<std::string>& values);

}  // namespace cngkey
