#include "mechanisms/software_public_ops.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include <array>
#include <climits>

namespace p11::mech {

namespace {

PkeyCtxPtr new_ctx(EVP_PKEY* key) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!ctx) {
    ossl_fail(CKR_HOST_MEMORY, "EVP_PKEY_CTX_new_from_pkey");
  }
  return ctx;
}

void check(int rc, const char* what) {
  if (rc <= 0) {
    ossl_fail(CKR_FUNCTION_FAILED, what);
  }
}

// r||s (each field_bytes, big-endian) → DER ECDSA-Sig-Value in buf; returns its length.
std::size_t ecdsa_raw_to_der(std::span<const std::uint8_t> raw, std::size_t field_bytes,
                             std::span<std::uint8_t> buf) {
  const int half = static_cast<int>(field_bytes);
  BignumPtr r(BN_bin2bn(raw.data(), half, nullptr));
  BignumPtr s(BN_bin2bn(raw.data() + field_bytes, half, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    ossl_fail(CKR_HOST_MEMORY, "ECDSA_SIG");
  }
  static_cast<void>(r.release());  // owned by sig now
  static_cast<void>(s.release());
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0 || static_cast<std::size_t>(len) > buf.size()) {
    ossl_fail(CKR_GENERAL_ERROR, "i2d_ECDSA_SIG");
  }
  unsigned char* p = buf.data();
  i2d_ECDSA_SIG(sig.get(), &p);
  return static_cast<std::size_t>(len);
}

}  // namespace

SoftwareVerifier::SoftwareVerifier(const KeyView& key, SignPadding padding, HashAlg hash,
                                   ULONG salt_len)
    : key_(parse_spki(key.spki_der, padding == SignPadding::kEcdsa ? "EC" : "RSA")),
      ctx_(new_ctx(key_.get())),
      padding_(padding) {
  check(EVP_PKEY_verify_init(ctx_.get()), "EVP_PKEY_verify_init");
  if (padding == SignPadding::kEcdsa) {
    field_bytes_ = static_cast<std::size_t>(EVP_PKEY_get_bits(key_.get()) + 7) / 8;
    signature_size_ = 2 * field_bytes_;
    return;
  }
  signature_size_ = static_cast<std::size_t>(EVP_PKEY_get_size(key_.get()));
  if (padding == SignPadding::kRawRsa) {
    // CKM_RSA_X_509: recover s^e mod n (the raw public operation) and compare.
    check(EVP_PKEY_encrypt_init(ctx_.get()), "EVP_PKEY_encrypt_init");
    check(EVP_PKEY_CTX_set_rsa_padding(ctx_.get(), RSA_NO_PADDING), "set no padding");
    return;
  }
  if (padding == SignPadding::kPkcs1) {
    check(EVP_PKEY_CTX_set_rsa_padding(ctx_.get(), RSA_PKCS1_PADDING), "set PKCS#1 padding");
    if (hash != HashAlg::kNone) {
      check(EVP_PKEY_CTX_set_signature_md(ctx_.get(), evp_md(hash)), "set signature hash");
    }
    return;
  }
  check(EVP_PKEY_CTX_set_rsa_padding(ctx_.get(), RSA_PKCS1_PSS_PADDING), "set PSS padding");
  check(EVP_PKEY_CTX_set_signature_md(ctx_.get(), evp_md(hash)), "set signature hash");
  check(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx_.get(), evp_md(hash)), "set MGF1 hash");
  check(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx_.get(), static_cast<int>(salt_len)),
        "set PSS salt length");
}

void SoftwareVerifier::verify(std::span<const std::uint8_t> input,
                              std::span<const std::uint8_t> signature) const {
  if (signature.size() != signature_size_) {
    fail(CKR_SIGNATURE_LEN_RANGE, "signature length does not match the key");
  }
  if (padding_ == SignPadding::kRawRsa) {
    verify_raw(input, signature);
    return;
  }
  std::array<std::uint8_t, 160> der{};  // DER of a P-521 r,s is at most 139 bytes
  std::span<const std::uint8_t> sig = signature;
  if (padding_ == SignPadding::kEcdsa) {
    sig = std::span<const std::uint8_t>(der.data(), ecdsa_raw_to_der(signature, field_bytes_, der));
    if (input.size() > field_bytes_) {
      input = input.first(field_bytes_);  // same truncation as signing
    }
  }
  const int rc = EVP_PKEY_verify(ctx_.get(), sig.data(), sig.size(), input.data(), input.size());
  if (rc != 1) {
    ERR_clear_error();
    fail(CKR_SIGNATURE_INVALID, "signature does not verify");
  }
}

void SoftwareVerifier::verify_raw(std::span<const std::uint8_t> input,
                                  std::span<const std::uint8_t> signature) const {
  std::vector<std::uint8_t> recovered(signature_size_);
  std::size_t len = recovered.size();
  // A signature not below the modulus fails here.
  const int rc =
      EVP_PKEY_encrypt(ctx_.get(), recovered.data(), &len, signature.data(), signature.size());
  std::vector<std::uint8_t> expected(signature_size_, 0);
  if (input.size() <= expected.size()) {
    std::copy(input.begin(), input.end(),
              expected.end() - static_cast<std::ptrdiff_t>(input.size()));
  }
  if (rc <= 0 || len != recovered.size() || input.size() > expected.size() ||
      recovered != expected) {
    ERR_clear_error();
    fail(CKR_SIGNATURE_INVALID, "raw RSA signature does not match the data");
  }
}

SoftwareEncryptor::SoftwareEncryptor(const KeyView& key, int rsa_padding, HashAlg oaep_hash,
                                     std::span<const std::uint8_t> label)
    : key_(parse_spki(key.spki_der, "RSA")),
      ctx_(new_ctx(key_.get())),
      modulus_bytes_(static_cast<std::size_t>(EVP_PKEY_get_size(key_.get()))) {
  check(EVP_PKEY_encrypt_init(ctx_.get()), "EVP_PKEY_encrypt_init");
  check(EVP_PKEY_CTX_set_rsa_padding(ctx_.get(), rsa_padding), "set RSA padding");
  if (rsa_padding != RSA_PKCS1_OAEP_PADDING) {
    return;
  }
  check(EVP_PKEY_CTX_set_rsa_oaep_md(ctx_.get(), evp_md(oaep_hash)), "set OAEP hash");
  check(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx_.get(), evp_md(oaep_hash)), "set MGF1 hash");
  if (!label.empty()) {
    if (label.size() > static_cast<std::size_t>(INT_MAX)) {
      fail(CKR_MECHANISM_PARAM_INVALID, "OAEP label too long");
    }
    void* copy = OPENSSL_memdup(label.data(), label.size());
    if (copy == nullptr) {
      fail(CKR_HOST_MEMORY, "OAEP label");
    }
    // set0: the context takes the copy.
    if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx_.get(), copy, static_cast<int>(label.size())) <= 0) {
      OPENSSL_free(copy);
      ossl_fail(CKR_FUNCTION_FAILED, "set OAEP label");
    }
  }
}

std::vector<std::uint8_t> SoftwareEncryptor::encrypt(std::span<const std::uint8_t> input) const {
  std::vector<std::uint8_t> out(modulus_bytes_);
  std::size_t len = out.size();
  if (EVP_PKEY_encrypt(ctx_.get(), out.data(), &len, input.data(), input.size()) <= 0) {
    // Inputs of the right length reach here only for raw RSA with a value ≥ the modulus.
    ossl_fail(CKR_DATA_INVALID, "RSA encryption");
  }
  out.resize(len);
  return out;
}

}  // namespace p11::mech
