// The stored TPM key blob format (providers/platform/tpm_blob.h), without a TPM: what decode
// rejects. Inputs found by fuzz/fuzz_tpm_blob.cpp.
#include "providers/platform/tpm_blob.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/cng_error.h"

namespace platform_test {
namespace {

std::vector<std::uint8_t> header() {
  // magic "CNGTPM2\x1a", version 1, parent kind 2 (ECC SRK), parent name length 0.
  return {'C', 'N', 'G', 'T', 'P', 'M', '2', 0x1a, 1, 2, 0, 0};
}

SECURITY_STATUS decode_status(const std::vector<std::uint8_t>& bytes) {
  try {
    (void)cng::tpm::decode_blob(bytes);
    return ERROR_SUCCESS;
  } catch (const cng::CngError& e) {
    return e.status();
  }
}

TEST(TpmBlobTest, ABlobWithAPublicAreaAndPrivatePartDecodes) {
  cng::tpm::TpmKeyBlob blob;
  blob.parent = cng::tpm::ParentKind::kEccSrk;
  blob.pub = cng::tpm::srk_template(cng::tpm::ParentKind::kEccSrk);
  blob.priv.size = 1;
  blob.priv.buffer[0] = 0x1d;
  const cng::SecureBytes bytes = cng::tpm::encode_blob(blob);
  EXPECT_EQ(decode_status({bytes.begin(), bytes.end()}), ERROR_SUCCESS);
}

TEST(TpmBlobTest, AnEmptyTpm2bPublicIsBadData) {
  std::vector<std::uint8_t> bytes = header();
  // TPM2B_PUBLIC of size 0 (no public area), then a one-byte TPM2B_PRIVATE.
  bytes.insert(bytes.end(), {0x00, 0x00, 0x00, 0x01, 0x1d});
  EXPECT_EQ(decode_status(bytes), NTE_BAD_DATA);
}

TEST(TpmBlobTest, ATpm2bPublicSizeThatDisagreesWithItsAreaIsBadData) {
  std::vector<std::uint8_t> bytes = header();
  // TPM2B_PUBLIC claiming 1 byte, then a one-byte TPM2B_PRIVATE.
  bytes.insert(bytes.end(), {0x00, 0x01, 0x00, 0x01, 0x00});
  EXPECT_EQ(decode_status(bytes), NTE_BAD_DATA);
}

}  // namespace
}  // namespace platform_test
