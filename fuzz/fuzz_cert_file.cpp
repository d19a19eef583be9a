// libFuzzer target for the certificate file format (cng_model/src/store/cert_file.h).
// decode() either succeeds or throws CngError(NTE_BAD_DATA); when it succeeds,
// encode(decode(x)) == x and the id is the SHA-256 of the DER. Inputs are checked as given and
// with their envelope fixed up so that mutations reach the body parser.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/cng_error.h"
#include "store/cert_file.h"

namespace {

void check(std::span<const std::uint8_t> bytes) {
  try {
    const cng::StoredCertificate cert = cng::cert_file::decode(bytes);
    const std::vector<std::uint8_t> again = cng::cert_file::encode(cert);
    if (!std::equal(again.begin(), again.end(), bytes.begin(), bytes.end()) ||
        cert.id != cng::cert_file::certificate_id(cert.der) ||
        !cng::cert_file::is_certificate_id(cert.id)) {
      std::abort();
    }
  } catch (const cng::CngError& e) {
    if (e.status() != NTE_BAD_DATA) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  check(input);
  std::vector<std::uint8_t> resealed(input.begin(), input.end());
  cng::cert_file::reseal(resealed);
  check(resealed);
  return 0;
}
