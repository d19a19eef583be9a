// The checker of the SIGKILL loop (bench/kill_loop.cpp): run in a fresh process after kills,
// it loads the store through the module and reports every object that does not load, every
// private key that does not sign or whose signature does not verify with OpenSSL against its
// public half, every pair half destroyed without the "pubgone" label marker (the writer's
// recorded intent), and every temporary or probe file left in the store after the listing.
#pragma once

#include <string>
#include <vector>

namespace bench {

inline constexpr char kPubGone[] = "pubgone";

struct CheckResult {
  long objects = 0;
  long problems = 0;
};

// Forks a checker process loading `module` (empty: as load_module) and waits for its figures;
// store_dirs are scanned for leftovers. A checker that fails to report counts as a problem.
CheckResult run_checker(const std::string& module, const std::vector<std::string>& store_dirs);

}  // namespace bench
