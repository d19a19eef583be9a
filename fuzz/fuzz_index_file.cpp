// libFuzzer target for the store listing index format (cng_model/src/store/index_file.h) and
// the key summaries it carries (key_file::decode_summary).
// Properties checked on every input, as given and with its envelope (length and checksum)
// fixed up so that mutations reach the body parser:
//   - decode() either succeeds or throws CngError(NTE_BAD_DATA);
//   - when it succeeds, encode(decode(x)) == x, the entries are strictly ascending, and each
//     listed entry's payload either decodes as a key summary that re-encodes to itself, or is
//     refused with NTE_BAD_DATA.
// Anything else (another exception, a sanitizer report) aborts.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/cng_error.h"
#include "store/index_file.h"
#include "store/key_file.h"

namespace {

void expect_bad_data(const cng::CngError& e) {
  if (e.status() != NTE_BAD_DATA) {
    std::abort();
  }
}

void check_summary(std::span<const std::uint8_t> payload) {
  try {
    const cng::KeyRecord record = cng::key_file::decode_summary(payload);
    const cng::SecureBytes again = cng::key_file::encode_summary(record);
    if (!std::equal(again.begin(), again.end(), payload.begin(), payload.end()) ||
        !record.private_blob.empty()) {
      std::abort();  // not canonical
    }
    const cng::KeyListing listing = cng::key_file::decode_summary_listing(payload);
    if (listing.name != record.name || listing.algorithm != record.algorithm ||
        listing.legacy_key_spec != record.legacy_key_spec) {
      std::abort();
    }
  } catch (const cng::CngError& e) {
    expect_bad_data(e);
  }
}

void check(std::span<const std::uint8_t> bytes) {
  try {
    const cng::index_file::Index index = cng::index_file::decode(bytes);
    const cng::SecureBytes again = cng::index_file::encode(index);
    if (!std::equal(again.begin(), again.end(), bytes.begin(), bytes.end())) {
      std::abort();  // not canonical
    }
    for (std::size_t i = 0; i < index.entries.size(); ++i) {
      if (i > 0 && !(index.entries[i - 1].file < index.entries[i].file)) {
        std::abort();
      }
      if (index.entries[i].state == cng::index_file::EntryState::kListed) {
        check_summary(index.payload(index.entries[i]));
      }
    }
  } catch (const cng::CngError& e) {
    expect_bad_data(e);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  check(input);
  check_summary(input);  // the summary parser on raw input too
  std::vector<std::uint8_t> resealed(input.begin(), input.end());
  cng::index_file::reseal(resealed);
  check(resealed);
  return 0;
}
