// libFuzzer target for the certificate file format (cng_model/src/store/cert_file.h).
// decode() either succeeds or throws CngError(NTE_BAD_DATA); when it succeeds,
// encode(decode(x)) == x and the id is the SHA-256 of the DER. Inputs are checked as given and
// with their envelope fixed up so that mutations reach the body parser.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "fuzz_file_harness.h"
#include "store/cert_file.h"

namespace {

void check(std::span<const std::uint8_t> bytes) {
  fuzz_file::bad_data_only([&] {
    const cng::StoredCertificate cert = cng::cert_file::decode(bytes);
    if (!fuzz_file::same_bytes(cng::cert_file::encode(cert), bytes) ||
        cert.id != cng::cert_file::certificate_id(cert.der) ||
        !cng::cert_file::is_certificate_id(cert.id)) {
      std::abort();
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz_file::check_as_given_and_resealed(data, size, check, cng::cert_file::reseal);
}
