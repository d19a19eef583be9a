#include "providers/software/symmetric_key.h"

#include <openssl/core_names.h>
#include <openssl/rand.h>

#include "cng_common/ossl_ptr.h"
#include "core/cng_error.h"
#include "providers/algorithm_table.h"
#include "providers/cipher_key_blob.h"
#include "providers/software/algorithm_util.h"
#include "providers/software/ossl_error.h"

namespace cng::soft {

namespace {

void check_length(KeyAlgorithm algorithm, std::size_t bits) {
  const AlgorithmInfo& row = algorithm_info(algorithm);
  require(row.family == KeyFamily::kSymmetric, NTE_NOT_SUPPORTED, "not a symmetric algorithm");
  const NCRYPT_SUPPORTED_LENGTHS& l = row.lengths;
  require(bits >= l.dwMinLength && bits <= l.dwMaxLength &&
              (l.dwIncrement == 0 || (bits - l.dwMinLength) % l.dwIncrement == 0),
          NTE_NOT_SUPPORTED, "key length not supported for this algorithm");
}

[[noreturn]] void not_supported() {
  fail(NTE_NOT_SUPPORTED, "operation not supported by a symmetric key");
}

}  // namespace

std::shared_ptr<SymmetricKey> SymmetricKey::generate(KeyAlgorithm algorithm, DWORD bits) {
  check_length(algorithm, bits);
  SecureBytes secret(bits / 8);
  check_ossl(RAND_priv_bytes(secret.data(), static_cast<int>(secret.size())) == 1,
             NTE_INTERNAL_ERROR, "random key generation");
  return std::make_shared<SymmetricKey>(algorithm, std::move(secret));
}

std::shared_ptr<SymmetricKey> SymmetricKey::make(KeyAlgorithm algorithm, SecureBytes secret) {
  check_length(algorithm, secret.size() * 8);
  return std::make_shared<SymmetricKey>(algorithm, std::move(secret));
}

Bytes SymmetricKey::sign_hash(const SignPadding& /*pad*/,
                              std::span<const std::uint8_t> /*hash*/) const {
  not_supported();
}
void SymmetricKey::verify_signature(const SignPadding& /*pad*/,
                                    std::span<const std::uint8_t> /*hash*/,
                                    std::span<const std::uint8_t> /*signature*/) const {
  not_supported();
}
Bytes SymmetricKey::encrypt(const CipherPadding& /*pad*/,
                            std::span<const std::uint8_t> /*plain*/) const {
  not_supported();
}
SecureBytes SymmetricKey::decrypt(const CipherPadding& /*pad*/,
                                  std::span<const std::uint8_t> /*cipher*/) const {
  not_supported();
}
SecureBytes SymmetricKey::agree(const KeyMaterial& /*peer*/) const { not_supported(); }

SecureBytes SymmetricKey::export_private(std::u16string_view blob_type) const {
  require(blob_type == std::u16string_view(NCRYPT_CIPHER_KEY_BLOB), NTE_BAD_TYPE,
          "a symmetric key exports only as NCRYPT_CIPHER_KEY_BLOB");
  return encode_cipher_key_blob(algorithm_info(algorithm_).name, secret_);
}

SymmetricResult SymmetricKey::symmetric_crypt(bool encrypt, const SymmetricParams& params,
                                              std::span<const std::uint8_t> in) const {
  require(algorithm_ == KeyAlgorithm::kAes, NTE_NOT_SUPPORTED, "not a cipher key");
  return aes_crypt(secret_, encrypt, params, in);
}

Bytes SymmetricKey::wrap_key(WrapMode mode, std::span<const std::uint8_t> plain) const {
  require(algorithm_ == KeyAlgorithm::kAes, NTE_NOT_SUPPORTED, "not a key-wrapping key");
  return aes_wrap(secret_, mode, plain);
}

SecureBytes SymmetricKey::unwrap_key(WrapMode mode, std::span<const std::uint8_t> wrapped) const {
  require(algorithm_ == KeyAlgorithm::kAes, NTE_NOT_SUPPORTED, "not a key-wrapping key");
  return aes_unwrap(secret_, mode, wrapped);
}

Bytes SymmetricKey::hmac(HashId hash, std::span<const std::uint8_t> data) const {
  require(algorithm_ == KeyAlgorithm::kGenericSecret, NTE_NOT_SUPPORTED, "not a MAC key");
  const char* md = md_name(hash);
  require(md != nullptr && hash != HashId::kMd5, NTE_NOT_SUPPORTED, "HMAC hash not supported");
  ossl::MacPtr mac(EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr));
  check_ossl(mac != nullptr, NTE_INTERNAL_ERROR, "HMAC fetch");
  ossl::MacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));
  check_ossl(ctx != nullptr, NTE_NO_MEMORY, "HMAC context");
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(md), 0),
      OSSL_PARAM_construct_end()};
  Bytes out(EVP_MAX_MD_SIZE);
  std::size_t out_len = 0;
  check_ossl(EVP_MAC_init(ctx.get(), secret_.data(), secret_.size(), params) == 1 &&
                 EVP_MAC_update(ctx.get(), data.data(), data.size()) == 1 &&
                 EVP_MAC_final(ctx.get(), out.data(), &out_len, out.size()) == 1,
             NTE_INTERNAL_ERROR, "HMAC computation");
  out.resize(out_len);
  return out;
}

}  // namespace cng::soft
