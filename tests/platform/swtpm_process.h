// A swtpm TPM 2.0 simulator run by the tests: `swtpm socket --tpm2` on free loopback ports with
// its state in a directory the caller owns; started and stopped by pid (never by name).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace platform_test {

// True when an executable swtpm is on PATH.
bool swtpm_available();

class SwtpmProcess {
 public:
  // Starts swtpm with its state in state_dir on a fresh pair of free ports (server, ctrl).
  explicit SwtpmProcess(std::filesystem::path state_dir);
  SwtpmProcess(const SwtpmProcess&) = delete;
  SwtpmProcess& operator=(const SwtpmProcess&) = delete;
  ~SwtpmProcess();

  // Stops the simulator (SIGTERM to its pid, then waits for it).
  void stop();
  // Starts it again on the same ports and state directory (a TPM power cycle).
  void start();
  [[nodiscard]] bool running() const noexcept { return pid_ > 0; }

  // "swtpm:host=127.0.0.1,port=P", for CNG_PKCS11_TCTI.
  [[nodiscard]] std::string tcti() const;

 private:
  std::filesystem::path state_dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace platform_test
