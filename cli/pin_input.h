// Reading PINs for `cngkey pin` and the scope login of create/import/rekey (scope_login.h):
// from a file, a file descriptor, an environment variable, the terminal (echo off) or standard
// input, into buffers that are overwritten before they are freed. A PIN is
// never printed.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace cngkey {

// A PIN's bytes, wiped on destruction.
class SecretText {
 public:
  SecretText() = default;
  SecretText(const SecretText&) = delete;
  SecretText& operator=(const SecretText&) = delete;
  SecretText(SecretText&& other) noexcept : bytes_(std::move(other.bytes_)) {}
  SecretText& operator=(SecretText&& other) noexcept;
  ~SecretText() { wipe(); }
  void push_back(std::uint8_t b);
  [[nodiscard]] std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }
  [[nodiscard]] bool operator==(const SecretText& other) const noexcept;

 private:
  void wipe() noexcept;
  std::vector<std::uint8_t> bytes_;
};

struct PinSource {
  std::string file;      // --pin-file / --new-pin-file; "-" is standard input; empty: none
  const char* env_name;  // "CNGKEY_PIN" / "CNGKEY_NEW_PIN"
  const char* prompt;    // "PIN: ", "New PIN: "
  bool confirm = false;  // a new PIN typed on the terminal is asked twice
  int fd = -1;           // --pin-fd: the first line read from this descriptor; -1: none
  // Without a file, descriptor, variable or terminal: read a line of standard input (the pin
  // commands) or fail (commands whose standard input is not meant for a PIN).
  bool stdin_line = true;
};

// The PIN from the first source that has one (pin_input.cpp: file, descriptor, environment,
// terminal, standard input). Throws CliError(kExitUsage) when there is none or the two entries
// differ, IoError when a file cannot be read.
SecretText read_pin(const PinSource& source);

}  // namespace cngkey
