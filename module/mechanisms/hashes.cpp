#include "mechanisms/hashes.h"

#include <string>

#include "core/unload.h"
#include "ncrypt.h"

namespace p11::mech {

namespace {

// DigestInfo prefixes (RFC 8017 §9.2 note 1).
constexpr std::array<std::uint8_t, 15> kSha1Prefix = {
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14};
constexpr std::array<std::uint8_t, 19> kSha224Prefix = {0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                                        0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                                        0x04, 0x05, 0x00, 0x04, 0x1c};
constexpr std::array<std::uint8_t, 19> kSha256Prefix = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                                        0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                                        0x01, 0x05, 0x00, 0x04, 0x20};
constexpr std::array<std::uint8_t, 19> kSha384Prefix = {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                                        0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                                        0x02, 0x05, 0x00, 0x04, 0x30};
constexpr std::array<std::uint8_t, 19> kSha512Prefix = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                                        0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                                        0x03, 0x05, 0x00, 0x04, 0x40};

const std::array<HashSpec, 5> kHashes = {{
    {HashAlg::kSha1, CKM_SHA_1, CKG_MGF1_SHA1, CKD_SHA1_KDF, "SHA1", 20, u"SHA1", kSha1Prefix},
    {HashAlg::kSha224, CKM_SHA224, CKG_MGF1_SHA224, CKD_SHA224_KDF, "SHA224", 28, nullptr,
     kSha224Prefix},
    {HashAlg::kSha256, CKM_SHA256, CKG_MGF1_SHA256, CKD_SHA256_KDF, "SHA256", 32, u"SHA256",
     kSha256Prefix},
    {HashAlg::kSha384, CKM_SHA384, CKG_MGF1_SHA384, CKD_SHA384_KDF, "SHA384", 48, u"SHA384",
     kSha384Prefix},
    {HashAlg::kSha512, CKM_SHA512, CKG_MGF1_SHA512, CKD_SHA512_KDF, "SHA512", 64, u"SHA512",
     kSha512Prefix},
}};

std::size_t index_of(HashAlg alg) {
  for (std::size_t i = 0; i < kHashes.size(); ++i) {
    if (kHashes[i].alg == alg) {
      return i;
    }
  }
  fail(CKR_GENERAL_ERROR, "no such hash algorithm");
}

}  // namespace

const HashSpec& hash_spec(HashAlg alg) { return kHashes[index_of(alg)]; }

const char16_t* model_hash_alg_id(HashAlg alg) {
  // CNG has no SHA-224 hash id; cng_model names it for its extensions.
  return alg == HashAlg::kSha224 ? NCRYPT_SHA224_ALGORITHM : hash_spec(alg).cng_alg_id;
}

const HashSpec* hash_by_digest_mechanism(CK_MECHANISM_TYPE type) noexcept {
  for (const auto& spec : kHashes) {
    if (spec.digest_mechanism == type) {
      return &spec;
    }
  }
  return nullptr;
}

const HashSpec* hash_by_kdf(CK_ULONG kdf) noexcept {
  for (const auto& spec : kHashes) {
    if (spec.kdf == kdf) {
      return &spec;
    }
  }
  return nullptr;
}

using DigestTable = std::array<EVP_MD*, kHashes.size()>;
DigestTable* g_digests = nullptr;  // fetched once, freed at unload (core/unload.h)

const EVP_MD* evp_md(HashAlg alg) {
  static const DigestTable* const table = [] {
    g_digests = new DigestTable{};
    for (std::size_t i = 0; i < kHashes.size(); ++i) {
      (*g_digests)[i] = EVP_MD_fetch(nullptr, kHashes[i].ossl_name, nullptr);
    }
    release_at_unload([]() noexcept {
      for (EVP_MD* md : *g_digests) {
        EVP_MD_free(md);
      }
      delete g_digests;
    });
    return g_digests;
  }();
  const EVP_MD* md = (*table)[index_of(alg)];
  if (md == nullptr) {
    fail(CKR_FUNCTION_FAILED, std::string("OpenSSL has no digest ") + hash_spec(alg).ossl_name);
  }
  return md;
}

Hasher::Hasher(HashAlg alg) : ctx_(EVP_MD_CTX_new()), alg_(alg), size_(hash_spec(alg).size) {
  if (!ctx_) {
    fail(CKR_HOST_MEMORY, "EVP_MD_CTX_new failed");
  }
  if (EVP_DigestInit_ex2(ctx_.get(), evp_md(alg), nullptr) != 1) {
    ossl_fail(CKR_FUNCTION_FAILED, "EVP_DigestInit_ex2");
  }
}

void Hasher::update(std::span<const std::uint8_t> data) {
  require(!finished_, CKR_OPERATION_NOT_INITIALIZED, "hash already finished");
  if (!data.empty() && EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1) {
    ossl_fail(CKR_FUNCTION_FAILED, "EVP_DigestUpdate");
  }
}

void Hasher::final(std::span<std::uint8_t> out) {
  require(!finished_, CKR_OPERATION_NOT_INITIALIZED, "hash already finished");
  require(out.size() >= size_, CKR_GENERAL_ERROR, "digest buffer too small");
  finished_ = true;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), out.data(), &len) != 1 || len != size_) {
    ossl_fail(CKR_FUNCTION_FAILED, "EVP_DigestFinal_ex");
  }
}

}  // namespace p11::mech
