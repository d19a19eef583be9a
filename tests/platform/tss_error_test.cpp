// The TSS2_RC → SECURITY_STATUS table, and the factory without a TPM.
#include "providers/platform/tss_error.h"

#include <tss2/tss2_tcti.h>
#include <tss2/tss2_tpm2_types.h>

#include "core/cng_error.h"
#include "platform_test_support.h"
#include "providers/platform/platform_provider.h"

namespace platform_test {
namespace {

using cng::tpm::is_object_memory_error;
using cng::tpm::is_transport_error;
using cng::tpm::status_from_tss;

std::uint32_t u(SECURITY_STATUS s) { return static_cast<std::uint32_t>(s); }

TEST(TssErrorTest, TpmResponseCodesMapWithParameterNumbersStripped) {
  EXPECT_EQ(u(status_from_tss(TSS2_RC_SUCCESS)), u(ERROR_SUCCESS));
  // AUTH_FAIL for session 1: 0x98E.
  EXPECT_EQ(u(status_from_tss(TPM2_RC_AUTH_FAIL | TPM2_RC_S | TPM2_RC_1)),
            u(NTE_INCORRECT_PASSWORD));
  EXPECT_EQ(u(status_from_tss(TPM2_RC_LOCKOUT)), u(SCARD_W_CHV_BLOCKED));
  EXPECT_EQ(u(status_from_tss(TPM2_RC_VALUE | TPM2_RC_P | TPM2_RC_2)), u(NTE_INVALID_PARAMETER));
  EXPECT_EQ(u(status_from_tss(TPM2_RC_SIZE | TPM2_RC_P | TPM2_RC_1)), u(NTE_INVALID_PARAMETER));
  EXPECT_EQ(u(status_from_tss(TPM2_RC_INTEGRITY | TPM2_RC_P | TPM2_RC_1)), u(NTE_BAD_DATA));
  EXPECT_EQ(u(status_from_tss(TPM2_RC_OBJECT_MEMORY)), u(NTE_NO_MEMORY));
  EXPECT_TRUE(is_object_memory_error(TPM2_RC_OBJECT_MEMORY));
  EXPECT_FALSE(is_object_memory_error(TPM2_RC_VALUE));
  EXPECT_EQ(u(status_from_tss(TPM2_RC_INITIALIZE)), u(NTE_DEVICE_NOT_READY));
  EXPECT_TRUE(is_transport_error(TPM2_RC_INITIALIZE));
  EXPECT_EQ(u(status_from_tss(TPM2_RC_COMMAND_CODE)), u(NTE_NOT_SUPPORTED));
  EXPECT_EQ(u(status_from_tss(TPM2_RC_NV_UNINITIALIZED)), u(NTE_INTERNAL_ERROR));
}

TEST(TssErrorTest, SoftwareLayerCodes) {
  EXPECT_EQ(u(status_from_tss(TSS2_TCTI_RC_IO_ERROR)), u(NTE_DEVICE_NOT_READY));
  EXPECT_TRUE(is_transport_error(TSS2_TCTI_RC_IO_ERROR));
  EXPECT_EQ(u(status_from_tss(TSS2_TCTI_RC_NO_CONNECTION)), u(NTE_DEVICE_NOT_FOUND));
  EXPECT_EQ(u(status_from_tss(TSS2_ESYS_RC_MEMORY)), u(NTE_NO_MEMORY));
  EXPECT_EQ(u(status_from_tss(TSS2_MU_RC_INSUFFICIENT_BUFFER)), u(NTE_BAD_DATA));
  EXPECT_TRUE(is_transport_error(TSS2_ESYS_RC_INSUFFICIENT_RESPONSE));
  EXPECT_FALSE(is_transport_error(TSS2_ESYS_RC_BAD_VALUE));
  EXPECT_FALSE(is_transport_error(TPM2_RC_VALUE));
}

TEST(TssErrorTest, NoTpmMeansDeviceNotFound) {
  for (const char* tcti :
       {"swtpm:host=127.0.0.1,port=1", "device:/nonexistent/tpm", "no-such-tcti-module"}) {
    SCOPED_TRACE(tcti);
    try {
      (void)cng::make_platform_provider(tcti);
      ADD_FAILURE() << "a provider without a TPM";
    } catch (const cng::CngError& e) {
      EXPECT_EQ(u(e.status()), u(NTE_DEVICE_NOT_FOUND)) << e.what();
    }
  }
}

}  // namespace
}  // namespace platform_test
