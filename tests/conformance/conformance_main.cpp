// main() of the conformance binaries: the GoogleTest runner, or a helper mode when started as
// "<binary> --conformance-helper <mode> ..." by a multi-process test. With CNG_CONF_SLOT naming
// a platform (TPM) slot and no CNG_PKCS11_TCTI given, the runner starts a swtpm for the whole
// process first (the platform provider keeps its TPM connection for the life of the process)
// and points CNG_PKCS11_TCTI at it; helper processes inherit it. CNG_CONF_TPM_PIN does the same
// for any slot: the software slots' master key is then sealed to that TPM (the "pintpm." run).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <cstring>
#include <memory>

#include "p11_fixture.h"
#include "subprocess.h"
#include "swtpm_da.h"
#include "swtpm_process.h"

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], conf::kHelperFlag) == 0) {
    return conf::RunHelperMode(argc - 2, argv + 2);
  }
  ::testing::InitGoogleTest(&argc, argv);
  std::unique_ptr<conf::TempDir> tpm_state;
  std::unique_ptr<platform_test::SwtpmProcess> tpm;
  // The PIN run on a TPM-sealed master key: CNG_CONF_TPM_PIN is CNG_CONF_PIN plus a swtpm (one
  // variable: a list given to gtest_discover_tests PROPERTIES is split).
  const char* tpm_pin = std::getenv("CNG_CONF_TPM_PIN");
  if (tpm_pin != nullptr && setenv("CNG_CONF_PIN", tpm_pin, 1) != 0) {
    std::perror("setenv CNG_CONF_PIN");
    return 1;
  }
  const bool wants_tpm = conf::IsPlatformSlot(conf::kUserSlot) || tpm_pin != nullptr;
  if (wants_tpm && std::getenv("CNG_PKCS11_TCTI") == nullptr && platform_test::swtpm_available()) {
    tpm_state = std::make_unique<conf::TempDir>("swtpm");
    tpm = std::make_unique<platform_test::SwtpmProcess>(tpm_state->path());
    if (setenv("CNG_PKCS11_TCTI", tpm->tcti().c_str(), 1) != 0) {
      std::perror("setenv CNG_PKCS11_TCTI");
      return 1;
    }
    // The DA parameters Windows provisions (32 tries, one forgiven per 10 minutes) instead of
    // swtpm's 3: the scope PIN's TPM lockout (store/master_key.h) stays behind our own counter
    // of 10, which the PIN tests check; tpm_pin_lockout_test checks the TPM's.
    if (!platform_test::set_dictionary_attack(tpm->tcti(), 32, 600, 0)) {
      return 1;
    }
  }
  return RUN_ALL_TESTS();
}
