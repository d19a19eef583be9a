#include "store/pin_file.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <memory>

#include "core/cng_error.h"
#include "store/byte_codec.h"

namespace cng::pin_file {

namespace {

constexpr std::array<std::uint8_t, 8> kMagic = {'C', 'N', 'G', 'P', 'I', 'N', 0x1a, 0x00};
// Bounds a damaged or hostile file cannot push past (memory = 128 * r * N bytes).
constexpr std::uint8_t kMinLogN = 10;
constexpr std::uint8_t kMaxLogN = 20;
constexpr std::uint32_t kMaxR = 32;
constexpr std::uint32_t kMaxP = 16;
constexpr std::uint32_t kMaxMaxFailures = 1000;

struct KdfDeleter {
  void operator()(EVP_KDF* kdf) const noexcept { EVP_KDF_free(kdf); }
  void operator()(EVP_KDF_CTX* ctx) const noexcept { EVP_KDF_CTX_free(ctx); }
};

}  // namespace

std::vector<std::uint8_t> encode(const PinRecord& record) {
  std::vector<std::uint8_t> out;
  store_codec::LeWriter w(out);
  w.raw(kMagic);
  w.u16(kVersion);
  w.u16(0);
  out.push_back(record.log_n);
  out.push_back(0);
  w.u16(0);
  w.u32(record.r);
  w.u32(record.p);
  w.raw(record.salt);
  w.raw(record.verifier);
  w.u32(record.failures);
  w.u32(record.max_failures);
  const auto sum = store_codec::sha256(out);
  w.raw(sum);
  return out;
}

PinRecord decode(std::span<const std::uint8_t> bytes) {
  require(bytes.size() == kFileBytes, NTE_BAD_DATA, "PIN state file: wrong size");
  const auto body = bytes.first(kFileBytes - store_codec::kChecksumSize);
  const auto sum = store_codec::sha256(body);
  require(CRYPTO_memcmp(sum.data(), bytes.data() + body.size(), sum.size()) == 0, NTE_BAD_DATA,
          "PIN state file: checksum mismatch");
  store_codec::LeReader r(body);
  const auto magic = r.take(kMagic.size());
  require(std::equal(magic.begin(), magic.end(), kMagic.begin()), NTE_BAD_DATA,
          "PIN state file: bad magic");
  require(r.u16() == kVersion, NTE_BAD_DATA, "PIN state file: unknown version");
  require(r.u16() == 0, NTE_BAD_DATA, "PIN state file: unknown flags");
  PinRecord record;
  record.log_n = r.take(1)[0];
  require(r.take(1)[0] == 0 && r.u16() == 0, NTE_BAD_DATA, "PIN state file: bad padding");
  record.r = r.u32();
  record.p = r.u32();
  require(record.log_n >= kMinLogN && record.log_n <= kMaxLogN && record.r >= 1 &&
              record.r <= kMaxR && record.p >= 1 && record.p <= kMaxP,
          NTE_BAD_DATA, "PIN state file: scrypt parameters out of range");
  const auto salt = r.take(kSaltBytes);
  std::copy(salt.begin(), salt.end(), record.salt.begin());
  const auto verifier = r.take(kVerifierBytes);
  std::copy(verifier.begin(), verifier.end(), record.verifier.begin());
  record.failures = r.u32();
  record.max_failures = r.u32();
  require(record.max_failures >= 1 && record.max_failures <= kMaxMaxFailures &&
              record.failures <= record.max_failures,
          NTE_BAD_DATA, "PIN state file: failure counter out of range");
  return record;
}

Derived derive(std::string_view pin, const PinRecord& record) {
  const std::unique_ptr<EVP_KDF, KdfDeleter> kdf(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr));
  if (!kdf) {
    fail_openssl(NTE_INTERNAL_ERROR, "EVP_KDF_fetch(SCRYPT)");
  }
  const std::unique_ptr<EVP_KDF_CTX, KdfDeleter> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) {
    fail_openssl(NTE_NO_MEMORY, "EVP_KDF_CTX_new");
  }
  std::uint64_t n = std::uint64_t{1} << record.log_n;
  std::uint64_t r = record.r;
  std::uint64_t p = record.p;
  // scrypt needs 128 * r * N * p bytes (plus a little); allow that much.
  std::uint64_t maxmem = 128 * r * n * (p + 1) + (std::uint64_t{1} << 20);
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(
          OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(pin.empty() ? "" : pin.data()), pin.size()),
      OSSL_PARAM_construct_octet_string(
          OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t*>(record.salt.data()), record.salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end()};
  SecureBytes out(kVerifierBytes + kKekBytes);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    fail_openssl(NTE_NO_MEMORY, "scrypt");
  }
  Derived derived;
  derived.verifier = store_codec::sha256(std::span<const std::uint8_t>(out.data(), kVerifierBytes));
  derived.kek.assign(out.begin() + kVerifierBytes, out.end());
  return derived;
}

PinRecord make_record(std::string_view pin, SecureBytes* kek) {
  PinRecord record;
  if (RAND_bytes(record.salt.data(), static_cast<int>(record.salt.size())) != 1) {
    fail_openssl(NTE_FAIL, "RAND_bytes");
  }
  Derived derived = derive(pin, record);
  record.verifier = derived.verifier;
  if (kek != nullptr) {
    *kek = std::move(derived.kek);
  }
  return record;
}

bool matches(const Derived& derived, const PinRecord& record) noexcept {
  return CRYPTO_memcmp(derived.verifier.data(), record.verifier.data(), kVerifierBytes) == 0;
}

}  // namespace cng::pin_file
