// AES key wrap (RFC 3394), key wrap with padding (RFC 5649) and RFC 3394 over PKCS#7-padded
// input, on OpenSSL's AES-*-WRAP and AES-*-WRAP-PAD ciphers.
#include <string>

#include "cng_common/ossl_ptr.h"
#include "core/cng_error.h"
#include "providers/software/ossl_error.h"
#include "providers/software/symmetric_key.h"

namespace cng::soft {

namespace {

constexpr std::size_t kSemiblock = 8;
constexpr std::size_t kMaxWrapInput = 1U << 20;  // far above any key; keeps int lengths safe

// One wrap or unwrap through EVP; false when OpenSSL refuses (integrity check on unwrap).
bool run(std::span<const std::uint8_t> key, bool pad, bool encrypt,
         std::span<const std::uint8_t> in, SecureBytes& out) {
  const std::string name = "AES-" + std::to_string(key.size() * 8) + (pad ? "-WRAP-PAD" : "-WRAP");
  ossl::CipherPtr cipher(EVP_CIPHER_fetch(nullptr, name.c_str(), nullptr));
  check_ossl(cipher != nullptr, NTE_NOT_SUPPORTED, "AES key wrap not available");
  ossl::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  check_ossl(ctx != nullptr, NTE_NO_MEMORY, "cipher context");
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  check_ossl(EVP_CipherInit_ex2(ctx.get(), cipher.get(), key.data(), nullptr, encrypt ? 1 : 0,
                                nullptr) == 1,
             NTE_INTERNAL_ERROR, "AES key wrap setup");
  out.assign(in.size() + 2 * kSemiblock, 0);
  int n = 0;
  int tail = 0;
  if (EVP_CipherUpdate(ctx.get(), out.data(), &n, in.data(), static_cast<int>(in.size())) != 1 ||
      EVP_CipherFinal_ex(ctx.get(), out.data() + n, &tail) != 1) {
    return false;
  }
  out.resize(static_cast<std::size_t>(n) + static_cast<std::size_t>(tail));
  return true;
}

void check_key(std::span<const std::uint8_t> key) {
  require(key.size() == 16 || key.size() == 24 || key.size() == 32, NTE_BAD_KEY, "AES key length");
}

}  // namespace

Bytes aes_wrap(std::span<const std::uint8_t> key, WrapMode mode,
               std::span<const std::uint8_t> plain) {
  check_key(key);
  require(plain.size() <= kMaxWrapInput, NTE_BAD_LEN, "key too long to wrap");
  SecureBytes input(plain.begin(), plain.end());
  if (mode == WrapMode::kRfc3394Pkcs7) {
    const std::size_t pad = kSemiblock - plain.size() % kSemiblock;  // 1..8
    input.insert(input.end(), pad, static_cast<std::uint8_t>(pad));
  }
  if (mode != WrapMode::kRfc5649) {
    require(input.size() >= 2 * kSemiblock && input.size() % kSemiblock == 0, NTE_BAD_LEN,
            "RFC 3394 wraps a multiple of 8 bytes, at least 16");
  } else {
    require(!input.empty(), NTE_BAD_LEN, "nothing to wrap");
  }
  SecureBytes out;
  if (!run(key, mode == WrapMode::kRfc5649, true, input, out)) {
    fail_ossl(NTE_INTERNAL_ERROR, "AES key wrap");
  }
  return Bytes(out.begin(), out.end());  // ciphertext: no longer secret
}

SecureBytes aes_unwrap(std::span<const std::uint8_t> key, WrapMode mode,
                       std::span<const std::uint8_t> wrapped) {
  check_key(key);
  const std::size_t min = mode == WrapMode::kRfc5649 ? 2 * kSemiblock : 3 * kSemiblock;
  require(
      wrapped.size() >= min && wrapped.size() % kSemiblock == 0 && wrapped.size() <= kMaxWrapInput,
      NTE_BAD_LEN, "wrapped key length");
  SecureBytes out;
  if (!run(key, mode == WrapMode::kRfc5649, false, wrapped, out)) {
    fail_ossl(NTE_BAD_DATA, "the wrapped key does not unwrap under this key");
  }
  if (mode == WrapMode::kRfc3394Pkcs7) {
    // The RFC 3394 integrity check has passed, so the padding is the wrapper's: no oracle.
    const std::size_t pad = out.empty() ? 0 : out.back();
    require(pad >= 1 && pad <= kSemiblock && pad <= out.size(), NTE_BAD_DATA, "bad padding");
    for (std::size_t i = out.size() - pad; i < out.size(); ++i) {
      require(out[i] == pad, NTE_BAD_DATA, "bad padding");
    }
    out.resize(out.size() - pad);
  }
  return out;
}

}  // namespace cng::soft
