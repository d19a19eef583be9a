// A small strict JSON parser (RFC 8259) for checking cngkey's --json output independently of
// the code that writes it. Numbers are kept as text; strings are decoded to UTF-8.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cngkey_test {

struct JsonValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  std::string text;  // kNumber: the literal; kString: the decoded UTF-8
  std::vector<JsonValue> array;
  std::map<std::string, JsonValue> object;
  std::vector<std::string> keys;  // object keys in document order

  [[nodiscard]] bool is_null() const { return type == Type::kNull; }
  // Object member (throws std::out_of_range when absent).
  [[nodiscard]] const JsonValue& at(const std::string& key) const { return object.at(key); }
  [[nodiscard]] const std::string& str() const { return text; }
};

// nullopt (and *error set) for anything that is not exactly one JSON value plus whitespace.
std::optional<JsonValue> parse_json(const std::string& text, std::string* error = nullptr);

}  // namespace cngkey_test
