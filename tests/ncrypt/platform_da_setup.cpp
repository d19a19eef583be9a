// The contract suite on the platform provider (run_on_platform.sh, one swtpm for the whole run):
// before any test connects, the simulator gets the dictionary-attack parameters Windows
// provisions (32 tries, one forgiven per 10 minutes) instead of swtpm's 3. The wrong PINs and
// key auths the tests give count in the TPM's lockout counter (a TPM-guarded scope PIN,
// store/master_key.h, and TPM key auths); the scope PIN's status shows it only when it is closer
// to locking than the scope's own count of 10, as on a Windows-provisioned TPM.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string_view>

#include "swtpm_da.h"

namespace {

class PlatformDaSetup : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* provider = std::getenv("CNG_TEST_PROVIDER");
    const char* tcti = std::getenv("CNG_PKCS11_TCTI");
    if (provider != nullptr && std::string_view(provider) == "platform" && tcti != nullptr) {
      ASSERT_TRUE(platform_test::set_dictionary_attack(tcti, 32, 600, 0));
    }
  }
};

[[maybe_unused]] ::testing::Environment* const kSetup =
    ::testing::AddGlobalTestEnvironment(new PlatformDaSetup);

}  // namespace
