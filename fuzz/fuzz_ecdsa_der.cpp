// libFuzzer target for cng::soft::ecdsa_der_to_raw (providers/software/ecdsa_der.h), with
// OpenSSL as the oracle: whenever d2i_ECDSA_SIG takes the whole input as an ECDSA-Sig-Value
// whose r and s fit the half size, ecdsa_der_to_raw must accept it and give
// BN_bn2binpad(r) ‖ BN_bn2binpad(s). Inputs OpenSSL refuses may be accepted or refused, never
// read out of bounds (the sanitizers). The first input octet picks the half size (32, 48, 66).
#include <openssl/bn.h>
#include <openssl/ec.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "cng_common/ossl_ptr.h"
#include "providers/software/ecdsa_der.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  constexpr std::size_t kHalves[] = {32, 48, 66};
  const std::size_t n = kHalves[data[0] % 3];
  const std::span<const std::uint8_t> der(data + 1, size - 1);
  std::vector<std::uint8_t> ours(2 * n);
  const bool accepted = cng::soft::ecdsa_der_to_raw(der, ours);

  const unsigned char* p = der.data();
  const cng::ossl::Owned<ECDSA_SIG> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (sig == nullptr || p != der.data() + der.size()) {
    return 0;
  }
  std::vector<std::uint8_t> expected(2 * n);
  const BIGNUM* r = ECDSA_SIG_get0_r(sig.get());
  const BIGNUM* s = ECDSA_SIG_get0_s(sig.get());
  if (BN_is_negative(r) || BN_is_negative(s) ||
      BN_bn2binpad(r, expected.data(), static_cast<int>(n)) < 0 ||
      BN_bn2binpad(s, expected.data() + n, static_cast<int>(n)) < 0) {
    return 0;  // values CNG's r ‖ s cannot hold
  }
  if (!accepted || ours != expected) {
    std::abort();
  }
  return 0;
}
