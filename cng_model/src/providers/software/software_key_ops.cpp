// SoftwareKey operations: sign, verify, encrypt, decrypt, agree. Every call leases a context
// from the key's pool (context_pool.h) and re-initialises it, as the raw OpenSSL baseline does.
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include <array>
#include <cstring>

#include "core/cng_error.h"
#include "providers/software/algorithm_util.h"
#include "providers/software/bcrypt_blobs.h"
#include "providers/software/ecdsa_der.h"
#include "providers/software/ossl_error.h"
#include "providers/software/software_key.h"

namespace cng::soft {

namespace {

constexpr std::size_t kPkcs1Overhead = 11;  // RFC 8017: 00 01|02 PS(>= 8) 00
constexpr DWORD kCipherPaddingMask =
    NCRYPT_NO_PADDING_FLAG | NCRYPT_PAD_PKCS1_FLAG | NCRYPT_PAD_OAEP_FLAG;

void require_hash_length(HashId hash, std::size_t len) {
  require(len == hash_size(hash), NTE_INVALID_PARAMETER,
          "digest length does not match the hash algorithm");
}

// Drops the OpenSSL queue of a failed verification: a bad signature is not an error to keep.
[[noreturn]] void fail_bad_signature() {
  ERR_clear_error();
  fail(NTE_BAD_SIGNATURE, "signature does not verify");
}

}  // namespace

void SoftwareKey::set_rsa_sign_padding(EVP_PKEY_CTX* ctx, const SignPadding& pad,
                                       std::size_t input_len) const {
  const std::size_t k = modulus_bytes();
  if (pad.flags == NCRYPT_PAD_PKCS1_FLAG) {
    check_ossl(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1, NTE_INTERNAL_ERROR,
               "set PKCS#1 padding");
    if (pad.hash == HashId::kNone) {
      // Raw PKCS#1 v1.5 type 1: the input (normally an encoded DigestInfo) is padded as-is.
      require(input_len + kPkcs1Overhead <= k, NTE_INVALID_PARAMETER,
              "input too long for PKCS#1 padding");
      return;
    }
    require_hash_length(pad.hash, input_len);
    check_ossl(EVP_PKEY_CTX_set_signature_md(ctx, evp_md(pad.hash)) == 1, NTE_INVALID_PARAMETER,
               "set signature digest");
    return;
  }
  if (pad.flags == NCRYPT_PAD_PSS_FLAG) {
    require(pad.hash != HashId::kNone, NTE_INVALID_PARAMETER, "PSS needs a hash algorithm");
    require_hash_length(pad.hash, input_len);
    // RFC 8017 §9.1.1: emLen = ceil((modBits - 1) / 8) >= hLen + sLen + 2.
    const std::size_t em_len = (bits_ - 1 + 7) / 8;
    require(std::size_t{pad.salt} + hash_size(pad.hash) + 2 <= em_len, NTE_INVALID_PARAMETER,
            "PSS salt too long for the modulus");
    const EVP_MD* md = evp_md(pad.hash);
    check_ossl(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                   EVP_PKEY_CTX_set_signature_md(ctx, md) == 1 &&
                   EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1 &&
                   EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, static_cast<int>(pad.salt)) == 1,
               NTE_INVALID_PARAMETER, "set PSS parameters");
    return;
  }
  // No padding info (or another scheme) on an RSA key: Windows answers NTE_INVALID_PARAMETER.
  fail(NTE_INVALID_PARAMETER, "RSA signatures need PKCS1 or PSS padding");
}

Bytes SoftwareKey::sign_hash(const SignPadding& pad, std::span<const std::uint8_t> hash) const {
  require_private("sign with a public key");
  if (algorithm_ != KeyAlgorithm::kRsa) {
    // ECDSA and ECDH keys both sign (Windows lets an ECDH key sign); padding does not apply.
    return sign_ecdsa(hash);
  }
  const ContextPool::Lease lease = pool_.acquire();
  EVP_PKEY_CTX* ctx = lease.ctx();
  check_ossl(EVP_PKEY_sign_init(ctx) == 1, NTE_INTERNAL_ERROR, "EVP_PKEY_sign_init");
  set_rsa_sign_padding(ctx, pad, hash.size());
  Bytes sig(modulus_bytes());
  std::size_t len = sig.size();
  check_ossl(EVP_PKEY_sign(ctx, sig.data(), &len, hash.data(), hash.size()) == 1,
             NTE_INVALID_PARAMETER, "RSA signing failed");
  sig.resize(len);
  return sig;
}

Bytes SoftwareKey::sign_ecdsa(std::span<const std::uint8_t> hash) const {
  // Any digest length is accepted: a digest longer than the group order is truncated to its
  // leftmost bits (FIPS 186-4 §6.4), which OpenSSL does.
  require(!hash.empty(), NTE_INVALID_PARAMETER, "empty digest");
  std::array<std::uint8_t, 160> der{};  // > the largest DER ECDSA-P521 signature (139 bytes)
  std::size_t der_len = der.size();
  {
    const ContextPool::Lease lease = pool_.acquire();
    check_ossl(EVP_PKEY_sign_init(lease.ctx()) == 1 &&
                   EVP_PKEY_sign(lease.ctx(), der.data(), &der_len, hash.data(), hash.size()) == 1,
               NTE_INTERNAL_ERROR, "ECDSA signing failed");
  }
  // CNG returns r ‖ s, each left-padded to the field size.
  Bytes out(signature_size_);
  require(ecdsa_der_to_raw(std::span(der).first(der_len), out), NTE_INTERNAL_ERROR,
          "OpenSSL's ECDSA signature does not decode");
  return out;
}

void SoftwareKey::verify_signature(const SignPadding& pad, std::span<const std::uint8_t> hash,
                                   std::span<const std::uint8_t> signature) const {
  if (algorithm_ != KeyAlgorithm::kRsa) {
    verify_ecdsa(hash, signature);
    return;
  }
  // Wrong-length inputs are a caller error (NTE_INVALID_PARAMETER), distinct from a signature
  // of the right shape that does not verify (NTE_BAD_SIGNATURE).
  require(signature.size() == modulus_bytes(), NTE_INVALID_PARAMETER,
          "signature length differs from the modulus length");
  const ContextPool::Lease lease = pool_.acquire();
  EVP_PKEY_CTX* ctx = lease.ctx();
  check_ossl(EVP_PKEY_verify_init(ctx) == 1, NTE_INTERNAL_ERROR, "EVP_PKEY_verify_init");
  set_rsa_sign_padding(ctx, pad, hash.size());
  if (EVP_PKEY_verify(ctx, signature.data(), signature.size(), hash.data(), hash.size()) != 1) {
    fail_bad_signature();
  }
}

void SoftwareKey::verify_ecdsa(std::span<const std::uint8_t> hash,
                               std::span<const std::uint8_t> sig) const {
  require(!hash.empty(), NTE_INVALID_PARAMETER, "empty digest");
  require(sig.size() == signature_size_, NTE_INVALID_PARAMETER,
          "ECDSA signature is not r||s of the curve size");
  const std::size_t n = signature_size_ / 2;
  ossl::EcdsaSigPtr ecsig(ECDSA_SIG_new());
  ossl::BnPtr r(BN_bin2bn(sig.data(), static_cast<int>(n), nullptr));
  ossl::BnPtr s(BN_bin2bn(sig.data() + n, static_cast<int>(n), nullptr));
  check_ossl(ecsig && r && s && ECDSA_SIG_set0(ecsig.get(), r.get(), s.get()) == 1, NTE_NO_MEMORY,
             "ECDSA_SIG_set0");
  static_cast<void>(r.release());  // owned by ecsig now
  static_cast<void>(s.release());
  std::array<std::uint8_t, 160> der{};
  unsigned char* out = der.data();
  const int der_len = i2d_ECDSA_SIG(ecsig.get(), &out);
  check_ossl(der_len > 0 && static_cast<std::size_t>(der_len) <= der.size(), NTE_INTERNAL_ERROR,
             "i2d_ECDSA_SIG");
  const ContextPool::Lease lease = pool_.acquire();
  check_ossl(EVP_PKEY_verify_init(lease.ctx()) == 1, NTE_INTERNAL_ERROR, "EVP_PKEY_verify_init");
  if (EVP_PKEY_verify(lease.ctx(), der.data(), static_cast<std::size_t>(der_len), hash.data(),
                      hash.size()) != 1) {
    fail_bad_signature();
  }
}

void SoftwareKey::set_rsa_cipher_padding(EVP_PKEY_CTX* ctx, const CipherPadding& pad,
                                         std::size_t plain_len, bool encrypting) const {
  const std::size_t k = modulus_bytes();
  const DWORD scheme = pad.flags & kCipherPaddingMask;
  if (scheme == NCRYPT_NO_PADDING_FLAG) {
    check_ossl(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) == 1, NTE_INTERNAL_ERROR,
               "set no padding");
    return;
  }
  if (scheme == NCRYPT_PAD_PKCS1_FLAG) {
    require(!encrypting || plain_len + kPkcs1Overhead <= k, NTE_INVALID_PARAMETER,
            "plaintext too long for PKCS#1 padding");
    check_ossl(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1, NTE_INTERNAL_ERROR,
               "set PKCS#1 padding");
    return;
  }
  if (scheme == NCRYPT_PAD_OAEP_FLAG) {
    require(pad.hash != HashId::kNone, NTE_INVALID_PARAMETER, "OAEP needs a hash algorithm");
    const std::size_t h = hash_size(pad.hash);
    require(!encrypting || plain_len + 2 * h + 2 <= k, NTE_INVALID_PARAMETER,
            "plaintext too long for OAEP padding");
    require(pad.label.size() <= 0x7fffffff, NTE_INVALID_PARAMETER, "OAEP label too long");
    // CNG uses the one hash for the OAEP digest and for MGF1.
    const EVP_MD* md = evp_md(pad.hash);
    check_ossl(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
                   EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) == 1 &&
                   EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1,
               NTE_INVALID_PARAMETER, "set OAEP parameters");
    if (!pad.label.empty()) {
      void* label = OPENSSL_memdup(pad.label.data(), pad.label.size());
      check_ossl(label != nullptr, NTE_NO_MEMORY, "OAEP label");
      if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, label, static_cast<int>(pad.label.size())) != 1) {
        OPENSSL_free(label);
        fail_ossl(NTE_INVALID_PARAMETER, "set OAEP label");
      }
    }
    return;
  }
  fail(NTE_INVALID_PARAMETER, "RSA encryption needs exactly one of NO_PADDING, PKCS1, OAEP");
}

Bytes SoftwareKey::encrypt(const CipherPadding& pad, std::span<const std::uint8_t> plain) const {
  require(algorithm_ == KeyAlgorithm::kRsa, NTE_NOT_SUPPORTED, "only RSA keys encrypt");
  const std::size_t k = modulus_bytes();
  require(plain.size() <= k, NTE_INVALID_PARAMETER, "plaintext longer than the modulus");
  // Raw RSA takes a full modulus-length block; a shorter input is its left-zero-padded value
  // (what PKCS#11 CKM_RSA_X_509 expects).
  Bytes block;
  if ((pad.flags & kCipherPaddingMask) == NCRYPT_NO_PADDING_FLAG && plain.size() < k) {
    block.assign(k - plain.size(), 0);
    block.insert(block.end(), plain.begin(), plain.end());
    plain = block;
  }
  const ContextPool::Lease lease = pool_.acquire();
  EVP_PKEY_CTX* ctx = lease.ctx();
  check_ossl(EVP_PKEY_encrypt_init(ctx) == 1, NTE_INTERNAL_ERROR, "EVP_PKEY_encrypt_init");
  set_rsa_cipher_padding(ctx, pad, plain.size(), true);
  Bytes out(k);
  std::size_t len = out.size();
  // Raw RSA on a value >= n is the one failure left here: bad input.
  check_ossl(EVP_PKEY_encrypt(ctx, out.data(), &len, plain.data(), plain.size()) == 1,
             NTE_INVALID_PARAMETER, "RSA encryption failed");
  out.resize(len);
  return out;
}

SecureBytes SoftwareKey::decrypt(const CipherPadding& pad,
                                 std::span<const std::uint8_t> cipher) const {
  require(algorithm_ == KeyAlgorithm::kRsa, NTE_NOT_SUPPORTED, "only RSA keys decrypt");
  require_private("decrypt with a public key");
  const std::size_t k = modulus_bytes();
  require(!cipher.empty() && cipher.size() <= k, NTE_INVALID_PARAMETER,
          "ciphertext length out of range");
  Bytes block;
  if (cipher.size() < k) {  // a ciphertext integer given without its leading zero bytes
    block.assign(k - cipher.size(), 0);
    block.insert(block.end(), cipher.begin(), cipher.end());
    cipher = block;
  }
  const ContextPool::Lease lease = pool_.acquire();
  EVP_PKEY_CTX* ctx = lease.ctx();
  check_ossl(EVP_PKEY_decrypt_init(ctx) == 1, NTE_INTERNAL_ERROR, "EVP_PKEY_decrypt_init");
  set_rsa_cipher_padding(ctx, pad, 0, false);
  SecureBytes out(k);
  std::size_t len = out.size();
  if (EVP_PKEY_decrypt(ctx, out.data(), &len, cipher.data(), cipher.size()) != 1) {
    // Bad padding (or, unpadded, a value >= n). (OpenSSL >= 3.2 does not fail on bad
    // PKCS#1 v1.5 padding but returns a pseudo-random plaintext — implicit rejection against
    // Bleichenbacher/Marvin — which we leave on.) Windows reports NTE_INVALID_PARAMETER here
    // ("The parameter is incorrect" from RSACng.Decrypt with a wrong key), not NTE_BAD_DATA;
    // we do the same, with one status for every padding failure so it is no oracle.
    ERR_clear_error();
    fail(NTE_INVALID_PARAMETER, "RSA decryption failed");
  }
  out.resize(len);
  return out;
}

SecureBytes SoftwareKey::agree(const KeyMaterial& peer) const {
  // An ECDSA key cannot do secret agreement on Windows; RSA never can. NTE_NOT_SUPPORTED:
  // the operation is not available for this key (the handle and the peer are fine).
  require(algorithm_ == KeyAlgorithm::kEcdh, NTE_NOT_SUPPORTED,
          "secret agreement needs an ECDH key");
  require_private("agree with a public key");
  require(peer.algorithm() != KeyAlgorithm::kRsa && peer.curve() == curve_, NTE_INVALID_PARAMETER,
          "peer key is not on the same curve");
  ossl::PkeyPtr peer_copy;
  const EVP_PKEY* peer_key = nullptr;
  if (const auto* soft_peer = dynamic_cast<const SoftwareKey*>(&peer)) {
    peer_key = soft_peer->pkey();
  } else {  // another provider's key: its public blob is all we need
    peer_copy = std::move(parse_bcrypt_blob(BCRYPT_PUBLIC_KEY_BLOB, peer.public_blob()).key);
    peer_key = peer_copy.get();
  }
  const ContextPool::Lease lease = pool_.acquire();
  // A fresh context: derive_set_peer keeps a reference to the peer, which must not linger in
  // the pooled contexts after this call.
  const ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, lease.key(), nullptr));
  check_ossl(ctx != nullptr && EVP_PKEY_derive_init(ctx.get()) == 1, NTE_NO_MEMORY,
             "EVP_PKEY_derive_init");
  // EVP_PKEY_derive_set_peer takes a non-const key but only references it.
  check_ossl(EVP_PKEY_derive_set_peer(ctx.get(), const_cast<EVP_PKEY*>(peer_key)) == 1,
             NTE_INVALID_PARAMETER, "peer public key rejected");
  std::size_t len = 0;
  check_ossl(EVP_PKEY_derive(ctx.get(), nullptr, &len) == 1, NTE_INTERNAL_ERROR, "ECDH size");
  SecureBytes secret(len);
  check_ossl(EVP_PKEY_derive(ctx.get(), secret.data(), &len) == 1, NTE_INTERNAL_ERROR,
             "ECDH derive");
  secret.resize(len);
  return secret;
}

}  // namespace cng::soft
