// What the store file-format targets (key, certificate and data-object files) share: a decoder
// either succeeds or throws CngError(NTE_BAD_DATA), and every input is checked as given and with
// its envelope fixed up (reseal) so that mutations reach the body parser.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "core/cng_error.h"

namespace fuzz_file {

// Runs body: true when it returned, false when it threw CngError(NTE_BAD_DATA); anything else
// (another status, another exception) aborts.
template <class Body>
bool bad_data_only(Body&& body) {
  try {
    body();
    return true;
  } catch (const cng::CngError& e) {
    if (e.status() != NTE_BAD_DATA) {
      std::abort();
    }
  }
  return false;
}

// Whether a re-encoding gives back exactly the input bytes.
template <class Encoded>
bool same_bytes(const Encoded& encoded, std::span<const std::uint8_t> input) {
  return std::equal(encoded.begin(), encoded.end(), input.begin(), input.end());
}

// The body of LLVMFuzzerTestOneInput: check(input), then check(input resealed in place).
template <class Check, class Reseal>
int check_as_given_and_resealed(const std::uint8_t* data, std::size_t size, Check check,
                                Reseal reseal) {
  const std::span<const std::uint8_t> input(data, size);
  check(input);
  std::vector<std::uint8_t> resealed(input.begin(), input.end());
  reseal(resealed);
  check(resealed);
  return 0;
}

}  // namespace fuzz_file
