// libFuzzer target for the data-object file format (cng_model/src/store/data_file.h).
// decode_file() either succeeds or throws CngError(NTE_BAD_DATA); when it succeeds,
// encode_file(decode_file(x)) == x and the id has the shape of an id. Inputs are checked as given
// and with their envelope fixed up so that mutations reach the body parser.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "fuzz_file_harness.h"
#include "store/data_file.h"

namespace {

void check(std::span<const std::uint8_t> bytes) {
  fuzz_file::bad_data_only([&] {
    const cng::data_file::DataFile file = cng::data_file::decode_file(bytes);
    if (!fuzz_file::same_bytes(cng::data_file::encode_file(file), bytes) ||
        !cng::data_file::is_data_id(file.object.id)) {
      std::abort();
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz_file::check_as_given_and_resealed(data, size, check, cng::data_file::reseal);
}
