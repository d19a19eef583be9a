// A pool of per-operation OpenSSL contexts for one key, so that concurrent signers never share
// an EVP_PKEY or an EVP_PKEY_CTX (OpenSSL serialises some work per key object, e.g. RSA
// blinding) and no call re-parses or re-creates the key.
//
// Each pooled entry owns a private EVP_PKEY_dup of the key and one EVP_PKEY_CTX on it; a call
// leases an entry, re-initialises its context (as C_SignInit would) and returns it. The pool
// grows to the number of threads that ever ran an operation at once and dies with the key
// material: there is no thread_local cache that could outlive the key or keep a private key
// copy alive after the key is freed.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <mutex>
#include <vector>

#include "cng_common/ossl_ptr.h"

namespace cng::soft {

class ContextPool {
  struct Entry {
    ossl::PkeyPtr key;
    ossl::PkeyCtxPtr ctx;
  };

 public:
  // master must outlive the pool (the owning key material holds both).
  explicit ContextPool(EVP_PKEY* master) noexcept : master_(master) {}
  ContextPool(const ContextPool&) = delete;
  ContextPool& operator=(const ContextPool&) = delete;

  class Lease {
   public:
    Lease(const ContextPool* pool, std::unique_ptr<Entry> entry) noexcept
        : pool_(pool), entry_(std::move(entry)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (entry_) {
        pool_->give_back(std::move(entry_));
      }
    }
    [[nodiscard]] EVP_PKEY_CTX* ctx() const noexcept { return entry_->ctx.get(); }
    [[nodiscard]] EVP_PKEY* key() const noexcept { return entry_->key.get(); }

   private:
    const ContextPool* pool_;
    std::unique_ptr<Entry> entry_;
  };

  // An idle entry, or a new one (NTE_NO_MEMORY when OpenSSL cannot make it).
  [[nodiscard]] Lease acquire() const;

 private:
  void give_back(std::unique_ptr<Entry> entry) const noexcept;

  EVP_PKEY* master_;
  mutable std::mutex mutex_;
  mutable std::vector<std::unique_ptr<Entry>> idle_;
};

}  // namespace cng::soft
