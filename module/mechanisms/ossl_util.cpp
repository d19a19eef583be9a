#include "mechanisms/ossl_util.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <array>
#include <climits>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "core/unload.h"

namespace p11::mech {

void ossl_fail(CK_RV rv, const char* what) {
  const unsigned long code = ERR_peek_last_error();
  std::string cause(what);
  if (code != 0) {
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    cause += ": ";
    cause += text.data();
  }
  ERR_clear_error();
  fail(rv, cause);
}

namespace {

// Parsed public keys by their DER. OpenSSL 3's decoders cost far more than a verification, and
// every C_VerifyInit/C_EncryptInit needs the key again; a parsed EVP_PKEY is immutable and may be
// shared by threads (each operation takes its own reference). Bounded, freed at unload: when full
// it starts over (keys still in use keep their own references).
class SpkiCache {
 public:
  PkeyPtr find(const std::string& der) const {
    const std::shared_lock lock(mutex_);
    const auto it = keys_.find(der);
    if (it == keys_.end() || EVP_PKEY_up_ref(it->second) != 1) {
      return nullptr;
    }
    return PkeyPtr(it->second);
  }
  void add(std::string der, EVP_PKEY* key) {
    const std::unique_lock lock(mutex_);
    if (keys_.size() >= kMaxEntries) {
      for (auto& [unused, cached] : keys_) {
        EVP_PKEY_free(cached);
      }
      keys_.clear();
    }
    if (EVP_PKEY_up_ref(key) == 1 && !keys_.emplace(std::move(der), key).second) {
      EVP_PKEY_free(key);  // another thread added it first
    }
  }
  ~SpkiCache() {
    for (auto& [unused, cached] : keys_) {
      EVP_PKEY_free(cached);
    }
  }

 private:
  static constexpr std::size_t kMaxEntries = 4096;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, EVP_PKEY*> keys_;
};

SpkiCache* g_spki_cache = nullptr;  // freed at unload (core/unload.h)

SpkiCache& spki_cache() {
  static SpkiCache* const cache = [] {
    g_spki_cache = new SpkiCache;
    release_at_unload([]() noexcept { delete g_spki_cache; });
    return g_spki_cache;
  }();
  return *cache;
}

}  // namespace

PkeyPtr parse_spki(std::span<const std::uint8_t> der, const char* expected_type) {
  if (der.empty() || der.size() > static_cast<std::size_t>(LONG_MAX)) {
    fail(CKR_GENERAL_ERROR, "key object has no public key (SubjectPublicKeyInfo)");
  }
  std::string cache_key(der.begin(), der.end());
  PkeyPtr key = spki_cache().find(cache_key);
  if (!key) {
    const unsigned char* p = der.data();
    key.reset(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
    if (!key) {
      ossl_fail(CKR_GENERAL_ERROR, "cannot parse the key's SubjectPublicKeyInfo");
    }
    spki_cache().add(std::move(cache_key), key.get());
  }
  if (EVP_PKEY_is_a(key.get(), expected_type) != 1) {
    fail(CKR_GENERAL_ERROR, std::string("public key is not of type ") + expected_type);
  }
  return key;
}

}  // namespace p11::mech
