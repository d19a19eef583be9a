// Child processes for the NCrypt process tests: the test binary re-executes itself
// (/proc/self/exe --child MODE ARGS…), optionally dropping privileges first; the child reports
// "key=0xSTATUS" lines on stdout.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ncrypt_test {

struct Child {
  pid_t pid = -1;
  int stdin_fd = -1;   // write end of the child's stdin
  int stdout_fd = -1;  // read end of the child's stdout
};

// Starts `/proc/self/exe --child args…`; before_exec runs in the child after fork (e.g. to
// drop privileges) and must return true.
Child spawn_child(const std::vector<std::string>& args,
                  const std::function<bool()>& before_exec = {});
// Closes stdin, reads stdout to EOF, waits; returns the "key=value" lines and the wait status.
std::map<std::string, std::string> finish_child(Child& child, int* wait_status = nullptr);

// Child entry point (process_test_main.cpp): returns the exit code.
int run_child(int argc, char** argv);

}  // namespace ncrypt_test
