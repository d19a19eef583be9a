#include "providers/software/ossl_error.h"

#include <openssl/err.h>

#include <array>

#include "core/cng_error.h"

namespace cng::soft {

void fail_ossl(SECURITY_STATUS status, const std::string& what) {
  std::string text = what;
  bool out_of_memory = false;
  while (const unsigned long e = ERR_get_error()) {
    out_of_memory = out_of_memory || ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE;
    std::array<char, 256> buf{};
    ERR_error_string_n(e, buf.data(), buf.size());
    text += "; ";
    text += buf.data();
  }
  throw CngError(out_of_memory ? NTE_NO_MEMORY : status, text);
}

}  // namespace cng::soft
