// libFuzzer target for the key file format (cng_model/src/store/key_file.h).
// Properties checked on every input, as given and with its envelope (length and checksum)
// fixed up so that mutations reach the body parser:
//   - decode() and decode_listing() either succeed or throw CngError(NTE_BAD_DATA);
//   - when decode() succeeds, encode(decode(x)) == x and decode_listing(x) agrees with it.
// Anything else (another exception, a sanitizer report) aborts.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/cng_error.h"
#include "store/key_file.h"

namespace {

void check(std::span<const std::uint8_t> bytes) {
  try {
    const cng::KeyRecord record = cng::key_file::decode(bytes);
    const cng::SecureBytes again = cng::key_file::encode(record);
    if (!std::equal(again.begin(), again.end(), bytes.begin(), bytes.end())) {
      std::abort();  // not canonical
    }
    const cng::KeyListing listing = cng::key_file::decode_listing(bytes);
    if (listing.name != record.name || listing.algorithm != record.algorithm ||
        listing.legacy_key_spec != record.legacy_key_spec) {
      std::abort();
    }
    return;
  } catch (const cng::CngError& e) {
    if (e.status() != NTE_BAD_DATA) {
      std::abort();
    }
  }
  try {
    (void)cng::key_file::decode_listing(bytes);
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
  cng::key_file::reseal(resealed);
  check(resealed);
  return 0;
}
