// libFuzzer target for the data-object file format (cng_model/src/store/data_file.h).
// decode_file() either succeeds or throws CngError(NTE_BAD_DATA); when it succeeds,
// encode_file(decode_file(x)) == x and the id has the shape of an id. Inputs are checked as given
// and with their envelope fixed up so that mutations reach the body parser.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/cng_error.h"
#include "store/data_file.h"

namespace {

void check(std::span<const std::uint8_t> bytes) {
  try {
    const cng::data_file::DataFile file = cng::data_file::decode_file(bytes);
    const std::vector<std::uint8_t> again = cng::data_file::encode_file(file);
    if (!std::equal(again.begin(), again.end(), bytes.begin(), bytes.end()) ||
        !cng::data_file::is_data_id(file.object.id)) {
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
  cng::data_file::reseal(resealed);
  check(resealed);
  return 0;
}
