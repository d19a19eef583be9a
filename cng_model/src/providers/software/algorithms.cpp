// The hash and curve helpers declared in providers/key_material.h, and their OpenSSL names.
#include <openssl/evp.h>

#include <array>
#include <string_view>

#include "core/cng_error.h"
#include "core/u16.h"
#include "providers/algorithm_table.h"
#include "providers/key_material.h"
#include "providers/software/algorithm_util.h"

namespace cng {

namespace {

struct HashInfo {
  HashId id;
  std::u16string_view cng_name;
  const char* ossl_name;
  std::size_t size;
};

constexpr std::array<HashInfo, 6> kHashes = {{
    {HashId::kMd5, u"MD5", "MD5", 16},
    {HashId::kSha1, u"SHA1", "SHA1", 20},
    {HashId::kSha224, u"SHA224", "SHA224", 28},  // model extension (HMAC-SHA224)
    {HashId::kSha256, u"SHA256", "SHA256", 32},
    {HashId::kSha384, u"SHA384", "SHA384", 48},
    {HashId::kSha512, u"SHA512", "SHA512", 64},
}};

struct CurveInfo {
  Curve curve;
  std::u16string_view nist_name;
  std::u16string_view sec_name;
  const char* ossl_group;
  const char* ossl_alias;
  DWORD bits;
};

constexpr std::array<CurveInfo, 3> kCurves = {{
    {Curve::kP256, u"nistP256", u"secP256r1", "P-256", "prime256v1", 256},
    {Curve::kP384, u"nistP384", u"secP384r1", "P-384", "secp384r1", 384},
    {Curve::kP521, u"nistP521", u"secP521r1", "P-521", "secp521r1", 521},
}};

const HashInfo* find_hash(HashId h) noexcept {
  for (const auto& info : kHashes) {
    if (info.id == h) {
      return &info;
    }
  }
  return nullptr;
}

const CurveInfo* find_curve(Curve c) noexcept {
  for (const auto& info : kCurves) {
    if (info.curve == c) {
      return &info;
    }
  }
  return nullptr;
}

constexpr std::size_t kMaxAlgIdLength = 64;

}  // namespace

HashId hash_from_alg_id(LPCWSTR alg_id) {
  if (alg_id == nullptr) {
    return HashId::kNone;
  }
  const std::u16string name = u16_arg(alg_id, kMaxAlgIdLength, "hash algorithm id");
  for (const auto& info : kHashes) {
    if (u16_iequals(name, info.cng_name)) {
      return info.id;
    }
  }
  fail(NTE_INVALID_PARAMETER, "unknown hash algorithm id " + to_utf8(name));
}

std::size_t hash_size(HashId h) noexcept {
  const HashInfo* info = find_hash(h);
  return info != nullptr ? info->size : 0;
}

Curve curve_from_name(std::u16string_view name) {
  for (const auto& info : kCurves) {
    if (u16_iequals(name, info.nist_name) || u16_iequals(name, info.sec_name)) {
      return info.curve;
    }
  }
  fail(NTE_NOT_SUPPORTED, "unsupported curve " + to_utf8(name));
}

std::u16string_view curve_name(Curve c) noexcept {
  const CurveInfo* info = find_curve(c);
  return info != nullptr ? info->nist_name : std::u16string_view{};
}

DWORD curve_bits(Curve c) noexcept {
  const CurveInfo* info = find_curve(c);
  return info != nullptr ? info->bits : 0;
}

namespace soft {

const EVP_MD* evp_md(HashId h) noexcept {
  // Explicit fetches, done once: EVP_sha256() & co. would be re-fetched by the provider on
  // every operation. Leaked on purpose (no static destructor that atexit callers could race).
  static const auto* const table = [] {
    auto* mds = new std::array<EVP_MD*, kHashes.size()>{};
    for (std::size_t i = 0; i < kHashes.size(); ++i) {
      (*mds)[i] = EVP_MD_fetch(nullptr, kHashes[i].ossl_name, nullptr);
    }
    return mds;
  }();
  for (std::size_t i = 0; i < kHashes.size(); ++i) {
    if (kHashes[i].id == h) {
      return (*table)[i];
    }
  }
  return nullptr;
}

const char* md_name(HashId h) noexcept {
  const HashInfo* info = find_hash(h);
  return info != nullptr ? info->ossl_name : nullptr;
}

const char* group_name(Curve c) noexcept {
  const CurveInfo* info = find_curve(c);
  return info != nullptr ? info->ossl_group : nullptr;
}

Curve curve_from_group(std::string_view group) noexcept {
  for (const auto& info : kCurves) {
    if (group == info.ossl_group || group == info.ossl_alias) {
      return info.curve;
    }
  }
  return Curve::kNone;
}

std::size_t field_bytes(Curve c) noexcept { return (curve_bits(c) + 7) / 8; }

AlgorithmName parse_algorithm_name(std::u16string_view id) {
  const AlgorithmInfo* row = find_algorithm(id);
  if (row == nullptr) {
    fail(NTE_NOT_SUPPORTED, "algorithm not supported by the software provider: " + to_utf8(id));
  }
  return {row->algorithm, row->curve};
}

}  // namespace soft
}  // namespace cng
