// main() of the conformance binaries: the GoogleTest runner, or a helper mode when started as
// "<binary> --conformance-helper <mode> ..." by a multi-process test.
#include <gtest/gtest.h>

#include <cstring>

#include "subprocess.h"

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], conf::kHelperFlag) == 0) {
    return conf::RunHelperMode(argc - 2, argv + 2);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
