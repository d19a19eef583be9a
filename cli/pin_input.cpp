#include "pin_input.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "commands.h"

namespace cngkey {

namespace {

// Reads one line (without "\n" or "\r\n") from fd, byte by byte so that nothing beyond the
// line is consumed (`pin change` reads two lines of standard input). False at end of input
// before any byte.
bool read_line(int fd, SecretText& out) {
  bool any = false;
  bool carriage_return = false;
  for (;;) {
    std::uint8_t b = 0;
    const ssize_t n = ::read(fd, &b, 1);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      throw IoError(std::string("reading a PIN: ") + std::strerror(errno));
    }
    if (n == 0) {
      return any;
    }
    any = true;
    if (b == '\n') {
      return true;
    }
    if (carriage_return) {
      out.push_back('\r');  // a lone CR inside the line is part of the PIN
    }
    carriage_return = b == '\r';
    if (!carriage_return) {
      out.push_back(b);
    }
  }
}

// Echo off on the terminal while it lives.
class NoEcho {
 public:
  explicit NoEcho(int fd) : fd_(fd) {
    if (::tcgetattr(fd_, &saved_) == 0) {
      termios quiet = saved_;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      active_ = ::tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
    }
  }
  NoEcho(const NoEcho&) = delete;
  NoEcho& operator=(const NoEcho&) = delete;
  ~NoEcho() {
    if (active_) {
      (void)::tcsetattr(fd_, TCSAFLUSH, &saved_);
    }
  }

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

SecretText prompt_line(int fd, const char* prompt) {
  std::cerr << prompt << std::flush;
  SecretText pin;
  {
    const NoEcho quiet(fd);
    (void)read_line(fd, pin);
  }
  std::cerr << '\n';
  return pin;
}

}  // namespace

SecretText& SecretText::operator=(SecretText&& other) noexcept {
  wipe();
  bytes_ = std::move(other.bytes_);
  return *this;
}

void SecretText::push_back(std::uint8_t b) {
  if (bytes_.size() == bytes_.capacity()) {  // grow by hand: the old buffer is wiped
    std::vector<std::uint8_t> bigger;
    bigger.reserve(bytes_.capacity() < 64 ? 64 : 2 * bytes_.capacity());
    bigger.assign(bytes_.begin(), bytes_.end());
    wipe();
    bytes_ = std::move(bigger);
  }
  bytes_.push_back(b);
}

bool SecretText::operator==(const SecretText& other) const noexcept {
  return bytes_ == other.bytes_;
}

void SecretText::wipe() noexcept {
  volatile std::uint8_t* p = bytes_.data();
  for (std::size_t i = 0; i < bytes_.capacity(); ++i) {
    p[i] = 0;
  }
}

SecretText read_pin(const PinSource& source) {
  SecretText pin;
  if (!source.file.empty()) {
    if (source.file == "-") {
      (void)read_line(STDIN_FILENO, pin);
      return pin;
    }
    const int fd = ::open(source.file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      throw IoError("cannot read '" + source.file + "': " + std::strerror(errno));
    }
    try {
      (void)read_line(fd, pin);
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
    return pin;
  }
  if (source.fd >= 0) {
    if (!read_line(source.fd, pin)) {
      throw CliError(kExitUsage, "no PIN: descriptor " + std::to_string(source.fd) + " is empty");
    }
    return pin;  // the descriptor is the caller's: left open
  }
  if (const char* value = std::getenv(source.env_name); value != nullptr) {
    for (const char* p = value; *p != '\0'; ++p) {
      pin.push_back(static_cast<std::uint8_t>(*p));
    }
    return pin;
  }
  if (::isatty(STDIN_FILENO) != 0) {
    pin = prompt_line(STDIN_FILENO, source.prompt);
    if (source.confirm && !(prompt_line(STDIN_FILENO, "Again: ") == pin)) {
      throw CliError(kExitUsage, "the two PINs differ");
    }
    return pin;
  }
  if (!source.stdin_line) {
    throw CliError(kExitUsage, std::string("no PIN: use --pin-file, --pin-fd, ") + source.env_name +
                                   " or a terminal");
  }
  if (!read_line(STDIN_FILENO, pin)) {
    throw CliError(kExitUsage, std::string("no PIN: use --pin-file, ") + source.env_name +
                                   ", a terminal or a line on standard input");
  }
  return pin;
}

}  // namespace cngkey
