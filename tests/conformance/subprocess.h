// Child processes for the multi-process, fork and teardown tests: either a forked copy of
// the test (RunForked) or a fresh exec of this binary in a helper mode (RunHelper).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace conf {

struct ChildOutcome {
  bool exited = false;  // normal exit (else killed by a signal)
  int exit_code = -1;
  int signal = 0;
  std::string output;  // what the child wrote (message pipe or stdout)
  [[nodiscard]] std::string Describe() const;
};

// Forks; the child runs body() and reports its return value (empty = success) to the parent,
// then _exit(0 if empty else 1).
ChildOutcome RunForked(const std::function<std::string()>& body);

// Forks and execs /proc/self/exe --conformance-helper args...; stdout is captured.
// before_exec runs in the child after fork (e.g. to drop privileges); a non-empty return is
// printed and makes the child exit with code 3.
ChildOutcome RunHelper(const std::vector<std::string>& args,
                       const std::function<std::string()>& before_exec = {});

// "key=value" lines -> map.
std::map<std::string, std::string> ParseKeyValues(const std::string& text);

// The helper-mode dispatcher called from main(); returns the process exit code.
int RunHelperMode(int argc, char** argv);
inline constexpr const char* kHelperFlag = "--conformance-helper";

}  // namespace conf
