// Runs a program as a real child process and captures its exit code, stdout and stderr.
#pragma once

#include <string>
#include <vector>

namespace cngkey_test {

struct ProcessResult {
  int exit_code = -1;  // the exit status, or 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

// argv[0] is the program path (no PATH search); env is the complete environment.
// Fails the current test (and returns exit_code -1) when the program cannot be started.
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::vector<std::string>& env);

}  // namespace cngkey_test
