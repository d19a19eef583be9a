// Child processes of the fault tests: fault_child with extra environment and, when asked, the
// fault shim preloaded (after the sanitizer runtime when the tests run under ASan).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace fault {

struct Outcome {
  int exit_code = -1;  // -1: killed by a signal
  std::string output;  // stdout, then stderr
};

Outcome run_child(const std::vector<std::string>& args,
                  const std::map<std::string, std::string>& env, bool preload_shim = false);

// "key=value" lines -> map.
std::map<std::string, std::string> parse_key_values(const std::string& text);

}  // namespace fault
