// libFuzzer target for the key file format (cng_model/src/store/key_file.h).
// Properties checked on every input, as given and with its envelope (length and checksum)
// fixed up so that mutations reach the body parser:
//   - decode() and decode_listing() either succeed or throw CngError(NTE_BAD_DATA);
//   - when decode() succeeds, encode(decode(x)) == x and decode_listing(x) agrees with it.
// Anything else (another exception, a sanitizer report) aborts.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "fuzz_file_harness.h"
#include "store/key_file.h"

namespace {

void check(std::span<const std::uint8_t> bytes) {
  const bool decoded = fuzz_file::bad_data_only([&] {
    const cng::KeyRecord record = cng::key_file::decode(bytes);
    if (!fuzz_file::same_bytes(cng::key_file::encode(record), bytes)) {
      std::abort();  // not canonical
    }
    const cng::KeyListing listing = cng::key_file::decode_listing(bytes);
    if (listing.name != record.name || listing.algorithm != record.algorithm ||
        listing.legacy_key_spec != record.legacy_key_spec) {
      std::abort();
    }
  });
  if (!decoded) {
    fuzz_file::bad_data_only([&] { (void)cng::key_file::decode_listing(bytes); });
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz_file::check_as_given_and_resealed(data, size, check, cng::key_file::reseal);
}
