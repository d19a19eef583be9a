// One mapping table per foreign error space: errno and OpenSSL → SECURITY_STATUS.
#include <openssl/err.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "core/cng_error.h"

namespace cng {

namespace {

constexpr std::array kErrnoMap = {
    std::pair{EACCES, NTE_PERM},
    std::pair{EPERM, NTE_PERM},
    std::pair{EROFS, NTE_PERM},
    // A file where a directory of the store path must be: the store can never be written there.
    std::pair{ENOTDIR, NTE_PERM},
    std::pair{ENOENT, NTE_BAD_KEYSET},
    std::pair{EEXIST, NTE_EXISTS},
    std::pair{ENOMEM, NTE_NO_MEMORY},
    std::pair{ENOSPC, NTE_TOKEN_KEYSET_STORAGE_FULL},
    std::pair{EDQUOT, NTE_TOKEN_KEYSET_STORAGE_FULL},
    std::pair{ELOOP, NTE_PERM},
    std::pair{ENAMETOOLONG, NTE_INVALID_PARAMETER},
    std::pair{EINVAL, NTE_INVALID_PARAMETER},
    std::pair{EIO, NTE_SYS_ERR},
};

// OpenSSL reason codes that have a precise NCrypt meaning; everything else uses the
// caller's fallback (the status that fits the operation, e.g. NTE_BAD_DATA on decrypt).
constexpr std::array kOpenSslReasonMap = {
    std::pair{ERR_R_MALLOC_FAILURE, NTE_NO_MEMORY},
    std::pair{ERR_R_PASSED_NULL_PARAMETER, NTE_INVALID_PARAMETER},
    std::pair{ERR_R_PASSED_INVALID_ARGUMENT, NTE_INVALID_PARAMETER},
};

}  // namespace

SECURITY_STATUS status_from_errno(int err) noexcept {
  for (const auto& [e, status] : kErrnoMap) {
    if (e == err) {
      return status;
    }
  }
  return NTE_SYS_ERR;
}

SECURITY_STATUS status_from_openssl(SECURITY_STATUS fallback) noexcept {
  const unsigned long e = ERR_peek_error();
  if (e == 0) {
    return fallback;
  }
  const int reason = ERR_GET_REASON(e);
  for (const auto& [r, status] : kOpenSslReasonMap) {
    if (r == reason) {
      return status;
    }
  }
  return fallback;
}

void fail_errno(int err, const std::string& what) {
  throw CngError(status_from_errno(err), what + ": " + std::strerror(err));
}

void fail_openssl(SECURITY_STATUS fallback, const std::string& what) {
  const SECURITY_STATUS status = status_from_openssl(fallback);
  std::string text = what;
  while (const unsigned long e = ERR_get_error()) {
    std::array<char, 256> buf{};
    ERR_error_string_n(e, buf.data(), buf.size());
    text += "; ";
    text += buf.data();
  }
  throw CngError(status, text);
}

}  // namespace cng
