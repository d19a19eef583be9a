// Output helpers: the two-call size protocol and caller-freed buffers.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

#include "core/cng_error.h"
#include "ncrypt.h"

namespace cng::api {

// The two-call protocol: *pcbResult always receives the size; with out == NULL that is all
// (success); a buffer shorter than the value is NTE_BUFFER_TOO_SMALL; else the value is copied.
inline void write_output(std::span<const std::uint8_t> value, PBYTE out, DWORD out_size,
                         DWORD* pcbResult) {
  require(pcbResult != nullptr, NTE_INVALID_PARAMETER, "pcbResult is NULL");
  require(value.size() <= 0xFFFFFFFFu, NTE_INTERNAL_ERROR, "value too large");
  *pcbResult = static_cast<DWORD>(value.size());
  if (out == nullptr) {
    return;
  }
  require(out_size >= value.size(), NTE_BUFFER_TOO_SMALL, "output buffer too small");
  if (!value.empty()) {
    std::memmove(out, value.data(), value.size());
  }
}

// The input bytes of a (pointer, length) pair; NULL with a non-zero length is invalid.
inline std::span<const std::uint8_t> input_span(const BYTE* data, DWORD size, const char* what) {
  require(data != nullptr || size == 0, NTE_INVALID_PARAMETER, what);
  return {data, data == nullptr ? 0 : size};
}

}  // namespace cng::api
