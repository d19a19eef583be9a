// AES in ECB, CBC (both with optional PKCS#7 padding) and GCM on OpenSSL EVP, one context per
// operation. The NCrypt layer has already checked lengths and parameters; the checks here keep
// the provider safe on its own.
#include <openssl/core_names.h>

#include <string>

#include "cng_common/ossl_ptr.h"
#include "core/cng_error.h"
#include "providers/software/ossl_error.h"
#include "providers/software/symmetric_key.h"

namespace cng::soft {

namespace {

constexpr std::size_t kBlock = 16;

ossl::CipherPtr fetch_aes(std::size_t key_bytes, ChainingMode mode) {
  const char* suffix = mode == ChainingMode::kEcb   ? "ECB"
                       : mode == ChainingMode::kCbc ? "CBC"
                                                    : "GCM";
  const std::string name = "AES-" + std::to_string(key_bytes * 8) + "-" + suffix;
  ossl::CipherPtr cipher(EVP_CIPHER_fetch(nullptr, name.c_str(), nullptr));
  check_ossl(cipher != nullptr, NTE_NOT_SUPPORTED, "AES cipher not available");
  return cipher;
}

int int_len(std::size_t n) {
  require(n <= 0x7FFFFFFFu, NTE_BAD_LEN, "input too long");
  return static_cast<int>(n);
}

SymmetricResult block_mode(EVP_CIPHER_CTX* ctx, bool encrypt, const SymmetricParams& params,
                           std::span<const std::uint8_t> in) {
  if (!encrypt || !params.pkcs7) {
    require(in.size() % kBlock == 0, NTE_BAD_LEN, "input length is not a multiple of 16");
  }
  if (!encrypt && params.pkcs7) {
    require(!in.empty(), NTE_BAD_LEN, "padded ciphertext cannot be empty");
  }
  check_ossl(EVP_CIPHER_CTX_set_padding(ctx, params.pkcs7 ? 1 : 0) == 1, NTE_INTERNAL_ERROR,
             "AES padding setup");
  SymmetricResult result;
  result.output.resize(in.size() + kBlock);
  int n = 0;
  check_ossl(EVP_CipherUpdate(ctx, result.output.data(), &n, in.data(), int_len(in.size())) == 1,
             NTE_INTERNAL_ERROR, "AES update");
  int tail = 0;
  if (EVP_CipherFinal_ex(ctx, result.output.data() + n, &tail) != 1) {
    // Only a padded decryption can fail here: the padding bytes were wrong.
    fail_ossl(encrypt || !params.pkcs7 ? NTE_INTERNAL_ERROR : NTE_BAD_DATA, "AES final block");
  }
  result.output.resize(static_cast<std::size_t>(n) + static_cast<std::size_t>(tail));
  return result;
}

SymmetricResult gcm(EVP_CIPHER_CTX* ctx, bool encrypt, const SymmetricParams& params,
                    std::span<const std::uint8_t> in) {
  SymmetricResult result;
  result.output.resize(in.size());
  int n = 0;
  if (!params.aad.empty()) {
    check_ossl(
        EVP_CipherUpdate(ctx, nullptr, &n, params.aad.data(), int_len(params.aad.size())) == 1,
        NTE_INTERNAL_ERROR, "GCM additional data");
  }
  n = 0;
  if (!in.empty()) {
    check_ossl(EVP_CipherUpdate(ctx, result.output.data(), &n, in.data(), int_len(in.size())) == 1,
               NTE_INTERNAL_ERROR, "GCM update");
  }
  if (encrypt) {
    int tail = 0;
    check_ossl(EVP_CipherFinal_ex(ctx, result.output.data() + n, &tail) == 1, NTE_INTERNAL_ERROR,
               "GCM final");
    require(params.tag_length >= 1 && params.tag_length <= kBlock, NTE_INVALID_PARAMETER,
            "GCM tag length");
    result.tag.resize(params.tag_length);
    OSSL_PARAM get[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG,
                                                          result.tag.data(), result.tag.size()),
                        OSSL_PARAM_construct_end()};
    check_ossl(EVP_CIPHER_CTX_get_params(ctx, get) == 1, NTE_INTERNAL_ERROR, "GCM tag");
    return result;
  }
  Bytes tag = params.tag;  // OpenSSL wants a mutable buffer for the expected tag
  require(!tag.empty() && tag.size() <= kBlock, NTE_INVALID_PARAMETER, "GCM tag length");
  OSSL_PARAM set[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag.data(), tag.size()),
      OSSL_PARAM_construct_end()};
  check_ossl(EVP_CIPHER_CTX_set_params(ctx, set) == 1, NTE_INTERNAL_ERROR, "GCM expected tag");
  int tail = 0;
  if (EVP_CipherFinal_ex(ctx, result.output.data() + n, &tail) != 1) {
    result.output.clear();  // never release unauthenticated plaintext
    fail_ossl(STATUS_AUTH_TAG_MISMATCH, "GCM authentication tag mismatch");
  }
  return result;
}

}  // namespace

SymmetricResult aes_crypt(std::span<const std::uint8_t> key, bool encrypt,
                          const SymmetricParams& params, std::span<const std::uint8_t> in) {
  require(key.size() == 16 || key.size() == 24 || key.size() == 32, NTE_BAD_KEY, "AES key length");
  const ossl::CipherPtr cipher = fetch_aes(key.size(), params.mode);
  ossl::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  check_ossl(ctx != nullptr, NTE_NO_MEMORY, "cipher context");
  const int enc = encrypt ? 1 : 0;
  switch (params.mode) {
    case ChainingMode::kEcb:
      check_ossl(
          EVP_CipherInit_ex2(ctx.get(), cipher.get(), key.data(), nullptr, enc, nullptr) == 1,
          NTE_INTERNAL_ERROR, "AES-ECB setup");
      return block_mode(ctx.get(), encrypt, params, in);
    case ChainingMode::kCbc:
      require(params.iv.size() == kBlock, NTE_INVALID_PARAMETER, "CBC needs a 16-byte IV");
      check_ossl(EVP_CipherInit_ex2(ctx.get(), cipher.get(), key.data(), params.iv.data(), enc,
                                    nullptr) == 1,
                 NTE_INTERNAL_ERROR, "AES-CBC setup");
      return block_mode(ctx.get(), encrypt, params, in);
    case ChainingMode::kGcm: {
      require(!params.iv.empty(), NTE_INVALID_PARAMETER, "GCM needs a nonce");
      std::size_t iv_len = params.iv.size();
      const OSSL_PARAM set_iv_len[] = {
          OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &iv_len),
          OSSL_PARAM_construct_end()};
      check_ossl(
          EVP_CipherInit_ex2(ctx.get(), cipher.get(), nullptr, nullptr, enc, set_iv_len) == 1 &&
              EVP_CipherInit_ex2(ctx.get(), nullptr, key.data(), params.iv.data(), enc, nullptr) ==
                  1,
          NTE_INVALID_PARAMETER, "AES-GCM setup");
      return gcm(ctx.get(), encrypt, params, in);
    }
  }
  fail(NTE_NOT_SUPPORTED, "chaining mode not supported");
}

}  // namespace cng::soft
