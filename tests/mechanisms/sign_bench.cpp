// Single-thread signing throughput of the mechanism layer (start_operation + one_shot, i.e.
// what C_SignInit + C_Sign cost below the ABI) against raw OpenSSL doing the same work the way
// p11bench --raw-openssl does (a fresh init per signature), and against bare NCryptSignHash
// calls (hash with EVP_Digest, then sign) to show the mechanism layer's own overhead.
// Prints one line per figure: name ours/s ncrypt/s openssl/s ours/openssl ours/ncrypt
#include <openssl/rsa.h>

#include <chrono>
#include <cstdio>

#include "mech_test_support.h"

namespace {

using namespace mechtest;
using Clock = std::chrono::steady_clock;

constexpr double kSeconds = 1.5;

template <class F>
double rate(F&& f) {
  const auto start = Clock::now();
  long n = 0;
  double elapsed = 0;
  do {
    for (int i = 0; i < 10; ++i) {
      f();
    }
    n += 10;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < kSeconds);
  return static_cast<double>(n) / elapsed;
}

enum class Raw { kRsaSha256, kPssSha256, kEcdsa, kEcdsaSha256 };

// One raw-OpenSSL signature, as p11bench's raw mode makes it.
void raw_sign(Raw kind, EVP_PKEY* key, EVP_MD_CTX* md_ctx, EVP_PKEY_CTX* pkey_ctx,
              const Bytes& data) {
  unsigned char buf[1024];
  std::size_t len = sizeof buf;
  bool ok = false;
  switch (kind) {
    case Raw::kRsaSha256:
    case Raw::kEcdsaSha256:
      ok = EVP_DigestSignInit(md_ctx, nullptr, md("SHA256"), nullptr, key) > 0 &&
           EVP_DigestSign(md_ctx, buf, &len, data.data(), data.size()) > 0;
      break;
    case Raw::kPssSha256:
      ok = EVP_PKEY_sign_init(pkey_ctx) > 0 &&
           EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
           EVP_PKEY_CTX_set_signature_md(pkey_ctx, md("SHA256")) > 0 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(pkey_ctx, md("SHA256")) > 0 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_ctx, 32) > 0 &&
           EVP_PKEY_sign(pkey_ctx, buf, &len, data.data(), data.size()) > 0;
      break;
    case Raw::kEcdsa:
      ok = EVP_PKEY_sign_init(pkey_ctx) > 0 &&
           EVP_PKEY_sign(pkey_ctx, buf, &len, data.data(), data.size()) > 0;
      break;
  }
  if (!ok) {
    std::abort();
  }
}

void figure(const char* name, Raw raw, const CK_MECHANISM& m, const TestKey& key) {
  const Bytes data(32, 0x5a);
  const p11::KeyView view = key.private_view();
  const double ours = rate([&] {
    auto op = p11::start_operation(p11::OpKind::kSign, m, &view, software_caps());
    static_cast<void>(op->one_shot(data));
  });
  Pkey own(raw == Raw::kEcdsa || raw == Raw::kEcdsaSha256
               ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
               : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}));
  EVP_MD_CTX* md_ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pkey_ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, own.get(), nullptr);
  const double openssl = rate([&] { raw_sign(raw, own.get(), md_ctx, pkey_ctx, data); });
  EVP_PKEY_CTX_free(pkey_ctx);
  EVP_MD_CTX_free(md_ctx);
  // The same signature straight through NCrypt.
  const bool hashed = raw != Raw::kEcdsa;
  const bool pss = raw == Raw::kPssSha256;
  BCRYPT_PKCS1_PADDING_INFO pkcs1{u"SHA256"};
  BCRYPT_PSS_PADDING_INFO pss_info{u"SHA256", 32};
  const bool rsa = key.key_type == CKK_RSA;
  void* padding =
      rsa ? (pss ? static_cast<void*>(&pss_info) : static_cast<void*>(&pkcs1)) : nullptr;
  const DWORD flags = rsa ? (pss ? NCRYPT_PAD_PSS_FLAG : NCRYPT_PAD_PKCS1_FLAG) : 0;
  const double ncrypt = rate([&] {
    Bytes input = hashed ? digest("SHA256", data) : data;
    Bytes sig(512);
    DWORD len = 0;
    if (NCryptSignHash(key.handle, padding, input.data(), static_cast<DWORD>(input.size()),
                       sig.data(), static_cast<DWORD>(sig.size()), &len, flags) != 0) {
      std::abort();
    }
  });
  std::printf("%-22s %10.0f %10.0f %10.0f %6.3f %6.3f\n", name, ours, ncrypt, openssl,
              ours / openssl, ours / ncrypt);
}

}  // namespace

int main() {
  std::printf("%-22s %10s %10s %10s %6s %6s\n", "figure", "ours/s", "ncrypt/s", "openssl/s",
              "/ossl", "/ncr");
  CK_RSA_PKCS_PSS_PARAMS pss{CKM_SHA256, CKG_MGF1_SHA256, 32};
  figure("rsa2048_sha256_pkcs", Raw::kRsaSha256, mechanism(CKM_SHA256_RSA_PKCS), rsa2048());
  figure("rsa2048_pss_sha256", Raw::kPssSha256,
         mechanism(CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof(pss)), rsa2048());
  figure("p256_ecdsa", Raw::kEcdsa, mechanism(CKM_ECDSA), ec_key(256));
  figure("p256_ecdsa_sha256", Raw::kEcdsaSha256, mechanism(CKM_ECDSA_SHA256), ec_key(256));
  return 0;
}
